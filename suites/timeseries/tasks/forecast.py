"""Forecasting: a TCN / WaveNet forecaster (direct, recursive or quantile) on one series, scored
by MASE next to seasonal-naive and a linear AR model fitted on the same training segment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from convsuite.common import trainer as trainer_lib
from convsuite.common.arrays import SupervisedData
from convsuite.common.checkpoint import atomic_write_text
from convsuite.common.errors import ConvsuiteError
from convsuite.common.trainer import run_directory
from convsuite.suites.timeseries import baselines
from convsuite.suites.timeseries.config import TimeSeriesExperiment
from convsuite.suites.timeseries.models import build_model
from convsuite.suites.timeseries.tasks import described
from convsuite.suites.timeseries.series import (
    CALENDAR_COLUMNS,
    Series,
    check_channels,
    check_finite,
    load_series,
    with_calendar_features,
    with_leads,
)
from convsuite.suites.timeseries.windows import SPLITS, ForecastWindows, make_forecast_windows


def model_covariates(experiment: TimeSeriesExperiment) -> list[str]:
    """The input channels after the target: covariates, their leads, calendar features."""
    d = experiment.data
    if d.target in d.known_future:
        raise ConvsuiteError(f"data.known_future names the target {d.target!r}; a forecast cannot see the future target")
    return [*d.covariates, *(f"{c}_lead{d.horizon}" for c in d.known_future),
            *(CALENDAR_COLUMNS if d.calendar_features else ())]


def forecast_context(experiment: TimeSeriesExperiment) -> int:
    """Past steps one forecast can see: the receptive field, or the highway's lags if longer."""
    from convsuite.suites.timeseries.models import receptive_field

    m = experiment.model
    return max(receptive_field(m.kernel_size, m.dilations, m.stacks), m.highway)


def prepare_forecast(experiment: TimeSeriesExperiment, length: int = 0,
                     splits=SPLITS) -> ForecastWindows:
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
    return make_forecast_windows(series, d.target, covariates, length or d.input_length, d.horizon,
                                          d.validation_fraction, d.test_fraction, d.stride, d.eval_stride, splits)


def _forecast_training_data(windows: ForecastWindows, experiment) -> SupervisedData:
    """Training windows of data.train_length steps (more scored steps per window than the
    forecast's input_length gives); validation and test windows as forecasts see them. Every
    split is stored as (start, length) rows that each batch is cut from (``WindowInputs``)."""
    d = experiment.data
    train = windows
    if d.train_length and d.train_length != d.input_length:
        if d.train_length < d.input_length:
            raise ConvsuiteError(f"data.train_length={d.train_length} must be 0 or >= data.input_length={d.input_length}")
        train = windows.with_input_length(d.train_length, d.stride, splits=("train",))
    horizons = 1 if d.forecast == "recursive" else windows.horizon  # a one-step model: the first horizon only
    decode = windows.decoder(horizons)
    val, test = windows.stored("val"), windows.stored("test")
    return SupervisedData(train.stored("train"), train.stored("train"), val, val, test, test, decode=decode)


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


PREDICT_BATCH = 256
PREDICT_CHUNK_BYTES = 64_000_000


