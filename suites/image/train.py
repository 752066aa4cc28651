"""Trainer, evaluator and benchmark of the image suite, on the shared common.trainer."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from convsuite.common import config as config_lib
from convsuite.common import trainer as trainer_lib
from convsuite.common.checkpoint import atomic_write_text, save_model_atomic
from convsuite.common.errors import ConvsuiteError
from convsuite.common.trainer import (
    SupervisedData,
    evaluate_model,
    load_run_model,
    make_optimizer,
    run_directory,
    train as train_supervised,
)
from convsuite.common.results import write_metrics
from convsuite.suites.image import models
from convsuite.suites.image.config import EXPERIMENTS, ImageExperiment
from convsuite.suites.image.models import DEFAULT_INPUT_SHAPES, build_model
from convsuite.suites.image.data import check_images, prepare


def train(experiment: ImageExperiment, resume: bool = True) -> dict:
    """Train the experiment's model; for MCDNN train each column, then average them."""
    data, dataset = prepare(experiment)
    input_shape = data.x_train.shape[1:]
    if experiment.model.name != "mcdnn":
        return train_supervised(experiment, lambda: build_model(experiment, input_shape, dataset.num_classes),
                                data, resume=resume, report=lambda model: _described(experiment, dataset, data))

    run_dir = run_directory(experiment)
    columns, column_metrics = [], []
    for index, mode in enumerate(experiment.model.column_preprocessing):
        sub = copy.deepcopy(experiment)
        sub.name = f"{experiment.name}-column{index + 1}"
        sub.trainer.run_dir = str(run_dir / "columns" / f"{index + 1}-{mode}")
        sub.trainer.seed = experiment.trainer.seed + index
        print(f"MCDNN column {index + 1}/{len(experiment.model.column_preprocessing)} (preprocessing: {mode})")
        metrics = train_supervised(sub, lambda i=index: build_model(experiment, input_shape, dataset.num_classes, i),
                                   data, resume=resume, report=lambda model: _described(experiment, dataset))
        column_metrics.append(metrics)
        columns.append(load_run_model(sub.trainer.run_dir, "model"))
    ensemble = models.multi_column(columns)
    ensemble.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    save_model_atomic(ensemble, run_dir / "model.keras")
    atomic_write_text(run_dir / "config.toml", config_lib.to_toml(experiment))
    test = evaluate_model(ensemble, data.x_test, data.y_test)
    metrics = {
        "experiment": experiment.name,
        "suite": "image",
        "epochs": column_metrics[-1]["epochs"],
        "columns": len(columns),
        **{f"test_{k}": v for k, v in test.items()},
        "column_test_accuracy": [m["test_accuracy"] for m in column_metrics],
        "train_seconds": round(sum(m.get("train_seconds", 0.0) for m in column_metrics), 3),
        "train_examples": int(len(data.y_train)),
        "test_examples": int(len(data.y_test)),
        "backend": column_metrics[-1]["backend"],
        "device": column_metrics[-1].get("device"),
        "precision": experiment.runtime.precision,
        **_described(experiment, dataset, data),
    }
    return write_metrics(run_dir, metrics)


def _described(experiment, dataset, data: SupervisedData | None = None) -> dict:
    """The image suite's keys in metrics.json, with the logistic-regression baseline on the same split."""
    described = {"dataset": dataset.name, "model": experiment.model.name}
    if data is not None:
        described["baseline_logistic_regression_accuracy"] = logistic_regression_baseline(data, seed=experiment.trainer.seed)
    return described


def load_run(run_dir: str | Path, which: str = "model"):
    """(model, experiment) of a run directory: ``model.keras`` (final) or ``best.keras``."""
    experiment = experiment_from_run(run_dir)
    return load_run_model(run_dir, which), experiment


def experiment_from_run(run_dir: str | Path) -> ImageExperiment:
    """Rebuild the experiment a run directory was trained with (its config.toml)."""
    return trainer_lib.experiment_from_run(run_dir, EXPERIMENTS, ImageExperiment)


