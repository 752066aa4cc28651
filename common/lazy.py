"""Lazy public names for suite packages (PEP 562).

A suite's ``__init__`` exports its models and trainers, but importing the package must not
start Keras: the CLI reads a suite's config first, then picks the backend.
"""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict, namespace: dict):
    """Install ``__getattr__``, ``__dir__`` and ``__all__`` in ``namespace`` (a package's
    globals) so that each name in ``exports`` loads from its submodule on first use.

    ``exports`` maps a public name to a submodule, or to (submodule, attribute) when the
    public name differs (``train_experiment`` -> ``train.train``: the submodule ``train``
    would otherwise shadow a package attribute of the same name)."""
    names = sorted(exports)

    def __getattr__(name):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = exports[name] if isinstance(exports[name], tuple) else (exports[name], name)
        value = getattr(importlib.import_module(f"{package}.{module}"), attribute)
        namespace[name] = value
        return value

    def __dir__():
        return names

    namespace.update(__getattr__=__getattr__, __dir__=__dir__, __all__=names)


# The names every suite package exports (docs/ARCHITECTURE.md, "The suite contract"). The
# trainers are aliased: the submodule ``train`` would shadow a package attribute ``train``.
SUITE_CONTRACT_EXPORTS = {
    "EXPERIMENTS": "config",
    "MODELS": "models",
    "build_model": "models",
    "train_experiment": ("train", "train"),
    "evaluate_run": ("train", "evaluate"),
    "bench_experiment": ("train", "bench"),
    "load_run": "train",
    "experiment_from_run": "train",
}


def suite_exports(package: str, exports: dict, namespace: dict):
    """`lazy_exports` of a suite package: its own ``exports`` plus the contract's names."""
    lazy_exports(package, {**SUITE_CONTRACT_EXPORTS, **exports}, namespace)
