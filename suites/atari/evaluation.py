"""The evaluation protocol of Mnih et al. 2015 ("Evaluation procedure", Methods).

The trained agent plays each game 30 times, each episode starting with a random number (0 to 30)
of no-op actions and lasting up to 5 minutes of play (18,000 emulator frames at 60 frames/s), with
an epsilon-greedy policy at epsilon 0.05; the score is the game's own (unclipped) score of the
whole game: a lost life does not end an episode. The random-play baseline is the uniform random
policy under the same protocol.

``evaluate_policy`` plays exactly ``episodes`` episodes on ``num_envs`` environments at once. Each
environment plays a fixed quota decided up front and its later episodes are thrown away, so the
result does not favour short episodes (taking the first ``episodes`` to finish would).

NumPy only: the Q function is any callable from states to Q values, so this module imports no
Keras.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from convsuite.common.errors import ConvsuiteError

FRAMES_PER_SECOND = 60  # the Atari 2600 runs at 60 frames per second


def epsilon_greedy(q_values: np.ndarray | None, epsilon: float, num_actions: int, rng: np.random.Generator,
                   count: int | None = None) -> np.ndarray:
    """One action per row: uniform random with probability ``epsilon``, else the arg max of its Q values
    (``q_values`` None: all random, ``count`` rows). The random draws come first, then the coin flips,
    so a seeded generator gives the same actions whatever the Q values."""
    count = len(q_values) if q_values is not None else int(count)
    random_actions = rng.integers(0, num_actions, size=count)
    if q_values is None:
        return random_actions.astype(np.int64)
    explore = rng.random(count) < epsilon
    return np.where(explore, random_actions, np.argmax(q_values, axis=-1)).astype(np.int64)


def episode_frames(max_minutes: float) -> int:
    """Emulator frames in ``max_minutes`` of play at 60 frames/s (the paper's 5 minutes: 18,000)."""
    if not max_minutes > 0:
        raise ConvsuiteError(f"evaluation.max_minutes is {max_minutes}; an evaluation episode needs more than 0 "
                             "minutes of play (the paper: 5)")
    return max(1, round(max_minutes * 60 * FRAMES_PER_SECOND))


def evaluation_settings(settings, max_minutes: float = 5.0):
    """The training run's environment settings with episodes cut after ``max_minutes`` of play: the same
    no-op starts, frame skip, sticky actions and preprocessing as in training."""
    return dataclasses.replace(settings, max_episode_frames=episode_frames(max_minutes))


def episode_quotas(episodes: int, num_envs: int) -> list[int]:
    """``episodes`` split as evenly as possible over at most ``num_envs`` environments (none gets 0)."""
    if episodes < 1:
        raise ConvsuiteError(f"an evaluation needs at least 1 episode, got {episodes}")
    if num_envs < 1:
        raise ConvsuiteError(f"an evaluation needs at least 1 environment, got num_envs={num_envs}")
    used = min(episodes, num_envs)
    base, extra = divmod(episodes, used)
    return [base + 1 if i < extra else base for i in range(used)]


@dataclass
class EvaluationResult:
    """Scores of the episodes an evaluation kept, in the order the environments finished them."""

    returns: np.ndarray  # float64 [episodes]: the raw game score of each episode
    lengths: np.ndarray  # int64 [episodes]: agent steps (actions) of each episode
    frame_skip: int = 1  # emulator frames per agent step (1 for environments without frame skip)

    @property
    def episodes(self) -> int:
        return int(len(self.returns))

    @property
    def mean(self) -> float:
        return float(np.mean(self.returns))

    @property
    def std(self) -> float:
        """Standard deviation over episodes (the paper's "± std")."""
        return float(np.std(self.returns))

    @property
    def frames(self) -> int:
        """Emulator frames the kept episodes' actions played (no-op starts not counted)."""
        return int(np.sum(self.lengths)) * int(self.frame_skip)

    def as_metrics(self, prefix: str) -> dict:
        return {f"{prefix}_mean_return": self.mean, f"{prefix}_std_return": self.std,
                f"{prefix}_returns": [float(r) for r in self.returns], f"{prefix}_episodes": self.episodes}


def evaluate_policy(q_function, settings, *, episodes: int, epsilon: float, stack: int, max_minutes: float = 5.0,
                    num_envs: int = 8, seed: int = 0, progress: bool = False) -> EvaluationResult:
    """Play exactly ``episodes`` episodes under the paper's protocol; return their raw scores.

    Args:
        q_function: ``states [n, stack, *frame_shape] -> Q values [n, num_actions]`` (NumPy), or None for
            the uniform random policy (the paper's random-play baseline).
        settings: the training run's ``env.EnvSettings``; episodes are cut after ``max_minutes`` of play,
            everything else is kept (no-op starts, frame skip, sticky actions, preprocessing).
        episodes: episodes to play (the paper: 30).
        epsilon: exploration rate of the epsilon-greedy policy (the paper: 0.05).
        stack: frames in a state (the network's agent history, the paper: 4); zero padded at the start.
        max_minutes: longest episode at 60 frames/s (the paper: 5 minutes).
        num_envs: environments played at once; environment ``i`` is seeded ``seed + i``.
        seed: seeds the environments and the policy's random draws.
        progress: draw a bar of finished episodes (on a terminal).
    """
    from convsuite.common.progress import counter_bar
    from convsuite.suites.atari.env import make_vector_env
    from convsuite.suites.atari.replay import FrameStacker

    if not 0.0 <= epsilon <= 1.0:
        raise ConvsuiteError(f"evaluation epsilon is {epsilon}; it must be in [0, 1] (the paper: 0.05)")
    quotas = np.asarray(episode_quotas(int(episodes), int(num_envs)))
    env = make_vector_env(evaluation_settings(settings, max_minutes), len(quotas), seed)
    rng = np.random.default_rng(seed)
    returns: list[float] = []
    lengths: list[int] = []
    try:
        stacker = FrameStacker(env.num_envs, stack, env.frame_shape, env.frame_dtype)
        frames, _ = env.reset()
        states = stacker.push(frames, starts=np.ones(env.num_envs, bool))
        finished = np.zeros(env.num_envs, np.int64)
        episode_return = np.zeros(env.num_envs, np.float64)
        episode_length = np.zeros(env.num_envs, np.int64)
        with counter_bar(total=int(episodes), enabled=progress, desc="evaluation", unit="episode") as bar:
            while (finished < quotas).any():
                actions = _act(q_function, states, finished < quotas, epsilon, env.num_actions, rng)
                frames, rewards, terminated, truncated, _ = env.step(actions)
                episode_return += rewards
                episode_length += 1
                ended = terminated | truncated
                for i in np.flatnonzero(ended):
                    if finished[i] < quotas[i]:
                        returns.append(float(episode_return[i]))
                        lengths.append(int(episode_length[i]))
                        bar.update(1)
                    finished[i] += 1
                episode_return[ended] = 0.0
                episode_length[ended] = 0
                states = stacker.push(frames, starts=ended)
    finally:
        env.close()
    frame_skip = settings.frame_skip if getattr(env, "kind", "atari") == "atari" else 1
    return EvaluationResult(np.asarray(returns, np.float64), np.asarray(lengths, np.int64), frame_skip)


def _act(q_function, states: np.ndarray, active: np.ndarray, epsilon: float, num_actions: int,
         rng: np.random.Generator) -> np.ndarray:
    """Epsilon-greedy actions of the environments still short of their quota; NOOP (0) for the others,
    whose episodes are discarded (their Q values are not computed)."""
    actions = np.zeros(len(states), np.int64)
    rows = np.flatnonzero(active)
    if q_function is None:
        actions[rows] = epsilon_greedy(None, 1.0, num_actions, rng, count=len(rows))
        return actions
    q_values = np.asarray(q_function(states[rows]))
    if q_values.shape != (len(rows), num_actions):
        raise ConvsuiteError(f"the Q function gave values of shape {list(q_values.shape)} for {len(rows)} states; "
                             f"the game has {num_actions} actions, so it must give [{len(rows)}, {num_actions}] "
                             "(was the network trained on another game or action set?)")
    actions[rows] = epsilon_greedy(q_values, epsilon, num_actions, rng)
    return actions
