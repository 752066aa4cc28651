"""Trainer, evaluator and benchmark of the image suite, on the shared common.trainer."""

from __future__ import annotations

import copy
import json
import time
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
from convsuite.suites.image import models
from convsuite.suites.image.config import EXPERIMENTS, ImageExperiment
from convsuite.suites.image.data import check_images, prepare


def build_model(experiment: ImageExperiment, input_shape, num_classes: int, column: int = 0):
    """The keras.Model an experiment names (for MCDNN: one column, ``column``)."""
    cfg = experiment.model
    if cfg.name == "lenet5":
        return models.lenet5(input_shape, num_classes, activation=cfg.activation, c3_table=cfg.c3_table)
    if cfg.name == "resnet":
        return models.small_resnet(input_shape, num_classes, depth=cfg.resnet_depth, width=cfg.resnet_width)
    if cfg.name == "mcdnn":
        distortion = None
        if cfg.elastic_alpha or cfg.affine_rotation or cfg.affine_scale:
            distortion = dict(alpha=cfg.elastic_alpha, sigma=cfg.elastic_sigma, rotation=cfg.affine_rotation,
                              scale=cfg.affine_scale, seed=experiment.trainer.seed + column)
        return models.mcdnn_column(input_shape, num_classes, preprocessing=cfg.column_preprocessing[column],
                                   architecture=cfg.column_architecture, distortion=distortion,
                                   dropout=cfg.column_dropout, name=f"column{column + 1}_{cfg.column_preprocessing[column]}")
    raise ConvsuiteError(f"model.name must be lenet5, mcdnn or resnet, got {cfg.name!r}")


def train(experiment: ImageExperiment, resume: bool = True) -> dict:
    """Train the experiment's model; for MCDNN train each column, then average them."""
    data, dataset = prepare(experiment)
    input_shape = data.x_train.shape[1:]
    if experiment.model.name != "mcdnn":
        metrics = train_supervised(experiment, lambda: build_model(experiment, input_shape, dataset.num_classes),
                                   data, resume=resume)
        return _with_dataset(metrics, experiment, dataset)

    run_dir = run_directory(experiment)
    columns, column_metrics = [], []
    for index, mode in enumerate(experiment.model.column_preprocessing):
        sub = copy.deepcopy(experiment)
        sub.name = f"{experiment.name}-column{index + 1}"
        sub.trainer.run_dir = str(run_dir / "columns" / f"{index + 1}-{mode}")
        sub.trainer.seed = experiment.trainer.seed + index
        print(f"MCDNN column {index + 1}/{len(experiment.model.column_preprocessing)} (preprocessing: {mode})")
        metrics = train_supervised(sub, lambda i=index: build_model(experiment, input_shape, dataset.num_classes, i),
                                   data, resume=resume)
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
        "precision": experiment.runtime.precision,
    }
    metrics = _with_dataset(metrics, experiment, dataset)
    atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=1))
    return metrics


def _with_dataset(metrics: dict, experiment, dataset) -> dict:
    metrics["dataset"] = dataset.name
    metrics["model"] = experiment.model.name
    return metrics


def experiment_from_run(run_dir: str | Path) -> ImageExperiment:
    """Rebuild the experiment a run directory was trained with (its config.toml)."""
    return trainer_lib.experiment_from_run(run_dir, EXPERIMENTS, ImageExperiment)


def evaluate(run_dir: str | Path, which: str = "model", experiment: ImageExperiment | None = None) -> dict:
    """Test-set metrics of a finished run, on the same split it was trained with."""
    experiment = experiment or experiment_from_run(run_dir)
    model = load_run_model(run_dir, which)
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
    """Class probabilities for raw images (N, H, W, C) from a model or a run directory,
    after checking that the images fit the model's input."""
    model = model_or_run_dir if hasattr(model_or_run_dir, "predict") else load_run_model(model_or_run_dir, which)
    images = np.asarray(images)
    if images.ndim == 3 and model.input_shape[-1] == 1:
        images = images[..., None]
    check_images(images, model.input_shape[1:])
    return model.predict(images, verbose=0)


def bench(experiment: ImageExperiment, train_batches: int = 30, inference_images: int = 4096) -> dict:
    """Training and inference images/s of the experiment's model on synthetic images."""
    import keras

    from convsuite.common.inputs import training_batches
    from convsuite.common.runtime import configure

    runtime = configure(experiment.runtime)
    shape = {"lenet5": (32, 32, 1), "resnet": (32, 32, 3), "mcdnn": (28, 28, 1)}[experiment.model.name]
    batch = experiment.trainer.batch_size
    rng = np.random.default_rng(0)
    n = batch * train_batches
    x = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    y = rng.integers(0, 10, size=n).astype(np.int64)
    with runtime.scope():
        model = build_model(experiment, shape, 10)
        model.compile(optimizer=make_optimizer(experiment.trainer), loss="sparse_categorical_crossentropy",
                      jit_compile=runtime.jit_compile)
    inputs = training_batches(x, y, batch, 0, 0, 3)
    model.fit(inputs, epochs=1, steps_per_epoch=train_batches, verbose=0)  # warm-up: tracing/compilation
    start = time.perf_counter()
    model.fit(inputs, initial_epoch=1, epochs=3, steps_per_epoch=train_batches, verbose=0)
    train_rate = 2 * n / (time.perf_counter() - start)
    x_infer = rng.integers(0, 256, size=(inference_images, *shape), dtype=np.uint8)
    model.predict(x_infer[: 2 * batch], batch_size=batch, verbose=0)
    start = time.perf_counter()
    model.predict(x_infer, batch_size=max(batch, 256), verbose=0)
    infer_rate = inference_images / (time.perf_counter() - start)
    return {"suite": "image", "model": model.name, "params": int(model.count_params()), "batch_size": batch,
            "backend": keras.backend.backend(), "device": runtime.device_kind, "precision": experiment.runtime.precision,
            "jit_compile": runtime.jit_compile, "train_images_per_s": round(train_rate, 1),
            "inference_images_per_s": round(infer_rate, 1)}


def logistic_regression_baseline(data: SupervisedData, max_train: int = 20000, seed: int = 0) -> float:
    """Test accuracy of multinomial logistic regression on raw pixels: the floor a CNN must beat."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    take = rng.permutation(len(data.y_train))[:max_train]
    x_train = data.x_train[take].reshape(len(take), -1) / 255.0
    x_test = data.x_test.reshape(len(data.x_test), -1) / 255.0
    classifier = LogisticRegression(max_iter=200, C=0.1)
    classifier.fit(x_train, data.y_train[take])
    return float((classifier.predict(x_test) == data.y_test).mean())
