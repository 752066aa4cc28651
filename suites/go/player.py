"""Trained nets as Go players (for GTP, matches and the notebook): the raw policy, or a tree search.

``PolicyPlayer``: the net proposes; the rules dispose: only legal points that do not fill one's
own eye are candidates. With no search the player takes the most likely candidate (or samples
at a temperature); ``lookahead`` adds the optional one-ply check with a value net: the policy's
top candidates are played out one move and scored by log p(move) minus ``value_weight`` times the
value net's estimate for the opponent (the value alone, with the 9x9 value net of RESULTS.md,
lost all 20 games that the policy alone won 6 of).

``SearchPlayer``: the AlphaGo-style PUCT search of ``search.py`` with the policy as prior and the
value net and/or fast rollouts at the leaves, within a number of playouts and a time budget per
move that GTP time controls can set.

Both play the size they were trained on; a policy net that is fully convolutional apart from its
per-point position biases (``model.name`` maddison) also plays other sizes: the net is rebuilt
at that size with every weight copied except the position biases, which start at zero (they are
tied to the points of the trained size). The value net and the Clark & Storkey net end in dense
layers over the points and stay at their size; away from it the search values leaves by
rollouts only (or 0 without rollouts).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go.board import PASS, Board
from convsuite.suites.go.features import board_planes, model_inputs
from convsuite.suites.go.search import (
    Evaluator,
    NetEvaluator,
    SearchResult,
    SearchSettings,
    TreeSearch,
    candidate_moves,
    cleanup_moves,
    opponent_passed_and_we_lead,
)

MIN_SIZE, MAX_SIZE = 2, 25
RESIZABLE = ("maddison",)  # model.name of the nets whose only size-bound weights are the position biases


class SizedNets:
    """A trained net and the same weights rebuilt at other board sizes, where the architecture allows."""

    def __init__(self, model, experiment=None):
        from convsuite.suites.go.models import model_board_size

        self.model = model
        self.experiment = experiment
        self.board_size = model_board_size(model)
        self._by_size = {self.board_size: model}

    def can_play(self, size: int) -> bool:
        if size == self.board_size:
            return True
        return (self.experiment is not None and self.experiment.model.name in RESIZABLE
                and isinstance(size, int) and MIN_SIZE <= size <= MAX_SIZE)

    def at(self, size: int):
        """The net for ``size``: the trained one, or a copy rebuilt for that size (made once)."""
        model = self._by_size.get(size)
        if model is not None:
            return model
        if not self.can_play(size):
            raise ConvsuiteError(f"the network was trained on {self.board_size}x{self.board_size} boards and cannot "
                                 f"play on {size}x{size}; use boardsize {self.board_size}")
        from convsuite.suites.go.models import build_model, model_planes

        model = build_model(self.experiment, board_size=size, num_planes=model_planes(self.model))
        for layer in model.layers:
            if not layer.weights or layer.name == "position_bias":
                continue  # the position biases stay at their initial zeros
            weights = self.model.get_layer(layer.name).get_weights()
            if [w.shape for w in weights] != [tuple(v.shape) for v in layer.weights]:
                raise ConvsuiteError(f"layer {layer.name} of the {self.board_size}x{self.board_size} net has weights "
                                     f"of another shape at {size}x{size}; this net plays {self.board_size}x"
                                     f"{self.board_size} only")
            layer.set_weights(weights)
        self._by_size[size] = model
        return model


def _load_nets(run_dir, which: str, value_run) -> tuple:
    """(policy, experiment, value, value feature set, value experiment) of run directories."""
    from convsuite.suites.go.train import load_run

    policy, experiment = load_run(run_dir, which)
    if experiment.model.name == "value":
        raise ConvsuiteError(f"{run_dir} holds a value net; give a policy run directory "
                             "(model.name maddison or clark-storkey)")
    value, value_features, value_experiment = None, "alphago-value", None
    if value_run:
        value, value_experiment = load_run(value_run, which)
        if value_experiment.model.name != "value":
            raise ConvsuiteError(f"{value_run} is not a value-net run (model.name={value_experiment.model.name})")
        value_features = value_experiment.data.feature_set
        if value_experiment.data.board_size != experiment.data.board_size:
            raise ConvsuiteError(f"the value net {value_run} plays {value_experiment.data.board_size}x"
                                 f"{value_experiment.data.board_size}, the policy {experiment.data.board_size}x"
                                 f"{experiment.data.board_size}; give runs trained on the same board size")
    return policy, experiment, value, value_features, value_experiment


class PolicyPlayer:
    """Plays the policy net's choice among legal, non-eye-filling moves; passes when none is left,
    or when the opponent has passed and the board's area count already favours it."""

    def __init__(self, policy, feature_set: str, name: str = "convsuite", temperature: float = 0.0, seed: int = 0,
                 value=None, value_feature_set: str = "alphago-value", lookahead: int = 0, value_weight: float = 2.0,
                 experiment=None):
        self.nets = SizedNets(policy, experiment)
        self.policy = policy
        self.feature_set = feature_set
        self.name = name
        self.temperature = float(temperature)
        self.rng = np.random.default_rng(seed)
        self.board_size = self.nets.board_size
        self.value = value
        self.value_feature_set = value_feature_set
        self.lookahead = int(lookahead) if value is not None else 0
        self.value_weight = float(value_weight)

    @classmethod
    def from_run(cls, run_dir: str | Path, which: str = "model", value_run: str | Path | None = None,
                 lookahead: int = 8, **kwargs) -> "PolicyPlayer":
        policy, experiment, value, value_features, _ = _load_nets(run_dir, which, value_run)
        return cls(policy, experiment.data.feature_set, name=f"convsuite-{experiment.name}", value=value,
                   value_feature_set=value_features, lookahead=lookahead if value is not None else 0,
                   experiment=experiment, **kwargs)

    def can_play(self, size: int) -> bool:
        """Whether the net plays ``size``x``size``: its own size, or any for a resizable net."""
        return self.nets.can_play(size)

    def check_board(self, board: Board) -> None:
        if not self.nets.can_play(board.size):
            raise ConvsuiteError(f"the network was trained on {self.board_size}x{self.board_size} boards and cannot "
                                 f"play on {board.size}x{board.size}; use boardsize {self.board_size}")

    def move_probabilities(self, board: Board, color: int | None = None) -> np.ndarray:
        """The policy's distribution over the points (before legality is applied)."""
        self.check_board(board)
        if color is not None and color != board.to_play:
            board = board.copy()
            board.to_play = color
        planes = board_planes(board, self.feature_set)[None]
        model = self.nets.at(board.size)
        return np.asarray(model.predict_on_batch(model_inputs(planes)), np.float64)[0]

    def candidates(self, board: Board, color: int) -> np.ndarray:
        return candidate_moves(board, color)

    def genmove(self, board: Board, color: int) -> int:
        self.check_board(board)
        allowed = self.candidates(board, color)
        if not allowed.any():
            return PASS
        if opponent_passed_and_we_lead(board, color):
            return PASS  # the opponent passed and the count is ours: end the game
        probs = np.where(allowed, self.move_probabilities(board, color), 0.0)
        if self.lookahead and board.size == self.value_size:
            return self._lookahead(board, color, probs)
        if self.temperature > 0:
            weights = probs ** (1.0 / self.temperature)
            if weights.sum() > 0:
                return int(self.rng.choice(len(weights), p=weights / weights.sum()))
        return self._best(probs, allowed)

    def genmove_cleanup(self, board: Board, color: int) -> int:
        """The policy's best move outside our own territory; passes only when none is left, so that
        dead stones are captured before the count (GTP ``kgs-genmove_cleanup``)."""
        self.check_board(board)
        allowed = cleanup_moves(board, color)
        if not allowed.any():
            return PASS
        return self._best(np.where(allowed, self.move_probabilities(board, color), 0.0), allowed)

    def _best(self, probs: np.ndarray, allowed: np.ndarray) -> int:
        if probs.max() <= 0:
            return int(self.rng.choice(np.flatnonzero(allowed)))
        return int(np.argmax(probs))

    @property
    def value_size(self) -> int | None:
        if self.value is None:
            return None
        from convsuite.suites.go.models import model_board_size

        return model_board_size(self.value)

    def _lookahead(self, board: Board, color: int, probs: np.ndarray) -> int:
        top = [int(p) for p in np.argsort(-probs)[: self.lookahead] if probs[p] > 0]
        planes = []
        for move in top:
            child = board.copy()
            child.play(move, color)
            planes.append(board_planes(child, self.value_feature_set))
        # The value net scores each child for the player to move there, the opponent; the
        # policy's log-probability keeps a weak value net from overruling it on small margins.
        values = self.value.predict_on_batch(model_inputs(np.stack(planes)))
        opponent_values = np.asarray(values, np.float64).reshape(-1)
        scores = np.log(probs[top]) - self.value_weight * opponent_values
        return top[int(np.argmax(scores))]


