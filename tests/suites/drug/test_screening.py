"""`convsuite drug screen`: a tiny untrained AtomNet run ranks a SMILES library and an SDF library. The ranked
csv holds every usable ligand once, best first; the skipped file names the broken records with their reasons;
every score equals a direct model call on grids made here from the same poses (with the pocket atoms when the
run used a receptor, averaged over fold models and rotations); a killed screen resumes without posing any
ligand twice and ends with the uninterrupted screen's output; wrong settings are refused before any ligand is
read."""

import argparse
import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.requirements import require

Chem = require("rdkit.Chem", "drug")
AllChem = require("rdkit.Chem.AllChem", "drug")

from convsuite.common.errors import ConvsuiteError  # noqa: E402
from convsuite.suites.drug import molecules, screening, voxel  # noqa: E402

VALID = ["CCO", "CCN", "CCC", "CO", "CN", "c1ccccc1", "c1ccncc1", "CC(=O)O", "CC(C)O", "OCCO", "NCCN", "CCCl",
         "CC#N", "C=CC", "CCOC", "CC(N)=O", "c1ccoc1"]
INVALID = {3: "C1CC", 8: "xyz(", 14: "C(C)(C)(C)(C)C"}  # unclosed ring, syntax error, pentavalent carbon
SITE_SMILES = "Oc1ccccc1"
SEED = 0
TOLERANCE = 1e-5  # a compiled predict step and an eager call of the same model differ by float rounding


def smiles_lines() -> list[tuple[str, str]]:
    """(SMILES, name) in file order: the valid ones with the invalid ones put at the indices of INVALID."""
    valid = iter(VALID)
    count = len(VALID) + len(INVALID)
    return [(INVALID[i], f"bad{i}") if i in INVALID else (next(valid), f"mol{i}") for i in range(count)]


def tiny_experiment():
    from convsuite.suites.drug.config import EXPERIMENTS

    experiment = EXPERIMENTS["atomnet-registry"]()
    experiment.data.grid_size, experiment.data.resolution = 8.0, 1.0
    experiment.model.filters, experiment.model.kernels, experiment.model.dense_units = [4], [3], [8]
    experiment.model.pool_first = False
    return experiment


