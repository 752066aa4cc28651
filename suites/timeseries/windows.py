"""Forecast windows: time-ordered train/validation/test sequence-to-sequence windows of one
series, scaled with statistics of the training segment only. numpy only; no Keras.

Windows are never materialised for training: a split is its start indices into the one scaled
series, and ``WindowInputs`` / ``WindowTargets`` cut each batch's inputs and targets from the
series on the way to the model (``common.inputs``). Memory is bounded by the series, not by
the windows (300k half-hourly steps with 1024-step windows and a 48-step horizon would
otherwise need gigabytes of overlapping copies). What still has to be allocated is checked
against the memory available first and refused with the bytes it would need.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from convsuite.common.arrays import BatchDecoder
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries.series import Series, check_finite


SPLITS = ("train", "val", "test")
FLOAT_BYTES = 4  # windows are float32


def available_memory() -> int | None:
    """Bytes this process can still allocate: MemAvailable, capped by a cgroup limit; None if unknown."""
    found = []
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    try:
        with open("/sys/fs/cgroup/memory.max") as limit, open("/sys/fs/cgroup/memory.current") as used:
            text = limit.read().strip()
            if text != "max":
                found.append(int(text) - int(used.read().strip()))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def format_bytes(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000


def require_memory(needed: int, what: str, fix: str) -> None:
    """Refuse an allocation of ``needed`` bytes that would not fit, before it is attempted."""
    available = available_memory()
    if available is not None and needed > available:
        raise ConvsuiteError(f"{what} would need {format_bytes(needed)} but {format_bytes(available)} of memory is "
                             f"available; {fix}")


class WindowTargets(BatchDecoder):
    """Stored windows (start, length) -> scaled targets (n, length, horizons): target[n, t, h]
    is the scaled target at start + t + 1 + h."""

    def __init__(self, target: np.ndarray, horizons: int):
        self.target = np.ascontiguousarray(target, dtype=np.float32)
        self.horizons = int(horizons)
        self.shape, self.dtype = (None, self.horizons), "float32"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.cut(*_starts_and_length(batch))

    def shape_for(self, stored: np.ndarray) -> tuple:
        return (_shared_length(stored), self.horizons)

    def cut(self, starts: np.ndarray, length: int) -> np.ndarray:
        futures = np.lib.stride_tricks.sliding_window_view(self.target, self.horizons)  # a view: no copy
        return futures[starts[:, None] + 1 + np.arange(length)[None, :]]


class WindowInputs(BatchDecoder):
    """Stored windows (start, length) -> scaled inputs (n, length, channels), and through
    ``targets`` their targets: a batch of windows costs one batch of memory."""

    def __init__(self, scaled: np.ndarray, horizons: int):
        self.scaled = scaled
        self.shape, self.dtype = (None, scaled.shape[1]), "float32"
        self.targets = WindowTargets(scaled[:, 0], horizons)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        starts, length = _starts_and_length(batch)
        return self.scaled[starts[:, None] + np.arange(length)[None, :]]

    def shape_for(self, stored: np.ndarray) -> tuple:
        return (_shared_length(stored), self.shape[1])


def _shared_length(stored: np.ndarray) -> int | None:
    """The window length every stored row shares (a static shape for the pipeline), else None."""
    lengths = np.asarray(stored)[:, 1]
    return int(lengths[0]) if len(lengths) and (lengths == lengths[0]).all() else None


def _starts_and_length(batch) -> tuple[np.ndarray, int]:
    batch = np.asarray(batch)
    lengths = batch[:, 1]
    if len(batch) and (lengths != lengths[0]).any():
        raise ConvsuiteError(f"one batch mixes windows of {sorted(set(lengths.tolist()))} steps; "
                             "batch each split on its own")
    return batch[:, 0], int(lengths[0]) if len(batch) else 0


@dataclass
class ForecastWindows:
    """Scaled sequence-to-sequence windows of one series, split in time with no crossing.

    A window is its start index into ``scaled`` (the whole series, scaled with training
    statistics; channel 0 is the target). ``inputs(starts)`` is (N, input_length, C) and
    ``targets(starts)``[n, t, h] the scaled target at starts[n] + t + 1 + h: every input
    position forecasts the next ``horizon`` steps, as in WaveNet-style training.
    ``x_train`` ... ``y_test`` materialise a split whole (only where memory allows).
    """

    scaled: np.ndarray
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
    name: str = "series"
    fractions: dict[str, float] | None = None

    def inverse_target(self, y_scaled) -> np.ndarray:
        """Scaled target values back to the target's units."""
        return np.asarray(y_scaled, dtype=np.float64) * self.std[0] + self.mean[0]

    def starts(self, split: str) -> np.ndarray:
        """Start indices of a split's windows (possibly none)."""
        if split not in SPLITS:
            raise ConvsuiteError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
        return getattr(self, f"{split}_input_start")

    def _starts(self, split: str) -> np.ndarray:
        starts = self.starts(split)
        if starts.size == 0:
            raise ConvsuiteError(f"the {split} split has no windows; give it a fraction above 0 "
                                 f"(data.{split}_fraction)")
        return starts

    def last_target_index(self, split: str) -> int:
        """Largest absolute time index any target of the split uses (to prove nothing leaks)."""
        return int(self._starts(split).max()) + self.input_length + self.horizon - 1

    def first_input_index(self, split: str) -> int:
        """Smallest absolute time index any input of the split uses."""
        return int(self._starts(split).min())

    # ----------------------------------------------------------------- windows, cut on demand

    def stored(self, split: str) -> np.ndarray:
        """The split as (N, 2) int64 rows (start, input_length): what a batch is decoded from."""
        starts = self.starts(split)
        return np.stack([starts, np.full_like(starts, self.input_length)], axis=1)

    def decoder(self, horizons: int | None = None) -> WindowInputs:
        """Decodes ``stored`` rows into inputs, and their targets of the first ``horizons``
        steps (default all); splits of different window lengths share it."""
        return WindowInputs(self.scaled, horizons or self.horizon)

    def inputs(self, starts) -> np.ndarray:
        """Scaled inputs (N, input_length, C) of the windows starting at ``starts``."""
        starts = np.asarray(starts, dtype=np.int64)
        return self.scaled[starts[:, None] + np.arange(self.input_length)[None, :]]

    def targets(self, starts, horizons: int | None = None) -> np.ndarray:
        """Scaled targets (N, input_length, horizons) of the windows starting at ``starts``."""
        return WindowTargets(self.scaled[:, 0], horizons or self.horizon).cut(np.asarray(starts, dtype=np.int64),
                                                                            self.input_length)

    def future(self, starts) -> np.ndarray:
        """Scaled targets (N, horizon) of the horizon after each window's last step."""
        after = np.asarray(starts, dtype=np.int64)[:, None] + self.input_length + np.arange(self.horizon)[None, :]
        return self.scaled[after, 0]

    def _materialised(self, split: str, kind: str) -> np.ndarray:
        """A split's inputs or targets as one array, refused up front when they would not fit."""
        starts = self.starts(split)
        per_window = self.input_length * (len(self.columns) if kind == "inputs" else self.horizon)
        require_memory(len(starts) * per_window * FLOAT_BYTES,
                       f"the {split} {kind} as one array ({len(starts)} windows x {per_window} values)",
                       "cut windows a slice of starts at a time with inputs(starts) / targets(starts), "
                       "or raise the stride")
        return self.inputs(starts) if kind == "inputs" else self.targets(starts)

    # Whole splits, for small series, plots and tests; training never materialises them.
    x_train = property(lambda self: self._materialised("train", "inputs"))
    y_train = property(lambda self: self._materialised("train", "targets"))
    x_val = property(lambda self: self._materialised("val", "inputs"))
    y_val = property(lambda self: self._materialised("val", "targets"))
    x_test = property(lambda self: self._materialised("test", "inputs"))
    y_test = property(lambda self: self._materialised("test", "targets"))

    def with_input_length(self, input_length: int, stride: int, splits=("train",)) -> "ForecastWindows":
        """The same scaled series cut into windows of another length (longer training windows)."""
        starts = _cut_starts(self.segments, self.fractions or {}, self.name, int(input_length), self.horizon,
                             int(stride), int(stride), splits)
        return replace(self, train_input_start=starts["train"], val_input_start=starts["val"],
                       test_input_start=starts["test"], input_length=int(input_length))


