"""Which suites exist and where their configs and trainers live.

A suite is a package ``convsuite.suites.<name>`` with ``config.py`` (EXPERIMENTS,
DEFAULT_EXPERIMENT; no Keras import) and ``train.py`` (train, evaluate, bench). The CLI
reaches suites only through this module.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from convsuite.common.config import Experiment, apply_overrides, load_toml
from convsuite.common.errors import ConvsuiteError

SUITES = {
    "image": "Image recognition: LeNet-5, multi-column deep nets (MCDNN), CIFAR ResNet",
    "timeseries": "Time series: TCN/WaveNet forecasting, FCN classification, SR/SR-CNN anomaly detection",
    "go": "Go: rules engine, SGF, Clark & Storkey / Maddison policy nets, value net, GTP play against GNU Go",
}

# Suites with commands of their own (`convsuite go gtp ...`): a module with HELP,
# add_arguments(parser) and run(args). Importing it must not start Keras.
DOMAIN_COMMANDS = {
    "go": "convsuite.suites.go.commands",
}


def _check(name: str) -> None:
    if name not in SUITES:
        raise ConvsuiteError(f"unknown suite {name!r}; available suites: {', '.join(sorted(SUITES))}")


def config_module(name: str) -> ModuleType:
    _check(name)
    return importlib.import_module(f"convsuite.suites.{name}.config")


def train_module(name: str) -> ModuleType:
    _check(name)
    return importlib.import_module(f"convsuite.suites.{name}.train")


def domain_module(name: str) -> ModuleType:
    return importlib.import_module(DOMAIN_COMMANDS[name])


def experiment_names(name: str) -> list[str]:
    return list(config_module(name).EXPERIMENTS)


def make_experiment(suite: str, config: str | None = None, overrides: list[str] | None = None) -> Experiment:
    """The suite's default experiment, or the one ``config`` names (an experiment name or a
    TOML file, whose optional ``name`` key picks the experiment it starts from), then overrides."""
    module = config_module(suite)
    experiments = module.EXPERIMENTS
    if config and config in experiments:
        experiment = experiments[config]()
    elif config:
        if not config.endswith(".toml"):
            raise ConvsuiteError(
                f"--config {config!r} is neither a {suite} experiment ({', '.join(experiments)}) nor a .toml file"
            )
        import tomllib
        from pathlib import Path

        base = tomllib.loads(Path(config).read_text()).get("name") if Path(config).is_file() else None
        experiment = experiments.get(base, experiments[module.DEFAULT_EXPERIMENT])()
        experiment = load_toml(config, experiment)
    else:
        experiment = experiments[module.DEFAULT_EXPERIMENT]()
    return apply_overrides(experiment, overrides or [])
