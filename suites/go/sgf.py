"""SGF reading and writing for Go, and streaming of game collections (folders, archives).

Follows the SGF FF[4] specification (its ``sgf.html`` for the grammar,
``go.html`` for Go's properties). A file is a collection of game trees ``(;...)``; a tree is a
sequence of nodes ``;`` followed by nested variations; a node holds properties ``ID[value][value]``.
Inside a value a backslash escapes the next character and a backslash before a line break (a
"soft line break") is removed. FF[3] and older files mixed lowercase letters into identifiers
(``AddBlack`` for ``AB``): as the spec asks of readers, only the uppercase letters count.

The parser is written here (a compiled-regex tokenizer over the text, an explicit stack for the
variations, so deep trees cannot overflow Python's recursion limit) because training pipelines
read thousands of files. sgfmill is only used by the tests, as an independent reference.

Coordinates: SGF ``"dd"`` is column then row, ``'a'`` = 0, row 0 at the top; moves are ints
``row * size + col`` or ``PASS`` (``B[]``, and ``B[tt]`` on boards up to 19x19), as in ``board``.
"""

from __future__ import annotations

import codecs
import math
import operator
import re
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go.board import BLACK, PASS, WHITE, Board, IllegalMove, from_sgf, to_gtp, to_sgf

__all__ = [
    "GameRecord",
    "IllegalGameError",
    "SgfError",
    "SgfNode",
    "SkipLog",
    "decode_sgf_bytes",
    "iter_games",
    "iter_sgf_texts",
    "parse_sgf",
    "read_game",
    "record_to_sgf",
    "replay",
    "serialize_sgf",
    "winner_of",
]


class SgfError(ConvsuiteError):
    """Malformed or unsupported SGF; ``reason`` is a short category the streaming layer counts."""

    def __init__(self, message: str, reason: str = "malformed SGF"):
        super().__init__(message)
        self.reason = reason


class IllegalGameError(SgfError):
    """A game record whose moves break the rules (occupied point, suicide, ko retaken)."""

    def __init__(self, message: str, reason: str = "illegal move"):
        super().__init__(message, reason)


def _fail(name: str, detail: str, fix: str, reason: str = "malformed SGF", cls: type = SgfError):
    """One sentence: where (the file), what is wrong (with the values), and what to do."""
    raise cls(f"{name + ': ' if name else ''}{detail}; {fix}.", reason)


# ----------------------------------------------------------------------------------------------
# The tree and the parser

