"""Virtual screening of a ligand library with a trained drug-suite run: every ligand posed, gridded and scored.

A library of any size streams through in bounded memory. The main process reads records
(``molecules.read_ligands``) and sends chunks of them to the worker pool (``common.pool``); a worker poses each
ligand (3-D records as given; SMILES and 2-D records embedded with ETKDG and overlaid on the site ligand with
Open3DALIGN, seeded by the record's index, as training posed them) and types its atoms. The main process grids
the posed ligands in the site box, with the receptor's pocket atoms when the run was trained with them, and
scores them with every model of the run: the fold models of a cross-validated run form an ensemble whose
probabilities are averaged, and ``rotations`` > 1 averages over the unrotated grid and seeded random rotations
(as the run's own evaluation does with ``data.test_rotations``).

A screen survives being killed: scored rows go to ``OUT.partial`` and skipped records to ``OUT-stem.skipped.csv``
as each chunk finishes (flushed and fsynced), and a screen started again with the same arguments skips every
record those files already hold, before it reaches a worker. The ranked list ``OUT`` is written once, at the end,
atomically, sorted in bounded memory (scores and byte offsets in numpy arrays).

Imports no Keras: the models are loaded inside ``screen`` (the CLI picks the backend first), and workers never
load them.
"""

from __future__ import annotations

import array
import contextlib
import csv
import io
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rdkit import Chem

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.drug import molecules, voxel

GRID_FILE = "grid.json"
PARTIAL_SUFFIX = ".partial"
HEADER_PREFIX = "# convsuite drug screen "
HEADER_VERSION = 1
OUTPUT_COLUMNS = ("rank", "index", "name", "score", "smiles")
SKIPPED_COLUMNS = ("index", "name", "reason")
WHICH = ("best", "model")
TRAIN_HINT = "train one with `convsuite train drug`"
NO_SITE_LIGAND_REASON = ("no 3-D pose, and no --site reference ligand to align an embedded conformer to; give "
                         "--site ref.sdf or 3-D poses")
_SCORE_FORMAT = "{:.8f}"  # float32 probabilities: 8 decimals keep everything they resolve


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class TrainedRun:
    """What a screen needs from a run directory: its grid, and the model files of every fold."""

    path: Path
    grid: dict
    spec: voxel.GridSpec
    model_files: tuple[Path, ...]

    @property
    def receptor(self) -> bool:
        return bool(self.grid.get("receptor", False))

    @property
    def hydrogens(self) -> str:
        return str(self.grid.get("hydrogens", "none"))


def model_dirs(run_dir: Path) -> list[Path]:
    """A cross-validated run's fold folders (``RUN/folds/<k>``, in order), or the run itself."""
    folds = sorted((p for p in (run_dir / "folds").glob("*") if p.is_dir() and p.name.isdigit()),
                   key=lambda p: int(p.name))
    return folds or [run_dir]


def read_run(checkpoint, which: str = "model") -> TrainedRun:
    """The run's grid settings and model files, checked without loading Keras.

    ``which="best"`` takes each folder's best.keras and falls back to model.keras where there is none."""
    if which not in WHICH:
        raise ConvsuiteError(f"which={which!r} is not one of {', '.join(WHICH)}; pick best or model")
    path = Path(checkpoint)
    if not path.is_dir():
        raise ConvsuiteError(f"checkpoint {path} is not a run directory; give the folder `convsuite train drug` "
                             f"wrote (runs/<experiment> by default), or {TRAIN_HINT}")
    if not (path / "config.toml").is_file():
        raise ConvsuiteError(f"checkpoint {path} has no config.toml, so it is not a convsuite run; {TRAIN_HINT}")
    grid_path = path / GRID_FILE
    if not grid_path.is_file():
        raise ConvsuiteError(f"checkpoint {path} has no {GRID_FILE} (the grid its models read); it is not a "
                             f"finished drug-suite run: {TRAIN_HINT}")
    try:
        grid = json.loads(grid_path.read_text(encoding="utf-8"))
        spec = voxel.GridSpec(float(grid["grid_size"]), float(grid["resolution"]), str(grid["density"]),
                              float(grid["radius_scale"]))
    except (ValueError, KeyError, TypeError) as error:
        raise ConvsuiteError(f"{grid_path} is damaged ({type(error).__name__}: {error}); train the run again "
                             f"or restore the file") from None
    files = []
    for folder in model_dirs(path):
        chosen = folder / f"{which}.keras"
        if not chosen.is_file() and which == "best":
            chosen = folder / "model.keras"
        if chosen.is_file():
            files.append(chosen)
        elif folder != path:
            raise ConvsuiteError(f"fold {folder.name} of checkpoint {path} has no {which}.keras (its training did "
                                 f"not finish); finish it with `convsuite train drug`, or remove {folder}")
    if not files:
        raise ConvsuiteError(f"checkpoint {path} has no {which}.keras" + (" or model.keras" if which == "best" else "")
                             + f": its training did not finish; {TRAIN_HINT}")
    return TrainedRun(path, grid, spec, tuple(files))


