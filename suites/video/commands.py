"""`convsuite video predict`: per-class scores of video files from a trained video run.

Each video is read as the run's test videos were (the same clip length, stride, frame size and
number of evenly spaced clips, optical flow for flow networks) and its clip scores are averaged.

Imports no Keras: ``predict`` starts it once the backend is chosen.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from convsuite.common.errors import ConvsuiteError

HELP = "score video files (mp4, avi, ...) with a trained action-recognition run"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="video_command", required=True, metavar="{predict}")
    predict = commands.add_parser(
        "predict", help="print each video's per-class scores and label",
        description="Score video files with a run of `convsuite train video`: each video gives the run's "
                    "data.test_clips evenly spaced clips, read exactly as its test clips were, and the average of "
                    "their class scores. Videos that cannot be read or are shorter than a clip are reported and "
                    "skipped; the others are scored.")
    predict.add_argument("videos", nargs="+", metavar="VIDEO", help="video files to score")
    predict.add_argument("--checkpoint", metavar="RUN", required=True,
                         help="run directory written by `convsuite train video`")
    predict.add_argument("--which", choices=("model", "best"), default="model",
                         help="model: the last epoch's weights (default); best: the epoch of best validation "
                              "accuracy")
    predict.add_argument("--format", choices=("tsv", "json"), default="tsv",
                         help="tsv (default): a header line, then per video its label, one score column per "
                              "class and the file; json: one object per line with video, label, clips and scores")
    predict.add_argument("--backend", choices=("tensorflow", "jax"), help="Keras backend (default: $KERAS_BACKEND)")


def run(args) -> int:
    checkpoint = Path(args.checkpoint)
    if not checkpoint.is_dir():
        raise ConvsuiteError(f"--checkpoint {args.checkpoint} is not a run directory; give the folder that "
                             "`convsuite train video` wrote (runs/<experiment> by default)")
    from convsuite.common.cli import start_keras

    start_keras(args.backend or os.environ.get("KERAS_BACKEND", "tensorflow"))
    from convsuite.suites.video.train import predict

    # Messages (skipped videos) go to stderr, so stdout holds only the scores (one JSON object a line).
    with contextlib.redirect_stdout(sys.stderr):
        predictions = predict(checkpoint, args.videos, which=args.which)
    if args.format == "json":
        for prediction in predictions:
            print(json.dumps(prediction.as_dict()))
    elif predictions:
        print("\t".join(["label", *predictions[0].class_names, "video"]))
        for prediction in predictions:
            print("\t".join([prediction.label, *[f"{s:.4f}" for s in prediction.scores], prediction.path]))
    missing = len(args.videos) - len(predictions)
    if missing:
        print(f"convsuite: {missing} of {len(args.videos)} videos were skipped (reasons above)", file=sys.stderr)
    sys.stdout.flush()
    return 0 if predictions else 1
