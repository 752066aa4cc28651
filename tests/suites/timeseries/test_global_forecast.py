"""The global TCN forecaster: per-window scaling and lazy windows (known answers), forecasting
series it never saw against seasonal naive on a collection with shared dynamics, the Forecaster
protocol's shapes and refusals, and the data.task=global run on the CLI path."""

import json

import numpy as np
import pandas as pd
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries.collection import Collection, collection_from_frame
from convsuite.suites.timeseries.config import EXPERIMENTS
from convsuite.suites.timeseries.tasks.global_forecast import (
    GlobalTCNForecaster,
    WindowDecoder,
    WindowSource,
    mase_scale,
    pick_quantiles,
    seasonal_naive_forecast,
)


def shared_dynamics(n_series=24, length=120, seed=0) -> Collection:
    """Monthly series with one shared law: a 12-month season plus an AR(1) (phi 0.85) component,
    each at its own level and scale (levels 10..1000), so only a scaled global model can share."""
    rng = np.random.default_rng(seed)
    season = np.sin(2 * np.pi * np.arange(length) / 12)
    values, stamps = [], []
    for _ in range(n_series):
        noise = np.zeros(length)
        shocks = rng.normal(size=length)
        for t in range(1, length):
            noise[t] = 0.85 * noise[t - 1] + shocks[t]
        level, scale = 10 ** rng.uniform(1, 3), 10 ** rng.uniform(-1, 1)
        values.append(level + scale * (2 * season + noise))
        stamps.append(pd.date_range("2000-01-01", periods=length, freq="MS").values)
    ids = [f"s{i}" for i in range(n_series)]
    return Collection("shared", ids, values, stamps, np.zeros((n_series, 0), np.float32), [], 12, "MS")


def small_forecaster(**overrides) -> GlobalTCNForecaster:
    settings = dict(horizon=6, quantiles=[0.1, 0.5, 0.9], input_length=16, dilations=[1, 2], filters=8,
                    epochs=1, batch_size=128, learning_rate=3e-3, max_windows=1280, seed=0)
    return GlobalTCNForecaster(**{**settings, **overrides})


@pytest.fixture(scope="module")
def trained():
    """A forecaster trained on the first 18 series up to their last 6 steps (one fit for the module)."""
    collection = shared_dynamics()
    forecaster = small_forecaster().fit(collection.subset(range(18)).truncated(-6))
    return forecaster, collection


# --------------------------------------------------------------------------- windows (known answers)

def test_windows_are_scaled_by_their_own_input_and_decoded_from_series_and_origin():
    values = [np.arange(10, dtype=float), 100 + 10 * np.arange(8, dtype=float)]
    stamps = [pd.date_range("2020-01", periods=len(v), freq="MS").values for v in values]
    collection = Collection("c", ["a", "b"], values, stamps, np.array([[1.0], [-1.0]], np.float32), ["kind"], 12, "MS")
    source = WindowSource(collection, input_length=4, calendar=True, static=True)
    assert source.channels == 1 + 2 + 1
    x, location, scale = source.inputs([1], [6])  # series b, inputs at steps 2..5: 120, 130, 140, 150
    np.testing.assert_allclose([location[0], scale[0]], [135.0, np.std([120, 130, 140, 150])])
    np.testing.assert_allclose(x[0, :, 0], (np.array([120, 130, 140, 150]) - 135) / scale[0], rtol=1e-6)
    np.testing.assert_allclose(x[0, :, 3], -1.0)  # the static channel, constant
    np.testing.assert_allclose(x[0, 1, 1:3], [1, 0], atol=1e-6)  # step 3 is April: month phase a quarter turn
    y = source.targets([1], [6], horizon=2)  # steps 6, 7: 160, 170 in the same scale
    np.testing.assert_allclose(y[0, 0], (np.array([160, 170]) - 135) / scale[0], rtol=1e-6)
    series, origins = source.origins(horizon=2)  # origins 4..8 of a (10 steps), 4..6 of b (8 steps)
    assert list(zip(series.tolist(), origins.tolist())) == [(0, 4), (0, 5), (0, 6), (0, 7), (0, 8), (1, 4), (1, 5),
                                                             (1, 6)]
    decoder = WindowDecoder(source, horizon=2)
    decoded = decoder(np.array([[1, 6], [0, 4]]))
    assert decoded.shape == (2, 4, 4) and decoded.dtype == np.float32
    np.testing.assert_allclose(decoded[0], x[0])
    np.testing.assert_allclose(decoder.targets(np.array([[1, 6]])), y)  # targets decode from the same pairs
    padded, location, _ = source.inputs([0], [2])  # two steps of history: the first repeats -> 0, 0, 0, 1
    assert location[0] == pytest.approx(0.25)
    np.testing.assert_allclose(padded[0, :, 1:3], source.calendar[[0, 0, 0, 1]])
    flat = Collection("flat", ["f"], [np.full(6, 5.0)], None, np.zeros((1, 0)), [], 1, "")
    _, _, flat_scale = WindowSource(flat, 3, calendar=True, static=True).inputs([0], [3])
    assert flat_scale[0] == pytest.approx(5e-3)  # a flat window's scale is floored, not zero


