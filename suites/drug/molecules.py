"""Reading receptors and ligands for structure-based virtual screening, robustly and in bounded memory.

A screening library has millions of records and some of them are always broken: a pentavalent nitrogen, a 2-D
depiction where a pose was expected, a truncated MOL2 block. ``read_ligands`` streams SDF, MOL2 and SMILES files
(gzipped or not) one record at a time and yields a ``LigandRecord`` for every record, with a one-phrase ``reason``
instead of an exception when the record cannot be used, so a screen can skip it, count it and report it. Only a file
that is not a ligand file at all (unknown suffix, a PDB file named .sdf) or is missing raises ``ConvsuiteError``.

Ligands without a pose (SMILES, and 2-D records when allowed) get one 3-D conformer from RDKit's ETKDG version 3
(Riniker & Landrum 2015, J. Chem. Inf. Model. 55, 2562; Wang, Witek, Landrum & Riniker 2020, J. Chem. Inf. Model. 60,
2044), relaxed with MMFF94 (Halgren 1996, J. Comput. Chem. 17, 490) or UFF (Rappe et al. 1992, J. Am. Chem. Soc.
114, 10024) when MMFF has no parameters. ``align_to_reference`` poses a ligand in a binding site without a docking
engine by superposing ETKDG conformers on the site's crystal ligand with Open3DALIGN (O3A: Tosco, Balogh & Mackey 2011,
J. Cheminform. 3, 32).

The site is a cube (``SiteBox``) centred, as gnina's ``--autobox_ligand`` and the DUD-E preparation tools do, on
the centre of the crystal ligand's bounding box.

Hydrogens are read as the file gives them; which hydrogens reach the grid is the gridder's choice, so the
``hydrogens`` arguments here are only checked (``none``, ``polar`` or ``all``), not applied.

Keras-free: numpy and RDKit only.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import rdDistGeom, rdForceFieldHelpers, rdMolAlign

from convsuite.common.errors import ConvsuiteError

__all__ = [
    "LIGAND_SUFFIXES",
    "RECEPTOR_SUFFIXES",
    "REFERENCE_SUFFIXES",
    "EmbeddingError",
    "LigandRecord",
    "SiteBox",
    "align_to_reference",
    "check_receptor_near_site",
    "embed_molecule",
    "ligand_outside_reason",
    "molecule_key",
    "parse_box",
    "read_ligands",
    "read_receptor",
    "read_reference_ligand",
    "site_from_ligand",
]

LIGAND_SUFFIXES = (".sdf", ".sdf.gz", ".mol2", ".mol2.gz", ".smi", ".smi.gz", ".ism", ".ism.gz")
RECEPTOR_SUFFIXES = (".pdb", ".pdbqt", ".mol2")
REFERENCE_SUFFIXES = (".sdf", ".sdf.gz", ".mol2", ".mol2.gz", ".pdb")
HYDROGEN_CHOICES = ("none", "polar", "all")
WATER_NAMES = frozenset({"HOH", "WAT", "H2O", "DOD", "TIP", "TIP3", "TIP4", "SOL"})

NO_3D_REASON = "no 3-D coordinates (all z = 0); give 3-D poses or SMILES"
_FLAT_Z = 1e-4  # Å: |z| below this on every atom means a 2-D depiction
_SNIFF_BYTES = 65536
_MAX_QUOTE = 80  # characters of a bad SMILES quoted in its reason


class EmbeddingError(ConvsuiteError):
    """ETKDG found no 3-D geometry for a molecule; ``reason`` is the short phrase a LigandRecord carries."""

    def __init__(self, message: str, reason: str = "3-D embedding failed"):
        super().__init__(message)
        self.reason = reason


@dataclass
class LigandRecord:
    """One record of a ligand file: the molecule, or None with the reason it cannot be used.

    ``index`` counts records from 0 in file order (header, comment and blank lines of SMILES files are not records).
    ``smiles`` is the SMILES as written for SMILES files (also when it is invalid) and the canonical isomeric SMILES
    (``molecule_key``) for records of SDF/MOL2 files that parse, else "".
    """

    index: int
    name: str
    mol: Chem.Mol | None
    reason: str = ""
    smiles: str = ""

    @property
    def ok(self) -> bool:
        return self.mol is not None and not self.reason


# ---------------------------------------------------------------------------------------------------------------
# RDKit messages -> reasons


@contextlib.contextmanager
def _rdkit_errors() -> Iterator[list[str]]:
    """Silence RDKit's logging for one call and keep its error messages (filled in on exit) for a reason."""
    captured: list[str] = []
    capture_type = getattr(rdBase, "CaptureErrorLog", None)  # recent RDKit; without it reasons carry no detail
    with rdBase.BlockLogs():
        if capture_type is None:
            yield captured
            return
        capture = capture_type()
        with capture:
            yield captured
        captured.append(capture.messages)


