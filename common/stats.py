"""Match statistics shared by the game suites: intervals on win rates and scores, Elo numbers.

Pure Python and NumPy: match runners and their workers import it without Keras.
"""

from __future__ import annotations

import math

import numpy as np

from convsuite.common.errors import ConvsuiteError

#: The Elo scale: a rating gap of 400 means 10:1 odds.
ELO_SCALE = 400.0


def wilson_interval(wins: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a win rate: unlike p ± z·se it stays inside [0, 1] and is sane at 0/n, n/n."""
    if n < 0 or not 0 <= wins <= n:
        raise ConvsuiteError(f"wilson_interval needs 0 <= wins <= n, got wins={wins}, n={n}.")
    if n == 0:
        return 0.0, 1.0  # no games: nothing is known
    return _wilson_of_rate(wins / n, n, z)


def score_interval(wins: int, draws: int, losses: int, z: float = 1.96) -> tuple[float, float, float]:
    """(score, low, high): a chess-style score (win 1, draw 1/2, loss 0 per game) and its interval.

    The interval is the normal approximation on the per-game scores (their variance, so draws
    narrow it), clipped to [0, 1]. Where the games have no spread (all wins, all losses or all
    draws) that interval would be a single point; the Wilson interval of the score as a rate over
    the same games is used instead, so 10 wins out of 10 is (1, 0.72, 1), not (1, 1, 1).
    """
    if min(wins, draws, losses) < 0:
        raise ConvsuiteError(f"score_interval needs counts >= 0, got wins={wins}, draws={draws}, losses={losses}.")
    n = wins + draws + losses
    if n == 0:
        return 0.5, 0.0, 1.0  # no games: nothing is known
    score = (wins + 0.5 * draws) / n
    # population variance of the per-game scores (1, 1/2, 0)
    variance = (wins * (1 - score) ** 2 + draws * (0.5 - score) ** 2 + losses * score ** 2) / n
    half = z * math.sqrt(variance / n)
    low, high = max(0.0, score - half), min(1.0, score + half)
    if variance == 0.0:
        low, high = _wilson_of_rate(score, n, z)
    return score, low, high


def _wilson_of_rate(p: float, n: int, z: float) -> tuple[float, float]:
    z2 = z * z
    denom = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, center - half), min(1.0, center + half)


def elo_difference(score: float, games: int | None = None) -> float:
    """Elo gap implied by a score in [0, 1]: -400 log10(1/s - 1).

    A score of exactly 0 or 1 has an infinite gap; it is clipped to half a game from the end
    (of ``games`` games when given, else to 0.001..0.999), so the number stays finite and says "at least"."""
    if not 0.0 <= score <= 1.0 or math.isnan(score):
        raise ConvsuiteError(f"elo_difference needs a score in [0, 1], got {score}.")
    edge = 0.5 / games if games else 1e-3
    s = min(max(score, edge), 1.0 - edge)
    return -ELO_SCALE * math.log10(1.0 / s - 1.0) + 0.0  # + 0.0: no -0.0 at an even score


def elo_ladder(pairs, anchor: int = 0, players: int | None = None, prior_draws: float = 1.0,
               iterations: int = 10_000, tolerance: float = 1e-10) -> np.ndarray:
    """Elo ratings by Bradley-Terry maximum likelihood from pairwise match results.

    Args:
        pairs: ``(i, j, score_i, games)`` per match: player i scored ``score_i`` points (a win 1,
            a draw 1/2 — half a win to each side) out of ``games`` against player j.
        anchor: the player rated 0; the others are relative to it.
        players: how many players (default: one more than the largest index).
        prior_draws: a weak prior: every player other than the anchor is credited with this many
            virtual draws against the anchor, so a player who won (or lost) everything still
            gets a finite rating and a player with no games is rated like the anchor.
        iterations, tolerance: of the minorisation-maximisation updates (Hunter 2004).

    Returns:
        (players,) float64 Elo ratings, ``ratings[anchor] == 0``.
    """
    pairs = [(int(i), int(j), float(s), float(g)) for i, j, s, g in pairs]
    size = players if players is not None else 1 + max([anchor] + [max(i, j) for i, j, _, _ in pairs])
    if not 0 <= anchor < size:
        raise ConvsuiteError(f"elo_ladder: anchor {anchor} is not a player (0..{size - 1}).")
    wins = np.zeros(size)  # points scored
    games = np.zeros((size, size))  # games between each pair
    for i, j, score, count in pairs:
        if not (0 <= i < size and 0 <= j < size) or i == j:
            raise ConvsuiteError(f"elo_ladder: a match between {i} and {j} is not between two of the {size} players.")
        if count < 0 or not 0 <= score <= count:
            raise ConvsuiteError(f"elo_ladder: player {i} scored {score} in {count} games against {j}; "
                                 "the score must be between 0 and the number of games.")
        wins[i] += score
        wins[j] += count - score
        games[i, j] += count
        games[j, i] += count
    for i in range(size):
        if i != anchor and prior_draws > 0:
            wins[i] += prior_draws / 2
            wins[anchor] += prior_draws / 2
            games[i, anchor] += prior_draws
            games[anchor, i] += prior_draws
    # Players with no games at all (possible only without a prior) keep strength 1.
    strength = np.ones(size)
    played = games.sum(axis=1) > 0
    for _ in range(iterations):
        denominators = (games / (strength[:, None] + strength[None, :])).sum(axis=1)
        updated = strength.copy()
        updated[played] = np.maximum(wins[played], 1e-300) / denominators[played]
        updated /= updated[anchor]
        converged = np.max(np.abs(np.log(updated) - np.log(strength))) < tolerance
        strength = updated
        if converged:
            break
    ratings = ELO_SCALE * np.log10(strength)
    return ratings - ratings[anchor]
