"""Voxel grids: densities computed by hand, channel typing of real molecules, a slow reference, augmentation.

Timings (not a test): `.venv/bin/python -m tests.suites.drug.test_voxel` prints how long a 20 Å / 1 Å and a
24 Å / 0.5 Å grid of a 30-atom ligand and a 600-atom pocket take.
"""

import math
import pickle

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from tests.requirements import require

require("rdkit", "drug")

from rdkit import Chem  # noqa: E402
from rdkit.Chem import AllChem  # noqa: E402

from convsuite.suites.drug.voxel import (  # noqa: E402
    ATOM_PROPERTIES,
    CHANNEL_NAMES,
    ELEMENT_GROUPS,
    AtomSet,
    GridSpec,
    _feature_atoms,
    _feature_factory,
    atoms_from_mol,
    concatenate,
    crop,
    ligand_atoms_in_box,
    random_rotation,
    voxelize,
    voxelize_batch,
)


def bit(name: str) -> int:
    return 1 << CHANNEL_NAMES.index(name)


def names_of(mask) -> set[str]:
    return {name for i, name in enumerate(CHANNEL_NAMES) if int(mask) >> i & 1}


def voxel_centre(index, center, spec: GridSpec) -> np.ndarray:
    """The definition: centre of voxel (i, j, k) is center + (index + 0.5 - D/2) * resolution."""
    return np.asarray(center, float) + (np.asarray(index, float) + 0.5 - spec.dim / 2) * spec.resolution


def embedded(smiles: str) -> Chem.Mol:
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    assert AllChem.EmbedMolecule(mol, randomSeed=0) == 0
    return mol


def gnina_density(d: float, r: float) -> float:
    """Ragoza et al. (2017), written out for one distance."""
    if d < r:
        return math.exp(-2 * d * d / (r * r))
    if d < 1.5 * r:
        e2 = math.e ** 2
        return 4 / (e2 * r * r) * d * d - 12 / (e2 * r) * d + 9 / e2
    return 0.0


def slow_voxelize(atoms: AtomSet, center, spec: GridSpec, rotation=None, translation=None) -> np.ndarray:
    """Reference: every atom, every channel, every voxel, one at a time."""
    dim = spec.dim
    grid = np.zeros((dim, dim, dim, len(CHANNEL_NAMES)))
    center = np.asarray(center, float)
    rotation = np.eye(3) if rotation is None else rotation
    translation = np.zeros(3) if translation is None else np.asarray(translation, float)
    for coords, mask, radius in zip(atoms.coords.astype(float), atoms.channels, atoms.radii.astype(float)):
        position = (coords - center) @ rotation.T + center + translation
        r = radius * spec.radius_scale
        for channel in range(len(CHANNEL_NAMES)):
            if not int(mask) >> channel & 1:
                continue
            for i in range(dim):
                for j in range(dim):
                    for k in range(dim):
                        d = float(np.linalg.norm(voxel_centre((i, j, k), center, spec) - position))
                        if spec.density == "gaussian":
                            grid[i, j, k, channel] += gnina_density(d, r)
                        elif d < r:
                            grid[i, j, k, channel] = 1.0
    return grid


def test_channel_layout_is_receptor_then_ligand():
    assert len(CHANNEL_NAMES) == 28 == GridSpec().num_channels == 2 * (len(ELEMENT_GROUPS) + len(ATOM_PROPERTIES))
    assert CHANNEL_NAMES[0] == "receptor:C" and CHANNEL_NAMES[8] == "receptor:H"
    assert CHANNEL_NAMES[13] == "receptor:negative" and CHANNEL_NAMES[14] == "ligand:C"
    assert CHANNEL_NAMES[-1] == "ligand:negative" and GridSpec().channel_names == CHANNEL_NAMES


def test_grid_spec_dimensions_and_validation():
    assert GridSpec().dim == 20 and GridSpec(24.0, 0.5).dim == 48 and GridSpec(24.0, 0.375).dim == 64
    with pytest.raises(ConvsuiteError, match="not a whole number"):
        GridSpec(20.0, 0.3)
    with pytest.raises(ConvsuiteError, match="unknown voxel density"):
        GridSpec(density="soft")
    with pytest.raises(ConvsuiteError, match="resolution must be a positive"):
        GridSpec(20.0, -1.0)
    with pytest.raises(ConvsuiteError, match="1 voxel"):
        GridSpec(1.0, 1.0)


