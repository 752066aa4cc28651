"""The rules of Go, for extracting training positions from game records and for playing.

Every Go feature the networks see (liberties, captures, legality, ko) and every game the
players finish depends on these rules, so they live in one small engine that the SGF reader,
the feature planes and the GTP players share. Positions are replayed by the hundred thousand
when a data set is built, so the engine tracks groups and liberties incrementally instead of
flood-filling after every move, and answers "which moves are legal" and "what would this move
capture" from that group data.

Rules: stones are captured when their group has no liberty; suicide is illegal; a simple ko
may not be retaken at once; with ``superko=True`` no move may recreate an earlier board
position (positional superko: the stones alone, not who is to move). Scoring is Tromp-Taylor
area scoring: a player's stones plus the empty regions that reach only that player's stones
(J. Tromp and G. Farnebäck, "Combinatorics of Go", 2006, and J. Tromp's statement of the
Tromp-Taylor rules), minus komi for White's benefit. Dead stones are not removed, so games
should be played out before they are scored.

Points are ints ``row * size + col`` with row 0 at the top (as SGF counts rows); ``PASS`` is -1.
"""

from __future__ import annotations

import numpy as np

from convsuite.common.errors import ConvsuiteError

BLACK = 1
WHITE = -1
EMPTY = 0
PASS = -1
RESIGN = -2

MIN_SIZE = 2
MAX_SIZE = 25
GTP_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"  # GTP skips I, which reads like J or 1
_SGF_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_COLOR_NAMES = {BLACK: "black", WHITE: "white"}
_ZOBRIST_SEED = 20060101  # fixed so that hashes are stable across runs and processes

_REASON_TEXT = {
    "occupied": "the point is occupied",
    "suicide": "it would leave its own group without liberties (suicide)",
    "ko": "it retakes the ko at once (simple ko)",
    "superko": "it would repeat an earlier position (positional superko)",
    "off board": "the point is off the board",
}

__all__ = [
    "BLACK", "EMPTY", "GTP_LETTERS", "PASS", "RESIGN", "WHITE", "Board", "IllegalMove",
    "from_gtp", "from_sgf", "point", "row_col", "to_gtp", "to_sgf",
]


class IllegalMove(ConvsuiteError):
    """A move the rules forbid; ``reason`` says which rule so callers can react without parsing text."""

    def __init__(self, message: str, reason: str, move: int | None = None, color: int | None = None):
        super().__init__(message)
        self.reason = reason
        self.move = move
        self.color = color


# --------------------------------------------------------------------------- coordinates


def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ConvsuiteError(f"board size {size!r} is not supported; use an integer from {MIN_SIZE} to {MAX_SIZE}")
    return int(size)


def point(row: int, col: int, size: int) -> int:
    """The point index of (row, col), row 0 at the top."""
    if not (0 <= row < size and 0 <= col < size):
        raise ConvsuiteError(f"(row {row}, col {col}) is off the {size}x{size} board; use 0..{size - 1} for both")
    return row * size + col


def row_col(p: int, size: int) -> tuple[int, int]:
    return divmod(int(p), size)


def to_gtp(move: int, size: int) -> str:
    """GTP vertex ("D4": column letter without I, row counted from the bottom), "pass" or "resign"."""
    if move == PASS:
        return "pass"
    if move == RESIGN:
        return "resign"
    if not 0 <= move < size * size:
        raise ConvsuiteError(f"move {move!r} is off the {size}x{size} board; use 0..{size * size - 1}, PASS or RESIGN")
    row, col = divmod(int(move), size)
    return f"{GTP_LETTERS[col]}{size - row}"


def from_gtp(text: str, size: int) -> int:
    """Parses a GTP vertex, case-insensitively; "pass" and "resign" map to PASS and RESIGN."""
    word = str(text).strip().upper()
    if word == "PASS":
        return PASS
    if word == "RESIGN":
        return RESIGN
    col = GTP_LETTERS.find(word[:1]) if word else -1
    digits = word[1:]
    if col < 0 or col >= size or not (digits.isascii() and digits.isdigit()) or not 1 <= int(digits) <= size:
        raise ConvsuiteError(
            f"{text!r} is not a vertex of the {size}x{size} board; use a letter A..{GTP_LETTERS[size - 1]} "
            f"(no I) and a number 1..{size}, 'pass' or 'resign'")
    return (size - int(digits)) * size + col


