"""Typed voxel grids of a receptor-ligand complex, the input of AtomNet-style 3-D CNNs.

A complex becomes a cube of voxels centred on the binding site, with one channel per atom type and role:
nine element groups (C, N, O, S, P, F, Cl/Br/I, metal/other, H) and five properties (aromatic, H-bond donor,
H-bond acceptor, positive, negative), first for the receptor's atoms and then for the ligand's, 28 channels in all.

Two published set-ups are the reference points:

- AtomNet (Wallach, Dzamba & Heifets 2015, "AtomNet: a deep convolutional neural network for bioactivity
  prediction in structure-based drug discovery", arXiv:1510.02855): a 20 Å cube at 1 Å resolution centred on
  the ligand, randomly rotated and translated for augmentation: ``GridSpec(20.0, 1.0)``.
- gnina's default2017 model (Ragoza, Hochuli, Idrobo, Sunseri & Koes 2017, "Protein-ligand scoring with
  convolutional neural networks", J. Chem. Inf. Model. 57(4):942-957): a 24 Å cube at 0.5 Å with atoms drawn
  as smooth densities: ``GridSpec(24.0, 0.5)``.

The "gaussian" density is Ragoza et al.'s: for an atom of radius r (van der Waals radius times
``radius_scale``) at distance d from a voxel centre,

    density(d) = exp(-2 d^2 / r^2)                                         for d < r
               = 4 d^2 / (e^2 r^2) - 12 d / (e^2 r) + 9 / e^2              for r <= d < 1.5 r
               = 0                                                         for d >= 1.5 r

a Gaussian that a quadratic joins continuously (value and slope) at r and brings to zero at 1.5 r. The
densities of several atoms in a channel add up. The "hard" density is plain occupancy: 1 where some atom of the
channel is closer than r.

Atoms are stored compactly (``AtomSet``: float32 coordinates, a 28-bit channel mask and a radius per atom) so
that a data cache holds a cropped pocket and its ligand per complex, and grids are drawn on the fly, with a
fresh random rotation and translation per example when augmenting. Grids are drawn by a compiled loop over
each atom's voxels (numba, the drug extra) or, where numba is not installed, by the same arithmetic vectorised
in numpy (atom-voxel pairs summed per channel mask); the two agree to float32 rounding (tested).
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field

import numpy as np
from rdkit import Chem, RDConfig, rdBase
from rdkit.Chem import ChemicalFeatures

from convsuite.common.errors import ConvsuiteError

ELEMENT_GROUPS = ("C", "N", "O", "S", "P", "F", "Cl/Br/I", "metal/other", "H")
ATOM_PROPERTIES = ("aromatic", "donor", "acceptor", "positive", "negative")
ROLES = ("receptor", "ligand")
CHANNELS_PER_ROLE = len(ELEMENT_GROUPS) + len(ATOM_PROPERTIES)
CHANNEL_NAMES = tuple(f"{role}:{name}" for role in ROLES for name in ELEMENT_GROUPS + ATOM_PROPERTIES)
DENSITIES = ("gaussian", "hard")
HYDROGEN_MODES = ("none", "polar", "all")

# Where the gaussian density reaches zero, in units of the atom's radius.
GAUSSIAN_CUTOFF = 1.5

_GROUP_OF_ELEMENT = {6: 0, 7: 1, 8: 2, 16: 3, 15: 4, 9: 5, 17: 6, 35: 6, 53: 6, 1: 8}
_METAL_OTHER = ELEMENT_GROUPS.index("metal/other")
_POLAR_HYDROGEN_PARTNERS = (7, 8, 16)  # N, O, S
# Feature-factory families that set each property channel (besides aromaticity and formal charge).
_MAX_MATCHES = 1 << 30  # GetSubstructMatches stops at 1000 by default: far too few for a protein
_FAMILY_PROPERTIES = {"Donor": "donor", "Acceptor": "acceptor", "PosIonizable": "positive",
                      "NegIonizable": "negative"}


def _channel_bit(role: str, name: str) -> int:
    return 1 << CHANNEL_NAMES.index(f"{role}:{name}")


_LIGAND_BITS = sum(1 << i for i in range(CHANNELS_PER_ROLE, 2 * CHANNELS_PER_ROLE))


@dataclass(frozen=True)
class GridSpec:
    """The cube drawn around a centre: edge ``size`` Å in voxels of ``resolution`` Å, and how atoms are drawn."""

    size: float = 20.0
    resolution: float = 1.0
    density: str = "gaussian"
    radius_scale: float = 1.0

    def __post_init__(self):
        self.check()

    def check(self) -> None:
        """Raise ConvsuiteError when the spec cannot describe a grid."""
        if self.density not in DENSITIES:
            raise ConvsuiteError(f"unknown voxel density {self.density!r}; use one of {', '.join(DENSITIES)}")
        for name in ("size", "resolution", "radius_scale"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConvsuiteError(f"voxel grid {name} must be a positive number, got {value!r}")
        _ = self.dim

    @property
    def dim(self) -> int:
        """Voxels along each edge."""
        ratio = self.size / self.resolution
        dim = int(round(ratio))
        if abs(ratio - dim) > 1e-6 * max(1.0, ratio):
            raise ConvsuiteError(f"grid size {self.size} Å is not a whole number of {self.resolution} Å voxels "
                                 f"({ratio:.3f}); choose a resolution that divides the size")
        if dim < 2:
            raise ConvsuiteError(f"grid size {self.size} Å at {self.resolution} Å gives {dim} voxel(s) per edge; "
                                 "use a size of at least two voxels")
        return dim

    @property
    def num_channels(self) -> int:
        return len(CHANNEL_NAMES)

    @property
    def channel_names(self) -> tuple[str, ...]:
        return CHANNEL_NAMES


@dataclass
class AtomSet:
    """Atoms as the voxelizer needs them: positions (Å), a bit mask over CHANNEL_NAMES, van der Waals radii (Å).

    Twenty bytes an atom, so that caches can keep one per receptor pocket and ligand.
    """

    coords: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.float32))
    channels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    radii: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def __post_init__(self):
        self.coords = np.ascontiguousarray(self.coords, dtype=np.float32).reshape(-1, 3)
        self.channels = np.ascontiguousarray(self.channels, dtype=np.uint32).reshape(-1)
        self.radii = np.ascontiguousarray(self.radii, dtype=np.float32).reshape(-1)
        if not len(self.coords) == len(self.channels) == len(self.radii):
            raise ConvsuiteError(f"AtomSet arrays disagree: {len(self.coords)} coordinates, "
                                 f"{len(self.channels)} channel masks, {len(self.radii)} radii; give one of each "
                                 "per atom")

    def __len__(self) -> int:
        return len(self.coords)

    def subset(self, mask: np.ndarray) -> AtomSet:
        """The atoms selected by a boolean mask or an index array."""
        return AtomSet(self.coords[mask], self.channels[mask], self.radii[mask])

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (what a cache entry costs)."""
        return self.coords.nbytes + self.channels.nbytes + self.radii.nbytes

    @property
    def is_ligand(self) -> np.ndarray:
        """Per atom, whether its channels are in the ligand half."""
        return (self.channels & np.uint32(_LIGAND_BITS)) != 0


