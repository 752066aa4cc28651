"""The supervised trainer every supervised suite shares, built on ``model.fit``.

It adds what a long run needs around ``fit``: atomic checkpoints every N epochs and/or
steps, resume that restores weights, optimizer state, epoch, batch and RNG state, export
of the best model, TensorBoard and CSV logs, early stopping, a progress bar, and a
``metrics.json`` summary of the finished run.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from convsuite.common import config as config_lib
from convsuite.common.checkpoint import (
    CheckpointManager,
    atomic_write_text,
    load_model_checked,
    restore_rng_state,
    save_model_atomic,
)
from convsuite.common.config import Experiment
from convsuite.common.errors import ConvsuiteError
from convsuite.common.inputs import BatchDecoder, evaluation_batches, steps_per_epoch, training_batches


@dataclass
class SupervisedData:
    """Arrays ready for the model: training, validation (may be empty) and test splits.

    With ``decode`` the x arrays hold a compact stored form that each batch is decoded from
    (see ``common.inputs.BatchDecoder``)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    decode: BatchDecoder | None = None


def split_validation(x, y, fraction: float, seed: int):
    """Hold out a fixed random ``fraction`` of the training split for validation."""
    if fraction <= 0:
        return x, y, x[:0], y[:0]
    order = np.random.default_rng([seed, 7919]).permutation(len(y))
    n_val = max(1, int(round(len(y) * fraction)))
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    return x[train], y[train], x[val], y[val]


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
    raise ConvsuiteError(f"trainer.optimizer must be adam, adamw, sgd or rmsprop, got {name!r}")


def run_directory(experiment: Experiment) -> Path:
    return Path(experiment.trainer.run_dir or Path("runs") / (experiment.name or experiment.suite or "run"))


def _keras_callbacks():
    import keras

    return keras.callbacks.Callback


