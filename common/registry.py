"""Which suites exist and where their configs and trainers live.

A suite is a package ``convsuite.suites.<name>`` with ``config.py`` (EXPERIMENTS,
DEFAULT_EXPERIMENT; no Keras import), ``data.py`` (its datasets, registered with the suite;
no Keras import), ``models.py`` (MODELS, build_model) and ``train.py`` (train, evaluate,
bench, load_run, experiment_from_run). The CLI reaches suites only through this module.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from convsuite.common.config import (Experiment, apply_overrides, experiment_from_toml, override_keys, read_toml,
                                     toml_keys)
from convsuite.common.errors import ConvsuiteError

SUITES = {
    "image": "Image recognition: LeNet-5, multi-column deep nets (MCDNN), CIFAR ResNet",
    "timeseries": "Time series: TCN/WaveNet forecasting, FCN classification, SR/SR-CNN anomaly detection",
    "go": "Go: rules engine, SGF, Clark & Storkey / Maddison policy nets, value net, GTP play against GNU Go",
    "checkers": "Checkers: exact engine, Blondie24 network and co-evolution (Chellapilla & Fogel 2001), matches, play",
    "atari": "Atari: DQN (Mnih et al. 2015) and Double DQN on the Arcade Learning Environment, evaluation, play",
    "text": "Text: Kim's (2014) sentence CNN (rand, static, non-static, multichannel), cross-validated, with baselines",
    "video": "Video: LRCN (CNN + LSTM), C3D 3x3x3 convolutions and two-stream nets for action recognition",
    "drug": "Drug: AtomNet and gnina default2017 3-D voxel CNNs for virtual screening, ligand-only controls, screens",
}

# Suites with commands of their own (`convsuite go gtp ...`): a module with HELP,
# add_arguments(parser) and run(args). Importing it must not start Keras.
DOMAIN_COMMANDS = {
    "go": "convsuite.suites.go.commands",
    "checkers": "convsuite.suites.checkers.commands",
    "atari": "convsuite.suites.atari.commands",
    "text": "convsuite.suites.text.commands",
    "video": "convsuite.suites.video.commands",
    "drug": "convsuite.suites.drug.commands",
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


def data_module(name: str) -> ModuleType:
    """The suite's Keras-free data module; importing it registers the suite's datasets."""
    _check(name)
    return importlib.import_module(f"convsuite.suites.{name}.data")


def models_module_name(name: str) -> str:
    """Where the suite's models (and its custom Keras objects) live; importing it imports Keras."""
    _check(name)
    return f"convsuite.suites.{name}.models"


def models_module(name: str) -> ModuleType:
    return importlib.import_module(models_module_name(name))


def suite_datasets(name: str) -> list:
    """The ``DatasetSpec`` of every dataset the suite registers, in registration order."""
    from convsuite.common.data import DATASETS

    data_module(name)
    return [spec for spec in DATASETS.values() if spec.suite == name]


def domain_module(name: str) -> ModuleType:
    return importlib.import_module(DOMAIN_COMMANDS[name])


def experiment_names(name: str) -> list[str]:
    return list(config_module(name).EXPERIMENTS)


def make_experiment(suite: str, config: str | None = None, overrides: list[str] | None = None) -> Experiment:
    """The suite's default experiment, or the one ``config`` names (an experiment name or a
    TOML file, whose optional ``name`` key picks the experiment it starts from), then
    overrides; validated (`Experiment.validate`) before it is returned."""
    module = config_module(suite)
    experiments = module.EXPERIMENTS
    if config and config in experiments:
        experiment = experiments[config]()
    elif config:
        if not config.endswith(".toml"):
            raise ConvsuiteError(
                f"--config {config!r} is neither a {suite} experiment ({', '.join(experiments)}) nor a .toml file"
            )
        experiment = experiment_from_toml(config, experiments, experiments[module.DEFAULT_EXPERIMENT], validate=False)
    else:
        experiment = experiments[module.DEFAULT_EXPERIMENT]()
    return apply_overrides(experiment, overrides or []).validate()


def explicit_keys(config: str | None = None, overrides: list[str] | None = None) -> set[str]:
    """The dotted keys a ``--config`` TOML file or ``--set`` overrides set explicitly (an
    experiment name sets none)."""
    keys = override_keys(overrides or [])
    if config and config.endswith(".toml"):
        keys |= toml_keys(read_toml(config))
    return keys
