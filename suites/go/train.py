"""Trainer, evaluator and benchmark of the Go suite, on the shared common.trainer.

A policy run reports test top-1 / top-5 move-prediction accuracy next to the uniformly
random legal move on the same held-out positions, and top-1 accuracy by move number; a
value run reports sign accuracy next to always guessing the colour that wins more often in
the training games.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from convsuite.common import trainer as trainer_lib
from convsuite.common.checkpoint import atomic_write_text
from convsuite.common.errors import ConvsuiteError
from convsuite.common.inputs import evaluation_batches
from convsuite.common.trainer import SupervisedData, evaluate_model, run_directory
from convsuite.suites.go import data as data_lib
from convsuite.suites.go.config import EXPERIMENTS, GoExperiment, maddison_gnugo9
from convsuite.suites.go.models import build_model

MOVE_NUMBER_BUCKETS = (0, 10, 20, 40, 80, 120, 160, 200, 250, 10_000)


def is_value(experiment: GoExperiment) -> bool:
    return experiment.model.name == "value"


def compile_args(experiment: GoExperiment) -> dict:
    import keras

    from convsuite.suites.go.models import SignAccuracy

    if is_value(experiment):
        return {"loss": "mean_squared_error", "metrics": (SignAccuracy(name="sign_accuracy"),)}
    return {"loss": "sparse_categorical_crossentropy",
            "metrics": ("accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5"))}


def prepare(experiment: GoExperiment, progress: bool = True):
    """Games -> game-level splits -> positions; returns (SupervisedData, test Positions, info)."""
    experiment.validate()
    d, seed, cluster = experiment.data, experiment.trainer.seed, experiment.runtime.cluster
    games, skip = data_lib.load_games(d, seed, progress, cluster)
    train_games, val_games, test_games = data_lib.split_games(games, d.test_fraction, d.validation_fraction, seed)
    train = data_lib.cached_positions(train_games, d, "train", seed, progress, cluster)
    val = data_lib.cached_positions(val_games, d, "val", seed, progress, cluster)
    test = data_lib.cached_positions(test_games, d, "test", seed, progress, cluster)
    if not len(train) or not len(test):
        raise ConvsuiteError(f"the games gave {len(train)} training and {len(test)} test positions; use more games")
    target = "results" if is_value(experiment) else "moves"
    data = SupervisedData(train.packed, getattr(train, target), val.packed, getattr(val, target),
                          test.packed, getattr(test, target))
    info = {"games": len(games), "train_games": len(train_games), "val_games": len(val_games),
            "test_games": len(test_games), "games_skipped": skip.skipped, "skip_summary": skip.summary(),
            "split_names": {"train": [g.name for g in train_games], "val": [g.name for g in val_games],
                            "test": [g.name for g in test_games]},
            "train_black_win_rate": float(np.mean([g.winner == 1 for g in train_games]))}
    return data, test, info


def accuracy_by_move_number(predictions: np.ndarray, positions) -> dict:
    """Top-1 accuracy per move-number bucket (the paper's "accuracy by move number")."""
    correct = np.argmax(predictions, axis=1) == positions.moves
    out = {}
    for lo, hi in zip(MOVE_NUMBER_BUCKETS[:-1], MOVE_NUMBER_BUCKETS[1:]):
        mask = (positions.move_numbers >= lo) & (positions.move_numbers < hi)
        if mask.any():
            out[f"{lo}-{hi - 1}" if hi < 10_000 else f"{lo}+"] = {"accuracy": float(correct[mask].mean()),
                                                                   "positions": int(mask.sum())}
    return out


def task_report(experiment: GoExperiment, model, test, info: dict) -> dict:
    """Test numbers next to their baselines on the same positions."""
    report = {"model": experiment.model.name, "dataset": experiment.data.source,
              "games": info["games"], "train_games": info["train_games"], "test_games": info["test_games"],
              "games_skipped": info["games_skipped"], "test_positions": int(len(test))}
    predictions = model.predict(evaluation_batches(test.packed, test.moves, 256), verbose=0)
    if is_value(experiment):
        winner_guess = 1.0 if info["train_black_win_rate"] >= 0.5 else -1.0
        black_to_play = test.planes[:, 0, 0, -1].astype(np.float32) * 2 - 1
        guess = winner_guess * black_to_play  # the guessed colour's result for the player to move
        report["baseline_majority_colour_sign_accuracy"] = float(np.mean(guess * test.results > 0))
        report["baseline_zero_mse"] = float(np.mean(test.results**2))
        return report
    top5 = np.argsort(-predictions, axis=1)[:, :5]
    report["policy_top1"] = float(np.mean(np.argmax(predictions, axis=1) == test.moves))
    report["policy_top5"] = float(np.mean((top5 == test.moves[:, None]).any(axis=1)))
    report["baseline_uniform_legal_top1"] = data_lib.uniform_legal_baseline(test, 1)
    report["baseline_uniform_legal_top5"] = data_lib.uniform_legal_baseline(test, 5)
    report["accuracy_by_move_number"] = accuracy_by_move_number(predictions, test)
    return report


def experiment_from_run(run_dir: str | Path) -> GoExperiment:
    """Rebuild the experiment a run directory was trained with (its config.toml)."""
    return trainer_lib.experiment_from_run(run_dir, EXPERIMENTS, maddison_gnugo9)


def load_run(run_dir: str | Path, which: str = "model"):
    """(model, experiment) of a run directory: ``model.keras`` (final) or ``best.keras``."""
    if not Path(run_dir).is_dir():
        raise ConvsuiteError(f"checkpoint directory {run_dir} does not exist; give a run directory written by "
                             "`convsuite train go`")
    experiment = experiment_from_run(run_dir)
    return trainer_lib.load_run_model(run_dir, which), experiment


def train(experiment: GoExperiment, resume: bool = True) -> dict:
    """Train the experiment's policy or value net; write the run directory; return its metrics."""
    data, test, info = prepare(experiment, experiment.trainer.progress)
    print(f"Go data: {info['skip_summary']}; {info['train_games']}/{info['val_games']}/{info['test_games']} games "
          f"-> {len(data.y_train)}/{len(data.y_val)}/{len(data.y_test)} positions (train/val/test)")
    run_dir = run_directory(experiment)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "splits.json", json.dumps(info["split_names"]))
    return trainer_lib.train(experiment, lambda: build_model(experiment), data, resume=resume,
                             report=lambda model: task_report(experiment, model, test, info),
                             **compile_args(experiment))


