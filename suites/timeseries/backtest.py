"""Rolling-origin backtests of forecasters on a collection of series, with calibrated intervals.

One train/test split says little about a forecaster; rolling-origin evaluation (Tashman 2000) forecasts from
several origins and scores every series at every origin. Point accuracy: MASE (Hyndman & Koehler 2006) and
sMAPE as in the M4 competition (Makridakis, Spiliotis & Assimakopoulos 2020). Probabilistic accuracy: the
weighted quantile loss that GluonTS reports as mean_wQuantileLoss (Alexandrov et al. 2020), which is CRPS
(Gneiting & Raftery 2007) approximated on the quantile grid and scaled by the sum of |y|, and the empirical
coverage of the central 50/80/95% intervals. ``conformalize`` calibrates a forecaster's quantiles by
conformalized quantile regression (Romano, Patterson & Candes 2019) on a calibration window, with the
conformity scores of each series divided by its MASE scale so that series of different units pool (the
normalised scores of Lei et al. 2018).

Keras-free: numpy only here; the baselines (baselines.py) import statsmodels inside their functions, and a
Collection (collection.py) is only needed as the argument.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries.baselines import DEFAULT_QUANTILES, INTERVAL_LEVELS, check_quantiles, mase

if TYPE_CHECKING:
    from convsuite.suites.timeseries.collection import Collection

__all__ = [
    "DEFAULT_QUANTILES", "INTERVAL_LEVELS", "BacktestResult", "ConformalForecaster", "Forecaster", "conformalize",
    "coverage", "crps_from_quantiles", "default_min_train", "geometric_mean", "mase", "pinball_loss",
    "rolling_origin_backtest", "series_scale", "smape", "weighted_quantile_loss",
]


@runtime_checkable
class Forecaster(Protocol):
    """What a backtest runs: global models learn in ``fit``, local ones may fit per series in ``predict``."""

    name: str

    def fit(self, history: Collection) -> Forecaster: ...

    def predict(self, history: Collection, horizon: int, quantiles: Sequence[float]) -> np.ndarray:
        """(n_series, horizon, len(quantiles)) in the series' units; quantiles sorted, 0.5 included."""
        ...


# --------------------------------------------------------------------------- metrics

def _forecast_arrays(y_true, quantile_forecasts, quantiles) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.float64)
    forecasts = np.asarray(quantile_forecasts, dtype=np.float64)
    levels = check_quantiles(quantiles)
    if forecasts.shape != y.shape + (len(levels),):
        raise ConvsuiteError(f"quantile forecasts have shape {forecasts.shape} but y_true {y.shape} and "
                             f"{len(levels)} quantiles need {y.shape + (len(levels),)}")
    return y, forecasts, levels


def pinball_loss(y_true, quantile_forecasts, quantiles) -> np.ndarray:
    """Pinball (quantile) loss of every forecast: max(q (y - f), (q - 1)(y - f)), shape of the forecasts."""
    y, forecasts, levels = _forecast_arrays(y_true, quantile_forecasts, quantiles)
    error = y[..., None] - forecasts
    return np.maximum(levels * error, (levels - 1.0) * error)


def smape(y_true, y_pred) -> float:
    """Symmetric MAPE in percent as in M4: mean of 200 |y - f| / (|y| + |f|); a step where both are 0 counts 0."""
    y, f = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y.shape != f.shape or y.size == 0:
        raise ConvsuiteError(f"y_true {y.shape} and y_pred {f.shape} must have the same, non-empty shape")
    denominator = np.abs(y) + np.abs(f)
    ratio = np.divide(np.abs(y - f), denominator, out=np.zeros_like(y), where=denominator > 0)
    return float(200.0 * np.mean(ratio))


def weighted_quantile_loss(y_true, quantile_forecasts, quantiles) -> float:
    """GluonTS's mean_wQuantileLoss: the mean over quantiles of 2 * sum(pinball loss) / sum(|y|).

    Equal to crps_from_quantiles times the number of forecasts divided by sum(|y|): a scaled CRPS. NaN when
    every y is 0.
    """
    y = np.asarray(y_true, dtype=np.float64)
    losses = pinball_loss(y, quantile_forecasts, quantiles)
    total = float(np.abs(y).sum())
    return float(2.0 * losses.sum() / (losses.shape[-1] * total)) if total > 0 else math.nan


