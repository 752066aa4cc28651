"""Trainer, evaluator and benchmark of the time-series suite, on the shared common.trainer.

One entry point per task: ``train`` dispatches on ``data.task``. Each task reports its test
numbers next to a classical baseline on the same data (seasonal-naive and linear AR MASE,
1-NN Euclidean accuracy, Spectral Residual F1, predict-1 MSE, memoryless cross-entropy).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import numpy as np

from convsuite.common import config as config_lib
from convsuite.common import trainer as trainer_lib
from convsuite.common.checkpoint import atomic_write_text
from convsuite.common.errors import ConvsuiteError
from convsuite.common.trainer import SupervisedData, evaluate_model, run_directory
from convsuite.suites.timeseries import baselines
from convsuite.suites.timeseries import data as data_lib
from convsuite.suites.timeseries.config import EXPERIMENTS, TASKS, TimeSeriesExperiment

MODEL_FOR_TASK = {"forecast": "tcn", "adding": "tcn", "copy": "tcn", "classify": "fcn", "anomaly": "srcnn"}


def check_experiment(experiment: TimeSeriesExperiment) -> None:
    """Refuse inconsistent settings before any data loads."""
    d, m = experiment.data, experiment.model
    if d.task not in TASKS:
        raise ConvsuiteError(f"data.task must be one of {', '.join(TASKS)}, got {d.task!r}")
    if m.name != MODEL_FOR_TASK[d.task]:
        raise ConvsuiteError(f"data.task={d.task} uses model.name={MODEL_FOR_TASK[d.task]}, got {m.name!r}")
    if d.fill not in data_lib.FILL_POLICIES:
        raise ConvsuiteError(f"data.fill must be one of {', '.join(data_lib.FILL_POLICIES)}, got {d.fill!r}")
    if d.forecast not in ("direct", "recursive"):
        raise ConvsuiteError(f"data.forecast must be direct or recursive, got {d.forecast!r}")
    if d.forecast == "recursive" and m.quantiles:
        raise ConvsuiteError("quantile forecasts need data.forecast=direct (a recursive forecast feeds back one value)")
    if m.normalization not in ("weight", "layer", "none"):
        raise ConvsuiteError(f"model.normalization must be weight, layer or none, got {m.normalization!r}")


def _tcn_kwargs(model_cfg, seed: int) -> dict:
    return dict(filters=model_cfg.filters, kernel_size=model_cfg.kernel_size, dilations=model_cfg.dilations,
                stacks=model_cfg.stacks, dropout=model_cfg.dropout, normalization=model_cfg.normalization,
                skip_connections=model_cfg.skip_connections, seed=seed)


def build_model(experiment: TimeSeriesExperiment, num_inputs: int = 1, num_outputs: int = 1):
    """The keras.Model an experiment names (inputs/outputs counts come from the data)."""
    from convsuite.suites.timeseries import anomaly, models

    check_experiment(experiment)
    m, d, seed = experiment.model, experiment.data, experiment.trainer.seed
    if d.task == "forecast":
        horizon = 1 if d.forecast == "recursive" else d.horizon
        return models.tcn_forecaster(num_inputs, horizon=horizon, quantiles=m.quantiles or None, highway=m.highway,
                                     **_tcn_kwargs(m, seed))
    if d.task == "adding":
        return models.tcn_sequence_model(2, 1, output="last", name="tcn_adding", **_tcn_kwargs(m, seed))
    if d.task == "copy":
        return models.tcn_sequence_model(0, 10, output="sequence", vocabulary=10, name="tcn_copy", **_tcn_kwargs(m, seed))
    if d.task == "classify":
        return models.fcn_classifier(num_inputs, num_outputs, filters=m.fcn_filters, kernel_sizes=m.fcn_kernel_sizes)
    return anomaly.srcnn(m.srcnn_window)


def load_run_model(run_dir, which: str = "model"):
    """A trained model of this suite (its custom layers registered first)."""
    import convsuite.suites.timeseries.models  # noqa: F401  (registers the custom layers)

    return trainer_lib.load_run_model(run_dir, which)


def train(experiment: TimeSeriesExperiment, resume: bool = True) -> dict:
    """Train the experiment's task; write the run directory; return its metrics."""
    import convsuite.suites.timeseries.models  # noqa: F401  (a resumed checkpoint needs the custom layers)

    check_experiment(experiment)
    return _TASKS[experiment.data.task](experiment, resume)


# --------------------------------------------------------------------------- forecasting