@dataclass(eq=False)
class SgfNode:
    """One SGF node: its properties (identifier -> unescaped values) and its variations.

    A game is the root node of its tree; the main line follows ``children[0]``. Equality compares
    properties and tree shape; it (and ``repr``) walk the tree iteratively, so a 1000-move main
    line, which is a 1000-deep chain of nodes, does not hit the recursion limit.
    """

    properties: dict[str, list[str]] = field(default_factory=dict)
    children: list[SgfNode] = field(default_factory=list)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first value of a property, or ``default``."""
        values = self.properties.get(key)
        return values[0] if values else default

    def main_line(self) -> Iterator[SgfNode]:
        """This node and its first children down to the end of the main line."""
        node = self
        while True:
            yield node
            if not node.children:
                return
            node = node.children[0]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SgfNode):
            return NotImplemented
        pending = [(self, other)]
        while pending:
            a, b = pending.pop()
            if a is b:
                continue
            if a.properties != b.properties or len(a.children) != len(b.children):
                return False
            pending.extend(zip(a.children, b.children))
        return True

    __hash__ = None  # mutable, compared by value

    def __repr__(self) -> str:
        props = "".join(f"{k}{''.join('[' + v + ']' for v in vals)}" for k, vals in self.properties.items())
        if len(props) > 80:
            props = props[:77] + "..."
        return f"SgfNode({props!r}, children={len(self.children)})"


# The scanner matches a whole node at a time (';' and all its properties), then splits the node's
# text into properties and values with findall: a few C-level regex calls per node instead of a
# Python step per token. Values use the unrolled-loop form, which cannot backtrack exponentially on
# an unclosed '['. Whitespace between tokens is skipped.
_VALUE_RE = r"\[[^\\\]]*(?:\\.[^\\\]]*)*\]"
_TOKEN = re.compile(rf"""\s*(?:
    ;\s*([A-Z]+)\[([^\\\]]*)\](?=\s*[;()])       # the common node: one property, one plain value
  | ;\s*((?:[A-Za-z]+\s*(?:{_VALUE_RE}\s*)+)*)   # any node
  | ([()])
)""", re.DOTALL | re.VERBOSE)
_PROPERTY = re.compile(rf"([A-Za-z]+)\s*((?:{_VALUE_RE}\s*)+)", re.DOTALL)
_VALUES = re.compile(r"\[([^\\\]]*(?:\\.[^\\\]]*)*)\]", re.DOTALL)
_IDENT = re.compile(r"[A-Za-z]+")
_CLOSED_VALUE = re.compile(_VALUE_RE, re.DOTALL)
_START = re.compile(r"\(\s*;")
_SPACE = re.compile(r"\s*")
_ESCAPE = re.compile(r"\\(\r\n|\n\r|\n|\r|.)", re.DOTALL)
_LOWER = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz")
_IDENT_OK = re.compile(r"[A-Z]+\Z")


def _unescape_one(m: re.Match) -> str:
    char = m.group(1)
    return "" if char[0] in "\r\n" else char  # soft line break: removed; else the escaped char


def _unescape(raw: str) -> str:
    return _ESCAPE.sub(_unescape_one, raw) if "\\" in raw else raw


def _escape(value: str) -> str:
    if "\\" in value or "]" in value:
        value = value.replace("\\", "\\\\").replace("]", "\\]")
    return value


def _place(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {column} (offset {pos})"


def parse_sgf(text: str, name: str = "") -> list[SgfNode]:
    """Parse an SGF collection into one root node per game tree.

    Text before the first ``(;`` (a BOM, mail headers) and after the last tree is ignored, as
    collections in the wild carry such junk; anything else that is not SGF raises ``SgfError``
    naming ``name`` (the file, for messages) and the line and column.
    """
    start = _START.search(text)
    if start is None:
        hint = ("the text is empty" if not text.strip() else "a '(' is not followed by ';'" if "(" in text
                else "there is no '('")
        _fail(name, f"malformed SGF: no game tree '(;' found ({hint})",
              "an SGF file holds game trees like '(;GM[1]SZ[19];B[pd];W[dp])'")

    def error(pos: int, detail: str, fix: str) -> None:
        _fail(name, f"malformed SGF at {_place(text, pos)}: {detail}", fix)

    roots: list[SgfNode] = []
    stack: list[SgfNode | None] = []  # per open '(': the node its variation hangs from (None: a new game)
    current: SgfNode | None = None    # the node the next ';' attaches to
    after_variation = False           # after a ')' inside a tree: only '(' or ')' may follow
    in_node = False                   # the last token was a node (so properties were allowed here)
    match = _TOKEN.match
    properties_of = _PROPERTY.findall
    values_of = _VALUES.findall
    pos = start.start()
    end = len(text)
    while True:
        m = match(text, pos)
        if m is None:
            _diagnose(text, start.start(), _SPACE.match(text, pos).end(), in_node, len(stack), error)
        simple, value, body, paren = m.groups()
        pos = m.end()
        if paren is None:  # a node
            if after_variation:
                error(_SPACE.match(text, m.start()).end(), "a node ';' after a variation",
                      "nodes after variations belong inside a '(...)'")
            if simple is not None:  # the fast path: 'B[dd]'
                props = {simple: [value]}
            else:
                props = {}
                for raw, chunk in properties_of(body):
                    ident = raw if raw.isupper() else raw.translate(_LOWER)  # FF[3] 'AddBlack' -> 'AB'
                    if not ident:
                        error(m.start(3) + body.find(raw), f"property identifier {raw!r} has no uppercase "
                              "letter", "SGF identifiers are uppercase, such as 'B', 'AB' or 'SZ'")
                    values = [_unescape(v) for v in values_of(chunk)] if "\\" in chunk else values_of(chunk)
                    if ident in props:  # a repeated identifier merges its values
                        props[ident].extend(values)
                    else:
                        props[ident] = values
            node = SgfNode(props, [])
            if current is None:
                roots.append(node)
            else:
                current.children.append(node)
            current = node
            in_node = True
            continue
        in_node = False
        if paren == "(":
            if not _START.match(text, m.start(4)):  # a game tree or variation starts with '(;'
                error(_SPACE.match(text, pos).end(), "'(' not followed by ';'",
                      "every game tree and variation starts with '(;'")
            stack.append(current)
            after_variation = False
            continue
        if not stack:
            error(m.start(4), "a ')' without its '('", "remove it or add the missing '('")
        current = stack.pop()
        after_variation = True
        if not stack:  # a game tree is complete: another one, or trailing junk
            pos = _SPACE.match(text, pos).end()
            if pos >= end:
                break
            if not _START.match(text, pos):
                if _START.search(text, pos) is None:
                    break  # junk after the last game tree
                error(pos, f"unexpected text {text[pos:pos + 20]!r} between game trees",
                      "only whitespace may separate the game trees of a collection")
            after_variation = False
    return roots


def _last_property(text: str, start: int, pos: int) -> str | None:
    """The identifier of the last property before ``pos`` in the node that ends there, if any."""
    ident = None
    while start < pos:
        m = _TOKEN.match(text, start)
        if m is None:
            break
        simple, _, body, _ = m.groups()
        if simple is not None:
            ident = simple
        elif body is not None:
            found = _PROPERTY.findall(body)
            ident = found[-1][0].translate(_LOWER) if found else None
        else:
            ident = None
        start = m.end()
    return ident


def _diagnose(text: str, start: int, pos: int, in_node: bool, depth: int, error) -> None:
    """Say what stopped the scanner at ``pos`` (the slow path, taken once per malformed file)."""
    if pos >= len(text):
        error(pos, f"{depth} '(' not closed by ')' at the end of the text", "the file is truncated or a ')' is missing")
    ident = _IDENT.match(text, pos)
    if ident is not None:
        after = _SPACE.match(text, ident.end()).end()
        if not in_node:
            error(pos, f"property {ident.group()} outside a node", "properties go after a ';' that starts a node")
        if after < len(text) and text[after] == "[":
            error(after, f"the value of property {ident.group()} opened by '[' is never closed by ']'",
                  "close every value with ']' and write ']' inside a value as '\\]'")
        error(pos, f"property {ident.group()} has no value", "give it one, e.g. '[]' for an empty value")
    if text[pos] == "[":
        if _CLOSED_VALUE.match(text, pos):
            error(pos, "a value '[...]' without a property identifier before it",
                  "write values right after their identifier, as in 'AB[dd][pp]'")
        ident = _last_property(text, start, pos) if in_node else None
        what = f"the value of property {ident}" if ident else "a value"
        error(pos, f"{what} opened by '[' is never closed by ']'",
              "close every value with ']' and write ']' inside a value as '\\]'")
    error(pos, f"unexpected character {text[pos]!r}",
          "only properties like 'B[dd]', ';', '(' and ')' may appear inside a game tree")


def serialize_sgf(roots: list[SgfNode] | SgfNode) -> str:
    """Write a collection (or one game) as SGF text that ``parse_sgf`` reads back identically.

    ``]`` and ``\\`` in values are escaped; variations are kept. The walk is iterative, so long
    main lines and deep variation trees are fine.
    """
    if isinstance(roots, SgfNode):
        roots = [roots]
    out: list[str] = []
    for root in roots:
        stack: list[SgfNode | None] = [root]
        while stack:
            node = stack.pop()
            if node is None:
                out.append(")")
                continue
            out.append("(")
            in_line = 0
            while True:
                out.append(";")
                for key, vals in node.properties.items():
                    out.append(_format_property(key, vals))
                if node is root:
                    out.append("\n")
                else:
                    in_line += 1
                    if in_line % 16 == 0:
                        out.append("\n")
                if len(node.children) != 1:
                    break
                node = node.children[0]
            stack.append(None)
            stack.extend(reversed(node.children))
            if node.children:
                out.append("\n")
        out.append("\n")
    return "".join(out)


def _format_property(key: str, vals: list[str]) -> str:
    if not isinstance(key, str) or not _IDENT_OK.match(key):
        _fail("", f"cannot write property identifier {key!r}", "SGF identifiers are uppercase letters only")
    if isinstance(vals, str) or not vals:
        _fail("", f"cannot write property {key} with values {vals!r}",
              "give a non-empty list of strings, e.g. ['dd'] (use [''] for an empty value)")
    for value in vals:
        if not isinstance(value, str):
            _fail("", f"cannot write property {key} value {value!r} of type {type(value).__name__}",
                  "SgfNode values are strings, e.g. '7.5'")
    return key + "".join("[" + _escape(value) + "]" for value in vals)


# ----------------------------------------------------------------------------------------------
# Game records

@dataclass
class GameRecord:
    """A Go game's main line as the data pipeline needs it.

    ``moves`` are (colour, move) with the colour as recorded (handicap games and consecutive moves
    by one colour happen). ``name`` (where the game came from) and ``properties`` (the raw root
    properties) are left out of ``==``, so equality means "the same game".
    """

    size: int = 19
    komi: float = 0.0
    result: str = ""
    winner: int = 0
    setup_black: list[int] = field(default_factory=list)
    setup_white: list[int] = field(default_factory=list)
    first_player: int = BLACK
    moves: list[tuple[int, int]] = field(default_factory=list)
    handicap: int = 0
    players: dict[str, str] = field(default_factory=dict)
    name: str = field(default="", compare=False)
    properties: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)


_RESULT_WINNER = re.compile(r"\s*([BbWw])\s*\+")
_COLOR_NAMES = {"B": BLACK, "BLACK": BLACK, "1": BLACK, "W": WHITE, "WHITE": WHITE, "2": WHITE}


def winner_of(result: str) -> int:
    """BLACK for 'B+...' (B+R, B+Resign, B+T, B+F, B+3.5), WHITE for 'W+...', else 0 (draw, void, ?)."""
    m = _RESULT_WINNER.match(result)
    if m is None:
        return 0
    return BLACK if m.group(1) in "Bb" else WHITE


def _first_value(props: dict[str, list[str]], key: str) -> str | None:
    values = props.get(key)
    return values[0].strip() if values else None


def _read_size(value: str | None, name: str) -> int:
    if value is None:
        return 19
    parts = value.split(":")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (1, 2):
        _fail(name, f"board size SZ[{value}] is not a number", "write SZ[19] (or SZ[19:19])")
    if len(numbers) == 2 and numbers[0] != numbers[1]:
        _fail(name, f"board SZ[{value}] is not square", "only square Go boards are supported", "non-square board")
    size = numbers[0]
    if not 2 <= size <= 25:
        _fail(name, f"board size SZ[{value}] is outside 2..25", "only boards from 2x2 to 25x25 are supported",
              f"board size {size} (unsupported)")
    return size


def _read_komi(value: str | None, name: str) -> float:
    if not value:
        return 0.0  # absent: the spec gives no default; 0.0 is also what sgfmill reads
    try:
        komi = float(value.replace(",", "."))  # some European editors wrote KM[6,5]
    except ValueError:
        komi = math.nan
    if not math.isfinite(komi):
        _fail(name, f"komi KM[{value}] is not a number", "write it like KM[6.5]")
    return komi


def _read_handicap(value: str | None, name: str) -> int:
    if not value:
        return 0
    try:
        handicap = int(value)
    except ValueError:
        handicap = -1
    if handicap < 0:
        _fail(name, f"handicap HA[{value}] is not a whole number >= 0", "write it like HA[4]")
    return handicap


def _read_color(value: str, key: str, name: str) -> int:
    color = _COLOR_NAMES.get(value.strip().upper())
    if color is None:
        _fail(name, f"{key}[{value}] is not a colour", f"write {key}[B] or {key}[W]")
    return color


def _setup_points(values: list[str], size: int, key: str, name: str) -> list[int]:
    """Points of an AB/AW/AE list; ``aa:cc`` is a compressed list: the rectangle between the corners."""
    points = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        corners = value.split(":", 1)
        try:
            ends = [from_sgf(c.strip(), size) for c in corners]
        except ConvsuiteError:
            ends = [PASS]
        if PASS in ends:
            _fail(name, f"setup point {key}[{value}] is not on the {size}x{size} board",
                  "setup points are two letters 'a'.. for column and row, inside the board", "off-board point")
        if len(ends) == 1:
            points.append(ends[0])
            continue
        (r1, c1), (r2, c2) = divmod(ends[0], size), divmod(ends[1], size)
        for row in range(min(r1, r2), max(r1, r2) + 1):
            points.extend(row * size + col for col in range(min(c1, c2), max(c1, c2) + 1))
    return points


def read_game(root: SgfNode, name: str = "") -> GameRecord:
    """The main line of a parsed game as a ``GameRecord``; ``SgfError`` if it is not a usable Go game.

    Setup stones (AB/AW/AE) are accepted in the nodes before the first move, where handicap stones
    and problem positions put them; setup after moves have been played is rejected (a record with
    edits mid-game is not a game the rules engine can replay).
    """
    props = root.properties
    game = _first_value(props, "GM")
    if game is not None and game != "1":
        _fail(name, f"not a Go game (GM[{game}])", "Go records have GM[1] or no GM", "not Go")
    size = _read_size(_first_value(props, "SZ"), name)
    komi = _read_komi(_first_value(props, "KM"), name)
    result = _first_value(props, "RE") or ""
    handicap = _read_handicap(_first_value(props, "HA"), name)
    players = {key: props[key][0] for key in ("PB", "PW", "BR", "WR") if props.get(key)}

    black: dict[int, None] = {}  # ordered sets
    white: dict[int, None] = {}
    player: int | None = None
    moves: list[tuple[int, int]] = []
    for number, node in enumerate(root.main_line()):
        p = node.properties
        if "AB" in p or "AW" in p or "AE" in p:
            added_black = _setup_points(p.get("AB", []), size, "AB", name)
            added_white = _setup_points(p.get("AW", []), size, "AW", name)
            cleared = _setup_points(p.get("AE", []), size, "AE", name)
            if moves and (added_black or added_white or cleared):
                _fail(name, f"setup stones (AB/AW/AE) in node {number}, after move {len(moves)}, are not supported",
                      "only setup before the first move can be replayed, so skip this record",
                      "setup after first move")
            for point in cleared:
                black.pop(point, None)
                white.pop(point, None)
            for point in added_black:
                white.pop(point, None)
                black[point] = None
            for point in added_white:
                black.pop(point, None)
                white[point] = None
        if not moves and p.get("PL"):
            player = _read_color(p["PL"][0], "PL", name)
        b, w = p.get("B"), p.get("W")
        if b is None and w is None:
            continue
        if b is not None and w is not None:
            _fail(name, f"node {number} has both B[{b[0]}] and W[{w[0]}]", "one node holds at most one move")
        color, key, vals = (BLACK, "B", b) if b is not None else (WHITE, "W", w)
        if len(vals) != 1:
            _fail(name, f"move {len(moves) + 1} {key}{''.join('[' + v + ']' for v in vals)} has {len(vals)} values",
                  "a move has exactly one point, or [] for a pass")
        value = vals[0].strip()
        try:
            move = from_sgf(value, size)
        except ConvsuiteError:
            _fail(name, f"move {len(moves) + 1} {key}[{value}] is not on the {size}x{size} board",
                  "moves are two letters 'a'.. for column and row inside the board, or [] for a pass",
                  "off-board move")
        moves.append((color, move))
    if player is None:
        player = moves[0][0] if moves else BLACK
    return GameRecord(size=size, komi=komi, result=result, winner=winner_of(result), setup_black=list(black),
                      setup_white=list(white), first_player=player, moves=moves, handicap=handicap,
                      players=players, name=name, properties={k: list(v) for k, v in props.items()})


# Written from the record's fields, never copied from its raw properties.
_RECORD_KEYS = ("FF", "GM", "CA", "SZ", "KM", "HA", "RE", "PB", "PW", "BR", "WR", "PL", "AB", "AW", "AE")


def _komi_text(komi: float) -> str:
    text = repr(float(komi))
    return text.removesuffix(".0")


def _move_text(move: int, size: int, where: str) -> str:
    if move == PASS:
        return ""
    try:
        point = operator.index(move)
    except TypeError:
        point = -1
    if not 0 <= point < size * size:
        _fail("", f"cannot write {where}: {move!r} is not a point of the {size}x{size} board or PASS",
              f"points are row * {size} + col")
    return to_sgf(point, size)


def _as_values(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def record_to_sgf(record: GameRecord, **extra_root_props) -> str:
    """A game as FF[4] SGF text: the root (FF GM CA SZ KM HA RE PB PW BR WR PL AB AW), one node per move.

    Other raw root properties of the record (``record.properties``, e.g. a date or a comment) are
    kept; ``extra_root_props`` (``DT="2024-05-01"``, ``C="..."``) are added last and win. The text is
    Unicode with ``CA[UTF-8]``: write it with ``encoding="utf-8"``.
    ``read_game(parse_sgf(record_to_sgf(r))[0]) == r`` (equality ignores ``name`` and ``properties``).
    """
    size = record.size
    root: dict[str, list[str]] = {"FF": ["4"], "GM": ["1"], "CA": ["UTF-8"], "SZ": [str(size)],
                                  "KM": [_komi_text(record.komi)]}
    if record.handicap:
        root["HA"] = [str(int(record.handicap))]
    if record.result:
        root["RE"] = [record.result]
    for key in ("PB", "PW", "BR", "WR"):
        if record.players.get(key):
            root[key] = [str(record.players[key])]
    implied = record.moves[0][0] if record.moves else BLACK
    if record.first_player not in (BLACK, WHITE):
        _fail("", f"cannot write first_player={record.first_player!r}", "use BLACK (1) or WHITE (-1)")
    if record.first_player != implied or record.setup_black or record.setup_white:
        root["PL"] = ["B" if record.first_player == BLACK else "W"]
    if record.setup_black:
        root["AB"] = [_move_text(p, size, "setup_black") for p in record.setup_black]
    if record.setup_white:
        root["AW"] = [_move_text(p, size, "setup_white") for p in record.setup_white]
    for key, vals in record.properties.items():
        if key not in _RECORD_KEYS:
            root[key] = list(vals)
    for key, value in extra_root_props.items():
        root[key] = _as_values(value)
    top = SgfNode(root, [])
    node = top
    for number, (color, move) in enumerate(record.moves, 1):
        if color not in (BLACK, WHITE):
            _fail("", f"cannot write move {number}: colour {color!r}", "use BLACK (1) or WHITE (-1)")
        child = SgfNode({"B" if color == BLACK else "W": [_move_text(move, size, f"move {number}")]}, [])
        node.children.append(child)
        node = child
    return serialize_sgf(top)


_WHY = {
    "occupied": "the point is occupied",
    "suicide": "it is suicide",
    "ko": "it retakes a ko at once",
    "superko": "it repeats an earlier position (positional superko)",
    "off board": "the point is off the board",
}


def replay(record: GameRecord, superko: bool = False, upto: int | None = None) -> Board:
    """The board after the setup stones and the first ``upto`` moves (all by default).

    Colours come from the record, not from alternation. Positional superko is off by default:
    real records played under Japanese rules may repeat positions; simple ko and suicide are
    always enforced. Breaking a rule raises ``IllegalGameError`` naming the move.
    """
    prefix = f"{record.name}: " if record.name else ""
    board = Board(record.size, komi=record.komi, superko=superko)
    try:
        if record.setup_black:
            board.place(record.setup_black, BLACK)
        if record.setup_white:
            board.place(record.setup_white, WHITE)
    except ConvsuiteError as error:
        raise IllegalGameError(f"{prefix}the setup stones cannot be placed ({error}); "
                               "a point may hold one setup stone only, so fix or skip this record",
                               "illegal setup") from error
    board.to_play = record.first_player
    moves = record.moves if upto is None else record.moves[:upto]
    for number, (color, move) in enumerate(moves, 1):
        try:
            board.play(move, color)
        except IllegalMove as error:
            why = _WHY.get(getattr(error, "reason", ""), str(error))
            rules = "simple ko, positional superko" if superko else "simple ko"
            raise IllegalGameError(
                f"{prefix}move {number} ({'B' if color == BLACK else 'W'} {to_gtp(move, record.size)}) is "
                f"illegal: {why}; the record breaks these rules (no suicide, {rules}), so skip it") from error
    return board


# ----------------------------------------------------------------------------------------------
# Streaming collections

_CHARSET = re.compile(rb"(?<![A-Za-z])CA\s*\[\s*([^\]\s]{1,40})\s*\]")
_CHARSET_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "euc-cn": "gb18030", "shift_jis": "cp932",
                      "sjis": "cp932", "euc-kr": "cp949", "ks_c_5601-1987": "cp949"}
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz")


def decode_sgf_bytes(data: bytes) -> str:
    """Bytes to text: the charset SGF's CA[] declares, else UTF-8, else Latin-1 (which never fails)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    candidates = []
    m = _CHARSET.search(data, 0, 65536)
    if m is not None:
        declared = m.group(1).decode("ascii", "replace").lower()
        candidates.append(_CHARSET_SUPERSETS.get(declared, declared))
    candidates += ["utf-8-sig", "latin-1"]
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")  # unreachable: latin-1 decodes any bytes


