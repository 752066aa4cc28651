"""The PUCT tree search: tactics the prior misses, visit bookkeeping, virtual loss, tree reuse,
exact game ends, seeds and time limits, the net evaluator's batches, and play against random."""

import time

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go import config, features
from convsuite.suites.go.board import BLACK, PASS, WHITE, Board, from_gtp
from convsuite.suites.go.gtp import RandomPlayer
from convsuite.suites.go.player import SearchPlayer
from convsuite.suites.go.search import (
    NetEvaluator,
    SearchSettings,
    TreeSearch,
    UniformEvaluator,
    cleanup_moves,
    rollout_result,
    territory,
)


class Material:
    """Uniform priors (``peaked``: 30 times more on the first empty point); value: tanh((own stones
    - opponent stones) / 3) for the player to move. Records the boards of each call."""

    def __init__(self, peaked=False):
        self.calls: list[list[Board]] = []
        self.peaked = peaked

    def evaluate(self, boards):
        self.calls.append([b.copy() for b in boards])
        priors = np.ones((len(boards), boards[0].num_points))
        if self.peaked:
            priors[np.arange(len(boards)), [int(np.argmax(b.stones == 0)) for b in boards]] = 30.0
        values = [np.tanh((np.sum(b.stones == b.to_play) - np.sum(b.stones == -b.to_play)) / 3) for b in boards]
        return priors, np.array(values)


def position(size, black, white, to_play=BLACK, komi=0.5):
    board = Board(size, komi=komi)
    board.place([from_gtp(v, size) for v in black], BLACK)
    if white:
        board.place([from_gtp(v, size) for v in white], WHITE)
    board.to_play = to_play
    return board


#    A B C D E
#  5 . . . . O
#  4 . . X . .
#  3 . X O X .
#  2 . X O X .      two white stones in atari: C1 captures them
#  1 . . . . .
CAPTURE = (["B3", "C4", "D3", "B2", "D2"], ["C3", "C2", "E5"], "C1")
#  5 . . . . .
#  4 . O . . .
#  3 O X X O .      black B3-C3 in atari (liberty C4): only C4 saves them
#  2 . O O . .
#  1 . . . . X
SAVE = (["B3", "C3", "E1"], ["A3", "B2", "C2", "D3", "B4"], "C4")


@pytest.mark.parametrize("black, white, answer", [CAPTURE, SAVE], ids=["capture", "save-atari"])
def test_search_finds_the_tactic_the_uniform_prior_misses(black, white, answer):
    board = position(5, black, white)
    prior_choice = int(np.argmax(np.where(board.legal_moves(), 1.0, 0.0)))  # uniform: the first legal point
    assert prior_choice != from_gtp(answer, 5)
    result = TreeSearch(Material(), playouts=300).run(board)
    assert result.move == from_gtp(answer, 5)
    assert result.visits[result.move] == max(result.visits.values())


def test_visits_sum_to_the_playouts_and_the_result_reports_them():
    result = TreeSearch(Material(), playouts=123, batch_size=5).run(Board(5))
    assert result.playouts == 123 and sum(result.visits.values()) == 123 == result.root_visits
    assert result.reused_visits == 0 and result.batches >= 123 // 5 and result.evaluations <= 124


def test_virtual_loss_spreads_a_batch_over_different_leaves():
    spread = Material()
    TreeSearch(spread, playouts=8, batch_size=8).run(Board(5))
    root_call, batch = spread.calls
    assert len(root_call) == 1 and len(batch) == 8
    assert len({b.history[-1] for b in batch}) == 8  # eight different first moves
    piled = Material()
    result = TreeSearch(piled, playouts=8, batch_size=8, virtual_loss=0).run(Board(5))
    assert len(piled.calls[1]) == 1  # without virtual loss every path ends on the same leaf ...
    assert list(result.visits.values()) == [8]  # ... which then counts all eight playouts


