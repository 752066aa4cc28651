"""RunState: a custom loop's models, arrays, RNGs and counters survive kill -9 bit for bit."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from convsuite.common.config import Experiment
from convsuite.common.errors import ConvsuiteError
from convsuite.common.runstate import RunState

LOOP = Path(__file__).with_name("_custom_loop.py")


def start_loop(run_dir: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen([sys.executable, str(LOOP), str(run_dir), str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_started(process: subprocess.Popen) -> None:
    line = process.stdout.readline()
    while line and line.strip() != "started":
        line = process.stdout.readline()
    if not line:
        process.wait()
        pytest.fail(f"the loop exited before starting:\n{process.stderr.read()[-3000:]}")


def saving_now(checkpoints: Path) -> bool:
    try:
        return any(p.name.startswith(".ckpt-") for p in checkpoints.iterdir())
    except FileNotFoundError:
        return False


def newest_step(checkpoints: Path) -> int:
    return max((int(p.name[5:]) for p in checkpoints.glob("ckpt-*")), default=-1)


def test_custom_loop_killed_during_saves_resumes_bit_identically(tmp_path):
    reference = start_loop(tmp_path / "reference", tmp_path / "reference.npz")
    out, err = reference.communicate(timeout=300)
    assert reference.returncode == 0, err[-3000:]

    run_dir, checkpoints = tmp_path / "killed", tmp_path / "killed" / "checkpoints"
    chance = random.Random(0)
    killed_inside_a_save = 0
    for kill in range(3):
        process = start_loop(run_dir, tmp_path / "killed.npz")
        wait_started(process)
        newest = newest_step(checkpoints)
        while newest_step(checkpoints) <= newest and process.poll() is None:  # let each run get somewhere
            time.sleep(0.001)
        if kill != 1:  # kill as soon as the next checkpoint is half written
            while not saving_now(checkpoints) and process.poll() is None:
                time.sleep(0.001)
        else:  # kill anywhere
            time.sleep(chance.uniform(0.0, 1.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL, "the loop finished before it was killed: make it longer"
        killed_inside_a_save += saving_now(checkpoints)  # the half-written checkpoint is still there
        assert len(list(checkpoints.glob("ckpt-*"))) <= 3  # keep=2, plus one committed just before the kill
    assert killed_inside_a_save >= 1

    final = start_loop(run_dir, tmp_path / "killed.npz")
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err[-3000:]
    assert "Resuming" in out

    with np.load(tmp_path / "reference.npz") as expected, np.load(tmp_path / "killed.npz") as resumed:
        assert sorted(expected.files) == sorted(resumed.files)
        for name in expected.files:  # weights, optimizer slots, replay arrays, counters, every RNG state
            assert expected[name].dtype == resumed[name].dtype and np.array_equal(expected[name], resumed[name]), name
    assert (tmp_path / "reference" / "log.csv").read_text() == (run_dir / "log.csv").read_text()
    assert json.loads((run_dir / "metrics.json").read_text()) == json.loads(
        (tmp_path / "reference" / "metrics.json").read_text())
    assert len(list(checkpoints.glob("ckpt-*"))) == 2 and not saving_now(checkpoints)


def tiny_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    model.train_on_batch(np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"))
    return model


def test_arrays_models_generators_and_values_come_back(tmp_path):
    model = tiny_model()
    generator = np.random.default_rng(5)
    with RunState.open(tmp_path, progress=False) as state:
        state.add_model("net", model)
        state.add_generator("explore", generator)
        state.arrays["population"] = np.arange(12, dtype=np.float64).reshape(3, 4)
        state.arrays["frames"] = np.full((5, 4, 4), 7, np.uint8)
        state.values.update(generation=3, records=[{"winner": 1}])
        state.step = 30
        state.save()
        expected_draw = generator.random()
        weights = [w.copy() for w in model.get_weights()]
        optimizer_state = [keras.ops.convert_to_numpy(v).copy() for v in model.optimizer.variables]

    other = tiny_model()
    other.train_on_batch(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"))
    frames = np.zeros((5, 4, 4), np.uint8)
    with RunState.open(tmp_path, progress=False) as state:
        state.add_model("net", other)
        state.add_generator("explore", generator)
        state.arrays["frames"] = frames
        assert state.restore()
        assert state.step == 30 and state.values == {"generation": 3, "records": [{"winner": 1}]}
        assert state.arrays["frames"] is frames and (frames == 7).all()  # filled in place
        np.testing.assert_array_equal(state.arrays["population"], np.arange(12.0).reshape(3, 4))
        assert generator.random() == expected_draw
        assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), weights))
        assert all(np.array_equal(keras.ops.convert_to_numpy(v), s)
                   for v, s in zip(other.optimizer.variables, optimizer_state))


def test_a_new_run_restores_nothing(tmp_path):
    with RunState.open(tmp_path / "new", progress=False) as state:
        state.values["x"] = 1
        assert not state.restore()
        assert state.step == 0 and state.values == {"x": 1}


def test_checkpoint_files_are_plain_npy_and_npz_with_their_sha256(tmp_path):
    with RunState.open(tmp_path, progress=False) as state:
        state.add_model("net", tiny_model())
        state.arrays["big"] = np.arange(1000, dtype=np.int32)
        checkpoint = state.save(step=4)
    assert checkpoint.name == "ckpt-000000000004"
    np.testing.assert_array_equal(np.load(checkpoint.file("array.big.npy"), allow_pickle=False), np.arange(1000))
    with np.load(checkpoint.file("model.net.optimizer.npz"), allow_pickle=False) as stored:
        assert len(stored.files) == len(checkpoint.record["models"]["net"]["optimizer"])
    assert set(checkpoint.record["files"]) == {"array.big.npy", "model.net.weights.npz", "model.net.optimizer.npz"}
    assert checkpoint.problem() is None


def test_restoring_into_a_model_of_another_shape_is_one_clear_error(tmp_path):
    with RunState.open(tmp_path, progress=False) as state:
        state.add_model("net", tiny_model())
        state.save(step=1)
    wider = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5)])
    with RunState.open(tmp_path, progress=False) as state:
        state.add_model("net", wider)
        with pytest.raises(ConvsuiteError, match="other shapes"):
            state.restore()


def test_log_rows_after_the_checkpoint_are_dropped_on_resume(tmp_path):
    with RunState.open(tmp_path, progress=False) as state:
        for step in (5, 10):
            state.step = step
            state.log({"loss": 1.0 / step})
            if step == 5:
                state.save()
    with RunState.open(tmp_path, progress=False) as state:
        state.restore()
        state.step = 10
        state.log({"loss": 0.1})
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows == ["step,loss", "5,0.2", "10,0.1"]


def test_finish_writes_metrics_and_a_finished_runs_config_stays(tmp_path):
    experiment = Experiment(name="loop", suite="test")
    experiment.trainer.run_dir = str(tmp_path)
    with RunState.open(experiment, total_steps=2) as state:
        metrics = state.finish({"steps": 2, "score": np.float32(0.5)})
    assert metrics == {"steps": 2, "score": 0.5}
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    written = (tmp_path / "config.toml").read_text()
    experiment.trainer.epochs = 99  # may change on resume, but the run is finished: config.toml stays
    with RunState.open(experiment) as state:
        assert state.finished
    assert (tmp_path / "config.toml").read_text() == written
    experiment.trainer.learning_rate = 0.5
    with pytest.raises(ConvsuiteError, match="trainer.learning_rate"):
        RunState.open(experiment)