def test_quantiles_between_the_trained_ones_are_interpolated_and_others_refused():
    bands = np.array([[1.0, 2.0, 4.0]])
    np.testing.assert_allclose(pick_quantiles(bands, [0.1, 0.5, 0.9], [0.1, 0.3, 0.5, 0.7]), [[1.0, 1.5, 2.0, 3.0]])
    with pytest.raises(ConvsuiteError, match="quantile 0.05 lies outside the trained quantiles"):
        pick_quantiles(bands, [0.1, 0.5, 0.9], [0.05, 0.5])


def test_mase_scale_and_seasonal_naive_by_hand():
    history = np.array([1.0, 2, 3, 4, 6, 7])
    assert mase_scale(history, 4) == pytest.approx(5.0)  # |6 - 1| and |7 - 2|
    assert mase_scale(history, 12) == pytest.approx(1.2)  # the period does not fit: lag 1, (1+1+1+2+1) / 5
    np.testing.assert_array_equal(seasonal_naive_forecast(history, 5, 4), [3, 4, 6, 7, 3])
    assert np.isnan(mase_scale(np.full(5, 2.0), 4))


# --------------------------------------------------------------------------- quality and the protocol

def test_a_global_model_forecasts_series_it_never_saw_better_than_seasonal_naive(trained):
    forecaster, collection = trained
    unseen = collection.subset(range(18, 24))  # never in training
    history = unseen.truncated(-6)
    forecast = forecaster.predict(history, 6, [0.1, 0.5, 0.9])
    assert forecast.shape == (6, 6, 3) and (np.diff(forecast, axis=-1) >= 0).all()
    tcn, naive = [], []
    for i, values in enumerate(unseen.values):
        scale = mase_scale(values[:-6], 12)
        tcn.append(np.mean(np.abs(values[-6:] - forecast[i, :, 1])) / scale)
        naive.append(np.mean(np.abs(values[-6:] - seasonal_naive_forecast(values[:-6], 6, 12))) / scale)
    assert np.mean(tcn) < 0.8 * np.mean(naive), (np.mean(tcn), np.mean(naive))


def test_forecasts_follow_an_affine_change_of_units_exactly(trained):
    forecaster, collection = trained
    history = collection.subset([20, 21]).truncated(-6)
    moved = Collection("moved", history.ids, [1000 * v - 7 for v in history.values], history.timestamps,
                       history.static, history.static_names, 12, "MS")
    np.testing.assert_allclose(forecaster.predict(moved, 6, [0.5]), 1000 * forecaster.predict(history, 6, [0.5]) - 7,
                               rtol=1e-4)


def test_predict_refuses_histories_the_model_cannot_read(trained):
    forecaster, collection = trained
    with pytest.raises(ConvsuiteError, match="not trained yet"):
        small_forecaster().predict(collection)
    with pytest.raises(ConvsuiteError, match="has 10 steps but the model needs at least 16"):
        forecaster.predict(collection.truncated(10))
    with pytest.raises(ConvsuiteError, match="forecasts 6 steps, not 12"):
        forecaster.predict(collection, 12)
    yearly = Collection("y", ["a"], [np.arange(40.0)], None, np.zeros((1, 0)), [], 1, "YS")
    with pytest.raises(ConvsuiteError, match="trained on a MS grid, this history is on YS"):
        forecaster.predict(yearly)


