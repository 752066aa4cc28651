"""Spectral Residual / SR-CNN (Ren et al. 2019): known answers first, then SR-CNN against SR."""

import numpy as np
import pytest

import keras

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries.anomaly import (
    _extend,
    adjusted_f1,
    choose_threshold,
    evaluate_detectors,
    inject_anomalies,
    make_srcnn_windows,
    point_f1,
    spectral_residual,
    sr_scores,
    srcnn,
    srcnn_scores,
)


def seasonal(seed: int, n: int = 720) -> np.ndarray:
    """Two sines of random period (12-60 points) and amplitude, a trend, noise, level 1."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = np.zeros(n)
    for _ in range(2):
        x += rng.uniform(0.5, 1.5) * np.sin(2 * np.pi * t / rng.uniform(12, 60) + rng.uniform(0, 2 * np.pi))
    return x + rng.uniform(-1, 1) * t / n + rng.normal(0, 0.2, n) + 1.0


def labelled(seeds, rate=0.03):
    pairs = [inject_anomalies(seasonal(seed), rate, seed=seed) for seed in seeds]
    return [v for v, _ in pairs], [y for _, y in pairs]


# --------------------------------------------------------------------------- Spectral Residual

def test_saliency_of_a_smooth_sine_with_one_spike_peaks_at_the_spike():
    t = np.arange(300)
    x = 10 + np.sin(2 * np.pi * t / 37) + 0.01 * t
    x[150] += 3.0
    saliency = spectral_residual(x)
    assert saliency.shape == (300,)
    assert int(np.argmax(saliency)) == 150
    assert saliency[150] > 10 * np.median(saliency)
    scores = sr_scores(x)
    assert int(np.argmax(scores)) == 150 and scores[150] > 3.0  # the paper's tau = 3 flags it


def test_extrapolation_follows_the_papers_average_gradient():
    line = 2.0 + 0.5 * np.arange(10)
    # every gradient (x_n - x_{n-i}) / i is 0.5, so x_{n+1} = x_{n-4} + 5 * 0.5 = x_n + 0.5, copied kappa times
    np.testing.assert_allclose(_extend(line, 3, 5), np.concatenate([line, [7.0, 7.0, 7.0]]))


def test_extrapolated_points_keep_the_newest_point_from_looking_anomalous():
    t = np.arange(300)
    x = 10 + np.sin(2 * np.pi * t / 37) + 0.01 * t
    with_points = spectral_residual(x)
    assert with_points.shape == x.shape and np.all(np.isfinite(with_points))
    # without them the FFT's edge makes the clean last point look like an anomaly
    assert sr_scores(x, estimated_points=0)[-1] > 3.0
    assert sr_scores(x)[-1] < 3.0


# --------------------------------------------------------------------------- injection

def test_injection_is_deterministic_for_a_seed_and_honours_the_rate():
    x = seasonal(0, n=2000)
    values, labels = inject_anomalies(x, 0.05, seed=3)
    again, labels_again = inject_anomalies(x, 0.05, seed=3)
    np.testing.assert_array_equal(values, again)
    np.testing.assert_array_equal(labels, labels_again)
    assert not np.array_equal(inject_anomalies(x, 0.05, seed=4)[1], labels)
    assert labels.dtype == np.int8 and labels.shape == x.shape
    assert abs(labels.mean() - 0.05) < 0.005
    np.testing.assert_array_equal(values[labels == 0], x[labels == 0])  # only labelled points move
    lengths = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], labels, [0]]))))[::2]
    assert lengths.max() > 1 and lengths.max() <= 5  # level-shift segments of 2..5 points exist
    assert (lengths == 1).sum() > len(lengths) / 2  # most events are the paper's point anomalies


# --------------------------------------------------------------------------- metrics

def test_point_f1_on_a_hand_made_example():
    labels = [0, 1, 1, 0, 0, 1, 0, 0]
    predicted = [0, 1, 0, 1, 0, 1, 0, 0]  # tp 2, fp 1, fn 1
    assert point_f1(labels, predicted) == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3})
    assert point_f1([0, 0, 0], [0, 0, 0]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_adjusted_f1_credits_a_segment_only_when_hit_within_the_delay():
    labels = np.zeros(20, int)
    labels[2:12] = 1                      # one 10-point segment
    early = np.zeros(20, int)
    early[2 + 7] = 1                      # hit at offset 7 = delay: whole segment detected
    early[15] = 1                         # a false positive outside, kept
    assert adjusted_f1(labels, early, delay=7) == pytest.approx({"precision": 10 / 11, "recall": 1.0, "f1": 20 / 21})
    assert point_f1(labels, early)["recall"] == pytest.approx(0.1)
    late = np.zeros(20, int)
    late[2 + 8] = 1                       # offset 8 > delay: no credit, and the hit is dropped
    assert adjusted_f1(labels, late, delay=7) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert adjusted_f1(labels, late, delay=None)["recall"] == 1.0  # plain point adjust credits it


def test_choose_threshold_maximises_validation_f1_and_ignores_test_labels():
    scores = np.array([0.1, 0.2, 0.9, 0.8, 0.3, 0.85])
    labels = np.array([0, 0, 1, 1, 0, 0])
    assert choose_threshold(scores, labels, metric="point") == pytest.approx(0.8)
    keras.utils.set_random_seed(0)
    model = srcnn(16)  # untrained: only the plumbing matters here
    val, test = labelled([100, 101]), labelled([200, 201])
    flipped = [1 - y for y in test[1]]
    first = evaluate_detectors(model, *val, *test, window=16)
    second = evaluate_detectors(model, *val, test[0], flipped, window=16)
    thresholds = [key for key in first if key.endswith("_threshold")]
    assert len(thresholds) == 4
    assert all(first[key] == second[key] for key in thresholds)
    assert first["sr_point_f1"] != second["sr_point_f1"]


# --------------------------------------------------------------------------- SR-CNN

def test_srcnn_has_the_papers_layer_widths_and_per_point_output():
    model = srcnn(16)
    assert model.output_shape == (None, 16)
    assert model.get_layer("conv1").kernel.shape == (16, 1, 16)    # kernel = window, window channels
    assert model.get_layer("conv2").kernel.shape == (16, 16, 32)   # then 2 * window channels
    # conv 16*16+16, conv 16*16*32+32, dense 32*64+64, dense 64+1
    assert model.count_params() == 272 + 8224 + 2112 + 65
    probability = srcnn_scores(model, seasonal(0, n=203), window=16, step=5)
    assert probability.shape == (203,) and np.all((probability >= 0) & (probability <= 1))


def test_saved_srcnn_loads_back_and_gives_the_same_outputs(tmp_path):
    keras.utils.set_random_seed(0)
    model = srcnn(16)
    x, y = make_srcnn_windows([seasonal(0, n=200)], window=16, windows_per_series=4, rate=0.05, seed=0)
    assert x.shape == (4, 16, 1) and x.dtype == np.float32 and y.shape == (4, 16)
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "srcnn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), atol=1e-6)


def test_srcnn_beats_spectral_residual_on_held_out_series():
    window = 32
    keras.utils.set_random_seed(0)
    # 3,000 training windows from 20 clean series; anomalies injected at 8% for more positives
    x, y = make_srcnn_windows([seasonal(seed) for seed in range(20)], window, 150, rate=0.08, seed=0)
    assert x.shape == (3000, window, 1) and y.shape == (3000, window)
    model = srcnn(window)
    model.fit(x, y, epochs=10, batch_size=128, verbose=0)
    val = labelled(range(100, 116))    # thresholds chosen here
    test = labelled(range(200, 216))   # scored here only
    result = evaluate_detectors(model, *val, *test, window=window, delay=7)
    print({key: round(value, 3) for key, value in result.items()})
    # over keras seeds 0-5 the margins were +0.06..+0.10 (adjusted) and +0.07..+0.09 (point)
    assert result["srcnn_adjusted_f1"] > result["sr_adjusted_f1"] + 0.03
    assert result["srcnn_point_f1"] > result["sr_point_f1"] + 0.03
    assert result["sr_adjusted_f1"] > 0.5  # SR itself is a real baseline, not a strawman


# --------------------------------------------------------------------------- bad input

def test_bad_inputs_raise_one_sentence_errors():
    x = seasonal(0, n=100)
    with pytest.raises(ConvsuiteError, match="NaN or infinite value at index 3"):
        spectral_residual(np.where(np.arange(100) == 3, np.nan, x))
    with pytest.raises(ConvsuiteError, match="NaN or infinite"):
        inject_anomalies(np.where(np.arange(100) == 5, np.inf, x), 0.05, seed=0)
    with pytest.raises(ConvsuiteError, match="100 points but at least 128"):
        make_srcnn_windows([x], window=128, windows_per_series=2, rate=0.05, seed=0)
    with pytest.raises(ConvsuiteError, match="window must be an integer >= 4"):
        srcnn(3)
    with pytest.raises(ConvsuiteError, match="window must be an integer >= 4"):
        make_srcnn_windows([x], window=2, windows_per_series=2, rate=0.05, seed=0)
    with pytest.raises(ConvsuiteError, match="labels have shape"):
        point_f1([0, 1, 0], [0, 1])
    with pytest.raises(ConvsuiteError, match="labels of series 0"):
        choose_threshold(np.zeros(5), np.zeros(4))
    for rate in (0.0, 0.5, -0.1):
        with pytest.raises(ConvsuiteError, match="rate must be in"):
            inject_anomalies(x, rate, seed=0)
    model = srcnn(16)
    with pytest.raises(ConvsuiteError, match="at least 16 are needed"):
        srcnn_scores(model, x[:10], window=16)
    with pytest.raises(ConvsuiteError, match="pass the window it was built with"):
        srcnn_scores(model, x, window=32)
