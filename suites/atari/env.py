"""Atari 2600 games of the Arcade Learning Environment, preprocessed as in Mnih et al. 2015.

Mnih et al., "Human-level control through deep reinforcement learning" (Nature 518, 2015),
Methods "Preprocessing" and "Evaluation procedure": each action is repeated for 4 emulator
frames, a frame is the pixel-wise max of the last two emulator frames (Atari sprites flicker),
converted to luminance and rescaled to 84x84, and each episode starts with a random number of
no-op actions (up to 30). Sticky actions (Machado et al., "Revisiting the Arcade Learning
Environment", JAIR 2018) are an option.

Three backends step ``num_envs`` environments at once behind one interface
(:class:`AtariVectorEnvironment`):

- ``"ale"``: ale-py's C++ vector environment (threads; the same preprocessing in C++);
- ``"python"``: this module's gymnasium wrappers in a gymnasium ``SyncVectorEnv``;
- ``"python-async"``: the same wrappers, one subprocess each (gymnasium ``AsyncVectorEnv``,
  started with ``forkserver`` so a parent running TensorFlow threads is never forked; a script
  that uses it needs the usual ``if __name__ == "__main__":`` guard).

The python wrappers draw 0..noop_max no-op frames at a start; ale-py's C++ preprocessing draws
0..noop_max-1 (and counts its FIRE frame among them). With ``noop_max=0`` and no sticky actions
both backends give identical frames, rewards and lives (the tests check it).

Every backend resets an environment in the same step its episode ends, keeps the game's raw
reward, and reports the lives left; reward clipping and life-loss terminals are the training
loop's job. Gymnasium environments with a vector state (``CartPole-v1``) go through the same
interface without any Atari preprocessing: they test the loop on a problem solved in minutes.

Imports no Keras; gymnasium, ale-py and OpenCV are imported on first use.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import re
from dataclasses import dataclass

import numpy as np

from convsuite.common.errors import ConvsuiteError

BACKENDS = ("ale", "python", "python-async")
WRAPPERS = ("NoopStart", "MaxAndSkip", "ResizeFrame", "FireReset")
INSTALL_HINT = '.venv/bin/pip install -e ".[atari]"'
_ATARI_ID = re.compile(r"^(?:ALE/)?(?P<name>[A-Za-z0-9_]+?)(?:NoFrameskip|Deterministic)?(?:-v\d+)?$")


def _require(module: str):
    """Import ``module`` or raise the error saying how to install the Atari extra."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ConvsuiteError(f"{module} is not installed ({error}); run `{INSTALL_HINT}` to use the Atari "
                             "suite") from error


@dataclass
class EnvSettings:
    """What an environment is and how its frames are preprocessed (train.py builds it from the config)."""

    game: str
    backend: str = "ale"
    noop_max: int = 30
    frame_skip: int = 4
    max_pool: bool = True
    frame_size: int = 84
    sticky_action_prob: float = 0.0
    full_action_space: bool = False
    fire_reset: bool = False
    max_episode_frames: int = 108_000


def _check_settings(settings: EnvSettings):
    if settings.backend not in BACKENDS:
        raise ConvsuiteError(f"unknown environment backend {settings.backend!r}; use one of {', '.join(BACKENDS)}")
    for name, least in (("noop_max", 0), ("frame_skip", 1), ("frame_size", 1), ("max_episode_frames", 1)):
        if getattr(settings, name) < least:
            raise ConvsuiteError(f"env.{name} is {getattr(settings, name)}; it must be at least {least}")
    if not 0.0 <= settings.sticky_action_prob < 1.0:
        raise ConvsuiteError(f"env.sticky_action_prob is {settings.sticky_action_prob}; it must be in [0, 1)")


# --------------------------------------------------------------------------------------------- games
def _camel_case(rom_id: str) -> str:
    """``space_invaders`` -> ``SpaceInvaders``, ``tic_tac_toe_3d`` -> ``TicTacToe3D`` (gymnasium's names)."""
    return "".join(part.upper() if part[:1].isdigit() else part.capitalize() for part in rom_id.split("_"))


