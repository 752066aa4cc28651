"""The supervised trainer every supervised suite shares, built on ``model.fit``.

It adds what a long run needs around ``fit``: atomic checkpoints every N epochs and/or
steps, resume that restores weights, optimizer state, epoch, batch and RNG state, export
of the best model, TensorBoard and CSV logs, early stopping, the run's progress and ETA, and
a ``metrics.json`` summary of the finished run. The run directory, its lock, config.toml and
checkpoints are the same machinery custom loops use (``common.rundir``, ``common.checkpoint``,
``common.runstate``).
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Callable

from convsuite.common import config as config_lib
from convsuite.common.checkpoint import (
    CheckpointManager,
    load_model_checked,
    restore_rng_state,
    save_model_atomic,
)
from convsuite.common.config import Experiment
from convsuite.common.errors import ConvsuiteError
from convsuite.common.arrays import SupervisedData, split_validation  # noqa: F401  (their old home)
from convsuite.common.inputs import BatchDecoder, evaluation_batches, steps_per_epoch, training_batches
from convsuite.common.results import write_metrics
from convsuite.common.progress import Progress, format_metrics
from convsuite.common.rundir import RunDirectory, run_directory  # noqa: F401  (run_directory: its old home)
from convsuite.common.runlog import ScalarLog


def make_optimizer(trainer: config_lib.TrainerConfig):
    import keras

    name = trainer.optimizer
    if name == "adam":
        return keras.optimizers.Adam(trainer.learning_rate)
    if name == "adamw":
        return keras.optimizers.AdamW(trainer.learning_rate, weight_decay=trainer.weight_decay)
    if name == "sgd":
        return keras.optimizers.SGD(trainer.learning_rate, momentum=trainer.momentum)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(trainer.learning_rate, momentum=trainer.momentum)
    if name == "adadelta":  # Zeiler (2012) as Kim (2014) used it: rho 0.95, epsilon 1e-6, learning rate 1.0
        return keras.optimizers.Adadelta(trainer.learning_rate, rho=0.95, epsilon=1e-6)
    raise ConvsuiteError(f"trainer.optimizer must be one of {', '.join(config_lib.OPTIMIZERS)}, got {name!r}")


def open_run(experiment: Experiment) -> RunDirectory:
    """Own ``experiment``'s run directory before data or models load: one line of error at once
    when another process trains in it (its pid, host and command) or it is not writable.

    A suite may call this first (``with open_run(experiment):`` around loading its data and
    ``train``); ``train`` then reuses the open directory instead of locking it again."""
    return RunDirectory.open(run_directory(experiment))


def _keras_callbacks():
    import keras

    return keras.callbacks.Callback


class FitState(_keras_callbacks()):
    """Checkpoints, best-model export, early stopping and the epoch log, with their state in checkpoints.

    At an epoch's end the log row (log.csv, TensorBoard) and best.keras are written before the
    checkpoint, and a resumed run first drops the rows after its checkpoint: every epoch is
    logged once however the run was interrupted."""

    def __init__(self, manager, run_dir, trainer_cfg, per_epoch, first_epoch, skip_batches, global_step, extra,
                 scalars, direction):
        super().__init__()
        self.manager = manager
        self.run_dir = Path(run_dir)
        self.cfg = trainer_cfg
        self.per_epoch = per_epoch
        self.skip_batches = skip_batches
        self.global_step = global_step
        self.epoch = first_epoch
        self.best = extra.get("best")
        self.wait = int(extra.get("wait", 0))
        self.mode_max = direction == "max"
        self.stopped_early = bool(extra.get("stopped_early", False))
        self.scalars = scalars
        self.monitor_checked = False

    def _extra(self):
        return {"best": self.best, "wait": self.wait, "stopped_early": self.stopped_early}

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.batch_in_epoch = self.skip_batches
        self.skip_batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.global_step += 1
        self.batch_in_epoch += 1
        every = self.cfg.checkpoint_every_steps
        if every and self.global_step % every == 0 and self.batch_in_epoch < self.per_epoch:
            self.manager.save(self.model, self.epoch, self.batch_in_epoch, self.global_step, self._extra())

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.batch_in_epoch < self.per_epoch:  # stopped inside the epoch: keep the exact position
            self.manager.save(self.model, epoch, self.batch_in_epoch, self.global_step, self._extra())
            return
        monitor = self.cfg.monitor
        if not self.monitor_checked:
            self.monitor_checked = True
            if monitor not in logs:
                warnings.warn(f"trainer.monitor={monitor!r} is not among this run's epoch metrics "
                              f"({', '.join(sorted(logs)) or 'none'}): no best.keras is exported and early stopping "
                              "is off; set trainer.monitor to one of those", UserWarning, stacklevel=2)
        value = logs.get(monitor)
        if value is not None and math.isfinite(value):
            better = self.best is None or (value > self.best if self.mode_max else value < self.best)
            if better:
                self.best, self.wait = float(value), 0
                save_model_atomic(self.model, self.run_dir / "best.keras")
            else:
                self.wait += 1
            if self.cfg.early_stopping_patience and self.wait >= self.cfg.early_stopping_patience:
                self.stopped_early = True
                self.model.stop_training = True
        self.scalars.write({"epoch": epoch, **{k: _scalar(v) for k, v in logs.items()}})
        last = epoch + 1 >= self.cfg.epochs or self.stopped_early
        every = self.cfg.checkpoint_every_epochs
        if last or (every and (epoch + 1) % every == 0):
            self.manager.save(self.model, epoch + 1, 0, self.global_step, self._extra())


class FitProgress(_keras_callbacks()):
    """The run's progress: a bar with the run's ETA on a terminal, one plain line per epoch elsewhere."""

    def __init__(self, progress: Progress, epochs: int, per_epoch: int, first_epoch: int, skip_batches: int):
        super().__init__()
        self.progress, self.epochs, self.per_epoch = progress, epochs, per_epoch
        self.epoch, self.batch, self.skip = first_epoch, skip_batches, skip_batches

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.batch, self.skip = epoch, self.skip, 0

    def on_train_batch_end(self, batch, logs=None):
        self.batch += 1
        if self.progress.bar:
            text = f"epoch {self.epoch + 1}/{self.epochs} {self.batch}/{self.per_epoch}"
            shown = {k: _scalar(v) for k, v in (logs or {}).items() if k in ("loss", "accuracy")}
            self.progress.update(self.epoch * self.per_epoch + self.batch, f"{text}  {format_metrics(shown)}")

    def on_epoch_end(self, epoch, logs=None):
        self.progress.report(f"epoch {epoch + 1}/{self.epochs}", {k: _scalar(v) for k, v in (logs or {}).items()},
                             done=(epoch + 1) * self.per_epoch)


def _scalar(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


class Throughput(_keras_callbacks()):
    """Training examples per second, per epoch, added to the logs (and so to the CSV)."""

    def __init__(self, examples_per_epoch):
        super().__init__()
        self.examples = examples_per_epoch
        self.total_seconds = 0.0
        self.total_examples = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.start
        self.total_seconds += seconds
        self.total_examples += self.examples
        if logs is not None:
            logs["examples_per_s"] = self.examples / max(seconds, 1e-9)


def train(
    experiment: Experiment,
    build_model: Callable[[], "keras.Model"],  # noqa: F821
    data: SupervisedData,
    *,
    loss="sparse_categorical_crossentropy",
    metrics=("accuracy",),
    resume: bool = True,
    report: Callable[["keras.Model"], dict] | None = None,  # noqa: F821
) -> dict:
    """Train (or resume) ``experiment``; write the run directory; return the final metrics.

    The run directory belongs to this process while it trains (``RUN/.lock``; see ``open_run``).
    With ``resume`` the run goes on from its newest intact checkpoint (the checkpoints' own
    records decide, not latest.json). A run directory holds one run: a config that differs
    from the run's config.toml in a key outside ``rundir.RESUMABLE_KEYS`` (which may change:
    more epochs, progress display, checkpoint frequency, backend and devices) is refused with
    the keys and values. A finished run's config.toml is never rewritten: the same command
    again only evaluates the finished model. ``resume=False`` (``--fresh``) starts over.

    ``report(model)`` adds task-specific numbers (a forecast's MASE against its baselines,
    say) to the metrics written to ``metrics.json``."""
    from convsuite.common.runtime import configure

    cfg = experiment.trainer
    if cfg.epochs < 1 or cfg.batch_size < 1:
        raise ConvsuiteError(f"trainer.epochs and trainer.batch_size must be >= 1, got {cfg.epochs} and {cfg.batch_size}")
    if experiment.runtime.strategy == "multiworker" and experiment.runtime.backend == "tensorflow":
        from convsuite.common.distribute import train_multiworker

        # Every worker runs this; only the chief owns (locks and writes) the run directory.
        return train_multiworker(experiment, build_model, data, configure(experiment.runtime), loss=loss,
                                 metrics=metrics, resume=resume)
    with open_run(experiment) as run:
        runtime = configure(experiment.runtime)
        return _fit(run, experiment, runtime, build_model, data, loss, metrics, resume, report)


def _fit(run: RunDirectory, experiment, runtime, build_model, data, loss, metrics, resume, report) -> dict:
    import keras

    cfg = experiment.trainer
    manager = CheckpointManager(run.path, cfg.keep_checkpoints)
    if not resume:  # starting over: the old run's checkpoints, logs and models would mix with the new one
        run.start_over()
    checkpoint = manager.latest() if resume else None
    record = checkpoint.record if checkpoint is not None else {}
    extra = record.get("extra", {})
    first_epoch, skip, global_step = record.get("epoch", 0), record.get("batch_in_epoch", 0), record.get("global_step", 0)
    finished = checkpoint is not None and (first_epoch >= cfg.epochs or bool(extra.get("stopped_early")))
    run.claim_config(experiment, resuming=checkpoint is not None, finished=finished)
    direction = config_lib.monitor_direction(cfg)
    keras.utils.set_random_seed(cfg.seed)
    with runtime.scope():
        if checkpoint is not None:
            model = load_model_checked(checkpoint.file(manager.MODEL_FILE))
            restore_rng_state(record.get("rng", {}))
            print(f"Resuming {run.path} at epoch {first_epoch + 1}, batch {skip} (step {global_step}) "
                  f"from {checkpoint.name}.")
        else:
            model = build_model()
            model.compile(optimizer=make_optimizer(cfg), loss=loss, metrics=list(metrics),
                          jit_compile=runtime.jit_compile)
    if finished:
        print(f"{run.path} already finished {first_epoch} epochs; evaluating.")
        return _finish(experiment, model, data, run.path, runtime, None, first_epoch, report)

    per_epoch = steps_per_epoch(len(data.y_train), cfg.batch_size)
    scalars = ScalarLog(run.path, "epoch", validation_run=True, tag_prefix="epoch_")
    scalars.truncate(before=first_epoch)
    fit_state = FitState(manager, run.path, cfg, per_epoch, first_epoch, skip, global_step, extra, scalars, direction)
    throughput = Throughput(len(data.y_train))
    progress = Progress(cfg.epochs * per_epoch, first_epoch * per_epoch + skip, bar=cfg.progress)
    callbacks = [throughput, fit_state, FitProgress(progress, cfg.epochs, per_epoch, first_epoch, skip)]
    if cfg.lr_decay_per_epoch != 1.0:
        base, decay = cfg.learning_rate, cfg.lr_decay_per_epoch
        callbacks.insert(0, keras.callbacks.LearningRateScheduler(lambda epoch: base * decay**epoch))
    validation = (evaluation_batches(data.x_val, data.y_val, cfg.batch_size, data.decode) if len(data.y_val)
                  else None)

    try:
        # A mid-epoch resume first finishes the interrupted epoch, then runs the rest as usual.
        start = first_epoch
        if skip:
            inputs = training_batches(data.x_train, data.y_train, cfg.batch_size, cfg.seed, start, start + 1, skip,
                                      decode=data.decode)
            model.fit(inputs, initial_epoch=start, epochs=start + 1, steps_per_epoch=per_epoch - skip,
                      validation_data=validation, callbacks=callbacks, verbose=0, shuffle=False)
            start += 1
        if start < cfg.epochs and not model.stop_training:
            inputs = training_batches(data.x_train, data.y_train, cfg.batch_size, cfg.seed, start, cfg.epochs,
                                      decode=data.decode)
            model.fit(inputs, initial_epoch=start, epochs=cfg.epochs, steps_per_epoch=per_epoch,
                      validation_data=validation, callbacks=callbacks, verbose=0, shuffle=False)
    finally:
        scalars.close()
    epochs_done = fit_state.epoch + 1
    return _finish(experiment, model, data, run.path, runtime, throughput, epochs_done, report)


def evaluate_model(model, x, y, batch_size: int = 256, decode: BatchDecoder | None = None) -> dict:
    results = model.evaluate(evaluation_batches(x, y, batch_size, decode), verbose=0, return_dict=True)
    return {key: float(value) for key, value in results.items()}


def _recompute_batchnorm(experiment, model, data, run_dir) -> None:
    """Population BatchNorm statistics for the final and the best model (docs/notes/batchnorm-fcn.md).

    They depend only on the weights and the training data, so a finished run that is finished
    again gets the same statistics."""
    from convsuite.common.batchnorm import batchnorm_layers, recompute_batchnorm_statistics

    if not experiment.trainer.recompute_batchnorm or not batchnorm_layers(model):
        return
    batch_size = max(experiment.trainer.batch_size, 256)

    def batches():
        return evaluation_batches(data.x_train, data.y_train, batch_size, data.decode)

    recompute_batchnorm_statistics(model, batches())
    best_path = run_dir / "best.keras"
    if best_path.exists():
        best = load_model_checked(best_path)
        recompute_batchnorm_statistics(best, batches())
        save_model_atomic(best, best_path)


def _finish(experiment, model, data, run_dir, runtime, throughput, epochs_done, report=None) -> dict:
    _recompute_batchnorm(experiment, model, data, run_dir)
    save_model_atomic(model, run_dir / "model.keras")
    test = evaluate_model(model, data.x_test, data.y_test, decode=data.decode)
    metrics = {
        "experiment": experiment.name,
        "suite": experiment.suite,
        "epochs": int(epochs_done),
        "backend": runtime.backend,
        "device": runtime.device_kind,
        "replicas": runtime.num_replicas,
        "precision": experiment.runtime.precision,
        **{f"test_{key}": value for key, value in test.items()},
        "train_examples": int(len(data.y_train)),
        "test_examples": int(len(data.y_test)),
    }
    if len(data.y_val):
        metrics.update({f"val_{k}": v for k, v in evaluate_model(model, data.x_val, data.y_val,
                                                                          decode=data.decode).items()})
    if throughput is not None and throughput.total_seconds:
        metrics["train_seconds"] = round(throughput.total_seconds, 3)
        metrics["train_examples_per_s"] = round(throughput.total_examples / throughput.total_seconds, 1)
    elif throughput is None:  # a finished run evaluated again: the timing is that of the run that trained it
        metrics.update(_previous_timing(run_dir))
    if report is not None:
        metrics.update(report(model))  # the suite's own keys (dataset, model, baselines), before the one write
    return write_metrics(run_dir, metrics)


def measure_rates(model, x, y, batch_size: int, train_batches: int, x_infer, inference_batch_size: int = 256):
    """(training examples/s, inference examples/s) of a compiled ``model``: one warm-up epoch of
    ``train_batches`` batches (tracing, compilation) and a warm-up prediction, then two timed epochs
    and one timed pass over ``x_infer``. The benchmarks of the suites share it."""
    inputs = training_batches(x, y, batch_size, 0, 0, 3)
    model.fit(inputs, epochs=1, steps_per_epoch=train_batches, verbose=0)
    start = time.perf_counter()
    model.fit(inputs, initial_epoch=1, epochs=3, steps_per_epoch=train_batches, verbose=0)
    train_rate = 2 * train_batches * batch_size / (time.perf_counter() - start)
    model.predict(x_infer[: 2 * batch_size], batch_size=inference_batch_size, verbose=0)
    start = time.perf_counter()
    model.predict(x_infer, batch_size=inference_batch_size, verbose=0)
    return train_rate, len(x_infer) / (time.perf_counter() - start)


def _previous_timing(run_dir: Path) -> dict:
    import json

    try:
        previous = json.loads((Path(run_dir) / "metrics.json").read_text())
    except (OSError, ValueError):
        return {}
    return {key: previous[key] for key in ("train_seconds", "train_examples_per_s") if key in previous}


def experiment_from_run(run_dir: str | Path, experiments: dict, default: Callable[[], Experiment]) -> Experiment:
    """Rebuild the experiment a run directory was trained with: its ``config.toml`` read over
    the named experiment it started from (``experiments[name]``, else ``default``)."""
    path = Path(run_dir) / "config.toml"
    if not path.exists():
        raise ConvsuiteError(f"{run_dir} has no config.toml; pass a directory written by `convsuite train`")
    return config_lib.experiment_from_toml(path, experiments, default)  # a garbage file is a one-line error


def load_run_model(run_dir: str | Path, which: str = "model"):
    """Load ``model.keras`` (final) or ``best.keras`` from a finished run directory."""
    import convsuite

    convsuite.register_keras_objects()  # every suite's custom layers, whichever suite wrote the run
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConvsuiteError(f"checkpoint directory {run_dir} does not exist")
    path = run_dir / f"{which}.keras"
    if not path.exists():
        manager = CheckpointManager(run_dir)
        if manager.exists():
            model, _ = manager.restore()
            return model
        raise ConvsuiteError(f"{run_dir} has no {which}.keras and no checkpoints; is it a convsuite run directory?")
    return load_model_checked(path)
