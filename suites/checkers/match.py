"""Matches between two checkers players: each opening played twice with colours swapped, the
games on the worker pool, the score with a confidence interval and an Elo difference; and an
Elo ladder across the champions of a co-evolution run.

This is how the evolved networks of Chellapilla & Fogel, "Evolving an expert checkers playing
program without using human expertise" (IEEE TEC 2001) are judged here: against a piece-count
alpha-beta at equal depth, the initial random population, open_spiel's MCTS bot and each other.
Pure Python and NumPy (no Keras import): the games run on local processes or a Ray cluster.
"""

from __future__ import annotations

import contextlib

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.common.pool import WorkerPool
from convsuite.common.stats import elo_difference, elo_ladder, score_interval
from convsuite.suites.checkers.board import BLACK, COLOUR_NAMES, WHITE, Game
from convsuite.suites.checkers.openings import match_openings
from convsuite.suites.checkers.players import DrawClaim, Player, PlayerSpec, make_player

DRAW = -1


@dataclass
class GameRecord:
    """One finished game: the moves (opening included), the winner (BLACK, WHITE or DRAW = -1),
    why it ended, and who played which colour."""

    game: Game
    winner: int
    reason: str
    black_name: str
    white_name: str

    @property
    def result_text(self) -> str:
        """PDN result from Black's side: 1-0, 0-1 or 1/2-1/2."""
        return {BLACK: "1-0", WHITE: "0-1", DRAW: "1/2-1/2"}[self.winner]

    @property
    def plies(self) -> int:
        return self.game.plies


def play_game(black: Player, white: Player, opening_moves=(), move_limit: int = 100,
              repetition_draw: bool = True) -> GameRecord:
    """Play one game from the start position after ``opening_moves`` (Moves or PDN texts) to its
    end: no legal move, threefold repetition, ``move_limit`` moves by each side (opening
    included), or a forfeit by a player that fails or chooses an illegal move."""
    game = Game(move_limit=move_limit, repetition_draw=repetition_draw)
    for move in opening_moves:
        game.play(move)
    players = (black, white)

    def record(winner: int, reason: str) -> GameRecord:
        return GameRecord(game, winner, reason, black.name, white.name)

    while True:
        winner = game.winner()
        if winner is not None:
            return record(int(winner), game.end_reason())
        mover = players[game.turn]
        try:
            move = mover.choose(game)
        except DrawClaim as claim:
            return record(DRAW, str(claim))
        except ConvsuiteError as error:  # a failing player loses the game; the match goes on
            return record(1 - game.turn, f"{COLOUR_NAMES[game.turn]} ({mover.name}) forfeits: {error}")
        if move not in game.position.legal_moves():
            legal = ", ".join(map(str, game.position.legal_moves()))
            return record(1 - game.turn, f"{COLOUR_NAMES[game.turn]} ({mover.name}) forfeits: it chose {move}, not "
                                         f"legal here (legal: {legal})")
        game.play(move)


# --------------------------------------------------------------------------- matches


@dataclass(frozen=True, eq=False)
class MatchItem:
    """One game of a match, everything a worker needs (picklable), with its own seeds."""

    index: int
    black: PlayerSpec
    white: PlayerSpec
    opening: tuple[str, ...]
    black_seed: int
    white_seed: int
    move_limit: int


def play_match_game(item: MatchItem) -> GameRecord:
    """A worker's job: build both players from their specs and seeds, play the game."""
    black, white = make_player(item.black, item.black_seed), make_player(item.white, item.white_seed)
    try:
        return play_game(black, white, item.opening, move_limit=item.move_limit)
    finally:
        black.close()
        white.close()


@dataclass
class MatchGame:
    """One game of a match from player A's side."""

    index: int
    colour: str  # A's colour: "black" or "white"
    opening: str  # PDN moves
    result: str  # for A: "win", "draw" or "loss"
    plies: int
    reason: str
    record: GameRecord = field(repr=False)


