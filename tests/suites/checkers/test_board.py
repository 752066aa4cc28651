"""The checkers engine: perft counts from the start, the rules on crafted positions, games (draws,
undo, movetext), FEN reading and writing, and PDN move text."""

import random

import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers.board import (
    BLACK,
    WHITE,
    Game,
    Move,
    Position,
    apply_move,
    generate_moves,
    parse_fen,
    parse_move,
    perft,
)

PERFT_FROM_START = [7, 49, 302, 1469, 7361, 36768, 179740, 845931]


def texts(position: Position) -> list[str]:
    return sorted(str(m) for m in position.legal_moves())


def random_positions(games: int, seed: int) -> list[Position]:
    """Every position of ``games`` random games (kings, captures and endings included)."""
    rng = random.Random(seed)
    positions = []
    for _ in range(games):
        game = Game(move_limit=100)
        while not game.is_over():
            positions.append(game.position)
            game.play(rng.choice(game.legal_moves()))
        positions.append(game.position)
    return positions


# ---------------------------------------------------------------------------------------------
# perft


@pytest.mark.parametrize("depth", range(1, 9))
def test_perft_from_the_start_matches_the_published_counts(depth):
    assert perft(*Position().key, depth) == PERFT_FROM_START[depth - 1]


@pytest.mark.slow
def test_perft_depth_9_from_the_start():
    assert perft(*Position().key, 9) == 3963680


# ---------------------------------------------------------------------------------------------
# rules on crafted positions


def test_start_position_and_black_moves_first():
    position = Position()
    assert position.turn == BLACK
    assert texts(position) == ["10-14", "10-15", "11-15", "11-16", "12-16", "9-13", "9-14"]
    assert position.to_fen() == "B:W21,22,23,24,25,26,27,28,29,30,31,32:B1,2,3,4,5,6,7,8,9,10,11,12"


def test_capture_is_compulsory():
    position = parse_fen("B:W18:B14,1")  # the man on 1 could step, but 14 can jump 18
    assert texts(position) == ["14x23"]
    with pytest.raises(ConvsuiteError, match=r"1-5 is not legal here \(a capture is compulsory\); legal moves: 14x23"):
        Game(position).play("1-5")


def test_any_capture_may_be_chosen_not_only_the_longest():
    position = parse_fen("B:W18,19,27:B14,15")
    assert texts(position) == ["14x23x32", "15x22", "15x24x31"]  # 15x22 takes one piece, the others two


def test_a_multi_jump_is_one_move_and_must_be_completed():
    position = parse_fen("B:W14,23,32:B9")
    (move,) = position.legal_moves()
    assert move.squares == (9, 18, 27) and move.captured.bit_count() == 2
    after = position.play(move)
    assert after.turn == WHITE and after.white == 1 << 31 and after.piece_at(27) == "b"
    with pytest.raises(ConvsuiteError, match="9-18 is not legal here .a capture is compulsory.; legal moves: 9x18x27"):
        parse_move("9-18", position)


def test_a_man_crowned_mid_jump_stops_there():
    # 14x23x30 crowns on 30; as a king it could jump 25 on to 21, but the move ends on being crowned
    position = parse_fen("B:W18,25,26:B14")
    assert texts(position) == ["14x23x30"]
    after = position.play(position.legal_moves()[0])
    assert after.piece_at(30) == "B" and after.piece_at(25) == "w" and after.turn == WHITE
    # the same for White (the position turned round): 19x10x3 is crowned on 3 and does not go on over 8
    position = parse_fen("W:W19:B15,8,7")
    assert texts(position) == ["19x10x3"]
    after = position.play(position.legal_moves()[0])
    assert after.piece_at(3) == "W" and after.piece_at(8) == "b" and after.turn == BLACK


def test_kings_move_and_capture_backwards():
    assert texts(parse_fen("B:W:B18")) == ["18-22", "18-23"]
    assert texts(parse_fen("B:W:BK18")) == ["18-14", "18-15", "18-22", "18-23"]
    assert texts(parse_fen("W:WK10:B20")) == ["10-14", "10-15", "10-6", "10-7"]
    assert texts(parse_fen("B:W23:BK27")) == ["27x18"]  # a Black king jumping toward Black's side
    after = parse_fen("B:W23:BK27").play(parse_move("27x18", parse_fen("B:W23:BK27")))
    assert after.piece_at(18) == "B" and after.white == 0


