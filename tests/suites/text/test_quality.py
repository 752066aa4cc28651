"""Full-scale quality of the text suite (`pytest -m slow`): Kim's protocol on MR-4000 (10 folds x 25
epochs, seed 0, about 25 minutes on two cores for both runs), the CNNs against bag-of-words logistic
regression on the same folds. RESULTS.md, Text section, has the numbers these bound."""

import numpy as np
import pytest

from convsuite.common import registry
from convsuite.suites.text import train as text_train


def run(name, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("text-quality") / name
    experiment = registry.make_experiment("text", name, [f"trainer.run_dir={run_dir}", "trainer.progress=false"])
    return text_train.train(experiment)


@pytest.fixture(scope="module")
def rand(tmp_path_factory):
    return run("kim-rand-mr", tmp_path_factory)


@pytest.fixture(scope="module")
def non_static(tmp_path_factory):
    return run("kim-non-static-mr", tmp_path_factory)


@pytest.mark.slow
def test_cnn_non_static_beats_bag_of_words_on_the_same_folds(non_static):
    cnn = np.array(non_static["fold_best_test_accuracy"])
    bag = np.array(non_static["fold_baseline_bag_of_words_logistic_regression_accuracy"])
    assert len(cnn) == len(bag) == 10
    assert cnn.mean() > bag.mean() and (cnn > bag).sum() >= 6  # measured: +0.017, 7 folds of 10


@pytest.mark.slow
def test_pre_trained_vectors_fine_tuned_beat_random_ones_as_in_the_paper(rand, non_static):
    assert non_static["best_test_accuracy"] > rand["best_test_accuracy"] + 0.02  # measured: 0.738 vs 0.692
    assert rand["best_test_accuracy"] > 0.65  # far above chance, below the bag of words on 4,000 sentences
