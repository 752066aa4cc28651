"""Players: specs that travel to workers, the command line's player texts, and each kind's moves."""

import io
import pickle

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers.board import Game, Position
from convsuite.suites.checkers.champions import write_champions
from convsuite.suites.checkers.network import random_weights
from convsuite.suites.checkers.players import (HumanPlayer, MCTSPlayer, PlayerSpec, RandomPlayer, SearchPlayer,
                                               make_player, network_player, parse_player, piece_count_player)
from tests.requirements import require


@pytest.fixture
def run_dir(tmp_path):
    weights = random_weights(np.random.default_rng(1), 3)
    write_champions(tmp_path, [0, 1, 2], weights, [2.0, 2.1, 2.2])
    return tmp_path


def _play_out(black, white, plies=30):
    game = Game()
    while not game.is_over() and game.plies < plies:
        game.play((black, white)[game.turn].choose(game))
    return game


@pytest.mark.parametrize("text, kind, simulations", [("piece-count", "piece-count", 1000), ("random", "random", 1000),
                                                     ("mcts", "mcts", 1000), ("MCTS:250", "mcts", 250)])
def test_parse_player_reads_the_player_kinds(text, kind, simulations):
    spec = parse_player(text, depth=3)
    assert (spec.kind, spec.depth, spec.simulations) == (kind, 3, simulations)


def test_parse_player_reads_a_run_directory_and_a_generation(run_dir):
    assert (parse_player(str(run_dir)).run_dir, parse_player(str(run_dir)).generation) == (str(run_dir), None)
    spec = parse_player(f"{run_dir}@1", depth=2)
    assert (spec.kind, spec.run_dir, spec.generation, spec.depth) == ("network", str(run_dir), 1, 2)
    resolved = spec.resolved()
    assert resolved.generation == 1 and resolved.king_value == pytest.approx(2.1) and resolved.flat.shape == (5046,)
    assert parse_player(str(run_dir)).resolved().generation == 2


def test_parse_player_refuses_unknown_text_in_one_sentence(tmp_path):
    with pytest.raises(ConvsuiteError, match="not a player kind and no run directory .* exists; give a run "
                                             "directory written by `convsuite train checkers`.*piece-count"):
        parse_player(str(tmp_path / "no-such-run"))
    with pytest.raises(ConvsuiteError, match="whole number >= 1"):
        parse_player("mcts:many")
    with pytest.raises(ConvsuiteError, match="unknown player kind"):
        PlayerSpec("alphazero")
    with pytest.raises(ConvsuiteError, match="needs weights"):
        PlayerSpec("network")


def test_a_network_spec_pickles_with_its_weights(run_dir):
    spec = parse_player(f"{run_dir}@0").resolved()
    copy = pickle.loads(pickle.dumps(spec))
    np.testing.assert_array_equal(copy.flat, spec.flat)
    assert copy.label() == spec.label() and "@0" in spec.label()


@pytest.mark.parametrize("spec", [PlayerSpec("piece-count", depth=2), PlayerSpec("random"),
                                  PlayerSpec("network", depth=1, flat=random_weights(np.random.default_rng(0)))])
def test_every_kind_plays_legal_moves(spec):
    player = make_player(spec, seed=0)
    game = _play_out(player, RandomPlayer(1), plies=16)
    assert game.plies == 16 or game.is_over()


def test_network_player_from_a_run_directory_plays_that_champion(run_dir):
    spec = PlayerSpec("network", depth=1, run_dir=str(run_dir), generation=1)
    player = make_player(spec, seed=0)
    assert player.search.evaluator.king_value == pytest.approx(2.1)


def test_search_players_are_seeded():
    def moves(seed):
        return [str(m) for m in _play_out(piece_count_player(depth=2, seed=seed), RandomPlayer(5), 24).moves]

    assert moves(7) == moves(7)
    assert any(moves(7) != moves(seed) for seed in range(8, 12))


def test_network_player_names_its_king_value():
    player = network_player(random_weights(np.random.default_rng(0)), 2.5, depth=1)
    assert isinstance(player, SearchPlayer) and "K=2.500" in player.name


def test_random_player_is_seeded_and_legal():
    game = Game()
    assert RandomPlayer(3).choose(game) == RandomPlayer(3).choose(game)
    assert RandomPlayer(3).choose(game) in Position().legal_moves()


def test_mcts_player_follows_the_game_through_an_undo():
    require("pyspiel", "checkers")
    mcts = MCTSPlayer(simulations=8, seed=0)
    game = Game()
    for _ in range(6):
        game.play(mcts.choose(game))
    game.undo(3)  # the player's open_spiel state must be rebuilt, not replayed on
    move = mcts.choose(game)
    assert move in game.legal_moves()
    assert mcts._played == game.moves
    assert make_player(PlayerSpec("mcts", simulations=5), seed=1).name == "mcts (5 simulations)"


def test_human_player_refuses_illegal_moves_with_the_legal_list():
    output = io.StringIO()
    human = HumanPlayer(input=io.StringIO("\n11-18\nhello\n9-13\n"), output=output)
    move = human.choose(Game())
    text = output.getvalue()
    assert str(move) == "9-13"
    assert "11-18 is not legal here; legal moves: 9-13, 9-14" in text
    assert "unknown command 'hello'" in text


def test_human_player_passes_words_to_its_commands_and_ends_at_end_of_input():
    heard = []
    human = HumanPlayer(input=io.StringIO("fen now\n"), output=io.StringIO(),
                        on_command=lambda word, rest, game: heard.append((word, rest)) or True)
    with pytest.raises(EOFError):
        human.choose(Game())
    assert heard == [("fen", "now")]


def test_mcts_player_claims_a_draw_when_open_spiel_has_ended_the_game():
    require("pyspiel", "checkers")
    from convsuite.suites.checkers.players import DrawClaim

    class _Ended:
        def is_terminal(self):
            return True

    mcts = MCTSPlayer(simulations=2, seed=0)
    mcts._sync = lambda game: _Ended()
    with pytest.raises(DrawClaim, match="40 actions without a capture"):
        mcts.choose(Game())