def test_tree_reuse_keeps_the_subtree_visits_after_our_move_and_the_reply():
    search = TreeSearch(Material(peaked=True), playouts=200)
    board = Board(5)
    first = search.run(board)
    ours = search.root.children[int(np.flatnonzero(search.root.moves == first.move)[0])]
    reply_index = int(np.argmax(ours.visits))
    kept = ours.children[reply_index]
    kept_visits = int(kept.visits.sum())
    assert kept_visits > 0
    board.play(first.move)
    board.play(int(ours.moves[reply_index]))
    second = search.run(board)
    assert search.root is kept and second.reused_visits == kept_visits
    assert second.root_visits == kept_visits + 200
    other = Board(5)
    other.play(from_gtp("A1", 5))  # another game: a fresh tree
    assert search.run(other, playouts=10).reused_visits == 0


def test_two_passes_end_the_game_and_are_scored_exactly():
    # White has one stone and Black passed: by Tromp-Taylor all 25 points are White's, so
    # White's pass wins (+1, every time). A larger pass prior makes the search look at it.
    board = position(5, [], ["C3"], to_play=BLACK)
    board.play(PASS, BLACK)
    result = TreeSearch(Material(), playouts=200, pass_prior=3).run(board)
    assert result.q[PASS] == 1.0 and result.move == PASS
    # Black to move after White's pass, 2 black stones against 1 but komi 2.5: the count
    # (B 2 + 0 territory ... every empty region touches both colours) says Black 2 - 1 - 2.5 < 0.
    board = position(5, ["A1", "E5"], ["C3"], to_play=WHITE, komi=2.5)
    board.play(PASS, WHITE)
    assert board.score() == 2 - 1 - 2.5
    result = TreeSearch(Material(), playouts=200, pass_prior=3).run(board)
    assert result.q[PASS] == -1.0 and result.move != PASS
    over = Board(5)
    over.play(PASS)
    over.play(PASS)
    assert TreeSearch(Material(), playouts=5).run(over).move == PASS


def test_rollouts_and_territory_agree_with_the_rules_engine():
    board = position(5, ["B1", "B2", "B3", "B4", "B5"], ["D1", "D2", "D3", "D4", "D5"], komi=0.5)
    owner = territory(board)
    black, white = board.area()
    assert black == 5 + int(np.sum(owner == BLACK)) and white == 5 + int(np.sum(owner == WHITE))
    assert {int(p) % 5 for p in np.flatnonzero(owner == BLACK)} == {0}  # column A
    # The cleanup phase may play anywhere but in its own territory (column A for Black).
    assert {int(p) % 5 for p in np.flatnonzero(cleanup_moves(board, BLACK))} == {2, 4}
    import random

    eyes = {from_gtp(v, 5) for v in ("A1", "C3", "E5")}
    finished = Board(5, komi=0.5)
    finished.place([p for p in range(25) if p not in eyes], BLACK)
    finished.to_play = WHITE
    # White may only commit suicide and Black only fill its own eyes: both pass, Black wins by 25.5.
    assert rollout_result(finished, random.Random(0)) == -1.0
    finished.to_play = BLACK
    assert rollout_result(finished, random.Random(0)) == 1.0


def test_the_same_seed_gives_the_same_search():
    runs = [TreeSearch(UniformEvaluator(rollouts=1, seed=3), playouts=64, batch_size=4, seed=3).run(Board(5))
            for _ in range(2)]
    assert runs[0].visits == runs[1].visits and runs[0].move == runs[1].move


def test_a_time_limit_ends_an_endless_search():
    start = time.perf_counter()
    result = TreeSearch(UniformEvaluator(rollouts=0), playouts=10**9, time_per_move=0.2).run(Board(5))
    assert 0 < result.playouts < 10**9
    assert time.perf_counter() - start < 30  # it returned; the exact time is not asserted
    nothing = TreeSearch(UniformEvaluator(rollouts=0), playouts=100).run(Board(5), seconds=0)
    assert nothing.playouts == 0 and Board(5).is_legal(nothing.move)  # no time: the prior's choice