@dataclass
class MatchResult:
    """Totals for player A against player B: a win 1, a draw 1/2; the score's 95% interval
    (`score_interval`) and the Elo difference it implies (`elo_difference`, clipped at a
    perfect score to half a game from it)."""

    player_a: str
    player_b: str
    wins: int
    draws: int
    losses: int
    score: float
    ci_low: float
    ci_high: float
    elo: float
    opening_source: str
    games: list[MatchGame] = field(default_factory=list)
    pdn_path: str | None = None

    @property
    def game_count(self) -> int:
        return self.wins + self.draws + self.losses

    def summary(self) -> str:
        return (f"{self.player_a} vs {self.player_b}: {self.wins} wins, {self.draws} draws, {self.losses} losses in "
                f"{self.game_count} games; score {self.score:.3f} (95% CI {self.ci_low:.3f}-{self.ci_high:.3f}), "
                f"Elo {self.elo:+.0f}; openings: {self.opening_source}")

    def to_dict(self) -> dict:
        """The totals as JSON-ready values (no per-game records)."""
        return {"player": self.player_a, "opponent": self.player_b, "games": self.game_count, "wins": self.wins,
                "draws": self.draws, "losses": self.losses, "score": round(self.score, 4),
                "ci95": [round(self.ci_low, 4), round(self.ci_high, 4)], "elo": round(self.elo, 1),
                "openings": self.opening_source, "pdn": self.pdn_path}


def _game_seeds(seed: int, index: int) -> tuple[int, int]:
    """The two players' seeds of game ``index``: fixed by (seed, index) alone, so a game gives the
    same result inline, on processes or on a cluster."""
    black_seed, white_seed = np.random.SeedSequence([int(seed), int(index)]).generate_state(2)
    return int(black_seed), int(white_seed)


def _match_items(spec_a: PlayerSpec, opponents: list[PlayerSpec], openings, seed: int, move_limit: int,
                 first_index: int = 0) -> list[MatchItem]:
    """Two games per opening, against the opponents in turn: A Black in the first, White in the second."""
    items = []
    for number, opening in enumerate(openings):
        words = tuple(str(move) for move in opening)
        spec_b = opponents[number % len(opponents)]
        for swap in (0, 1):
            index = first_index + 2 * number + swap
            black, white = (spec_a, spec_b) if swap == 0 else (spec_b, spec_a)
            items.append(MatchItem(index, black, white, words, *_game_seeds(seed, index), move_limit))
    return items


def _check_games(games: int) -> None:
    if games < 2 or games % 2:
        raise ConvsuiteError(f"a match needs an even number of games >= 2 (every opening is played with both "
                             f"colours), got {games}")


def _tally(records: list[GameRecord], items: list[MatchItem]) -> tuple[list[MatchGame], int, int, int]:
    """Per-game rows from A's side (A is Black in even games of a pair) and the totals."""
    rows, wins, draws, losses = [], 0, 0, 0
    for record, item in zip(records, items):
        a_colour = BLACK if item.index % 2 == 0 else WHITE
        if record.winner == DRAW:
            result, draws = "draw", draws + 1
        elif record.winner == a_colour:
            result, wins = "win", wins + 1
        else:
            result, losses = "loss", losses + 1
        rows.append(MatchGame(item.index, COLOUR_NAMES[a_colour].lower(), " ".join(item.opening), result,
                              record.plies, record.reason, record))
    return rows, wins, draws, losses


