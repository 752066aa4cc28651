"""Experiments of the drug suite: 3-D voxel CNNs that tell a target's actives from its decoys.

Wallach, Dzamba & Heifets (2015), AtomNet: a 20 Å cube of the binding site at 1 Å, four 3-D
convolutions (128x5^3, 256x3^3, 256x3^3, 256x3^3), two dense layers of 1024 units, a logistic
output. Ragoza, Hochuli, Idrobo, Sunseri & Koes (2017), gnina's default2017: a 24 Å cube at 0.5 Å
with Gaussian atom densities, three blocks of 2x max pooling + 3x3x3 convolution (32, 64, 128), a
dense output; DUD-E evaluated by three-fold cross-validation with targets clustered so that no test
target resembles a training target. Sieg, Flachsenberg & Rarey (2019) showed that such benchmarks
leak the label through ligand properties, so every run reports a ligand-only control beside it.

Imports no Keras, so the CLI can read a config and pick the backend before Keras starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from convsuite.common.config import DataConfig, Experiment, ModelConfig, TrainerConfig, setting, uses
from convsuite.common.errors import ConvsuiteError
from convsuite.common.reproduce import PaperResult

MODEL_NAMES = ("atomnet", "default2017")
DATASETS_HELP = ("registry-3d (offline: EGFR, CDK2 and c-Met ligands from rdkit with property-matched ChEMBL decoys, "
                 "posed by alignment), dude or litpcba (their target folders in data/drug/dude/ or "
                 "data/drug/lit-pcba/), or a folder in DUD-E's layout")
ATOMNET = uses("model.name", "atomnet")
REGISTRY = uses("data.dataset", "registry-3d")


@dataclass
class DrugModelConfig(ModelConfig):
    name: str = setting("atomnet", "architecture: atomnet (Wallach et al. 2015) or default2017 (Ragoza et al. 2017)",
                        choices=MODEL_NAMES)
    filters: list[int] = setting([128, 256, 256, 256], "filters of each 3-D convolution (AtomNet: 128, 256, 256, "
                                                       "256; default2017: 32, 64, 128)")
    kernels: list[int] = setting([5, 3, 3, 3], "kernel edge of each convolution (AtomNet: 5, 3, 3, 3; "
                                               "default2017: 3, 3, 3)")
    dense_units: list[int] = setting([1024, 1024], "hidden dense layers before the output (AtomNet: two of 1024)",
                                     used_by=ATOMNET)
    pool_first: bool = setting(False, "AtomNet: 2x max pooling after the first convolution (a CPU-sized variant; "
                                      "the paper has none)", used_by=ATOMNET)
    dropout: float = setting(0.0, "dropout before each dense layer", at_least=0, below=1)
    batch_norm: bool = setting(False, "batch normalisation after each convolution (neither paper used it)")


@dataclass
class DrugDataConfig(DataConfig):
    dataset: str = setting("registry-3d", DATASETS_HELP)
    targets: list[str] = setting([], "targets to use (names of the set's target folders); empty = all")
    grid_size: float = setting(20.0, "edge of the grid cube in Å (AtomNet 20, default2017 24)", above=0)
    resolution: float = setting(1.0, "voxel edge in Å (AtomNet 1.0, default2017 0.5)", above=0)
    density: str = setting("gaussian", "atom density: gaussian (gnina's, to 1.5 x the radius) or hard spheres",
                           choices=("gaussian", "hard"))
    radius_scale: float = setting(1.0, "multiply van der Waals radii by this", above=0)
    hydrogens: str = setting("none", "hydrogens gridded: none, polar (on N, O, S) or all", choices=("none", "polar", "all"))
    rotate: bool = setting(True, "random rotation of every training grid (augmentation)")
    translate: float = setting(2.0, "random translation of training grids, up to this many Å", at_least=0)
    grid_cache_mb: int = setting(0, "keep up to this many MB of the grids that come out the same every time "
                                    "(validation grids; training grids without augmentation) in memory as float16; "
                                    "0 = make every grid on the fly from the cached typed atoms", at_least=0)
    test_rotations: int = setting(1, "score test ligands as the mean over this many grids (1 = unrotated)", at_least=1)
    evaluation: str = setting("target-cv", "target-cv: cross-validation with each target (or target cluster) in "
                                           "one test fold only; ligand-split: a random share of every target's "
                                           "ligands held out", choices=("target-cv", "ligand-split"))
    folds: int = setting(3, "cross-validation folds (Ragoza et al.: 3)", at_least=2,
                         used_by=uses("data.evaluation", "target-cv"))
    folds_to_run: int = setting(0, "train only the first this many folds (a quick look); 0 = all", at_least=0,
                                used_by=uses("data.evaluation", "target-cv"))
    cluster_by: str = setting("family", "target-cv: keep targets of one family (DUD-E's kinases, proteases, ...) "
                                        "in one fold, or every target its own cluster",
                              choices=("family", "target"), used_by=uses("data.evaluation", "target-cv"))
    test_fraction: float = setting(0.25, "ligand-split: share of each target's ligands tested", above=0, below=1,
                                   used_by=uses("data.evaluation", "ligand-split"))
    validation_fraction: float = setting(0.1, "share of the training ligands held out to pick the best epoch",
                                         at_least=0, below=1)
    balance: bool = setting(True, "oversample actives so training batches hold as many actives as decoys "
                                  "(Ragoza et al. balanced their batches)")
    actives_per_target: int = setting(60, "registry-3d: actives per target", at_least=1, used_by=REGISTRY)
    decoys_per_active: int = setting(10, "registry-3d: property-matched decoys per active (DUD-E: 50)",
                                     at_least=1, used_by=REGISTRY)
    max_ligands_per_target: int = setting(0, "use at most this many ligands of a target (seeded pick keeping "
                                             "every active); 0 = all", at_least=0)
    control: str = setting("both", "the ligand-only control reported beside the CNN: Morgan fingerprints with "
                                   "logistic regression, a random forest, or both", choices=("logistic", "forest", "both"))
    workers: int = setting(0, "processes that read and featurise molecules; 0 = every core", at_least=0)


@dataclass
class DrugExperiment(Experiment):
    suite: str = setting("drug", "the suite this experiment belongs to")
    model: DrugModelConfig = field(default_factory=DrugModelConfig, metadata={"help": "the architecture"})
    data: DrugDataConfig = field(default_factory=DrugDataConfig, metadata={"help": "targets, ligands and grids"})
    trainer: TrainerConfig = field(default_factory=lambda: screening_trainer(),
                                   metadata={"help": "the optimisation"})

    def check_consistency(self) -> None:
        m, d = self.model, self.data
        if not m.filters or min(m.filters) < 1:
            raise ConvsuiteError(f"model.filters must list positive filter counts, got {m.filters}")
        if len(m.kernels) != len(m.filters) or min(m.kernels) < 1:
            raise ConvsuiteError(f"model.kernels must give one positive kernel edge per convolution "
                                 f"({len(m.filters)} filters), got {m.kernels}")
        ratio = d.grid_size / d.resolution
        if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 2:
            raise ConvsuiteError(f"data.grid_size={d.grid_size} Å is not a whole number (>= 2) of "
                                 f"data.resolution={d.resolution} Å voxels; e.g. 20 at 1.0 or 24 at 0.5")
        dim = round(ratio)
        if m.name == "default2017" and dim < 8:
            raise ConvsuiteError(f"default2017 pools three times by 2: its grid needs at least 8 voxels a side, "
                                 f"data.grid_size / data.resolution gives {dim}")
        if m.name == "atomnet" and atomnet_output_edge(dim, m.kernels, m.pool_first) < 1:
            raise ConvsuiteError(f"AtomNet's unpadded convolutions (kernels {m.kernels}) need a grid wider than "
                                     f"{dim} voxels; enlarge data.grid_size or use smaller model.kernels")
        if d.evaluation == "target-cv" and d.folds_to_run > d.folds:
            raise ConvsuiteError(f"data.folds_to_run={d.folds_to_run} is more than data.folds={d.folds}")


def atomnet_output_edge(dim: int, kernels: list[int], pool_first: bool) -> int:
    """Edge of AtomNet's last feature map: unpadded convolutions, optionally pooled by 2 after the first."""
    edge = dim - (kernels[0] - 1)
    if pool_first:
        edge //= 2
    return edge - sum(k - 1 for k in kernels[1:])


