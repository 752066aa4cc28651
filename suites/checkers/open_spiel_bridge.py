"""open_spiel's ``checkers`` game seen through our board: coordinates, whole moves, and its MCTS bot.

open_spiel (Lanctot et al., "OpenSpiel: A Framework for Reinforcement Learning in Games", 2019)
plays the same English draughts rules, but its moves are single actions: a multi-jump is several
actions by the same player, the player to move staying the same while its piece must jump on.
This module assembles those actions into our whole moves and back, so the match runner can play
our players against open_spiel's MCTS bot and the tests can check both move generators agree.

Coordinates: open_spiel's first player (drawn ``o``, king ``8``) starts on the three rows at the
bottom of its diagram (rows 1-3, row 0 of its board array is the top line, labelled 8) and moves
up; it is our Black. Its board is ours turned by 180 degrees: its cell (row, column) is our
diagram's (7 - row, 7 - column), so its ``a1`` (row 7, column 0) is our square 4 and its ``h8``
is our square 29. Its second player (``+``, king ``*``) is our White.

open_spiel ends a game when the side to move has no action (a loss for it) or after 40
consecutive actions without a capture (a draw); it has no repetition rule, and its game length
bound (``max_game_length()``, 1000) follows from the 40-action rule.

Imports no Keras; pyspiel is imported on first use, so the rest of the suite runs without it.
"""

from __future__ import annotations

from typing import Iterable

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers.board import BLACK, WHITE, Move, Position, row_col, square_at

GAME_NAME = "checkers"
SIZE = 8
MAX_ACTIONS_WITHOUT_CAPTURE = 40  # open_spiel's draw rule (kMaxMovesWithoutCapture)
# open_spiel's action = ((row * 8 + column) * 4 + direction) * 2 + kind, kind 1 = capture;
# direction 0..3 = (row, column) steps (-1, -1), (-1, +1), (+1, +1), (+1, -1) on its board array.
_DIRECTIONS = ((-1, -1), (-1, 1), (1, 1), (1, -1))
_PIECES = {"o": (BLACK, False), "8": (BLACK, True), "+": (WHITE, False), "*": (WHITE, True)}

_game = None


def pyspiel():
    """The pyspiel module, or one clear error saying how to install it."""
    try:
        import pyspiel as module
    except ImportError as error:
        raise ConvsuiteError(f"open_spiel is not installed ({error}); run `pip install open-spiel` (or install "
                             "convsuite[checkers]) to play or check against open_spiel's checkers") from error
    return module


def game():
    """open_spiel's standard 8x8 ``checkers`` game (loaded once)."""
    global _game
    if _game is None:
        _game = pyspiel().load_game(GAME_NAME)
    return _game


def new_state():
    """open_spiel's initial state (our ``Position()``, Black = its player 0 to move)."""
    return game().new_initial_state()


def square_of_cell(row: int, column: int) -> int:
    """Our PDN square for open_spiel's board cell (row 0 = its top line, labelled 8); 0 for a light cell."""
    return square_at(SIZE - 1 - row, SIZE - 1 - column)


def cell_of_square(square: int) -> tuple[int, int]:
    """open_spiel's board cell (row, column) of our PDN square 1..32."""
    row, column = row_col(square)
    return SIZE - 1 - row, SIZE - 1 - column


def algebraic(square: int) -> str:
    """The name open_spiel's action strings give our square (square 4 -> 'a1', 29 -> 'h8')."""
    row, column = cell_of_square(square)
    return f"{chr(ord('a') + column)}{SIZE - row}"


def action_squares(action: int) -> tuple[int, int, bool]:
    """(from square, to square, is_capture) of one open_spiel action, in our PDN numbers."""
    rest, kind = divmod(int(action), 2)
    rest, direction = divmod(rest, 4)
    row, column = divmod(rest, SIZE)
    distance = kind + 1
    d_row, d_column = _DIRECTIONS[direction]
    return (square_of_cell(row, column), square_of_cell(row + distance * d_row, column + distance * d_column),
            bool(kind))


def position_from_state(state) -> Position:
    """Our Position for an open_spiel state, read from its diagram (only between whole moves:
    mid-jump, the side to move would be the jumping player)."""
    lines = str(state).splitlines()[:SIZE]
    black = white = kings = 0
    for row, line in enumerate(lines):
        cells = line[-SIZE:]
        for column, cell in enumerate(cells):
            if cell in _PIECES:
                colour, is_king = _PIECES[cell]
                bit = 1 << (square_of_cell(row, column) - 1)
                if colour == BLACK:
                    black |= bit
                else:
                    white |= bit
                if is_king:
                    kings |= bit
    player = state.current_player()
    if player not in (BLACK, WHITE):  # game over: the side to move is the one after the last mover
        history = state.full_history()
        player = 1 - history[-1].player if history else BLACK
    return Position(black, white, kings, player)


