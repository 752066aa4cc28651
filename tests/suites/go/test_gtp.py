"""GTP: scripted engine sessions (spec behaviour, errors), the engine over pipes, GNU Go, matches, Wilson."""

import inspect
import io
import math
import shlex
import sys
import textwrap
import time

import pytest

from tests.suites.go.conftest import needs_gnugo

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go import gtp, gtp_client, sgf
from convsuite.suites.go.board import BLACK, EMPTY, PASS, WHITE, from_gtp
from convsuite.suites.go.gtp import RULESETS, GtpEngine, RandomPlayer
from convsuite.suites.go.gtp_client import GtpClient, GtpError
from convsuite.suites.go.match import MatchResult, play_match, wilson_interval

REQUIRED = [
    "protocol_version", "name", "version", "known_command", "list_commands", "quit", "boardsize",
    "clear_board", "komi", "play", "genmove", "undo", "final_score", "showboard",
]


GNUGO = "gnugo --mode gtp --level 0"

ENGINE_SCRIPT = (
    "import sys\n"
    "from convsuite.suites.go.gtp import GtpEngine, RandomPlayer\n"
    "GtpEngine(RandomPlayer(0)).run(sys.stdin, sys.stdout)\n"
)
ENGINE_COMMAND = [sys.executable, "-c", ENGINE_SCRIPT]


def ok(engine, line):
    response = engine.handle(line)
    assert response is not None and response.startswith("=") and response.endswith("\n\n"), (line, response)
    return response[1:].split(" ", 1)[1][:-2] if " " in response else ""


def err(engine, line):
    response = engine.handle(line)
    assert response is not None and response.startswith("?") and response.endswith("\n\n"), (line, response)
    return response.split(" ", 1)[1][:-2]


def session(engine, *lines):
    for line in lines:
        ok(engine, line)


# ------------------------------------------------------------------------------------- protocol basics


def test_administrative_commands_answer_per_spec():
    engine = GtpEngine(RandomPlayer(0), version="9.9")
    assert engine.handle("protocol_version") == "= 2\n\n"
    assert engine.handle("name") == "= convsuite\n\n"
    assert engine.handle("version") == "= 9.9\n\n"
    assert engine.handle("known_command genmove") == "= true\n\n"
    assert engine.handle("known_command fly_to_the_moon") == "= false\n\n"
    listed = ok(engine, "list_commands").split("\n")
    assert set(REQUIRED) <= set(listed)
    assert all(engine.handle(f"known_command {c}") == "= true\n\n" for c in listed)
    assert engine.handle("fly_to_the_moon") == "? unknown command\n\n"
    assert engine.handle("7 fly_to_the_moon") == "?7 unknown command\n\n"
    assert GtpEngine(RandomPlayer(0)).version  # a default version string exists


def test_ids_are_echoed_and_comments_blank_lines_and_control_characters_are_ignored():
    engine = GtpEngine(RandomPlayer(0))
    assert engine.handle("5 name") == "=5 convsuite\n\n"
    assert engine.handle("12 boardsize 1") == "?12 unacceptable size\n\n"
    assert engine.handle("") is None
    assert engine.handle("   \n") is None
    assert engine.handle("# just a comment\n") is None
    assert engine.handle("\x00\x1b") is None  # only control characters: empty after preprocessing
    assert engine.handle("name # trailing comment") == "= convsuite\n\n"
    assert engine.handle("\t3\tname\r\n") == "=3 convsuite\n\n"  # HT -> space, CR dropped
    assert engine.handle("na\x01me\x7f") == "= convsuite\n\n"  # other control characters removed
    assert engine.handle("NAME") == "= convsuite\n\n"  # commands are matched case-insensitively


def test_boardsize_rejects_out_of_range_and_sizes_a_fixed_size_net_cannot_play():
    engine = GtpEngine(RandomPlayer(0))
    for bad in ("1", "26", "0"):
        assert err(engine, f"boardsize {bad}") == "unacceptable size"
    assert err(engine, "boardsize nine") == "syntax error"
    for good in (2, 9, 13, 25):
        ok(engine, f"boardsize {good}")
        assert engine.board.size == good
    fixed = GtpEngine(RandomPlayer(0), fixed_size=9)
    assert fixed.board.size == 9  # a 9x9-only player starts on 9x9
    ok(fixed, "boardsize 9")
    assert err(fixed, "boardsize 19") == "unacceptable size"
    assert fixed.board.size == 9
    with pytest.raises(ConvsuiteError, match="fixed_size"):
        GtpEngine(RandomPlayer(0), board_size=19, fixed_size=9)


