"""The replay memory of DQN (Mnih et al., "Human-level control through deep reinforcement learning",
Nature 518, 2015) with each frame stored once, and the frame stacker the acting side uses.

The paper's agent sees the last 4 preprocessed frames. Storing the 4-frame states of every
transition would hold each frame 8 times (4 in the state, 4 in the next state); here a row holds
one frame -- the newest frame of the state the env acted in -- with its action, clipped reward,
terminal and episode-boundary flags, and the stacks are rebuilt when a batch is sampled. One
million 84x84 transitions then take 7.1 GB instead of 56 GB.

Each env writes its own ring of ``ceil(capacity / num_envs)`` rows; all envs step together, so
one cursor serves every ring. A state is the last ``stack`` frames of the same training episode,
oldest first, zero where a position lies before the episode's first frame (the same rule as
:class:`FrameStacker`, so acting and learning see identical stacks). A row is sampled only when
its transition is complete: its next frame is stored (or the row is terminal, where the next
state does not matter), it was not cut by a truncation (its next frame is unknown), and the ring
has not overwritten the frames its stack needs.

Imports no Keras: the training loop's data side stays on NumPy.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from convsuite.common.errors import ConvsuiteError

ARRAY_NAMES = ("frames", "actions", "rewards", "terminals", "boundaries", "oldest_starts_episode")
VALUE_NAMES = ("cursor", "size", "rows_added")
MARGIN_FRACTION = 0.10  # headroom on top of the buffer (allocator slack, sampled batches)
PROCESS_BYTES = 1 << 30  # the rest of the process: the framework, the networks, the envs
_REDRAW_ROUNDS = 32  # rejection rounds before drawing exactly from the list of valid rows
_PER_ROW_BYTES = 4 + 4 + 1 + 1  # action int32, reward float32, terminal and boundary flags


def _frame_bytes(frame_shape, frame_dtype) -> int:
    return int(np.prod(frame_shape, dtype=np.int64)) * np.dtype(frame_dtype).itemsize


def _shape_text(frame_shape) -> str:
    return "x".join(str(n) for n in frame_shape) if frame_shape else "scalar"


def _gigabytes(count: int) -> str:
    return f"{count / 1e9:.1f} GB"


class ReplayMemory:
    """Transitions of ``num_envs`` parallel envs, ``capacity`` in all, each frame stored once.

    Args:
        capacity: transitions kept (split evenly over the envs, rounded up).
        num_envs: envs writing one row each per :meth:`add`.
        frame_shape: one preprocessed frame, e.g. ``(84, 84)`` or ``(4,)`` for CartPole.
        frame_dtype: ``uint8`` for Atari frames, ``float32`` for vector observations.
        stack: frames per state (the paper's m = 4).

    ``arrays`` holds the NumPy arrays to checkpoint, written in place by :meth:`add`: ``frames``
    [num_envs, rows_per_env, *frame_shape], ``actions``, ``rewards``, ``terminals``, ``boundaries``
    [num_envs, rows_per_env] and ``oldest_starts_episode`` [num_envs]; ``values`` the counters
    (plain ints: read it when saving); :meth:`load` re-attaches both after a restore.
    """

    def __init__(self, capacity: int, num_envs: int, frame_shape, frame_dtype=np.uint8, stack: int = 4):
        self.num_envs, self.stack = int(num_envs), int(stack)
        self.frame_shape = tuple(int(n) for n in frame_shape)
        self.frame_dtype = np.dtype(frame_dtype)
        self.rows_per_env = _rows_per_env(capacity, num_envs, stack)
        self.capacity = self.rows_per_env * self.num_envs
        shape = (self.num_envs, self.rows_per_env)
        # np.zeros maps untouched pages lazily: memory is committed as the rings fill.
        self.arrays: dict[str, np.ndarray] = {
            "frames": np.zeros(shape + self.frame_shape, self.frame_dtype),
            "actions": np.zeros(shape, np.int32),
            "rewards": np.zeros(shape, np.float32),
            "terminals": np.zeros(shape, bool),
            "boundaries": np.zeros(shape, bool),
            # Whether each env's oldest kept row starts a training episode: the boundary flag of
            # the row the ring overwrote last (the first row ever written starts one).
            "oldest_starts_episode": np.ones(self.num_envs, bool),
        }
        self._rows_added = 0
        self._truncated_rows = 0  # rows ending in a truncation: never sampled

    # ------------------------------------------------------------------ sizes

    @staticmethod
    def required_bytes(capacity: int, num_envs: int, frame_shape, frame_dtype=np.uint8, stack: int = 4) -> int:
        """Bytes the filled memory holds (frames once each plus the per-row fields); ``stack``
        does not change it, stacks are rebuilt per batch."""
        rows = _rows_per_env(capacity, num_envs, stack) * int(num_envs)
        return rows * (_frame_bytes(frame_shape, frame_dtype) + _PER_ROW_BYTES) + int(num_envs)  # + one flag per env

    @property
    def cursor(self) -> int:
        """The ring row the next :meth:`add` writes (the same in every env)."""
        return self._rows_added % self.rows_per_env

    @property
    def size(self) -> int:
        """Rows written per env (at most ``rows_per_env``)."""
        return min(self._rows_added, self.rows_per_env)

    def __len__(self) -> int:
        return self.size * self.num_envs

    @property
    def values(self) -> dict:
        """The counters to checkpoint, as plain ints (a fresh dict: read it right before saving)."""
        return {"cursor": self.cursor, "size": self.size, "rows_added": self._rows_added}

    # ------------------------------------------------------------------ writing

    def add(self, frames, actions, rewards, terminals, boundaries) -> None:
        """Write one row per env: the newest frame of the state each env acted in, its action, the
        (clipped) reward, the training terminal (game over or life loss) and the boundary (the
        training episode ended after this action: terminal or truncated)."""
        frames = self._checked_frames(frames)
        actions = _checked_vector(actions, "actions", self.num_envs)
        if not np.issubdtype(actions.dtype, np.integer):
            raise ConvsuiteError(f"replay actions must be integers, got dtype {actions.dtype}")
        if actions.size and actions.min() < 0:
            raise ConvsuiteError(f"replay actions must be >= 0, got {actions.tolist()}")
        rewards = _checked_vector(rewards, "rewards", self.num_envs)
        if not np.issubdtype(rewards.dtype, np.number) or not np.all(np.isfinite(rewards)):
            raise ConvsuiteError(f"replay rewards must be finite numbers, got {rewards.tolist()}")
        terminals = _checked_flags(terminals, "terminals", self.num_envs)
        boundaries = _checked_flags(boundaries, "boundaries", self.num_envs)
        if np.any(terminals & ~boundaries):
            raise ConvsuiteError(f"a terminal row must also be an episode boundary (terminals {terminals.tolist()}, "
                                 f"boundaries {boundaries.tolist()}); pass boundaries = terminals | truncated")
        row = self.cursor
        if self._rows_added >= self.rows_per_env:  # the ring overwrites this row
            old = self.arrays
            old["oldest_starts_episode"][:] = old["boundaries"][:, row]
            self._truncated_rows -= int(np.count_nonzero(old["boundaries"][:, row] & ~old["terminals"][:, row]))
        self.arrays["frames"][:, row] = frames
        self.arrays["actions"][:, row] = actions
        self.arrays["rewards"][:, row] = rewards
        self.arrays["terminals"][:, row] = terminals
        self.arrays["boundaries"][:, row] = boundaries
        self._truncated_rows += int(np.count_nonzero(boundaries & ~terminals))
        self._rows_added += 1

    def _checked_frames(self, frames) -> np.ndarray:
        frames = np.asarray(frames)
        expected = (self.num_envs,) + self.frame_shape
        if frames.shape != expected:
            raise ConvsuiteError(f"replay frames must have shape {list(expected)} (one {_shape_text(self.frame_shape)} "
                                 f"frame per env, not a stack), got {list(frames.shape)}")
        if np.issubdtype(self.frame_dtype, np.integer):
            if frames.dtype != self.frame_dtype:
                raise ConvsuiteError(f"replay frames must be {self.frame_dtype} like the memory, got {frames.dtype}; "
                                     "store the preprocessed frames unscaled")
        elif not np.can_cast(frames.dtype, self.frame_dtype, "same_kind"):
            raise ConvsuiteError(f"replay frames of dtype {frames.dtype} cannot be stored as {self.frame_dtype}")
        elif np.issubdtype(frames.dtype, np.floating) and not np.all(np.isfinite(frames)):
            bad = np.flatnonzero(~np.isfinite(frames.reshape(self.num_envs, -1)).all(axis=1)).tolist()
            raise ConvsuiteError(f"replay frames of envs {bad} hold NaN or infinite values; check the environment's "
                                 "observations")
        return frames

    # ------------------------------------------------------------------ sampling

    def _positions(self, rows):
        """Ring positions of logical rows (0 = the oldest kept row; may be negative or past the newest)."""
        oldest = self.cursor if self._rows_added >= self.rows_per_env else 0
        return (oldest + rows) % self.rows_per_env

    def _valid(self, envs, rows) -> np.ndarray:
        """Which (env, logical row) pairs hold a complete transition whose stacks are all stored."""
        terminals, boundaries = self.arrays["terminals"], self.arrays["boundaries"]
        positions = self._positions(rows)
        terminal = terminals[envs, positions]
        valid = terminal | ~boundaries[envs, positions]  # a truncated row's next frame is unknown
        valid &= terminal | (rows < self.size - 1)  # the newest row's next frame is not there yet
        if self.stack > 1:
            # The rows before logical row 0 are gone (or were never written): a stack reaching
            # past it is complete only if its episode starts at row 0 or later.
            reaches_back = rows < self.stack - 1
            cut = self.arrays["oldest_starts_episode"][envs].copy()
            for back in range(1, self.stack - 1 + 1):
                earlier = rows - back
                cut |= (earlier >= 0) & boundaries[envs, self._positions(earlier)]
            valid &= ~reaches_back | cut
        return valid

    def _edge_rows(self):
        """The rows whose validity is not just 'not truncated': the stack-1 oldest and the newest, per env."""
        rows = np.unique(np.concatenate([np.arange(min(self.stack - 1, self.size)), [self.size - 1]]))
        envs = np.repeat(np.arange(self.num_envs), rows.size)
        return envs, np.tile(rows, self.num_envs)

    def num_valid(self) -> int:
        """Transitions that :meth:`sample` can draw (O(num_envs * stack), no scan of the memory)."""
        if self.size == 0:
            return 0
        envs, rows = self._edge_rows()
        positions = self._positions(rows)
        edge_truncated = int(np.count_nonzero(self.arrays["boundaries"][envs, positions]
                                              & ~self.arrays["terminals"][envs, positions]))
        inner = len(self) - rows.size - (self._truncated_rows - edge_truncated)
        return inner + int(np.count_nonzero(self._valid(envs, rows)))

    def can_sample(self, batch_size: int) -> bool:
        """Whether at least ``batch_size`` complete transitions are stored."""
        return self.num_valid() >= batch_size

    def _draw(self, batch_size: int, rng: np.random.Generator):
        """Uniform (env, logical row) pairs among the valid rows: draw, then redraw the invalid ones;
        after a bounded number of rounds draw exactly from the list of valid rows."""
        envs = np.empty(batch_size, np.int64)
        rows = np.empty(batch_size, np.int64)
        pending = np.arange(batch_size)
        for _ in range(_REDRAW_ROUNDS):
            flat = rng.integers(0, len(self), size=pending.size)
            envs[pending], rows[pending] = np.divmod(flat, self.size)
            pending = pending[~self._valid(envs[pending], rows[pending])]
            if pending.size == 0:
                return envs, rows
        all_envs, all_rows = np.divmod(np.arange(len(self)), self.size)
        candidates = np.flatnonzero(self._valid(all_envs, all_rows))
        chosen = candidates[rng.integers(0, candidates.size, size=pending.size)]
        envs[pending], rows[pending] = all_envs[chosen], all_rows[chosen]
        return envs, rows

    def _stacks(self, envs, newest_rows) -> np.ndarray:
        """The ``stack`` frames ending at ``newest_rows``, oldest first; a position at or before a
        boundary row (or before the first row written) belongs to an earlier episode: zeros."""
        frames, boundaries = self.arrays["frames"], self.arrays["boundaries"]
        rows = newest_rows[:, None] - np.arange(self.stack - 1, -1, -1)  # [B, stack], oldest first
        positions = self._positions(rows)
        envs = envs[:, None]
        # A position is kept while no boundary lies between it and the newest row.
        cut = (rows < 0) | boundaries[envs, positions]
        cut[:, -1] = False
        earlier_episode = np.flip(np.logical_or.accumulate(np.flip(cut, axis=1), axis=1), axis=1)
        stacks = frames[envs, positions]  # one gather of all B * stack frames
        stacks[earlier_episode] = 0
        return stacks

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """A uniform batch of complete transitions: ``state`` and ``next_state`` [B, stack, *frame_shape]
        (``next_state`` is zeros where ``done``: it is not used there), ``action`` int32, ``reward``
        float32 and ``done`` float32 (1.0 at training terminals), all [B]. Deterministic for ``rng``."""
        if not isinstance(rng, np.random.Generator):
            raise ConvsuiteError(f"replay sampling needs a numpy.random.Generator, got {type(rng).__name__}")
        batch_size = int(batch_size)
        if batch_size < 1:
            raise ConvsuiteError(f"replay batch size must be at least 1, got {batch_size}")
        if self.num_valid() == 0:
            raise ConvsuiteError(f"the replay memory holds no complete transition yet ({len(self)} rows stored); "
                                 "add more steps before sampling (agent.learning_starts)")
        envs, rows = self._draw(batch_size, rng)
        positions = self._positions(rows)
        done = self.arrays["terminals"][envs, positions]
        state = self._stacks(envs, rows)
        next_state = self._stacks(envs, rows + 1)
        next_state[done] = 0
        return {
            "state": state,
            "action": self.arrays["actions"][envs, positions].astype(np.int32),
            "reward": self.arrays["rewards"][envs, positions].astype(np.float32),
            "next_state": next_state,
            "done": done.astype(np.float32),
        }

    # ------------------------------------------------------------------ checkpoints

    def load(self, arrays: dict, values: dict) -> None:
        """Attach checkpointed ``arrays`` (these objects, no copy) and counters ``values`` (extra
        keys in either dict are ignored). Call :meth:`end_episodes` next when the envs restart."""
        missing = [name for name in ARRAY_NAMES if name not in arrays] + \
                  [name for name in VALUE_NAMES if name not in values]
        if missing:
            raise ConvsuiteError(f"the checkpoint lacks the replay memory's {missing}; resume with the config the run "
                                 "was started with or start a new run")
        for name in ARRAY_NAMES:
            current, restored = self.arrays[name], arrays[name]
            if not isinstance(restored, np.ndarray) or restored.shape != current.shape \
                    or restored.dtype != current.dtype:
                got = f"{restored.dtype}{list(restored.shape)}" if isinstance(restored, np.ndarray) \
                    else type(restored).__name__
                raise ConvsuiteError(f"checkpointed replay array {name!r} is {got} but this memory holds "
                                     f"{current.dtype}{list(current.shape)}; resume with the run's agent.replay_size "
                                     "and env settings")
        rows_added, cursor, size = (int(values[name]) for name in ("rows_added", "cursor", "size"))
        if rows_added < 0 or cursor != rows_added % self.rows_per_env or size != min(rows_added, self.rows_per_env):
            raise ConvsuiteError(f"checkpointed replay counters disagree (cursor {cursor}, size {size}, rows_added "
                                 f"{rows_added} for {self.rows_per_env} rows per env); the checkpoint is damaged")
        for name in ARRAY_NAMES:
            self.arrays[name] = arrays[name]
        self._rows_added = rows_added
        kept = self._positions(np.arange(self.size))
        self._truncated_rows = int(np.count_nonzero(self.arrays["boundaries"][:, kept]
                                                    & ~self.arrays["terminals"][:, kept]))

    def end_episodes(self) -> None:
        """Mark each env's newest row as ending its training episode (truncated unless terminal):
        after a restore the envs restart, so those rows' next frames are never stored and the next
        row starts a new episode."""
        if self.size == 0:
            return
        row = self._positions(np.int64(self.size - 1))
        truncated_before = np.count_nonzero(self.arrays["boundaries"][:, row] & ~self.arrays["terminals"][:, row])
        self.arrays["boundaries"][:, row] = True
        self._truncated_rows += int(np.count_nonzero(~self.arrays["terminals"][:, row]) - truncated_before)


def _rows_per_env(capacity, num_envs, stack) -> int:
    capacity, num_envs, stack = int(capacity), int(num_envs), int(stack)
    if num_envs < 1:
        raise ConvsuiteError(f"the replay memory needs at least 1 env, got num_envs={num_envs}")
    if stack < 1:
        raise ConvsuiteError(f"the frame stack must be at least 1, got {stack}")
    rows = math.ceil(capacity / num_envs) if capacity > 0 else 0
    if rows < stack + 1:
        raise ConvsuiteError(f"agent.replay_size {capacity} over {num_envs} envs leaves {rows} rows per env, fewer "
                             f"than the {stack + 1} a {stack}-frame transition needs; raise agent.replay_size")
    return rows


def _checked_vector(values, name: str, num_envs: int) -> np.ndarray:
    values = np.asarray(values)
    if values.shape != (num_envs,):
        raise ConvsuiteError(f"replay {name} must have shape [{num_envs}] (one per env), got {list(values.shape)}")
    return values


def _checked_flags(values, name: str, num_envs: int) -> np.ndarray:
    values = _checked_vector(values, name, num_envs)
    if values.dtype != bool:
        if not np.issubdtype(values.dtype, np.integer) or not np.isin(values, (0, 1)).all():
            raise ConvsuiteError(f"replay {name} must be booleans, got {values.tolist()} ({values.dtype})")
        values = values.astype(bool)
    return values


# ---------------------------------------------------------------------- memory check

def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except (OSError, ValueError):
        return None
    return int(text) if text.isdigit() else None  # "max" (no limit) -> None


def available_memory_bytes() -> int | None:
    """Memory this process can still take: MemAvailable from /proc/meminfo, or the container's
    cgroup limit minus its usage when that is lower (v2 memory.max, v1 limit_in_bytes); None when
    neither can be read (not Linux)."""
    candidates = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                candidates.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    cgroup = Path("/sys/fs/cgroup")
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        limit = _read_int(cgroup / limit_file)
        if limit is not None and limit < (1 << 60):  # v1 reports "no limit" as a huge number
            candidates.append(max(0, limit - (_read_int(cgroup / usage_file) or 0)))
    if not candidates:
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return None
    return min(candidates)


def check_replay_fits(capacity: int, num_envs: int, frame_shape, frame_dtype=np.uint8, stack: int = 4,
                      available: int | None = None) -> int:
    """Refuse, before allocating, a replay memory that would not fit once filled: it needs its
    size plus 10% plus 1 GiB for the rest of the process. Returns the memory's bytes."""
    needed = ReplayMemory.required_bytes(capacity, num_envs, frame_shape, frame_dtype, stack)
    if available is None:
        available = available_memory_bytes()
        if available is None:
            return needed
    if needed * (1 + MARGIN_FRACTION) + PROCESS_BYTES <= available:
        return needed
    per_transition = _frame_bytes(frame_shape, frame_dtype) + _PER_ROW_BYTES
    fitting = int((available - PROCESS_BYTES) / (1 + MARGIN_FRACTION) / per_transition)
    frames = f"{_shape_text(frame_shape)} {np.dtype(frame_dtype)} frames"
    advice = "free memory"
    if fitting >= 1:
        digits = max(0, len(str(fitting)) - 2)  # two significant figures, rounded down
        advice = f"lower agent.replay_size (e.g. to {fitting // 10 ** digits * 10 ** digits}) or free memory"
    raise ConvsuiteError(f"a replay memory of {int(capacity):,} transitions of {frames} needs {_gigabytes(needed)} "
                         f"but {_gigabytes(available)} of memory are available (with 10% and 1 GiB to spare for the "
                         f"rest of the run); {advice}")


# ---------------------------------------------------------------------- acting side

class FrameStacker:
    """The acting states of ``num_envs`` envs: the last ``stack`` frames of each env's current
    training episode, oldest first, zeros before the episode's first frame -- the stacks
    :meth:`ReplayMemory.sample` rebuilds for the same rows."""

    def __init__(self, num_envs: int, stack: int, frame_shape, dtype=np.uint8):
        if int(num_envs) < 1 or int(stack) < 1:
            raise ConvsuiteError(f"a frame stacker needs num_envs >= 1 and stack >= 1, got {num_envs} and {stack}")
        self.num_envs, self.stack = int(num_envs), int(stack)
        self.frame_shape = tuple(int(n) for n in frame_shape)
        self.dtype = np.dtype(dtype)
        self._states = np.zeros((self.num_envs, self.stack) + self.frame_shape, self.dtype)

    @property
    def states(self) -> np.ndarray:
        """The current states [num_envs, stack, *frame_shape] (updated in place by :meth:`push`)."""
        return self._states

    def push(self, frames, starts=None) -> np.ndarray:
        """Append each env's newest frame; where ``starts[i]`` the frame is an episode's first and
        the older positions of env i become zeros. Returns a copy of the states."""
        frames = np.asarray(frames)
        expected = (self.num_envs,) + self.frame_shape
        if frames.shape != expected:
            raise ConvsuiteError(f"frame stacker frames must have shape {list(expected)}, got {list(frames.shape)}")
        self._states[:, :-1] = self._states[:, 1:]
        if starts is not None:
            starts = _checked_flags(starts, "starts", self.num_envs)
            self._states[starts, :-1] = 0
        self._states[:, -1] = frames
        return self._states.copy()
