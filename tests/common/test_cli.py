"""The convsuite command end to end: train, evaluate to the same digit, bench, clear errors."""

import json
import os
import subprocess
import sys

import pytest

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
QUICK = ["--set", "data.train_subset=600", "--set", "data.test_subset=300", "--set", "trainer.epochs=2",
         "--set", "trainer.progress=false"]


def convsuite(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "convsuite.common.cli", *args], capture_output=True, text=True,
                            env=ENV, timeout=600)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("cli") / "lenet"
    result = convsuite("train", "image", *QUICK, "--set", f"trainer.run_dir={run_dir}", "--json")
    return run_dir, json.loads(result.stdout.strip())


def test_train_json_prints_only_one_json_line_on_stdout(lenet_run):
    run_dir, metrics = lenet_run
    assert metrics["epochs"] == 2 and metrics["dataset"] == "fashion_mnist" and metrics["test_examples"] == 300
    assert metrics["test_accuracy"] > 0.3  # ten classes: chance is 0.1
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics  # written once, printed as written


def test_evaluate_reproduces_the_training_accuracy_to_the_digit(lenet_run):
    run_dir, metrics = lenet_run
    result = convsuite("evaluate", "image", "--checkpoint", str(run_dir), "--json")
    evaluated = json.loads(result.stdout.strip())
    assert evaluated["test_accuracy"] == metrics["test_accuracy"]
    assert evaluated["test_loss"] == pytest.approx(metrics["test_loss"], abs=1e-6)


def test_evaluate_set_is_refused_by_suites_that_evaluate_only_their_own_data(lenet_run):
    run_dir, _ = lenet_run
    result = convsuite("evaluate", "image", "--checkpoint", str(run_dir), "--set", "data.dataset=mnist", check=False)
    assert result.returncode == 2 and "`convsuite evaluate image` takes no --set" in result.stderr


def test_help_explains_every_flag():
    text = convsuite("train", "--help").stdout
    for flag in ("--config", "--set", "--backend", "--json", "--fresh"):
        assert flag in text


@pytest.mark.parametrize("args, message", [
    (["train", "image", "--set", "trainer.epoch=3"], "unknown config key 'trainer.epoch'"),
    (["train", "image", "--set", "trainer.epochs=two"], "trainer.epochs must be an integer"),
    (["train", "imagez"], "unknown suite 'imagez'"),
    (["evaluate", "image", "--checkpoint", "/nonexistent/run"], "/nonexistent/run has no config.toml"),
    (["train", "image", "--set", "data.dataset=cifar100"], "unknown dataset 'cifar100'"),
])
def test_bad_input_is_one_line_without_traceback(args, message):
    result = convsuite(*args, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("convsuite: error")]) == 1


def test_corrupt_checkpoint_is_a_clear_error(lenet_run, tmp_path):
    run_dir, _ = lenet_run
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.toml").write_text((run_dir / "config.toml").read_text())
    (broken / "model.keras").write_bytes(b"PK\x03\x04 truncated zip")
    result = convsuite("evaluate", "image", "--checkpoint", str(broken), check=False)
    assert result.returncode == 2 and "is corrupt or was written by a different model" in result.stderr


def test_checkpoint_that_does_not_match_the_data_is_a_clear_error(lenet_run, tmp_path):
    run_dir, _ = lenet_run
    mismatched = tmp_path / "mismatched"
    mismatched.mkdir()
    config = (run_dir / "config.toml").read_text().replace("pad_to = 32", "pad_to = 0")
    (mismatched / "config.toml").write_text(config)
    (mismatched / "model.keras").write_bytes((run_dir / "model.keras").read_bytes())
    result = convsuite("evaluate", "image", "--checkpoint", str(mismatched), check=False)
    assert result.returncode == 2
    assert "shape (28, 28, 1) does not match the model's input (32, 32, 1)" in result.stderr


def test_bench_reports_training_and_inference_rates():
    result = convsuite("bench", "image", "--json", "--set", "trainer.batch_size=64")
    bench = json.loads(result.stdout.strip())
    assert bench["train_images_per_s"] > 0 and bench["inference_images_per_s"] > 0
    assert bench["backend"] == "tensorflow" and bench["model"] == "lenet5"


def test_list_shows_suites_experiments_and_datasets():
    text = convsuite("list").stdout
    assert "lenet5-fashion" in text and "mcdnn-fashion" in text and "fashion_mnist" in text


def test_mixed_bfloat16_training_runs_and_keeps_float32_outputs(tmp_path):
    result = convsuite("train", "image", *QUICK, "--set", "trainer.epochs=1", "--set", "runtime.precision=mixed_bfloat16",
                       "--set", f"trainer.run_dir={tmp_path / 'bf16'}", "--json")
    metrics = json.loads(result.stdout.strip())
    assert metrics["precision"] == "mixed_bfloat16" and metrics["test_accuracy"] > 0.2


# ----------------------------------------------------------------- config, --version, backend (in-process, no Keras)

class KerasWouldStart(Exception):
    """Raised instead of starting Keras, so the in-process tests below never train."""


@pytest.fixture
def backend_started(monkeypatch):
    """Run the CLI in-process; record the backend Keras would start on, then stop."""
    from convsuite.common import cli

    started = []

    def fake_start_keras(backend):
        started.append(backend)
        raise KerasWouldStart(backend)

    monkeypatch.setattr(cli, "start_keras", fake_start_keras)
    return started


def run_in_process(*args):
    """``convsuite ARGS`` through common.cli.main; its exit code (the caller reads the output with capsys)."""
    from convsuite.common import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(list(args))
    return exit_info.value.code


