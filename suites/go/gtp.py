"""Go Text Protocol (GTP v2, Farnebäck's draft 2): our engine side, a client for external engines, matches.

Why three pieces in one module: a trained policy is only worth something when it plays. `GtpEngine` lets any
GTP controller (GoGui, gogui-twogtp, KGS clients, sabaki) drive a `Player`; `GtpClient` drives an external
engine (GNU Go) over pipes; `play_match` puts the two together into a scored, SGF-recorded match with a
confidence interval, the strength number the suite reports.

Pure Python (no Keras import) so engines and matches start fast and the protocol is testable without a net.
"""

from __future__ import annotations

import collections
import datetime
import math
import os
import queue
import shlex
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Protocol, runtime_checkable

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go.board import (
    BLACK,
    PASS,
    RESIGN,
    WHITE,
    Board,
    IllegalMove,
    from_gtp,
    to_gtp,
)

__all__ = [
    "GameResult",
    "GtpClient",
    "GtpEngine",
    "GtpError",
    "MatchResult",
    "Player",
    "RandomPlayer",
    "play_match",
    "wilson_interval",
]

MIN_SIZE, MAX_SIZE = 2, 25  # GTP vertices use letters A..Z without I: 25 columns at most
GNUGO_FALLBACK = "/usr/games/gnugo"  # Debian/Ubuntu install gnugo outside the default PATH


def _default_version() -> str:
    """The installed convsuite version, so `version` tells which code a match result came from."""
    try:
        from importlib.metadata import version

        return version("convsuite")
    except Exception:  # not installed (source checkout): any version string is acceptable to GTP
        return "0.1.0"


# --------------------------------------------------------------------------------------------- players


@runtime_checkable
class Player(Protocol):
    """Anything that picks a move: the policy-net player, `RandomPlayer`, a test double."""

    name: str

    def genmove(self, board: Board, color: int) -> int:
        """Return a point, PASS or RESIGN for `color` on `board` (the board may be a copy; do not rely on it)."""
        ...


class RandomPlayer:
    """Uniformly random legal move that does not fill its own eye; passes when none is left.

    The suite's floor baseline ("uniform-random-legal-move"): a net that cannot beat it has learnt nothing.
    Not filling own eyes is what makes random games end (both sides eventually pass) instead of
    suiciding their groups forever.
    """

    def __init__(self, seed: int = 0, name: str = "random"):
        self.name = name
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def genmove(self, board: Board, color: int) -> int:
        legal = np.flatnonzero(board.legal_moves(color))
        candidates = [int(p) for p in legal if not board.is_eye(int(p), color)]
        if not candidates:
            return PASS
        return candidates[int(self._rng.integers(len(candidates)))]


# ---------------------------------------------------------------------------------------------- engine


class _GtpFailure(Exception):
    """A handler's GTP error message (e.g. "syntax error"); never escapes `GtpEngine.handle`."""


_COLORS = {"b": BLACK, "black": BLACK, "w": WHITE, "white": WHITE}
_CONTROL = {c: None for c in range(32) if c not in (9, 10)} | {127: None}


def _clean_line(line: str) -> str:
    """Spec section 3.1 preprocessing: drop control characters but HT/LF, HT -> space, cut `#` comments."""
    line = line.translate(_CONTROL).replace("\t", " ")
    return line.split("#", 1)[0].strip()


def _one_line(text: str) -> str:
    """Error messages must stay on one line: an embedded empty line would end the response early."""
    return " ".join(str(text).split())


