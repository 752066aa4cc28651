"""Run directories: one owner at a time, writable before anything heavy starts, one run's config."""

import subprocess
import sys
from pathlib import Path

import pytest

from convsuite.common.config import Experiment
from convsuite.common.errors import ConvsuiteError
from convsuite.common.rundir import RunDirectory

sys.path.insert(0, str(Path(__file__).parent))
from _read_only import read_only_directory  # noqa: E402


def experiment(run_dir, **trainer):
    exp = Experiment(name="rundir-test", suite="test")
    exp.trainer.run_dir = str(run_dir)
    for key, value in trainer.items():
        setattr(exp.trainer, key, value)
    return exp


def hold(path):
    """A process that holds ``path`` open until its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from convsuite.common.rundir import RunDirectory; "
         f"RunDirectory.open({str(path)!r}); print('locked', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_second_process_is_refused_with_the_holders_pid_and_command(tmp_path):
    holder = hold(tmp_path)
    try:
        with pytest.raises(ConvsuiteError, match=rf"in use by process {holder.pid} on .* since .*\(-c\)"):
            RunDirectory.open(tmp_path)
    finally:
        holder.stdin.close()
        holder.wait()
    RunDirectory.open(tmp_path).close()  # the lock went with its holder


def test_opening_again_in_the_same_process_shares_the_owner(tmp_path):
    outer = RunDirectory.open(tmp_path)
    inner = RunDirectory.open(tmp_path / ".." / tmp_path.name)
    assert inner is outer
    inner.close()
    holder = None
    try:
        with pytest.raises(AssertionError):  # still held by the outer owner
            holder = hold(tmp_path)
    finally:
        outer.close()
    holder = hold(tmp_path)  # released by the last close
    holder.stdin.close()
    holder.wait()


def test_a_read_only_run_directory_is_one_clear_error(tmp_path):
    with read_only_directory(tmp_path / "run") as run_dir:
        with pytest.raises(ConvsuiteError, match=rf"run directory {run_dir} is not writable \(.+\); fix its permissions"):
            RunDirectory.open(run_dir)


def test_resuming_with_another_learning_rate_names_the_key_and_both_values(tmp_path):
    with RunDirectory.open(tmp_path) as run:
        run.claim_config(experiment(tmp_path), resuming=False)
        with pytest.raises(ConvsuiteError, match=r"different trainer config .*trainer.learning_rate: 0.001 -> 0.01"):
            run.claim_config(experiment(tmp_path, learning_rate=0.01), resuming=True)


def test_more_epochs_or_another_display_may_change_and_are_recorded(tmp_path):
    with RunDirectory.open(tmp_path) as run:
        run.claim_config(experiment(tmp_path), resuming=False)
        run.claim_config(experiment(tmp_path, epochs=20, progress=False), resuming=True)
        assert run.saved_config()["trainer"]["epochs"] == 20


def test_a_finished_runs_config_is_never_rewritten(tmp_path):
    with RunDirectory.open(tmp_path) as run:
        run.claim_config(experiment(tmp_path), resuming=False)
        written = run.config_path.read_bytes()
        run.claim_config(experiment(tmp_path, epochs=20), resuming=True, finished=True)
        assert run.config_path.read_bytes() == written


def test_garbled_config_toml_is_one_clear_error(tmp_path):
    (tmp_path / "config.toml").write_text("[trainer\n")
    with RunDirectory.open(tmp_path) as run, pytest.raises(ConvsuiteError, match="is not valid TOML"):
        run.claim_config(experiment(tmp_path), resuming=True)


def test_start_over_removes_the_previous_runs_record(tmp_path):
    for name in ("config.toml", "log.csv", "metrics.json", "model.keras", "best.keras", "checkpoints/latest.json",
                 "tensorboard/train/events", "splits.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    with RunDirectory.open(tmp_path) as run:
        run.start_over()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "splits.json"]  # the suite's own files stay
