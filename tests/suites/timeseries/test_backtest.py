"""Rolling-origin backtests, forecast metrics, the statsmodels baselines as forecasters, conformal calibration:
known answers worked out by hand first, then behaviour on generated collections with fixed seeds."""

import json
import math

import numpy as np
import pytest

from tests.requirements import require

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries.backtest import (
    DEFAULT_QUANTILES,
    conformalize,
    coverage,
    crps_from_quantiles,
    geometric_mean,
    pinball_loss,
    rolling_origin_backtest,
    series_scale,
    smape,
    weighted_quantile_loss,
)
from convsuite.suites.timeseries.baselines import (
    ARForecaster,
    AutoARIMAForecaster,
    ETSForecaster,
    SeasonalNaiveForecaster,
    ThetaForecaster,
    gaussian_quantiles,
    seasonal_naive_quantiles,
)
from convsuite.suites.timeseries.collection import Collection


def collection(values, period=12, name="generated") -> Collection:
    values = [np.asarray(v, dtype=np.float64) for v in values]
    return Collection(name, [f"s{i}" for i in range(len(values))], values, None, np.zeros((len(values), 0)), [],
                      period, "MS")


def trend_season_noise(count=3, length=96, period=12, seed=0) -> Collection:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return collection([100 + rng.uniform(0.3, 0.6) * t + rng.normal(0, 1.0, length)
                       + rng.uniform(3, 6) * np.sin(2 * np.pi * t / period + rng.uniform(0, 6)) for _ in range(count)],
                      period)


class Counting:
    """A global-model stand-in: counts fits, forecasts the last value with a fixed spread."""

    def __init__(self, name="counting", spread=1.0):
        self.name, self.spread, self.fits = name, spread, 0

    def fit(self, history):
        self.fits += 1
        return self

    def predict(self, history, horizon, quantiles):
        last = np.array([v[-1] for v in history.values])
        z = np.array([-1.96, -1.28, -0.67, 0.0, 0.67, 1.28, 1.96])[: len(quantiles)]
        return np.broadcast_to(last[:, None, None] + self.spread * z, (len(last), horizon, len(quantiles))).copy()


# --------------------------------------------------------------------------- known answers

def test_metrics_match_hand_computed_examples():
    y, f = np.array([1.0, 2.0, 0.0]), np.array([3.0, 2.0, 0.0])
    # sMAPE: 200 * (2 / 4 + 0 + 0 (both zero)) / 3 = 33.33...
    assert smape(y, f) == pytest.approx(100.0 / 3.0)
    # Pinball at q = 0.1 / 0.5 / 0.9 of y = 2 with forecasts 1, 2, 4: 0.1 * 1 = 0.1, 0, (0.9 - 1) * -2 = 0.2.
    losses = pinball_loss([2.0], [[1.0, 2.0, 4.0]], [0.1, 0.5, 0.9])
    np.testing.assert_allclose(losses, [[0.1, 0.0, 0.2]])
    assert crps_from_quantiles([2.0], [[1.0, 2.0, 4.0]], [0.1, 0.5, 0.9]) == pytest.approx(2 * 0.3 / 3)
    # Two steps, |y| sums to 2 + 4 = 6; second step y = 4 with forecasts 4, 5, 6: losses 0, 0.5, 0.2.
    # wQL = mean over q of 2 * sum_q / 6 = 2 * (0.1 + 0.5 + 0.4) / (3 * 6) = 1 / 9.
    two_steps = weighted_quantile_loss([2.0, 4.0], [[1.0, 2.0, 4.0], [4.0, 5.0, 6.0]], [0.1, 0.5, 0.9])
    assert two_steps == pytest.approx(1 / 9)
    assert coverage([1.0, 2.0, 3.0, 4.0], [0.0, 2.0, 3.5, 0.0], [1.0, 3.0, 4.0, 3.9]) == 0.5  # ends count as inside
    assert geometric_mean([1.0, 4.0, np.inf]) == pytest.approx(2.0)
    # MASE scale at period 2 of [1, 2, 4, 7]: (3 + 5) / 2 = 4; a repeating history falls back to lag 1, then |mean|.
    assert series_scale([1.0, 2.0, 4.0, 7.0], 2) == 4.0
    assert series_scale([1.0, 2.0, 1.0, 2.0], 2) == 1.0
    assert series_scale([3.0, 3.0, 3.0], 1) == 3.0
    with pytest.raises(ConvsuiteError, match="include 0.5"):
        pinball_loss([1.0], [[1.0, 2.0]], [0.1, 0.9])


