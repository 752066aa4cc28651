"""SGF reading and writing for Go, and streaming of game collections (folders, archives).

Follows the SGF FF[4] specification (its ``sgf.html`` for the grammar,
``go.html`` for Go's properties). A file is a collection of game trees ``(;...)``; a tree is a
sequence of nodes ``;`` followed by nested variations; a node holds properties ``ID[value][value]``.
Inside a value a backslash escapes the next character and a backslash before a line break (a
"soft line break") is removed. FF[3] and older files mixed lowercase letters into identifiers
(``AddBlack`` for ``AB``): as the spec asks of readers, only the uppercase letters count.

Reading is done in two steps so that memory follows the largest game, not the collection: a
splitter (a small state machine that knows values and escapes) finds each top-level game tree
in text fed to it a piece at a time, and each tree's text is then parsed on its own (a
compiled-regex tokenizer, an explicit stack for the variations, so deep trees cannot overflow
Python's recursion limit). ``iter_games`` reads files and archive members in chunks of
``READ_CHUNK_BYTES`` and decodes them on the way. Pathological input is refused with an
``SgfError`` before it costs much memory or time: a game tree longer than ``MAX_GAME_CHARS``, a
value longer than ``MAX_VALUE_CHARS``, variations nested deeper than ``MAX_VARIATION_DEPTH``, a
tree of more than ``MAX_NODES`` nodes (module constants; raise them for unusual files). sgfmill
is only used by the tests, as an independent reference.

Coordinates: SGF ``"dd"`` is column then row, ``'a'`` = 0, row 0 at the top; moves are ints
``row * size + col`` or ``PASS`` (``B[]``, and ``B[tt]`` on boards up to 19x19), as in ``board``.
"""

from __future__ import annotations

import codecs
import functools
import itertools
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

# Limits on one game tree (read as each file is opened): far above real records, low enough that a
# broken or hostile file is refused in seconds and a few hundred MB at most.
MAX_GAME_CHARS = 16_000_000      # characters of one game tree's text (about its bytes)
MAX_VALUE_CHARS = 1_000_000      # characters of one property value (a long comment is ~10,000)
MAX_VARIATION_DEPTH = 10_000     # variations inside variations
MAX_NODES = 250_000              # nodes of one game tree (a pro game ~300; big joseki files ~100,000)
READ_CHUNK_BYTES = 1 << 18       # files and archive members are read this much at a time
SCAN_CHARS = 1 << 18             # the splitter scans text this much at a time
_OVERSIZED = "oversized SGF"     # the skip reason for a tree over a limit


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


def _where(origin: tuple[int, int, int]) -> str:
    offset, line, column = origin
    return f"line {line}, column {column} (offset {offset})"


def _place(text: str, pos: int, origin: tuple[int, int, int] = (0, 1, 1)) -> str:
    """Where ``text[pos]`` is in its file, given the file position (offset, line, column) of ``text[0]``."""
    offset, line, column = origin
    newlines = text.count("\n", 0, pos)
    column = pos - text.rfind("\n", 0, pos) if newlines else column + pos
    return _where((offset + pos, line + newlines, column))


def parse_sgf(text: str, name: str = "") -> list[SgfNode]:
    """Parse an SGF collection into one root node per game tree.

    Text before the first ``(;`` (a BOM, mail headers) and after the last tree is ignored, as
    collections in the wild carry such junk; anything else that is not SGF, and a game tree over
    the limits (``MAX_GAME_CHARS``, ``MAX_VALUE_CHARS``, ``MAX_VARIATION_DEPTH``, ``MAX_NODES``),
    raises ``SgfError`` naming ``name`` (the file, for messages) and the line and column.
    """
    roots: list[SgfNode] = []
    splitter = _TreeSplitter()
    for tree in [*splitter.feed(text), *splitter.finish()]:
        if tree.junk is not None and roots:
            excerpt, place = tree.junk
            _fail(name, f"malformed SGF at {place}: unexpected text {excerpt!r} between game trees",
                  "only whitespace may separate the game trees of a collection")
        roots.append(_tree_root(tree, name))
    return roots


