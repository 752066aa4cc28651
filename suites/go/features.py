"""Input planes for Go networks, and the eight board symmetries.

A position becomes a stack of binary (size, size) planes as seen by the player to move
("own" / "opponent" rather than black / white), as both Clark & Storkey (2014) and
Maddison et al. (2015) encode it. Planes are uint8 and stay uint8 until the model casts
them: they are one-hot, so they also pack 8 to a byte on disk (``pack_planes``).

Feature sets (``FEATURE_SETS``):
  clark-storkey  Clark & Storkey 2014, "Teaching Deep Convolutional Neural Networks to Play
                 Go" (arXiv:1412.3409): own / opponent stones split by the liberties of their
                 group (1, 2, 3+), the simple-ko point; plus a plane of ones, so that the
                 convolutions' zero padding tells the net where the edge is (our reading of
                 the paper's edge encoding).
  maddison       Maddison, Huang, Sutskever & Silver 2015, "Move Evaluation in Go Using Deep
                 Convolutional Neural Networks" (ICLR), Table 1: stone colour (3), liberties
                 (1..4+), liberties after the move (1..6+), legality, turns since a stone was
                 played (1..5+), capture size (0..6+), plus the ones plane. Deviation: the
                 ladder plane and the 9 KGS rank planes are left out (no ladder reader; rank
                 is missing from most collections).
  alphago-value  the maddison planes plus a "player to move is black" plane, as the AlphaGo
                 value network adds (Silver et al. 2016, Extended Data Table 2), so the net
                 can learn who the komi favours.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go.board import BLACK, EMPTY, Board

PLANE_GROUPS = {
    "ones": ["ones"],
    "stones": ["own", "opponent", "empty"],
    "cs_liberties": ["own_lib1", "own_lib2", "own_lib3+", "opp_lib1", "opp_lib2", "opp_lib3+"],
    "ko": ["ko"],
    "liberties": ["lib1", "lib2", "lib3", "lib4+"],
    "liberties_after": [f"lib_after{i}" for i in range(1, 6)] + ["lib_after6+"],
    "legal": ["legal"],
    "turns_since": [f"turns_since{i}" for i in range(1, 5)] + ["turns_since5+"],
    "capture_size": [f"captures{i}" for i in range(6)] + ["captures6+"],
    "black_to_play": ["black_to_play"],
}

FEATURE_SETS = {
    "clark-storkey": ["cs_liberties", "ko", "ones"],
    "maddison": ["stones", "ones", "liberties", "liberties_after", "legal", "turns_since", "capture_size"],
    "alphago-value": ["stones", "ones", "liberties", "liberties_after", "legal", "turns_since", "capture_size",
                      "black_to_play"],
}


def plane_names(feature_set: str) -> list[str]:
    if feature_set not in FEATURE_SETS:
        raise ConvsuiteError(f"unknown Go feature set {feature_set!r}; choose one of {', '.join(FEATURE_SETS)}")
    return [name for group in FEATURE_SETS[feature_set] for name in PLANE_GROUPS[group]]


def num_planes(feature_set: str) -> int:
    return len(plane_names(feature_set))


def _bucket(values: np.ndarray, first: int, count: int, mask: np.ndarray) -> np.ndarray:
    """One-hot of ``values`` into ``count`` planes for first, first+1, ..., the last open-ended."""
    clipped = np.clip(values, first, first + count - 1) - first
    planes = np.zeros((count, values.size), np.uint8)
    index = np.flatnonzero(mask)
    planes[clipped[index], index] = 1
    return planes


def board_planes(board: Board, feature_set: str = "maddison") -> np.ndarray:
    """The (size, size, planes) uint8 features of ``board`` for the player to move."""
    groups = FEATURE_SETS.get(feature_set)
    if groups is None:
        plane_names(feature_set)  # raises the one-sentence error
    n = board.num_points
    me = board.to_play
    stones = board.stones
    own, opponent, empty = stones == me, stones == -me, stones == EMPTY
    liberties = board.liberty_counts() if {"cs_liberties", "liberties"} & set(groups) else None
    legal = board.legal_moves() if {"legal", "liberties_after", "capture_size"} & set(groups) else None
    effects = board.move_effects() if {"liberties_after", "capture_size"} & set(groups) else None
    out = []
    for group in groups:
        if group == "ones":
            out.append(np.ones((1, n), np.uint8))
        elif group == "stones":
            out.append(np.stack([own, opponent, empty]).astype(np.uint8))
        elif group == "cs_liberties":
            out.append(_bucket(liberties, 1, 3, own))
            out.append(_bucket(liberties, 1, 3, opponent))
        elif group == "ko":
            plane = np.zeros((1, n), np.uint8)
            if board.ko_point >= 0:
                plane[0, board.ko_point] = 1
            out.append(plane)
        elif group == "liberties":
            out.append(_bucket(liberties, 1, 4, ~empty))
        elif group == "liberties_after":
            out.append(_bucket(effects[1], 1, 6, legal))
        elif group == "legal":
            out.append(legal.astype(np.uint8)[None])
        elif group == "turns_since":
            age = board.move_number - board.stone_age
            out.append(_bucket(age, 1, 5, ~empty))
        elif group == "capture_size":
            out.append(_bucket(effects[0], 0, 7, legal))
        elif group == "black_to_play":
            out.append(np.full((1, n), int(me == BLACK), np.uint8))
    planes = np.concatenate(out, axis=0)
    return np.ascontiguousarray(planes.T.reshape(board.size, board.size, -1))


# --------------------------------------------------------------------------- symmetries


@lru_cache(maxsize=None)
def symmetry_permutations(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(forward, inverse), each (8, size*size) int32: the dihedral group of the board.

    Symmetry k maps a flat plane p to ``p[forward[k]]`` and a move index m to
    ``inverse[k][m]``; symmetry 0 is the identity. Index arrays (rather than rot90/flip)
    let a batch apply a different symmetry per example with one gather.
    """
    grid = np.arange(size * size).reshape(size, size)
    forward = []
    for k in range(8):
        g = np.rot90(grid, k % 4)
        if k >= 4:
            g = g.T
        forward.append(g.reshape(-1))
    forward = np.stack(forward).astype(np.int32)
    inverse = np.argsort(forward, axis=1).astype(np.int32)
    return forward, inverse