def test_seasonal_naive_intervals_grow_with_the_seasons_ahead():
    # Residuals at lag 2 of [0, 0, 1, 1, 2, 2]... are all 1: sigma 1; step 3 is two seasons ahead: sigma sqrt 2.
    forecast = seasonal_naive_quantiles(np.array([0.0, 0.0, 1.0, 1.0, 2.0, 2.0]), 3, 2, np.array([0.1587, 0.5]))
    np.testing.assert_allclose(forecast[:, 1], [2.0, 2.0, 2.0])
    np.testing.assert_allclose(2.0 - forecast[:, 0], [1.0, 1.0, math.sqrt(2)], rtol=1e-3)
    np.testing.assert_allclose(gaussian_quantiles([0.0], [2.0], [0.5, 0.975]), [[0.0, 3.919928]], rtol=1e-6)


def test_seasonal_naive_is_perfect_on_a_periodic_collection():
    season = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    result = rolling_origin_backtest(collection([np.tile(season, 8), np.tile(season[::-1], 6)], period=8),
                                     [SeasonalNaiveForecaster()], horizon=8, origins=3, progress=False)
    row = result.summary("seasonal_naive")
    assert row["series_origins"] == 6 and row["mase"] == 0.0 and row["smape"] == 0.0 and row["wql"] == 0.0
    assert row["coverage_50"] == row["coverage_80"] == row["coverage_95"] == 1.0


def test_css_arima_forecast_equals_statsmodels_with_the_same_parameters():
    sarimax = require("statsmodels.tsa.statespace.sarimax", "timeseries")
    from scipy.signal import lfilter

    period = 12
    # ARIMA(1,1,1)(0,1,1)12: (1 - 0.5B) w = (1 - 0.3B)(1 - 0.6B^12) e, then integrated once and seasonally.
    seasonal_ma = np.zeros(period + 1)
    seasonal_ma[[0, period]] = 1.0, -0.6
    arma = lfilter(np.convolve([1.0, -0.3], seasonal_ma), [1.0, -0.5], np.random.default_rng(3).normal(size=240))
    series = 50 + np.cumsum(lfilter([1.0], np.r_[1.0, np.zeros(period - 1), -1.0], arma))
    forecaster = AutoARIMAForecaster()
    fit, d, seasonal_d = forecaster.select(series, period)
    ours = forecaster.forecast_series(series, 18, period, np.array([0.1, 0.5, 0.9]))
    p, q, seasonal_p, seasonal_q = fit["order"]
    assert (d, seasonal_d, fit["constant"]) == (1, 1, False)
    reference = sarimax.SARIMAX(series, order=(p, d, q), seasonal_order=(seasonal_p, seasonal_d, seasonal_q, period))
    forecast = reference.smooth(np.append(fit["params"], fit["sigma2"])).get_forecast(18)
    # Our in-sample shocks start from zeros (CSS), the Kalman filter's from the exact prior: a difference that
    # decays as 0.6^(240 / 12), about 4e-5 here.
    np.testing.assert_allclose(ours[:, 1], forecast.predicted_mean, atol=1e-3)
    np.testing.assert_allclose((ours[:, 2] - ours[:, 0]) / (2 * 1.2815516), np.sqrt(forecast.var_pred_mean), rtol=1e-5)


# --------------------------------------------------------------------------- baselines and the backtest

def test_statsmodels_baselines_beat_seasonal_naive_on_trend_and_season():
    require("statsmodels", "timeseries")
    data = trend_season_noise()
    result = rolling_origin_backtest(data, [SeasonalNaiveForecaster(), ETSForecaster(), AutoARIMAForecaster(),
                                            ThetaForecaster(), ARForecaster()], horizon=12, origins=2, progress=False)
    naive = result.summary("seasonal_naive")["mase"]
    for name in ("ets", "arima", "theta"):
        row = result.summary(name)
        assert row["mase"] < 0.8 * naive, (name, row["mase"], naive)
        assert row["fallbacks"] == 0, result.failures
    assert result.summary("ar")["series_origins"] == 6 and len(result.per_origin) == 10


