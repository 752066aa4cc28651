"""The Blondie24 evaluation network in numpy, for the search and the evolution workers.

Chellapilla & Fogel, "Evolving an expert checkers playing program without using human
expertise", IEEE Transactions on Evolutionary Computation 5(4), 2001: the 32 playable squares
feed 91 "spatial preprocessing" nodes, one per k x k sub-square of the board (k = 3..8),
then fully connected layers of 40 and 10 tanh nodes and one tanh output. The piece
difference (sum of the inputs) goes straight to the output node. Kings are input as +-K,
where K is evolved alongside the weights (initial 2.0, kept in [1, 3]).

This module imports numpy only: the Keras model of ``models.py`` stores the same weights,
and ``models.flat_weights`` hands them here in the flat layout below.
"""

from __future__ import annotations

import numpy as np

SUBBOARD_SIZES = (3, 4, 5, 6, 7, 8)
NUM_SQUARES = 32
NUM_SUBBOARDS = sum((9 - k) ** 2 for k in SUBBOARD_SIZES)  # 91
HIDDEN_SIZES = (40, 10)


def square_coordinates() -> tuple[np.ndarray, np.ndarray]:
    """(row, column) on the 8x8 board of squares 1..32 (index 0..31): row 0 holds squares 1-4,
    Black's back rank; square 1 is row 0, column 1."""
    index = np.arange(NUM_SQUARES)
    rows = index // 4
    cols = 2 * (index % 4) + (rows % 2 == 0)
    return rows, cols


def subboard_masks() -> np.ndarray:
    """Bool (32, 91): column j is one k x k sub-square (k ascending, placements row-major),
    True on the squares it covers."""
    rows, cols = square_coordinates()
    columns = []
    for k in SUBBOARD_SIZES:
        for top in range(9 - k):
            for left in range(9 - k):
                columns.append((rows >= top) & (rows < top + k) & (cols >= left) & (cols < left + k))
    return np.stack(columns, axis=1)


_MASK = subboard_masks()
_MASK.flags.writeable = False
SUBBOARD_WEIGHT_COUNT = int(_MASK.sum())  # 854

#: The paper's 5046 weights: 854 sub-board weights + 91 biases + 91*40+40 + 40*10+10 + 10+1.
#: The piece-difference link to the output has a fixed weight of 1 and is not counted (the
#: paper's 5046 leaves it unweighted too); the king value K is a separate evolvable scale.
WEIGHT_COUNT = (SUBBOARD_WEIGHT_COUNT + NUM_SUBBOARDS + NUM_SUBBOARDS * 40 + 40 + 40 * 10 + 10 + 10 + 1)

#: The flat layout, in order: name and shape of each part.
FLAT_LAYOUT = (
    ("subboard_kernel", (SUBBOARD_WEIGHT_COUNT,)),  # in np.nonzero(subboard_masks()) order
    ("subboard_bias", (NUM_SUBBOARDS,)),
    ("dense1_kernel", (NUM_SUBBOARDS, HIDDEN_SIZES[0])),
    ("dense1_bias", (HIDDEN_SIZES[0],)),
    ("dense2_kernel", HIDDEN_SIZES),
    ("dense2_bias", (HIDDEN_SIZES[1],)),
    ("output_kernel", (HIDDEN_SIZES[1],)),
    ("output_bias", (1,)),
)
assert sum(int(np.prod(shape)) for _, shape in FLAT_LAYOUT) == WEIGHT_COUNT == 5046

INITIAL_RANGE = 0.2
INITIAL_KING_VALUE = 2.0
KING_VALUE_RANGE = (1.0, 3.0)


def split_flat(flat) -> dict[str, np.ndarray]:
    """The parts of one flat weight vector (views into it), keyed as in ``FLAT_LAYOUT``."""
    flat = np.asarray(flat, dtype=np.float64)
    if flat.shape != (WEIGHT_COUNT,):
        raise ValueError(f"a Blondie24 weight vector has shape ({WEIGHT_COUNT},), got {flat.shape}")
    parts, start = {}, 0
    for name, shape in FLAT_LAYOUT:
        size = int(np.prod(shape))
        parts[name] = flat[start:start + size].reshape(shape)
        start += size
    return parts


def join_flat(parts: dict) -> np.ndarray:
    """The flat float64 vector of ``parts`` (the inverse of ``split_flat``)."""
    pieces = []
    for name, shape in FLAT_LAYOUT:
        part = np.asarray(parts[name], dtype=np.float64)
        if part.size != int(np.prod(shape)):
            raise ValueError(f"{name} must have {int(np.prod(shape))} values (shape {shape}), got shape {part.shape}")
        pieces.append(part.reshape(-1))
    return np.concatenate(pieces)