def test_boardsize_and_clear_board_clear_the_position():
    engine = GtpEngine(RandomPlayer(0), board_size=5)
    session(engine, "play b C3", "play w D4")
    ok(engine, "clear_board")
    assert (engine.board.stones == EMPTY).all() and engine.moves == []
    session(engine, "play b C3", "boardsize 5")
    assert (engine.board.stones == EMPTY).all()
    assert err(engine, "undo") == "cannot undo"


def test_komi_accepts_floats_and_rejects_non_numbers():
    engine = GtpEngine(RandomPlayer(0), board_size=5)
    ok(engine, "komi 0.5")
    assert engine.komi == 0.5 and engine.board.komi == 0.5
    ok(engine, "komi -3")
    assert engine.komi == -3.0
    assert err(engine, "komi seven") == "syntax error"
    assert err(engine, "komi") == "syntax error"
    assert engine.komi == -3.0


# -------------------------------------------------------------------------------------------- play


def test_play_places_stones_with_any_colour_spelling_and_vertex_case():
    engine = GtpEngine(RandomPlayer(0), board_size=9)
    session(engine, "play B e5", "play white D4", "play BLACK pass", "play w c3", "play Black j9")
    size = engine.board.size
    assert engine.board.stones[from_gtp("E5", size)] == BLACK
    assert engine.board.stones[from_gtp("D4", size)] == WHITE
    assert engine.board.stones[from_gtp("C3", size)] == WHITE
    assert engine.board.stones[from_gtp("J9", size)] == BLACK
    assert engine.moves[2] == (BLACK, PASS)


def test_play_bad_colour_vertex_or_arity_is_a_syntax_error():
    engine = GtpEngine(RandomPlayer(0), board_size=9)
    for line in ("play x E5", "play b Z5", "play b I5", "play b E10", "play b E0", "play b 55", "play b",
                 "play b E5 E6", "play b resign", "genmove purple", "genmove"):
        assert err(engine, line) == "syntax error", line
    assert (engine.board.stones == EMPTY).all()


def test_play_on_an_occupied_point_is_an_illegal_move():
    engine = GtpEngine(RandomPlayer(0), board_size=5)
    ok(engine, "play b C3")
    assert err(engine, "play w C3") == "illegal move"
    assert err(engine, "play b C3") == "illegal move"
    assert engine.moves == [(BLACK, from_gtp("C3", 5))]


def test_suicide_single_stone_and_group_are_illegal_moves():
    engine = GtpEngine(RandomPlayer(0), board_size=5)
    session(engine, "play w A2", "play w B1")
    assert err(engine, "play b A1") == "illegal move"
    # Two-stone suicide: black A5 B5 filled in, surrounded by white A4 B4 C5.
    session(engine, "play w A4", "play w B4", "play w C5", "play b A5")
    assert err(engine, "play b B5") == "illegal move"
    assert engine.board.stones[from_gtp("B5", 5)] == EMPTY


KO_SETUP = ("play b B3", "play w C3", "play b A2", "play w D2", "play b B1", "play w C1", "play w B2")


def test_ko_recapture_is_illegal_and_legal_again_after_a_threat_exchange():
    engine = GtpEngine(RandomPlayer(0), board_size=5)
    session(engine, *KO_SETUP, "play b C2")  # captures the white stone on B2
    assert engine.board.stones[from_gtp("B2", 5)] == EMPTY
    assert err(engine, "play w B2") == "illegal move"
    session(engine, "play w E5", "play b E4")  # ko threat and answer
    ok(engine, "play w B2")  # now the recapture is legal
    assert engine.board.stones[from_gtp("C2", 5)] == EMPTY


