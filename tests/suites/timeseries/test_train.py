"""Each time-series task, trained small on real or generated data, against its baseline.

Small settings keep the default run fast; the full-scale numbers are in test_quality.py
(marked slow) and RESULTS.md.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries import train as ts_train
from convsuite.suites.timeseries.tasks import forecast as forecast_task
from convsuite.suites.timeseries.config import EXPERIMENTS


def small_forecast(tmp_path, **data):
    """Day-ahead elecdemand with a 5-level TCN on 128-step windows (receptive field 125)."""
    exp = EXPERIMENTS["forecast-elecdemand"]()
    exp.model.dilations = [1, 2, 4, 8, 16]
    exp.model.highway = 128
    exp.data.input_length = 128
    exp.data.train_length = 512  # half the experiment's 1,024: the same test MASE (0.559) in 30 s instead of 52
    exp.data.stride = 12
    exp.trainer.epochs = 6
    exp.trainer.progress = False
    exp.trainer.run_dir = str(tmp_path / "forecast")
    for key, value in data.items():
        setattr(exp.data, key, value)
    return exp


@pytest.fixture(scope="module")
def forecast_run(tmp_path_factory):
    exp = small_forecast(tmp_path_factory.mktemp("ts"))
    return exp, ts_train.train(exp, resume=False)


def test_small_forecaster_beats_seasonal_naive_and_linear_ar_on_mase(forecast_run):
    _, metrics = forecast_run
    assert metrics["test_origins"] >= 60
    assert metrics["test_mase"] < metrics["test_seasonal_naive_mase"]
    assert metrics["test_mase"] < metrics["test_linear_ar_mase"]
    assert metrics["test_quantile_crossings"] == 0
    assert 0.4 < metrics["test_interval_coverage"] <= 1.0  # a 10-90% band that is neither empty nor everything


def test_evaluate_reproduces_the_training_report(forecast_run):
    exp, metrics = forecast_run
    again = ts_train.evaluate(exp.trainer.run_dir)
    for key in ("test_mase", "test_seasonal_naive_mase", "test_linear_ar_mase", "test_interval_coverage"):
        assert again[key] == pytest.approx(metrics[key], rel=1e-5), key


def test_forecast_from_a_run_directory_in_the_series_units(forecast_run):
    exp, _ = forecast_run
    windows = forecast_task.prepare_forecast(exp)
    raw = forecast_task.windows_values(windows, exp)
    start = int(windows.test_input_start[0])
    history = raw[start: start + windows.input_length]
    bands = forecast_task.forecast(exp.trainer.run_dir, history)
    assert bands.shape == (1, 48, 3)
    assert np.all(np.diff(bands, axis=-1) >= 0)
    truth = windows.target_values[start + windows.input_length: start + windows.input_length + 48]
    assert np.mean(np.abs(bands[0, :, 1] - truth)) < 0.25 * np.mean(truth)  # demand is ~4.5 GW; a real forecast
    with pytest.raises(ConvsuiteError, match="receptive field"):
        forecast_task.forecast(exp.trainer.run_dir, history[-100:])
    with pytest.raises(ConvsuiteError, match="channels"):
        forecast_task.forecast(exp.trainer.run_dir, history[:, :3])
    broken = history.copy()
    broken[5, 0] = np.nan
    with pytest.raises(ConvsuiteError, match="NaN"):
        forecast_task.forecast(exp.trainer.run_dir, broken)


def test_recursive_one_step_forecaster_trains_and_is_scored_on_the_same_origins(tmp_path):
    exp = small_forecast(tmp_path, forecast="recursive", stride=48)
    exp.model.quantiles = []
    exp.trainer.epochs = 2
    metrics = ts_train.train(exp, resume=False)
    assert math.isfinite(metrics["test_mase"])
    assert metrics["test_origins"] >= 60
    assert metrics["test_mase"] < 3 * metrics["test_seasonal_naive_mase"]  # iterating 48 steps stays on the series' scale


def test_input_shorter_than_the_receptive_field_is_refused(tmp_path):
    exp = small_forecast(tmp_path, input_length=100)
    with pytest.raises(ConvsuiteError, match="receptive field"):
        ts_train.train(exp, resume=False)


def test_quantiles_with_a_recursive_forecast_are_refused(tmp_path):
    exp = small_forecast(tmp_path, forecast="recursive")
    with pytest.raises(ConvsuiteError, match="direct"):
        ts_train.train(exp, resume=False)


def test_fcn_beats_one_nearest_neighbour_on_multivariate_and_variable_length_ucr_sets(tmp_path):
    exp = EXPERIMENTS["classify-ucr"]()
    # BasicMotions: 6 channels; JapaneseVowels: 12 channels, lengths 7-29 (NaN-padded, masked)
    exp.data.dataset = "BasicMotions,JapaneseVowels"
    exp.trainer.epochs = 40
    exp.trainer.progress = False
    exp.trainer.run_dir = str(tmp_path / "ucr")
    summary = ts_train.train(exp, resume=False)
    assert set(summary["datasets"]) == {"BasicMotions", "JapaneseVowels"}
    for name, result in summary["datasets"].items():
        assert result["test_accuracy"] > result["nn1_euclidean_accuracy"], (name, result)
        assert result["test_accuracy"] > result["chance_accuracy"] + 0.3, (name, result)
    assert json.loads((tmp_path / "ucr" / "metrics.json").read_text())["wins_over_nn1"] == 2


def test_srcnn_beats_spectral_residual_alone_on_injected_elecdemand_anomalies(tmp_path):
    exp = EXPERIMENTS["anomaly-sr"]()
    exp.data.srcnn_windows = 4000
    exp.trainer.epochs = 4
    exp.trainer.progress = False
    exp.trainer.run_dir = str(tmp_path / "sr")
    metrics = ts_train.train(exp, resume=False)
    assert metrics["test_anomalous_points"] > 0
    assert metrics["srcnn_adjusted_f1"] > metrics["sr_adjusted_f1"]
    assert metrics["srcnn_point_f1"] > metrics["sr_point_f1"]


def test_tcn_solves_a_short_adding_problem(tmp_path):
    exp = EXPERIMENTS["adding"]()
    exp.data.sequence_length = 50
    exp.data.train_samples = 6000
    exp.trainer.epochs = 4
    exp.trainer.progress = False
    exp.trainer.run_dir = str(tmp_path / "adding")
    metrics = ts_train.train(exp, resume=False)
    assert metrics["predict_one_mse"] == pytest.approx(1 / 6, abs=0.02)
    assert metrics["test_loss"] < 0.05 < metrics["predict_one_mse"]


def test_tcn_recalls_a_short_copy_memory_sequence(tmp_path):
    exp = EXPERIMENTS["copy"]()
    exp.data.sequence_length = 20
    exp.data.train_samples = 6000
    exp.trainer.epochs = 4
    exp.trainer.progress = False
    exp.trainer.run_dir = str(tmp_path / "copy")
    metrics = ts_train.train(exp, resume=False)
    assert metrics["test_loss"] < 0.5 * metrics["memoryless_loss"]
    assert metrics["recall_accuracy"] > 0.5 > metrics["chance_recall_accuracy"]


def test_bench_reports_samples_per_second_for_every_task():
    for name in ("forecast-elecdemand", "classify-ucr", "anomaly-sr", "adding", "copy"):
        exp = EXPERIMENTS[name]()
        exp.trainer.batch_size = 8
        if name == "forecast-elecdemand":
            exp.data.input_length = 128
        result = ts_train.bench(exp, train_batches=2, inference_samples=32)
        assert result["train_samples_per_s"] > 0 and result["inference_samples_per_s"] > 0, name
        if name == "forecast-elecdemand":  # a streaming step against recomputing the window, at batch 1
            assert set(result["streaming"]) == {"window", "batch_1"}, result["streaming"]


def test_inconsistent_task_and_model_is_a_clear_error():
    exp = EXPERIMENTS["adding"]()
    exp.model.name = "fcn"
    with pytest.raises(ConvsuiteError, match="model.name=tcn"):
        ts_train.train(exp)
    exp = EXPERIMENTS["adding"]()
    exp.data.task = "segment"
    with pytest.raises(ConvsuiteError, match="data.task"):
        ts_train.train(exp)


def test_an_interrupted_copy_run_resumes_from_its_checkpoint(tmp_path, capsys):
    exp = EXPERIMENTS["copy"]()
    exp.data.sequence_length, exp.data.train_samples, exp.data.test_samples = 10, 400, 100
    exp.trainer.epochs, exp.trainer.progress = 1, False
    exp.trainer.run_dir = str(tmp_path / "copy")
    ts_train.train(exp, resume=False)
    exp.trainer.epochs = 2  # "interrupted" after epoch 1: asking for 2 continues, it does not restart
    metrics = ts_train.train(exp, resume=True)
    assert "Resuming" in capsys.readouterr().out
    assert metrics["epochs"] == 2
    log = (tmp_path / "copy" / "log.csv").read_text().strip().splitlines()
    assert [line.split(",")[0] for line in log[1:]] == ["0", "1"]


def test_co2_experiment_fills_its_missing_weeks_and_beats_seasonal_naive(tmp_path):
    exp = EXPERIMENTS["forecast-co2"]()  # 59 missing weeks, interpolated by data.fill
    exp.trainer.epochs, exp.trainer.progress = 5, False
    exp.trainer.run_dir = str(tmp_path / "co2")
    metrics = ts_train.train(exp, resume=False)
    assert metrics["test_origins"] > 50
    assert metrics["test_mase"] < metrics["test_seasonal_naive_mase"]  # a trend the naive forecast cannot follow
