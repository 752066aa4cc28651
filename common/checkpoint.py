"""Atomic checkpoints: a crash at any instant leaves every finished checkpoint intact.

A checkpoint is a directory ``RUN/checkpoints/ckpt-<step>/`` holding its files (a ``.keras``
model, ``.npy`` arrays, ...) and ``checkpoint.json``, its own record: the training position
(step, epoch, ...), RNG states, plain state, and the size and SHA-256 of every file. It is
written under a temporary name and renamed into place once complete, so a checkpoint either
exists whole or not at all. The checkpoints themselves are the truth: ``latest.json`` is only
a pointer for people and tools, rewritten after every save and rebuilt from the records
whenever it is missing, stale or garbage.

Files are created with mode 0666 filtered by the umask, like any file the user creates.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import secrets
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from convsuite.common.errors import ConvsuiteError

STATE_FILE = "latest.json"
RECORD_FILE = "checkpoint.json"
FORMAT = "convsuite-checkpoint/1"
_CHECKPOINT_NAME = re.compile(r"^ckpt-(\d{12})$")
_CHUNK = 1 << 24  # 16 MiB: hashing and copying large files in pieces keeps memory flat


# --------------------------------------------------------------------------- atomic files

def temporary_name(path: Path, suffix: str = ".tmp") -> Path:
    """A name beside ``path`` that no other writer (process or thread) uses at the same time."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{suffix}")