def open_spiel_moves(state) -> list[tuple[int, ...]]:
    """Every whole move open_spiel allows the player to move, each as the PDN squares its piece
    stands on in turn (``(11, 15)``, ``(15, 24, 31)``): its actions explored recursively while the
    same player keeps moving mid-capture. Empty when the game is over."""
    if state.is_terminal():
        return []
    player = state.current_player()
    moves: list[tuple[int, ...]] = []

    def extend(current, path):
        for action in current.legal_actions():
            start, land, capture = action_squares(action)
            longer = path + (land,) if path else (start, land)
            after = current.child(action)
            if capture and not after.is_terminal() and after.current_player() == player:
                extend(after, longer)
            else:
                moves.append(longer)

    extend(state, ())
    return moves


def apply_to_state(state, move: Move | Iterable[int]):
    """Play our ``move`` (a Move or its PDN squares) on the open_spiel ``state`` as its actions,
    in place; returns the state. A move open_spiel refuses raises ConvsuiteError."""
    squares = tuple(move.squares if isinstance(move, Move) else move)
    player = state.current_player()
    text = "-".join(map(str, squares))
    for step, (start, land) in enumerate(zip(squares, squares[1:])):
        actions = {action_squares(a)[:2]: a for a in ([] if state.is_terminal() else state.legal_actions())}
        if (start, land) not in actions or (step and state.current_player() != player):
            allowed = ", ".join(f"{a}-{b}" for a, b in sorted(actions)) or "none"
            raise ConvsuiteError(f"open_spiel refuses step {start}-{land} of move {text}; its legal steps here: "
                                 f"{allowed}")
        state.apply_action(actions[start, land])
    if not state.is_terminal() and state.current_player() == player:
        raise ConvsuiteError(f"move {text} stops mid-capture in open_spiel: the piece on {squares[-1]} must jump on")
    return state


def state_for(moves: Iterable[Move | Iterable[int]]):
    """open_spiel's state after ``moves`` (ours) from the initial position (open_spiel starts
    nowhere else)."""
    state = new_state()
    for move in moves:
        apply_to_state(state, move)
    return state


def move_from_path(path: Iterable[int], position: Position) -> Move:
    """Our legal Move with these PDN squares in ``position``; ConvsuiteError if there is none."""
    squares = tuple(path)
    legal = position.legal_moves()
    for move in legal:
        if move.squares == squares:
            return move
    raise ConvsuiteError(f"open_spiel's move {'-'.join(map(str, squares))} is not legal in our position "
                         f"{position.to_fen()}; legal moves: {', '.join(map(str, legal)) or 'none'}")


def move_from_actions(actions: Iterable[int], position: Position) -> Move:
    """Our Move for one player's open_spiel actions of a turn (a step, or the jumps of a capture)."""
    path: tuple[int, ...] = ()
    for action in actions:
        start, land, _ = action_squares(action)
        if path and path[-1] != start:
            raise ConvsuiteError(f"open_spiel actions do not chain: a jump from {start} after landing on {path[-1]}")
        path = path + (land,) if path else (start, land)
    return move_from_path(path, position)


def mcts_bot(simulations: int, seed: int, uct_c: float = 2.0, rollouts: int = 1):
    """open_spiel's MCTSBot on checkers: ``simulations`` playouts a move, each valued by
    ``rollouts`` random games to the end; seeded, so a match replays exactly."""
    import numpy as np

    pyspiel()  # the one clear error when open_spiel is missing
    from open_spiel.python.algorithms import mcts

    if simulations < 1:
        raise ConvsuiteError(f"the MCTS bot needs at least 1 simulation a move, got {simulations}")
    evaluator = mcts.RandomRolloutEvaluator(n_rollouts=rollouts, random_state=np.random.RandomState(seed))
    return mcts.MCTSBot(game(), uct_c, simulations, evaluator, random_state=np.random.RandomState(seed + 1))


def bot_move(bot, state, position: Position) -> Move:
    """The bot's whole move in ``state`` (every action of its turn) as our Move in ``position``;
    ``state`` is left unchanged (play the move with `apply_to_state`)."""
    if state.is_terminal():
        raise ConvsuiteError("open_spiel's game is over; the bot has no move to make")
    working = state.clone()
    player = working.current_player()
    actions = []
    while True:
        action = bot.step(working)
        actions.append(action)
        working.apply_action(action)
        if working.is_terminal() or working.current_player() != player:
            return move_from_actions(actions, position)
