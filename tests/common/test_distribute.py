"""Data-parallel training gives the same model as one device with the same global batch.

Each run is a subprocess (tests/common/_distributed_worker.py): TensorFlow fixes its logical
CPU devices and reads TF_CONFIG when it initialises, so every strategy needs a fresh
interpreter. The model has no BatchNormalization and no dropout, so replicas compute what one
device computes and only the order of float32 sums differs.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from convsuite.common.inputs import steps_per_epoch

WORKER = Path(__file__).with_name("_distributed_worker.py")
TIMEOUT_S = 120
N_EVEN = 512  # 8 full batches of 64: both mirrored replicas get 32 examples in every step
N_SHORT = 509  # 509 does not divide by the batch: the epoch's last batch is filled from its start


def _env(tf_config: str | None = None) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    if tf_config is not None:
        env["TF_CONFIG"] = tf_config
    return env


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _tf_config(ports, index) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


def _run_together(jobs, tmp: Path) -> list[dict]:
    """Start every job ((name, strategy, num_cpu, n_train, run_dir, env[, [epochs, "resume"]])) at once
    and wait for all.

    If one fails or the time runs out, the others are killed at once (a worker whose peer is
    gone would otherwise wait for it) and the test fails with the tails of their logs.
    """
    procs = []
    for name, strategy, num_cpu, n_train, run_dir, env, *more in jobs:
        log = open(tmp / f"{name}.log", "w")
        args = [sys.executable, str(WORKER), strategy, str(num_cpu), str(n_train), str(run_dir), str(tmp / name),
                *(str(arg) for arg in (more[0] if more else []))]
        procs.append((name, subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    deadline = time.monotonic() + TIMEOUT_S
    problem = None
    while problem is None and any(p.poll() is None for _, p, _ in procs):
        failed = [name for name, p, _ in procs if p.poll() not in (None, 0)]
        if failed:
            problem = f"{', '.join(failed)} exited with an error"
        elif time.monotonic() > deadline:
            problem = (f"still running after {TIMEOUT_S} s (workers that cannot reach each other on "
                       "127.0.0.1 wait forever)")
        else:
            time.sleep(0.2)
    for _, p, log in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
        log.close()
    if problem is None and any(p.returncode != 0 for _, p, _ in procs):
        problem = "a process exited with an error"
    if problem is not None:
        tails = "\n".join(f"--- {name} (exit {p.returncode}) ---\n" + (tmp / f"{name}.log").read_text()[-2500:]
                          for name, p, _ in procs)
        pytest.fail(f"training subprocesses failed: {problem}\n{tails}", pytrace=False)
    return [json.loads((tmp / f"{name}.json").read_text()) for name, _, _ in procs]


def _weights(path: Path) -> list[np.ndarray]:
    with np.load(path) as arrays:
        return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]


def _max_weight_difference(a: Path, b: Path) -> float:
    first, second = _weights(a), _weights(b)
    assert [w.shape for w in first] == [w.shape for w in second]
    return max(float(np.max(np.abs(x - y))) for x, y in zip(first, second))


@pytest.fixture(scope="module")
def single_worker_loop(tmp_path_factory):
    """The custom multi-worker loop on a one-worker cluster: the reference for two workers."""
    tmp = tmp_path_factory.mktemp("one_worker")
    [metrics] = _run_together([("one", "multiworker", 0, N_SHORT, tmp / "run", _env(_tf_config(_free_ports(1), 0)))],
                              tmp)
    return tmp, metrics


def test_mirrored_on_two_cpu_devices_matches_one_device(tmp_path):
    [single] = _run_together([("cpu", "cpu", 0, N_EVEN, tmp_path / "cpu_run", _env())], tmp_path)
    [mirrored] = _run_together([("mirrored", "mirrored", 2, N_EVEN, tmp_path / "mirrored_run", _env())], tmp_path)

    assert mirrored["replicas"] == 2
    assert single["replicas"] == 1
    losses = mirrored["train_loss_per_epoch"]
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert losses[1] < losses[0] - 0.05
    # Same batches, same seed, each replica gets half of each batch; only the order of float32
    # sums differs (two half-batch gradients added vs one), which moves results by ~1e-7 per
    # step, and Adam carries that through 16 steps: 1e-4 leaves room, a wrong batch split
    # or a per-replica instead of global mean would be off by 1e-2 or more.
    np.testing.assert_allclose(losses, single["train_loss_per_epoch"], rtol=0, atol=1e-4)
    assert _max_weight_difference(tmp_path / "mirrored.npz", tmp_path / "cpu.npz") < 1e-4


def test_two_workers_match_one_worker_with_same_global_batch(tmp_path, single_worker_loop):
    reference_dir, reference = single_worker_loop
    ports = _free_ports(2)
    run_dir = tmp_path / "run"  # both workers are given the same run directory; only the chief writes it
    workers = _run_together([(f"worker{i}", "multiworker", 0, N_SHORT, run_dir, _env(_tf_config(ports, i)))
                             for i in range(2)], tmp_path)

    for metrics in workers:
        assert metrics["workers"] == 2 and metrics["replicas"] == 2
        assert metrics["epochs"] == 2
        assert np.isfinite(metrics["train_loss"])
        np.testing.assert_allclose(metrics["train_loss_per_epoch"], reference["train_loss_per_epoch"],
                                   rtol=0, atol=1e-5)
    assert workers[0]["train_loss_per_epoch"][1] < workers[0]["train_loss_per_epoch"][0] - 0.05
    # Each worker trained on its own half of every global batch, not on all of it.
    seen = [m["worker_train_examples"] for m in workers]
    trained = 2 * steps_per_epoch(N_SHORT, 64) * 64  # two epochs of full global batches of 64
    assert sum(seen) == trained and min(seen) >= 0.45 * trained, seen
    # Both workers hold the one-worker model; the chief saved it and wrote the metrics.
    for name in ("worker0", "worker1"):
        assert _max_weight_difference(tmp_path / f"{name}.npz", reference_dir / "one.npz") < 1e-5
    assert _max_weight_difference(tmp_path / "worker0.saved.npz", reference_dir / "one.npz") < 1e-5
    assert not (tmp_path / "worker1.saved.npz").exists()
    written = json.loads((run_dir / "metrics.json").read_text())
    assert written["train_loss_per_epoch"] == workers[0]["train_loss_per_epoch"]
    assert 0.3 < written["test_accuracy"] <= 1.0


def test_custom_loop_matches_fit_on_one_process(tmp_path, single_worker_loop):
    """The loop that replaces fit for multi-worker runs trains what fit trains, short last batch included."""
    reference_dir, reference = single_worker_loop
    [fitted] = _run_together([("fit", "cpu", 0, N_SHORT, tmp_path / "run", _env())], tmp_path)
    np.testing.assert_allclose(reference["train_loss_per_epoch"], fitted["train_loss_per_epoch"], rtol=0, atol=1e-5)
    assert _max_weight_difference(reference_dir / "one.npz", tmp_path / "fit.npz") < 1e-5
    assert abs(reference["test_accuracy"] - fitted["test_accuracy"]) < 1e-6


def test_two_workers_resume_from_the_chiefs_checkpoint(tmp_path, single_worker_loop):
    """One epoch (on one worker), then two workers resume for the second: the chief's checkpoint
    is restored by every worker, and the run equals the one-worker run of two epochs in one go."""
    reference_dir, reference = single_worker_loop
    run_dir = tmp_path / "run"
    first = _run_together([("first", "multiworker", 0, N_SHORT, run_dir, _env(_tf_config(_free_ports(1), 0)), [1])],
                          tmp_path)
    assert first[0]["epochs"] == 1 and [p.name for p in (run_dir / "checkpoints").glob("ckpt-*")]
    ports = _free_ports(2)
    workers = _run_together([(f"worker{i}", "multiworker", 0, N_SHORT, run_dir, _env(_tf_config(ports, i)),
                              [2, "resume"]) for i in range(2)], tmp_path)
    for name, metrics in zip(("worker0", "worker1"), workers):
        np.testing.assert_allclose(metrics["train_loss_per_epoch"], reference["train_loss_per_epoch"],
                                   rtol=0, atol=1e-5)
        assert _max_weight_difference(tmp_path / f"{name}.npz", reference_dir / "one.npz") < 1e-5
    assert "Resuming" not in (tmp_path / "worker1.log").read_text()  # only the chief speaks
    assert [int(line.split(",")[0]) for line in (run_dir / "log.csv").read_text().splitlines()[1:]] == [0, 1]
    assert json.loads((run_dir / "metrics.json").read_text())["train_loss_per_epoch"] == \
        workers[0]["train_loss_per_epoch"]