def play_match(spec_a: PlayerSpec, spec_b: PlayerSpec | list[PlayerSpec], games: int = 100, seed: int = 0,
               move_limit: int = 100, ballots_path: str = "", workers: int = 1, cluster: str = "",
               progress: bool = False, pdn_path=None, pool: WorkerPool | None = None) -> MatchResult:
    """Play ``games`` games between A and B: ``games / 2`` openings (`match_openings`: the
    three-move ballots when available, else random 2-ply), each once with A as Black and once
    as White. B may be a list of players (a population): the openings go to them in turn. Every
    game is one item on ``pool`` (default: a new `WorkerPool(workers, cluster)`) with seeds fixed
    by ``seed`` and its index, so the result does not depend on where the games run. The games
    are written to ``pdn_path`` as one PDN file when given."""
    _check_games(games)
    opponents = [spec.resolved() for spec in (spec_b if isinstance(spec_b, (list, tuple)) else [spec_b])]
    if not opponents:
        raise ConvsuiteError("a match needs at least one opponent")
    spec_a = spec_a.resolved()
    openings, source = match_openings(games // 2, seed=seed, ballots_path=ballots_path)
    items = _match_items(spec_a, opponents, openings, seed, move_limit)
    label_b = opponents[0].label() if len(opponents) == 1 else f"{len(opponents)} players"
    with contextlib.nullcontext(pool) if pool is not None else WorkerPool(workers, cluster) as running:
        records = running.map(play_match_game, items, progress=progress, desc=f"{spec_a.label()} vs {label_b}",
                              unit="game")
    rows, wins, draws, losses = _tally(records, items)
    score, low, high = score_interval(wins, draws, losses)
    result = MatchResult(spec_a.label(), label_b, wins, draws, losses, score, low, high,
                         elo_difference(score, games), source, rows)
    if pdn_path:
        result.pdn_path = str(write_match_pdn(records, pdn_path, event=f"{result.player_a} vs {result.player_b}"))
    return result


def write_match_pdn(records: list[GameRecord], path, event: str = "convsuite checkers match"):
    """All games of a match in one PDN file, with the players' names, the result and why it ended."""
    from convsuite.suites.checkers.pdn import PdnGame, write_pdn

    games = [PdnGame(tags={"Event": event, "Round": str(number), "Black": record.black_name,
                           "White": record.white_name, "Termination": record.reason},
                     game=record.game, result=record.result_text)
             for number, record in enumerate(records, start=1)]
    try:
        write_pdn(games, path=path)
    except OSError as error:
        raise ConvsuiteError(f"cannot write the match's games to {str(path)!r} ({error.strerror or error}); give "
                             "a --pdn path in a writable folder") from None
    return path


# --------------------------------------------------------------------------- Elo ladder


@dataclass
class Ladder:
    """Elo ratings of a run's champions from a round robin, the first generation at 0."""

    generations: list[int]
    ratings: np.ndarray
    matches: list[tuple[int, int, int, int, int]]  # (generation i, generation j, i's wins, draws, losses)

    def summary(self) -> str:
        return "; ".join(f"generation {g}: {r:+.0f}" for g, r in zip(self.generations, self.ratings))

    def to_dict(self) -> dict:
        return {"generations": self.generations, "elo": [round(float(r), 1) for r in self.ratings],
                "matches": [{"generation": i, "opponent": j, "wins": w, "draws": d, "losses": l}
                            for i, j, w, d, l in self.matches]}


def elo_ladder_for(run_dir, generations, games_per_pair: int = 10, depth: int = 4, seed: int = 0, workers: int = 1,
                   cluster: str = "", move_limit: int = 100, ballots_path: str = "",
                   progress: bool = False) -> Ladder:
    """Elo ratings of the champions of ``generations`` in ``run_dir`` (at search ``depth``) from a
    round robin of ``games_per_pair`` games between every two of them, rated by `elo_ladder`
    (Bradley-Terry, draws half a win each, with its weak prior of one virtual draw against the
    first generation). All games of the round robin share one worker pool."""
    _check_games(games_per_pair)
    generations = [int(g) for g in generations]
    if len(generations) < 2 or len(set(generations)) != len(generations):
        raise ConvsuiteError(f"an Elo ladder needs at least two different generations, got {generations}")
    specs = [PlayerSpec("network", depth=depth, run_dir=str(run_dir), generation=g).resolved() for g in generations]
    openings, _ = match_openings(games_per_pair // 2, seed=seed, ballots_path=ballots_path)
    pairs = list(combinations(range(len(specs)), 2))
    items, spans = [], []
    for i, j in pairs:
        chunk = _match_items(specs[i], [specs[j]], openings, seed, move_limit, first_index=len(items))
        spans.append((len(items), len(items) + len(chunk)))
        items.extend(chunk)
    with WorkerPool(workers, cluster) as pool:
        records = pool.map(play_match_game, items, progress=progress, desc="Elo ladder", unit="game")
    results, matches = [], []
    for (i, j), (start, stop) in zip(pairs, spans):
        # every match starts at an even index, so player i is Black in the even games as in play_match
        _, wins, draws, losses = _tally(records[start:stop], items[start:stop])
        results.append((i, j, wins + 0.5 * draws, stop - start))
        matches.append((generations[i], generations[j], wins, draws, losses))
    ratings = elo_ladder(results, anchor=0, players=len(specs))
    return Ladder(generations, ratings, matches)
