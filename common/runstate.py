"""Checkpointable run state for training loops that are not ``model.fit``.

A DQN agent (an online and a target network, their optimizer, a replay buffer of millions of
uint8 frames, epsilon, step counters, RNGs) or a co-evolution run (a population of weight
vectors with per-weight mutation strengths, the generation, match records) keeps everything
it must get back after a ``kill -9`` in one ``RunState``:

- named Keras models: every variable of the model (weights, non-trainable state, seed
  generators) and of its optimizer (slots, iteration count), as ``.npz`` of plain arrays;
- named NumPy arrays, each written as a ``.npy`` file straight from its memory (no pickling,
  no copy) and read back into the same array in place (a buffer is never held twice);
- named ``numpy.random.Generator`` objects, Python's, NumPy's and Keras's global RNGs;
- ``values``: plain JSON state (counters, epsilon, match records, ...).

It lives in the run directory every run shares (``common.rundir``): the lock, config.toml,
atomic ``checkpoints/ckpt-<step>/`` directories with per-file SHA-256 and ``latest.json``,
keep-N pruning, ``log.csv``, TensorBoard scalars, a progress line with the run's ETA, and
``metrics.json`` written once by ``finish``. A loop::

    state = RunState.open(experiment, total_steps=cfg.steps, resume=resume)
    state.add_model("online", online, optimizer)
    state.add_model("target", target)
    state.arrays["frames"] = np.zeros((capacity, 84, 84), np.uint8)
    state.add_generator("explore", np.random.default_rng(cfg.seed))
    state.values.update(epsilon=1.0, episodes=0)
    state.restore()                          # no-op on a new run
    while state.step < cfg.steps:
        ...                                  # one step; mutate arrays/values/models in place
        state.step += 1
        if state.step % cfg.log_every == 0:
            state.log({"return": ..., "epsilon": ...})   # log first, then save
        if state.step % cfg.save_every == 0:
            state.save()
    state.finish({"final_return": ...})
    state.close()

Resuming from the newest intact checkpoint then continues bit-identically, as long as the
loop's randomness comes from the registered generators/global RNGs and its state from the
registered models, arrays and values. On JAX, a loop that trains with stateless calls must
assign the new values back to the variables before ``save``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from convsuite.common.checkpoint import Checkpoint, CheckpointStore, read_array, restore_rng_state, rng_state
from convsuite.common.errors import ConvsuiteError
from convsuite.common.progress import Progress
from convsuite.common.rundir import RESUMABLE_KEYS, RunDirectory, run_directory
from convsuite.common.runlog import ScalarLog

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


class RunState:
    """The state of a custom training loop, saved to and restored from atomic checkpoints."""

    def __init__(self, run: RunDirectory, *, keep: int = 2, total_steps: int = 0, progress: bool = True,
                 tensorboard: bool = True):
        self.run = run
        self.store = CheckpointStore(run.path, keep)
        self.step = 0
        self.values: dict = {}
        self.arrays: dict[str, np.ndarray] = {}
        self._models: dict[str, tuple] = {}
        self._generators: dict[str, np.random.Generator] = {}
        self.total_steps = int(total_steps)
        self.show_bar = progress
        self.progress = Progress(self.total_steps, 0, bar=progress)
        self.scalars = ScalarLog(run.path, "step", tensorboard=tensorboard)
        self.restored_from: Checkpoint | None = None

    @classmethod
    def open(cls, experiment_or_dir, *, resume: bool = True, keep: int | None = None, total_steps: int = 0,
             progress: bool | None = None, tensorboard: bool = True, may_change=RESUMABLE_KEYS) -> "RunState":
        """Own the run directory (lock, writable) and claim its config.toml.

        ``experiment_or_dir``: an Experiment (its ``trainer.run_dir``, ``keep_checkpoints`` and
        ``progress`` are used, and config.toml is checked/written as in ``RunDirectory.claim_config``)
        or a bare directory path (no config.toml). ``resume=False`` starts the run over. A
        finished run (one with metrics.json) keeps its config.toml; ``state.finished`` is True."""
        from convsuite.common.config import Experiment

        experiment = experiment_or_dir if isinstance(experiment_or_dir, Experiment) else None
        if experiment is not None:
            path = run_directory(experiment)
            keep = experiment.trainer.keep_checkpoints if keep is None else keep
            progress = experiment.trainer.progress if progress is None else progress
        else:
            path = Path(experiment_or_dir)
        run = RunDirectory.open(path)
        try:
            if not resume:
                run.start_over()
            state = cls(run, keep=2 if keep is None else keep, total_steps=total_steps,
                        progress=True if progress is None else progress, tensorboard=tensorboard)
            if experiment is not None:
                run.claim_config(experiment, resuming=state.store.has_checkpoints(), finished=state.finished,
                                 may_change=may_change)
        except BaseException:
            run.close()
            raise
        return state

    @property
    def path(self) -> Path:
        return self.run.path

    @property
    def finished(self) -> bool:
        """True once ``finish`` wrote metrics.json."""
        return self.run.metrics_path.exists()

    # ------------------------------------------------------------------ what the state holds

    def add_model(self, name: str, model, optimizer=None) -> None:
        """Checkpoint every variable of ``model`` and of ``optimizer`` (default: ``model.optimizer``)."""
        _check_name(name)
        self._models[name] = (model, optimizer if optimizer is not None else getattr(model, "optimizer", None))

    def add_generator(self, name: str, generator: np.random.Generator) -> None:
        """Checkpoint a ``numpy.random.Generator``'s state (restored into the same object)."""
        _check_name(name)
        self._generators[name] = generator

    # ------------------------------------------------------------------ save and restore

    def save(self, step: int | None = None) -> Checkpoint:
        """Write checkpoint ``ckpt-<step>`` (default ``self.step``) atomically; prune to the newest ``keep``."""
        step = self.step if step is None else int(step)
        self.step = step
        for name in self.arrays:
            _check_name(name)
        record = {
            "values": self.values,
            "rng": rng_state(),
            "generators": {name: g.bit_generator.state for name, g in self._generators.items()},
            "models": {},
            "arrays": {name: {"shape": list(np.shape(a)), "dtype": str(np.asarray(a).dtype)}
                       for name, a in self.arrays.items()},
        }

        def write(pending):
            for name, (model, optimizer) in self._models.items():
                record["models"][name] = {"variables": _describe(model.variables)}
                np.savez(pending.path(f"model.{name}.weights.npz"), **_as_arrays(model.variables))
                if optimizer is not None:
                    _build_optimizer(optimizer, model)
                    record["models"][name]["optimizer"] = _describe(optimizer.variables)
                    np.savez(pending.path(f"model.{name}.optimizer.npz"), **_as_arrays(optimizer.variables))
            for name, array in self.arrays.items():
                pending.write_array(f"array.{name}.npy", np.asarray(array))

        try:
            return self.store.save(step, record, write)
        except OSError as error:
            raise ConvsuiteError(f"cannot write a checkpoint in {self.store.directory} ({error.strerror or error}); "
                                 "free disk space or fix the directory's permissions, then resume") from None

    def restore(self, checkpoint: Checkpoint | None = None, *, quiet: bool = False) -> bool:
        """Load the newest intact checkpoint (or ``checkpoint``, e.g. another directory's) into the
        registered models, arrays, generators and ``values``; return False (changing nothing) if
        the run has none yet."""
        checkpoint = checkpoint if checkpoint is not None else self.store.latest()
        if checkpoint is None:
            return False
        record = checkpoint.record
        for name, (model, optimizer) in self._models.items():
            load_checkpointed_model(checkpoint, name, model)
            saved = record["models"][name]
            if optimizer is not None and "optimizer" in saved:
                _build_optimizer(optimizer, model)
                _assign(optimizer.variables, checkpoint.file(f"model.{name}.optimizer.npz"), saved["optimizer"],
                        f"{name}'s optimizer")
        for name in record.get("arrays", {}):
            current = self.arrays.get(name)
            into = current if isinstance(current, np.ndarray) and current.flags.writeable else None
            self.arrays[name] = read_array(checkpoint.file(f"array.{name}.npy"), into=into)
        for name, generator in self._generators.items():
            if name not in record.get("generators", {}):
                raise ConvsuiteError(f"checkpoint {checkpoint.path} has no random generator {name!r}")
            generator.bit_generator.state = record["generators"][name]
        restore_rng_state(record.get("rng", {}))
        self.values.clear()
        self.values.update(record.get("values", {}))
        self.step = checkpoint.step
        self.restored_from = checkpoint
        self.scalars.truncate(before=self.step + 1)
        self.progress = Progress(self.total_steps, self.step, bar=self.show_bar)
        if not quiet:
            print(f"Resuming {self.path} at step {self.step} ({checkpoint.name}).")
        return True

    # ------------------------------------------------------------------ logs, progress, the end

    def log(self, values: dict, step: int | None = None) -> str:
        """Append one row to log.csv and TensorBoard at ``step`` (default ``self.step``) and print
        one progress line; log before ``save`` so a resumed run neither loses nor repeats rows."""
        step = self.step if step is None else int(step)
        self.scalars.write({"step": step, **values})
        head = f"step {step}/{self.total_steps}" if self.total_steps else f"step {step}"
        return self.progress.report(head, values, done=step)

    def advance(self, step: int | None = None, text: str = "") -> None:
        """Redraw the progress bar (on a terminal; nothing otherwise)."""
        step = self.step if step is None else int(step)
        self.progress.update(step, text or f"step {step}/{self.total_steps}")

    def finish(self, metrics: dict) -> dict:
        """Write metrics.json (the run's summary, once) and return it as written."""
        return self.run.write_metrics(metrics)

    def close(self) -> None:
        self.scalars.close()
        self.run.close()

    def __enter__(self) -> "RunState":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def load_checkpointed_model(checkpoint: Checkpoint, name: str, model) -> None:
    """Assign model ``name``'s weights from ``checkpoint`` into ``model`` (built with the same architecture),
    without owning the run: e.g. to look at the network of a run that is still training."""
    saved = checkpoint.record.get("models", {}).get(name)
    if saved is None:
        raise ConvsuiteError(f"checkpoint {checkpoint.path} has no model {name!r} "
                             f"(it holds {sorted(checkpoint.record.get('models', {}))})")
    _assign(model.variables, checkpoint.file(f"model.{name}.weights.npz"), saved["variables"], name)


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ConvsuiteError(f"run state name {name!r} must use only letters, digits, '_' and '-'")


def _numpy(variable) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(variable.value if hasattr(variable, "value") else variable))


def _as_arrays(variables) -> dict[str, np.ndarray]:
    return {f"v{i:05d}": _numpy(v) for i, v in enumerate(variables)}


def _describe(variables) -> list[list]:
    return [[getattr(v, "path", getattr(v, "name", str(i))), list(v.shape), str(v.dtype)]
            for i, v in enumerate(variables)]


def _build_optimizer(optimizer, model) -> None:
    if not getattr(optimizer, "built", True):
        optimizer.build(model.trainable_variables)


def _assign(variables, path: Path, described: list, what: str) -> None:
    variables = list(variables)
    shapes = [list(v.shape) for v in variables]
    if len(described) != len(variables) or [d[1] for d in described] != shapes:
        raise ConvsuiteError(f"checkpointed {what} has {len(described)} variables of other shapes than the "
                             f"{len(variables)} of the model built now; resume with the config the run started with")
    with np.load(path, allow_pickle=False) as stored:
        for i, variable in enumerate(variables):
            variable.assign(stored[f"v{i:05d}"])