def _tree_root(tree: _Tree, name: str) -> SgfNode:
    """The root node of one tree the splitter found; ``SgfError`` if it broke a limit or is malformed."""
    if tree.problem is not None:
        _fail(name, *tree.problem)
    return _parse_tree(tree.text, name, tree.origin)


def _parse_tree(text: str, name: str, origin: tuple[int, int, int] = (0, 1, 1)) -> SgfNode:
    """Parse the one game tree ``text`` holds (it starts at its '('); ``origin`` places it in its file."""

    def error(pos: int, detail: str, fix: str) -> None:
        _fail(name, f"malformed SGF at {_place(text, pos, origin)}: {detail}", fix)

    start = _START.match(text)
    if start is None:  # the splitter only hands over text starting with '(;'
        error(0, "the game tree does not start with '(;'", "every game tree starts with '(;'")
    # Every node starts with a ';' outside the values: count them before building any (C speed).
    if text.count(";") > MAX_NODES and _CLOSED_VALUE.sub("", text).count(";") > MAX_NODES:
        _fail(name, f"the game tree at {_where(origin)} has more than {MAX_NODES:,} nodes",
              f"split it into smaller trees or raise {__name__}.MAX_NODES", _OVERSIZED)
    root: SgfNode | None = None
    stack: list[SgfNode | None] = []  # per open '(': the node its variation hangs from (None: the root's)
    current: SgfNode | None = None    # the node the next ';' attaches to
    after_variation = False           # after a ')' inside the tree: only '(' or ')' may follow
    in_node = False                   # the last token was a node (so properties were allowed here)
    match = _TOKEN.match
    properties_of = _PROPERTY.findall
    values_of = _VALUES.findall
    pos = 0
    while True:
        m = match(text, pos)
        if m is None:
            _diagnose(text, 0, _SPACE.match(text, pos).end(), in_node, len(stack), error)
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
                root = node
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
        if not stack:  # the tree is complete
            pos = _SPACE.match(text, pos).end()
            if pos < len(text):
                error(pos, f"unexpected text {text[pos:pos + 20]!r} after the game tree",
                      "only whitespace may separate the game trees of a collection")
            return root


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
    """Say what stopped the scanner at ``pos`` (the slow path, taken once per malformed tree)."""
    if pos >= len(text):
        error(start, f"the game tree starting here is cut short, {depth} '(' not closed by ')' at the end of "
              "the text", "the file is truncated or a ')' is missing")
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


# ----------------------------------------------------------------------------------------------
# Splitting a collection into its game trees, a piece of text at a time

# Skips a tree's text up to its next '(' or ')' outside values, or to a '[' whose value does not
# close in the text at hand. The alternatives start with different characters and values use the
# unrolled-loop form, so a failing value costs one linear scan, never backtracking over the text.
_SKIP = re.compile(r"(?:[^\[()]+|\[[^\\\]]*(?:\\.[^\\\]]*)*\])*", re.DOTALL)
_SIMPLE_VALUE = re.compile(r"\[[^\]]*\]")  # a value in text without backslashes
_VALUE_REST = re.compile(r"[^\\\]]*(?:\\.[^\\\]]*)*", re.DOTALL)  # a value's text up to its ']'
_NON_SPACE = re.compile(r"\S")
_BULK_MIN = 4096  # a discarded tree's parentheses are counted in bulk over text at least this long
_CARRY_LIMIT = 4096  # a '(' and blanks at the end of a piece wait for the next piece up to this length


@dataclass(eq=False)
class _Tree:
    """One top-level game tree the splitter found: its text, or the limit it broke (then ``text`` is None)."""

    index: int                                 # its place in the file: 0, 1, ...
    text: str | None
    origin: tuple[int, int, int]               # (offset, line, column) of its '(' in the file
    problem: tuple[str, str, str] | None = None  # (detail, fix, skip reason) when it cannot be parsed
    junk: tuple[str, str] | None = None        # (excerpt, place) of the text between it and the tree before


