"""`convsuite go ...`: play a trained policy over GTP, or a match against another GTP engine; with
--playouts, the policy guides an AlphaGo-style tree search (``search.py``) instead of playing alone."""

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
        description="A GTP v2 engine around a trained policy net (with --playouts: a tree search guided by it). "
                    "Example for a controller: convsuite go gtp --checkpoint runs/maddison-gnugo9 --playouts 200")
    _add_player_arguments(gtp)
    gtp.add_argument("--komi", type=float, default=7.5, help="starting komi (controllers usually send their own)")

    match = commands.add_parser(
        "match", help="play N games against a GTP engine, alternating colours; SGFs and a win rate with a 95%% CI",
        description="Play a trained policy against another GTP engine. Every game is saved as SGF; the result "
                    "line gives wins, losses and a Wilson 95% interval on the win rate.")
    _add_player_arguments(match)
    match.add_argument("--opponent", default="gnugo --mode gtp --level 10 --chinese-rules --positional-superko",
                       help="the opponent's command line (default: %(default)r: area scoring, as komi 7.5 assumes; "
                            "gnugo is found in /usr/games too)")
    match.add_argument("--rules", default="chinese", choices=("chinese", "aga", "new_zealand", "japanese", "korean"),
                       help="one ruleset for both sides (default: %(default)s: positional superko, which the default "
                            "opponent is started with too); japanese/korean: simple ko only. A move that breaks it, "
                            "or that the other engine refuses, loses the game for whoever played it")
    match.add_argument("--games", type=int, default=10, help="games to play (default: %(default)s)")
    match.add_argument("--komi", type=float, default=7.5, help="komi (default: %(default)s)")
    match.add_argument("--out", metavar="DIR", default="",
                       help="folder for the SGF games (default: <checkpoint>/match-<opponent>)")
    match.add_argument("--max-moves", type=int, default=0, help="stop a game after this many moves (0: 2*points+50)")
    match.add_argument("--board-size", type=int, default=0,
                       help="board size of the games (default: the one the net was trained on; a maddison net "
                            "plays other sizes too, rebuilt with its position biases at zero)")
    match.add_argument("--json", action="store_true", help="print the result as one JSON line")


def _add_player_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, metavar="DIR",
                        help="policy run directory written by `convsuite train go`")
    parser.add_argument("--which", choices=("model", "best"), default="model",
                        help="model: final weights (default); best: the best-validation export")
    parser.add_argument("--temperature", type=float, default=0.0,
                        help="0 plays the most likely legal move (default); >0 samples from p^(1/T)")
    parser.add_argument("--value", metavar="DIR", default="",
                        help="a value-net run directory: with --playouts, it values the search's leaves; without, "
                             "it adds a one-ply lookahead over the policy's top moves")
    parser.add_argument("--lookahead", type=int, default=8,
                        help="with --value: how many of the policy's top moves to look at (default: %(default)s)")
    parser.add_argument("--value-weight", type=float, default=2.0,
                        help="with --value: a move's score is log p(move) - weight * value(opponent to move) "
                             "(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed for sampling and the opponent (default: 0)")
    search = parser.add_argument_group(
        "tree search", "PUCT search with the policy as prior (Silver et al. 2016); on when --playouts > 0")
    search.add_argument("--playouts", type=int, default=0,
                        help="simulations per move; 0 plays the raw policy (default: %(default)s; ~200 makes a 9x9 "
                             "move in well under a second on CPU)")
    search.add_argument("--time-per-move", type=float, default=None, metavar="S",
                        help="stop each move's search after S seconds, or at --playouts, whichever comes first; "
                             "a GTP clock (time_settings / time_left) can shorten it further (default: no limit)")
    search.add_argument("--c-puct", type=float, default=None,
                        help="weight of the prior in the search's exploration term c*P*sqrt(N)/(1+n); larger "
                             "explores more (default: 1.5)")
    search.add_argument("--search-batch", type=int, default=None, metavar="N",
                        help="leaves evaluated per network call, spread by virtual loss; larger is faster per "
                             "playout, a little less selective (default: 8)")
    search.add_argument("--rollouts", type=int, default=None, metavar="N",
                        help="fast random rollouts per leaf, scored Tromp-Taylor; mixed with --value by --mix, "
                             "used alone without it (default: 0; without --value and rollouts a leaf is worth 0)")
    search.add_argument("--mix", type=float, default=None,
                        help="with --value and --rollouts: the rollouts' share lambda of a leaf's value, "
                             "(1-lambda)*value + lambda*rollout (default: 0.5, as AlphaGo)")
    parser.add_argument("--backend", choices=("tensorflow", "jax"), help="Keras backend (default: $KERAS_BACKEND)")