def model_covariates(experiment: TimeSeriesExperiment) -> list[str]:
    """The input channels after the target: covariates, their leads, calendar features."""
    d = experiment.data
    if d.target in d.known_future:
        raise ConvsuiteError(f"data.known_future names the target {d.target!r}; a forecast cannot see the future target")
    return [*d.covariates, *(f"{c}_lead{d.horizon}" for c in d.known_future),
            *(data_lib.CALENDAR_COLUMNS if d.calendar_features else ())]


def forecast_context(experiment: TimeSeriesExperiment) -> int:
    """Past steps one forecast can see: the receptive field, or the highway's lags if longer."""
    from convsuite.suites.timeseries.models import receptive_field

    m = experiment.model
    return max(receptive_field(m.kernel_size, m.dilations, m.stacks), m.highway)


def prepare_forecast(experiment: TimeSeriesExperiment, length: int = 0,
                     splits=data_lib.SPLITS) -> data_lib.ForecastWindows:
    """Load the series and cut time-ordered train/val/test windows of ``length`` steps
    (default data.input_length), scaled with statistics of the training segment only."""
    d = experiment.data
    context = forecast_context(experiment)
    if d.input_length < context:
        raise ConvsuiteError(
            f"data.input_length={d.input_length} is shorter than the model's receptive field ({context} steps, "
            f"highway included), so the last forecast would see zero padding; raise data.input_length to >= {context} "
            "or use fewer dilations / a shorter highway")
    series = load_forecast_series(experiment)
    covariates = model_covariates(experiment)
    return data_lib.make_forecast_windows(series, d.target, covariates, length or d.input_length, d.horizon,
                                          d.validation_fraction, d.test_fraction, d.stride, d.eval_stride, splits)


def _forecast_training_data(windows, experiment) -> SupervisedData:
    """Training windows of data.train_length steps (more scored steps per window than the
    forecast's input_length gives); validation and test windows as forecasts see them."""
    d = experiment.data
    x_train, y_train = windows.x_train, windows.y_train
    if d.train_length and d.train_length != d.input_length:
        if d.train_length < d.input_length:
            raise ConvsuiteError(f"data.train_length={d.train_length} must be 0 or >= data.input_length={d.input_length}")
        longer = prepare_forecast(experiment, d.train_length, splits=("train",))
        x_train, y_train = longer.x_train, longer.y_train
    keep = slice(0, 1) if d.forecast == "recursive" else slice(None)  # a one-step model: the first horizon only
    return SupervisedData(x_train, y_train[..., keep], windows.x_val, windows.y_val[..., keep],
                          windows.x_test, windows.y_test[..., keep])


def _forecast_loss(experiment):
    from convsuite.suites.timeseries import models

    quantiles = experiment.model.quantiles
    skip = forecast_context(experiment) - 1  # steps whose receptive field is still filling with padding
    metrics = [models.MedianAbsoluteError(quantiles or None, skip_steps=skip)]
    if quantiles:
        return models.PinballLoss(quantiles, skip_steps=skip), metrics
    return models.StepMeanSquaredError(skip_steps=skip), metrics


def recursive_forecast(model, x, future_covariates, horizon: int) -> np.ndarray:
    """Iterate a one-step model ``horizon`` times, feeding each forecast back as the newest
    target value. Covariates after the origin are taken as known (``future_covariates``
    (N, horizon-1, C-1), e.g. calendar flags or a weather forecast). Returns (N, horizon)."""
    window = np.array(x, dtype=np.float32, copy=True)
    forecasts = []
    for h in range(horizon):
        step = np.asarray(model.predict(window, verbose=0, batch_size=256))[:, -1, 0]
        forecasts.append(step)
        if h + 1 < horizon:
            row = np.concatenate([step[:, None], future_covariates[:, h]], axis=1)[:, None].astype(np.float32)
            window = np.concatenate([window[:, 1:], row], axis=1)
    return np.stack(forecasts, axis=1)


def _future_covariates(windows, series_scaled, starts) -> np.ndarray:
    """Scaled covariates at the steps after each origin: (N, horizon-1, C-1)."""
    after = starts[:, None] + windows.input_length + np.arange(windows.horizon - 1)[None, :]
    return series_scaled[after][..., 1:]