def test_bad_settings_are_clear_errors():
    with pytest.raises(ConvsuiteError, match="c_puct"):
        TreeSearch(Material(), c_puct=0)
    with pytest.raises(ConvsuiteError, match="playouts >= 1 or time_per_move"):
        SearchSettings(playouts=0).check()
    with pytest.raises(ConvsuiteError, match="unknown search setting"):
        TreeSearch(Material(), playout=5)


class Spy:
    """A model that records the batch shapes it is called with."""

    def __init__(self, model):
        self.model, self.shapes = model, []

    def predict_on_batch(self, x):
        self.shapes.append(x.shape)
        return self.model.predict_on_batch(x)


def test_net_evaluator_pads_to_a_fixed_batch_and_returns_priors_and_values():
    from convsuite.suites.go.models import build_model

    policy_exp = config.maddison_gnugo9()
    policy_exp.model.depth, policy_exp.model.filters, policy_exp.data.board_size = 2, 4, 5
    value_exp = config.value_gnugo9()
    value_exp.model.depth, value_exp.model.filters, value_exp.model.value_hidden = 2, 4, 4
    value_exp.data.board_size = 5
    policy, value = Spy(build_model(policy_exp)), Spy(build_model(value_exp))
    boards = []
    board = Board(5)
    for move in ("C3", "C2", "B3", "D3", "B2", "pass"):
        board.play(from_gtp(move, 5))
        boards.append(board.copy())
    evaluator = NetEvaluator(policy, "maddison", value, "alphago-value", batch_size=4)
    priors, values = evaluator.evaluate(boards)
    assert priors.shape == (6, 25) and values.shape == (6,)
    assert np.allclose(priors.sum(axis=1), 1.0, atol=1e-4) and np.all(np.abs(values) <= 1)
    assert [s[0] for s in policy.shapes] == [s[0] for s in value.shapes] == [4, 4]  # 6 boards: 4 + 2 padded
    planes = features.boards_planes(boards[:4], "alphago-value")  # the evaluator derives them from maddison's
    direct = np.asarray(value.model.predict_on_batch(features.model_inputs(planes))).reshape(-1)
    assert np.allclose(values[:4], direct, atol=1e-5)
    mixed = NetEvaluator(policy, "maddison", value, "alphago-value", rollouts=1, mix=1.0, batch_size=4)
    assert set(mixed.evaluate(boards[:2])[1]) <= {-1.0, 0.0, 1.0}  # mix 1: the rollout results alone
    search = TreeSearch(evaluator, playouts=12, batch_size=4).run(Board(5))
    assert sum(search.visits.values()) == 12


def play_game(black, white, size=7, komi=0.5, max_moves=120):
    board = Board(size, komi=komi)
    players = {BLACK: black, WHITE: white}
    while not board.game_over and board.move_number < max_moves:
        board.play(players[board.to_play].genmove(board, board.to_play))
    return board.score()


def test_search_with_rollouts_beats_a_random_player_on_7x7():
    # 60 playouts give most of the ~45 moves a rollout or two and won 8 of 8 such games; with 40
    # the search is little more than one random sample per move and lost 3 of 8.
    wins = 0
    for game in range(3):
        searcher = SearchPlayer(evaluator=UniformEvaluator(rollouts=1, seed=game), playouts=60, seed=game)
        random_player = RandomPlayer(seed=game)
        color = BLACK if game % 2 == 0 else WHITE
        score = play_game(searcher if color == BLACK else random_player, random_player if color == BLACK else searcher)
        wins += score * color > 0
    assert wins == 3


def test_search_player_and_commands_import_no_keras():
    import subprocess
    import sys

    code = ("import sys, convsuite.suites.go.search, convsuite.suites.go.player, convsuite.suites.go.commands; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
