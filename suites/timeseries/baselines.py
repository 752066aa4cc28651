"""Classical baselines of the time-series suite, so every network result has a bar to clear.

Forecasting: seasonal naive and a direct multi-horizon linear autoregression, scored by
MASE (Hyndman & Koehler 2006). Classification: 1-nearest-neighbour with Euclidean distance,
the UCR archive's reference baseline. numpy only.
"""

from __future__ import annotations

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries.data import check_finite


def _histories(histories, minimum: int, what: str) -> np.ndarray:
    h = np.asarray(histories, dtype=np.float64)
    if h.ndim != 2:
        raise ConvsuiteError(f"histories must have shape (N, steps), got {h.shape}; stack one history per row")
    if h.shape[1] < minimum:
        raise ConvsuiteError(f"histories have {h.shape[1]} steps but {what} needs at least {minimum}; give longer histories")
    check_finite(h, "histories")
    return h


def seasonal_naive(histories: np.ndarray, horizon: int, period: int) -> np.ndarray:
    """Forecast each step by the value one season earlier, repeating the last observed season.

    histories (N, L) raw target values with L >= period; returns (N, horizon).
    """
    if horizon < 1 or period < 1:
        raise ConvsuiteError(f"horizon={horizon} and period={period} must both be at least 1")
    h = _histories(histories, period, f"seasonal naive with period {period}")
    last_season = h[:, h.shape[1] - period:]
    return last_season[:, np.arange(horizon) % period]