class _TreeSplitter:
    """Cuts SGF text, fed in pieces, into its top-level game trees ``(;...)``, keeping one tree at a time.

    A small state machine: outside trees it looks for ``(;``; inside one it follows the ``[...]``
    values (a backslash escapes the next character, so ``\\]`` does not close one) and counts the
    parentheses outside them, and a tree ends where the count is back to zero. Memory is the tree
    at hand plus one piece. A tree over ``MAX_GAME_CHARS``, ``MAX_VALUE_CHARS`` or
    ``MAX_VARIATION_DEPTH`` becomes a ``_Tree`` with a problem as soon as the limit is passed; the
    rest of that tree is then scanned without being kept (parentheses counted in bulk), and the
    trees after it are found as usual.
    """

    def __init__(self) -> None:
        self.max_game, self.max_value, self.max_depth = MAX_GAME_CHARS, MAX_VALUE_CHARS, MAX_VARIATION_DEPTH
        # A value that opens and closes inside one scanned piece is shorter than the piece, so pieces
        # no longer than MAX_VALUE_CHARS let the fast path skip values without measuring each one.
        self.step = max(1, min(SCAN_CHARS, self.max_value))
        self.carry = ""          # the end of the last piece, scanned again with the next one
        self.offset = 0          # file offset of the piece being scanned
        self.line, self.line_start, self.mark = 1, 0, 0  # lines counted up to piece index ``mark``
        self.count = 0           # trees found so far
        self.in_tree = self.in_value = False
        self.depth = 0
        self.keep = True         # False once the tree broke a limit: it is scanned but not kept
        self.bulk_until = 0      # in a discarded tree: no bulk counting before this piece index
        self.pieces: list[str] = []
        self.kept = 0
        self.origin = (0, 1, 1)
        self.value_start, self.value_origin = 0, (0, 1, 1)
        self.junk: tuple[str, str] | None = None
        self.tree_junk: tuple[str, str] | None = None
        self.saw_text = self.saw_paren = False

    def feed(self, text: str) -> list[_Tree]:
        """The trees that end in ``text`` (the next piece of the file) and the limits broken in it."""
        found: list[_Tree] = []
        for i in range(0, len(text), self.step):
            piece = text[i:i + self.step]
            if self.carry:
                piece, self.carry = self.carry + piece, ""
            self._scan(piece, found, final=False)
        return found

    def finish(self) -> list[_Tree]:
        """At the end of the file: a tree left open (its parse says what is missing), or 'no tree at all'."""
        found: list[_Tree] = []
        if self.carry:
            piece, self.carry = self.carry, ""
            self._scan(piece, found, final=True)
        if self.in_tree and self.keep:
            found.append(_Tree(self.count - 1, "".join(self.pieces), self.origin, junk=self.tree_junk))
        if self.count == 0:
            hint = ("the text is empty" if not self.saw_text else "a '(' is not followed by ';'" if self.saw_paren
                    else "there is no '('")
            found.append(_Tree(0, None, (0, 1, 1), (f"malformed SGF: no game tree '(;' found ({hint})",
                                                    "an SGF file holds game trees like '(;GM[1]SZ[19];B[pd];W[dp])'",
                                                    "malformed SGF")))
        self.in_tree = self.in_value = False
        self.pieces = []
        return found

    def _position(self, piece: str, index: int) -> tuple[int, int, int]:
        """(offset, line, column) of ``piece[index]``; indexes asked for only grow within a piece."""
        if index > self.mark:
            newlines = piece.count("\n", self.mark, index)
            if newlines:
                self.line += newlines
                self.line_start = self.offset + piece.rfind("\n", self.mark, index) + 1
            self.mark = index
        offset = self.offset + index
        return offset, self.line, offset - self.line_start + 1

    def _note_junk(self, piece: str, start: int, end: int) -> None:
        """Text outside the trees: remembered for parse_sgf's messages (between trees) and its hints."""
        if start >= end:
            return
        if self.count == 0:
            if not self.saw_text and _NON_SPACE.search(piece, start, end):
                self.saw_text = True
            if not self.saw_paren and piece.find("(", start, end) >= 0:
                self.saw_paren = True
        elif self.junk is None:
            m = _NON_SPACE.search(piece, start, end)
            if m is not None:
                self.junk = (piece[m.start():m.start() + 20], _where(self._position(piece, m.start())))

    def _stop(self, found: list[_Tree], detail: str, fix: str) -> None:
        """The tree broke a limit: report it and keep scanning it without keeping its text."""
        found.append(_Tree(self.count - 1, None, self.origin, (detail, fix, _OVERSIZED), self.tree_junk))
        self.keep = False
        self.pieces = []
        self.kept = 0

    def _too_long(self, found: list[_Tree]) -> None:
        self._stop(found, f"the game tree starting at {_where(self.origin)} is longer than {self.max_game:,} "
                          "characters", f"a game record is far smaller, so split the file or raise {__name__}."
                                        "MAX_GAME_CHARS")

    def _value_too_long(self, found: list[_Tree]) -> None:
        self._stop(found, f"the value opened by '[' at {_where(self.value_origin)} is longer than "
                          f"{self.max_value:,} characters (is its ']' missing?)",
                   f"close it with ']', write a ']' inside it as '\\]', or raise {__name__}.MAX_VALUE_CHARS")

    def _scan(self, piece: str, found: list[_Tree], final: bool) -> None:
        end = len(piece)
        pos = start = 0  # ``start``: where the current tree's text in this piece begins
        next_open = next_close = -1  # the next '(' and ')' at or after ``pos`` (found once each)
        self.mark = 0
        while pos < end:
            if not self.in_tree:
                m = _START.search(piece, pos)
                if m is None:  # no tree starts here; a '(' and blanks at the end may become one
                    stop = end
                    if not final:
                        paren = piece.rfind("(", max(pos, end - _CARRY_LIMIT))
                        if paren >= 0 and (paren + 1 == end or piece[paren + 1:].isspace()):
                            stop = paren
                    self._note_junk(piece, pos, stop)
                    self.carry = piece[stop:]
                    end = stop
                    break
                self._note_junk(piece, pos, m.start())
                pos = start = m.start()
                self.in_tree, self.keep, self.depth, self.pieces, self.kept = True, True, 0, [], 0
                self.origin = self._position(piece, pos)
                self.tree_junk, self.junk = self.junk, None
                self.count += 1
            if self.in_value:
                pos = _VALUE_REST.match(piece, pos).end()
                if pos == end:
                    break
                if piece[pos] == "\\":  # the piece's last character: what it escapes comes next
                    if final:
                        pos = end
                        break
                    self.carry = "\\"
                    end = pos
                    break
                pos += 1
                self.in_value = False
                if self.keep and self.offset + pos - 2 - self.value_start > self.max_value:
                    self._value_too_long(found)
                continue
            if not self.keep and pos >= self.bulk_until:  # a discarded tree: count parentheses in bulk
                stop = piece.find("\\", pos)  # up to a backslash, values are '[' to the next ']'
                stop = end if stop < 0 else stop
                if stop < end and stop - pos < _BULK_MIN:  # escapes nearby: step instead, try again further on
                    self.bulk_until = pos + _BULK_MIN
                    continue
                plain = _SIMPLE_VALUE.sub("", piece[pos:stop])
                bracket = plain.find("[")  # a value still open at ``stop``
                outside = plain if bracket < 0 else plain[:bracket]
                closing = outside.count(")")
                if closing < self.depth:  # the tree cannot end before ``stop``
                    self.depth += outside.count("(") - closing
                    self.in_value = bracket >= 0
                    pos = stop if self.in_value or stop == end else stop + 1  # a backslash outside values: no token
                    continue
                self.bulk_until = stop
            # The next parenthesis; if no backslash comes before it, it is outside values exactly
            # when the last '[' before it is closed by a ']' (a C-speed check for the common case).
            if next_open < pos:
                next_open = piece.find("(", pos)
                next_open = end if next_open < 0 else next_open
            if next_close < pos:
                next_close = piece.find(")", pos)
                next_close = end if next_close < 0 else next_close
            paren = next_open if next_open < next_close else next_close
            if piece.find("\\", pos, paren) < 0:
                bracket = piece.rfind("[", pos, paren)
                if bracket >= 0 and piece.rfind("]", bracket, paren) < 0:
                    paren = _SKIP.match(piece, pos).end()
            else:
                paren = _SKIP.match(piece, pos).end()
            pos = paren
            if pos == end:
                break
            char = piece[pos]
            pos += 1
            if char == "[":  # a value that does not close in this piece
                self.in_value = True
                self.value_start = self.offset + pos - 1
                if self.keep:
                    self.value_origin = self._position(piece, pos - 1)
            elif char == "(":
                self.depth += 1
                if self.depth > self.max_depth and self.keep:
                    self._stop(found, f"variations are nested more than {self.max_depth:,} deep in the game tree "
                                      f"starting at {_where(self.origin)}",
                               f"a game's variations nest far less, so fix the file or raise {__name__}."
                               "MAX_VARIATION_DEPTH")
            else:
                self.depth -= 1
                if self.depth == 0:
                    if self.keep:
                        self.kept += pos - start
                        if self.kept > self.max_game:
                            self._too_long(found)
                        else:
                            self.pieces.append(piece[start:pos])
                            text = self.pieces[0] if len(self.pieces) == 1 else "".join(self.pieces)
                            found.append(_Tree(self.count - 1, text, self.origin, junk=self.tree_junk))
                    self.in_tree = False
                    self.pieces = []
                    self.bulk_until = 0
        # the end of the piece (less any carry): keep the open tree's part, check the limits
        if self.in_tree and self.keep:
            self.pieces.append(piece[start:end])
            self.kept += end - start
            if self.kept > self.max_game:
                self._too_long(found)
            elif self.in_value and self.offset + end - self.value_start - 1 > self.max_value:
                self._value_too_long(found)
        self._position(piece, end)
        self.offset += end
        self.bulk_until = 0


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
_HEAD_BYTES = 65536  # where CA[] is looked for, and how much must decode with a charset for it to be used
# SGF's syntax is ASCII: a declared charset is used only if it leaves ASCII (escapes and all) unchanged,
# which rules out UTF-16/32 without a BOM, UTF-7 and the backslash-escape codecs.
_ASCII_PROBE = bytes(range(32, 92)) + bytes(range(93, 127)) + b"\t\r\n\\n\\x41+AGE-"
_KEEP_BYTES = "convsuite-sgf-keep-bytes"
_BYTE_MARK = re.compile("[\udc00-\udcff]")  # an undecodable byte b, kept as the lone surrogate U+DC00 + b
_ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
                   NotImplementedError)


