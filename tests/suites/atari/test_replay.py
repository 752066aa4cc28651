"""The replay memory stores each frame once and rebuilds the stacks the acting side saw: zero
padded at episode starts, never across a truncation or the ring's overwritten rows."""

import subprocess
import sys

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.atari.replay import (FrameStacker, ReplayMemory, available_memory_bytes,
                                           check_replay_fits)


class Script:
    """Runs the training loop's protocol on a scripted episode sequence and keeps a plain record
    of every step, to check the memory against stacks computed the obvious way.

    Frame of env e at step s: float32 [e + 1, s + 1] (never zero, so padding is visible), or for
    uint8 memories a (2, 2) frame filled with 1 + e * 60 + s."""

    def __init__(self, num_envs, capacity, stack, seed=0, dtype=np.float32, p_terminal=0.12, p_truncated=0.1):
        self.num_envs, self.stack, self.dtype = num_envs, stack, np.dtype(dtype)
        self.frame_shape = (2,) if self.dtype == np.float32 else (2, 2)
        self.memory = ReplayMemory(capacity, num_envs, self.frame_shape, self.dtype, stack)
        self.stacker = FrameStacker(num_envs, stack, self.frame_shape, self.dtype)
        self.events = np.random.default_rng(seed)
        self.p_terminal, self.p_truncated = p_terminal, p_truncated
        self.steps = 0
        self.episode = np.zeros((num_envs, 0), int)  # training episode id of each step's frame
        self.terminal = np.zeros((num_envs, 0), bool)
        self.boundary = np.zeros((num_envs, 0), bool)
        self.acted_states = []  # the stacker's state each step acted in
        self.current_episode = np.zeros(num_envs, int)
        self.states = self.stacker.push(self.frames(0), np.ones(num_envs, bool))

    def frame_value(self, env, step):
        return 1 + env * 60 + step

    def frames(self, step):
        if self.dtype == np.float32:
            return np.array([[env + 1, step + 1] for env in range(self.num_envs)], np.float32)
        return np.stack([np.full((2, 2), self.frame_value(env, step), np.uint8) for env in range(self.num_envs)])

    def identify(self, frame):
        """(env, step) of a stored frame."""
        if self.dtype == np.float32:
            return int(frame[0]) - 1, int(frame[1]) - 1
        env, step = divmod(int(frame[0, 0]) - 1, 60)
        return env, step

    def step(self, terminals=None, truncations=None):
        s = self.steps
        terminals = self.events.random(self.num_envs) < self.p_terminal if terminals is None else np.asarray(terminals)
        truncations = (self.events.random(self.num_envs) < self.p_truncated) & ~terminals \
            if truncations is None else np.asarray(truncations)
        boundaries = terminals | truncations
        actions = np.array([(env + s) % 5 for env in range(self.num_envs)])
        rewards = np.array([env + s / 100 for env in range(self.num_envs)], np.float32)
        self.acted_states.append(self.states)
        self.memory.add(self.frames(s), actions, rewards, terminals, boundaries)
        self.episode = np.concatenate([self.episode, self.current_episode[:, None]], axis=1)
        self.terminal = np.concatenate([self.terminal, terminals[:, None]], axis=1)
        self.boundary = np.concatenate([self.boundary, boundaries[:, None]], axis=1)
        self.current_episode = self.current_episode + boundaries
        self.steps += 1
        self.states = self.stacker.push(self.frames(self.steps), boundaries)

    def run(self, steps):
        for _ in range(steps):
            self.step()
        return self

    # -- the plain record's answers

    def first_kept(self):
        return max(0, self.steps - self.memory.rows_per_env)

    def expected_stack(self, env, newest):
        """Frames of steps newest-stack+1..newest of newest's episode, zeros elsewhere."""
        newest_episode = self.episode[env, newest] if newest < self.steps else self.current_episode[env]
        stack = np.zeros((self.stack,) + self.frame_shape, self.dtype)
        for back in range(self.stack):
            step = newest - back
            if step >= 0 and (self.episode[env, step] if step < self.steps else newest_episode) == newest_episode:
                stack[self.stack - 1 - back] = self.frames(step)[env]
        return stack

    def is_valid(self, env, step):
        if not self.terminal[env, step] and (self.boundary[env, step] or step == self.steps - 1):
            return False
        for back in range(1, self.stack):
            earlier = step - back
            if earlier >= 0 and self.episode[env, earlier] == self.episode[env, step] and earlier < self.first_kept():
                return False  # a frame of this state was overwritten
        return True

    def valid_rows(self):
        return {(env, step) for env in range(self.num_envs) for step in range(self.first_kept(), self.steps)
                if self.is_valid(env, step)}

    def check_batch(self, batch):
        """Every sampled transition is valid, with exactly the expected stacks and fields; returns the rows."""
        rows = []
        for i in range(len(batch["action"])):
            env, step = self.identify(batch["state"][i, -1])
            assert self.is_valid(env, step), (env, step)
            np.testing.assert_array_equal(batch["state"][i], self.expected_stack(env, step))
            np.testing.assert_array_equal(batch["state"][i], self.acted_states[step][env])
            assert batch["action"][i] == (env + step) % 5
            assert batch["reward"][i] == np.float32(env + step / 100)
            done = self.terminal[env, step]
            assert batch["done"][i] == float(done)
            if done:
                assert not batch["next_state"][i].any()
            else:
                np.testing.assert_array_equal(batch["next_state"][i], self.expected_stack(env, step + 1))
                np.testing.assert_array_equal(batch["next_state"][i], self.acted_states[step + 1][env]
                                              if step + 1 < self.steps else self.states[env])
            rows.append((env, step))
        return rows


