"""Openings of evaluation matches: the ACF three-move ballots when a user provides them, else
random 2-ply openings.

Two deterministic players from one start position would replay one game again and again; a
match therefore plays each opening twice, with colours swapped. Tournament checkers draws its
openings from the American Checker Federation's three-move ballots; that list is not shipped
(``data.py`` says how to provide it), so the default is the 49 positions two plies from the
start in a seeded random order. Imports no Keras.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers.board import Game, Move, Position
from convsuite.suites.checkers.data import DEFAULT_BALLOTS, default_ballots_path

__all__ = ["DEFAULT_BALLOTS", "load_ballots", "random_openings", "match_openings", "opening_text"]

_MOVE_NUMBER = re.compile(r"^\d+\.+$")  # "1." or "1..." in movetext


def opening_text(moves) -> str:
    """The moves of an opening as PDN text, e.g. ``9-13 21-17 5-9``."""
    return " ".join(str(move) for move in moves)


def load_ballots(path) -> list[list[Move]]:
    """The openings of a ballot file: one per line in PDN moves from the start position
    (``9-13 21-17 5-9``; move numbers like ``1.`` are skipped), ``#`` starts a comment, blank
    lines are ignored. Every ballot is played out: an illegal move names its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConvsuiteError(f"ballot file {str(path)!r} does not exist; write one ballot per line such as "
                             "'9-13 21-17 5-9', or leave the ballots out for random 2-ply openings") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConvsuiteError(f"cannot read the ballot file {str(path)!r} ({type(error).__name__}: {error})") from None
    ballots = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = [w for w in line.split("#", 1)[0].split() if not _MOVE_NUMBER.match(w)]
        if not words:
            continue
        game = Game()
        for word in words:
            try:
                game.play(word)
            except ConvsuiteError as error:
                raise ConvsuiteError(f"{path}, line {number} ({' '.join(words)!r}): {error}") from None
        ballots.append(list(game.moves))
    if not ballots:
        raise ConvsuiteError(f"ballot file {str(path)!r} holds no ballot; write one per line such as '9-13 21-17 5-9'")
    return ballots


def _all_openings(plies: int) -> list[list[Move]]:
    """Every sequence of ``plies`` legal moves from the start, in move-generation order."""
    lines: list[list[Move]] = [[]]
    for _ in range(plies):
        longer = []
        for line in lines:
            position = Position()
            for move in line:
                position = position.play(move)
            longer.extend(line + [move] for move in position.legal_moves())
        lines = longer
    return lines


def random_openings(count: int, plies: int = 2, seed: int = 0) -> list[list[Move]]:
    """``count`` openings of ``plies`` moves from the start: all distinct while they last
    (there are 49 at 2 plies), in a seeded random order that repeats when ``count`` is larger."""
    if count < 0 or plies < 0:
        raise ConvsuiteError(f"random_openings needs count >= 0 and plies >= 0, got count={count}, plies={plies}")
    every = _all_openings(plies)
    order = np.random.default_rng(seed).permutation(len(every))
    return [list(every[order[i % len(every)]]) for i in range(count)]


def match_openings(count: int, seed: int = 0, ballots_path: str | None = "") -> tuple[list[list[Move]], str]:
    """(``count`` openings, their source). ``ballots_path``: a file whose ballots are used (missing:
    an error, never a silent fall-back); "" for the ballots of ``default_ballots_path()`` when
    that file exists, else random 2-ply openings; None for random 2-ply openings. Ballots come in
    a seeded random order that repeats when ``count`` is larger than their number."""
    if ballots_path is None:
        return random_openings(count, plies=2, seed=seed), "random 2-ply openings"
    path = Path(ballots_path) if ballots_path else default_ballots_path()
    if ballots_path and not path.is_file():
        raise ConvsuiteError(f"ballot file {ballots_path!r} does not exist; give an existing file (one ballot per "
                             "line such as '9-13 21-17 5-9') or no ballots for random 2-ply openings")
    if path.is_file():
        ballots = load_ballots(path)
        order = np.random.default_rng(seed).permutation(len(ballots))
        chosen = [list(ballots[order[i % len(ballots)]]) for i in range(count)]
        return chosen, f"three-move ballots ({path}, {len(ballots)} ballots)"
    return random_openings(count, plies=2, seed=seed), "random 2-ply openings"