@functools.lru_cache(maxsize=1)
def _feature_factory():
    return ChemicalFeatures.BuildFeatureFactory(os.path.join(RDConfig.RDDataDir, "BaseFeatures.fdef"))


def _with_perceived_properties(mol: Chem.Mol) -> Chem.Mol:
    """The molecule, or a copy with valences and rings perceived when it was read unsanitized (SMARTS need them)."""
    needs_perception = mol.NeedsUpdatePropertyCache()
    try:
        with rdBase.BlockLogs():
            mol.GetRingInfo().NumRings()
    except RuntimeError:  # ring information not initialised
        needs_perception = True
    if not needs_perception:
        return mol
    mol = Chem.Mol(mol)
    mol.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(mol)
    return mol


@functools.lru_cache(maxsize=1)
def _family_patterns() -> dict[str, list[Chem.Mol]]:
    """The SMARTS queries of the property families in RDKit's BaseFeatures.fdef, compiled once per process."""
    patterns: dict[str, list[Chem.Mol]] = {family: [] for family in _FAMILY_PROPERTIES}
    for key, smarts in _feature_factory().GetFeatureDefs().items():
        family = key.split(".", 1)[0]
        if family in patterns:
            patterns[family].append(Chem.MolFromSmarts(smarts))
    return patterns


