"""Image-suite quality against a logistic-regression baseline on the same split, fixed seeds.

The default run checks the training code on subsets; the full-scale numbers the issue asks
for (Fashion-MNIST test set: LeNet-5 >= 0.89, MCDNN >= 0.92) are `slow` tests:
`python3 -m pytest -m slow -q`.
"""

import json

import pytest

from convsuite.common.config import apply_overrides
from convsuite.suites.image import EXPERIMENTS, evaluate_run, logistic_regression_baseline, prepare, train_experiment


def run(name, tmp_path, *overrides):
    experiment = apply_overrides(EXPERIMENTS[name](), [*overrides, f"trainer.run_dir={tmp_path / name}",
                                                       "trainer.progress=false"])
    metrics = train_experiment(experiment)
    data, _ = prepare(experiment)
    baseline = logistic_regression_baseline(data)
    print(json.dumps({"experiment": name, "test_accuracy": metrics["test_accuracy"],
                      "logistic_regression": baseline, "train_examples": metrics["train_examples"]}))
    return metrics, baseline


def test_lenet5_on_a_fashion_mnist_subset_beats_logistic_regression(tmp_path):
    metrics, baseline = run("lenet5-fashion", tmp_path, "data.train_subset=20000", "data.test_subset=2000",
                            "trainer.epochs=10")
    assert metrics["test_accuracy"] > baseline


def test_mcdnn_columns_on_a_subset_beat_chance_and_their_average_helps(tmp_path):
    metrics, baseline = run("mcdnn-fashion", tmp_path, "data.train_subset=3000", "data.test_subset=1000",
                            "trainer.epochs=3", "model.column_architecture=ciresan2012")
    assert metrics["columns"] == 3
    assert min(metrics["column_test_accuracy"]) > 0.5  # chance is 0.1
    mean_column = sum(metrics["column_test_accuracy"]) / 3
    assert metrics["test_accuracy"] >= mean_column
    evaluated = evaluate_run(tmp_path / "mcdnn-fashion")  # the saved ensemble reloads and scores the same
    assert evaluated["test_accuracy"] == metrics["test_accuracy"]


def test_lenet5_on_upsampled_digits_matches_logistic_regression(tmp_path):
    # On 1,437 8x8 digits a linear model is already at ~0.97: LeNet-5 must match it (chance: 0.1).
    metrics, baseline = run("lenet5-digits", tmp_path)
    assert metrics["test_accuracy"] >= baseline - 0.01 and metrics["test_accuracy"] > 0.95


@pytest.mark.slow
def test_lenet5_on_full_fashion_mnist_reaches_0_89(tmp_path):
    metrics, baseline = run("lenet5-fashion", tmp_path)
    assert metrics["test_examples"] == 10000
    assert metrics["test_accuracy"] >= 0.89 and metrics["test_accuracy"] > baseline


@pytest.mark.slow
def test_mcdnn_on_full_fashion_mnist_reaches_0_92(tmp_path):
    metrics, baseline = run("mcdnn-fashion", tmp_path)
    assert metrics["test_examples"] == 10000
    assert metrics["test_accuracy"] >= 0.92 and metrics["test_accuracy"] > baseline


@pytest.mark.slow
def test_lenet5_and_mcdnn_on_mnist5k_beat_logistic_regression(tmp_path):
    lenet, baseline = run("lenet5-mnist5k", tmp_path)
    mcdnn, _ = run("mcdnn-mnist5k", tmp_path)
    assert lenet["test_accuracy"] > baseline and mcdnn["test_accuracy"] > baseline
