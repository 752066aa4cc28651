"""Playing strength beyond the raw policy: a PUCT Monte Carlo tree search over the rules engine.

The search of AlphaGo (Silver et al. 2016, "Mastering the game of Go with deep neural networks
and tree search", Nature 529): every simulation walks down the tree choosing

    a = argmax_a  Q(s, a) + c_puct * P(s, a) * sqrt(sum_b N(s, b)) / (1 + N(s, a))

(the PUCT rule, a variant of Rosin 2011, "Multi-armed bandits with episode context", Annals of
Mathematics and Artificial Intelligence 61, in the form AlphaGo and AlphaGo Zero use), with
the policy net's move probabilities as the priors P. The leaf it reaches is expanded at its
first visit (as AlphaGo Zero does, rather than after 40 visits) and valued by the value net
and/or a fast rollout, mixed as V = (1 - lambda) v + lambda z (lambda = ``mix``, AlphaGo's 0.5);
the value is backed up along the path, its sign flipping at each level. Children that were
never visited count as the parent's mean value minus ``fpu_reduction`` (first-play urgency,
Gelly & Wang 2006, "Exploration exploitation in Go: UCT for Monte-Carlo Go"; the default
reduction 0 explores more widely than Leela Zero's 0.25, which suits weak priors: measured on
the tactics of the tests).

Leaves are evaluated in batches: up to ``batch_size`` paths are selected before one network
call, each one adding a virtual loss (AlphaGo's n_vl = 3 lost games) to the edges it took so the
next path turns elsewhere; the losses are removed when the real value is backed up. A path
that ends on a leaf already waiting in the batch shares its value (and counts as a playout).

Pass is always a child, with a small prior (``pass_prior`` times an average move's); two passes
in a row end the game and are valued exactly by the Tromp-Taylor count with komi
(``Board.score``), +1 / -1 / 0.
Candidate moves are the legal points that do not fill one's own eye (``Board.is_eye``), as for
the policy player. After our move and the opponent's reply, ``advance`` makes the matching
subtree the new root, so its visits are kept (tree reuse).

Values are always for the player to move in the position evaluated, in [-1, 1]. This module
imports no Keras: ``NetEvaluator`` only calls ``predict_on_batch`` on the models it is given.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go import features
from convsuite.suites.go.board import BLACK, EMPTY, PASS, RESIGN, WHITE, Board, neighbour_table

__all__ = ["Evaluator", "NetEvaluator", "SearchResult", "SearchSettings", "TreeSearch", "UniformEvaluator",
           "candidate_moves", "cleanup_moves", "opponent_passed_and_we_lead", "rollout_result", "territory"]


# --------------------------------------------------------------------------------------- evaluators


@runtime_checkable
class Evaluator(Protocol):
    """What the search asks about its leaves."""

    def evaluate(self, boards: list[Board]) -> tuple[np.ndarray, np.ndarray]:
        """(priors (B, points), values (B,) in [-1, 1] for the player to move on each board).

        Priors cover the points only (pass gets its own prior in the search) and need not be
        masked to legal moves or normalised."""
        ...


def candidate_moves(board: Board, color: int | None = None) -> np.ndarray:
    """Boolean mask of the legal points that do not fill ``color``'s own eye (pass not included)."""
    color = board.to_play if color is None else color
    legal = board.legal_moves(color)
    for p in np.flatnonzero(legal):
        if board.is_eye(int(p), color):
            legal[p] = False
    return legal


