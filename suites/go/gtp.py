"""Go Text Protocol (GTP v2, Farnebäck's draft 2), engine side: `GtpEngine` lets any GTP controller
(GoGui, gogui-twogtp, KGS clients, Sabaki) drive a `Player` (the policy-net player, `RandomPlayer`).

The controller side is `gtp_client.GtpClient`; `match.play_match` puts both together. Pure Python (no Keras
import), so engines start fast and the protocol is testable without a net.
"""

from __future__ import annotations

import math
import sys
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

__all__ = ["GtpEngine", "Player", "RandomPlayer"]

MIN_SIZE, MAX_SIZE = 2, 25  # GTP vertices use letters A..Z without I: 25 columns at most


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


# The controller side and the match runner lived here before they got modules of their own;
# older notebooks and scripts still import them from here.
_MOVED = {"GtpClient": "gtp_client", "GtpError": "gtp_client", "play_match": "match", "wilson_interval": "match",
          "GameResult": "match", "MatchResult": "match"}


def __getattr__(name):
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(f"convsuite.suites.go.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