def to_sgf(move: int, size: int) -> str:
    """SGF point ("dd": column letter then row letter, 'a' = 0, row 0 at the top); PASS is ""."""
    if move == PASS:
        return ""
    if not 0 <= move < size * size:
        raise ConvsuiteError(f"move {move!r} has no SGF point on the {size}x{size} board; use 0..{size * size - 1} "
                             "or PASS")
    row, col = divmod(int(move), size)
    return _SGF_LETTERS[col] + _SGF_LETTERS[row]


def from_sgf(text: str, size: int) -> int:
    """Parses an SGF point; "" and, on boards up to 19x19, "tt" are passes (FF[3] and FF[4])."""
    word = str(text).strip()
    if word == "" or (word == "tt" and size <= 19):
        return PASS
    if len(word) == 2:
        col, row = _SGF_LETTERS.find(word[0]), _SGF_LETTERS.find(word[1])
        if 0 <= col < size and 0 <= row < size:
            return row * size + col
    raise ConvsuiteError(f"SGF point {text!r} is not on the {size}x{size} board; use two letters "
                         f"a..{_SGF_LETTERS[size - 1]} (column, row), or '' for a pass")


# --------------------------------------------------------------------------- per-size tables

_NEIGHBOURS: dict[int, list[tuple[int, ...]]] = {}
_DIAGONALS: dict[int, list[tuple[int, ...]]] = {}
_ZOBRIST: dict[int, list[list[int]]] = {}


def neighbour_table(size: int) -> list[tuple[int, ...]]:
    """The points next to each point (up, left, right, down; fewer on the edge), cached per size."""
    table = _NEIGHBOURS.get(size)
    if table is None:
        table = []
        for r in range(size):
            for c in range(size):
                table.append(tuple((r + dr) * size + c + dc for dr, dc in ((-1, 0), (0, -1), (0, 1), (1, 0))
                                   if 0 <= r + dr < size and 0 <= c + dc < size))
        _NEIGHBOURS[size] = table
    return table


def _diagonals(size: int) -> list[tuple[int, ...]]:
    table = _DIAGONALS.get(size)
    if table is None:
        table = []
        for r in range(size):
            for c in range(size):
                table.append(tuple((r + dr) * size + c + dc for dr, dc in ((-1, -1), (-1, 1), (1, -1), (1, 1))
                                   if 0 <= r + dr < size and 0 <= c + dc < size))
        _DIAGONALS[size] = table
    return table


def _zobrist(size: int) -> list[list[int]]:
    """[unused, black keys, white keys], so that ``table[color]`` works for color = 1 and -1."""
    table = _ZOBRIST.get(size)
    if table is None:
        rng = np.random.default_rng(_ZOBRIST_SEED + size)
        keys = rng.integers(0, np.iinfo(np.uint64).max, size=(2, size * size), dtype=np.uint64, endpoint=True)
        table = [[], keys[0].tolist(), keys[1].tolist()]
        _ZOBRIST[size] = table
    return table


class _Group:
    """A chain of same-coloured stones with its liberties and the XOR of its stones' Zobrist keys."""

    __slots__ = ("color", "key", "libs", "stones")

    def __init__(self, color: int, stones: set, libs: set, key: int):
        self.color = color
        self.stones = stones
        self.libs = libs
        self.key = key


# --------------------------------------------------------------------------- board