_NOISE = ("****", "----", "Violation occurred", "Failed Expression", "Stacktrace", "moving to the beginning",
          "Post-condition Violation", "Pre-condition Violation", "Invariant Violation", "Range Error")


def _first_message(captured: Iterable[str]) -> str:
    """The first informative line of RDKit's log text, without timestamps, banners and stack traces."""
    for text in captured:
        for line in text.splitlines():
            line = re.sub(r"^\[\d\d:\d\d:\d\d\]\s*", "", line).strip()
            line = re.sub(r"^ERROR:\s*", "", line)
            if not line or re.match(r"^\d+#", line) or any(line.startswith(noise) for noise in _NOISE):
                continue
            return line
    return ""


def _humanise(message: str) -> str:
    """RDKit's message as a phrase; atoms counted from 1, in file order."""
    valence = re.search(r"Explicit valence for atom # ?(\d+) (\w+),? (\d+),? is greater than permitted", message)
    if valence:
        atom, element, value = valence.groups()
        return f"explicit valence {value} on {element}, atom {int(atom) + 1}"
    kekule = re.search(r"Can't kekulize mol\.\s*Unkekulized atoms:\s*([\d ]+)", message)
    if kekule:
        atoms = ", ".join(str(int(a) + 1) for a in kekule.group(1).split())
        return f"cannot kekulise an aromatic ring (atoms {atoms})"
    message = " ".join(message.split()).rstrip(".")
    if len(message) > 1 and not message[1].isupper():
        message = message[0].lower() + message[1:]
    return message[:200]


def _sanitise(mol: Chem.Mol) -> str:
    """Sanitise in place; "" when it worked, else the reason."""
    try:
        with _rdkit_errors():
            Chem.SanitizeMol(mol)
    except Exception as error:  # RDKit raises several MolSanitizeException subclasses and ValueError
        detail = _humanise(str(error)) or type(error).__name__
        return f"rdkit cannot sanitise the record ({detail})"
    return ""


def _quote(text: str) -> str:
    return text if len(text) <= _MAX_QUOTE else text[:_MAX_QUOTE - 3] + "..."


# ---------------------------------------------------------------------------------------------------------------
# Files


def _check_hydrogens(hydrogens: str) -> None:
    if hydrogens not in HYDROGEN_CHOICES:
        raise ConvsuiteError(f"hydrogens={hydrogens!r} is not one of {', '.join(HYDROGEN_CHOICES)}; pick one")