def one_atom(position, radius=1.7, channel="ligand:C") -> AtomSet:
    return AtomSet(np.array([position]), np.array([bit(channel)]), np.array([radius]))


def test_one_atom_at_a_voxel_centre_gaussian():
    spec, center, r = GridSpec(8.0, 0.5), np.array([1.0, -2.0, 3.0]), 1.7
    atom_voxel = (5, 6, 7)
    grid = voxelize(one_atom(voxel_centre(atom_voxel, center, spec), r), center, spec)
    assert grid.shape == (16, 16, 16, 28) and grid.dtype == np.float32
    c = CHANNEL_NAMES.index("ligand:C")
    assert grid[5, 6, 7, c] == pytest.approx(1.0)
    assert grid[6, 6, 7, c] == pytest.approx(math.exp(-2 * 0.5 ** 2 / r ** 2))  # face neighbour, d = 0.5
    assert grid[5, 6, 8, c] == pytest.approx(math.exp(-2 * 0.5 ** 2 / r ** 2))
    e2 = math.e ** 2  # d = 2.0 Å lies between r and 1.5 r: the quadratic
    assert grid[9, 6, 7, c] == pytest.approx(4 / (e2 * r * r) * 4 - 12 / (e2 * r) * 2 + 9 / e2, rel=1e-5)
    assert grid[5, 12, 7, c] == 0.0  # d = 3.0 Å > 1.5 r = 2.55 Å
    assert np.count_nonzero(np.delete(grid, c, axis=3)) == 0  # no other channel


def test_one_atom_hard_occupies_exactly_the_voxels_closer_than_its_radius():
    spec, center, r = GridSpec(6.0, 0.5, "hard"), np.zeros(3), 1.7
    position = voxel_centre((6, 5, 4), center, spec)
    grid = voxelize(one_atom(position, r, "receptor:O"), center, spec)
    index = np.indices((12, 12, 12)).transpose(1, 2, 3, 0)
    distances = np.linalg.norm(voxel_centre(index, center, spec) - position, axis=-1)
    expected = (distances < r).astype(np.float32)
    assert np.array_equal(grid[..., CHANNEL_NAMES.index("receptor:O")], expected)
    assert expected.sum() == 171  # voxel offsets (i, j, k) with 0.25 (i^2 + j^2 + k^2) < 1.7^2, i.e. sum <= 11
    assert grid.sum() == expected.sum()
    tie = voxelize(one_atom(position, 1.0, "receptor:O"), center, spec)  # voxels 2 away lie at d = r exactly: empty
    assert tie.sum() == 27 and tie[6, 5, 6].sum() == 0 and tie[6, 5, 5].sum() == 1  # i^2 + j^2 + k^2 <= 3


def test_two_atoms_in_a_channel_add_up_gaussian_and_saturate_hard():
    center, r = np.zeros(3), 1.5
    for density in ("gaussian", "hard"):
        spec = GridSpec(6.0, 1.0, density)
        a, b = voxel_centre((2, 3, 3), center, spec), voxel_centre((3, 3, 3), center, spec)
        grid = voxelize(concatenate(one_atom(a, r), one_atom(b, r)), center, spec)[..., CHANNEL_NAMES.index("ligand:C")]
        if density == "gaussian":
            assert grid[2, 3, 3] == pytest.approx(1.0 + math.exp(-2 / r ** 2))
            assert grid[1, 3, 3] == pytest.approx(math.exp(-2 / r ** 2) + gnina_density(2.0, r))
        else:
            assert grid[2, 3, 3] == 1.0 and grid[3, 3, 3] == 1.0 and grid.max() == 1.0
            assert grid[1, 3, 3] == 1.0 and grid[0, 3, 3] == 0.0  # d = 1, 2 from a; 2, 3 from b