class GtpEngine:
    """GTP v2 engine around a `Player`, so any GTP controller can play against (or with) our nets.

    The game is kept as setup stones plus the list of (color, move) played; `undo` and `komi` rebuild
    the board from that list, which restores everything (captures, ko point, superko history) exactly.
    The board uses positional superko, so controllers cannot push the engine into a repeated position.
    """

    def __init__(
        self,
        player: Player,
        name: str = "convsuite",
        version: str | None = None,
        board_size: int | None = None,
        komi: float = 7.5,
        fixed_size: int | None = None,
    ):
        # board_size None: the fixed size when there is one, else 19 (a 9x9-only net starts on 9x9).
        size = board_size if board_size is not None else (fixed_size or 19)
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise ConvsuiteError(f"GTP board size {size} is outside {MIN_SIZE}..{MAX_SIZE}; pick a size in that range.")
        if fixed_size is not None and size != fixed_size:
            raise ConvsuiteError(
                f"board_size {size} differs from fixed_size {fixed_size}; a player fixed to one size must start on it."
            )
        self.player = player
        self.name = name
        self.version = version if version is not None else _default_version()
        self.size = size
        self.komi = float(komi)
        self.fixed_size = fixed_size
        self.setup: list[tuple[int, list[int]]] = []  # (color, points) placed before the first move
        self.moves: list[tuple[int, int]] = []
        self.board = Board(self.size, self.komi, superko=True)
        self.quit_requested = False
        self._commands: dict[str, Callable[[list[str]], str]] = {
            "protocol_version": lambda args: "2",
            "name": lambda args: self.name,
            "version": lambda args: self.version,
            "known_command": self._known_command,
            "list_commands": lambda args: "\n".join(self._commands),
            "quit": self._quit,
            "boardsize": self._boardsize,
            "clear_board": self._clear_board,
            "komi": self._komi,
            "play": self._play,
            "genmove": self._genmove,
            "undo": self._undo,
            "final_score": self._final_score,
            "showboard": lambda args: "\n" + str(self.board),
            # Accepted and ignored: controllers (gogui-twogtp, KGS) send them and would abort on an error.
            "time_settings": self._time_settings,
            "time_left": self._time_left,
        }

    # ----------------------------------------------------------------------------- protocol plumbing

    def handle(self, line: str) -> str | None:
        """One command line in, the complete response out ("=id result\\n\\n" / "?id message\\n\\n").

        Returns None for lines that are empty after preprocessing (blank lines, comments): GTP sends
        no response to those. Never raises: a failing handler becomes an error response.
        """
        text = _clean_line(line)
        if not text:
            return None
        words = text.split()
        ident = ""
        if words[0].isdigit():
            ident, words = words[0], words[1:]
        if not words:
            return f"?{ident} syntax error\n\n"
        command, args = words[0].lower(), words[1:]
        handler = self._commands.get(command)
        if handler is None:
            return f"?{ident} unknown command\n\n"
        try:
            result = handler(args)
        except _GtpFailure as exc:
            return f"?{ident} {_one_line(exc)}\n\n"
        except ConvsuiteError as exc:
            return f"?{ident} {_one_line(exc)}\n\n"
        except Exception as exc:  # a player bug must not kill the engine: the controller gets an answer
            return f"?{ident} internal error: {type(exc).__name__}: {_one_line(exc)}\n\n"
        # A multi-line response may not contain an empty line (it would terminate the response).
        lines = [ln.rstrip() for ln in str(result).rstrip().split("\n")]
        body = "\n".join(ln for i, ln in enumerate(lines) if ln or i == 0)
        return f"={ident} {body}\n\n"

    def run(self, stdin: IO[str] | None = None, stdout: IO[str] | None = None) -> None:
        """Serve commands until `quit` or end of input, flushing each response (pipes are buffered)."""
        stdin = sys.stdin if stdin is None else stdin
        stdout = sys.stdout if stdout is None else stdout
        self.quit_requested = False
        for line in stdin:
            try:
                response = self.handle(line)
            except Exception as exc:  # handle() already catches; this is belt and braces for the loop
                response = f"? internal error: {type(exc).__name__}: {_one_line(exc)}\n\n"
            if response is None:
                continue
            stdout.write(response)
            stdout.flush()
            if self.quit_requested:
                break

    # ------------------------------------------------------------------------------------- helpers

    def _rebuild(self) -> None:
        """Board from scratch: setup stones then every move, so all derived state is exactly right."""
        board = Board(self.size, self.komi, superko=True)
        for color, points in self.setup:
            board.place(points, color)
        for color, move in self.moves:
            board.play(move, color)
        self.board = board

    @staticmethod
    def _color(word: str) -> int:
        color = _COLORS.get(word.lower())
        if color is None:
            raise _GtpFailure("syntax error")
        return color

    def _vertex(self, word: str) -> int:
        try:
            move = from_gtp(word, self.size)
        except ConvsuiteError:
            raise _GtpFailure("syntax error") from None
        if move == RESIGN:  # a vertex is a point or pass; resign only appears in genmove answers
            raise _GtpFailure("syntax error")
        return move

    # ------------------------------------------------------------------------------------ commands

    def _known_command(self, args: list[str]) -> str:
        if len(args) != 1:
            raise _GtpFailure("syntax error")
        return "true" if args[0].lower() in self._commands else "false"

    def _quit(self, args: list[str]) -> str:
        self.quit_requested = True
        return ""

    def _boardsize(self, args: list[str]) -> str:
        if len(args) != 1:
            raise _GtpFailure("syntax error")
        try:
            size = int(args[0])
        except ValueError:
            raise _GtpFailure("syntax error") from None
        if not MIN_SIZE <= size <= MAX_SIZE or (self.fixed_size is not None and size != self.fixed_size):
            raise _GtpFailure("unacceptable size")
        self.size = size
        return self._clear_board([])

    def _clear_board(self, args: list[str]) -> str:
        self.setup, self.moves = [], []
        self.board = Board(self.size, self.komi, superko=True)
        return ""

    def _komi(self, args: list[str]) -> str:
        if len(args) != 1:
            raise _GtpFailure("syntax error")
        try:
            komi = float(args[0])
        except ValueError:
            raise _GtpFailure("syntax error") from None
        if not math.isfinite(komi):
            raise _GtpFailure("syntax error")
        self.komi = komi
        self._rebuild()
        return ""

    def _play(self, args: list[str]) -> str:
        if len(args) != 2:
            raise _GtpFailure("syntax error")
        color, move = self._color(args[0]), self._vertex(args[1])
        try:
            self.board.play(move, color)
        except IllegalMove:
            raise _GtpFailure("illegal move") from None
        self.moves.append((color, move))
        return ""

    def _genmove(self, args: list[str]) -> str:
        if len(args) != 1:
            raise _GtpFailure("syntax error")
        color = self._color(args[0])
        view = self.board.copy()  # the player cannot corrupt the game record, whatever it does
        view.to_play = color
        move = int(self.player.genmove(view, color))
        if move == RESIGN:
            return "resign"  # spec: resigning leaves the board unchanged
        if move != PASS:
            reason = self.board.illegal_reason(move, color)
            if reason is not None:
                raise ConvsuiteError(
                    f"player {getattr(self.player, 'name', '?')} chose the illegal move "
                    f"{to_gtp(move, self.size)} for {'black' if color == BLACK else 'white'} ({reason}); "
                    f"the player must only return legal points, PASS or RESIGN."
                )
        self.board.play(move, color)
        self.moves.append((color, move))
        return to_gtp(move, self.size)

    def _undo(self, args: list[str]) -> str:
        if not self.moves:
            raise _GtpFailure("cannot undo")
        self.moves.pop()
        self._rebuild()
        return ""

    def _final_score(self, args: list[str]) -> str:
        return self.board.result()

    def _time_settings(self, args: list[str]) -> str:
        if len(args) != 3 or not all(a.isdigit() for a in args):
            raise _GtpFailure("syntax error")
        return ""

    def _time_left(self, args: list[str]) -> str:
        if len(args) != 3 or args[0].lower() not in _COLORS or not (args[1].isdigit() and args[2].isdigit()):
            raise _GtpFailure("syntax error")
        return ""