def test_undo_restores_the_previous_board_including_ko_state():
    engine = GtpEngine(RandomPlayer(0), board_size=5)
    session(engine, *KO_SETUP)
    before_capture = ok(engine, "showboard")
    ok(engine, "play b C2")
    after_capture = ok(engine, "showboard")
    assert after_capture != before_capture
    ok(engine, "play w E5")
    ok(engine, "undo")
    assert ok(engine, "showboard") == after_capture
    assert err(engine, "play w B2") == "illegal move"  # the ko ban is back, not just the stones
    ok(engine, "undo")
    assert ok(engine, "showboard") == before_capture
    assert engine.board.stones[from_gtp("B2", 5)] == WHITE
    ok(engine, "play b C2")  # the capture can be replayed
    assert len(engine.moves) == len(KO_SETUP) + 1
    for _ in range(len(KO_SETUP) + 1):
        ok(engine, "undo")
    assert (engine.board.stones == EMPTY).all()
    assert err(engine, "undo") == "cannot undo"


def test_final_score_is_tromp_taylor_area_with_komi():
    engine = GtpEngine(RandomPlayer(0), board_size=5, komi=0.5)
    # Black wall on column C, white wall on column D: black owns A-C (15), white D-E (10).
    session(engine, *[f"play b C{r}" for r in range(1, 6)], *[f"play w D{r}" for r in range(1, 6)])
    assert ok(engine, "final_score") == "B+4.5"
    ok(engine, "komi 7.5")
    assert ok(engine, "final_score") == "W+2.5"
    ok(engine, "komi 5")
    assert ok(engine, "final_score") == "0"
    ok(engine, "clear_board")
    assert ok(engine, "final_score") in ("W+5", "W+5.0")  # empty board: no area for anyone, komi decides


# ------------------------------------------------------------------------------- rules and repetition

# A 5x5 game with a send-two-return-one: Black C5 offers two stones, White E5 takes them, Black D5 takes
# one back and the board is exactly as before move 19. Legal under Japanese and Korean rules (simple ko
# only); positional superko (Chinese, AGA, New Zealand on KGS) forbids move 21.
RELAY_BLACK = "A5 D5 E4 A3 E3 B2 C1 D1 E1".split()
RELAY_WHITE = "B5 C4 D4 D3 D2 A1 B1 B3 C2".split()
RELAY = [m for pair in zip(RELAY_BLACK, RELAY_WHITE) for m in pair] + ["C5", "E5", "D5"]
RELAY_PLAYS = [f"play {'b' if i % 2 == 0 else 'w'} {v}" for i, v in enumerate(RELAY)] + ["play w pass", "play b pass"]


def _relay(engine):
    """Move numbers (1-based) of the plays the engine refused."""
    return [n for n, line in enumerate(RELAY_PLAYS, 1) if engine.handle(line) != "= \n\n"]


def test_a_game_with_a_repeated_position_is_relayed_fully_unless_the_rules_have_superko():
    for engine in (GtpEngine(RandomPlayer(0), board_size=5), GtpEngine(RandomPlayer(0), board_size=5, rules="korean")):
        assert _relay(engine) == []
        assert engine.board.captures == {BLACK: 1, WHITE: 2} and len(engine.moves) == len(RELAY_PLAYS)
    for rules in RULESETS:
        engine = GtpEngine(RandomPlayer(0), board_size=5)
        assert engine.handle(f"kgs-rules {rules}") == "= \n\n"
        assert _relay(engine) == ([21] if rules in ("chinese", "aga", "new_zealand") else []), rules
    strict = GtpEngine(RandomPlayer(0), board_size=5, rules="chinese")
    assert _relay(strict) == [21]
    assert strict.handle("undo") == "= \n\n" and strict.handle("undo") == "= \n\n"
    assert strict.handle("play b D5") == "? illegal move\n\n"  # undo keeps the rules and the history
    relaxed = GtpEngine(RandomPlayer(0), board_size=5)
    _relay(relaxed)
    answer = relaxed.handle("kgs-rules chinese")  # the game so far breaks them: refused, rules unchanged
    assert answer.startswith("? ") and "repeats a position" in answer and relaxed.rules is None
    with pytest.raises(ConvsuiteError, match="go_fish"):
        GtpEngine(RandomPlayer(0), rules="go_fish")


class ScriptedPlayer:
    """Replays one game: the move at the board's move number, whichever colour is asked; then passes."""

    name = "script"

    def __init__(self, moves):
        self.moves = list(moves)

    def genmove(self, board, color):
        number = len(board.history)
        return from_gtp(self.moves[number], board.size) if number < len(self.moves) else PASS