class LinearAR:
    """Direct multi-horizon linear autoregression: one ridge least-squares map lags -> horizon.

    ``coef_[j, k]`` weights history[-lags + j] (oldest first) in the forecast of step k + 1;
    the intercept is not penalised. ``ridge`` is relative to the mean lag variance, so the
    fit does not depend on the series' units. A constant training series gets zero lag
    weights, so it is forecast as that constant.
    """

    BLOCK_VALUES = 4_000_000  # lag values centred at a time while fitting (32 MB)

    def __init__(self, lags: int, horizon: int, ridge: float = 1e-3):
        if lags < 1 or horizon < 1 or ridge < 0:
            raise ConvsuiteError(f"LinearAR needs lags >= 1, horizon >= 1 and ridge >= 0, got {lags}, {horizon}, {ridge}")
        self.lags, self.horizon, self.ridge = int(lags), int(horizon), float(ridge)
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None

    def fit(self, series_1d) -> "LinearAR":
        """Fit on every (lags -> next horizon) pair inside the given training series."""
        x = np.asarray(series_1d, dtype=np.float64)
        if x.ndim != 1:
            raise ConvsuiteError(f"LinearAR.fit takes one 1-D training series, got shape {x.shape}")
        check_finite(x, "the training series")
        pairs = len(x) - self.lags - self.horizon + 1
        if pairs < self.lags + 1:
            raise ConvsuiteError(f"the training series has {len(x)} steps, too few for lags={self.lags} and horizon={self.horizon} "
                                 f"(needs at least {2 * self.lags + self.horizon}); lower lags or give a longer series")
        windows = np.lib.stride_tricks.sliding_window_view(x, self.lags + self.horizon)
        inputs, targets = windows[:, : self.lags], windows[:, self.lags:]
        input_mean, target_mean = inputs.mean(axis=0), targets.mean(axis=0)
        # Sums over blocks of pairs: a copy of every lag window would take pairs x lags floats.
        gram, cross = np.zeros((self.lags, self.lags)), np.zeros((self.lags, self.horizon))
        rows = max(1, self.BLOCK_VALUES // self.lags)
        for first in range(0, pairs, rows):
            centred = inputs[first: first + rows] - input_mean
            gram += centred.T @ centred
            cross += centred.T @ (targets[first: first + rows] - target_mean)
        gram, cross = gram / pairs, cross / pairs
        variance = np.trace(gram) / self.lags
        if variance <= 1e-20 * float(np.mean(x * x)):  # constant up to rounding: the lags say nothing
            self.coef_ = np.zeros((self.lags, self.horizon))
        else:
            system = gram + self.ridge * variance * np.eye(self.lags)
            try:
                self.coef_ = np.linalg.solve(system, cross)
            except np.linalg.LinAlgError:  # ridge=0 on collinear lags: the least-norm solution
                self.coef_ = np.linalg.lstsq(system, cross, rcond=None)[0]
        self.intercept_ = target_mean - input_mean @ self.coef_
        return self

    def predict(self, histories) -> np.ndarray:
        """Forecast (N, horizon) from histories (N, L >= lags); only the last `lags` steps are used."""
        if self.coef_ is None:
            raise ConvsuiteError("this LinearAR is not fitted yet; call fit(training_series) before predict")
        h = _histories(histories, self.lags, f"LinearAR with lags={self.lags}")
        return h[:, -self.lags:] @ self.coef_ + self.intercept_


def mase(y_true, y_pred, training_series, period: int) -> float:
    """Mean absolute scaled error (Hyndman & Koehler 2006).

    MAE over all forecasts divided by the in-sample MAE of the seasonal-naive one-step forecast
    on the training series. A training series that repeats exactly at lag `period` has scale 0:
    then a perfect forecast scores 0 and any other inf.
    """
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ConvsuiteError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must have the same shape")
    train = np.asarray(training_series, dtype=np.float64)
    if train.ndim != 1 or len(train) <= period or period < 1:
        raise ConvsuiteError(f"MASE needs a 1-D training series longer than the period {period}, got shape {train.shape}")
    check_finite(train, "the training series")
    check_finite(y_true, "y_true")
    check_finite(y_pred, "y_pred")
    scale = float(np.mean(np.abs(train[period:] - train[:-period])))
    error = float(np.mean(np.abs(y_true - y_pred)))
    if scale == 0.0:
        return 0.0 if error == 0.0 else float("inf")
    return error / scale


def _as_3d(x, what: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3 or len(x) == 0:
        raise ConvsuiteError(f"{what} must have shape (N, time, channels) with N >= 1, got {x.shape}")
    return x


def _lengths(x: np.ndarray, what: str) -> np.ndarray:
    """True lengths (trailing all-NaN steps are padding); NaN inside a series is an error."""
    finite = np.isfinite(x).any(axis=2)
    lengths = np.where(finite.any(axis=1), x.shape[1] - np.argmax(finite[:, ::-1], axis=1), 0)
    inside = np.arange(x.shape[1])[None, :] < lengths[:, None]
    bad = ~np.isfinite(x) & inside[..., None]
    if (lengths == 0).any() or bad.any():
        row = int(np.argmax((lengths == 0) | bad.any(axis=(1, 2))))
        raise ConvsuiteError(f"{what}: series {row} is empty or has NaN/inf inside its length; clean or drop it")
    return lengths


def _resample(x: np.ndarray, lengths: np.ndarray, target: int) -> np.ndarray:
    out = np.empty((len(x), target, x.shape[2]))
    grid = np.linspace(0.0, 1.0, target)
    for index, length in enumerate(lengths):
        if length == target:
            out[index] = x[index, :target]
            continue
        points = np.linspace(0.0, 1.0, length) if length > 1 else np.zeros(1)
        for channel in range(x.shape[2]):
            out[index, :, channel] = np.interp(grid, points, x[index, :length, channel])
    return out


def nearest_neighbour_accuracy(x_train, y_train, x_test, y_test, chunk: int = 0) -> float:
    """Test accuracy of 1-NN with Euclidean distance on (N, T, C) arrays; ties go to the first.

    Unequal lengths (NaN-padded at the end, or different T in train and test) are first
    resampled linearly to the longest true length, so every series is compared whole.
    Distances are computed ``chunk`` test series at a time (0: about 64 MB per chunk).
    """
    x_train, x_test = _as_3d(x_train, "x_train"), _as_3d(x_test, "x_test")
    y_train, y_test = np.asarray(y_train).ravel(), np.asarray(y_test).ravel()
    if len(y_train) != len(x_train) or len(y_test) != len(x_test):
        raise ConvsuiteError(f"{len(x_train)}/{len(x_test)} train/test series but {len(y_train)}/{len(y_test)} labels; they must match")
    if x_train.shape[2] != x_test.shape[2]:
        raise ConvsuiteError(f"x_train has {x_train.shape[2]} channels but x_test {x_test.shape[2]}; they must match")
    lengths_train, lengths_test = _lengths(x_train, "x_train"), _lengths(x_test, "x_test")
    longest = int(max(lengths_train.max(), lengths_test.max()))
    if (lengths_train != longest).any() or (lengths_test != longest).any():
        x_train, x_test = _resample(x_train, lengths_train, longest), _resample(x_test, lengths_test, longest)
    train = x_train.reshape(len(x_train), -1)
    test = x_test.reshape(len(x_test), -1)
    train_norms = np.einsum("ij,ij->i", train, train)
    chunk = chunk or max(1, 8_000_000 // len(train))
    predicted = np.empty(len(test), dtype=y_train.dtype)
    for start in range(0, len(test), chunk):
        # |a - b|^2 = |a|^2 - 2 a.b + |b|^2; the test norm is the same for every candidate.
        distances = train_norms[None, :] - 2.0 * test[start : start + chunk] @ train.T
        predicted[start : start + chunk] = y_train[np.argmin(distances, axis=1)]
    return float(np.mean(predicted == y_test))


# --------------------------------------------------------------------------- forecasters for rolling-origin backtests
#
# Local models behind the Forecaster protocol of backtest.py (fit(history) -> self, predict(history, horizon,
# quantiles) -> (n_series, horizon, n_quantiles)). Each predict() fits one model per series on that series' whole
# history, one series at a time, so refitting or not makes no difference to them. A fit that fails on a series
# falls back to seasonal naive for that series, counted in ``fallbacks`` with the reason in ``failures``.
# statsmodels and scipy are imported inside the functions that use them.
#
# Literature: ETS, Hyndman, Koehler, Snyder & Grose (2002) and Hyndman et al. (2008); automatic ARIMA, Hyndman &
# Khandakar (2008); the seasonal-strength rule for seasonal differencing, Wang, Smith & Hyndman (2006); KPSS,
# Kwiatkowski, Phillips, Schmidt & Shin (1992); Theta, Assimakopoulos & Nikolopoulos (2000) as SES with drift
# (Hyndman & Billah 2003).

import math  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from statistics import NormalDist  # noqa: E402

from convsuite.suites.timeseries.series import _require  # noqa: E402

DEFAULT_QUANTILES = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
# Central intervals reported by backtests: level -> (lower quantile, upper quantile).
INTERVAL_LEVELS = {0.5: (0.25, 0.75), 0.8: (0.1, 0.9), 0.95: (0.025, 0.975)}
FAILURES_KEPT = 20


def check_quantiles(quantiles) -> np.ndarray:
    """Quantile levels as an increasing float array that holds 0.5 (the point forecast)."""
    try:
        levels = np.asarray(quantiles, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        levels = np.array([np.nan])
    if (levels.size == 0 or not np.all((levels > 0) & (levels < 1)) or np.any(np.diff(levels) <= 0)
            or not np.isclose(levels, 0.5).any()):
        raise ConvsuiteError(f"quantiles must increase strictly between 0 and 1 and include 0.5, got {quantiles!r}; "
                             f"e.g. {', '.join(map(str, DEFAULT_QUANTILES))}")
    return levels


def gaussian_quantiles(mean, std, quantiles) -> np.ndarray:
    """(horizon, n_quantiles) quantiles of independent Gaussians per step."""
    z = np.array([NormalDist().inv_cdf(float(level)) for level in quantiles])
    return np.asarray(mean, dtype=np.float64)[:, None] + np.asarray(std, dtype=np.float64)[:, None] * z[None, :]


def seasonal_naive_quantiles(values, horizon: int, period: int, quantiles) -> np.ndarray:
    """Seasonal naive with Gaussian quantiles: residual RMS times sqrt(seasons ahead), as in Hyndman &
    Athanasopoulos, Forecasting: Principles and Practice. A series of one season or less is forecast naively."""
    values = np.asarray(values, dtype=np.float64)
    season = period if len(values) > period else 1
    point = seasonal_naive(values[None, :], horizon, season)[0]
    residuals = values[season:] - values[:-season]
    sigma = float(np.sqrt(np.mean(residuals ** 2))) if residuals.size else 0.0
    return gaussian_quantiles(point, sigma * np.sqrt(np.arange(horizon) // season + 1.0), quantiles)


def _one_blas_thread():
    """Small per-series fits run several times faster on one BLAS thread, above all on a busy machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class LocalForecaster:
    """One model per series, fitted inside predict; failures fall back to seasonal naive and are counted."""

    name = "local"
    # (module, package) pairs imported before any series is tried: a missing package is one error, not a fallback
    # per series, and libraries loaded here are then held to one BLAS thread too (threadpoolctl limits only those
    # loaded when the limit starts).
    requires: tuple[tuple[str, str], ...] = ()

    def __init__(self):
        self.fallbacks = 0
        self.failures: list[str] = []

    def fit(self, history) -> "LocalForecaster":
        """Nothing to learn across series: each series' model is fitted in predict on its own history."""
        return self

    def forecast_series(self, values: np.ndarray, horizon: int, period: int, quantiles: np.ndarray) -> np.ndarray:
        """(horizon, n_quantiles) forecast of one series from its history."""
        raise NotImplementedError

    def predict(self, history, horizon: int, quantiles: Sequence[float]) -> np.ndarray:
        levels = check_quantiles(quantiles)
        if int(horizon) != horizon or horizon < 1:
            raise ConvsuiteError(f"horizon must be a whole number of steps >= 1, got {horizon!r}")
        horizon = int(horizon)
        for module, package in self.requires:
            _require(module, package)
        out = np.empty((len(history.values), horizon, len(levels)))
        with _one_blas_thread():
            for index, values in enumerate(history.values):
                out[index] = self._forecast_or_fall_back(history, index, horizon, levels)
        return out

    def _forecast_or_fall_back(self, history, index: int, horizon: int, levels: np.ndarray) -> np.ndarray:
        values = np.asarray(history.values[index], dtype=np.float64)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                forecast = np.asarray(self.forecast_series(values, horizon, int(history.period), levels),
                                      dtype=np.float64)
            if forecast.shape != (horizon, len(levels)) or not np.isfinite(forecast).all():
                raise ValueError(f"the forecast has shape {forecast.shape} or values that are not finite")
            return forecast
        except Exception as error:  # noqa: BLE001 - one series that will not fit must not end a backtest
            self.fallbacks += 1
            if len(self.failures) < FAILURES_KEPT:
                self.failures.append(f"{history.ids[index]}: {type(error).__name__}: {error}")
            return seasonal_naive_quantiles(values, horizon, int(history.period), levels)


class SeasonalNaiveForecaster(LocalForecaster):
    """The value one season earlier; Gaussian quantiles from the in-sample seasonal-naive residuals."""

    name = "seasonal_naive"

    def forecast_series(self, values, horizon, period, quantiles):
        return seasonal_naive_quantiles(values, horizon, period, quantiles)


class ARForecaster(LocalForecaster):
    """LinearAR per series (direct multi-horizon ridge regression on the last ``lags`` values).

    ``lags`` defaults to max(2 * period, 4), capped so the series gives at least lags + 1 training pairs.
    Quantiles: the point forecast plus the empirical quantiles of the in-sample residuals of each horizon
    step (a direct model has one residual series per step), so they are not Gaussian and grow with the step.
    """

    name = "ar"

    def __init__(self, lags: int | None = None, ridge: float = 1e-3):
        super().__init__()
        if lags is not None and lags < 1:
            raise ConvsuiteError(f"ARForecaster needs lags >= 1 or None (from the period), got {lags}")
        self.lags, self.ridge = lags, float(ridge)

    def lags_for(self, length: int, horizon: int, period: int) -> int:
        return min(self.lags or max(2 * period, 4), (length - horizon) // 2)

    def forecast_series(self, values, horizon, period, quantiles):
        lags = self.lags_for(len(values), horizon, period)
        if lags < 1:
            raise ValueError(f"{len(values)} steps are too few for an AR forecast {horizon} steps ahead")
        model = LinearAR(lags, horizon, self.ridge).fit(values)
        windows = np.lib.stride_tricks.sliding_window_view(values, lags + horizon)
        residuals = windows[:, lags:] - (windows[:, :lags] @ model.coef_ + model.intercept_)
        point = model.predict(values[None, :])[0]
        return point[:, None] + np.quantile(residuals, quantiles, axis=0).T


class ETSForecaster(LocalForecaster):
    """Exponential smoothing state-space models chosen by AICc among additive-error candidates, as R's ets() does.

    Candidates: no, additive or damped additive trend, each without and (when 2 <= period <= 24 and the series
    is longer than two seasons) with additive seasonality: ANN, AAN, AAdN, ANA, AAA, AAdA, with estimated initial
    states (``initialization="heuristic"`` is several times faster). Multiplicative models are left out (their
    intervals need simulation). Quantiles: Gaussian, with the chosen model's exact forecast variance.
    """

    name = "ets"
    requires = (("pandas", "pandas"), ("statsmodels.tsa.exponential_smoothing.ets", "statsmodels"))
    max_seasonal_period = 24  # as R's ets(): longer seasons have too many initial states to estimate

    def __init__(self, initialization: str = "estimated"):
        super().__init__()
        if initialization not in ("estimated", "heuristic"):
            raise ConvsuiteError(f"ETSForecaster initialization must be estimated (as R's ets) or heuristic (faster), "
                                 f"got {initialization!r}")
        self.initialization = initialization

    def forecast_series(self, values, horizon, period, quantiles):
        pd = _require("pandas", "pandas")
        ets = _require("statsmodels.tsa.exponential_smoothing.ets", "statsmodels")
        series = pd.Series(values)  # statsmodels' ETS prediction needs a pandas index
        seasonal = 2 <= period <= self.max_seasonal_period and len(values) > 2 * period
        best, reasons = None, []
        for season in (None, "add") if seasonal else (None,):
            for trend, damped in ((None, False), ("add", False), ("add", True)):
                try:
                    fitted = ets.ETSModel(series, error="add", trend=trend, damped_trend=damped, seasonal=season,
                                          seasonal_periods=period if season else None,
                                          initialization_method=self.initialization).fit(disp=False)
                except Exception as error:  # noqa: BLE001 - one candidate that will not fit is skipped
                    reasons.append(f"{type(error).__name__}: {error}")
                    continue
                if np.isfinite(fitted.aicc) and (best is None or fitted.aicc < best.aicc):
                    best = fitted
        if best is None:
            raise ValueError("no ETS candidate could be fitted" + (f" ({reasons[0]})" if reasons else ""))
        prediction = best.get_prediction(start=len(values), end=len(values) + horizon - 1)
        variance = np.maximum(np.asarray(prediction.forecast_variance, dtype=np.float64), 0.0)
        return gaussian_quantiles(np.asarray(prediction.predicted_mean, dtype=np.float64), np.sqrt(variance), quantiles)


class ThetaForecaster(LocalForecaster):
    """The Theta method as statsmodels' ThetaModel fits it (SES with drift), deseasonalised like R's thetaf().

    With period > 1 and two full seasons, the series is deseasonalised (multiplicatively when it is positive,
    else additively) if the 90% autocorrelation test at the seasonal lag finds seasonality. Quantiles: Gaussian
    with the spread of the model's prediction intervals, sigma^2 (1 + (h - 1)(1 + (alpha - 1)^2)) at step h.
    """

    name = "theta"
    requires = (("statsmodels.tsa.forecasting.theta", "statsmodels"),)

    def forecast_series(self, values, horizon, period, quantiles):
        theta = _require("statsmodels.tsa.forecasting.theta", "statsmodels")
        deseasonalize = period > 1 and len(values) >= 2 * period
        method = "multiplicative" if values.min() > 0 else "additive"
        fitted = theta.ThetaModel(values, period=max(period, 1), deseasonalize=deseasonalize, use_test=deseasonalize,
                                  method=method).fit()
        point = np.asarray(fitted.forecast(horizon), dtype=np.float64)
        # ThetaModel's intervals are symmetric Gaussian around the forecast; read their spread off the 95% one.
        interval = np.asarray(fitted.prediction_intervals(horizon, alpha=0.05), dtype=np.float64)
        std = (interval[:, 1] - interval[:, 0]) / (2 * NormalDist().inv_cdf(0.975))
        return gaussian_quantiles(point, std, quantiles)


# Automatic ARIMA. The order search and the estimates use conditional sum of squares (Box & Jenkins; R's
# arima(method="CSS"), which auto.arima also uses to search long or seasonal series): one fit costs milliseconds,
# where statsmodels' exact likelihood costs about a second per seasonal candidate. estimation="mle" refits the
# chosen order with statsmodels' ARIMA for the forecast.

def _lag_polynomial(coefficients, sign: float, lag: int) -> np.ndarray:
    """1 + sign * (c1 B^lag + c2 B^(2 lag) + ...) as coefficients of B^0, B^1, ..."""
    poly = np.zeros(len(coefficients) * lag + 1)
    poly[0] = 1.0
    poly[lag::lag] = sign * np.asarray(coefficients, dtype=np.float64)
    return poly


def _roots_outside_unit_circle(poly: np.ndarray, margin: float = 1.001) -> bool:
    trimmed = np.trim_zeros(poly, "b")
    return len(trimmed) <= 1 or bool(np.all(np.abs(np.roots(trimmed[::-1])) > margin))


class _ArmaPolynomials:
    """The AR and MA polynomials (non-seasonal and seasonal) of a flat parameter vector (phi, theta, Phi, Theta),
    written into preallocated arrays: the search evaluates them thousands of times per series."""

    def __init__(self, order, period: int):
        self.p, self.q, self.seasonal_p, self.seasonal_q = order
        self.period = period
        self.phi, self.theta = np.zeros(self.p + 1), np.zeros(self.q + 1)
        self.seasonal_phi = np.zeros(self.seasonal_p * period + 1)
        self.seasonal_theta = np.zeros(self.seasonal_q * period + 1)
        for poly in (self.phi, self.theta, self.seasonal_phi, self.seasonal_theta):
            poly[0] = 1.0

    def set(self, params) -> "_ArmaPolynomials":
        p, q, sp, sq, m = self.p, self.q, self.seasonal_p, self.seasonal_q, self.period
        self.phi[1:] = -params[:p]
        self.theta[1:] = params[p: p + q]
        self.seasonal_phi[m::m] = -params[p + q: p + q + sp]
        self.seasonal_theta[m::m] = params[p + q + sp: p + q + sp + sq]
        return self

    def ar(self) -> np.ndarray:
        return np.convolve(self.phi, self.seasonal_phi)

    def ma(self) -> np.ndarray:
        return np.convolve(self.theta, self.seasonal_theta)

    def stationary_and_invertible(self) -> bool:
        return all(_roots_outside_unit_circle(poly) for poly in (self.phi, self.theta, self.seasonal_phi,
                                                                   self.seasonal_theta))


def _css_fit(differenced: np.ndarray, order, constant: bool, period: int, start: int) -> dict | None:
    """Conditional-sum-of-squares ARMA fit of the differenced series; None if it fails or is not stationary and
    invertible. The first ``start`` residuals are left out for every candidate, so their AICc compare."""
    from scipy.optimize import least_squares
    from scipy.signal import lfilter

    arma = sum(order)
    used = len(differenced) - start
    parameters = arma + int(constant) + 1  # + the innovation variance
    if used - parameters - 1 < 3:
        return None
    centre = float(np.mean(differenced)) if constant else 0.0
    centred = differenced - centre
    polynomials = _ArmaPolynomials(order, period)

    p, q, seasonal_p, seasonal_q = order

    def residuals(params):
        polynomials.set(params)
        shift = params[arma] if constant else 0.0
        with np.errstate(all="ignore"):
            errors = lfilter(polynomials.ar(), polynomials.ma(), centred - shift)[start:]
        return errors if np.isfinite(errors).all() else np.full(used, 1e8)

    def lagged(x: np.ndarray, lag: int) -> np.ndarray:
        return np.concatenate([np.zeros(lag), x[:-lag]])

    def jacobian(params):
        """d e / d params from a few filters: e = (ar / ma) x, with zero pre-sample values as in the residuals."""
        polynomials.set(params)
        ar, ma = polynomials.ar(), polynomials.ma()
        x = centred - (params[arma] if constant else 0.0)
        columns = []
        with np.errstate(all="ignore"):
            e = lfilter(ar, ma, x)
            if p:
                through = lfilter(polynomials.seasonal_phi, ma, x)
                columns += [-lagged(through, j) for j in range(1, p + 1)]
            if q:
                through = lfilter(polynomials.seasonal_theta, ma, e)
                columns += [-lagged(through, j) for j in range(1, q + 1)]
            if seasonal_p:
                through = lfilter(polynomials.phi, ma, x)
                columns += [-lagged(through, j * period) for j in range(1, seasonal_p + 1)]
            if seasonal_q:
                through = lfilter(polynomials.theta, ma, e)
                columns += [-lagged(through, j * period) for j in range(1, seasonal_q + 1)]
            if constant:
                columns.append(-lfilter(ar, ma, np.ones_like(x)))
            matrix = np.stack(columns, axis=1)[start:]
        return matrix if np.isfinite(matrix).all() else np.zeros_like(matrix)

    params = np.zeros(arma + int(constant))
    if params.size:
        try:
            params = least_squares(residuals, params, jac=jacobian, method="lm", max_nfev=100 * (params.size + 1)).x
        except (ValueError, np.linalg.LinAlgError):
            return None
    errors = residuals(params)
    if not polynomials.stationary_and_invertible():
        return None
    sse = float(errors @ errors)
    if not np.isfinite(sse) or sse <= 0:
        return None
    sigma2 = sse / used
    loglik = -0.5 * used * (math.log(2 * math.pi * sigma2) + 1)
    aicc = -2 * loglik + 2 * parameters + 2 * parameters * (parameters + 1) / (used - parameters - 1)
    return {"order": tuple(order), "constant": constant, "aicc": aicc, "sigma2": sigma2, "params": params[:arma],
            "mean": centre + (params[arma] if constant else 0.0), "ar": polynomials.ar(), "ma": polynomials.ma()}


def seasonal_strength(values, period: int) -> float:
    """max(0, 1 - var(remainder) / var(season + remainder)) of an STL decomposition (Wang, Smith & Hyndman 2006)."""
    stl = _require("statsmodels.tsa.seasonal", "statsmodels")
    decomposition = stl.STL(np.asarray(values, dtype=np.float64), period=period).fit()
    remainder, season = np.asarray(decomposition.resid), np.asarray(decomposition.seasonal)
    spread = float(np.var(season + remainder))
    return 0.0 if spread == 0 else max(0.0, 1.0 - float(np.var(remainder)) / spread)


def kpss_differences(values, max_differences: int = 2, alpha: float = 0.05) -> int:
    """Number of first differences after which the KPSS level-stationarity test no longer rejects at ``alpha``,
    with the short lag truncation 4 (n / 100)^(1/4), as R's ndiffs()."""
    stattools = _require("statsmodels.tsa.stattools", "statsmodels")
    x = np.asarray(values, dtype=np.float64)
    for differences in range(max_differences):
        if len(x) < 10 or np.ptp(x) == 0:
            return differences
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # p-values outside the table's range are clipped, which is enough here
            p_value = stattools.kpss(x, regression="c", nlags=max(1, int(4 * (len(x) / 100) ** 0.25)))[1]
        if p_value >= alpha:
            return differences
        x = np.diff(x)
    return max_differences


class AutoARIMAForecaster(LocalForecaster):
    """Automatic seasonal ARIMA in the manner of Hyndman & Khandakar (2008), R's auto.arima().

    Seasonal differencing D = 1 when period > 1, the series has three seasons and its STL seasonal strength
    exceeds 0.64; then first differences d <= 2 - D by repeated KPSS tests. The orders p, q <= max_p, max_q
    and P, Q <= max_seasonal (seasonal terms only with three seasons), and a constant (drift) when d + D <= 1,
    are searched stepwise by AICc from four starting models, moving to the best neighbour (each order +-1,
    p and q together, P and Q together, the constant on or off) while it improves. Estimation: conditional
    sum of squares; forecasts by the ARIMA recursion. Quantiles: Gaussian, variance sigma^2 times the sum of
    squared psi-weights of the integrated model. ``estimation="mle"`` refits the chosen order with
    statsmodels' exact-likelihood ARIMA and uses its forecast and variance (about a second per seasonal series).
    """

    name = "arima"
    requires = (("scipy.optimize", "scipy"), ("scipy.signal", "scipy"), ("statsmodels.tsa.stattools", "statsmodels"),
                ("statsmodels.tsa.seasonal", "statsmodels"))

    def __init__(self, max_p: int = 2, max_q: int = 2, max_seasonal: int = 1, estimation: str = "css"):
        super().__init__()
        if min(max_p, max_q, max_seasonal) < 0 or estimation not in ("css", "mle"):
            raise ConvsuiteError(f"AutoARIMAForecaster needs max_p, max_q, max_seasonal >= 0 and estimation css or "
                                 f"mle, got {max_p}, {max_q}, {max_seasonal}, {estimation!r}")
        self.max_p, self.max_q, self.max_seasonal, self.estimation = max_p, max_q, max_seasonal, estimation
        if estimation == "mle":
            self.requires = self.requires + (("statsmodels.tsa.arima.model", "statsmodels"),)
        self.chosen: list[str] = []  # the orders chosen, one per series forecast, e.g. "(1,1,1)(0,1,1)12 drift"

    def select(self, values: np.ndarray, period: int) -> tuple[dict, int, int]:
        """The CSS fit of the chosen model, with d and D."""
        seasonal = period > 1 and len(values) >= 3 * period
        seasonal_differences = int(seasonal and seasonal_strength(values, period) > 0.64)
        x = values[period:] - values[:-period] if seasonal_differences else values
        differences = kpss_differences(x, 2 - seasonal_differences)
        for _ in range(differences):
            x = np.diff(x)
        max_seasonal = self.max_seasonal if seasonal else 0
        start = self.max_p + max_seasonal * period
        allow_constant = differences + seasonal_differences <= 1
        fits: dict[tuple, dict | None] = {}

        def aicc(candidate) -> float:
            if candidate not in fits:
                fits[candidate] = _css_fit(x, candidate[:4], candidate[4], period, start)
            return math.inf if fits[candidate] is None else fits[candidate]["aicc"]

        limits = (self.max_p, self.max_q, max_seasonal, max_seasonal)

        def clipped(candidate) -> tuple:
            return tuple(min(max(value, 0), limit) for value, limit in zip(candidate[:4], limits)) + (candidate[4],)

        starts = [(2, 2, 1, 1), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)]
        best = min({clipped(s + (allow_constant,)) for s in starts}, key=aicc)
        steps = [(1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1), (1, 1, 0, 0), (0, 0, 1, 1)]
        while True:
            neighbours = {clipped(tuple(b + sign * s for b, s in zip(best[:4], step)) + (best[4],))
                          for step in steps for sign in (1, -1)}
            if allow_constant:
                neighbours.add(best[:4] + (not best[4],))
            neighbours.discard(best)
            candidate = min(neighbours, key=aicc) if neighbours else best
            if aicc(candidate) >= aicc(best):
                break
            best = candidate
        if fits.get(best) is None:
            raise ValueError(f"no ARIMA candidate could be fitted to the {len(x)} differenced steps")
        return fits[best], differences, seasonal_differences

    def forecast_series(self, values, horizon, period, quantiles):
        from scipy.signal import lfilter

        fit, differences, seasonal_differences = self.select(values, period)
        p, q, seasonal_p, seasonal_q = fit["order"]
        drift = " drift" if fit["constant"] else ""
        self.chosen.append(f"({p},{differences},{q})({seasonal_p},{seasonal_differences},{seasonal_q}){period}{drift}")
        if self.estimation == "mle":
            return self._mle_forecast(values, fit, differences, seasonal_differences, period, horizon, quantiles)
        integration = np.array([1.0])
        for _ in range(differences):
            integration = np.convolve(integration, [1.0, -1.0])
        if seasonal_differences:
            integration = np.convolve(integration, _lag_polynomial([1.0], -1.0, period))
        ar, ma = fit["ar"], fit["ma"]
        full_ar = np.convolve(ar, integration)  # A(B) y_t = ar(1) * mean + ma(B) e_t
        lost = len(integration) - 1
        differenced = lfilter(integration, [1.0], values)[lost:]
        with np.errstate(all="ignore"):
            shocks = lfilter(ar, ma, differenced - fit["mean"])
        y = np.concatenate([values, np.zeros(horizon)])
        e = np.concatenate([np.zeros(lost), shocks, np.zeros(horizon)])
        constant = float(np.sum(ar)) * fit["mean"]
        n = len(values)
        for step in range(horizon):
            t = n + step
            past_y = y[t - len(full_ar) + 1: t][::-1] if len(full_ar) > 1 else np.zeros(0)
            past_e = e[t - len(ma) + 1: t][::-1] if len(ma) > 1 else np.zeros(0)
            y[t] = constant - full_ar[1:] @ past_y + ma[1:] @ past_e
        impulse = np.zeros(horizon)
        impulse[0] = 1.0
        psi = lfilter(ma, full_ar, impulse)
        return gaussian_quantiles(y[n:], np.sqrt(fit["sigma2"] * np.cumsum(psi ** 2)), quantiles)

    @staticmethod
    def _mle_forecast(values, fit, differences, seasonal_differences, period, horizon, quantiles):
        arima = _require("statsmodels.tsa.arima.model", "statsmodels")
        p, q, seasonal_p, seasonal_q = fit["order"]
        seasonal_order = (seasonal_p, seasonal_differences, seasonal_q, period) if period > 1 else (0, 0, 0, 0)
        trend = ("c" if differences + seasonal_differences == 0 else "t") if fit["constant"] else "n"
        result = arima.ARIMA(values, order=(p, differences, q), seasonal_order=seasonal_order, trend=trend).fit()
        forecast = result.get_forecast(horizon)
        variance = np.maximum(np.asarray(forecast.var_pred_mean, dtype=np.float64), 0.0)
        return gaussian_quantiles(np.asarray(forecast.predicted_mean, dtype=np.float64), np.sqrt(variance), quantiles)


def baseline_forecasters() -> list[LocalForecaster]:
    """The baselines a forecaster tries first: seasonal naive, AR, ETS, auto-ARIMA and Theta."""
    return [SeasonalNaiveForecaster(), ARForecaster(), ETSForecaster(), AutoARIMAForecaster(), ThetaForecaster()]
