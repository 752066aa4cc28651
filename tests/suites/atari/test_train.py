"""`convsuite train atari`: the loop's run directory, logs, checkpoints with the replay memory, resume
after kill -9 (on JAX without TensorFlow), damaged checkpoints, and the errors of bad settings."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from convsuite.common import registry
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.atari import train as atari_train
from tests.common.test_cli import convsuite
from tests.common.test_jax_path import BLOCK_TENSORFLOW

TINY = ["agent.total_steps=600", "agent.replay_size=2000", "agent.replay_start=300", "agent.target_update=100",
        "agent.epsilon_decay_steps=400", "agent.heldout_states=32", "agent.log_every=200", "agent.save_every=300",
        "data.num_envs=2", "evaluation.episodes=2", "evaluation.random_episodes=2", "evaluation.max_minutes=0.2",
        "evaluation.num_envs=2", "evaluation.every=300", "evaluation.episodes_during=1", "trainer.progress=false"]


def tiny(run_dir, *extra, config="dqn-pong"):
    return registry.make_experiment("atari", config, [*TINY, f"trainer.run_dir={run_dir}", *extra])


def log_rows(run):
    with open(run / "log.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def pong_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("atari") / "pong"
    return run, atari_train.train(tiny(run))


def test_a_tiny_pong_run_logs_evaluates_and_saves_the_network(pong_run):
    run, metrics = pong_run
    assert metrics == json.loads((run / "metrics.json").read_text())
    assert metrics["game"] == "Pong" and metrics["steps"] == 600 and len(metrics["actions"]) == 6
    assert metrics["updates"] == (600 - 300) // 4 + 1  # one every 4 steps from the replay start on
    assert metrics["eval_episodes"] == 2 and len(metrics["eval_returns"]) == 2
    assert metrics["random_episodes"] == 2 and metrics["human_normalized_score"] is not None
    assert [e["step"] for e in metrics["evaluations"]] == [300, 600]
    rows = log_rows(run)
    assert [int(r["step"]) for r in rows] == [200, 300, 400, 600]  # log rows and evaluations
    for key in ("steps_per_second", "epsilon", "loss", "mean_q", "heldout_max_q", "eval_mean_return"):
        assert key in rows[-1] and rows[-1][key] != "", key
    assert float(rows[0]["epsilon"]) > float(rows[-1]["epsilon"])
    assert (run / "tensorboard").is_dir() and (run / "best.keras").exists()
    model, experiment = atari_train.load_run(run)
    assert model.output_shape == (None, 6) and model.input_shape == (None, 4, 84, 84)
    assert experiment.name == "dqn-pong" and experiment.agent.total_steps == 600


def test_a_checkpoint_holds_both_networks_the_optimizer_and_the_replay_memory(pong_run):
    run, _ = pong_run
    checkpoint = sorted((run / "checkpoints").glob("ckpt-*"))[-1]
    record = json.loads((checkpoint / "checkpoint.json").read_text())
    names = {p.name for p in checkpoint.iterdir()}
    assert {"model.online.weights.npz", "model.online.optimizer.npz", "model.target.weights.npz",
            "array.frames.npy", "array.actions.npy", "array.heldout.npy"} <= names
    frames = np.load(checkpoint / "array.frames.npy")
    assert frames.dtype == np.uint8 and frames.shape == (2, 1000, 84, 84)  # each frame once, per environment
    assert frames.any()
    values = record.get("values", record.get("record", {}).get("values", {}))
    assert values["updates"] == 76 and values["cursor"] == 300 and values["heldout_ready"] is True


def test_evaluate_plays_the_saved_network_under_the_runs_protocol(pong_run):
    run, _ = pong_run
    result = atari_train.evaluate(run)
    assert result["game"] == "Pong" and result["eval_episodes"] == 2 and result["random_episodes"] == 2
    assert result["eval_mean_return"] <= 21


def test_the_same_command_on_a_finished_run_reads_its_metrics(pong_run):
    run, metrics = pong_run
    assert atari_train.train(tiny(run)) == metrics


def test_resuming_with_another_game_is_refused(pong_run):
    run, _ = pong_run
    with pytest.raises(ConvsuiteError, match="data.game"):
        atari_train.train(tiny(run, "data.game=Breakout", "agent.total_steps=900"))


def _command(run, total_steps):
    args = [a for a in TINY if not a.startswith(("agent.total_steps", "agent.save_every", "evaluation.every"))]
    sets = [x for a in [*args, f"agent.total_steps={total_steps}", "agent.save_every=200",
                        "trainer.keep_checkpoints=2", f"trainer.run_dir={run}"] for x in ("--set", a)]
    return [sys.executable, "-c", BLOCK_TENSORFLOW, "train", "atari", "--config", "dqn-pong", *sets]


def newest_step(run):
    return max((int(p.name.split("-")[1]) for p in (run / "checkpoints").glob("ckpt-*")), default=0)


def test_kill_9_then_the_same_command_resumes_on_jax_without_tensorflow(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    run = tmp_path / "killed"
    process = subprocess.Popen(_command(run, 1400), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=env)
    while newest_step(run) < 800 and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it was killed: make it longer"
    killed_at = newest_step(run)
    # damage the newest checkpoint's replay memory: the resume falls back to the one before it
    newest = run / "checkpoints" / f"ckpt-{killed_at:012d}"
    (newest / "array.frames.npy").write_bytes(b"garbage")
    resumed = subprocess.run(_command(run, 1400), capture_output=True, text=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"at step {killed_at - 200}" in resumed.stdout and "damaged" in resumed.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["backend"] == "jax" and metrics["steps"] == 1400
    assert metrics["updates"] == (1400 - 300) // 4 + 1  # the update counter went on where it stopped
    steps = [int(r["step"]) for r in log_rows(run)]
    assert steps == sorted(set(steps)) and steps[-1] == 1400  # every row once


def test_an_unknown_game_is_one_line_naming_the_available_ones(tmp_path):
    result = convsuite("train", "atari", "--set", "data.game=Pongg", "--set", f"trainer.run_dir={tmp_path / 'x'}",
                       check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "unknown game 'Pongg'" in result.stderr and "Breakout" in result.stderr and "Pong" in result.stderr


def test_a_replay_memory_larger_than_memory_is_refused_up_front_with_its_size(tmp_path):
    result = convsuite("train", "atari", "--set", "agent.replay_size=200000000", "--set",
                       f"trainer.run_dir={tmp_path / 'x'}", check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "200,000,000 transitions" in result.stderr and "GB" in result.stderr and "agent.replay_size" in result.stderr


def test_convsuite_list_shows_the_games():
    result = convsuite("list", "atari")
    assert "dqn-pong" in result.stdout and "SpaceInvaders" in result.stdout and "games (" in result.stdout


@pytest.mark.parametrize("target_update, copied", [(1, True), (10**6, False)])
def test_the_target_network_is_copied_every_target_update_updates(tmp_path, target_update, copied):
    experiment = registry.make_experiment("atari", "dqn-cartpole", [
        "agent.total_steps=300", "agent.replay_start=100", "agent.replay_size=500", "agent.heldout_states=16",
        "agent.log_every=300", "agent.save_every=300", f"agent.target_update={target_update}",
        "evaluation.episodes=1", "evaluation.random_episodes=1", "evaluation.every=0", "evaluation.num_envs=1",
        "trainer.progress=false", f"trainer.run_dir={tmp_path / 'run'}"])
    metrics = atari_train.train(experiment)
    assert metrics["updates"] == 101  # one every 2 steps from step 100 to 300
    checkpoint = sorted((tmp_path / "run" / "checkpoints").glob("ckpt-*"))[-1]
    with np.load(checkpoint / "model.online.weights.npz") as online, \
            np.load(checkpoint / "model.target.weights.npz") as target:
        same = all(np.array_equal(online[k], target[k]) for k in online.files)
    assert same == copied


def test_a_run_still_training_lends_its_newest_checkpoints_network(tmp_path):
    run = tmp_path / "unfinished"
    process = subprocess.Popen(_command(run, 100_000), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"})
    try:
        while newest_step(run) < 200 and process.poll() is None:
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    model, experiment = atari_train.load_run(run)
    assert model.output_shape == (None, 6) and experiment.agent.total_steps == 100_000
    checkpoint = sorted((run / "checkpoints").glob("ckpt-*"))[-1]
    with np.load(checkpoint / "model.online.weights.npz") as stored:
        np.testing.assert_array_equal(model.get_weights()[0], stored["v00000"])


def test_a_corrupt_saved_network_is_one_clear_error(pong_run, tmp_path):
    run, _ = pong_run
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.toml").write_bytes((run / "config.toml").read_bytes())
    (broken / "model.keras").write_bytes(b"not a zip file")
    with pytest.raises(ConvsuiteError, match="model.keras"):
        atari_train.load_run(broken)


@pytest.mark.parametrize("life_loss", [True, False])
def test_a_lost_life_ends_the_episode_for_learning_only(tmp_path, life_loss):
    experiment = registry.make_experiment("atari", "dqn-breakout", [
        "agent.total_steps=1600", "agent.replay_size=2000", "agent.replay_start=1600", "agent.heldout_states=16",
        "agent.log_every=1600", "agent.save_every=1600", "data.num_envs=2", f"data.terminal_on_life_loss={life_loss}",
        "evaluation.episodes=1", "evaluation.random_episodes=1", "evaluation.max_minutes=0.05", "evaluation.num_envs=1",
        "trainer.progress=false", f"trainer.run_dir={tmp_path / 'run'}"])
    metrics = atari_train.train(experiment)
    checkpoint = sorted((tmp_path / "run" / "checkpoints").glob("ckpt-*"))[-1]
    terminals = int(np.load(checkpoint / "array.terminals.npy").sum())
    games = metrics["episodes"]  # real games over: the score counts whole games of 5 lives
    if life_loss:
        assert terminals >= 4 * games + 1 and games >= 1  # every lost life is a terminal for the targets
    else:
        assert terminals == games
