"""Go: a rules engine (captures, suicide, simple ko, positional superko, Tromp-Taylor area
scoring), an SGF FF[4] reader/writer that streams folders and archives, Clark & Storkey 2014
and Maddison et al. 2015 feature planes with the 8 board symmetries, their policy nets and an
AlphaGo-style value net, supervised training on game-level splits, and play over GTP v2
(`convsuite go gtp`) or in matches against GNU Go (`convsuite go match`).

Public names load lazily, so reading a config (``convsuite.suites.go.config``) does not start
Keras: the CLI picks the backend first.
"""

from convsuite.common.lazy import suite_exports

_EXPORTS = {
    # rules
    "Board": "board",
    "IllegalMove": "board",
    "BLACK": "board",
    "WHITE": "board",
    "EMPTY": "board",
    "PASS": "board",
    "RESIGN": "board",
    "from_gtp": "board",
    "to_gtp": "board",
    "from_sgf": "board",
    "to_sgf": "board",
    # SGF
    "parse_sgf": "sgf",
    "serialize_sgf": "sgf",
    "read_game": "sgf",
    "record_to_sgf": "sgf",
    "replay": "sgf",
    "iter_games": "sgf",
    "iter_sgf_texts": "sgf",
    "GameRecord": "sgf",
    "SgfError": "sgf",
    "SkipLog": "sgf",
    # features
    "board_planes": "features",
    "boards_planes": "features",
    "batch_planes": "features",
    "PositionBatch": "features",
    "model_inputs": "features",
    "pack_planes": "features",
    "plane_names": "features",
    "FEATURE_SETS": "features",
    "symmetry_permutations": "features",
    "transform_planes": "features",
    "augment_batch": "features",
    # models
    "clark_storkey_net": "models",
    "maddison_net": "models",
    "value_net": "models",
    "RandomSymmetry": "models",
    "UndoSymmetry": "models",
    "PositionBias": "models",
    "UnpackPlanes": "models",
    # data
    "Positions": "data",
    "extract_positions": "data",
    "game_positions": "data",
    "generate_selfplay": "data",
    "load_games": "data",
    "play_gnugo_game": "data",
    # play
    "PolicyPlayer": "player",
    "SearchPlayer": "player",
    "TreeSearch": "search",
    "SearchSettings": "search",
    "NetEvaluator": "search",
    "UniformEvaluator": "search",
    "RandomPlayer": "gtp",
    "GtpEngine": "gtp",
    "GtpClient": "gtp_client",
    "GtpError": "gtp_client",
    "play_match": "match",
    "wilson_interval": "match",
    "MatchResult": "match",
    "draw_board": "plot",
    "GoExperiment": "config",
    "GoModelConfig": "config",
    "GoDataConfig": "config",
}

suite_exports(__name__, _EXPORTS, globals())
