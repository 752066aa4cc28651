"""The suite contract (docs/ARCHITECTURE.md), checked on every suite in the registry: the same
public names, Keras-free config and data modules, one model registry whose every entry builds,
datasets listed by `convsuite list`, and saved models that load after `import convsuite` alone.
Config round-trips and stray keys are checked in test_contract_config.py."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
import textwrap

import pytest

from convsuite.common import registry

SUITES = sorted(registry.SUITES)
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
PACKAGE_NAMES = ("train_experiment", "evaluate_run", "bench_experiment", "load_run", "experiment_from_run",
                 "build_model", "MODELS", "EXPERIMENTS")
TRAIN_NAMES = {"train": ("experiment", "resume"), "evaluate": ("run_dir", "which"), "bench": ("experiment",),
               "load_run": ("run_dir", "which"), "experiment_from_run": ("run_dir",)}


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=ENV,
                          timeout=300)


@pytest.mark.parametrize("suite", SUITES)
def test_package_exports_the_contract_names_lazily(suite):
    package = importlib.import_module(f"convsuite.suites.{suite}")
    missing = [name for name in PACKAGE_NAMES if name not in package.__all__]
    assert not missing, f"convsuite.suites.{suite} does not export {missing}"
    train = importlib.import_module(f"convsuite.suites.{suite}.train")
    models = importlib.import_module(f"convsuite.suites.{suite}.models")
    assert package.train_experiment is train.train and package.evaluate_run is train.evaluate
    assert package.load_run is train.load_run and package.build_model is models.build_model


@pytest.mark.parametrize("suite", SUITES)
def test_train_module_has_the_contract_functions_with_their_parameters(suite):
    train = registry.train_module(suite)
    for name, parameters in TRAIN_NAMES.items():
        function = getattr(train, name, None)
        assert callable(function), f"{suite}/train.py has no {name}()"
        signature = inspect.signature(function)
        assert tuple(signature.parameters)[: len(parameters)] == parameters, f"{suite} {name}{signature}"
    assert inspect.signature(train.train).parameters["resume"].default is True
    assert inspect.signature(train.evaluate).parameters["which"].default == "model"


@pytest.mark.parametrize("suite", SUITES)
def test_every_registered_model_is_used_by_an_experiment_and_builds(suite):
    import keras

    models = registry.models_module(suite)
    experiments = registry.config_module(suite).EXPERIMENTS
    assert models.MODELS, f"{suite}/models.py registers no model"
    for name in models.MODELS:
        users = [factory() for factory in experiments.values() if factory().model.name == name]
        assert users, f"no {suite} experiment uses model.name={name!r}"
        model = models.build_model(users[0])
        assert isinstance(model, keras.Model) and model.count_params() > 0, name


@pytest.mark.parametrize("suite", SUITES)
def test_an_unknown_model_name_is_one_clear_error(suite):
    from convsuite.common.errors import ConvsuiteError

    module = registry.config_module(suite)
    experiment = module.EXPERIMENTS[module.DEFAULT_EXPERIMENT]()
    object.__setattr__(experiment.model, "name", "lenet7")  # past validation, as a hand-edited object would be
    with pytest.raises(ConvsuiteError, match="lenet7"):
        registry.models_module(suite).build_model(experiment)


@pytest.mark.parametrize("suite", SUITES)
def test_config_and_data_modules_import_no_keras(suite):
    result = run_python(f"""
        import sys
        import convsuite.suites.{suite}.config, convsuite.suites.{suite}.data
        print(sorted(m for m in ("keras", "tensorflow", "jax") if m in sys.modules))
        """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[-2] == "[]", f"{suite} config/data import {result.stdout.strip()}"


@pytest.mark.parametrize("suite", SUITES)
def test_convsuite_list_shows_the_suites_datasets_and_how_users_bring_their_own(suite, capsys):
    from convsuite.common.cli import run

    datasets = registry.suite_datasets(suite)
    assert datasets, f"{suite}/data.py registers no dataset"
    assert len(registry.data_module(suite).USER_DATA_HELP) > 80
    run(["list"])
    listed = capsys.readouterr().out
    section = listed[listed.index(f"{suite}: "):]
    for spec in datasets:
        assert spec.name in section, f"{spec.name} ({suite}) missing from `convsuite list`"


@pytest.fixture(scope="module")
def loaded_in_a_fresh_process(tmp_path_factory):
    """Save the default experiment's model of every suite, then load them all in one new
    Python that imports convsuite and keras and nothing of the suites."""
    folder = tmp_path_factory.mktemp("saved")
    expected = {}
    for suite in SUITES:
        module = registry.config_module(suite)
        experiment = module.EXPERIMENTS[module.DEFAULT_EXPERIMENT]()
        model = registry.models_module(suite).build_model(experiment)
        model.save(folder / f"{suite}.keras")
        expected[suite] = int(model.count_params())
    result = run_python(f"""
        import json, sys
        import convsuite, keras
        loaded = {{}}
        for suite in {SUITES!r}:
            try:
                loaded[suite] = int(keras.saving.load_model("{folder}/" + suite + ".keras").count_params())
            except Exception as error:
                loaded[suite] = f"{{type(error).__name__}}: {{error}}"[:500]
        print(json.dumps(loaded))
        """)
    assert result.returncode == 0, result.stderr[-3000:]
    return expected, json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("suite", SUITES)
def test_a_saved_model_loads_after_import_convsuite_alone(suite, loaded_in_a_fresh_process):
    expected, loaded = loaded_in_a_fresh_process
    assert loaded[suite] == expected[suite]


def test_import_convsuite_does_not_start_keras():
    result = run_python("""
        import sys
        import convsuite
        print("keras" in sys.modules, "tensorflow" in sys.modules)
        """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "False"]
