"""The checkpoint store: atomic directories, their own records the truth, latest.json a pointer."""

import json
import os

import numpy as np
import pytest

from convsuite.common.checkpoint import (
    CheckpointStore,
    atomic_write_text,
    file_sha256,
    read_array,
    temporary_name,
    write_array,
)
from convsuite.common.errors import ConvsuiteError


def save(store, step, payload=b"data"):
    def write(pending):
        pending.path("blob.bin").write_bytes(payload)

    return store.save(step, {"epoch": step // 10}, write)


def test_atomic_writes_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        checkpoint = save(CheckpointStore(tmp_path), 1)
    finally:
        os.umask(previous)
    for path in (tmp_path / "a.txt", checkpoint.file("blob.bin"), checkpoint.file("checkpoint.json"),
                 tmp_path / "checkpoints" / "latest.json"):
        assert oct(path.stat().st_mode & 0o777) == "0o644", path


def test_temporary_names_differ_between_writers(tmp_path):
    names = {temporary_name(tmp_path / "model.keras", ".partial.keras") for _ in range(50)}
    assert len(names) == 50 and all(n.name.endswith(".partial.keras") for n in names)


def test_records_hold_every_files_sha256_and_the_position(tmp_path):
    checkpoint = save(CheckpointStore(tmp_path), 30, b"payload")
    assert checkpoint.name == "ckpt-000000000030"
    record = json.loads(checkpoint.file("checkpoint.json").read_text())
    assert record["step"] == 30 and record["epoch"] == 3
    assert record["files"] == {"blob.bin": {"sha256": file_sha256(checkpoint.file("blob.bin")), "bytes": 7}}


def test_keep_n_prunes_the_oldest(tmp_path):
    store = CheckpointStore(tmp_path, keep=2)
    for step in (10, 20, 30, 40):
        save(store, step)
    assert [c.step for c in store.checkpoints()] == [30, 40]
    assert json.loads(store.state_path.read_text())["checkpoint"] == "ckpt-000000000040"


@pytest.mark.parametrize("pointer", [None, "[]", "{}", "garbage", '{"checkpoint": "ckpt-000000000010"}'])
def test_the_newest_intact_checkpoint_wins_whatever_latest_json_says(tmp_path, pointer):
    store = CheckpointStore(tmp_path, keep=3)
    for step in (10, 20):
        save(store, step)
    if pointer is None:
        store.state_path.unlink()
    else:
        store.state_path.write_text(pointer)
    assert store.latest().step == 20
    assert json.loads(store.state_path.read_text())["checkpoint"] == "ckpt-000000000020"  # rebuilt


def test_an_interrupted_save_is_invisible_and_cleaned_up(tmp_path):
    store = CheckpointStore(tmp_path)
    save(store, 10)
    pending = store.begin(20)
    pending.path("blob.bin").write_bytes(b"half")  # the process dies here: no commit
    assert store.latest().step == 10
    save(store, 30)
    assert not [p for p in store.directory.iterdir() if p.name.startswith(".")]


def test_a_damaged_newest_checkpoint_falls_back_with_a_warning(tmp_path):
    store = CheckpointStore(tmp_path)
    save(store, 10)
    newest = save(store, 20)
    newest.file("blob.bin").write_bytes(b"DATA")  # same size, other bytes
    with pytest.warns(UserWarning, match="does not match its SHA-256"):
        assert store.latest().step == 10


def test_only_damaged_checkpoints_are_an_error_not_a_fresh_start(tmp_path):
    store = CheckpointStore(tmp_path)
    save(store, 10)
    (store.directory / "ckpt-000000000010" / "checkpoint.json").write_text("{")
    with pytest.warns(UserWarning), pytest.raises(ConvsuiteError, match="no intact checkpoint"):
        store.latest()


def test_saving_the_same_step_again_replaces_it(tmp_path):
    store = CheckpointStore(tmp_path)
    save(store, 10, b"old")
    save(store, 10, b"new")
    assert store.latest().file("blob.bin").read_bytes() == b"new"


def test_checkpoints_of_the_old_single_file_format_are_refused(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "ckpt-e0001-b000000.keras").write_bytes(b"x")
    with pytest.raises(ConvsuiteError, match="older convsuite"):
        CheckpointStore(tmp_path).latest()


@pytest.mark.parametrize("array", [np.arange(24, dtype=np.uint8).reshape(2, 3, 4), np.arange(12.0).reshape(3, 4)[:, ::2],
                                   np.zeros((0, 3), np.float32), np.array(2.5)], ids=["uint8", "strided", "empty", "0d"])
def test_arrays_round_trip_through_plain_npy_with_their_sha256(tmp_path, array):
    digest = write_array(tmp_path / "a.npy", array)
    assert digest == file_sha256(tmp_path / "a.npy")
    loaded = np.load(tmp_path / "a.npy", allow_pickle=False)
    assert loaded.dtype == array.dtype and np.array_equal(loaded, array)
    into = np.empty(array.shape, array.dtype)
    assert read_array(tmp_path / "a.npy", into=into) is into and np.array_equal(into, array)


def test_reading_into_an_array_of_another_shape_is_one_clear_error(tmp_path):
    write_array(tmp_path / "a.npy", np.zeros((4, 4), np.uint8))
    with pytest.raises(ConvsuiteError, match=r"uint8\[4, 4\] but the run holds uint8\[5, 4\]"):
        read_array(tmp_path / "a.npy", into=np.zeros((5, 4), np.uint8))