def _sampled_rows(script, draws=3000, seed=1):
    batch = script.memory.sample(draws, np.random.default_rng(seed))
    assert batch["state"].shape == (draws, script.stack) + script.frame_shape
    assert batch["state"].dtype == script.dtype and batch["next_state"].dtype == script.dtype
    assert batch["action"].dtype == np.int32 and batch["reward"].dtype == np.float32
    assert batch["done"].dtype == np.float32
    return set(script.check_batch(batch))


def test_each_frame_is_stored_once():
    bytes_1m = ReplayMemory.required_bytes(1_000_000, 1, (84, 84), np.uint8, 4)
    assert bytes_1m == 1_000_000 * (84 * 84 + 10) + 1  # frame + action, reward, terminal, boundary; a flag per env
    assert 7.0e9 < bytes_1m < 7.1e9
    assert ReplayMemory.required_bytes(1_000_000, 8, (84, 84), np.uint8, 4) == bytes_1m + 7
    memory = ReplayMemory(1000, 4, (84, 84), np.uint8, stack=4)
    assert memory.arrays["frames"].shape == (4, 250, 84, 84) and memory.arrays["frames"].dtype == np.uint8
    assert sum(a.nbytes for a in memory.arrays.values()) == ReplayMemory.required_bytes(1000, 4, (84, 84))


def test_capacity_is_split_evenly_over_the_envs_rounding_up():
    memory = ReplayMemory(10, 3, (2,), np.float32, stack=2)
    assert memory.rows_per_env == 4 and memory.capacity == 12
    assert memory.arrays["actions"].shape == (3, 4)


@pytest.mark.parametrize("num_envs", [1, 3])
def test_sampled_stacks_are_zero_padded_at_episode_starts_and_match_the_record(num_envs):
    script = Script(num_envs, capacity=200 * num_envs, stack=4, seed=num_envs).run(60)
    assert script.boundary.any() and (script.boundary & ~script.terminal).any() and script.terminal.any()
    assert _sampled_rows(script) == script.valid_rows()
    assert script.memory.num_valid() == len(script.valid_rows())


def test_uint8_frames_sample_the_same_stacks():
    script = Script(2, capacity=80, stack=4, seed=5, dtype=np.uint8).run(25)
    assert _sampled_rows(script) == script.valid_rows()


def test_truncated_rows_and_the_newest_row_are_never_sampled():
    script = Script(2, capacity=100, stack=3, seed=0, p_terminal=0, p_truncated=0)
    plan = [(0, 0), (0, 1), (0, 0), (1, 0), (0, 0), (0, 0)]  # (terminal, truncated) of env 0; env 1 none
    for terminal, truncated in plan:
        script.step([bool(terminal), False], [bool(truncated), False])
    rows = _sampled_rows(script)
    assert (0, 1) not in rows  # truncated: its next frame is unknown
    assert (0, 3) in rows  # terminal: sampled, done
    assert (0, 5) not in rows and (1, 5) not in rows  # the newest rows: next frame not stored yet
    assert rows == {(0, 0), (0, 2), (0, 3), (0, 4), (1, 0), (1, 1), (1, 2), (1, 3), (1, 4)}
    script.step([True, False], [False, False])
    assert (0, 5) in _sampled_rows(script) and (0, 6) in _sampled_rows(script)  # a terminal newest row is complete


