"""Trainer, evaluator and benchmark of the drug suite, on the shared common.trainer.

A run featurises its targets once (``data.featurize``, cached), then trains one model per
cross-validation fold (``RUN/folds/<k>``, each resumable on its own; Ragoza et al.'s clustered
3-fold protocol) or one model on a ligand split. Each fold's test ligands are scored by its final
model (``model.keras``; ``best.keras``, the epoch of the best validation ROC AUC, is kept too) and written to ``RUN/folds/<k>/test_scores.csv`` beside the
scores of the ligand-only controls trained on the same training ligands (Sieg et al. 2019) and of a
seeded random ranking. The run's numbers are per-target screening metrics (``metrics.py``) averaged
over targets, every target scored by a model that never saw it.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

import numpy as np

from convsuite.common import trainer as trainer_lib
from convsuite.common.arrays import SupervisedData
from convsuite.common.checkpoint import atomic_write_text
from convsuite.common.errors import ConvsuiteError
from convsuite.common.results import write_metrics
from convsuite.common.trainer import load_run_model, open_run
from convsuite.common.trainer import train as train_supervised
from convsuite.suites.drug.config import EXPERIMENTS, DrugExperiment
from convsuite.suites.drug.screening import GRID_FILE
from convsuite.suites.drug.data import (AUGMENT, PLAIN, GridDecoder, ScreeningSet, Split, balanced, evaluation_splits,
                                        featurize, grid_spec, load_targets, rows, write_skipped)

SCORES_FILE = "test_scores.csv"
SCREENING_KEYS = ("roc_auc", "pr_auc", "ef1", "ef5", "bedroc20", "log_auc")
AUC_BAR = 0.9  # Wallach et al. 2015 report the share of DUD-E targets above this ROC AUC


def _controls(experiment) -> tuple[str, ...]:
    return ("logistic", "forest") if experiment.data.control == "both" else (experiment.data.control,)


def _split_dirs(run_dir: Path, count: int, cross_validation: bool) -> list[Path]:
    return [run_dir / "folds" / str(k + 1) for k in range(count)] if cross_validation else [run_dir]


def prepare(experiment: DrugExperiment, progress: bool = True) -> tuple[ScreeningSet, list[Split]]:
    """The featurised targets and the evaluation splits of an experiment."""
    targets = load_targets(experiment)
    screening_set = featurize(experiment, targets, progress=progress)
    if not len(screening_set) or screening_set.labels.min() == screening_set.labels.max():
        raise ConvsuiteError(f"{screening_set.summary()}: training needs both actives and decoys; check the "
                             f"ligand files and RUN/skipped.csv")
    print(screening_set.summary())
    return screening_set, evaluation_splits(experiment, screening_set)


def grid_settings(experiment, screening_set: ScreeningSet) -> dict:
    d = experiment.data
    return {"grid_size": d.grid_size, "resolution": d.resolution, "density": d.density,
            "radius_scale": d.radius_scale, "hydrogens": d.hydrogens, "receptor": bool(screening_set.has_receptor),
            "pose": "aligned" if d.dataset in ("registry-3d", "litpcba") else "as-given"}


def train(experiment: DrugExperiment, resume: bool = True) -> dict:
    """Train (or resume) every fold, or the one split; write metrics.json."""
    with open_run(experiment) as run:
        screening_set, splits = prepare(experiment, progress=experiment.trainer.progress)
        cross_validation = experiment.data.evaluation == "target-cv"
        if cross_validation and experiment.data.folds_to_run:
            splits = splits[:experiment.data.folds_to_run]
        write_skipped(run.path / "skipped.csv", screening_set)
        atomic_write_text(run.path / GRID_FILE, json.dumps(grid_settings(experiment, screening_set), indent=1))
        if not cross_validation:
            _train_split(experiment, screening_set, splits[0], resume)
            return write_metrics(run.path, summarize(experiment, screening_set, [run.path]))
        if not resume:
            run.start_over()
            atomic_write_text(run.path / GRID_FILE, json.dumps(grid_settings(experiment, screening_set), indent=1))
            write_skipped(run.path / "skipped.csv", screening_set)
        run.claim_config(experiment, resuming=run.config_path.exists(), finished=run.metrics_path.exists())
        fold_dirs = _split_dirs(run.path, len(splits), True)
        for k, (split, fold_dir) in enumerate(zip(splits, fold_dirs)):
            sub = copy.deepcopy(experiment)
            sub.name = f"{experiment.name}-fold{k + 1}"
            sub.trainer.run_dir = str(fold_dir)
            sub.trainer.seed = experiment.trainer.seed + k
            print(f"{experiment.name}: fold {k + 1} of {len(splits)}: test targets {', '.join(split.test_targets)} "
                  f"({len(split.train)} training, {len(split.val)} validation, {len(split.test)} test ligands)")
            _train_split(sub, screening_set, split, resume)
        return write_metrics(run.path, summarize(experiment, screening_set, fold_dirs))


def _supervised_data(experiment, screening_set: ScreeningSet, split: Split) -> SupervisedData:
    labels = screening_set.labels
    train_idx = balanced(split.train, labels, experiment.trainer.seed) if experiment.data.balance else split.train
    d = experiment.data
    decoder = GridDecoder(screening_set, grid_spec(experiment), experiment.trainer.seed, d.rotate, d.translate,
                          cache_mb=d.grid_cache_mb)
    return SupervisedData(rows(train_idx, AUGMENT), labels[train_idx].astype(np.float32),
                          rows(split.val, PLAIN), labels[split.val].astype(np.float32),
                          rows(split.test, PLAIN), labels[split.test].astype(np.float32), decode=decoder)


def _train_split(experiment, screening_set: ScreeningSet, split: Split, resume: bool) -> dict:
    """One model on one split, its test ligands scored with the controls' beside them."""
    import keras

    from convsuite.suites.drug.models import build_model

    data = _supervised_data(experiment, screening_set, split)
    run_dir = trainer_lib.run_directory(experiment)

    def report(model) -> dict:
        scores = score_ligands(model, screening_set, split.test, experiment)
        table = _score_table(experiment, screening_set, split, scores)
        _write_scores(run_dir / SCORES_FILE, table)
        return {"test_targets": split.test_targets, "train_ligands": int(len(split.train)),
                "validation_ligands": int(len(split.val)), "test_ligands": int(len(split.test)),
                **{f"fold_{k}": v for k, v in _table_metrics(table, "cnn").items()}}

    return train_supervised(experiment, lambda: build_model(experiment), data, loss="binary_crossentropy",
                            metrics=("accuracy", keras.metrics.AUC(name="auc")), resume=resume, report=report)


