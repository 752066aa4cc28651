"""English draughts (American checkers): positions, exact move generation, PDN FEN and PDN moves.

The rules: an 8x8 board, 12 men a side on the dark squares; Black moves first. Men move one
square diagonally forward; kings move one square diagonally either way. A capture jumps an
adjacent enemy piece to the empty square beyond; capturing is compulsory (any capture, not
the longest), and a capturing piece keeps jumping while it can: the whole sequence is one
move. A man that reaches the far row is crowned and its move ends there, even if it could
jump on as a king. A side with no legal move (no pieces, or all blocked) loses.

Squares carry the standard PDN numbers 1..32: Black starts on 1-12 and moves toward higher
numbers, White starts on 21-32. A position is three 32-bit bitboards (Python ints, bit s-1 is
square s: black pieces, white pieces, kings) and the side to move. Moves are generated from
precomputed neighbour and jump tables, one pass over the side's pieces; `perft` counts the
leaves of the move tree (7, 49, 302, 1469, 7361, 36768, 179740, 845931, 3963680 for depths 1-9).

Imports no Keras: search and co-evolution workers run on this module and NumPy alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from convsuite.common.errors import ConvsuiteError

BLACK, WHITE = 0, 1
COLOUR_NAMES = ("Black", "White")
ALL_SQUARES = (1 << 32) - 1
PIECES_PER_SIDE = 12
START_BLACK = (1 << 12) - 1  # squares 1-12
START_WHITE = ((1 << 12) - 1) << 20  # squares 21-32
CROWN_ROW = (0xF << 28, 0xF)  # where Black men (squares 29-32) and White men (1-4) are crowned


def row_col(square: int) -> tuple[int, int]:
    """(row, column) of PDN square 1..32 on the 8x8 diagram (row 0 holds squares 1-4, Black's back rank)."""
    row = (square - 1) // 4
    return row, 2 * ((square - 1) % 4) + (1 if row % 2 == 0 else 0)


def square_at(row: int, column: int) -> int:
    """The PDN square number at (row, column), or 0 for a light square or off the board."""
    if not (0 <= row < 8 and 0 <= column < 8) or (row + column) % 2 == 0:
        return 0
    return row * 4 + column // 2 + 1


def _tables():
    """Per 0-based square index: one-step neighbours and (jumped, landing) pairs, for Black men
    (down the diagram), White men (up) and kings (both)."""
    steps = {BLACK: [], WHITE: [], "king": []}
    jumps = {BLACK: [], WHITE: [], "king": []}
    for index in range(32):
        row, column = row_col(index + 1)
        by_direction = {}
        for dr in (1, -1):
            for dc in (-1, 1):
                one = square_at(row + dr, column + dc)
                two = square_at(row + 2 * dr, column + 2 * dc)
                by_direction[dr, dc] = (one - 1 if one else -1, two - 1 if two else -1)
        for kind, rows in ((BLACK, (1,)), (WHITE, (-1,)), ("king", (1, -1))):
            near = [by_direction[dr, dc] for dr in rows for dc in (-1, 1)]
            steps[kind].append(tuple(one for one, _ in near if one >= 0))
            jumps[kind].append(tuple((one, two) for one, two in near if two >= 0))
    return ({key: tuple(value) for key, value in steps.items()}, {key: tuple(value) for key, value in jumps.items()})


_STEPS, _JUMPS = _tables()
_MAN_STEPS = (_STEPS[BLACK], _STEPS[WHITE])
_MAN_JUMPS = (_JUMPS[BLACK], _JUMPS[WHITE])
_KING_STEPS = _STEPS["king"]
_KING_JUMPS = _JUMPS["king"]


class Move:
    """One move: the squares the piece stands on in turn (0-based indices) and the captured pieces.

    ``str(move)`` is its PDN text: ``11-15`` for a step, ``15x24x31`` for a jump sequence."""

    __slots__ = ("path", "captured")

    def __init__(self, path: tuple[int, ...], captured: int = 0):
        self.path = path
        self.captured = captured

    @property
    def start(self) -> int:
        """PDN number of the square the piece leaves."""
        return self.path[0] + 1

    @property
    def end(self) -> int:
        """PDN number of the square the piece ends on."""
        return self.path[-1] + 1

    @property
    def is_capture(self) -> bool:
        return self.captured != 0

    @property
    def squares(self) -> tuple[int, ...]:
        """The PDN numbers of the path."""
        return tuple(index + 1 for index in self.path)

    def __str__(self) -> str:
        return ("x" if self.captured else "-").join(str(s) for s in self.squares)

    def __repr__(self) -> str:
        return f"Move({self})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Move) and self.path == other.path and self.captured == other.captured

    def __hash__(self) -> int:
        return hash((self.path, self.captured))


def _bits(board: int):
    while board:
        low = board & -board
        yield low.bit_length() - 1
        board ^= low


def _jump_on(path, at, captured, opponent, empty, is_king, colour, out) -> None:
    """Extend a jump sequence from ``at`` as far as it goes; append every complete sequence."""
    extended = False
    for over, land in (_KING_JUMPS[at] if is_king else _MAN_JUMPS[colour][at]):
        over_bit = 1 << over
        if opponent & over_bit and not captured & over_bit and empty >> land & 1:
            extended = True
            longer = path + (land,)
            if not is_king and CROWN_ROW[colour] >> land & 1:
                out.append(Move(longer, captured | over_bit))  # crowned: the move ends here
            else:
                _jump_on(longer, land, captured | over_bit, opponent, empty, is_king, colour, out)
    if not extended and captured:
        out.append(Move(path, captured))


def generate_moves(black: int, white: int, kings: int, turn: int) -> list[Move]:
    """Every legal move of the side to move (captures only, when there is one)."""
    own, opponent = (black, white) if turn == BLACK else (white, black)
    empty = ALL_SQUARES ^ (black | white)
    man_jumps = _MAN_JUMPS[turn]
    moves: list[Move] = []
    for index in _bits(own):
        is_king = kings >> index & 1
        for over, land in (_KING_JUMPS[index] if is_king else man_jumps[index]):
            if opponent >> over & 1 and empty >> land & 1:
                # the piece has left its square: a king may come back over it
                _jump_on((index,), index, 0, opponent, empty | (1 << index), is_king, turn, moves)
                break
    if moves:
        return moves
    man_steps = _MAN_STEPS[turn]
    for index in _bits(own):
        for to in (_KING_STEPS[index] if kings >> index & 1 else man_steps[index]):
            if empty >> to & 1:
                moves.append(Move((index, to)))
    return moves


def has_capture(black: int, white: int, kings: int, turn: int) -> bool:
    """Whether the side to move must capture."""
    own, opponent = (black, white) if turn == BLACK else (white, black)
    empty = ALL_SQUARES ^ (black | white)
    man_jumps = _MAN_JUMPS[turn]
    for index in _bits(own):
        for over, land in (_KING_JUMPS[index] if kings >> index & 1 else man_jumps[index]):
            if opponent >> over & 1 and empty >> land & 1:
                return True
    return False


def apply_move(black: int, white: int, kings: int, turn: int, move: Move) -> tuple[int, int, int, int]:
    """The position after ``move`` (assumed legal): (black, white, kings, side to move)."""
    start, end = 1 << move.path[0], 1 << move.path[-1]
    captured = move.captured
    was_king = kings & start
    kings &= ~(start | captured)
    if turn == BLACK:
        black = (black & ~start) | end
        white &= ~captured
    else:
        white = (white & ~start) | end
        black &= ~captured
    if was_king or CROWN_ROW[turn] & end:
        kings |= end
    return black, white, kings, 1 - turn


def perft(black: int, white: int, kings: int, turn: int, depth: int) -> int:
    """Leaf count of the move tree ``depth`` plies deep (the standard check of a move generator)."""
    moves = generate_moves(black, white, kings, turn)
    if depth <= 1:
        return len(moves) if depth == 1 else 1
    return sum(perft(*apply_move(black, white, kings, turn, move), depth - 1) for move in moves)


# --------------------------------------------------------------------------- positions


@dataclass(frozen=True)
class Position:
    """A checkers position: three bitboards and the side to move. Immutable and hashable."""

    black: int = START_BLACK
    white: int = START_WHITE
    kings: int = 0
    turn: int = BLACK

    @property
    def key(self) -> tuple[int, int, int, int]:
        return self.black, self.white, self.kings, self.turn

    def legal_moves(self) -> list[Move]:
        return generate_moves(self.black, self.white, self.kings, self.turn)

    def play(self, move: Move) -> "Position":
        return Position(*apply_move(self.black, self.white, self.kings, self.turn, move))

    def piece_at(self, square: int) -> str:
        """'b', 'B' (king), 'w', 'W' or '' for PDN square 1..32."""
        bit = 1 << (square - 1)
        if self.black & bit:
            return "B" if self.kings & bit else "b"
        if self.white & bit:
            return "W" if self.kings & bit else "w"
        return ""

    def counts(self) -> dict[str, int]:
        """Men and kings of each side."""
        return {"black_men": (self.black & ~self.kings).bit_count(), "black_kings": (self.black & self.kings).bit_count(),
                "white_men": (self.white & ~self.kings).bit_count(), "white_kings": (self.white & self.kings).bit_count()}

    def to_fen(self) -> str:
        """PDN FEN: side to move, then White's and Black's squares, kings prefixed with K."""
        def side(letter, pieces):
            return letter + ",".join(("K" if self.kings >> i & 1 else "") + str(i + 1) for i in _bits(pieces))

        return f"{'BW'[self.turn]}:{side('W', self.white)}:{side('B', self.black)}"

    @classmethod
    def from_fen(cls, text: str) -> "Position":
        return parse_fen(text)

    def diagram(self, numbers: bool = True) -> str:
        """The board as text, Black's back rank (1-4) on top: b/w men, B/W kings, empty dark squares numbered."""
        lines = []
        for row in range(8):
            cells = []
            for column in range(8):
                square = square_at(row, column)
                if not square:
                    cells.append("  ")
                else:
                    piece = self.piece_at(square)
                    cells.append(f"{piece:>2}" if piece else (f"{square:>2}" if numbers else " ."))
            lines.append(" ".join(cells))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.diagram()


_FEN_SIDE = re.compile(r"^([BW])(.*)$", re.S)


def _fen_squares(text: str, where: str) -> list[tuple[int, bool]]:
    pieces = []
    for token in filter(None, (t.strip() for t in text.split(","))):
        king = token[0] in "Kk"
        body = token[1:] if king else token
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", body)
        if not match:
            raise ConvsuiteError(f"FEN {where}: {token!r} is not a square number (1-32), a range like 1-12, "
                                 "or a king like K30")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if not (1 <= first <= 32 and 1 <= last <= 32 and first <= last):
            raise ConvsuiteError(f"FEN {where}: square {token!r} is outside 1-32")
        pieces.extend((square, king) for square in range(first, last + 1))
    return pieces


def parse_fen(text: str) -> Position:
    """A position from PDN FEN (``B:W21-32:B1-12``, ``W:WK3,24:B12,K30``; a ``[FEN "..."]`` tag is fine too).

    Refuses, in one sentence each: a bad side to move, a square given twice, more than 12
    pieces a side, and a man standing on the row where it would already have been crowned."""
    raw = text.strip()
    tag = re.fullmatch(r'\[\s*FEN\s+"(.*)"\s*\]', raw, re.S)
    body = (tag.group(1) if tag else raw).strip().strip('"').rstrip(".").strip()
    parts = [p.strip() for p in body.split(":")]
    if not parts or parts[0].upper() not in ("B", "W"):
        raise ConvsuiteError(f"FEN {text.strip()!r}: the side to move must come first, as B or W (e.g. B:W21-32:B1-12)")
    turn = BLACK if parts[0].upper() == "B" else WHITE
    boards = {"B": 0, "W": 0}
    kings = 0
    seen_sides = set()
    for part in parts[1:]:
        match = _FEN_SIDE.match(part[:1].upper() + part[1:])
        if not match:
            raise ConvsuiteError(f"FEN {text.strip()!r}: {part!r} must start with W or B followed by its squares")
        letter = match.group(1)
        if letter in seen_sides:
            raise ConvsuiteError(f"FEN {text.strip()!r}: the {COLOUR_NAMES['BW'.index(letter)]} pieces are listed twice")
        seen_sides.add(letter)
        for square, king in _fen_squares(match.group(2), f"{text.strip()!r}"):
            bit = 1 << (square - 1)
            if (boards["B"] | boards["W"]) & bit:
                raise ConvsuiteError(f"FEN {text.strip()!r}: square {square} holds two pieces")
            boards[letter] |= bit
            if king:
                kings |= bit
    for letter, colour in (("B", BLACK), ("W", WHITE)):
        count = boards[letter].bit_count()
        if count > PIECES_PER_SIDE:
            raise ConvsuiteError(f"FEN {text.strip()!r}: {COLOUR_NAMES[colour]} has {count} pieces; a side has at "
                                 f"most {PIECES_PER_SIDE}")
        men_on_crown = boards[letter] & ~kings & CROWN_ROW[colour]
        if men_on_crown:
            squares = ", ".join(str(i + 1) for i in _bits(men_on_crown))
            raise ConvsuiteError(f"FEN {text.strip()!r}: {COLOUR_NAMES[colour]} man on square {squares}, its "
                                 "crowning row, where it would be a king; write it as K" + squares.split(",")[0])
    return Position(boards["B"], boards["W"], kings, turn)


def to_fen(position: Position) -> str:
    return position.to_fen()


# --------------------------------------------------------------------------- moves as text

_MOVE_TEXT = re.compile(r"^\s*(\d{1,2})(?:\s*[-x:]\s*(\d{1,2}))+\s*$", re.I)


def parse_move(text: str, position: Position, legal: list[Move] | None = None) -> Move:
    """The legal move a PDN move text names: ``11-15``, ``15x24x31``, or the short ``15x31`` when
    only one jump sequence joins those squares. Illegal or ambiguous text: one clear error
    listing the legal moves."""
    legal = position.legal_moves() if legal is None else legal
    choices = ", ".join(str(m) for m in legal) or "none (the game is over)"
    if not _MOVE_TEXT.match(text or ""):
        raise ConvsuiteError(f"{text!r} is not a move in PDN notation like 11-15 or 15x24x31; legal moves: {choices}")
    squares = tuple(int(s) for s in re.findall(r"\d+", text))
    if any(not 1 <= s <= 32 for s in squares):
        raise ConvsuiteError(f"{text!r} names a square outside 1-32; legal moves: {choices}")
    exact = [m for m in legal if m.squares == squares]
    if exact:
        return exact[0]
    ends = [m for m in legal if (m.start, m.end) == (squares[0], squares[-1])] if len(squares) == 2 else []
    if len(ends) == 1:
        return ends[0]
    if len(ends) > 1:
        raise ConvsuiteError(f"{text!r} is ambiguous: {len(ends)} jump sequences go from {squares[0]} to "
                             f"{squares[-1]} ({', '.join(str(m) for m in ends)}); type the whole path")
    must = " (a capture is compulsory)" if legal and legal[0].is_capture else ""
    raise ConvsuiteError(f"{text.strip()} is not legal here{must}; legal moves: {choices}")


# --------------------------------------------------------------------------- games

@dataclass
class Game:
    """A game from a start position: moves, undo, and the end by no legal move, threefold
    repetition (``repetition_draw``) or a move limit (``move_limit`` moves by each side; 0 = none)."""

    start: Position = field(default_factory=Position)
    repetition_draw: bool = True
    move_limit: int = 0
    moves: list[Move] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    _seen: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if not self.positions:
            self.positions = [self.start]
            self._seen = {self.start.key: 1}
        replay, self.moves = self.moves, []
        for move in replay:
            self.play(move)

    @property
    def position(self) -> Position:
        return self.positions[-1]

    @property
    def turn(self) -> int:
        return self.position.turn

    @property
    def plies(self) -> int:
        return len(self.moves)

    def legal_moves(self) -> list[Move]:
        return [] if self.is_over() else self.position.legal_moves()

    def play(self, move: Move | str) -> Move:
        """Play a Move or PDN text (checked against the legal moves); returns the Move played."""
        if self.is_over():
            raise ConvsuiteError(f"the game is over ({self.result_text()}); no more moves can be played")
        legal = self.position.legal_moves()
        if isinstance(move, str):
            move = parse_move(move, self.position, legal)
        elif move not in legal:
            raise ConvsuiteError(f"{move} is not legal here; legal moves: {', '.join(map(str, legal))}")
        after = self.position.play(move)
        self.moves.append(move)
        self.positions.append(after)
        self._seen[after.key] = self._seen.get(after.key, 0) + 1
        return move

    def undo(self, plies: int = 1) -> None:
        """Take back the last ``plies`` moves."""
        if plies > len(self.moves):
            raise ConvsuiteError(f"cannot undo {plies} moves: only {len(self.moves)} were played")
        for _ in range(plies):
            gone = self.positions.pop()
            self.moves.pop()
            self._seen[gone.key] -= 1

    def repetitions(self) -> int:
        """How often the current position (with the same side to move) has occurred."""
        return self._seen.get(self.position.key, 0)

    def winner(self) -> int | None:
        """BLACK or WHITE once a side has no legal move; -1 for a draw; None while the game goes on."""
        if not self.position.legal_moves():
            return 1 - self.turn
        if self.repetition_draw and self.repetitions() >= 3:
            return -1
        if self.move_limit and len(self.moves) >= 2 * self.move_limit:
            return -1
        return None

    def is_over(self) -> bool:
        return self.winner() is not None

    def result_text(self) -> str:
        """PDN result from Black's side: ``1-0`` (Black won), ``0-1``, ``1/2-1/2``, or ``*`` (unfinished)."""
        return {None: "*", BLACK: "1-0", WHITE: "0-1", -1: "1/2-1/2"}[self.winner()]

    def end_reason(self) -> str:
        winner = self.winner()
        if winner is None:
            return "unfinished"
        if winner in (BLACK, WHITE):
            return f"{COLOUR_NAMES[self.turn]} has no legal move"
        if self.repetition_draw and self.repetitions() >= 3:
            return "threefold repetition"
        return f"move limit ({self.move_limit} moves each)"

    def movetext(self) -> str:
        """The moves in PDN movetext: ``1. 11-15 23-19 2. 8-11 ...``, numbered from the start position's side."""
        words = []
        offset = 1 if self.start.turn == WHITE else 0
        for ply, move in enumerate(self.moves):
            number, is_white = divmod(ply + offset, 2)
            if not is_white:
                words.append(f"{number + 1}.")
            elif ply == 0:
                words.append(f"{number + 1}...")
            words.append(str(move))
        return " ".join(words)