def transform_planes(planes: np.ndarray, k: int) -> np.ndarray:
    """Apply symmetry k to (..., size, size, C) planes."""
    size = planes.shape[-2]
    forward, _ = symmetry_permutations(size)
    flat = planes.reshape(*planes.shape[:-3], size * size, planes.shape[-1])
    return flat[..., forward[k], :].reshape(planes.shape)


def transform_move(move: int, k: int, size: int) -> int:
    """Where ``move`` lands under symmetry k (a pass stays a pass)."""
    if move < 0:
        return move
    return int(symmetry_permutations(size)[1][k][move])


def augment_batch(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random symmetry per example of a (B, S, S, C) batch and its move labels (B,)."""
    size = x.shape[1]
    forward, inverse = symmetry_permutations(size)
    ks = rng.integers(0, 8, len(x))
    flat = x.reshape(len(x), size * size, -1)
    out = np.take_along_axis(flat, forward[ks][:, :, None], axis=1).reshape(x.shape)
    return out, inverse[ks, y]


# --------------------------------------------------------------------------- storage


def pack_planes(planes: np.ndarray) -> np.ndarray:
    """(N, S, S, C) binary uint8 -> (N, ceil(S*S*C/8)) bytes; planes are one-hot, so 8x smaller."""
    return np.packbits(planes.reshape(len(planes), -1), axis=1)


def packed_width(size: int, channels: int) -> int:
    """Bytes per position once packed: the models' input width."""
    return (size * size * channels + 7) // 8


def model_inputs(planes: np.ndarray) -> np.ndarray:
    """What the Go models take for (N, S, S, C) uint8 planes: the planes bit-packed (the model unpacks them)."""
    return pack_planes(np.asarray(planes, np.uint8))


def unpack_planes(packed: np.ndarray, size: int, channels: int) -> np.ndarray:
    flat = np.unpackbits(packed, axis=1, count=size * size * channels)
    return flat.reshape(len(packed), size, size, channels)