def score_ligands(model, screening_set: ScreeningSet, indices: np.ndarray, experiment, batch_size: int = 64) -> np.ndarray:
    """Probability of active of ligands ``indices``: unrotated grids, or the mean over
    ``data.test_rotations`` grids (the first unrotated, the others seeded random rotations)."""
    d = experiment.data
    total = np.zeros(len(indices), np.float64)
    for r in range(d.test_rotations):
        decoder = GridDecoder(screening_set, grid_spec(experiment), experiment.trainer.seed + 1000 + r, True, 0.0)
        x = rows(indices, PLAIN if r == 0 else AUGMENT)
        for start in range(0, len(x), batch_size):
            grids = decoder(x[start:start + batch_size])
            count = len(grids)
            if count < batch_size:  # one batch shape: the predict function is traced once
                grids = np.concatenate([grids, np.zeros((batch_size - count, *grids.shape[1:]), grids.dtype)])
            total[start:start + count] += np.asarray(model.predict_on_batch(grids), np.float64).reshape(-1)[:count]
    return (total / d.test_rotations).astype(np.float32)


def _score_table(experiment, screening_set: ScreeningSet, split: Split, scores: np.ndarray) -> dict:
    """Per test ligand: target, name, label, CNN score, each control's score and the random ranking's."""
    from convsuite.suites.drug.control import LigandControl

    smiles = np.asarray(screening_set.smiles, dtype=object)
    labels = screening_set.labels
    fit_idx = np.concatenate([split.train, split.val])
    table = {"target": list(screening_set.target_of(split.test)),
             "name": [screening_set.names[i] for i in split.test], "label": labels[split.test].tolist(),
             "cnn": scores.tolist()}
    for kind in _controls(experiment):
        control = LigandControl(kind=kind, features="morgan", seed=experiment.trainer.seed)
        control.fit(list(smiles[fit_idx]), labels[fit_idx])
        table[f"control_{kind}"] = control.predict(list(smiles[split.test])).tolist()
    table["random"] = np.random.default_rng([experiment.trainer.seed, 2]).random(len(split.test)).tolist()
    return table


