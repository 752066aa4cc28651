"""Does the agent learn? The loop against the uniform random policy under the same protocol and seed.

Slow (minutes to an hour on two CPU cores): `.venv/bin/python -m pytest -m slow tests/suites/atari/test_quality.py`.
"""

import json

import numpy as np
import pytest

from convsuite.common import registry
from convsuite.suites.atari import train as atari_train


def _standard_error(values):
    values = np.asarray(values, float)
    return float(np.std(values, ddof=1) / np.sqrt(len(values)))


def _beats_random(metrics, margin):
    """The agent's evaluation mean is above the random policy's by ``margin`` and by two standard errors."""
    ours, random = metrics["eval_returns"], metrics["random_returns"]
    gap = np.mean(ours) - np.mean(random)
    noise = np.hypot(_standard_error(ours), _standard_error(random))
    print(json.dumps({k: metrics[k] for k in ("eval_mean_return", "eval_std_return", "random_mean_return",
                                              "random_std_return", "train_seconds", "evaluations")}))
    return gap > margin and gap > 2 * noise


@pytest.mark.slow
def test_dqn_learns_cartpole_to_a_mean_return_of_195(tmp_path):
    metrics = atari_train.train(registry.make_experiment(
        "atari", "dqn-cartpole", [f"trainer.run_dir={tmp_path / 'cartpole'}", "trainer.progress=false"]))
    assert metrics["eval_episodes"] == 20
    assert metrics["eval_mean_return"] >= 195, metrics["eval_returns"]
    assert _beats_random(metrics, margin=100)


@pytest.mark.slow
def test_a_short_pong_run_rises_above_the_random_policy(tmp_path):
    metrics = atari_train.train(registry.make_experiment(
        "atari", "dqn-pong-short", [f"trainer.run_dir={tmp_path / 'pong'}", "trainer.progress=false"]))
    assert metrics["eval_episodes"] == 30 and metrics["random_episodes"] == 30
    assert _beats_random(metrics, margin=0.5)
