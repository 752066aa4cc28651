"""Reading ligands and receptors: every bad record gets its reason and reading goes on; wrong files are refused.

All files are written here, by hand where the content matters (a pentavalent nitrogen, a truncated MOL2 block,
SYBYL-typed MOL2, a PDB with a water), so each expected reason is known in advance.
"""

import gzip
import itertools
import time

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from tests.requirements import require

Chem = require("rdkit.Chem", "drug")
molecules = require("convsuite.suites.drug.molecules", "drug")
from convsuite.suites.drug.molecules import (  # noqa: E402 (after the require that names the missing extra)
    LIGAND_SUFFIXES,
    NO_3D_REASON,
    EmbeddingError,
    SiteBox,
    align_to_reference,
    check_receptor_near_site,
    embed_molecule,
    ligand_outside_reason,
    molecule_key,
    parse_box,
    read_ligands,
    read_receptor,
    read_reference_ligand,
    site_from_ligand,
)

# Pentavalent nitrogen (N bonded to five carbons), written by hand with non-zero z so it is not also 2-D.
PENTAVALENT_N = """pentavalent
  hand-written

  6  5  0  0  0  0  0  0  0  0999 V2000
   -1.2990   -1.0000    0.1000 C   0  0  0  0  0  0  0  0  0  0  0  0
    0.0000   -0.2500    0.2000 N   0  0  0  0  0  0  0  0  0  0  0  0
    1.2990   -1.0000    0.3000 C   0  0  0  0  0  0  0  0  0  0  0  0
    0.0000    1.2500    0.4000 C   0  0  0  0  0  0  0  0  0  0  0  0
    1.2990    0.5000    0.5000 C   0  0  0  0  0  0  0  0  0  0  0  0
   -1.2990    0.5000    0.6000 C   0  0  0  0  0  0  0  0  0  0  0  0
  1  2  1  0
  2  3  1  0
  2  4  1  0
  2  5  1  0
  2  6  1  0
M  END
"""

# Ethanol with hydrogens, SYBYL types; coordinates from an ETKDG/MMFF conformer.
ETHANOL_ATOMS = [
    ("C1", 0.8967, -0.0768, -0.0151, "C.3"), ("C2", -0.5765, -0.3513, 0.0599, "C.3"),
    ("O1", -1.3162, 0.8114, 0.2047, "O.3"), ("H1", 1.2724, 0.1453, 1.0130, "H"),
    ("H2", 1.0477, 0.8226, -0.6255, "H"), ("H3", 1.4477, -0.9655, -0.3449, "H"),
    ("H4", -0.7995, -0.9565, 0.9744, "H"), ("H5", -0.8595, -0.9430, -0.8224, "H"),
    ("H6", -1.1128, 1.5137, -0.4442, "H"),
]
ETHANOL_BONDS = [(1, 2, "1"), (2, 3, "1"), (1, 4, "1"), (1, 5, "1"), (1, 6, "1"), (2, 7, "1"), (2, 8, "1"),
                 (3, 9, "1")]
FORMALDEHYDE_ATOMS = [("C1", 0.0, 0.0, 0.0, "C.2"), ("O1", 0.0, 0.0, 1.21, "O.2"),
                      ("H1", 0.94, 0.0, -0.55, "H"), ("H2", -0.94, 0.0, -0.55, "H")]
FORMALDEHYDE_BONDS = [(1, 2, "2"), (1, 3, "1"), (1, 4, "1")]


def mol2_block(name, atoms, bonds, residue="LIG1", declared_atoms=None):
    """A MOL2 record, written without RDKit."""
    lines = ["@<TRIPOS>MOLECULE", name,
             f" {len(atoms) if declared_atoms is None else declared_atoms} {len(bonds)} 1 0 0", "SMALL", "NO_CHARGES",
             "", "@<TRIPOS>ATOM"]
    for number, (atom_name, x, y, z, sybyl) in enumerate(atoms, start=1):
        subst = residue(number) if callable(residue) else residue
        lines.append(f"{number:7d} {atom_name:<6s} {x:10.4f} {y:10.4f} {z:10.4f} {sybyl:<6s} 1 {subst:<6s} 0.0000")
    lines.append("@<TRIPOS>BOND")
    for number, (first, second, order) in enumerate(bonds, start=1):
        lines.append(f"{number:6d} {first:5d} {second:5d} {order}")
    return "\n".join(lines) + "\n"