def test_our_genmove_avoids_repeating_a_position_even_where_the_rules_allow_it():
    engine = GtpEngine(ScriptedPlayer(RELAY), board_size=5)
    for line in RELAY_PLAYS[:20]:
        engine.handle(line)
    assert engine.handle("reg_genmove b") == "= pass\n\n"  # the player's D5 would repeat: asked again, then pass
    assert engine.handle("genmove b") == "= pass\n\n"
    assert engine.handle("undo") == "= \n\n"
    assert engine.handle("play b D5") == "= \n\n"  # the controller may still relay it (Korean rules)


# ---------------------------------------------------------------------------------- genmove, showboard


def test_genmove_answers_a_legal_vertex_and_plays_it():
    engine = GtpEngine(RandomPlayer(3), board_size=5)
    ok(engine, "play b C3")
    vertex = ok(engine, "genmove w")
    move = from_gtp(vertex, 5)
    assert move != PASS and move != from_gtp("C3", 5)
    assert engine.board.stones[move] == WHITE
    assert engine.moves[-1] == (WHITE, move)
    board_text = ok(engine, "showboard")
    assert board_text.startswith("\n") and "\n\n" not in board_text
    assert board_text.count("X") >= 1 and board_text.count("O") >= 1
    vertex2 = ok(engine, "genmove b")
    assert engine.board.stones[from_gtp(vertex2, 5)] == BLACK


def test_random_player_fills_the_board_then_passes_and_never_fills_own_eyes():
    engine = GtpEngine(RandomPlayer(1), board_size=5)
    answers = []
    color = "b"
    for _ in range(200):
        answers.append(ok(engine, f"genmove {color}"))
        if answers[-2:] == ["pass", "pass"]:
            break
        color = "w" if color == "b" else "b"
    assert answers[-2:] == ["pass", "pass"]
    board = engine.board
    for p in range(board.num_points):
        if board.stones[p] == EMPTY:
            for c in (BLACK, WHITE):
                assert not board.is_legal(p, c) or board.is_eye(p, c)


class _Boom:
    name = "boom"

    def genmove(self, board, color):
        raise RuntimeError("player exploded")


class _Cheater:
    name = "cheater"

    def genmove(self, board, color):
        return 0  # A-top corner, whether or not it is free


class _Resigner:
    name = "quitter"

    def genmove(self, board, color):
        return gtp.RESIGN


def test_a_crashing_or_cheating_player_gives_an_error_response_and_the_engine_keeps_going():
    engine = GtpEngine(_Boom(), board_size=5)
    message = engine.handle("3 genmove b")
    assert message.startswith("?3 internal error: RuntimeError: player exploded")
    assert engine.handle("name") == "= convsuite\n\n"
    assert engine.moves == []
    cheat = GtpEngine(_Cheater(), board_size=5)
    session(cheat, "play b A5")  # point 0 = row 0 (top), col 0 = A5 on a 5x5 board
    assert "illegal" in err(cheat, "genmove w")
    assert cheat.moves == [(BLACK, 0)]
    quitter = GtpEngine(_Resigner(), board_size=5)
    assert ok(quitter, "genmove b") == "resign"
    assert quitter.moves == []  # resigning leaves the board unchanged


def test_run_serves_a_scripted_session_until_quit():
    engine = GtpEngine(RandomPlayer(0), board_size=5)
    script = "1 protocol_version\n\n# comment line\n2 name\n3 boardsize 30\n4 play b C3\n5 quit\n6 name\n"
    out = io.StringIO()
    engine.run(io.StringIO(script), out)
    assert out.getvalue() == "=1 2\n\n=2 convsuite\n\n?3 unacceptable size\n\n=4 \n\n=5 \n\n"
    assert engine.quit_requested


def test_run_survives_player_exceptions_and_stops_at_end_of_input():
    engine = GtpEngine(_Boom(), board_size=5)
    out = io.StringIO()
    engine.run(io.StringIO("genmove b\nname\n"), out)  # no quit: EOF ends the loop
    lines = out.getvalue().split("\n\n")
    assert lines[0].startswith("? internal error") and lines[1] == "= convsuite"


# ---------------------------------------------------------------------------------- engine over pipes


