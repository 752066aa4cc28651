"""Go rules engine: known-answer diagrams first, then the fast paths against slow references.

Diagrams are rows top to bottom, X = black, O = white, '.' = empty; spaces are ignored.
The slow references are a flood-fill rules implementation written here (``Reference``) and
"copy the board and try to play" brute force; random playouts on 5x5 (many kos and repeated
positions) and 9x9 supply the positions.
"""

import random

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go.board import (
    BLACK,
    EMPTY,
    PASS,
    RESIGN,
    WHITE,
    Board,
    IllegalMove,
    from_gtp,
    from_sgf,
    point,
    row_col,
    to_gtp,
    to_sgf,
)


def board_from(diagram: str, to_play: int = BLACK, **kwargs) -> Board:
    rows = [line.replace(" ", "") for line in diagram.strip().splitlines()]
    size = len(rows)
    assert all(len(row) == size for row in rows), "diagram must be square"
    board = Board(size, **kwargs)
    for symbol, color in (("X", BLACK), ("O", WHITE)):
        points = [r * size + c for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == symbol]
        if points:
            board.place(points, color)
    board.to_play = to_play
    return board


def diagram_of(board: Board) -> str:
    symbol = {BLACK: "X", WHITE: "O", EMPTY: "."}
    return "\n".join("".join(symbol[int(v)] for v in row) for row in board.grid)


def same_diagram(board: Board, diagram: str) -> bool:
    return diagram_of(board) == "\n".join(line.replace(" ", "") for line in diagram.strip().splitlines())


def p(text: str, size: int) -> int:
    return from_gtp(text, size)


def snapshot(board: Board):
    return (board.stones.copy(), board.stone_age.copy(), board.hash, list(board.history), board.to_play,
            board.move_number, dict(board.captures), board.ko_point, set(board.position_hashes), board.passes,
            board.liberty_counts().copy(), [board.group(q) for q in range(board.num_points)])


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y)
        else:
            assert x == y


# --------------------------------------------------------------------------- slow references


def flood(grid, start, size):
    """(stones, liberties) of the chain at ``start`` by flood fill."""
    color = grid[start]
    stones, libs, stack = {start}, set(), [start]
    while stack:
        q = stack.pop()
        r, c = divmod(q, size)
        for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= rr < size and 0 <= cc < size:
                nb = rr * size + cc
                if grid[nb] == EMPTY:
                    libs.add(nb)
                elif grid[nb] == color and nb not in stones:
                    stones.add(nb)
                    stack.append(nb)
    return stones, libs


class Reference:
    """The rules the obvious way: flood fills, whole positions compared as tuples."""

    def __init__(self, size, superko=True):
        self.size, self.superko = size, superko
        self.grid = (EMPTY,) * (size * size)
        self.positions = [self.grid]  # after every ply, passes included
        self.last_was_move = []

    def attempt(self, move, color):
        """(reason, grid after, captured points)."""
        size, grid = self.size, list(self.grid)
        if grid[move] != EMPTY:
            return "occupied", None, None
        grid[move] = color
        captured = set()
        r, c = divmod(move, size)
        for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= rr < size and 0 <= cc < size and grid[rr * size + cc] == -color:
                stones, libs = flood(grid, rr * size + cc, size)
                if not libs:
                    captured |= stones
        for q in captured:
            grid[q] = EMPTY
        if not flood(grid, move, size)[1]:
            return "suicide", None, None
        after = tuple(grid)
        if len(self.positions) >= 2 and self.last_was_move and self.last_was_move[-1] and after == self.positions[-2]:
            return "ko", None, None
        if self.superko and after in self.positions:
            return "superko", None, None
        return None, after, sorted(captured)

    def play(self, move, color):
        if move == PASS:
            self.positions.append(self.grid)
            self.last_was_move.append(False)
            return []
        reason, after, captured = self.attempt(move, color)
        assert reason is None
        self.grid = after
        self.positions.append(after)
        self.last_was_move.append(True)
        return captured