def _key(name: str) -> str:
    return name.lower().replace("_", "")


@functools.lru_cache(maxsize=None)
def _rom_ids() -> dict[str, str]:
    """CamelCase game name -> ale-py ROM id, for every ROM shipped in the ale-py wheel."""
    roms = _require("ale_py.roms")
    return {_camel_case(rom_id): rom_id for rom_id in sorted(roms.get_all_rom_ids())}


def available_games() -> list[str]:
    """The Atari games whose ROMs ship with ale-py, as gymnasium names them ("Pong", "SpaceInvaders")."""
    return sorted(_rom_ids())


def rom_id(game: str) -> str:
    """ale-py's ROM id (``space_invaders``) of a game name in any accepted spelling."""
    kind, canonical = normalize_game(game)
    if kind != "atari":
        raise ConvsuiteError(f"{game!r} is a gymnasium environment, not an Atari game; it has no ROM")
    return _rom_ids()[canonical]


def _check_gymnasium_id(env_id: str):
    """Refuse a registered gymnasium id whose spaces a DQN cannot use (it needs a vector state, discrete actions)."""
    gym = _require("gymnasium")
    try:
        env = gym.make(env_id)
    except Exception as error:  # a missing simulator (MuJoCo, Box2D) or a broken registration
        raise ConvsuiteError(f"gymnasium cannot make {env_id!r} ({error}); pick a classic-control "
                             "environment such as CartPole-v1 or an Atari game") from error
    try:
        observation, action = env.observation_space, env.action_space
        if not (isinstance(observation, gym.spaces.Box) and len(observation.shape) == 1
                and isinstance(action, gym.spaces.Discrete)):
            raise ConvsuiteError(f"gymnasium environment {env_id!r} has observations {observation} and actions "
                                 f"{action}; DQN here needs a 1-D Box observation and Discrete actions "
                                 "(CartPole-v1, Acrobot-v1, MountainCar-v0)")
    finally:
        env.close()


def normalize_game(name: str) -> tuple[str, str]:
    """``(kind, canonical name)`` of a game: ("atari", "Pong") or ("gymnasium", "CartPole-v1").

    Atari games are accepted case-insensitively, with or without underscores, and as gymnasium
    ids ("Pong", "pong", "space_invaders", "ALE/Pong-v5", "PongNoFrameskip-v4"): all name the
    same ROM, which this suite preprocesses itself.
    """
    games = _rom_ids()
    match = _ATARI_ID.match(name.strip())
    if match:
        by_key = {_key(game): game for game in games}
        if _key(match["name"]) in by_key:
            return "atari", by_key[_key(match["name"])]
    gym = _require("gymnasium")
    if name in gym.registry and not name.startswith("ALE/"):
        _check_gymnasium_id(name)
        return "gymnasium", name
    names = sorted(games)
    close = difflib.get_close_matches(name.lower(), [game.lower() for game in names] + ["cartpole-v1"], n=1)
    by_lower = {game.lower(): game for game in names} | {"cartpole-v1": "CartPole-v1"}
    hint = f" (did you mean {by_lower[close[0]]!r}?)" if close else ""
    raise ConvsuiteError(f"unknown game {name!r}{hint}; available Atari games: {', '.join(names)} ({len(names)}), "
                         "or a gymnasium id with a vector state and discrete actions such as CartPole-v1")


# ------------------------------------------------------------------------------------------ wrappers
_wrapper_classes: dict[str, type] = {}