def test_our_engine_as_a_subprocess_driven_by_the_client():
    with GtpClient(ENGINE_COMMAND, timeout=30) as client:
        assert client.send("protocol_version") == "2"
        assert client.send("name") == "convsuite"
        assert client.known("genmove") and not client.known("fly")
        client.send("boardsize 9")
        client.send("play b E5")
        move = client.send("genmove w")
        assert from_gtp(move, 9) not in (PASS, from_gtp("E5", 9))
        board_text = client.send("showboard")
        assert "X" in board_text and "O" in board_text
        with pytest.raises(GtpError, match="illegal move") as info:
            client.send("play w E5")
        assert info.value.response == "illegal move" and info.value.command == "play w E5"
        with pytest.raises(GtpError, match="unknown command"):
            client.send("fly")
        assert client.send("name") == "convsuite"  # still in sync after errors
    assert client.process.poll() is not None  # close() ended it


def test_client_reports_engine_death_and_silence():
    dead = [sys.executable, "-c", "import sys; sys.stdin.readline(); sys.exit(3)"]
    with GtpClient(dead, timeout=10) as client:
        with pytest.raises(GtpError, match="name") as info:
            client.send("name")
        assert info.value.response is None
    silent = [sys.executable, "-c", "import sys, time\nfor line in sys.stdin: time.sleep(0)"]
    with GtpClient(silent, timeout=0.5) as client:
        start = time.monotonic()
        with pytest.raises(GtpError, match="did not answer"):
            client.send("genmove b")
        assert time.monotonic() - start < 5


def test_a_missing_engine_program_names_the_program_and_the_install_hint(monkeypatch):
    with pytest.raises(ConvsuiteError, match="no-such-go-engine"):
        GtpClient("no-such-go-engine --mode gtp")
    monkeypatch.setattr(gtp_client.shutil, "which", lambda name: None)
    monkeypatch.setattr(gtp_client, "GNUGO_FALLBACK", "/nonexistent/gnugo")
    with pytest.raises(ConvsuiteError, match="apt-get install gnugo"):
        GtpClient("gnugo --mode gtp")


def test_a_relative_engine_path_is_looked_up_from_cwd(tmp_path):
    script = tmp_path / "engine.py"
    script.write_text(f"#!{sys.executable}\n{ENGINE_SCRIPT}")
    script.chmod(0o755)
    with GtpClient("./engine.py", cwd=tmp_path, timeout=30) as client:
        assert client.send("name") == "convsuite"


def test_play_match_against_our_own_engine_over_pipes(tmp_path):
    command = shlex.join(ENGINE_COMMAND)
    result = play_match(RandomPlayer(1), command, games=2, board_size=5, komi=0.5, out_dir=tmp_path,
                        progress=False, timeout=30)
    _check_match(result, games=2, size=5, opponent="convsuite")
    for game in result.results:
        assert game.score_source == "opponent final_score"
        assert game.reason == "two passes"
        assert game.result == game.tromp_taylor  # both sides count Tromp-Taylor area


FAKE_ENGINE = (
    "import os, sys\n"
    "mode = sys.argv[1]\n"
    "for line in sys.stdin:\n"
    "    parts = line.split()\n"
    "    if not parts: continue\n"
    "    ident, cmd = (parts[0], parts[1]) if parts[0].isdigit() else ('', parts[0])\n"
    "    if cmd == 'genmove' and mode.startswith('crash') and not os.path.exists(sys.argv[2]):\n"
    "        if mode == 'crash-once': open(sys.argv[2], 'w').close()\n"
    "        os._exit(139)\n"
    "    answers = {'genmove': 'A1' if mode == 'liar' else 'pass', 'name': mode, 'known_command': 'true'}\n"
    "    if cmd == 'final_score':\n"
    "        print(f'?{ident} unknown command\\n', flush=True)\n"
    "        continue\n"
    "    print(f'={ident} {answers.get(cmd, \"\")}\\n', flush=True)\n"
    "    if cmd == 'quit': break\n"
)


def test_an_opponent_playing_illegal_moves_forfeits_and_the_match_goes_on(tmp_path):
    command = shlex.join([sys.executable, "-c", FAKE_ENGINE, "liar"])
    result = play_match(RandomPlayer(2), command, games=2, board_size=5, komi=0.5, out_dir=tmp_path,
                        progress=False, timeout=30)
    assert (result.wins, result.losses, result.games) == (2, 0, 2)
    for game in result.results:
        assert "illegal on our board (occupied)" in game.reason
        assert game.result == ("B+F" if game.our_color == BLACK else "W+F")
        assert game.reason in sgf.parse_sgf(open(game.sgf_path, encoding="utf-8").read())[0].properties["C"][0]