def _keep_bytes(error: UnicodeError) -> tuple[str | bytes, int]:
    """Decoding: an undecodable byte becomes a mark (one byte at a time, so ASCII after it is read
    again as itself); encoding: marks become their bytes again. The tree's text can then be re-read."""
    if isinstance(error, UnicodeDecodeError):
        return chr(0xDC00 + error.object[error.start]), error.start + 1
    if isinstance(error, UnicodeEncodeError):
        marks = error.object[error.start:error.end]
        if all(0xDC00 <= ord(char) <= 0xDCFF for char in marks):
            return bytes(ord(char) - 0xDC00 for char in marks), error.end
    raise error


codecs.register_error(_KEEP_BYTES, _keep_bytes)


@functools.lru_cache(maxsize=64)
def _usable_charset(label: str) -> str | None:
    """``label`` if Python has such a text codec and it reads SGF's ASCII syntax unchanged, else None."""
    try:
        if _ASCII_PROBE.decode(label) == _ASCII_PROBE.decode("ascii"):
            codecs.getincrementaldecoder(label)
            return label
    except (LookupError, ValueError, TypeError):  # unknown, not a text codec, 'undefined', a NUL in the name
        pass
    return None


def _start_decoding(head: bytes, complete: bool) -> tuple[str, str, codecs.IncrementalDecoder | None]:
    """(charset, text of ``head``, decoder for the bytes after it): UTF-16 with a BOM, else the CA[]
    charset, else UTF-8, each only if ``head`` (the whole file when ``complete``) decodes with it;
    else Latin-1, which decodes anything."""
    candidates = ["utf-16"] if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else []
    m = _CHARSET.search(head, 0, _HEAD_BYTES)
    if m is not None:
        label = m.group(1).decode("ascii", "replace").lower()
        declared = _usable_charset(_CHARSET_SUPERSETS.get(label, label))
        if declared is not None:
            candidates.append(declared)
    candidates.append("utf-8-sig")
    for charset in candidates:
        decoder = codecs.getincrementaldecoder(charset)()
        try:
            text = decoder.decode(head, final=complete)
        except UnicodeError:
            continue
        if complete:
            return charset, text, None
        decoder.errors = _KEEP_BYTES  # later bytes that do not decode are kept as marks (see _reread)
        return charset, text, decoder
    decoder = codecs.getincrementaldecoder("latin-1")()
    return "latin-1", decoder.decode(head, final=complete), None if complete else decoder


