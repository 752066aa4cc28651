"""`convsuite train text`: a split run and a cross-validated run on tiny models, their files, their
vocabularies (built without the test sentences, carried inside each model), evaluate giving back
the run's numbers, resuming, and the JAX path with TensorFlow absent."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convsuite.common import registry
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.text import train as text_train
from convsuite.suites.text.data import evaluation_splits, load_sentences
from convsuite.suites.text.models import model_tokenizer
from convsuite.suites.text.tokenizer import Vocabulary, tokenize
from tests.common.test_jax_path import BLOCK_TENSORFLOW

TINY = ["model.feature_maps=8", "model.embedding_dim=16", "trainer.progress=false"]
RUN_FILES = ("model.keras", "best.keras", "vocabulary.json", "metrics.json", "config.toml")


def negation(run_dir, epochs=1):
    return registry.make_experiment("text", "kim-rand-negation", [*TINY, f"trainer.epochs={epochs}",
                                                                   f"trainer.run_dir={run_dir}"])


def unique_word(label, i):
    """A word that occurs in exactly one sentence of the set."""
    return f"only{'ab'[label]}{'abcdefghijklmnopqrstuvwxyz'[i % 26]}{'abcdefghijklmnopqrstuvwxyz'[i // 26]}"


def cross_validated(folder, run_dir, epochs=1):
    return registry.make_experiment("text", "kim-rand-mr", [*TINY, f"trainer.epochs={epochs}", "data.folds=2",
                                                             f"data.dataset={folder}", f"trainer.run_dir={run_dir}"])


@pytest.fixture(scope="module")
def split_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("split") / "run"
    return run_dir, text_train.train(negation(run_dir))


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cv")
    folder = root / "reviews"
    folder.mkdir()
    for label, (name, mood) in enumerate((("negative", "dull"), ("positive", "great"))):
        lines = [f"the film was {mood} and {unique_word(label, i)} too" for i in range(30)]
        (folder / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_dir = root / "run"
    return folder, run_dir, text_train.train(cross_validated(folder, run_dir))


def test_a_split_run_writes_its_models_vocabulary_and_metrics_with_the_baselines(split_run):
    run_dir, metrics = split_run
    assert all((run_dir / name).is_file() for name in RUN_FILES)
    assert metrics == json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and metrics["test_examples"] == 500 and metrics["dev_examples"] == 150
    assert metrics["train_examples"] == 1350 and metrics["classes"] == ["negative", "positive"]
    for key in ("best_test_accuracy", "test_accuracy", "baseline_bag_of_words_logistic_regression_accuracy",
                "baseline_nbsvm_accuracy"):
        assert 0 <= metrics[key] <= 1, key
    assert metrics["baseline_bag_of_words_logistic_regression_accuracy"] < 0.6  # word order decides


def test_evaluate_gives_back_the_runs_test_accuracies(split_run):
    run_dir, metrics = split_run
    assert text_train.evaluate(run_dir, which="best")["test_accuracy"] == pytest.approx(
        metrics["best_test_accuracy"], abs=1e-6)
    evaluated = text_train.evaluate(run_dir, which="model")
    assert evaluated["test_accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert evaluated["test_examples"] == 500


def test_each_model_carries_the_vocabulary_its_run_recorded(split_run):
    run_dir, metrics = split_run
    recorded = Vocabulary.from_json((run_dir / "vocabulary.json").read_text(encoding="utf-8"))
    for which in ("model", "best"):
        inside = model_tokenizer(text_train.load_checked_model(run_dir, which))
        assert inside == recorded and inside.fingerprint() == metrics["vocabulary_fingerprint"]


def test_a_replaced_vocabulary_file_makes_evaluate_refuse(split_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(split_run[0], copy)
    (copy / "vocabulary.json").write_text(Vocabulary(["<pad>", "<unk>", "film"]).to_json(), encoding="utf-8")
    with pytest.raises(ConvsuiteError, match="holds another vocabulary than"):
        text_train.evaluate(copy)


def test_a_finished_run_is_evaluated_not_trained_again(split_run, capsys):
    run_dir, metrics = split_run
    checkpoints = sorted(path.name for path in (run_dir / "checkpoints").iterdir())
    again = text_train.train(negation(run_dir))
    assert "already finished" in capsys.readouterr().out
    assert sorted(path.name for path in (run_dir / "checkpoints").iterdir()) == checkpoints
    assert again == metrics  # the timing too is the training run's, not the evaluation's


def test_more_epochs_resume_the_run_instead_of_restarting_it(split_run, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(split_run[0], copy)
    metrics = text_train.train(negation(copy, epochs=2))
    assert "Resuming" in capsys.readouterr().out and metrics["epochs"] == 2
    assert len((copy / "log.csv").read_text().splitlines()) == 3  # header and the two epochs


def test_a_cross_validated_run_summarises_its_folds(cv_run):
    _, run_dir, metrics = cv_run
    assert metrics == json.loads((run_dir / "metrics.json").read_text())
    folds = [json.loads((run_dir / "folds" / str(k) / "metrics.json").read_text()) for k in (1, 2)]
    for k in (1, 2):
        assert all((run_dir / "folds" / str(k) / name).is_file() for name in RUN_FILES)
    assert metrics["folds"] == 2 and sum(fold["test_examples"] for fold in folds) == 60
    for key in ("best_test_accuracy", "test_accuracy", "baseline_nbsvm_accuracy"):
        values = [fold[key] for fold in folds]
        assert metrics[f"fold_{key}"] == values
        assert metrics[key] == pytest.approx(np.mean(values), abs=1e-12)
        assert metrics[f"{key}_std"] == pytest.approx(np.std(values), abs=1e-12)
    evaluated = text_train.evaluate(run_dir, which="best")
    np.testing.assert_allclose(evaluated["fold_test_accuracy"], metrics["fold_best_test_accuracy"], atol=1e-6)


def test_each_folds_vocabulary_holds_its_training_and_dev_words_and_no_test_only_word(cv_run):
    folder, run_dir, _ = cv_run
    experiment = text_train.experiment_from_run(run_dir)
    assert experiment.data.dataset == str(folder.resolve())
    sentences = load_sentences(experiment)
    splits = evaluation_splits(experiment, sentences)
    unique = [tokenize(text)[-2] for text in sentences.texts]
    assert all(word.startswith("only") for word in unique) and len(set(unique)) == 60
    for k, split in enumerate(splits, 1):
        fold_dir = run_dir / "folds" / str(k)
        vocabulary = model_tokenizer(text_train.load_checked_model(fold_dir, "best"))
        assert vocabulary == Vocabulary.from_json((fold_dir / "vocabulary.json").read_text(encoding="utf-8"))
        assert len(split.dev) and all(unique[i] in vocabulary for i in np.concatenate([split.train, split.dev]))
        assert not any(unique[i] in vocabulary for i in split.test)


def test_a_run_stopped_after_its_first_fold_continues_with_the_next(cv_run, tmp_path, capsys):
    folder, run_dir, metrics = cv_run
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    for k in (2,):  # as if stopped right after fold 1 finished
        shutil.rmtree(copy / "folds" / str(k))
    (copy / "metrics.json").unlink()
    first_fold_files = {path.name: path.stat().st_mtime_ns for path in (copy / "folds" / "1" / "checkpoints").iterdir()}
    capsys.readouterr()
    resumed = text_train.train(cross_validated(folder, copy))
    assert capsys.readouterr().out.count("already finished") == 1  # fold 1, evaluated only
    assert {p.name: p.stat().st_mtime_ns for p in (copy / "folds" / "1" / "checkpoints").iterdir()} == first_fold_files
    assert resumed["folds"] == 2 and (copy / "folds" / "2" / "model.keras").is_file()
    assert resumed["fold_best_test_accuracy"][0] == metrics["fold_best_test_accuracy"][0]


JAX_SCRIPT = """
import json
from pathlib import Path