def evaluate(run_dir: str | Path, which: str = "model", experiment: ImageExperiment | None = None) -> dict:
    """Test-set metrics of a finished run, on the same split it was trained with."""
    model, saved = load_run(run_dir, which)
    experiment = experiment or saved
    data, dataset = prepare(experiment)
    check_images(data.x_test, model.input_shape[1:], what=f"{dataset.name} test images")
    classes = int(model.output_shape[-1])
    if classes != dataset.num_classes:
        raise ConvsuiteError(f"the checkpoint predicts {classes} classes but {dataset.name} has {dataset.num_classes}")
    if not model.compiled:
        model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    test = evaluate_model(model, data.x_test, data.y_test)
    return {"experiment": experiment.name, "checkpoint": str(run_dir), "which": which, "dataset": dataset.name,
            **{f"test_{k}": v for k, v in test.items()}, "test_examples": int(len(data.y_test))}


def predict(model_or_run_dir, images: np.ndarray, which: str = "model") -> np.ndarray:
    """Class probabilities (N, classes) for raw images from a model, a ``.keras`` file or a run
    directory.

    ``images`` is a batch (N, H, W, C), a batch of greys (N, H, W) for a one-channel model, or
    one image (H, W, C) / (H, W), which gives one row; an empty batch gives (0, classes). Pixels
    must be in the range the model was trained on (``trained_pixel_range``): 0-1 floats, booleans
    or 16-bit images given to a model trained on 0-255 are refused, not scored at chance.
    """
    model = _predict_model(model_or_run_dir, which)
    input_shape = tuple(model.input_shape[1:])
    classes = int(model.output_shape[-1])
    images = np.asarray(images)
    if images.ndim <= 1 and images.size == 0:  # [] : no images at all
        return np.zeros((0, classes), dtype=np.float32)
    images = _as_image_batch(images, input_shape)
    check_images(images, input_shape)
    check_pixel_range(images, trained_pixel_range(model))
    if len(images) == 0:
        return np.zeros((0, classes), dtype=np.float32)
    return model.predict(images, verbose=0)


def _predict_model(model_or_path, which: str):
    if hasattr(model_or_path, "predict"):
        return model_or_path
    if str(model_or_path).endswith(".keras"):
        from convsuite.common.checkpoint import load_model_checked

        return load_model_checked(Path(model_or_path))
    return load_run_model(model_or_path, which)


def _as_image_batch(images: np.ndarray, input_shape: tuple) -> np.ndarray:
    """A batch (N, H, W, C) from a batch, a batch of greys (N, H, W) or a single image."""

    def fits(shape, expected):
        return len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape, expected))

    one_channel = input_shape[-1] == 1
    if fits(images.shape, input_shape):  # one image (H, W, C)
        return images[None]
    if one_channel and fits(images.shape, input_shape[:-1]):  # one grey image (H, W)
        return images[None, ..., None]
    if one_channel and images.ndim == 3 and fits(images.shape[1:], input_shape[:-1]):  # greys (N, H, W)
        return images[..., None]
    return images


def trained_pixel_range(model) -> tuple[float, float] | None:
    """The pixel range a model was trained on, read from the model itself (so a ``.keras``
    file alone carries it): a layer whose config records ``input_range`` wins; otherwise the
    suite's input-scaling layers (``Rescaling``, ``ImagePreprocessing``) mean raw 0-255
    pixels, which every image-suite model is trained on. None: a model with neither."""
    import keras

    from convsuite.suites.image.models import ImagePreprocessing

    def layers_of(layer):
        yield layer
        for inner in getattr(layer, "layers", []) or []:
            yield from layers_of(inner)

    found = None
    for layer in layers_of(model):
        if isinstance(layer, keras.Model):
            continue
        try:
            recorded = layer.get_config().get("input_range")
        except NotImplementedError:  # a custom layer without a config records nothing
            recorded = None
        if recorded is not None:
            return float(recorded[0]), float(recorded[1])
        if found is None and isinstance(layer, (keras.layers.Rescaling, ImagePreprocessing)):
            found = (0.0, 255.0)
    return found


