"""Data preparation for the image suite: registry datasets or a user's own images (a folder of
class subfolders or a .npz file, see USER_DATA_HELP) -> arrays shaped for the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convsuite.common.data import (
    DATASETS,
    ArrayDataset,
    convert_images,
    load_dataset,
    load_user_images,
    register_dataset,
    validate_arrays,
)
from convsuite.common.errors import ConvsuiteError
from convsuite.common.arrays import SupervisedData, split_validation


def fit_images(x: np.ndarray, pad_to: int = 0, upsample: int = 1) -> np.ndarray:
    """Upsample by pixel repetition, then centre in a ``pad_to`` square (zeros around)."""
    if x.ndim == 3:
        x = x[..., None]
    if upsample > 1:
        x = x.repeat(upsample, axis=1).repeat(upsample, axis=2)
    if pad_to:
        height, width = x.shape[1:3]
        if height > pad_to or width > pad_to:
            raise ConvsuiteError(f"images of {height}x{width} cannot be padded to {pad_to}x{pad_to}; set data.pad_to=0 or larger")
        top, left = (pad_to - height) // 2, (pad_to - width) // 2
        padded = np.zeros((len(x), pad_to, pad_to, x.shape[3]), dtype=x.dtype)
        padded[:, top : top + height, left : left + width] = x
        x = padded
    return x


def check_images(x: np.ndarray, input_shape: tuple, what: str = "images") -> None:
    """Raise one clear error when images do not fit the model's input."""
    expected = tuple(int(d) for d in input_shape if d is not None)
    if x.ndim != 4 or tuple(x.shape[1:]) != expected:
        shape = tuple(x.shape[1:]) if x.ndim == 4 else tuple(x.shape)
        raise ConvsuiteError(f"{what} shape {shape} does not match the model's input {expected}; "
                             "resize or pad them (data.pad_to / data.upsample) or pick a matching model")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise ConvsuiteError(f"{what} contain NaN or infinite pixels; clean or drop those images first")


def user_data_path(dataset: str, data_dir: str = "") -> Path | None:
    """The file or folder ``data.dataset`` names, or None for a registered dataset.

    A name with a path separator, a leading ``~`` or ``.``, or a ``.npz`` suffix is a path; a bare
    name is a path only when it is not a registered dataset and exists. Relative paths are also
    tried under ``data.data_dir``."""
    text = str(dataset)
    path_like = any(sep in text for sep in ("/", "\\")) or text.startswith(("~", ".")) or text.lower().endswith(".npz")
    path = Path(text).expanduser()
    if not path_like and (text in DATASETS or not path.exists()):
        return None
    if data_dir and not path.is_absolute() and not path.exists() and (Path(data_dir).expanduser() / path).exists():
        path = Path(data_dir).expanduser() / path
    return path.resolve()


def load_images(experiment) -> ArrayDataset:
    """The experiment's images: a registered dataset or the user's folder / .npz, in
    ``data.channels`` and ``data.image_size``.

    A user path is stored back into the experiment as an absolute path, so the run's
    config.toml lets ``evaluate`` re-read the same files with the same split from anywhere."""
    cfg = experiment.data
    if cfg.channels not in (0, 1, 3) or cfg.image_size < 0:
        raise ConvsuiteError(f"data.channels must be 0 (keep), 1 or 3 and data.image_size 0 (keep) or a size in pixels, "
                             f"got {cfg.channels} and {cfg.image_size}")
    path = user_data_path(cfg.dataset, cfg.data_dir)
    if path is not None:
        cfg.dataset = str(path)
        dataset = load_user_images(path, cfg.channels, cfg.image_size, cfg.test_fraction, experiment.trainer.seed)
        validate_arrays(dataset.x_train, dataset.y_train, dataset.num_classes, f"{path} training split")
        validate_arrays(dataset.x_test, dataset.y_test, dataset.num_classes, f"{path} test split")
        return dataset
    dataset = load_dataset(cfg.dataset, cfg.data_dir)
    if cfg.channels or cfg.image_size:
        dataset.x_train = convert_images(dataset.x_train, cfg.channels, cfg.image_size, f"{cfg.dataset} images")
        dataset.x_test = convert_images(dataset.x_test, cfg.channels, cfg.image_size, f"{cfg.dataset} images")
    return dataset


def prepare(experiment) -> tuple[SupervisedData, ArrayDataset]:
    """Load the experiment's dataset, take its subsets, fit image size, split validation."""
    cfg = experiment.data
    dataset = load_images(experiment)
    dataset = dataset.subset(cfg.train_subset, cfg.test_subset, seed=experiment.trainer.seed)
    x_train = fit_images(dataset.x_train, cfg.pad_to, cfg.upsample)
    x_test = fit_images(dataset.x_test, cfg.pad_to, cfg.upsample)
    validate_arrays(x_train, dataset.y_train, dataset.num_classes, f"{cfg.dataset} training split")
    x_train, y_train, x_val, y_val = split_validation(x_train, dataset.y_train, cfg.validation_fraction,
                                                      experiment.trainer.seed)
    return SupervisedData(x_train, y_train, x_val, y_val, x_test, dataset.y_test), dataset


USER_DATA_HELP = (
    "Your own images: set data.dataset to a folder with one subfolder per class (png/jpg/bmp/gif "
    "files; the subfolder names become the class names), optionally split into train/ and test/ "
    "folders that each hold the class subfolders, or to a NumPy .npz file holding x_train, y_train, "
    "x_test, y_test (or x, y) with uint8 images (N, H, W[, C]) and integer labels 0..K-1 (and "
    "optionally class_names). Without its own test split a stratified data.test_fraction (default "
    "0.2) is held out, fixed by trainer.seed; validation is split off the training part as usual. "
    "data.channels converts every image to greyscale (1) or RGB (3) (0 keeps them) and "
    "data.image_size resizes them to a square (0 keeps them, so they must share one size). Train, "
    "then evaluate on the same split (the run's config.toml records the folder and settings): "
    "`convsuite train image --config lenet5-fashion --set data.dataset=/path/to/photos "
    "--set data.image_size=32 --set data.channels=1 --set data.pad_to=0`, then "
    "`convsuite evaluate image --checkpoint runs/lenet5-fashion`."
)

register_dataset("FOLDER|FILE.npz", "your own images: a folder of class subfolders or a NumPy .npz file "
                 "(see USER_DATA_HELP)", offline=True,
                 how_to_get="data.dataset=/path/to/photos (with data.image_size / data.channels as needed)", suite="image")
