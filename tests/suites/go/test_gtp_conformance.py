"""GTP conformance: a script of the spec's commands and error cases (ids, comments, control characters,
long lines, undecodable bytes) through `GtpEngine.run` in process and in a subprocess, every response
checked for form; the standard answers compared with GNU Go's; the commands controllers add for real play
(handicap, time control, KGS's rules and cleanup, final status, SGF files)."""

import io
import os
import subprocess
import sys

import pytest

from tests.suites.go.conftest import needs_gnugo

from convsuite.suites.go import sgf
from convsuite.suites.go.board import BLACK, EMPTY, PASS, WHITE, Board, from_gtp
from convsuite.suites.go.data import gnugo_program
from convsuite.suites.go.gtp import (
    GtpEngine,
    RandomPlayer,
    cleanup_move,
    dead_stones,
    fixed_handicap_points,
    max_fixed_handicap,
)

ENGINE_COMMAND = [sys.executable, "-c",
                  "from convsuite.suites.go.gtp import GtpEngine, RandomPlayer\nGtpEngine(RandomPlayer(0)).run()\n"]

# (command line as bytes, expected status: "=" success, "?" failure, None no response, optional exact body)
SCRIPT = [
    (b"1 protocol_version", "=", "2"),
    (b"2 name", "=", "convsuite"),
    (b"3 version", "=", None),
    (b"4 known_command genmove", "=", "true"),
    (b"5 known_command", "=", "false"),  # spec: false, not an error
    (b"6 known_command fly_to_the_moon", "=", "false"),
    (b"7 list_commands", "=", None),
    (b"", None, None),
    (b"# a comment line", None, None),
    (b"   \t  ", None, None),
    (b"8 boardsize 26", "?", "unacceptable size"),
    (b"9 boardsize 1", "?", "unacceptable size"),
    (b"10 boardsize nine", "?", "syntax error"),
    (b"11 boardsize 9", "=", ""),
    (b"12 komi 6.5", "=", ""),
    (b"13 komi lots", "?", "syntax error"),
    (b"14 fixed_handicap 1", "?", "invalid number of stones"),
    (b"15 fixed_handicap 10", "?", "invalid number of stones"),
    (b"16 fixed_handicap 5", "=", "C7 G7 E5 C3 G3"),
    (b"17 fixed_handicap 2", "?", "board not empty"),
    (b"18 list_stones black", "=", "C7 G7 E5 C3 G3"),
    (b"19 list_stones white", "=", ""),
    (b"20 list_stones", "?", "syntax error"),
    (b"21 play w D4", "=", ""),
    (b"22 play b D4", "?", "illegal move"),
    (b"23 play b Z9", "?", "syntax error"),
    (b"24 play purple D5", "?", "syntax error"),
    (b"25 play b", "?", "syntax error"),
    (b"26 genmove b", "=", None),
    (b"27 reg_genmove w", "=", None),
    (b"28 undo", "=", ""),
    (b"29 undo", "=", ""),
    (b"30 undo", "?", "cannot undo"),  # handicap stones are not moves
    (b"31 clear_board", "=", ""),
    (b"32 set_free_handicap A1", "?", "bad vertex list"),
    (b"33 set_free_handicap A1 A1", "?", "bad vertex list"),
    (b"34 set_free_handicap A1 pass", "?", "bad vertex list"),
    (b"35 set_free_handicap A1 J9 E5", "=", ""),
    (b"36 list_stones b", "=", "J9 E5 A1"),
    (b"37 clear_board", "=", ""),
    (b"38 place_free_handicap 4", "=", "C7 G7 C3 G3"),
    (b"39 clear_board", "=", ""),
    (b"40 time_settings 300 30 5", "=", ""),
    (b"41 time_settings 300 30", "?", "syntax error"),
    (b"42 time_left white 120 0", "=", ""),
    (b"43 time_left x 120 0", "?", "syntax error"),
    (b"44 kgs-time_settings byoyomi 600 30 5", "=", ""),
    (b"45 kgs-time_settings canadian 600", "?", "syntax error"),
    (b"46 kgs-rules japanese", "=", ""),
    (b"47 kgs-rules go_fish", "?", None),
    (b"48 play b E5", "=", ""),
    (b"49 kgs-genmove_cleanup w", "=", None),
    (b"50 final_status_list alive", "=", None),
    (b"51 final_status_list dead", "=", ""),
    (b"52 final_status_list", "?", "syntax error"),
    (b"53 final_score", "=", None),
    (b"54 showboard", "=", None),
    (b"\t55\tname\r", "=", "convsuite"),  # HT is a space, CR a dropped control character
    (b"56 na\x01me # comment after the command", "=", "convsuite"),
    (b"\xb2\xb3 name", "?", "unknown command"),  # undecodable bytes: never a crash, never an id
    ("²³ name".encode(), "?", "unknown command"),  # non-ASCII digits are no id
    (b"57 \xff\xfe", "?", "unknown command"),
    (b"58", "?", "syntax error"),
    (b"59 " + b"x" * 20000, "?", "unknown command"),  # a long line is one command
    (b"60 komi " + b"9" * 300, "=", ""),
    (b"61 fly_to_the_moon", "?", "unknown command"),
    (b"62 quit", "=", ""),
    (b"63 name", None, None),  # nothing after quit
]