def _origin_chunks(starts: np.ndarray, windows: ForecastWindows, outputs: int):
    """Origins a chunk at a time: ``model.predict`` returns every position of every window,
    (N, input_length, outputs), which must not grow with the number of origins. Chunks are
    whole predict batches, so the batches (and the numbers) are those of one call."""
    per_window = windows.input_length * max(outputs, len(windows.columns)) * 4
    batches = max(1, PREDICT_CHUNK_BYTES // (per_window * PREDICT_BATCH))
    size = batches * PREDICT_BATCH
    for first in range(0, len(starts), size):
        yield starts[first: first + size]


def forecast_report(model, windows: ForecastWindows, experiment: TimeSeriesExperiment, split="test") -> dict:
    """MASE of the CNN's forecasts from every origin of ``split`` against seasonal-naive and a
    linear AR model fitted on the training segment; quantile coverage when there are quantiles.

    When the training segment repeats exactly every ``period`` steps (a constant series does),
    MASE has no scale: its keys are None and ``mase_undefined`` says why; compare the MAEs."""
    starts = windows.starts(split)
    quantiles = experiment.model.quantiles
    recursive = experiment.data.forecast == "recursive"
    outputs = windows.horizon * max(len(quantiles), 1) if not recursive else 1
    train_start, train_stop = windows.segments["train"]
    training_series = windows.target_values[train_start:train_stop]
    period = windows.period
    ar = baselines.LinearAR(lags=windows.input_length, horizon=windows.horizon).fit(training_series)  # the CNN's window
    parts = {"truth": [], "out": [], "naive": [], "ar": []}
    for chunk in _origin_chunks(starts, windows, outputs):
        parts["truth"].append(windows.inverse_target(windows.future(chunk)))  # (n, H): the horizon after each window
        x = windows.inputs(chunk)
        if recursive:
            future = _future_covariates(windows, windows.scaled, chunk)
            parts["out"].append(recursive_forecast(model, x, future, windows.horizon))
        else:
            last = np.asarray(model.predict(x, verbose=0, batch_size=PREDICT_BATCH))[:, -1]
            parts["out"].append(last.copy())  # a copy: the view would keep every position's output alive
        histories = np.stack([windows.target_values[s: s + windows.input_length] for s in chunk])
        parts["naive"].append(baselines.seasonal_naive(histories, windows.horizon, period))
        parts["ar"].append(ar.predict(histories))
    truth, out, naive, ar_forecast = (np.concatenate(parts[key]) if parts[key] else np.zeros((0, windows.horizon))
                                      for key in ("truth", "out", "naive", "ar"))
    if not np.isfinite(out).all():
        raise ConvsuiteError(f"the model's {split} forecasts hold NaN or infinite values, so training diverged; "
                             "lower trainer.learning_rate or check the run's log.csv for the epoch the loss broke")
    if quantiles and not recursive:
        bands = windows.inverse_target(out)  # (N, H, Q)
        predicted = bands[..., int(np.argmin([abs(q - 0.5) for q in quantiles]))]
    else:
        bands, predicted = None, windows.inverse_target(out)
    report = {
        f"{split}_mae": float(np.mean(np.abs(truth - predicted))),
        f"{split}_seasonal_naive_mae": float(np.mean(np.abs(truth - naive))),
        f"{split}_linear_ar_mae": float(np.mean(np.abs(truth - ar_forecast))),
        f"{split}_origins": int(len(starts)),
        "period": int(period),
        "linear_ar_lags": int(ar.lags),
    }
    if _mase_has_scale(training_series, period):
        report.update({f"{split}_mase": baselines.mase(truth, predicted, training_series, period),
                       f"{split}_seasonal_naive_mase": baselines.mase(truth, naive, training_series, period),
                       f"{split}_linear_ar_mase": baselines.mase(truth, ar_forecast, training_series, period)})
    else:
        report.update({f"{split}_mase": None, f"{split}_seasonal_naive_mase": None, f"{split}_linear_ar_mase": None,
                       "mase_undefined": f"the training segment repeats exactly every {period} steps (a constant "
                                         f"series does), so MASE has no scale; compare {split}_mae with the "
                                         "baselines' MAE"})
    if bands is not None:
        lo, hi = bands[..., 0], bands[..., -1]
        report[f"{split}_interval_coverage"] = float(np.mean((truth >= lo) & (truth <= hi)))
        report["interval"] = [quantiles[0], quantiles[-1]]
        report[f"{split}_quantile_crossings"] = int(np.sum(np.diff(bands, axis=-1) < 0))
    return report


def _mase_has_scale(training_series: np.ndarray, period: int) -> bool:
    """Whether the in-sample seasonal-naive MAE that MASE divides by is above zero."""
    train = np.asarray(training_series, dtype=np.float64)
    return len(train) > period and bool(np.any(train[period:] != train[:-period]))


def load_forecast_series(experiment: TimeSeriesExperiment) -> Series:
    d = experiment.data
    series = load_series(d.dataset, d.data_dir, fill=d.fill, timestamp_column=d.timestamp_column,
                         frequency=d.frequency)
    _check_columns(series, experiment)
    series = with_leads(series, d.known_future, d.horizon)
    return with_calendar_features(series) if d.calendar_features else series


def _check_columns(series: Series, experiment: TimeSeriesExperiment) -> None:
    """Name the setting that asks for a column the data lacks: a user's file read with the
    default experiment's covariates (elecdemand's Temperature, WorkDay) is the usual case."""
    d = experiment.data
    series.column(d.target)  # a text column says it is not numeric; an absent one lists the columns
    from_file = str(d.dataset).lower().endswith((".csv", ".parquet"))
    for key, names in (("data.covariates", d.covariates), ("data.known_future", d.known_future)):
        for name in names:
            if name in series.text_columns:
                series.column(name)
            if name not in series.columns:
                hint = ("; the default experiment's covariates are elecdemand's, so start your own file from "
                        "--config forecast-csv" if from_file else "")
                raise ConvsuiteError(f"{key} names {name!r}, which {series.name!r} lacks (its columns are "
                                     f"{', '.join(series.columns)}); name its own columns or [] instead{hint}")


def windows_values(windows: ForecastWindows, experiment: TimeSeriesExperiment) -> np.ndarray:
    """The unscaled model columns (target, covariates) of the whole series."""
    series = load_forecast_series(experiment)
    return series.values[:, [series.column(c) for c in windows.columns]].astype(np.float64)


def _save_scaler(run_dir: Path, windows: ForecastWindows) -> None:
    atomic_write_text(run_dir / "scaler.json", json.dumps({
        "columns": windows.columns, "mean": windows.mean.tolist(), "std": windows.std.tolist(),
        "input_length": windows.input_length, "horizon": windows.horizon, "period": windows.period}, indent=1))


def initialise_highway(model, windows: ForecastWindows) -> None:
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


def train(experiment: TimeSeriesExperiment, resume: bool = True) -> dict:
    """Fit the TCN forecaster; metrics.json gets MASE against seasonal-naive and linear AR."""
    windows = prepare_forecast(experiment)
    loss, metrics = _forecast_loss(experiment)
    run_dir = run_directory(experiment)
    run_dir.mkdir(parents=True, exist_ok=True)
    _save_scaler(run_dir, windows)

    def build():
        model = build_model(experiment, num_inputs=len(windows.columns))
        initialise_highway(model, windows)
        return model

    return trainer_lib.train(
        experiment, build,
        _forecast_training_data(windows, experiment), loss=loss, metrics=metrics, resume=resume,
        report=lambda model: {**forecast_report(model, windows, experiment), **described(experiment)})


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
    model = trainer_lib.load_run_model(run_dir, which)
    mean, std = np.asarray(scaler["mean"]), np.asarray(scaler["std"])
    history = np.asarray(history, dtype=np.float64)
    if history.ndim == 2:
        history = history[None]
    check_channels(history, len(mean), "the forecast history")
    check_finite(history.reshape(-1, history.shape[-1]), "the forecast history", scaler["columns"])
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


def evaluate(experiment: TimeSeriesExperiment, run_dir: str | Path, which: str = "model") -> dict:
    model = trainer_lib.load_run_model(run_dir, which)
    windows = prepare_forecast(experiment)
    check_channels(np.zeros((0, windows.input_length, len(windows.columns))), int(model.input_shape[-1]),
                   "the test windows")
    return forecast_report(model, windows, experiment)


def bench_inputs(experiment: TimeSeriesExperiment, n: int, rng):
    """(x, y, num_inputs, num_outputs) of random forecast windows of the experiment's shape."""
    d = experiment.data
    c = 1 + len(model_covariates(experiment))
    horizon = 1 if d.forecast == "recursive" else d.horizon
    x = rng.normal(size=(n, d.input_length, c)).astype(np.float32)
    y = rng.normal(size=(n, d.input_length, horizon)).astype(np.float32)
    return x, y, c, 1