def _reread(text: str, charset: str) -> str:
    """A tree holding bytes the file's charset could not decode: its bytes read as UTF-8, else Latin-1."""
    try:
        data = text.encode("utf-8" if charset == "utf-8-sig" else charset, _KEEP_BYTES)
    except UnicodeError:
        data = None
    if data is None or charset == "utf-16":
        return _BYTE_MARK.sub("\ufffd", text)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_sgf_bytes(data: bytes) -> str:
    """Bytes to text: the charset SGF's CA[] declares, else UTF-8, else Latin-1 (which never fails).

    A CA[] that Python does not know, or that is no ASCII-compatible text encoding ('undefined',
    'base64', a NUL byte in the name), is ignored. A UTF-16 BOM is honoured.
    """
    return _start_decoding(data, complete=True)[1]


def _split_bytes(chunks: Iterator[bytes]) -> Iterator[_Tree]:
    """The game trees of one file given in chunks of bytes, decoded on the way (see ``_start_decoding``).

    The charset is chosen on the first ``_HEAD_BYTES`` (the whole file, if smaller); a tree in which
    later bytes do not decode with it is read again on its own as UTF-8, else Latin-1. Memory: the
    tree at hand and a chunk or two.
    """
    chunks = iter(chunks)
    parts: list[bytes] = []
    size = 0
    complete = True
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= _HEAD_BYTES:
            complete = False
            break
    head = b"".join(parts)
    rest = head[_HEAD_BYTES:]  # decoded as the chunks after it
    charset, text, decoder = _start_decoding(head[:_HEAD_BYTES], complete)
    del parts, head
    splitter = _TreeSplitter()
    trees = splitter.feed(text)
    if decoder is None:
        yield from trees
        yield from splitter.finish()
        return
    marked = False  # whether any byte so far did not decode (only then are trees checked for marks)
    for chunk in itertools.chain([rest], chunks, [None]):
        yield from trees
        text = decoder.decode(b"" if chunk is None else chunk, final=chunk is None)
        if not marked and not text.isascii() and _BYTE_MARK.search(text):  # isascii() is a flag: free
            marked = True
        trees = splitter.feed(text)
        if chunk is None:
            trees += splitter.finish()
        if marked:
            for tree in trees:
                if tree.text is not None and not tree.text.isascii() and _BYTE_MARK.search(tree.text):
                    tree.text = _reread(tree.text, charset)
    yield from trees