def crps_from_quantiles(y_true, quantile_forecasts, quantiles) -> float:
    """CRPS approximated by twice the pinball loss averaged over the quantile grid (and all forecasts)."""
    return float(2.0 * np.mean(pinball_loss(y_true, quantile_forecasts, quantiles)))


def coverage(y_true, lower, upper) -> float:
    """Share of observations inside [lower, upper] (both ends included)."""
    y, low, high = (np.asarray(a, dtype=np.float64) for a in (y_true, lower, upper))
    if not y.shape == low.shape == high.shape or y.size == 0:
        raise ConvsuiteError(f"y_true {y.shape}, lower {low.shape} and upper {high.shape} must have the same, "
                             "non-empty shape")
    return float(np.mean((y >= low) & (y <= high)))


def geometric_mean(values, floor: float = 1e-9) -> float:
    """Geometric mean of the finite values, zeros raised to ``floor``; NaN when there are none."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(np.exp(np.mean(np.log(np.maximum(v, floor))))) if v.size else math.nan


def series_scale(values, period: int) -> float:
    """MASE's scale of one history, its in-sample seasonal-naive MAE; the lag-1 MAE, then the mean |value|,
    then 1 where that is 0 (or the history too short), so that dividing by it is always defined."""
    x = np.asarray(values, dtype=np.float64)
    for lag in (period, 1):
        if 1 <= lag < len(x):
            scale = float(np.mean(np.abs(x[lag:] - x[:-lag])))
            if scale > 0:
                return scale
    scale = float(np.mean(np.abs(x))) if len(x) else 0.0
    return scale if scale > 0 else 1.0


def default_min_train(period: int, horizon: int) -> int:
    """Shortest history a backtest forecasts from: two seasons and a step, two horizons, and 10 steps."""
    return max(2 * int(period) + 1, 2 * int(horizon), 10)


def _levels_in(quantiles: np.ndarray) -> dict[float, tuple[int, int]]:
    """Interval level -> (lower column, upper column) for the levels of INTERVAL_LEVELS the grid holds."""
    found = {}
    for level, (low, high) in INTERVAL_LEVELS.items():
        low_at, high_at = np.flatnonzero(np.isclose(quantiles, low)), np.flatnonzero(np.isclose(quantiles, high))
        if low_at.size and high_at.size:
            found[level] = (int(low_at[0]), int(high_at[0]))
    return found


def _check_forecast(forecast, name: str, expected: tuple[int, ...]) -> np.ndarray:
    forecast = np.asarray(forecast, dtype=np.float64)
    if forecast.shape != expected:
        raise ConvsuiteError(f"forecaster {name!r} returned shape {forecast.shape}, expected {expected} "
                             "(series, horizon, quantiles); fix its predict")
    if not np.isfinite(forecast).all():
        raise ConvsuiteError(f"forecaster {name!r} returned {int((~np.isfinite(forecast)).sum())} NaN or infinite "
                             "values; fix its predict")
    return forecast


def _lengths(collection) -> np.ndarray:
    return np.array([len(values) for values in collection.values], dtype=np.int64)


def _futures(collection, indices, ends, horizon: int) -> np.ndarray:
    return np.stack([np.asarray(collection.values[i][e: e + horizon], dtype=np.float64) for i, e in zip(indices, ends)])


# --------------------------------------------------------------------------- conformal calibration

class ConformalForecaster:
    """Conformalized quantile regression (Romano, Patterson & Candes 2019) around any forecaster.

    ``fit`` fits the wrapped forecaster on the history without its last calibration window, then forecasts
    from ``calibration_origins`` origins inside that window (``stride`` steps apart, the last one ``horizon``
    steps before the end) and keeps, for every horizon step and every symmetric quantile pair (q, 1 - q), the
    conformity scores max(lower - y, y - upper) divided by each series' MASE scale, pooled across series and
    origins. ``predict`` moves each pair outwards (or inwards, for a score quantile below 0) by the
    ceil((n + 1)(1 - 2q)) / n empirical quantile of its n scores times the series' scale, so the pair targets
    coverage 1 - 2q: with the default grid, 0.25/0.75 target 50%, 0.1/0.9 80%, 0.025/0.975 95% (``targets``).
    The median is left as it is. With ``refit=True`` the wrapped forecaster is refitted on the whole history
    after calibration (more data, but the intervals were calibrated on the other fit).
    """

    def __init__(self, forecaster: Forecaster, horizon: int, calibration_origins: int = 4,
                 quantiles: Sequence[float] = DEFAULT_QUANTILES, stride: int | None = None, normalize: bool = True,
                 min_history: int | None = None, refit: bool = False):
        if not isinstance(forecaster, Forecaster):
            raise ConvsuiteError(f"conformalize needs a forecaster with name, fit and predict, got "
                                 f"{type(forecaster).__name__}")
        for label, value in (("horizon", horizon), ("calibration_origins", calibration_origins),
                             ("stride", horizon if stride is None else stride)):
            if int(value) != value or value < 1:
                raise ConvsuiteError(f"conformalize needs {label} >= 1, got {value!r}")
        self.forecaster = forecaster
        self.name = f"{forecaster.name}+conformal"
        self.horizon, self.calibration_origins = int(horizon), int(calibration_origins)
        self.stride = self.horizon if stride is None else int(stride)
        self.quantiles = check_quantiles(quantiles)
        self.normalize, self.min_history, self.refit = bool(normalize), min_history, bool(refit)
        self.pairs = [(i, int(np.flatnonzero(np.isclose(self.quantiles, 1.0 - q))[0]))
                      for i, q in enumerate(self.quantiles) if q < 0.5 and np.isclose(self.quantiles, 1.0 - q).any()]
        if not self.pairs:
            raise ConvsuiteError(f"conformalize needs symmetric quantile pairs (q and 1 - q), got "
                                 f"{list(self.quantiles)}")
        self.targets = {round(1.0 - 2.0 * float(self.quantiles[low]), 6):
                        (float(self.quantiles[low]), float(self.quantiles[high])) for low, high in self.pairs}
        self.corrections: np.ndarray | None = None  # (horizon, n_pairs), in units of each series' scale
        self.calibration_scores = 0

    @property
    def fallbacks(self) -> int:
        return int(getattr(self.forecaster, "fallbacks", 0))

    def _scales(self, collection) -> np.ndarray:
        if not self.normalize:
            return np.ones(len(collection.values))
        return np.array([series_scale(values, int(collection.period)) for values in collection.values])

    def fit(self, history: Collection) -> ConformalForecaster:
        lengths = _lengths(history)
        minimum = default_min_train(history.period, self.horizon) if self.min_history is None else int(self.min_history)
        span = self.horizon + (self.calibration_origins - 1) * self.stride
        first = lengths - span
        chosen = np.flatnonzero(first >= minimum)
        if chosen.size == 0:
            raise ConvsuiteError(f"no series of {history.name!r} is long enough to calibrate on: the longest has "
                                 f"{int(lengths.max(initial=0))} steps, {self.calibration_origins} calibration origins "
                                 f"need {minimum + span}; lower calibration_origins or min_history")
        calibration = history.subset([int(i) for i in chosen])
        self.forecaster.fit(calibration.truncated(first[chosen]))
        scores = []
        for origin in range(self.calibration_origins):
            ends = first[chosen] + origin * self.stride
            past = calibration.truncated(ends)
            forecast = _check_forecast(self.forecaster.predict(past, self.horizon, tuple(self.quantiles)),
                                       self.forecaster.name, (len(chosen), self.horizon, len(self.quantiles)))
            actual = _futures(history, chosen, ends, self.horizon)[..., None]
            low, high = forecast[..., [p[0] for p in self.pairs]], forecast[..., [p[1] for p in self.pairs]]
            scores.append(np.maximum(low - actual, actual - high) / self._scales(past)[:, None, None])
        pooled = np.concatenate(scores)  # (n, horizon, n_pairs)
        n = len(pooled)
        self.corrections = np.empty((self.horizon, len(self.pairs)))
        for column, (low, _) in enumerate(self.pairs):
            level = min(1.0, math.ceil((n + 1) * (1.0 - 2.0 * self.quantiles[low])) / n)
            self.corrections[:, column] = np.quantile(pooled[:, :, column], level, axis=0, method="higher")
        self.calibration_scores = n
        if self.refit:
            self.forecaster.fit(history)
        return self

    def predict(self, history: Collection, horizon: int, quantiles: Sequence[float]) -> np.ndarray:
        if self.corrections is None:
            raise ConvsuiteError(f"{self.name} is not calibrated yet; call fit(history) before predict")
        levels = check_quantiles(quantiles)
        if horizon != self.horizon or levels.shape != self.quantiles.shape or not np.allclose(levels, self.quantiles):
            raise ConvsuiteError(f"{self.name} was calibrated for horizon {self.horizon} and quantiles "
                                 f"{list(self.quantiles)}, not {horizon} and {list(levels)}; conformalize it for those")
        forecast = _check_forecast(self.forecaster.predict(history, horizon, tuple(levels)), self.forecaster.name,
                                   (len(history.values), self.horizon, len(levels))).copy()
        shift = self.corrections[None] * self._scales(history)[:, None, None]
        low, high = [p[0] for p in self.pairs], [p[1] for p in self.pairs]
        median = forecast[..., int(np.flatnonzero(np.isclose(levels, 0.5))[0])][..., None]
        forecast[..., low] = np.minimum(forecast[..., low] - shift, median)
        forecast[..., high] = np.maximum(forecast[..., high] + shift, median)
        return np.sort(forecast, axis=-1)  # lower ones stay below the median, upper ones above: it keeps its column


def conformalize(forecaster: Forecaster, horizon: int, calibration_origins: int = 4, **options) -> ConformalForecaster:
    """``forecaster`` with quantiles calibrated by conformalized quantile regression (see ConformalForecaster)."""
    return ConformalForecaster(forecaster, horizon, calibration_origins, **options)


# --------------------------------------------------------------------------- backtest

@dataclass
class BacktestResult:
    """Scores of every forecaster at every origin: per series (``scores``), per origin and over all origins.

    Aggregate MASE is the mean of the per-series-origin MASEs (``mase``; series-origins whose history repeats
    exactly, MASE scale 0, are left out and counted in ``mase_undefined``), with their geometric mean beside it
    (``mase_geometric``); sMAPE is the mean of the per-series-origin sMAPEs (percent); ``wql`` pools the pinball
    losses and |y| of all series-origins (GluonTS's mean_wQuantileLoss, a scaled CRPS); ``coverage_50`` etc. are
    the shares of all forecast steps inside each central interval. Times are wall seconds summed over origins.
    """

    collection: str
    horizon: int
    origins: int
    stride: int
    refit: bool
    min_train: int
    quantiles: tuple[float, ...]
    forecasters: list[str]
    scores: list[dict] = field(default_factory=list)
    per_origin: list[dict] = field(default_factory=list)
    aggregate: list[dict] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # series too short for each origin, earliest origin first
    failures: dict[str, list[str]] = field(default_factory=dict)  # the first fallback reasons per forecaster

    def summary(self, forecaster: str) -> dict:
        """The aggregate row of one forecaster."""
        for row in self.aggregate:
            if row["forecaster"] == forecaster:
                return row
        raise ConvsuiteError(f"no forecaster {forecaster!r} in this backtest; it ran {', '.join(self.forecasters)}")

    def to_dict(self) -> dict:
        return {"collection": self.collection, "horizon": self.horizon, "origins": self.origins,
                "stride": self.stride, "refit": self.refit, "min_train": self.min_train,
                "quantiles": list(self.quantiles), "forecasters": self.forecasters, "skipped": self.skipped,
                "aggregate": self.aggregate, "per_origin": self.per_origin, "failures": self.failures,
                "scores": self.scores}

    def to_json(self, indent: int | None = 2) -> str:
        """JSON with NaN and infinities written as null."""
        return json.dumps(_json_safe(self.to_dict()), indent=indent, allow_nan=False)

    def to_markdown(self, digits: int = 3) -> str:
        """The aggregate table, then the per-origin one."""
        columns = ["forecaster", "series_origins", "mase", "mase_geometric", "smape", "wql", "coverage_50",
                   "coverage_80", "coverage_95", "fallbacks", "fit_seconds", "predict_seconds"]
        head = (f"Rolling-origin backtest of {self.collection}: {self.origins} origins {self.stride} steps apart, "
                f"horizon {self.horizon}, {'refit at every origin' if self.refit else 'fitted once'}; "
                f"series skipped (too short) per origin: {self.skipped}.")
        return "\n\n".join([head, _markdown_table(self.aggregate, columns, digits),
                            _markdown_table(self.per_origin, columns[:1] + ["origin", "steps_before_end"]
                                            + columns[1:], digits)]) + "\n"


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _markdown_table(rows: list[dict], columns: list[str], digits: int) -> str:
    def cell(value) -> str:
        if isinstance(value, (float, np.floating)):
            return "-" if not math.isfinite(value) else f"{value:.{digits}f}"
        return str(value)

    present = [c for c in columns if any(c in row for row in rows)]
    lines = ["| " + " | ".join(present) + " |", "|" + "|".join("---" for _ in present) + "|"]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in present) + " |" for row in rows]
    return "\n".join(lines)


def _summarise(rows: list[dict], levels: dict[float, tuple[int, int]], quantile_count: int) -> dict:
    """Pooled metrics of some per-series-origin score rows."""
    if not rows:
        return {"series_origins": 0}
    values = np.array([row["mase"] for row in rows], dtype=np.float64)
    finite = values[np.isfinite(values)]
    pinball = sum(row["pinball_sum"] for row in rows)
    magnitude = sum(row["abs_sum"] for row in rows)
    summary = {"series_origins": len(rows), "mase": float(finite.mean()) if finite.size else math.nan,
               "mase_geometric": geometric_mean(finite), "mase_undefined": int(values.size - finite.size),
               "smape": float(np.mean([row["smape"] for row in rows])),
               "wql": 2.0 * pinball / (quantile_count * magnitude) if magnitude > 0 else math.nan}
    for level in levels:
        key = f"coverage_{round(level * 100)}"
        summary[key] = float(np.mean([row[key] for row in rows]))  # every row has `horizon` steps: equal weights
    return summary


def rolling_origin_backtest(collection: Collection, forecasters: Sequence[Forecaster], horizon: int, origins: int = 3,
                            quantiles: Sequence[float] = DEFAULT_QUANTILES, refit: bool = True,
                            min_train: int | None = None, stride: int | None = None,
                            progress: bool = True) -> BacktestResult:
    """Forecast ``horizon`` steps from ``origins`` origins and score every forecaster on the same series.

    Origins count back from each series' own end: the last origin leaves the last ``horizon`` steps to forecast,
    each earlier one ``stride`` (default ``horizon``) steps before it, so the test windows tile the end of every
    series. At each origin the forecasters see the history up to it (the series cut there) and the steps after
    it are scored; a series whose history would be shorter than ``min_train`` (default: default_min_train) is
    skipped at that origin and counted. With ``refit=True`` each forecaster is fitted at every origin; with
    False it is fitted once, at the first origin, then only given the longer histories (local models fit each
    series inside predict, so for them it is the same). The point forecast scored is the 0.5 quantile.
    """
    if int(horizon) != horizon or horizon < 1 or int(origins) != origins or origins < 1:
        raise ConvsuiteError(f"a backtest needs horizon >= 1 and origins >= 1, got {horizon!r} and {origins!r}")
    horizon, origins = int(horizon), int(origins)
    stride = horizon if stride is None else stride
    if int(stride) != stride or stride < 1:
        raise ConvsuiteError(f"stride must be a whole number of steps >= 1, got {stride!r}")
    stride = int(stride)
    levels = check_quantiles(quantiles)
    period = int(collection.period)
    min_train = default_min_train(period, horizon) if min_train is None else min_train
    if int(min_train) != min_train or min_train <= period:
        raise ConvsuiteError(f"min_train must be a whole number of steps above the period {period} (MASE's scale "
                             f"needs a season and a step), got {min_train!r}")
    min_train = int(min_train)
    forecasters = list(forecasters)
    names = [getattr(f, "name", None) for f in forecasters]
    if not forecasters or not all(isinstance(f, Forecaster) for f in forecasters):
        raise ConvsuiteError("forecasters must be a non-empty list of objects with name, fit and predict "
                             "(see backtest.Forecaster)")
    if len(set(names)) != len(names):
        raise ConvsuiteError(f"forecaster names must differ, got {names}; set a distinct name on each")
    lengths = _lengths(collection)
    if not (lengths - horizon - (origins - 1) * stride >= min_train).any():
        raise ConvsuiteError(f"no series of {collection.name!r} is long enough: the longest has "
                             f"{int(lengths.max(initial=0))} "
                             f"steps, {origins} origins {stride} apart with horizon {horizon} need "
                             f"{min_train + horizon + (origins - 1) * stride}; lower origins, horizon or min_train")
    median_at = int(np.flatnonzero(np.isclose(levels, 0.5))[0])
    interval_columns = _levels_in(levels)
    result = BacktestResult(collection.name, horizon, origins, stride, bool(refit), min_train,
                            tuple(float(q) for q in levels), [str(n) for n in names])
    fitted: set[str] = set()
    from convsuite.common.progress import counter_bar

    with counter_bar(total=origins * len(forecasters), enabled=progress, desc=f"backtest {collection.name}",
                     unit="fit") as bar:
        for origin in range(origins):
            steps_before_end = horizon + (origins - 1 - origin) * stride
            ends = lengths - steps_before_end
            chosen = np.flatnonzero(ends >= min_train)
            result.skipped.append(int(len(lengths) - chosen.size))
            if chosen.size == 0:
                bar.update(len(forecasters))
                continue
            history = collection.subset([int(i) for i in chosen]).truncated(ends[chosen])
            actual = _futures(collection, chosen, ends[chosen], horizon)
            for forecaster, name in zip(forecasters, result.forecasters):
                fallbacks_before = int(getattr(forecaster, "fallbacks", 0))
                started = time.perf_counter()
                if refit or name not in fitted:
                    forecaster.fit(history)
                    fitted.add(name)
                fit_seconds = time.perf_counter() - started
                forecast = _check_forecast(forecaster.predict(history, horizon, tuple(levels)), name,
                                           (chosen.size, horizon, len(levels)))
                predict_seconds = time.perf_counter() - started - fit_seconds
                rows = [_score(collection.ids[i], name, origin, history.values[k], actual[k], forecast[k], levels,
                               median_at, interval_columns, period) for k, i in enumerate(chosen)]
                result.scores.extend(rows)
                result.per_origin.append({"forecaster": name, "origin": origin, "steps_before_end": steps_before_end,
                                          **_summarise(rows, interval_columns, len(levels)),
                                          "fallbacks": int(getattr(forecaster, "fallbacks", 0)) - fallbacks_before,
                                          "fit_seconds": fit_seconds, "predict_seconds": predict_seconds})
                bar.update(1)
    for name, forecaster in zip(result.forecasters, forecasters):
        rows = [row for row in result.scores if row["forecaster"] == name]
        origin_rows = [row for row in result.per_origin if row["forecaster"] == name]
        result.aggregate.append({"forecaster": name, **_summarise(rows, interval_columns, len(levels)),
                                 "fallbacks": sum(row["fallbacks"] for row in origin_rows),
                                 "fit_seconds": sum(row["fit_seconds"] for row in origin_rows),
                                 "predict_seconds": sum(row["predict_seconds"] for row in origin_rows)})
        failures = list(getattr(forecaster, "failures", None) or getattr(getattr(forecaster, "forecaster", None),
                                                                           "failures", None) or [])
        if failures:
            result.failures[name] = failures
    return result


def _score(series_id, name: str, origin: int, history, actual, forecast, levels, median_at: int,
           interval_columns: dict, period: int) -> dict:
    """Scores of one forecast of one series at one origin."""
    magnitude = float(np.abs(actual).sum())
    row = {"forecaster": name, "origin": origin, "series": str(series_id),
           "mase": mase(actual, forecast[:, median_at], history, period),
           "smape": smape(actual, forecast[:, median_at]),
           "crps": crps_from_quantiles(actual, forecast, levels),
           "pinball_sum": float(pinball_loss(actual, forecast, levels).sum()), "abs_sum": magnitude}
    for level, (low, high) in interval_columns.items():
        row[f"coverage_{round(level * 100)}"] = coverage(actual, forecast[:, low], forecast[:, high])
    return row