def write_run(run_dir: Path, receptor: bool = False, seeds=(1,), folds: bool = False, biases=None) -> list[Path]:
    """A run directory with grid.json and config.toml and one untrained model per seed (fold models when
    ``folds``), its output bias set when ``biases`` gives one per model; returns the model files."""
    import keras

    from convsuite.common.config import to_toml
    from convsuite.suites.drug.models import build_model

    experiment = tiny_experiment()
    run_dir.mkdir(parents=True)
    (run_dir / "config.toml").write_text(to_toml(experiment), encoding="utf-8")
    d = experiment.data
    (run_dir / "grid.json").write_text(json.dumps(
        {"grid_size": d.grid_size, "resolution": d.resolution, "density": d.density, "radius_scale": d.radius_scale,
         "hydrogens": d.hydrogens, "receptor": receptor, "pose": "aligned"}), encoding="utf-8")
    files = []
    for k, seed in enumerate(seeds):
        keras.utils.set_random_seed(seed)
        folder = run_dir / "folds" / str(k + 1) if folds else run_dir
        folder.mkdir(parents=True, exist_ok=True)
        model = build_model(experiment)
        if biases is not None:
            model.get_layer("active").bias.assign([biases[k]])
        keras.saving.save_model(model, folder / "model.keras")
        files.append(folder / "model.keras")
    return files


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The run, the site ligand, the libraries and a receptor, written once for the module."""
    from convsuite.common.cli import start_keras

    start_keras("tensorflow")
    root = tmp_path_factory.mktemp("screen")
    models = write_run(root / "run")
    reference = molecules.embed_molecule(SITE_SMILES, seed=0)
    with Chem.SDWriter(str(root / "site.sdf")) as writer:
        writer.write(reference)
    (root / "library.smi").write_text("".join(f"{s} {n}\n" for s, n in smiles_lines()), encoding="utf-8")

    center = np.asarray(molecules.site_from_ligand(reference, 8.0).center)
    posed = molecules.embed_molecule("CC(=O)N", seed=3)  # acetamide, moved onto the site
    _translate(posed, center - posed.GetConformer().GetPositions().mean(axis=0))
    far = Chem.Mol(posed)
    _translate(far, np.array([40.0, 0.0, 0.0]))
    flat = Chem.MolFromSmiles("CCO")  # 2-D depiction: aligned like a SMILES record
    AllChem.Compute2DCoords(flat)
    blocks = [_block(posed, "posed"), "broken\n  junk\n\n  x  y  0  0  0  0  0  0  0  0999 V2000\nM  END\n",
              _block(flat, "flat"), _block(far, "far")]
    (root / "library.sdf").write_text("$$$$\n".join(blocks) + "$$$$\n", encoding="utf-8")

    pocket = Chem.AddHs(Chem.MolFromSequence("GAG"))
    AllChem.EmbedMolecule(pocket, randomSeed=0)
    shift = center + np.array([3.5, 0.0, 0.0]) - pocket.GetConformer().GetPositions().mean(axis=0)
    _translate(pocket, shift)
    Chem.MolToPDBFile(pocket, str(root / "near.pdb"))
    _translate(pocket, np.array([60.0, 0.0, 0.0]))
    Chem.MolToPDBFile(pocket, str(root / "far.pdb"))

    import keras

    return {"root": root, "run": root / "run", "model": keras.saving.load_model(models[0]), "reference": reference,
            "center": center, "posed": posed, "smi": root / "library.smi", "sdf": root / "library.sdf"}


def _translate(mol, shift) -> None:
    conformer = mol.GetConformer()
    positions = conformer.GetPositions() + np.asarray(shift)
    for i, point in enumerate(positions):
        conformer.SetAtomPosition(i, point.tolist())


def _block(mol, name: str) -> str:
    mol = Chem.Mol(mol)
    mol.SetProp("_Name", name)
    return Chem.MolToMolBlock(mol)


def _screen(world, library, out, **settings):
    settings = {"site": world["root"] / "site.sdf", "workers": 1, "chunk_size": 4, "batch_size": 4,
                "progress": False, "seed": SEED, **settings}
    return screening.screen(settings.pop("checkpoint", world["run"]), library, out, **settings)


def read_csv(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def spec() -> voxel.GridSpec:
    return voxel.GridSpec(8.0, 1.0, "gaussian", 1.0)


def direct_scores(models, atom_sets, center, rotations_list=None) -> np.ndarray:
    """The mean probability of ``models`` over grids made here, unrotated (or in the given rotations)."""
    total = np.zeros(len(atom_sets))
    orientations = rotations_list or [None]
    for rotation in orientations:
        grids = np.stack([voxel.voxelize(atoms, center, spec(), rotation=rotation) for atoms in atom_sets])
        for model in models:
            total += np.asarray(model(grids.astype(np.float16), training=False)).reshape(-1)
    return total / (len(orientations) * len(models))


@pytest.fixture(scope="module")
def baseline(world):
    """The uninterrupted screen of the SMILES library."""
    out = world["root"] / "baseline" / "ranked.csv"
    summary = _screen(world, world["smi"], out)
    return summary, read_csv(out), read_csv(screening.skipped_path(out))


def test_ranked_csv_holds_every_valid_ligand_once_best_first(world, baseline):
    summary, rows, skipped = baseline
    lines = smiles_lines()
    valid_indices = sorted(i for i in range(len(lines)) if i not in INVALID)
    assert sorted(int(r["index"]) for r in rows) == valid_indices
    assert [int(r["rank"]) for r in rows] == list(range(1, len(VALID) + 1))
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) > 3  # an untrained model still varies
    for row in rows:
        assert (row["smiles"], row["name"]) == lines[int(row["index"])]
    assert {int(r["index"]): r["name"] for r in skipped} == {i: f"bad{i}" for i in INVALID}
    reasons = {int(r["index"]): r["reason"] for r in skipped}
    assert reasons[3].startswith("invalid SMILES 'C1CC'") and reasons[8].startswith("invalid SMILES 'xyz('")
    assert "valence" in reasons[14]
    assert (summary.scored, summary.skipped, summary.resumed, summary.models) == (len(VALID), 3, 0, 1)
    assert summary.reasons == {"invalid SMILES": 2, "rdkit cannot sanitise the record": 1}
    assert not screening.partial_path(summary.out).exists()
    assert f"{len(VALID)} scored" in summary.line()


def test_scores_equal_a_direct_model_call_on_the_same_poses(world, baseline):
    _, rows, _ = baseline
    chosen = [r for r in rows if r["smiles"] in ("CCO", "c1ccccc1", "CC(=O)O")]
    atom_sets = []
    for row in chosen:  # the pose a worker makes: ETKDG conformers aligned to the site ligand, seed + index
        mol = Chem.MolFromSmiles(row["smiles"])
        posed = molecules.align_to_reference(mol, world["reference"], seed=SEED + int(row["index"]))
        atom_sets.append(voxel.atoms_from_mol(posed, "ligand", "none"))
    expected = direct_scores([world["model"]], atom_sets, world["center"])
    assert np.allclose([float(r["score"]) for r in chosen], expected, atol=TOLERANCE)


def test_sdf_library_uses_3d_poses_and_skips_broken_and_outside_records(world, tmp_path):
    out = tmp_path / "sdf.csv"
    summary = _screen(world, world["sdf"], out, rotations=3)
    rows, skipped = read_csv(out), read_csv(tmp_path / "sdf.skipped.csv")
    assert sorted((int(r["index"]), r["name"]) for r in rows) == [(0, "posed"), (2, "flat")]
    reasons = {int(r["index"]): r["reason"] for r in skipped}
    assert sorted(reasons) == [1, 3]
    assert reasons[1].startswith("rdkit cannot read the record")
    assert reasons[3] == "ligand outside the site box (0 of 4 heavy atoms inside)"
    assert summary.reasons == {"rdkit cannot read the record": 1, "ligand outside the site box": 1}
    # the 3-D record as given, averaged over the unrotated grid and two rotations seeded by (seed, index)
    rng = np.random.default_rng([SEED, 0])
    rotations = [None, voxel.random_rotation(rng), voxel.random_rotation(rng)]
    expected = direct_scores([world["model"]], [voxel.atoms_from_mol(world["posed"], "ligand", "none")],
                             world["center"], rotations)
    assert float(next(r["score"] for r in rows if r["name"] == "posed")) == pytest.approx(expected[0], abs=TOLERANCE)
    assert rows[0]["smiles"] == "CC(N)=O"


REAL_POSE_LIGAND = screening.pose_ligand


class Interrupted(BaseException):
    """Stands for a kill in the middle of a chunk: no ``except Exception`` stops it (and, unlike
    KeyboardInterrupt, it cannot stop pytest)."""


def _interrupted(world, library, out):
    with pytest.raises(Interrupted):
        _screen(world, library, out)


def _counting(monkeypatch, stop_after: int | None = None) -> list[int]:
    """Count the ligands posed (inline workers); raise an interruption at call ``stop_after`` + 1."""
    posed: list[int] = []
    def counting(index, mol, context):
        if stop_after is not None and len(posed) == stop_after:
            raise Interrupted
        posed.append(index)
        return REAL_POSE_LIGAND(index, mol, context)

    monkeypatch.setattr(screening, "pose_ligand", counting)
    return posed


def test_killed_screen_resumes_without_posing_a_ligand_twice(world, baseline, tmp_path, monkeypatch):
    out = tmp_path / "ranked.csv"
    first = _counting(monkeypatch, stop_after=6)  # chunks of 4: the first is saved, the second dies in its middle
    _interrupted(world, world["smi"], out)
    assert not out.exists()
    partial_rows = screening.partial_path(out).read_text(encoding="utf-8").splitlines()[1:]
    assert sorted(int(line.split(",")[0]) for line in partial_rows) == sorted(first[:4])

    with open(screening.partial_path(out), "a", encoding="utf-8") as handle:
        handle.write("99,0.1234")  # a row the kill cut in the middle: dropped on resume
    with pytest.raises(ConvsuiteError, match="fresh"):  # other settings: refused, the partial file kept
        _screen(world, world["smi"], out, seed=SEED + 1)
    assert screening.partial_path(out).exists()

    second = _counting(monkeypatch)
    summary = _screen(world, world["smi"], out)
    assert len(second) == len(VALID) - 4 and not set(second) & set(first[:4])
    assert sorted(first[:4] + second) == sorted(i for i in range(len(smiles_lines())) if i not in INVALID)
    assert summary.resumed >= 4 and summary.scored == len(VALID) and summary.skipped == len(INVALID)
    rows, expected = read_csv(out), baseline[1]
    assert [(r["index"], r["name"], r["smiles"]) for r in rows] == [(r["index"], r["name"], r["smiles"])
                                                                    for r in expected]
    assert np.allclose([float(r["score"]) for r in rows], [float(r["score"]) for r in expected], atol=1e-7)
    assert sorted(r["index"] for r in read_csv(screening.skipped_path(out))) == sorted(str(i) for i in INVALID)


def test_fresh_discards_an_interrupted_screen_with_other_settings(world, tmp_path, monkeypatch):
    out = tmp_path / "ranked.csv"
    _counting(monkeypatch, stop_after=5)
    _interrupted(world, world["smi"], out)
    posed = _counting(monkeypatch)
    summary = _screen(world, world["smi"], out, seed=7, fresh=True)
    assert len(posed) == len(VALID) and summary.resumed == 0 and summary.scored == len(VALID)
    assert screening.skipped_path(out).read_text(encoding="utf-8").count("\n") == 1 + len(INVALID)


def test_worker_processes_give_the_inline_ranking(world, baseline, tmp_path):
    out = tmp_path / "ranked.csv"
    summary = _screen(world, world["smi"], out, workers=2, chunk_size=5, batch_size=8)
    rows = read_csv(out)
    assert summary.scored == len(VALID)
    assert [r["index"] for r in rows] == [r["index"] for r in baseline[1]]
    assert np.allclose([float(r["score"]) for r in rows], [float(r["score"]) for r in baseline[1]], atol=1e-6)


def test_cross_validated_run_scores_with_the_mean_of_its_fold_models(world, tmp_path):
    import keras

    files = write_run(tmp_path / "cv", seeds=(2, 3), folds=True, biases=(1.0, -1.0))
    out = tmp_path / "cv.csv"
    summary = _screen(world, world["sdf"], out, checkpoint=tmp_path / "cv")
    models = [keras.saving.load_model(file) for file in files]
    atoms = voxel.atoms_from_mol(world["posed"], "ligand", "none")
    one = [direct_scores([model], [atoms], world["center"])[0] for model in models]
    assert one[0] > 0.6 and one[1] < 0.4  # two different models, so the mean is not either one
    score = float(next(r["score"] for r in read_csv(out) if r["name"] == "posed"))
    assert score == pytest.approx((one[0] + one[1]) / 2, abs=TOLERANCE)
    assert summary.models == 2 and "ensemble of 2 fold models" in summary.line()


def test_receptor_pocket_atoms_enter_the_grid_when_the_run_used_them(world, tmp_path):
    run = tmp_path / "with-receptor"
    shutil.copytree(world["run"], run)
    grid = json.loads((run / "grid.json").read_text())
    (run / "grid.json").write_text(json.dumps({**grid, "receptor": True}))
    out = tmp_path / "pocket.csv"
    _screen(world, world["sdf"], out, checkpoint=run, receptor=world["root"] / "near.pdb")
    receptor = molecules.read_receptor(world["root"] / "near.pdb", "none")
    pocket = voxel.crop(voxel.atoms_from_mol(receptor, "receptor", "none"), world["center"], spec())
    ligand = voxel.atoms_from_mol(world["posed"], "ligand", "none")
    with_pocket, alone = direct_scores([world["model"]], [voxel.concatenate(pocket, ligand), ligand], world["center"])
    assert abs(with_pocket - alone) > 1e-3
    score = float(next(r["score"] for r in read_csv(out) if r["name"] == "posed"))
    assert score == pytest.approx(with_pocket, abs=TOLERANCE)

    with pytest.raises(ConvsuiteError, match="trained on grids with receptor atoms: pass --receptor"):
        _screen(world, world["sdf"], tmp_path / "x.csv", checkpoint=run)
    with pytest.raises(ConvsuiteError, match="never saw receptor atoms"):
        _screen(world, world["sdf"], tmp_path / "x.csv", receptor=world["root"] / "near.pdb")


def test_receptor_away_from_the_site_is_refused_before_reading_ligands(world, tmp_path, monkeypatch):
    run = tmp_path / "with-receptor"
    shutil.copytree(world["run"], run)
    grid = json.loads((run / "grid.json").read_text())
    (run / "grid.json").write_text(json.dumps({**grid, "receptor": True}))

    reader = molecules.read_ligands

    def no_reading(path, **kwargs):  # the site ligand is read with it too
        assert Path(path) != world["smi"], "the library was read"
        return reader(path, **kwargs)

    monkeypatch.setattr(molecules, "read_ligands", no_reading)
    with pytest.raises(ConvsuiteError, match="no atoms within 4 Å of the site box"):
        _screen(world, world["smi"], tmp_path / "x.csv", checkpoint=run, receptor=world["root"] / "far.pdb")
    assert not screening.partial_path(tmp_path / "x.csv").exists()


def test_bad_arguments_are_refused_with_what_to_do(world, tmp_path):
    wrong = tmp_path / "library.txt"
    wrong.write_text("CCO a\n")
    with pytest.raises(ConvsuiteError, match="unknown ligand library type"):
        _screen(world, wrong, tmp_path / "x.csv")
    with pytest.raises(ConvsuiteError, match="convsuite train drug"):
        _screen(world, world["smi"], tmp_path / "x.csv", checkpoint=tmp_path)
    (tmp_path / "config.toml").write_text("")
    (tmp_path / "grid.json").write_text('{"grid_size": 8.0, "resolution": 1.0, "density": "gaussian", '
                                        '"radius_scale": 1.0}')
    with pytest.raises(ConvsuiteError, match="no model.keras.*convsuite train drug"):
        _screen(world, world["smi"], tmp_path / "x.csv", checkpoint=tmp_path)
    with pytest.raises(ConvsuiteError, match="no binding site"):
        _screen(world, world["smi"], tmp_path / "x.csv", site=None)
    # only a box: SMILES cannot be aligned to anything, so they are skipped with the reason
    center = world["center"]
    summary = _screen(world, world["sdf"], tmp_path / "box.csv", site=None,
                      box=f"{center[0]},{center[1]},{center[2]},8")
    assert summary.scored == 1 and summary.reasons[molecules.reason_kind(screening.NO_SITE_LIGAND_REASON)] == 1


def test_rank_partial_sorts_by_score_then_index_and_keeps_each_index_once(tmp_path):
    partial, out = tmp_path / "r.csv.partial", tmp_path / "r.csv"
    partial.write_text(screening.HEADER_PREFIX + "{}\n" + "5,0.25000000,e,CC\n" + '2,0.75000000,"b, two",CO\n'
                       + "9,0.25000000,i,CN\n" + "2,0.75000000,\"b, two\",CO\n" + "1,0.90000000,a,C\n",
                       encoding="utf-8")
    assert screening.rank_partial(partial, out) == 4
    assert out.read_text(encoding="utf-8").splitlines() == [
        "rank,index,name,score,smiles", "1,1,a,0.90000000,C", '2,2,"b, two",0.75000000,CO', "3,5,e,0.25000000,CC",
        "4,9,i,0.25000000,CN"]


def test_cli_screens_and_prints_the_summary_as_json(world, tmp_path, capsys):
    from convsuite.suites.drug import commands

    parser = argparse.ArgumentParser()
    commands.add_arguments(parser)
    out = tmp_path / "cli.csv"
    args = parser.parse_args(["screen", "--checkpoint", str(world["run"]), "--ligands", str(world["sdf"]),
                              "--out", str(out), "--site", str(world["root"] / "site.sdf"), "--workers", "1",
                              "--no-progress", "--json", "--batch-size", "4", "--rotations", "1"])
    assert commands.run(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["scored"], summary["skipped"], summary["out"]) == (2, 2, str(out))
    assert len(read_csv(out)) == 2


def test_screening_rate_runs_end_to_end(world):
    rate = screening.screening_rate(tiny_experiment(), ligands=4, workers=1)
    assert rate["ligands"] == 4 and rate["scored"] + rate["skipped"] == 4 and rate["ligands_per_s"] > 0


def test_modules_import_without_keras():
    import subprocess
    import sys

    code = ("import sys, convsuite.suites.drug.screening, convsuite.suites.drug.commands; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