from convsuite.common import registry
from convsuite.suites.text import train as text_train

run_dir = Path(sys.argv[1])
experiment = registry.make_experiment("text", "kim-rand-negation", sys.argv[2:] + [f"trainer.run_dir={run_dir}"])
metrics = text_train.train(experiment)
evaluated = text_train.evaluate(run_dir, which="best")
model = text_train.load_checked_model(run_dir, "model")
predictions = text_train.predict(model, ["", "not good"])
assert "tensorflow" not in sys.modules
print(json.dumps({"metrics": metrics, "best": evaluated["test_accuracy"], "labels": predictions.labels,
                  "probabilities": predictions.probabilities.tolist(),
                  "unknown_only": predictions.unknown_only.tolist()}))
"""


def test_train_evaluate_and_predict_on_jax_without_tensorflow(tmp_path):
    cli_import = "from convsuite.common.cli import main"
    assert cli_import in BLOCK_TENSORFLOW
    script = BLOCK_TENSORFLOW.split(cli_import)[0] + JAX_SCRIPT
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "run"), *TINY, "trainer.epochs=1",
                             "runtime.backend=jax"],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    metrics = report["metrics"]
    assert metrics["backend"] == "jax" and metrics["epochs"] == 1
    assert report["best"] == pytest.approx(metrics["best_test_accuracy"], abs=1e-6)
    assert all(label in ("negative", "positive") for label in report["labels"]) and len(report["labels"]) == 2
    np.testing.assert_allclose(np.sum(report["probabilities"], axis=1), 1.0, atol=1e-5)
    assert report["unknown_only"] == [True, False]
    assert Path(tmp_path / "run" / "model.keras").is_file()


def test_bench_reports_training_and_inference_sentences_per_second():
    experiment = registry.make_experiment("text", "kim-rand-mr", TINY)
    result = text_train.bench(experiment, train_batches=2, inference_sentences=64, vocabulary_size=200)
    assert result["train_sentences_per_s"] > 0 and result["inference_sentences_per_s"] > 0
    assert result["params"] == 200 * 16 + 3 * 8 * 16 * (3 + 4 + 5) // 3 + 3 * 8 + 3 * 8 * 2 + 2