def _named_trees(name: str, trees: Iterator[_Tree]) -> Iterator[tuple[str, _Tree]]:
    """(game name, tree): ``name`` for a file's only tree, ``name#0``, ``name#1``, ... for a collection's."""
    first = next(trees, None)
    if first is None:
        return
    try:
        second = next(trees, None)
    except ConvsuiteError:  # the file breaks off: its first tree still counts
        yield name, first
        raise
    if second is None:
        yield name, first
        return
    yield f"{name}#{first.index}", first
    yield f"{name}#{second.index}", second
    for tree in trees:
        yield f"{name}#{tree.index}", tree


def _source_path(source: str | Path) -> Path:
    path = Path(source).expanduser()
    if not path.exists():
        raise ConvsuiteError(f"SGF source {str(source)!r} does not exist; give an .sgf file, a folder of .sgf files "
                             f"(searched recursively), or a .zip / .tar / .tar.gz / .tgz / .tar.bz2 archive of them")
    return path


def iter_sgf_texts(source: str | Path) -> Iterator[tuple[str, str]]:
    """(name, text) for every .sgf file in a file, a folder (recursive, sorted) or a .zip/.tar archive.

    Archives are streamed, never extracted; each file's whole text is returned (``iter_games`` reads
    big files a game at a time instead). ``name`` is the path within the folder or archive (the file
    name for a single file). A missing source raises ``ConvsuiteError`` at once; an archive that
    turns out corrupt, or a file that cannot be read, raises ``ConvsuiteError`` where it is found.
    """
    return _iter_texts(_source_path(source))