def test_a_failing_statsmodels_fit_falls_back_to_seasonal_naive_and_is_counted(monkeypatch):
    ets = require("statsmodels.tsa.exponential_smoothing.ets", "timeseries")

    def broken_fit(self, *args, **kwargs):
        raise np.linalg.LinAlgError("singular matrix")

    monkeypatch.setattr(ets.ETSModel, "fit", broken_fit)
    data = trend_season_noise(count=2, length=60)
    result = rolling_origin_backtest(data, [ETSForecaster(), SeasonalNaiveForecaster()], horizon=6, origins=2,
                                     progress=False)
    assert result.summary("ets")["fallbacks"] == 4 and "LinAlgError: singular matrix" in result.failures["ets"][0]
    for metric in ("mase", "wql", "coverage_80"):
        assert result.summary("ets")[metric] == result.summary("seasonal_naive")[metric]


def test_refit_false_fits_once_and_refit_true_at_every_origin():
    data = trend_season_noise(count=2, length=60)
    once, every = Counting("once"), Counting("every")
    rolling_origin_backtest(data, [once], horizon=6, origins=3, refit=False, progress=False)
    rolling_origin_backtest(data, [every], horizon=6, origins=3, refit=True, progress=False)
    assert (once.fits, every.fits) == (1, 3)


def test_a_series_too_short_for_an_origin_is_skipped_and_counted():
    rng = np.random.default_rng(1)
    data = collection([rng.normal(10, 1, 80), rng.normal(10, 1, 40)], period=4)
    # Origins 15, 10 and 5 steps before each end: the 40-step series has histories of 25, 30 and 35 steps there.
    result = rolling_origin_backtest(data, [SeasonalNaiveForecaster()], horizon=5, origins=3, min_train=28,
                                     progress=False)
    assert result.skipped == [1, 0, 0]
    assert [row["series_origins"] for row in result.per_origin] == [1, 2, 2]
    assert result.summary("seasonal_naive")["series_origins"] == 5
    with pytest.raises(ConvsuiteError, match="long enough"):
        rolling_origin_backtest(data, [SeasonalNaiveForecaster()], horizon=5, origins=20, progress=False)


def test_conformal_calibration_brings_a_too_narrow_forecaster_to_its_target_coverage():
    rng = np.random.default_rng(7)
    data = collection([rng.normal(0, 1, 200) * scale + 5 * scale for scale in (1, 3, 10, 30, 100, 1, 3, 10)],
                      period=1)
    narrow = Counting("narrow", spread=0.1)  # spread in units: far too narrow for every series
    calibrated = conformalize(Counting("narrow_inner", spread=0.1), horizon=5, calibration_origins=10)
    result = rolling_origin_backtest(data, [narrow, calibrated], horizon=5, origins=8, progress=False)
    before, after = result.summary("narrow"), result.summary("narrow_inner+conformal")
    assert before["coverage_80"] < 0.3 and 0.7 <= after["coverage_80"] <= 0.93
    assert abs(after["coverage_95"] - 0.95) < abs(before["coverage_95"] - 0.95)
    assert after["mase"] == before["mase"]  # the median is left alone
    assert calibrated.targets == {0.95: (0.025, 0.975), 0.8: (0.1, 0.9), 0.5: (0.25, 0.75)}
    with pytest.raises(ConvsuiteError, match="calibrated for horizon 5"):
        calibrated.predict(data, 6, DEFAULT_QUANTILES)


def test_bad_forecasts_and_inputs_are_refused_with_one_sentence():
    data = trend_season_noise(count=1, length=60)

    class WrongShape(Counting):
        def predict(self, history, horizon, quantiles):
            return np.zeros((1, horizon))

    with pytest.raises(ConvsuiteError, match="returned shape"):
        rolling_origin_backtest(data, [WrongShape("wrong")], horizon=6, origins=1, progress=False)
    with pytest.raises(ConvsuiteError, match="names must differ"):
        rolling_origin_backtest(data, [Counting(), Counting()], horizon=6, origins=1, progress=False)
    with pytest.raises(ConvsuiteError, match="min_train"):
        rolling_origin_backtest(data, [Counting()], horizon=6, origins=1, min_train=12, progress=False)


def test_the_result_renders_as_markdown_and_json():
    data = trend_season_noise(count=2, length=60)
    result = rolling_origin_backtest(data, [SeasonalNaiveForecaster(), ARForecaster()], horizon=6, origins=2,
                                     progress=False)
    text = result.to_markdown()
    assert "| seasonal_naive |" in text and "| ar |" in text and "coverage_80" in text
    parsed = json.loads(result.to_json())
    assert parsed["aggregate"][1]["forecaster"] == "ar" and len(parsed["scores"]) == 8
    assert parsed["quantiles"] == list(DEFAULT_QUANTILES)
