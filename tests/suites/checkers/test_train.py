"""`convsuite train checkers`: the co-evolution's run directory, its exact resume after kill -9,
damaged checkpoints, and the saved networks."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from convsuite.common import registry
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers import train as checkers_train
from convsuite.suites.checkers.champions import champion_generations, load_champion
from tests.common.test_jax_path import BLOCK_TENSORFLOW

TINY = ["evolution.parents=3", "evolution.games_per_player=1", "evolution.search_depth=1", "evolution.move_limit=40",
        "evolution.eval_every=1", "evolution.eval_games=2", "evolution.eval_depth=1", "evolution.final_games=2",
        "evolution.workers=1", "trainer.progress=false"]
TIMING = ("train_seconds", "seconds_per_generation")


def tiny(run_dir, generations=3, extra=()):
    return registry.make_experiment("checkers", "blondie24-short",
                                    [*TINY, f"evolution.generations={generations}", f"trainer.run_dir={run_dir}",
                                     *extra])


def without_timing(metrics):
    return {k: v for k, v in metrics.items() if k not in TIMING}


def test_a_tiny_evolution_writes_champions_logs_networks_and_final_matches(tmp_path):
    metrics = checkers_train.train(tiny(tmp_path / "run"))
    run = tmp_path / "run"
    assert metrics["generations"] == 3 and metrics["champion_generation"] == 3
    assert metrics == json.loads((run / "metrics.json").read_text())
    games = metrics["piece_count_match"]
    assert games["wins"] + games["draws"] + games["losses"] == 2
    assert 0 <= metrics["score_vs_piece_count"] <= 1 and 0 <= metrics["baseline_initial_score_vs_piece_count"] <= 1
    assert [e["generation"] for e in metrics["evaluations"]] == [1, 2, 3]
    assert list(champion_generations(run)) == [0, 1, 2, 3]
    log = (run / "log.csv").read_text().splitlines()
    assert len(log) == 4 and "champion_king_value" in log[0] and "score_vs_piece_count" in log[0]

    from convsuite.suites.checkers.models import flat_weights

    model, experiment = checkers_train.load_run(run)
    weights, king = flat_weights(model)
    last, last_king, _ = load_champion(run)
    np.testing.assert_allclose(weights, last, atol=1e-6)
    assert king == pytest.approx(last_king, abs=1e-6) and experiment.name == "blondie24-short"
    assert (run / "best.keras").exists() and (run / "initial_population.npz").exists()
    evaluated = checkers_train.evaluate(run)
    assert evaluated["piece_count_match"]["wins"] + evaluated["piece_count_match"]["draws"] + \
        evaluated["piece_count_match"]["losses"] == 2
    assert checkers_train.train(tiny(run)) == metrics  # a finished run is read, not run again


def test_a_damaged_newest_checkpoint_falls_back_to_the_one_before_and_ends_the_same(tmp_path):
    reference = checkers_train.train(tiny(tmp_path / "reference", extra=["evolution.final_games=2"]))
    run = tmp_path / "damaged"
    checkers_train.train(tiny(run, generations=2))  # finished at generation 2: extend it to 3 below
    (run / "metrics.json").unlink()
    newest = max((run / "checkpoints").glob("ckpt-*"))
    (newest / "array.weights.npy").write_bytes(b"garbage")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = checkers_train.train(tiny(run))
    assert any("damaged" in str(w.message) for w in caught)
    assert without_timing(resumed) == without_timing(reference)


def test_every_checkpoint_damaged_is_one_clear_error(tmp_path):
    run = tmp_path / "run"
    checkers_train.train(tiny(run, generations=2))
    (run / "metrics.json").unlink()
    for checkpoint in (run / "checkpoints").glob("ckpt-*"):
        (checkpoint / "array.steps.npy").write_bytes(b"garbage")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ConvsuiteError, match="no intact checkpoint"):
            checkers_train.train(tiny(run, generations=3))


def _command(run_dir, generations):
    settings = [*TINY, "evolution.search_depth=2", "evolution.parents=4", "evolution.games_per_player=3",
                "evolution.eval_every=0", f"evolution.generations={generations}", f"trainer.run_dir={run_dir}"]
    # on JAX with TensorFlow blocked: the path of a machine without TensorFlow
    return [sys.executable, "-c", BLOCK_TENSORFLOW, "train", "checkers", "--config", "blondie24-short",
            *[arg for s in settings for arg in ("--set", s)]]


def newest_generation(run) -> int:
    return max((int(p.name.split("-")[1]) for p in (run / "checkpoints").glob("ckpt-*")), default=0)


def test_kill_9_then_the_same_command_continues_the_same_run_exactly(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    reference = subprocess.run(_command(tmp_path / "reference", 5), capture_output=True, text=True, env=env,
                               timeout=600)
    assert reference.returncode == 0, reference.stderr[-3000:]

    run = tmp_path / "killed"
    process = subprocess.Popen(_command(run, 5), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=env)
    while newest_generation(run) < 2 and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it was killed: make it longer"
    resumed = subprocess.run(_command(run, 5), capture_output=True, text=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming" in resumed.stdout
    assert newest_generation(run) == 5

    expected = json.loads((tmp_path / "reference" / "metrics.json").read_text())
    assert without_timing(json.loads((run / "metrics.json").read_text())) == without_timing(expected)
    with np.load(tmp_path / "reference" / "champions.npz") as a, np.load(run / "champions.npz") as b:
        for name in a.files:
            assert np.array_equal(a[name], b[name]), name


def test_final_match_openings_are_the_ballots_when_their_file_is_there_else_random(tmp_path):
    from convsuite.suites.checkers.openings import match_openings

    def openings(*overrides):
        experiment = registry.make_experiment("checkers", "blondie24-short",
                                              [f"data.data_dir={tmp_path}", *overrides])
        return checkers_train._ballots(experiment)

    assert openings() is None and openings("data.dataset=random-2ply-openings") is None
    with pytest.raises(ConvsuiteError, match="does not exist"):
        match_openings(2, ballots_path=openings("data.dataset=acf-three-move-ballots"))
    (tmp_path / "checkers").mkdir()
    (tmp_path / "checkers" / "three-move-ballots.txt").write_text("9-13 21-17 5-9\n11-15 23-19 8-11\n")
    assert openings() == str(tmp_path / "checkers" / "three-move-ballots.txt")
    assert openings("data.dataset=random-2ply-openings") is None
    chosen, source = match_openings(2, ballots_path=openings())
    assert source.startswith("three-move ballots") and sorted(map(len, chosen)) == [3, 3]


def test_a_damaged_champions_file_stops_the_resume_with_what_to_do(tmp_path):
    run = tmp_path / "run"
    checkers_train.train(tiny(run, generations=2))
    (run / "metrics.json").unlink()
    (run / "champions.npz").write_bytes(b"garbage")
    with pytest.raises(ConvsuiteError, match="corrupt.*move champions.npz away"):
        checkers_train.train(tiny(run, generations=3))
    assert newest_generation(run) == 2  # the population checkpoints are untouched
