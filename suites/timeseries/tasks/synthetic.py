"""The TCN paper's synthetic stress tests (Bai, Kolter & Koltun 2018, section 5): the adding problem
and copy memory, each next to its trivial baseline (predict 1; a memoryless guess)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convsuite.common import trainer as trainer_lib
from convsuite.common.arrays import SupervisedData
from convsuite.common.trainer import evaluate_model
from convsuite.suites.timeseries.config import TimeSeriesExperiment
from convsuite.suites.timeseries.models import build_model
from convsuite.suites.timeseries.synthetic import (
    adding_baseline_mse,
    adding_problem,
    copy_memory,
    copy_memory_baseline_loss,
)
from convsuite.suites.timeseries.tasks import compile_if_needed, described


def prepare_synthetic(experiment: TimeSeriesExperiment) -> SupervisedData:
    """Adding or copy-memory samples; train, validation and test from different seeds."""
    d, seed = experiment.data, experiment.trainer.seed
    make = adding_problem if d.task == "adding" else copy_memory
    n_val = int(round(d.train_samples * d.validation_fraction))
    x_train, y_train = make(d.train_samples, d.sequence_length, seed=3 * seed)
    x_val, y_val = make(max(n_val, 1), d.sequence_length, seed=3 * seed + 1)
    x_test, y_test = make(d.test_samples, d.sequence_length, seed=3 * seed + 2)
    if n_val == 0:
        x_val, y_val = x_val[:0], y_val[:0]
    return SupervisedData(x_train, y_train, x_val, y_val, x_test, y_test)


def synthetic_report(model, data: SupervisedData, experiment) -> dict:
    d = experiment.data
    if d.task == "adding":
        return {"predict_one_mse": float(np.mean((data.y_test - 1.0) ** 2)), "baseline_mse": adding_baseline_mse(),
                "sequence_length": d.sequence_length}
    probabilities = np.asarray(model.predict(data.x_test, verbose=0, batch_size=256))
    recall = probabilities[:, -10:].argmax(axis=-1) == data.y_test[:, -10:]
    return {"recall_accuracy": float(recall.mean()), "chance_recall_accuracy": 0.125,
            "memoryless_loss": copy_memory_baseline_loss(d.sequence_length), "sequence_length": d.sequence_length}


def train(experiment: TimeSeriesExperiment, resume: bool = True) -> dict:
    """Fit the TCN on adding or copy-memory samples; metrics.json gets the task's trivial baseline."""
    data = prepare_synthetic(experiment)
    loss, metrics = compile_settings(experiment)
    return trainer_lib.train(experiment, lambda: build_model(experiment), data, loss=loss, metrics=metrics,
                             resume=resume,
                             report=lambda model: {**synthetic_report(model, data, experiment), **described(experiment)})


def compile_settings(experiment: TimeSeriesExperiment) -> tuple[str, list]:
    """(loss, metrics): MSE for the adding problem, cross-entropy and accuracy for copy memory."""
    if experiment.data.task == "adding":
        return "mse", []
    return "sparse_categorical_crossentropy", ["accuracy"]


def evaluate(experiment: TimeSeriesExperiment, run_dir: str | Path, which: str = "model") -> dict:
    model = trainer_lib.load_run_model(run_dir, which)
    data = prepare_synthetic(experiment)
    compile_if_needed(model, *compile_settings(experiment))
    test = evaluate_model(model, data.x_test, data.y_test)
    return {**{f"test_{k}": v for k, v in test.items()}, **synthetic_report(model, data, experiment)}


def bench_inputs(experiment: TimeSeriesExperiment, n: int, rng):
    """(x, y, num_inputs, num_outputs) of the task's own samples."""
    d = experiment.data
    if d.task == "adding":
        x, y = adding_problem(n, d.sequence_length, 0)
        return x, y, 2, 1
    x, y = copy_memory(n, d.sequence_length, 0)
    return x, y, 0, 10