def test_phenol_channels_and_hydrogen_choices():
    phenol = embedded("Oc1ccccc1")  # O is atom 0, then six aromatic C, then H (H on O last)
    atoms = atoms_from_mol(phenol, "ligand")
    assert len(atoms) == 8  # O, six C, the hydroxyl H; the five C-H hydrogens are dropped
    assert names_of(atoms.channels[0]) == {"ligand:O", "ligand:donor", "ligand:acceptor"}
    for mask in atoms.channels[1:7]:
        assert names_of(mask) == {"ligand:C", "ligand:aromatic"}
    assert names_of(atoms.channels[7]) == {"ligand:H"}
    table = Chem.GetPeriodicTable()
    assert np.allclose(atoms.radii, [table.GetRvdw(8)] + [table.GetRvdw(6)] * 6 + [table.GetRvdw(1)])
    hydroxyl_h = next(a.GetIdx() for a in phenol.GetAtoms() if a.GetAtomicNum() == 1
                      and a.GetNeighbors()[0].GetAtomicNum() == 8)
    assert np.allclose(atoms.coords[7], phenol.GetConformer().GetAtomPosition(hydroxyl_h))
    assert len(atoms_from_mol(phenol, "ligand", hydrogens="none")) == 7
    assert len(atoms_from_mol(phenol, "ligand", hydrogens="all")) == 13
    assert len(atoms_from_mol(Chem.RemoveHs(phenol), "ligand", hydrogens="all")) == 7  # none are added

    receptor = atoms_from_mol(phenol, "receptor")
    assert np.all(receptor.channels < (1 << 14)) and np.all(atoms.channels >= (1 << 14))
    assert np.array_equal(receptor.channels << 14, atoms.channels)


def test_charged_groups_halogens_and_other_elements():
    acetate = atoms_from_mol(embedded("CC(=O)[O-]"), "ligand", hydrogens="none")
    assert "ligand:negative" in names_of(acetate.channels[3]) and "ligand:acceptor" in names_of(acetate.channels[2])
    methylammonium = atoms_from_mol(embedded("C[NH3+]"), "receptor")
    assert names_of(methylammonium.channels[1]) == {"receptor:N", "receptor:donor", "receptor:positive"}
    assert all("receptor:positive" not in names_of(m) for m in methylammonium.channels[2:])  # its H's
    halides = atoms_from_mol(embedded("FC(Cl)(Br)I"), "ligand")
    assert [names_of(m) for m in halides.channels] == [{"ligand:F"}, {"ligand:C"}] + [{"ligand:Cl/Br/I"}] * 3
    silane = atoms_from_mol(embedded("C[Si](C)(C)C"), "ligand", hydrogens="all")
    assert names_of(silane.channels[1]) == {"ligand:metal/other"} and len(silane) == 17


def test_feature_atoms_match_rdkits_feature_factory():
    factory = _feature_factory()
    families = {"Donor": "donor", "Acceptor": "acceptor", "PosIonizable": "positive", "NegIonizable": "negative"}
    for smiles in ("NC(=N)NCCC[C@H](N)C(=O)O", "c1ccc2[nH]ccc2c1", "OC(=O)c1ccncc1", "CN1CCN(C)CC1", "O=S(=O)(O)CC"):
        mol = embedded(smiles)
        ours = _feature_atoms(mol)
        for family, name in families.items():
            theirs = {i for feature in factory.GetFeaturesForMol(mol, includeOnly=family) for i in feature.GetAtomIds()}
            assert ours[name] == theirs, (smiles, family)


def test_molecules_without_3d_coordinates_and_bad_options_are_refused():
    with pytest.raises(ConvsuiteError, match="no coordinates"):
        atoms_from_mol(Chem.MolFromSmiles("CCO"), "ligand")
    flat = Chem.MolFromSmiles("CCO")
    AllChem.Compute2DCoords(flat)
    with pytest.raises(ConvsuiteError, match="2-D coordinates"):
        atoms_from_mol(flat, "ligand")
    with pytest.raises(ConvsuiteError, match="no conformer 5"):
        atoms_from_mol(embedded("CCO"), "ligand", conf_id=5)
    with pytest.raises(ConvsuiteError, match="unknown atom role"):
        atoms_from_mol(embedded("CCO"), "protein")
    with pytest.raises(ConvsuiteError, match="unknown hydrogens"):
        atoms_from_mol(embedded("CCO"), "ligand", hydrogens="some")


