"""Spectral Residual and SR-CNN anomaly detection (Ren et al. 2019, "Time-Series Anomaly
Detection Service at Microsoft", KDD).

SR borrows visual saliency (Hou & Zhang 2007): the log amplitude spectrum of a series, minus
its local average, is the "unexpected" part; transformed back it peaks where the series
surprises. SR-CNN learns a per-point decision on windows of that saliency map, trained on
anomalies injected into series assumed clean, so no hand labels are needed.

The numpy parts (transform, injection, metrics, thresholds) import without Keras; the model
parts import it inside the functions that need it. Paper settings are the defaults:
q = 3, z = 21, kappa = 5 estimated points from the gradient of m = 5 preceding points.
A point is flagged when its score is >= the threshold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from convsuite.common.errors import ConvsuiteError

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "spectral_residual",
    "sr_scores",
    "inject_anomalies",
    "srcnn",
    "make_srcnn_windows",
    "srcnn_scores",
    "point_f1",
    "adjusted_f1",
    "choose_threshold",
    "evaluate_detectors",
]

_EPS = 1e-8  # floor for log-amplitudes and divisions: a constant series has zero spectrum


# --------------------------------------------------------------------------- checks

def _series(values, name: str = "series", min_length: int = 1) -> np.ndarray:
    """A finite 1-D float64 copy of ``values``."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ConvsuiteError(f"the {name} must be 1-D, got shape {x.shape}; pass one series at a time")
    if not np.all(np.isfinite(x)):
        bad = int(np.flatnonzero(~np.isfinite(x))[0])
        raise ConvsuiteError(f"the {name} has a NaN or infinite value at index {bad}; fill or drop missing points first")
    if len(x) < min_length:
        raise ConvsuiteError(f"the {name} has {len(x)} points but at least {min_length} are needed; use a longer series or a smaller window")
    return x


def _window(window: int) -> int:
    if int(window) != window or window < 4:
        raise ConvsuiteError(f"window must be an integer >= 4, got {window!r}; SR-CNN needs a few points of context")
    return int(window)


def _labels(labels, n: int, name: str = "labels") -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != n:
        raise ConvsuiteError(f"the {name} have shape {y.shape} but the values have {n} points; pass one 0/1 label per point")
    return (y != 0).astype(np.int8)


def _as_list(arrays) -> list:
    """One array, or a list of per-series arrays, as a list of arrays."""
    if isinstance(arrays, (list, tuple)):
        return list(arrays)
    return [arrays]


# --------------------------------------------------------------------------- Spectral Residual

def _extend(x: np.ndarray, estimated_points: int, look_back: int) -> np.ndarray:
    """Append kappa copies of an extrapolated point (Ren et al. 2019, eqs. 6-7).

    g = mean_{i=1..m} (x_n - x_{n-i}) / i is the average gradient of the last point to each of
    the m preceding points; the estimate is x_{n+1} = x_{n-m+1} + g * m. Putting the newest real
    point away from the series' end keeps the FFT's edge effect off it.
    """
    if estimated_points == 0:
        return x
    n = len(x) - 1
    i = np.arange(1, look_back + 1)
    g = np.mean((x[n] - x[n - i]) / i)
    estimate = x[n - look_back + 1] + g * look_back
    return np.concatenate([x, np.full(estimated_points, estimate)])


