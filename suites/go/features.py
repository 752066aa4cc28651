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

from dataclasses import dataclass
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


# Stones connect along lines, never diagonally, and never across positions or colours: the
# positions of a batch are labelled in one call as layers (position, colour) of a 4-D image.
_CHAIN_STRUCTURE = np.zeros((3, 3, 3, 3), bool)
_CHAIN_STRUCTURE[1, 1] = [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.uint8)


@lru_cache(maxsize=None)
def _geometry(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(neighbours (n, 4), n standing for "off the board"; each point's packed one-bit mask
    (n, bytes); the packed mask of each point's neighbours (n, bytes))."""
    n = size * size
    rows, cols = np.divmod(np.arange(n), size)
    neighbours = np.full((n, 4), n, np.int32)
    for k, (dr, dc) in enumerate(((-1, 0), (1, 0), (0, -1), (0, 1))):
        r, c = rows + dr, cols + dc
        inside = (r >= 0) & (r < size) & (c >= 0) & (c < size)
        neighbours[inside, k] = (r * size + c)[inside]
    eye = np.eye(n + 1, n, dtype=bool)  # row n (off the board) is all zero
    return neighbours, np.packbits(eye[:n], axis=1), np.packbits(eye[neighbours].any(axis=1), axis=1)


@dataclass
class PositionBatch:
    """What the planes need of T positions on one board size, as arrays: the stones (T, n) in
    absolute colours, the colour to play (T,), the turns since each stone was played (T, n;
    any value where empty) and the point the simple-ko rule forbids to the player (T,; -1).

    ``from_boards`` takes boards (a search's leaves); ``data.game_positions`` fills a whole
    game's positions as it replays the game, so a game's planes are one vectorised computation."""

    size: int
    stones: np.ndarray
    to_play: np.ndarray
    ages: np.ndarray
    ko: np.ndarray

    @classmethod
    def from_boards(cls, boards: list[Board]) -> "PositionBatch":
        """The positions of boards of one size, each for its player to move."""
        if len({b.size for b in boards}) != 1:
            raise ConvsuiteError(f"a batch of positions needs one board size, got {sorted({b.size for b in boards})}")
        return cls(boards[0].size, np.stack([b.stones for b in boards]),
                   np.array([b.to_play for b in boards], np.int8),
                   np.stack([b.move_number - b.stone_age for b in boards]),
                   np.array([_ko_for_player(b) for b in boards], np.int32))


def _ko_for_player(board: Board) -> int:
    return board.ko_point if board.ko_point >= 0 and board._ko_color == board.to_play else -1


def _first_sightings(ids: np.ndarray) -> np.ndarray:
    """Mask of the entries along the last axis (4 neighbours) that are nonzero and not repeats."""
    first = ids > 0
    for k in range(1, ids.shape[-1]):
        first[..., k] &= (ids[..., :k] != ids[..., k:k + 1]).all(axis=-1)
    return first


def batch_planes(batch: PositionBatch, feature_set: str = "maddison",
                 allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(planes (T, size, size, C) uint8, legal move counts (T,)) of a batch of positions.

    Vectorised over the points and the positions: the chains of all T positions come from one
    connected-component labelling, and liberties, legality, capture sizes and liberties after
    each move from array operations over every point at once (``Board.liberty_counts``,
    ``legal_moves`` and ``move_effects`` give the same answers one point at a time; the tests
    hold the two to each other). ``allowed`` (T, n) narrows legality further (positional
    superko, which needs the game's history)."""
    from scipy import ndimage

    groups = FEATURE_SETS.get(feature_set)
    if groups is None:
        plane_names(feature_set)  # raises the one-sentence error
    size = batch.size
    neighbours, point_bits, neighbour_bits = _geometry(size)
    me = batch.to_play.astype(np.int8)[:, None]
    stones = batch.stones.astype(np.int8) * me  # +1 own, -1 the opponent's, 0 empty
    count, n = stones.shape
    empty, occupied = stones == EMPTY, stones != EMPTY
    labels, _ = ndimage.label(np.stack([stones == 1, stones == -1], axis=1).reshape(count, 2, size, size),
                              _CHAIN_STRUCTURE)
    ids = np.zeros((count, n + 1), np.int64)  # chain id per point (0: empty or off the board)
    ids[:, :n] = labels.sum(axis=1).reshape(count, n)
    own = np.zeros(int(ids.max()) + 1, bool)
    own[np.unique(labels[:, 0])] = True
    own[0] = False
    around = ids[:, neighbours]  # (T, n, 4) the chains next to each point
    first = _first_sightings(around) & empty[..., None]
    liberties = np.bincount(around[first], minlength=len(own))
    sizes = np.bincount(ids[:, :n].reshape(-1), minlength=len(own))
    point_liberties = liberties[ids[:, :n]]
    chain_liberties = liberties[around]
    mine, theirs = own[around], (around > 0) & ~own[around]
    takes = first & theirs & (chain_liberties == 1)
    captures = (sizes[around] * takes).sum(axis=2)
    stones_ext = np.concatenate([stones, np.full((count, 1), 2, np.int8)], axis=1)
    open_neighbour = (stones_ext[:, neighbours] == EMPTY).any(axis=2)
    legal = empty & (open_neighbour | (mine & (chain_liberties > 1)).any(axis=2) | takes.any(axis=2))
    ko_rows = np.flatnonzero(batch.ko >= 0)
    legal[ko_rows, batch.ko[ko_rows]] = False
    if allowed is not None:
        legal &= allowed

    out = np.zeros((count, n, num_planes(feature_set)), np.uint8)
    column = 0

    def bucket(values: np.ndarray, where: np.ndarray, first_value: int, width: int) -> None:
        t, p = np.nonzero(where)
        out[t, p, column + np.clip(values[t, p], first_value, first_value + width - 1) - first_value] = 1

    for group in groups:
        if group == "ones":
            out[:, :, column] = 1
        elif group == "stones":
            out[:, :, column] = stones == 1
            out[:, :, column + 1] = stones == -1
            out[:, :, column + 2] = empty
        elif group == "cs_liberties":
            bucket(point_liberties, stones == 1, 1, 3)
            column += 3
            bucket(point_liberties, stones == -1, 1, 3)
            column -= 3
        elif group == "ko":
            out[ko_rows, batch.ko[ko_rows], column] = 1
        elif group == "liberties":
            bucket(point_liberties, occupied, 1, 4)
        elif group == "liberties_after":
            after = _liberties_after(size, ids, own, liberties, around, first, empty, legal, captures)
            bucket(after, legal, 1, 6)
        elif group == "legal":
            out[:, :, column] = legal
        elif group == "turns_since":
            bucket(np.asarray(batch.ages), occupied, 1, 5)
        elif group == "capture_size":
            bucket(captures, legal, 0, 7)
        elif group == "black_to_play":
            out[:, :, column] = batch.to_play[:, None] == BLACK
        column += len(PLANE_GROUPS[group])
    return out.reshape(count, size, size, -1), legal.sum(axis=1)


def _popcount(packed: np.ndarray) -> np.ndarray:
    """Set bits per row of packed bytes."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2
        return np.bitwise_count(packed).sum(axis=-1, dtype=np.int32)
    return _POPCOUNT[packed].sum(axis=-1, dtype=np.int32)


def _liberties_after(size, ids, own, liberties, around, first, empty, legal, captures) -> np.ndarray:
    """Liberties of the chain a legal move would make (Maddison et al.'s "liberties after
    move"): the point's empty neighbours and its friendly chains' liberties, as packed bit masks
    OR-ed with the point itself cleared, plus the stones it captures that touch the new chain
    (few moves capture, so those are counted separately)."""
    neighbours, point_bits, neighbour_bits = _geometry(size)
    count, n = empty.shape
    friends = first & own[around]
    t, p, k = np.nonzero(first & own[around])  # the liberties of the chains that can be joined
    rows = np.unique(around[t, p, k])
    index = np.zeros(len(own), np.int64)
    index[rows] = np.arange(1, len(rows) + 1)  # 0: no chain (an all-zero mask)
    t, p, k = np.nonzero(first & (index[around] > 0))
    table = np.zeros((len(rows) + 1, n), bool)
    table[index[around[t, p, k]], p] = True
    chain_bits = np.packbits(table, axis=1)
    t, p = np.nonzero(legal)
    union = neighbour_bits[p] & np.packbits(empty, axis=1)[t]
    for k in range(4):
        union |= chain_bits[np.where(friends[t, p, k], index[around[t, p, k]], 0)]
    union &= ~point_bits[p]
    counts = np.zeros((count, n), np.int32)
    counts[t, p] = _popcount(union)
    t, p = np.nonzero(legal & (captures > 0))
    if len(t):
        chains = ids[t]  # (r, n + 1) chain ids of each capturing move's position
        near = around[t, p]
        taken_ids = np.where(first[t, p] & ~own[near] & (liberties[near] == 1), near, -1)
        grown = (chains[:, :, None] == np.where(friends[t, p], near, -1)[:, None, :]).any(axis=2)
        grown[np.arange(len(t)), p] = True
        grown[:, -1] = False
        touching = grown[:, neighbours].any(axis=2)
        taken = (chains[:, :-1, None] == taken_ids[:, None, :]).any(axis=2)
        counts[t, p] += np.count_nonzero(taken & touching, axis=1).astype(np.int32)
    return counts


def boards_planes(boards: list[Board], feature_set: str = "maddison") -> np.ndarray:
    """(B, size, size, planes) uint8 features of boards of one size, each for its player to
    move, in one vectorised computation (a search's batch of leaves); a board's superko rule
    narrows its legality planes."""
    allowed = None
    if any(b.superko for b in boards):
        allowed = np.stack([b.legal_moves(b.to_play) if b.superko else np.ones(b.num_points, bool) for b in boards])
    return batch_planes(PositionBatch.from_boards(boards), feature_set, allowed)[0]


def board_planes(board: Board, feature_set: str = "maddison") -> np.ndarray:
    """The (size, size, planes) uint8 features of ``board`` for the player to move."""
    return boards_planes([board], feature_set)[0]


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
