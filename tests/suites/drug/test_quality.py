"""Full-scale runs on the offline registry-3d set (slow: about 4 and 9 minutes on two cores, plus the
set's one-time build). RESULTS.md reports their numbers."""

import json
from pathlib import Path

import pytest

from convsuite.common import registry

pytestmark = pytest.mark.slow


def run(name: str, tmp_path: Path) -> dict:
    from convsuite.suites.drug import train as drug_train

    experiment = registry.make_experiment("drug", name, [f"trainer.run_dir={tmp_path / name}",
                                                         "trainer.progress=false"])
    return drug_train.train(experiment)


def test_on_held_out_ligands_the_cnn_ranks_actives_far_above_the_random_ranking(tmp_path):
    metrics = run("atomnet-registry-ligands", tmp_path)
    assert metrics["roc_auc"] > metrics["random_roc_auc"] + 0.25
    assert metrics["ef1"] > 2 * metrics["random_ef1"]
    for target, scorers in metrics["per_target"].items():
        assert scorers["cnn"]["roc_auc"] > scorers["random"]["roc_auc"], target
    assert {"control_logistic_roc_auc", "control_forest_roc_auc"} <= set(metrics)


def test_each_target_held_out_is_scored_once_with_the_controls_beside_the_cnn(tmp_path):
    metrics = run("atomnet-registry", tmp_path)
    assert metrics["folds"] == 3 and set(metrics["per_target"]) == {"egfr", "cdk2", "cmet"}
    tested = [json.loads((tmp_path / "atomnet-registry" / "folds" / str(k) / "metrics.json").read_text())
              ["test_targets"] for k in (1, 2, 3)]
    assert sorted(t for fold in tested for t in fold) == ["cdk2", "cmet", "egfr"]
    for scorer in ("cnn", "control_logistic", "control_forest", "random"):
        assert all(0.0 <= s[scorer]["roc_auc"] <= 1.0 for s in metrics["per_target"].values())
