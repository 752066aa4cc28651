"""The one writer of a run's ``metrics.json``.

Every run kind (the supervised trainer, an ensemble of runs, a sweep over datasets) writes its
final metrics through ``write_metrics`` and returns what it gives back, so the file and what
``convsuite ... --json`` prints are the same values: both are the JSON form of one dict.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from convsuite.common.checkpoint import atomic_write_text
from convsuite.common.errors import ConvsuiteError

METRICS_FILE = "metrics.json"


def _plain(value):
    """JSON-ready values: numpy scalars and arrays, tuples and paths become plain Python."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN / inf are not JSON; null says "no number"
    return value


def write_metrics(run_dir: str | Path, metrics: dict) -> dict:
    """Write ``run_dir/metrics.json`` atomically; return the metrics exactly as written."""
    plain = _plain(metrics)
    text = json.dumps(plain, indent=1, allow_nan=False)
    atomic_write_text(Path(run_dir) / METRICS_FILE, text)
    return json.loads(text)


def read_metrics(run_dir: str | Path) -> dict:
    """The metrics a finished run wrote."""
    path = Path(run_dir) / METRICS_FILE
    if not path.exists():
        raise ConvsuiteError(f"{run_dir} has no {METRICS_FILE}; the run has not finished (or it is not a run directory)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ConvsuiteError(f"{path} is not valid JSON ({error}); re-run `convsuite evaluate` or the training") from None