def test_a_truncated_row_is_never_sampled_even_when_it_is_the_only_row_left():
    script = Script(1, capacity=20, stack=1, seed=0, p_terminal=0, p_truncated=0)
    script.step([False], [True])
    assert script.memory.num_valid() == 0 and not script.memory.can_sample(1)
    with pytest.raises(ConvsuiteError, match="no complete transition"):
        script.memory.sample(4, np.random.default_rng(0))
    script.step([False], [False])
    script.step([False], [False])
    assert script.check_batch(script.memory.sample(50, np.random.default_rng(0))) == [(0, 1)] * 50


@pytest.mark.parametrize("steps", [9, 10, 11, 12, 13, 23, 31])
def test_the_ring_keeps_only_rows_whose_stacks_are_stored(steps):
    script = Script(2, capacity=20, stack=4, seed=steps, p_terminal=0.15, p_truncated=0.1).run(steps)
    assert len(script.memory) == 2 * min(steps, 10)
    assert script.memory.num_valid() == len(script.valid_rows())
    assert _sampled_rows(script) == script.valid_rows()


def test_after_wrapping_the_oldest_rows_are_dropped_unless_a_boundary_cuts_their_stack():
    script = Script(1, capacity=8, stack=4, seed=0, p_terminal=0, p_truncated=0)
    for step in range(12):
        script.step([step == 8], [False])  # row 9 starts an episode
    # kept steps 4..11; 4, 5, 6 need overwritten frames; 8 is terminal; 11 is the newest
    assert _sampled_rows(script) == {(0, 7), (0, 8), (0, 9), (0, 10)}
    for step in range(12, 14):
        script.step([False], [False])
    # kept steps 6..13: 6, 7, 8 reach overwritten frames, 9.. start after the boundary
    assert _sampled_rows(script) == {(0, 9), (0, 10), (0, 11), (0, 12)}


def test_a_row_whose_episode_starts_right_after_the_overwritten_rows_stays_sampleable():
    script = Script(1, capacity=8, stack=4, seed=0, p_terminal=0, p_truncated=0)
    for step in range(14):
        script.step([step == 5], [False])  # the overwritten row 5 ended an episode: 6 starts one
    assert script.memory.arrays["oldest_starts_episode"].tolist() == [True]
    assert _sampled_rows(script) == {(0, step) for step in range(6, 13)}
    script.step([False], [False])  # row 6 is overwritten now: 7, 8 and 9 lost an older frame
    assert script.memory.arrays["oldest_starts_episode"].tolist() == [False]
    assert _sampled_rows(script) == {(0, step) for step in range(10, 14)}


def test_num_valid_matches_the_record_at_every_step():
    script = Script(3, capacity=21, stack=3, seed=7, p_terminal=0.2, p_truncated=0.2)
    for _ in range(30):
        script.step()
        assert script.memory.num_valid() == len(script.valid_rows())
    assert script.memory.can_sample(script.memory.num_valid())
    assert not script.memory.can_sample(script.memory.num_valid() + 1)


def test_frame_stacker_states_equal_the_replayed_stacks():
    script = Script(3, capacity=300, stack=4, seed=11).run(40)
    rows = _sampled_rows(script)  # check_batch compares every state with the stacker's
    assert len(rows) > 60


def test_frame_stacker_pads_with_zeros_at_starts():
    stacker = FrameStacker(2, 3, (1,), np.float32)
    stacker.push([[1.0], [1.0]], [True, True])
    stacker.push([[2.0], [2.0]], [False, False])
    states = stacker.push([[3.0], [3.0]], [False, True])
    np.testing.assert_array_equal(states[:, :, 0], [[1, 2, 3], [0, 0, 3]])
    np.testing.assert_array_equal(stacker.states, states)
    states[:] = 9  # push returns a copy
    assert stacker.states.max() == 3
    with pytest.raises(ConvsuiteError, match=r"shape \[2, 1\]"):
        stacker.push(np.zeros((2, 3, 1), np.float32))


