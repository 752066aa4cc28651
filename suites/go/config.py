"""Experiments of the Go suite: one per paper setting reproduced.

Imports no Keras, so the CLI can read a config and pick the backend before Keras starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from convsuite.common.config import DataConfig, Experiment, ModelConfig, TrainerConfig, setting, uses
from convsuite.common.errors import ConvsuiteError
from convsuite.common.reproduce import PaperResult

ARCHITECTURES = ("maddison", "clark-storkey", "value")
FEATURE_SETS = ("maddison", "clark-storkey", "alphago-value")  # the keys of features.FEATURE_SETS
DEEP_NETS = uses("model.name", "maddison", "value")  # the nets whose depth and width are settings
VALUE = uses("model.name", "value")


@dataclass
class GoModelConfig(ModelConfig):
    name: str = setting("maddison", "architecture: Maddison et al. 2015 policy net, Clark & Storkey 2014 policy "
                                    "net, AlphaGo-style value net", choices=ARCHITECTURES)
    depth: int = setting(12, "maddison / value: convolutional layers in all", at_least=2, used_by=DEEP_NETS)
    filters: int = setting(128, "maddison / value: filters per layer (the paper tried 64-192)", at_least=1,
                           used_by=DEEP_NETS)
    value_hidden: int = setting(256, "value: the dense layer before the tanh unit", at_least=1, used_by=VALUE)
    augment: bool = setting(True, "a random board symmetry per training example")
    batch_norm: bool = setting(False, "batch normalisation after each convolution (neither paper used it)")


@dataclass
class GoDataConfig(DataConfig):
    dataset: str = setting("", "unused by the Go suite: data.source names the games")
    source: str = setting("gnugo-selfplay", "gnugo-selfplay | gnugo-regression | comma-separated SGF files, "
                                            "folders, .tar.gz/.zip archives")
    board_size: int = setting(9, "board size (9..19 for real games)", at_least=2, at_most=25)
    feature_set: str = setting("maddison", "input feature planes (the value net needs alphago-value)",
                               choices=FEATURE_SETS)
    komi: float = setting(7.5, "self-play games only; SGF games keep their KM")
    games: int = setting(1000, "self-play games to generate", at_least=1)
    gnugo_level: int = setting(1, "self-play strength (0-10; 10 is GNU Go's default)", at_least=0, at_most=10)
    random_opening: int = setting(4, "random moves (3rd line and up) before GNU Go takes over; not used as targets",
                                  at_least=0)
    workers: int = setting(2, "processes generating games / extracting positions at once (0 = all cores)",
                           at_least=0)
    shard_games: int = setting(200, "games per cached position shard (data/go/positions/)", at_least=1)
    max_games: int = setting(0, "read at most this many games of a collection (0 = all)", at_least=0)
    min_moves: int = setting(10, "skip shorter games", at_least=0)
    test_fraction: float = setting(0.1, "share of the games (not positions) held out for testing", above=0, below=1)
    validation_fraction: float = setting(0.1, "share of the games held out for validation", at_least=0, below=1)
    value_positions_per_game: int = setting(0, "value net: > 0 samples this many training positions per game",
                                            at_least=0, used_by=VALUE)


@dataclass
class GoExperiment(Experiment):
    suite: str = setting("go", "the suite this experiment belongs to")
    model: GoModelConfig = field(default_factory=GoModelConfig, metadata={"help": "the architecture"})
    data: GoDataConfig = field(default_factory=GoDataConfig, metadata={"help": "the games and their splits"})

    def check_consistency(self) -> None:
        if self.model.name == "value" and self.data.feature_set != "alphago-value":
            raise ConvsuiteError("the value net needs data.feature_set=alphago-value (it must see who is to move), "
                                 f"got {self.data.feature_set!r}")


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


def maddison_sgf_gpu() -> GoExperiment:
    """The full-scale run on one GPU: the paper's 12 x 128 net on a 19x19 collection (the 21k
    Tygem 9-dan games of RESULTS.md: set data.source), positions extracted on every core, JAX
    with bfloat16 on the accelerator. Resumable: the position shards and the checkpoints (also
    every 2,000 steps) survive an interruption."""
    exp = maddison_sgf()
    exp.name = "maddison-sgf-gpu"
    exp.description = "12 x 128 policy net on an SGF collection, one GPU, JAX + bfloat16 (set data.source)"
    exp.data.workers = 0  # every core extracts positions
    exp.trainer = _policy_trainer(epochs=3, batch_size=512, learning_rate=1e-3)
    exp.trainer.lr_decay_per_epoch = 0.5
    exp.trainer.checkpoint_every_steps = 2000
    exp.trainer.progress = False  # one line per epoch in the log of an unattended run
    exp.runtime.backend = "jax"
    exp.runtime.precision = "mixed_bfloat16"
    return exp


def maddison_sgf_cpu() -> GoExperiment:
    """The CPU recipe: a 12 x 64 net (a quarter of the paper's multiply-adds) that checkpoints
    every 500 steps, so that a run stopped at any time resumes and keeps improving over hours
    (`convsuite train go --config maddison-sgf-cpu --set data.source=...` again)."""
    exp = maddison_sgf()
    exp.name = "maddison-sgf-cpu"
    exp.description = "12 x 64 policy net on an SGF collection, trained on a CPU over hours by resuming"
    exp.model.filters = 64
    exp.data.workers = 0
    exp.trainer = _policy_trainer(epochs=10, batch_size=64, learning_rate=1e-3)
    exp.trainer.checkpoint_every_steps = 500
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
    "maddison-sgf-gpu": maddison_sgf_gpu,
    "maddison-sgf-cpu": maddison_sgf_cpu,
    "clark-storkey-sgf": clark_storkey_sgf,
}
DEFAULT_EXPERIMENT = "maddison-gnugo9"

# The paper table of `convsuite reproduce go` (fields: convsuite.common.reproduce).

_UNIFORM = dict(metric="policy_top1", baseline_metric="baseline_uniform_legal_top1", baseline="uniform legal move")
_QUICK_SELFPLAY = ["data.games=60", "trainer.epochs=1"]
PAPER_RESULTS = [
    PaperResult(paper="Maddison et al. 2015", setting="12-layer policy net, 19x19 KGS games, test top-1",
                paper_value=0.55, experiment="maddison-sgf", **_UNIFORM, quick=None,
                note="set data.source to a KGS collection; the paper trained days on GPUs"),
    PaperResult(paper="Clark & Storkey 2014", setting="8-layer policy net, 19x19 GoGoD games, test top-1",
                paper_value=0.444, experiment="clark-storkey-sgf", **_UNIFORM, quick=None,
                note="set data.source to a GoGoD collection; 0.411 on KGS"),
    PaperResult(paper="Maddison et al. 2015", setting="12-layer policy net, 9x9 GNU Go self-play, test top-1",
                paper_value=None, experiment="maddison-gnugo9", **_UNIFORM, quick=_QUICK_SELFPLAY,
                note="the paper has no 9x9 or self-play number; its 0.55 is 19x19 KGS"),
    PaperResult(paper="Clark & Storkey 2014", setting="C&S policy net, 9x9 GNU Go self-play, test top-1",
                paper_value=None, experiment="clark-storkey-gnugo9", **_UNIFORM, quick=_QUICK_SELFPLAY,
                note="the paper has no 9x9 or self-play number"),
    PaperResult(paper="Maddison et al. 2015", setting="12-layer policy net, GNU Go 19x19 regression games, test top-1",
                paper_value=None, experiment="maddison-regression19", **_UNIFORM,
                quick=["data.max_games=30", "trainer.epochs=1"], note="not a dataset of the paper"),
    PaperResult(paper="Silver et al. 2016", setting="value net, 9x9 GNU Go self-play results, test sign accuracy",
                paper_value=None, experiment="value-gnugo9", metric="test_sign_accuracy",
                baseline_metric="baseline_majority_colour_sign_accuracy", baseline="majority colour",
                quick=["data.games=100", "trainer.epochs=1"],
                note="the paper reports MSE on 19x19 KGS / self-play positions, not this setting"),
]