def _iter_texts(path: Path) -> Iterator[tuple[str, str]]:
    for name, chunks in _iter_files(path):
        yield name, decode_sgf_bytes(b"".join(chunks))


def _is_sgf(name: str) -> bool:
    return name.lower().endswith(".sgf")


def _file_chunks(file: Path, name: str) -> Iterator[bytes]:
    """A file's bytes in chunks of READ_CHUNK_BYTES; one that cannot be read is an ``SgfError`` (skip it)."""
    try:
        with open(file, "rb") as stream:
            while chunk := stream.read(READ_CHUNK_BYTES):
                yield chunk
    except OSError as error:
        raise SgfError(f"{name}: the file cannot be read ({type(error).__name__}: {error}); check that it exists "
                       "and is readable", "unreadable file") from error


def _tar_member_chunks(stream, path: Path, member: str) -> Iterator[bytes]:
    """A tar member's bytes in chunks; damage is a ``ConvsuiteError`` (the rest of a tar stream is lost)."""
    try:
        while chunk := stream.read(READ_CHUNK_BYTES):
            yield chunk
    except _ARCHIVE_ERRORS as error:
        raise _archive_error(path, member, error) from error


def _zip_member_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> Iterator[bytes]:
    """A zip member's bytes in chunks; one that cannot be read (encrypted, damaged) is an ``SgfError``:
    zip members are stored apart, so the archive's other members can still be read."""
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(READ_CHUNK_BYTES):
                yield chunk
    except _ARCHIVE_ERRORS as error:
        raise SgfError(f"{info.filename}: this member of {str(path)!r} cannot be read ({type(error).__name__}: "
                       f"{error}); extract it with a tool that can, or remove it", "unreadable file") from error


def _archive_error(path: Path, member: str, error: BaseException) -> ConvsuiteError:
    return ConvsuiteError(f"archive {str(path)!r} could not be read near member {member} ({type(error).__name__}: "
                          f"{error}); download it again or extract it and give the folder")


