"""The run directory's record of the best network of every generation: ``RUN/champions.npz``.

Matches, the Elo ladder and ``convsuite checkers play`` read a generation's champion from here
without Keras and without the evolution's checkpoints. The file holds three arrays:
``generation`` (n,) int64, ``weights`` (n, 5046) float64 (the flat layout of ``network.py``)
and ``king_value`` (n,) float64. It is rewritten whole and atomically after each generation.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from convsuite.common.checkpoint import atomic_write_bytes
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers.network import WEIGHT_COUNT

CHAMPIONS_FILE = "champions.npz"


def champions_path(run_dir) -> Path:
    return Path(run_dir) / CHAMPIONS_FILE


def write_champions(run_dir, generations, weights, king_values) -> Path:
    """Write (replace) ``RUN/champions.npz`` whole or not at all: a temporary file in the same
    folder, then a rename, so a reader or a kill never sees half a file."""
    generation = np.asarray(generations, dtype=np.int64).reshape(-1)
    weights = np.asarray(weights, dtype=np.float64)
    king_value = np.asarray(king_values, dtype=np.float64).reshape(-1)
    n = len(generation)
    if weights.shape != (n, WEIGHT_COUNT) or king_value.shape != (n,):
        raise ConvsuiteError(f"champions need one weight vector ({WEIGHT_COUNT} values) and one king value per "
                             f"generation: got {n} generations, weights {weights.shape}, king values "
                             f"{king_value.shape}")
    if n and np.any(np.diff(generation) <= 0):
        raise ConvsuiteError(f"champion generations must be increasing, got {generation.tolist()}")
    buffer = io.BytesIO()
    np.savez(buffer, generation=generation, weights=weights, king_value=king_value)
    path = champions_path(run_dir)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def _read(run_dir) -> dict[str, np.ndarray]:
    run = Path(run_dir)
    path = champions_path(run)
    if not run.is_dir():
        raise ConvsuiteError(f"run directory {str(run)!r} does not exist; give a run directory written by "
                             "`convsuite train checkers`")
    if not path.is_file():
        raise ConvsuiteError(f"{str(run)!r} has no {CHAMPIONS_FILE}; give a run directory written by "
                             "`convsuite train checkers` (it records each generation's best network there)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: np.array(data[key]) for key in ("generation", "weights", "king_value")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise ConvsuiteError(f"{str(path)!r} is corrupt or truncated ({type(error).__name__}: {error}); rerun or "
                             "resume `convsuite train checkers` on that run directory to rewrite it") from None
    n = len(arrays["generation"])
    if (arrays["generation"].ndim != 1 or arrays["weights"].shape != (n, WEIGHT_COUNT)
            or arrays["king_value"].shape != (n,) or n == 0):
        raise ConvsuiteError(f"{str(path)!r} does not hold champions (generation {arrays['generation'].shape}, "
                             f"weights {arrays['weights'].shape}, king_value {arrays['king_value'].shape}); "
                             "rerun or resume `convsuite train checkers` on that run directory to rewrite it")
    return arrays


def load_champions(run_dir) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(generations (n,), weights (n, 5046), king values (n,)) of every recorded champion."""
    arrays = _read(run_dir)
    return arrays["generation"], arrays["weights"], arrays["king_value"]


def champion_generations(run_dir) -> list[int]:
    """The generations that have a recorded champion, in order."""
    return [int(g) for g in _read(run_dir)["generation"]]


def load_champion(run_dir, generation: int | None = None) -> tuple[np.ndarray, float, int]:
    """(flat weights, king value, generation) of one generation's champion (None: the last one)."""
    arrays = _read(run_dir)
    generations = arrays["generation"]
    if generation is None:
        index = len(generations) - 1
    else:
        found = np.nonzero(generations == int(generation))[0]
        if not len(found):
            raise ConvsuiteError(f"{str(run_dir)!r} has no champion of generation {generation}; it has generations "
                                 f"{int(generations[0])}-{int(generations[-1])} ({len(generations)} recorded)")
        index = int(found[0])
    return arrays["weights"][index].copy(), float(arrays["king_value"][index]), int(generations[index])
