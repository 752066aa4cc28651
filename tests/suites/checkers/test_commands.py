"""`convsuite checkers play|match|ladder`: a terminal game on piped input, matches and a ladder."""

import argparse
import io
import json

import numpy as np
import pytest

from convsuite.common import cli
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers import commands
from convsuite.suites.checkers.board import Position
from convsuite.suites.checkers.champions import write_champions
from convsuite.suites.checkers.network import random_weights
from convsuite.suites.checkers.pdn import read_pdn


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "run"
    write_champions(run, list(range(10)), random_weights(np.random.default_rng(0), 10), np.full(10, 2.0))
    return run


def _play(monkeypatch, capsys, lines, *flags):
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(line + "\n" for line in lines)))
    code = cli.run(["checkers", "play", *flags])
    return code, capsys.readouterr().out


def test_play_refuses_an_illegal_move_with_the_legal_list_and_undoes_both_moves(run_dir, monkeypatch, capsys, tmp_path):
    saved = tmp_path / "game.pdn"
    code, out = _play(monkeypatch, capsys, ["11-18", "9-13", "undo", "fen", "moves", "9-14", f"save {saved}", "quit"],
                      "--checkpoint", str(run_dir), "--depth", "1")
    assert code == 0
    assert "11-18 is not legal here; legal moves: 9-13, 9-14, 10-14, 10-15, 11-15, 11-16, 12-16" in out
    assert "took back 2 moves" in out
    assert Position().to_fen() in out.split("took back 2 moves")[1]
    assert "legal moves: 9-13, 9-14" in out
    assert Position().diagram() in out  # the board is drawn
    assert out.rstrip().endswith("bye")
    games = read_pdn(saved)
    assert len(games) == 1 and [str(m) for m in games[0].moves][:1] == ["9-14"] and len(games[0].moves) == 2
    assert games[0].tags["Black"] == "you" and "run@9" in games[0].tags["White"]
    assert "saved 2 moves" in out


def test_play_ends_cleanly_at_the_end_of_input(run_dir, monkeypatch, capsys):
    code, out = _play(monkeypatch, capsys, ["9-13", "help"], "--checkpoint", str(run_dir), "--depth", "1",
                      "--generation", "3")
    assert code == 0 and "end of input; bye" in out
    assert "save FILE.pdn" in out and "run@3" in out


def test_playing_white_the_engine_moves_first_and_there_is_nothing_to_undo(monkeypatch, capsys):
    code, out = _play(monkeypatch, capsys, ["undo", "quit"], "--opponent", "piece-count", "--depth", "1",
                      "--colour", "white")
    assert code == 0
    assert "You play White" in out and "piece-count (depth 1) plays" in out
    assert "nothing to undo" in out


def test_play_with_a_missing_run_directory_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(ConvsuiteError, match="no run directory .* exists; give a run directory written by") as info:
        cli.run(["checkers", "play", "--checkpoint", str(tmp_path / "missing")])
    assert "\n" not in str(info.value)
    with pytest.raises(ConvsuiteError, match="give --checkpoint RUN"):
        cli.run(["checkers", "play"])
    with pytest.raises(ConvsuiteError, match="has no champions.npz; give a run directory"):
        cli.run(["checkers", "play", "--checkpoint", str(tmp_path)])