def forecast_report(model, windows: data_lib.ForecastWindows, experiment: TimeSeriesExperiment, split="test") -> dict:
    """MASE of the CNN's forecasts from every origin of ``split`` against seasonal-naive and a
    linear AR model fitted on the training segment; quantile coverage when there are quantiles."""
    x, y, starts = getattr(windows, f"x_{split}"), getattr(windows, f"y_{split}"), getattr(windows, f"{split}_input_start")
    truth = windows.inverse_target(y[:, -1, :])  # (N, H): the horizon after each window's last step
    quantiles = experiment.model.quantiles
    if experiment.data.forecast == "recursive":
        scaled_values = ((windows_values(windows, experiment) - windows.mean) / windows.std).astype(np.float32)
        predicted = windows.inverse_target(recursive_forecast(model, x, _future_covariates(windows, scaled_values, starts),
                                                              windows.horizon))
        bands = None
    else:
        out = np.asarray(model.predict(x, verbose=0, batch_size=256))[:, -1]  # (N, H) or (N, H, Q)
        if quantiles:
            bands = windows.inverse_target(out)
            middle = int(np.argmin([abs(q - 0.5) for q in quantiles]))
            predicted = bands[..., middle]
        else:
            bands, predicted = None, windows.inverse_target(out)
    train_start, train_stop = windows.segments["train"]
    training_series = windows.target_values[train_start:train_stop]
    histories = np.stack([windows.target_values[s: s + windows.input_length] for s in starts])
    period = windows.period
    naive = baselines.seasonal_naive(histories, windows.horizon, period)
    ar = baselines.LinearAR(lags=windows.input_length, horizon=windows.horizon).fit(training_series)  # the CNN's window
    ar_forecast = ar.predict(histories)
    report = {
        f"{split}_mase": baselines.mase(truth, predicted, training_series, period),
        f"{split}_seasonal_naive_mase": baselines.mase(truth, naive, training_series, period),
        f"{split}_linear_ar_mase": baselines.mase(truth, ar_forecast, training_series, period),
        f"{split}_mae": float(np.mean(np.abs(truth - predicted))),
        f"{split}_origins": int(len(starts)),
        "period": int(period),
        "linear_ar_lags": int(ar.lags),
    }
    if bands is not None:
        lo, hi = bands[..., 0], bands[..., -1]
        report[f"{split}_interval_coverage"] = float(np.mean((truth >= lo) & (truth <= hi)))
        report["interval"] = [quantiles[0], quantiles[-1]]
        report[f"{split}_quantile_crossings"] = int(np.sum(np.diff(bands, axis=-1) < 0))
    return report


def load_forecast_series(experiment: TimeSeriesExperiment) -> data_lib.Series:
    d = experiment.data
    series = data_lib.load_series(d.dataset, d.data_dir, fill=d.fill, timestamp_column=d.timestamp_column,
                                  frequency=d.frequency)
    series = data_lib.with_leads(series, d.known_future, d.horizon)
    return data_lib.with_calendar_features(series) if d.calendar_features else series


def windows_values(windows: data_lib.ForecastWindows, experiment: TimeSeriesExperiment) -> np.ndarray:
    """The unscaled model columns (target, covariates) of the whole series."""
    series = load_forecast_series(experiment)
    return series.values[:, [series.column(c) for c in windows.columns]].astype(np.float64)


def _save_scaler(run_dir: Path, windows: data_lib.ForecastWindows) -> None:
    atomic_write_text(run_dir / "scaler.json", json.dumps({
        "columns": windows.columns, "mean": windows.mean.tolist(), "std": windows.std.tolist(),
        "input_length": windows.input_length, "horizon": windows.horizon, "period": windows.period}, indent=1))


def initialise_highway(model, windows: data_lib.ForecastWindows) -> None:
    """Start the highway at the least-squares linear AR of the scaled training segment, so
    the convolutions learn what a linear model misses instead of re-learning the linear part."""
    from convsuite.suites.timeseries.models import AutoregressiveHighway

    for layer in model.layers:
        if isinstance(layer, AutoregressiveHighway):
            start, stop = windows.segments["train"]
            scaled = (windows.target_values[start:stop] - windows.mean[0]) / windows.std[0]
            ar = baselines.LinearAR(lags=layer.lags, horizon=layer.horizon).fit(scaled)
            layer.kernel.assign(ar.coef_[:, None, :].astype("float32"))
            layer.bias.assign(np.asarray(ar.intercept_, dtype="float32"))


