"""Full-scale Go results against their baselines (slow: minutes each on 2 CPU cores).

Run with `python3 -m pytest -m slow tests/suites/go/test_quality.py`. The first run generates
the 9x9 GNU Go self-play games into data/go/ (1,000 for the policy nets, 2,000 for the value
net); later runs reuse them. The numbers these reach are in RESULTS.md.
"""

import pytest

from convsuite.suites.go import train as go_train
from convsuite.suites.go.config import EXPERIMENTS
from convsuite.suites.go.match import play_match
from convsuite.suites.go.player import PolicyPlayer
from tests.suites.go.conftest import needs_gnugo

pytestmark = [pytest.mark.slow, needs_gnugo]


def run(name, tmp_path):
    exp = EXPERIMENTS[name]()
    exp.trainer.progress = False
    exp.trainer.run_dir = str(tmp_path / name)
    return exp, go_train.train(exp, resume=False)


def test_maddison_net_predicts_gnu_go_moves_far_above_the_random_legal_move(tmp_path):
    exp, metrics = run("maddison-gnugo9", tmp_path)
    assert metrics["test_games"] == 100 and metrics["train_games"] == 800
    assert metrics["policy_top1"] > 0.45 > 20 * metrics["baseline_uniform_legal_top1"]  # measured 0.509 vs 0.018
    assert metrics["policy_top5"] > 0.80  # measured 0.875
    model, _ = go_train.load_run(exp.trainer.run_dir)
    player = PolicyPlayer(model, exp.data.feature_set)
    match = play_match(player, "gnugo --mode gtp --level 10 --chinese-rules", 20, board_size=9, komi=7.5,
                       out_dir=tmp_path / "match", progress=False)
    assert match.games == 20 and len(match.sgf_paths) == 20
    assert match.wins >= 2  # measured 6 of 20 (Wilson 95%: 0.15-0.52) with no search


def test_clark_storkey_net_reaches_forty_percent(tmp_path):
    _, metrics = run("clark-storkey-gnugo9", tmp_path)
    assert metrics["policy_top1"] > 0.38  # measured 0.433
    assert metrics["policy_top5"] > 0.70  # measured 0.768


def test_value_net_beats_guessing_the_colour_that_wins_more_often(tmp_path):
    _, metrics = run("value-gnugo9", tmp_path)
    assert metrics["test_sign_accuracy"] > metrics["baseline_majority_colour_sign_accuracy"] + 0.05  # 0.660 vs 0.539
    assert metrics["test_loss"] < metrics["baseline_zero_mse"]  # 0.895 vs 1.0
