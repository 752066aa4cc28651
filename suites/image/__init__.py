"""Image recognition: LeNet-5, the multi-column deep net (MCDNN) and a CIFAR-style ResNet.

Public names load lazily, so reading a config (``convsuite.suites.image.config``) does not
start Keras: the CLI picks the backend first.
"""

import importlib

_EXPORTS = {
    "lenet5": "models",
    "ConnectionTableConv2D": "models",
    "LENET5_C3_TABLE": "models",
    "mcdnn_column": "models",
    "multi_column": "models",
    "small_resnet": "models",
    "scaled_tanh": "models",
    "ElasticDistortion": "models",
    "ImagePreprocessing": "models",
    "ImageExperiment": "config",
    "ImageModelConfig": "config",
    "ImageDataConfig": "config",
    "EXPERIMENTS": "config",
    "build_model": "train",
    "train_experiment": ("train", "train"),
    "evaluate_run": ("train", "evaluate"),
    "bench_experiment": ("train", "bench"),
    "predict": "train",
    "logistic_regression_baseline": "train",
    "prepare": "data",
    "fit_images": "data",
    "check_images": "data",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    # train/evaluate/bench are exported as train_experiment/... because the submodule
    # ``train`` would otherwise shadow a package attribute of the same name.
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _EXPORTS[name] if isinstance(_EXPORTS[name], tuple) else (_EXPORTS[name], name)
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    globals()[name] = value
    return value


def __dir__():
    return __all__