def load_models(run: TrainedRun) -> list:
    """The Keras models of every fold (imports Keras)."""
    from convsuite.common.trainer import load_run_model

    return [load_run_model(file.parent, file.stem) for file in run.model_files]


# --------------------------------------------------------------------------- posing (in workers)


@dataclass(frozen=True)
class PoseContext:
    """What a worker needs to pose and type a ligand: the site, the site ligand and the run's settings."""

    box: molecules.SiteBox
    reference: Chem.Mol | None
    hydrogens: str
    seed: int


@dataclass
class PosedLigand:
    """One record after posing: its typed atoms, or None with the reason it was skipped."""

    index: int
    name: str
    smiles: str
    atoms: voxel.AtomSet | None
    reason: str = ""


def pose_ligand(index: int, mol: Chem.Mol, context: PoseContext) -> voxel.AtomSet | str:
    """The ligand's typed atoms in the site, or the reason it cannot be scored.

    A record with 3-D coordinates keeps its pose; one without (SMILES, 2-D) is embedded and aligned to the site
    ligand with seed ``seed + index``, so a ligand gets the same pose in every screen and on every worker."""
    conformer = mol.GetConformer() if mol.GetNumConformers() else None
    if conformer is None or not conformer.Is3D():
        if context.reference is None:
            return NO_SITE_LIGAND_REASON
        try:
            mol = molecules.align_to_reference(mol, context.reference, seed=context.seed + index)
        except ConvsuiteError as error:
            return getattr(error, "reason", "") or str(error)
    reason = molecules.ligand_outside_reason(mol, context.box)
    if reason:
        return reason
    atoms = voxel.atoms_from_mol(mol, "ligand", context.hydrogens)
    if not len(atoms):
        return "no atoms left after removing hydrogens"
    return atoms


def pose_chunk(task: tuple[list, PoseContext]) -> list[PosedLigand]:
    """Pose a chunk of ``(index, name, mol, smiles)`` records (the worker's function)."""
    records, context = task
    posed = []
    for index, name, mol, smiles in records:
        try:
            result = pose_ligand(index, mol, context)
        except ConvsuiteError as error:
            result = str(error)
        except Exception as error:  # RDKit fails on a few odd molecules: skip the record, the screen goes on
            result = f"rdkit failed on the record ({type(error).__name__}: {_single_line(str(error))[:160]})"
        if isinstance(result, str):
            posed.append(PosedLigand(index, name, smiles, None, result))
        else:
            posed.append(PosedLigand(index, name, smiles, result))
    return posed


# --------------------------------------------------------------------------- gridding and scoring


def rotations_of(index: int, rotations: int, seed: int) -> list[np.ndarray | None]:
    """The grid orientations a ligand is scored in: unrotated first, then seeded random rotations."""
    rng = np.random.default_rng([int(seed), int(index)])
    return [None] + [voxel.random_rotation(rng) for _ in range(rotations - 1)]


