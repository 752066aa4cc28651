"""Run directories that one process owns at a time, whose record of a run is never rewritten.

Every kind of run (``model.fit``, a DQN loop, co-evolution) writes the same layout::

    RUN/.lock                  held (flock) by the process training the run: pid, host, command
    RUN/config.toml            the experiment, written when the run starts (see ``claim_config``)
    RUN/checkpoints/           ckpt-<step>/ directories and latest.json (common.checkpoint)
    RUN/metrics.json           the finished run's summary, written once
    RUN/log.csv                one row per epoch / logging interval
    RUN/tensorboard/           scalar event files
    RUN/model.keras, RUN/best.keras   exported models

``RunDirectory.open`` takes the lock and checks the directory is writable before anything heavy
(data, models) starts; opening the same directory again in the same process returns the same
owner, so a suite can claim its run directory before it loads data and the trainer reuse it.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import shutil
import socket
import sys
import tomllib
from pathlib import Path

from convsuite.common.checkpoint import atomic_write_text
from convsuite.common.errors import ConvsuiteError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the run directory is then not guarded
    fcntl = None

LOCK_FILE = ".lock"

# Keys that may differ when a run resumes: they change how the run is carried out or how long it
# goes on, not what it computes. Any other difference means another run: refused.
RESUMABLE_KEYS = (
    "description",
    "trainer.epochs",
    "trainer.progress",
    "trainer.run_dir",
    "trainer.keep_checkpoints",
    "trainer.checkpoint_every_epochs",
    "trainer.checkpoint_every_steps",
    "runtime.backend",
    "runtime.strategy",
    "runtime.jit_compile",
    "runtime.num_cpu_devices",
)

_OPEN: dict[str, "RunDirectory"] = {}


class RunDirectory:
    """A run directory owned by this process while it is open (use ``RunDirectory.open``)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None
        self._users = 0

    # ------------------------------------------------------------------ ownership

    @classmethod
    def open(cls, path: str | Path) -> "RunDirectory":
        """Create (if needed), check writable and lock ``path``; the same object if this process has it open."""
        path = Path(path)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConvsuiteError(f"cannot create run directory {path} ({error.strerror or error}); "
                                 "choose another trainer.run_dir") from None
        key = os.path.realpath(path)
        run = _OPEN.get(key)
        if run is None:
            run = cls(path)
            run._acquire()
            _OPEN[key] = run
        run._users += 1
        return run

    def close(self) -> None:
        self._users -= 1
        if self._users > 0:
            return
        _OPEN.pop(os.path.realpath(self.path), None)
        if self._fd is not None:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunDirectory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _acquire(self) -> None:
        self._check_writable(self.path)
        lock_path = self.path / LOCK_FILE
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            raise self._not_writable(error) from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise ConvsuiteError(f"run directory {self.path} is in use by {holder}; wait for it to finish, "
                                     "stop it, or choose another trainer.run_dir") from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv),
                  "since": datetime.datetime.now().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        self._fd = fd
        checkpoints = self.path / "checkpoints"
        if checkpoints.is_dir():
            self._check_writable(checkpoints)

    def _check_writable(self, directory: Path) -> None:
        probe = directory / f".write-test.{os.getpid()}-{secrets.token_hex(4)}"
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            probe.unlink()
        except OSError as error:
            raise self._not_writable(error, directory) from None

    def _not_writable(self, error: OSError, directory: Path | None = None) -> ConvsuiteError:
        return ConvsuiteError(f"run directory {directory or self.path} is not writable ({error.strerror or error}); "
                              "fix its permissions or choose another trainer.run_dir")

    # ------------------------------------------------------------------ the run's record

    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.json"

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "checkpoints"

    def saved_config(self) -> dict | None:
        """config.toml as a dict, None if there is none; a garbled file is one clear error."""
        if not self.config_path.exists():
            return None
        try:
            return tomllib.loads(self.config_path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConvsuiteError(f"{self.config_path} is not valid TOML ({error}); it records how this run was "
                                 "started: restore it, or start the run over with --fresh") from None

    def config_differences(self, experiment, may_change=RESUMABLE_KEYS) -> list[tuple[str, object, object]]:
        """(key, saved value, current value) for every key outside ``may_change`` that differs."""
        saved = self.saved_config()
        return [] if saved is None else config_differences(saved, experiment, may_change)

    def claim_config(self, experiment, *, resuming: bool, finished: bool = False, may_change=RESUMABLE_KEYS) -> None:
        """Check ``experiment`` against the run's config.toml and (re)write it.

        A run directory holds one run: resuming with a config that differs in a key outside
        ``may_change`` (the learning rate, the model, the data, ...) is refused with the keys and
        both values. A finished run's config.toml is never rewritten: running the same command
        again only evaluates it. config.toml is written when a run starts and when it goes on
        (so a longer ``trainer.epochs`` is recorded)."""
        if resuming or self.config_path.exists():
            differences = self.config_differences(experiment, may_change)
            if differences:
                section = differences[0][0].split(".")[0]
                shown = ", ".join(f"{key}: {old!r} -> {new!r}" for key, old, new in differences[:4])
                raise ConvsuiteError(
                    f"{self.path} holds a run with a different {section} config than this one ({shown}); "
                    "choose another trainer.run_dir, or start the run over with --fresh (resume=False)")
        if not finished:
            self.write_config(experiment)

    def write_config(self, experiment) -> None:
        from convsuite.common import config as config_lib

        atomic_write_text(self.config_path, config_lib.to_toml(experiment))

    def write_metrics(self, metrics: dict) -> dict:
        """The finished run's summary (``common.results.write_metrics``): returns what was written."""
        from convsuite.common.results import write_metrics

        return write_metrics(self.path, metrics)

    def start_over(self) -> None:
        """Remove what the previous run in this directory wrote, so the new one does not mix with it."""
        from convsuite.common.checkpoint import CheckpointStore

        CheckpointStore(self.path).clear()
        for name in ("config.toml", "log.csv", "metrics.json", "model.keras", "best.keras"):
            (self.path / name).unlink(missing_ok=True)
        shutil.rmtree(self.path / "tensorboard", ignore_errors=True)


def _read_holder(fd: int) -> str:
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode())
        return (f"process {holder['pid']} on {holder['host']} since {holder['since']} "
                f"({holder['command'][:200]})")
    except (ValueError, KeyError, TypeError, OSError):
        return "another process"


def config_differences(saved: dict, experiment, may_change=RESUMABLE_KEYS,
                       sections: tuple[str, ...] | None = None) -> list[tuple[str, object, object]]:
    """(key, saved value, current value) for every dotted key of ``experiment`` that differs
    from ``saved`` (a run's config.toml as a dict), except ``may_change``; only ``sections``
    (e.g. ``("model", "data", "trainer")``) when given."""
    from convsuite.common import config as config_lib

    current = tomllib.loads(config_lib.to_toml(experiment))
    if sections is not None:
        saved = {key: saved.get(key, {}) for key in sections}
        current = {key: current.get(key, {}) for key in sections}
    old, new = _flatten(saved), _flatten(current)
    return [(key, old.get(key), new.get(key)) for key in sorted(set(old) | set(new))
            if old.get(key) != new.get(key) and key not in may_change]


def _flatten(values: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def run_directory(experiment) -> Path:
    """The experiment's run directory: ``trainer.run_dir``, else ``runs/<experiment name>``."""
    return Path(experiment.trainer.run_dir or Path("runs") / (experiment.name or experiment.suite or "run"))
