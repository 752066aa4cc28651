"""`convsuite train|evaluate|bench go`, `convsuite go gtp` and `convsuite go match` end to
end, on TensorFlow and on JAX without TensorFlow; bad input as one-line errors."""

import json
import subprocess
import sys

import pytest

from convsuite.suites.go.sgf import iter_games
from tests.common.test_cli import ENV, convsuite
from tests.common.test_jax_path import convsuite_without_tensorflow
from tests.suites.go.conftest import needs_gnugo


def tiny(source, run_dir, data_dir):
    return ["--set", f"data.source={source}", "--set", f"data.data_dir={data_dir}", "--set", "model.depth=3",
            "--set", "model.filters=16", "--set", "trainer.epochs=1", "--set", "trainer.progress=false",
            "--set", f"trainer.run_dir={run_dir}", "--json"]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, selfplay_games):
    base = tmp_path_factory.mktemp("gocli")
    run_dir = base / "policy"
    result = convsuite("train", "go", *tiny(selfplay_games, run_dir, base / "cache"))
    return run_dir, json.loads(result.stdout.strip())


def test_metrics_json_holds_exactly_what_train_json_printed(cli_run):
    run_dir, trained = cli_run
    assert json.loads((run_dir / "metrics.json").read_text()) == trained
    assert trained["model"] == "maddison" and trained["baseline_uniform_legal_top1"] > 0


def test_train_and_evaluate_through_the_cli(cli_run):
    run_dir, trained = cli_run
    assert trained["suite"] == "go" and trained["games"] == 80 and trained["policy_top1"] > 0
    evaluated = json.loads(convsuite("evaluate", "go", "--checkpoint", str(run_dir), "--json").stdout.strip())
    assert evaluated["test_accuracy"] == pytest.approx(trained["test_accuracy"], abs=1e-6)


GTP_SESSION = """1 protocol_version
2 name
3 boardsize 26
4 boardsize 9
5 play b E5
6 play w E5
7 genmove w
# a comment line

8 showboard
9 fly_away
10 final_score
11 undo
12 list_commands
14 boardsize 13
15 genmove b
13 quit
"""


def test_gtp_engine_session_over_stdin(cli_run):
    run_dir, _ = cli_run
    result = subprocess.run([sys.executable, "-m", "convsuite.common.cli", "go", "gtp", "--checkpoint", str(run_dir)],
                            input=GTP_SESSION, capture_output=True, text=True, env=ENV, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    replies = [r for r in result.stdout.split("\n\n") if r.strip()]
    by_id = {r.split()[0][1:]: r for r in replies}
    assert by_id["1"] == "=1 2" and by_id["2"] == "=2 convsuite"
    assert by_id["3"].startswith("?3 unacceptable size")  # GTP vertices end at 25
    assert by_id["6"] == "?6 illegal move"
    vertex = by_id["7"].split()[1]
    assert vertex.lower() == "pass" or vertex[0] in "ABCDEFGHJ"
    assert "X" in by_id["8"] and "O" in by_id["8"]
    assert by_id["9"] == "?9 unknown command"
    assert by_id["10"].split()[1][:2] in ("B+", "W+") or by_id["10"].split()[1] == "0"
    assert "genmove" in by_id["12"] and "final_score" in by_id["12"]
    # The 9x9 maddison net is convolutional apart from its position bias: it plays 13x13 too.
    assert by_id["14"].strip() == "=14" and by_id["15"].split()[1][0] in "ABCDEFGHJKLMN"
    assert replies[-1].startswith("=13")


@needs_gnugo
def test_match_against_gnu_go_writes_sgf_and_a_confidence_interval(cli_run, tmp_path):
    run_dir, _ = cli_run
    result = convsuite("go", "match", "--checkpoint", str(run_dir), "--opponent", "gnugo --mode gtp --level 0",
                       "--games", "2", "--out", str(tmp_path / "match"), "--json")
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["games"] == 2 and summary["wins"] + summary["losses"] + summary["draws"] == 2
    assert 0 <= summary["ci95"][0] <= summary["win_rate"] <= summary["ci95"][1] <= 1
    games = list(iter_games(tmp_path / "match"))
    assert len(games) == 2
    assert games[0].players["PB"] == games[1].players["PW"]  # colours alternate


def test_bench_go_reports_feature_training_and_genmove_speed():
    result = json.loads(convsuite("bench", "go", "--set", "model.depth=3", "--set", "model.filters=16",
                                  "--set", "trainer.batch_size=32", "--json").stdout.strip())
    assert result["feature_positions_per_s_per_core"] > 0 and result["train_positions_per_s"] > 0
    assert result["cores_to_extract_at_training_rate"] > 0
    # Which of the two is faster depends on the machine and its load: a benchmark reports it,
    # a unit test does not assert it.
    assert result["input_pipeline_positions_per_s"] > 0
    assert result["genmove_ms"] > 0 and result["planes"] == 27 and result["board_size"] == 9


def test_go_trains_and_plays_on_jax_without_tensorflow(selfplay_games, tmp_path):
    run_dir = tmp_path / "jax"
    result = convsuite_without_tensorflow("train", "go", *tiny(selfplay_games, run_dir, tmp_path / "cache"))
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads(result.stdout.strip())
    assert metrics["backend"] == "jax" and metrics["policy_top1"] > metrics["baseline_uniform_legal_top1"]


@pytest.mark.parametrize("args, message", [
    (["train", "go", "--set", "data.source=/no/such/games"], "does not exist"),
    (["train", "go", "--set", "data.feature_set=fancy"], "data.feature_set must be one of"),
    (["go", "gtp", "--checkpoint", "/no/such/run"], "does not exist"),
    (["go", "match", "--checkpoint", "/no/such/run"], "does not exist"),
])
def test_bad_input_is_one_line(args, message):
    result = convsuite(*args, check=False)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