def _train_forecast(experiment, resume):
    windows = prepare_forecast(experiment)
    loss, metrics = _forecast_loss(experiment)
    run_dir = run_directory(experiment)
    run_dir.mkdir(parents=True, exist_ok=True)
    _save_scaler(run_dir, windows)

    def build():
        model = build_model(experiment, num_inputs=windows.x_train.shape[-1])
        initialise_highway(model, windows)
        return model

    result = trainer_lib.train(
        experiment, build,
        _forecast_training_data(windows, experiment), loss=loss, metrics=metrics, resume=resume,
        report=lambda model: forecast_report(model, windows, experiment))
    return _described(result, experiment)


def forecast(model_or_run_dir, history, future_covariates=None, which: str = "model") -> np.ndarray:
    """Forecast the next horizon steps after ``history`` (time, channels) or (N, time, channels)
    in the series' own units, from a forecasting run directory (which holds the scaler).

    Returns (N, horizon) or (N, horizon, quantiles). A recursive model needs the covariates of
    the next horizon-1 steps in ``future_covariates`` when it has covariates."""
    run_dir = Path(model_or_run_dir)
    scaler_path = run_dir / "scaler.json"
    if not scaler_path.exists():
        raise ConvsuiteError(f"{run_dir} has no scaler.json; pass the directory of a `convsuite train timeseries` forecast run")
    scaler = json.loads(scaler_path.read_text())
    model = load_run_model(run_dir, which)
    mean, std = np.asarray(scaler["mean"]), np.asarray(scaler["std"])
    history = np.asarray(history, dtype=np.float64)
    if history.ndim == 2:
        history = history[None]
    data_lib.check_channels(history, len(mean), "the forecast history")
    data_lib.check_finite(history.reshape(-1, history.shape[-1]), "the forecast history", scaler["columns"])
    rf = _receptive_field_of(model)
    if history.shape[1] < rf:
        raise ConvsuiteError(f"the history has {history.shape[1]} steps but the model's receptive field is {rf}; "
                             f"pass at least {rf} steps so the forecast does not rest on zero padding")
    x = ((history - mean) / std).astype(np.float32)
    horizon = int(scaler["horizon"])
    if int(model.output_shape[2]) == 1 and horizon > 1:  # a one-step model, iterated
        if len(mean) > 1:
            if future_covariates is None:
                raise ConvsuiteError(f"a recursive forecast with covariates needs future_covariates of shape "
                                     f"(N, {horizon - 1}, {len(mean) - 1})")
            future = (np.asarray(future_covariates, dtype=np.float64).reshape(len(x), horizon - 1, -1) - mean[1:]) / std[1:]
        else:
            future = np.zeros((len(x), horizon - 1, 0))
        out = recursive_forecast(model, x, future, horizon)
    else:
        out = np.asarray(model.predict(x, verbose=0))[:, -1]
    return out * std[0] + mean[0]


def _receptive_field_of(model) -> int:
    """Past steps a loaded forecaster's output sees (blocks and highway)."""
    from convsuite.common.blocks import CausalResidualBlock
    from convsuite.suites.timeseries.models import AutoregressiveHighway

    blocks = [layer for layer in model.layers if isinstance(layer, CausalResidualBlock)]
    highways = [layer.lags for layer in model.layers if isinstance(layer, AutoregressiveHighway)]
    return max([1 + sum(block.receptive_field - 1 for block in blocks), *highways])


# --------------------------------------------------------------------------- classification

def _ucr_names(experiment) -> list[str]:
    names = [name.strip() for name in experiment.data.dataset.split(",") if name.strip()]
    if not names:
        raise ConvsuiteError("data.dataset must name at least one UCR set, e.g. GunPoint or GunPoint,ArrowHead")
    return names


def _classification_data(dataset: data_lib.ClassificationSet) -> SupervisedData:
    empty_x = dataset.x_train[:0]
    return SupervisedData(dataset.x_train, dataset.y_train, empty_x, dataset.y_train[:0],
                          dataset.x_test, dataset.y_test)


