"""Matches between a `Player` and an external GTP engine: scored, SGF-recorded games with a Wilson
confidence interval on the win rate, the strength number the Go suite reports. Pure Python (no Keras import).

One ruleset per match decides legality for both sides alike: the referee board enforces its ko rule on our
moves and the opponent's, our player's moves are chosen the way our GTP engine chooses them
(`gtp.choose_move`), and a move refused, by the rules or by the opponent's engine, loses the game for
the side that made it."""

from __future__ import annotations

import datetime
import sys
from dataclasses import dataclass, field
from pathlib import Path

from convsuite.common.errors import ConvsuiteError
from convsuite.common.stats import wilson_interval  # also importable from here, where it used to live
from convsuite.suites.go.board import (
    BLACK,
    PASS,
    RESIGN,
    WHITE,
    Board,
    from_gtp,
    to_gtp,
)

from convsuite.suites.go.gtp import (
    MAX_SIZE,
    MIN_SIZE,
    Player,
    _default_version,
    _rules_name,
    choose_move,
    superko_for,
)
from convsuite.suites.go.gtp_client import GtpClient, GtpError


@dataclass
class GameResult:
    """One match game: who had which colour, the SGF-style result, and why the game ended."""

    index: int
    our_color: int
    result: str  # SGF RE: "B+3.5", "W+R", "0" (jigo), "B+F"/"W+F" (forfeit)
    winner: int  # BLACK, WHITE, or 0 for a draw
    reason: str  # "two passes", "resignation", "max moves", or what went wrong
    moves: int
    score_source: str = ""  # "opponent final_score", "tromp-taylor", or "" (no counting needed)
    tromp_taylor: str = ""  # our board's own Tromp-Taylor count, for comparison with the opponent's
    sgf_path: str | None = None

    @property
    def won(self) -> bool:
        return self.winner == self.our_color

    @property
    def drawn(self) -> bool:
        return self.winner == 0


@dataclass
class MatchResult:
    """Match totals with a Wilson 95% interval on the win rate.

    Draws are reported separately but count as non-wins in `win_rate` and the interval (conservative:
    a draw is not evidence of being stronger); with komi x.5 they cannot happen anyway.
    """

    games: int
    wins: int
    losses: int
    draws: int
    win_rate: float
    ci_low: float
    ci_high: float
    sgf_paths: list[Path] = field(default_factory=list)
    results: list[GameResult] = field(default_factory=list)
    player: str = ""
    opponent: str = ""
    aborted: int = 0  # games the opponent did not finish (it crashed or hung); not counted above


def _winner_of(result: str) -> int | None:
    text = result.strip().upper()
    if text.startswith("B+"):
        return BLACK
    if text.startswith("W+"):
        return WHITE
    if text in ("0", "DRAW", "JIGO") or text.startswith("0"):
        return 0
    return None


def _color_word(color: int) -> str:
    return "b" if color == BLACK else "w"


def _write_sgf(path: Path, board_size: int, komi: float, result: GameResult, moves, names: dict, comment: str,
               rules: str = "") -> None:
    """Record the game with sgf.py's writer (imported here: only matches that save games need it)."""
    from convsuite.suites.go.sgf import GameRecord, record_to_sgf

    record = GameRecord(
        size=board_size,
        komi=komi,
        result=result.result,
        winner=result.winner,
        setup_black=[],
        setup_white=[],
        first_player=BLACK,
        moves=list(moves),
        handicap=0,
        players=dict(names),
        name=f"game {result.index}",
        properties={},
    )
    extra = {"DT": datetime.date.today().isoformat(), "AP": f"convsuite:{_default_version()}"}
    if comment:
        extra["C"] = comment
    if rules:
        extra["RU"] = rules
    path.write_text(record_to_sgf(record, **extra), encoding="utf-8")


