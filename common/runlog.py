"""The logs of a run: ``log.csv`` rows and TensorBoard scalars, on any backend.

The TensorBoard event files are written here directly (TFRecord framing of ``Event`` protocol
buffers holding scalar summaries), so they need neither TensorFlow nor the tensorboard package:
a JAX run without TensorFlow logs the same scalars as a TensorFlow run.

A resumed run first drops the rows after the checkpoint it resumed from (``truncate``), so
``log.csv`` holds every logged step exactly once.
"""

from __future__ import annotations

import csv
import io
import math
import os
import socket
import struct
import time
from pathlib import Path

from convsuite.common.checkpoint import atomic_write_text


class CsvLog:
    """``log.csv``: one row per call, columns from the first row (widened when new keys appear)."""

    def __init__(self, path: str | Path, key: str):
        self.path, self.key = Path(path), key

    def rows(self) -> list[dict]:
        if not self.path.exists():
            return []
        with open(self.path, newline="") as handle:
            return [row for row in csv.DictReader(handle) if row.get(self.key) not in (None, "")]

    def truncate(self, before: float) -> None:
        """Keep only rows whose ``key`` column is below ``before`` (those a resumed run repeats go);
        a log keyed otherwise is left alone."""
        header = self._header()
        if header is not None and self.key not in header:
            return
        rows = self.rows()
        kept = [row for row in rows if _number(row.get(self.key)) < before]
        if len(kept) != len(rows) or (self.path.exists() and not rows):
            self._rewrite(kept, self._columns(kept))

    def append(self, values: dict) -> None:
        row = {self.key: values[self.key], **{k: v for k, v in values.items() if k != self.key}}
        header = self._header()
        if header is None or any(key not in header for key in row):
            rows = self.rows()
            self._rewrite(rows + [row], self._columns(rows + [row]))
            return
        with open(self.path, "a", newline="") as handle:
            csv.DictWriter(handle, header).writerow({k: _cell(v) for k, v in row.items()})

    def _header(self) -> list[str] | None:
        if not self.path.exists():
            return None
        with open(self.path, newline="") as handle:
            return next(csv.reader(handle), None)

    def _columns(self, rows: list[dict]) -> list[str]:
        columns = [self.key]
        for row in rows:
            columns += [key for key in row if key not in columns]
        return columns

    def _rewrite(self, rows: list[dict], columns: list[str]) -> None:
        text = io.StringIO()
        writer = csv.DictWriter(text, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
        atomic_write_text(self.path, text.getvalue())


def _cell(value):
    return repr(value) if isinstance(value, float) else value


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.inf


# --------------------------------------------------------------------------- TensorBoard without TensorFlow

def _crc32c_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _field(number, 2) + _varint(len(payload)) + payload


def _event(step: int, *, scalars: dict | None = None, file_version: str | None = None) -> bytes:
    """An ``Event`` message: wall_time (1), step (2), file_version (3) or summary (5)."""
    body = _field(1, 1) + struct.pack("<d", time.time()) + _field(2, 0) + _varint(int(step))
    if file_version is not None:
        body += _length_delimited(3, file_version.encode())
    if scalars:
        values = b"".join(
            _length_delimited(1, _length_delimited(1, tag.encode()) + _field(2, 5) + struct.pack("<f", float(value)))
            for tag, value in scalars.items())
        body += _length_delimited(5, values)
    return body


class EventFile:
    """One TensorBoard event file in ``directory`` (a new file per process, as TensorBoard expects)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.convsuite"
        fd = os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
        self._handle = os.fdopen(fd, "ab")
        self._record(_event(0, file_version="brain.Event:2"))

    def scalars(self, step: int, values: dict) -> None:
        finite = {tag: float(v) for tag, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if finite:
            self._record(_event(step, scalars=finite))

    def _record(self, data: bytes) -> None:
        length = struct.pack("<Q", len(data))
        self._handle.write(length + struct.pack("<I", _masked_crc(length)) + data + struct.pack("<I", _masked_crc(data)))
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


class ScalarLog:
    """A run's scalars to ``log.csv`` (keyed by ``key``: ``epoch`` or ``step``) and TensorBoard.

    With ``validation_run`` the ``val_*`` scalars go to ``tensorboard/validation`` (prefix dropped)
    and the others to ``tensorboard/train``, so TensorBoard overlays training and validation
    curves, as Keras's own callback lays them out; ``tag_prefix`` is put before every tag."""

    def __init__(self, run_dir: str | Path, key: str = "step", *, tensorboard: bool = True,
                 validation_run: bool = False, tag_prefix: str = ""):
        self.run_dir = Path(run_dir)
        self.csv = CsvLog(self.run_dir / "log.csv", key)
        self.key, self.validation_run, self.tag_prefix = key, validation_run, tag_prefix
        self.tensorboard = tensorboard
        self._events: dict[str, EventFile] = {}

    def truncate(self, before: float) -> None:
        self.csv.truncate(before)

    def write(self, values: dict, step: int | None = None) -> None:
        """One row (``values`` must hold ``key``) and its scalars at ``step`` (default: the key's value)."""
        self.csv.append(values)
        if not self.tensorboard:
            return
        step = int(values[self.key] if step is None else step)
        groups: dict[str, dict] = {}
        for tag, value in values.items():
            if tag == self.key:
                continue
            run = ""
            if self.validation_run:
                run, tag = ("validation", tag[4:]) if tag.startswith("val_") else ("train", tag)
            groups.setdefault(run, {})[self.tag_prefix + tag] = value
        for run, scalars in groups.items():
            if run not in self._events:
                self._events[run] = EventFile(self.run_dir / "tensorboard" / run)
            self._events[run].scalars(step, scalars)

    def close(self) -> None:
        for events in self._events.values():
            events.close()
        self._events.clear()