def test_unsanitized_receptor_is_typed_like_a_sanitized_one():
    mol = embedded("CC(=O)NCC(=O)[O-]")
    raw = Chem.MolFromMolBlock(Chem.MolToMolBlock(mol), sanitize=False, removeHs=False)
    assert np.array_equal(atoms_from_mol(raw, "receptor").channels, atoms_from_mol(mol, "receptor").channels)


def test_atom_set_is_compact_picklable_and_composable():
    atoms = atoms_from_mol(embedded("Oc1ccccc1"), "ligand")
    assert atoms.nbytes == 20 * len(atoms)
    copy = pickle.loads(pickle.dumps(atoms))
    assert np.array_equal(copy.coords, atoms.coords) and np.array_equal(copy.channels, atoms.channels)
    assert copy.coords.dtype == np.float32 and copy.channels.dtype == np.uint32 and copy.radii.dtype == np.float32
    both = concatenate(atoms, atoms_from_mol(embedded("CCO"), "receptor"))
    assert len(both) == len(atoms) + 4 and len(concatenate()) == 0
    assert len(both.subset(both.radii > 1.6)) == 8  # 6 + 2 carbons (O 1.55, H 1.2 are smaller)
    with pytest.raises(ConvsuiteError, match="disagree"):
        AtomSet(np.zeros((2, 3)), np.zeros(3), np.zeros(2))


def test_random_rotation_is_a_uniform_proper_rotation():
    rng = np.random.default_rng(0)
    rotations = np.stack([random_rotation(rng) for _ in range(3000)])
    assert np.allclose(rotations @ rotations.transpose(0, 2, 1), np.eye(3), atol=1e-12)
    assert np.allclose(np.linalg.det(rotations), 1.0)
    x_axes = rotations[:, :, 0]  # images of the unit x vector
    assert np.abs(x_axes.mean(axis=0)).max() < 0.05  # 3 standard errors of 1/sqrt(3 * 3000) = 0.011 each
    assert np.allclose((x_axes ** 2).mean(axis=0), 1 / 3, atol=0.03)  # no axis preferred


def test_channel_sums_are_invariant_under_rotation_and_translation():
    atoms = atoms_from_mol(embedded("CC(=O)Nc1ccc(O)cc1"), "ligand")
    center = atoms.coords.mean(axis=0)
    spec = GridSpec(16.0, 0.5)
    reference = voxelize(atoms, center, spec).sum(axis=(0, 1, 2))
    rng = np.random.default_rng(1)
    for _ in range(2):
        moved = voxelize(atoms, center, spec, rotation=random_rotation(rng), translation=rng.uniform(-1, 1, 3))
        assert np.allclose(moved.sum(axis=(0, 1, 2)), reference, rtol=0.02)
    assert reference[CHANNEL_NAMES.index("ligand:aromatic")] == pytest.approx(
        reference[CHANNEL_NAMES.index("ligand:C")] * 6 / 8, rel=0.02)  # 6 of the 8 carbons are aromatic


def test_atoms_outside_the_box_give_zeros_and_edge_atoms_only_their_inside():
    spec, center = GridSpec(4.0, 1.0), np.zeros(3)
    far = voxelize(one_atom([5.0, 0.0, 0.0], 1.5), center, spec)  # nearest voxel centre 3.5 Å away > 2.25 Å
    assert not far.any()
    edge = one_atom([2.5, 0.5, 0.5], 1.5)  # half a voxel beyond the +x face
    grid = voxelize(edge, center, spec)[..., CHANNEL_NAMES.index("ligand:C")]
    assert grid[3, 2, 2] == pytest.approx(gnina_density(1.0, 1.5)) and grid[0].sum() == 0
    assert np.allclose(voxelize(edge, center, spec), slow_voxelize(edge, center, spec), atol=1e-6)


