"""Go Text Protocol (GTP v2, Farnebäck's draft 2), engine side: `GtpEngine` lets any GTP controller
(GoGui, gogui-twogtp, KGS clients, Sabaki) drive a `Player` (the policy-net player, `RandomPlayer`).

Beyond the spec's required commands it speaks what controllers send in real play: handicap (the spec's
fixed placements), time control (`time_settings`, `time_left`, KGS's `kgs-time_settings`), KGS's
`kgs-rules` and `kgs-genmove_cleanup`, `final_status_list`, `loadsgf` and `printsgf`. The ko rule follows
the game's ruleset, so a controller can relay any legal game. Stones `final_status_list` calls dead are
found with Benson's unconditional life (D. B. Benson, "Life in the game of Go", Information Sciences 10,
1976): only stones that cannot escape capture are called dead.

The controller side is `gtp_client.GtpClient`; `match.play_match` puts both together. Pure Python (no Keras
import), so engines start fast and the protocol is testable without a net.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import IO, Callable, Protocol, runtime_checkable

import numpy as np

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
    neighbour_table,
    to_gtp,
)

__all__ = [
    "RULESETS", "GtpEngine", "Player", "RandomPlayer", "choose_move", "cleanup_move", "dead_stones",
    "fixed_handicap_points", "max_fixed_handicap", "repeats_position", "superko_for",
]

MIN_SIZE, MAX_SIZE = 2, 25  # GTP vertices use letters A..Z without I: 25 columns at most

# Ruleset name (as KGS's `kgs-rules` sends it) -> whether a move may not recreate an earlier position.
# Japanese and Korean rules have only the simple ko rule (a repetition voids the game or is settled by
# the players). Chinese, AGA and New Zealand rules forbid repetition (KGS enforces superko for them); AGA
# and New Zealand rules word it as situational superko, but our Board has only positional superko, so it
# stands in for both (the two differ only in rare positions where the player to move matters).
RULESETS: dict[str, bool] = {
    "japanese": False,
    "korean": False,
    "chinese": True,
    "aga": True,
    "new_zealand": True,
}


def superko_for(rules: str | None) -> bool:
    """Whether `rules` forbid repeating a position; None (no ruleset given) allows every legal game."""
    if rules is None:
        return False
    return RULESETS[_rules_name(rules)]


def _rules_name(rules: str) -> str:
    name = str(rules).strip().lower().replace("-", "_")
    if name not in RULESETS:
        raise ConvsuiteError(f"rules {rules!r} are unknown; use one of {', '.join(RULESETS)}.")
    return name


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
    """Anything that picks a move: the policy-net player, `RandomPlayer`, a test double.

    Optional methods the engine uses when a player has them: `can_play(size) -> bool` (board sizes it
    accepts), `set_time_control(main_time, byo_yomi_time, byo_yomi_stones)`, `set_time_left(color,
    seconds, stones)` and `genmove_cleanup(board, color)` (a move that captures dead stones rather than
    pass, for KGS's cleanup phase).
    """

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


# ------------------------------------------------------------------------- move choice shared with matches


def repeats_position(board: Board, move: int, color: int) -> bool:
    """Whether `color` playing `move` would recreate an earlier position of this game (whatever the rules)."""
    if move < 0:
        return False
    probe = board.copy()
    probe.superko = True
    return probe.illegal_reason(move, color) == "superko"


def choose_move(player: Player, board: Board, color: int, cleanup: bool = False) -> int:
    """The player's move, steered away from repeating a position even where the rules would allow it.

    The player sees a copy with positional superko on, so players that pick among `legal_moves` never
    repeat; one that still does is asked once more, then passes instead. With `cleanup` (KGS's cleanup
    phase) the player's `genmove_cleanup` is used, or, when it has none, a pass is replaced by
    `cleanup_move`. The move may still break other rules (occupied point, suicide, ko): callers check.
    """
    special = getattr(player, "genmove_cleanup", None) if cleanup else None
    own_cleanup = callable(special)
    ask = special if own_cleanup else player.genmove
    for _ in range(2):
        view = board.copy()
        view.superko = True
        view.to_play = color
        move = int(ask(view, color))
        if not repeats_position(board, move, color):
            break
    else:
        move = PASS
    if cleanup and not own_cleanup and move == PASS:
        move = cleanup_move(board, color)
    return move


def _reach(board: Board) -> np.ndarray:
    """For each empty point, which colours its empty region touches: 1 black, 2 white, 3 both."""
    return board.region_reach()


def cleanup_move(board: Board, color: int) -> int:
    """A move that helps remove the opponent's dead stones instead of passing, or PASS when none is left.

    Candidates: legal moves that do not fill an own eye or repeat a position, and either capture, or
    lie in an empty region touching both colours (not in anyone's territory) without putting the new
    stone's group in atari. Captures come first, then points next to the most enemy stones.
    """
    view = board.copy()
    view.superko = True
    captured, libs_after = view.move_effects(color)
    reach = _reach(view)
    col, nbr = view.stones, neighbour_table(view.size)
    best, best_key = PASS, None
    for p in np.flatnonzero(view.legal_moves(color)):
        p = int(p)
        if view.is_eye(p, color):
            continue
        if captured[p] == 0 and (reach[p] != 3 or libs_after[p] < 2):
            continue
        enemies = sum(1 for q in nbr[p] if col[q] == -color)
        key = (int(captured[p]), enemies, int(libs_after[p]), -p)
        if best_key is None or key > best_key:
            best, best_key = p, key
    return best


# ------------------------------------------------------------------------------------- life and death




def _components(points: list[int], inside: Callable[[int], bool], nbr) -> list[list[int]]:
    """Connected components of the points where `inside` holds."""
    label: dict[int, int] = {}
    parts: list[list[int]] = []
    for start in points:
        if start in label or not inside(start):
            continue
        label[start] = len(parts)
        part, stack = [], [start]
        while stack:
            p = stack.pop()
            part.append(p)
            for q in nbr[p]:
                if q not in label and inside(q):
                    label[q] = len(parts)
                    stack.append(q)
        parts.append(sorted(part))
    return parts


def _chains(board: Board) -> list[list[int]]:
    """Every string of stones (both colours), each as sorted points, in order of its first point."""
    col, nbr = board.stones.tolist(), neighbour_table(board.size)
    everything = list(range(board.size * board.size))
    black = _components(everything, lambda p: col[p] == BLACK, nbr)
    white = _components(everything, lambda p: col[p] == WHITE, nbr)
    return sorted(black + white)


def _benson(board: Board, color: int) -> tuple[list[list[int]], list[list[int]]]:
    """(unconditionally alive chains of `color`, regions enclosed only by them), after Benson (1976).

    Regions are the maximal connected sets of points without a `color` stone. A region is vital to a
    chain when all its empty points are liberties of that chain; chains with fewer than two vital
    regions, and regions bordered by a dropped chain, are removed until nothing changes.
    """
    size, col = board.size, board.stones.tolist()
    nbr = neighbour_table(size)
    everything = list(range(size * size))
    chains = _components(everything, lambda p: col[p] == color, nbr)
    regions = _components(everything, lambda p: col[p] != color, nbr)
    chain_of = {p: i for i, chain in enumerate(chains) for p in chain}
    borders, vital_to = [], []
    for region in regions:
        border = {chain_of[q] for p in region for q in nbr[p] if col[q] == color}
        empties = [p for p in region if col[p] == EMPTY]
        vital = {c for c in border if all(any(chain_of.get(q) == c for q in nbr[p]) for p in empties)}
        borders.append(border)
        vital_to.append(vital)
    alive = set(range(len(chains)))
    kept = set(range(len(regions)))
    while True:
        counts = dict.fromkeys(alive, 0)
        for r in kept:
            for c in vital_to[r] & alive:
                counts[c] += 1
        now_alive = {c for c in alive if counts[c] >= 2}
        now_kept = {r for r in kept if borders[r] <= now_alive}
        if now_alive == alive and now_kept == kept:
            break
        alive, kept = now_alive, now_kept
    return [chains[c] for c in sorted(alive)], [regions[r] for r in sorted(kept)]


def dead_stones(board: Board) -> set[int]:
    """Stones that cannot avoid capture: enemy stones in a region enclosed only by unconditionally alive
    chains whose every empty point touches those chains (filling it captures them, and they can never
    take those chains' liberties). Conservative: dead stones in larger territories are not found."""
    col, nbr = board.stones.tolist(), neighbour_table(board.size)
    dead: set[int] = set()
    for color in (BLACK, WHITE):
        _, regions = _benson(board, color)
        for region in regions:
            stones = [p for p in region if col[p] == -color]
            if stones and all(any(col[q] == color for q in nbr[p]) for p in region if col[p] == EMPTY):
                dead.update(stones)
    return dead


# ------------------------------------------------------------------------------------------- handicap


def max_fixed_handicap(size: int) -> int:
    """The most stones GTP's fixed placement defines on a size x size board (0 below 7x7)."""
    if size < 7 or size > MAX_SIZE:
        return 0
    return 9 if size % 2 == 1 and size >= 9 else 4


def fixed_handicap_points(size: int, stones: int) -> list[int]:
    """GTP's fixed handicap placement (spec section 4.1.1; GNU Go places the same stones), in point order.

    Corner stones stand on the 3rd line up to 11x11 and on the 4th line from 12x12; 5 and 7 add the
    centre, 6 and 7 the left and right sides, 8 and 9 all four sides.
    """
    top = max_fixed_handicap(size)
    if not 2 <= stones <= top:
        raise ConvsuiteError(f"fixed handicap {stones} is not defined on {size}x{size}; use 2..{top} stones "
                             f"(boards 7x7 to 25x25)." if top else
                             f"fixed handicap is not defined on {size}x{size}; use a board of 7x7 to 25x25.")
    edge = 2 if size <= 11 else 3  # index of the handicap line from either edge
    low, high, mid = edge, size - 1 - edge, size // 2
    # (row from the top, column): upper right, lower left, upper left, lower right; then sides and centre.
    corners = [(low, high), (high, low), (low, low), (high, high)]
    sides = [(mid, low), (mid, high), (low, mid), (high, mid)]
    centre = [(mid, mid)] if stones % 2 == 1 and stones >= 5 else []
    layout = (corners[:stones] if stones <= 4 else corners + sides[: 2 * ((stones - 4) // 2)]) + centre
    return sorted(row * size + col for row, col in layout)


# ---------------------------------------------------------------------------------------------- engine


class _GtpFailure(Exception):
    """A handler's GTP error message (e.g. "syntax error"); never escapes `GtpEngine.handle`."""


_COLORS = {"b": BLACK, "black": BLACK, "w": WHITE, "white": WHITE}
_CONTROL = {c: None for c in range(32) if c not in (9, 10)} | {127: None}
_DIGITS = frozenset("0123456789")


def _clean_line(line: str) -> str:
    """Spec section 3.1 preprocessing: drop control characters but HT/LF, HT -> space, cut `#` comments."""
    line = line.translate(_CONTROL).replace("\t", " ")
    return line.split("#", 1)[0].strip()


def _one_line(text: str) -> str:
    """Error messages must stay on one line: an embedded empty line would end the response early."""
    return " ".join(str(text).split())


def _number(word: str, integer: bool = False) -> float:
    """A non-negative finite number argument (time values), else a GTP syntax error."""
    try:
        value = int(word) if integer else float(word)
    except ValueError:
        raise _GtpFailure("syntax error") from None
    if not math.isfinite(value) or value < 0:
        raise _GtpFailure("syntax error")
    return value


class GtpEngine:
    """GTP v2 engine around a `Player`, so any GTP controller can play against (or with) our nets.

    The game is kept as setup stones (handicap, `loadsgf`) plus the list of (color, move) played; `undo`,
    `komi` and `kgs-rules` rebuild the board from that list, which restores everything (captures, ko
    point, position history) exactly. `rules` (a `RULESETS` name, or None) chooses the ko rule: with no
    ruleset only simple ko is enforced, so a controller can relay any legal game; our own `genmove` still
    avoids repeating a position (`choose_move`).
    """

    def __init__(
        self,
        player: Player,
        name: str = "convsuite",
        version: str | None = None,
        board_size: int | None = None,
        komi: float = 7.5,
        fixed_size: int | None = None,
        rules: str | None = None,
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
        self.rules = None if rules is None else _rules_name(rules)
        self.setup: list[tuple[int, list[int]]] = []  # (color, points) placed before the first move
        self.handicap = 0
        self.moves: list[tuple[int, int]] = []
        self.board = Board(self.size, self.komi, superko=superko_for(self.rules))
        self.time_settings: tuple[float, float, int] | None = None  # GTP's (main, byo-yomi time, stones)
        self.time_system: tuple[str, ...] = ()  # KGS's words, e.g. ("byoyomi", "600", "30", "5")
        self.time_left: dict[int, tuple[float, int]] = {}
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
            "fixed_handicap": self._fixed_handicap,
            "place_free_handicap": self._place_free_handicap,
            "set_free_handicap": self._set_free_handicap,
            "play": self._play,
            "genmove": self._genmove,
            "reg_genmove": self._reg_genmove,
            "undo": self._undo,
            "time_settings": self._time_settings,
            "time_left": self._time_left,
            "final_score": self._final_score,
            "final_status_list": self._final_status_list,
            "list_stones": self._list_stones,
            "loadsgf": self._loadsgf,
            "printsgf": self._printsgf,
            "showboard": lambda args: "\n" + str(self.board),
            "kgs-rules": self._kgs_rules,
            "kgs-time_settings": self._kgs_time_settings,
            "kgs-genmove_cleanup": self._kgs_genmove_cleanup,
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
        if set(words[0]) <= _DIGITS:  # ids are ASCII digits only (str.isdigit also takes "²" or "٣")
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

    def run(self, stdin: IO | None = None, stdout: IO | None = None) -> None:
        """Serve commands until `quit` or end of input, flushing each response (pipes are buffered).

        Input is read as bytes where the stream has them and decoded leniently (invalid UTF-8 becomes
        U+FFFD), so no byte a controller sends can stop the engine, whatever the locale's encoding.
        """
        stdin = sys.stdin if stdin is None else stdin
        stdout = sys.stdout if stdout is None else stdout
        source = getattr(stdin, "buffer", stdin)
        sink = getattr(stdout, "buffer", None)
        self.quit_requested = False
        for raw in source:
            line = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else str(raw)
            try:
                response = self.handle(line)
            except Exception as exc:  # handle() already catches; this is belt and braces for the loop
                response = f"? internal error: {type(exc).__name__}: {_one_line(exc)}\n\n"
            if response is None:
                continue
            if sink is not None:
                stdout.flush()  # anything the text layer holds goes first
                sink.write(response.encode("utf-8", "replace"))
                sink.flush()
            else:
                stdout.write(response)
                stdout.flush()
            if self.quit_requested:
                break

    # ------------------------------------------------------------------------------------- helpers

    def _new_board(self) -> Board:
        return Board(self.size, self.komi, superko=superko_for(self.rules))

    def _rebuild(self) -> None:
        """Board from scratch: setup stones then every move, so all derived state is exactly right."""
        board = self._new_board()
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

    def _size_ok(self, size: int) -> bool:
        """Sizes the player can play: the fixed size if given, else the player's `can_play`, else 2..25."""
        if not MIN_SIZE <= size <= MAX_SIZE:
            return False
        if self.fixed_size is not None:
            return size == self.fixed_size
        can_play = getattr(self.player, "can_play", None)
        return bool(can_play(size)) if callable(can_play) else True

    def _board_empty(self) -> bool:
        return not self.moves and not (self.board.stones != EMPTY).any()

    def _vertices(self, points) -> str:
        return " ".join(to_gtp(int(p), self.size) for p in points)

    def _commit(self, color: int, move: int) -> str:
        self.board.play(move, color)
        self.moves.append((color, move))
        return to_gtp(move, self.size)

    def _checked(self, move: int, color: int) -> int:
        """The player's move if the rules allow it; an illegal choice is the player's bug, reported as such."""
        if move >= 0:
            reason = self.board.illegal_reason(move, color)
            if reason is not None:
                raise ConvsuiteError(
                    f"player {getattr(self.player, 'name', '?')} chose the illegal move "
                    f"{to_gtp(move, self.size)} for {'black' if color == BLACK else 'white'} ({reason}); "
                    f"the player must only return legal points, PASS or RESIGN."
                )
        elif move not in (PASS, RESIGN):
            raise ConvsuiteError(f"player {getattr(self.player, 'name', '?')} returned {move}, not a point, "
                                 "PASS or RESIGN; fix the player's genmove.")
        return move

    # ------------------------------------------------------------------------------------ commands

    def _known_command(self, args: list[str]) -> str:
        # Spec: "false" for anything that is not a known command, a missing argument included.
        return "true" if len(args) == 1 and args[0].lower() in self._commands else "false"

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
        if not self._size_ok(size):
            raise _GtpFailure("unacceptable size")
        self.size = size
        return self._clear_board([])

    def _clear_board(self, args: list[str]) -> str:
        self.setup, self.moves, self.handicap = [], [], 0
        self.board = self._new_board()
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

    def _kgs_rules(self, args: list[str]) -> str:
        if len(args) != 1:
            raise _GtpFailure("syntax error")
        try:
            rules = _rules_name(args[0])
        except ConvsuiteError:
            raise _GtpFailure(f"unknown rules {args[0]}; known: {' '.join(RULESETS)}") from None
        previous, self.rules = self.rules, rules
        try:
            self._rebuild()
        except IllegalMove:
            self.rules = previous
            self._rebuild()
            raise _GtpFailure(f"the game so far repeats a position, which {rules} rules forbid") from None
        return ""

    # --- handicap

    def _handicap_count(self, args: list[str]) -> int:
        if len(args) != 1:
            raise _GtpFailure("syntax error")
        try:
            return int(args[0])
        except ValueError:
            raise _GtpFailure("syntax error") from None

    def _place_handicap(self, points: list[int]) -> str:
        self.setup.append((BLACK, list(points)))
        self.handicap = len(points)
        self._rebuild()
        return self._vertices(sorted(points))

    def _fixed_handicap(self, args: list[str]) -> str:
        stones = self._handicap_count(args)
        if not 2 <= stones <= max_fixed_handicap(self.size):
            raise _GtpFailure("invalid number of stones")
        if not self._board_empty():
            raise _GtpFailure("board not empty")
        return self._place_handicap(fixed_handicap_points(self.size, stones))

    def _place_free_handicap(self, args: list[str]) -> str:
        """The fixed placement where there is one; beyond it (or on small boards) the player picks the rest."""
        stones = self._handicap_count(args)
        if not 2 <= stones < self.size * self.size:
            raise _GtpFailure("invalid number of stones")
        if not self._board_empty():
            raise _GtpFailure("board not empty")
        fixed = min(stones, max_fixed_handicap(self.size))
        points = fixed_handicap_points(self.size, fixed) if fixed >= 2 else []
        board = self._new_board()
        if points:
            board.place(points, BLACK)
        while len(points) < stones:
            view = board.copy()
            view.superko = True
            move = int(self.player.genmove(view, BLACK))
            if move < 0 or not board.is_legal(move, BLACK):
                break  # the spec lets an engine place fewer stones than asked
            board.place([move], BLACK)
            points.append(move)
        if len(points) < 2:
            raise _GtpFailure(f"could not choose {stones} handicap stones on {self.size}x{self.size}")
        return self._place_handicap(points)

    def _set_free_handicap(self, args: list[str]) -> str:
        if not self._board_empty():
            raise _GtpFailure("board not empty")
        try:
            points = [from_gtp(word, self.size) for word in args]
        except ConvsuiteError:
            raise _GtpFailure("bad vertex list") from None
        if not 2 <= len(points) < self.size * self.size or min(points) < 0 or len(set(points)) != len(points):
            raise _GtpFailure("bad vertex list")
        self._place_handicap(points)
        return ""

    # --- moves

    def _play(self, args: list[str]) -> str:
        if len(args) != 2:
            raise _GtpFailure("syntax error")
        color, move = self._color(args[0]), self._vertex(args[1])
        try:
            self._commit(color, move)
        except IllegalMove:
            raise _GtpFailure("illegal move") from None
        return ""

    def _genmove_color(self, args: list[str]) -> int:
        if len(args) != 1:
            raise _GtpFailure("syntax error")
        return self._color(args[0])

    def _genmove(self, args: list[str], cleanup: bool = False) -> str:
        color = self._genmove_color(args)
        move = self._checked(choose_move(self.player, self.board, color, cleanup=cleanup), color)
        if move == RESIGN:
            return "resign"  # spec: resigning leaves the board unchanged
        return self._commit(color, move)

    def _reg_genmove(self, args: list[str]) -> str:
        color = self._genmove_color(args)
        return to_gtp(self._checked(choose_move(self.player, self.board, color), color), self.size)

    def _kgs_genmove_cleanup(self, args: list[str]) -> str:
        return self._genmove(args, cleanup=True)

    def _undo(self, args: list[str]) -> str:
        if not self.moves:
            raise _GtpFailure("cannot undo")
        self.moves.pop()
        self._rebuild()
        return ""

    # --- scoring and board queries

    def _final_score(self, args: list[str]) -> str:
        return self.board.result()

    def _final_status_list(self, args: list[str]) -> str:
        """Dead: stones that cannot avoid capture (`dead_stones`); alive: all others; seki is not detected."""
        if len(args) != 1 or args[0].lower() not in ("alive", "dead", "seki"):
            raise _GtpFailure("syntax error")
        status = args[0].lower()
        if status == "seki":
            return ""
        dead = dead_stones(self.board)
        wanted = [chain for chain in _chains(self.board) if (chain[0] in dead) == (status == "dead")]
        return "\n".join(self._vertices(chain) for chain in wanted)

    def _list_stones(self, args: list[str]) -> str:
        if len(args) != 1:
            raise _GtpFailure("syntax error")
        color = self._color(args[0])
        return self._vertices(np.flatnonzero(self.board.stones == color))

    # --- time

    def _set_time(self, main: float, byo_yomi: float, stones: int) -> None:
        self.time_settings = (float(main), float(byo_yomi), int(stones))
        self.time_left = {}
        hook = getattr(self.player, "set_time_control", None)
        if callable(hook):
            hook(float(main), float(byo_yomi), int(stones))

    def _time_settings(self, args: list[str]) -> str:
        """GTP: main time, then byo-yomi time for byo-yomi stones (0 stones with byo-yomi time > 0: no limit)."""
        if len(args) != 3:
            raise _GtpFailure("syntax error")
        main, byo_yomi, stones = _number(args[0]), _number(args[1]), int(_number(args[2], integer=True))
        self.time_system = ()
        self._set_time(main, byo_yomi, stones)
        return ""

    def _kgs_time_settings(self, args: list[str]) -> str:
        """KGS: none | absolute MAIN | byoyomi MAIN PERIOD PERIODS | canadian MAIN TIME STONES.

        Passed on in GTP's terms; Japanese byo-yomi has no GTP form, so each period counts as a Canadian
        period of one stone (the words are kept in `time_system` for players that want them).
        """
        if not args:
            raise _GtpFailure("syntax error")
        system, values = args[0].lower(), args[1:]
        counts = {"none": 0, "absolute": 1, "byoyomi": 3, "canadian": 3}
        if system not in counts or len(values) != counts[system]:
            raise _GtpFailure("syntax error")
        if system == "none":
            main, byo_yomi, stones = 0.0, 1.0, 0
        elif system == "absolute":
            main, byo_yomi, stones = _number(values[0]), 0.0, 0
        elif system == "byoyomi":
            _number(values[2], integer=True)
            main, byo_yomi, stones = _number(values[0]), _number(values[1]), 1
        else:
            main, byo_yomi, stones = _number(values[0]), _number(values[1]), int(_number(values[2], integer=True))
        self._set_time(main, byo_yomi, stones)
        self.time_system = (system, *values)
        return ""

    def _time_left(self, args: list[str]) -> str:
        if len(args) != 3:
            raise _GtpFailure("syntax error")
        color, seconds, stones = self._color(args[0]), _number(args[1]), int(_number(args[2], integer=True))
        self.time_left[color] = (seconds, stones)
        hook = getattr(self.player, "set_time_left", None)
        if callable(hook):
            hook(color, float(seconds), stones)
        return ""

    # --- game records

    def _loadsgf(self, args: list[str]) -> str:
        """`loadsgf FILE [N]`: the game of FILE up to the position before move N (all moves by default)."""
        if len(args) not in (1, 2):
            raise _GtpFailure("syntax error")
        upto = None
        if len(args) == 2:
            upto = int(_number(args[1], integer=True))
            if upto < 1:
                raise _GtpFailure("syntax error")
        from convsuite.suites.go import sgf

        path = Path(args[0])
        try:
            text = sgf.decode_sgf_bytes(path.read_bytes())
            record = sgf.read_game(sgf.parse_sgf(text, str(path))[0], str(path))
        except (OSError, ConvsuiteError, IndexError) as exc:
            raise _GtpFailure(f"cannot load file {path}: {_one_line(exc) or 'no game in it'}") from None
        if not self._size_ok(record.size):
            raise _GtpFailure(f"cannot load file {path}: board size {record.size} is an unacceptable size")
        saved = (self.size, self.komi, self.setup, self.handicap, self.moves, self.board)
        self.size, self.komi, self.handicap = record.size, record.komi, record.handicap
        self.setup = [(c, list(p)) for c, p in ((BLACK, record.setup_black), (WHITE, record.setup_white)) if p]
        self.moves = []
        try:
            self._rebuild()
            moves = record.moves if upto is None else record.moves[: upto - 1]
            for number, (color, move) in enumerate(moves, 1):
                try:
                    self._commit(color, move)
                except IllegalMove as exc:
                    raise _GtpFailure(f"cannot load file {path}: move {number} is illegal ({_one_line(exc)})") from None
        except (_GtpFailure, ConvsuiteError):
            self.size, self.komi, self.setup, self.handicap, self.moves, self.board = saved
            raise
        return ""

    def _printsgf(self, args: list[str]) -> str:
        """`printsgf [FILE]`: the game as SGF, written to FILE or given as the response."""
        if len(args) > 1:
            raise _GtpFailure("syntax error")
        from convsuite.suites.go.sgf import GameRecord, record_to_sgf

        black = [p for c, points in self.setup if c == BLACK for p in points]
        white = [p for c, points in self.setup if c == WHITE for p in points]
        first = self.moves[0][0] if self.moves else (WHITE if self.handicap else BLACK)
        record = GameRecord(size=self.size, komi=self.komi, setup_black=black, setup_white=white, first_player=first,
                            moves=list(self.moves), handicap=self.handicap)
        extra = {"AP": f"{self.name}:{self.version}"}
        if self.rules is not None:
            extra["RU"] = self.rules
        text = record_to_sgf(record, **extra)
        if not args:
            return text
        try:
            Path(args[0]).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise _GtpFailure(f"cannot write {args[0]}: {_one_line(exc)}") from None
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