def test_play_with_an_unknown_generation_names_the_range(run_dir, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(ConvsuiteError, match="no champion of generation 99; it has generations 0-9"):
        cli.run(["checkers", "play", "--checkpoint", str(run_dir), "--generation", "99"])


def test_match_prints_one_json_line_and_saves_the_games(monkeypatch, capsys, tmp_path):
    path = tmp_path / "games.pdn"
    code = cli.run(["checkers", "match", "--checkpoint", "random", "--opponent", "piece-count", "--depth", "1",
                    "--games", "4", "--seed", "1", "--pdn", str(path), "--json"])
    result = json.loads(capsys.readouterr().out.strip())
    assert code == 0 and result["games"] == 4 and result["wins"] + result["draws"] + result["losses"] == 4
    assert result["player"] == "random" and result["opponent"] == "piece-count (depth 1)"
    assert 0.0 <= result["ci95"][0] <= result["score"] <= result["ci95"][1] <= 1.0
    assert len(read_pdn(path)) == 4 and result["pdn"] == str(path)


def test_match_of_a_runs_champion_prints_a_summary(run_dir, capsys):
    code = cli.run(["checkers", "match", "--checkpoint", f"{run_dir}@2", "--opponent", "random", "--depth", "1",
                    "--games", "2"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("run@2 (depth 1) vs random: ") and "95% CI" in out
    with pytest.raises(ConvsuiteError, match="even number of games"):
        cli.run(["checkers", "match", "--checkpoint", "random", "--games", "3"])


def test_ladder_generations_default_to_six_evenly_spaced(run_dir):
    assert commands.ladder_generations(run_dir) == [0, 2, 4, 5, 7, 9]
    assert commands.ladder_generations(run_dir, "0, 9") == [0, 9]
    with pytest.raises(ConvsuiteError, match="no champion of generation 42"):
        commands.ladder_generations(run_dir, "0,42")
    with pytest.raises(ConvsuiteError, match="whole numbers separated by commas"):
        commands.ladder_generations(run_dir, "0,x")


def test_ladder_prints_the_ratings_as_json(run_dir, capsys):
    code = cli.run(["checkers", "ladder", "--checkpoint", str(run_dir), "--generations", "0,5,9", "--games", "2",
                    "--depth", "1", "--move-limit", "30", "--json"])
    result = json.loads(capsys.readouterr().out.strip())
    assert code == 0 and result["generations"] == [0, 5, 9] and result["elo"][0] == 0.0
    assert len(result["matches"]) == 3


def test_every_flag_has_help_text():
    parser = argparse.ArgumentParser()
    commands.add_arguments(parser)
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subparsers.choices) == {"play", "match", "ladder"}
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            if not isinstance(action, argparse._HelpAction):
                assert action.help, f"checkers {name} {action.option_strings} has no help"


def test_after_the_game_only_commands_are_taken_and_undo_goes_back_to_your_turn():
    from convsuite.suites.checkers.board import Game
    from convsuite.suites.checkers.players import RandomPlayer

    output = io.StringIO()
    terminal = commands.TerminalGame(RandomPlayer(0), human_colour=0, input=io.StringIO("9-13\nundo\nquit\n"),
                                     output=output)
    finished, movers = Game(), (RandomPlayer(1), RandomPlayer(2))
    while not finished.is_over():
        finished.play(movers[finished.turn].choose(finished))
    terminal.game = finished
    plies, result = finished.plies, finished.result_text()
    assert terminal.play() == 0
    text = output.getvalue()
    assert f"game over: {result}" in text
    assert "the game is over (" in text and "took back" in text
    assert terminal.game.turn == 0 and plies - 2 <= terminal.game.plies < plies


def test_the_commands_matches_and_players_import_no_keras():
    import subprocess
    import sys

    code = ("import sys\n"
            "import convsuite.suites.checkers.commands, convsuite.suites.checkers.match, "
            "convsuite.suites.checkers.players, convsuite.suites.checkers.champions\n"
            "from convsuite.common import cli\n"
            "cli.build_parser()\n"
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'pyspiel') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_an_engine_that_claims_a_draw_ends_the_game_as_a_draw(tmp_path):
    from convsuite.suites.checkers.players import DrawClaim, Player

    class _Claims(Player):
        name = "claimer"

        def choose(self, game):
            raise DrawClaim("its own rules drew the game")

    output = io.StringIO()
    saved = tmp_path / "drawn.pdn"
    terminal = commands.TerminalGame(_Claims(), human_colour=0, input=io.StringIO(f"9-13\nsave {saved}\n"),
                                     output=output)
    assert terminal.play() == 0
    assert "game over: 1/2-1/2 (its own rules drew the game)" in output.getvalue()
    assert read_pdn(saved)[0].result == "1/2-1/2"
