"""Classification of UCR/UEA sets: one FCN (Wang et al. 2017) per set, each next to 1-NN
Euclidean distance and the majority class on the same split."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from convsuite.common import config as config_lib
from convsuite.common import trainer as trainer_lib
from convsuite.common.arrays import SupervisedData
from convsuite.common.checkpoint import atomic_write_text
from convsuite.common.errors import ConvsuiteError
from convsuite.common.results import write_metrics
from convsuite.common.trainer import evaluate_model, run_directory
from convsuite.suites.timeseries import baselines
from convsuite.suites.timeseries.config import TimeSeriesExperiment
from convsuite.suites.timeseries.models import build_model
from convsuite.suites.timeseries.series import check_channels
from convsuite.suites.timeseries.tasks import compile_if_needed, described
from convsuite.suites.timeseries.ucr import ClassificationSet, load_ucr


def _ucr_names(experiment) -> list[str]:
    names = [name.strip() for name in experiment.data.dataset.split(",") if name.strip()]
    if not names:
        raise ConvsuiteError("data.dataset must name at least one UCR set, e.g. GunPoint or GunPoint,ArrowHead")
    return names


def _classification_data(dataset: ClassificationSet) -> SupervisedData:
    empty_x = dataset.x_train[:0]
    return SupervisedData(dataset.x_train, dataset.y_train, empty_x, dataset.y_train[:0],
                          dataset.x_test, dataset.y_test)


def train(experiment: TimeSeriesExperiment, resume: bool = True) -> dict:
    """One FCN run per UCR set (RUN/<set>/), each next to 1-NN Euclidean; RUN/metrics.json sums them up."""
    run_dir = run_directory(experiment)
    per_set = {}
    for name in _ucr_names(experiment):
        dataset = load_ucr(name, experiment.data.data_dir)
        sub = copy.deepcopy(experiment)
        sub.name, sub.data.dataset = f"{experiment.name}-{name}", name
        sub.trainer.run_dir = str(run_dir / name)
        sub.trainer.batch_size = min(experiment.trainer.batch_size, len(dataset.y_train))
        print(f"FCN on {name}: {len(dataset.y_train)} train / {len(dataset.y_test)} test series, "
              f"{dataset.num_channels} channel(s), {dataset.num_classes} classes")
        data = _classification_data(dataset)
        nn1 = baselines.nearest_neighbour_accuracy(dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test)
        metrics = trainer_lib.train(
            sub, lambda d=dataset: build_model(experiment, num_inputs=d.num_channels, num_outputs=d.num_classes),
            data, resume=resume, report=lambda model, v=nn1, d=dataset: {**described(sub), "nn1_euclidean_accuracy": v,
                                                                         "chance_accuracy": _chance(d)})
        per_set[name] = metrics
    return _classification_summary(experiment, run_dir, per_set)


def _chance(dataset) -> float:
    """Accuracy of always answering the most frequent training class."""
    majority = np.bincount(dataset.y_train).argmax()
    return float(np.mean(dataset.y_test == majority))


def _classification_summary(experiment, run_dir: Path, per_set: dict) -> dict:
    summary = {
        "experiment": experiment.name, "suite": "timeseries", "task": "classify", "model": "fcn",
        "datasets": {name: {"test_accuracy": m["test_accuracy"], "nn1_euclidean_accuracy": m["nn1_euclidean_accuracy"],
                            "chance_accuracy": m["chance_accuracy"], "epochs": m["epochs"]}
                     for name, m in per_set.items()},
    }
    summary["wins_over_nn1"] = int(sum(v["test_accuracy"] > v["nn1_euclidean_accuracy"] for v in summary["datasets"].values()))
    summary["mean_test_accuracy"] = float(np.mean([v["test_accuracy"] for v in summary["datasets"].values()]))
    atomic_write_text(run_dir / "config.toml", config_lib.to_toml(experiment))
    return write_metrics(run_dir, summary)


def evaluate(experiment: TimeSeriesExperiment, run_dir: str | Path, which: str = "model") -> dict:
    sets = {}
    for name in _ucr_names(experiment):
        dataset = load_ucr(name, experiment.data.data_dir)
        model = trainer_lib.load_run_model(Path(run_dir) / name, which)
        check_channels(dataset.x_test, int(model.input_shape[-1]), f"{name} test series")
        compile_if_needed(model, "sparse_categorical_crossentropy", ["accuracy"])
        sets[name] = {f"test_{k}": v for k, v in evaluate_model(model, dataset.x_test, dataset.y_test).items()}
    return {"datasets": sets}


def bench_inputs(experiment: TimeSeriesExperiment, n: int, rng):
    """(x, y, num_inputs, num_outputs) of random UCR-like series: length 150, one channel, two classes."""
    x = rng.normal(size=(n, 150, 1)).astype(np.float32)
    return x, rng.integers(0, 2, size=n), 1, 2