def _source_path(source: str | Path) -> Path:
    path = Path(source).expanduser()
    if not path.exists():
        raise ConvsuiteError(f"SGF source {str(source)!r} does not exist; give an .sgf file, a folder of .sgf files "
                             f"(searched recursively), or a .zip / .tar / .tar.gz / .tgz / .tar.bz2 archive of them")
    return path


def iter_sgf_texts(source: str | Path) -> Iterator[tuple[str, str]]:
    """(name, text) for every .sgf file in a file, a folder (recursive, sorted) or a .zip/.tar archive.

    Archives are streamed, never extracted. ``name`` is the path within the folder or archive (the
    file name for a single file). A missing source raises ``ConvsuiteError`` at once; an archive
    that turns out corrupt raises ``ConvsuiteError`` where the damage is found.
    """
    return _iter_texts(_source_path(source))


def _is_sgf(name: str) -> bool:
    return name.lower().endswith(".sgf")


def _iter_texts(path: Path) -> Iterator[tuple[str, str]]:
    if path.is_dir():
        files = sorted((p.relative_to(path).as_posix(), p) for p in path.rglob("*") if _is_sgf(p.name) and p.is_file())
        for name, file in files:
            yield name, decode_sgf_bytes(file.read_bytes())
        return
    lower = path.name.lower()
    last = "(the start)"
    try:
        if lower.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if not info.is_dir() and _is_sgf(info.filename):
                        data = archive.read(info)
                        last = info.filename
                        yield info.filename, decode_sgf_bytes(data)
        elif lower.endswith(_TAR_SUFFIXES):
            with tarfile.open(path, "r|*") as archive:  # a stream: members are read in order, once
                for member in archive:
                    if member.isfile() and _is_sgf(member.name):
                        data = archive.extractfile(member).read()
                        last = member.name
                        yield member.name, decode_sgf_bytes(data)
        else:
            yield path.name, decode_sgf_bytes(path.read_bytes())
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise ConvsuiteError(f"archive {str(path)!r} could not be read after member {last} "
                             f"({type(error).__name__}: {error}); download it again or extract it and "
                             f"give the folder") from error


