"""The ligand-only control: features known by hand, then the leak finder itself. A deliberately biased toy set
(actives bigger and of another chemotype than decoys) must be found out by the property control, and a set whose
labels are random over one distribution of molecules must not be."""

import numpy as np
import pytest

from tests.requirements import require

Chem = require("rdkit.Chem", "drug")

from convsuite.common.errors import ConvsuiteError  # noqa: E402
from convsuite.suites.drug.control import (  # noqa: E402
    PROPERTY_NAMES,
    LigandControl,
    evaluate_control,
    ligand_properties,
    morgan_fingerprints,
)
from convsuite.suites.drug.metrics import roc_auc  # noqa: E402

# --- toy sets built from fragments -------------------------------------------------------------------------

AROMATICS = ["c1ccccc1", "c1ccc(F)cc1", "c1ccc(Cl)cc1", "c1ccc(OC)cc1", "c1ccncc1"]


def biased_set() -> tuple[list[str], np.ndarray]:
    """40 actives: aryl amides with long alkyl chains; 40 decoys: small aliphatic alcohols, ethers and amines."""
    actives = [f"{aryl}C(=O)N{'C' * chain}c1ccccc1" for aryl in AROMATICS for chain in range(3, 11)]
    small = ["O", "OC", "N", "NC", "OCC", "C(C)O", "N(C)C", "C(F)"]
    decoys = [f"{'C' * chain}{tail}" for chain in range(1, 6) for tail in small]
    assert len(actives) == 40 and len(decoys) == 40 and len(set(actives + decoys)) == 80
    return actives + decoys, np.array([1] * 40 + [0] * 40)


def matched_set() -> tuple[list[str], np.ndarray]:
    """160 amides R1-C(=O)N-R2 of one distribution with labels drawn at random (seed fixed)."""
    left = ["C", "CC", "CCC", "CC(C)", "c1ccccc1", "c1ccc(F)cc1", "C1CCCCC1", "c1ccncc1", "CCCC", "COC",
            "c1ccc(C)cc1", "C1CCOC1", "CCN(C)", "c1ccsc1", "CC(F)(F)", "c1ccc(Cl)cc1"]
    right = ["C", "CC", "CCC", "C(C)C", "Cc1ccccc1", "C1CC1", "CCO", "CCOC", "CCCCC", "c1ccccn1"]
    smiles = [f"{r1}C(=O)N{r2}" for r1 in left for r2 in right]
    labels = np.random.default_rng(0).permutation(np.arange(len(smiles)) % 2)
    return smiles, labels