def check_pixel_range(images: np.ndarray, pixel_range: tuple[float, float] | None, what: str = "images") -> None:
    """One clear error when pixels do not look like those the model was trained on."""
    if images.dtype == bool:
        raise ConvsuiteError(f"{what} are boolean but the model reads pixel values"
                             f"{'' if pixel_range is None else ' %g-%g' % pixel_range}; pass e.g. x.astype('uint8') * 255")
    if not (np.issubdtype(images.dtype, np.integer) or np.issubdtype(images.dtype, np.floating)):
        raise ConvsuiteError(f"{what} have dtype {images.dtype}; pass uint8 or float pixel values")
    if pixel_range is None or images.size == 0:
        return
    low, high = pixel_range
    if high <= 255 and np.issubdtype(images.dtype, np.unsignedinteger) and images.dtype.itemsize > 1:
        raise ConvsuiteError(f"{what} are {images.dtype} (16-bit or wider) but the model was trained on 8-bit pixels "
                             f"{low:g}-{high:g}; convert them, e.g. (x / 257).round().astype('uint8') for 16-bit images")
    smallest, largest = images.min(), images.max()
    if smallest < low or largest > high:
        raise ConvsuiteError(f"{what} hold pixel values from {smallest:g} to {largest:g} but the model was trained on "
                             f"{low:g}-{high:g}; rescale them to that range")
    if high > 1 and images.dtype != np.uint8 and 0 < largest <= 1:
        raise ConvsuiteError(f"{what} hold pixel values in [0, 1] but the model was trained on {low:g}-{high:g}; "
                             f"multiply them by {high:g} (e.g. (x * 255).round().astype('uint8'))")


def bench(experiment: ImageExperiment, train_batches: int = 30, inference_images: int = 4096) -> dict:
    """Training and inference images/s of the experiment's model on synthetic images."""
    import keras

    from convsuite.common.runtime import configure

    runtime = configure(experiment.runtime)
    shape = DEFAULT_INPUT_SHAPES[experiment.model.name]
    batch = experiment.trainer.batch_size
    rng = np.random.default_rng(0)
    n = batch * train_batches
    x = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    y = rng.integers(0, 10, size=n).astype(np.int64)
    with runtime.scope():
        model = build_model(experiment, shape, 10)
        model.compile(optimizer=make_optimizer(experiment.trainer), loss="sparse_categorical_crossentropy",
                      jit_compile=runtime.jit_compile)
    x_infer = rng.integers(0, 256, size=(inference_images, *shape), dtype=np.uint8)
    train_rate, infer_rate = trainer_lib.measure_rates(model, x, y, batch, train_batches, x_infer, max(batch, 256))
    return {"suite": "image", "model": model.name, "params": int(model.count_params()), "batch_size": batch,
            "backend": keras.backend.backend(), "device": runtime.device_kind, "precision": experiment.runtime.precision,
            "jit_compile": runtime.jit_compile, "train_images_per_s": round(train_rate, 1),
            "inference_images_per_s": round(infer_rate, 1)}


_BASELINES: dict[str, float] = {}


def logistic_regression_baseline(data: SupervisedData, max_train: int = 20000, seed: int = 0) -> float:
    """Test accuracy of multinomial logistic regression on raw pixels: the floor a CNN must beat.

    Fitted once per process for the same split (a notebook or a test that trains several
    models on one split asks for it several times; the fit takes tens of seconds)."""
    import hashlib

    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    take = rng.permutation(len(data.y_train))[:max_train]
    digest = hashlib.sha256()
    for array in (data.x_train[take], data.y_train[take], data.x_test, data.y_test):
        digest.update(np.ascontiguousarray(array).tobytes())
    key = digest.hexdigest()
    if key not in _BASELINES:
        x_train = data.x_train[take].reshape(len(take), -1) / 255.0
        x_test = data.x_test.reshape(len(data.x_test), -1) / 255.0
        classifier = LogisticRegression(max_iter=200, C=0.1)
        classifier.fit(x_train, data.y_train[take])
        _BASELINES[key] = float((classifier.predict(x_test) == data.y_test).mean())
    return _BASELINES[key]
