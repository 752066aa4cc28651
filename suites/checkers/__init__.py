"""Checkers (English draughts): an exact bitboard rules engine with PDN FEN/moves/files, the
Blondie24 network of Chellapilla & Fogel 2001 (spatial preprocessing over the 91 sub-squares,
40 and 10 tanh units, 5046 weights), alpha-beta search with batched network leaves and a
transposition table, the paper's co-evolution on the shared worker pool, matches with
confidence intervals and an Elo ladder, and play in the terminal (`convsuite checkers play`).

Public names load lazily, so reading a config (``convsuite.suites.checkers.config``) does not
start Keras: the CLI picks the backend first.
"""

from convsuite.common.lazy import suite_exports

_EXPORTS = {
    # rules
    "Position": "board",
    "Move": "board",
    "Game": "board",
    "BLACK": "board",
    "WHITE": "board",
    "generate_moves": "board",
    "apply_move": "board",
    "perft": "board",
    "parse_fen": "board",
    "parse_move": "board",
    # PDN files
    "read_pdn": "pdn",
    "write_pdn": "pdn",
    "PdnGame": "pdn",
    # network and search
    "NetworkEvaluator": "network",
    "PieceCountEvaluator": "network",
    "board_codes": "network",
    "WEIGHT_COUNT": "network",
    "AlphaBetaSearch": "search",
    "SearchResult": "search",
    "blondie24_net": "models",
    "flat_weights": "models",
    "set_flat_weights": "models",
    # evolution
    "Population": "evolution",
    "initial_population": "evolution",
    "offspring": "evolution",
    "load_champion": "champions",
    # play
    "PlayerSpec": "players",
    "make_player": "players",
    "play_game": "match",
    "play_match": "match",
    "MatchResult": "match",
    "load_ballots": "openings",
    "random_openings": "openings",
    "CheckersExperiment": "config",
    "EvolutionConfig": "config",
}

suite_exports(__name__, _EXPORTS, globals())