def _build_wrappers() -> dict[str, type]:
    """The preprocessing wrappers, defined on first use so that importing this module needs no gymnasium."""
    if _wrapper_classes:
        return _wrapper_classes
    gym = _require("gymnasium")

    class NoopStart(gym.Wrapper):
        """Start each episode with a uniform 0..noop_max number of no-op frames (Mnih et al. 2015).

        The random starts keep the agent from memorising one deterministic trajectory. The count
        is drawn with the environment's own ``np_random``, so a seeded reset repeats it. If the
        game ends during the no-ops, the episode restarts. Wrap a ``frameskip=1`` environment:
        each no-op is one emulator frame.
        """

        def __init__(self, env, noop_max: int = 30):
            super().__init__(env)
            self.noop_max = noop_max
            self.noop_action = 0  # NOOP is the first action of every ALE action set

        def reset(self, **kwargs):
            observation, info = self.env.reset(**kwargs)
            noops = int(self.np_random.integers(0, self.noop_max + 1))
            for _ in range(noops):
                observation, _, terminated, truncated, info = self.env.step(self.noop_action)
                if terminated or truncated:
                    observation, info = self.env.reset()
            return observation, info

    class FireReset(gym.Wrapper):
        """Press FIRE for one frame after each reset, in games that have a FIRE action (not in the paper).

        Games like Breakout wait for FIRE before serving; ale-py's vector environment does the
        same (``use_fire_reset``). Games without FIRE are left alone.
        """

        def __init__(self, env):
            super().__init__(env)
            meanings = env.unwrapped.get_action_meanings()
            self.fire_action = meanings.index("FIRE") if "FIRE" in meanings else None

        def reset(self, **kwargs):
            observation, info = self.env.reset(**kwargs)
            if self.fire_action is not None:
                observation, _, terminated, truncated, info = self.env.step(self.fire_action)
                if terminated or truncated:
                    observation, info = self.env.reset()
            return observation, info

    class MaxAndSkip(gym.Wrapper):
        """Repeat each action for ``frame_skip`` frames; the frame is the max of the last two (Mnih et al. 2015).

        The rewards of the repeated frames are summed and kept raw. The max removes the flicker
        of sprites the Atari draws only every other frame. An episode that ends within the
        repeat stops it there.
        """

        def __init__(self, env, frame_skip: int = 4, max_pool: bool = True):
            super().__init__(env)
            self.frame_skip = frame_skip
            self.max_pool = max_pool

        def step(self, action):
            total_reward, last_frames = 0.0, []
            for repeat in range(self.frame_skip):
                observation, reward, terminated, truncated, info = self.env.step(action)
                total_reward += float(reward)
                if repeat >= self.frame_skip - 2:
                    last_frames.append(observation)
                if terminated or truncated:
                    break
            if self.max_pool and len(last_frames) == 2:
                observation = np.maximum(last_frames[0], last_frames[1])
            return observation, total_reward, terminated, truncated, info

    class ResizeFrame(gym.ObservationWrapper):
        """Rescale the grayscale screen to ``frame_size`` x ``frame_size`` uint8 (Mnih et al. 2015: 84x84).

        OpenCV's INTER_AREA averages the pixels each output pixel covers, as ale-py's C++
        preprocessing does.
        """

        def __init__(self, env, frame_size: int = 84):
            super().__init__(env)
            self.frame_size = frame_size
            self.observation_space = gym.spaces.Box(0, 255, (frame_size, frame_size), np.uint8)

        def observation(self, observation):
            cv2 = _require("cv2")
            if observation.shape == (self.frame_size, self.frame_size):
                return observation
            return cv2.resize(observation, (self.frame_size, self.frame_size), interpolation=cv2.INTER_AREA)

    for cls in (NoopStart, MaxAndSkip, ResizeFrame, FireReset):
        cls.__qualname__ = cls.__name__
        cls.__module__ = __name__
        _wrapper_classes[cls.__name__] = cls
    return _wrapper_classes


def __getattr__(name: str):
    """The wrapper classes (``env.NoopStart`` ...) are built when first asked for."""
    if name in WRAPPERS:
        return _build_wrappers()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_raw_atari_env(settings: EnvSettings, render_mode: str | None = None):
    """The bare ALE game with one emulator frame per step and grayscale screens (no preprocessing)."""
    ale_env = _require("ale_py.env")
    return ale_env.AtariEnv(
        game=rom_id(settings.game),
        obs_type="grayscale",
        frameskip=1,
        repeat_action_probability=settings.sticky_action_prob,
        full_action_space=settings.full_action_space,
        max_num_frames_per_episode=settings.max_episode_frames,
        render_mode=render_mode,
    )