class SearchPlayer:
    """Plays the move the PUCT tree search (``search.TreeSearch``) visits most.

    Give either nets (``policy`` and its ``feature_set``, optionally a ``value`` net, ``rollouts``
    per leaf and their share ``mix``) or any ``evaluator`` (e.g. ``search.UniformEvaluator`` for a
    search without nets). Search settings (playouts, time_per_move, c_puct, batch_size, ...) are
    ``SearchSettings`` fields, given as ``settings`` or as keywords. One tree per board size is kept
    and reused between moves.
    """

    def __init__(self, policy=None, feature_set: str = "maddison", value=None,
                 value_feature_set: str = "alphago-value", *, experiment=None, evaluator: Evaluator | None = None,
                 rollouts: int = 0, mix: float = 0.5, name: str = "convsuite-search", board_size: int | None = None,
                 settings: SearchSettings | None = None, **search_settings):
        if (policy is None) == (evaluator is None):
            raise ConvsuiteError("SearchPlayer needs either a policy net or an evaluator (exactly one of the two)")
        settings = settings if settings is not None else SearchSettings()
        for key, setting in search_settings.items():
            if key not in SearchSettings.__dataclass_fields__:
                raise ConvsuiteError(f"unknown search setting {key!r}; use one of "
                                     f"{', '.join(SearchSettings.__dataclass_fields__)}")
            setattr(settings, key, setting)
        settings.check()
        self.settings = settings
        self.nets = SizedNets(policy, experiment) if policy is not None else None
        self.feature_set = feature_set
        self.value = value
        self.value_feature_set = value_feature_set
        self.rollouts = int(rollouts)
        self.mix = float(mix)
        self.evaluator = evaluator
        self.name = name
        self.board_size = self.nets.board_size if self.nets is not None else int(board_size or 9)
        self.last_result: SearchResult | None = None
        self._searches: dict[int, TreeSearch] = {}
        self._time_control: tuple[float, float, int] | None = None
        self._time_left: dict[int, tuple[float, int]] = {}
        if evaluator is None:
            NetEvaluator(policy, feature_set, value, value_feature_set, rollouts, mix)  # checks the settings now

    @classmethod
    def from_run(cls, run_dir: str | Path, which: str = "model", value_run: str | Path | None = None,
                 **kwargs) -> "SearchPlayer":
        """A search player on a policy run (and optionally a value-net run) written by `convsuite train go`."""
        policy, experiment, value, value_features, _ = _load_nets(run_dir, which, value_run)
        kwargs.setdefault("name", f"convsuite-{experiment.name}-search")
        return cls(policy, experiment.data.feature_set, value, value_features, experiment=experiment, **kwargs)

    def can_play(self, size: int) -> bool:
        if self.nets is None:
            return isinstance(size, int) and MIN_SIZE <= size <= MAX_SIZE
        return self.nets.can_play(size)

    def check_board(self, board: Board) -> None:
        if not self.can_play(board.size):
            raise ConvsuiteError(f"the network was trained on {self.board_size}x{self.board_size} boards and cannot "
                                 f"play on {board.size}x{board.size}; use boardsize {self.board_size}")

    def search_for(self, size: int) -> TreeSearch:
        """The tree search (and its evaluator) for one board size, made at first use."""
        search = self._searches.get(size)
        if search is None:
            evaluator = self.evaluator
            if evaluator is None:
                from convsuite.suites.go.models import model_board_size

                value = self.value if self.value is not None and model_board_size(self.value) == size else None
                evaluator = NetEvaluator(self.nets.at(size), self.feature_set, value, self.value_feature_set,
                                         self.rollouts, self.mix, batch_size=self.settings.batch_size,
                                         seed=self.settings.seed)
            search = TreeSearch(evaluator, SearchSettings(**vars(self.settings)))
            self._searches[size] = search
        return search

    # ------------------------------------------------------------------ time

    def set_time_control(self, main_time: float, byo_yomi_time: float, byo_yomi_stones: int) -> None:
        """GTP ``time_settings``: main time, then byo_yomi_time seconds per byo_yomi_stones moves
        (byo_yomi_time > 0 with 0 stones: no time limit)."""
        self._time_control = (float(main_time), float(byo_yomi_time), int(byo_yomi_stones))
        self._time_left = {}

    def set_time_left(self, color: int, seconds: float, stones: int) -> None:
        """GTP ``time_left``: the clock of ``color`` (stones > 0: in byo-yomi, that many moves to make)."""
        self._time_left[color] = (float(seconds), int(stones))

    def move_time(self, board: Board, color: int) -> float | None:
        """Seconds for this move: the smaller of ``time_per_move`` and the share of the clock (None: no limit)."""
        limits = [self.settings.time_per_move] if self.settings.time_per_move else []
        control = self._time_control
        if control is not None and not (control[1] > 0 and control[2] == 0):
            main, byo_time, byo_stones = control
            left, stones = self._time_left.get(color, (main, 0) if main > 0 else (byo_time, byo_stones))
            per_stone = byo_time / byo_stones if byo_stones > 0 else 0.0
            if stones > 0:
                budget = left / stones
            else:  # main time: spread over the moves likely still to come, then byo-yomi if any
                moves_to_go = max(0.4 * board.num_points - board.move_number / 2, 0.1 * board.num_points, 1.0)
                budget = max(left / moves_to_go, per_stone)
            limits.append(max(0.85 * budget - 0.1, 0.0))  # leave room for the net's call overrunning, and the pipe
        return min(limits) if limits else None

    # ------------------------------------------------------------------ moves

    def _view(self, board: Board, color: int) -> Board:
        if color != board.to_play:
            board = board.copy()
            board.to_play = color
        return board

    def genmove(self, board: Board, color: int) -> int:
        self.check_board(board)
        board = self._view(board, color)
        if not candidate_moves(board, color).any():
            return PASS
        if opponent_passed_and_we_lead(board, color):
            return PASS  # passing ends the game, won on the count
        result = self.search_for(board.size).run(board, seconds=self.move_time(board, color))
        self.last_result = result
        return result.move

    def genmove_cleanup(self, board: Board, color: int) -> int:
        """The search's move among those outside our own territory; passes only when none is left,
        so that dead stones are captured before the count (GTP ``kgs-genmove_cleanup``)."""
        self.check_board(board)
        board = self._view(board, color)
        allowed = cleanup_moves(board, color)
        if not allowed.any():
            return PASS
        result = self.search_for(board.size).run(board, root_moves=allowed, allow_pass=False,
                                                 seconds=self.move_time(board, color))
        self.last_result = result
        return result.move
