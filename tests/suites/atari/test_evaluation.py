"""The paper's evaluation protocol: exactly N episodes, unbiased toward short ones, cut at the time limit."""

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.atari import env as env_lib
from convsuite.suites.atari.env import EnvSettings
from convsuite.suites.atari.evaluation import (EvaluationResult, epsilon_greedy, episode_quotas, evaluate_policy,
                                               evaluation_settings)

from tests.requirements import require

require("ale_py", "atari")


class FakeVectorEnv:
    """Env i's episodes last lengths[i] steps with reward 1 a step, so a return is the episode's length; a
    frame is [steps into the episode, i] (the reset frame: [7, 7])."""

    def __init__(self, lengths, num_actions=3):
        self.num_envs, self.num_actions = len(lengths), num_actions
        self.frame_shape, self.frame_dtype = (2,), np.dtype(np.float32)
        self.lengths = np.asarray(lengths)
        self.clock = np.zeros(self.num_envs, int)
        self.actions = []

    def reset(self):
        return np.full((self.num_envs, 2), 7.0, np.float32), np.zeros(self.num_envs, np.int32)

    def step(self, actions):
        self.actions.append(np.array(actions))
        self.clock += 1
        ended = self.clock >= self.lengths
        self.clock[ended] = 0
        frames = np.stack([self.clock, np.arange(self.num_envs)], axis=1).astype(np.float32)
        return (frames, np.ones(self.num_envs, np.float32), ended, np.zeros(self.num_envs, bool),
                np.zeros(self.num_envs, np.int32))

    def close(self):
        pass


class _Made(list):
    make = None


@pytest.fixture
def fake_envs(monkeypatch):
    made = _Made()

    def make(settings, num_envs, seed):
        made.append((settings, num_envs, seed))
        env = FakeVectorEnv(list(make.lengths)[:num_envs])
        made.append(env)
        return env

    make.lengths = (1, 5, 3, 2)
    monkeypatch.setattr(env_lib, "make_vector_env", make)
    made.make = make
    return made


def test_episodes_are_split_as_evenly_as_possible_and_no_env_gets_none():
    assert episode_quotas(30, 8) == [4, 4, 4, 4, 4, 4, 3, 3]
    assert episode_quotas(7, 3) == [3, 2, 2]
    assert episode_quotas(2, 8) == [1, 1]
    with pytest.raises(ConvsuiteError, match="at least 1 episode"):
        episode_quotas(0, 4)


def test_each_env_plays_its_quota_so_short_episodes_are_not_favoured(fake_envs):
    result = evaluate_policy(None, EnvSettings("Pong"), episodes=4, epsilon=0.05, stack=2, num_envs=2)
    assert fake_envs[0][1] == 2
    # env 0 ends an episode every step, env 1 every 5: the first 4 to finish would all be env 0's
    assert sorted(result.returns.tolist()) == [1.0, 1.0, 5.0, 5.0]
    assert result.lengths.tolist() == result.returns.astype(int).tolist()
    assert result.episodes == 4 and result.mean == 3.0 and result.std == 2.0


def test_an_env_with_a_quota_of_zero_is_not_created(fake_envs):
    result = evaluate_policy(None, EnvSettings("Pong"), episodes=3, epsilon=0.05, stack=1, num_envs=8)
    assert fake_envs[0][1] == 3
    assert sorted(result.returns.tolist()) == [1.0, 3.0, 5.0]


def test_a_greedy_policy_takes_only_its_preferred_action_on_zero_padded_stacks(fake_envs):
    seen = []

    def prefers_action_2(states):
        seen.append(states.copy())
        q = np.zeros((len(states), 3), np.float32)
        q[:, 2] = 1.0
        return q

    fake_envs.make.lengths = (4, 4)  # both play their one episode to the end together
    evaluate_policy(prefers_action_2, EnvSettings("Pong"), episodes=2, epsilon=0.0, stack=3, num_envs=2)
    env = fake_envs[1]
    assert len(env.actions) == 4 and (np.array(env.actions) == 2).all()
    assert seen[0].shape == (2, 3, 2) and not seen[0][:, :2].any()  # older positions are zeros at the start
    assert (seen[0][:, 2] == 7.0).all()  # the reset frame is the newest
    # then each env's frames, oldest first (a frame here is [clock, env index])
    np.testing.assert_array_equal(seen[2][:, :, 0], [[7, 1, 2], [7, 1, 2]])
    np.testing.assert_array_equal(seen[2][:, -1, 1], [0, 1])


