"""Forecast windows cut per batch from one series: the same values as materialised windows,
memory bounded by the series, refusals that say the bytes, and a constant series end to end."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from convsuite.common import inputs
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries import baselines, windows as windows_module
from convsuite.suites.timeseries.config import EXPERIMENTS
from convsuite.suites.timeseries.series import Series
from convsuite.suites.timeseries.tasks import forecast as forecast_task
from convsuite.suites.timeseries.windows import make_forecast_windows


def ramp_windows(total=400, input_length=12, horizon=3, stride=5, eval_stride=7):
    """Target t + 1000 and a covariate 2t, so every scaled value is known by hand."""
    steps = np.arange(total, dtype=np.float64)
    series = Series("ramp", np.stack([steps + 1000, 2 * steps], axis=1).astype(np.float32), ["y", "c"], None, 1, "t")
    return make_forecast_windows(series, "y", ["c"], input_length, horizon, stride=stride, eval_stride=eval_stride)


def by_hand(windows, starts, length, horizons):
    """Inputs and targets from the scaling formula, window by window."""
    raw = lambda t: np.stack([t + 1000.0, 2.0 * t], axis=-1)  # noqa: E731
    x = np.stack([(raw(np.arange(s, s + length)) - windows.mean) / windows.std for s in starts])
    y = np.stack([[(s + t + 1 + np.arange(horizons) + 1000.0 - windows.mean[0]) / windows.std[0]
                   for t in range(length)] for s in starts])
    return x, y


@pytest.mark.parametrize("forecast, train_length", [("direct", 0), ("direct", 20), ("recursive", 20)])
def test_stored_windows_decode_to_the_scaled_series_at_the_stated_times(forecast, train_length):
    windows = ramp_windows()
    exp = EXPERIMENTS["forecast-csv"]()
    exp.data.input_length, exp.data.horizon, exp.data.stride = 12, 3, 5
    exp.data.train_length, exp.data.forecast = train_length, forecast
    data = forecast_task._forecast_training_data(windows, exp)
    horizons = 1 if forecast == "recursive" else 3
    length = train_length or 12
    assert data.x_train.shape == data.y_train.shape == (len(data.y_train), 2) and data.x_train.dtype == np.int64
    assert set(data.x_train[:, 1]) == {length} and set(data.x_test[:, 1]) == {12}
    assert data.decode.shape_for(data.x_train) == (length, 2) and data.decode.shape_for(data.x_test) == (12, 2)
    assert data.decode.targets.shape_for(data.y_train) == (length, horizons)
    assert data.decode.shape_for(np.array([[0, 12], [5, 20]])) == (None, 2)  # no one length: a dynamic axis
    for stored, first, size in ((data.x_train, 0, length), (data.x_val, 280, 12), (data.x_test, 320, 12)):
        starts = stored[:, 0]
        assert starts[0] == first and (starts + size + 3 <= {0: 280, 280: 320, 320: 400}[first]).all()
        x, y = by_hand(windows, starts, size, horizons)
        np.testing.assert_allclose(data.decode(stored), x, rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(data.decode.targets(stored), y, rtol=1e-6, atol=1e-5)


def test_materialised_splits_equal_what_the_batches_decode():
    windows = ramp_windows()
    decode = windows.decoder()
    for split in ("train", "val", "test"):
        stored = windows.stored(split)
        np.testing.assert_array_equal(getattr(windows, f"x_{split}"), decode(stored))
        np.testing.assert_array_equal(getattr(windows, f"y_{split}"), decode.targets(stored))
        np.testing.assert_array_equal(windows.future(stored[:, 0]), decode.targets(stored)[:, -1])


def test_a_batch_mixing_window_lengths_is_refused():
    windows = ramp_windows()
    mixed = np.array([[0, 12], [5, 20]])
    with pytest.raises(ConvsuiteError, match=r"mixes windows of \[12, 20\] steps"):
        windows.decoder()(mixed)


@pytest.mark.parametrize("tensorflow", [True, False], ids=["tf.data", "PyDataset"])
def test_training_and_evaluation_batches_decode_inputs_and_targets(tensorflow, monkeypatch):
    windows = ramp_windows()
    stored, decode = windows.stored("train"), windows.decoder()
    x_all, y_all = decode(stored), decode.targets(stored)
    monkeypatch.setattr(inputs, "tensorflow_available", lambda: tensorflow)
    order = inputs.filled_epoch_order(3, 1, len(stored), 16)
    batches = list(inputs.training_batches(stored, stored, 16, seed=3, first_epoch=1, last_epoch=2, decode=decode))
    assert len(batches) == len(order) // 16
    for index, (x, y) in enumerate(batches):
        chosen = order[index * 16: (index + 1) * 16]
        np.testing.assert_array_equal(np.asarray(x), x_all[chosen])
        np.testing.assert_array_equal(np.asarray(y), y_all[chosen])
    evaluated = list(inputs.evaluation_batches(stored, stored, 16, decode))
    np.testing.assert_array_equal(np.concatenate([np.asarray(y) for _, y in evaluated]), y_all)


def test_windows_of_a_long_series_cost_memory_of_the_series_not_of_the_windows():
    # 200k steps, 512-step windows, a 48-step horizon, stride 1: materialised targets would take
    # 140k x 512 x 48 x 4 bytes = 13.8 GB.
    values = np.sin(np.arange(200_000) / 7.0).astype(np.float32)[:, None]
    series = Series("long", values, ["y"], None, 48, "t")
    tracemalloc.start()
    try:
        windows = make_forecast_windows(series, "y", (), 512, 48, stride=1)
        exp = EXPERIMENTS["forecast-csv"]()
        exp.data.input_length, exp.data.horizon, exp.data.train_length, exp.data.stride = 512, 48, 1024, 1
        data = forecast_task._forecast_training_data(windows, exp)
        batch = data.x_train[:32]
        x, y = data.decode(batch), data.decode.targets(batch)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(data.y_train) > 138_000 and y.shape == (32, 1024, 48) and x.shape == (32, 1024, 1)
    assert peak < 40e6, peak  # the series (0.8 MB float32) in a few forms, start indices, one batch (6.4 MB)


def test_what_would_not_fit_is_refused_with_the_bytes_it_needs(monkeypatch):
    windows = ramp_windows()
    monkeypatch.setattr(windows_module, "available_memory", lambda: 5_000)
    assert len(windows.train_input_start) == 54  # starts 0, 5, ..., 265: the last window ends at 279
    with pytest.raises(ConvsuiteError, match=r"the train targets as one array \(54 windows x 36 values\) would need "
                                             r"7.8 KB but 5.0 KB of memory is available; cut windows"):
        windows.y_train
    monkeypatch.setattr(windows_module, "available_memory", lambda: 10_000)
    series = Series("ramp", np.zeros((400, 2), np.float32), ["y", "c"], None, 1, "t")
    with pytest.raises(ConvsuiteError, match=r"windowing 400 steps x 2 columns of 'ramp' would need 14.4 KB "
                                             r"but 10.0 KB"):
        make_forecast_windows(series, "y", ["c"], 12, 3)


class Persistence:
    """A stand-in forecaster: every output repeats the newest scaled target, per position."""

    def __init__(self, outputs: int, quantiles: int = 0):
        self.outputs, self.quantiles = outputs, quantiles
        self.calls = 0

    def predict(self, x, verbose=0, batch_size=256):
        self.calls += 1
        out = np.repeat(np.asarray(x)[..., :1], self.outputs, axis=-1)
        return np.stack([out - 0.1, out, out + 0.1], axis=-1) if self.quantiles else out


@pytest.mark.parametrize("forecast", ["direct", "recursive"])
def test_forecast_report_in_chunks_equals_the_report_on_whole_arrays(forecast, monkeypatch):
    steps = np.arange(3000.0)
    values = np.stack([50 + 10 * np.sin(2 * np.pi * steps / 24) + np.sin(steps / 5), np.cos(steps / 9)], axis=1)
    windows = make_forecast_windows(Series("s", values.astype(np.float32), ["y", "c"], None, 24, "t"), "y", ["c"],
                                    64, 6, stride=4, eval_stride=3)
    exp = EXPERIMENTS["forecast-csv"]()
    exp.data.forecast = forecast
    exp.model.quantiles = [0.1, 0.5, 0.9] if forecast == "direct" else []
    quantiles = len(exp.model.quantiles)
    monkeypatch.setattr(forecast_task, "PREDICT_CHUNK_BYTES", 1)  # one predict batch per chunk
    monkeypatch.setattr(forecast_task, "PREDICT_BATCH", 64)
    model = Persistence(6 if forecast == "direct" else 1, quantiles)
    report = forecast_task.forecast_report(model, windows, exp)
    starts = windows.test_input_start
    assert len(starts) == 177 and model.calls == (3 if forecast == "direct" else 3 * 6)  # 64 + 64 + 49 origins
    # The report as computed before windows were cut lazily: whole arrays, one predict call.
    x, y = windows.x_test, windows.y_test
    truth = windows.inverse_target(y[:, -1, :])
    if forecast == "direct":
        bands = windows.inverse_target(Persistence(6, quantiles).predict(x)[:, -1])
        predicted = bands[..., 1]
        assert report["test_interval_coverage"] == float(np.mean((truth >= bands[..., 0]) & (truth <= bands[..., 2])))
    else:
        future = forecast_task._future_covariates(windows, windows.scaled, starts)
        predicted = windows.inverse_target(forecast_task.recursive_forecast(Persistence(1), x, future, 6))
    train = windows.target_values[: windows.segments["train"][1]]
    histories = np.stack([windows.target_values[s: s + 64] for s in starts])
    ar = baselines.LinearAR(64, 6).fit(train).predict(histories)
    assert report["test_mase"] == baselines.mase(truth, predicted, train, 24)
    assert report["test_linear_ar_mase"] == baselines.mase(truth, ar, train, 24)
    assert report["test_seasonal_naive_mase"] == baselines.mase(truth, baselines.seasonal_naive(histories, 6, 24),
                                                                train, 24)
    assert report["test_mae"] == float(np.mean(np.abs(truth - predicted))) and report["test_origins"] == 177


def constant_csv(path, rows=900, level=4512.37):
    times = pd.date_range("2021-03-01", periods=rows, freq="h")
    pd.DataFrame({"timestamp": times, "load": np.full(rows, level),
                  "temp": 10 + np.sin(np.arange(rows) / 24 * 2 * np.pi)}).to_csv(path, index=False)
    return path


def constant_experiment(tmp_path):
    exp = EXPERIMENTS["forecast-csv"]()
    exp.data.dataset, exp.data.target, exp.data.covariates = str(constant_csv(tmp_path / "flat.csv")), "load", ["temp"]
    exp.data.input_length, exp.data.train_length, exp.data.horizon, exp.data.stride = 32, 64, 6, 4
    exp.model.dilations, exp.model.highway, exp.model.filters = [1, 2, 4], 32, 8
    exp.data.validation_fraction, exp.trainer.monitor = 0.0, "loss"  # no validation pass: a faster test
    exp.trainer.epochs, exp.trainer.progress, exp.trainer.run_dir = 1, False, str(tmp_path / "run")
    return exp.validate()


def test_a_constant_series_scales_finitely_and_its_report_says_mase_has_no_scale(tmp_path):
    exp = constant_experiment(tmp_path)
    windows = forecast_task.prepare_forecast(exp)
    assert windows.std[0] == 1.0 and np.abs(windows.scaled[:, 0]).max() < 1e-3
    report = forecast_task.forecast_report(Persistence(6, 3), windows, exp)
    level = np.float32(4512.37)
    assert report["test_mae"] == 0.0  # the scaled constant, mapped back
    assert report["test_seasonal_naive_mae"] < 1e-9 * level and report["test_linear_ar_mae"] < 1e-3 * level
    assert report["test_mase"] is None and report["test_linear_ar_mase"] is None
    assert "repeats exactly every 24 steps" in report["mase_undefined"]


def test_a_constant_series_trains_without_nan_and_is_forecast_as_the_constant(tmp_path):
    from convsuite.suites.timeseries import train as ts_train

    exp = constant_experiment(tmp_path)
    metrics = ts_train.train(exp, resume=False)
    assert np.isfinite(metrics["test_loss"]) and metrics["test_mase"] is None
    assert metrics["test_mae"] < 1e-3 * 4512.37  # the CNN forecasts the constant
    assert metrics["test_seasonal_naive_mae"] < 1e-9 * 4512.37