def _write_scores(path: Path, table: dict) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = list(table)
    writer.writerow(columns)
    writer.writerows(zip(*(table[c] for c in columns)))
    atomic_write_text(path, buffer.getvalue())


def read_scores(path: Path) -> dict:
    """A fold's ``test_scores.csv`` as columns."""
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        records = list(reader)
        columns = reader.fieldnames or []
    table = {c: [r[c] for r in records] for c in columns}
    for c in columns:
        if c not in ("target", "name"):
            table[c] = [float(v) for v in table[c]]
    table["label"] = [int(v) for v in table.get("label", [])]
    return table


def _table_metrics(table: dict, column: str) -> dict:
    """Per-target metrics of one scorer of a score table, their mean over targets, and the share of
    targets whose ROC AUC passes ``AUC_BAR``."""
    from convsuite.suites.drug.metrics import per_target_metrics

    result = per_target_metrics(np.asarray(table["target"], dtype=object), np.asarray(table["label"]),
                                np.asarray(table[column], np.float64))
    means = {key: result["mean"].get(key) for key in SCREENING_KEYS}
    aucs = [m["roc_auc"] for m in result["per_target"].values() if m["roc_auc"] == m["roc_auc"]]
    means[f"share_of_targets_auc_above_{AUC_BAR}"] = float(np.mean(np.asarray(aucs) > AUC_BAR)) if aucs else None
    means["per_target"] = {t: {k: m[k] for k in SCREENING_KEYS} for t, m in result["per_target"].items()}
    return means


def _merge_tables(fold_dirs: list[Path]) -> dict:
    tables = [read_scores(Path(d) / SCORES_FILE) for d in fold_dirs if (Path(d) / SCORES_FILE).exists()]
    if not tables:
        raise ConvsuiteError(f"no {SCORES_FILE} in {fold_dirs[0].parent}: the run did not finish a fold; train it")
    return {c: [v for t in tables for v in t[c]] for c in tables[0]}


def summarize(experiment, screening_set: ScreeningSet, fold_dirs: list[Path]) -> dict:
    """The run's numbers: CNN, controls and random, each a mean over the targets (every target tested once)."""
    table = _merge_tables(fold_dirs)
    fold_metrics = [json.loads((Path(d) / "metrics.json").read_text()) for d in fold_dirs
                    if (Path(d) / "metrics.json").exists()]
    cnn = _table_metrics(table, "cnn")
    summary = {"experiment": experiment.name, "suite": "drug", "dataset": screening_set.name,
               "model": experiment.model.name, "evaluation": experiment.data.evaluation, "folds": len(fold_dirs),
               "targets": len(set(table["target"])), "test_ligands": len(table["label"]),
               "test_actives": int(np.sum(table["label"])), "receptor_atoms": bool(screening_set.has_receptor),
               "skipped_records": int(sum(screening_set.skipped.values())),
               "skipped_reasons": dict(screening_set.skipped.most_common(8)),
               **{k: v for k, v in cnn.items() if k != "per_target"}}
    per_target = {t: {"cnn": m} for t, m in cnn["per_target"].items()}
    for column in [c for c in table if c.startswith("control_") or c == "random"]:
        result = _table_metrics(table, column)
        for key in (*SCREENING_KEYS, f"share_of_targets_auc_above_{AUC_BAR}"):
            summary[f"{column}_{key}"] = result[key]
        for t, m in result["per_target"].items():
            per_target[t][column] = m
    summary["per_target"] = per_target
    if fold_metrics:
        summary.update({"epochs": fold_metrics[-1].get("epochs"), "backend": fold_metrics[-1].get("backend"),
                        "device": fold_metrics[-1].get("device"), "precision": experiment.runtime.precision,
                        "train_seconds": round(sum(m.get("train_seconds", 0.0) for m in fold_metrics), 3)})
    return summary