def test_config_show_prints_every_key_by_section_with_its_owner(capsys):
    from convsuite.common import cli, config, registry

    assert cli.run(["config", "show", "timeseries", "--config", "adding", "--set", "trainer.epochs=3"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("[")] == ["[model]", "[data]", "[trainer]", "[runtime]"]
    for key, _, _, _ in config.iter_fields(registry.make_experiment("timeseries", "adding")):
        assert any(line.split()[:1] == [key.rpartition(".")[2]] for line in lines), key
    epochs = next(line for line in lines if line.split()[:1] == ["epochs"])
    assert epochs.split()[:5] == ["epochs", "int", "3", "default", "10"] and "passes over the training data" in epochs
    fcn = next(line for line in lines if line.split()[:1] == ["fcn_filters"])
    assert "only model.name=fcn, unused here" in fcn
    filters = next(line for line in lines if line.split()[:1] == ["filters"])
    assert "only model.name=tcn]" in filters


def test_config_show_json_lists_every_key(capsys):
    from convsuite.common import cli, config, registry

    assert cli.run(["config", "show", "go", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    experiment = registry.make_experiment("go")
    assert shown["experiment"] == experiment.name
    assert [row["key"] for row in shown["keys"]] == [key for key, _, _, _ in config.iter_fields(experiment)]


def test_config_show_refuses_a_stray_key_in_one_line(capsys):
    code = run_in_process("config", "show", "timeseries", "--config", "adding", "--set", "data.covariates=['x']")
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "data.covariates=[\"x\"] is used only by data.task=forecast" in err and "data.task=adding" in err


def test_version_prints_the_installed_distribution_version(capsys):
    from importlib import metadata

    assert run_in_process("--version") == 0
    assert capsys.readouterr().out.strip() == f"convsuite {metadata.version('convsuite')}"


def test_malformed_toml_is_one_line_before_keras_starts(tmp_path, capsys, backend_started):
    path = tmp_path / "broken.toml"
    path.write_text('name = "lenet5-fashion"\n[trainer]\nepochs = = 3\n')
    assert run_in_process("train", "image", "--config", str(path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("convsuite: error: config file ") and "is not valid TOML" in err and "line 3" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert backend_started == []


@pytest.mark.parametrize("args, environment, backend, note", [
    ([], None, "tensorflow", False),  # the experiment's default
    ([], "jax", "jax", False),  # $KERAS_BACKEND over the default
    (["--set", "runtime.backend=tensorflow"], "jax", "tensorflow", True),  # --set over $KERAS_BACKEND
    (["--config", "{jax_toml}"], "tensorflow", "jax", True),  # the TOML file over $KERAS_BACKEND
    (["--config", "{jax_toml}", "--backend", "tensorflow"], "jax", "tensorflow", True),  # the flag over all
    (["--config", "{plain_toml}"], "jax", "jax", False),  # a file without runtime.backend does not count
])
def test_backend_precedence_flag_then_config_then_environment_then_default(
        args, environment, backend, note, tmp_path, monkeypatch, capsys, backend_started):
    (tmp_path / "jax.toml").write_text('name = "lenet5-fashion"\n[runtime]\nbackend = "jax"\n')
    (tmp_path / "plain.toml").write_text('name = "lenet5-fashion"\n[trainer]\nepochs = 2\n')
    args = [a.format(jax_toml=tmp_path / "jax.toml", plain_toml=tmp_path / "plain.toml") for a in args]
    if environment:
        monkeypatch.setenv("KERAS_BACKEND", environment)
    else:
        monkeypatch.delenv("KERAS_BACKEND", raising=False)
    from convsuite.common import cli

    with pytest.raises(KerasWouldStart):
        cli.run(["train", "image", *args])
    assert backend_started == [backend]
    err = capsys.readouterr().err
    if note:
        assert err.startswith(f"convsuite: note: running on {backend} (") and err.count("\n") == 1
        assert err.rstrip().endswith(f"not KERAS_BACKEND={environment}")
    else:
        assert err == ""


def test_an_unsupported_keras_backend_variable_is_a_clear_error(monkeypatch, capsys, backend_started):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert run_in_process("bench", "image") == 2
    assert "KERAS_BACKEND='torch' is not a backend convsuite runs on (tensorflow, jax)" in capsys.readouterr().err
    assert backend_started == []


def test_help_states_the_backend_precedence(capsys):
    assert run_in_process("train", "--help") == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "wins over runtime.backend set in the --config file or by --set, which wins over $KERAS_BACKEND" in text


def test_a_garbage_run_config_is_one_line_before_keras_starts(tmp_path, capsys, backend_started):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.toml").write_text("[model\nname = \n")
    assert run_in_process("evaluate", "image", "--checkpoint", str(run_dir)) == 2
    err = capsys.readouterr().err
    assert "config.toml' is not valid TOML" in err and err.count("\n") == 1 and backend_started == []


def test_train_in_a_run_directory_held_by_another_process_fails_before_loading_data(tmp_path, monkeypatch, capsys):
    from convsuite.common import cli
    from convsuite.suites.image import data as image_data

    run_dir = tmp_path / "held"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from convsuite.common.rundir import RunDirectory; "
         f"RunDirectory.open({str(run_dir)!r}); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        assert holder.stdout.readline().strip() == "held"

        def no_data(*args, **kwargs):
            raise AssertionError("the data loaded although the run directory is held by another process")

        monkeypatch.setattr(image_data, "prepare", no_data)
        monkeypatch.setattr("convsuite.suites.image.train.prepare", no_data, raising=False)
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["train", "image", "--config", "lenet5-digits", "--set", f"trainer.run_dir={run_dir}"])
        assert exit_info.value.code == 2
        error = capsys.readouterr().err
        assert f"is in use by process {holder.pid}" in error and "Traceback" not in error
    finally:
        holder.kill()
        holder.wait()