def brute_force_legal(board, color):
    out = np.zeros(board.num_points, bool)
    for q in range(board.num_points):
        trial = board.copy()
        try:
            trial.play(q, color)
        except IllegalMove:
            continue
        out[q] = True
    return out


def brute_force_effects(board, color):
    captures = np.zeros(board.num_points, np.int64)
    liberties = np.zeros(board.num_points, np.int64)
    for q in range(board.num_points):
        trial = board.copy()
        try:
            captured = trial.play(q, color)
        except IllegalMove:
            continue
        captures[q] = len(captured)
        liberties[q] = trial.liberties(q)
    return captures, liberties


def flood_liberty_counts(board):
    grid = [int(v) for v in board.stones]
    return np.array([len(flood(grid, q, board.size)[1]) if grid[q] != EMPTY else 0
                     for q in range(board.num_points)])


def random_positions(size, games, seed, max_moves):
    """Boards from random playouts that mostly avoid filling their own eyes, so kos and captures recur."""
    rng = random.Random(seed)
    out = []
    for _ in range(games):
        board = Board(size, superko=rng.random() < 0.8)
        stops = set(rng.sample(range(1, max_moves), 4))
        for move_index in range(max_moves):
            if rng.random() < 0.03:
                board.play(PASS)
            else:
                color = board.to_play
                empty = [q for q in range(board.num_points) if board.stones[q] == EMPTY
                         and not (board.is_eye(q, color) and rng.random() < 0.9)]
                rng.shuffle(empty)
                for q in empty:
                    if board.is_legal(q):
                        board.play(q)
                        break
                else:
                    board.play(PASS)
            if move_index in stops or (board.ko_point >= 0 and rng.random() < 0.3):  # kos are fleeting
                out.append(board.copy())
    return out


@pytest.fixture(scope="module")
def positions():
    return (random_positions(3, 40, seed=5, max_moves=30) + random_positions(4, 20, seed=3, max_moves=50)
            + random_positions(5, 50, seed=1, max_moves=70) + random_positions(9, 25, seed=2, max_moves=130)
            + random_positions(19, 1, seed=4, max_moves=300))


def fresh_hash(board: Board) -> int:
    """The Zobrist hash of the same stones placed on an empty board."""
    other = Board(board.size)
    for color in (BLACK, WHITE):
        points = [int(q) for q in np.flatnonzero(board.stones == color)]
        if points:
            other.place(points, color)
    return other.hash


# --------------------------------------------------------------------------- captures


def test_single_stone_capture_in_the_middle():
    board = board_from("""
        . . . . .
        . . X . .
        . X O X .
        . . . . .
        . . . . .
    """)
    assert board.liberties(p("C3", 5)) == 1
    assert board.play(p("C2", 5)) == [p("C3", 5)]
    assert board.captures == {BLACK: 1, WHITE: 0}
    assert board.stones[p("C3", 5)] == EMPTY and board.stone_age[p("C3", 5)] == -1
    assert board.liberties(p("C2", 5)) == 4  # B2 D2 C1 and the freed C3
    assert board.liberties(p("C4", 5)) == 4  # C5 B4 D4 and the freed C3
    assert board.ko_point == -1
    assert board.hash == fresh_hash(board)


def test_multi_stone_group_capture_frees_all_its_points():
    board = board_from("""
        . . . . .
        . X X X .
        X O O O X
        . X X . .
        . . . . .
    """)
    assert board.group(p("C3", 5)) == [p("B3", 5), p("C3", 5), p("D3", 5)]
    assert board.liberties(p("B3", 5)) == 1
    assert board.play(p("D2", 5)) == [p("B3", 5), p("C3", 5), p("D3", 5)]
    assert board.captures == {BLACK: 3, WHITE: 0}
    assert same_diagram(board, """
        . . . . .
        . X X X .
        X . . . X
        . X X X .
        . . . . .
    """)
    assert board.liberties(p("C4", 5)) == 8  # A4 B5 C5 D5 E4 and the freed B3 C3 D3
    assert board.liberties(p("C2", 5)) == 8  # A2 B1 C1 D1 E2 and the freed B3 C3 D3
    assert board.hash == fresh_hash(board)