def test_out_is_overwritten_in_place():
    spec = GridSpec(4.0, 1.0)
    batch = np.full((2, 4, 4, 4, 28), 7.0, np.float32)
    result = voxelize(one_atom([0.5, 0.5, 0.5], 1.0), np.zeros(3), spec, out=batch[1])
    assert np.shares_memory(result, batch[1])
    assert batch[1, 2, 2, 2, 14] == pytest.approx(1.0) and batch[1, 0, 0, 0].sum() == 0 and batch[0].min() == 7.0
    with pytest.raises(ConvsuiteError, match="shape"):
        voxelize(one_atom([0.0, 0.0, 0.0]), np.zeros(3), spec, out=np.zeros((4, 4, 4, 3), np.float32))


def random_atoms(rng, count: int, extent: float) -> AtomSet:
    """``count`` atoms uniform in a cube of half-edge ``extent`` Å, each in 1-3 random channels."""
    masks = np.zeros(count, np.uint32)
    for a in range(count):
        for channel in rng.choice(28, size=rng.integers(1, 4), replace=False):
            masks[a] |= np.uint32(1 << int(channel))
    return AtomSet(rng.uniform(-extent, extent, (count, 3)), masks, rng.uniform(1.1, 2.2, count))


@pytest.fixture(params=["numba", "numpy"])
def engine(request, monkeypatch):
    """Both gridding engines: the compiled loop (the drug extra installs numba) and the numpy fallback."""
    from convsuite.suites.drug import voxel

    if request.param == "numba":
        require("numba", "drug")
    monkeypatch.setitem(voxel._ENGINE, "name", "auto" if request.param == "numba" else "numpy")
    assert voxel.gridding_engine() == request.param
    return request.param


def test_each_engine_grid_equals_the_slow_reference(engine):
    rng = np.random.default_rng(7)
    atoms = random_atoms(rng, 9, 3.5)
    center, rotation, translation = np.array([0.2, -0.1, 0.3]), random_rotation(rng), np.array([0.4, -0.3, 0.2])
    for spec in (GridSpec(6.0, 0.75, "gaussian", radius_scale=0.9), GridSpec(6.0, 1.0, "hard")):
        fast = voxelize(atoms, center, spec, rotation=rotation, translation=translation)
        slow = slow_voxelize(atoms, center, spec, rotation=rotation, translation=translation)
        assert slow.sum() > 10  # the case is not trivially empty
        assert np.allclose(fast, slow, atol=1e-5)


def test_the_two_engines_agree_on_a_pocket_sized_random_complex(monkeypatch):
    from convsuite.suites.drug import voxel

    require("numba", "drug")
    rng = np.random.default_rng(11)
    atoms = random_atoms(rng, 400, 11.0)
    for spec in (GridSpec(20.0, 1.0), GridSpec(12.0, 0.5), GridSpec(20.0, 1.0, "hard")):
        rotation = random_rotation(rng)
        monkeypatch.setitem(voxel._ENGINE, "name", "auto")
        compiled = voxelize(atoms, np.zeros(3), spec, rotation=rotation)
        monkeypatch.setitem(voxel._ENGINE, "name", "numpy")
        vectorised = voxelize(atoms, np.zeros(3), spec, rotation=rotation)
        assert compiled.sum() > 100
        np.testing.assert_allclose(compiled, vectorised, atol=2e-5)


def test_crop_keeps_atoms_that_can_reach_the_box_in_any_rotation():
    spec, center = GridSpec(10.0, 1.0), np.array([1.0, 1.0, 1.0])
    reach = math.sqrt(3) * 5.0  # 8.66 Å: the box's circumscribed sphere
    distances = np.array([0.0, 8.0, 8.6, 8.7, 9.5, 11.0])
    atoms = AtomSet(center + distances[:, None] * np.array([0.0, 0.6, 0.8]), np.full(6, bit("receptor:C")),
                    np.full(6, 1.0))
    assert np.allclose(np.linalg.norm(crop(atoms, center, spec, margin=0.0).coords - center, axis=1),
                       distances[distances <= reach], atol=1e-5)
    kept = crop(atoms, center, spec)  # default margin 1.5 * 1.0 Å
    assert np.allclose(np.linalg.norm(kept.coords - center, axis=1), distances[distances <= reach + 1.5], atol=1e-5)