# --------------------------------------------------------------------------- finished runs


def experiment_from_run(run_dir: str | Path) -> DrugExperiment:
    """Rebuild the experiment a run directory was trained with (its config.toml)."""
    return trainer_lib.experiment_from_run(run_dir, EXPERIMENTS, DrugExperiment)


def run_model_dirs(run_dir: str | Path) -> list[Path]:
    """The directories holding the run's models: one per fold (``RUN/folds/<k>``), or the run itself."""
    run_dir = Path(run_dir)
    folds = sorted((p for p in (run_dir / "folds").glob("*") if p.is_dir() and p.name.isdigit()),
                   key=lambda p: int(p.name))
    return folds or [run_dir]


def load_run(run_dir: str | Path, which: str = "model"):
    """(model, experiment) of a run directory; for a cross-validated run, the first fold's model."""
    return load_run_model(run_model_dirs(run_dir)[0], which), experiment_from_run(run_dir)


def evaluate(run_dir: str | Path, which: str = "model") -> dict:
    """Score every fold's test ligands again with its saved model: metrics.json's numbers with the final
    model (``model``), or those of the epochs of the best validation ROC AUC (``best``)."""
    run_dir = Path(run_dir)
    experiment = experiment_from_run(run_dir)
    screening_set, splits = prepare(experiment, progress=experiment.trainer.progress)
    dirs = run_model_dirs(run_dir)
    if len(dirs) > len(splits) or (dirs == [run_dir]) != (experiment.data.evaluation != "target-cv"):
        raise ConvsuiteError(f"{run_dir} holds {len(dirs)} model folder(s) but its config gives {len(splits)} "
                             f"split(s); evaluate the run with the data it was trained on")
    tables = []
    for k, (split, model_dir) in enumerate(zip(splits, dirs)):
        model = load_run_model(model_dir, which)
        sub = copy.deepcopy(experiment)
        if experiment.data.evaluation == "target-cv":
            sub.trainer.seed = experiment.trainer.seed + k  # each fold's own seed, as in train()
        table = _score_table(sub, screening_set, split, score_ligands(model, screening_set, split.test, sub))
        tables.append(table)
    merged = {c: [v for t in tables for v in t[c]] for c in tables[0]}
    result = {"experiment": experiment.name, "checkpoint": str(run_dir), "which": which}
    cnn = _table_metrics(merged, "cnn")
    result.update({k: v for k, v in cnn.items() if k != "per_target"})
    for column in [c for c in merged if c.startswith("control_") or c == "random"]:
        result.update({f"{column}_{k}": v for k, v in _table_metrics(merged, column).items()
                       if k in SCREENING_KEYS})
    return result


# --------------------------------------------------------------------------- bench


