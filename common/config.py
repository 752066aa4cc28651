"""Experiment configuration: one dataclass per experiment (model + data + trainer + runtime).

Modelled on TF Model Garden's experiment configs. An experiment is loaded from a TOML file
and overridden from the command line with ``--set section.key=value``; every key and value
is type-checked against the dataclass, so a typo fails before any training starts.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convsuite.common.errors import ConvsuiteError


@dataclass
class ModelConfig:
    """Which architecture to build; suites subclass this with the architecture's knobs."""

    name: str = ""


@dataclass
class DataConfig:
    """Which dataset, how much of it, and how validation is split off the training set."""

    dataset: str = ""
    data_dir: str = ""  # empty: the registry's default location
    train_subset: int = 0  # 0 = the whole training split
    test_subset: int = 0  # 0 = the whole test split
    validation_fraction: float = 0.1  # taken from the end of the (shuffled) training split


@dataclass
class TrainerConfig:
    """The supervised loop: optimisation, checkpoints, logs and stopping."""

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "adam"  # adam | sgd | rmsprop | adamw
    learning_rate: float = 1e-3
    momentum: float = 0.9  # sgd / rmsprop only
    weight_decay: float = 0.0  # adamw only
    lr_decay_per_epoch: float = 1.0  # multiply the learning rate by this after every epoch
    checkpoint_every_epochs: int = 1  # 0 = never at epoch ends
    checkpoint_every_steps: int = 0  # 0 = never mid-epoch
    keep_checkpoints: int = 2
    monitor: str = "val_accuracy"  # metric for the best-model export and early stopping
    early_stopping_patience: int = 0  # 0 = off
    seed: int = 0
    run_dir: str = ""  # empty: runs/<experiment name>
    progress: bool = True  # progress bar (off: one line per epoch)


@dataclass
class RuntimeConfig:
    """Where and how the computation runs."""

    backend: str = "tensorflow"  # tensorflow | jax (must match KERAS_BACKEND; see common.runtime)
    strategy: str = "auto"  # auto | cpu | gpu | mirrored | multiworker | tpu (TensorFlow)
    precision: str = "float32"  # float32 | mixed_float16 | mixed_bfloat16
    jit_compile: str = "auto"  # auto (XLA on GPU/TPU, not on CPU) | true | false
    num_cpu_devices: int = 0  # >0: split the CPU into this many logical devices (tests, mirrored)


@dataclass
class Experiment:
    """A whole experiment; suites subclass it to give model/data their own dataclasses."""

    name: str = ""
    suite: str = ""
    description: str = ""
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)


CHOICES = {
    ("trainer", "optimizer"): ("adam", "sgd", "rmsprop", "adamw"),
    ("runtime", "backend"): ("tensorflow", "jax"),
    ("runtime", "strategy"): ("auto", "cpu", "gpu", "mirrored", "multiworker", "tpu"),
    ("runtime", "precision"): ("float32", "mixed_float16", "mixed_bfloat16"),
    ("runtime", "jit_compile"): ("auto", "true", "false"),
}


def _field_types(obj) -> dict[str, Any]:
    return typing.get_type_hints(type(obj))


