"""Structure-based virtual screening with 3-D voxel CNNs: AtomNet and gnina's default2017, typed atom
grids made with rdkit, screening metrics (ROC/PR AUC, enrichment, BEDROC, logAUC) with target-clustered
cross-validation, a ligand-only control beside every result, DUD-E and LIT-PCBA loaders, an offline
benchmark assembled from registry packages, and a resumable parallel screen of large libraries.

Public names load lazily, so reading a config (``convsuite.suites.drug.config``) does not start
Keras: the CLI picks the backend first.
"""

from convsuite.common.lazy import suite_exports

_EXPORTS = {
    "atomnet": "models",
    "default2017": "models",
    "DrugExperiment": "config",
    "DrugModelConfig": "config",
    "DrugDataConfig": "config",
    "GridSpec": "voxel",
    "AtomSet": "voxel",
    "atoms_from_mol": "voxel",
    "voxelize": "voxel",
    "voxelize_batch": "voxel",
    "CHANNEL_NAMES": "voxel",
    "read_ligands": "molecules",
    "read_receptor": "molecules",
    "align_to_reference": "molecules",
    "screening_metrics": "metrics",
    "per_target_metrics": "metrics",
    "enrichment_factor": "metrics",
    "bedroc": "metrics",
    "log_auc": "metrics",
    "target_clustered_folds": "metrics",
    "LigandControl": "control",
    "morgan_fingerprints": "control",
    "dude_targets": "datasets",
    "litpcba_targets": "datasets",
    "registry_benchmark": "datasets",
    "ScreeningSet": "data",
    "GridDecoder": "data",
    "prepare": "train",
    "score_ligands": "train",
    "run_model_dirs": "train",
    "screen": "screening",
}

suite_exports(__name__, _EXPORTS, globals())