def test_voxelize_batch_is_reproducible_and_augments_each_example():
    atoms = atoms_from_mol(embedded("CC(=O)Nc1ccc(O)cc1"), "ligand")
    center = atoms.coords.mean(axis=0)
    spec = GridSpec(12.0, 1.0)
    centers = np.stack([center, center])
    first = voxelize_batch([atoms, atoms], centers, spec, np.random.default_rng(3), rotate=True, translate=2.0)
    again = voxelize_batch([atoms, atoms], centers, spec, np.random.default_rng(3), rotate=True, translate=2.0)
    assert first.shape == (2, 12, 12, 12, 28) and np.array_equal(first, again)
    assert not np.allclose(first[0], first[1])
    plain = voxelize_batch([atoms, atoms], centers, spec)
    assert np.array_equal(plain[0], voxelize(atoms, center, spec)) and np.array_equal(plain[0], plain[1])
    with pytest.raises(ConvsuiteError, match="needs rng"):
        voxelize_batch([atoms], centers[:1], spec, rotate=True)
    with pytest.raises(ConvsuiteError, match="one centre per example"):
        voxelize_batch([atoms], centers, spec)


def test_fraction_of_ligand_atoms_in_the_box():
    spec, center = GridSpec(10.0, 1.0), np.zeros(3)
    ligand = AtomSet(np.array([[0, 0, 0], [4.9, 0, 0], [0, -4.9, 4.9], [5.1, 0, 0]]), np.full(4, bit("ligand:C")),
                     np.full(4, 1.7))
    receptor = AtomSet(np.array([[20.0, 0, 0]]), np.array([bit("receptor:N")]), np.array([1.6]))
    assert ligand_atoms_in_box(concatenate(receptor, ligand), center, spec) == pytest.approx(0.75)
    assert ligand_atoms_in_box(receptor, center, spec) == 0.0


def print_timings() -> None:
    """A 30-atom ligand in a 600-atom pocket (random atoms at protein density), voxelized with random rotations."""
    import time

    rng = np.random.default_rng(0)
    pocket_coords = rng.normal(size=(600, 3))
    pocket_coords *= (13.7 * rng.random(600) ** (1 / 3) / np.linalg.norm(pocket_coords, axis=1))[:, None]
    elements = rng.choice(["receptor:C", "receptor:N", "receptor:O", "receptor:S", "receptor:H"], 600,
                          p=[0.5, 0.13, 0.15, 0.02, 0.2])
    pocket = AtomSet(pocket_coords, [bit(e) | (bit("receptor:donor") if e == "receptor:N" else 0) for e in elements],
                     [{"C": 1.7, "N": 1.6, "O": 1.55, "S": 1.8, "H": 1.2}[e.split(":")[1]] for e in elements])
    ligand = AtomSet(rng.normal(scale=2.5, size=(30, 3)), np.full(30, bit("ligand:C") | bit("ligand:aromatic")),
                     np.full(30, 1.7))
    atoms = crop(concatenate(pocket, ligand), np.zeros(3), GridSpec(24.0, 0.5))
    for spec in (GridSpec(20.0, 1.0), GridSpec(24.0, 0.5), GridSpec(20.0, 1.0, "hard"), GridSpec(24.0, 0.5, "hard")):
        out = np.empty((spec.dim,) * 3 + (spec.num_channels,), np.float32)
        times = []
        for _ in range(20):
            rotation = random_rotation(rng)
            start = time.perf_counter()
            voxelize(atoms, np.zeros(3), spec, rotation=rotation, out=out)
            times.append(time.perf_counter() - start)
        print(f"{spec.size:g} Å at {spec.resolution:g} Å, {spec.density}, {len(atoms)} atoms: "
              f"median {np.median(times) * 1e3:.1f} ms, best {min(times) * 1e3:.1f} ms")


if __name__ == "__main__":
    print_timings()