class Scorer:
    """Grids posed ligands in the site (with the pocket atoms when given) and averages the models' probabilities
    over models and rotations. Batches are padded to ``batch_size`` so the compiled predict step sees one shape."""

    def __init__(self, models: list, spec: voxel.GridSpec, center, pocket: voxel.AtomSet | None = None,
                 batch_size: int = 64, rotations: int = 1, seed: int = 0):
        self.models, self.spec, self.pocket = models, spec, pocket
        self.center = np.asarray(center, np.float64)
        self.batch_size, self.rotations, self.seed = int(batch_size), int(rotations), int(seed)
        dim = spec.dim
        self._grids = np.zeros((self.batch_size, dim, dim, dim, spec.num_channels), np.float16)
        self._grid = np.zeros((dim, dim, dim, spec.num_channels), np.float32)

    def atoms(self, ligand: voxel.AtomSet) -> voxel.AtomSet:
        return voxel.concatenate(self.pocket, ligand) if self.pocket is not None and len(self.pocket) else ligand

    def __call__(self, indices: list[int], ligands: list[voxel.AtomSet]) -> np.ndarray:
        scores = np.zeros(len(ligands), np.float64)
        for start in range(0, len(ligands), self.batch_size):
            part = range(start, min(start + self.batch_size, len(ligands)))
            orientations = [rotations_of(indices[i], self.rotations, self.seed) for i in part]
            complexes = [self.atoms(ligands[i]) for i in part]
            for r in range(self.rotations):
                for row, atoms in enumerate(complexes):
                    voxel.voxelize(atoms, self.center, self.spec, rotation=orientations[row][r], out=self._grid)
                    self._grids[row] = self._grid
                for model in self.models:
                    predicted = np.asarray(model.predict_on_batch(self._grids), np.float64).reshape(-1)
                    scores[start:start + len(part)] += predicted[:len(part)]
        return (scores / (self.rotations * len(self.models))).astype(np.float32)


# --------------------------------------------------------------------------- files of a screen


def skipped_path(out) -> Path:
    """Where a screen lists its skipped records: ``ranked.csv`` -> ``ranked.skipped.csv``."""
    out = Path(out)
    return out.with_suffix(".skipped.csv") if out.suffix else out.with_name(out.name + ".skipped.csv")


def partial_path(out) -> Path:
    return Path(str(out) + PARTIAL_SUFFIX)


def _signature(path) -> list:
    path = Path(path)
    stat = path.stat()
    return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]


def _single_line(text: str) -> str:
    return " ".join(str(text).split())


