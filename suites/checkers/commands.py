"""`convsuite checkers ...`: play an evolved network in the terminal, matches between players,
and an Elo ladder of a run's champions. Imports no Keras: the networks run in NumPy."""

from __future__ import annotations

import argparse
import datetime
import json
import sys

from convsuite.common.errors import ConvsuiteError

HELP = "play checkers against an evolved network in the terminal, matches between players, an Elo ladder of a run"

PLAYER_HELP = ("piece-count, random, mcts, mcts:SIMULATIONS, a run directory of `convsuite train checkers` (its last "
               "champion) or RUN@GEN (the champion of generation GEN)")
DEFAULT_LADDER_SIZE = 6

GAME_HELP = """Commands:
  11-15, 15x24x31   play a move in PDN (the short 15x31 works when only one jump sequence joins them)
  moves             list your legal moves
  undo              take back your last move and the engine's reply
  fen               print the position as PDN FEN
  save FILE.pdn     save the game so far as PDN
  help              this list
  quit              end the game"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="checkers_command", required=True, metavar="{play,match,ladder}")

    play = commands.add_parser(
        "play", help="play against an evolved network (or another player) in the terminal, moves typed in PDN",
        description="A game in the terminal: the board is drawn after every move, you type moves in PDN "
                    "(11-15, 15x24); undo, save FILE.pdn, fen, moves, help and quit work at the prompt. "
                    "Reads standard input line by line, so a game can be piped in.")
    play.add_argument("--checkpoint", metavar="RUN", default="",
                      help="run directory written by `convsuite train checkers`: you play its champion")
    play.add_argument("--generation", type=int, default=None,
                      help="play the champion of this generation (default: the last one)")
    play.add_argument("--depth", type=int, default=4, help="the engine's search depth in plies (default: %(default)s)")
    play.add_argument("--colour", "--color", choices=("black", "white"), default="black",
                      help="your colour; Black moves first (default: %(default)s)")
    play.add_argument("--opponent", metavar="SPEC", default="",
                      help=f"play this player instead of the checkpoint's network: {PLAYER_HELP}")
    play.add_argument("--move-limit", type=int, default=0,
                      help="a draw after this many moves by each side (default: 0 = no limit; threefold "
                           "repetition always draws)")
    play.add_argument("--seed", type=int, default=0, help="seed of the engine's choice among equal moves "
                                                          "(default: %(default)s)")

    match = commands.add_parser(
        "match", help="a match between two players: each opening with both colours, score, 95%% CI and Elo",
        description="Play two checkers players against each other. Each opening (the ACF three-move ballots when "
                    "given, else random 2-ply openings) is played twice with colours swapped; the result line "
                    "gives wins, draws and losses of the first player, its score with a 95% interval and the "
                    "Elo difference.")
    match.add_argument("--checkpoint", metavar="RUN|SPEC", required=True,
                       help=f"the first player, whose score is reported: {PLAYER_HELP}")
    match.add_argument("--opponent", metavar="SPEC", default="piece-count",
                       help=f"the second player (default: %(default)s): {PLAYER_HELP}")
    _add_match_arguments(match, games=100, games_help="games to play, even (default: %(default)s)")
    match.add_argument("--ballots", metavar="FILE", default="",
                       help="openings from this ballot file, one per line such as '9-13 21-17 5-9' (default: "
                            "data/checkers/three-move-ballots.txt when it exists, else random 2-ply openings)")
    match.add_argument("--pdn", metavar="FILE", default="", help="save every game of the match to this PDN file")
    match.add_argument("--json", action="store_true", help="print the result as one JSON line")

    ladder = commands.add_parser(
        "ladder", help="Elo ratings of a run's champions from a round robin between generations",
        description="Play every two of the chosen generations' champions against each other and rate them by "
                    "Bradley-Terry maximum likelihood (draws half a win each); the first generation is rated 0.")
    ladder.add_argument("--checkpoint", metavar="RUN", required=True,
                        help="run directory written by `convsuite train checkers`")
    ladder.add_argument("--generations", metavar="G,G,...", default="",
                        help=f"comma-separated generations (default: up to {DEFAULT_LADDER_SIZE} evenly spaced "
                             "from the first to the last)")
    _add_match_arguments(ladder, games=10, games_help="games between every two generations, even "
                                                      "(default: %(default)s)")
    ladder.add_argument("--json", action="store_true", help="print the ratings as one JSON line")


def _add_match_arguments(parser: argparse.ArgumentParser, games: int, games_help: str) -> None:
    parser.add_argument("--games", type=int, default=games, help=games_help)
    parser.add_argument("--depth", type=int, default=4,
                        help="search depth in plies of network and piece-count players (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the openings and the players (default: %(default)s)")
    parser.add_argument("--move-limit", type=int, default=100,
                        help="a game is a draw after this many moves by each side (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=1,
                        help="games played at once (default: 1, inline; 0 = every core)")
    parser.add_argument("--cluster", default="",
                        help="run the games on Ray: 'local', 'auto' or HOST:PORT (default: local processes)")


def run(args) -> int:
    if args.checkers_command == "play":
        return play(args)
    if args.checkers_command == "match":
        return match(args)
    return ladder(args)


# --------------------------------------------------------------------------- match and ladder


def match(args) -> int:
    from convsuite.suites.checkers.match import play_match
    from convsuite.suites.checkers.players import parse_player

    player = parse_player(args.checkpoint, depth=args.depth)
    opponent = parse_player(args.opponent, depth=args.depth)
    result = play_match(player, opponent, games=args.games, seed=args.seed, move_limit=args.move_limit,
                        ballots_path=args.ballots, workers=args.workers, cluster=args.cluster,
                        progress=not args.json, pdn_path=args.pdn or None)
    if args.json:
        print(json.dumps(result.to_dict()), flush=True)
    else:
        saved = f"; games in {result.pdn_path}" if result.pdn_path else ""
        print(result.summary() + saved, flush=True)
    return 0


def ladder_generations(run_dir, text: str = "", count: int = DEFAULT_LADDER_SIZE) -> list[int]:
    """The generations a ladder rates: those of ``text`` ("0,5,10"), each checked against the run,
    else up to ``count`` evenly spaced from the first recorded to the last."""
    import numpy as np

    from convsuite.suites.checkers.champions import champion_generations

    recorded = champion_generations(run_dir)
    if text.strip():
        try:
            chosen = [int(word) for word in text.split(",") if word.strip()]
        except ValueError:
            raise ConvsuiteError(f"--generations {text!r} must be whole numbers separated by commas, "
                                 "like 0,5,10") from None
        missing = [g for g in chosen if g not in recorded]
        if missing:
            raise ConvsuiteError(f"{str(run_dir)!r} has no champion of generation {', '.join(map(str, missing))}; "
                                 f"it has generations {recorded[0]}-{recorded[-1]}")
        return chosen
    picks = np.unique(np.round(np.linspace(0, len(recorded) - 1, min(count, len(recorded)))).astype(int))
    return [recorded[i] for i in picks]


def ladder(args) -> int:
    from convsuite.suites.checkers.match import elo_ladder_for

    generations = ladder_generations(args.checkpoint, args.generations)
    if len(generations) < 2:
        raise ConvsuiteError(f"{args.checkpoint!r} has champions of {len(generations)} generation(s) only; a "
                             "ladder needs two or more (train longer, or pick generations with --generations)")
    result = elo_ladder_for(args.checkpoint, generations, games_per_pair=args.games, depth=args.depth,
                            seed=args.seed, workers=args.workers, cluster=args.cluster,
                            move_limit=args.move_limit, progress=not args.json)
    if args.json:
        print(json.dumps(result.to_dict()), flush=True)
    else:
        for generation, rating in zip(result.generations, result.ratings):
            print(f"generation {generation:>5}: Elo {rating:+7.0f}", flush=True)
    return 0


# --------------------------------------------------------------------------- the terminal game


class _Undo(Exception):
    pass


class _Quit(Exception):
    pass


class TerminalGame:
    """A person against an engine on standard input and output (the `play` command)."""

    def __init__(self, engine, human_colour: int, move_limit: int = 0, input=None, output=None):
        from convsuite.suites.checkers.board import Game
        from convsuite.suites.checkers.players import HumanPlayer

        self.engine = engine
        self.human_colour = human_colour
        self.input = input if input is not None else sys.stdin
        self.output = output if output is not None else sys.stdout
        self.game = Game(move_limit=move_limit, repetition_draw=True)
        self.human = HumanPlayer(input=self.input, output=self.output, on_command=self.command)
        self.drawn_by_engine = ""  # why the engine could not go on (open_spiel's own draw rule), if it could not

    def say(self, text: str) -> None:
        print(text, file=self.output, flush=True)

    def names(self) -> tuple[str, str]:
        return (self.human.name, self.engine.name) if self.human_colour == 0 else (self.engine.name, self.human.name)

    def show(self) -> None:
        from convsuite.suites.checkers.board import COLOUR_NAMES

        self.say("")
        self.say(self.game.position.diagram())
        if self.game.is_over() or self.drawn_by_engine:
            result, reason = ((self.game.result_text(), self.game.end_reason()) if self.game.is_over()
                              else ("1/2-1/2", self.drawn_by_engine))
            self.say(f"game over: {result} ({reason}); type undo, save FILE.pdn or quit")
        else:
            self.say(f"{COLOUR_NAMES[self.game.turn]} to move")

    def command(self, word: str, rest: str, game) -> bool:
        """The prompt's words other than moves; True when handled."""
        if word in ("quit", "exit", "q"):
            raise _Quit
        if word == "undo":
            raise _Undo
        if word == "help":
            self.say(GAME_HELP)
        elif word == "moves":
            legal = game.legal_moves()
            self.say("legal moves: " + (", ".join(map(str, legal)) or "none (the game is over)"))
        elif word == "fen":
            self.say(game.position.to_fen())
        elif word == "save":
            self.save(rest)
        else:
            return False
        return True

    def save(self, path: str) -> None:
        from convsuite.suites.checkers import pdn

        if not path:
            self.say("save needs a file name: save FILE.pdn")
            return
        black, white = self.names()
        tags = {"Event": "convsuite checkers play", "Date": datetime.date.today().strftime("%Y.%m.%d"),
                "Black": black, "White": white,
                "Result": "1/2-1/2" if self.drawn_by_engine else self.game.result_text()}
        try:
            pdn.write_pdn(self.game, path=path, tags=tags)
        except OSError as error:
            self.say(f"cannot write {path!r}: {error.strerror or error}")
            return
        self.say(f"saved {self.game.plies} moves to {path}")

    def undo(self) -> None:
        """Back to the last position before this one where it was the person's turn."""
        positions = self.game.positions
        earlier = [ply for ply in range(self.game.plies) if positions[ply].turn == self.human_colour]
        if not earlier:
            self.say("nothing to undo: you have not moved yet")
            return
        taken = self.game.plies - earlier[-1]
        self.game.undo(taken)
        self.drawn_by_engine = ""
        self.say(f"took back {taken} move{'s' if taken != 1 else ''}")

    def _finished_prompt(self) -> None:
        """After the game: only commands (undo, save, fen, quit) until quit or end of input."""
        from convsuite.suites.checkers.players import read_line

        while True:
            text = read_line(self.input, self.output, "> ")
            word, _, rest = text.partition(" ")
            if not self.command(word.lower(), rest.strip(), self.game):
                result = "1/2-1/2" if self.drawn_by_engine else self.game.result_text()
                self.say(f"the game is over ({result}); type undo, save FILE.pdn or quit")

    def play(self) -> int:
        from convsuite.suites.checkers.board import COLOUR_NAMES
        from convsuite.suites.checkers.players import DrawClaim

        colour = COLOUR_NAMES[self.human_colour]
        direction = "toward higher squares" if self.human_colour == 0 else "toward lower squares"
        self.say(f"You play {colour} ({direction}) against {self.engine.name}. Type moves like 11-15 or 15x24; "
                 "'help' lists the commands.")
        self.show()
        try:
            while True:
                try:
                    if self.game.is_over() or self.drawn_by_engine:
                        self._finished_prompt()
                    elif self.game.turn == self.human_colour:
                        self.game.play(self.human.choose(self.game))
                    else:
                        try:
                            move = self.engine.choose(self.game)
                        except DrawClaim as claim:
                            self.drawn_by_engine = str(claim)
                        else:
                            self.game.play(move)
                            self.say(f"{self.engine.name} plays {move}")
                    self.show()
                except _Undo:
                    self.undo()
                    self.show()
        except _Quit:
            self.say("bye")
        except EOFError:
            self.say("")
            self.say("end of input; bye")
        finally:
            self.engine.close()
        return 0


def play(args) -> int:
    from convsuite.suites.checkers.players import PlayerSpec, make_player, parse_player

    if args.opponent and args.checkpoint:
        raise ConvsuiteError("give --checkpoint RUN (play its network) or --opponent SPEC (play that player), "
                             "not both")
    if args.opponent:
        spec = parse_player(args.opponent, depth=args.depth)
    elif args.checkpoint:
        spec = parse_player(args.checkpoint, depth=args.depth)
        if spec.kind != "network":
            raise ConvsuiteError(f"--checkpoint {args.checkpoint!r} must be a run directory written by "
                                 "`convsuite train checkers`; use --opponent for piece-count, random or mcts")
        if args.generation is not None:
            spec = PlayerSpec("network", depth=args.depth, run_dir=spec.run_dir, generation=args.generation)
    else:
        raise ConvsuiteError("give --checkpoint RUN (a run directory written by `convsuite train checkers`) or "
                             "--opponent SPEC (piece-count, random, mcts) to play against")
    engine = make_player(spec.resolved(), seed=args.seed)
    human_colour = 0 if args.colour == "black" else 1
    return TerminalGame(engine, human_colour, move_limit=args.move_limit).play()
