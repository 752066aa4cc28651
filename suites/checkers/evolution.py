"""Co-evolution of checkers networks by evolutionary programming, as Blondie24 learned.

Chellapilla & Fogel, "Evolving an expert checkers playing program without using human
expertise", IEEE TEC 5(4), 2001. Each generation:

1. each of the ``parents`` networks makes one offspring: every weight w_i gets its own step
   size s_i, mutated first, s_i' = s_i exp(tau N_i(0,1)) with tau = 1/sqrt(2 sqrt(N)), then
   w_i' = w_i + s_i' N_i(0,1); the king value K' = K + d, d drawn from {-0.1, 0, +0.1}, kept in
   [1, 3];
2. each of the 2 x parents players plays ``games_per_player`` games as Black against opponents
   drawn at random from the others, with an alpha-beta search of ``search_depth`` plies and the
   network at the leaves; a game is a draw after ``move_limit`` moves a side;
3. both players of a game get points: +1 win, 0 draw, -2 loss;
4. the ``parents`` players with the most points survive (ties: the older index first).

No knowledge of checkers is given besides the rules, the piece difference input and the
search. Every game is one picklable item with its own seed, so a generation gives the same
result on one process, on several, or on a Ray cluster. Imports NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convsuite.suites.checkers.board import BLACK, WHITE, Game
from convsuite.suites.checkers.network import WEIGHT_COUNT, NetworkEvaluator
from convsuite.suites.checkers.search import AlphaBetaSearch

KING_RANGE = (1.0, 3.0)


def paper_tau(weight_count: int = WEIGHT_COUNT) -> float:
    """The step sizes' learning rate of the paper: 1 / sqrt(2 sqrt(N))."""
    return 1.0 / np.sqrt(2.0 * np.sqrt(weight_count))


@dataclass
class Population:
    """Weights (P, N), per-weight step sizes (P, N) and king values (P,) of P networks."""

    weights: np.ndarray
    steps: np.ndarray
    kings: np.ndarray

    def __len__(self) -> int:
        return len(self.kings)

    def take(self, indices) -> "Population":
        indices = np.asarray(indices)
        return Population(self.weights[indices], self.steps[indices], self.kings[indices])


def initial_population(count: int, rng: np.random.Generator, init_range: float = 0.2, step_size: float = 0.05,
                       king_value: float = 2.0) -> Population:
    """``count`` random networks: weights uniform in [-init_range, init_range] (the paper: 0.2), every
    step size ``step_size`` (0.05), every king value ``king_value`` (2.0)."""
    weights = rng.uniform(-init_range, init_range, size=(count, WEIGHT_COUNT))
    return Population(weights, np.full_like(weights, step_size), np.full(count, float(king_value)))


def offspring(parents: Population, rng: np.random.Generator, *, self_adaptive: bool = True, tau: float = 0.0,
              fixed_step: float = 0.05, king_step: float = 0.1) -> Population:
    """One mutated child per parent (the paper's self-adaptive Gaussian mutation, or one fixed step size)."""
    count, n = parents.weights.shape
    if self_adaptive:
        tau = tau or paper_tau(n)
        steps = parents.steps * np.exp(tau * rng.standard_normal((count, n)))
    else:
        steps = np.full_like(parents.steps, fixed_step)
    weights = parents.weights + steps * rng.standard_normal((count, n))
    kings = np.clip(parents.kings + king_step * rng.integers(-1, 2, size=count), *KING_RANGE)
    return Population(weights, steps, kings)


def schedule_games(players: int, games_per_player: int, rng: np.random.Generator) -> np.ndarray:
    """(players * games_per_player, 2) pairs (black, white): each player is Black that many times,
    against opponents drawn uniformly from the other players (with replacement)."""
    black = np.repeat(np.arange(players), games_per_player)
    others = rng.integers(0, players - 1, size=len(black))
    white = others + (others >= black)  # skip the player itself
    return np.stack([black, white], axis=1)


def game_points(pairs: np.ndarray, winners: np.ndarray, players: int, win: float = 1.0, draw: float = 0.0,
                loss: float = -2.0) -> np.ndarray:
    """Points of every player over the games ``pairs`` with ``winners`` (BLACK, WHITE or -1 = draw)."""
    points = np.zeros(players)
    for (black, white), winner in zip(pairs, winners):
        if winner == BLACK:
            points[black] += win
            points[white] += loss
        elif winner == WHITE:
            points[white] += win
            points[black] += loss
        else:
            points[black] += draw
            points[white] += draw
    return points


def survivors(points: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` players with the most points, best first (ties: lower index first)."""
    return np.lexsort((np.arange(len(points)), -points))[:count]


@dataclass(frozen=True)
class GameItem:
    """One game of a generation, everything a worker needs (picklable)."""

    black_weights: np.ndarray
    black_king: float
    white_weights: np.ndarray
    white_king: float
    depth: int
    extend_captures: bool
    move_limit: int
    seed: int


def play_network_game(item: GameItem) -> tuple[int, int]:
    """Play one game between two networks from the start position: (winner, plies)."""
    searches = [AlphaBetaSearch(NetworkEvaluator(weights, king), item.depth, item.extend_captures,
                                rng=np.random.default_rng([item.seed, colour]))
                for colour, (weights, king) in enumerate(((item.black_weights, item.black_king),
                                                          (item.white_weights, item.white_king)))]
    game = Game(move_limit=item.move_limit, repetition_draw=True)
    while True:
        winner = game.winner()
        if winner is not None:
            return int(winner), game.plies
        game.play(searches[game.turn].search(game.position).move)


def generation_games(population: Population, pairs: np.ndarray, seeds: np.ndarray, depth: int,
                     extend_captures: bool, move_limit: int) -> list[GameItem]:
    return [GameItem(population.weights[b], float(population.kings[b]), population.weights[w],
                     float(population.kings[w]), depth, extend_captures, move_limit, int(seed))
            for (b, w), seed in zip(pairs, seeds)]
