"""Full-scale time-series results against their baselines (slow: minutes each on 2 CPU cores).

Run with `python3 -m pytest -m slow tests/suites/timeseries/test_quality.py`. The numbers these
reach are in RESULTS.md.
"""

import pytest

from convsuite.suites.timeseries import train as ts_train
from convsuite.suites.timeseries.config import EXPERIMENTS

pytestmark = pytest.mark.slow


def run(name, tmp_path, **trainer):
    exp = EXPERIMENTS[name]()
    exp.trainer.progress = False
    exp.trainer.run_dir = str(tmp_path / name)
    for key, value in trainer.items():
        setattr(exp.trainer, key, value)
    return ts_train.train(exp, resume=False)


def test_adding_problem_t100_reaches_mse_below_0_05(tmp_path):
    metrics = run("adding", tmp_path)
    assert metrics["sequence_length"] == 100
    assert metrics["test_loss"] < 0.05 < metrics["predict_one_mse"]


def test_copy_memory_t50_beats_half_the_memoryless_loss_and_recalls(tmp_path):
    metrics = run("copy", tmp_path)
    assert metrics["sequence_length"] == 50
    assert metrics["test_loss"] < 0.5 * metrics["memoryless_loss"]
    assert metrics["recall_accuracy"] > 0.5


def test_elecdemand_day_ahead_beats_seasonal_naive_and_linear_ar(tmp_path):
    metrics = run("forecast-elecdemand", tmp_path)
    assert metrics["test_mase"] < metrics["test_seasonal_naive_mase"]
    assert metrics["test_mase"] < metrics["test_linear_ar_mase"]
    assert metrics["test_quantile_crossings"] == 0


def test_fcn_beats_one_nearest_neighbour_on_four_ucr_sets(tmp_path):
    summary = run("classify-ucr", tmp_path)
    assert summary["wins_over_nn1"] == len(summary["datasets"]) >= 3


def test_srcnn_beats_spectral_residual_on_elecdemand(tmp_path):
    metrics = run("anomaly-sr", tmp_path)
    assert metrics["srcnn_adjusted_f1"] > metrics["sr_adjusted_f1"]
    assert metrics["srcnn_point_f1"] > metrics["sr_point_f1"]