def test_a_king_never_jumps_the_same_piece_twice():
    # the king circles the four men and comes back to 10, where 14 (taken) would be jumpable again
    position = parse_fen("B:W14,15,22,23:BK10")
    moves = position.legal_moves()
    assert sorted(map(str, moves)) == ["10x17x26x19x10", "10x19x26x17x10"]
    assert all(m.captured.bit_count() == 4 for m in moves)
    after = position.play(moves[0])
    assert after.white == 0 and after.piece_at(10) == "B"


def test_a_side_with_no_legal_move_loses():
    blocked = Game(parse_fen("W:W5:B1"))  # White's man on 5 can only go to 1, which is taken
    assert blocked.legal_moves() == [] and blocked.winner() == BLACK
    assert blocked.result_text() == "1-0" and blocked.end_reason() == "White has no legal move"
    wiped_out = Game(parse_fen("B:W18:B14"))
    wiped_out.play("14x23")
    assert wiped_out.is_over() and wiped_out.winner() == BLACK
    with pytest.raises(ConvsuiteError, match="the game is over"):
        wiped_out.play("23-27")
    assert Game(parse_fen("B:W18:B")).result_text() == "0-1"


SHUFFLE = ["1-5", "32-28", "5-1", "28-32"]


def test_threefold_repetition_is_a_draw():
    game = Game(parse_fen("B:WK32:BK1"))
    for text in SHUFFLE:
        game.play(text)
    assert game.repetitions() == 2 and not game.is_over()
    for text in SHUFFLE[:3]:
        game.play(text)
    assert not game.is_over()
    game.play(SHUFFLE[3])
    assert game.repetitions() == 3 and game.winner() == -1
    assert game.result_text() == "1/2-1/2" and game.end_reason() == "threefold repetition"
    assert game.legal_moves() == []
    free = Game(parse_fen("B:WK32:BK1"), repetition_draw=False)
    for text in SHUFFLE * 3:
        free.play(text)
    assert free.repetitions() == 4 and not free.is_over()


def test_move_limit_is_a_draw():
    game = Game(move_limit=2)
    for text in ["11-15", "23-19", "8-11"]:
        game.play(text)
    assert not game.is_over()
    game.play("22-17")
    assert game.winner() == -1 and game.end_reason() == "move limit (2 moves each)"


def test_undo_restores_the_position_and_the_repetition_counts():
    game = Game(parse_fen("B:WK32:BK1"))
    for text in SHUFFLE * 2:
        game.play(text)
    assert game.is_over()
    game.undo()
    assert not game.is_over() and game.repetitions() == 2 and game.position == parse_fen("W:WK28:BK1")
    game.play("28-32")  # the same draw again: the count went down by one and comes back
    assert game.winner() == -1
    game.undo(4)
    assert game.repetitions() == 2 and game.position == parse_fen("B:WK32:BK1") and game.plies == 4
    game.undo(4)
    assert game.plies == 0 and game.repetitions() == 1 and game.positions == [game.start]
    for text in SHUFFLE:
        game.play(text)
    assert game.repetitions() == 2 and not game.is_over()
    game.undo(4)
    with pytest.raises(ConvsuiteError, match="cannot undo 1 moves: only 0 were played"):
        game.undo()


def test_movetext_numbers_moves_from_the_side_to_move():
    game = Game()
    for text in ["11-15", "23-19", "8-11"]:
        game.play(text)
    assert game.movetext() == "1. 11-15 23-19 2. 8-11"
    from_white = Game(parse_fen("W:WK32:BK1"))
    for text in ["32-28", "1-5", "28-32"]:
        from_white.play(text)
    assert from_white.movetext() == "1... 32-28 2. 1-5 28-32"
    jumps = Game(parse_fen("B:W14,23,32:B9"))
    jumps.play("9x27")
    assert jumps.movetext() == "1. 9x18x27"


def test_game_replays_moves_given_to_the_constructor_and_checks_them():
    played = Game(moves=[parse_move("11-15", Position())])
    assert played.plies == 1 and played.turn == WHITE
    with pytest.raises(ConvsuiteError, match="11-16 is not legal here"):
        Game(moves=[Move((10, 15))], start=Position(turn=WHITE))


def test_generate_and_apply_agree_with_position_methods_on_random_positions():
    for position in random_positions(5, seed=1)[::7]:
        moves = generate_moves(*position.key)
        assert moves == position.legal_moves()
        for move in moves:
            assert Position(*apply_move(*position.key, move)) == position.play(move)


