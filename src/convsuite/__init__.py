"""convsuite: specialized convolutional networks for real application domains, on Keras 3.

Importing the package does not start Keras (the CLI picks the backend first). It makes every
suite's custom Keras objects (layers, losses, metrics registered under ``convsuite>``) known
to ``keras.saving``: at once if Keras is already imported, otherwise right after Keras is
first imported. So ``import convsuite, keras; keras.saving.load_model("RUN/model.keras")``
loads a model of any suite.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("convsuite")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "unknown"
__all__ = ["register_keras_objects", "__version__"]

_registered = False


def register_keras_objects() -> None:
    """Import every registered suite's ``models`` module, whose decorators register its
    custom objects with ``keras.saving``. Imports Keras; runs once per process."""
    global _registered
    if _registered:
        return
    _registered = True
    from convsuite.common.registry import SUITES, models_module_name

    for suite in SUITES:
        try:
            importlib.import_module(models_module_name(suite))
        except ImportError as error:  # a suite whose optional dependencies are missing cannot be loaded anyway
            warnings.warn(f"convsuite: the {suite} suite's models could not be imported ({error}); "
                          f"its saved models will not load", stacklevel=2)


class _RegisterAfterKeras(importlib.abc.Loader):
    """Runs Keras's own loader, then registers the suites' objects."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader  # Keras sees its own loader
        self.loader.exec_module(module)
        register_keras_objects()


class _KerasImportHook(importlib.abc.MetaPathFinder):
    """Finds ``keras`` with the other finders once, wrapping its loader in ``_RegisterAfterKeras``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("keras")
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisterAfterKeras(spec.loader)
        return spec


def _install() -> None:
    keras = sys.modules.get("keras")
    if keras is not None and getattr(keras, "saving", None) is not None:
        register_keras_objects()
    elif not any(isinstance(finder, _KerasImportHook) for finder in sys.meta_path):
        sys.meta_path.insert(0, _KerasImportHook())


_install()
