"""Experiment configuration: one dataclass per experiment (model + data + trainer + runtime).

Modelled on TF Model Garden's experiment configs. An experiment is loaded from a TOML file
and overridden from the command line with ``--set section.key=value``. Every field is declared
with `setting`: its default, one line of help, the values that make sense (choices, a range)
and, for keys only some architectures or tasks read, which ones (``used_by``).
`Experiment.validate` checks all of it, so a typo or a value that cannot work fails before
Keras starts, naming the key.
"""

from __future__ import annotations

import dataclasses
import functools
import difflib
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from convsuite.common.errors import ConvsuiteError


def uses(key: str, *values: str) -> dict[str, tuple[str, ...]]:
    """``used_by`` for `setting`: the field is read only when ``key`` (e.g. ``"model.name"``)
    has one of ``values``."""
    return {key: tuple(values)}


def setting(default: Any, help: str, *, choices: typing.Iterable[Any] | None = None,
            at_least: float | None = None, above: float | None = None,
            at_most: float | None = None, below: float | None = None,
            used_by: dict[str, tuple[str, ...]] | None = None) -> Any:
    """A dataclass field with its help and checks in the field's metadata.

    ``choices`` and the bounds (``at_least``/``at_most`` inclusive, ``above``/``below``
    exclusive) apply to the value, or to every item of a list. ``used_by`` (see `uses`) marks
    a key that only some architectures or tasks read: setting it away from its default while
    another one is chosen is an error. A list default is copied for every instance.
    """
    if not help:
        raise ValueError("every config field needs a help text")
    metadata = {"help": help, "choices": tuple(choices) if choices else None, "at_least": at_least,
                "above": above, "at_most": at_most, "below": below, "used_by": dict(used_by or {})}
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "adadelta")
BACKENDS = ("tensorflow", "jax")


@dataclass
class ModelConfig:
    """Which architecture to build; suites subclass this with the architecture's knobs."""

    name: str = setting("", "architecture to build")


@dataclass
class DataConfig:
    """Which dataset, how much of it, and how validation is split off the training set."""

    dataset: str = setting("", "dataset name (see `convsuite list`)")
    data_dir: str = setting("", "where the dataset is stored; empty: the registry's default location")
    train_subset: int = setting(0, "use only this many training examples; 0 = the whole training split", at_least=0)
    test_subset: int = setting(0, "use only this many test examples; 0 = the whole test split", at_least=0)
    validation_fraction: float = setting(0.1, "share of the (shuffled) training split held out for validation, "
                                              "taken from its end", at_least=0, below=1)


@dataclass
class TrainerConfig:
    """The supervised loop: optimisation, checkpoints, logs and stopping."""

    epochs: int = setting(10, "passes over the training data", at_least=1)
    batch_size: int = setting(128, "examples per training step (all replicas together)", at_least=1)
    optimizer: str = setting("adam", "optimizer", choices=OPTIMIZERS)
    learning_rate: float = setting(1e-3, "initial learning rate", above=0)
    momentum: float = setting(0.9, "momentum of sgd / rmsprop", at_least=0, below=1,
                              used_by=uses("trainer.optimizer", "sgd", "rmsprop"))
    weight_decay: float = setting(0.0, "decoupled weight decay of adamw", at_least=0,
                                  used_by=uses("trainer.optimizer", "adamw"))
    lr_decay_per_epoch: float = setting(1.0, "multiply the learning rate by this after every epoch", above=0)
    checkpoint_every_epochs: int = setting(1, "checkpoint every this many epochs; 0 = never at epoch ends", at_least=0)
    checkpoint_every_steps: int = setting(0, "also checkpoint every this many steps; 0 = never mid-epoch", at_least=0)
    keep_checkpoints: int = setting(2, "checkpoints kept on disk (older ones are deleted)", at_least=1)
    monitor: str = setting("val_accuracy", "metric for the best-model export and early stopping")
    monitor_mode: str = setting("auto", "whether the monitor is maximised or minimised; auto: from its name",
                                choices=("auto", "max", "min"))
    early_stopping_patience: int = setting(0, "stop after this many epochs without a better monitor; 0 = off",
                                           at_least=0)
    seed: int = setting(0, "seed of weights, shuffling and augmentation", at_least=0)
    recompute_batchnorm: bool = setting(True, "after training, set BatchNorm moving statistics to the training "
                                              "set's, computed with the final weights (docs/notes/batchnorm-fcn.md)")
    run_dir: str = setting("", "run directory (checkpoints, logs, models); empty: runs/<experiment name>")
    progress: bool = setting(True, "progress bar (false: one line per epoch)")