def _play_one_game(
    index: int,
    player: Player,
    client: GtpClient,
    our_color: int,
    board_size: int,
    komi: float,
    max_moves: int,
    use_final_score: bool,
    rules: str = "chinese",
    send_rules: bool = False,
) -> tuple[GameResult, list[tuple[int, int]]]:
    """Play one game to its end; rule or protocol trouble from either side becomes a forfeit, not a crash."""
    client.send(f"boardsize {board_size}")
    client.send(f"komi {komi:g}")
    client.send("clear_board")
    if send_rules:
        try:
            client.send(f"kgs-rules {rules}")  # an opponent that knows the command plays by the same rules
        except GtpError as exc:
            if exc.response is None:
                raise  # refused: it plays by its own rules, and our board still referees by ours
    board = Board(board_size, komi, superko=superko_for(rules))
    moves: list[tuple[int, int]] = []
    to_move, passes = BLACK, 0

    def finish(result: str, winner: int, reason: str, source: str = "") -> tuple[GameResult, list]:
        game = GameResult(index, our_color, result, winner, reason, len(moves), source, board.result())
        return game, moves

    def forfeit(loser: int, reason: str) -> tuple[GameResult, list]:
        winner = -loser
        return finish(f"{'B' if winner == BLACK else 'W'}+F", winner, reason)

    def resigned_or_illegal(move: int, illegal: str) -> tuple[GameResult, list] | None:
        """The game's end if ``move`` resigns or breaks our rules (``illegal`` names the mover)."""
        if move == RESIGN:
            winner = -to_move
            return finish(f"{'B' if winner == BLACK else 'W'}+R", winner, "resignation")
        reason = None if move == PASS else board.illegal_reason(move, to_move)
        return None if reason is None else forfeit(to_move, f"{illegal} ({reason})")

    while len(moves) < max_moves:
        word = "black" if to_move == BLACK else "white"
        if to_move == our_color:
            try:
                move = choose_move(player, board, to_move)  # as our GTP engine would answer genmove
            except Exception as exc:  # a failing player loses the game; the match goes on
                return forfeit(to_move, f"our player failed: {type(exc).__name__}: {exc}")
            ended = resigned_or_illegal(move, f"our player chose the illegal move {to_gtp(move, board_size)}")
            if ended is not None:
                return ended
            try:
                client.send(f"play {_color_word(to_move)} {to_gtp(move, board_size)}")
            except GtpError as exc:
                if exc.response is None:
                    raise
                # Legal under the match rules, yet the opponent's rules or board disagree: the game cannot go
                # on. As for every refused move, its mover loses (so a refusal never inflates our rate).
                return forfeit(
                    our_color,
                    f"the opponent refused our move {to_gtp(move, board_size)} ({exc.response}); counted as our loss",
                )
        else:
            try:
                answer = client.send(f"genmove {_color_word(to_move)}").strip()
            except GtpError as exc:
                if exc.response is None:
                    raise
                return forfeit(to_move, f"the opponent refused genmove {word}: {exc.response}")
            try:
                move = from_gtp(answer, board_size)
            except ConvsuiteError:
                return forfeit(to_move, f"the opponent answered genmove with {answer!r}, not a vertex")
            ended = resigned_or_illegal(move, f"the opponent played {answer}, illegal on our board")
            if ended is not None:
                return ended
        board.play(move, to_move)
        moves.append((to_move, move))
        passes = passes + 1 if move == PASS else 0
        to_move = -to_move
        if passes >= 2:
            break
    ended = "two passes" if passes >= 2 else "max moves"
    if use_final_score:
        try:
            text = client.send("final_score").strip()
        except GtpError as exc:
            if exc.response is None:
                raise
            text = ""
        winner = _winner_of(text) if text else None
        if winner is not None:
            return finish(text if winner != 0 else "0", winner, ended, "opponent final_score")
    own = board.result()
    return finish(own, _winner_of(own), ended, "tromp-taylor")