def _feature_atoms(mol: Chem.Mol) -> dict[str, set[int]]:
    """Atom indices of each property that RDKit's base feature definitions assign (donor, acceptor, ionizable).

    The atoms are those of the feature factory's GetFeaturesForMol, found by matching the factory's own
    definitions: the same sets, a thousand times faster on a protein (no feature objects or positions).
    """
    mol = _with_perceived_properties(mol)
    found: dict[str, set[int]] = {}
    for family, name in _FAMILY_PROPERTIES.items():
        atoms: set[int] = set()
        for pattern in _family_patterns()[family]:
            for match in mol.GetSubstructMatches(pattern, uniquify=True, maxMatches=_MAX_MATCHES):
                atoms.update(match)
        found[name] = atoms
    return found


def _describe(mol: Chem.Mol) -> str:
    """How an error message names a molecule: its title, else the start of its SMILES."""
    if mol.HasProp("_Name") and mol.GetProp("_Name").strip():
        return repr(mol.GetProp("_Name").strip())
    return repr(Chem.MolToSmiles(mol)[:60])


def atoms_from_mol(mol: Chem.Mol, role: str, hydrogens: str = "polar", conf_id: int = -1) -> AtomSet:
    """The typed atoms of a molecule with 3-D coordinates, as the receptor's or the ligand's.

    ``hydrogens`` chooses which explicit hydrogen atoms are kept: "none", "polar" (those bonded to N, O or S;
    gnina's and most docking programs' convention) or "all". Hydrogens are never added here. Dummy atoms
    (atomic number 0) are left out.
    """
    if role not in ROLES:
        raise ConvsuiteError(f"unknown atom role {role!r}; use one of {', '.join(ROLES)}")
    if hydrogens not in HYDROGEN_MODES:
        raise ConvsuiteError(f"unknown hydrogens option {hydrogens!r}; use one of {', '.join(HYDROGEN_MODES)}")
    if mol.GetNumConformers() == 0:
        raise ConvsuiteError(f"molecule {_describe(mol)} has no coordinates; give it a 3-D conformer "
                             "(read it from SDF/MOL2/PDB with coordinates, or embed one with AllChem.EmbedMolecule)")
    try:
        conformer = mol.GetConformer(conf_id)
    except ValueError:
        raise ConvsuiteError(f"molecule {_describe(mol)} has no conformer {conf_id} (it has {mol.GetNumConformers()}); "
                             "give the id of an existing conformer") from None
    if not conformer.Is3D():
        raise ConvsuiteError(f"molecule {_describe(mol)} has 2-D coordinates only; give it 3-D coordinates "
                             "(e.g. embed them with AllChem.EmbedMolecule)")

    atoms = list(mol.GetAtoms())
    atomic_numbers = np.array([atom.GetAtomicNum() for atom in atoms], dtype=np.int64)
    keep = atomic_numbers > 0
    if hydrogens != "all":
        is_hydrogen = atomic_numbers == 1
        if hydrogens == "polar":
            polar = np.array([any(n.GetAtomicNum() in _POLAR_HYDROGEN_PARTNERS for n in atom.GetNeighbors())
                              if atom.GetAtomicNum() == 1 else False for atom in atoms], dtype=bool)
            is_hydrogen &= ~polar
        keep &= ~is_hydrogen

    offset = ROLES.index(role) * CHANNELS_PER_ROLE
    groups = np.array([_GROUP_OF_ELEMENT.get(int(z), _METAL_OTHER) for z in atomic_numbers], dtype=np.int64)
    channels = (np.uint32(1) << (groups + offset).astype(np.uint32)).astype(np.uint32)

    def set_property(indices, property_name: str) -> None:
        indices = np.fromiter(indices, dtype=np.int64)
        if len(indices):
            channels[indices] |= np.uint32(_channel_bit(role, property_name))

    features = _feature_atoms(mol) if len(atoms) else {}
    set_property((i for i, atom in enumerate(atoms) if atom.GetIsAromatic()), "aromatic")
    charges = np.array([atom.GetFormalCharge() for atom in atoms], dtype=np.int64)
    set_property(set(np.flatnonzero(charges > 0)) | features.get("positive", set()), "positive")
    set_property(set(np.flatnonzero(charges < 0)) | features.get("negative", set()), "negative")
    set_property(features.get("donor", ()), "donor")
    set_property(features.get("acceptor", ()), "acceptor")

    table = Chem.GetPeriodicTable()
    radii = np.array([table.GetRvdw(int(z)) for z in atomic_numbers], dtype=np.float32)
    coords = np.asarray(conformer.GetPositions(), dtype=np.float32).reshape(-1, 3)
    return AtomSet(coords[keep], channels[keep], radii[keep])


