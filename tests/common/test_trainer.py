"""The shared trainer: run directory contents, atomic checkpoints, resume after a kill."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from convsuite.common.checkpoint import CheckpointManager
from convsuite.common.errors import ConvsuiteError
from convsuite.common.trainer import SupervisedData, load_run_model, train

sys.path.insert(0, str(Path(__file__).parent))
from _read_only import read_only_directory  # noqa: E402
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
    older, newest = manager.checkpoints()
    (newest.path / "model.keras").write_bytes(b"not a zip file")
    with pytest.warns(UserWarning, match="damaged"):
        model, restored = manager.restore()
    assert restored["epoch"] == older.record["epoch"] == 2
    assert json.loads(manager.state_path.read_text())["checkpoint"] == older.name  # the pointer follows
    assert model.count_params() > 0


def test_every_checkpoint_corrupt_is_one_clear_error(tmp_path):
    train(experiment(tmp_path, 2), build, digits_data())
    manager = CheckpointManager(tmp_path, keep=2)
    for path in manager.directory.glob("ckpt-*/model.keras"):
        path.write_bytes(b"garbage")
    with pytest.warns(UserWarning), pytest.raises(ConvsuiteError, match="no intact checkpoint .*--fresh"):
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
    assert again["train_seconds"] == first["train_seconds"] > 0  # the training's time, not the evaluation's


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


def test_finished_run_keeps_its_config_and_refuses_another_learning_rate(tmp_path):
    train(experiment(tmp_path, 2), build, digits_data())
    config = tmp_path / "config.toml"
    written, modified = config.read_bytes(), config.stat().st_mtime_ns
    again = experiment(tmp_path, 2)
    again.trainer.progress = True  # a display setting: the run is only evaluated again
    train(again, build, digits_data())
    assert config.stat().st_mtime_ns == modified
    other = experiment(tmp_path, 2)
    other.trainer.learning_rate = 0.05
    with pytest.raises(ConvsuiteError, match=r"trainer.learning_rate: 0.001 -> 0.05.*--fresh"):
        train(other, build, digits_data())
    assert config.read_bytes() == written


@pytest.fixture(scope="module")
def three_epoch_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("three") / "run"
    train(experiment(run_dir, 3), build, digits_data())
    return run_dir


@pytest.mark.parametrize("pointer", [None, "[]", "{}", "\x00garbage{"], ids=["missing", "list", "empty", "garbage"])
def test_latest_json_lost_or_garbled_resumes_from_the_newest_checkpoint(tmp_path, three_epoch_run, pointer, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(three_epoch_run, run_dir)
    state = run_dir / "checkpoints" / "latest.json"
    kept = sorted(p.name for p in (run_dir / "checkpoints").glob("ckpt-*"))
    if pointer is None:
        state.unlink()
    else:
        state.write_text(pointer)
    metrics = train(experiment(run_dir, 4), build, digits_data())
    assert "Resuming" in capsys.readouterr().out and metrics["epochs"] == 4
    assert [int(r["epoch"]) for r in csv.DictReader(open(run_dir / "log.csv"))] == [0, 1, 2, 3]
    assert json.loads(state.read_text())["epoch"] == 4  # the pointer is rebuilt
    assert kept[-1] in {p.name for p in (run_dir / "checkpoints").glob("ckpt-*")}  # the old newest is kept (keep=2)


def test_garbled_config_toml_of_a_run_is_one_clear_error(tmp_path):
    train(experiment(tmp_path, 1), build, digits_data())
    (tmp_path / "config.toml").write_text("[trainer\nepochs = ")
    with pytest.raises(ConvsuiteError, match="config.toml is not valid TOML"):
        train(experiment(tmp_path, 2), build, digits_data())


def test_a_run_directory_held_by_another_process_is_refused_before_the_model_is_built(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from convsuite.common.rundir import RunDirectory; "
         f"RunDirectory.open({str(tmp_path)!r}); print('locked', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        built = []
        with pytest.raises(ConvsuiteError, match=f"in use by process {holder.pid} on .* since"):
            train(experiment(tmp_path, 1), lambda: built.append(1) or build(), digits_data())
        assert not built and not (tmp_path / "config.toml").exists()
    finally:
        holder.stdin.close()
        holder.wait()
    train(experiment(tmp_path, 1), build, digits_data())  # free again once the holder is gone


def test_files_follow_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        train(experiment(tmp_path, 1), build, digits_data())
    finally:
        os.umask(previous)
    names = ["config.toml", "metrics.json", "log.csv", "model.keras", "best.keras", "checkpoints/latest.json",
             *(str(p.relative_to(tmp_path)) for p in tmp_path.glob("checkpoints/ckpt-*/*"))]
    assert {name: oct((tmp_path / name).stat().st_mode & 0o777) for name in names} == {name: "0o640" for name in names}


def test_output_to_a_file_is_one_plain_line_per_epoch_with_the_run_eta(tmp_path, capsys):
    exp = experiment(tmp_path, 3)
    exp.trainer.progress = True  # a bar only on a terminal; captured output is not one
    train(exp, build, digits_data())
    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert all(" val_accuracy " in line and " elapsed " in line and " ETA " in line for line in lines)


def test_monitor_missing_from_the_epoch_metrics_is_said_once(tmp_path):
    data = digits_data()
    no_validation = SupervisedData(data.x_train, data.y_train, data.x_train[:0], data.y_train[:0],
                                   data.x_test, data.y_test)
    with pytest.warns(UserWarning, match="trainer.monitor='val_accuracy' is not among") as caught:
        train(experiment(tmp_path, 3), build, no_validation)
    assert len([w for w in caught if "not among" in str(w.message)]) == 1
    assert not (tmp_path / "best.keras").exists()


def test_monitor_mode_sets_the_direction_of_early_stopping(tmp_path):
    exp = experiment(tmp_path, 6)
    exp.trainer.monitor, exp.trainer.monitor_mode = "val_loss", "max"  # a falling loss never "improves"
    exp.trainer.early_stopping_patience = 1
    assert train(exp, build, digits_data())["epochs"] == 2


def test_a_read_only_run_directory_is_refused_before_the_model_is_built(tmp_path):
    built = []
    with read_only_directory(tmp_path / "run") as run_dir:
        with pytest.raises(ConvsuiteError, match="is not writable"):
            train(experiment(run_dir, 1), lambda: built.append(1) or build(), digits_data())
    assert not built