def sdf_text():
    ethanol = embed_molecule("CCO", seed=0)
    ethanol.SetProp("_Name", "ethanol")
    flat = Chem.MolFromSmiles("Oc1ccccc1")
    require("rdkit.Chem.rdDepictor", "drug").Compute2DCoords(flat)
    flat.SetProp("_Name", "phenol-2d")
    records = [Chem.MolToMolBlock(ethanol), PENTAVALENT_N, Chem.MolToMolBlock(flat)]
    return "".join(record + "$$$$\n" for record in records), ethanol


def summary(records):
    return [(record.index, record.name, record.reason) for record in records]


EXPECTED_SDF = [
    (0, "ethanol", ""),
    (1, "pentavalent", "rdkit cannot sanitise the record (explicit valence 5 on N, atom 2)"),
    (2, "phenol-2d", NO_3D_REASON),
]


def test_sdf_stream_gives_each_bad_record_its_reason_and_keeps_going(tmp_path):
    text, ethanol = sdf_text()
    plain = tmp_path / "library.sdf"
    plain.write_text(text)
    zipped = tmp_path / "library.sdf.gz"
    zipped.write_bytes(gzip.compress(text.encode()))
    for path in (plain, zipped):
        records = list(read_ligands(path))
        assert summary(records) == EXPECTED_SDF
        good = records[0]
        assert good.ok and not records[1].ok and records[1].mol is None and records[2].mol is None
        # the pose and the explicit hydrogens are kept as written
        assert good.mol.GetNumAtoms() == 9
        np.testing.assert_allclose(good.mol.GetConformer().GetPositions(), ethanol.GetConformer().GetPositions(),
                                   atol=1e-3)
        assert good.smiles == "CCO" and records[2].smiles == "Oc1ccccc1"


def test_sdf_2d_records_are_embedded_when_allowed(tmp_path):
    path = tmp_path / "flat.sdf"
    path.write_text(sdf_text()[0])
    records = list(read_ligands(path, allow_2d=True))
    assert [record.ok for record in records] == [True, False, True]
    phenol = records[2].mol
    assert phenol.GetNumAtoms() == 13  # C6H6O with hydrogens added for ETKDG
    assert np.ptp(phenol.GetConformer().GetPositions()[:, 2]) > 0.5  # the ring tilts out of z = 0 after embedding
    # without embedding, the 2-D depiction is dropped rather than passed off as a pose
    later = list(read_ligands(path, allow_2d=True, embed_smiles=False))[2]
    assert later.ok and later.mol.GetNumConformers() == 0


def test_smiles_file_with_header_comment_bad_smiles_and_missing_name(tmp_path):
    path = tmp_path / "library.smi"
    path.write_text("SMILES\tid\n# a comment line\nCCO\tethanol one\nC1CC broken\n\nc1ccccc1\n"
                    "CN(C)(C)(C)C penta\n")
    records = list(read_ligands(path, seed=1))
    assert [(record.index, record.name) for record in records] == [(0, "ethanol one"), (1, "broken"),
                                                                   (2, "record2"), (3, "penta")]
    assert [record.ok for record in records] == [True, False, True, False]
    assert records[1].reason.startswith("invalid SMILES 'C1CC'")  # RDKit >= 2025 adds "(unclosed ring)"
    assert records[3].reason == "rdkit cannot sanitise the record (explicit valence 5 on N, atom 2)"
    assert [record.smiles for record in records] == ["CCO", "C1CC", "c1ccccc1", "CN(C)(C)(C)C"]
    benzene = records[2].mol
    assert benzene.GetNumAtoms() == 12 and benzene.GetNumConformers() == 1  # hydrogens added and kept
    assert molecule_key(benzene) == "c1ccccc1"


def test_mol2_two_molecules_and_a_truncated_block(tmp_path):
    text = (mol2_block("ethanol", ETHANOL_ATOMS, ETHANOL_BONDS)
            + mol2_block("cut-short", ETHANOL_ATOMS[:3], ETHANOL_BONDS[:2], declared_atoms=9)
            + mol2_block("formaldehyde", FORMALDEHYDE_ATOMS, FORMALDEHYDE_BONDS))
    path = tmp_path / "library.mol2"
    path.write_text("# written by hand\n" + text)
    records = list(read_ligands(path))
    assert summary(records) == [(0, "ethanol", ""), (1, "cut-short", "truncated record (3 of 9 atoms)"),
                                (2, "formaldehyde", "")]
    assert [record.smiles for record in records] == ["CCO", "", "C=O"]
    assert records[0].mol.GetNumAtoms() == 9
    zipped = tmp_path / "library.mol2.gz"
    zipped.write_bytes(gzip.compress(text.encode()))
    assert summary(read_ligands(zipped)) == summary(records)