def screening_trainer(epochs: int = 10) -> TrainerConfig:
    """Adam at 1e-3, batches of 32, the model of the best validation ROC AUC kept."""
    return TrainerConfig(epochs=epochs, batch_size=32, optimizer="adam", learning_rate=1e-3, monitor="val_auc",
                         progress=True)


def atomnet(name: str, dataset: str, description: str, small: bool = False) -> DrugExperiment:
    exp = DrugExperiment(name=name, description=description)
    exp.model = DrugModelConfig(name="atomnet")
    exp.data = DrugDataConfig(dataset=dataset)
    if small:  # the paper's layers at a quarter of the width, pooled once: a CPU trains it in minutes
        exp.model.filters, exp.model.dense_units, exp.model.pool_first = [32, 64, 64, 64], [256], True
        exp.model.dropout = 0.5
    return exp


def within_targets(experiment: DrugExperiment) -> DrugExperiment:
    """The same experiment with a share of every target's ligands held out instead of whole targets: the
    easier question (a target's own ligands were seen in training), asked by many published benchmarks."""
    experiment.data.evaluation = "ligand-split"
    return experiment


def default2017(name: str, dataset: str, description: str) -> DrugExperiment:
    exp = DrugExperiment(name=name, description=description)
    exp.model = DrugModelConfig(name="default2017", filters=[32, 64, 128], kernels=[3, 3, 3])
    exp.data = DrugDataConfig(dataset=dataset, grid_size=24.0, resolution=0.5)
    return exp


