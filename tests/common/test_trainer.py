"""The shared trainer: run directory contents, atomic checkpoints, resume after a kill."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from convsuite.common.checkpoint import CheckpointManager
from convsuite.common.errors import ConvsuiteError
from convsuite.common.trainer import load_run_model, train

sys.path.insert(0, str(Path(__file__).parent))
from _train_digits import build, digits_data, experiment  # noqa: E402

SCRIPT = Path(__file__).parent / "_train_digits.py"


def run_script(run_dir, epochs, every_steps):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    return subprocess.Popen([sys.executable, str(SCRIPT), str(run_dir), str(epochs), str(every_steps)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_run_directory_has_model_best_logs_metrics_and_config(tmp_path):
    metrics = train(experiment(tmp_path, 3), build, digits_data())
    for name in ("model.keras", "best.keras", "metrics.json", "log.csv", "config.toml", "checkpoints/latest.json"):
        assert (tmp_path / name).exists(), name
    assert list((tmp_path / "tensorboard").rglob("events.out.tfevents*"))
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    assert metrics["epochs"] == 3 and metrics["test_accuracy"] > 0.5  # chance is 0.1
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2] and float(rows[0]["examples_per_s"]) > 0


def test_resume_after_kill_continues_from_last_checkpoint(tmp_path):
    epochs = 25
    reference = run_script(tmp_path / "reference", epochs, 7)
    out, err = reference.communicate(timeout=300)
    assert reference.returncode == 0, err[-2000:]
    expected = json.loads(out.strip().splitlines()[-1])

    interrupted = tmp_path / "interrupted"
    process = run_script(interrupted, epochs, 7)
    state_path = interrupted / "checkpoints" / "latest.json"
    deadline = time.time() + 240
    while time.time() < deadline:
        if state_path.exists():
            try:
                if json.loads(state_path.read_text())["global_step"] >= 150:
                    break
            except (json.JSONDecodeError, KeyError):
                pass
        if process.poll() is not None:
            pytest.fail("the training process finished before it could be killed: make the run longer")
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = json.loads(state_path.read_text())
    assert 0 < killed_at["epoch"] < epochs

    resumed = run_script(interrupted, epochs, 7)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err[-2000:]
    assert "Resuming" in out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["epochs"] == expected["epochs"] == epochs
    assert abs(result["test_accuracy"] - expected["test_accuracy"]) < 0.03
    epochs_logged = [int(r["epoch"]) for r in csv.DictReader(open(interrupted / "log.csv"))]
    assert epochs_logged == list(range(epochs))  # every epoch once: none lost, none repeated


def test_corrupt_newest_checkpoint_falls_back_to_the_one_before(tmp_path):
    train(experiment(tmp_path, 3), build, digits_data())
    manager = CheckpointManager(tmp_path, keep=2)
    state = json.loads(manager.state_path.read_text())
    newest = manager.directory / state["history"][-1]["file"]
    newest.write_bytes(b"not a zip file")
    with pytest.warns(UserWarning, match="missing or corrupt"):
        model, restored = manager.restore()
    assert restored["epoch"] == state["history"][-2]["epoch"]
    assert model.count_params() > 0


def test_every_checkpoint_corrupt_is_one_clear_error(tmp_path):
    train(experiment(tmp_path, 2), build, digits_data())
    manager = CheckpointManager(tmp_path, keep=2)
    for path in manager.directory.glob("*.keras"):
        path.write_bytes(b"garbage")
    with pytest.warns(UserWarning), pytest.raises(ConvsuiteError, match="missing or corrupt; delete that folder"):
        manager.restore()


def test_corrupt_model_file_is_a_clear_error(tmp_path):
    train(experiment(tmp_path, 1), build, digits_data())
    (tmp_path / "model.keras").write_bytes(b"\x00" * 100)
    with pytest.raises(ConvsuiteError, match="is corrupt or was written by a different model"):
        load_run_model(tmp_path)


def test_finished_run_is_not_trained_again(tmp_path):
    first = train(experiment(tmp_path, 2), build, digits_data())
    again = train(experiment(tmp_path, 2), build, digits_data())
    assert again["epochs"] == 2
    assert again["test_accuracy"] == first["test_accuracy"]


def test_resume_with_a_different_data_config_is_refused(tmp_path):
    train(experiment(tmp_path, 1), build, digits_data())
    changed = experiment(tmp_path, 2)
    changed.data.train_subset = 100
    with pytest.raises(ConvsuiteError, match="different data config"):
        train(changed, build, digits_data())


def test_early_stopping_ends_a_run_that_stopped_improving(tmp_path):
    exp = experiment(tmp_path, 10)
    exp.trainer.learning_rate = 0.0  # nothing can improve after the first epoch
    exp.trainer.early_stopping_patience = 2
    metrics = train(exp, build, digits_data())
    assert metrics["epochs"] == 3


def test_same_seed_gives_the_same_weights(tmp_path):
    a = train(experiment(tmp_path / "a", 2), build, digits_data())
    b = train(experiment(tmp_path / "b", 2), build, digits_data())
    wa = load_run_model(tmp_path / "a").get_weights()
    wb = load_run_model(tmp_path / "b").get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(wa, wb))
    assert a["test_accuracy"] == b["test_accuracy"]


def test_fresh_start_discards_the_old_checkpoints_and_log(tmp_path):
    train(experiment(tmp_path, 2), build, digits_data())
    metrics = train(experiment(tmp_path, 1), build, digits_data(), resume=False)
    assert metrics["epochs"] == 1
    assert [int(r["epoch"]) for r in csv.DictReader(open(tmp_path / "log.csv"))] == [0]