# --------------------------------------------------------------------------- data.task=global

def test_the_global_task_trains_scores_rolling_origins_and_evaluates_the_same(tmp_path):
    from convsuite.suites.timeseries import train as suite_train

    collection = shared_dynamics(n_series=10, length=80, seed=1)
    frame = pd.DataFrame([{"series": sid, "month": t, "sales": v, "shop": "big" if i < 4 else "small"}
                          for i, sid in enumerate(collection.ids)
                          for t, v in zip(collection.timestamps[i], collection.values[i])])
    frame[frame["series"].isin(collection.ids[:8])].to_csv(tmp_path / "sales.csv", index=False)
    experiment = EXPERIMENTS["forecast-us-employment"]()
    d, m = experiment.data, experiment.model
    d.dataset, d.id_column, d.timestamp_column, d.value_column = str(tmp_path / "sales.csv"), "series", "month", "sales"
    d.static_columns, d.origins, d.max_windows, d.baselines = ["shop"], 2, 500, ["seasonal_naive", "ar"]
    d.horizon = 6  # input length and dilations stay 0 / []: from the monthly grid and the 62-step histories
    m.filters = 4
    experiment.trainer.epochs, experiment.trainer.progress = 1, False
    experiment.trainer.run_dir = str(tmp_path / "run")
    metrics = suite_train.train(experiment)
    assert metrics["horizon"] == 6 and metrics["scored_series"] == 8 and len(metrics["test_origin_mase"]) == 2
    assert metrics["input_length"] == 29 and metrics["dilations"] == [1, 2, 4]
    assert 0 < metrics["test_mase"] < metrics["test_seasonal_naive_mase"]
    # the backtest beside it: the same origins, so the same seasonal-naive MASE; conformal intervals from the
    # held-out validation horizon; AR as the best statistical baseline run
    rows = {row["forecaster"]: row for row in metrics["backtest"]}
    assert rows["seasonal_naive"]["mase"] == pytest.approx(np.mean(metrics["test_origin_seasonal_naive_mase"]),
                                                           rel=1e-3)
    assert rows["tcn_global"]["mase"] == pytest.approx(metrics["test_mase"], rel=1e-6)
    assert 0 <= metrics["test_tcn_global_conformal_coverage_80"] <= 1 and metrics["best_baseline"] == "ar"
    layout = json.loads((tmp_path / "run" / "global.json").read_text())
    assert layout["static_names"] == ["shop=big", "shop=small"] and layout["calendar"] == ["month_sin", "month_cos"]
    again = suite_train.evaluate(tmp_path / "run")
    assert again["test_mase"] == pytest.approx(metrics["test_mase"], rel=1e-5)
    # two new small shops, read on their own: their one-hot static columns line up with the trained ones
    new = collection_from_frame(frame[frame["series"].isin(collection.ids[8:])], "new", "series", "month", "sales",
                                ["shop"])
    assert new.static_names == ["shop=small"]
    forecaster = GlobalTCNForecaster.from_run(tmp_path / "run")
    np.testing.assert_array_equal(forecaster.aligned_static(new), [[0, 1], [0, 1]])
    assert forecaster.predict(new, 6, [0.1, 0.5, 0.9]).shape == (2, 6, 3)
    with pytest.raises(ConvsuiteError, match="trained with the static column 'shop=big', which this collection lacks"):
        forecaster.predict(collection.subset([8, 9]))


def test_lengths_from_the_frequency_belong_to_the_global_task_only():
    experiment = EXPERIMENTS["forecast-elecdemand"]()
    experiment.data.input_length = 0
    with pytest.raises(ConvsuiteError, match="data.input_length=0 chooses the length from the frequency only with "
                                             "data.task=global"):
        experiment.validate()
    experiment = EXPERIMENTS["forecast-elecdemand"]()
    experiment.model.dilations = []
    with pytest.raises(ConvsuiteError, match="model.dilations must name at least one dilation"):
        experiment.validate()
    experiment = EXPERIMENTS["forecast-us-employment"]()
    experiment.model.quantiles = [0.1, 0.9]
    with pytest.raises(ConvsuiteError, match="needs model.quantiles strictly increasing and including 0.5"):
        experiment.validate()