class Board:
    """A Go position with its history, kept consistent under ``play`` and ``place``."""

    def __init__(self, size: int = 19, komi: float = 7.5, superko: bool = True):
        size = _check_size(size)
        self.size = size
        self.komi = float(komi)
        self.superko = bool(superko)
        n = size * size
        self.num_points = n
        self.stones = np.zeros(n, np.int8)
        self.stone_age = np.full(n, -1, np.int32)
        self.to_play = BLACK
        self.ko_point = -1
        self._ko_color = EMPTY  # the colour the ko point is forbidden to
        self.move_number = 0
        self.history: list[tuple[int, int]] = []
        self.captures = {BLACK: 0, WHITE: 0}
        self.passes = 0
        self.hash = 0
        self.position_hashes = {0}
        self._col = [EMPTY] * n  # python mirror of ``stones``: list reads are several times faster
        self._grp: list[_Group | None] = [None] * n
        self._groups: set[_Group] = set()
        self._nbr = neighbour_table(size)
        self._z = _zobrist(size)

    # ------------------------------------------------------------------ basics

    @property
    def grid(self) -> np.ndarray:
        return self.stones.reshape(self.size, self.size)

    @property
    def game_over(self) -> bool:
        return self.passes >= 2

    def copy(self) -> Board:
        """An independent board; group objects are rebuilt rather than deep-copied, for speed."""
        b = Board.__new__(Board)
        b.size, b.komi, b.superko, b.num_points = self.size, self.komi, self.superko, self.num_points
        b.stones = self.stones.copy()
        b.stone_age = self.stone_age.copy()
        b.to_play, b.ko_point, b._ko_color = self.to_play, self.ko_point, self._ko_color
        b.move_number, b.passes, b.hash = self.move_number, self.passes, self.hash
        b.history = list(self.history)
        b.captures = dict(self.captures)
        b.position_hashes = set(self.position_hashes)
        b._col = list(self._col)
        b._nbr, b._z = self._nbr, self._z
        grp: list[_Group | None] = [None] * self.num_points
        groups = set()
        for g in self._groups:
            ng = _Group(g.color, set(g.stones), set(g.libs), g.key)
            groups.add(ng)
            for s in ng.stones:
                grp[s] = ng
        b._grp, b._groups = grp, groups
        return b

    def _color(self, color) -> int:
        if color is None:
            return self.to_play
        if color != BLACK and color != WHITE:
            raise ConvsuiteError(f"colour {color!r} is not a player; use BLACK (1) or WHITE (-1)")
        return int(color)

    def _move_name(self, move) -> str:
        try:
            return to_gtp(move, self.size)
        except (ConvsuiteError, TypeError):
            return repr(move)

    # ------------------------------------------------------------------ setup

    def place(self, points, color: int) -> None:
        """Puts setup stones (handicap, SGF AB/AW) on empty points, without resolving captures."""
        color = self._color(color)
        pts = [points] if isinstance(points, (int, np.integer)) else list(points)
        n = self.num_points
        seen = set()
        for p in pts:
            if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or not 0 <= p < n:
                raise ConvsuiteError(f"setup point {p!r} is off the {self.size}x{self.size} board; use 0..{n - 1}")
            if self._col[p] != EMPTY or p in seen:
                raise ConvsuiteError(f"setup point {self._move_name(p)} is already occupied; setup stones go on "
                                     "empty points only")
            seen.add(p)
        for p in pts:
            p = int(p)
            self._add_stone(p, color, [q for q in self._nbr[p] if self._col[q] == EMPTY])
            self.stone_age[p] = 0
        self.ko_point, self._ko_color = -1, EMPTY
        self.position_hashes.add(self.hash)

    def _add_stone(self, p: int, color: int, empties: list) -> _Group:
        """Puts a stone, merges it with friendly neighbours and takes p from enemy liberties."""
        col, grp, z = self._col, self._grp, self._z[color][p]
        col[p] = color
        self.stones[p] = color
        friends = []
        for q in self._nbr[p]:
            c = col[q]
            if c == color:
                g = grp[q]
                if g not in friends:
                    friends.append(g)
            elif c == -color:
                grp[q].libs.discard(p)
        if friends:
            base = friends[0]
            for g in friends[1:]:
                if len(g.stones) > len(base.stones):
                    base = g
            for g in friends:
                if g is not base:
                    base.stones |= g.stones
                    base.libs |= g.libs
                    base.key ^= g.key
                    for s in g.stones:
                        grp[s] = base
                    self._groups.discard(g)
            base.stones.add(p)
            base.libs.discard(p)
            base.libs.update(empties)
            base.key ^= z
        else:
            base = _Group(color, {p}, set(empties), z)
            self._groups.add(base)
        grp[p] = base
        self.hash ^= z
        return base

    # ------------------------------------------------------------------ legality

    def _probe(self, move, color: int):
        """(reason or None, captured groups, empty neighbours, resulting hash) of a move, without playing it."""
        n = self.num_points
        if isinstance(move, bool) or not isinstance(move, (int, np.integer)) or not 0 <= move < n:
            return "off board", None, None, None
        col = self._col
        if col[move] != EMPTY:
            return "occupied", None, None, None
        if move == self.ko_point and color == self._ko_color:
            return "ko", None, None, None
        grp = self._grp
        empties, caps = [], []
        breathes = False
        for q in self._nbr[move]:
            c = col[q]
            if c == EMPTY:
                empties.append(q)
            elif c == color:
                if len(grp[q].libs) > 1:
                    breathes = True
            else:
                g = grp[q]
                if len(g.libs) == 1 and g not in caps:
                    caps.append(g)
        if not empties and not caps and not breathes:
            return "suicide", None, None, None
        h = self.hash ^ self._z[color][move]
        for g in caps:
            h ^= g.key
        if self.superko and h in self.position_hashes:
            return "superko", None, None, None
        return None, caps, empties, h

    def illegal_reason(self, move: int, color: int | None = None) -> str | None:
        """Why ``color`` may not play ``move`` ("occupied", "suicide", "ko", "superko", "off board"), or None."""
        color = self._color(color)
        if move == PASS:
            return None
        return self._probe(move, color)[0]

    def is_legal(self, move: int, color: int | None = None) -> bool:
        return self.illegal_reason(move, color) is None

    # ------------------------------------------------------------------ play

    def play(self, move: int, color: int | None = None) -> list[int]:
        """Plays a move (or PASS) for ``color`` and returns the captured points; raises IllegalMove."""
        color = self._color(color)
        if move == PASS:
            self.history.append((color, PASS))
            self.passes += 1
            self.move_number += 1
            self.to_play = -color
            self.ko_point, self._ko_color = -1, EMPTY
            return []
        reason, caps, empties, h = self._probe(move, color)
        if reason is not None:
            raise IllegalMove(f"illegal move {self._move_name(move)} for {_COLOR_NAMES[color]}: "
                              f"{_REASON_TEXT[reason]}; play another point or pass", reason, move, color)
        move = int(move)
        age = self.stone_age
        age[move] = self.move_number
        base = self._add_stone(move, color, empties)
        captured: list[int] = []
        if caps:
            col, grp, nbr, stones = self._col, self._grp, self._nbr, self.stones
            for g in caps:
                self._groups.discard(g)
                for s in g.stones:
                    col[s] = EMPTY
                    grp[s] = None
                    captured.append(s)
                for s in g.stones:
                    for q in nbr[s]:
                        if col[q] == color:
                            grp[q].libs.add(s)
            stones[captured] = EMPTY
            age[captured] = -1
            self.hash = h  # the stones removed are exactly the probed groups
            self.captures[color] += len(captured)
        if len(captured) == 1 and len(base.stones) == 1 and len(base.libs) == 1:
            self.ko_point, self._ko_color = captured[0], -color
        else:
            self.ko_point, self._ko_color = -1, EMPTY
        self.position_hashes.add(self.hash)
        self.history.append((color, move))
        self.passes = 0
        self.move_number += 1
        self.to_play = -color
        captured.sort()
        return captured

    # ------------------------------------------------------------------ group data

    def group(self, p: int) -> list[int]:
        g = self._grp[p]
        return sorted(g.stones) if g is not None else []

    def liberties(self, p: int) -> int:
        g = self._grp[p]
        return len(g.libs) if g is not None else 0

    def liberty_counts(self) -> np.ndarray:
        """Liberties of the group on each point (0 where empty): the liberty feature planes."""
        out = [0] * self.num_points
        for g in self._groups:
            k = len(g.libs)
            for s in g.stones:
                out[s] = k
        return np.array(out, np.int32)

    def legal_moves(self, color: int | None = None) -> np.ndarray:
        """Boolean mask over points of the moves ``color`` may play (pass, always legal, is not included)."""
        color = self._color(color)
        col, grp, nbr = self._col, self._grp, self._nbr
        ko = self.ko_point if color == self._ko_color else -1
        check = self.superko
        seen, h0, zc = self.position_hashes, self.hash, self._z[color]
        out = [False] * self.num_points
        for p in range(self.num_points):
            if col[p] != EMPTY or p == ko:
                continue
            ok = False
            h = h0 ^ zc[p]
            capped = None
            for q in nbr[p]:
                c = col[q]
                if c == EMPTY:
                    ok = True
                elif c == color:
                    if not ok and len(grp[q].libs) > 1:
                        ok = True
                else:
                    g = grp[q]
                    if len(g.libs) == 1:
                        ok = True
                        if capped is None:
                            capped = [g]
                            h ^= g.key
                        elif g not in capped:
                            capped.append(g)
                            h ^= g.key
            if ok and not (check and h in seen):
                out[p] = True
        return np.array(out, bool)

    def move_effects(self, color: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(stones captured, liberties of the played group) for a move on each point; 0 where illegal.

        These are the "capture size" and "liberties after move" inputs of Maddison et al. (2015).
        """
        color = self._color(color)
        col, grp, nbr = self._col, self._grp, self._nbr
        n = self.num_points
        captured = [0] * n
        libs_after = [0] * n
        for p in range(n):
            if col[p] != EMPTY:
                continue
            reason, caps, empties, _ = self._probe(p, color)
            if reason is not None:
                continue
            libs = set(empties)
            friends = []
            for q in nbr[p]:
                if col[q] == color:
                    g = grp[q]
                    if g not in friends:
                        friends.append(g)
                        libs |= g.libs
            libs.discard(p)
            if caps:
                count = 0
                for g in caps:
                    count += len(g.stones)
                    for s in g.stones:
                        for q in nbr[s]:
                            if q == p or (col[q] == color and grp[q] in friends):
                                libs.add(s)
                                break
                captured[p] = count
            libs_after[p] = len(libs)
        return np.array(captured, np.int32), np.array(libs_after, np.int32)

    # ------------------------------------------------------------------ eyes and scoring

    def is_eye(self, p: int, color: int) -> bool:
        """Whether p looks like a real eye of ``color``, so that simple players do not fill it."""
        col = self._col
        if col[p] != EMPTY:
            return False
        for q in self._nbr[p]:
            if col[q] != color:
                return False
        diagonals = _diagonals(self.size)[p]
        bad = sum(1 for q in diagonals if col[q] == -color)
        return bad == 0 if len(diagonals) < 4 else bad <= 1

    def region_reach(self) -> np.ndarray:
        """For each empty point, which colours its empty region touches (1 black, 2 white, 3 both;
        0 on stones): Tromp-Taylor territory is where only one colour is reached."""
        col, nbr = self._col, self._nbr
        reach = np.zeros(self.num_points, np.int8)
        seen = bytearray(self.num_points)
        for start in range(self.num_points):
            if col[start] != EMPTY or seen[start]:
                continue
            seen[start] = 1
            stack, region, touches = [start], [], 0
            while stack:
                p = stack.pop()
                region.append(p)
                for q in nbr[p]:
                    c = col[q]
                    if c == EMPTY:
                        if not seen[q]:
                            seen[q] = 1
                            stack.append(q)
                    else:
                        touches |= 1 if c == BLACK else 2
            reach[region] = touches
        return reach

    def area(self) -> tuple[int, int]:
        """Tromp-Taylor area (black, white): stones plus empty regions that reach only that colour."""
        reach = self.region_reach()
        return (self._col.count(BLACK) + int(np.count_nonzero(reach == 1)),
                self._col.count(WHITE) + int(np.count_nonzero(reach == 2)))

    def score(self) -> float:
        """Black's area minus White's area minus komi: positive when Black wins."""
        black, white = self.area()
        return black - white - self.komi

    def result(self) -> str:
        """The SGF RE value: "B+3.5", "W+0.5", or "0" for a draw."""
        s = self.score()
        if s == 0:
            return "0"
        return f"{'B' if s > 0 else 'W'}+{abs(s):g}"

    def __str__(self) -> str:
        size, col = self.size, self._col
        letters = "   " + " ".join(GTP_LETTERS[:size])
        lines = [letters]
        symbol = {BLACK: "X", WHITE: "O", EMPTY: "."}
        for r in range(size):
            row = " ".join(symbol[col[r * size + c]] for c in range(size))
            lines.append(f"{size - r:2d} {row} {size - r:<2d}".rstrip())
        lines.append(letters)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Board(size={self.size}, komi={self.komi}, superko={self.superko}, "
                f"move_number={self.move_number}, to_play={_COLOR_NAMES[self.to_play]})")