@dataclass
class RuntimeConfig:
    """Where and how the computation runs."""

    backend: str = setting("tensorflow", "Keras backend; the CLI's --backend wins over this, this (when set in "
                                         "the --config file or by --set) over $KERAS_BACKEND", choices=BACKENDS)
    strategy: str = setting("auto", "devices and distribution (TensorFlow strategies; data parallel on JAX)",
                            choices=("auto", "cpu", "gpu", "mirrored", "multiworker", "tpu"))
    precision: str = setting("float32", "Keras dtype policy",
                             choices=("float32", "mixed_float16", "mixed_bfloat16"))
    jit_compile: str = setting("auto", "XLA compilation; auto: on GPU/TPU and on JAX, not with TensorFlow on CPU",
                               choices=("auto", "true", "false"))
    num_cpu_devices: int = setting(0, ">0: split the CPU into this many logical devices (tests, mirrored)",
                                   at_least=0)
    cluster: str = setting("", 'parallel work (self-play, matches, screening, rollouts): "" = local processes; '
                               '"local" = start a local Ray instance; "auto" or host:port = join that Ray cluster')


@dataclass
class Experiment:
    """A whole experiment; suites subclass it to give model/data their own dataclasses."""

    name: str = setting("", "experiment name (a TOML file's name picks the experiment it starts from)")
    suite: str = setting("", "the suite this experiment belongs to")
    description: str = setting("", "one line shown by `convsuite list`")
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig, metadata={"help": "the architecture"})
    data: DataConfig = dataclasses.field(default_factory=DataConfig, metadata={"help": "the data and its splits"})
    trainer: TrainerConfig = dataclasses.field(default_factory=TrainerConfig,
                                               metadata={"help": "optimisation, checkpoints, logs, stopping"})
    runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig,
                                               metadata={"help": "backend, devices, precision"})

    def validate(self) -> "Experiment":
        """Check every key's type, choices and range, the suite's combinations, that no key of an
        architecture/task other than the chosen one is set, and the monitor; return ``self``."""
        expected_suite = _default(next(f for f in dataclasses.fields(self) if f.name == "suite"))
        if expected_suite and self.suite != expected_suite:
            raise ConvsuiteError(f"suite={self.suite!r} but this is a {expected_suite} experiment; "
                                 f"use it with `convsuite ... {self.suite}` or remove the suite key")
        for path, field, annotation, value in iter_fields(self):
            _check_value(path, _coerce(path, value, annotation), field.metadata)
        self.check_consistency()
        for path, field, _, value in iter_fields(self):
            _check_owner(self, path, value, field)
        monitor_direction(self.trainer)
        return self

    def check_consistency(self) -> None:
        """Suites override this to refuse combinations of keys that cannot work together
        (runs after every key passed its own checks, before the ownership check)."""


# --------------------------------------------------------------------------- fields and their checks

@functools.cache
def _fields_of(cls: type) -> dict[str, tuple[dataclasses.Field, Any]]:
    """``{name: (field, resolved type)}`` of a config dataclass."""
    hints = typing.get_type_hints(cls)
    return {f.name: (f, hints[f.name]) for f in dataclasses.fields(cls)}


def _default(field: dataclasses.Field) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def iter_fields(experiment: Experiment):
    """Yield ``(dotted key, field, type, value)`` for every key of ``experiment``, sections' keys
    as ``section.key``."""
    for name, (field, annotation) in _fields_of(type(experiment)).items():
        value = getattr(experiment, name)
        if dataclasses.is_dataclass(value):
            for key, (sub_field, sub_annotation) in _fields_of(type(value)).items():
                yield f"{name}.{key}", sub_field, sub_annotation, getattr(value, key)
        else:
            yield name, field, annotation, value


def get_value(experiment: Experiment, dotted_key: str) -> Any:
    """The value of ``section.key`` (or a top-level key)."""
    target = experiment
    for part in dotted_key.split("."):
        target = getattr(target, part)
    return target


def _number(value: float) -> str:
    return f"{value:g}"


def range_text(metadata: typing.Mapping) -> str:
    """The allowed range of a field as text (">= 0", "in (0, 1)"), or "" when unbounded."""
    low = ("[", metadata.get("at_least")) if metadata.get("at_least") is not None else (
        ("(", metadata.get("above")) if metadata.get("above") is not None else None)
    high = ("]", metadata.get("at_most")) if metadata.get("at_most") is not None else (
        (")", metadata.get("below")) if metadata.get("below") is not None else None)
    if low and high:
        return f"in {low[0]}{_number(low[1])}, {_number(high[1])}{high[0]}"
    if low:
        return f"{'>=' if low[0] == '[' else '>'} {_number(low[1])}"
    if high:
        return f"{'<=' if high[0] == ']' else '<'} {_number(high[1])}"
    return ""


def _in_range(value: float, metadata: typing.Mapping) -> bool:
    checks = (("at_least", lambda v, b: v >= b), ("above", lambda v, b: v > b),
              ("at_most", lambda v, b: v <= b), ("below", lambda v, b: v < b))
    return all(metadata.get(name) is None or test(value, metadata[name]) for name, test in checks)


