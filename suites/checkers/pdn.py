"""PDN (Portable Draughts Notation) game collections: read several games a file, replay every move,
and write standard PDN back.

Reading understands tag pairs (``[Event "..."]``, ``[FEN "..."]``, ``[Result "..."]``), movetext with
move numbers (``1.``, ``1...``), ``{comments}``, ``;`` comments to the end of a line, ``(variations)``
(skipped, nested ones too), NAGs (``$1``) and ``!``/``?`` marks, the results ``1-0``, ``0-1``,
``1/2-1/2`` and ``*`` (and the draughts ``2-0``, ``0-2``, ``1-1``), and moves written as ``11-15``,
``15x24``, ``15x24x31`` or the short ``15x31`` when only one jump sequence joins those squares.
Every game is replayed on `board.Game`, so a record with an illegal move is refused with the game
number, the move number and the move text. A record is replayed as written: threefold repetition
(a draw players may claim) does not cut it short.

Imports no Keras.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from convsuite.common.checkpoint import atomic_write_text
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers.board import WHITE, Game, Position, parse_fen

RESULTS = ("1-0", "0-1", "1/2-1/2", "*")
# the international draughts forms some checkers files use, read as their English equivalents
_RESULT_ALIASES = {"2-0": "1-0", "0-2": "0-1", "1-1": "1/2-1/2"}
STANDARD_TAGS = ("Event", "Site", "Date", "Round", "Black", "White", "Result")
_TAG_DEFAULTS = {"Event": "?", "Date": "????.??.??", "Black": "?", "White": "?"}
LINE_WIDTH = 79

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<tag>\[\s*(?P<name>[A-Za-z0-9_]+)\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*\])
  | (?P<comment>\{[^}]*\})
  | (?P<line_comment>;[^\n]*|(?m:^%[^\n]*))
  | (?P<open>\()
  | (?P<close>\))
  | (?P<nag>\$\d+)
  | (?P<result>(?:1/2-1/2|1-0|0-1|2-0|0-2|1-1|\*)(?![\w/-]))
  | (?P<number>\d+\.(?:\.\.)?)
  | (?P<move>\d+(?:\s*[-x:]\s*\d+)+)[!?]*
  | (?P<mark>[!?]+)
  | (?P<junk>[^\s\[\]{}()]+|.)
""", re.X)


@dataclass
class PdnGame:
    """One game of a PDN file: its tags, the replayed `board.Game` (every move checked) and its result."""

    tags: dict[str, str] = field(default_factory=dict)
    game: Game = field(default_factory=lambda: Game(repetition_draw=False))
    result: str = "*"

    @property
    def moves(self):
        return self.game.moves


class PdnGames(list):
    """The games `read_pdn` read; with ``skip_bad=True``, ``skipped`` counts the games it left out
    and ``errors`` says why, one message each."""

    def __init__(self, games=(), errors=()):
        super().__init__(games)
        self.errors = list(errors)

    @property
    def skipped(self) -> int:
        return len(self.errors)

    def summary(self) -> str:
        """One line, e.g. 'read 12 games, skipped 1'."""
        return f"read {len(self)} game{'s' if len(self) != 1 else ''}, skipped {self.skipped}"


@dataclass
class _Record:
    """A game's tokens before replaying: tags, (move text, line) pairs, the result token, problems."""

    tags: dict = field(default_factory=dict)
    moves: list = field(default_factory=list)
    result: str | None = None
    junk: list = field(default_factory=list)  # (index into moves where it stood, text, line)

    @property
    def empty(self) -> bool:
        return not (self.tags or self.moves or self.result or self.junk)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"')


def _records(text: str) -> list[_Record]:
    """Split PDN text into game records (a game ends at its result, or where the next tags begin)."""
    records: list[_Record] = []
    current = _Record()
    depth = 0  # inside (variations)
    line = 1
    for token in _TOKEN.finditer(text):
        kind, value = token.lastgroup, token.group(0)
        here = line
        line += value.count("\n")
        if kind in ("space", "comment", "line_comment"):
            continue
        if kind == "open":
            depth += 1
            continue
        if kind == "close":
            if depth == 0:
                current.junk.append((len(current.moves), ")", here))
            else:
                depth -= 1
            continue
        if depth:
            continue
        if kind == "tag":
            if current.moves or current.junk:
                records.append(current)
                current = _Record()
            current.tags[token.group("name")] = _unescape(token.group("value"))
        elif kind == "result":
            current.result = _RESULT_ALIASES.get(value, value)
            records.append(current)
            current = _Record()
        elif kind == "move":
            current.moves.append((re.sub(r"\s+", "", value.rstrip("!?")), here))
        elif kind == "junk":
            current.junk.append((len(current.moves), value, here))
        # numbers, NAGs and !? marks carry nothing the replay needs
    if depth:
        current.junk.append((len(current.moves), "(", line))  # a variation never closed
    if not current.empty:
        records.append(current)
    return records


def _move_number(game: Game) -> str:
    """The PDN number of the next move: '12' for Black's, '12...' for White's."""
    offset = 1 if game.start.turn == WHITE else 0
    number, is_white = divmod(game.plies + offset, 2)
    return f"{number + 1}{'...' if is_white else ''}"


class _BadGame(Exception):
    """A game that cannot be replayed: the message and the line it happened on (0 if none)."""

    def __init__(self, message: str, line: int = 0):
        super().__init__(message)
        self.line = line


