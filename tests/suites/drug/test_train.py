"""Training on targets in DUD-E's layout written by the test: target-clustered folds, per-target
metrics beside the ligand-only controls and a random ranking, evaluate reproducing them, bad records
listed with their reasons, the feature cache, and a run interrupted between folds resuming there."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from convsuite.common import registry
from convsuite.common.errors import ConvsuiteError
from tests.requirements import require

# Each target's actives are aromatic acids, its decoys aliphatic amines and alcohols: a difference any
# grid of typed atoms shows (aromatic and ionisable channels), so a CNN trained on two targets must rank
# the third target's actives first.
ACTIVES = ["c1ccc(cc1)C(=O)O", "Cc1ccc(cc1)C(=O)O", "Clc1ccc(cc1)C(=O)O", "Fc1ccc(cc1)C(=O)O",
           "COc1ccc(cc1)C(=O)O", "Cc1cccc(c1)C(=O)O", "Oc1ccc(cc1)C(=O)O", "Nc1ccc(cc1)C(=O)O",
           "c1ccc2ccccc2c1C(=O)O", "Brc1ccc(cc1)C(=O)O"]
DECOYS = ["CCCCN", "CCCCCO", "CC(C)CCN", "CCCCCCN", "NCCCCO", "CC(N)CCO", "CCCN(C)C", "OCCCCCO", "CCC(C)CN",
          "NCCCCN", "CCCCCCO", "CC(C)(C)CN", "CN(C)CCO", "CCCCOC", "CCNCC", "OCC(C)CCO", "CCCC(C)N", "NCC(C)(C)C",
          "CCOCCN", "CCCCCN"]
TARGETS = ("alpha", "beta", "gamma")


def write_targets(root: Path, bad_record: bool = False) -> Path:
    """Three targets in DUD-E's layout, SMILES ligands (posed by alignment), no receptor structure."""
    Chem = require("rdkit.Chem", "drug")
    from convsuite.suites.drug.molecules import embed_molecule

    rng = np.random.default_rng(0)
    for k, name in enumerate(TARGETS):
        folder = root / name
        folder.mkdir(parents=True)
        reference = embed_molecule("c1ccc(cc1)C(=O)O", seed=k)
        writer = Chem.SDWriter(str(folder / "crystal_ligand.sdf"))
        writer.write(reference)
        writer.close()
        (folder / "NO_RECEPTOR").write_text("a test target: ligand channels only\n")
        actives = [ACTIVES[i] for i in rng.permutation(len(ACTIVES))[:8]]
        decoys = [DECOYS[i] for i in rng.permutation(len(DECOYS))[:16]]
        lines = [f"{s} {name}-active-{i}" for i, s in enumerate(actives)]
        if bad_record and k == 0:
            lines.append("C1CC(=O broken-record")
        (folder / "actives_final.ism").write_text("\n".join(lines) + "\n")
        (folder / "decoys_final.ism").write_text("\n".join(f"{s} {name}-decoy-{i}" for i, s in enumerate(decoys)) + "\n")
    return root