def _cut_starts(segments, fractions, name, input_length, horizon, stride, eval_stride, splits) -> dict:
    """Window starts per split; a split in ``splits`` too short for one window is an error."""
    span = input_length + horizon
    total = segments["test"][1]
    starts = {}
    for split, (start, stop) in segments.items():
        fraction = fractions.get(split, 1.0)
        if split in splits and (split == "train" or fraction > 0) and stop - start < span:
            fix = ("lower data.validation_fraction or data.test_fraction" if split == "train" else
                   "raise data.validation_fraction" if split == "val" else "raise data.test_fraction")
            raise ConvsuiteError(f"the {split} segment of {name!r} has {stop - start} steps "
                                 f"({fraction:.0%} of {total}) "
                                 f"but one window needs input_length + horizon = {input_length} + {horizon} = {span}; "
                                 f"lower input_length or horizon, or {fix}")
        step = stride if split == "train" else eval_stride
        starts[split] = np.arange(start, stop - span + 1 if split in splits else start, step, dtype=np.int64)
    return starts


def _constant_scale(std: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """A column constant over the training segment is scaled by 1. Rounding in the mean of a
    constant float32 column leaves a std of a few ulps, which must count as zero too."""
    return np.where(std <= 1e-9 * np.abs(mean), 1.0, std)


def make_forecast_windows(series: Series, target: str, covariates=(), input_length=336, horizon=48,
                          val_fraction=0.1, test_fraction=0.2, stride=1, eval_stride=None,
                          splits=SPLITS) -> ForecastWindows:
    """Cut train/val/test windows so that no input or target crosses a segment boundary.

    The scaler (mean/std per column) is fitted on the training segment only. Channel 0 of x is
    the target, then the covariates in the order given. Splits left out of ``splits`` get no
    windows (and need not be long enough for one).
    """
    eval_stride = stride if eval_stride is None else eval_stride
    numbers = (("input_length", input_length), ("horizon", horizon), ("stride", stride), ("eval_stride", eval_stride))
    for label, number in numbers:
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
    total = len(series.values)
    # The float64 copy, the scaled float32 series, the raw target and the start indices.
    require_memory(total * len(names) * (8 + FLOAT_BYTES) + total * (4 + 8),
                   f"windowing {total} steps x {len(names)} columns of {series.name!r}",
                   "use fewer covariates or a shorter series")
    values = np.asarray(series.values[:, indices], dtype=np.float64)
    check_finite(values, f"series {series.name!r}", names)

    n_test = int(round(total * test_fraction))
    n_val = int(round(total * val_fraction))
    n_train = total - n_val - n_test
    segments = {"train": (0, n_train), "val": (n_train, n_train + n_val), "test": (n_train + n_val, total)}
    fractions = {"train": 1 - val_fraction - test_fraction, "val": val_fraction, "test": test_fraction}
    starts = _cut_starts(segments, fractions, series.name, input_length, horizon, stride, eval_stride, splits)

    mean = values[:n_train].mean(axis=0)
    std = _constant_scale(values[:n_train].std(axis=0), mean)
    scaled = ((values - mean) / std).astype(np.float32)
    del values
    return ForecastWindows(scaled, starts["train"], starts["val"], starts["test"], segments, mean, std,
                           series.values[:, indices[0]].copy(), input_length, horizon, series.period, names,
                           series.name, fractions)