def test_an_env_past_its_quota_is_not_asked_for_q_values(fake_envs):
    batch_sizes = []

    def q_function(states):
        batch_sizes.append(len(states))
        return np.zeros((len(states), 3), np.float32)

    evaluate_policy(q_function, EnvSettings("Pong"), episodes=2, epsilon=0.0, stack=1, num_envs=2)
    assert batch_sizes[0] == 2 and batch_sizes[-1] == 1  # env 0 is done after one step; env 1 plays on


def test_q_values_of_the_wrong_shape_are_one_clear_error(fake_envs):
    with pytest.raises(ConvsuiteError, match=r"must give \[2, 3\]"):
        evaluate_policy(lambda states: np.zeros((len(states), 6)), EnvSettings("Pong"), episodes=2, epsilon=0.0,
                        stack=1, num_envs=2)


def test_evaluation_settings_cut_episodes_at_the_time_limit_and_keep_the_rest():
    settings = EnvSettings("Pong", noop_max=30, sticky_action_prob=0.25, frame_skip=4)
    five_minutes = evaluation_settings(settings, 5.0)
    assert five_minutes.max_episode_frames == 18_000
    assert (five_minutes.noop_max, five_minutes.sticky_action_prob, five_minutes.frame_skip) == (30, 0.25, 4)
    assert evaluation_settings(settings, 0.2).max_episode_frames == 720
    with pytest.raises(ConvsuiteError, match="max_minutes"):
        evaluation_settings(settings, 0.0)


def test_epsilon_greedy_explores_at_its_rate_and_is_greedy_otherwise():
    rng = np.random.default_rng(0)
    q = np.tile(np.array([0.0, 0.0, 1.0, 0.0]), (10_000, 1))
    actions = epsilon_greedy(q, 0.2, 4, rng)
    # greedy 80% + a quarter of the 20% random draws
    assert np.mean(actions == 2) == pytest.approx(0.85, abs=0.02)
    assert (epsilon_greedy(q, 0.0, 4, rng) == 2).all()
    random_actions = epsilon_greedy(None, 0.0, 4, rng, count=1000)
    assert set(np.unique(random_actions)) == {0, 1, 2, 3}


def test_result_metrics_carry_the_prefix():
    result = EvaluationResult(np.array([1.0, 3.0]), np.array([10, 20]), frame_skip=4)
    assert result.as_metrics("eval") == {"eval_mean_return": 2.0, "eval_std_return": 1.0,
                                         "eval_returns": [1.0, 3.0], "eval_episodes": 2}
    assert result.frames == 120


# ------------------------------------------------------------------------------------- real Pong

def test_random_pong_plays_exactly_the_episodes_asked_within_the_cut_with_raw_scores():
    result = evaluate_policy(None, EnvSettings("Pong"), episodes=5, epsilon=0.05, stack=4, max_minutes=0.2,
                             num_envs=2, seed=0)
    assert result.episodes == 5 and len(result.lengths) == 5
    assert (result.lengths <= 720 // 4).all() and (result.lengths > 0).all()
    assert (result.returns == np.round(result.returns)).all() and result.returns.min() < -1  # not clipped
    again = evaluate_policy(None, EnvSettings("Pong"), episodes=5, epsilon=0.05, stack=4, max_minutes=0.2,
                            num_envs=2, seed=0)
    np.testing.assert_array_equal(result.returns, again.returns)
    np.testing.assert_array_equal(result.lengths, again.lengths)


def test_a_greedy_pong_policy_steps_the_emulator_with_its_action_only(monkeypatch):
    made = []
    real_make = env_lib.make_vector_env

    def counting_make(settings, num_envs, seed):
        env = real_make(settings, num_envs, seed)
        real_step, env.taken = env.step, []

        def step(actions):
            env.taken.append(np.array(actions))
            return real_step(actions)

        env.step = step
        made.append(env)
        return env

    monkeypatch.setattr(env_lib, "make_vector_env", counting_make)

    def prefers_up(states):
        assert states.shape[1:] == (4, 84, 84) and states.dtype == np.uint8
        q = np.zeros((len(states), 6), np.float32)
        q[:, 2] = 1.0
        return q

    result = evaluate_policy(prefers_up, EnvSettings("Pong"), episodes=2, epsilon=0.0, stack=4, max_minutes=0.1,
                             num_envs=2, seed=3)
    assert result.episodes == 2
    assert made[0].settings.max_episode_frames == 360
    assert np.concatenate(made[0].taken).tolist() == [2] * sum(len(a) for a in made[0].taken)