def fsync_directory(directory: Path) -> None:
    """Make a rename inside ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (temporary name, fsync, rename); mode follows the umask."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write_text(path, json.dumps(value, indent=1))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def save_model_atomic(model, path: Path) -> str:
    """Save ``model`` to ``path`` (.keras) atomically; return the file's SHA-256.

    The temporary name is unique per process and call, so two writers never share it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path, suffix=".partial.keras")
    try:
        model.save(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        digest = file_sha256(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest


def load_model_checked(path: Path, compile: bool = True):
    """Load a `.keras` file, turning any failure into one clear ConvsuiteError."""
    import keras

    import convsuite.common.blocks  # noqa: F401  (registers the shared layers)

    path = Path(path)
    if not path.is_file():
        raise ConvsuiteError(f"no model file at {path}; pass the run directory a training run wrote")
    try:
        return keras.saving.load_model(path, compile=compile)
    except Exception as error:  # zip, h5 and deserialisation errors all mean the same to a user
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConvsuiteError(
            f"checkpoint {path} is corrupt or was written by a different model ({first_line[:160]}); "
            "delete it or point --checkpoint at another run"
        ) from None


# --------------------------------------------------------------------------- arrays without pickling

def write_array(path: Path, array: np.ndarray) -> str:
    """Write ``array`` as a ``.npy`` file straight from its memory (no pickling, no copy of a
    contiguous array); return the file's SHA-256, computed on the way."""
    array = np.asanyarray(array)
    if array.dtype.hasobject:
        raise ConvsuiteError(f"cannot checkpoint an array of Python objects ({path.name}); use a numeric dtype")
    digest = hashlib.sha256()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    with os.fdopen(fd, "wb") as handle:
        writer = _HashingWriter(handle, digest)
        if array.flags.c_contiguous and array.size:
            header = np.lib.format.header_data_from_array_1_0(array)
            try:
                np.lib.format.write_array_header_1_0(writer, header)
            except ValueError:  # a header over 64 KiB (a very long shape or dtype) needs format 2.0
                np.lib.format.write_array_header_2_0(writer, header)
            raw = memoryview(np.ascontiguousarray(array).reshape(-1).view(np.uint8))
            for start in range(0, len(raw), _CHUNK):
                writer.write(raw[start:start + _CHUNK])
        else:  # non-contiguous or empty: numpy writes it in bounded chunks
            np.lib.format.write_array(writer, array, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    return digest.hexdigest()


class _HashingWriter:
    def __init__(self, handle, digest):
        self.handle, self.digest = handle, digest

    def write(self, data):
        self.digest.update(data)
        return self.handle.write(data)


def read_array(path: Path, into: np.ndarray | None = None) -> np.ndarray:
    """Read a ``.npy`` file; with ``into`` (same shape and dtype) fill that array in place
    from a memory map, so a large buffer is never held twice."""
    stored = np.load(path, mmap_mode="r", allow_pickle=False)
    if into is None:
        return np.array(stored)
    if into.shape != stored.shape or into.dtype != stored.dtype:
        raise ConvsuiteError(f"checkpointed array {path.name} is {stored.dtype}{list(stored.shape)} but the run holds "
                             f"{into.dtype}{list(into.shape)}; resume with the config the run was started with")
    flat_in, flat_out = stored.reshape(-1), into.reshape(-1) if into.flags.c_contiguous else None
    if flat_out is None:
        into[...] = stored
    else:
        step = max(1, _CHUNK // max(1, stored.itemsize))
        for start in range(0, flat_in.size, step):
            flat_out[start:start + step] = flat_in[start:start + step]
    del stored
    return into


# --------------------------------------------------------------------------- RNG states

def rng_state() -> dict[str, Any]:
    """Host RNG states (Python, NumPy's global, Keras's global seed generator), so a resumed
    run draws the same numbers as an uninterrupted one."""
    state = {"python": _jsonable(random.getstate()), "numpy": _jsonable(np.random.get_state())}
    keras_global = _keras_global_generator()
    if keras_global is not None:
        store, key = keras_global
        generator = store.get_global_attribute(key)  # not created here: creating one draws from Python's RNG
        if generator is None:
            state["keras_global"] = None
        else:
            import keras

            state["keras_global"] = np.asarray(keras.ops.convert_to_numpy(generator.state.value)).tolist()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    keras_global = _keras_global_generator() if "keras_global" in state else None
    if keras_global is not None:  # first: creating the generator draws from Python's RNG, restored next
        store, key = keras_global
        if state["keras_global"] is None:
            store.set_global_attribute(key, None)  # the next unseeded keras.random call creates it, as it did
        else:
            from keras.src.random.seed_generator import global_seed_generator

            generator = global_seed_generator()
            generator.state.assign(np.asarray(state["keras_global"], dtype=generator.state.dtype))
    if "python" in state:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
    if "numpy" in state:
        name, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))


def _keras_global_generator():
    """(Keras's global state, the key of its global SeedGenerator), or None without Keras.

    Keras has no public accessor for the generator behind unseeded ``keras.random`` calls."""
    import sys

    if "keras" not in sys.modules:
        return None
    try:
        from keras.src.backend.common import global_state
        from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
    except ImportError:
        return None
    return global_state, GLOBAL_SEED_GENERATOR


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


# --------------------------------------------------------------------------- the checkpoint store

@dataclass
class Checkpoint:
    """One committed checkpoint: its directory and its record (checkpoint.json)."""

    path: Path
    record: dict

    @property
    def step(self) -> int:
        return int(self.record["step"])

    @property
    def name(self) -> str:
        return self.path.name

    def file(self, name: str) -> Path:
        return self.path / name

    def problem(self) -> str | None:
        """Why this checkpoint cannot be used (a missing or changed file), or None if intact."""
        for name, meta in self.record.get("files", {}).items():
            path = self.path / name
            if not path.is_file():
                return f"{name} is missing"
            if path.stat().st_size != meta.get("bytes"):
                return f"{name} has {path.stat().st_size} bytes, its record says {meta.get('bytes')}"
            if file_sha256(path) != meta.get("sha256"):
                return f"{name} does not match its SHA-256"
        return None


class PendingCheckpoint:
    """A checkpoint being written in a temporary directory; ``commit`` makes it visible."""

    def __init__(self, store: "CheckpointStore", step: int):
        self.store, self.step = store, int(step)
        self.directory = store.directory / f".ckpt-{self.step:012d}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
        self.directory.mkdir(parents=True)
        self.files: dict[str, dict] = {}

    def path(self, name: str) -> Path:
        """Where to write file ``name`` of this checkpoint (hashed at commit unless added)."""
        return self.directory / name

    def add_file(self, name: str, sha256: str | None = None) -> None:
        self.files[name] = {"sha256": sha256}

    def write_array(self, name: str, array: np.ndarray) -> None:
        self.add_file(name, write_array(self.path(name), array))

    def write_model(self, name: str, model) -> None:
        """A whole ``.keras`` model: architecture, weights and (if compiled) optimizer state."""
        model.save(self.path(name))
        self.add_file(name)

    def commit(self, record: dict) -> Checkpoint:
        for name in sorted(os.listdir(self.directory)):
            self.files.setdefault(name, {"sha256": None})
        for name, meta in self.files.items():
            path = self.path(name)
            if meta["sha256"] is None:
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
                meta["sha256"] = file_sha256(path)
            meta["bytes"] = path.stat().st_size
        full = {"format": FORMAT, **record, "step": self.step, "saved_at": round(time.time(), 3),
                "files": self.files}
        atomic_write_json(self.path(RECORD_FILE), full)
        fsync_directory(self.directory)
        final = self.store.directory / f"ckpt-{self.step:012d}"
        if final.exists():  # the same position saved again: move the old one aside first
            self.store._discard(final)
        os.rename(self.directory, final)
        fsync_directory(self.store.directory)
        checkpoint = Checkpoint(final, full)
        self.store.point_to(checkpoint)
        self.store.prune()
        return checkpoint

    def abandon(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


class CheckpointStore:
    """The checkpoints of one run directory: atomic saves, keep-N pruning, and the newest
    intact checkpoint found from the checkpoints' own records (never from latest.json alone)."""

    def __init__(self, run_dir: str | Path, keep: int = 2):
        self.directory = Path(run_dir) / "checkpoints"
        self.keep = max(1, int(keep))

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    def begin(self, step: int) -> PendingCheckpoint:
        """Start checkpoint ``step`` (a number that grows as the run goes on)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        return PendingCheckpoint(self, step)

    def save(self, step: int, record: dict, write: Callable[[PendingCheckpoint], None]) -> Checkpoint:
        """``write(pending)`` writes the files; then the record is added and the checkpoint committed."""
        pending = self.begin(step)
        try:
            write(pending)
            return pending.commit(record)
        except BaseException:
            pending.abandon()
            raise

    def checkpoints(self) -> list[Checkpoint]:
        """Committed checkpoints with a readable record, oldest first; unreadable ones are warned about."""
        if not self.directory.is_dir():
            return []
        found = []
        for entry in sorted(self.directory.iterdir()):
            if not _CHECKPOINT_NAME.match(entry.name) or not entry.is_dir():
                continue
            try:
                record = json.loads((entry / RECORD_FILE).read_text())
                if not isinstance(record, dict) or record.get("format") != FORMAT or int(record["step"]) < 0:
                    raise ValueError("not a checkpoint record")
            except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
                warnings.warn(f"checkpoint {entry} has no readable {RECORD_FILE}; skipping it", stacklevel=2)
                continue
            found.append(Checkpoint(entry, record))
        return sorted(found, key=lambda c: c.step)

    def has_checkpoints(self) -> bool:
        if not self.directory.is_dir():
            return False
        return any(_CHECKPOINT_NAME.match(p.name) for p in self.directory.iterdir())

    def exists(self) -> bool:
        return self.has_checkpoints()

    def latest(self, repoint: bool = True) -> Checkpoint | None:
        """The newest intact checkpoint (its files match their SHA-256), or None if there are none;
        latest.json is rewritten to name it (unless ``repoint`` is False: a reader that does not own
        the run directory).

        A damaged newer checkpoint is skipped with a warning; if every one is damaged, that is
        an error (starting over silently would overwrite them)."""
        self._refuse_old_format()
        candidates = self.checkpoints()
        problems = []
        for checkpoint in reversed(candidates):
            problem = checkpoint.problem()
            if problem is None:
                if repoint:
                    self.point_to(checkpoint)
                return checkpoint
            problems.append(f"{checkpoint.name}: {problem}")
            warnings.warn(f"checkpoint {checkpoint.path} is damaged ({problem}); trying the one before it",
                          stacklevel=2)
        if self.has_checkpoints():
            detail = "; ".join(problems) or "no readable checkpoint.json"
            raise ConvsuiteError(f"no intact checkpoint in {self.directory} ({detail}); "
                                 "start the run over with --fresh (resume=False) or choose another trainer.run_dir")
        return None

    def point_to(self, checkpoint: Checkpoint) -> None:
        """Rewrite latest.json to name ``checkpoint`` (only if it does not already)."""
        summary = {"checkpoint": checkpoint.name,
                   **{k: v for k, v in checkpoint.record.items() if isinstance(v, (int, float, str, bool))}}
        try:
            if json.loads(self.state_path.read_text()) == summary:
                return
        except (OSError, ValueError, UnicodeDecodeError):
            pass
        atomic_write_json(self.state_path, summary)

    def prune(self) -> None:
        """Keep the newest ``keep`` checkpoints; remove leftovers of interrupted saves."""
        for entry in self.directory.iterdir():
            if entry.name.startswith((".ckpt-", ".trash-")) and entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
        committed = sorted((p for p in self.directory.iterdir() if _CHECKPOINT_NAME.match(p.name)),
                           key=lambda p: p.name)
        for old in committed[: -self.keep]:
            self._discard(old)

    def clear(self) -> None:
        """Delete every checkpoint (a run started over)."""
        if self.directory.exists():
            trash = self.directory.with_name(f".trash-checkpoints.{secrets.token_hex(4)}")
            os.rename(self.directory, trash)
            shutil.rmtree(trash, ignore_errors=True)

    def _discard(self, path: Path) -> None:
        # Renamed away first: a half-deleted directory must never look like a damaged checkpoint.
        trash = self.directory / f".trash-{path.name}.{secrets.token_hex(4)}"
        os.rename(path, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def _refuse_old_format(self) -> None:
        if self.directory.is_dir() and any(self.directory.glob("ckpt-*.keras")):
            raise ConvsuiteError(f"{self.directory} holds checkpoints of an older convsuite (ckpt-*.keras files); "
                                 "start the run over with --fresh (resume=False) or choose another trainer.run_dir")


class CheckpointManager(CheckpointStore):
    """Checkpoints of ``model.fit`` runs: a whole ``.keras`` model plus the training position."""

    MODEL_FILE = "model.keras"

    def save(self, model, epoch: int, batch_in_epoch: int, global_step: int, extra: dict | None = None) -> Path:
        record = {"epoch": int(epoch), "batch_in_epoch": int(batch_in_epoch), "global_step": int(global_step),
                  "rng": rng_state(), "extra": extra or {}}
        return super().save(global_step, record, lambda pending: pending.write_model(self.MODEL_FILE, model)).path

    def restore(self, compile: bool = True):
        """Return (model, record) of the newest intact checkpoint, or None if there is none."""
        checkpoint = self.latest()
        if checkpoint is None:
            return None
        return load_model_checked(checkpoint.file(self.MODEL_FILE), compile=compile), checkpoint.record