def _iter_files(path: Path) -> Iterator[tuple[str, Iterator[bytes]]]:
    """(name, its bytes in chunks) for every .sgf file of a file, a folder or an archive, in order.

    Read each file's chunks before asking for the next file: archives are read as streams. A file
    or zip member that cannot be read raises ``SgfError`` from its chunks (the next file can be
    read); a damaged tar archive or zip index raises ``ConvsuiteError`` (its rest is lost).
    """
    if path.is_dir():
        files = sorted((p.relative_to(path).as_posix(), p) for p in path.rglob("*") if _is_sgf(p.name) and p.is_file())
        for name, file in files:
            yield name, _file_chunks(file, name)
        return
    lower = path.name.lower()
    if not lower.endswith((".zip", *_TAR_SUFFIXES)):
        yield path.name, _file_chunks(path, path.name)
        return
    member = "(the start)"
    try:
        if lower.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if not info.is_dir() and _is_sgf(info.filename):
                        member = info.filename
                        yield member, _zip_member_chunks(archive, info, path)
        else:
            with tarfile.open(path, "r|*") as archive:  # a stream: members are read in order, once
                for entry in archive:
                    if entry.isfile() and _is_sgf(entry.name):
                        member = entry.name
                        yield member, _tar_member_chunks(archive.extractfile(entry), path, member)
                member = "(after the last member)"
    except _ARCHIVE_ERRORS as error:
        raise _archive_error(path, member, error) from error


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

    Files are read in chunks and parsed a game tree at a time, so memory follows the largest game,
    not the largest file. A game is skipped (counted in ``skip`` by reason) when its tree is
    malformed or over a limit ("oversized SGF", see ``MAX_GAME_CHARS``), it is not Go, its board is
    not ``size``, it has fewer than ``min_moves`` moves, or (``check_legal``) replaying it breaks the
    rules; a file with no game tree, or that cannot be read, is skipped as a whole. Text between the
    trees of a collection is ignored. Bad content never raises; a missing source raises
    ``ConvsuiteError`` at once. Games of a multi-game file are named ``file#0``, ``file#1``, ...
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    paths = [_source_path(source) for source in sources]
    return _iter_games(paths, size, skip if skip is not None else SkipLog(), min_moves, check_legal)


def _iter_games(paths: list[Path], size: int | None, log: SkipLog, min_moves: int,
                check_legal: bool) -> Iterator[GameRecord]:
    for path in paths:
        files = _iter_files(path)
        damaged = False
        while not damaged:
            try:
                name, chunks = next(files)
            except StopIteration:
                break
            except ConvsuiteError as error:
                log.add(str(path), "unreadable archive", str(error))
                break
            trees = _named_trees(name, _split_bytes(chunks))
            while True:
                try:
                    game_name, tree = next(trees)
                except StopIteration:
                    break
                except SgfError as error:  # a file that cannot be read: the next one may
                    log.add(name, error.reason, str(error))
                    break
                except ConvsuiteError as error:  # a damaged archive: its rest cannot be reached
                    log.add(str(path), "unreadable archive", str(error))
                    damaged = True
                    break
                record = _usable_record(tree, game_name, size, log, min_moves, check_legal)
                if record is not None:
                    log.read += 1
                    yield record


def _usable_record(tree: _Tree, name: str, size: int | None, log: SkipLog, min_moves: int,
                   check_legal: bool) -> GameRecord | None:
    """The tree's game if it passes the filters, else None with the reason counted in ``log``."""
    try:
        record = read_game(_tree_root(tree, name), name)
        if size is not None and record.size != size:
            log.add(name, f"board size {record.size} (wanted {size})", f"{name}: board size {record.size}, not {size}")
            return None
        if len(record.moves) < min_moves:
            log.add(name, f"fewer than {min_moves} moves", f"{name}: {len(record.moves)} moves, fewer than {min_moves}")
            return None
        if check_legal:
            replay(record)
    except SgfError as error:
        log.add(name, error.reason, str(error))
        return None
    except ConvsuiteError as error:  # e.g. the board refusing a size: still bad content
        log.add(name, "unsupported game", f"{name}: {error}")
        return None
    return record