def bench(experiment: DrugExperiment, train_batches: int = 10, grids: int = 256, screen_ligands: int = 200) -> dict:
    """Voxel grids/s (and molgrid's CPU gridder in the same run where it installs), training and inference
    samples/s, and ligands screened per second end to end."""
    import time

    import keras

    from convsuite.common.runtime import configure
    from convsuite.suites.drug import voxel
    from convsuite.suites.drug.models import build_model

    runtime = configure(experiment.runtime)
    spec = grid_spec(experiment)
    atoms, center = _bench_complex(experiment)
    rng = np.random.default_rng(0)
    # One grid at a time into the same array with a fresh random rotation, as molgrid's gridder is timed below.
    out = np.zeros(_shape(spec), np.float32)
    voxel.voxelize(atoms, center, spec, rotation=voxel.random_rotation(rng), out=out)  # warm-up (compiles)
    start = time.perf_counter()
    for _ in range(grids):
        voxel.voxelize(atoms, center, spec, rotation=voxel.random_rotation(rng), out=out)
    grid_rate = grids / (time.perf_counter() - start)
    result = {"suite": "drug", "model": experiment.model.name, "grid": list(_shape(spec)),
              "atoms_per_grid": int(len(atoms)), "grids_per_s": round(grid_rate, 1),
              "gridding_engine": voxel.gridding_engine()}
    result.update(_molgrid_rate(atoms, center, spec, grids))

    batch = experiment.trainer.batch_size
    n = batch * train_batches
    x = rng.random((n, *_shape(spec)), dtype=np.float32).astype(np.float16) * 0.5
    y = (rng.random(n) < 0.5).astype(np.float32)
    with runtime.scope():
        model = build_model(experiment)
        model.compile(optimizer=trainer_lib.make_optimizer(experiment.trainer), loss="binary_crossentropy",
                      jit_compile=runtime.jit_compile)
    train_rate, _ = trainer_lib.measure_rates(model, x, y, batch, train_batches, x[:batch], batch)
    # Inference as screening and scoring run it: predict_on_batch on batches already in memory (model.predict
    # would first copy the whole numpy array into a tf.data pipeline, which at 48^3 grids costs more than the model).
    model.predict_on_batch(x[:batch])
    start = time.perf_counter()
    for first in range(0, n, batch):
        model.predict_on_batch(x[first:first + batch])
    infer_rate = n / (time.perf_counter() - start)
    from convsuite.suites.drug.screening import screening_rate

    screen = screening_rate(experiment, ligands=screen_ligands)
    return {**result, "params": int(model.count_params()), "batch_size": batch, "backend": keras.backend.backend(),
            "device": runtime.device_kind, "precision": experiment.runtime.precision,
            "jit_compile": runtime.jit_compile, "train_samples_per_s": round(train_rate, 1),
            "inference_samples_per_s": round(infer_rate, 1), **{f"screen_{k}": v for k, v in screen.items()}}


def _shape(spec) -> tuple:
    return (spec.dim, spec.dim, spec.dim, spec.num_channels)


def _bench_complex(experiment):
    """A real receptor pocket and docked ligand (prolif's Vina example), or a ligand alone without it."""
    from convsuite.suites.drug import datasets, molecules, voxel

    d = experiment.data
    receptor_path, ligand_path, _ = datasets.demo_site(d.data_dir)
    ligand = molecules.read_reference_ligand(ligand_path)
    box = molecules.site_from_ligand(ligand, d.grid_size)
    spec = grid_spec(experiment)
    receptor = voxel.crop(voxel.atoms_from_mol(molecules.read_receptor(receptor_path, d.hydrogens), "receptor",
                                               d.hydrogens), box.center, spec)
    atoms = voxel.concatenate(receptor, voxel.atoms_from_mol(ligand, "ligand", d.hydrogens))
    return atoms, np.asarray(box.center, np.float64)


def _molgrid_rate(atoms, center, spec, grids: int) -> dict:
    """molgrid's CPU gridder on the same atoms, when molgrid installs and runs without a GPU."""
    import time

    try:
        import molgrid
    except Exception:  # noqa: BLE001 - not installed, or its native library does not load here
        return {"molgrid_grids_per_s": None}
    try:
        # gnina's grids have size / resolution + 1 points per edge; this one the same count as ours
        gmaker = molgrid.GridMaker(resolution=spec.resolution, dimension=spec.size - spec.resolution)
        bits = (atoms.channels[:, None] >> np.arange(spec.num_channels, dtype=np.uint32)) & 1
        coords = molgrid.CoordinateSet(molgrid.Grid2f(np.ascontiguousarray(atoms.coords, np.float32)),
                                       molgrid.Grid2f(np.ascontiguousarray(bits, np.float32)),
                                       molgrid.Grid1f(np.ascontiguousarray(atoms.radii, np.float32)))
        out = np.zeros(gmaker.grid_dimensions(spec.num_channels), np.float32)
        centre = molgrid.float3(*(float(c) for c in center))
        gmaker.forward(centre, coords, molgrid.Grid4f(out))
        start = time.perf_counter()
        for _ in range(grids):
            gmaker.forward(centre, coords, molgrid.Grid4f(out))
        rate = grids / (time.perf_counter() - start)
        return {"molgrid_grids_per_s": round(rate, 1)}
    except Exception as error:  # noqa: BLE001 - report, do not fail the benchmark
        return {"molgrid_grids_per_s": None, "molgrid_error": f"{type(error).__name__}: {error}"[:200]}