def random_weights(rng: np.random.Generator, n: int | None = None) -> np.ndarray:
    """Weights uniform in [-0.2, 0.2], the paper's initialisation: (WEIGHT_COUNT,) or (n, WEIGHT_COUNT)."""
    shape = (WEIGHT_COUNT,) if n is None else (int(n), WEIGHT_COUNT)
    return rng.uniform(-INITIAL_RANGE, INITIAL_RANGE, size=shape)


def _bits(boards, n: int | None = None) -> np.ndarray:
    """(n, 32) uint8 bits of bitboards (Python ints or integer arrays); column i is square i+1."""
    boards = np.atleast_1d(np.asarray(boards))
    if boards.dtype == object or boards.dtype.kind not in "iu":
        boards = np.array([int(b) for b in boards.reshape(-1)], dtype=np.uint64)
    words = boards.reshape(-1).astype("<u4", copy=False)
    if n is not None and len(words) != n:
        raise ValueError(f"black, white and kings must hold the same number of boards, got {len(words)} and {n}")
    return np.unpackbits(words.view(np.uint8).reshape(-1, 4), axis=1, bitorder="little")


def board_codes(black, white, kings, perspective) -> np.ndarray:
    """Int8 (n, 32) network inputs: +1 own man, +2 own king, -1 opponent man, -2 opponent king, 0 empty.

    Oriented so the evaluating side always looks like Black moving toward higher squares: for
    ``perspective`` 1 (White) code[i] is White's view of square 32-i. ``perspective`` is 0 or 1
    for the whole batch, or one per board."""
    black_bits = _bits(black)
    n = len(black_bits)
    white_bits, king_bits = _bits(white, n), _bits(kings, n)
    codes = (black_bits.view(np.int8) - white_bits.view(np.int8)) * (king_bits.view(np.int8) + 1)
    perspective = np.asarray(perspective)
    if perspective.ndim == 0:
        return -codes[:, ::-1] if int(perspective) == 1 else codes
    if perspective.shape != (n,):
        raise ValueError(f"perspective must be 0, 1 or one per board ({n}), got shape {perspective.shape}")
    return np.where(perspective[:, None] == 1, -codes[:, ::-1], codes).astype(np.int8, copy=False)


class NetworkEvaluator:
    """The Blondie24 network of one flat weight vector and king value, in float64 numpy.

    Values are in [-1, 1] for the side ``perspective`` (positive: good for it)."""

    def __init__(self, flat, king_value: float = INITIAL_KING_VALUE):
        parts = split_flat(flat)
        self.king_value = float(king_value)
        subboard_kernel = np.zeros((NUM_SQUARES, NUM_SUBBOARDS))
        subboard_kernel[_MASK] = parts["subboard_kernel"]
        self.subboard_kernel = subboard_kernel
        self.subboard_bias = parts["subboard_bias"].copy()
        self.dense1_kernel = np.ascontiguousarray(parts["dense1_kernel"])
        self.dense1_bias = parts["dense1_bias"].copy()
        self.dense2_kernel = np.ascontiguousarray(parts["dense2_kernel"])
        self.dense2_bias = parts["dense2_bias"].copy()
        self.output_kernel = parts["output_kernel"].copy()
        self.output_bias = float(parts["output_bias"][0])
        # Input value of each code (-2..2 at index 0..4): kings count K.
        self._code_values = np.array([-self.king_value, -1.0, 0.0, 1.0, self.king_value])

    def evaluate_codes(self, codes) -> np.ndarray:
        """(n,) float64 values of int8 codes (n, 32) from ``board_codes``."""
        x = self._code_values.take(np.asarray(codes) + 2)
        hidden = np.tanh(x @ self.subboard_kernel + self.subboard_bias)
        hidden = np.tanh(hidden @ self.dense1_kernel + self.dense1_bias)
        hidden = np.tanh(hidden @ self.dense2_kernel + self.dense2_bias)
        return np.tanh(hidden @ self.output_kernel + (self.output_bias + x.sum(axis=1)))

    def evaluate(self, black, white, kings, perspective) -> np.ndarray:
        """(n,) values of bitboard positions for ``perspective`` (0 Black, 1 White)."""
        return self.evaluate_codes(board_codes(black, white, kings, perspective))


class PieceCountEvaluator:
    """A material-only evaluation (men 1, kings ``king_value``, own minus opponent's), the
    baseline the evolved networks are measured against, squashed into (-1, 1) by
    tanh(difference / 4), which keeps the order of material."""

    def __init__(self, king_value: float = 1.5):
        self.king_value = float(king_value)
        self._code_values = np.array([-self.king_value, -1.0, 0.0, 1.0, self.king_value])

    def evaluate_codes(self, codes) -> np.ndarray:
        difference = self._code_values.take(np.asarray(codes) + 2).sum(axis=1)
        return np.tanh(difference / 4.0)

    def evaluate(self, black, white, kings, perspective) -> np.ndarray:
        """(n,) values of bitboard positions for ``perspective`` (0 Black, 1 White)."""
        return self.evaluate_codes(board_codes(black, white, kings, perspective))