def test_cartpole_like_float_vectors_with_stack_1():
    memory = ReplayMemory(50, 2, (4,), np.float32, stack=1)
    stacker = FrameStacker(2, 1, (4,), np.float32)
    observations = np.arange(16 * 2 * 4, dtype=np.float32).reshape(16, 2, 4) + 1
    states = stacker.push(observations[0], [True, True])
    for step in range(15):
        terminal = np.array([step % 5 == 4, False])
        np.testing.assert_array_equal(states[:, 0], observations[step])
        memory.add(observations[step], np.array([0, 1]), np.ones(2, np.float32), terminal, terminal)
        states = stacker.push(observations[step + 1], terminal)
    batch = memory.sample(400, np.random.default_rng(3))
    assert batch["state"].shape == (400, 1, 4)
    index = (batch["state"][:, 0, 0] - 1).astype(int) // 4  # step * 2 + env
    step, env = np.divmod(index, 2)
    np.testing.assert_array_equal(batch["state"][:, 0], observations[step, env])
    assert step.max() <= 14 and not np.any((step == 14) & (env == 1))  # env 1's newest row is incomplete
    done = batch["done"] == 1
    np.testing.assert_array_equal(done, (env == 0) & (step % 5 == 4))
    np.testing.assert_array_equal(batch["next_state"][~done, 0], observations[step[~done] + 1, env[~done]])
    assert not batch["next_state"][done].any()


def test_sampling_is_deterministic_for_a_seed():
    script = Script(3, capacity=60, stack=4, seed=2).run(35)
    first = script.memory.sample(64, np.random.default_rng(42))
    second = script.memory.sample(64, np.random.default_rng(42))
    other = script.memory.sample(64, np.random.default_rng(43))
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    assert not np.array_equal(first["state"], other["state"])


def test_sampling_falls_back_to_an_exact_draw_when_few_rows_are_valid():
    script = Script(1, capacity=400, stack=2, seed=0, p_terminal=0, p_truncated=0)
    for step in range(300):
        script.step([False], [step != 150])  # everything truncated but row 150
    assert script.memory.num_valid() == 1
    assert set(script.check_batch(script.memory.sample(20, np.random.default_rng(0)))) == {(0, 150)}


def test_arrays_and_values_round_trip_through_load():
    script = Script(2, capacity=30, stack=4, seed=4).run(23)
    saved_arrays = {name: array.copy() for name, array in script.memory.arrays.items()}
    saved_values = dict(script.memory.values)
    assert all(type(value) is int for value in saved_values.values())
    assert saved_values["cursor"] == 23 % 15 and saved_values["size"] == 15

    restored = ReplayMemory(30, 2, script.frame_shape, script.dtype, stack=4)
    restored.load(dict(saved_arrays, epsilon=np.zeros(1)), dict(saved_values, episodes=3))
    assert all(restored.arrays[name] is saved_arrays[name] for name in saved_arrays)
    assert restored.values == saved_values and len(restored) == len(script.memory)
    assert restored.num_valid() == script.memory.num_valid()
    restored.end_episodes()  # the envs restart after a restore: the newest rows end their episodes
    assert restored.num_valid() == script.memory.num_valid()  # they were not sampleable anyway
    expected = script.memory.sample(128, np.random.default_rng(9))
    got = restored.sample(128, np.random.default_rng(9))
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])
    # the next row starts a new episode, so the newest row before the restore never becomes sampleable
    continuing = ~script.boundary[:, 22]
    assert continuing.any()  # the uninterrupted run's newest rows become complete with the next step
    restored.add(script.frames(23), np.zeros(2, int), np.zeros(2, np.float32), np.zeros(2, bool), np.zeros(2, bool))
    assert restored.arrays["boundaries"][:, 22 % 15].all()
    newest_frames = restored.sample(2000, np.random.default_rng(0))["state"][:, -1]
    after_restart = {script.identify(frame) for frame in newest_frames}
    assert len(after_restart) == restored.num_valid()
    assert not {(env, 22) for env in np.flatnonzero(~script.terminal[:, 22])} & after_restart
    script.step([False, False], [False, False])
    uninterrupted = _sampled_rows(script)
    assert {(env, 22) for env in np.flatnonzero(continuing)} <= uninterrupted