def test_empty_files_yield_nothing(tmp_path):
    for name in ("empty.sdf", "empty.mol2", "empty.smi", "empty.ism.gz"):
        path = tmp_path / name
        if name.endswith(".gz"):
            path.write_bytes(gzip.compress(b""))
        else:
            path.write_text("")
        assert list(read_ligands(path)) == []


def test_wrong_or_missing_files_are_refused_with_the_path(tmp_path):
    text_file = tmp_path / "ligands.txt"
    text_file.write_text("CCO ethanol\n")
    with pytest.raises(ConvsuiteError, match="ligands.txt.*" + LIGAND_SUFFIXES[-1].replace(".", r"\.")):
        read_ligands(text_file)
    pdb_text = Chem.MolToPDBBlock(embed_molecule("CCO"))
    for name in ("protein.sdf", "protein.smi", "protein.mol2"):
        path = tmp_path / name
        path.write_text(pdb_text)
        with pytest.raises(ConvsuiteError, match=f"{name}.*looks like PDB.*\\.sdf, \\.sdf\\.gz"):
            list(read_ligands(path))
    with pytest.raises(ConvsuiteError, match="missing.sdf: no such ligand file"):
        read_ligands(tmp_path / "missing.sdf")
    with pytest.raises(ConvsuiteError, match="hydrogens='some'"):
        read_ligands(text_file, hydrogens="some")


