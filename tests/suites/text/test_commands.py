"""`convsuite text predict`: a tiny cross-validated run labels sentences from stdin and files, as tsv
and JSON, exactly as the Python API's `predict` does."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest

from convsuite.common import cli
from convsuite.common.errors import ConvsuiteError
from tests.common.test_cli import ENV, convsuite

SENTENCES = ["the film is good", "", "zzqx qqqz", "the film is not good"]


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory):
    """A 2-fold cross-validated CNN-rand run, one tiny epoch, on 120 sentences of the synthetic
    negation task written as a folder of one <class>.txt file per class (the user-data layout)."""
    from convsuite.common.cli import start_keras

    start_keras("tensorflow")
    from convsuite.suites.text.config import EXPERIMENTS
    from convsuite.suites.text.datasets import synthetic_negation_task
    from convsuite.suites.text.train import train

    root = tmp_path_factory.mktemp("text")
    sentences = synthetic_negation_task(120, seed=0)
    for label, name in enumerate(sentences.class_names):
        texts = [text for text, y in zip(sentences.texts, sentences.labels) if y == label]
        (root / f"{name}.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    experiment = EXPERIMENTS["kim-rand-negation"]()
    experiment.data.dataset = str(root)
    experiment.trainer.run_dir = str(root / "run")
    experiment.trainer.epochs, experiment.trainer.progress = 1, False
    experiment.model.feature_maps, experiment.model.embedding_dim = 8, 16
    experiment.data.evaluation, experiment.data.folds, experiment.data.folds_to_run = "cv", 2, 2
    experiment.data.bucket, experiment.trainer.batch_size = 32, 64  # one batch shape: few TensorFlow retraces
    train(experiment)
    return experiment.trainer.run_dir


def _stdin(monkeypatch, data: bytes):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def _predict(monkeypatch, capsys, lines, *flags):
    _stdin(monkeypatch, "".join(line + "\n" for line in lines).encode("utf-8"))
    code = cli.run(["text", "predict", *flags])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out, captured.err


def _json_rows(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_json_from_stdin_equals_the_python_api_averaged_over_folds(cv_run, monkeypatch, capsys):
    from convsuite.suites.text.train import predict

    out, _ = _predict(monkeypatch, capsys, SENTENCES, "--checkpoint", cv_run, "--format", "json")
    rows = _json_rows(out)
    expected = predict(cv_run, SENTENCES)
    assert expected.models == 2
    assert [row["sentence"] for row in rows] == SENTENCES
    assert [row["label"] for row in rows] == expected.labels
    scores = np.array([[row["scores"][name] for name in expected.class_names] for row in rows])
    np.testing.assert_allclose(scores, expected.probabilities, rtol=1e-6)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)
    assert [row["unknown_only"] for row in rows] == [False, True, True, False]  # empty and unknown: labelled too


def test_one_fold_differs_from_the_average_and_matches_that_fold_alone(cv_run, monkeypatch, capsys):
    from convsuite.suites.text.train import predict

    out, _ = _predict(monkeypatch, capsys, SENTENCES, "--checkpoint", cv_run, "--format", "json", "--fold", "1")
    scores = np.array([list(row["scores"].values()) for row in _json_rows(out)])
    fold1, average = predict(cv_run, SENTENCES, fold=1), predict(cv_run, SENTENCES)
    assert fold1.models == 1
    np.testing.assert_allclose(scores, fold1.probabilities, rtol=1e-6)
    assert not np.allclose(scores, average.probabilities, atol=1e-6)  # two differently seeded folds


def test_tsv_from_a_file_has_a_header_a_column_per_class_and_a_note_on_unknown_sentences(cv_run, monkeypatch, capsys,
                                                                                          tmp_path):
    from convsuite.suites.text.train import predict

    path = tmp_path / "sentences.txt"
    path.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    out, err = _predict(monkeypatch, capsys, [], "--checkpoint", cv_run, "--file", str(path), "--which", "model")
    header, *rows = out.splitlines()
    expected = predict(cv_run, SENTENCES, which="model")
    assert header.split("\t") == ["label", *expected.class_names, "sentence"]
    assert len(rows) == len(SENTENCES)
    for row, sentence, label, probabilities in zip(rows, SENTENCES, expected.labels, expected.probabilities):
        columns = row.split("\t")
        assert columns[0] == label and columns[-1] == sentence
        np.testing.assert_allclose([float(c) for c in columns[1:-1]], probabilities, atol=6e-5)
    assert "2 of 4 sentences had no known word" in err and len(err.strip().splitlines()) == 1


def test_a_fold_model_file_predicts_like_the_python_api(cv_run, monkeypatch, capsys):
    from convsuite.suites.text.train import predict

    model_file = f"{cv_run}/folds/2/best.keras"
    out, _ = _predict(monkeypatch, capsys, SENTENCES[:1], "--checkpoint", model_file, "--format", "json")
    [row] = _json_rows(out)
    expected = predict(model_file, SENTENCES[:1])
    assert row["label"] == expected.labels[0]
    np.testing.assert_allclose(list(row["scores"].values()), expected.probabilities[0], rtol=1e-6)


def test_non_utf8_stdin_names_the_line_and_latin1_reads_it(cv_run, monkeypatch, capsys):
    _stdin(monkeypatch, b"a good film\nthe caf\xe9 is bad\n")
    with pytest.raises(ConvsuiteError, match="line 2 of standard input is not valid utf-8.*--encoding latin-1"):
        cli.run(["text", "predict", "--checkpoint", cv_run])
    _stdin(monkeypatch, b"a good film\nthe caf\xe9 is bad\n")
    assert cli.run(["text", "predict", "--checkpoint", cv_run, "--format", "json", "--encoding", "latin-1"]) == 0
    rows = _json_rows(capsys.readouterr().out)
    assert [row["sentence"] for row in rows] == ["a good film", "the caf\xe9 is bad"]


def test_non_utf8_file_names_the_file_and_line(cv_run, tmp_path):
    path = tmp_path / "rt-polarity.neg"
    path.write_bytes(b"fine\nstill fine\nthe caf\xe9 scene\n")
    with pytest.raises(ConvsuiteError) as error:
        cli.run(["text", "predict", "--checkpoint", cv_run, "--file", str(path)])
    assert f"line 3 of {path}" in str(error.value) and "--encoding latin-1" in str(error.value)


@pytest.mark.parametrize("flags, message", [
    (["--fold", "3"], "has 2 fold models; give --fold 1..2"),
    (["--fold", "-1"], "--fold is -1"),
    (["--file", "no-such-file.txt"], "does not exist"),
])
def test_bad_fold_or_file_is_refused_naming_the_value(cv_run, flags, message):
    with pytest.raises(ConvsuiteError, match=message):
        cli.run(["text", "predict", "--checkpoint", cv_run, "--file", __file__, *flags])


def test_corrupt_model_file_is_one_clear_error(tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(ConvsuiteError, match="corrupt"):
        cli.run(["text", "predict", "--checkpoint", str(broken), "--file", __file__])


def test_command_line_reads_stdin_as_bytes_and_names_a_non_utf8_line(cv_run):
    """The real standard input (sys.stdin.buffer); refused before Keras starts, so the process is quick."""
    result = subprocess.run([sys.executable, "-m", "convsuite.common.cli", "text", "predict", "--checkpoint", cv_run],
                            input=b"a fine film\n\xe9t\xe9\n", capture_output=True, env=ENV, timeout=600)
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode().strip().splitlines() == [
        "convsuite: error: line 2 of standard input is not valid utf-8 (byte 0xe9 at byte 1 of the line); if the "
        "text is latin-1 (as Kim's MR files are), rerun with --encoding latin-1"]


def test_missing_checkpoint_is_one_error_line_without_traceback(tmp_path):
    result = convsuite("text", "predict", "--checkpoint", str(tmp_path / "missing"), check=False)
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"convsuite: error: --checkpoint {tmp_path / 'missing'} does not exist; give a run directory written by "
        "`convsuite train text` or a .keras file"]


def test_help_explains_every_flag():
    result = convsuite("text", "predict", "--help")
    for flag in ("--checkpoint", "--file", "--encoding", "--which", "--fold", "--format", "--backend"):
        assert flag in result.stdout
    assert "standard input" in result.stdout and "unknown_only" in result.stdout


def test_module_imports_neither_keras_nor_tensorflow():
    code = ("import sys, convsuite.suites.text.commands; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