# ---------------------------------------------------------------------------------------------
# FEN


def test_fen_round_trip_on_random_play_positions():
    positions = random_positions(30, seed=5)
    assert any(p.kings for p in positions) and any(p.turn == WHITE for p in positions)
    for position in positions:
        assert parse_fen(position.to_fen()) == position


def test_parse_fen_accepts_ranges_tags_kings_and_either_side_order():
    assert parse_fen("B:W21-32:B1-12") == Position()
    assert parse_fen('[FEN "B:W21-32:B1-12"]') == Position()
    assert parse_fen("B:B1-12:W21-32") == Position()
    assert parse_fen(' "B:W21-32:B1-12." ') == Position()
    position = parse_fen("W:WK3,24:B12,K30")
    assert position.turn == WHITE and position.piece_at(3) == "W" and position.piece_at(24) == "w"
    assert position.piece_at(12) == "b" and position.piece_at(30) == "B"
    assert parse_fen(position.to_fen()) == position


@pytest.mark.parametrize("fen, message", [
    ("B:W1-12:B12", "square 12 holds two pieces"),
    ("B:W5:B30", "Black man on square 30, its crowning row, where it would be a king; write it as K30"),
    ("W:W2:B10", "White man on square 2, its crowning row"),
    ("B:W17-29:B1", "White has 13 pieces; a side has at most 12"),
    ("X:W21-32:B1-12", "the side to move must come first, as B or W"),
    ("W21-32:B1-12", "the side to move must come first"),
    ("B:W0:B1", "square '0' is outside 1-32"),
    ("B:W33:B1", "square '33' is outside 1-32"),
    ("B:W21-33:B1", "outside 1-32"),
    ("B:Wabc:B1", "is not a square number"),
    ("B:W21,22;:B1", "is not a square number"),
    ("B:Q1:B2", "'Q1' must start with W or B"),
    ("B:W21-32:B1-12:W5", "the White pieces are listed twice"),
])
def test_parse_fen_refuses_impossible_or_malformed_positions(fen, message):
    with pytest.raises(ConvsuiteError, match=message.replace("(", r"\(")):
        parse_fen(fen)


# ---------------------------------------------------------------------------------------------
# moves as text


def test_parse_move_reads_steps_and_jump_paths():
    assert parse_move("11-15", Position()) == Move((10, 14))
    assert parse_move(" 11 - 15 ", Position()).squares == (11, 15)
    position = parse_fen("B:W14,23,32:B9")
    full = parse_move("9x18x27", position)
    assert full.squares == (9, 18, 27) and full.is_capture
    assert parse_move("9x27", position) == full  # the short form, unique here
    assert parse_move("9-27", position) == full


def test_parse_move_refuses_an_ambiguous_short_form_and_lists_both_paths():
    # the king on 1 jumps 6 to 10, then circles the four men either way round back to 10
    position = parse_fen("B:W6,14,15,22,23:BK1")
    assert texts(position) == ["1x10x17x26x19x10", "1x10x19x26x17x10"]
    with pytest.raises(ConvsuiteError, match=r"'1x10' is ambiguous: 2 jump sequences go from 1 to 10 "
                                             r"\(1x10x17x26x19x10, 1x10x19x26x17x10\); type the whole path"):
        parse_move("1x10", position)
    assert parse_move("1x10x19x26x17x10", position).squares == (1, 10, 19, 26, 17, 10)


def test_parse_move_refuses_an_illegal_move_listing_the_legal_ones():
    with pytest.raises(ConvsuiteError, match=r"^12-13 is not legal here; legal moves: 9-13, 9-14, 10-14, 10-15, "
                                             r"11-15, 11-16, 12-16$"):
        parse_move("12-13", Position())
    with pytest.raises(ConvsuiteError, match="not a move in PDN notation"):
        parse_move("e3-f4", Position())
    with pytest.raises(ConvsuiteError, match="names a square outside 1-32"):
        parse_move("11-40", Position())


def test_parse_move_says_when_a_capture_is_compulsory():
    compulsory = r"^14-17 is not legal here \(a capture is compulsory\); legal moves: 14x23$"
    with pytest.raises(ConvsuiteError, match=compulsory):
        parse_move("14-17", parse_fen("B:W18:B14"))