def test_damaged_gzip_stream_is_refused_after_the_records_read(tmp_path):
    block = Chem.MolToMolBlock(embed_molecule("CCO")) + "$$$$\n"
    data = gzip.compress((block * 300).encode())
    path = tmp_path / "cut.sdf.gz"
    path.write_bytes(data[: len(data) // 2])
    read = []
    with pytest.raises(ConvsuiteError, match=r"cut.sdf.gz: reading stopped after \d+ records"):
        for record in read_ligands(path):
            read.append(record)
    assert 0 < len(read) < 300 and all(record.ok for record in read)


def test_smiles_library_is_streamed_lazily(tmp_path, monkeypatch):
    path = tmp_path / "big.smi"
    path.write_text("".join(f"{'C' * (1 + i % 20)}O mol{i}\n" for i in range(2000)))
    parsed = []
    original = molecules.Chem.MolFromSmiles

    def counting(*args, **kwargs):
        parsed.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(molecules.Chem, "MolFromSmiles", counting)
    start = time.perf_counter()
    first = list(itertools.islice(read_ligands(path, embed_smiles=False), 3))
    assert time.perf_counter() - start < 1.0
    assert [record.name for record in first] == ["mol0", "mol1", "mol2"]
    assert all(record.ok and record.mol.GetNumConformers() == 0 for record in first)
    assert parsed == ["CO", "CCO", "CCCO"]  # the other 1,997 lines were never parsed


def pdb_with_water():
    peptide = embed_molecule(Chem.MolFromSequence("GAG"), seed=0)
    lines = [line for line in Chem.MolToPDBBlock(peptide).splitlines() if line.startswith(("ATOM", "HETATM"))]
    water = "HETATM  900  O   HOH W   1      30.000  30.000  30.000  1.00  0.00           O"
    return peptide, lines, water


def test_receptor_pdb_and_pdbqt_are_read_without_waters(tmp_path):
    peptide, lines, water = pdb_with_water()
    path = tmp_path / "receptor.pdb"
    path.write_text("HEADER    TEST\n" + "\n".join(lines + [water, "END"]) + "\n")
    receptor = read_receptor(path)
    assert receptor.GetNumAtoms() == peptide.GetNumAtoms() == len(lines)
    np.testing.assert_allclose(receptor.GetConformer().GetPositions(), peptide.GetConformer().GetPositions(),
                               atol=1e-3)
    # PDBQT: charge and AutoDock type in columns 71-79, where PDB has the element in 77-78, plus torsion-tree
    # records; a chloride ion typed "Cl" must not be read as carbon from column 77
    autodock_type = {"C": "C", "N": "NA", "O": "OA", "H": "HD"}
    pdbqt_lines = [f"{line[:66]}    +0.000 {autodock_type[line[76:78].strip()]:<2s}" for line in lines]
    chloride = "HETATM  901 CL    CL B   1      20.000  20.000  20.000  1.00  0.00    -1.000 Cl"
    pdbqt = tmp_path / "receptor.pdbqt"
    pdbqt.write_text("ROOT\n" + "\n".join(pdbqt_lines + [water, chloride]) + "\nENDROOT\nTORSDOF 0\n")
    from_pdbqt = read_receptor(pdbqt)
    assert ([atom.GetSymbol() for atom in from_pdbqt.GetAtoms()]
            == [atom.GetSymbol() for atom in peptide.GetAtoms()] + ["Cl"])


def test_receptor_that_fails_sanitisation_is_kept_partially_sanitised(tmp_path):
    peptide = pdb_with_water()[0]
    lines = [line for line in Chem.MolToPDBBlock(peptide).splitlines() if line.startswith(("ATOM", "HETATM", "CONECT"))]
    path = tmp_path / "odd.pdb"
    path.write_text("\n".join(lines + ["CONECT    2    4", "END"]) + "\n")  # a 5th bond on glycine's CA
    with molecules.rdBase.BlockLogs():
        assert Chem.MolFromPDBFile(str(path), removeHs=False) is None
    receptor = read_receptor(path)
    assert receptor.GetNumAtoms() == peptide.GetNumAtoms() and receptor.GetAtomWithIdx(1).GetDegree() == 5


def test_receptor_mol2_drops_water_substructures(tmp_path):
    atoms = ETHANOL_ATOMS + [("OW", 9.0, 9.0, 9.0, "O.3")]
    path = tmp_path / "receptor.mol2"
    path.write_text(mol2_block("site", atoms, ETHANOL_BONDS, residue=lambda n: "HOH10" if n == 10 else "EOH1"))
    receptor = read_receptor(path)
    assert receptor.GetNumAtoms() == 9 and molecule_key(receptor) == "CCO"


def test_receptor_files_without_atoms_or_of_the_wrong_type_are_refused(tmp_path):
    empty = tmp_path / "empty.pdb"
    empty.write_text("HEADER    NOTHING\nREMARK   no coordinates\nEND\n")
    with pytest.raises(ConvsuiteError, match="empty.pdb: no atoms in the receptor file"):
        read_receptor(empty)
    only_water = tmp_path / "water.pdb"
    only_water.write_text(pdb_with_water()[2] + "\nEND\n")
    with pytest.raises(ConvsuiteError, match="water.pdb: no atoms in the receptor file"):
        read_receptor(only_water)
    with pytest.raises(ConvsuiteError, match="gone.pdb: no such receptor file"):
        read_receptor(tmp_path / "gone.pdb")
    wrong = tmp_path / "receptor.cif"
    wrong.write_text("data_x\n")
    with pytest.raises(ConvsuiteError, match=r"receptor.cif: unknown receptor file type.*\.pdbqt"):
        read_receptor(wrong)


def test_reference_ligand_is_the_first_3d_record(tmp_path):
    text, ethanol = sdf_text()
    good = tmp_path / "crystal.sdf"
    good.write_text(text)
    assert molecule_key(read_reference_ligand(good)) == "CCO"
    flat = tmp_path / "flat.sdf"
    flat.write_text(text.split("$$$$\n", 2)[2])
    with pytest.raises(ConvsuiteError, match="flat.sdf: the first record \\(phenol-2d\\).*no 3-D coordinates"):
        read_reference_ligand(flat)
    pdb = tmp_path / "crystal.pdb"
    pdb.write_text(Chem.MolToPDBBlock(ethanol))
    assert read_reference_ligand(pdb).GetNumAtoms() == 9
    with pytest.raises(ConvsuiteError, match="crystal.smi: unknown reference ligand file type"):
        (tmp_path / "crystal.smi").write_text("CCO\n")
        read_reference_ligand(tmp_path / "crystal.smi")


def test_embed_molecule_is_deterministic_and_refuses_bad_smiles():
    first = embed_molecule("OCC(N)=O", seed=3)
    second = embed_molecule("OCC(N)=O", seed=3)
    assert first.GetNumAtoms() == 10  # C2H5NO2 -> 5 heavy atoms and 5 hydrogens
    np.testing.assert_array_equal(first.GetConformer().GetPositions(), second.GetConformer().GetPositions())
    with pytest.raises(EmbeddingError, match="C1CC") as caught:
        embed_molecule("C1CC")
    assert isinstance(caught.value, ConvsuiteError) and caught.value.reason.startswith("invalid SMILES")


def test_align_to_reference_lays_a_copy_on_the_reference(monkeypatch):
    rdMolAlign = require("rdkit.Chem.rdMolAlign", "drug")
    smiles = "CC(=O)Nc1ccc(O)cc1"  # paracetamol: one ring, few rotors
    reference = embed_molecule(smiles, seed=7, optimize=False)  # not the MMFF minimum the probe relaxes to
    conformer = reference.GetConformer()
    shift = np.array([12.0, -4.0, 7.5])  # far from the origin, where ETKDG puts conformers
    for atom, position in enumerate(conformer.GetPositions() + shift):
        conformer.SetAtomPosition(atom, position.tolist())
    reference = Chem.RemoveHs(reference)  # crystal ligands usually come without hydrogens
    posed = align_to_reference(Chem.MolFromSmiles(smiles), reference, seed=0, conformers=4)
    again = align_to_reference(Chem.MolFromSmiles(smiles), reference, seed=0, conformers=4)
    assert posed.GetNumConformers() == 1
    np.testing.assert_allclose(posed.GetConformer().GetPositions(), again.GetConformer().GetPositions())
    heavy = Chem.RemoveHs(posed)
    rmsd = rdMolAlign.CalcRMS(heavy, reference)  # in place: no further superposition
    assert rmsd < 1.5
    centroid_gap = np.linalg.norm(heavy.GetConformer().GetPositions().mean(0)
                                  - reference.GetConformer().GetPositions().mean(0))
    assert centroid_gap < 1.0
    # the Crippen variant, used when MMFF cannot type a molecule, poses it as well
    monkeypatch.setattr(molecules, "_mmff_properties", lambda mol: None)
    crippen = align_to_reference(Chem.MolFromSmiles(smiles), reference, seed=0, conformers=4)
    assert rdMolAlign.CalcRMS(Chem.RemoveHs(crippen), reference) < 1.5


def hand_placed(smiles_with_hs, positions):
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles_with_hs))
    conformer = Chem.Conformer(mol.GetNumAtoms())
    for atom, position in enumerate(positions):
        conformer.SetAtomPosition(atom, position)
    mol.AddConformer(conformer, assignId=True)
    return mol