def spectral_residual(values: np.ndarray, amplitude_window: int = 3, estimated_points: int = 5,
                      look_back: int = 5) -> np.ndarray:
    """Saliency map S(x) of a 1-D series (Ren et al. 2019, eqs. 1-5), shape (T,).

    A = |F(x)|, P = phase(F(x)), L = log A, R = L - h_q * L, S = |F^-1(exp(R + iP))|, with h_q a
    length-q average filter (``amplitude_window``, paper q = 3). ``estimated_points`` (the paper's
    kappa = 5) extrapolated points, from the average gradient of the last ``look_back`` points
    (the paper's m = 5), are appended first and dropped afterwards.

    Assumptions the paper leaves open: the full (two-sided) spectrum is filtered circularly,
    since a DFT spectrum is periodic; amplitudes are floored at 1e-8 before the log. The map is
    computed over the whole series given (the service slides an omega = 1440 window instead).
    """
    if int(amplitude_window) != amplitude_window or amplitude_window < 1:
        raise ConvsuiteError(f"amplitude_window (q) must be an integer >= 1, got {amplitude_window!r}; the paper uses 3")
    if int(estimated_points) != estimated_points or estimated_points < 0:
        raise ConvsuiteError(f"estimated_points must be an integer >= 0, got {estimated_points!r}; the paper uses 5")
    if int(look_back) != look_back or look_back < 1:
        raise ConvsuiteError(f"look_back must be an integer >= 1, got {look_back!r}; the paper uses 5")
    x = _series(values, min_length=int(look_back) + 1)
    extended = _extend(x, int(estimated_points), int(look_back))

    spectrum = np.fft.fft(extended)
    log_amplitude = np.log(np.maximum(np.abs(spectrum), _EPS))
    phase = np.angle(spectrum)
    q = int(amplitude_window)
    shifts = range(-(q // 2), q - q // 2)  # centred; circular because the spectrum is periodic
    average = sum(np.roll(log_amplitude, s) for s in shifts) / q
    residual = log_amplitude - average
    saliency = np.abs(np.fft.ifft(np.exp(residual + 1j * phase)))
    return saliency[: len(x)]


def _preceding_mean(s: np.ndarray, z: int) -> np.ndarray:
    """Mean of the z values before each index (fewer near the start; s[0] itself at index 0)."""
    csum = np.concatenate([[0.0], np.cumsum(s)])
    idx = np.arange(len(s))
    lo = np.maximum(idx - z, 0)
    count = idx - lo
    mean = (csum[idx] - csum[lo]) / np.maximum(count, 1)
    mean[0] = s[0]
    return mean


def sr_scores(values, local_window: int = 21, **sr_kwargs) -> np.ndarray:
    """The SR detector's score (S(x_i) - mean S) / mean S, the mean over the z preceding saliency
    values (Ren et al. 2019, eq. 8; paper z = 21, tau = 3 flags a point). Shape (T,).
    """
    if int(local_window) != local_window or local_window < 1:
        raise ConvsuiteError(f"local_window (z) must be an integer >= 1, got {local_window!r}; the paper uses 21")
    s = spectral_residual(values, **sr_kwargs)
    mean = _preceding_mean(s, int(local_window))
    return (s - mean) / np.maximum(mean, _EPS)


# --------------------------------------------------------------------------- anomaly injection

def inject_anomalies(values: np.ndarray, rate: float, seed: int, *, max_segment: int = 5,
                     segment_share: float = 0.3, window: int = 64, local_window: int = 21,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Inject labelled anomalies into a series assumed clean (Ren et al. 2019, Sec. 4.3).

    A point anomaly replaces x by (x_bar + mean) * (1 + var) * r + x, r ~ N(0, 1): x_bar is the
    average of the ``local_window`` points before it, mean and var those of the ``window`` points
    before it (all from the clean series). A ``segment_share`` of the events are instead level
    shifts of 2..``max_segment`` points, every point moved by one such offset: an addition to the
    paper, so that the delay-tolerant metric matters. Events do not touch each other; they are
    added until about ``rate`` of the points are labelled. Returns (new values, int8 labels).
    """
    x = _series(values, min_length=2)
    if not 0.0 < float(rate) < 0.5:
        raise ConvsuiteError(f"rate must be in (0, 0.5), got {rate!r}; it is the fraction of points made anomalous")
    if int(max_segment) != max_segment or max_segment < 1:
        raise ConvsuiteError(f"max_segment must be an integer >= 1, got {max_segment!r}")
    if not 0.0 <= float(segment_share) <= 1.0:
        raise ConvsuiteError(f"segment_share must be in [0, 1], got {segment_share!r}")
    rng = np.random.default_rng(seed)
    n = len(x)
    target = max(1, int(round(float(rate) * n)))
    out = x.copy()
    labels = np.zeros(n, np.int8)
    taken = np.zeros(n + 2, bool)  # padded by one so that neighbours of events stay free
    count = 0
    for start in rng.permutation(np.arange(1, n)):
        if count >= target:
            break
        length = 1
        if max_segment > 1 and rng.random() < segment_share:
            length = min(int(rng.integers(2, max_segment + 1)), target - count, n - start)
        if taken[start: start + length + 2].any():  # [start-1, start+length] in padded indices
            continue
        before = x[max(0, start - local_window): start]
        context = x[max(0, start - window): start]
        offset = (before.mean() + context.mean()) * (1.0 + context.var()) * rng.normal()
        out[start: start + length] += offset
        labels[start: start + length] = 1
        taken[start + 1: start + length + 1] = True
        count += length
    return out, labels


# --------------------------------------------------------------------------- SR-CNN

def srcnn(window: int = 64) -> "keras.Model":
    """SR-CNN (Ren et al. 2019, Sec. 3.3): saliency window (batch, window, 1) -> per-point
    anomaly probability (batch, window).

    As in the paper: two Conv1D layers with kernel size = window and window, then 2*window
    channels, two fully connected layers, sigmoid output, cross-entropy loss.
    Deviations (the paper leaves these open or we choose them for speed):
    "same" padding and ReLU; the two dense layers (4*window units, then 1) act per time step on
    the conv features, so each point's output sees the whole window through the convolutions;
    compiled with Adam (lr 1e-3) instead of SGD, which trains in a few epochs.
    Inputs are windows normalised by ``make_srcnn_windows`` / ``srcnn_scores``.
    """
    import keras
    from keras import layers

    window = _window(window)
    inputs = keras.Input((window, 1), name="saliency")
    h = layers.Conv1D(window, window, padding="same", activation="relu", name="conv1")(inputs)
    h = layers.Conv1D(2 * window, window, padding="same", activation="relu", name="conv2")(h)
    h = layers.Dense(4 * window, activation="relu", name="fc1")(h)
    h = layers.Dense(1, activation="sigmoid", name="fc2")(h)
    outputs = layers.Reshape((window,), name="probability")(h)
    model = keras.Model(inputs, outputs, name=f"srcnn_{window}")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return model


def _normalise(windows: np.ndarray) -> np.ndarray:
    """Scale each saliency window by its mean, minus 1: the SR score's ratio, over the window.

    Saliency magnitudes follow the series' scale; the ratio makes windows comparable.
    """
    mean = windows.mean(axis=-1, keepdims=True)
    return (windows / np.maximum(mean, _EPS) - 1.0).astype(np.float32)


def make_srcnn_windows(series_list: list[np.ndarray], window: int, windows_per_series: int,
                       rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """SR-CNN training data: inject anomalies into each series (assumed clean), take its
    saliency map, cut ``windows_per_series`` random windows and normalise each.

    Returns x (N, window, 1) float32 and y (N, window) float32 labels, N = len(series) *
    windows_per_series; deterministic for a seed.
    """
    window = _window(window)
    if int(windows_per_series) != windows_per_series or windows_per_series < 1:
        raise ConvsuiteError(f"windows_per_series must be an integer >= 1, got {windows_per_series!r}")
    if not 0.0 < float(rate) < 0.5:
        raise ConvsuiteError(f"rate must be in (0, 0.5), got {rate!r}; it is the fraction of points made anomalous")
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for k, series in enumerate(series_list):
        x = _series(series, name=f"series {k}", min_length=window)
        injected, labels = inject_anomalies(x, rate, int(rng.integers(2**31)))
        saliency = spectral_residual(injected)
        starts = rng.integers(0, len(x) - window + 1, size=int(windows_per_series))
        idx = starts[:, None] + np.arange(window)
        xs.append(_normalise(saliency[idx]))
        ys.append(labels[idx].astype(np.float32))
    return np.concatenate(xs)[..., None], np.concatenate(ys)


def srcnn_scores(model, values: np.ndarray, window: int, step: int | None = None,
                 batch_size: int = 256) -> np.ndarray:
    """Per-point anomaly probability over a whole series, shape (T,).

    The saliency of the series is cut into windows every ``step`` points (default window // 4;
    the last window is aligned to the end); each point gets the mean output of the windows that
    cover it.
    """
    from keras import ops

    window = _window(window)
    x = _series(values, min_length=window)
    if tuple(model.input_shape[1:]) != (window, 1):
        raise ConvsuiteError(f"the model takes windows of shape {tuple(model.input_shape[1:])} but window={window}; pass the window it was built with")
    step = max(1, window // 4) if step is None else int(step)
    if step < 1:
        raise ConvsuiteError(f"step must be >= 1, got {step}; leave it None for window // 4")
    saliency = spectral_residual(x)
    n = len(x)
    starts = list(range(0, n - window + 1, step))
    if starts[-1] != n - window:
        starts.append(n - window)
    starts = np.asarray(starts)
    idx = starts[:, None] + np.arange(window)
    batches = _normalise(saliency[idx])[..., None]
    out = np.concatenate([ops.convert_to_numpy(model(batches[i: i + batch_size], training=False))
                          for i in range(0, len(batches), batch_size)])
    total = np.zeros(n)
    count = np.zeros(n)
    np.add.at(total, idx, out)
    np.add.at(count, idx, 1.0)
    return total / count


# --------------------------------------------------------------------------- metrics

def _segments(labels: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of 1s, end exclusive."""
    padded = np.concatenate([[0], labels.astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2], edges[1::2]))


def _adjust(labels: np.ndarray, predicted: np.ndarray, delay: int | None) -> np.ndarray:
    """Ren et al.'s delay rule: a segment is all-detected if hit in its first delay+1 points,
    else all-missed; delay=None is Xu et al. 2018's point adjust (a hit anywhere)."""
    adjusted = predicted.copy()
    for start, end in _segments(labels):
        stop = end if delay is None else min(end, start + int(delay) + 1)
        adjusted[start:end] = 1 if predicted[start:stop].any() else 0
    return adjusted


def _scores(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _counts(labels: np.ndarray, predicted: np.ndarray) -> tuple[int, int, int]:
    tp = int(np.sum((labels == 1) & (predicted == 1)))
    fp = int(np.sum((labels == 0) & (predicted == 1)))
    fn = int(np.sum((labels == 1) & (predicted == 0)))
    return tp, fp, fn


def _pair(labels, predicted) -> tuple[np.ndarray, np.ndarray]:
    predicted = np.asarray(predicted)
    if predicted.ndim != 1:
        raise ConvsuiteError(f"predictions must be 1-D, got shape {predicted.shape}; pass one 0/1 value per point")
    return _labels(labels, len(predicted)), (predicted != 0).astype(np.int8)


def point_f1(labels, predicted) -> dict:
    """Point-wise precision, recall and F1 of 0/1 predictions against 0/1 labels."""
    y, p = _pair(labels, predicted)
    return _scores(*_counts(y, p))


def adjusted_f1(labels, predicted, delay: int | None = 7) -> dict:
    """Delay-tolerant precision, recall and F1 (Ren et al. 2019, Sec. 4.2, after Xu et al.
    2018): a labelled segment counts as fully detected when one of its first ``delay`` + 1
    points is predicted, else as fully missed; ``delay=None`` gives credit for a hit anywhere
    in the segment. Predictions outside segments are unchanged. Paper delay: 7 (minutely KPI).
    """
    if delay is not None and (int(delay) != delay or delay < 0):
        raise ConvsuiteError(f"delay must be an integer >= 0 or None, got {delay!r}")
    y, p = _pair(labels, predicted)
    return _scores(*_counts(y, _adjust(y, p, delay)))


def _pooled(labels_list, predicted_list, metric: str, delay) -> dict:
    """Counts summed over series, so segments never merge across series boundaries."""
    tp = fp = fn = 0
    for y, p in zip(labels_list, predicted_list):
        if metric == "adjusted":
            p = _adjust(y, p, delay)
        a, b, c = _counts(y, p)
        tp, fp, fn = tp + a, fp + b, fn + c
    return _scores(tp, fp, fn)


def _scored_pairs(scores, labels) -> tuple[list, list]:
    scores, labels = _as_list(scores), _as_list(labels)
    if len(scores) != len(labels):
        raise ConvsuiteError(f"got {len(scores)} score series but {len(labels)} label series; pass one label array per series")
    s_list, y_list = [], []
    for k, (s, y) in enumerate(zip(scores, labels)):
        s = _series(s, name=f"scores of series {k}")
        s_list.append(s)
        y_list.append(_labels(y, len(s), name=f"labels of series {k}"))
    return s_list, y_list


def choose_threshold(scores, labels, metric: str = "adjusted", delay: int | None = 7) -> float:
    """The threshold (flag score >= threshold) that maximises F1 on validation data.

    ``scores`` / ``labels`` are one array each or lists of per-series arrays. Candidates are the
    unique scores (at most 1000 of them: else quantiles, dense in the upper tail where anomalies
    sit). Only the data passed in are seen: call it on validation series, never on test ones.
    """
    if metric not in ("adjusted", "point"):
        raise ConvsuiteError(f"metric must be 'adjusted' or 'point', got {metric!r}")
    s_list, y_list = _scored_pairs(scores, labels)
    pooled = np.concatenate(s_list)
    candidates = np.unique(pooled)
    if len(candidates) > 1000:
        tail = 1.0 - np.geomspace(0.5, 0.5 / len(pooled), 700)
        levels = np.unique(np.concatenate([np.linspace(0.0, 1.0, 301), tail]))
        candidates = np.unique(np.quantile(pooled, levels, method="inverted_cdf"))
    best, best_f1 = float(candidates[-1]), -1.0
    for threshold in candidates[::-1]:  # high to low: ties keep the stricter threshold
        f1 = _pooled(y_list, [(s >= threshold).astype(np.int8) for s in s_list], metric, delay)["f1"]
        if f1 > best_f1:
            best, best_f1 = float(threshold), f1
    return best


def evaluate_detectors(model, val_series: list[np.ndarray], val_labels: list[np.ndarray],
                       test_series, test_labels, window: int, delay: int = 7) -> dict:
    """SR alone vs SR-CNN on test series, thresholds chosen on validation series only.

    For each detector and metric (point, adjusted with ``delay``) a threshold is chosen on the
    validation series and applied to the test series; counts are pooled over series. Returns a
    flat dict with ``{sr,srcnn}_{point,adjusted}_{f1,precision,recall,threshold}``.
    """
    window = _window(window)
    detectors = {
        "sr": sr_scores,
        "srcnn": lambda values: srcnn_scores(model, values, window),
    }
    for name, series, labels in (("validation", val_series, val_labels), ("test", test_series, test_labels)):
        if len(series) != len(labels):
            raise ConvsuiteError(f"got {len(series)} {name} series but {len(labels)} label arrays; pass one label array per series")
    result = {}
    for name, score in detectors.items():
        val_scores, val_y = _scored_pairs([score(x) for x in val_series], val_labels)
        test_scores, test_y = _scored_pairs([score(x) for x in test_series], test_labels)
        for metric in ("point", "adjusted"):
            threshold = choose_threshold(val_scores, val_y, metric=metric, delay=delay)
            predicted = [(s >= threshold).astype(np.int8) for s in test_scores]
            scores = _pooled(test_y, predicted, metric, delay)
            for key, value in scores.items():
                result[f"{name}_{metric}_{key}"] = value
            result[f"{name}_{metric}_threshold"] = threshold
    return result