def evaluate(run_dir: str | Path, which: str = "model", overrides: list[str] | tuple = ()) -> dict:
    """Test-set metrics of a finished run, on the same game split it was trained with; with
    ``overrides`` naming another ``data.source``, on every game of that source instead (games
    the run never saw, e.g. another month's archive)."""
    from convsuite.common.config import apply_overrides
    from convsuite.suites.go.features import num_planes
    from convsuite.suites.go.models import model_board_size, model_planes

    model, experiment = load_run(run_dir, which)
    trained_on = experiment.data.source
    if overrides:
        apply_overrides(experiment, list(overrides))
        experiment.validate()
    d = experiment.data
    if (model_board_size(model), model_planes(model)) != (d.board_size, num_planes(d.feature_set)):
        raise ConvsuiteError(f"the net in {run_dir} takes {model_board_size(model)}x{model_board_size(model)} boards "
                             f"with {model_planes(model)} planes, not data.board_size={d.board_size} with "
                             f"data.feature_set={d.feature_set}; keep the run's board size and feature set")
    if not model.compiled:
        model.compile(**compile_args(experiment))
    if d.source == trained_on:
        data, test, info = prepare(experiment, progress=False)
        x_test, y_test = data.x_test, data.y_test
    else:
        seed, cluster = experiment.trainer.seed, experiment.runtime.cluster
        games, skip = data_lib.load_games(d, seed, experiment.trainer.progress, cluster)
        test = data_lib.cached_positions(games, d, "test", seed, experiment.trainer.progress, cluster)
        info = {"games": len(games), "train_games": 0, "test_games": len(games), "games_skipped": skip.skipped,
                # the colour that won more of these very games: a baseline that knows more than any run
                "train_black_win_rate": float(np.mean([g.winner == 1 for g in games]))}
        x_test, y_test = test.packed, test.results if is_value(experiment) else test.moves
    metrics = evaluate_model(model, x_test, y_test)
    return {"experiment": experiment.name, "checkpoint": str(run_dir), "which": which, "trained_on": trained_on,
            **{f"test_{k}": v for k, v in metrics.items()}, **task_report(experiment, model, test, info)}