def _existing_file(path, kind: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise ConvsuiteError(f"{path}: no such {kind} file; check the path")
    if not path.is_file():
        raise ConvsuiteError(f"{path}: is a folder, not a {kind} file; give the file itself")
    return path


def _suffix(path: Path, accepted: tuple[str, ...]) -> str | None:
    """The longest accepted suffix the file name ends with (case-insensitive), or None."""
    name = path.name.lower()
    matches = [suffix for suffix in accepted if name.endswith(suffix)]
    return max(matches, key=len) if matches else None


def _open_bytes(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _read_head(path: Path) -> str:
    with _open_bytes(path) as handle:
        return handle.read(_SNIFF_BYTES).decode("utf-8", errors="replace")


def _foreign_format(head: str, expected: str) -> str | None:
    """The format the start of a file looks like when it is not ``expected`` (sdf, mol2, smiles), else None."""
    lines = head.splitlines()
    if expected != "mol2" and any(line.startswith("@<TRIPOS>") for line in lines):
        return "MOL2"
    if any(line.startswith(("ATOM  ", "HETATM")) for line in lines):
        return "PDB"
    if expected != "sdf" and any(line.startswith("M  END") or line.rstrip().endswith(("V2000", "V3000"))
                                 for line in lines):
        return "SDF"
    return None


def _wrong_type(path: Path, looks_like: str | None) -> ConvsuiteError:
    seen = f"it looks like {looks_like}" if looks_like else "its content does not match its suffix"
    return ConvsuiteError(f"{path}: not a ligand file of the type its name says ({seen}); give ligands as "
                          f"{', '.join(LIGAND_SUFFIXES)}")


@contextlib.contextmanager
def _stream_errors(path: Path, done: list[int]):
    """Turn a damaged gzip stream or an unreadable file into a ConvsuiteError that says how far reading got."""
    try:
        yield
    except (OSError, EOFError, zlib.error, SystemError) as error:
        if isinstance(error, SystemError):  # Boost.Python wraps an exception of the Python file RDKit reads from
            error = error.__cause__ or error.__context__
            if not isinstance(error, (OSError, EOFError, zlib.error)):
                raise
        raise ConvsuiteError(f"{path}: reading stopped after {done[0]} records ({error}); the file is damaged or "
                             f"truncated: download or write it again") from error


# ---------------------------------------------------------------------------------------------------------------
# Ligands


def _is_flat(mol: Chem.Mol) -> bool:
    """True when the molecule has no conformer or all its z coordinates are 0 (a 2-D depiction)."""
    if mol.GetNumConformers() == 0:
        return True
    conformer = mol.GetConformer()
    z = conformer.GetPositions()[:, 2]
    if len(z) == 1:
        return not conformer.Is3D() and abs(z[0]) < _FLAT_Z
    return bool(np.all(np.abs(z) < _FLAT_Z))


def _finish(index: int, name: str, mol: Chem.Mol | None, read_failure: str, *, needs_pose: bool,
            embed: bool, seed: int, key: bool = True) -> LigandRecord:
    """Sanitise a parsed record and give it a 3-D pose where it needs one; the record or its reason.

    ``key``: fill ``smiles`` with ``molecule_key`` (SMILES files keep the text as written instead).
    """
    if mol is None:
        return LigandRecord(index, name, None, read_failure)
    if mol.GetNumAtoms() == 0:
        return LigandRecord(index, name, None, "no atoms")
    problem = _sanitise(mol)
    if problem:
        return LigandRecord(index, name, None, problem)
    smiles = molecule_key(mol) if key else ""
    if needs_pose:
        if not embed:
            mol.RemoveAllConformers()  # for callers that embed later: no 2-D coordinates mistaken for a pose
        else:
            try:
                mol = embed_molecule(mol, seed=seed)
            except EmbeddingError as error:
                return LigandRecord(index, name, None, error.reason, smiles)
    return LigandRecord(index, name, mol, "", smiles)


def _from_3d_file(index: int, name: str, mol: Chem.Mol | None, read_failure: str, *, allow_2d: bool,
                  embed: bool, seed: int) -> LigandRecord:
    if mol is not None and mol.GetNumAtoms() and _is_flat(mol) and not allow_2d:
        problem = _sanitise(mol)
        return LigandRecord(index, name, None, problem or NO_3D_REASON, "" if problem else molecule_key(mol))
    needs_pose = mol is not None and mol.GetNumAtoms() > 0 and _is_flat(mol)
    return _finish(index, name, mol, read_failure, needs_pose=needs_pose, embed=embed, seed=seed)


def _sdf_records(path: Path, allow_2d: bool, embed: bool, seed: int) -> Iterator[LigandRecord]:
    done = [0]
    with _stream_errors(path, done), _open_bytes(path) as handle:
        supplier = Chem.ForwardSDMolSupplier(handle, sanitize=False, removeHs=False)
        for index in itertools.count():
            with _rdkit_errors() as captured:
                try:
                    mol = next(supplier)
                except StopIteration:
                    return
            if mol is None:
                if index == 0:
                    looks_like = _foreign_format(_read_head(path), "sdf")
                    if looks_like:
                        raise _wrong_type(path, looks_like)
                detail = _humanise(_first_message(captured)) or "unreadable mol block"
                failure = f"rdkit cannot read the record ({detail})"
                name = f"record{index}"
            else:
                failure = ""
                name = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
                name = name or f"record{index}"
            yield _from_3d_file(index, name, mol, failure, allow_2d=allow_2d, embed=embed, seed=seed)
            done[0] = index + 1


def _mol2_blocks(path: Path) -> Iterator[str]:
    """The text of each @<TRIPOS>MOLECULE block, one at a time; a file without any is not MOL2."""
    block: list[str] = []
    head: list[str] = []
    seen_molecule = False
    with _open_text(path) as handle:
        for line in handle:
            if line.startswith("@<TRIPOS>MOLECULE"):
                if block:
                    yield "".join(block)
                block = [line]
                seen_molecule = True
            elif seen_molecule:
                block.append(line)
            elif line.strip() and not line.startswith("#") and len(head) < 200:
                head.append(line)
    if block:
        yield "".join(block)
    elif head:
        raise _wrong_type(path, _foreign_format("".join(head), "mol2") or "no @<TRIPOS>MOLECULE record")


def _mol2_name(lines: list[str]) -> str:
    name = lines[1].strip() if len(lines) > 1 else ""
    return "" if name == "****" else name


def _mol2_failure(lines: list[str], captured: list[str]) -> str:
    """Why RDKit's (strict) MOL2 reader returned None: its own message, else what is visibly missing."""
    detail = _first_message(captured)
    if detail:
        return f"rdkit cannot read the record ({_humanise(detail)})"
    counts = lines[2].split() if len(lines) > 2 else []
    declared = int(counts[0]) if counts and counts[0].isdigit() else None
    sections = {}
    current = None
    for line in lines:
        if line.startswith("@<TRIPOS>"):
            current = line.strip()[len("@<TRIPOS>"):]
            sections[current] = 0
        elif current and line.strip():
            sections[current] += 1
    atoms = sections.get("ATOM", 0)
    if declared == 0 or atoms == 0:
        return "no atoms"
    if declared is None:
        return "rdkit cannot read the record (no atom count on the line after the molecule name)"
    if atoms < declared:
        return f"truncated record ({atoms} of {declared} atoms)"
    if "BOND" not in sections and declared > 1:
        return "rdkit cannot read the record (no @<TRIPOS>BOND section)"
    return "rdkit cannot read the record (its mol2 reader needs SYBYL atom types and complete ATOM/BOND sections)"


def _mol2_records(path: Path, allow_2d: bool, embed: bool, seed: int) -> Iterator[LigandRecord]:
    done = [0]
    with _stream_errors(path, done):
        for index, block in enumerate(_mol2_blocks(path)):
            lines = block.splitlines()
            name = _mol2_name(lines) or f"record{index}"
            with _rdkit_errors() as captured:
                try:
                    mol = Chem.MolFromMol2Block(block, sanitize=False, removeHs=False)
                except Exception as error:  # some RDKit versions raise on malformed blocks
                    captured.append(str(error))
                    mol = None
            failure = _mol2_failure(lines, captured) if mol is None else ""
            yield _from_3d_file(index, name, mol, failure, allow_2d=allow_2d, embed=embed, seed=seed)
            done[0] = index + 1


def _smiles_lines(handle) -> Iterator[tuple[str, str]]:
    """(SMILES, name) per record line: header, comments and blank lines skipped."""
    first = True
    for line in handle:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if first:
            first = False
            if text.split()[0].lower().startswith("smiles"):
                continue
        parts = text.split("\t", 1) if "\t" in text else text.split(None, 1)
        smiles = parts[0].strip()
        name = " ".join(parts[1].split()) if len(parts) > 1 else ""
        yield smiles, name


def _parse_smiles(smiles: str) -> tuple[Chem.Mol | None, str]:
    """The unsanitised molecule, or None and why the SMILES does not parse."""
    with _rdkit_errors() as captured:
        mol = Chem.MolFromSmiles(smiles, sanitize=False)
    if mol is not None:
        return mol, ""
    detail = _first_message(captured)
    detail = re.sub(r"^SMILES Parse Error:\s*", "", detail)
    detail = re.sub(r"\s*for input:.*$", "", detail)
    reason = f"invalid SMILES '{_quote(smiles)}'"
    return None, f"{reason} ({detail})" if detail else reason


def _smiles_records(path: Path, embed: bool, seed: int) -> Iterator[LigandRecord]:
    done = [0]
    with _stream_errors(path, done), _open_text(path) as handle:
        for index, (smiles, name) in enumerate(_smiles_lines(handle)):
            mol, failure = _parse_smiles(smiles)
            if mol is None and index == 0:
                looks_like = _foreign_format(_read_head(path), "smiles")
                if looks_like:
                    raise _wrong_type(path, looks_like)
            record = _finish(index, name or f"record{index}", mol, failure, needs_pose=True, embed=embed, seed=seed,
                             key=False)
            record.smiles = smiles
            yield record
            done[0] = index + 1


def read_ligands(path, *, embed_smiles: bool = True, seed: int = 0, hydrogens: str = "polar",
                 allow_2d: bool = False) -> Iterator[LigandRecord]:
    """Stream the records of an SDF, MOL2 or SMILES file (optionally gzipped), one LigandRecord each, in order.

    Never holds more than one record, so libraries of any size fit in memory. A record that cannot be used comes
    back with ``mol=None`` and a reason; reading goes on. Records with 3-D coordinates keep their pose and their
    hydrogens as written. SMILES (and 2-D records when ``allow_2d``) are embedded with ``embed_molecule`` (hydrogens
    added, seed ``seed``); with ``embed_smiles=False`` they come back sanitised, without a conformer and with reason
    "": that mode is for callers that only need the chemistry or embed later. SMILES lines are "SMILES name" (the
    name is the rest of the line; "record<index>" when missing).

    Raises ConvsuiteError at the call for a missing file or an unknown suffix, and while reading for a file whose
    content is another format (e.g. PDB records in a .sdf) or a damaged gzip stream.
    """
    _check_hydrogens(hydrogens)
    path = _existing_file(path, "ligand")
    suffix = _suffix(path, LIGAND_SUFFIXES)
    if suffix is None:
        raise ConvsuiteError(f"{path}: unknown ligand file type; give ligands as {', '.join(LIGAND_SUFFIXES)}")
    if suffix.startswith(".sdf"):
        return _sdf_records(path, allow_2d, embed_smiles, seed)
    if suffix.startswith(".mol2"):
        return _mol2_records(path, allow_2d, embed_smiles, seed)
    return _smiles_records(path, embed_smiles, seed)


EMBED_TIMEOUT_S = 10  # a few bridged polycycles make ETKDG search for minutes and then fail


def _etkdg(seed: int) -> rdDistGeom.EmbedParameters:
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = int(seed)
    params.timeout = EMBED_TIMEOUT_S
    return params


def _relax(mol: Chem.Mol, conformer_ids: list[int] | None = None) -> None:
    """MMFF94 where it has parameters for every atom, else UFF, else leave the ETKDG geometry."""
    ids = conformer_ids if conformer_ids is not None else [-1]
    with _rdkit_errors():
        try:
            if rdForceFieldHelpers.MMFFHasAllMoleculeParams(mol):
                for cid in ids:
                    rdForceFieldHelpers.MMFFOptimizeMolecule(mol, maxIters=500, confId=cid)
            elif rdForceFieldHelpers.UFFHasAllMoleculeParams(mol):
                for cid in ids:
                    rdForceFieldHelpers.UFFOptimizeMolecule(mol, maxIters=500, confId=cid)
        except Exception:  # a force-field set-up failure keeps the (valid) ETKDG geometry
            pass


def _with_hydrogens(mol_or_smiles) -> Chem.Mol:
    if isinstance(mol_or_smiles, str):
        mol, failure = _parse_smiles(mol_or_smiles)
        problem = failure or _sanitise(mol)
        if problem:
            raise EmbeddingError(f"cannot embed {_quote(mol_or_smiles)!r}: {problem}; fix the SMILES", problem)
    else:
        mol = Chem.Mol(mol_or_smiles)
    if mol.GetNumAtoms() == 0:
        raise EmbeddingError("cannot embed a molecule with no atoms; give a molecule", "no atoms")
    with _rdkit_errors():
        return Chem.AddHs(mol)


def embed_molecule(mol_or_smiles, seed: int = 0, optimize: bool = True) -> Chem.Mol:
    """One 3-D conformer with all hydrogens (ETKDGv3, then MMFF94, else UFF, when ``optimize``).

    Deterministic for a seed. ETKDG is tried again from random starting coordinates (which helps large rings and
    crowded molecules) before EmbeddingError is raised.
    """
    mol = _with_hydrogens(mol_or_smiles)
    params = _etkdg(seed)
    with _rdkit_errors():
        status = rdDistGeom.EmbedMolecule(mol, params)
        if status < 0:
            params.useRandomCoords = True
            status = rdDistGeom.EmbedMolecule(mol, params)
    if status < 0:
        raise EmbeddingError(f"3-D embedding failed for {_quote(Chem.MolToSmiles(Chem.RemoveHs(mol, sanitize=False)))}"
                             f": ETKDG found no geometry, also from random coordinates; check the structure or give a "
                             f"3-D pose")
    if optimize:
        _relax(mol)
    return mol


def align_to_reference(mol, reference: Chem.Mol, seed: int = 0, conformers: int = 10) -> Chem.Mol:
    """Pose a ligand in a binding site without a docking engine: the conformer that best overlays a site ligand.

    ``conformers`` ETKDGv3 conformers of ``mol`` (hydrogens added, MMFF/UFF-relaxed) are each superposed on the
    reference ligand's pose with Open3DALIGN (O3A; Tosco, Balogh & Mackey 2011, J. Cheminform. 3, 32), which pairs
    atoms by MMFF94 atom type and charge, or by Crippen logP contribution (``GetCrippenO3A``) when either molecule
    lacks MMFF parameters, and the conformer with the best O3A score is returned as a molecule with that single
    conformer (hydrogens included; the score is kept as the property ``o3a_score``). O3A needs no common substructure, so it also poses decoys on an active's site; the pose is a shape
    and pharmacophore overlay, not a docked pose. Deterministic for a seed.
    """
    if reference.GetNumConformers() == 0:
        raise ConvsuiteError("the reference ligand has no coordinates; read it with read_reference_ligand")
    if conformers < 1:
        raise ConvsuiteError(f"conformers={conformers}: need at least 1 conformer to align")
    probe = _with_hydrogens(mol)
    params = _etkdg(seed)
    with _rdkit_errors():
        ids = list(rdDistGeom.EmbedMultipleConfs(probe, int(conformers), params))
        if not ids:
            params.useRandomCoords = True
            ids = list(rdDistGeom.EmbedMultipleConfs(probe, int(conformers), params))
    if not ids:
        raise EmbeddingError(f"3-D embedding failed for {molecule_key(probe)}: ETKDG found no conformer to align; "
                             f"check the structure")
    _relax(probe, ids)
    target = reference
    if not any(atom.GetAtomicNum() == 1 for atom in reference.GetAtoms()):
        with _rdkit_errors():
            target = Chem.AddHs(reference, addCoords=True)  # MMFF typing expects explicit hydrogens
    with _rdkit_errors():
        probe_props = _mmff_properties(probe)
        target_props = _mmff_properties(target)
        best_score, best_id = -np.inf, ids[0]
        for cid in ids:
            if probe_props is not None and target_props is not None:
                o3a = rdMolAlign.GetO3A(probe, target, probe_props, target_props, prbCid=cid)
            else:
                o3a = rdMolAlign.GetCrippenO3A(probe, target, prbCid=cid)
            o3a.Align()
            score = o3a.Score()
            if score > best_score:
                best_score, best_id = score, cid
    posed = Chem.Mol(probe, False, best_id)
    posed.SetDoubleProp("o3a_score", float(best_score))
    return posed


def _mmff_properties(mol: Chem.Mol):
    """MMFF94 atom types and charges for O3A, or None when MMFF cannot type the molecule (Crippen O3A then)."""
    try:
        if not rdForceFieldHelpers.MMFFHasAllMoleculeParams(mol):
            return None
        return rdForceFieldHelpers.MMFFGetMoleculeProperties(mol)
    except Exception:  # a typing failure falls back to the Crippen variant
        return None


def reason_kind(reason: str) -> str:
    """A record's reason without its record-specific details (the quoted SMILES, atom numbers), for counts."""
    return reason.split(" (")[0].split(": ")[0].split(" '")[0][:80]


def molecule_key(mol: Chem.Mol) -> str:
    """Canonical isomeric SMILES without hydrogens: the same molecule read from any file gives the same key."""
    with _rdkit_errors():
        try:
            heavy = Chem.RemoveHs(mol)
        except Exception:
            heavy = Chem.RemoveHs(mol, sanitize=False)
        return Chem.MolToSmiles(heavy, isomericSmiles=True)


# ---------------------------------------------------------------------------------------------------------------
# Receptors and reference ligands


def _pdb_lines(text: str, pdbqt: bool) -> list[str]:
    """Atom, CONECT and TER lines of the first model, waters dropped; PDBQT charge and type columns cut off."""
    kept = []
    for line in text.splitlines():
        record = line[:6]
        if record.startswith("ENDMDL"):
            break
        if record in ("ATOM  ", "HETATM"):
            if line[17:21].strip().upper() in WATER_NAMES:
                continue
            kept.append(line[:66] if pdbqt else line)
        elif record.startswith(("CONECT", "TER")) and not pdbqt:
            kept.append(line)
    return kept


def _count_atom_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.startswith(("ATOM  ", "HETATM")))


def _partially_sanitise(mol: Chem.Mol) -> Chem.Mol:
    """What sanitisation can do on a structure that fails it as a whole (odd protonation states, metals)."""
    mol.UpdatePropertyCache(strict=False)
    flags = (Chem.SanitizeFlags.SANITIZE_FINDRADICALS | Chem.SanitizeFlags.SANITIZE_KEKULIZE
             | Chem.SanitizeFlags.SANITIZE_SETAROMATICITY | Chem.SanitizeFlags.SANITIZE_SETCONJUGATION
             | Chem.SanitizeFlags.SANITIZE_SETHYBRIDIZATION | Chem.SanitizeFlags.SANITIZE_SYMMRINGS)
    Chem.SanitizeMol(mol, flags, catchErrors=True)
    return mol


def _parse_pdb_block(block: str) -> Chem.Mol | None:
    with _rdkit_errors():
        mol = Chem.MolFromPDBBlock(block, removeHs=False, sanitize=True)
        if mol is None:
            mol = Chem.MolFromPDBBlock(block, removeHs=False, sanitize=False)
            if mol is not None:
                mol = _partially_sanitise(mol)
    return mol


def _mol2_water_atoms(text: str) -> list[int]:
    """0-based indices of the atoms whose MOL2 substructure name is a water (HOH1, WAT12, ...)."""
    waters = []
    in_atoms = False
    index = 0
    for line in text.splitlines():
        if line.startswith("@<TRIPOS>"):
            if in_atoms:
                break
            in_atoms = line.strip() == "@<TRIPOS>ATOM"
            continue
        if in_atoms and line.strip():
            fields = line.split()
            if len(fields) > 7 and re.sub(r"\d+$", "", fields[7]).upper() in WATER_NAMES:
                waters.append(index)
            index += 1
    return waters


def _mol2_atom_count(text: str) -> int:
    in_atoms, count = False, 0
    for line in text.splitlines():
        if line.startswith("@<TRIPOS>"):
            if in_atoms:
                break
            in_atoms = line.strip() == "@<TRIPOS>ATOM"
        elif in_atoms and line.strip():
            count += 1
    return count


def _without_atoms(mol: Chem.Mol, indices: list[int]) -> Chem.Mol:
    if not indices:
        return mol
    editable = Chem.RWMol(mol)
    editable.BeginBatchEdit()
    for index in indices:
        editable.RemoveAtom(index)
    editable.CommitBatchEdit()
    return editable.GetMol()


def read_receptor(path, hydrogens: str = "polar") -> Chem.Mol:
    """The receptor of a .pdb, .pdbqt or .mol2 file, waters removed, hydrogens as written.

    Proteins often fail full RDKit sanitisation (unusual protonation, metals); those are kept partially sanitised
    rather than refused, since the gridder needs elements and coordinates, not a valence-perfect graph. Only the
    first model of a multi-model PDB is read.
    """
    _check_hydrogens(hydrogens)
    path = _existing_file(path, "receptor")
    suffix = _suffix(path, RECEPTOR_SUFFIXES)
    if suffix is None:
        raise ConvsuiteError(f"{path}: unknown receptor file type; give the receptor as "
                             f"{', '.join(RECEPTOR_SUFFIXES)}")
    text = path.read_text(encoding="utf-8", errors="replace")
    no_atoms = ConvsuiteError(f"{path}: no atoms in the receptor file")
    if suffix == ".mol2":
        if _mol2_atom_count(text) == 0:
            raise no_atoms
        with _rdkit_errors() as captured:
            mol = Chem.MolFromMol2Block(text, sanitize=True, removeHs=False)
            if mol is None:
                mol = Chem.MolFromMol2Block(text, sanitize=False, removeHs=False)
                if mol is not None:
                    mol = _partially_sanitise(mol)
        if mol is None:
            detail = _humanise(_first_message(captured)) or "its mol2 reader needs SYBYL atom types"
            raise ConvsuiteError(f"{path}: rdkit cannot read the receptor ({detail}); convert it to PDB")
        mol = _without_atoms(mol, _mol2_water_atoms(text))
    else:
        if _count_atom_lines(text) == 0:
            raise no_atoms
        lines = _pdb_lines(text, pdbqt=suffix == ".pdbqt")
        if not any(line.startswith(("ATOM  ", "HETATM")) for line in lines):
            raise ConvsuiteError(f"{path}: no atoms in the receptor file besides waters")
        mol = _parse_pdb_block("\n".join(lines) + "\nEND\n")
        if mol is None:
            raise ConvsuiteError(f"{path}: rdkit cannot read the receptor's ATOM/HETATM records; check the PDB "
                                 f"column layout")
    if mol.GetNumAtoms() == 0:
        raise ConvsuiteError(f"{path}: no atoms in the receptor file besides waters")
    return mol


def read_reference_ligand(path) -> Chem.Mol:
    """The site ligand (e.g. a crystal ligand): the first record of an .sdf, .sdf.gz, .mol2 or .pdb file, in 3-D."""
    path = _existing_file(path, "reference ligand")
    suffix = _suffix(path, REFERENCE_SUFFIXES)
    if suffix is None:
        raise ConvsuiteError(f"{path}: unknown reference ligand file type; give it as {', '.join(REFERENCE_SUFFIXES)}")
    if suffix == ".pdb":
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = _pdb_lines(text, pdbqt=False)
        if not any(line.startswith(("ATOM  ", "HETATM")) for line in lines):
            raise ConvsuiteError(f"{path}: no ligand atoms in the reference ligand file; give the site ligand's pose")
        mol = _parse_pdb_block("\n".join(lines) + "\nEND\n")
        if mol is None or mol.GetNumAtoms() == 0:
            raise ConvsuiteError(f"{path}: rdkit cannot read the reference ligand; give it as 3-D SDF or MOL2")
        if _is_flat(mol):
            raise ConvsuiteError(f"{path}: the reference ligand has {NO_3D_REASON}")
        return mol
    first = next(iter(read_ligands(path, embed_smiles=False)), None)
    if first is None:
        raise ConvsuiteError(f"{path}: no records in the reference ligand file; give the site ligand's 3-D pose")
    if not first.ok:
        raise ConvsuiteError(f"{path}: the first record ({first.name}) is not a usable reference ligand: "
                             f"{first.reason}; give the site ligand's 3-D pose")
    return first.mol


# ---------------------------------------------------------------------------------------------------------------
# The binding site


def _positions(mol: Chem.Mol, heavy_only: bool = False) -> np.ndarray:
    if mol.GetNumConformers() == 0:
        raise ConvsuiteError("the molecule has no coordinates; embed or pose it first")
    positions = mol.GetConformer().GetPositions()
    if heavy_only:
        heavy = np.array([atom.GetAtomicNum() > 1 for atom in mol.GetAtoms()], dtype=bool)
        if heavy.any():
            positions = positions[heavy]
    return positions


@dataclass(frozen=True)
class SiteBox:
    """A cube of edge ``size`` Å centred on the binding site: what the gridder voxelises."""

    center: tuple[float, float, float]
    size: float

    def __post_init__(self):
        try:
            center = tuple(float(value) for value in np.asarray(self.center, dtype=float).reshape(-1))
        except (TypeError, ValueError):
            center = ()
        if len(center) != 3 or not all(np.isfinite(center)):
            raise ConvsuiteError(f"site box centre {self.center!r} is not three finite numbers; give x, y, z in Å")
        try:
            size = float(self.size)
        except (TypeError, ValueError):
            size = float("nan")
        if not np.isfinite(size) or size <= 0:
            raise ConvsuiteError(f"site box size {self.size!r} is not a positive number of Å; give e.g. 24")
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "size", size)

    def contains(self, points, margin: float = 0.0) -> np.ndarray:
        """For each point (an (n, 3) array, Å), whether it lies in the box grown by ``margin`` Å on every side."""
        points = np.asarray(points, dtype=float).reshape(-1, 3)
        return np.all(np.abs(points - np.asarray(self.center)) <= self.size / 2 + margin, axis=1)

    def distance(self, points) -> np.ndarray:
        """Distance (Å) from each point to the box; 0 inside."""
        points = np.asarray(points, dtype=float).reshape(-1, 3)
        outside = np.maximum(np.abs(points - np.asarray(self.center)) - self.size / 2, 0.0)
        return np.linalg.norm(outside, axis=1)