def _truncate_torn_tail(path: Path) -> None:
    """Cut a last line that a kill left half-written, so every line in the file is whole."""
    with open(path, "rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if not size:
            return
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        position = size
        while position > 0:
            step = min(65536, position)
            handle.seek(position - step)
            block = handle.read(step)
            newline = block.rfind(b"\n")
            if newline >= 0:
                handle.truncate(position - step + newline + 1)
                return
            position -= step
        handle.truncate(0)


class _DoneIndices:
    """Record indices already scored or skipped, one byte each (a library of 10 million costs 10 MB)."""

    def __init__(self):
        self.flags = bytearray()

    def add(self, index: int) -> None:
        if index >= len(self.flags):
            self.flags.extend(bytes(max(index + 1 - len(self.flags), len(self.flags))))
        self.flags[index] = 1

    def __contains__(self, index: int) -> bool:
        return index < len(self.flags) and self.flags[index] == 1


@dataclass
class _Resumed:
    done: _DoneIndices = field(default_factory=_DoneIndices)
    scored: int = 0
    skipped: int = 0
    reasons: Counter = field(default_factory=Counter)


def _read_header(path: Path) -> dict | None:
    with open(path, "rb") as handle:
        line = handle.readline()
    if not line.endswith(b"\n") or not line.startswith(HEADER_PREFIX.encode()):
        return None
    try:
        return json.loads(line[len(HEADER_PREFIX):].decode("utf-8"))
    except ValueError:
        return None


def _open_state(partial: Path, skipped: Path, header: dict, fresh: bool) -> _Resumed:
    """Start the partial files, or read what an interrupted screen with the same header already did."""
    state = _Resumed()
    if fresh:
        for path in (partial, skipped):
            path.unlink(missing_ok=True)
    found = _read_header(partial) if partial.exists() else None
    if partial.exists() and found is None:
        raise ConvsuiteError(f"{partial} has no screen header line (it is damaged or not a screen's file); pass "
                             f"fresh=True (--fresh) to replace it and start over")
    if found is not None and found != header:
        differing = sorted(key for key in set(header) | set(found) if found.get(key) != header.get(key))
        raise ConvsuiteError(
            f"{partial} holds an unfinished screen with other settings (differing: {', '.join(differing)}); rerun "
            f"with the same arguments to finish it, or pass fresh=True (--fresh) to discard it and start over")
    if found is None:
        partial.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(HEADER_PREFIX + json.dumps(header, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with open(skipped, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerow(SKIPPED_COLUMNS)
        return state
    _truncate_torn_tail(partial)
    with open(partial, "rb") as handle:
        handle.readline()
        for line in handle:
            state.done.add(int(line.split(b",", 1)[0]))
            state.scored += 1
    if not skipped.exists():
        with open(skipped, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerow(SKIPPED_COLUMNS)
        return state
    _truncate_torn_tail(skipped)
    if not skipped.stat().st_size:  # killed while writing its header
        skipped.write_text(",".join(SKIPPED_COLUMNS) + "\n", encoding="utf-8")
    with open(skipped, encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        next(rows, None)
        for row in rows:
            if len(row) == 3 and row[0].isdigit():
                state.done.add(int(row[0]))
                state.skipped += 1
                state.reasons[molecules.reason_kind(row[2])] += 1
    return state


def rank_partial(partial: Path, out: Path) -> int:
    """Write ``out`` (rank, index, name, score, smiles; best first, ties by index) from a partial file, atomically.

    Bounded memory: only (score, index, byte offset) per row is held, in compact arrays; the rows are copied from
    the partial file by offset in ranked order. Returns the number of rows."""
    scores, indices, offsets = array.array("d"), array.array("q"), array.array("q")
    with open(partial, "rb") as handle:
        handle.readline()
        offset = handle.tell()
        for line in handle:
            index, score, _ = line.split(b",", 2)
            indices.append(int(index))
            scores.append(float(score))
            offsets.append(offset)
            offset += len(line)
    index_array = np.frombuffer(indices, np.int64) if len(indices) else np.zeros(0, np.int64)
    score_array = np.frombuffer(scores, np.float64) if len(scores) else np.zeros(0)
    offset_array = np.frombuffer(offsets, np.int64) if len(offsets) else np.zeros(0, np.int64)
    _, first = np.unique(index_array, return_index=True)  # a row written twice is ranked once
    order = first[np.lexsort((index_array[first], -score_array[first]))]
    out.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp", dir=out.parent)
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as target, open(partial, "rb") as source:
            writer = csv.writer(target, lineterminator="\n")
            writer.writerow(OUTPUT_COLUMNS)
            for rank, row in enumerate(order, start=1):
                source.seek(int(offset_array[row]))
                index, score, name, smiles = next(csv.reader([source.readline().decode("utf-8")]))
                writer.writerow((rank, index, name, score, smiles))
            target.flush()
            os.fsync(target.fileno())
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(order)


# --------------------------------------------------------------------------- the screen


@dataclass
class ScreenSummary:
    """What a screen did: ligands scored and skipped (with the reasons' counts), time and rate, where it wrote."""

    scored: int
    skipped: int
    reasons: Counter
    seconds: float
    ligands_per_second: float
    out: Path
    skipped_file: Path | None = None
    models: int = 1
    resumed: int = 0

    def as_dict(self) -> dict:
        return {"scored": self.scored, "skipped": self.skipped, "reasons": dict(self.reasons.most_common()),
                "seconds": round(self.seconds, 3), "ligands_per_second": round(self.ligands_per_second, 2),
                "out": str(self.out), "skipped_file": str(self.skipped_file) if self.skipped_file else None,
                "models": self.models, "resumed": self.resumed}

    def line(self) -> str:
        ensemble = f"an ensemble of {self.models} fold models" if self.models > 1 else "1 model"
        text = (f"screened {self.scored + self.skipped} ligands: {self.scored} scored with {ensemble}, "
                f"{self.skipped} skipped")
        if self.reasons:
            text += " (" + "; ".join(f"{n} {reason}" for reason, n in self.reasons.most_common(3)) + ")"
        if self.resumed:
            text += f"; {self.resumed} were done by an earlier, interrupted screen"
        return (f"{text}; {self.seconds:.1f} s, {self.ligands_per_second:.1f} ligands/s; ranked list: {self.out}"
                + (f", skipped: {self.skipped_file}" if self.skipped and self.skipped_file else ""))


def _check_library(path) -> Path:
    path = Path(path)
    name = path.name.lower()
    if not any(name.endswith(suffix) for suffix in molecules.LIGAND_SUFFIXES):
        raise ConvsuiteError(f"{path}: unknown ligand library type; give the library as "
                             f"{', '.join(molecules.LIGAND_SUFFIXES)}")
    if not path.is_file():
        raise ConvsuiteError(f"{path}: no such ligand library; check the path")
    return path


def _site_box(site, box, spec: voxel.GridSpec) -> tuple[molecules.SiteBox, Chem.Mol | None]:
    """The site box and the site ligand (None without --site).

    ``site`` alone: a box of the grid's size centred on the site ligand; ``box`` sets the box (``site`` then only
    poses SMILES). A box larger than the grid is cut to the grid, which is all the model sees."""
    if site is None and box is None:
        raise ConvsuiteError("no binding site given; pass site= a reference ligand file (--site ref.sdf) or "
                             "box='x,y,z,size' (--box)")
    reference = molecules.read_reference_ligand(site) if site is not None else None
    if box is None:
        return molecules.site_from_ligand(reference, spec.size), reference
    box = box if isinstance(box, molecules.SiteBox) else molecules.parse_box(box)
    if box.size > spec.size:
        box = molecules.SiteBox(box.center, spec.size)
    return box, reference


def _records(library: Path, state: _Resumed, hydrogens: str, seed: int, skip_file, on_skip) -> Iterator[tuple]:
    """``(index, name, mol, smiles)`` of the records still to do; unusable records go straight to the skipped file."""
    for record in molecules.read_ligands(library, embed_smiles=False, seed=seed, hydrogens=hydrogens, allow_2d=True):
        if record.index in state.done:
            continue
        if not record.ok:
            reason = record.reason or "unusable record"
            skip_file.writerow((record.index, _single_line(record.name), _single_line(reason)))
            on_skip(reason)
            continue
        yield record.index, _single_line(record.name), record.mol, _single_line(record.smiles)


def _chunks(records: Iterator[tuple], size: int, context: PoseContext) -> Iterator[tuple[list, PoseContext]]:
    chunk = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk, context
            chunk = []
    if chunk:
        yield chunk, context


def _sync(handle) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def screen(checkpoint, ligands, out, *, receptor=None, site=None, box=None, workers: int = 0, cluster: str = "",
           which: str = "model", batch_size: int = 64, rotations: int = 1, chunk_size: int = 64, seed: int = 0,
           fresh: bool = False, progress: bool = True) -> ScreenSummary:
    """Score every ligand of a library in a binding site with a trained run and write them ranked to ``out``.

    Args:
        checkpoint: run directory of `convsuite train drug` (a cross-validated run's fold models are averaged).
        ligands: the library: .sdf, .mol2, .smi or .ism, optionally gzipped.
        out: the ranked csv (rank, index, name, score, smiles), written at the end.
        receptor: the receptor structure (.pdb, .pdbqt, .mol2), required exactly when the run's grids had one.
        site: the site ligand's file (box of the grid's size centred on it; SMILES are aligned to it).
        box: "x,y,z,size" or a SiteBox, instead of or besides ``site``.
        workers, cluster: the worker pool that poses ligands (0 = every core; 1 = inline; cluster: Ray).
        which: "model" (each fold's last epoch, as the run's numbers) or "best" (its best.keras, else model.keras).
        batch_size: grids per model call. rotations: grids averaged per ligand (the first unrotated).
        chunk_size: records per worker task (and per fsync of the partial files).
        seed: seeds the poses of SMILES (seed + record index) and the rotations.
        fresh: discard the partial files of an interrupted screen with other settings.
        progress: a progress bar and a summary line on stderr.
    """
    started = time.perf_counter()
    for name, value, least in (("batch_size", batch_size, 1), ("rotations", rotations, 1),
                               ("chunk_size", chunk_size, 1), ("workers", workers, 0)):
        if int(value) < least:
            raise ConvsuiteError(f"{name}={value} must be at least {least}")
    run = read_run(checkpoint, which)
    library = _check_library(ligands)
    out = Path(out)
    box, reference = _site_box(site, box, run.spec)
    if run.receptor and receptor is None:
        raise ConvsuiteError(f"this model was trained on grids with receptor atoms: pass --receptor (receptor=) with "
                             f"the target's structure in the site's frame ({run.path / GRID_FILE} says receptor true)")
    if not run.receptor and receptor is not None:
        raise ConvsuiteError(f"this model never saw receptor atoms ({run.path / GRID_FILE}: receptor false; it was "
                             f"trained on ligand-only grids), so scoring with receptor {receptor} would be "
                             f"meaningless: drop --receptor")
    pocket = None
    if receptor is not None:
        structure = molecules.read_receptor(receptor, run.hydrogens)
        molecules.check_receptor_near_site(structure, box)
        pocket = voxel.crop(voxel.atoms_from_mol(structure, "receptor", run.hydrogens), box.center, run.spec)

    header = {"version": HEADER_VERSION, "checkpoint": str(run.path.resolve()),
              "models": [_signature(file) for file in run.model_files], "grid": run.grid,
              "library": _signature(library), "receptor": _signature(receptor) if receptor is not None else None,
              "site": _signature(site) if site is not None else None, "box": [*box.center, box.size],
              "rotations": int(rotations), "seed": int(seed)}
    partial, skipped = partial_path(out), skipped_path(out)
    state = _open_state(partial, skipped, header, fresh)
    resumed = state.scored + state.skipped
    if progress and resumed:
        print(f"screen: resuming {partial}: {state.scored} ligands scored and {state.skipped} skipped already",
              file=sys.stderr)

    models = load_models(run)
    scorer = Scorer(models, run.spec, box.center, pocket, batch_size, rotations, seed)
    context = PoseContext(box, reference, run.hydrogens, int(seed))
    done_now = 0
    from convsuite.common.pool import WorkerPool
    from convsuite.common.progress import counter_bar

    with open(partial, "a", encoding="utf-8", newline="") as rows_handle, \
            open(skipped, "a", encoding="utf-8", newline="") as skipped_handle, \
            counter_bar(total=None, initial=resumed, desc="screening", unit="ligand", enabled=progress) as bar, \
            WorkerPool(workers, cluster) as pool:
        rows = csv.writer(rows_handle, lineterminator="\n")
        skips = csv.writer(skipped_handle, lineterminator="\n")

        def on_skip(reason: str) -> None:
            nonlocal done_now
            state.skipped += 1
            state.reasons[molecules.reason_kind(reason)] += 1
            done_now += 1
            bar.update()

        records = _records(library, state, run.hydrogens, int(seed), skips, on_skip)
        for _, posed in pool.imap_unordered(pose_chunk, _chunks(records, int(chunk_size), context)):
            usable = [p for p in posed if p.atoms is not None]
            scores = scorer([p.index for p in usable], [p.atoms for p in usable]) if usable else []
            for ligand, score in zip(usable, scores):
                rows.writerow((ligand.index, _SCORE_FORMAT.format(float(score)), ligand.name, ligand.smiles))
            for ligand in posed:
                if ligand.atoms is None:
                    skips.writerow((ligand.index, ligand.name, _single_line(ligand.reason)))
                    state.skipped += 1
                    state.reasons[molecules.reason_kind(ligand.reason)] += 1
            state.scored += len(usable)
            done_now += len(posed)
            _sync(rows_handle)
            _sync(skipped_handle)
            bar.update(len(posed))

    scored = rank_partial(partial, out)
    partial.unlink()
    seconds = time.perf_counter() - started
    summary = ScreenSummary(scored=scored, skipped=state.skipped, reasons=state.reasons, seconds=seconds,
                            ligands_per_second=done_now / max(seconds, 1e-9), out=out, skipped_file=skipped,
                            models=len(models), resumed=resumed)
    if progress:
        print(summary.line(), file=sys.stderr)
    return summary


# --------------------------------------------------------------------------- benchmark


def _library_smiles(count: int) -> list[tuple[str, str]]:
    """(SMILES, name) of the first ``count`` molecules of rdkit's NCI sample (first_5K.smi, shipped with rdkit)."""
    from rdkit import RDConfig

    source = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
    if not source.is_file():
        raise ConvsuiteError(f"{source} is missing from the rdkit installation; reinstall rdkit "
                             f"(pip install 'convsuite[drug]')")
    smiles = []
    with open(source, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if parts:
                smiles.append((parts[0], f"NCI{parts[1] if len(parts) > 1 else len(smiles)}"))
            if len(smiles) == count:
                break
    return smiles


def write_fake_run(run_dir: Path, experiment, receptor: bool = False, pose: str = "aligned") -> Path:
    """A run directory holding an untrained model of ``experiment`` (imports Keras): for benchmarks and tests."""
    import keras

    from convsuite.common.config import to_toml
    from convsuite.suites.drug.models import build_model

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.toml").write_text(to_toml(experiment), encoding="utf-8")
    d = experiment.data
    grid = {"grid_size": d.grid_size, "resolution": d.resolution, "density": d.density,
            "radius_scale": d.radius_scale, "hydrogens": d.hydrogens, "receptor": receptor, "pose": pose}
    (run_dir / GRID_FILE).write_text(json.dumps(grid, indent=1), encoding="utf-8")
    keras.saving.save_model(build_model(experiment), run_dir / "model.keras")
    return run_dir


def screening_rate(experiment, ligands: int = 200, workers: int = 1) -> dict:
    """Ligands screened per second end to end (read, embed and align, grid, score) by an untrained model of
    ``experiment`` on the first ``ligands`` SMILES of rdkit's NCI sample, aligned to one of them."""
    smiles = _library_smiles(int(ligands) + 1)
    with tempfile.TemporaryDirectory(prefix="convsuite-screen-") as folder:
        folder = Path(folder)
        run_dir = write_fake_run(folder / "run", experiment)
        reference = molecules.embed_molecule("c1ccc2c(c1)cc(C(=O)Nc1ccc(O)cc1)[nH]2", seed=0)
        with Chem.SDWriter(str(folder / "site.sdf")) as writer:
            writer.write(reference)
        library = folder / "library.smi"
        library.write_text("".join(f"{s} {n}\n" for s, n in smiles[:int(ligands)]), encoding="utf-8")
        with contextlib.redirect_stdout(io.StringIO()):  # model loading may print
            summary = screen(run_dir, library, folder / "ranked.csv", site=folder / "site.sdf", workers=workers,
                             progress=False)
    return {"ligands": int(ligands), "scored": summary.scored, "skipped": summary.skipped, "workers": int(workers),
            "seconds": round(summary.seconds, 2), "ligands_per_s": round(summary.ligands_per_second, 2)}