class RunState(_keras_callbacks()):
    """Checkpoints, best-model export and early stopping, with their state kept in checkpoints."""

    def __init__(self, manager, run_dir, trainer_cfg, per_epoch, first_epoch, skip_batches, global_step, extra):
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
        self.mode_max = "acc" in trainer_cfg.monitor or "auc" in trainer_cfg.monitor
        self.stopped_early = bool(extra.get("stopped_early", False))

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
        value = logs.get(self.cfg.monitor)
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
        last = epoch + 1 >= self.cfg.epochs or self.stopped_early
        every = self.cfg.checkpoint_every_epochs
        if last or (every and (epoch + 1) % every == 0):
            self.manager.save(self.model, epoch + 1, 0, self.global_step, self._extra())


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

    ``report(model)`` adds task-specific numbers (a forecast's MASE against its baselines,
    say) to the metrics written to ``metrics.json``."""
    import keras

    from convsuite.common.runtime import configure

    cfg = experiment.trainer
    if cfg.epochs < 1 or cfg.batch_size < 1:
        raise ConvsuiteError(f"trainer.epochs and trainer.batch_size must be >= 1, got {cfg.epochs} and {cfg.batch_size}")
    run_dir = run_directory(experiment)
    run_dir.mkdir(parents=True, exist_ok=True)
    runtime = configure(experiment.runtime)
    if runtime.is_multiworker and runtime.backend == "tensorflow":
        from convsuite.common.distribute import train_multiworker

        return train_multiworker(experiment, build_model, data, runtime, loss=loss, metrics=metrics)

    _check_config_matches(run_dir, experiment, resume)
    manager = CheckpointManager(run_dir, cfg.keep_checkpoints)
    if not resume:  # starting over: the old run's checkpoints and log would mix with the new one
        shutil.rmtree(manager.directory, ignore_errors=True)
        (run_dir / "log.csv").unlink(missing_ok=True)
    keras.utils.set_random_seed(cfg.seed)
    restored = manager.restore() if resume and manager.exists() else None
    with runtime.scope():
        if restored is not None:
            model, state = restored
            first_epoch, skip, global_step = state["epoch"], state["batch_in_epoch"], state["global_step"]
            restore_rng_state(state.get("rng", {}))
            extra = state.get("extra", {})
            print(f"Resuming {run_dir} at epoch {first_epoch + 1}, batch {skip} (step {global_step}).")
        else:
            model = build_model()
            model.compile(optimizer=make_optimizer(cfg), loss=loss, metrics=list(metrics),
                          jit_compile=runtime.jit_compile)
            first_epoch, skip, global_step, extra = 0, 0, 0, {}
    atomic_write_text(run_dir / "config.toml", config_lib.to_toml(experiment))
    if first_epoch >= cfg.epochs or extra.get("stopped_early"):
        print(f"{run_dir} already finished {first_epoch} epochs; evaluating.")
        return _finish(experiment, model, data, run_dir, runtime, None, first_epoch, report)

    per_epoch = steps_per_epoch(len(data.y_train), cfg.batch_size)
    run_state = RunState(manager, run_dir, cfg, per_epoch, first_epoch, skip, global_step, extra)
    throughput = Throughput(len(data.y_train))
    callbacks = [throughput, run_state, keras.callbacks.CSVLogger(str(run_dir / "log.csv"), append=True)]
    if cfg.lr_decay_per_epoch != 1.0:
        base, decay = cfg.learning_rate, cfg.lr_decay_per_epoch
        callbacks.insert(0, keras.callbacks.LearningRateScheduler(lambda epoch: base * decay**epoch))
    if runtime.backend == "tensorflow":
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard"), update_freq="epoch"))
    validation = (evaluation_batches(data.x_val, data.y_val, cfg.batch_size, data.decode) if len(data.y_val)
                  else None)
    verbose = 1 if cfg.progress else 2

    # A mid-epoch resume first finishes the interrupted epoch, then runs the rest as usual.
    start = first_epoch
    if skip:
        inputs = training_batches(data.x_train, data.y_train, cfg.batch_size, cfg.seed, start, start + 1, skip,
                                  decode=data.decode)
        model.fit(inputs, initial_epoch=start, epochs=start + 1, steps_per_epoch=per_epoch - skip,
                  validation_data=validation, callbacks=callbacks, verbose=verbose, shuffle=False)
        start += 1
    if start < cfg.epochs and not model.stop_training:
        inputs = training_batches(data.x_train, data.y_train, cfg.batch_size, cfg.seed, start, cfg.epochs,
                                  decode=data.decode)
        model.fit(inputs, initial_epoch=start, epochs=cfg.epochs, steps_per_epoch=per_epoch,
                  validation_data=validation, callbacks=callbacks, verbose=verbose, shuffle=False)
    epochs_done = run_state.epoch + 1
    return _finish(experiment, model, data, run_dir, runtime, throughput, epochs_done, report)


def _check_config_matches(run_dir: Path, experiment: Experiment, resume: bool) -> None:
    """Refuse to resume a run whose model or data differ from the current experiment."""
    saved = run_dir / "config.toml"
    if not (resume and saved.exists() and (run_dir / "checkpoints").exists()):
        return
    import tomllib

    previous = tomllib.loads(saved.read_text())
    current = tomllib.loads(config_lib.to_toml(experiment))
    for section in ("model", "data"):
        if previous.get(section) != current.get(section):
            raise ConvsuiteError(
                f"{run_dir} holds a run with a different {section} config than this one; "
                f"choose another trainer.run_dir or delete {run_dir}"
            )


def evaluate_model(model, x, y, batch_size: int = 256, decode: BatchDecoder | None = None) -> dict:
    results = model.evaluate(evaluation_batches(x, y, batch_size, decode), verbose=0, return_dict=True)
    return {key: float(value) for key, value in results.items()}


def _finish(experiment, model, data, run_dir, runtime, throughput, epochs_done, report=None) -> dict:
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
    if report is not None:
        metrics.update(report(model))
    atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=1))
    return metrics


def experiment_from_run(run_dir: str | Path, experiments: dict, default: Callable[[], Experiment]) -> Experiment:
    """Rebuild the experiment a run directory was trained with: its ``config.toml`` read over
    the named experiment it started from (``experiments[name]``, else ``default``)."""
    import tomllib

    path = Path(run_dir) / "config.toml"
    if not path.exists():
        raise ConvsuiteError(f"{run_dir} has no config.toml; pass a directory written by `convsuite train`")
    name = tomllib.loads(path.read_text()).get("name", "")
    return config_lib.load_toml(path, experiments.get(name, default)())


def load_run_model(run_dir: str | Path, which: str = "model"):
    """Load ``model.keras`` (final) or ``best.keras`` from a finished run directory."""
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
