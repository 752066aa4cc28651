"""PDN collections: several games a file with comments, variations and annotations, replayed move
by move; a bad game named by game, move number and move; skipping bad games; writing and round trips."""

import random
import re

import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers.board import WHITE, Game, Position, parse_fen
from convsuite.suites.checkers.pdn import PdnGame, read_pdn, write_pdn

COLLECTION = r"""
% an escape line, ignored
[Event "Club \"night\""]
[Date "2024.03.01"]
[Black "Ann"]
[White "Bob"]
[Result "1-0"]
1. 11-15 {Old Faithful; a comment (with parens) and [brackets]} 23-19 $1 2. 8-11
(2. 9-13 {a variation} (2. 10-14 22-17) 22-18) 22-18!? 3. 15x22?? 25x18 1-0

[Event "From a position"]
[SetUp "1"]
[FEN "W:W18,K31:B14,5"]
1...18x9 ; a comment to the end of the line
2. 5x14 31-26 *

1.11-15 23-19 2.8-11 22-18 3.15x22 25x18 1/2-1/2
[Event "Short multi-jump"]
[FEN "B:W14,23,32:B9,1"]
1. 9x27 32x23 2. 1-6 0-1
"""


def random_game(seed: int, start: Position | None = None, plies: int = 200) -> Game:
    """Random play for at most ``plies`` moves (fewer when the game ends first)."""
    rng = random.Random(seed)
    game = Game(start or Position())
    while not game.is_over() and game.plies < plies:
        game.play(rng.choice(game.legal_moves()))
    return game


def test_reads_several_games_skipping_comments_variations_and_annotations():
    games = read_pdn(COLLECTION)
    assert len(games) == 4 and games.skipped == 0
    first, second, third, fourth = games
    assert first.tags == {"Event": 'Club "night"', "Date": "2024.03.01", "Black": "Ann", "White": "Bob",
                          "Result": "1-0"}
    assert first.game.movetext() == "1. 11-15 23-19 2. 8-11 22-18 3. 15x22 25x18" and first.result == "1-0"
    assert second.game.start == parse_fen("W:W18,K31:B14,5") and second.game.start.turn == WHITE
    assert second.game.movetext() == "1... 18x9 2. 5x14 31-26" and second.result == "*"
    assert third.tags == {} and third.result == "1/2-1/2" and third.game.plies == 6
    assert [str(m) for m in fourth.moves] == ["9x18x27", "32x23", "1-6"]  # the short 9x27 completed
    assert fourth.result == "0-1" and fourth.tags["Event"] == "Short multi-jump"


def test_result_comes_from_the_tag_when_the_movetext_has_none():
    (game,) = read_pdn('[Result "0-1"]\n1. 11-15 23-19\n')
    assert game.result == "0-1" and game.game.plies == 2
    assert read_pdn("1. 9-13 2-0")[0].result == "1-0"  # the draughts form read as its English equivalent


def test_a_record_is_replayed_past_a_threefold_repetition():
    shuffle = "1. 1-5 32-28 2. 5-1 28-32 " * 3
    (game,) = read_pdn(f'[FEN "B:WK32:BK1"]\n{shuffle} 1/2-1/2')
    assert game.game.plies == 12 and game.game.repetitions() == 4


def corrupt_collection() -> str:
    """Three games; in the third, Black's 12th move is 27-31, which is not legal there."""
    good = random_game(11)
    ok = write_pdn([good, random_game(12)], tags={"Event": "Good"})
    bad = Game()
    for move in random_game(13).moves[:22]:
        bad.play(move)
    assert "27-31" not in [str(m) for m in bad.legal_moves()] and bad.plies == 22
    return ok + '\n[Event "Bad"]\n' + bad.movetext() + " 12. 27-31 13. 1-5 *\n"


def test_a_bad_game_is_named_by_game_number_move_number_and_move():
    text = corrupt_collection()
    with pytest.raises(ConvsuiteError, match=r"^game 3, move 12: 27-31 is not legal here; legal moves: \d"):
        read_pdn(text)


def test_a_bad_game_read_from_a_file_names_the_file_and_line(tmp_path):
    path = tmp_path / "games.pdn"
    path.write_text(corrupt_collection())
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "12. 27-31" in text)
    expected = rf"^{re.escape(str(path))}, line {line}: game 3, move 12: 27-31 is not legal here"
    with pytest.raises(ConvsuiteError, match=expected):
        read_pdn(path)


