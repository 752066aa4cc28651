"""Match statistics: Wilson and score intervals, Elo differences and the Bradley-Terry ladder."""

import math

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.common.stats import elo_difference, elo_ladder, score_interval, wilson_interval


def test_wilson_interval_moved_here_is_the_one_go_uses():
    from convsuite.suites.go import match

    assert match.wilson_interval is wilson_interval
    assert wilson_interval(5, 10) == pytest.approx((0.23659, 0.76341), abs=1e-5)


def test_score_interval_known_values_without_draws():
    # 5 wins 5 losses: per-game scores 0/1, sd 0.5, half-width 1.96 * 0.5 / sqrt(10)
    score, low, high = score_interval(5, 0, 5)
    half = 1.96 * 0.5 / math.sqrt(10)
    assert (score, low, high) == pytest.approx((0.5, 0.5 - half, 0.5 + half))


def test_draws_narrow_the_score_interval():
    # 3 wins, 4 draws, 3 losses: same score as 5-0-5 but less spread
    score, low, high = score_interval(3, 4, 3)
    variance = (3 * 0.25 + 4 * 0 + 3 * 0.25) / 10
    assert score == 0.5
    assert (low, high) == pytest.approx((0.5 - 1.96 * math.sqrt(variance / 10), 0.5 + 1.96 * math.sqrt(variance / 10)))
    assert high - low < score_interval(5, 0, 5)[2] - score_interval(5, 0, 5)[1]


def test_score_interval_is_not_a_point_at_all_wins_all_losses_or_all_draws():
    assert score_interval(10, 0, 0) == pytest.approx((1.0, *wilson_interval(10, 10)))
    assert score_interval(0, 0, 10) == pytest.approx((0.0, *wilson_interval(0, 10)))
    score, low, high = score_interval(0, 10, 0)
    assert score == 0.5 and low < 0.5 < high


def test_score_interval_is_symmetric_and_inside_zero_one():
    for wins, draws, losses in [(7, 2, 1), (1, 0, 0), (30, 50, 20), (0, 1, 3)]:
        score, low, high = score_interval(wins, draws, losses)
        mirror = score_interval(losses, draws, wins)
        assert mirror == pytest.approx((1 - score, 1 - high, 1 - low))
        assert 0.0 <= low <= score <= high <= 1.0


def test_score_interval_with_no_games_knows_nothing_and_refuses_negative_counts():
    assert score_interval(0, 0, 0) == (0.5, 0.0, 1.0)
    with pytest.raises(ConvsuiteError, match="counts >= 0"):
        score_interval(-1, 2, 3)


def test_elo_difference_known_values_and_symmetry():
    assert elo_difference(0.5) == 0.0
    assert elo_difference(0.75) == pytest.approx(400 * math.log10(3))
    assert elo_difference(10 / 11) == pytest.approx(400.0)
    for score in (0.1, 0.3, 0.64):
        assert elo_difference(score) == pytest.approx(-elo_difference(1 - score))


def test_elo_difference_is_finite_at_a_perfect_score():
    assert math.isfinite(elo_difference(1.0)) and elo_difference(1.0) > elo_difference(0.99)
    # clipped to half a game from the end of a 10-game match: as if 9.5 / 10
    assert elo_difference(1.0, games=10) == pytest.approx(elo_difference(0.95))
    assert elo_difference(0.0, games=10) == pytest.approx(-elo_difference(1.0, games=10))
    with pytest.raises(ConvsuiteError, match="score in"):
        elo_difference(1.5)


def test_elo_ladder_of_two_players_matches_elo_difference_without_prior():
    ratings = elo_ladder([(0, 1, 7.5, 10)], prior_draws=0)
    assert ratings == pytest.approx([0.0, -elo_difference(0.75)])


def test_elo_ladder_recovers_a_consistent_ladder():
    # 1 scores 10:1 against 0 and 2 scores 10:1 against 1 and 100:1 against 0: +400, +800
    pairs = [(1, 0, 100 * 10 / 11, 100), (2, 1, 100 * 10 / 11, 100), (2, 0, 100 * 100 / 101, 100)]
    ratings = elo_ladder(pairs, prior_draws=0)
    assert ratings == pytest.approx([0.0, 400.0, 800.0], abs=1e-4)
    # any anchor: the same ratings shifted
    assert elo_ladder(pairs, anchor=2, prior_draws=0) == pytest.approx(ratings - 800.0, abs=1e-4)


def test_elo_ladder_orders_players_and_swapping_sides_changes_nothing():
    pairs = [(0, 1, 6, 10), (1, 2, 7, 10), (0, 2, 8, 10), (2, 3, 9, 10)]
    ratings = elo_ladder(pairs)
    assert ratings[0] == 0.0 and list(np.argsort(-ratings)) == [0, 1, 2, 3]
    swapped = [(j, i, games - score, games) for i, j, score, games in pairs]
    assert elo_ladder(swapped) == pytest.approx(ratings)


def test_elo_ladder_counts_a_draw_as_half_a_win_to_each_side():
    assert elo_ladder([(0, 1, 5, 10)], prior_draws=0) == pytest.approx([0.0, 0.0], abs=1e-9)


def test_elo_ladder_is_finite_for_a_player_who_won_everything():
    ratings = elo_ladder([(1, 0, 10, 10), (1, 2, 10, 10), (0, 2, 5, 10)])
    assert np.all(np.isfinite(ratings))
    assert ratings[1] > 400 and ratings[1] > ratings[2]
    # a player with no games sits at the anchor's rating (only the prior's draw)
    assert elo_ladder([(0, 1, 6, 10)], players=3)[2] == pytest.approx(0.0, abs=1e-6)


def test_elo_ladder_refuses_impossible_results():
    with pytest.raises(ConvsuiteError, match="between 0 and the number of games"):
        elo_ladder([(0, 1, 11, 10)])
    with pytest.raises(ConvsuiteError, match="not between two"):
        elo_ladder([(0, 0, 1, 2)])
