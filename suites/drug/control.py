"""The ligand-only control reported beside every structure-based result.

DUD-E-style decoys are picked to match actives on a few properties, yet the actives and decoys still differ in
ways a model can learn from the ligand alone (fingerprints, or the matched properties themselves across targets),
so a structure-based model can score well without looking at the protein. Sieg, Flachsenberg & Rarey 2019
("In Need of Bias Control: Evaluating Chemical Data for Machine Learning in Structure-Based Virtual Screening",
J. Chem. Inf. Model. 59, 947) show simple ligand-only classifiers reaching structure-based performance on DUD-E.
A structure-based result means something only as far as it beats this control on the same split.

The control is a scikit-learn classifier (logistic regression or random forest) on Morgan fingerprints
(Rogers & Hahn 2010, ECFP-like) or on DUD-E's six matching properties (Mysinger et al. 2012).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import Crippen, Descriptors, rdFingerprintGenerator, rdMolDescriptors
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.drug.metrics import binary_labels, per_target_metrics

PROPERTY_NAMES = ("molecular_weight", "logp", "h_bond_donors", "h_bond_acceptors", "rotatable_bonds",
                  "net_charge")
KINDS = ("logistic", "forest")
FEATURES = ("morgan", "properties")


def _molecules(mols_or_smiles) -> list[Chem.Mol]:
    """RDKit molecules from molecules or SMILES strings (a single one is a list of one)."""
    if isinstance(mols_or_smiles, (str, Chem.Mol)):
        mols_or_smiles = [mols_or_smiles]
    molecules = []
    with rdBase.BlockLogs():  # the error below says which entry failed; RDKit's own log would repeat it on stderr
        for index, item in enumerate(mols_or_smiles):
            if isinstance(item, Chem.Mol):
                molecules.append(item)
                continue
            if not isinstance(item, str):
                raise ConvsuiteError(f"molecule {index} is a {type(item).__name__}, not a SMILES string or RDKit "
                                     f"molecule; give SMILES or rdkit.Chem.Mol objects")
            molecule = Chem.MolFromSmiles(item)
            if molecule is None:
                raise ConvsuiteError(f"molecule {index}: cannot parse SMILES {item!r}; fix or drop that entry")
            molecules.append(molecule)
    return molecules


def morgan_fingerprints(mols_or_smiles, radius: int = 2, bits: int = 2048) -> np.ndarray:
    """Morgan (ECFP-like) bit vectors, uint8 of shape (n, bits) holding 0 or 1."""
    molecules = _molecules(mols_or_smiles)
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=bits)
    fingerprints = np.zeros((len(molecules), bits), dtype=np.uint8)
    for row, molecule in enumerate(molecules):
        fingerprints[row] = generator.GetFingerprintAsNumPy(molecule)
    return fingerprints


def ligand_properties(mols_or_smiles) -> np.ndarray:
    """DUD-E's decoy-matching properties, float32 of shape (n, 6) in the order of PROPERTY_NAMES.

    Molecular weight is the average mass with implicit hydrogens; logP is Crippen's; donors and acceptors are
    RDKit's pattern-based counts (acetic acid: 1 donor, 1 acceptor); rotatable bonds are RDKit's default
    (strict) count; net charge is the sum of formal charges.
    """
    molecules = _molecules(mols_or_smiles)
    properties = np.zeros((len(molecules), len(PROPERTY_NAMES)), dtype=np.float32)
    for row, molecule in enumerate(molecules):
        properties[row] = (
            Descriptors.MolWt(molecule),
            Crippen.MolLogP(molecule),
            rdMolDescriptors.CalcNumHBD(molecule),
            rdMolDescriptors.CalcNumHBA(molecule),
            rdMolDescriptors.CalcNumRotatableBonds(molecule),
            Chem.GetFormalCharge(molecule),
        )
    return properties


def _binary_labels(labels, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ConvsuiteError(f"{labels.size} labels for {n} molecules; give one 0/1 label per molecule")
    return binary_labels(labels)


class LigandControl:
    """A ligand-only classifier: fit on training molecules and labels, predict the probability of active."""

    def __init__(self, kind: str = "logistic", features: str = "morgan", seed: int = 0):
        if kind not in KINDS:
            raise ConvsuiteError(f"unknown control kind {kind!r}; use one of {', '.join(KINDS)}")
        if features not in FEATURES:
            raise ConvsuiteError(f"unknown control features {features!r}; use one of {', '.join(FEATURES)}")
        self.kind = kind
        self.features = features
        self.seed = seed
        self.model = None

    def _featurise(self, mols) -> np.ndarray:
        if self.features == "morgan":
            return morgan_fingerprints(mols)
        return ligand_properties(mols)

    def _new_model(self):
        if self.kind == "forest":
            return RandomForestClassifier(n_estimators=200, n_jobs=1, class_weight="balanced",
                                          random_state=self.seed, min_samples_leaf=1)
        logistic = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
        # Properties span units from ~500 Da to single counts; unscaled, the penalty and solver favour the small ones.
        return make_pipeline(StandardScaler(), logistic) if self.features == "properties" else logistic

    def fit(self, mols, labels) -> LigandControl:
        """Fit on molecules (SMILES or RDKit molecules) and their 0/1 labels; needs both classes."""
        x = self._featurise(mols)
        y = _binary_labels(labels, len(x))
        n_actives = int(y.sum())
        if n_actives == 0 or n_actives == len(y):
            raise ConvsuiteError(f"the control needs actives and decoys to fit, got {n_actives} actives among "
                                 f"{len(y)} molecules; give a training set with both")
        self.model = self._new_model().fit(x, y)
        return self

    def predict(self, mols) -> np.ndarray:
        """Probability of active for each molecule, float64 of shape (n,)."""
        if self.model is None:
            raise ConvsuiteError("the ligand control has not been fitted; call fit(mols, labels) first")
        x = self._featurise(mols)
        if len(x) == 0:
            return np.zeros(0)
        active_column = list(self.model.classes_).index(1)
        return self.model.predict_proba(x)[:, active_column].astype(np.float64)

    def describe(self) -> str:
        """One line naming the classifier and features, for reports."""
        if self.kind == "forest":
            model = f"random forest (200 trees, balanced, seed {self.seed})"
        elif self.features == "properties":
            model = "logistic regression (C=1, balanced, on standardised features)"
        else:
            model = "logistic regression (C=1, balanced)"
        features = ("Morgan fingerprints (radius 2, 2048 bits)" if self.features == "morgan"
                    else "DUD-E properties (" + ", ".join(PROPERTY_NAMES) + ")")
        return f"ligand-only control: {model} on {features} (Sieg et al. 2019)"


def evaluate_control(train_mols, train_labels, test_mols, test_labels, test_targets, kind: str = "logistic",
                     features: str = "morgan", seed: int = 0) -> dict:
    """Fit the control on the training split and score the test split per target (metrics.per_target_metrics),
    plus "control": the control's describe() line."""
    control = LigandControl(kind=kind, features=features, seed=seed).fit(train_mols, train_labels)
    scores = control.predict(test_mols)
    result = per_target_metrics(test_targets, _binary_labels(test_labels, len(scores)), scores)
    result["control"] = control.describe()
    return result


__all__: Sequence[str] = ("PROPERTY_NAMES", "morgan_fingerprints", "ligand_properties", "LigandControl",
                          "evaluate_control")