def bench(experiment: GoExperiment, train_batches: int = 20, genmoves: int = 30) -> dict:
    """Positions/s of feature extraction and of training, and genmove latency, on self-made games."""
    import keras

    from convsuite.common.inputs import training_batches
    from convsuite.common.runtime import configure
    from convsuite.common.trainer import make_optimizer
    from convsuite.suites.go.board import Board
    from convsuite.suites.go.gtp import RandomPlayer
    from convsuite.suites.go.player import PolicyPlayer

    experiment.validate()
    d = experiment.data
    size, feature_set = d.board_size, d.feature_set
    # Random games (uniform legal, no own-eye filling) stand in for real ones: same board sizes.
    # They hold more captures and chains than expert games, so extraction on real games is faster.
    from convsuite.suites.go.sgf import GameRecord

    rng_player = RandomPlayer(0)
    boards, records = [], []
    for game in range(4):
        board = Board(size, d.komi, superko=False)
        while not board.game_over and board.move_number < size * size * 2:
            board.play(rng_player.genmove(board, board.to_play))
            if board.move_number % 7 == game:
                boards.append(board.copy())
        records.append(GameRecord(size=size, komi=d.komi, result="", winner=0, setup_black=[], setup_white=[],
                                  first_player=1, moves=list(board.history), handicap=0, players={}, name=str(game),
                                  properties={}))
    start = time.perf_counter()  # one core, the way data.workers processes each extract their shards
    extracted = sum(len(data_lib.game_positions(record, feature_set)) for record in records)
    features_rate = extracted / (time.perf_counter() - start)
    from convsuite.suites.go.features import board_planes, pack_planes

    planes = np.stack([board_planes(b, feature_set) for b in boards])

    runtime = configure(experiment.runtime)
    batch = experiment.trainer.batch_size
    reps = int(np.ceil(batch * train_batches / len(planes)))
    x = pack_planes(np.concatenate([planes] * reps)[: batch * train_batches])  # as training stores them
    y = np.random.default_rng(0).integers(0, size * size, len(x)).astype(np.int32)
    if is_value(experiment):
        y = np.sign(np.random.default_rng(1).normal(size=len(x))).astype(np.float32)
    with runtime.scope():
        model = build_model(experiment)
        args = compile_args(experiment)
        model.compile(optimizer=make_optimizer(experiment.trainer), loss=args["loss"], jit_compile=runtime.jit_compile)
    start = time.perf_counter()  # the input pipeline alone: can it feed a faster device?
    fed = sum(len(batch_y) for _, batch_y in training_batches(x, y, batch, 0, 0, 3))
    pipeline_rate = fed / (time.perf_counter() - start)
    inputs = training_batches(x, y, batch, 0, 0, 3)
    model.fit(inputs, epochs=1, steps_per_epoch=train_batches, verbose=0)
    start = time.perf_counter()
    model.fit(inputs, initial_epoch=1, epochs=3, steps_per_epoch=train_batches, verbose=0)
    train_rate = 2 * len(x) / (time.perf_counter() - start)
    result = {"suite": "go", "model": model.name, "params": int(model.count_params()), "board_size": size,
              "feature_set": feature_set, "planes": int(planes.shape[-1]), "batch_size": batch,
              "backend": keras.backend.backend(), "device": runtime.device_kind,
              "precision": experiment.runtime.precision, "feature_positions_per_s_per_core": round(features_rate, 1),
              "input_pipeline_positions_per_s": round(pipeline_rate, 1),
              "train_positions_per_s": round(train_rate, 1),
              "cores_to_extract_at_training_rate": round(train_rate / features_rate, 2)}
    if not is_value(experiment):
        player = PolicyPlayer(model, feature_set)
        player.genmove(boards[0], boards[0].to_play)  # warm-up
        chosen = [boards[i % len(boards)] for i in range(genmoves)]
        start = time.perf_counter()
        for b in chosen:
            player.genmove(b, b.to_play)
        result["genmove_ms"] = round(1000 * (time.perf_counter() - start) / len(chosen), 2)
    return result