def test_load_refuses_mismatched_arrays_and_damaged_counters():
    memory = ReplayMemory(30, 2, (2,), np.float32, stack=4)
    arrays = {name: array.copy() for name, array in memory.arrays.items()}
    with pytest.raises(ConvsuiteError, match="lacks the replay memory's"):
        memory.load({k: v for k, v in arrays.items() if k != "rewards"}, memory.values)
    with pytest.raises(ConvsuiteError, match=r"'frames' is float32\[2, 10, 2\]"):
        memory.load(dict(arrays, frames=np.zeros((2, 10, 2), np.float32)), memory.values)
    with pytest.raises(ConvsuiteError, match="counters disagree"):
        memory.load(arrays, {"cursor": 3, "size": 0, "rows_added": 0})


def test_a_memory_too_large_for_the_available_memory_is_refused_up_front():
    with pytest.raises(ConvsuiteError) as error:
        check_replay_fits(1_000_000, 1, (84, 84), np.uint8, 4, available=3_200_000_000)
    message = str(error.value)
    assert "1,000,000 transitions of 84x84 uint8 frames needs 7.1 GB but 3.2 GB" in message
    assert "lower agent.replay_size (e.g. to 270000)" in message
    with pytest.raises(ConvsuiteError, match="free memory"):
        check_replay_fits(1_000_000, 4, (84, 84), np.uint8, 4, available=500_000_000)
    assert check_replay_fits(100_000, 4, (84, 84), np.uint8, 4, available=4_000_000_000) == 100_000 * (84 * 84 + 10) + 4


def test_available_memory_is_read_from_the_system():
    available = available_memory_bytes()
    assert available is None or available > 0
    if available is not None:
        check_replay_fits(1000, 1, (84, 84))  # 7 MB fits any machine that runs the tests


@pytest.mark.parametrize("change, message", [
    (dict(frames=np.zeros((2, 4, 3, 3), np.uint8)), r"frames must have shape \[2, 3, 3\]"),
    (dict(frames=np.zeros((2, 3, 3), np.float32)), "must be uint8 like the memory, got float32"),
    (dict(actions=np.array([0.5, 1.0])), "actions must be integers"),
    (dict(actions=np.array([0, -1])), "actions must be >= 0"),
    (dict(actions=np.array([0, 1, 2])), r"actions must have shape \[2\]"),
    (dict(rewards=np.array([np.nan, 0.0])), "rewards must be finite"),
    (dict(terminals=np.array([2, 0])), "terminals must be booleans"),
    (dict(terminals=np.array([True, False])), "must also be an episode boundary"),
])
def test_bad_rows_are_refused_with_what_is_wrong(change, message):
    memory = ReplayMemory(20, 2, (3, 3), np.uint8, stack=4)
    row = dict(frames=np.zeros((2, 3, 3), np.uint8), actions=np.array([0, 1]), rewards=np.zeros(2, np.float32),
               terminals=np.zeros(2, bool), boundaries=np.zeros(2, bool))
    memory.add(**row)
    with pytest.raises(ConvsuiteError, match=message):
        memory.add(**dict(row, **change))
    assert len(memory) == 2  # nothing written


def test_nan_float_frames_and_bad_settings_are_refused():
    memory = ReplayMemory(20, 2, (4,), np.float32, stack=1)
    frames = np.zeros((2, 4), np.float32)
    frames[1, 2] = np.nan
    with pytest.raises(ConvsuiteError, match=r"envs \[1\] hold NaN"):
        memory.add(frames, np.zeros(2, int), np.zeros(2), np.zeros(2, bool), np.zeros(2, bool))
    with pytest.raises(ConvsuiteError, match="numpy.random.Generator"):
        memory.sample(4, np.random.RandomState(0))
    with pytest.raises(ConvsuiteError, match="fewer than the 5"):
        ReplayMemory(8, 2, (84, 84), np.uint8, stack=4)
    with pytest.raises(ConvsuiteError, match="at least 1 env"):
        ReplayMemory(100, 0, (84, 84))


def test_the_module_imports_no_keras():
    code = ("import sys, convsuite.suites.atari.replay; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
