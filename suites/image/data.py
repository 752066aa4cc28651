"""Data preparation for the image suite: registry datasets -> arrays shaped for the model."""

from __future__ import annotations

import numpy as np

from convsuite.common.data import ArrayDataset, load_dataset, validate_arrays
from convsuite.common.errors import ConvsuiteError
from convsuite.common.trainer import SupervisedData, split_validation


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


def prepare(experiment) -> tuple[SupervisedData, ArrayDataset]:
    """Load the experiment's dataset, take its subsets, fit image size, split validation."""
    cfg = experiment.data
    dataset = load_dataset(cfg.dataset, cfg.data_dir)
    dataset = dataset.subset(cfg.train_subset, cfg.test_subset, seed=experiment.trainer.seed)
    x_train = fit_images(dataset.x_train, cfg.pad_to, cfg.upsample)
    x_test = fit_images(dataset.x_test, cfg.pad_to, cfg.upsample)
    validate_arrays(x_train, dataset.y_train, dataset.num_classes, f"{cfg.dataset} training split")
    x_train, y_train, x_val, y_val = split_validation(x_train, dataset.y_train, cfg.validation_fraction,
                                                      experiment.trainer.seed)
    return SupervisedData(x_train, y_train, x_val, y_val, x_test, dataset.y_test), dataset