def make_atari_env(settings: EnvSettings, render_mode: str | None = None):
    """One game with the paper's preprocessing: no-op start, (FIRE), 4-frame max-and-skip, 84x84."""
    wrappers = _build_wrappers()
    env = make_raw_atari_env(settings, render_mode)
    if settings.fire_reset:
        env = wrappers["FireReset"](env)
    env = wrappers["NoopStart"](env, settings.noop_max)
    env = wrappers["MaxAndSkip"](env, settings.frame_skip, settings.max_pool)
    return wrappers["ResizeFrame"](env, settings.frame_size)


def _make_python_env(settings: EnvSettings, render_mode: str | None = None):
    """One environment of the python backends (module level, so subprocesses can unpickle it)."""
    kind, canonical = normalize_game(settings.game)
    if kind == "gymnasium":
        return _require("gymnasium").make(canonical, render_mode=render_mode)
    return make_atari_env(settings, render_mode)


# --------------------------------------------------------------------------------------- vector envs
class AtariVectorEnvironment:
    """``num_envs`` environments stepped at once, each reset in the same step its episode ends.

    ``reset() -> (frames, lives)``; ``step(actions) -> (frames, rewards, terminated, truncated,
    lives)`` with frames ``[N, *frame_shape]``, rewards float32 (raw), terminated/truncated bool
    (the real episode: game over or time limit, never a life loss) and lives int32 (0 for games
    without lives). Where an episode ended, ``frames[i]`` and ``lives[i]`` are already those of
    the next episode after its no-op start. Environment ``i`` is seeded ``seed + i``.
    """

    def __init__(self, settings: EnvSettings, num_envs: int, seed: int):
        _check_settings(settings)
        if num_envs < 1:
            raise ConvsuiteError(f"num_envs is {num_envs}; it must be at least 1")
        self.settings = settings
        self.num_envs = num_envs
        self.seed = int(seed)
        self.kind, self.game = normalize_game(settings.game)
        self.backend = settings.backend if self.kind == "atari" else (
            "python-async" if settings.backend == "python-async" else "python")
        self._seeded = False
        gym = _require("gymnasium")
        if self.kind == "atari" and self.backend == "ale":
            vector_env = _require("ale_py.vector_env")
            self._env = vector_env.AtariVectorEnv(
                _rom_ids()[self.game], num_envs,
                stack_num=1, autoreset_mode="SameStep", reward_clipping=False, episodic_life=False,
                use_fire_reset=settings.fire_reset, noop_max=settings.noop_max, frameskip=settings.frame_skip,
                maxpool=settings.max_pool, img_height=settings.frame_size, img_width=settings.frame_size,
                repeat_action_probability=settings.sticky_action_prob,
                full_action_space=settings.full_action_space,
                max_num_frames_per_episode=settings.max_episode_frames)
            self.frame_shape = (settings.frame_size, settings.frame_size)
            self.frame_dtype = np.dtype(np.uint8)
        else:
            env_fns = [functools.partial(_make_python_env, settings) for _ in range(num_envs)]
            same_step = gym.vector.AutoresetMode.SAME_STEP
            if self.backend == "python-async":
                self._env = gym.vector.AsyncVectorEnv(env_fns, context="forkserver", autoreset_mode=same_step)
            else:
                self._env = gym.vector.SyncVectorEnv(env_fns, autoreset_mode=same_step)
            space = self._env.single_observation_space
            self.frame_shape = tuple(space.shape)
            self.frame_dtype = np.dtype(np.uint8 if self.kind == "atari" else np.float32)
        self.action_meanings = _action_meanings(self.kind, settings)
        self.num_actions = int(self._env.single_action_space.n)

    def _frames(self, observations) -> np.ndarray:
        if self.backend == "ale":
            observations = observations[:, 0]  # stack_num=1: [N, 1, H, W] -> [N, H, W]
        return np.array(observations, dtype=self.frame_dtype)

    def _lives(self, info) -> np.ndarray:
        if "lives" not in info:
            return np.zeros(self.num_envs, np.int32)
        return np.asarray(info["lives"], dtype=np.int32)

    def reset(self, seed: int | None = None):
        """Start a new episode in every environment; the first reset uses the constructor's seed."""
        if seed is None and not self._seeded:
            seed = self.seed
        self._seeded = True
        observations, info = self._env.reset(seed=seed)
        return self._frames(observations), self._lives(info)

    def step(self, actions):
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or not np.issubdtype(actions.dtype, np.integer):
            raise ConvsuiteError(f"actions must be {self.num_envs} integers, one per environment; got shape "
                                 f"{actions.shape} of {actions.dtype}")
        observations, rewards, terminated, truncated, info = self._env.step(actions.astype(np.int64))
        return (self._frames(observations), np.asarray(rewards, np.float32), np.asarray(terminated, bool),
                np.asarray(truncated, bool), self._lives(info))

    def close(self):
        self._env.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _action_meanings(kind: str, settings: EnvSettings) -> list[str]:
    if kind == "gymnasium":
        env = _make_python_env(settings)
        try:
            return [str(action) for action in range(env.action_space.n)]
        finally:
            env.close()
    env = make_raw_atari_env(settings)
    try:
        return list(env.get_action_meanings())
    finally:
        env.close()


