"""`convsuite go ...`: play a trained policy over GTP, or a match against another GTP engine."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from convsuite.common.errors import ConvsuiteError

HELP = "play Go with a trained policy: a GTP engine for GoGui/Sabaki, or a match against GNU Go"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="go_command", required=True, metavar="{gtp,match}")

    gtp = commands.add_parser(
        "gtp", help="speak GTP v2 on stdin/stdout (point GoGui, Sabaki or gogui-twogtp at this command)",
        description="A GTP v2 engine around a trained policy net. Example for a controller: "
                    "convsuite go gtp --checkpoint runs/maddison-gnugo9")
    _add_player_arguments(gtp)
    gtp.add_argument("--komi", type=float, default=7.5, help="starting komi (controllers usually send their own)")

    match = commands.add_parser(
        "match", help="play N games against a GTP engine, alternating colours; SGFs and a win rate with a 95%% CI",
        description="Play a trained policy against another GTP engine. Every game is saved as SGF; the result "
                    "line gives wins, losses and a Wilson 95% interval on the win rate.")
    _add_player_arguments(match)
    match.add_argument("--opponent", default="gnugo --mode gtp --level 10 --chinese-rules",
                       help="the opponent's command line (default: %(default)r: area scoring, as komi 7.5 assumes; "
                            "gnugo is found in /usr/games too)")
    match.add_argument("--games", type=int, default=10, help="games to play (default: %(default)s)")
    match.add_argument("--komi", type=float, default=7.5, help="komi (default: %(default)s)")
    match.add_argument("--out", metavar="DIR", default="",
                       help="folder for the SGF games (default: <checkpoint>/match-<opponent>)")
    match.add_argument("--max-moves", type=int, default=0, help="stop a game after this many moves (0: 2*points+50)")
    match.add_argument("--json", action="store_true", help="print the result as one JSON line")


def _add_player_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, metavar="DIR",
                        help="policy run directory written by `convsuite train go`")
    parser.add_argument("--which", choices=("model", "best"), default="model",
                        help="model: final weights (default); best: the best-validation export")
    parser.add_argument("--temperature", type=float, default=0.0,
                        help="0 plays the most likely legal move (default); >0 samples from p^(1/T)")
    parser.add_argument("--value", metavar="DIR", default="",
                        help="a value-net run directory: adds a one-ply lookahead over the policy's top moves")
    parser.add_argument("--lookahead", type=int, default=8,
                        help="with --value: how many of the policy's top moves to look at (default: %(default)s)")
    parser.add_argument("--value-weight", type=float, default=2.0,
                        help="with --value: a move's score is log p(move) - weight * value(opponent to move) "
                             "(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed for sampling and the opponent (default: 0)")
    parser.add_argument("--backend", choices=("tensorflow", "jax"), help="Keras backend (default: $KERAS_BACKEND)")


def run(args) -> int:
    from convsuite.common.cli import start_keras

    start_keras(args.backend or os.environ.get("KERAS_BACKEND", "tensorflow"))
    from convsuite.suites.go.player import PolicyPlayer

    player = PolicyPlayer.from_run(args.checkpoint, args.which, value_run=args.value or None,
                                   lookahead=args.lookahead, value_weight=args.value_weight,
                                   temperature=args.temperature, seed=args.seed)
    if args.go_command == "gtp":
        from convsuite.suites.go.gtp import GtpEngine

        engine = GtpEngine(player, name="convsuite", komi=args.komi, fixed_size=player.board_size)
        engine.run(sys.stdin, sys.stdout)
        return 0
    from convsuite.suites.go.match import play_match

    if args.games < 1:
        raise ConvsuiteError(f"--games must be >= 1, got {args.games}")
    opponent_tag = "-".join(w for w in args.opponent.split() if not w.startswith("-"))[:40].replace("/", "_")
    out = Path(args.out) if args.out else Path(args.checkpoint) / f"match-{opponent_tag}"
    result = play_match(player, args.opponent, args.games, board_size=player.board_size, komi=args.komi,
                        out_dir=out, max_moves=args.max_moves or None, seed=args.seed, progress=True)
    summary = {"player": player.name, "opponent": args.opponent, "games": result.games, "wins": result.wins,
               "losses": result.losses, "draws": result.draws, "aborted": result.aborted,
               "win_rate": round(result.win_rate, 4),
               "ci95": [round(result.ci_low, 4), round(result.ci_high, 4)], "sgf_dir": str(out)}
    if args.json:
        print(json.dumps(summary), flush=True)
    else:
        aborted = f" ({result.aborted} aborted by the opponent, not counted)" if result.aborted else ""
        print(f"{player.name} vs {args.opponent}: {result.wins} wins, {result.losses} losses, {result.draws} draws "
              f"in {result.games} games{aborted}; win rate {result.win_rate:.3f} (95% CI {result.ci_low:.3f}-"
              f"{result.ci_high:.3f}); games in {out}")
    return 0
