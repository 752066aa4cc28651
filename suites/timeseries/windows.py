"""Forecast windows: time-ordered train/validation/test sequence-to-sequence windows of one
series, scaled with statistics of the training segment only. numpy only; no Keras."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries.series import Series, check_finite


SPLITS = ("train", "val", "test")


@dataclass
class ForecastWindows:
    """Scaled sequence-to-sequence windows of one series, split in time with no crossing.

    y[n, t, h] is the scaled target at time input_start[n] + t + 1 + h: every input position
    forecasts the next ``horizon`` steps, as in WaveNet-style training.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_input_start: np.ndarray
    val_input_start: np.ndarray
    test_input_start: np.ndarray
    segments: dict[str, tuple[int, int]]
    mean: np.ndarray
    std: np.ndarray
    target_values: np.ndarray
    input_length: int
    horizon: int
    period: int
    columns: list[str]

    def inverse_target(self, y_scaled) -> np.ndarray:
        """Scaled target values back to the target's units."""
        return np.asarray(y_scaled, dtype=np.float64) * self.std[0] + self.mean[0]

    def _starts(self, split: str) -> np.ndarray:
        if split not in SPLITS:
            raise ConvsuiteError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
        starts = getattr(self, f"{split}_input_start")
        if starts.size == 0:
            raise ConvsuiteError(f"the {split} split has no windows; give it a fraction above 0 (data.{split}_fraction)")
        return starts

    def last_target_index(self, split: str) -> int:
        """Largest absolute time index any target of the split uses (to prove nothing leaks)."""
        return int(self._starts(split).max()) + self.input_length + self.horizon - 1

    def first_input_index(self, split: str) -> int:
        """Smallest absolute time index any input of the split uses."""
        return int(self._starts(split).min())


def make_forecast_windows(series: Series, target: str, covariates=(), input_length=336, horizon=48,
                          val_fraction=0.1, test_fraction=0.2, stride=1, eval_stride=None,
                          splits=SPLITS) -> ForecastWindows:
    """Cut train/val/test windows so that no input or target crosses a segment boundary.

    The scaler (mean/std per column) is fitted on the training segment only. Channel 0 of x is
    the target, then the covariates in the order given. Splits left out of ``splits`` get no
    windows (and need not be long enough for one).
    """
    eval_stride = stride if eval_stride is None else eval_stride
    for label, number in (("input_length", input_length), ("horizon", horizon), ("stride", stride), ("eval_stride", eval_stride)):
        if int(number) != number or number < 1:
            raise ConvsuiteError(f"{label}={number} must be a whole number of at least 1")
    input_length, horizon, stride, eval_stride = int(input_length), int(horizon), int(stride), int(eval_stride)
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ConvsuiteError(f"val_fraction={val_fraction} and test_fraction={test_fraction} must each lie in [0, 1) "
                             "and leave part of the series for training")
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    names = [target, *covariates]
    if len(set(names)) != len(names):
        raise ConvsuiteError(f"target {target!r} and covariates {covariates} repeat a column; list each column once")
    indices = [series.column(column) for column in names]
    values = np.asarray(series.values[:, indices], dtype=np.float64)
    check_finite(values, f"series {series.name!r}", names)

    total = len(values)
    n_test = int(round(total * test_fraction))
    n_val = int(round(total * val_fraction))
    n_train = total - n_val - n_test
    segments = {"train": (0, n_train), "val": (n_train, n_train + n_val), "test": (n_train + n_val, total)}
    fractions = {"train": 1 - val_fraction - test_fraction, "val": val_fraction, "test": test_fraction}
    span = input_length + horizon
    for split, (start, stop) in segments.items():
        if split in splits and (split == "train" or fractions[split] > 0) and stop - start < span:
            fix = "lower data.validation_fraction or data.test_fraction" if split == "train" else ("raise data.validation_fraction" if split == "val" else "raise data.test_fraction")
            raise ConvsuiteError(f"the {split} segment of {series.name!r} has {stop - start} steps ({fractions[split]:.0%} of {total}) "
                                 f"but one window needs input_length + horizon = {input_length} + {horizon} = {span}; "
                                 f"lower input_length or horizon, or {fix}")

    mean = values[:n_train].mean(axis=0)
    std = values[:n_train].std(axis=0)
    std[std == 0] = 1.0
    scaled = ((values - mean) / std).astype(np.float32)
    inputs = np.lib.stride_tricks.sliding_window_view(scaled, input_length, axis=0)  # (T-L+1, C, L)
    futures = np.lib.stride_tricks.sliding_window_view(scaled[:, 0], horizon)  # (T-H+1, H)
    offsets = 1 + np.arange(input_length)

    def windows(split: str, step: int):
        start, stop = segments[split]
        starts = np.arange(start, stop - span + 1 if split in splits else start, step, dtype=np.int64)
        x = np.ascontiguousarray(inputs[starts].transpose(0, 2, 1))
        y = futures[starts[:, None] + offsets[None, :]]
        return x, y, starts

    x_train, y_train, train_start = windows("train", stride)
    x_val, y_val, val_start = windows("val", eval_stride)
    x_test, y_test, test_start = windows("test", eval_stride)
    return ForecastWindows(x_train, y_train, x_val, y_val, x_test, y_test, train_start, val_start, test_start,
                           segments, mean, std, series.values[:, indices[0]].copy(), input_length, horizon,
                           series.period, names)
