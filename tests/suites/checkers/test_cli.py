"""`convsuite train|evaluate|bench checkers` and `convsuite checkers match|ladder|play` end to end;
bad input as one-line errors."""

import json

import pytest

from tests.common.test_cli import convsuite

TINY = ["evolution.parents=3", "evolution.games_per_player=1", "evolution.generations=2", "evolution.search_depth=1",
        "evolution.move_limit=40", "evolution.eval_every=1", "evolution.eval_games=2", "evolution.eval_depth=1",
        "evolution.final_games=2", "evolution.workers=1", "trainer.progress=false"]


def settings(*extra):
    return [arg for s in (*TINY, *extra) for arg in ("--set", s)]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("checkers-cli") / "run"
    result = convsuite("train", "checkers", "--config", "blondie24-short", *settings(f"trainer.run_dir={run_dir}"),
                       "--json")
    return run_dir, json.loads(result.stdout.strip())


def test_train_prints_what_metrics_json_holds(cli_run):
    run_dir, trained = cli_run
    assert json.loads((run_dir / "metrics.json").read_text()) == trained
    assert trained["suite"] == "checkers" and trained["generations"] == 2
    assert trained["piece_count_match"]["games"] == 2 and "baseline_initial_score_vs_piece_count" in trained


def test_evaluate_plays_the_saved_network_against_the_piece_count_player(cli_run):
    run_dir, trained = cli_run
    evaluated = json.loads(convsuite("evaluate", "checkers", "--checkpoint", str(run_dir), "--json").stdout.strip())
    assert evaluated["which"] == "model" and evaluated["piece_count_match"]["games"] == 2
    assert evaluated["king_value"] == pytest.approx(trained["champion_king_value"], abs=1e-4)


def test_match_and_ladder_commands_read_the_run(cli_run):
    run_dir, _ = cli_run
    match = json.loads(convsuite("checkers", "match", "--checkpoint", str(run_dir), "--opponent", "random",
                                 "--games", "2", "--depth", "1", "--json").stdout.strip())
    assert match["wins"] + match["draws"] + match["losses"] == 2
    ladder = json.loads(convsuite("checkers", "ladder", "--checkpoint", str(run_dir), "--generations", "0,2",
                                  "--games", "2", "--depth", "1", "--json").stdout.strip())
    assert ladder["generations"] == [0, 2]


def test_bench_reports_perft_evaluation_search_and_generation_speed():
    result = convsuite("bench", "checkers", "--json", *settings("evolution.search_depth=2"))
    bench = json.loads(result.stdout.strip())
    for key in ("perft_nodes_per_s", "leaf_evaluations_per_s_batched", "leaf_evaluations_per_s_single",
                "search_nodes_per_s", "seconds_per_generation"):
        assert bench[key] > 0, key
    assert bench["games_per_generation"] == 6 and bench["search_depth"] == 2


@pytest.mark.parametrize("args, message", [
    (["checkers", "play", "--checkpoint", "/nonexistent/run"], "/nonexistent/run"),
    (["train", "checkers", "--set", "evolution.final_games=3"], "evolution.final_games must be even"),
    (["train", "checkers", "--set", "evolution.games_per_player=40"], "raise evolution.parents"),
])
def test_bad_input_is_one_line_without_a_traceback(args, message):
    result = convsuite(*args, check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert message in result.stderr