# ---------------------------------------------------------------------------------------------- client


class GtpError(ConvsuiteError):
    """An external engine refused a command ("? ...") or stopped answering (exit, EOF, timeout).

    `response` is the engine's own error message for a refusal, None when the engine is gone or silent,
    so callers can tell "the engine said no" (game logic) from "the engine broke" (infrastructure).
    """

    def __init__(self, message: str, command: str = "", response: str | None = None):
        super().__init__(message)
        self.command = command
        self.response = response


def _resolve_program(args: list[str], cwd: str | Path | None = None) -> list[str]:
    """Find the engine binary, with GNU Go's Debian location as a fallback; fail with the install hint."""
    if not args:
        raise ConvsuiteError(
            "the GTP engine command is empty; give the program and its arguments, e.g. 'gnugo --mode gtp'."
        )
    program = args[0]
    if cwd is not None and os.sep in program and not os.path.isabs(program):
        # Popen looks a relative program path up from cwd, so check it there too.
        if os.access(os.path.join(cwd, program), os.X_OK):
            return list(args)
    found = shutil.which(program)
    if found is None and os.path.basename(program) == "gnugo" and os.access(GNUGO_FALLBACK, os.X_OK):
        found = GNUGO_FALLBACK
    if found is None:
        hint = "apt-get install gnugo" if os.path.basename(program) == "gnugo" else "install it"
        raise ConvsuiteError(
            f"GTP engine program {program!r} was not found on PATH; {hint} or give the full path to the program."
        )
    return [found, *args[1:]]


