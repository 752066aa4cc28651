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
    assert json.loads((run_dir / "metrics.json").read_text())["test_accuracy"] == metrics["test_accuracy"]


def test_evaluate_reproduces_the_training_accuracy_to_the_digit(lenet_run):
    run_dir, metrics = lenet_run
    result = convsuite("evaluate", "image", "--checkpoint", str(run_dir), "--json")
    evaluated = json.loads(result.stdout.strip())
    assert evaluated["test_accuracy"] == metrics["test_accuracy"]
    assert evaluated["test_loss"] == pytest.approx(metrics["test_loss"], abs=1e-6)


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