def _script_bytes() -> bytes:
    return b"".join(line + b"\n" for line, _, _ in SCRIPT)


def _ident(line: bytes) -> str:
    words = line.decode("utf-8", "replace").replace("\t", " ").split()
    return words[0] if words and words[0].isascii() and words[0].isdigit() else ""


def check_responses(output: str) -> list[tuple[str, str]]:
    """Every response well formed ("=id"/"?id", a space, body, one empty line ending it, none inside)."""
    assert output.endswith("\n\n"), output[-200:]
    responses = output[:-2].split("\n\n")
    expected = [(line, status, body) for line, status, body in SCRIPT if status is not None]
    assert len(responses) == len(expected), (len(responses), len(expected))
    answers = []
    for response, (line, status, body) in zip(responses, expected):
        assert response[0] == status, (line[:60], response[:200])
        ident = _ident(line)
        assert response[1:].startswith(ident + " ") or response[1:] == ident, (line[:60], response[:200])
        text = response[1 + len(ident) + 1:]
        assert "\n\n" not in text and not text.startswith("\n\n")
        if body is not None:
            assert text == body, (line[:60], text)
        answers.append((line.decode("utf-8", "replace"), text))
    return answers


def test_the_spec_script_through_run_in_process_with_strict_utf8_stdin():
    # A strict UTF-8 text stream over the bytes: reading its text would raise on b"\xb2"; run() reads bytes.
    stdin = io.TextIOWrapper(io.BytesIO(_script_bytes()), encoding="utf-8", errors="strict")
    stdout = io.StringIO()
    engine = GtpEngine(RandomPlayer(0))
    engine.run(stdin, stdout)
    answers = dict(check_responses(stdout.getvalue()))
    listed = answers["7 list_commands"].split("\n")
    assert listed == list(engine._commands)  # exactly the commands that work, each known
    assert all(engine.handle(f"known_command {name}") == "= true\n\n" for name in listed)
    required = {"protocol_version", "name", "version", "known_command", "list_commands", "quit", "boardsize",
                "clear_board", "komi", "play", "genmove", "undo", "fixed_handicap", "place_free_handicap",
                "set_free_handicap", "final_score", "final_status_list", "time_settings", "time_left",
                "loadsgf", "reg_genmove", "showboard", "list_stones", "kgs-rules", "kgs-time_settings",
                "kgs-genmove_cleanup", "printsgf"}
    assert set(listed) == required
    assert engine.quit_requested and engine.komi == float("9" * 300)
    assert engine.rules == "japanese" and engine.time_settings == (600.0, 30.0, 1)


