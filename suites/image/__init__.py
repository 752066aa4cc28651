"""Image recognition: LeNet-5, the multi-column deep net (MCDNN) and a CIFAR-style ResNet.

Public names load lazily, so reading a config (``convsuite.suites.image.config``) does not
start Keras: the CLI picks the backend first.
"""

from convsuite.common.lazy import suite_exports

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
    "predict": "train",
    "logistic_regression_baseline": "train",
    "prepare": "data",
    "fit_images": "data",
    "check_images": "data",
}

suite_exports(__name__, _EXPORTS, globals())