def test_captures_on_the_edge_and_in_the_corner_count_for_the_capturer():
    board = board_from("""
        O X . O X
        . . . . .
        . . . . .
        . . . . .
        . X O X .
    """)
    assert board.play(p("A4", 5)) == [p("A5", 5)]  # corner
    assert board.play(p("E4", 5)) == [p("E5", 5)]  # white takes the other corner
    assert board.play(p("C2", 5)) == [p("C1", 5)]  # edge
    assert board.captures == {BLACK: 2, WHITE: 1}
    assert same_diagram(board, """
        . X . O .
        X . . . O
        . . . . .
        . . X . .
        . X . X .
    """)
    assert board.liberties(p("C2", 5)) == 4
    assert board.hash == fresh_hash(board)


# --------------------------------------------------------------------------- suicide


def test_single_stone_suicide_is_illegal_and_the_board_is_untouched():
    board = board_from("""
        . O . . .
        O . . . .
        . . . . .
        . . . . .
        . . . . .
    """)
    before = snapshot(board)
    assert board.illegal_reason(p("A5", 5)) == "suicide"
    with pytest.raises(IllegalMove) as info:
        board.play(p("A5", 5))
    assert info.value.reason == "suicide"
    assert isinstance(info.value, ConvsuiteError)
    assert "A5" in str(info.value) and "black" in str(info.value)
    assert_same(snapshot(board), before)
    assert board.is_legal(p("A5", 5), WHITE)


def test_group_suicide_is_illegal_but_the_opponent_may_capture_there():
    board = board_from("""
        X . O . .
        O O O . .
        . . . . .
        . . . . .
        . . . . .
    """)
    assert board.illegal_reason(p("B5", 5), BLACK) == "suicide"
    assert not board.legal_moves(BLACK)[p("B5", 5)]
    before = snapshot(board)
    with pytest.raises(IllegalMove):
        board.play(p("B5", 5), BLACK)
    assert_same(snapshot(board), before)
    assert board.play(p("B5", 5), WHITE) == [p("A5", 5)]


def test_filling_the_last_liberty_is_legal_when_it_captures():
    board = board_from("""
        . O O X .
        O X X . .
        . . . . .
        . . . . .
        . . . . .
    """)
    assert board.illegal_reason(p("A5", 5)) is None
    assert board.legal_moves()[p("A5", 5)]
    assert board.play(p("A5", 5)) == [p("B5", 5), p("C5", 5)]
    assert board.liberties(p("A5", 5)) == 1  # B5 freed; C5 is not next to the A5 stone
    assert board.liberties(p("B4", 5)) == 5  # B3 C3 D4 and the freed B5 C5
    assert board.ko_point == -1  # two stones taken: no ko


# --------------------------------------------------------------------------- ko and snapback

KO = """
    . X O . .
    X O . O .
    . X O . .
    . . . . .
    . . . . .
"""


def test_simple_ko_forbids_the_immediate_recapture_only():
    board = board_from(KO)
    assert board.ko_point == -1
    assert board.play(p("C4", 5)) == [p("B4", 5)]
    assert board.ko_point == p("B4", 5)
    assert board.to_play == WHITE
    assert board.illegal_reason(p("B4", 5)) == "ko"
    assert not board.legal_moves(WHITE)[p("B4", 5)]
    assert board.legal_moves(BLACK)[p("B4", 5)]  # the ko binds only the player who would retake
    before = snapshot(board)
    with pytest.raises(IllegalMove) as info:
        board.play(p("B4", 5))
    assert info.value.reason == "ko"
    assert_same(snapshot(board), before)
    board.play(p("E1", 5))  # a ko threat elsewhere
    assert board.ko_point == -1
    board.play(p("A1", 5))
    assert board.is_legal(p("B4", 5))
    assert board.play(p("B4", 5)) == [p("C4", 5)]
    assert board.ko_point == p("C4", 5)
    assert board.illegal_reason(p("C4", 5), BLACK) == "ko"
    board.play(PASS)
    assert board.ko_point == -1
    # Retaking now would recreate the position after Black's A1: only superko forbids that.
    assert board.illegal_reason(p("C4", 5), BLACK) == "superko"


