"""The Atari environments: game names, the paper's preprocessing wrappers against frames read from
the raw emulator, and the vector interface of the ale and python backends (same-step autoreset,
lives, seeds), with CartPole through the same interface."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.atari import env as atari_env
from convsuite.suites.atari.env import EnvSettings, make_play_env, make_vector_env, normalize_game
from tests.requirements import require

gym = require("gymnasium", "atari")
require("ale_py", "atari")
cv2 = require("cv2", "atari")

PONG_RIGHT = 2  # Pong's minimal action set: NOOP, FIRE, RIGHT, LEFT, RIGHTFIRE, LEFTFIRE


def raw_pong(seed=0, **settings):
    """The bare emulator (one frame a step, grayscale 210x160), reset with ``seed``."""
    env = atari_env.make_raw_atari_env(EnvSettings("Pong", **settings))
    env.reset(seed=seed)
    return env


class CountingEnv(gym.Env):
    """A fake game: the observation is the step count, rewards come from a list, it ends after ``length`` steps."""

    observation_space = gym.spaces.Box(0, 1000, (1,), np.int64)
    action_space = gym.spaces.Discrete(4)

    def __init__(self, rewards=None, length=1000):
        self.rewards, self.length = rewards or [0.0] * length, length
        self.steps, self.resets, self.actions = 0, 0, []

    def get_action_meanings(self):
        return ["NOOP", "FIRE", "RIGHT", "LEFT"]

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.steps, self.resets = 0, self.resets + 1
        return np.array([0]), {"lives": 3}

    def step(self, action):
        self.actions.append(int(action))
        reward = self.rewards[self.steps]
        self.steps += 1
        return np.array([self.steps]), reward, self.steps >= self.length, False, {"lives": 3}


# ---------------------------------------------------------------------------------------------- games
def test_importing_env_starts_neither_gymnasium_nor_keras():
    code = ("import sys, convsuite.suites.atari.env; "
            "print(sorted(m for m in ('gymnasium', 'ale_py', 'cv2', 'keras', 'tensorflow') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_available_games_are_the_shipped_roms_named_as_gymnasium_names_them():
    games = atari_env.available_games()
    assert len(games) == len(__import__("ale_py.roms").roms.get_all_rom_ids()) >= 100
    assert {"Pong", "Breakout", "SpaceInvaders", "MsPacman", "TicTacToe3D"} <= set(games)
    registered = {name[len("ALE/"):-len("-v5")] for name in gym.registry if name.startswith("ALE/")
                  and name.endswith("-v5")}
    assert registered <= set(games)


@pytest.mark.parametrize("name, expected", [
    ("Pong", ("atari", "Pong")), ("pong", ("atari", "Pong")), ("ALE/Pong-v5", ("atari", "Pong")),
    ("PongNoFrameskip-v4", ("atari", "Pong")), ("space_invaders", ("atari", "SpaceInvaders")),
    ("SpaceInvaders", ("atari", "SpaceInvaders")), ("CartPole-v1", ("gymnasium", "CartPole-v1")),
])
def test_normalize_game_accepts_the_usual_spellings(name, expected):
    assert normalize_game(name) == expected


def test_unknown_game_lists_the_available_games_and_the_closest_one():
    with pytest.raises(ConvsuiteError) as error:
        normalize_game("Pongg")
    message = str(error.value)
    assert "unknown game 'Pongg'" in message and "did you mean 'Pong'" in message
    assert "Adventure, AirRaid" in message and f"({len(atari_env.available_games())})" in message


def test_gymnasium_environment_with_continuous_actions_is_refused():
    with pytest.raises(ConvsuiteError, match="Discrete actions"):
        normalize_game("Pendulum-v1")


def test_missing_ale_py_says_how_to_install_the_atari_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ale_py.roms", None)  # makes `import ale_py.roms` fail
    atari_env._rom_ids.cache_clear()
    try:
        with pytest.raises(ConvsuiteError, match=r'pip install -e "\.\[atari\]"'):
            atari_env.available_games()
    finally:
        monkeypatch.undo()
        atari_env._rom_ids.cache_clear()


# ------------------------------------------------------------------------------------------- wrappers
def test_preprocessed_pong_frames_are_84x84_uint8():
    env = atari_env.make_atari_env(EnvSettings("Pong"))
    frame, info = env.reset(seed=0)
    assert frame.shape == (84, 84) and frame.dtype == np.uint8 and env.observation_space.shape == (84, 84)
    frame, reward, terminated, truncated, info = env.step(PONG_RIGHT)
    assert frame.shape == (84, 84) and frame.dtype == np.uint8 and info["lives"] == 0
    env.close()


def test_max_and_skip_is_the_max_of_the_last_two_raw_frames():
    skipped = atari_env.MaxAndSkip(raw_pong(seed=3), frame_skip=4, max_pool=True)
    reference = raw_pong(seed=3)  # stepped by hand, frame by frame
    max_differs_from_last = False
    for step in range(40):
        action = PONG_RIGHT if step % 10 < 5 else 3
        frame = skipped.step(action)[0]
        raw_frames = [reference.step(action)[0] for _ in range(4)]
        np.testing.assert_array_equal(frame, np.maximum(raw_frames[-2], raw_frames[-1]))
        max_differs_from_last |= not np.array_equal(frame, raw_frames[-1])
    assert max_differs_from_last  # the ball and paddles move, so the max is not just the last frame


def test_max_and_skip_without_max_pool_returns_the_last_frame():
    skipped = atari_env.MaxAndSkip(raw_pong(seed=3), frame_skip=4, max_pool=False)
    reference = raw_pong(seed=3)
    for _ in range(10):
        frame = skipped.step(PONG_RIGHT)[0]
        np.testing.assert_array_equal(frame, [reference.step(PONG_RIGHT)[0] for _ in range(4)][-1])


def test_max_and_skip_sums_the_raw_rewards_and_stops_at_the_episode_end():
    env = atari_env.MaxAndSkip(CountingEnv(rewards=[1.0, -2.0, 5.0, 3.0, 7.0, 0.0], length=6), frame_skip=4)
    env.reset(seed=0)
    assert env.step(0)[1] == 7.0  # 1 - 2 + 5 + 3, not clipped
    observation, reward, terminated, truncated, info = env.step(0)
    assert reward == 7.0 and terminated and observation[0] == 6  # stopped after 2 of 4 frames


def test_resize_frame_is_the_inter_area_resize_of_the_max_frame():
    resized = atari_env.ResizeFrame(atari_env.MaxAndSkip(raw_pong(seed=5)), frame_size=84)
    full = atari_env.MaxAndSkip(raw_pong(seed=5))
    for _ in range(20):
        frame = resized.step(PONG_RIGHT)[0]
        expected = cv2.resize(full.step(PONG_RIGHT)[0], (84, 84), interpolation=cv2.INTER_AREA)
        assert frame.dtype == np.uint8
        np.testing.assert_array_equal(frame, expected)


def test_noop_start_takes_between_zero_and_noop_max_noops_repeatably():
    env = atari_env.NoopStart(atari_env.make_raw_atari_env(EnvSettings("Pong")), noop_max=5)
    counts = [env.reset(seed=seed)[1]["episode_frame_number"] for seed in range(10)]
    assert set(counts) <= set(range(6)) and len(set(counts)) >= 3
    assert [env.reset(seed=seed)[1]["episode_frame_number"] for seed in range(4)] == counts[:4]
    no_noops = atari_env.NoopStart(atari_env.make_raw_atari_env(EnvSettings("Pong")), noop_max=0)
    assert no_noops.reset(seed=0)[1]["episode_frame_number"] == 0


def test_noop_start_restarts_a_game_that_ends_during_the_noops():
    game = CountingEnv(length=2)
    env = atari_env.NoopStart(game, noop_max=30)
    for seed in range(10):
        env.reset(seed=seed)
    assert set(game.actions) == {0}
    assert game.resets > 10 and game.steps < 2  # some starts drew more than 2 no-ops and restarted


def test_fire_reset_presses_fire_once_after_reset():
    game = CountingEnv()
    env = atari_env.FireReset(game)
    env.reset(seed=0)
    assert game.actions == [1] and game.resets == 1


def test_sticky_action_probability_reaches_the_ale():
    env = atari_env.make_atari_env(EnvSettings("Pong", sticky_action_prob=0.25))
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == pytest.approx(0.25)
    env = atari_env.make_atari_env(EnvSettings("Pong"))
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == 0.0


# ---------------------------------------------------------------------------------------- vector envs
@pytest.mark.parametrize("backend", ["ale", "python"])
def test_vector_env_shapes_and_dtypes(backend):
    with make_vector_env(EnvSettings("Pong", backend=backend), num_envs=2, seed=0) as env:
        assert (env.num_envs, env.num_actions, env.frame_shape, env.frame_dtype) == (2, 6, (84, 84), np.uint8)
        assert env.action_meanings == ["NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]
        frames, lives = env.reset()
        assert frames.shape == (2, 84, 84) and frames.dtype == np.uint8
        assert lives.dtype == np.int32 and lives.tolist() == [0, 0]
        frames, rewards, terminated, truncated, lives = env.step(np.array([0, PONG_RIGHT]))
        assert frames.shape == (2, 84, 84) and frames.dtype == np.uint8
        assert rewards.dtype == np.float32 and terminated.dtype == bool and truncated.dtype == bool
        assert lives.dtype == np.int32 and rewards.shape == terminated.shape == truncated.shape == (2,)


@pytest.mark.parametrize("backend", ["ale", "python"])
def test_same_step_autoreset_returns_the_new_episode_frame_when_truncated(backend):
    settings = EnvSettings("Pong", backend=backend, noop_max=0, max_episode_frames=40)  # 10 steps of 4 frames
    with make_vector_env(settings, num_envs=2, seed=0) as env:
        first_frames, _ = env.reset()
        for step in range(1, 11):
            frames, rewards, terminated, truncated, lives = env.step(np.full(2, PONG_RIGHT))
            assert not terminated.any()
            assert truncated.tolist() == [step == 10] * 2
            if step == 9:
                assert not np.array_equal(frames, first_frames)  # the paddle moved
        np.testing.assert_array_equal(frames, first_frames)  # no no-ops, no sticky actions: the same start


@pytest.mark.parametrize("backend", ["ale", "python"])
def test_breakout_reports_five_lives(backend):
    with make_vector_env(EnvSettings("Breakout", backend=backend), num_envs=2, seed=0) as env:
        assert env.reset()[1].tolist() == [5, 5]
        assert env.step(np.array([1, 1]))[4].tolist() == [5, 5]


@pytest.mark.parametrize("backend", ["ale", "python"])
def test_vector_env_is_deterministic_for_a_seed_and_env_i_gets_seed_plus_i(backend):
    settings = EnvSettings("Pong", backend=backend, noop_max=30)

    def play(seed):
        with make_vector_env(settings, num_envs=2, seed=seed) as env:
            frames = [env.reset()[0]]
            frames += [env.step(np.full(2, PONG_RIGHT if step % 8 < 4 else 3))[0] for step in range(40)]
        return np.stack(frames, axis=1)  # [env, time, 84, 84]

    first, again, shifted = play(0), play(0), play(1)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first[1, :, :, :], shifted[0])  # env 1 of seed 0 is env 0 of seed 1


def test_ale_and_python_backends_produce_the_same_frames():
    settings = {"game": "Breakout", "noop_max": 0, "sticky_action_prob": 0.0}
    ale = make_vector_env(EnvSettings(backend="ale", **settings), num_envs=2, seed=7)
    python = make_vector_env(EnvSettings(backend="python", **settings), num_envs=2, seed=7)
    assert np.abs(ale.reset()[0].astype(int) - python.reset()[0]).mean() < 0.5
    actions = np.random.default_rng(0).integers(0, ale.num_actions, (300, 2))
    for action in actions:
        ale_step, python_step = ale.step(action), python.step(action)
        assert np.abs(ale_step[0].astype(int) - python_step[0]).mean() < 0.5
        for ale_value, python_value in zip(ale_step[1:], python_step[1:]):
            np.testing.assert_array_equal(ale_value, python_value)  # rewards, ends, lives
    ale.close(), python.close()


def test_python_async_backend_matches_the_python_backend():
    settings = {"game": "Pong", "noop_max": 30}
    with make_vector_env(EnvSettings(backend="python-async", **settings), num_envs=2, seed=3) as async_env, \
            make_vector_env(EnvSettings(backend="python", **settings), num_envs=2, seed=3) as sync_env:
        np.testing.assert_array_equal(async_env.reset()[0], sync_env.reset()[0])
        for _ in range(10):
            np.testing.assert_array_equal(async_env.step(np.array([2, 3]))[0], sync_env.step(np.array([2, 3]))[0])


def test_cartpole_vector_env_has_vector_frames_and_resets_in_the_same_step():
    with make_vector_env(EnvSettings("CartPole-v1"), num_envs=2, seed=0) as env:
        assert (env.num_actions, env.frame_shape, env.frame_dtype) == (2, (4,), np.float32)
        frames, lives = env.reset()
        assert frames.shape == (2, 4) and frames.dtype == np.float32 and lives.tolist() == [0, 0]
        for _ in range(100):  # always pushing left ends an episode within a few dozen steps
            frames, rewards, terminated, truncated, lives = env.step(np.zeros(2, int))
            if terminated.any():
                break
        assert terminated.any() and rewards.dtype == np.float32
        assert np.all(np.abs(frames[terminated]) <= 0.05)  # the new episode's start state (gymnasium: +-0.05)


def test_vector_env_refuses_actions_of_the_wrong_shape():
    with make_vector_env(EnvSettings("Pong"), num_envs=2, seed=0) as env:
        env.reset()
        with pytest.raises(ConvsuiteError, match="2 integers"):
            env.step(np.array([0, 1, 2]))


def test_unknown_backend_is_refused():
    with pytest.raises(ConvsuiteError, match="python-async"):
        make_vector_env(EnvSettings("Pong", backend="envpool"), num_envs=1, seed=0)


# ------------------------------------------------------------------------------------------- play env
def test_play_env_gives_preprocessed_frames_and_the_colour_screen():
    with make_play_env(EnvSettings("Breakout", fire_reset=True), seed=0) as env:
        frame, lives = env.reset()
        assert frame.shape == (84, 84) and frame.dtype == np.uint8 and lives == 5
        assert env.action_meanings == ["NOOP", "FIRE", "RIGHT", "LEFT"]
        frame, reward, terminated, truncated, lives = env.step(2)
        screen = env.rgb_frame()
        assert screen.shape == (210, 160, 3) and screen.dtype == np.uint8
        assert not np.array_equal(screen[..., 0], screen[..., 2])  # colour, not grey


def test_play_env_renders_cartpole_or_says_pygame_is_missing():
    with make_play_env(EnvSettings("CartPole-v1"), seed=0) as env:
        frame, lives = env.reset()
        assert frame.shape == (4,) and frame.dtype == np.float32 and lives == 0
        if importlib.util.find_spec("pygame") is None:  # gymnasium draws CartPole with it; not an atari extra
            with pytest.raises(ConvsuiteError, match="needs pygame"):
                env.rgb_frame()
        else:
            assert env.rgb_frame().shape == (400, 600, 3)
