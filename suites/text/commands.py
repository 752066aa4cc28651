"""`convsuite text predict`: label sentences with a trained sentence CNN (Kim 2014).

Reads one sentence per line from a file or standard input and prints each one's label and class
probabilities, through the vocabulary saved inside the model (`train.predict`). A cross-validated
run averages its fold models, or uses the one ``--fold`` names.

Imports no Keras: ``predict`` starts it once the backend is chosen.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from convsuite.common.errors import ConvsuiteError

HELP = "label sentences (one a line, from a file or standard input) with a trained sentence CNN"
FORMATS = ("tsv", "json")
LATIN1_ADVICE = "rerun with --encoding latin-1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="text_command", required=True, metavar="{predict}")
    predict = commands.add_parser(
        "predict", help="label sentences with a trained model and print each one's class probabilities",
        description="Label sentences, one a line, read from --file or standard input, with a run's sentence CNN. "
                    "Each model tokenizes with the vocabulary and case setting saved inside it (Kim's cleaning). "
                    "An empty line or a sentence of unknown words only still gets a label (read from no word the "
                    "model knows, so about as good as a guess) and is flagged: unknown_only in JSON, a count on stderr with tsv.")
    predict.add_argument("--checkpoint", metavar="RUN", required=True,
                         help="run directory written by `convsuite train text`, or one .keras model file")
    predict.add_argument("--file", metavar="F", default="",
                         help="read the sentences from F, one a line (default: standard input)")
    predict.add_argument("--encoding", default="utf-8",
                         help="encoding of the sentences (default: %(default)s; text that is not valid is refused "
                              "naming its line; latin-1 reads any bytes, as Kim's MR files need)")
    predict.add_argument("--which", choices=("best", "model"), default="best",
                         help="best: each model at its epoch of best dev accuracy (default; Kim's protocol); "
                              "model: the last epoch's")
    predict.add_argument("--fold", type=int, default=0, metavar="K",
                         help="cross-validated runs: use fold K's model alone (1-based); 0 averages the "
                              "probabilities of all fold models (default)")
    predict.add_argument("--format", choices=FORMATS, default="tsv",
                         help="tsv (default): a header line, then per sentence its label, one probability column "
                              "per class and the sentence last; json: one object per line with sentence, label, "
                              "scores {class: probability} and unknown_only")
    predict.add_argument("--backend", choices=("tensorflow", "jax"), help="Keras backend (default: $KERAS_BACKEND)")


def run(args) -> int:
    return predict(args)


def read_sentences(file: str, encoding: str = "utf-8", stdin=None) -> list[str]:
    """The lines of ``file``, or of standard input when ``file`` is empty, one sentence each: the
    same reading for both (`tokenizer.sentence_lines`), bytes that are not ``encoding`` refused by line."""
    from convsuite.suites.text.tokenizer import read_sentence_file, sentence_lines

    if file:
        try:
            return read_sentence_file(file, encoding)
        except ConvsuiteError as error:  # the library's advice names its keyword; name the flag here
            raise ConvsuiteError(str(error).replace('read it with encoding="latin-1"', LATIN1_ADVICE)) from None
    stdin = sys.stdin if stdin is None else stdin
    if stdin.isatty():
        print("convsuite: reading sentences from standard input, one a line; end with Ctrl-D", file=sys.stderr)
    buffer = getattr(stdin, "buffer", None)
    if buffer is None:  # a stream of text, already decoded
        return sentence_lines(stdin.read().encode("utf-8"), "standard input")
    return sentence_lines(buffer.read(), "standard input", encoding, latin1_advice=LATIN1_ADVICE)


def predict(args) -> int:
    checkpoint = Path(args.checkpoint)
    if not checkpoint.exists():
        raise ConvsuiteError(f"--checkpoint {args.checkpoint} does not exist; give a run directory written by "
                             "`convsuite train text` or a .keras file")
    if args.fold < 0:
        raise ConvsuiteError(f"--fold is {args.fold}; give 1..K for one fold's model or 0 to average them all")
    sentences = read_sentences(args.file, args.encoding)
    from convsuite.common.cli import start_keras

    start_keras(args.backend or os.environ.get("KERAS_BACKEND", "tensorflow"))
    from convsuite.suites.text.train import predict as predict_sentences
    from convsuite.suites.text.train import run_model_dirs

    if args.fold:
        dirs = [] if checkpoint.suffix == ".keras" else run_model_dirs(checkpoint)
        folds = len(dirs) if dirs and dirs != [checkpoint] else 0
        if args.fold > folds:
            raise ConvsuiteError(f"--fold {args.fold}: {args.checkpoint} " + (
                f"has {folds} fold models; give --fold 1..{folds}, or 0 to average them" if folds else
                "is not a cross-validated run (it holds one model); drop --fold"))
    predictions = predict_sentences(checkpoint, sentences, which=args.which, fold=args.fold)
    if args.format == "json":
        for i, sentence in enumerate(predictions.sentences):
            scores = {name: float(p) for name, p in zip(predictions.class_names, predictions.probabilities[i])}
            print(json.dumps({"sentence": sentence, "label": predictions.labels[i], "scores": scores,
                              "unknown_only": bool(predictions.unknown_only[i])}, ensure_ascii=False))
    else:
        print("\t".join(["label", *predictions.class_names, "sentence"]))
        for i, sentence in enumerate(predictions.sentences):
            columns = [f"{p:.4f}" for p in predictions.probabilities[i]]
            print("\t".join([predictions.labels[i], *columns, sentence]))
        unknown = int(predictions.unknown_only.sum())
        if unknown:
            print(f"convsuite: note: {unknown} of {len(sentences)} sentences had no known word (empty or all "
                  "words outside the vocabulary); their labels rest on no word the model knows",
                  file=sys.stderr)
    sys.stdout.flush()
    return 0