def test_site_box_from_ligand_and_outside_reason():
    # propane's three carbons by hand; its hydrogens all at one far point that must not move the centre
    positions = [(0.0, 0.0, 0.0), (4.0, 2.0, 0.0), (2.0, 6.0, 10.0)] + [(50.0, 50.0, 50.0)] * 8
    propane = hand_placed("CCC", positions)
    box = site_from_ligand(propane, 12.0)
    assert box == SiteBox((2.0, 3.0, 5.0), 12.0)  # bounding-box centre, not the centroid (2, 2.667, 3.333)
    np.testing.assert_array_equal(box.contains([[2, 3, 5], [8, 9, 11], [8.5, 3, 5], [2, 3, -1.2]]),
                                  [True, True, False, False])
    np.testing.assert_array_equal(box.contains([[8.5, 3, 5]], margin=0.5), [True])
    assert ligand_outside_reason(propane, box) == ""
    small = SiteBox((0.0, 0.0, 0.0), 4.0)  # holds only the carbon at the origin
    assert ligand_outside_reason(propane, small) == "ligand outside the site box (1 of 3 heavy atoms inside)"
    assert ligand_outside_reason(propane, small, min_inside=1 / 3) == ""
    with pytest.raises(ConvsuiteError, match="size"):
        SiteBox((0.0, 0.0, 0.0), 0.0)


def test_receptor_must_reach_the_site():
    receptor = hand_placed("O", [(10.0, 0.0, 0.0), (10.5, 0.5, 0.0), (10.5, -0.5, 0.0)])
    near = SiteBox((0.0, 0.0, 0.0), 12.0)  # face at x = 6: the O is 4.0 Å away
    check_receptor_near_site(receptor, near, distance=4.0)
    with pytest.raises(ConvsuiteError, match=r"no atoms within 3 Å of the site box centred at \(0.00, 0.00, 0.00\)"):
        check_receptor_near_site(receptor, near, distance=3.0)


def test_parse_box():
    assert parse_box("12.5, -3, 40.25,24") == SiteBox((12.5, -3.0, 40.25), 24.0)
    for text in ("1,2,3", "a,b,c,d", "1,2,3,-4", "1,2,3,nan", "1,2,3,4,5", ""):
        with pytest.raises(ConvsuiteError, match="site box"):
            parse_box(text)


def test_molecule_key_ignores_hydrogens_and_keeps_stereo(tmp_path):
    smiles = "C[C@H](N)O"
    posed = embed_molecule(smiles, seed=2)
    assert molecule_key(posed) == molecule_key(Chem.MolFromSmiles(smiles)) == "C[C@H](N)O"
    assert molecule_key(Chem.MolFromSmiles("C[C@@H](N)O")) != molecule_key(posed)
    path = tmp_path / "one.sdf"
    path.write_text(Chem.MolToMolBlock(posed) + "$$$$\n")
    assert next(read_ligands(path)).smiles == "C[C@H](N)O"  # stereo read back from the 3-D pose
