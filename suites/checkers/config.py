"""Experiments of the checkers suite: Blondie24's co-evolution and a shorter run of it.

Imports no Keras, so the CLI can read a config and pick the backend before Keras starts.
The ``trainer`` section's run directory, seed, checkpoints-kept and progress keys apply; the
gradient keys (epochs, batch size, optimizer, learning rate) do not, because nothing here is
trained by gradients: ``evolution`` holds the loop's settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from convsuite.common.config import DataConfig, Experiment, ModelConfig, TrainerConfig, setting, uses
from convsuite.common.errors import ConvsuiteError
from convsuite.common.reproduce import PaperResult

ARCHITECTURES = ("blondie24",)
SELF_ADAPTIVE = uses("evolution.mutation", "self-adaptive")
FIXED_STEP = uses("evolution.mutation", "fixed")


@dataclass
class CheckersModelConfig(ModelConfig):
    name: str = setting("blondie24", "architecture: Chellapilla & Fogel 2001: 91 sub-board nodes, 40 and 10 tanh "
                                     "units, piece difference straight to the tanh output (5046 weights)",
                        choices=ARCHITECTURES)
    king_value: float = setting(2.0, "the kings' input value K every network starts with (the paper: 2.0); "
                                     "evolved with the weights", at_least=1.0, at_most=3.0)
    init_range: float = setting(0.2, "initial weights uniform in [-r, r] (the paper: 0.2)", above=0)


@dataclass
class CheckersDataConfig(DataConfig):
    dataset: str = setting("auto", "openings of the evaluation matches: auto (the ACF three-move ballots when "
                                   "their file is there, else random 2-ply), acf-three-move-ballots (the file must "
                                   "be there), random-2ply-openings",
                           choices=("auto", "acf-three-move-ballots", "random-2ply-openings"))
    ballots: str = setting("", "the ballot file (one ballot per line, e.g. '9-13 21-17 5-9'); empty: "
                               "<data root>/checkers/three-move-ballots.txt",
                           used_by=uses("data.dataset", "auto", "acf-three-move-ballots"))


@dataclass
class EvolutionConfig:
    """Evolutionary programming as in the paper: parents, offspring, games, points, mutation."""

    parents: int = setting(15, "networks kept each generation; each makes one offspring (the paper: 15)", at_least=2)
    games_per_player: int = setting(5, "games each of the 2 x parents players plays as Black against randomly "
                                       "chosen others (the paper: 5)", at_least=1)
    generations: int = setting(840, "generations to run (the paper: 840)", at_least=1)
    search_depth: int = setting(4, "alpha-beta plies in the evolution's games (the paper: 4)", at_least=1, at_most=12)
    extend_captures: bool = setting(True, "search on through forced captures instead of evaluating mid-exchange")
    move_limit: int = setting(100, "a game is a draw after this many moves by each side (the paper: 100)", at_least=1)
    win_points: float = setting(1.0, "points for a win (the paper: +1)")
    draw_points: float = setting(0.0, "points for a draw (the paper: 0)")
    loss_points: float = setting(-2.0, "points for a loss (the paper: -2)")
    mutation: str = setting("self-adaptive", "self-adaptive: every weight has its own Gaussian step size, "
                                             "itself mutated log-normally (the paper); fixed: one step size for all",
                            choices=("self-adaptive", "fixed"))
    initial_step_size: float = setting(0.05, "every weight's step size in generation 0 (the paper: 0.05)", above=0,
                                       used_by=SELF_ADAPTIVE)
    tau: float = setting(0.0, "learning rate of the step sizes; 0: the paper's 1/sqrt(2 sqrt(N)), N = 5046",
                         at_least=0, used_by=SELF_ADAPTIVE)
    fixed_step_size: float = setting(0.05, "the one step size of every weight", above=0, used_by=FIXED_STEP)
    king_step: float = setting(0.1, "the king value moves by -step, 0 or +step at random (the paper: 0.1)",
                               at_least=0)
    workers: int = setting(0, "games played at once (0 = every core); runtime.cluster runs them on Ray", at_least=0)
    eval_every: int = setting(10, "every this many generations the best network plays the piece-count player "
                                  "(the curve of the notebook); 0 = never", at_least=0)
    eval_games: int = setting(20, "games of each of those matches (even: colours alternate)", at_least=2)
    eval_depth: int = setting(4, "search depth of both sides in the evaluation matches", at_least=1, at_most=12)
    final_games: int = setting(100, "games of the final matches against the piece-count player and the initial "
                                    "population (even)", at_least=2)


@dataclass
class CheckersExperiment(Experiment):
    suite: str = setting("checkers", "the suite this experiment belongs to")
    model: CheckersModelConfig = field(default_factory=CheckersModelConfig, metadata={"help": "the network"})
    data: CheckersDataConfig = field(default_factory=CheckersDataConfig,
                                     metadata={"help": "openings of the evaluation matches"})
    evolution: EvolutionConfig = field(default_factory=EvolutionConfig,
                                       metadata={"help": "co-evolution: population, games, points, mutation"})

    def check_consistency(self) -> None:
        e = self.evolution
        for key in ("eval_games", "final_games"):
            if getattr(e, key) % 2:
                raise ConvsuiteError(f"evolution.{key} must be even (every opening is played with both colours), "
                                     f"got {getattr(e, key)}")
        if e.games_per_player >= 2 * e.parents:
            raise ConvsuiteError(f"evolution.games_per_player={e.games_per_player} needs more than that many other "
                                 f"players; raise evolution.parents (now {e.parents})")


def _trainer(seed: int = 0) -> TrainerConfig:
    # only seed, run_dir, keep_checkpoints and progress apply; the monitor picks the best.keras export
    return TrainerConfig(seed=seed, monitor="score_vs_piece_count")


def blondie24() -> CheckersExperiment:
    """The paper's run: 15 parents, 5 games each as Black, 4 plies, 840 generations (days on one CPU core)."""
    return CheckersExperiment(name="blondie24", description="Blondie24 co-evolution as in Chellapilla & Fogel 2001 "
                                                            "(840 generations, 4 plies)",
                              model=CheckersModelConfig(), data=CheckersDataConfig(), evolution=EvolutionConfig(),
                              trainer=_trainer())