def rollout_result(board: Board, rng: random.Random, max_moves: int | None = None) -> float:
    """One fast rollout: random legal non-eye-filling moves (pass when none is left) until two
    passes, then the Tromp-Taylor result for the player to move on ``board``: +1, -1 or 0.

    AlphaGo's rollout policy is a linear softmax over local patterns; this is the uniformly
    random one that Monte Carlo Go started from. Positional superko is not checked (simple ko
    is), and a rollout stops after ``max_moves`` (3 per point by default) and is counted as it stands.
    """
    mover = board.to_play
    b = board.copy()
    b.superko = False
    nbr = neighbour_table(b.size)
    limit = 3 * b.num_points if max_moves is None else int(max_moves)
    col = b.stones.tolist()  # kept in step with the board below: list reads are fast
    empties = [p for p, c in enumerate(col) if c == EMPTY]
    where = {p: i for i, p in enumerate(empties)}
    for _ in range(limit):
        if b.passes >= 2:
            break
        color = b.to_play
        untried = empties[:]
        move = PASS
        while untried:
            i = rng.randrange(len(untried))
            p = untried[i]
            untried[i] = untried[-1]
            untried.pop()
            if b.is_eye(p, color):
                continue
            # A point with an empty neighbour is legal (no suicide, not a ko point); others are checked.
            if any(col[q] == EMPTY for q in nbr[p]) or b.illegal_reason(p, color) is None:
                move = p
                break
        if move == PASS:
            b.play(PASS, color)
            continue
        captured = b.play(move, color)
        col[move] = color
        i, last = where.pop(move), empties.pop()
        if last != move:
            empties[i] = last
            where[last] = i
        for c in captured:
            col[c] = EMPTY
            where[c] = len(empties)
            empties.append(c)
    score = b.score() * mover
    return 1.0 if score > 0 else -1.0 if score < 0 else 0.0


class UniformEvaluator:
    """Uniform priors and random-rollout values: a search with no nets (pure Monte Carlo tree
    search), for tests and as the baseline the nets must beat. With ``rollouts=0`` every value
    is 0 and the search only follows the counts."""

    def __init__(self, rollouts: int = 1, seed: int = 0):
        if rollouts < 0:
            raise ConvsuiteError(f"rollouts must be >= 0, got {rollouts}")
        self.rollouts = int(rollouts)
        self.rng = random.Random(seed)

    def evaluate(self, boards: list[Board]) -> tuple[np.ndarray, np.ndarray]:
        n = boards[0].num_points if boards else 0
        priors = np.full((len(boards), n), 1.0 / max(n, 1))
        values = np.zeros(len(boards))
        if self.rollouts:
            for i, board in enumerate(boards):
                values[i] = sum(rollout_result(board, self.rng) for _ in range(self.rollouts)) / self.rollouts
        return priors, values