def make_vector_env(settings: EnvSettings, num_envs: int, seed: int) -> AtariVectorEnvironment:
    """``num_envs`` preprocessed environments of ``settings.backend``, env ``i`` seeded ``seed + i``."""
    return AtariVectorEnvironment(settings, num_envs, seed)


# ------------------------------------------------------------------------------------------ play env
class PlayEnvironment:
    """One preprocessed environment for playing and recording (the python wrappers, no vector).

    ``reset() -> (frame, lives)``, ``step(action) -> (frame, reward, terminated, truncated,
    lives)`` as the vector interface for one environment, except that nothing resets by itself:
    after an episode ends, the current screen is still its last one, and the caller resets.
    ``rgb_frame()`` is the full-colour screen (210x160x3 for Atari) to record.
    """

    def __init__(self, settings: EnvSettings, seed: int, render: bool = True):
        _check_settings(settings)
        self.settings = settings
        self.seed = int(seed)
        self.kind, self.game = normalize_game(settings.game)
        self._render = render
        self._env = _make_python_env(settings, "rgb_array" if render else None)
        self._seeded = False
        self.num_actions = int(self._env.action_space.n)
        self.frame_shape = tuple(self._env.observation_space.shape)
        self.frame_dtype = np.dtype(np.uint8 if self.kind == "atari" else np.float32)
        self.action_meanings = (list(self._env.unwrapped.get_action_meanings()) if self.kind == "atari"
                                else [str(action) for action in range(self.num_actions)])

    def reset(self, seed: int | None = None):
        if seed is None and not self._seeded:
            seed = self.seed
        self._seeded = True
        observation, info = self._env.reset(seed=seed)
        return np.asarray(observation, self.frame_dtype), np.int32(info.get("lives", 0))

    def step(self, action: int):
        observation, reward, terminated, truncated, info = self._env.step(int(action))
        return (np.asarray(observation, self.frame_dtype), np.float32(reward), bool(terminated), bool(truncated),
                np.int32(info.get("lives", 0)))

    def rgb_frame(self) -> np.ndarray:
        """The current screen in colour, uint8 [height, width, 3]."""
        if self.kind == "atari":
            return self._env.unwrapped.ale.getScreenRGB()
        if not self._render:
            raise ConvsuiteError(f"{self.game} was made with render=False; make it with render=True to record it")
        try:
            return self._env.render()
        except _require("gymnasium").error.DependencyNotInstalled as error:
            raise ConvsuiteError(f"rendering {self.game} needs pygame ({error}); run "
                                 "`.venv/bin/pip install pygame` to record it") from error

    def close(self):
        self._env.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def make_play_env(settings: EnvSettings, seed: int, render: bool = True) -> PlayEnvironment:
    """One environment with the same preprocessing as training, to play, watch or record."""
    return PlayEnvironment(settings, seed, render)
