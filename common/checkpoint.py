"""Atomic checkpoints and resume: a crash at any instant leaves the last good checkpoint intact.

A checkpoint is a whole `.keras` file (architecture, weights and optimizer state) plus a
JSON record (epoch, batch within the epoch, global step, RNG states, callback state and
the file's SHA-256). Both are written to a temporary name and moved into place with
``os.replace``; the JSON pointer is written last, so it never names a half-written file.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from convsuite.common.errors import ConvsuiteError

STATE_FILE = "latest.json"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def save_model_atomic(model, path: Path) -> str:
    """Save ``model`` to ``path`` (.keras) atomically; return the file's SHA-256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial.keras")
    model.save(tmp)
    with open(tmp, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return digest


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


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


def rng_state() -> dict[str, Any]:
    """Host RNG states, so a resumed run draws the same numbers as an uninterrupted one."""
    import keras

    state = {"python": _jsonable(random.getstate()), "numpy": _jsonable(np.random.get_state())}
    generator = keras.random.global_seed_generator() if hasattr(keras.random, "global_seed_generator") else None
    if generator is not None:
        state["keras_global"] = np.asarray(keras.ops.convert_to_numpy(generator.state.value)).tolist()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    import keras

    if "python" in state:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
    if "numpy" in state:
        name, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    if "keras_global" in state and hasattr(keras.random, "global_seed_generator"):
        generator = keras.random.global_seed_generator()
        generator.state.assign(np.asarray(state["keras_global"], dtype=generator.state.dtype))


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class CheckpointManager:
    """Keeps the newest ``keep`` checkpoints of a run directory and finds the last good one."""

    def __init__(self, run_dir: str | Path, keep: int = 2):
        self.directory = Path(run_dir) / "checkpoints"
        self.keep = max(1, keep)

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    def _read_state(self) -> dict | None:
        if not self.state_path.exists():
            return None
        try:
            return json.loads(self.state_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ConvsuiteError(
                f"{self.state_path} is corrupt (not JSON); delete the checkpoints folder to start over"
            ) from None

    def save(self, model, epoch: int, batch_in_epoch: int, global_step: int, extra: dict | None = None) -> Path:
        name = f"ckpt-e{epoch:04d}-b{batch_in_epoch:06d}.keras"
        path = self.directory / name
        digest = save_model_atomic(model, path)
        previous = self._read_state() or {}
        history = [h for h in previous.get("history", []) if h["file"] != name]
        history.append({"file": name, "sha256": digest, "epoch": epoch, "batch_in_epoch": batch_in_epoch,
                        "global_step": global_step})
        dropped, history = history[: -self.keep], history[-self.keep :]
        state = {**history[-1], "history": history, "rng": rng_state(), "extra": extra or {}}
        atomic_write_text(self.state_path, json.dumps(state, indent=1))
        for old in dropped:
            (self.directory / old["file"]).unlink(missing_ok=True)
        return path

    def exists(self) -> bool:
        return self.state_path.exists()

    def restore(self, compile: bool = True):
        """Return (model, state) of the newest intact checkpoint, or None if there is none."""
        state = self._read_state()
        if state is None:
            return None
        for entry in reversed(state.get("history", [])):
            path = self.directory / entry["file"]
            if not path.exists() or file_sha256(path) != entry["sha256"]:
                warnings.warn(f"checkpoint {path} is missing or corrupt; trying the one before it", stacklevel=2)
                continue
            model = load_model_checked(path, compile=compile)
            resumed = {**entry, "rng": state.get("rng", {}) if entry is state["history"][-1] else {},
                       "extra": state.get("extra", {}) if entry is state["history"][-1] else {}}
            return model, resumed
        raise ConvsuiteError(
            f"every checkpoint in {self.directory} is missing or corrupt; delete that folder to start the run over"
        )