def tiny(root: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [f"data.dataset={root}", f"data.data_dir={tmp_path / 'data'}", "data.grid_size=12", "data.workers=1",
            "model.filters=[8, 8]", "model.kernels=[3, 3]", "model.dense_units=[16]", "model.pool_first=false",
            "model.dropout=0.0", "trainer.epochs=5", "trainer.batch_size=16", "trainer.learning_rate=0.003",
            "trainer.progress=false", f"trainer.run_dir={tmp_path / 'run'}", *extra]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from convsuite.suites.drug import train as drug_train

    tmp_path = tmp_path_factory.mktemp("drug-train")
    root = write_targets(tmp_path / "targets", bad_record=True)
    experiment = registry.make_experiment("drug", "atomnet-registry", tiny(root, tmp_path))
    metrics = drug_train.train(experiment)
    return tmp_path, experiment, metrics


def test_every_target_is_tested_once_by_a_model_that_never_saw_it(trained):
    tmp_path, experiment, metrics = trained
    run = Path(experiment.trainer.run_dir)
    assert metrics["folds"] == 3 and metrics["targets"] == 3
    tested = []
    for k in (1, 2, 3):
        fold = json.loads((run / "folds" / str(k) / "metrics.json").read_text())
        assert len(fold["test_targets"]) == 1
        tested += fold["test_targets"]
        with open(run / "folds" / str(k) / "test_scores.csv", newline="") as handle:
            assert {row["target"] for row in csv.DictReader(handle)} == set(fold["test_targets"])
    assert sorted(tested) == sorted(TARGETS)


def test_metrics_give_the_cnn_beside_both_ligand_only_controls_and_a_random_ranking(trained):
    _, _, metrics = trained
    for scorer in ("", "control_logistic_", "control_forest_", "random_"):
        for key in ("roc_auc", "pr_auc", "ef1", "ef5", "bedroc20", "log_auc"):
            assert f"{scorer}{key}" in metrics, f"{scorer}{key}"
    assert set(metrics["per_target"]) == set(TARGETS)
    assert set(metrics["per_target"]["alpha"]) == {"cnn", "control_logistic", "control_forest", "random"}
    assert metrics["receptor_atoms"] is False


def test_the_cnn_ranks_held_out_targets_actives_far_above_the_random_ranking(trained):
    # The baseline is the seeded random ranking of the same test ligands, scored by the same metric.
    _, _, metrics = trained
    assert metrics["roc_auc"] > 0.85
    assert metrics["roc_auc"] > metrics["random_roc_auc"] + 0.25
    assert metrics["ef5"] > metrics["random_ef5"]


def test_a_bad_record_is_skipped_with_its_reason_and_listed_in_the_run(trained):
    tmp_path, experiment, metrics = trained
    assert metrics["skipped_records"] == 1
    with open(Path(experiment.trainer.run_dir) / "skipped.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["target"], r["name"]) for r in rows] == [("alpha", "broken-record")]
    assert "SMILES" in rows[0]["reason"]


def test_evaluate_scores_the_saved_models_to_the_same_numbers(trained):
    from convsuite.suites.drug import train as drug_train

    _, experiment, metrics = trained
    evaluated = drug_train.evaluate(experiment.trainer.run_dir)
    for key in ("roc_auc", "ef1", "bedroc20", "control_forest_roc_auc", "random_roc_auc"):
        assert evaluated[key] == pytest.approx(metrics[key], abs=1e-5), key


def test_the_second_preparation_reads_the_feature_cache_without_featurising(trained, monkeypatch):
    from convsuite.suites.drug import data as drug_data
    from convsuite.suites.drug import train as drug_train

    _, experiment, _ = trained

    def fail(job):
        raise AssertionError("featurised again")

    monkeypatch.setattr(drug_data, "featurize_file", fail)
    screening_set, splits = drug_train.prepare(experiment, progress=False)
    assert len(screening_set) == 3 * 24 and len(splits) == 3


def test_a_run_interrupted_after_its_first_fold_resumes_at_the_second(tmp_path, monkeypatch):
    from convsuite.suites.drug import train as drug_train

    root = write_targets(tmp_path / "targets")
    experiment = registry.make_experiment("drug", "atomnet-registry",
                                          tiny(root, tmp_path, "trainer.epochs=1"))
    real = drug_train._train_split
    calls = []

    def interrupted(sub, *args, **kwargs):
        calls.append(sub.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(sub, *args, **kwargs)

    monkeypatch.setattr(drug_train, "_train_split", interrupted)
    with pytest.raises(KeyboardInterrupt):
        drug_train.train(experiment)
    first_fold = Path(experiment.trainer.run_dir) / "folds" / "1"
    log_before = (first_fold / "log.csv").read_text()
    monkeypatch.setattr(drug_train, "_train_split", real)
    metrics = drug_train.train(experiment)
    assert metrics["folds"] == 3
    assert (first_fold / "log.csv").read_text() == log_before  # fold 1 was not trained again


def test_a_set_without_actives_is_refused_naming_what_to_check(tmp_path):
    from convsuite.suites.drug import train as drug_train

    root = write_targets(tmp_path / "targets")
    for name in TARGETS:
        (root / name / "actives_final.ism").write_text("C1CC(=O broken\n")
    experiment = registry.make_experiment("drug", "atomnet-registry", tiny(root, tmp_path))
    with pytest.raises(ConvsuiteError, match="both actives and decoys"):
        drug_train.train(experiment)


JAX_SCRIPT = """
import json
from pathlib import Path

from convsuite.common import registry
from convsuite.suites.drug import train as drug_train

experiment = registry.make_experiment("drug", "atomnet-registry", sys.argv[1:])
metrics = drug_train.train(experiment)
evaluated = drug_train.evaluate(experiment.trainer.run_dir)
assert "tensorflow" not in sys.modules
print(json.dumps({"metrics": metrics, "evaluated": evaluated["roc_auc"]}))
"""


def test_train_and_evaluate_on_jax_without_tensorflow(tmp_path):
    # The GPU path: featurising, grids through PyDataset, training, scoring and evaluation, no TensorFlow.
    import os
    import subprocess
    import sys

    from tests.common.test_jax_path import BLOCK_TENSORFLOW

    root = write_targets(tmp_path / "targets")
    cli_import = "from convsuite.common.cli import main"
    assert cli_import in BLOCK_TENSORFLOW
    script = BLOCK_TENSORFLOW.split(cli_import)[0] + JAX_SCRIPT
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    overrides = tiny(root, tmp_path, "trainer.epochs=1", "data.folds_to_run=1", "runtime.backend=jax")
    result = subprocess.run([sys.executable, "-c", script, *overrides], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["metrics"]["backend"] == "jax" and report["metrics"]["folds"] == 1
    assert report["evaluated"] == pytest.approx(report["metrics"]["roc_auc"], abs=1e-5)


def test_bench_reports_gridding_training_inference_and_screening_rates(tmp_path):
    from convsuite.suites.drug import train as drug_train

    experiment = registry.make_experiment("drug", "atomnet-registry", [
        f"data.data_dir={tmp_path / 'data'}", "data.grid_size=12", "model.filters=[4, 4]", "model.kernels=[3, 3]",
        "model.dense_units=[8]", "model.pool_first=false", "trainer.batch_size=4"])
    wheels = Path(__file__).resolve().parents[3] / "data" / "drug" / "wheels"
    (tmp_path / "data" / "drug").mkdir(parents=True)
    (tmp_path / "data" / "drug" / "wheels").symlink_to(wheels)
    result = drug_train.bench(experiment, train_batches=1, grids=4, screen_ligands=2)
    assert result["grid"] == [12, 12, 12, 28] and result["atoms_per_grid"] > 100
    for key in ("grids_per_s", "train_samples_per_s", "inference_samples_per_s", "screen_ligands_per_s"):
        assert result[key] > 0, key
    assert result["screen_scored"] == 2 and result["gridding_engine"] in ("numba", "numpy")


def test_grids_that_never_change_are_cached_up_to_the_limit_and_equal_fresh_ones(trained, monkeypatch):
    from convsuite.suites.drug import train as drug_train
    from convsuite.suites.drug import voxel
    from convsuite.suites.drug.data import AUGMENT, PLAIN, GridDecoder, grid_spec, rows

    _, experiment, _ = trained
    screening_set, _ = drug_train.prepare(experiment, progress=False)
    spec = grid_spec(experiment)
    grid_bytes = np.zeros((spec.dim,) * 3 + (spec.num_channels,), np.float16).nbytes
    fits = 2 ** 20 // grid_bytes  # grids in one megabyte: 10 of 12^3 x 28
    cached = GridDecoder(screening_set, spec, 0, True, 2.0, cache_mb=1)
    fresh = GridDecoder(screening_set, spec, 0, True, 2.0)
    plain = rows(np.arange(fits + 4), PLAIN)
    first = cached(plain)
    assert len(cached.cache) == fits  # the limit holds
    calls = []
    real = voxel.voxelize
    monkeypatch.setattr(voxel, "voxelize", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = cached(plain)
    assert len(calls) == 4  # only the grids beyond the limit were made again
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, fresh(plain))
    augmented = rows(np.arange(3), AUGMENT)
    assert not np.array_equal(cached(augmented), first[:3])  # augmented grids are never served from the cache