def test_ko_is_forbidden_without_superko_too():
    board = board_from(KO, superko=False)
    board.play(p("C4", 5))
    assert board.illegal_reason(p("B4", 5)) == "ko"
    for vertex in ("E1", "A1", "B4"):
        board.play(p(vertex, 5))
    board.play(PASS)
    assert board.is_legal(p("C4", 5), BLACK)


def test_snapback_recaptures_several_stones_and_is_not_a_ko():
    board = board_from("""
        . . . . .
        . . . . .
        X X X X .
        O O O X .
        . . O X .
    """)
    assert board.liberties(p("A2", 5)) == 2
    assert board.play(p("B1", 5)) == []  # the throw-in, in atari itself
    assert board.liberties(p("B1", 5)) == 1 and board.liberties(p("A2", 5)) == 1
    assert board.play(p("A1", 5)) == [p("B1", 5)]  # white takes it ...
    assert board.ko_point == -1  # ... with a stone that joins a group: no ko
    assert board.liberties(p("A1", 5)) == 1  # ... and is left with B1 only
    captured = board.play(p("B1", 5))  # the snapback
    assert captured == sorted(p(v, 5) for v in ("A1", "A2", "B2", "C2", "C1"))
    assert board.captures == {BLACK: 5, WHITE: 1}
    assert board.ko_point == -1
    assert board.hash == fresh_hash(board)


# The shortest repetition random search found on 3x3: White's C3 captures two stones, so
# simple ko allows Black's C2 retake, which recreates the position after White's B2.
SUPERKO_MOVES = [(BLACK, "B3"), (WHITE, "B1"), (BLACK, "C2"), (WHITE, "B2"), (BLACK, "C1"), (WHITE, "C3")]


def test_positional_superko_forbids_a_repetition_that_simple_ko_allows():
    board = Board(3)
    for color, vertex in SUPERKO_MOVES:
        board.play(p(vertex, 3), color)
    assert board.captures == {BLACK: 0, WHITE: 2}
    assert board.ko_point == -1
    assert board.illegal_reason(p("C2", 3)) == "superko"
    assert not board.legal_moves()[p("C2", 3)]
    before = snapshot(board)
    with pytest.raises(IllegalMove) as info:
        board.play(p("C2", 3))
    assert info.value.reason == "superko"
    assert_same(snapshot(board), before)

    lax = Board(3, superko=False)
    for color, vertex in SUPERKO_MOVES:
        lax.play(p(vertex, 3), color)
    assert lax.illegal_reason(p("C2", 3)) is None
    assert lax.legal_moves()[p("C2", 3)]
    assert lax.play(p("C2", 3)) == [p("C3", 3)]
    assert same_diagram(lax, """
        . X .
        . O X
        . O .
    """)
    assert lax.hash in lax.position_hashes and lax.hash == fresh_hash(lax)


def test_passes_keep_the_position_and_two_end_the_game():
    board = Board(3)
    board.play(p("B2", 3))
    hashes = set(board.position_hashes)
    assert board.play(PASS) == [] and board.to_play == BLACK
    board.play(PASS)
    assert board.game_over and board.passes == 2
    assert board.position_hashes == hashes  # superko compares stones only, so a pass adds no position
    assert board.history[-2:] == [(WHITE, PASS), (BLACK, PASS)] and board.move_number == 3
    assert board.illegal_reason(PASS) is None
    board.play(p("A1", 3))
    assert board.passes == 0 and not board.game_over


# --------------------------------------------------------------------------- seki and scoring

SEKI = """
    X X X X X
    X X X X X
    . X X O .
    O O O O O
    O O O O O
"""