def site_from_ligand(mol: Chem.Mol, size: float) -> SiteBox:
    """The box of edge ``size`` Å centred on the centre of the ligand's heavy-atom bounding box.

    The bounding-box centre (not the centroid) is what gnina's ``--autobox_ligand`` and the DUD-E/AutoDock box
    tools use, so a grid built here covers the same region as theirs.
    """
    positions = _positions(mol, heavy_only=True)
    center = (positions.min(axis=0) + positions.max(axis=0)) / 2
    return SiteBox(tuple(center.tolist()), size)


def parse_box(text: str) -> SiteBox:
    """A SiteBox from "x,y,z,size" (Å), as given on the command line."""
    fields = [field.strip() for field in str(text).split(",")]
    try:
        values = [float(field) for field in fields]
    except ValueError:
        values = []
    if len(values) != 4 or not all(np.isfinite(values)):
        raise ConvsuiteError(f"site box {text!r} is not 'x,y,z,size' with four numbers in Å; give e.g. "
                             f"'12.5,-3.0,40.2,24'")
    if values[3] <= 0:
        raise ConvsuiteError(f"site box {text!r} has size {values[3]:g}; the edge length must be positive Å")
    return SiteBox((values[0], values[1], values[2]), values[3])


def check_receptor_near_site(receptor: Chem.Mol, box: SiteBox, distance: float = 4.0) -> None:
    """Refuse a receptor with no atom within ``distance`` Å of the box: the site and receptor frames differ."""
    if receptor.GetNumConformers() and np.any(box.distance(_positions(receptor)) <= distance):
        return
    x, y, z = box.center
    raise ConvsuiteError(f"the receptor has no atoms within {distance:g} Å of the site box centred at "
                         f"({x:.2f}, {y:.2f}, {z:.2f}); check that the receptor and the site ligand share a frame")


def ligand_outside_reason(mol: Chem.Mol, box: SiteBox, min_inside: float = 0.9) -> str:
    """"" when at least ``min_inside`` of the ligand's heavy atoms lie in the box, else the reason to skip it."""
    if mol.GetNumConformers() == 0:
        return "no 3-D coordinates; embed or pose the ligand first"
    positions = _positions(mol, heavy_only=True)
    inside = int(box.contains(positions).sum())
    total = len(positions)
    if total and inside >= min_inside * total:
        return ""
    return f"ligand outside the site box ({inside} of {total} heavy atoms inside)"