def blondie24_short() -> CheckersExperiment:
    """A fixed-seed evolution that fits a long test on two cores: the paper's population,
    games and points, 2-ply games for speed, 250 generations; judged at the paper's 4 plies."""
    exp = blondie24()
    exp.name = "blondie24-short"
    exp.description = "250 generations of Blondie24 co-evolution at 2 plies, judged at 4 plies"
    exp.evolution.generations = 250
    exp.evolution.search_depth = 2
    exp.evolution.eval_every = 25
    return exp


EXPERIMENTS = {
    "blondie24": blondie24,
    "blondie24-short": blondie24_short,
}
DEFAULT_EXPERIMENT = "blondie24"

_SCORE = dict(metric="score_vs_piece_count", baseline_metric="baseline_initial_score_vs_piece_count",
              baseline="generation-0 network")
PAPER_RESULTS = [
    PaperResult(paper="Chellapilla & Fogel 2001", setting="evolved network at 4 plies, score against a "
                "piece-count alpha-beta at 4 plies", paper_value=None, experiment="blondie24", **_SCORE,
                quick=["evolution.generations=2", "evolution.search_depth=1", "evolution.eval_every=0",
                       "evolution.final_games=10"],
                note="the paper reports a rating of about 2045 against people playing online, not this baseline"),
    PaperResult(paper="Chellapilla & Fogel 2001", setting="250 generations at 2 plies, score against piece-count at "
                "4 plies", paper_value=None, experiment="blondie24-short", **_SCORE,
                quick=["evolution.generations=3", "evolution.search_depth=1", "evolution.eval_every=0",
                       "evolution.final_games=10"],
                note="a short run of the paper's method, not a setting of the paper"),
]