def test_seki_neither_side_can_fill_a_shared_liberty_without_being_captured():
    board = board_from(SEKI)
    shared = [p("A3", 5), p("E3", 5)]
    assert board.liberties(p("A5", 5)) == 2 and board.liberties(p("A1", 5)) == 2
    for color in (BLACK, WHITE):
        for q in shared:
            trial = board.copy()
            assert trial.play(q, color) == []  # legal, but self-atari
            assert trial.liberties(q) == 1
            other = shared[1] if q == shared[0] else shared[0]
            assert len(trial.play(other, -color)) == (13 if color == BLACK else 12)
            assert not board.is_eye(q, color)


def test_tromp_taylor_area_counts_the_seki_liberties_for_nobody():
    board = board_from(SEKI, komi=0.5)
    assert board.area() == (12, 11)
    assert board.score() == 0.5
    assert board.result() == "B+0.5"


SCORED_9x9 = """
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X . O . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
"""


def test_scoring_a_finished_9x9_board():
    board = board_from(SCORED_9x9, komi=7.5)
    # black: 9 stones + 27 points; white: 9 stones + 35 points; E5 touches both (dame)
    assert board.area() == (36, 44)
    assert board.score() == -15.5
    assert board.result() == "W+15.5"
    board.komi = -8.0
    assert board.result() == "0"
    board.komi = -10.0
    assert board.result() == "B+2"


def test_tromp_taylor_does_not_remove_dead_stones():
    board = board_from(SCORED_9x9.replace(". . . X O . . . .", "O . . X O . . . .", 1), komi=7.5)
    assert board.area() == (9, 45)  # black's region now reaches a white stone: it counts for nobody


def test_scoring_5x5_and_the_empty_board():
    board = board_from("""
        . . X O .
        . . X O .
        . . X O .
        . . X O .
        . . X O .
    """, komi=5.0)
    assert board.area() == (15, 10)
    assert board.result() == "0"
    assert Board(5, komi=0.5).result() == "W+0.5"  # an empty region that reaches nobody is nobody's


# --------------------------------------------------------------------------- fast paths vs references


def test_play_agrees_with_a_flood_fill_reference_over_random_games():
    rng = random.Random(7)
    reasons = set()
    for size, games, length in ((3, 60, 40), (4, 40, 60), (5, 40, 80), (9, 6, 150)):
        for _ in range(games):
            superko = rng.random() < 0.7
            board, ref = Board(size, superko=superko), Reference(size, superko)
            for _ in range(length):
                color = board.to_play
                if rng.random() < 0.04:
                    board.play(PASS)
                    ref.play(PASS, color)
                    continue
                candidates = list(range(board.num_points))
                rng.shuffle(candidates)
                for q in candidates[:12]:
                    expected = ref.attempt(q, color)[0]
                    assert board.illegal_reason(q) == expected
                    reasons.add(expected)
                    if expected is None:
                        assert board.play(q) == ref.play(q, color)
                        break
                else:
                    board.play(PASS)
                    ref.play(PASS, color)
                assert tuple(int(v) for v in board.stones) == ref.grid
                assert board.hash == fresh_hash(board)
    assert {None, "occupied", "suicide", "ko", "superko"} <= reasons  # every rule was exercised


def test_legal_moves_match_brute_force(positions):
    kos = suicides = superkos = 0
    for board in positions:
        for color in (BLACK, WHITE):
            fast = board.legal_moves(color)
            assert fast.dtype == bool and fast.shape == (board.num_points,)
            np.testing.assert_array_equal(fast, brute_force_legal(board, color))
            reasons = [board.illegal_reason(q, color) for q in range(board.num_points)]
            suicides += reasons.count("suicide")
            kos += reasons.count("ko")
            superkos += reasons.count("superko")
    assert kos > 0 and suicides > 0 and superkos > 0  # the positions do contain such points


