"""Anomaly detection: Spectral Residual and SR-CNN (Ren et al. 2019) on chunks of a series with
injected, labelled anomalies, scored by point and delay-tolerant F1 (algorithms in ``anomaly.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convsuite.common import trainer as trainer_lib
from convsuite.common.arrays import SupervisedData
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries import anomaly
from convsuite.suites.timeseries.config import TimeSeriesExperiment
from convsuite.suites.timeseries.models import build_model
from convsuite.suites.timeseries.series import check_finite, load_series
from convsuite.suites.timeseries.tasks import described


def prepare_anomaly(experiment: TimeSeriesExperiment, chunk: int = 1008):
    """Clean training chunks, and validation / test chunks with injected, labelled anomalies,
    cut in time order from the target series (3-week chunks for half-hourly data)."""
    d = experiment.data
    series = load_series(d.dataset, d.data_dir, fill=d.fill, timestamp_column=d.timestamp_column,
                                  frequency=d.frequency)
    values = series.values[:, series.column(d.target)].astype(np.float64)
    check_finite(values[:, None], f"series {series.name!r}", [d.target])
    n = len(values)
    n_test, n_val = int(round(n * d.test_fraction)), int(round(n * d.validation_fraction))
    bounds = {"train": (0, n - n_val - n_test), "val": (n - n_val - n_test, n - n_test), "test": (n - n_test, n)}
    window = experiment.model.srcnn_window
    chunk = max(chunk, 4 * window)
    chunks = {}
    for split, (start, stop) in bounds.items():
        pieces = [values[i: i + chunk] for i in range(start, stop - chunk + 1, chunk)]
        if not pieces:
            raise ConvsuiteError(f"the {split} part of {series.name!r} has {stop - start} points, fewer than one "
                                 f"{chunk}-point chunk; lower the other fractions or use a longer series")
        chunks[split] = pieces
    labelled = {}
    for offset, split in enumerate(("val", "test")):
        pairs = [anomaly.inject_anomalies(piece, d.anomaly_rate, seed=experiment.trainer.seed * 1000 + 100 * offset + i)
                 for i, piece in enumerate(chunks[split])]
        labelled[split] = ([p[0] for p in pairs], [p[1] for p in pairs])
    per_series = max(1, d.srcnn_windows // len(chunks["train"]))
    x_train, y_train = anomaly.make_srcnn_windows(chunks["train"], window, per_series, d.srcnn_train_rate,
                                                  seed=experiment.trainer.seed)
    x_val, y_val = anomaly.make_srcnn_windows(chunks["val"], window, max(1, per_series // 4), d.srcnn_train_rate,
                                              seed=experiment.trainer.seed + 1)
    return SupervisedData(x_train, y_train, x_val, y_val, x_val[:0], y_val[:0]), labelled


def anomaly_report(model, labelled, experiment) -> dict:
    (val_series, val_labels), (test_series, test_labels) = labelled["val"], labelled["test"]
    report = anomaly.evaluate_detectors(model, val_series, val_labels, test_series, test_labels,
                                        experiment.model.srcnn_window, delay=experiment.data.anomaly_delay)
    report["test_series"] = len(test_series)
    report["test_anomalous_points"] = int(sum(int(y.sum()) for y in test_labels))
    return report


def train(experiment: TimeSeriesExperiment, resume: bool = True) -> dict:
    """Fit SR-CNN on clean chunks with injected anomalies; metrics.json gets SR and SR-CNN F1 on the test chunks."""
    data, labelled = prepare_anomaly(experiment)
    data.x_test, data.y_test = data.x_val, data.y_val  # the windows' loss is reported on validation windows
    return trainer_lib.train(experiment, lambda: build_model(experiment), data, loss="binary_crossentropy",
                             metrics=["binary_accuracy"], resume=resume,
                             report=lambda model: {**anomaly_report(model, labelled, experiment), **described(experiment)})


def evaluate(experiment: TimeSeriesExperiment, run_dir: str | Path, which: str = "model") -> dict:
    model = trainer_lib.load_run_model(run_dir, which)
    _, labelled = prepare_anomaly(experiment)
    return anomaly_report(model, labelled, experiment)


def bench_inputs(experiment: TimeSeriesExperiment, n: int, rng):
    """(x, y, num_inputs, num_outputs) of random SR-CNN windows with 5% anomalous points."""
    w = experiment.model.srcnn_window
    return rng.normal(size=(n, w, 1)).astype(np.float32), (rng.random((n, w)) < 0.05).astype(np.float32), 1, 1
