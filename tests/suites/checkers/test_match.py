"""The match runner: games to their end, colours swapped per opening, the same result inline or on
worker processes, the score's interval, PDN of the games and the Elo ladder of a run."""

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.common.stats import score_interval
from convsuite.suites.checkers.board import BLACK, WHITE, Game
from convsuite.suites.checkers.champions import write_champions
from convsuite.suites.checkers.match import DRAW, elo_ladder_for, play_game, play_match
from convsuite.suites.checkers.network import random_weights
from convsuite.suites.checkers.pdn import read_pdn
from convsuite.suites.checkers.players import DrawClaim, Player, PlayerSpec, RandomPlayer
from tests.requirements import require

RANDOM = PlayerSpec("random")


class _Fixed(Player):
    """Plays the first legal move, or something odd from ``ply`` on."""

    def __init__(self, name, ply=None, action=None):
        self.name, self.ply, self.action = name, ply, action

    def choose(self, game: Game):
        if self.ply is not None and game.plies >= self.ply:
            return self.action(game)
        return game.legal_moves()[0]


def _moves(result):
    return [[str(m) for m in g.record.game.moves] for g in result.games]


def test_play_game_starts_after_the_opening_and_plays_to_an_end():
    record = play_game(RandomPlayer(1), RandomPlayer(2), ["11-15", "23-19"], move_limit=100)
    game = record.game
    assert [str(m) for m in game.moves[:2]] == ["11-15", "23-19"]
    assert game.is_over() and record.winner == game.winner() and record.reason == game.end_reason()
    assert (record.black_name, record.white_name) == ("random", "random")


def test_the_move_limit_ends_a_game_as_a_draw():
    record = play_game(RandomPlayer(1), RandomPlayer(2), move_limit=3)
    assert (record.winner, record.plies, record.result_text) == (DRAW, 6, "1/2-1/2")
    assert "move limit" in record.reason


def test_a_player_choosing_an_illegal_move_forfeits():
    cheat = _Fixed("cheat", ply=2, action=lambda game: Game().legal_moves()[0])  # a Black move, for White
    record = play_game(_Fixed("black"), cheat)
    assert record.winner == BLACK and "White (cheat) forfeits" in record.reason and "not legal" in record.reason


def test_a_failing_player_forfeits_and_a_draw_claim_draws():
    def fail(game):
        raise ConvsuiteError("broken")

    def claim(game):
        raise DrawClaim("its own engine drew")

    assert play_game(_Fixed("b", 0, fail), _Fixed("w")).winner == WHITE
    record = play_game(_Fixed("b"), _Fixed("w", 4, claim))
    assert (record.winner, record.reason) == (DRAW, "its own engine drew")


def test_a_match_needs_an_even_number_of_games():
    with pytest.raises(ConvsuiteError, match="even number of games"):
        play_match(RANDOM, RANDOM, games=3)


def test_each_opening_is_played_with_both_colours_and_counted_for_a():
    result = play_match(PlayerSpec("random"), PlayerSpec("piece-count", depth=1), games=6, seed=2)
    assert [g.colour for g in result.games] == ["black", "white"] * 3
    assert [g.opening for g in result.games[::2]] == [g.opening for g in result.games[1::2]]
    assert len({g.opening for g in result.games}) == 3
    for row in result.games:
        assert [str(m) for m in row.record.game.moves[:2]] == row.opening.split()
        a_colour = BLACK if row.colour == "black" else WHITE
        expected = "draw" if row.record.winner == DRAW else ("win" if row.record.winner == a_colour else "loss")
        assert row.result == expected and row.plies == row.record.game.plies
        names = (row.record.black_name, row.record.white_name)
        players = ("random", "piece-count (depth 1)")
        assert names == (players if a_colour == BLACK else players[::-1])
    assert result.wins + result.draws + result.losses == 6
    assert (result.score, result.ci_low, result.ci_high) == pytest.approx(
        score_interval(result.wins, result.draws, result.losses))
    assert "random vs piece-count (depth 1)" in result.summary() and "random 2-ply openings" in result.summary()


def test_piece_count_at_depth_2_beats_the_random_mover():
    result = play_match(PlayerSpec("piece-count", depth=2), RANDOM, games=10, seed=0)
    assert result.wins > result.losses
    assert result.score > 0.5 and result.elo > 0


def test_a_match_gives_the_same_games_inline_and_on_two_worker_processes():
    a, b = PlayerSpec("piece-count", depth=1), RANDOM
    inline = play_match(a, b, games=4, seed=5, workers=1)
    pooled = play_match(a, b, games=4, seed=5, workers=2)
    assert _moves(inline) == _moves(pooled)
    assert (inline.wins, inline.draws, inline.losses) == (pooled.wins, pooled.draws, pooled.losses)
    assert _moves(play_match(a, b, games=4, seed=6)) != _moves(inline)


def test_a_match_writes_its_games_as_pdn(tmp_path):
    path = tmp_path / "match.pdn"
    result = play_match(PlayerSpec("piece-count", depth=1), RANDOM, games=2, seed=1, pdn_path=path)
    games = read_pdn(path)
    assert result.pdn_path == str(path) and len(games) == 2
    for pdn_game, row in zip(games, result.games):
        assert pdn_game.moves == row.record.game.moves and pdn_game.result == row.record.result_text
        assert pdn_game.tags["Termination"] == row.reason


def test_a_match_against_open_spiels_mcts_bot():
    require("pyspiel")
    result = play_match(PlayerSpec("mcts", simulations=10), RANDOM, games=2, seed=0, move_limit=60)
    assert result.wins + result.draws + result.losses == 2
    assert result.player_a == "mcts (10 simulations)"


def test_elo_ladder_of_a_runs_champions(tmp_path):
    weights = random_weights(np.random.default_rng(0), 3)
    write_champions(tmp_path, [0, 4, 8], weights, [2.0, 2.0, 2.0])
    ladder = elo_ladder_for(tmp_path, [0, 4, 8], games_per_pair=2, depth=1, seed=0, move_limit=30)
    assert ladder.generations == [0, 4, 8] and ladder.ratings.shape == (3,) and ladder.ratings[0] == 0.0
    assert np.all(np.isfinite(ladder.ratings))
    assert [(i, j) for i, j, *_ in ladder.matches] == [(0, 4), (0, 8), (4, 8)]
    assert all(w + d + l == 2 for *_, w, d, l in ladder.matches)
    with pytest.raises(ConvsuiteError, match="at least two different generations"):
        elo_ladder_for(tmp_path, [4, 4], games_per_pair=2)