EXPERIMENTS = {
    "atomnet-registry": lambda: atomnet("atomnet-registry", "registry-3d",
                                        "AtomNet (Wallach et al. 2015), quarter width, on the offline registry-3d set",
                                        small=True),
    "atomnet-registry-ligands": lambda: within_targets(atomnet(
        "atomnet-registry-ligands", "registry-3d", "AtomNet, quarter width, on registry-3d with a quarter of every "
        "target's ligands held out (targets seen in training)", small=True)),
    "default2017-registry": lambda: default2017("default2017-registry", "registry-3d",
                                                "gnina default2017 (Ragoza et al. 2017) on the offline registry-3d set"),
    "atomnet-dude": lambda: atomnet("atomnet-dude", "dude", "AtomNet (Wallach et al. 2015) on DUD-E, as published"),
    "default2017-dude": lambda: default2017("default2017-dude", "dude",
                                            "gnina default2017 (Ragoza et al. 2017) on DUD-E, clustered 3-fold CV"),
    "atomnet-litpcba": lambda: atomnet("atomnet-litpcba", "litpcba",
                                       "AtomNet (Wallach et al. 2015) on LIT-PCBA (poses aligned to the templates)"),
}
DEFAULT_EXPERIMENT = "atomnet-registry"

_QUICK_REGISTRY = ["data.actives_per_target=20", "data.decoys_per_active=5", "trainer.epochs=3"]

# The paper table of `convsuite reproduce drug` (fields: convsuite.common.reproduce).
PAPER_RESULTS = [
    PaperResult(paper="Wallach et al. 2015", setting="AtomNet, DUD-E: share of targets with ROC AUC > 0.9",
                paper_value=0.578, experiment="atomnet-dude", metric="share_of_targets_auc_above_0.9",
                baseline_metric="control_forest_roc_auc", baseline="ligand-only Morgan random forest (mean AUC)",
                quick=None, note="needs DUD-E in data/drug/dude/; paper: AtomNet against DUD-E's 102 targets"),
    PaperResult(paper="Wallach et al. 2015", setting="AtomNet (quarter width), registry-3d mean ROC AUC",
                paper_value=None, experiment="atomnet-registry", metric="roc_auc",
                baseline_metric="control_forest_roc_auc", baseline="ligand-only Morgan random forest",
                quick=_QUICK_REGISTRY,
                note="not in the paper: the offline set, leave-one-target-out over three kinases, ligand "
                     "channels only (no receptor structure installs offline for them)"),
    PaperResult(paper="Ragoza et al. 2017", setting="default2017, registry-3d mean ROC AUC", paper_value=None,
                experiment="default2017-registry", metric="roc_auc", baseline_metric="control_forest_roc_auc",
                baseline="ligand-only Morgan random forest", quick=["data.actives_per_target=20", "data.decoys_per_active=5", "trainer.epochs=2"],
                note="not in the paper; its DUD-E numbers need the DUD-E folders (default2017-dude)"),
]
