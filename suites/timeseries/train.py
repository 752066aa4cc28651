"""Trainer, evaluator and benchmark of the time-series suite: the suite's contract names, each
dispatching on ``data.task`` to its module in ``tasks/`` (forecast, classify, anomaly, and the
synthetic adding / copy tasks). Each task reports its test numbers next to a classical baseline on
the same data (seasonal-naive and linear AR MASE, 1-NN Euclidean accuracy, Spectral Residual F1,
predict-1 MSE, memoryless cross-entropy).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np

from convsuite.common import trainer as trainer_lib
from convsuite.common.trainer import make_optimizer
from convsuite.suites.timeseries.config import EXPERIMENTS, TimeSeriesExperiment
from convsuite.suites.timeseries.models import build_model
from convsuite.suites.timeseries.tasks import anomaly, classify, forecast as forecast_task, synthetic
from convsuite.suites.timeseries.tasks import global_forecast
# Forecasting helpers older notebooks import from here (the package exports them from tasks.forecast).
from convsuite.suites.timeseries.tasks.forecast import forecast, prepare_forecast, recursive_forecast  # noqa: F401

# data.task -> its module: train(experiment, resume), evaluate(experiment, run_dir, which), bench_inputs(...)
TASKS = {"forecast": forecast_task, "classify": classify, "anomaly": anomaly, "adding": synthetic, "copy": synthetic,
         "global": global_forecast}


def train(experiment: TimeSeriesExperiment, resume: bool = True) -> dict:
    """Train the experiment's task; write the run directory; return its metrics."""
    experiment.validate()
    return TASKS[experiment.data.task].train(experiment, resume)


def experiment_from_run(run_dir: str | Path) -> TimeSeriesExperiment:
    """Rebuild the experiment a run directory was trained with (its config.toml)."""
    return trainer_lib.experiment_from_run(run_dir, EXPERIMENTS, TimeSeriesExperiment)


def load_run(run_dir: str | Path, which: str = "model"):
    """(model, experiment) of a run directory: ``model.keras`` (final) or ``best.keras``. A
    classification run holds one model per UCR set: load ``RUN/<set>`` for those."""
    experiment = experiment_from_run(run_dir)
    return trainer_lib.load_run_model(run_dir, which), experiment


def evaluate(run_dir: str | Path, which: str = "model", experiment: TimeSeriesExperiment | None = None) -> dict:
    """Test metrics of a finished run on the same data it was trained with."""
    experiment = experiment or experiment_from_run(run_dir)
    experiment.validate()
    task = experiment.data.task
    head = {"experiment": experiment.name, "checkpoint": str(run_dir), "which": which, "task": task}
    return {**head, **TASKS[task].evaluate(experiment, run_dir, which)}


def bench(experiment: TimeSeriesExperiment, train_batches: int = 20, inference_samples: int = 2048) -> dict:
    """Training and inference samples/s of the experiment's model on synthetic input of the
    experiment's shape (forecast windows, UCR-like series of length 150, SR-CNN windows, ...)."""
    import keras

    from convsuite.common.inputs import training_batches
    from convsuite.common.runtime import configure

    experiment.validate()
    runtime = configure(experiment.runtime)
    batch = experiment.trainer.batch_size
    rng = np.random.default_rng(0)
    n = batch * train_batches
    task_module = TASKS[experiment.data.task]
    x, y, num_inputs, num_outputs = task_module.bench_inputs(experiment, n, rng)
    task = experiment.data.task
    loss = {"forecast": "mse", "global": "mse", "classify": "sparse_categorical_crossentropy",
            "anomaly": "binary_crossentropy", "adding": "mse", "copy": "sparse_categorical_crossentropy"}[task]
    with runtime.scope():
        bench_exp = copy.deepcopy(experiment)
        if task == "global":  # one quantile model across a collection: its layout comes from the collection
            from convsuite.suites.timeseries.models import PinballLoss

            model = task_module.bench_model(bench_exp, num_inputs)
            loss = PinballLoss(experiment.model.quantiles)
        else:
            bench_exp.model.quantiles = []
            model = build_model(bench_exp, num_inputs=num_inputs, num_outputs=num_outputs)
        model.compile(optimizer=make_optimizer(experiment.trainer), loss=loss, jit_compile=runtime.jit_compile)
    inputs = training_batches(x, y, batch, 0, 0, 3)
    model.fit(inputs, epochs=1, steps_per_epoch=train_batches, verbose=0)  # warm-up: tracing / compilation
    start = time.perf_counter()
    model.fit(inputs, initial_epoch=1, epochs=3, steps_per_epoch=train_batches, verbose=0)
    train_rate = 2 * n / (time.perf_counter() - start)
    x_infer, _, _, _ = task_module.bench_inputs(experiment, inference_samples, rng)
    model.predict(x_infer[: 2 * batch], batch_size=batch, verbose=0)
    start = time.perf_counter()
    model.predict(x_infer, batch_size=max(batch, 256), verbose=0)
    infer_rate = inference_samples / (time.perf_counter() - start)
    result = {"suite": "timeseries", "task": task, "model": model.name, "params": int(model.count_params()),
              "input_shape": list(x.shape[1:]), "batch_size": batch, "backend": keras.backend.backend(),
              "device": runtime.device_kind, "precision": experiment.runtime.precision,
              "jit_compile": runtime.jit_compile,
              "train_samples_per_s": round(train_rate, 1), "inference_samples_per_s": round(infer_rate, 1)}
    if task == "forecast":  # one streaming step against recomputing the whole window, batches up to inference_samples
        from convsuite.suites.timeseries.streaming import streaming_speed

        result["streaming"] = streaming_speed(model, experiment.data.input_length,
                                              [b for b in (1, 64, 1024) if b <= inference_samples])
    return result
