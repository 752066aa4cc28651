"""Classical baselines: known answers (hand-computed MASE, AR(2) coefficients, UCR 1-NN), then behaviour."""

import numpy as np
import pytest

from tests.requirements import require

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries.baselines import LinearAR, mase, nearest_neighbour_accuracy, seasonal_naive


def ar2(n, phi1=0.6, phi2=-0.3, mean=5.0, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros(n + 200)
    noise = rng.normal(size=n + 200)
    for t in range(2, n + 200):
        x[t] = phi1 * x[t - 1] + phi2 * x[t - 2] + noise[t]
    return x[200:] + mean


def rolling_origin(series, start, history, horizon, step):
    """Histories ending at each origin and the true continuations after them."""
    origins = np.arange(start, len(series) - horizon + 1, step)
    histories = np.stack([series[o - history : o] for o in origins])
    futures = np.stack([series[o : o + horizon] for o in origins])
    return histories, futures


# --------------------------------------------------------------------------- known answers

def test_seasonal_naive_repeats_the_last_season():
    forecast = seasonal_naive(np.array([[1, 2, 3, 4, 5, 6], [0, 0, 0, 7, 8, 9]]), horizon=5, period=3)
    np.testing.assert_array_equal(forecast, [[4, 5, 6, 4, 5], [7, 8, 9, 7, 8]])
    np.testing.assert_array_equal(seasonal_naive(np.array([[1.0, 2.0]]), 3, 1), [[2, 2, 2]])


def test_mase_matches_a_hand_computed_example():
    # In-sample seasonal-naive MAE at period 1 of [1, 2, 4, 7]: (1 + 2 + 3) / 3 = 2; MAE (0 + 1) / 2 = 0.5.
    assert mase([[8.0, 10.0]], [[8.0, 9.0]], [1.0, 2.0, 4.0, 7.0], period=1) == pytest.approx(0.25)
    # Period 2 of [1, 2, 4, 7, 11]: (3 + 5 + 7) / 3 = 5; MAE (2 + 4 + 0 + 4) / 4 = 2.5.
    assert mase([[1.0, 2.0], [3.0, 4.0]], [[3.0, 6.0], [3.0, 0.0]], [1, 2, 4, 7, 11], period=2) == pytest.approx(0.5)


def test_seasonal_naive_scores_mase_zero_on_a_perfectly_periodic_series():
    period = 24
    series = np.tile(np.sin(2 * np.pi * np.arange(period) / period) + np.arange(period) % 5, 40)
    train, test = series[:720], series
    histories, futures = rolling_origin(test, 720, 48, 12, 7)
    assert mase(futures, seasonal_naive(histories, 12, period), train, period) == 0.0
    assert mase(futures, futures + 1.0, train, period) == float("inf")  # zero scale: any error is infinite


def test_linear_ar_recovers_ar2_coefficients_within_0_05():
    series = ar2(4000)
    model = LinearAR(lags=2, horizon=1).fit(series)
    assert model.coef_.shape == (2, 1)
    assert model.coef_[1, 0] == pytest.approx(0.6, abs=0.05)  # lag 1 (newest)
    assert model.coef_[0, 0] == pytest.approx(-0.3, abs=0.05)  # lag 2
    assert model.intercept_[0] == pytest.approx(5.0 * (1 - 0.6 + 0.3), abs=0.1)


def test_nearest_neighbour_on_a_toy_gets_the_hand_answer():
    x_train = np.array([[0.0, 0.0], [10.0, 10.0], [0.0, 10.0]])[:, :, None]
    y_train = np.array([0, 1, 2])
    x_test = np.array([[1.0, -1.0], [9.0, 8.0], [1.0, 9.0], [6.0, 6.0]])[:, :, None]
    # Nearest: 0, 1, 2 and (6, 6) -> (10, 10) at distance 32 beats (0, 10) at 52 and (0, 0) at 72.
    assert nearest_neighbour_accuracy(x_train, y_train, x_test, [0, 1, 2, 1]) == 1.0
    assert nearest_neighbour_accuracy(x_train, y_train, x_test, [0, 1, 2, 0]) == 0.75


def test_nearest_neighbour_on_gunpoint_matches_the_ucr_archive_error_of_0_087():
    require("aeon", "timeseries")
    from convsuite.suites.timeseries.data import load_ucr

    gunpoint = load_ucr("GunPoint")
    accuracy = nearest_neighbour_accuracy(gunpoint.x_train, gunpoint.y_train, gunpoint.x_test, gunpoint.y_test)
    assert accuracy == pytest.approx(1 - 0.0867, abs=0.001)  # UCR archive: 1-NN Euclidean error 0.0867


# --------------------------------------------------------------------------- behaviour

def test_linear_ar_beats_seasonal_naive_on_an_ar2_process():
    series = ar2(3000, seed=1)
    train = series[:2000]
    model = LinearAR(lags=8, horizon=6).fit(train)
    histories, futures = rolling_origin(series, 2000, 24, 6, 3)
    ar_score = mase(futures, model.predict(histories), train, period=1)
    naive_score = mase(futures, seasonal_naive(histories, 6, period=1), train, period=1)
    assert ar_score < 0.85 * naive_score


def test_linear_ar_direct_forecasts_match_iterating_the_true_recursion():
    series = ar2(6000, seed=2, mean=0.0)
    model = LinearAR(lags=2, horizon=3).fit(series)
    history = np.array([[0.5, 1.0]])
    one = 0.6 * 1.0 - 0.3 * 0.5
    two = 0.6 * one - 0.3 * 1.0
    three = 0.6 * two - 0.3 * one
    np.testing.assert_allclose(model.predict(history)[0], [one, two, three], atol=0.1)


def test_nearest_neighbour_resamples_nan_padded_series_of_different_lengths():
    def wave(cycles, length):
        return np.sin(2 * np.pi * cycles * np.linspace(0, 1, length))

    def padded(rows, width):
        x = np.full((len(rows), width, 1), np.nan)
        for i, row in enumerate(rows):
            x[i, : len(row), 0] = row
        return x

    x_train = padded([wave(1, 20), wave(3, 30)], 30)
    x_test = padded([wave(1, 45), wave(3, 12), wave(1, 33)], 45)
    assert nearest_neighbour_accuracy(x_train, [0, 1], x_test, [0, 1, 0]) == 1.0


def test_chunked_distances_give_the_same_answer_as_one_chunk():
    rng = np.random.default_rng(0)
    x_train, x_test = rng.normal(size=(60, 16, 2)), rng.normal(size=(45, 16, 2))
    y_train, y_test = rng.integers(0, 3, 60), rng.integers(0, 3, 45)
    whole = nearest_neighbour_accuracy(x_train, y_train, x_test, y_test, chunk=1000)
    assert nearest_neighbour_accuracy(x_train, y_train, x_test, y_test, chunk=7) == whole
    brute = np.linalg.norm(x_test.reshape(45, 1, -1) - x_train.reshape(1, 60, -1), axis=2).argmin(axis=1)
    assert whole == pytest.approx(np.mean(y_train[brute] == y_test))


def test_baselines_reject_bad_input_with_one_clear_error():
    with pytest.raises(ConvsuiteError, match="at least 24"):
        seasonal_naive(np.zeros((2, 10)), 4, period=24)
    with pytest.raises(ConvsuiteError, match="not fitted"):
        LinearAR(3, 2).predict(np.zeros((1, 5)))
    with pytest.raises(ConvsuiteError, match="too few"):
        LinearAR(10, 5).fit(np.arange(12.0))
    with pytest.raises(ConvsuiteError, match="at least 3"):
        LinearAR(3, 1).fit(np.arange(50.0)).predict(np.zeros((1, 2)))
    with pytest.raises(ConvsuiteError, match="same shape"):
        mase(np.zeros((2, 3)), np.zeros((2, 4)), np.arange(10.0), 1)
    with pytest.raises(ConvsuiteError, match="NaN"):
        LinearAR(2, 1).fit(np.array([1.0, np.nan, 2.0, 3.0, 4.0, 5.0]))
    with pytest.raises(ConvsuiteError, match="channels"):
        nearest_neighbour_accuracy(np.zeros((2, 5, 1)), [0, 1], np.zeros((1, 5, 2)), [0])


# --------------------------------------------------------------------------- constant series

@pytest.mark.parametrize("level", [0.0, 5.0, 0.1, 4512.37])
@pytest.mark.parametrize("ridge", [1e-3, 0.0])
def test_linear_ar_forecasts_a_constant_series_as_that_constant(level, ridge):
    series = np.full(500, level, dtype=np.float32).astype(np.float64)  # as a series file stores it
    model = LinearAR(lags=48, horizon=12, ridge=ridge).fit(series)
    assert np.all(model.coef_ == 0.0)
    np.testing.assert_allclose(model.predict(series[None, -48:]), np.full((1, 12), series[0]), rtol=1e-12, atol=1e-300)


def test_linear_ar_fitted_in_blocks_equals_one_block():
    series = ar2(3000, seed=4)
    whole = LinearAR(lags=16, horizon=4).fit(series)
    blocks = LinearAR(lags=16, horizon=4)
    blocks.BLOCK_VALUES = 16 * 100  # 100 lag windows at a time: 30 blocks
    blocks.fit(series)
    np.testing.assert_allclose(blocks.coef_, whole.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(blocks.intercept_, whole.intercept_, rtol=1e-9)