def concatenate(*atom_sets: AtomSet) -> AtomSet:
    """One AtomSet of all the atoms given (e.g. a pocket and its ligand)."""
    if not atom_sets:
        return AtomSet()
    return AtomSet(np.concatenate([a.coords for a in atom_sets]), np.concatenate([a.channels for a in atom_sets]),
                   np.concatenate([a.radii for a in atom_sets]))


def _cutoffs(radii: np.ndarray, spec: GridSpec) -> np.ndarray:
    """Distance beyond which an atom draws nothing, per atom."""
    scaled = radii.astype(np.float64) * spec.radius_scale
    return scaled * GAUSSIAN_CUTOFF if spec.density == "gaussian" else scaled


def crop(atoms: AtomSet, center, spec: GridSpec, margin: float | None = None) -> AtomSet:
    """The atoms that can touch the box around ``center`` in any rotation.

    Keeps atoms within sqrt(3) * size / 2 + margin of the centre (the box's circumscribed sphere); ``margin``
    defaults to the largest gaussian cutoff, 1.5 * max radius * radius_scale. When the grids will also be
    translated by up to T Å, pass a margin larger by T.
    """
    center = _as_point(center, "center")
    if margin is None:
        margin = GAUSSIAN_CUTOFF * float(atoms.radii.max(initial=0.0)) * spec.radius_scale
    reach = math.sqrt(3.0) * spec.size / 2.0 + margin
    squared = np.sum((atoms.coords.astype(np.float64) - center) ** 2, axis=1)
    return atoms.subset(squared <= reach * reach)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation matrix uniform over SO(3), from a uniform random unit quaternion (Shoemake 1992)."""
    u1, u2, u3 = rng.random(3)
    a, b = math.sqrt(1.0 - u1), math.sqrt(u1)
    x, y = a * math.sin(2 * math.pi * u2), a * math.cos(2 * math.pi * u2)
    z, w = b * math.sin(2 * math.pi * u3), b * math.cos(2 * math.pi * u3)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def _as_point(value, what: str) -> np.ndarray:
    point = np.asarray(value, dtype=np.float64)
    if point.shape != (3,) or not np.all(np.isfinite(point)):
        raise ConvsuiteError(f"{what} must be three finite numbers (x, y, z in Å), got {value!r}")
    return point


def _density(squared_distance: np.ndarray, radius: np.ndarray, spec: GridSpec) -> np.ndarray:
    """gnina's density at squared distance d^2 from an atom of radius r (float32; both arrays of pairs)."""
    if spec.density == "hard":
        return np.ones(squared_distance.shape, np.float32)
    ratio = squared_distance / (radius * radius).astype(np.float32)  # (d / r)^2
    e2 = np.float32(math.e ** 2)
    outer = (np.float32(4.0) / e2) * ratio - (np.float32(12.0) / e2) * np.sqrt(ratio) + np.float32(9.0) / e2
    return np.where(ratio < 1.0, np.exp(np.float32(-2.0) * ratio), outer)


def voxelize(atoms: AtomSet, center, spec: GridSpec, rotation: np.ndarray | None = None,
             translation=None, out: np.ndarray | None = None) -> np.ndarray:
    """The (D, D, D, C) float32 grid of ``atoms`` around ``center``: axes x, y, z, then channels.

    Voxel i along an axis is centred at center + (i + 0.5 - D/2) * resolution. The atoms are first moved to
    (coords - center) @ rotation.T + center + translation. ``out``, when given, is overwritten (e.g. one
    example of a batch array).
    """
    dim, channels_count = spec.dim, spec.num_channels
    shape = (dim, dim, dim, channels_count)
    if out is None:
        out = np.zeros(shape, dtype=np.float32)
    elif out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ConvsuiteError(f"voxel output array has shape {out.shape} and dtype {out.dtype}; it must be a "
                             f"C-contiguous {shape} float32 array for this grid")
    center = _as_point(center, "center")
    positions = atoms.coords.astype(np.float64) - center
    if rotation is not None:
        rotation = np.asarray(rotation, dtype=np.float64)
        if rotation.shape != (3, 3):
            raise ConvsuiteError(f"rotation must be a 3x3 matrix, got shape {rotation.shape}")
        positions = positions @ rotation.T
    if translation is not None:
        positions = positions + _as_point(translation, "translation")
    # Continuous voxel coordinates: voxel i is centred at i.
    grid_positions = positions / spec.resolution + (dim / 2.0 - 0.5)
    cutoffs = _cutoffs(atoms.radii, spec)
    reach = cutoffs / spec.resolution  # cutoff in voxels
    touches = np.all((grid_positions + reach[:, None] >= 0) & (grid_positions - reach[:, None] <= dim - 1), axis=1)
    touches &= atoms.channels != 0
    radii = atoms.radii[touches].astype(np.float64) * spec.radius_scale
    kernel = None if _ENGINE["name"] == "numpy" else _compiled_kernel()
    if kernel is not None:
        out[:] = 0.0
        kernel(np.ascontiguousarray(grid_positions[touches]), radii, cutoffs[touches].astype(np.float64),
               atoms.channels[touches].astype(np.int64), dim, float(spec.resolution), spec.density == "hard", out)
        return out
    voxel_of, atom_of, weight_of = _contributions(grid_positions[touches], cutoffs[touches], radii, spec)
    _accumulate(voxel_of, atom_of, weight_of, atoms.channels[touches], spec, out.reshape(dim ** 3, channels_count))
    return out