def test_move_effects_match_brute_force(positions):
    seen_capture = False
    for board in positions:
        for color in (BLACK, WHITE):
            captures, liberties = board.move_effects(color)
            expected_captures, expected_liberties = brute_force_effects(board, color)
            np.testing.assert_array_equal(captures, expected_captures)
            np.testing.assert_array_equal(liberties, expected_liberties)
            seen_capture |= bool(captures.max() > 0)
    assert seen_capture


def test_liberty_counts_match_flood_fill(positions):
    for board in positions:
        counts = board.liberty_counts()
        np.testing.assert_array_equal(counts, flood_liberty_counts(board))
        assert all(board.liberties(q) == counts[q] for q in range(board.num_points))


def test_hash_matches_a_recomputation_and_positions_are_recorded(positions):
    for board in positions:
        assert board.hash == fresh_hash(board)
        assert board.hash in board.position_hashes


# --------------------------------------------------------------------------- coordinates


def test_gtp_coordinates():
    assert to_gtp(point(0, 0, 19), 19) == "A19"
    assert to_gtp(point(18, 18, 19), 19) == "T1"
    assert to_gtp(point(18, 0, 19), 19) == "A1"
    assert to_gtp(point(0, 18, 19), 19) == "T19"
    assert to_gtp(point(15, 8, 19), 19) == "J4"  # the ninth column is J: there is no I
    assert to_gtp(PASS, 19) == "pass" and to_gtp(RESIGN, 9) == "resign"
    assert from_gtp("T19", 19) == 18 and from_gtp("a1", 19) == 342
    assert from_gtp("j4", 19) == point(15, 8, 19) and from_gtp("  D4 ", 9) == point(5, 3, 9)
    assert from_gtp("PASS", 19) == PASS and from_gtp("Resign", 19) == RESIGN
    for q in range(81):
        assert from_gtp(to_gtp(q, 9), 9) == q
    for bad in ("I5", "J10", "A0", "K1", "", "D", "4D", "D-1", "pas"):
        with pytest.raises(ConvsuiteError, match="9x9"):
            from_gtp(bad, 9)
    with pytest.raises(ConvsuiteError):
        to_gtp(81, 9)
    assert row_col(point(3, 4, 9), 9) == (3, 4)
    with pytest.raises(ConvsuiteError):
        point(9, 0, 9)


def test_sgf_coordinates():
    assert to_sgf(point(3, 15, 19), 19) == "pd" and from_sgf("pd", 19) == point(3, 15, 19)
    assert to_sgf(PASS, 19) == ""
    assert from_sgf("", 19) == PASS and from_sgf("", 25) == PASS
    assert from_sgf("tt", 19) == PASS and from_sgf("tt", 9) == PASS
    assert from_sgf("tt", 21) == point(19, 19, 21)  # a real point on boards above 19x19
    assert from_sgf("ss", 19) == 360
    for q in range(81):
        assert from_sgf(to_sgf(q, 9), 9) == q
    for bad in ("jj", "a", "abc", "A1", "zz"):
        with pytest.raises(ConvsuiteError, match="9x9"):
            from_sgf(bad, 9)
    with pytest.raises(ConvsuiteError):
        to_sgf(RESIGN, 9)


def test_board_size_is_checked():
    for size in (1, 26, 0, "19", 9.0):
        with pytest.raises(ConvsuiteError, match="board size"):
            Board(size)
    assert Board(2).num_points == 4 and Board(25).num_points == 625


# --------------------------------------------------------------------------- bookkeeping


def test_failed_plays_leave_everything_unchanged():
    board = board_from(KO)
    board.play(p("C4", 5))
    for move, reason in ((p("C4", 5), "occupied"), (p("B4", 5), "ko"), (25, "off board"), (RESIGN, "off board")):
        before = snapshot(board)
        with pytest.raises(IllegalMove) as info:
            board.play(move)
        assert info.value.reason == reason
        assert_same(snapshot(board), before)
    with pytest.raises(ConvsuiteError):
        board.play(p("A1", 5), 2)