def test_a_crashed_opponent_voids_that_game_and_a_fresh_one_plays_on(tmp_path, capsys):
    command = shlex.join([sys.executable, "-c", FAKE_ENGINE, "crash-once", str(tmp_path / "crashed")])
    result = play_match(RandomPlayer(5), command, games=3, board_size=5, komi=0.5, out_dir=tmp_path,
                        progress=False, timeout=30)
    assert result.aborted == 1 and result.games == 2 and result.wins + result.losses + result.draws == 2
    assert [g.index for g in result.results] == [1, 2]
    assert "game 0 aborted, not counted" in capsys.readouterr().err
    always = shlex.join([sys.executable, "-c", FAKE_ENGINE, "crash-always", str(tmp_path / "never")])
    with pytest.raises(GtpError, match="3 games in a row"):
        play_match(RandomPlayer(5), always, games=5, board_size=5, komi=0.5, progress=False, timeout=30)


def test_score_falls_back_to_tromp_taylor_when_the_opponent_cannot_count(tmp_path, capsys):
    command = shlex.join([sys.executable, "-c", FAKE_ENGINE, "passer"])
    result = play_match(RandomPlayer(4), command, games=2, board_size=5, komi=0.5, out_dir=tmp_path,
                        progress=True, timeout=30)
    assert "\r" not in capsys.readouterr().err  # captured stderr is no terminal: no progress bar drawn
    _check_match(result, games=2, size=5, opponent="passer")
    assert result.wins == 2  # an opponent that only passes loses the whole board
    for game in result.results:
        assert game.score_source == "tromp-taylor" and game.result == game.tromp_taylor
        assert game.reason == "two passes"


SCRIPTED_ENGINE = [
    sys.executable, "-c",
    "import sys\nfrom convsuite.suites.go.board import PASS, from_gtp\nfrom convsuite.suites.go.gtp import GtpEngine\n"
    + textwrap.dedent(inspect.getsource(ScriptedPlayer))
    + "GtpEngine(ScriptedPlayer(sys.argv[1].split())).run()\n",
]


def _scripted_match(tmp_path, moves, rules):
    command = shlex.join([*SCRIPTED_ENGINE, " ".join(moves)])
    return play_match(ScriptedPlayer(moves), command, games=2, board_size=5, komi=0.5, out_dir=tmp_path,
                      progress=False, timeout=30, rules=rules)


def test_both_sides_replaying_a_game_with_a_repetition_get_the_same_result_with_colours_swapped(tmp_path):
    result = _scripted_match(tmp_path, RELAY, "chinese")
    first, second = result.results
    assert (first.our_color, second.our_color) == (BLACK, WHITE)
    for game in (first, second):
        # Black's D5 would repeat the position: whoever plays Black passes instead, White's script has
        # ended, so two passes end it. Area count by hand: Black 8 stones; White 10 stones, C5 D5 and C3.
        assert (game.reason, game.moves, game.result, game.tromp_taylor) == ("two passes", 22, "W+5.5", "W+5.5")
        record = sgf.read_game(sgf.parse_sgf(open(game.sgf_path, encoding="utf-8").read())[0])
        assert record.moves[20] == (BLACK, PASS) and record.properties["RU"] == ["chinese"]
    assert not first.won and second.won


def test_a_refused_move_loses_for_its_mover_whichever_side_made_it(tmp_path):
    result = _scripted_match(tmp_path, ["C3", "D3", "C3"], "japanese")  # Black's second move is occupied
    first, second = result.results
    assert first.result == second.result == "W+F" and first.moves == second.moves == 2
    assert "our player chose the illegal move C3 (occupied)" in first.reason
    assert "the opponent refused genmove black" in second.reason and "occupied" in second.reason
    assert (result.wins, result.losses) == (1, 1)
    with pytest.raises(ConvsuiteError, match="go_fish"):
        play_match(RandomPlayer(0), "unused", games=1, rules="go_fish")


# ---------------------------------------------------------------------------------------------- GNU Go