def play_match(
    player: Player,
    opponent_command: str,
    games: int,
    board_size: int = 19,
    komi: float = 7.5,
    out_dir: Path | str | None = None,
    max_moves: int | None = None,
    seed: int = 0,
    progress: bool = True,
    timeout: float = 60,
    rules: str = "chinese",
) -> MatchResult:
    """Play `games` games against an external GTP engine, colours alternating (game 0: we are Black).

    Results are counted by the opponent's `final_score` when it has one (GNU Go removes dead stones,
    which Tromp-Taylor on an unfinished board would not), else by our board's Tromp-Taylor area.
    `seed` (plus the game index) goes to the opponent's `set_random_seed` when it has one, so a match is
    reproducible; our player's randomness is its own. Each game is saved as out_dir/game_000.sgf, ...
    when out_dir is given. An opponent that dies or stops answering mid-game voids that game (counted in
    `aborted`, not in the results) and a fresh opponent plays on; three such games in a row raise GtpError.
    Anything else (illegal or unparseable moves, refused commands) forfeits that game and the match goes on.
    `rules` (a `gtp.RULESETS` name) hold for both sides: the default, Chinese (positional superko), is what
    the default opponent, `gnugo --chinese-rules`, plays; an opponent that knows `kgs-rules` is told them.
    """
    rules = _rules_name(rules)
    if games < 1:
        raise ConvsuiteError(f"play_match needs games >= 1, got {games}.")
    if not MIN_SIZE <= board_size <= MAX_SIZE:
        raise ConvsuiteError(f"board_size {board_size} is outside {MIN_SIZE}..{MAX_SIZE}; pick a size in that range.")
    if max_moves is None:
        max_moves = 2 * board_size * board_size + 50  # random-ish games end well before; a hard stop only
    if max_moves < 1:
        raise ConvsuiteError(f"play_match needs max_moves >= 1, got {max_moves}.")
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    from convsuite.common.progress import counter_bar

    our_name = getattr(player, "name", type(player).__name__)
    results: list[GameResult] = []
    paths: list[Path] = []
    client = GtpClient(opponent_command, timeout=timeout)
    aborted, crashes_in_a_row = 0, 0
    try:
        try:
            opp_name = f"{client.send('name')} {client.send('version')}".strip()
        except GtpError as exc:
            if exc.response is None:
                raise
            opp_name = client.program
        use_final_score = client.known("final_score")
        has_seed = client.known("set_random_seed")
        send_rules = client.known("kgs-rules")
        bar = counter_bar(total=games, desc=f"{our_name} vs {opp_name}", enabled=progress)
        try:
            for index in range(games):
                our_color = BLACK if index % 2 == 0 else WHITE
                try:
                    if has_seed:
                        client.send(f"set_random_seed {seed + index}")
                    game, moves = _play_one_game(
                        index, player, client, our_color, board_size, komi, max_moves, use_final_score, rules,
                        send_rules,
                    )
                except GtpError as exc:
                    if exc.response is not None:
                        raise
                    # The opponent died or hung mid-game (GNU Go 3.8 segfaults now and then on 19x19):
                    # the game has no result, so it is left out of the count; a fresh opponent plays on.
                    aborted += 1
                    crashes_in_a_row += 1
                    print(f"game {index} aborted, not counted: {exc}", file=sys.stderr)
                    if crashes_in_a_row >= 3:
                        raise GtpError(f"the opponent failed in 3 games in a row (last: {exc}); giving up",
                                       exc.command) from exc
                    client.close()
                    client = GtpClient(opponent_command, timeout=timeout)
                    bar.update(1)
                    continue
                crashes_in_a_row = 0
                if out is not None:
                    path = out / f"game_{index:03d}.sgf"
                    names = {our_color: our_name, -our_color: opp_name}
                    comment = f"{game.reason}; scored by {game.score_source}" if game.score_source else game.reason
                    _write_sgf(path, board_size, komi, game, moves, {"PB": names[BLACK], "PW": names[WHITE]}, comment,
                               rules)
                    game.sgf_path = str(path)
                    paths.append(path)
                results.append(game)
                wins = sum(g.won for g in results)
                bar.update(1)
                bar.set_postfix(wins=wins, losses=len(results) - wins - sum(g.drawn for g in results))
        finally:
            bar.close()
    finally:
        client.close()
    if not results:
        raise GtpError(f"no game of the match finished ({aborted} aborted by the opponent)")
    wins = sum(g.won for g in results)
    draws = sum(g.drawn for g in results)
    losses = len(results) - wins - draws
    low, high = wilson_interval(wins, len(results))
    return MatchResult(
        games=len(results),
        wins=wins,
        losses=losses,
        draws=draws,
        win_rate=wins / len(results),
        ci_low=low,
        ci_high=high,
        sgf_paths=paths,
        results=results,
        player=our_name,
        opponent=opp_name,
        aborted=aborted,
    )
