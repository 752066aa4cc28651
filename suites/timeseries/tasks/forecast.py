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


def forecast_report(model, windows: ForecastWindows, experiment: TimeSeriesExperiment, split="test") -> dict:
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


def load_forecast_series(experiment: TimeSeriesExperiment) -> Series:
    d = experiment.data
    series = load_series(d.dataset, d.data_dir, fill=d.fill, timestamp_column=d.timestamp_column,
                                  frequency=d.frequency)
    series = with_leads(series, d.known_future, d.horizon)
    return with_calendar_features(series) if d.calendar_features else series


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
        model = build_model(experiment, num_inputs=windows.x_train.shape[-1])
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
    check_channels(windows.x_test, int(model.input_shape[-1]), "the test windows")
    return forecast_report(model, windows, experiment)


def bench_inputs(experiment: TimeSeriesExperiment, n: int, rng):
    """(x, y, num_inputs, num_outputs) of random forecast windows of the experiment's shape."""
    d = experiment.data
    c = 1 + len(model_covariates(experiment))
    horizon = 1 if d.forecast == "recursive" else d.horizon
    x = rng.normal(size=(n, d.input_length, c)).astype(np.float32)
    y = rng.normal(size=(n, d.input_length, horizon)).astype(np.float32)
    return x, y, c, 1
