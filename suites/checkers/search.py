"""Alpha-beta search with a static evaluator at the leaves, as Blondie24 played.

Chellapilla & Fogel (IEEE TEC 2001) searched 4 plies with the evolved network at the leaves
and extended the search through forced captures. This search is a negamax alpha-beta with:

- batched leaves: at the last ply a node generates all its children and evaluates the quiet
  ones in one call of the evaluator (one matrix product for a network), not one call per leaf;
- a quiescence extension: a child where the side to move must capture is searched on instead
  of evaluated, so exchanges are never cut in half (bounded by ``max_extension`` plies);
- iterative deepening and a transposition table keyed by the position (its bitboards and the
  side to move), whose best move is searched first at the next depth and on transpositions;
- wins scored beyond any evaluation, sooner wins higher, so a won game is actually won.

An evaluator is any object with ``evaluate(black, white, kings, perspective) -> values`` over
sequences of bitboards, each value in [-1, 1] from ``perspective``'s side (``network.py``).
Imports NumPy and the board only: co-evolution workers run it without Keras.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convsuite.suites.checkers.board import _KING_JUMPS, _KING_STEPS, _MAN_JUMPS, _MAN_STEPS, ALL_SQUARES, BLACK, \
    Move, Position, _bits, apply_move, generate_moves

WIN = 100.0  # a won position; sooner wins score higher (WIN - plies)
_WON = WIN / 2  # scores above this are wins
_EXACT, _LOWER, _UPPER = 0, 1, 2


def position_status(black: int, white: int, kings: int, turn: int) -> int:
    """0: the side to move has a quiet move and no capture; 1: it must capture; 2: it has no move."""
    own, opponent = (black, white) if turn == BLACK else (white, black)
    empty = ALL_SQUARES ^ (black | white)
    man_jumps, man_steps = _MAN_JUMPS[turn], _MAN_STEPS[turn]
    can_step = False
    for index in _bits(own):
        king = kings >> index & 1
        for over, land in (_KING_JUMPS[index] if king else man_jumps[index]):
            if opponent >> over & 1 and empty >> land & 1:
                return 1
        if not can_step:
            for to in (_KING_STEPS[index] if king else man_steps[index]):
                if empty >> to & 1:
                    can_step = True
                    break
    return 0 if can_step else 2


@dataclass
class SearchResult:
    """The chosen move, its score for the side to move, and what the search cost."""

    move: Move | None
    score: float
    depth: int
    nodes: int  # positions whose moves were generated
    evaluations: int  # leaves given to the evaluator
    batches: int  # evaluator calls

    @property
    def is_win(self) -> bool:
        return self.score > _WON

    @property
    def is_loss(self) -> bool:
        return self.score < -_WON


class AlphaBetaSearch:
    """Depth-limited negamax alpha-beta over a static evaluator.

    Args:
        evaluator: ``evaluate(black, white, kings, perspective)`` over sequences (see the module doc).
        depth: plies to search (the paper: 4).
        extend_captures: search on through positions where the side to move must capture.
        max_extension: at most this many plies beyond ``depth`` through captures.
        table_size: transposition-table entries kept (cleared when full).
        rng: a ``numpy.random.Generator`` to shuffle the root moves, so equal scores are
            broken at random (None: generation order, fully deterministic).
    """

    def __init__(self, evaluator, depth: int = 4, extend_captures: bool = True, max_extension: int = 10,
                 table_size: int = 200_000, rng: np.random.Generator | None = None):
        if depth < 1:
            raise ValueError(f"search depth must be >= 1, got {depth}")
        self.evaluator = evaluator
        self.depth = int(depth)
        self.extend_captures = extend_captures
        self.max_extension = int(max_extension)
        self.table_size = int(table_size)
        self.rng = rng
        self.table: dict = {}
        self.nodes = self.evaluations = self.batches = 0

    def search(self, position: Position, depth: int | None = None) -> SearchResult:
        """The best move for the side to move (None when it has none), by iterative deepening."""
        depth = self.depth if depth is None else int(depth)
        self.nodes = self.evaluations = self.batches = 0
        if len(self.table) > self.table_size:
            self.table.clear()
        moves = position.legal_moves()
        if not moves:
            return SearchResult(None, -WIN, depth, 1, 0, 0)
        if self.rng is not None and len(moves) > 1:
            moves = [moves[i] for i in self.rng.permutation(len(moves))]
        if len(moves) == 1:  # forced: no need to look (the paper's players moved at once too)
            return SearchResult(moves[0], 0.0, 0, 1, 0, 0)
        best_move, best = moves[0], -np.inf
        b, w, k, turn = position.key
        for current in range(1, depth + 1):
            best, best_move = -np.inf, None
            alpha, beta = -np.inf, np.inf
            children = [apply_move(b, w, k, turn, move) for move in moves]
            if current == 1:
                scores = self._frontier_scores(children, turn, ply=1, alpha=alpha, beta=beta)
                for move, score in zip(moves, scores):
                    if score > best:
                        best, best_move = score, move
            else:
                for move, child in zip(moves, children):
                    score = -self._negamax(*child, current - 1, -beta, -alpha, 1)
                    if score > best:
                        best, best_move = score, move
                    alpha = max(alpha, score)
            # search the best move first at the next depth
            moves.remove(best_move)
            moves.insert(0, best_move)
            if best > _WON:
                break  # a forced win: deeper search cannot find better
        self.nodes += 1
        return SearchResult(best_move, float(best), current, self.nodes, self.evaluations, self.batches)

    # ------------------------------------------------------------------ internals

    def _evaluate(self, positions: list[tuple], perspective: int) -> np.ndarray:
        self.evaluations += len(positions)
        self.batches += 1
        black = [p[0] for p in positions]
        white = [p[1] for p in positions]
        kings = [p[2] for p in positions]
        return np.asarray(self.evaluator.evaluate(black, white, kings, perspective), dtype=np.float64)

    def _frontier_scores(self, children: list[tuple], turn: int, ply: int, alpha: float, beta: float) -> list[float]:
        """Scores (for ``turn``, who just moved) of the positions one ply below a frontier node:
        quiet ones from one evaluator call, forced captures searched on, lost ones as wins."""
        scores = [0.0] * len(children)
        quiet, forced = [], []
        extend = self.extend_captures and ply < self.depth + self.max_extension
        for i, child in enumerate(children):
            status = position_status(*child)
            if status == 2:
                scores[i] = WIN - ply  # the opponent cannot move: we win
            elif status == 1 and extend:
                forced.append(i)
            else:
                quiet.append(i)
        if quiet:
            values = self._evaluate([children[i] for i in quiet], turn)
            for i, value in zip(quiet, values.tolist()):
                scores[i] = value
        for i in forced:
            scores[i] = -self._negamax(*children[i], 1, -beta, -alpha, ply)
        return scores

    def _negamax(self, black: int, white: int, kings: int, turn: int, depth: int, alpha: float, beta: float,
                 ply: int) -> float:
        """The value of the position for the side to move, ``depth`` plies deep, within (alpha, beta)."""
        self.nodes += 1
        key = (black, white, kings, turn)
        entry = self.table.get(key)
        first = None
        if entry is not None:
            stored_depth, flag, stored, first = entry
            if stored_depth >= depth:
                score = stored - ply if stored > _WON else (stored + ply if stored < -_WON else stored)
                if flag == _EXACT or (flag == _LOWER and score >= beta) or (flag == _UPPER and score <= alpha):
                    return score
        moves = generate_moves(black, white, kings, turn)
        if not moves:
            return -(WIN - ply)
        if first is not None and 0 < first < len(moves):
            moves[0], moves[first] = moves[first], moves[0]
            index_of = list(range(len(moves)))
            index_of[0], index_of[first] = first, 0
        else:
            index_of = None
        alpha_in = alpha
        children = [apply_move(black, white, kings, turn, move) for move in moves]
        best, best_index = -np.inf, 0
        if depth <= 1:
            scores = self._frontier_scores(children, turn, ply + 1, alpha, beta)
            for i, score in enumerate(scores):
                if score > best:
                    best, best_index = score, i
        else:
            for i, child in enumerate(children):
                score = -self._negamax(*child, depth - 1, -beta, -alpha, ply + 1)
                if score > best:
                    best, best_index = score, i
                    if score > alpha:
                        alpha = score
                        if alpha >= beta:
                            break
        flag = _UPPER if best <= alpha_in else (_LOWER if best >= beta else _EXACT)
        stored = best + ply if best > _WON else (best - ply if best < -_WON else best)
        original_index = index_of[best_index] if index_of is not None else best_index
        self.table[key] = (depth, flag, stored, original_index)
        return best
