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
    fit does not depend on the series' units.
    """

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
        centred = inputs - input_mean
        gram = centred.T @ centred / pairs
        penalty = self.ridge * max(np.trace(gram) / self.lags, np.finfo(float).tiny)
        self.coef_ = np.linalg.solve(gram + penalty * np.eye(self.lags), centred.T @ (targets - target_mean) / pairs)
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