_ENGINE = {"name": "auto"}  # "auto": numba when installed; "numpy": the vectorised path (tests compare the two)


def gridding_engine() -> str:
    """"numba" or "numpy": what ``voxelize`` uses here."""
    return "numpy" if _ENGINE["name"] == "numpy" or _compiled_kernel() is None else "numba"


@functools.lru_cache(maxsize=1)
def _compiled_kernel():
    """The numba-compiled gridding loop (compiled once, cached on disk), or None without numba."""
    try:
        import numba
    except ImportError:
        return None
    e2 = math.e ** 2

    @numba.njit(cache=True)
    def grid_atoms(positions, radii, cutoffs, masks, dim, resolution, hard, out):
        # positions: continuous voxel coordinates (voxel i centred at i); out (D, D, D, C), zeroed
        for a in range(positions.shape[0]):
            mask = masks[a]
            if mask == 0:
                continue
            radius, cutoff = radii[a], cutoffs[a]
            reach = cutoff / resolution
            lo = np.empty(3, np.int64)
            hi = np.empty(3, np.int64)
            for axis in range(3):
                lo[axis] = max(0, int(math.ceil(positions[a, axis] - reach)))
                hi[axis] = min(dim - 1, int(math.floor(positions[a, axis] + reach)))
            r2, c2 = radius * radius, cutoff * cutoff
            for i in range(lo[0], hi[0] + 1):
                dx = (i - positions[a, 0]) * resolution
                for j in range(lo[1], hi[1] + 1):
                    dy = (j - positions[a, 1]) * resolution
                    dxy = dx * dx + dy * dy
                    if dxy >= c2:
                        continue
                    for k in range(lo[2], hi[2] + 1):
                        dz = (k - positions[a, 2]) * resolution
                        d2 = dxy + dz * dz
                        if d2 >= c2:
                            continue
                        q = d2 / r2
                        if hard:
                            value = 1.0
                        elif q < 1.0:
                            value = math.exp(-2.0 * q)
                        else:
                            value = (4.0 / e2) * q - (12.0 / e2) * math.sqrt(q) + 9.0 / e2
                        bits, channel = mask, 0
                        while bits:
                            if bits & 1:
                                if hard:
                                    out[i, j, k, channel] = 1.0
                                else:
                                    out[i, j, k, channel] += value
                            bits >>= 1
                            channel += 1

    return grid_atoms


