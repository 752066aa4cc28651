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