def test_play_bookkeeping_and_stone_age():
    board = Board(9)
    board.play(p("E5", 9))
    board.play(p("C3", 9))
    assert board.history == [(BLACK, p("E5", 9)), (WHITE, p("C3", 9))]
    assert board.move_number == 2 and board.to_play == BLACK
    assert board.stone_age[p("E5", 9)] == 0 and board.stone_age[p("C3", 9)] == 1  # move_number when played
    assert (board.move_number - board.stone_age[p("C3", 9)]) == 1  # "turns since" the last move is 1
    assert board.stone_age[p("A1", 9)] == -1
    board.play(p("D4", 9), WHITE)  # an explicit colour may play twice
    assert board.to_play == BLACK and board.history[-1] == (WHITE, p("D4", 9))
    assert board.grid.shape == (9, 9) and board.grid[4, 4] == BLACK
    assert board.stones.dtype == np.int8 and board.stone_age.dtype == np.int32


def test_copy_is_independent():
    board = board_from(KO)
    board.play(p("C4", 5))
    twin = board.copy()
    before = snapshot(board)
    for vertex in ("E1", "A1", "B4"):  # a ko threat, its answer, and White's retake, in the copy only
        twin.play(p(vertex, 5))
    assert twin.stones[p("C4", 5)] == EMPTY and twin.ko_point == p("C4", 5)
    assert_same(snapshot(board), before)
    assert twin.hash != board.hash and twin.hash == fresh_hash(twin)
    assert board.illegal_reason(p("B4", 5)) == "ko"


def test_place_sets_up_handicap_stones_without_moves():
    board = Board(9)
    board.place([p("C3", 9), p("G7", 9)], BLACK)
    board.to_play = WHITE
    assert board.move_number == 0 and board.history == [] and board.to_play == WHITE
    assert board.stone_age[p("C3", 9)] == 0
    assert board.hash in board.position_hashes and len(board.position_hashes) == 2
    assert board.liberties(p("C3", 9)) == 4
    board.place([p("C4", 9)], WHITE)
    assert board.liberties(p("C3", 9)) == 3 and board.liberties(p("C4", 9)) == 3
    with pytest.raises(ConvsuiteError, match="occupied"):
        board.place([p("C3", 9)], WHITE)
    with pytest.raises(ConvsuiteError):
        board.place([81], WHITE)
    with pytest.raises(ConvsuiteError):
        board.place([p("A1", 9), p("A1", 9)], BLACK)
    assert board.stones[p("A1", 9)] == EMPTY  # nothing placed when any point is bad


def test_is_eye():
    board = board_from("""
        . X . . .
        X . X . .
        . X O . .
        . . . X X
        . . . X .
    """)
    assert board.is_eye(p("A5", 5), BLACK)  # corner, no opponent diagonal
    assert board.is_eye(p("B4", 5), BLACK)  # centre, one opponent diagonal (C3)
    assert not board.is_eye(p("B4", 5), WHITE)
    assert board.is_eye(p("E1", 5), BLACK)
    assert not board.is_eye(p("D2", 5), BLACK)  # occupied
    assert not board.is_eye(p("C5", 5), BLACK)  # a neighbour (D5) is empty
    board.place([p("A3", 5)], WHITE)
    assert not board.is_eye(p("B4", 5), BLACK)  # two opponent diagonals: A3 and C3
    edge = board_from("""
        . X . X .
        . O X . .
        . . . . .
        . . . . .
        . . . . .
    """)
    assert not edge.is_eye(p("C5", 5), BLACK)  # on the edge one opponent diagonal is enough to spoil it


def test_str_shows_letters_numbers_and_stones():
    board = Board(9)
    board.play(p("E5", 9))
    board.play(p("J9", 9))
    text = str(board)
    assert "A B C D E F G H J" in text and "I" not in text
    assert " 9 " in text and " 1 " in text
    assert text.count("X") == 1 and text.count("O") == 1
    lines = text.splitlines()
    assert lines[1].split()[-2] == "O" and lines[5].split()[5] == "X"