@needs_gnugo
def test_gnugo_client_play_genmove_final_score_and_stones_agree_with_our_board():
    engine = GtpEngine(RandomPlayer(5), board_size=9)  # our board, kept in step with GNU Go's
    with GtpClient(GNUGO, timeout=30) as client:
        assert client.send("protocol_version") == "2"
        assert "GNU Go" in client.send("name")
        client.send("boardsize 9")
        client.send("komi 7.5")
        client.send("clear_board")
        client.send("set_random_seed 1")
        for _ in range(8):
            ours = ok(engine, "genmove b")
            client.send(f"play b {ours}")
            theirs = client.send("genmove w")
            ok(engine, f"play w {theirs}")
        for color, value in (("black", BLACK), ("white", WHITE)):
            listed = {from_gtp(v, 9) for v in client.send(f"list_stones {color}").split()}
            assert listed == {p for p in range(81) if engine.board.stones[p] == value}
        score = client.send("final_score")
        assert score[:2] in ("B+", "W+") or score == "0"
        occupied = client.send("list_stones white").split()[0]
        with pytest.raises(GtpError, match="illegal move"):
            client.send(f"play b {occupied}")


@needs_gnugo
def test_play_match_random_vs_gnugo_writes_alternating_sgf_games(tmp_path):
    start = time.monotonic()
    result = play_match(RandomPlayer(0), GNUGO, games=2, board_size=9, komi=7.5, out_dir=tmp_path,
                        progress=False, seed=1)
    elapsed = time.monotonic() - start
    _check_match(result, games=2, size=9, opponent="GNU Go")
    assert result.wins == 0  # level-0 GNU Go beats random play on 9x9
    assert result.ci_low == 0.0 and result.ci_high == pytest.approx(wilson_interval(0, 2)[1])
    for game in result.results:
        assert game.score_source in ("opponent final_score", "")  # GNU Go counts, or someone resigned
    assert elapsed < 60, f"two 9x9 games vs GNU Go level 0 took {elapsed:.1f} s"


def _check_match(result: MatchResult, games: int, size: int, opponent: str):
    assert result.games == games == len(result.results) == len(result.sgf_paths)
    assert result.wins + result.losses + result.draws == games
    assert result.win_rate == pytest.approx(result.wins / games)
    assert (result.ci_low, result.ci_high) == pytest.approx(wilson_interval(result.wins, games))
    assert result.ci_low <= result.win_rate <= result.ci_high
    assert [g.our_color for g in result.results] == [BLACK if i % 2 == 0 else WHITE for i in range(games)]
    assert [p.name for p in result.sgf_paths] == [f"game_{i:03d}.sgf" for i in range(games)]
    assert opponent in result.opponent and result.player == "random"
    for game, path in zip(result.results, result.sgf_paths):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("(;") and f"RE[{game.result}]" in text
        assert f"SZ[{size}]" in text and "KM[" in text and "DT[" in text
        ours, theirs = result.player, result.opponent
        black, white = (ours, theirs) if game.our_color == BLACK else (theirs, ours)
        assert f"PB[{black}]" in text and f"PW[{white}]" in text
        assert game.won == (game.winner == game.our_color)
        assert game.result[:2] in ("B+", "W+") or game.result == "0"
        record = sgf.read_game(sgf.parse_sgf(text)[0])
        assert record.size == size and record.result == game.result and record.winner == game.winner
        assert record.players == {"PB": black, "PW": white}
        assert len(record.moves) == game.moves
        assert record.moves[0][0] == BLACK
        sgf.replay(record, superko=True)  # every recorded move is legal under our rules


# ---------------------------------------------------------------------------------------------- Wilson


def test_wilson_interval_known_values():
    def formula(w, n, z=1.96):
        p = w / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return centre - half, centre + half

    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27754), abs=1e-5)
    assert wilson_interval(10, 10) == pytest.approx((0.72246, 1.0), abs=1e-5)
    assert wilson_interval(5, 10) == pytest.approx((0.23659, 0.76341), abs=1e-5)
    assert wilson_interval(5, 10) == pytest.approx(formula(5, 10))
    assert wilson_interval(37, 100) == pytest.approx(formula(37, 100))
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(3, 10, z=2.576)
    assert (low, high) == pytest.approx(formula(3, 10, 2.576))
    assert high - low > wilson_interval(3, 10)[1] - wilson_interval(3, 10)[0]
    with pytest.raises(ConvsuiteError):
        wilson_interval(11, 10)
