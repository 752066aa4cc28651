"""Experiments of the Go suite: one per paper setting reproduced.

Imports no Keras, so the CLI can read a config and pick the backend before Keras starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from convsuite.common.config import DataConfig, Experiment, ModelConfig, TrainerConfig


@dataclass
class GoModelConfig(ModelConfig):
    name: str = "maddison"  # maddison | clark-storkey | value
    depth: int = 12  # maddison / value: convolutional layers in all
    filters: int = 128  # maddison / value: filters per layer (the paper tried 64-192)
    value_hidden: int = 256  # value: the dense layer before the tanh unit
    augment: bool = True  # a random board symmetry per training example
    batch_norm: bool = False  # neither paper used it


@dataclass
class GoDataConfig(DataConfig):
    # gnugo-selfplay | gnugo-regression | comma-separated SGF files, folders, .tar.gz/.zip archives
    source: str = "gnugo-selfplay"
    board_size: int = 9
    feature_set: str = "maddison"  # maddison | clark-storkey | alphago-value (features.FEATURE_SETS)
    komi: float = 7.5  # self-play games only; SGF games keep their KM
    games: int = 1000  # self-play games to generate
    gnugo_level: int = 1  # self-play strength (0-10; 10 is GNU Go's default)
    random_opening: int = 4  # random moves (3rd line and up) before GNU Go takes over; not used as targets
    workers: int = 2  # processes generating games / extracting positions at once (0 = all cores)
    shard_games: int = 200  # games per cached position shard (data/go/positions/)
    max_games: int = 0  # read at most this many games of a collection (0 = all)
    min_moves: int = 10  # skip shorter games
    test_fraction: float = 0.1  # of games, not positions
    validation_fraction: float = 0.1  # of games
    value_positions_per_game: int = 0  # > 0: sample this many training positions per game (value net)


@dataclass
class GoExperiment(Experiment):
    suite: str = "go"
    model: GoModelConfig = field(default_factory=GoModelConfig)
    data: GoDataConfig = field(default_factory=GoDataConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)


def _policy_trainer(epochs: int, batch_size: int = 128, learning_rate: float = 1e-3) -> TrainerConfig:
    return TrainerConfig(epochs=epochs, batch_size=batch_size, optimizer="adam", learning_rate=learning_rate,
                         lr_decay_per_epoch=0.9, monitor="val_accuracy")


def maddison_gnugo9() -> GoExperiment:
    """The suite's default job: a Maddison-style policy net on 9x9 GNU Go self-play games,
    generated on the spot (no download)."""
    exp = GoExperiment(name="maddison-gnugo9",
                       description="12-layer policy net (Maddison et al. 2015) on 9x9 GNU Go self-play")
    exp.model = GoModelConfig(name="maddison", depth=12, filters=64)
    exp.data = GoDataConfig(source="gnugo-selfplay", board_size=9, feature_set="maddison")
    exp.trainer = _policy_trainer(epochs=12)
    return exp


def clark_storkey_gnugo9() -> GoExperiment:
    exp = maddison_gnugo9()
    exp.name = "clark-storkey-gnugo9"
    exp.description = "Clark & Storkey 2014 policy net on 9x9 GNU Go self-play"
    exp.model = GoModelConfig(name="clark-storkey")
    exp.data.feature_set = "clark-storkey"
    # Without normalization the net sits near chance for ~3 epochs before it starts to learn
    # (measured on these 29k positions), so it gets more epochs than the 3x3 net.
    exp.trainer = _policy_trainer(epochs=20)
    exp.trainer.lr_decay_per_epoch = 0.95
    return exp


def value_gnugo9() -> GoExperiment:
    exp = maddison_gnugo9()
    exp.name = "value-gnugo9"
    exp.description = "AlphaGo-style value net on 9x9 GNU Go self-play results"
    exp.model = GoModelConfig(name="value", depth=8, filters=64)
    exp.data.feature_set = "alphago-value"
    exp.data.games = 2000
    exp.data.value_positions_per_game = 8
    exp.trainer = TrainerConfig(epochs=15, batch_size=128, learning_rate=5e-4, lr_decay_per_epoch=0.9,
                                monitor="val_loss")
    return exp


def maddison_regression19() -> GoExperiment:
    """19x19 move prediction on the ~700 full games of GNU Go's regression suite."""
    exp = GoExperiment(name="maddison-regression19",
                       description="12-layer policy net on GNU Go's 19x19 regression games (Debian source)")
    exp.model = GoModelConfig(name="maddison", depth=12, filters=64)
    exp.data = GoDataConfig(source="gnugo-regression", board_size=19, feature_set="maddison", min_moves=50)
    exp.trainer = _policy_trainer(epochs=6)
    return exp


def maddison_sgf() -> GoExperiment:
    """The paper's setting: 12 layers x 128 filters on a 19x19 SGF collection of strong
    players (set data.source to the collection: folders or .tar.gz/.zip archives)."""
    exp = GoExperiment(name="maddison-sgf", description="12-layer x 128 policy net (Maddison et al. 2015) on an SGF "
                                                        "collection (set data.source)")
    exp.model = GoModelConfig(name="maddison", depth=12, filters=128)
    exp.data = GoDataConfig(source="data/go/sgf", board_size=19, feature_set="maddison", min_moves=50,
                            test_fraction=0.05, validation_fraction=0.02)
    exp.trainer = _policy_trainer(epochs=4, batch_size=256)
    return exp


def clark_storkey_sgf() -> GoExperiment:
    exp = maddison_sgf()
    exp.name = "clark-storkey-sgf"
    exp.description = "Clark & Storkey 2014 policy net on an SGF collection (set data.source)"
    exp.model = GoModelConfig(name="clark-storkey")
    exp.data.feature_set = "clark-storkey"
    return exp


EXPERIMENTS = {
    "maddison-gnugo9": maddison_gnugo9,
    "clark-storkey-gnugo9": clark_storkey_gnugo9,
    "value-gnugo9": value_gnugo9,
    "maddison-regression19": maddison_regression19,
    "maddison-sgf": maddison_sgf,
    "clark-storkey-sgf": clark_storkey_sgf,
}
DEFAULT_EXPERIMENT = "maddison-gnugo9"
