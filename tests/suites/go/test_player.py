"""The policy-net player: only legal, non-eye-filling moves; passing; sizes; the value lookahead."""

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go import models
from convsuite.suites.go.board import BLACK, PASS, WHITE, Board, from_gtp
from convsuite.suites.go.gtp import GtpEngine, RandomPlayer
from convsuite.suites.go.player import PolicyPlayer


@pytest.fixture(scope="module")
def player():
    return PolicyPlayer(models.maddison_net(9, 27, depth=3, filters=8, seed=0), "maddison", seed=0)


def random_position(moves=30, seed=0):
    board = Board(9)
    rng_player = RandomPlayer(seed)
    for _ in range(moves):
        board.play(rng_player.genmove(board, board.to_play))
    return board


def test_genmove_is_the_most_likely_legal_non_eye_point(player):
    board = random_position()
    move = player.genmove(board, board.to_play)
    assert board.is_legal(move) and not board.is_eye(move, board.to_play)
    probs = player.move_probabilities(board)
    allowed = player.candidates(board, board.to_play)
    assert move == int(np.argmax(np.where(allowed, probs, -1)))
    white_move = player.genmove(board, WHITE)  # a colour other than to_play is allowed (GTP does it)
    assert board.is_legal(white_move, WHITE)


def test_sampling_at_a_temperature_stays_legal():
    sampler = PolicyPlayer(models.maddison_net(9, 27, depth=3, filters=8, seed=0), "maddison", temperature=1.0, seed=1)
    board = random_position(seed=2)
    moves = {sampler.genmove(board, board.to_play) for _ in range(20)}
    assert len(moves) > 1 and all(board.is_legal(m) for m in moves)


def test_passes_when_only_own_eyes_are_left_or_when_ahead_after_a_pass(player):
    board = Board(9, komi=0.5)
    eyes = {from_gtp(v, 9) for v in ("A1", "J9", "E5")}
    board.place([p for p in range(81) if p not in eyes], BLACK)
    assert player.genmove(board, BLACK) == PASS
    board = Board(9, komi=0.5)
    board.play(from_gtp("E5", 9))
    board.play(PASS)  # white passed; black owns the whole board by area
    assert player.genmove(board, BLACK) == PASS


def test_wrong_board_size_is_a_clear_error_and_gtp_refuses_it(player):
    with pytest.raises(ConvsuiteError, match="trained on 9x9"):
        player.genmove(Board(19), BLACK)
    engine = GtpEngine(player, fixed_size=9)
    assert engine.handle("boardsize 19").startswith("? unacceptable size")
    assert engine.handle("genmove b").startswith("= ")


def test_value_lookahead_picks_among_the_policys_top_moves():
    policy = models.maddison_net(9, 27, depth=3, filters=8, seed=0)
    value = models.value_net(9, 28, depth=3, filters=8, hidden=8, seed=0)
    board = random_position(seed=3)
    looker = PolicyPlayer(policy, "maddison", value=value, lookahead=4)
    move = looker.genmove(board, board.to_play)
    probs = np.where(looker.candidates(board, board.to_play), looker.move_probabilities(board), 0)
    assert move in np.argsort(-probs)[:4]


# --------------------------------------------------------------------------- other sizes, cleanup, search


def tiny_experiment(name="maddison", size=5):
    from convsuite.suites.go import config

    experiment = {"maddison": config.maddison_gnugo9, "clark-storkey": config.clark_storkey_gnugo9,
                  "value": config.value_gnugo9}[name]()
    experiment.model.depth, experiment.model.filters, experiment.model.value_hidden = 2, 4, 4
    experiment.data.board_size = size
    return experiment


@pytest.fixture(scope="module")
def small_nets():
    experiment = tiny_experiment()
    policy = models.build_model(experiment)
    policy.get_layer("position_bias").set_weights([np.linspace(-1, 1, 25)])
    value_experiment = tiny_experiment("value")
    return policy, experiment, models.build_model(value_experiment)


