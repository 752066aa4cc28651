"""Our move generator against open_spiel's ``checkers`` (an independent implementation of the same
rules) along random games, the coordinate mapping between the two boards, and the MCTS bot bridge."""

import random

import pytest

from tests.requirements import require

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers import open_spiel_bridge as bridge
from convsuite.suites.checkers.board import BLACK, WHITE, Game, Position, parse_fen, row_col

pyspiel = require("pyspiel", "checkers")  # the independent implementation we check against


def test_initial_states_agree_and_the_mapping_turns_the_board_by_180_degrees():
    state = bridge.new_state()
    assert bridge.position_from_state(state) == Position()
    assert state.current_player() == BLACK
    # open_spiel's first player 'o' fills the three bottom lines of its diagram: our Black, squares 1-12
    lines = str(state).splitlines()
    assert set("".join(line[1:] for line in lines[5:8])) == {"o", "."}
    assert set("".join(line[1:] for line in lines[0:3])) == {"+", "."}
    for square in range(1, 33):
        row, column = bridge.cell_of_square(square)
        assert bridge.square_of_cell(row, column) == square
        assert (row, column) == tuple(7 - x for x in row_col(square))
    assert (bridge.algebraic(4), bridge.algebraic(29), bridge.algebraic(1), bridge.algebraic(32)) == \
        ("a1", "h8", "g1", "b8")
    # every action's text names the squares we decode it to
    for action in state.legal_actions():
        start, land, capture = bridge.action_squares(action)
        assert state.action_to_string(action) == bridge.algebraic(start) + bridge.algebraic(land)
        assert not capture


def _play_random_line(seed: int, stats: dict) -> None:
    """One random game driven through both engines: same moves, same boards, same move sets."""
    rng = random.Random(seed)
    game = Game()
    state = bridge.new_state()
    plies_without_capture = 0
    while True:
        assert bridge.position_from_state(state) == game.position, (seed, game.movetext())
        ours = game.position.legal_moves()
        # open_spiel ends the game exactly when the side to move has no move (a loss) or after
        # 40 actions in a row without a capture (a draw)
        assert state.is_terminal() == (not ours or plies_without_capture >= bridge.MAX_ACTIONS_WITHOUT_CAPTURE)
        if state.is_terminal():
            if not ours:
                assert state.returns()[game.turn] == -1.0
                stats["no move"] += 1
            else:
                assert state.returns() == [0.0, 0.0]
                stats["40-action draws"] += 1
            return
        paths = [m.squares for m in ours]
        theirs = bridge.open_spiel_moves(state)
        assert len(set(paths)) == len(paths) and len(set(theirs)) == len(theirs)
        assert set(paths) == set(theirs), (seed, game.position.to_fen())
        stats["positions"] += 1
        stats["king moves"] += any(game.position.kings >> m.path[0] & 1 for m in ours)
        stats["multi-jumps"] += any(len(m.path) > 2 for m in ours)
        stats["king captures"] += any(m.is_capture and game.position.kings >> m.path[0] & 1 for m in ours)
        if game.is_over():  # threefold repetition: open_spiel has no such rule
            stats["our ends"] += 1
            return
        move = rng.choice(sorted(ours, key=lambda m: m.path))
        game.play(move)
        bridge.apply_to_state(state, move)
        plies_without_capture = 0 if move.is_capture else plies_without_capture + 1


def test_move_sets_agree_with_open_spiel_along_400_random_games():
    stats = dict.fromkeys(["positions", "king moves", "multi-jumps", "king captures", "no move", "40-action draws",
                           "our ends"], 0)
    for seed in range(400):
        _play_random_line(seed, stats)
    assert stats["positions"] > 20000
    # the sample reached the hard parts of the rules, not just opening steps
    assert stats["king moves"] > 5000 and stats["multi-jumps"] > 500 and stats["king captures"] > 500, stats
    assert stats["no move"] + stats["40-action draws"] + stats["our ends"] == 400
    assert stats["no move"] > 0 and stats["40-action draws"] > 0, stats


def test_state_for_replays_our_moves_and_refuses_an_incomplete_jump():
    game = Game()
    for text in ["11-15", "24-19", "15x24", "28x19"]:
        game.play(text)
    state = bridge.state_for(game.moves)
    assert bridge.position_from_state(state) == game.position
    # a multi-jump position: 9x18x27 must be played whole
    position = parse_fen("B:W14,23,32:B9")
    assert [m.squares for m in position.legal_moves()] == [(9, 18, 27)]
    assert bridge.move_from_path((9, 18, 27), position).captured.bit_count() == 2
    with pytest.raises(ConvsuiteError, match="open_spiel refuses step 16-20 of move 11-16-20"):
        bridge.apply_to_state(bridge.new_state(), (11, 16, 20))
    with pytest.raises(ConvsuiteError, match="open_spiel refuses step 12-17 of move 12-17"):
        bridge.apply_to_state(bridge.new_state(), (12, 17))
    with pytest.raises(ConvsuiteError, match=r"move 9-10 is not legal in our position"):
        bridge.move_from_path((9, 10), Position())
    # along a random line, the first multi-jump cut short after its first jump
    rng = random.Random(0)
    game = Game()
    while not any(len(m.path) > 2 for m in game.legal_moves()):
        game.play(rng.choice(game.legal_moves()))
    jump = next(m for m in game.legal_moves() if len(m.path) > 2)
    with pytest.raises(ConvsuiteError, match=rf"move {jump.start}-{jump.squares[1]} stops mid-capture in open_spiel"):
        bridge.apply_to_state(bridge.state_for(game.moves), jump.squares[:2])
    whole = bridge.apply_to_state(bridge.state_for(game.moves), jump)
    assert bridge.position_from_state(whole) == game.position.play(jump)


def test_mcts_bot_plays_legal_whole_moves():
    bot = bridge.mcts_bot(simulations=8, seed=3)
    game = Game()
    state = bridge.new_state()
    for _ in range(8):
        before = bridge.position_from_state(state)
        move = bridge.bot_move(bot, state, game.position)
        assert bridge.position_from_state(state) == before  # the state is left to the caller
        assert move in game.legal_moves()
        game.play(move)
        bridge.apply_to_state(state, move)
        assert bridge.position_from_state(state) == game.position
    assert game.plies == 8 and state.current_player() in (BLACK, WHITE)
    with pytest.raises(ConvsuiteError, match="at least 1 simulation"):
        bridge.mcts_bot(simulations=0, seed=0)


def test_missing_open_spiel_gives_one_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyspiel(name, *args, **kwargs):
        if name == "pyspiel":
            raise ImportError("No module named 'pyspiel'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyspiel)
    monkeypatch.setattr(bridge, "_game", None)
    with pytest.raises(ConvsuiteError, match="pip install open-spiel"):
        bridge.new_state()