def _check_value(path: str, value: Any, metadata: typing.Mapping) -> None:
    """Raise a ConvsuiteError if ``value`` (or an item of a list value) is not one of the
    field's choices or lies outside its range."""
    is_list = isinstance(value, (list, tuple))
    items = value if is_list else [value]
    what = f"{path} items" if is_list else path
    choices = metadata.get("choices")
    for item in items:
        if item is None:
            continue
        if choices and item not in choices:
            raise ConvsuiteError(f"{what} must be one of {', '.join(map(str, choices))}, got {item!r}")
        if isinstance(item, (int, float)) and not isinstance(item, bool) and not _in_range(item, metadata):
            raise ConvsuiteError(f"{what} must be {range_text(metadata)}, got {_toml_value(value)}")


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(default, tuple):
        default = list(default)
    return value == default


def _check_owner(experiment: Experiment, path: str, value: Any, field: dataclasses.Field) -> None:
    """A key that only some architectures/tasks read may differ from its default only when
    one of them is chosen."""
    used_by = field.metadata.get("used_by")
    if not used_by:
        return
    default = _default(field)
    if _same(value, default):
        return
    for selector, allowed in used_by.items():
        chosen = get_value(experiment, selector)
        if chosen not in allowed:
            raise ConvsuiteError(
                f"{path}={_toml_value(value)} is used only by {selector}={'|'.join(allowed)}, but this experiment "
                f"has {selector}={chosen}; leave {path} at its default {_toml_value(default)} "
                f"or choose {selector}={allowed[0]}")


# --------------------------------------------------------------------------- the monitor's direction

METRIC_DIRECTIONS: dict[str, str] = {
    **dict.fromkeys(("loss", "mse", "mae", "rmse", "mape", "mase", "smape", "crps", "pinball", "nll",
                     "crossentropy", "log_loss", "mean_squared_error", "mean_absolute_error", "error",
                     "error_rate", "perplexity"), "min"),
    **dict.fromkeys(("accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
                     "top1", "top_1", "top5", "top_5", "top5_accuracy", "top_5_accuracy",
                     "sparse_top_k_categorical_accuracy", "recall_accuracy", "sign_accuracy", "auc", "roc_auc",
                     "pr_auc", "f1", "f1_score", "precision", "recall", "iou", "mean_iou", "r2", "return",
                     "episode_return", "mean_return", "reward", "episode_reward", "win_rate",
                     "enrichment_factor", "ef1", "bedroc", "score_vs_piece_count"), "max"),
}
"""Known metric names (without a ``val_``/``test_`` prefix) and whether a better value is
larger ("max") or smaller ("min")."""

METRIC_PREFIXES = ("val_", "test_")


def _known_direction(name: str) -> str | None:
    base = name
    for prefix in METRIC_PREFIXES:
        if base.startswith(prefix):
            base = base[len(prefix):]
            break
    if base in METRIC_DIRECTIONS:
        return METRIC_DIRECTIONS[base]
    # a named output of a multi-output model: "policy_accuracy", "value_loss"
    for known in sorted(METRIC_DIRECTIONS, key=len, reverse=True):
        if base.endswith(f"_{known}"):
            return METRIC_DIRECTIONS[known]
    return None


def closest_metric_names(name: str, count: int = 3) -> list[str]:
    """Known metric names (prefixes included) closest to ``name``; those it begins first."""
    known = [*METRIC_DIRECTIONS, *(p + k for p in METRIC_PREFIXES for k in METRIC_DIRECTIONS)]
    close = difflib.get_close_matches(name, known, n=count + 3, cutoff=0.6)
    close.sort(key=lambda candidate: not candidate.startswith(name))
    return close[:count]


def monitor_direction(trainer_cfg: Any) -> str:
    """``"max"`` or ``"min"``: whether a larger ``trainer_cfg.monitor`` is better. With
    ``monitor_mode`` max or min that is the answer; with auto the name decides (`METRIC_DIRECTIONS`,
    optional ``val_``/``test_`` prefix), and an unknown name is an error suggesting close ones."""
    mode, name = getattr(trainer_cfg, "monitor_mode", "auto"), trainer_cfg.monitor
    if mode in ("max", "min"):
        return mode
    if mode != "auto":
        raise ConvsuiteError(f"trainer.monitor_mode must be one of auto, max, min, got {mode!r}")
    direction = _known_direction(name)
    if direction is None:
        close = closest_metric_names(name)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConvsuiteError(
            f"trainer.monitor={name!r} is not a metric name whose direction is known{hint}; use a known name, "
            "or set trainer.monitor_mode=max or min for a metric of your own")
    return direction


# --------------------------------------------------------------------------- values from text and TOML

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