def _contributions(grid_positions: np.ndarray, cutoffs: np.ndarray, radii: np.ndarray,
                   spec: GridSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat voxel indices, atom indices and densities of every atom-voxel pair within the cutoff.

    Atoms are grouped by the side of the voxel cube their cutoff spans, so a few large atoms (metals) do not
    enlarge every atom's cube.
    """
    dim = spec.dim
    reach = cutoffs / spec.resolution
    cube_sides = np.floor(2.0 * reach).astype(np.int64) + 1  # integers in [u - reach, u + reach]
    atom_parts, voxel_parts, weight_parts = [], [], []
    for side in np.unique(cube_sides):
        members = np.flatnonzero(cube_sides == side)
        offsets = np.arange(side, dtype=np.int32)
        # Per axis: the voxels of each atom's cube and their squared distances (Å^2); a voxel outside the grid
        # gets an infinite distance, so one comparison with the cutoff keeps exactly the pairs that count.
        starts = np.ceil(grid_positions[members] - reach[members, None]).astype(np.int32)  # (n, 3)
        voxels = starts[:, :, None] + offsets  # (n, 3, side)
        squared_axes = (((voxels - grid_positions[members, :, None]) * spec.resolution) ** 2).astype(np.float32)
        squared_axes[(voxels < 0) | (voxels >= dim)] = np.inf
        squared = (squared_axes[:, 0, :, None, None] + squared_axes[:, 1, None, :, None]
                   + squared_axes[:, 2, None, None, :])  # (n, side, side, side)
        inside = squared < (cutoffs[members] ** 2).astype(np.float32)[:, None, None, None]
        flat = ((voxels[:, 0, :, None, None] * dim + voxels[:, 1, None, :, None]) * dim
                + voxels[:, 2, None, None, :])  # (n, side, side, side) flat voxel indices
        counts = inside.sum(axis=(1, 2, 3))
        atom_parts.append(np.repeat(members, counts))
        voxel_parts.append(flat[inside])
        weight_parts.append(_density(squared[inside], np.repeat(radii[members], counts), spec))
    if not atom_parts:
        return np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.float32)
    atom_of, voxel_of, weight_of = (np.concatenate(p) for p in (atom_parts, voxel_parts, weight_parts))
    return voxel_of, atom_of, weight_of


def _accumulate(voxel_of: np.ndarray, atom_of: np.ndarray, weight_of: np.ndarray, channel_masks: np.ndarray,
                spec: GridSpec, out: np.ndarray) -> None:
    """Sum (gaussian) or mark (hard) every atom-voxel pair into the atom's channels of ``out`` (V, C).

    Atoms with the same channel mask share a column: the pairs are summed per (voxel, mask) with one
    bincount, then spread over the channels by a small matrix product with the masks' bits. No pair is
    repeated per channel."""
    voxels = spec.dim ** 3
    masks, mask_of = np.unique(channel_masks, return_inverse=True)
    bits = ((masks[:, None] >> np.arange(spec.num_channels, dtype=np.uint32)) & 1).astype(np.float32)  # (M, C)
    per_mask = np.bincount(voxel_of * np.int64(len(masks)) + mask_of[atom_of], weights=weight_of,
                           minlength=voxels * len(masks)).astype(np.float32).reshape(voxels, len(masks))
    if spec.density == "hard":
        per_mask = (per_mask > 0).astype(np.float32)
        np.minimum(per_mask @ bits, 1.0, out=out)
    else:
        np.matmul(per_mask, bits, out=out)


def random_translation(rng: np.random.Generator, radius: float) -> np.ndarray:
    """A translation uniform in the ball of ``radius`` Å."""
    direction = rng.normal(size=3)
    direction /= max(np.linalg.norm(direction), 1e-12)
    return direction * radius * rng.random() ** (1.0 / 3.0)


def voxelize_batch(atom_sets: list[AtomSet], centers: np.ndarray, spec: GridSpec,
                   rng: np.random.Generator | None = None, rotate: bool = False,
                   translate: float = 0.0) -> np.ndarray:
    """The (B, D, D, D, C) float32 grids of a batch, each with its own random rotation and translation if asked."""
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 3)
    if len(centers) != len(atom_sets):
        raise ConvsuiteError(f"{len(atom_sets)} atom sets but {len(centers)} centres; give one centre per example")
    if translate < 0:
        raise ConvsuiteError(f"translation radius must be >= 0 Å, got {translate}")
    if (rotate or translate > 0) and rng is None:
        raise ConvsuiteError("random rotation or translation needs rng (a numpy Generator, "
                             "e.g. np.random.default_rng(seed))")
    dim = spec.dim
    batch = np.empty((len(atom_sets), dim, dim, dim, spec.num_channels), dtype=np.float32)
    for example, (atoms, center) in enumerate(zip(atom_sets, centers)):
        rotation = random_rotation(rng) if rotate else None
        translation = random_translation(rng, translate) if translate > 0 else None
        voxelize(atoms, center, spec, rotation=rotation, translation=translation, out=batch[example])
    return batch


def ligand_atoms_in_box(atoms: AtomSet, center, spec: GridSpec) -> float:
    """Fraction of ligand atoms whose centre lies in the unrotated box (0.0 when there are none)."""
    center = _as_point(center, "center")
    ligand = atoms.is_ligand
    if not ligand.any():
        return 0.0
    inside = np.all(np.abs(atoms.coords[ligand].astype(np.float64) - center) <= spec.size / 2.0, axis=1)
    return float(inside.mean())
