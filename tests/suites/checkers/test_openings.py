"""Match openings: the user's ballot file, checked line by line, else the 49 random 2-ply openings."""

import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers.board import Game, Move
from convsuite.suites.checkers.openings import DEFAULT_BALLOTS, load_ballots, match_openings, random_openings

BALLOTS = """# three-move ballots
9-13 21-17 5-9     # the first
1. 9-14 2... 22-18 5-9

11-15 23-19 8-11
"""


def _legal_from_start(moves):
    game = Game()
    for move in moves:
        game.play(move)
    return game.plies == len(moves)


def test_there_are_49_distinct_legal_two_ply_openings():
    openings = random_openings(49, seed=0)
    assert len({tuple(o) for o in openings}) == 49
    assert all(len(o) == 2 and all(isinstance(m, Move) for m in o) and _legal_from_start(o) for o in openings)


def test_random_openings_repeat_their_seeded_order_beyond_49():
    openings = random_openings(60, seed=3)
    assert [tuple(o) for o in openings[49:]] == [tuple(o) for o in openings[:11]]
    assert [tuple(o) for o in random_openings(60, seed=3)] == [tuple(o) for o in openings]
    assert [tuple(o) for o in random_openings(49, seed=4)] != [tuple(o) for o in openings[:49]]


def test_random_openings_of_one_ply_are_the_seven_first_moves():
    assert sorted(str(o[0]) for o in random_openings(7, plies=1)) == ["10-14", "10-15", "11-15", "11-16", "12-16",
                                                                      "9-13", "9-14"]


def test_load_ballots_skips_comments_blank_lines_and_move_numbers(tmp_path):
    path = tmp_path / "ballots.txt"
    path.write_text(BALLOTS)
    ballots = load_ballots(path)
    assert [" ".join(map(str, b)) for b in ballots] == ["9-13 21-17 5-9", "9-14 22-18 5-9", "11-15 23-19 8-11"]


def test_an_illegal_ballot_names_its_line(tmp_path):
    path = tmp_path / "ballots.txt"
    path.write_text("9-13 21-17 5-9\n\n9-13 21-17 5-10\n")
    with pytest.raises(ConvsuiteError, match=r"line 3 .*5-10.*legal moves"):
        load_ballots(path)


def test_a_missing_or_empty_ballot_file_is_one_error(tmp_path):
    with pytest.raises(ConvsuiteError, match="does not exist"):
        load_ballots(tmp_path / "none.txt")
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    with pytest.raises(ConvsuiteError, match="holds no ballot"):
        load_ballots(tmp_path / "empty.txt")


def test_match_openings_use_the_given_ballots_in_a_seeded_cycle(tmp_path):
    path = tmp_path / "ballots.txt"
    path.write_text(BALLOTS)
    openings, source = match_openings(5, seed=1, ballots_path=str(path))
    assert "three-move ballots" in source and len(openings) == 5
    assert {" ".join(map(str, o)) for o in openings} == {"9-13 21-17 5-9", "9-14 22-18 5-9", "11-15 23-19 8-11"}
    assert openings[3] == openings[0] and openings[4] == openings[1]


def test_match_openings_fall_back_to_random_unless_a_given_file_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    openings, source = match_openings(4, seed=0)
    assert source == "random 2-ply openings" and openings == random_openings(4, seed=0)
    with pytest.raises(ConvsuiteError, match="does not exist"):
        match_openings(4, ballots_path="missing.txt")


def test_match_openings_find_the_default_ballot_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / DEFAULT_BALLOTS).parent.mkdir(parents=True)
    (tmp_path / DEFAULT_BALLOTS).write_text(BALLOTS)
    _, source = match_openings(2, seed=0)
    assert DEFAULT_BALLOTS in source
