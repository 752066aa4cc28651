"""Checkers players for matches and the terminal game: a network or the piece count behind an
alpha-beta search, a random mover, open_spiel's MCTS bot and a person at the keyboard.

A match runs its games on the worker pool, so players are described by a picklable
`PlayerSpec` and built in the worker by `make_player(spec, seed)`; `parse_player` reads the
command line's player texts. The network player is Blondie24's: the evolved network of
Chellapilla & Fogel, "Evolving an expert checkers playing program without using human
expertise", IEEE TEC 2001, at the leaves of a 4-ply alpha-beta search extended through
captures. Imports no Keras (pyspiel only when an MCTS player is built).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers.board import Game, Move, parse_move
from convsuite.suites.checkers.network import NetworkEvaluator, PieceCountEvaluator
from convsuite.suites.checkers.search import AlphaBetaSearch

KINDS = ("network", "piece-count", "random", "mcts")
DEFAULT_SIMULATIONS = 1000


class DrawClaim(Exception):
    """Raised by a player that cannot go on in a game the rules of its own engine have drawn
    (open_spiel's MCTS bot after 40 actions without a capture); the match scores a draw."""


class Player:
    """Something that picks a move: ``choose(game)`` for the side to move of an unfinished game."""

    name = "player"

    def choose(self, game: Game) -> Move:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the player holds (nothing, for most)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class SearchPlayer(Player):
    """An alpha-beta search over ``evaluator`` (see ``search.py``), equal scores broken by a
    seeded random order of the root moves."""

    def __init__(self, evaluator, depth: int = 4, name: str = "", seed: int = 0):
        self.search = AlphaBetaSearch(evaluator, depth=depth, rng=np.random.default_rng(seed))
        self.depth = int(depth)
        self.name = name or f"{type(evaluator).__name__} at depth {depth}"
        self.last = None  # the SearchResult of the last move

    def choose(self, game: Game) -> Move:
        self.last = self.search.search(game.position)
        if self.last.move is None:
            raise ConvsuiteError(f"{self.name} was asked to move in a finished game ({game.position.to_fen()})")
        return self.last.move


def network_player(flat, king_value: float, depth: int = 4, seed: int = 0, name: str = "") -> SearchPlayer:
    """Blondie24: the network of ``flat`` weights and king value ``king_value`` at the leaves of a search."""
    return SearchPlayer(NetworkEvaluator(flat, king_value), depth=depth, seed=seed,
                        name=name or f"network (K={king_value:.3f}, depth {depth})")


def piece_count_player(depth: int = 4, king_value: float = 1.5, seed: int = 0) -> SearchPlayer:
    """The baseline: material only (men 1, kings ``king_value``) at the leaves of the same search."""
    return SearchPlayer(PieceCountEvaluator(king_value), depth=depth, seed=seed,
                        name=f"piece-count (depth {depth})")


class RandomPlayer(Player):
    """A uniformly random legal move."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.name = "random"

    def choose(self, game: Game) -> Move:
        moves = game.legal_moves()
        if not moves:
            raise ConvsuiteError(f"the random player was asked to move in a finished game ({game.position.to_fen()})")
        return moves[int(self.rng.integers(len(moves)))]


class MCTSPlayer(Player):
    """open_spiel's MCTS bot (random rollouts, ``simulations`` a move). Its own open_spiel state
    follows the game: the moves played since the last call are applied to it, or it is rebuilt
    from the start after an undo. open_spiel starts only from the initial position."""

    def __init__(self, simulations: int = DEFAULT_SIMULATIONS, seed: int = 0):
        from convsuite.suites.checkers import open_spiel_bridge

        self.bridge = open_spiel_bridge
        self.simulations = int(simulations)
        self.bot = open_spiel_bridge.mcts_bot(self.simulations, seed)
        self.name = f"mcts ({self.simulations} simulations)"
        self._state = None
        self._played: list[Move] = []

    def _sync(self, game: Game):
        if game.start != type(game.start)():
            raise ConvsuiteError(f"the MCTS player can only play games from the initial position; this one starts "
                                 f"at {game.start.to_fen()}")
        moves = game.moves
        if self._state is None or moves[:len(self._played)] != self._played:
            self._state, self._played = self.bridge.new_state(), []
        for move in moves[len(self._played):]:
            self.bridge.apply_to_state(self._state, move)
        self._played = list(moves)
        return self._state

    def choose(self, game: Game) -> Move:
        state = self._sync(game)
        if state.is_terminal():
            raise DrawClaim("open_spiel's draw after 40 actions without a capture (the MCTS bot cannot go on)")
        return self.bridge.bot_move(self.bot, state, game.position)


def read_line(input, output, prompt: str) -> str:
    """The next non-blank line typed after ``prompt``, stripped; end of input raises EOFError."""
    while True:
        print(prompt, end="", file=output, flush=True)
        line = input.readline()
        if not line:
            raise EOFError
        if line.strip():
            return line.strip()


class HumanPlayer(Player):
    """A person typing PDN moves (``11-15``, ``15x24``) on ``input``; illegal or ambiguous text is
    refused with the legal moves and asked again. Other words go to ``on_command(word, rest, game)``,
    which returns True when it handled them (the terminal game's undo, save, ...). End of input
    raises EOFError."""

    def __init__(self, name: str = "you", input=None, output=None, on_command=None, prompt: str = "your move> "):
        self.name = name
        self.input = input if input is not None else sys.stdin
        self.output = output if output is not None else sys.stdout
        self.on_command = on_command
        self.prompt = prompt

    def say(self, text: str) -> None:
        print(text, file=self.output, flush=True)

    def choose(self, game: Game) -> Move:
        legal = game.legal_moves()
        while True:
            text = read_line(self.input, self.output, self.prompt)
            word, _, rest = text.partition(" ")
            if not text[0].isdigit():
                if self.on_command is not None and self.on_command(word.lower(), rest.strip(), game):
                    continue
                self.say(f"unknown command {word!r}; type a move like {legal[0] if legal else '11-15'} or 'help'")
                continue
            try:
                return parse_move(text, game.position, legal)
            except ConvsuiteError as error:
                self.say(str(error))


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True, eq=False)  # eq=False: flat is an array
class PlayerSpec:
    """A picklable description of a player, built in a match's worker by `make_player`.

    kind: "network" (``flat`` + ``king_value``, or the champion of ``run_dir`` at ``generation``,
    None = the last one), "piece-count" (kings worth ``piece_king_value``), "random" or "mcts"
    (``simulations`` a move). ``depth`` is the search depth of network and piece-count players."""

    kind: str
    depth: int = 4
    simulations: int = DEFAULT_SIMULATIONS
    run_dir: str = ""
    generation: int | None = None
    flat: np.ndarray | None = None
    king_value: float = 2.0
    piece_king_value: float = 1.5
    name: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ConvsuiteError(f"unknown player kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if self.kind == "network" and self.flat is None and not self.run_dir:
            raise ConvsuiteError("a network player needs weights (flat) or a run directory written by "
                                 "`convsuite train checkers`")
        if self.depth < 1 and self.kind in ("network", "piece-count"):
            raise ConvsuiteError(f"search depth must be >= 1, got {self.depth}")

    def resolved(self) -> "PlayerSpec":
        """The same spec with a run directory's champion loaded into ``flat`` (done once, before
        a match sends the spec to its workers); other specs as they are."""
        if self.kind != "network" or self.flat is not None:
            return self
        from convsuite.suites.checkers.champions import load_champion

        flat, king_value, generation = load_champion(self.run_dir, self.generation)
        return replace(self, flat=flat, king_value=king_value, generation=generation)

    def label(self) -> str:
        """A short name of the player for results and PDN tags."""
        if self.name:
            return self.name
        if self.kind == "network":
            where = f"{Path(self.run_dir).name or self.run_dir}@{self.generation}" if self.run_dir else "network"
            if self.run_dir and self.generation is None:
                where = f"{Path(self.run_dir).name or self.run_dir}@last"
            return f"{where} (depth {self.depth})"
        if self.kind == "piece-count":
            return f"piece-count (depth {self.depth})"
        if self.kind == "mcts":
            return f"mcts ({self.simulations} simulations)"
        return "random"


def make_player(spec: PlayerSpec, seed: int = 0) -> Player:
    """The player a spec describes, its randomness seeded by ``seed``."""
    if spec.kind == "network":
        spec = spec.resolved()
        return network_player(spec.flat, spec.king_value, depth=spec.depth, seed=seed, name=spec.label())
    if spec.kind == "piece-count":
        return piece_count_player(depth=spec.depth, king_value=spec.piece_king_value, seed=seed)
    if spec.kind == "mcts":
        return MCTSPlayer(spec.simulations, seed=seed)
    return RandomPlayer(seed)


def parse_player(text: str, depth: int = 4) -> PlayerSpec:
    """A PlayerSpec from command-line text: ``piece-count``, ``random``, ``mcts``, ``mcts:2000``,
    a run directory (its last champion) or ``RUN@GEN`` (generation GEN's champion)."""
    raw = (text or "").strip()
    word = raw.lower()
    if word in ("piece-count", "piececount", "piece_count"):
        return PlayerSpec("piece-count", depth=depth)
    if word == "random":
        return PlayerSpec("random", depth=depth)
    if word == "mcts" or word.startswith("mcts:"):
        count = word.partition(":")[2] or str(DEFAULT_SIMULATIONS)
        if not count.isdigit() or int(count) < 1:
            raise ConvsuiteError(f"player {raw!r}: the MCTS simulations must be a whole number >= 1, as in mcts:2000")
        return PlayerSpec("mcts", depth=depth, simulations=int(count))
    run, generation = raw, None
    head, at, tail = raw.rpartition("@")
    if at and head and tail.lstrip("-").isdigit():
        run, generation = head, int(tail)
    if not run or not Path(run).is_dir():
        raise ConvsuiteError(f"{raw!r} is not a player kind and no run directory {run!r} exists; give a run "
                             "directory written by `convsuite train checkers` (RUN, or RUN@GEN for a generation's "
                             "champion) or one of piece-count, random, mcts, mcts:SIMULATIONS")
    return PlayerSpec("network", depth=depth, run_dir=run, generation=generation)