class NetEvaluator:
    """Leaf evaluation by the nets, as AlphaGo mixed them:

    - priors: the policy net on ``features.boards_planes(boards, policy_features)``;
    - values: with a value net only, its output v; with ``rollouts`` > 0 only, the mean result z
      of that many fast rollouts; with both, (1 - mix) * v + mix * z (AlphaGo's lambda = 0.5);
      with neither, 0 (a search guided by the policy prior and exact game ends alone).

    The nets get ``features.model_inputs(planes)`` (whatever input format the models take) on a
    fixed batch of ``batch_size`` positions, padded, so the backend traces ``predict_on_batch``
    once; larger requests are split. ``seconds`` adds up where the time goes.
    """

    def __init__(self, policy, policy_features: str, value=None, value_features: str = "alphago-value",
                 rollouts: int = 0, mix: float = 0.5, batch_size: int = 8, seed: int = 0):
        if rollouts < 0:
            raise ConvsuiteError(f"rollouts must be >= 0, got {rollouts}")
        if not 0.0 <= mix <= 1.0:
            raise ConvsuiteError(f"mix (the rollouts' share of the leaf value) must be in [0, 1], got {mix}")
        if batch_size < 1:
            raise ConvsuiteError(f"batch_size must be >= 1, got {batch_size}")
        features.plane_names(policy_features)  # unknown names fail here, not mid-game
        if value is not None:
            features.plane_names(value_features)
        self.policy = policy
        self.policy_features = policy_features
        self.value = value
        self.value_features = value_features
        self.rollouts = int(rollouts)
        self.mix = float(mix)
        self.batch_size = int(batch_size)
        self.rng = random.Random(seed)
        self.seconds = {"features": 0.0, "net": 0.0, "rollouts": 0.0}
        self.positions = 0

    def _predict(self, model, planes: np.ndarray) -> np.ndarray:
        """Model outputs for (B, S, S, C) planes, in fixed-size padded batches."""
        size = self.batch_size
        out = []
        for start in range(0, len(planes), size):
            chunk = planes[start:start + size]
            if len(chunk) < size:
                chunk = np.concatenate([chunk, np.zeros((size - len(chunk), *chunk.shape[1:]), chunk.dtype)])
            result = np.asarray(model.predict_on_batch(features.model_inputs(chunk)), np.float64)
            out.append(result[: min(size, len(planes) - start)])
        return np.concatenate(out)

    def _value_planes(self, boards: list[Board], planes: np.ndarray) -> np.ndarray:
        """The value net's planes, from the policy's where they are those plus who is to move
        (maddison -> alphago-value), which saves computing them twice."""
        if self.value_features == self.policy_features:
            return planes
        value_names = features.plane_names(self.value_features)
        if value_names == features.plane_names(self.policy_features) + ["black_to_play"]:
            black = np.array([b.to_play == BLACK for b in boards], np.uint8)
            return np.concatenate([planes, np.broadcast_to(black[:, None, None, None], (*planes.shape[:3], 1))], -1)
        return features.boards_planes(boards, self.value_features)

    def evaluate(self, boards: list[Board]) -> tuple[np.ndarray, np.ndarray]:
        clock = time.perf_counter()
        planes = features.boards_planes(boards, self.policy_features)  # vectorised over the batch
        value_planes = None
        if self.value is not None:
            value_planes = self._value_planes(boards, planes)
        now = time.perf_counter()
        self.seconds["features"] += now - clock
        clock = now
        priors = self._predict(self.policy, planes).reshape(len(boards), -1)
        values = np.zeros(len(boards))
        if value_planes is not None:
            values = np.clip(self._predict(self.value, value_planes).reshape(len(boards)), -1.0, 1.0)
        now = time.perf_counter()
        self.seconds["net"] += now - clock
        clock = now
        if self.rollouts:
            z = np.array([sum(rollout_result(b, self.rng) for _ in range(self.rollouts)) / self.rollouts
                          for b in boards])
            values = z if self.value is None else (1.0 - self.mix) * values + self.mix * z
            self.seconds["rollouts"] += time.perf_counter() - clock
        self.positions += len(boards)
        return priors, values


# ------------------------------------------------------------------------------------------- search