def _replay(record: _Record, number: int) -> PdnGame:
    where = f"game {number}"
    fen = record.tags.get("FEN")
    try:
        start = parse_fen(fen) if fen else Position()
    except ConvsuiteError as error:
        raise _BadGame(f"{where}: its [FEN] tag: {error}") from None
    game = Game(start, repetition_draw=False)
    junk = {index: (text, line) for index, text, line in reversed(record.junk)}
    for index, (move, line) in enumerate(record.moves + [(None, 0)]):
        if index in junk:
            text, junk_line = junk[index]
            raise _BadGame(f"{where}, move {_move_number(game)}: {text!r} is not a move, move number, comment or "
                           "result; fix or remove it", junk_line)
        if move is None:
            break
        try:
            game.play(move)
        except ConvsuiteError as error:
            message = str(error) if move in str(error) else f"{move}: {error}"
            raise _BadGame(f"{where}, move {_move_number(game)}: {message}", line) from None
    tagged = record.tags.get("Result", "*")
    result = record.result or _RESULT_ALIASES.get(tagged, tagged)
    if result not in RESULTS:
        raise _BadGame(f"{where}: its result {result!r} is not one of {', '.join(RESULTS)}")
    return PdnGame(dict(record.tags), game, result)


def _source_text(source: str | Path) -> tuple[str, str]:
    """(text, file name for messages or '') of a path or of PDN text itself."""
    is_path = isinstance(source, Path) or ("\n" not in source and "[" not in source and len(source) < 4096
                                            and Path(source).suffix.lower() in (".pdn", ".txt"))
    if not is_path:
        return source, ""
    path = Path(source)
    if not path.is_file():
        raise ConvsuiteError(f"PDN file {path} does not exist; give an existing file or the PDN text itself")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # older collections: every byte is a character
    return text, str(path)


def read_pdn(source: str | Path, skip_bad: bool = False) -> PdnGames:
    """Every game of a PDN file (a Path, or a str ending in .pdn/.txt) or PDN text, replayed move by move.

    A bad game (illegal move, bad FEN, stray text) raises ConvsuiteError naming the game number,
    the move number and the move (``game 3, move 12: 27-31 is not legal here; legal moves: ...``,
    after ``file.pdn, line 40: `` when read from a file); with ``skip_bad=True`` it is left out
    instead, and the returned list's ``skipped`` and ``errors`` say how many and why."""
    text, name = _source_text(source)
    games = PdnGames()
    for number, record in enumerate(_records(text), start=1):
        try:
            games.append(_replay(record, number))
        except _BadGame as bad:
            where = f"{name}, line {bad.line}: " if name and bad.line else (f"{name}: " if name else "")
            if not skip_bad:
                raise ConvsuiteError(f"{where}{bad}") from None
            games.errors.append(f"{where}{bad}")
    return games


def _game_tags(item: PdnGame | Game, tags: dict | None) -> tuple[Game, dict[str, str], str]:
    """The game, its tags in standard order (FEN/SetUp from its start) and its result."""
    if isinstance(item, PdnGame):
        game, given, result = item.game, dict(item.tags), item.result
        given.pop("Result", None)  # the result that ended the movetext wins over the tag
    elif isinstance(item, Game):
        game, given, result = item, {}, item.result_text()
    else:
        raise ConvsuiteError(f"write_pdn writes board.Game or PdnGame objects, not {type(item).__name__}")
    given.update(tags or {})
    result = str(given.pop("Result", result))
    result = _RESULT_ALIASES.get(result, result)
    if result not in RESULTS:
        raise ConvsuiteError(f"result {result!r} is not one of {', '.join(RESULTS)}; give one of those")
    for key in ("FEN", "SetUp"):
        given.pop(key, None)
    ordered = {}
    for key in STANDARD_TAGS:
        if key == "Result":
            ordered[key] = result
        elif key in given or key in _TAG_DEFAULTS:
            ordered[key] = str(given.pop(key, _TAG_DEFAULTS.get(key)))
    ordered.update((key, str(value)) for key, value in given.items())
    if game.start != Position():
        ordered["SetUp"] = "1"
        ordered["FEN"] = game.start.to_fen()
    return game, ordered, result


def _wrap(words: list[str], width: int) -> str:
    """Movetext lines of at most ``width`` columns, a move number kept with the move after it."""
    units = []
    for word in words:
        if units and units[-1].endswith("."):
            units[-1] += " " + word
        else:
            units.append(word)
    lines = [""]
    for unit in units:
        if lines[-1] and len(lines[-1]) + 1 + len(unit) > width:
            lines.append(unit)
        else:
            lines[-1] = f"{lines[-1]} {unit}" if lines[-1] else unit
    return "\n".join(lines)


def write_pdn(games: PdnGame | Game | Iterable[PdnGame | Game], path: str | Path | None = None,
              tags: dict | None = None) -> str:
    """Standard PDN for one game or several: Event/Date/Black/White/Result tags (``tags`` adds or
    overrides tags of every game), a FEN tag with SetUp when a game does not start from the
    initial position, movetext wrapped at 80 columns ending with the result. Writes ``path``
    atomically when given; returns the text."""
    items = [games] if isinstance(games, (PdnGame, Game)) else list(games)
    blocks = []
    for item in items:
        game, ordered, result = _game_tags(item, tags)
        header = "\n".join(f'[{key} "{_escape(value)}"]' for key, value in ordered.items())
        blocks.append(f"{header}\n{_wrap(game.movetext().split() + [result], LINE_WIDTH)}\n")
    text = "\n".join(blocks)
    if path is not None:
        atomic_write_text(Path(path), text)
    return text