@dataclass
class SkipLog:
    """What the streaming layer read and why it skipped the rest (so a data set's losses are visible)."""

    read: int = 0
    skipped: int = 0
    reasons: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    max_examples: int = 10

    def add(self, name: str, reason: str, message: str) -> None:
        """Count one skipped game (or file) under ``reason``; keep the first few messages."""
        self.skipped += 1
        self.reasons[reason] += 1
        if len(self.examples) < self.max_examples:
            self.examples.append(message if not name or message.startswith(name) else f"{name}: {message}")

    def summary(self) -> str:
        """One line, e.g. 'read 690 games, skipped 2 (illegal move: 1, malformed SGF: 1)'."""
        text = f"read {self.read} game{'s' if self.read != 1 else ''}, skipped {self.skipped}"
        if self.reasons:
            text += " (" + ", ".join(f"{reason}: {count}" for reason, count in
                                   sorted(self.reasons.items(), key=lambda item: (-item[1], item[0]))) + ")"
        return text


def iter_games(sources: str | Path | Iterable[str | Path], *, size: int | None = None,
               skip: SkipLog | None = None, min_moves: int = 0, check_legal: bool = True) -> Iterator[GameRecord]:
    """Every usable game of the sources (files, folders, archives), skipping and counting the rest.

    A game is skipped (counted in ``skip`` by reason) when its file is malformed, it is not Go, its
    board is not ``size``, it has fewer than ``min_moves`` moves, or (``check_legal``) replaying it
    breaks the rules. Bad content never raises; a missing source raises ``ConvsuiteError`` at once.
    Games of a multi-game file are named ``file#0``, ``file#1``, ...
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    paths = [_source_path(source) for source in sources]
    return _iter_games(paths, size, skip if skip is not None else SkipLog(), min_moves, check_legal)


def _iter_games(paths: list[Path], size: int | None, log: SkipLog, min_moves: int,
                check_legal: bool) -> Iterator[GameRecord]:
    for path in paths:
        texts = _iter_texts(path)
        while True:
            try:
                name, text = next(texts)
            except StopIteration:
                break
            except ConvsuiteError as error:
                log.add(str(path), "unreadable archive", str(error))
                break
            try:
                roots = parse_sgf(text, name)
            except SgfError as error:
                log.add(name, error.reason, str(error))
                continue
            for index, root in enumerate(roots):
                game_name = name if len(roots) == 1 else f"{name}#{index}"
                try:
                    record = read_game(root, game_name)
                    if size is not None and record.size != size:
                        log.add(game_name, f"board size {record.size} (wanted {size})",
                                f"{game_name}: board size {record.size}, not {size}")
                        continue
                    if len(record.moves) < min_moves:
                        log.add(game_name, f"fewer than {min_moves} moves",
                                f"{game_name}: {len(record.moves)} moves, fewer than {min_moves}")
                        continue
                    if check_legal:
                        replay(record)
                except SgfError as error:
                    log.add(game_name, error.reason, str(error))
                    continue
                except ConvsuiteError as error:  # e.g. the board refusing a size: still bad content
                    log.add(game_name, "unsupported game", f"{game_name}: {error}")
                    continue
                log.read += 1
                yield record
