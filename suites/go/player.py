"""A trained policy network as a Go player (for GTP, matches and the notebook).

The net proposes; the rules dispose: only legal points that do not fill one's own eye are
candidates. With no search the player takes the most likely candidate (or samples at a
temperature); ``lookahead`` adds the optional one-ply check with a value net: the policy's
top candidates are played out one move and scored by log p(move) minus ``value_weight``
times the value net's estimate for the opponent (the value alone, with the 9x9 value net of
RESULTS.md, lost all 20 games that the policy alone won 6 of).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go.board import PASS, Board
from convsuite.suites.go.features import board_planes


class PolicyPlayer:
    """Plays the policy net's choice among legal, non-eye-filling moves; passes when none is left,
    or when the opponent has passed and the board's area count already favours it."""

    def __init__(self, policy, feature_set: str, name: str = "convsuite", temperature: float = 0.0, seed: int = 0,
                 value=None, value_feature_set: str = "alphago-value", lookahead: int = 0, value_weight: float = 2.0):
        from convsuite.suites.go.models import model_board_size

        self.policy = policy
        self.feature_set = feature_set
        self.name = name
        self.temperature = float(temperature)
        self.rng = np.random.default_rng(seed)
        self.board_size = model_board_size(policy)
        self.value = value
        self.value_feature_set = value_feature_set
        self.lookahead = int(lookahead) if value is not None else 0
        self.value_weight = float(value_weight)

    @classmethod
    def from_run(cls, run_dir: str | Path, which: str = "model", value_run: str | Path | None = None,
                 lookahead: int = 8, **kwargs) -> "PolicyPlayer":
        from convsuite.suites.go.train import load_run

        policy, experiment = load_run(run_dir, which)
        if experiment.model.name == "value":
            raise ConvsuiteError(f"{run_dir} holds a value net; give a policy run directory "
                                 "(model.name maddison or clark-storkey)")
        value, value_features = None, "alphago-value"
        if value_run:
            value, value_experiment = load_run(value_run, which)
            if value_experiment.model.name != "value":
                raise ConvsuiteError(f"{value_run} is not a value-net run (model.name={value_experiment.model.name})")
            value_features = value_experiment.data.feature_set
            if value_experiment.data.board_size != experiment.data.board_size:
                raise ConvsuiteError(f"the value net {value_run} plays {value_experiment.data.board_size}x"
                                     f"{value_experiment.data.board_size}, the policy {experiment.data.board_size}x"
                                     f"{experiment.data.board_size}; give runs trained on the same board size")
        return cls(policy, experiment.data.feature_set, name=f"convsuite-{experiment.name}", value=value,
                   value_feature_set=value_features, lookahead=lookahead if value is not None else 0, **kwargs)

    def check_board(self, board: Board) -> None:
        if board.size != self.board_size:
            raise ConvsuiteError(f"the network was trained on {self.board_size}x{self.board_size} boards and cannot "
                                 f"play on {board.size}x{board.size}; use boardsize {self.board_size}")

    def move_probabilities(self, board: Board, color: int | None = None) -> np.ndarray:
        """The policy's distribution over the points (before legality is applied)."""
        self.check_board(board)
        if color is not None and color != board.to_play:
            board = board.copy()
            board.to_play = color
        planes = board_planes(board, self.feature_set)[None]
        return np.asarray(self.policy.predict_on_batch(planes), np.float64)[0]

    def candidates(self, board: Board, color: int) -> np.ndarray:
        legal = board.legal_moves(color)
        for p in np.flatnonzero(legal):
            if board.is_eye(int(p), color):
                legal[p] = False
        return legal

    def genmove(self, board: Board, color: int) -> int:
        self.check_board(board)
        allowed = self.candidates(board, color)
        if not allowed.any():
            return PASS
        if board.history and board.history[-1][1] == PASS and board.score() * color > 0:
            return PASS  # the opponent passed and the count is ours: end the game
        probs = np.where(allowed, self.move_probabilities(board, color), 0.0)
        if self.lookahead:
            return self._lookahead(board, color, probs)
        if self.temperature > 0:
            weights = probs ** (1.0 / self.temperature)
            if weights.sum() > 0:
                return int(self.rng.choice(len(weights), p=weights / weights.sum()))
        if probs.max() <= 0:
            return int(self.rng.choice(np.flatnonzero(allowed)))
        return int(np.argmax(probs))

    def _lookahead(self, board: Board, color: int, probs: np.ndarray) -> int:
        top = [int(p) for p in np.argsort(-probs)[: self.lookahead] if probs[p] > 0]
        planes = []
        for move in top:
            child = board.copy()
            child.play(move, color)
            planes.append(board_planes(child, self.value_feature_set))
        # The value net scores each child for the player to move there, the opponent; the
        # policy's log-probability keeps a weak value net from overruling it on small margins.
        opponent_values = np.asarray(self.value.predict_on_batch(np.stack(planes)), np.float64).reshape(-1)
        scores = np.log(probs[top]) - self.value_weight * opponent_values
        return top[int(np.argmax(scores))]