class GtpClient:
    """Controller side: runs an engine subprocess and exchanges GTP commands with it over pipes.

    Each command carries an id, so a late answer to a timed-out command is recognised and skipped
    instead of being taken as the answer to the next one. stdout is read by a thread (timeouts without
    select(), which pipes on Windows lack); stderr is drained by another (a full stderr pipe would block
    the engine) and its tail goes into error messages.
    """

    def __init__(self, command: str | list[str], cwd: str | Path | None = None, timeout: float = 60):
        args = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
        self.args = _resolve_program(args, cwd)
        self.program = os.path.basename(self.args[0])
        self.timeout = float(timeout)
        self._next_id = 1
        try:
            self.process = subprocess.Popen(
                self.args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
        except OSError as exc:
            raise ConvsuiteError(
                f"could not start GTP engine {self.args[0]!r}: {exc}; check the path and permissions."
            ) from None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()

    def _pump_stdout(self) -> None:
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)  # EOF marker

    def _pump_stderr(self) -> None:
        for line in self.process.stderr:
            self._stderr.append(line.rstrip("\n"))

    def _gone(self, command: str, what: str) -> GtpError:
        code = self.process.poll()
        status = f"exited with code {code}" if code is not None else "is still running"
        tail = " | ".join(list(self._stderr)[-5:])
        return GtpError(
            f"GTP engine {self.program} {what} on {command!r} ({status}){'; stderr: ' + tail if tail else ''}.",
            command=command,
        )

    def send(self, command: str) -> str:
        """Send one command; return the response body (no "= ", no trailing blank line) or raise GtpError."""
        command = command.strip()
        if not command or "\n" in command or "\r" in command:
            raise ConvsuiteError(f"GTP command {command!r} must be a single non-empty line.")
        if self.process.poll() is not None and self._lines.empty():
            raise self._gone(command, "is not running")
        ident = self._next_id
        self._next_id += 1
        try:
            self.process.stdin.write(f"{ident} {command}\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise self._gone(command, "closed its input") from None
        deadline = _now() + self.timeout
        while True:
            status, reply_id, body = self._read_response(command, deadline)
            if reply_id is None or reply_id == ident:
                break  # reply_id < ident: a late answer to an earlier, timed-out command
        if status == "?":
            message = _one_line(body)
            raise GtpError(
                f"GTP engine {self.program} refused {command!r}: {message}", command=command, response=message
            )
        return body

    def _read_response(self, command: str, deadline: float) -> tuple[str, int | None, str]:
        lines: list[str] = []
        while True:
            remaining = deadline - _now()
            if remaining <= 0:
                raise self._gone(command, f"did not answer within {self.timeout:g} s")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                raise self._gone(command, f"did not answer within {self.timeout:g} s") from None
            if line is None:
                self._lines.put(None)  # keep the EOF visible to later calls
                raise self._gone(command, "ended its output")
            line = line.rstrip("\r\n")
            if not lines:
                if not line.strip() or line[0] not in "=?":
                    continue  # stray output before a response (some engines print banners)
                lines.append(line)
                continue
            if not line.strip():
                break
            lines.append(line)
        head = lines[0]
        status, rest = head[0], head[1:]
        digits = len(rest) - len(rest.lstrip("0123456789"))
        reply_id = int(rest[:digits]) if digits else None
        rest = rest[digits:]
        if rest.startswith(" "):
            rest = rest[1:]
        body = "\n".join([rest, *lines[1:]]).rstrip()
        return status, reply_id, body

    def known(self, command: str) -> bool:
        """Whether the engine implements `command` (GTP `known_command`)."""
        try:
            return self.send(f"known_command {command}").strip().lower() == "true"
        except GtpError as exc:
            if exc.response is None:
                raise
            return False

    def close(self) -> None:
        """Ask the engine to quit; kill it if it does not within a few seconds. Safe to call twice."""
        process = getattr(self, "process", None)
        if process is None:
            return
        if process.poll() is None:
            saved, self.timeout = self.timeout, min(self.timeout, 5.0)
            try:
                self.send("quit")
            except ConvsuiteError:
                pass
            finally:
                self.timeout = saved
            try:
                process.stdin.close()  # an engine that ignored quit still ends on end of input
            except Exception:
                pass
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            try:
                stream.close()
            except Exception:
                pass

    def __enter__(self) -> GtpClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _now() -> float:
    return time.monotonic()


# ----------------------------------------------------------------------------------------------- match


def wilson_interval(wins: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a win rate: unlike p ± z·se it stays inside [0, 1] and is sane at 0/n, n/n."""
    if n < 0 or not 0 <= wins <= n:
        raise ConvsuiteError(f"wilson_interval needs 0 <= wins <= n, got wins={wins}, n={n}.")
    if n == 0:
        return 0.0, 1.0  # no games: nothing is known
    p = wins / n
    z2 = z * z
    denom = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, center - half), min(1.0, center + half)


@dataclass
class GameResult:
    """One match game: who had which colour, the SGF-style result, and why the game ended."""

    index: int
    our_color: int
    result: str  # SGF RE: "B+3.5", "W+R", "0" (jigo), "B+F"/"W+F" (forfeit)
    winner: int  # BLACK, WHITE, or 0 for a draw
    reason: str  # "two passes", "resignation", "max moves", or what went wrong
    moves: int
    score_source: str = ""  # "opponent final_score", "tromp-taylor", or "" (no counting needed)
    tromp_taylor: str = ""  # our board's own Tromp-Taylor count, for comparison with the opponent's
    sgf_path: str | None = None

    @property
    def won(self) -> bool:
        return self.winner == self.our_color

    @property
    def drawn(self) -> bool:
        return self.winner == 0


@dataclass
class MatchResult:
    """Match totals with a Wilson 95% interval on the win rate.

    Draws are reported separately but count as non-wins in `win_rate` and the interval (conservative:
    a draw is not evidence of being stronger); with komi x.5 they cannot happen anyway.
    """

    games: int
    wins: int
    losses: int
    draws: int
    win_rate: float
    ci_low: float
    ci_high: float
    sgf_paths: list[Path] = field(default_factory=list)
    results: list[GameResult] = field(default_factory=list)
    player: str = ""
    opponent: str = ""
    aborted: int = 0  # games the opponent did not finish (it crashed or hung); not counted above


def _winner_of(result: str) -> int | None:
    text = result.strip().upper()
    if text.startswith("B+"):
        return BLACK
    if text.startswith("W+"):
        return WHITE
    if text in ("0", "DRAW", "JIGO") or text.startswith("0"):
        return 0
    return None


def _color_word(color: int) -> str:
    return "b" if color == BLACK else "w"


def _write_sgf(path: Path, board_size: int, komi: float, result: GameResult, moves, names: dict, comment: str) -> None:
    """Record the game with sgf.py's writer (imported here: only matches that save games need it)."""
    from convsuite.suites.go.sgf import GameRecord, record_to_sgf

    record = GameRecord(
        size=board_size,
        komi=komi,
        result=result.result,
        winner=result.winner,
        setup_black=[],
        setup_white=[],
        first_player=BLACK,
        moves=list(moves),
        handicap=0,
        players=dict(names),
        name=f"game {result.index}",
        properties={},
    )
    extra = {"DT": datetime.date.today().isoformat(), "AP": f"convsuite:{_default_version()}"}
    if comment:
        extra["C"] = comment
    path.write_text(record_to_sgf(record, **extra), encoding="utf-8")


def _play_one_game(
    index: int,
    player: Player,
    client: GtpClient,
    our_color: int,
    board_size: int,
    komi: float,
    max_moves: int,
    use_final_score: bool,
) -> tuple[GameResult, list[tuple[int, int]]]:
    """Play one game to its end; rule or protocol trouble from either side becomes a forfeit, not a crash."""
    client.send(f"boardsize {board_size}")
    client.send(f"komi {komi:g}")
    client.send("clear_board")
    board = Board(board_size, komi, superko=True)
    moves: list[tuple[int, int]] = []
    to_move, passes = BLACK, 0

    def finish(result: str, winner: int, reason: str, source: str = "") -> tuple[GameResult, list]:
        game = GameResult(index, our_color, result, winner, reason, len(moves), source, board.result())
        return game, moves

    def forfeit(loser: int, reason: str) -> tuple[GameResult, list]:
        winner = -loser
        return finish(f"{'B' if winner == BLACK else 'W'}+F", winner, reason)

    while len(moves) < max_moves:
        word = "black" if to_move == BLACK else "white"
        if to_move == our_color:
            view = board.copy()
            view.to_play = to_move
            try:
                move = int(player.genmove(view, to_move))
            except Exception as exc:  # a failing player loses the game; the match goes on
                return forfeit(to_move, f"our player failed: {type(exc).__name__}: {exc}")
            if move == RESIGN:
                winner = -to_move
                return finish(f"{'B' if winner == BLACK else 'W'}+R", winner, "resignation")
            reason = None if move == PASS else board.illegal_reason(move, to_move)
            if reason is not None:
                return forfeit(to_move, f"our player chose the illegal move {to_gtp(move, board_size)} ({reason})")
            try:
                client.send(f"play {_color_word(to_move)} {to_gtp(move, board_size)}")
            except GtpError as exc:
                if exc.response is None:
                    raise
                # Our rules (positional superko, no suicide) are stricter than any the opponent uses, so a
                # refusal means the two boards disagree; scored against us so it never inflates our rate.
                return forfeit(
                    our_color,
                    f"the opponent refused our move {to_gtp(move, board_size)} ({exc.response}); counted as our loss",
                )
        else:
            try:
                answer = client.send(f"genmove {_color_word(to_move)}").strip()
            except GtpError as exc:
                if exc.response is None:
                    raise
                return forfeit(to_move, f"the opponent refused genmove {word}: {exc.response}")
            try:
                move = from_gtp(answer, board_size)
            except ConvsuiteError:
                return forfeit(to_move, f"the opponent answered genmove with {answer!r}, not a vertex")
            if move == RESIGN:
                winner = -to_move
                return finish(f"{'B' if winner == BLACK else 'W'}+R", winner, "resignation")
            reason = None if move == PASS else board.illegal_reason(move, to_move)
            if reason is not None:
                return forfeit(to_move, f"the opponent played {answer}, illegal on our board ({reason})")
        board.play(move, to_move)
        moves.append((to_move, move))
        passes = passes + 1 if move == PASS else 0
        to_move = -to_move
        if passes >= 2:
            break
    ended = "two passes" if passes >= 2 else "max moves"
    if use_final_score:
        try:
            text = client.send("final_score").strip()
        except GtpError as exc:
            if exc.response is None:
                raise
            text = ""
        winner = _winner_of(text) if text else None
        if winner is not None:
            return finish(text if winner != 0 else "0", winner, ended, "opponent final_score")
    own = board.result()
    return finish(own, _winner_of(own), ended, "tromp-taylor")


def play_match(
    player: Player,
    opponent_command: str,
    games: int,
    board_size: int = 19,
    komi: float = 7.5,
    out_dir: Path | str | None = None,
    max_moves: int | None = None,
    seed: int = 0,
    progress: bool = True,
    timeout: float = 60,
) -> MatchResult:
    """Play `games` games against an external GTP engine, colours alternating (game 0: we are Black).

    Results are counted by the opponent's `final_score` when it has one (GNU Go removes dead stones,
    which Tromp-Taylor on an unfinished board would not), else by our board's Tromp-Taylor area.
    `seed` (plus the game index) goes to the opponent's `set_random_seed` when it has one, so a match is
    reproducible; our player's randomness is its own. Each game is saved as out_dir/game_000.sgf, ...
    when out_dir is given. An opponent that dies or stops answering mid-game voids that game (counted in
    `aborted`, not in the results) and a fresh opponent plays on; three such games in a row raise GtpError.
    Anything else (illegal or unparseable moves, refused commands) forfeits that game and the match goes on.
    """
    if games < 1:
        raise ConvsuiteError(f"play_match needs games >= 1, got {games}.")
    if not MIN_SIZE <= board_size <= MAX_SIZE:
        raise ConvsuiteError(f"board_size {board_size} is outside {MIN_SIZE}..{MAX_SIZE}; pick a size in that range.")
    if max_moves is None:
        max_moves = 2 * board_size * board_size + 50  # random-ish games end well before; a hard stop only
    if max_moves < 1:
        raise ConvsuiteError(f"play_match needs max_moves >= 1, got {max_moves}.")
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    from tqdm import tqdm  # plain tqdm: the brief is a text bar on stderr, also inside notebooks

    our_name = getattr(player, "name", type(player).__name__)
    results: list[GameResult] = []
    paths: list[Path] = []
    client = GtpClient(opponent_command, timeout=timeout)
    aborted, crashes_in_a_row = 0, 0
    try:
        try:
            opp_name = f"{client.send('name')} {client.send('version')}".strip()
        except GtpError as exc:
            if exc.response is None:
                raise
            opp_name = client.program
        use_final_score = client.known("final_score")
        has_seed = client.known("set_random_seed")
        bar = tqdm(total=games, desc=f"{our_name} vs {opp_name}", file=sys.stderr, disable=not progress)
        try:
            for index in range(games):
                our_color = BLACK if index % 2 == 0 else WHITE
                try:
                    if has_seed:
                        client.send(f"set_random_seed {seed + index}")
                    game, moves = _play_one_game(
                        index, player, client, our_color, board_size, komi, max_moves, use_final_score
                    )
                except GtpError as exc:
                    if exc.response is not None:
                        raise
                    # The opponent died or hung mid-game (GNU Go 3.8 segfaults now and then on 19x19):
                    # the game has no result, so it is left out of the count; a fresh opponent plays on.
                    aborted += 1
                    crashes_in_a_row += 1
                    print(f"game {index} aborted, not counted: {exc}", file=sys.stderr)
                    if crashes_in_a_row >= 3:
                        raise GtpError(f"the opponent failed in 3 games in a row (last: {exc}); giving up",
                                       exc.command) from exc
                    client.close()
                    client = GtpClient(opponent_command, timeout=timeout)
                    bar.update(1)
                    continue
                crashes_in_a_row = 0
                if out is not None:
                    path = out / f"game_{index:03d}.sgf"
                    names = {our_color: our_name, -our_color: opp_name}
                    comment = f"{game.reason}; scored by {game.score_source}" if game.score_source else game.reason
                    _write_sgf(path, board_size, komi, game, moves, {"PB": names[BLACK], "PW": names[WHITE]}, comment)
                    game.sgf_path = str(path)
                    paths.append(path)
                results.append(game)
                wins = sum(g.won for g in results)
                bar.update(1)
                bar.set_postfix(wins=wins, losses=len(results) - wins - sum(g.drawn for g in results))
        finally:
            bar.close()
    finally:
        client.close()
    if not results:
        raise GtpError(f"no game of the match finished ({aborted} aborted by the opponent)")
    wins = sum(g.won for g in results)
    draws = sum(g.drawn for g in results)
    losses = len(results) - wins - draws
    low, high = wilson_interval(wins, len(results))
    return MatchResult(
        games=len(results),
        wins=wins,
        losses=losses,
        draws=draws,
        win_rate=wins / len(results),
        ci_low=low,
        ci_high=high,
        sgf_paths=paths,
        results=results,
        player=our_name,
        opponent=opp_name,
        aborted=aborted,
    )