def test_skip_bad_leaves_bad_games_out_and_counts_them():
    games = read_pdn(corrupt_collection() + COLLECTION, skip_bad=True)
    assert len(games) == 6 and games.skipped == 1
    assert games.errors[0].startswith("game 3, move 12: 27-31 is not legal here")
    assert [g.tags.get("Event") for g in games[:2]] == ["Good", "Good"]
    assert games.summary() == "read 6 games, skipped 1"


@pytest.mark.parametrize("text, message", [
    ("1. 11-15 25-21 2. 8-11 22-17 *", r"^game 1, move 1\.\.\.: 25-21 is not legal here; legal moves: 21-17"),
    ("1. 11-15 23-19 2. 9x18 *", r"^game 1, move 2: 9x18 is not legal here; legal moves: 7-11, 8-11"),
    ('[FEN "B:W21-32:B1-13"]\n1. 9-14 *', r"^game 1: its \[FEN\] tag: FEN .* Black has 13 pieces"),
    ("1. 11-15 23-19 2. 8-11 hello 22-18 *", r"^game 1, move 2\.\.\.: 'hello' is not a move"),
    ("1. 11-15 ) 23-19 *", r"^game 1, move 1\.\.\.: '\)' is not a move"),
    ("1. 11-15 (1. 9-13 23-19 *", r"^game 1, move 1\.\.\.: '\(' is not a move"),
    ('1. 11-15 23-19 *\n[Event "x"]\n1. 11-15 23-19 2. 8-11 {never closed 22-18 *', r"^game 2, move 2\.\.\.: '\{'"),
    ('[FEN "B:W14,15,22,23:BK10"]\n1. 10x10 *', r"^game 1, move 1: '10x10' is ambiguous"),
])
def test_malformed_records_are_refused_in_one_sentence(text, message):
    with pytest.raises(ConvsuiteError, match=message):
        read_pdn(text)


def test_round_trip_of_random_games_from_the_start_and_from_positions(tmp_path):
    # two from the start, two from mid-game positions (Black to move, then White)
    starts = [None, None, random_game(3, plies=20).position, random_game(4, plies=31).position]
    games = [random_game(seed, start) for seed, start in enumerate(starts)]
    assert any(g.start.turn == WHITE for g in games)
    path = tmp_path / "out" / "games.pdn"
    path.parent.mkdir()
    text = write_pdn(games, path, tags={"Event": "Random", "Black": "rng"})
    assert path.read_text() == text and sorted(p.name for p in path.parent.iterdir()) == ["games.pdn"]
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.count('[SetUp "1"]') == 2
    back = read_pdn(path)
    assert len(back) == len(games)
    for game, read in zip(games, back):
        assert read.game.start == game.start and read.moves == game.moves
        assert read.result == game.result_text() and read.tags["Event"] == "Random"
        assert read.tags["Black"] == "rng" and read.tags["White"] == "?"
    assert write_pdn(back) == text  # writing what was read gives the same file


def test_write_pdn_orders_tags_and_lets_tags_override():
    game = Game()
    for text in ["11-15", "23-19"]:
        game.play(text)
    text = write_pdn(game, tags={"White": "Bob", "Round": "2", "Annotator": "me"})
    assert text.splitlines() == ['[Event "?"]', '[Date "????.??.??"]', '[Round "2"]', '[Black "?"]',
                                 '[White "Bob"]', '[Result "*"]', '[Annotator "me"]', "1. 11-15 23-19 *"]
    record = PdnGame({"Event": "E", "Result": "1-0", "FEN": "B:W21-32:B1-12"}, game, "1-0")
    assert '[Result "1-0"]' in write_pdn(record) and "FEN" not in write_pdn(record)
    assert write_pdn(record, tags={"Result": "1/2-1/2"}).endswith("1. 11-15 23-19 1/2-1/2\n")
    with pytest.raises(ConvsuiteError, match="result '3-0' is not one of 1-0, 0-1, 1/2-1/2, \\*"):
        write_pdn(game, tags={"Result": "3-0"})
    with pytest.raises(ConvsuiteError, match="writes board.Game or PdnGame objects, not str"):
        write_pdn(["1. 11-15"])


def test_read_pdn_tells_a_missing_file_from_pdn_text(tmp_path):
    with pytest.raises(ConvsuiteError, match="does not exist"):
        read_pdn(str(tmp_path / "missing.pdn"))
    path = tmp_path / "one.pdn"
    path.write_bytes("[Event \"caf\u00e9\"]\n1. 11-15 *\n".encode("latin-1"))
    assert read_pdn(str(path))[0].tags["Event"] == "caf\u00e9"
    assert read_pdn(path)[0].moves == read_pdn("1. 11-15")[0].moves
    assert read_pdn("") == [] and read_pdn("1. 11-15")[0].result == "*"