def test_the_spec_script_through_a_subprocess_in_a_strict_utf8_locale():
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8", PYTHONIOENCODING="utf-8:strict")
    result = subprocess.run(ENGINE_COMMAND, input=_script_bytes(), capture_output=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert b"Traceback" not in result.stderr
    output = result.stdout.decode("utf-8")
    stdout = io.StringIO()
    GtpEngine(RandomPlayer(0)).run(io.BytesIO(_script_bytes()), stdout)
    assert output == stdout.getvalue()  # the same seed gives the same answers, genmove included
    check_responses(output)


@needs_gnugo
def test_standard_answers_agree_with_gnu_go():
    """fixed_handicap on every size GNU Go plays, list_stones after the same moves, known_command."""
    commands = []
    for size in range(5, 20):
        commands.append(f"boardsize {size}")
        for stones in range(1, 11):
            commands += ["clear_board", f"fixed_handicap {stones}"]
    commands += ["boardsize 9", "clear_board", "play b E5", "play w C3", "play b J9", "play w A1", "play b A2",
                 "list_stones black", "list_stones white", "known_command", "known_command play",
                 "known_command no_such_command", "known_command a b"]
    result = subprocess.run([gnugo_program(), "--mode", "gtp"], input="\n".join(commands) + "\nquit\n",
                            capture_output=True, text=True, timeout=60)
    theirs = result.stdout.split("\n\n")[: len(commands)]
    engine = GtpEngine(RandomPlayer(0))
    ours = [engine.handle(line)[:-2] for line in commands]
    assert len(theirs) == len(ours)
    successes = 0
    for line, mine, gnugo in zip(commands, ours, theirs):
        assert mine[0] == gnugo[0], (line, mine, gnugo)  # failures' wording differs; success/failure agrees
        if gnugo[0] == "=":
            assert mine == gnugo, line
            successes += 1
    assert successes > 100
    assert ours[-6:] == ["= J9 E5 A2", "= C3 A1", "= false", "= true", "= false", "= false"]


# ------------------------------------------------------------------------------------- handicap tables


def test_fixed_handicap_placements_by_hand():
    g = lambda words, size: sorted(from_gtp(w, size) for w in words.split())  # noqa: E731
    assert fixed_handicap_points(19, 9) == g("D4 K4 Q4 D10 K10 Q10 D16 K16 Q16", 19)
    assert fixed_handicap_points(19, 3) == g("D4 Q16 D16", 19)
    assert fixed_handicap_points(13, 6) == g("D4 K4 D7 K7 D10 K10", 13)
    assert fixed_handicap_points(25, 8) == g("D4 N4 W4 D13 W13 D22 N22 W22", 25)
    assert fixed_handicap_points(7, 4) == g("C3 E3 C5 E5", 7)
    assert [max_fixed_handicap(s) for s in (6, 7, 8, 9, 12, 25, 26)] == [0, 4, 4, 9, 4, 9, 0]
    engine = GtpEngine(RandomPlayer(0), board_size=25)
    assert engine.handle("fixed_handicap 9") == "= D22 N22 W22 D13 N13 W13 D4 N4 W4\n\n"
    small = GtpEngine(RandomPlayer(0), board_size=6)
    assert small.handle("fixed_handicap 2") == "? invalid number of stones\n\n"
    reply = small.handle("place_free_handicap 3")  # no fixed placement on 6x6: the player chooses
    assert reply.startswith("= ") and len(reply.split()) == 4 and len(small.moves) == 0
    assert int((small.board.stones == BLACK).sum()) == 3


# ------------------------------------------------------------------------------------- player hooks


class _Recorder(RandomPlayer):
    def __init__(self, sizes=None):
        super().__init__(0)
        self.calls = []
        self.sizes = sizes

    def can_play(self, size):
        return size in self.sizes

    def set_time_control(self, main_time, byo_yomi_time, byo_yomi_stones):
        self.calls.append(("control", main_time, byo_yomi_time, byo_yomi_stones))

    def set_time_left(self, color, seconds, stones):
        self.calls.append(("left", color, seconds, stones))


def test_time_commands_reach_the_player_in_gtp_terms():
    player = _Recorder()
    engine = GtpEngine(player, board_size=9)
    script = ("time_settings 300 30 5", "kgs-time_settings byoyomi 600 30 5", "kgs-time_settings canadian 600 300 25",
              "kgs-time_settings absolute 900", "kgs-time_settings none", "time_left b 120 0", "time_left white 25.5 3")
    for line in script:
        assert engine.handle(line) == "= \n\n", line
    assert player.calls == [("control", 300.0, 30.0, 5), ("control", 600.0, 30.0, 1), ("control", 600.0, 300.0, 25),
                            ("control", 900.0, 0.0, 0), ("control", 0.0, 1.0, 0), ("left", BLACK, 120.0, 0),
                            ("left", WHITE, 25.5, 3)]
    assert engine.time_system == ("none",) and engine.time_left == {BLACK: (120.0, 0), WHITE: (25.5, 3)}
    for bad in ("time_settings -1 0 0", "time_settings 1 2 x", "kgs-time_settings hourglass 5",
                "kgs-time_settings", "time_left b 10"):
        assert engine.handle(bad) == "? syntax error\n\n", bad
    assert GtpEngine(RandomPlayer(0)).handle("time_left b 10 0") == "= \n\n"  # players without hooks are fine


def test_boardsize_asks_the_player_and_fixed_size_still_wins():
    engine = GtpEngine(_Recorder(sizes={9, 13}), board_size=9)
    assert engine.handle("boardsize 13") == "= \n\n"
    assert engine.handle("boardsize 19") == "? unacceptable size\n\n"
    assert engine.size == 13
    plain = GtpEngine(RandomPlayer(0))
    assert all(plain.handle(f"boardsize {s}") == "= \n\n" for s in (2, 7, 19, 25))
    fixed = GtpEngine(_Recorder(sizes={9, 13, 19}), fixed_size=9)
    assert fixed.handle("boardsize 13") == "? unacceptable size\n\n"


# ------------------------------------------------------------------------------- life, death, cleanup

# 5x5: black's wall on row 4 lives with two eyes (A5, and C5-D5 around the white stone E5); the white
# stone E5 can never escape (black captures it by filling D5); white C2 is not enclosed and is left alive.
DEAD_E5 = ("play b A4", "play b B4", "play b C4", "play b D4", "play b E4", "play b B5", "play w E5", "play w C2")


class _Passer:
    name = "passer"

    def genmove(self, board, color):
        return PASS


def test_final_status_list_finds_stones_that_cannot_escape():
    engine = GtpEngine(RandomPlayer(0), board_size=5)
    for line in DEAD_E5:
        assert engine.handle(line) == "= \n\n"
    assert dead_stones(engine.board) == {from_gtp("E5", 5)}
    assert engine.handle("final_status_list dead") == "= E5\n\n"
    assert engine.handle("final_status_list alive") == "= B5 A4 B4 C4 D4 E4\nC2\n\n"  # one string per line
    assert engine.handle("final_status_list seki") == "= \n\n"
    open_board = Board(5)
    open_board.play(from_gtp("C3", 5), BLACK)
    open_board.play(from_gtp("D3", 5), WHITE)
    assert dead_stones(open_board) == set()  # nothing is settled: nothing is called dead


def test_cleanup_genmove_captures_dead_stones_instead_of_passing():
    engine = GtpEngine(_Passer(), board_size=5)
    for line in DEAD_E5:
        engine.handle(line)
    assert engine.handle("genmove b") == "= pass\n\n"
    engine.handle("undo")
    assert engine.handle("kgs-genmove_cleanup b") == "= D5\n\n"  # the capture comes first
    assert engine.board.stones[from_gtp("E5", 5)] == EMPTY
    follow = engine.handle("kgs-genmove_cleanup b")[2:-2]
    assert follow in ("C3", "B2", "D2", "C1")  # next to the white stone left in the open area
    alone = Board(5)
    for v in ("A4", "B4", "C4", "D4", "E4"):
        alone.play(from_gtp(v, 5), BLACK)
    assert cleanup_move(alone, BLACK) == PASS  # only own territory left: nothing to clean up


class _Cleaner(_Passer):
    def genmove_cleanup(self, board, color):
        return from_gtp("A1", board.size)


def test_cleanup_genmove_uses_the_players_own_method_when_it_has_one():
    engine = GtpEngine(_Cleaner(), board_size=5)
    assert engine.handle("kgs-genmove_cleanup w") == "= A1\n\n"
    assert engine.handle("genmove b") == "= pass\n\n"


# ----------------------------------------------------------------------------------------- SGF files


def test_loadsgf_to_a_move_number_and_printsgf_round_trip(tmp_path):
    engine = GtpEngine(RandomPlayer(0), board_size=9)
    for line in ("komi 5.5", "fixed_handicap 2", "play w E5", "play b D5", "play w pass", "play b F5"):
        assert engine.handle(line).startswith("="), line
    path = tmp_path / "game.sgf"
    assert engine.handle(f"printsgf {path}") == "= \n\n"
    text = engine.handle("printsgf")[2:-2]
    assert text == path.read_text(encoding="utf-8").strip()
    record = sgf.read_game(sgf.parse_sgf(text)[0])
    assert record.handicap == 2 and record.komi == 5.5 and len(record.moves) == 4
    assert sorted(record.setup_black) == fixed_handicap_points(9, 2)
    other = GtpEngine(RandomPlayer(0), board_size=19)
    assert other.handle(f"loadsgf {path} 3") == "= \n\n"  # the position before move 3
    assert other.size == 9 and other.komi == 5.5 and len(other.moves) == 2
    assert other.handle("list_stones black") == "= G7 D5 C3\n\n" and other.handle("list_stones white") == "= E5\n\n"
    assert other.handle("undo") == "= \n\n" and other.handle("undo") == "= \n\n"
    assert other.handle("undo") == "? cannot undo\n\n"  # handicap stones stay
    assert other.handle(f"loadsgf {path}") == "= \n\n" and len(other.moves) == 4
    missing = other.handle(f"loadsgf {tmp_path / 'nope.sgf'}")
    assert missing.startswith("? cannot load file") and "nope.sgf" in missing and "\n" not in missing[:-2]
    assert len(other.moves) == 4  # a failed load keeps the game
    assert other.handle(f"loadsgf {path} zero") == "? syntax error\n\n"
    thirteen_only = GtpEngine(RandomPlayer(0), fixed_size=13)
    assert "unacceptable size" in thirteen_only.handle(f"loadsgf {path}")