def _train_classify(experiment, resume):
    run_dir = run_directory(experiment)
    per_set = {}
    for name in _ucr_names(experiment):
        dataset = data_lib.load_ucr(name, experiment.data.data_dir)
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
            data, resume=resume, report=lambda model, v=nn1, d=dataset: {"nn1_euclidean_accuracy": v, "dataset": d.name,
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
    atomic_write_text(run_dir / "metrics.json", json.dumps(summary, indent=1))
    return summary


# --------------------------------------------------------------------------- anomaly detection

def prepare_anomaly(experiment: TimeSeriesExperiment, chunk: int = 1008):
    """Clean training chunks, and validation / test chunks with injected, labelled anomalies,
    cut in time order from the target series (3-week chunks for half-hourly data)."""
    from convsuite.suites.timeseries import anomaly

    d = experiment.data
    series = data_lib.load_series(d.dataset, d.data_dir, fill=d.fill, timestamp_column=d.timestamp_column,
                                  frequency=d.frequency)
    values = series.values[:, series.column(d.target)].astype(np.float64)
    data_lib.check_finite(values[:, None], f"series {series.name!r}", [d.target])
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
    from convsuite.suites.timeseries import anomaly

    (val_series, val_labels), (test_series, test_labels) = labelled["val"], labelled["test"]
    report = anomaly.evaluate_detectors(model, val_series, val_labels, test_series, test_labels,
                                        experiment.model.srcnn_window, delay=experiment.data.anomaly_delay)
    report["test_series"] = len(test_series)
    report["test_anomalous_points"] = int(sum(int(y.sum()) for y in test_labels))
    return report


def _train_anomaly(experiment, resume):
    data, labelled = prepare_anomaly(experiment)
    data.x_test, data.y_test = data.x_val, data.y_val  # the windows' loss is reported on validation windows
    result = trainer_lib.train(experiment, lambda: build_model(experiment), data, loss="binary_crossentropy",
                               metrics=["binary_accuracy"], resume=resume,
                               report=lambda model: anomaly_report(model, labelled, experiment))
    return _described(result, experiment)


# --------------------------------------------------------------------------- TCN stress tests

def prepare_synthetic(experiment: TimeSeriesExperiment) -> SupervisedData:
    """Adding or copy-memory samples; train, validation and test from different seeds."""
    d, seed = experiment.data, experiment.trainer.seed
    make = data_lib.adding_problem if d.task == "adding" else data_lib.copy_memory
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
        return {"predict_one_mse": float(np.mean((data.y_test - 1.0) ** 2)), "baseline_mse": data_lib.adding_baseline_mse(),
                "sequence_length": d.sequence_length}
    probabilities = np.asarray(model.predict(data.x_test, verbose=0, batch_size=256))
    recall = probabilities[:, -10:].argmax(axis=-1) == data.y_test[:, -10:]
    return {"recall_accuracy": float(recall.mean()), "chance_recall_accuracy": 0.125,
            "memoryless_loss": data_lib.copy_memory_baseline_loss(d.sequence_length), "sequence_length": d.sequence_length}


def _train_synthetic(experiment, resume):
    data = prepare_synthetic(experiment)
    if experiment.data.task == "adding":
        loss, metrics = "mse", []
    else:
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    result = trainer_lib.train(experiment, lambda: build_model(experiment), data, loss=loss, metrics=metrics,
                               resume=resume, report=lambda model: synthetic_report(model, data, experiment))
    return _described(result, experiment)


_TASKS = {"forecast": _train_forecast, "classify": _train_classify, "anomaly": _train_anomaly,
          "adding": _train_synthetic, "copy": _train_synthetic}


def _described(metrics: dict, experiment) -> dict:
    metrics.update(task=experiment.data.task, model=experiment.model.name, dataset=experiment.data.dataset)
    atomic_write_text(run_directory(experiment) / "metrics.json", json.dumps(metrics, indent=1))
    return metrics


# --------------------------------------------------------------------------- evaluate / bench

def experiment_from_run(run_dir: str | Path) -> TimeSeriesExperiment:
    """Rebuild the experiment a run directory was trained with (its config.toml)."""
    return trainer_lib.experiment_from_run(run_dir, EXPERIMENTS, TimeSeriesExperiment)


def evaluate(run_dir: str | Path, which: str = "model", experiment: TimeSeriesExperiment | None = None) -> dict:
    """Test metrics of a finished run on the same data it was trained with."""
    experiment = experiment or experiment_from_run(run_dir)
    check_experiment(experiment)
    task = experiment.data.task
    head = {"experiment": experiment.name, "checkpoint": str(run_dir), "which": which, "task": task}
    if task == "classify":
        sets = {}
        for name in _ucr_names(experiment):
            dataset = data_lib.load_ucr(name, experiment.data.data_dir)
            model = load_run_model(Path(run_dir) / name, which)
            data_lib.check_channels(dataset.x_test, int(model.input_shape[-1]), f"{name} test series")
            _compile_if_needed(model, "sparse_categorical_crossentropy", ["accuracy"])
            sets[name] = {f"test_{k}": v for k, v in evaluate_model(model, dataset.x_test, dataset.y_test).items()}
        return {**head, "datasets": sets}
    model = load_run_model(run_dir, which)
    if task == "forecast":
        windows = prepare_forecast(experiment)
        data_lib.check_channels(windows.x_test, int(model.input_shape[-1]), "the test windows")
        return {**head, **forecast_report(model, windows, experiment)}
    if task == "anomaly":
        _, labelled = prepare_anomaly(experiment)
        return {**head, **anomaly_report(model, labelled, experiment)}
    data = prepare_synthetic(experiment)
    loss, metrics = ("mse", []) if task == "adding" else ("sparse_categorical_crossentropy", ["accuracy"])
    _compile_if_needed(model, loss, metrics)
    test = evaluate_model(model, data.x_test, data.y_test)
    return {**head, **{f"test_{k}": v for k, v in test.items()}, **synthetic_report(model, data, experiment)}


def _compile_if_needed(model, loss, metrics):
    if not model.compiled:
        model.compile(loss=loss, metrics=metrics)


def _bench_inputs(experiment, n: int, rng):
    d = experiment.data
    if d.task == "forecast":
        c = 1 + len(model_covariates(experiment))
        horizon = 1 if d.forecast == "recursive" else d.horizon
        x = rng.normal(size=(n, d.input_length, c)).astype(np.float32)
        y = rng.normal(size=(n, d.input_length, horizon)).astype(np.float32)
        return x, y, c, 1
    if d.task == "classify":
        x = rng.normal(size=(n, 150, 1)).astype(np.float32)
        return x, rng.integers(0, 2, size=n), 1, 2
    if d.task == "anomaly":
        w = experiment.model.srcnn_window
        return rng.normal(size=(n, w, 1)).astype(np.float32), (rng.random((n, w)) < 0.05).astype(np.float32), 1, 1
    if d.task == "adding":
        x, y = data_lib.adding_problem(n, d.sequence_length, 0)
        return x, y, 2, 1
    x, y = data_lib.copy_memory(n, d.sequence_length, 0)
    return x, y, 0, 10


def bench(experiment: TimeSeriesExperiment, train_batches: int = 20, inference_samples: int = 2048) -> dict:
    """Training and inference samples/s of the experiment's model on synthetic input of the
    experiment's shape (forecast windows, UCR-like series of length 150, SR-CNN windows, ...)."""
    import keras

    from convsuite.common.inputs import training_batches
    from convsuite.common.runtime import configure

    check_experiment(experiment)
    runtime = configure(experiment.runtime)
    batch = experiment.trainer.batch_size
    rng = np.random.default_rng(0)
    n = batch * train_batches
    x, y, num_inputs, num_outputs = _bench_inputs(experiment, n, rng)
    task = experiment.data.task
    loss = {"forecast": "mse", "classify": "sparse_categorical_crossentropy", "anomaly": "binary_crossentropy",
            "adding": "mse", "copy": "sparse_categorical_crossentropy"}[task]
    with runtime.scope():
        bench_exp = copy.deepcopy(experiment)
        bench_exp.model.quantiles = []
        model = build_model(bench_exp, num_inputs=num_inputs, num_outputs=num_outputs)
        model.compile(optimizer=trainer_lib.make_optimizer(experiment.trainer), loss=loss, jit_compile=runtime.jit_compile)
    inputs = training_batches(x, y, batch, 0, 0, 3)
    model.fit(inputs, epochs=1, steps_per_epoch=train_batches, verbose=0)  # warm-up: tracing / compilation
    start = time.perf_counter()
    model.fit(inputs, initial_epoch=1, epochs=3, steps_per_epoch=train_batches, verbose=0)
    train_rate = 2 * n / (time.perf_counter() - start)
    x_infer, _, _, _ = _bench_inputs(experiment, inference_samples, rng)
    model.predict(x_infer[: 2 * batch], batch_size=batch, verbose=0)
    start = time.perf_counter()
    model.predict(x_infer, batch_size=max(batch, 256), verbose=0)
    infer_rate = inference_samples / (time.perf_counter() - start)
    return {"suite": "timeseries", "task": task, "model": model.name, "params": int(model.count_params()),
            "input_shape": list(x.shape[1:]), "batch_size": batch, "backend": keras.backend.backend(),
            "device": runtime.device_kind, "precision": experiment.runtime.precision, "jit_compile": runtime.jit_compile,
            "train_samples_per_s": round(train_rate, 1), "inference_samples_per_s": round(infer_rate, 1)}