def set_value(experiment: Experiment, dotted_key: str, value: Any) -> None:
    """Set ``section.key`` (or a top-level key) on ``experiment``, type-, choice- and range-checked."""
    parts = dotted_key.split(".")
    target = experiment
    for depth, part in enumerate(parts):
        if not dataclasses.is_dataclass(target):
            raise ConvsuiteError(f"unknown config key {dotted_key!r}: {'.'.join(parts[:depth])} is a value, not a section")
        fields = _fields_of(type(target))
        if part not in fields:
            where = ".".join(parts[:depth]) or "the experiment"
            known = ", ".join(sorted(fields))
            raise ConvsuiteError(f"unknown config key {dotted_key!r}: {where} has no {part!r} (known: {known})")
        if depth == len(parts) - 1:
            if dataclasses.is_dataclass(getattr(target, part)):
                raise ConvsuiteError(f"config key {dotted_key!r} is a section; set one of its keys, e.g. {dotted_key}.<key>=...")
            field, annotation = fields[part]
            coerced = _coerce(dotted_key, value, annotation)
            _check_value(dotted_key, coerced, field.metadata)
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


def override_keys(overrides: list[str]) -> set[str]:
    """The dotted keys that ``--set`` strings name."""
    return {item.split("=", 1)[0].strip() for item in overrides or () if "=" in item}


def update_from_dict(experiment: Experiment, values: dict, prefix: str = "") -> Experiment:
    """Apply a nested dict (as read from TOML) onto ``experiment``; unknown keys are errors."""
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            update_from_dict(experiment, value, prefix=f"{dotted}.")
        else:
            set_value(experiment, dotted, value)
    return experiment


def toml_keys(values: dict, prefix: str = "") -> set[str]:
    """The dotted keys a dict read from TOML sets."""
    keys = set()
    for key, value in values.items():
        if isinstance(value, dict):
            keys |= toml_keys(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def read_toml(path: str | Path) -> dict:
    """The dict a TOML file holds; a missing, unreadable or malformed file is a one-line error."""
    path = Path(path)
    if not path.is_file():
        raise ConvsuiteError(f"config file {str(path)!r} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConvsuiteError(f"config file {str(path)!r} is not a text file; give a TOML file like the "
                             "config.toml a run directory holds") from None
    except OSError as error:
        raise ConvsuiteError(f"cannot read config file {str(path)!r}: {error.strerror or error}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConvsuiteError(f"config file {str(path)!r} is not valid TOML ({error}); fix that line") from None


def _apply_file(path: str | Path, experiment: Experiment, values: dict, validate: bool) -> Experiment:
    try:
        update_from_dict(experiment, values)
        return experiment.validate() if validate else experiment
    except ConvsuiteError as error:
        raise ConvsuiteError(f"config file {str(path)!r}: {error}") from None


def load_toml(path: str | Path, experiment: Experiment, validate: bool = True) -> Experiment:
    """Read a TOML file over the values of ``experiment``, then validate it."""
    return _apply_file(path, experiment, read_toml(path), validate)


def experiment_from_toml(path: str | Path, experiments: dict[str, Callable[[], Experiment]],
                         default: Callable[[], Experiment], validate: bool = True) -> Experiment:
    """The experiment a TOML file describes: read over the named experiment it starts from
    (its ``name`` key, if that is one of ``experiments``), else over ``default()``."""
    values = read_toml(path)
    name = values.get("name")
    factory = experiments.get(name, default) if isinstance(name, str) else default
    return _apply_file(path, factory(), values, validate)


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


# --------------------------------------------------------------------------- documentation

def _type_name(annotation: Any) -> str:
    return annotation.__name__ if isinstance(annotation, type) else str(annotation).replace("typing.", "")


def describe(experiment: Experiment) -> list[dict]:
    """One row per key of ``experiment``: ``key``, ``section`` ("" for top-level keys),
    ``type``, ``value`` and ``default`` (as TOML text), ``help``, ``choices``, ``range``,
    ``used_by`` ("model.name=fcn", "" for keys every architecture/task reads) and ``in_use``
    (whether the chosen architecture/task reads it)."""
    rows = []
    for key, field, annotation, value in iter_fields(experiment):
        metadata = field.metadata
        used_by = metadata.get("used_by") or {}
        rows.append({
            "key": key, "section": key.rpartition(".")[0], "type": _type_name(annotation),
            "value": _toml_value(value), "default": _toml_value(_default(field)), "help": metadata.get("help", ""),
            "choices": list(metadata.get("choices") or ()), "range": range_text(metadata),
            "used_by": "; ".join(f"{selector}={'|'.join(allowed)}" for selector, allowed in used_by.items()),
            "in_use": all(get_value(experiment, s) in allowed for s, allowed in used_by.items()),
        })
    return rows