@dataclass
class SearchSettings:
    """How long and how the search looks; ``TreeSearch`` checks the values."""

    playouts: int = 200  # simulations per move (each adds one visit at the root); None/0: until time runs out
    time_per_move: float | None = None  # seconds (None/0: no limit); the search stops at whichever limit comes first
    c_puct: float = 1.5  # exploration weight of the prior term
    batch_size: int = 8  # leaves per evaluator call
    virtual_loss: float = 3.0  # losses added to each edge of a pending path (AlphaGo: 3)
    fpu_reduction: float = 0.0  # an unvisited child counts as the parent's mean value minus this
    pass_prior: float = 0.1  # pass weighs this times an average candidate point: prior w / (candidates + w)
    temperature: float = 0.0  # 0: the most visited move; > 0: sample by visits^(1/T)
    dirichlet_epsilon: float = 0.0  # share of Dirichlet noise in the root priors (0: off; AlphaGo Zero: 0.25)
    dirichlet_alpha: float = 0.03  # its concentration (AlphaGo Zero on 19x19: 0.03)
    resign_threshold: float | None = None  # resign when the best move's value is below this (None: never)
    reuse_tree: bool = True  # keep the subtree of the position reached between moves
    seed: int = 0

    def check(self) -> None:
        if not self.playouts and not self.time_per_move:
            raise ConvsuiteError("the search needs playouts >= 1 or time_per_move > 0 (both were 0/None); give one")
        if self.playouts is not None and self.playouts < 0:
            raise ConvsuiteError(f"playouts must be >= 0, got {self.playouts}")
        if self.time_per_move is not None and not self.time_per_move >= 0:
            raise ConvsuiteError(f"time_per_move must be >= 0 seconds, got {self.time_per_move}")
        if not self.c_puct > 0:
            raise ConvsuiteError(f"c_puct must be > 0, got {self.c_puct}")
        if self.batch_size < 1:
            raise ConvsuiteError(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.virtual_loss >= 0:
            raise ConvsuiteError(f"virtual_loss must be >= 0, got {self.virtual_loss}")
        if not self.pass_prior > 0:
            raise ConvsuiteError(f"pass_prior must be > 0 (a weight relative to an average move), got "
                                 f"{self.pass_prior}")
        if not self.temperature >= 0:
            raise ConvsuiteError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 <= self.dirichlet_epsilon <= 1 or not self.dirichlet_alpha > 0:
            raise ConvsuiteError(f"dirichlet_epsilon must be in [0, 1] and dirichlet_alpha > 0, got "
                                 f"{self.dirichlet_epsilon} and {self.dirichlet_alpha}")
        if self.resign_threshold is not None and not -1 <= self.resign_threshold <= 1:
            raise ConvsuiteError(f"resign_threshold must be in [-1, 1] (a value) or None, got {self.resign_threshold}")


@dataclass
class SearchResult:
    """One search: the move chosen and what the root saw (visits and mean values per move)."""

    move: int
    playouts: int  # simulations run by this search
    root_visits: int  # visits at the root after it, reused ones included
    reused_visits: int  # visits the root had already (tree reuse)
    value: float  # the chosen move's mean value for the player to move (0 without visits)
    visits: dict[int, int] = field(default_factory=dict)  # move -> visits, visited moves only
    q: dict[int, float] = field(default_factory=dict)  # move -> mean value for the player to move
    seconds: float = 0.0
    eval_seconds: float = 0.0  # inside the evaluator (features, nets, rollouts)
    evaluations: int = 0  # positions evaluated
    batches: int = 0  # evaluator calls


class _Node:
    """A position in the tree. Arrays are over ``moves`` (the candidate points, then PASS);
    ``visits`` and ``value_sum`` are for the edges to the children, from the point of view of
    the player to move here, virtual losses included while paths are pending."""

    __slots__ = ("board", "key", "to_play", "moves", "prior", "clean_prior", "visits", "value_sum", "children",
                 "value", "terminal", "waiting", "backed_up", "backed_up_sum")

    def __init__(self, board: Board):
        self.board: Board | None = board  # only until the node is expanded (boards are large on 19x19)
        self.key = (board.hash, board.to_play, board.ko_point)  # tells positions apart when the tree is reused
        self.to_play = board.to_play
        self.moves: np.ndarray | None = None  # None until expanded
        self.prior: np.ndarray | None = None
        self.clean_prior: np.ndarray | None = None  # the prior before root noise
        self.visits: np.ndarray | None = None
        self.value_sum: np.ndarray | None = None
        self.children: list[_Node | None] | None = None
        self.value = 0.0  # the evaluator's (or the exact) value for the player to move
        self.terminal = board.passes >= 2
        self.waiting: list | None = None  # paths that wait for this leaf's evaluation in the current batch
        self.backed_up = 0  # simulations through here, and their value sum for the player to move here:
        self.backed_up_sum = 0.0  # the node's mean without virtual losses, the base of first-play urgency
        if self.terminal:
            score = board.score() * board.to_play
            self.value = 1.0 if score > 0 else -1.0 if score < 0 else 0.0
            self.board = None


class TreeSearch:
    """The search tree and its loop; ``run(board)`` searches a position and returns a ``SearchResult``.

    Keep one per game: the tree carries over between moves when ``reuse_tree`` is on. Only the
    root keeps a board: a new leaf's board is the root's, copied, with the path's moves played
    (as fast as copying the parent's board, measured, and a 19x19 board takes ~80 KiB)."""

    def __init__(self, evaluator: Evaluator, settings: SearchSettings | None = None, **overrides):
        settings = settings if settings is not None else SearchSettings()
        for key, value in overrides.items():
            if not hasattr(settings, key):
                raise ConvsuiteError(f"unknown search setting {key!r}; use one of "
                                     f"{', '.join(SearchSettings.__dataclass_fields__)}")
            setattr(settings, key, value)
        settings.check()
        self.evaluator = evaluator
        self.settings = settings
        self.root: _Node | None = None
        self.root_board: Board | None = None
        self.np_rng = np.random.default_rng(settings.seed)
        self._eval_seconds = 0.0
        self._evaluations = 0
        self._batches = 0

    # ------------------------------------------------------------------ tree reuse

    def advance(self, board: Board) -> bool:
        """Make the subtree for ``board`` the root if the tree holds it (same game, a few moves on);
        otherwise start a fresh root. Returns whether a subtree was kept."""
        node = self._find(board) if self.settings.reuse_tree and self.root is not None else None
        self.root_board = board.copy()
        if node is None:
            self.root = _Node(self.root_board)
            return False
        self.root = node
        return True

    def _find(self, board: Board) -> _Node | None:
        old = self.root_board
        done = len(old.history)
        if (board.size != old.size or board.komi != old.komi or board.superko != old.superko
                or board.history[:done] != old.history):
            return None
        node = self.root
        for color, move in board.history[done:]:
            if node.moves is None or node.to_play != color:
                return None
            index = np.flatnonzero(node.moves == move)
            if not len(index) or node.children[int(index[0])] is None:
                return None
            node = node.children[int(index[0])]
        same = node.key == (board.hash, board.to_play, board.ko_point)
        return node if same and (node.moves is not None or node.terminal) else None

    # ------------------------------------------------------------------ expansion

    def _expand(self, node: _Node, board: Board, priors: np.ndarray, value: float) -> None:
        allowed = candidate_moves(board)
        points = np.flatnonzero(allowed)
        p = np.asarray(priors, np.float64)[points]
        p = np.where(np.isfinite(p) & (p > 0), p, 0.0)
        total = p.sum()
        # Pass weighs pass_prior times an average candidate: small next to the moves a net likes,
        # the only child when no candidate is left.
        pass_prior = self.settings.pass_prior / (len(points) + self.settings.pass_prior)
        p = (p / total if total > 0 else np.full(len(points), 1.0 / max(len(points), 1))) * (1.0 - pass_prior)
        node.moves = np.append(points, PASS).astype(np.int64)
        node.prior = np.append(p, pass_prior)
        node.clean_prior = node.prior
        node.visits = np.zeros(len(node.moves))
        node.value_sum = np.zeros(len(node.moves))
        node.children = [None] * len(node.moves)
        node.value = float(value)
        node.board = None

    def _evaluate(self, nodes: list[_Node]) -> None:
        clock = time.perf_counter()
        boards = [n.board if n is not self.root else self.root_board for n in nodes]
        priors, values = self.evaluator.evaluate(boards)
        self._eval_seconds += time.perf_counter() - clock
        self._evaluations += len(nodes)
        self._batches += 1
        priors = np.asarray(priors, np.float64)
        values = np.asarray(values, np.float64).reshape(-1)
        points = boards[0].num_points
        if priors.shape != (len(nodes), points) or values.shape != (len(nodes),):
            raise ConvsuiteError(f"the evaluator returned priors {priors.shape} and values {values.shape} for "
                                 f"{len(nodes)} boards; it must return ({len(nodes)}, {points}) and ({len(nodes)},)")
        for node, board, prior, value in zip(nodes, boards, priors, values):
            self._expand(node, board, prior, float(np.clip(value, -1.0, 1.0)))

    # ------------------------------------------------------------------ one simulation

    def _pick(self, node: _Node, mask: np.ndarray | None) -> int:
        visits, value_sum = node.visits, node.value_sum
        total = visits.sum()
        mean = node.backed_up_sum / node.backed_up if node.backed_up else node.value
        fpu = mean - self.settings.fpu_reduction
        q = np.where(visits > 0, value_sum / np.maximum(visits, 1e-9), fpu)
        score = q + (self.settings.c_puct * math.sqrt(max(total, 1.0))) * node.prior / (1.0 + visits)
        if mask is not None:
            score = np.where(mask, score, -np.inf)
        return int(np.argmax(score))

    def _select(self, root_mask: np.ndarray | None) -> tuple[list, _Node, bool]:
        """A path (node, child index) from the root to a leaf, with virtual loss on each edge, the
        leaf, and whether the leaf was created (so must be evaluated) by this path."""
        vl = self.settings.virtual_loss
        node, path = self.root, []
        mask = root_mask
        while True:
            if node.terminal or node.moves is None:
                return path, node, False
            a = self._pick(node, mask)
            mask = None
            node.visits[a] += vl
            node.value_sum[a] -= vl
            path.append((node, a))
            child = node.children[a]
            if child is None:
                board = self.root_board.copy()
                for step, index in path:
                    board.play(int(step.moves[index]), board.to_play)
                child = _Node(board)
                node.children[a] = child
                return path, child, not child.terminal
            node = child

    def _backup(self, path: list, value: float) -> None:
        """``value`` is for the player to move at the leaf; each edge gets it from its mover's side."""
        vl = self.settings.virtual_loss
        for node, a in reversed(path):
            value = -value
            node.visits[a] += 1.0 - vl
            node.value_sum[a] += value + vl
            node.backed_up += 1
            node.backed_up_sum += value

    # ------------------------------------------------------------------ the loop

    def run(self, board: Board, root_moves: np.ndarray | None = None, allow_pass: bool = True,
            playouts: int | None = None, seconds: float | None = None) -> SearchResult:
        """Search ``board`` (for its player to move) and return the chosen move.

        ``root_moves`` (a mask over points) and ``allow_pass`` restrict the moves considered at the
        root; ``playouts`` / ``seconds`` override the settings' limits for this call (seconds=0: no
        playout, the prior's choice)."""
        start = time.perf_counter()
        s = self.settings
        playouts = s.playouts if playouts is None else playouts
        seconds = (s.time_per_move or None) if seconds is None else seconds
        if not playouts and seconds is None:
            raise ConvsuiteError("the search needs playouts >= 1 or a time limit in seconds; give one")
        deadline = start + seconds if seconds is not None else math.inf
        limit = playouts if playouts else math.inf
        self._eval_seconds, self._evaluations, self._batches = 0.0, 0, 0
        self.advance(board)
        root = self.root
        try:
            if root.terminal:
                return SearchResult(PASS, 0, 0, 0, root.value, seconds=time.perf_counter() - start)
            if root.moves is None:
                self._evaluate([root])
            reused = int(root.visits.sum())
            mask = None
            if root_moves is not None or not allow_pass:
                points = np.asarray(root_moves, bool) if root_moves is not None else np.ones(board.num_points, bool)
                mask = np.append(points[root.moves[:-1]], allow_pass)
                if not mask.any():
                    return SearchResult(PASS, 0, reused, reused, 0.0, seconds=time.perf_counter() - start)
            self._add_noise(root)
            done = 0
            while done < limit and time.perf_counter() < deadline:
                done += self._run_batch(mask, min(s.batch_size, limit - done))
        except BaseException:
            self.root = None  # pending virtual losses would corrupt the next search
            raise
        move, value = self._choose(root, mask)
        visits = {int(m): int(n) for m, n in zip(root.moves, root.visits) if n > 0}
        q = {int(m): float(w / n) for m, n, w in zip(root.moves, root.visits, root.value_sum) if n > 0}
        return SearchResult(move, done, int(root.visits.sum()), reused, value, visits, q,
                            time.perf_counter() - start, self._eval_seconds, self._evaluations, self._batches)

    def _run_batch(self, mask: np.ndarray | None, wanted: int) -> int:
        """Collects up to ``wanted`` paths, evaluates their new leaves at once, backs them up."""
        leaves: list[_Node] = []
        pending: list[tuple[list, _Node]] = []
        done = 0
        for _ in range(int(wanted)):
            path, leaf, new = self._select(mask)
            done += 1
            if leaf.terminal:
                self._backup(path, leaf.value)
            elif new:
                leaf.waiting = [path]
                leaves.append(leaf)
            elif leaf.waiting is not None:  # the same leaf again, before its evaluation: shares it
                leaf.waiting.append(path)
            else:  # cannot happen: every expanded node has children to pick
                raise AssertionError("selection stopped at an expanded node")
        if leaves:
            self._evaluate(leaves)
            for leaf in leaves:
                for path in leaf.waiting:
                    self._backup(path, leaf.value)
                leaf.waiting = None
        return done

    def _add_noise(self, root: _Node) -> None:
        s = self.settings
        if s.dirichlet_epsilon > 0 and len(root.moves) > 1:
            noise = self.np_rng.dirichlet(np.full(len(root.moves), s.dirichlet_alpha))
            root.prior = (1.0 - s.dirichlet_epsilon) * root.clean_prior + s.dirichlet_epsilon * noise
        else:
            root.prior = root.clean_prior

    def _choose(self, root: _Node, mask: np.ndarray | None) -> tuple[int, float]:
        visits = root.visits if mask is None else np.where(mask, root.visits, 0.0)
        q = np.where(visits > 0, root.value_sum / np.maximum(root.visits, 1e-9), -2.0)
        if visits.max() <= 0:  # no playout: the prior's favourite, passing only when nothing else is allowed
            prior = np.where(mask, root.prior, -1.0) if mask is not None else root.prior.copy()
            if len(prior) > 1 and prior[:-1].max() >= 0:
                prior[-1] = -1.0
            choice = int(np.argmax(prior))
        elif self.settings.temperature > 0:
            weights = (visits / visits.max()) ** (1.0 / self.settings.temperature)
            choice = int(self.np_rng.choice(len(weights), p=weights / weights.sum()))
        else:
            best = np.flatnonzero(visits == visits.max())
            choice = int(best[np.argmax(q[best])])
        value = float(q[choice]) if visits[choice] > 0 else 0.0
        threshold = self.settings.resign_threshold
        if threshold is not None and visits[choice] >= 10 and value < threshold:
            return RESIGN, value
        return int(root.moves[choice]), value


# ------------------------------------------------------------------------------------------ territory



def territory(board: Board) -> np.ndarray:
    """Owner of each empty point by the Tromp-Taylor count (BLACK / WHITE where the empty region
    reaches only that colour's stones, EMPTY elsewhere and on stones), as ``Board.area`` counts it."""
    reach = board.region_reach()
    return np.where(reach == 1, BLACK, np.where(reach == 2, WHITE, EMPTY)).astype(np.int8)


def cleanup_moves(board: Board, color: int) -> np.ndarray:
    """The candidates for ``color`` outside its own Tromp-Taylor territory: while any is left, a
    cleanup phase (GTP ``kgs-genmove_cleanup``) must not pass, so dead stones get captured."""
    allowed = candidate_moves(board, color)
    return allowed & (territory(board) != color)


def opponent_passed_and_we_lead(board: Board, color: int) -> bool:
    """Passing now ends the game with ``color`` ahead on the Tromp-Taylor count (an exact win)."""
    return bool(board.history) and board.history[-1][1] == PASS and board.score() * color > 0