def _coerce(path: str, value: Any, annotation: Any) -> Any:
    """Return ``value`` converted to ``annotation``, or raise a ConvsuiteError naming ``path``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in typing.get_args(annotation):
            if option is type(None):
                if value is None or value == "none":
                    return None
                continue
            try:
                return _coerce(path, value, option)
            except ConvsuiteError as error:
                errors.append(str(error))
        raise ConvsuiteError(errors[0] if errors else f"{path}: cannot use {value!r}")
    if origin in (tuple, list):
        if isinstance(value, str):
            value = _parse_literal(path, value)
        if not isinstance(value, (list, tuple)):
            raise ConvsuiteError(f"{path} must be a list like [1, 2], got {value!r}")
        args = typing.get_args(annotation)
        item_type = args[0] if args else Any
        items = [_coerce(f"{path}[{i}]", v, item_type) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if annotation is Any:
        return value
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConvsuiteError(f"{path} must be true or false, got {value!r}")
    if annotation is int:
        if isinstance(value, bool):
            raise ConvsuiteError(f"{path} must be an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.replace("_", ""))
            except ValueError:
                pass
        raise ConvsuiteError(f"{path} must be an integer, got {value!r}")
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ConvsuiteError(f"{path} must be a number, got {value!r}")
    if annotation is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConvsuiteError(f"{path} must be a string, got {value!r}")
    raise ConvsuiteError(f"{path}: unsupported config type {annotation!r}")


def _parse_literal(path: str, text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        raise ConvsuiteError(f"{path}: cannot read {text!r} as a value; write lists like [1, 2]") from None


def _check_choice(section: str, key: str, value: Any) -> None:
    allowed = CHOICES.get((section, key))
    if allowed is not None and value not in allowed:
        raise ConvsuiteError(f"{section}.{key} must be one of {', '.join(allowed)}, got {value!r}")


def set_value(experiment: Experiment, dotted_key: str, value: Any) -> None:
    """Set ``section.key`` (or a top-level key) on ``experiment``, type-checked."""
    parts = dotted_key.split(".")
    target = experiment
    for depth, part in enumerate(parts):
        if not dataclasses.is_dataclass(target):
            raise ConvsuiteError(f"unknown config key {dotted_key!r}: {'.'.join(parts[:depth])} is a value, not a section")
        types_ = _field_types(target)
        if part not in types_:
            where = ".".join(parts[:depth]) or "the experiment"
            known = ", ".join(sorted(types_))
            raise ConvsuiteError(f"unknown config key {dotted_key!r}: {where} has no {part!r} (known: {known})")
        if depth == len(parts) - 1:
            if dataclasses.is_dataclass(getattr(target, part)):
                raise ConvsuiteError(f"config key {dotted_key!r} is a section; set one of its keys, e.g. {dotted_key}.<key>=...")
            coerced = _coerce(dotted_key, value, types_[part])
            if depth == 1:
                _check_choice(parts[0], part, coerced)
            setattr(target, part, coerced)
        else:
            target = getattr(target, part)


def apply_overrides(experiment: Experiment, overrides: list[str]) -> Experiment:
    """Apply ``key=value`` strings (from ``--set``) in order."""
    for item in overrides or ():
        if "=" not in item:
            raise ConvsuiteError(f"--set expects key=value (e.g. trainer.epochs=3), got {item!r}")
        key, raw = item.split("=", 1)
        set_value(experiment, key.strip(), raw.strip())
    return experiment


def update_from_dict(experiment: Experiment, values: dict, prefix: str = "") -> Experiment:
    """Apply a nested dict (as read from TOML) onto ``experiment``; unknown keys are errors."""
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            update_from_dict(experiment, value, prefix=f"{dotted}.")
        else:
            set_value(experiment, dotted, value)
    return experiment


def load_toml(path: str | Path, experiment: Experiment) -> Experiment:
    """Read a TOML file over the defaults of ``experiment``."""
    path = Path(path)
    if not path.is_file():
        raise ConvsuiteError(f"config file {str(path)!r} does not exist")
    try:
        values = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConvsuiteError(f"config file {str(path)!r} is not valid TOML: {error}") from None
    return update_from_dict(experiment, values)


def to_dict(experiment: Experiment) -> dict:
    return dataclasses.asdict(experiment)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if value is None:
        return '"none"'
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def to_toml(experiment: Experiment) -> str:
    """Serialise an experiment so ``load_toml`` reads it back to an equal experiment."""
    lines = []
    sections = []
    for key, value in to_dict(experiment).items():
        if isinstance(value, dict):
            sections.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for name, values in sections:
        lines.append(f"\n[{name}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
    return "\n".join(lines) + "\n"