def test_a_maddison_net_plays_other_sizes_with_its_position_biases_at_zero(small_nets):
    policy, experiment, _ = small_nets
    player = PolicyPlayer(policy, "maddison", experiment=experiment)
    assert player.can_play(5) and player.can_play(7) and player.can_play(19) and not player.can_play(26)
    board = Board(7)
    move = player.genmove(board, BLACK)
    assert board.is_legal(move) and move != PASS
    seven = player.nets.at(7)
    assert models.model_board_size(seven) == 7
    assert not np.any(seven.get_layer("position_bias").get_weights()[0])
    for name in ("conv1", "conv2"):
        for old, new in zip(policy.get_layer(name).get_weights(), seven.get_layer(name).get_weights()):
            assert np.array_equal(old, new)
    without_experiment = PolicyPlayer(policy, "maddison")
    assert without_experiment.can_play(5) and not without_experiment.can_play(7)
    clark = models.build_model(tiny_experiment("clark-storkey"))
    assert not PolicyPlayer(clark, "clark-storkey", experiment=tiny_experiment("clark-storkey")).can_play(7)
    engine = GtpEngine(player, board_size=5)
    assert engine.handle("boardsize 7") == "= \n\n" and engine.handle("genmove b").startswith("= ")
    assert GtpEngine(without_experiment, board_size=5).handle("boardsize 7").startswith("? unacceptable size")


def test_cleanup_never_passes_while_moves_outside_its_territory_remain(small_nets):
    policy, experiment, _ = small_nets
    player = PolicyPlayer(policy, "maddison", experiment=experiment)
    board = Board(5, komi=0.5)  # Black walls column B, White column D: A is Black's, E White's, C neutral
    board.place([from_gtp(f"B{r}", 5) for r in range(1, 6)], BLACK)
    board.place([from_gtp(f"D{r}", 5) for r in range(1, 6)], WHITE)
    move = player.genmove_cleanup(board, BLACK)
    assert move != PASS and move % 5 in (2, 4)  # columns C or E, never its own column A
    done = Board(5, komi=0.5)  # all that is left are Black's own points
    done.place([p for p in range(25) if p not in {0, 12, 24}], BLACK)
    assert player.genmove_cleanup(done, BLACK) == PASS


def test_search_player_plays_legal_moves_with_nets_and_shares_the_clock(small_nets):
    from convsuite.suites.go.player import SearchPlayer

    policy, experiment, value = small_nets
    player = SearchPlayer(policy, "maddison", value, "alphago-value", experiment=experiment, rollouts=1,
                          playouts=16, batch_size=4)
    board = Board(5)
    for _ in range(3):
        move = player.genmove(board, board.to_play)
        assert board.is_legal(move) and not board.is_eye(move, board.to_play)
        board.play(move)
    assert player.last_result.playouts == 16
    seven = Board(7)
    assert player.can_play(7) and seven.is_legal(player.genmove(seven, BLACK))  # no value net at 7x7: rollouts
    assert player.search_for(7).evaluator.value is None and player.search_for(5).evaluator.value is value
    # The clock: 10 s of main time left at move 0 of 9x9 -> 10 / (0.4 * 81) s, less 15% and 0.1 s.
    clocked = SearchPlayer(policy, "maddison", experiment=experiment, playouts=10)
    assert clocked.move_time(Board(9), BLACK) is None
    clocked.set_time_control(60, 0, 0)
    clocked.set_time_left(BLACK, 10, 0)
    assert clocked.move_time(Board(9), BLACK) == pytest.approx(0.85 * 10 / 32.4 - 0.1)
    clocked.set_time_control(0, 30, 5)  # byo-yomi: 30 s for 5 stones
    clocked.set_time_left(BLACK, 30, 5)
    assert clocked.move_time(Board(9), BLACK) == pytest.approx(0.85 * 6 - 0.1)
    clocked.settings.time_per_move = 1.0
    assert clocked.move_time(Board(9), BLACK) == 1.0
    clocked.set_time_control(0, 1, 0)  # GTP: byo-yomi time without stones means no limit
    assert clocked.move_time(Board(9), BLACK) == 1.0
    with pytest.raises(ConvsuiteError, match="either a policy net or an evaluator"):
        SearchPlayer()
