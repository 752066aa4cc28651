"""The config half of the suite contract, for every registered suite and every experiment of it:
config.py imports no Keras, experiments validate and round-trip through TOML, every key has help,
and keys of another architecture/task, unknown architectures, out-of-range values and monitor
typos are refused when the experiment is made."""

import json
import subprocess
import sys

import pytest

from convsuite.common import config as config_lib
from convsuite.common import registry
from convsuite.common.errors import ConvsuiteError

EXPERIMENTS = [(suite, name) for suite in registry.SUITES for name in registry.experiment_names(suite)]
SUITES = list(registry.SUITES)


def _default_experiment(suite):
    module = registry.config_module(suite)
    return module.EXPERIMENTS[module.DEFAULT_EXPERIMENT]()


def _as_override(value) -> str:
    """``value`` as --set text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    return str(value)


def _stray_value(field, annotation):
    """A value of the field's type, allowed by its own checks, that differs from its default."""
    default = config_lib._default(field)
    metadata = field.metadata
    if metadata.get("choices"):
        other = next(c for c in metadata["choices"] if c != default and [c] != default)
        return [other] if isinstance(default, list) else other
    if annotation is bool:
        return not default
    if annotation in (int, float):
        candidates = [default + 1, default * 2 + 1, default / 2 if annotation is float else default - 1, 0.25, 0, 1]
        return next(annotation(c) for c in candidates
                    if config_lib._in_range(c, metadata) and annotation(c) != default)
    if annotation is str:
        return "stray-value"
    item = {"list[int]": 3, "list[float]": 0.5, "list[str]": "stray"}[config_lib._type_name(annotation)]
    return [item]


def _out_of_range(metadata):
    """A number just outside the field's range, or None if it has no bound."""
    if metadata.get("at_least") is not None:
        return metadata["at_least"] - 1
    if metadata.get("above") is not None:
        return metadata["above"]
    if metadata.get("at_most") is not None:
        return metadata["at_most"] + 1
    if metadata.get("below") is not None:
        return metadata["below"]
    return None


@pytest.mark.parametrize("suite", SUITES)
def test_importing_config_starts_no_keras(suite):
    code = (f"import sys, convsuite.suites.{suite}.config\n"
            "print([m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("suite, name", EXPERIMENTS)
def test_experiment_validates_and_round_trips_through_toml(suite, name, tmp_path):
    module = registry.config_module(suite)
    experiment = registry.make_experiment(suite, name)
    assert experiment == module.EXPERIMENTS[name]() and experiment.suite == suite
    path = tmp_path / "experiment.toml"
    path.write_text(config_lib.to_toml(experiment))
    assert registry.make_experiment(suite, str(path)) == experiment
    read_back = config_lib.load_toml(path, type(experiment)())
    assert read_back == experiment
    assert read_back.validate() is read_back


@pytest.mark.parametrize("suite", SUITES)
def test_every_key_has_help_and_the_architecture_is_a_choice(suite):
    experiment = _default_experiment(suite)
    for key, field, _, _ in config_lib.iter_fields(experiment):
        assert field.metadata.get("help"), f"{suite}: {key} has no help text"
    for section in ("model", "data", "trainer", "runtime"):
        field = next(f for f in config_lib.dataclasses.fields(experiment) if f.name == section)
        assert field.metadata.get("help"), f"{suite}: section {section} has no help text"
    model_name = next(f for k, f, _, _ in config_lib.iter_fields(experiment) if k == "model.name")
    assert experiment.model.name in model_name.metadata["choices"]


@pytest.mark.parametrize("suite, name", EXPERIMENTS)
def test_a_key_of_another_architecture_or_task_is_refused(suite, name):
    experiment = registry.make_experiment(suite, name)
    stray = [(key, field, annotation) for key, field, annotation, _ in config_lib.iter_fields(experiment)
             if field.metadata.get("used_by") and not all(
                 config_lib.get_value(experiment, selector) in allowed
                 for selector, allowed in field.metadata["used_by"].items())]
    assert stray, f"{suite}/{name}: no key of another architecture or task to try"
    for key, field, annotation in stray:
        value = _stray_value(field, annotation)
        with pytest.raises(ConvsuiteError, match=rf"^{key}=.* is used only by .*, but this experiment has "):
            registry.make_experiment(suite, name, [f"{key}={_as_override(value)}"])


@pytest.mark.parametrize("suite", SUITES)
def test_a_key_is_accepted_once_its_architecture_or_task_is_chosen(suite):
    experiment = _default_experiment(suite)
    accepted = 0
    for key, field, annotation, _ in config_lib.iter_fields(experiment):
        used_by = field.metadata.get("used_by")
        if used_by and all(config_lib.get_value(experiment, s) in allowed for s, allowed in used_by.items()):
            value = _stray_value(field, annotation)
            try:
                changed = registry.make_experiment(suite, None, [f"{key}={_as_override(value)}"])
            except ConvsuiteError as error:  # a suite's combination check may refuse the arbitrary value
                assert "is used only by" not in str(error)
                continue
            assert config_lib.get_value(changed, key) == value
            accepted += 1
    assert accepted >= 1


@pytest.mark.parametrize("suite", SUITES)
def test_an_unknown_architecture_fails_naming_the_choices(suite):
    choices = next(f for k, f, _, _ in config_lib.iter_fields(_default_experiment(suite))
                   if k == "model.name").metadata["choices"]
    with pytest.raises(ConvsuiteError, match=f"model.name must be one of {', '.join(choices)}, got 'lenet7x'"):
        registry.make_experiment(suite, None, ["model.name=lenet7x"])


@pytest.mark.parametrize("suite", SUITES)
def test_every_out_of_range_value_is_refused(suite):
    experiment = _default_experiment(suite)
    checked = 0
    for key, field, annotation, _ in config_lib.iter_fields(experiment):
        bad = _out_of_range(field.metadata)
        if bad is None:
            continue
        bad = [bad] if config_lib._type_name(annotation).startswith("list") else bad
        with pytest.raises(ConvsuiteError, match=f"^{key}( items)? must be "):
            registry.make_experiment(suite, None, [f"{key}={_as_override(bad)}"])
        checked += 1
    assert checked >= 12  # the shared data and trainer ranges at least


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("override", ["data.train_subset=-5", "data.test_subset=-1", "data.validation_fraction=1.5",
                                      "trainer.learning_rate=-1", "trainer.epochs=0", "trainer.batch_size=0",
                                      "trainer.keep_checkpoints=0", "trainer.lr_decay_per_epoch=0"])
def test_values_that_make_no_sense_fail_when_the_experiment_is_made(suite, override):
    with pytest.raises(ConvsuiteError, match=f"^{override.split('=')[0]} must be "):
        registry.make_experiment(suite, None, [override])


@pytest.mark.parametrize("suite", SUITES)
def test_a_monitor_typo_is_refused_with_a_suggestion(suite):
    with pytest.raises(ConvsuiteError, match=r"trainer.monitor='val_acc' .*did you mean val_accuracy"):
        registry.make_experiment(suite, None, ["trainer.monitor=val_acc"])
    made = registry.make_experiment(suite, None, ["trainer.monitor=val_acc", "trainer.monitor_mode=max"])
    assert config_lib.monitor_direction(made.trainer) == "max"


@pytest.mark.parametrize("suite, name", EXPERIMENTS)
def test_every_experiment_monitors_a_metric_of_known_direction(suite, name):
    experiment = registry.config_module(suite).EXPERIMENTS[name]()
    assert config_lib.monitor_direction(experiment.trainer) in ("max", "min")