def run(args) -> int:
    from convsuite.common.cli import start_keras

    search_flags = _check_search_arguments(args)
    if args.go_command == "match" and args.games < 1:
        raise ConvsuiteError(f"--games must be >= 1, got {args.games}")
    start_keras(args.backend or os.environ.get("KERAS_BACKEND", "tensorflow"))
    from convsuite.suites.go.player import PolicyPlayer, SearchPlayer

    if args.playouts > 0:
        player = SearchPlayer.from_run(args.checkpoint, args.which, value_run=args.value or None,
                                       temperature=args.temperature, seed=args.seed, **search_flags)
    else:
        player = PolicyPlayer.from_run(args.checkpoint, args.which, value_run=args.value or None,
                                       lookahead=args.lookahead, value_weight=args.value_weight,
                                       temperature=args.temperature, seed=args.seed)
    if args.go_command == "gtp":
        from convsuite.suites.go.gtp import GtpEngine

        engine = GtpEngine(player, name="convsuite", komi=args.komi, board_size=player.board_size)
        engine.run(sys.stdin, sys.stdout)
        return 0
    from convsuite.suites.go.match import play_match

    board_size = args.board_size or player.board_size
    if not player.can_play(board_size):
        raise ConvsuiteError(f"the net of {args.checkpoint} plays {player.board_size}x{player.board_size} only, not "
                             f"--board-size {board_size}; leave --board-size out or train a maddison net")
    opponent_tag = "-".join(w for w in args.opponent.split() if not w.startswith("-"))[:40].replace("/", "_")
    out = Path(args.out) if args.out else Path(args.checkpoint) / f"match-{opponent_tag}"
    result = play_match(player, args.opponent, args.games, board_size=board_size, komi=args.komi,
                        out_dir=out, max_moves=args.max_moves or None, seed=args.seed, progress=True,
                        rules=args.rules)
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


_SEARCH_DEFAULTS = {"c_puct": 1.5, "search_batch": 8, "rollouts": 0, "mix": 0.5}


def _check_search_arguments(args) -> dict:
    """The SearchPlayer keywords of the search flags; errors name the flag."""
    given = [f"--{name.replace('_', '-')}" for name in ("time_per_move", *_SEARCH_DEFAULTS)
             if getattr(args, name) is not None]
    if args.playouts < 0:
        raise ConvsuiteError(f"--playouts must be >= 0 (0 plays the raw policy), got {args.playouts}")
    if args.playouts == 0:
        if given:
            raise ConvsuiteError(f"{', '.join(given)} only apply to the tree search; add --playouts N (e.g. 200)")
        return {}
    flags = {name: (getattr(args, name) if getattr(args, name) is not None else default)
             for name, default in _SEARCH_DEFAULTS.items()}
    checks = [(args.time_per_move is None or args.time_per_move > 0, "--time-per-move", args.time_per_move, "> 0"),
              (flags["c_puct"] > 0, "--c-puct", flags["c_puct"], "> 0"),
              (flags["search_batch"] >= 1, "--search-batch", flags["search_batch"], ">= 1"),
              (flags["rollouts"] >= 0, "--rollouts", flags["rollouts"], ">= 0"),
              (0 <= flags["mix"] <= 1, "--mix", flags["mix"], "between 0 and 1")]
    for ok, flag, value, rule in checks:
        if not ok:
            raise ConvsuiteError(f"{flag} must be {rule}, got {value}")
    return {"playouts": args.playouts, "time_per_move": args.time_per_move, "c_puct": flags["c_puct"],
            "batch_size": flags["search_batch"], "rollouts": flags["rollouts"], "mix": flags["mix"]}