def held_out_split(labels: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Half of each class to train, the other half to test, chosen at random."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for cls in (0, 1):
        members = rng.permutation(np.flatnonzero(labels == cls))
        train.extend(members[: len(members) // 2])
        test.extend(members[len(members) // 2:])
    return np.array(train), np.array(test)


def control_auc(smiles: list[str], labels: np.ndarray, kind: str, features: str) -> float:
    train, test = held_out_split(labels)
    control = LigandControl(kind=kind, features=features).fit([smiles[i] for i in train], labels[train])
    return roc_auc(labels[test], control.predict([smiles[i] for i in test]))


# --- features ----------------------------------------------------------------------------------------------

def test_morgan_fingerprints_shape_bits_and_identity():
    smiles = ["CCO", "OCC", "c1ccccc1C(=O)N", "CC(=O)O"]
    fingerprints = morgan_fingerprints(smiles)
    assert fingerprints.shape == (4, 2048) and fingerprints.dtype == np.uint8
    assert set(np.unique(fingerprints)) <= {0, 1}
    np.testing.assert_array_equal(fingerprints[0], fingerprints[1])  # the same molecule written twice
    assert not np.array_equal(fingerprints[0], fingerprints[3])
    assert fingerprints[2].sum() > fingerprints[0].sum() > 0  # more atom environments, more bits
    from_molecules = morgan_fingerprints([Chem.MolFromSmiles(s) for s in smiles])
    np.testing.assert_array_equal(from_molecules, fingerprints)
    assert morgan_fingerprints(smiles, radius=1, bits=512).shape == (4, 512)
    assert morgan_fingerprints("CCO").shape == (1, 2048)
    assert morgan_fingerprints([]).shape == (0, 2048)


def test_unparsable_smiles_names_its_index():
    with pytest.raises(ConvsuiteError, match=r"molecule 2: cannot parse SMILES 'C1CC'"):
        morgan_fingerprints(["CCO", "CC", "C1CC"])
    with pytest.raises(ConvsuiteError, match="molecule 1 is a NoneType"):
        ligand_properties(["CCO", None])


def test_properties_known_by_hand():
    assert PROPERTY_NAMES == ("molecular_weight", "logp", "h_bond_donors", "h_bond_acceptors", "rotatable_bonds",
                              "net_charge")
    ethanol, acetic_acid, acetate, butane, pentane, hexane = ligand_properties(
        ["CCO", "CC(=O)O", "CC(=O)[O-]", "CCCC", "CCCCC", "CCCCCC"])
    c, h, o = 12.011, 1.008, 15.999
    assert ethanol[0] == pytest.approx(2 * c + 6 * h + o, abs=1e-3)  # 46.069
    assert acetic_acid[0] == pytest.approx(2 * c + 4 * h + 2 * o, abs=1e-3)  # 60.052
    assert acetate[0] == pytest.approx(2 * c + 3 * h + 2 * o, abs=1e-3)  # electrons ignored
    np.testing.assert_array_equal(ethanol[2:], [1, 1, 0, 0])  # OH donor, O acceptor, no rotors, neutral
    np.testing.assert_array_equal(acetic_acid[2:], [1, 1, 0, 0])
    np.testing.assert_array_equal(acetate[2:], [0, 2, 0, -1])
    # Strict rotatable bonds leave out bonds to terminal heavy atoms: butane 1, pentane 2, hexane 3.
    assert (butane[4], pentane[4], hexane[4]) == (1, 2, 3)
    assert abs(ethanol[1]) < 0.5 < hexane[1] and hexane[1] > pentane[1] > butane[1]
    assert ethanol.dtype == np.float32


# --- the leak finder ---------------------------------------------------------------------------------------

def test_property_control_finds_the_biased_set():
    smiles, labels = biased_set()
    assert control_auc(smiles, labels, "logistic", "properties") > 0.9
    assert control_auc(smiles, labels, "forest", "properties") > 0.9
    assert control_auc(smiles, labels, "logistic", "morgan") > 0.9


@pytest.mark.parametrize("kind, features", [("logistic", "properties"), ("forest", "properties"),
                                            ("logistic", "morgan")])
def test_control_stays_near_chance_on_random_labels(kind, features):
    smiles, labels = matched_set()
    auc = control_auc(smiles, labels, kind, features)
    assert 0.3 < auc < 0.7


def test_predictions_follow_the_molecules_not_their_positions():
    smiles, labels = biased_set()
    train, test = held_out_split(labels)
    control = LigandControl(features="properties").fit([smiles[i] for i in train], labels[train])
    test_smiles = [smiles[i] for i in test]
    order = np.random.default_rng(3).permutation(len(test_smiles))
    np.testing.assert_allclose(control.predict([test_smiles[i] for i in order]), control.predict(test_smiles)[order])
    assert control.predict(test_smiles).min() >= 0.0 and control.predict(test_smiles).max() <= 1.0


def test_forest_is_seeded():
    smiles, labels = matched_set()
    first = LigandControl("forest", "morgan", seed=5).fit(smiles, labels).predict(smiles[:20])
    second = LigandControl("forest", "morgan", seed=5).fit(smiles, labels).predict(smiles[:20])
    np.testing.assert_array_equal(first, second)


def test_evaluate_control_scores_each_target():
    smiles, labels = biased_set()
    train, test = held_out_split(labels)
    targets = np.where(np.arange(len(test)) % 2 == 0, "egfr", "ampc")
    result = evaluate_control([smiles[i] for i in train], labels[train], [smiles[i] for i in test], labels[test],
                              targets, kind="logistic", features="properties")
    assert set(result["per_target"]) == {"egfr", "ampc"}
    assert result["mean"]["roc_auc"] > 0.9
    n_test_actives = int(labels[test].sum())
    assert sum(m["n_actives"] for m in result["per_target"].values()) == n_test_actives
    assert "logistic regression" in result["control"] and "Sieg" in result["control"]


def test_control_errors():
    with pytest.raises(ConvsuiteError, match="0 actives among 3"):
        LigandControl().fit(["CCO", "CCC", "CCN"], [0, 0, 0])
    with pytest.raises(ConvsuiteError, match="unknown control kind 'svm'"):
        LigandControl(kind="svm")
    with pytest.raises(ConvsuiteError, match="unknown control features"):
        LigandControl(features="graph")
    with pytest.raises(ConvsuiteError, match="not been fitted"):
        LigandControl().predict(["CCO"])
    with pytest.raises(ConvsuiteError, match="2 labels for 3 molecules"):
        LigandControl().fit(["CCO", "CCC", "CCN"], [0, 1])
    description = LigandControl("forest", "properties", seed=4).describe()
    assert "random forest" in description and "seed 4" in description and "molecular_weight" in description
