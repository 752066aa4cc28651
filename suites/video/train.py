"""Trainer, evaluator, predictor and benchmark of the video suite, on the shared common.trainer.

Frame models (LRCN, the single-frame CNN) are trained as Donahue et al. trained LRCN: a prediction
and a loss at every frame (``y`` repeats the clip's label per frame); a clip's score is the average
of its frames' predictions. C3D and the temporal stream score a clip at once. A video's score is the
average over its ``data.test_clips`` clips: ``test_accuracy`` is per clip, ``video_accuracy`` per video.

Two networks fused late (the two-stream model; LRCN or single frame with ``model.stream=fused``)
are two sub-runs, ``RUN/streams/rgb`` and ``RUN/streams/flow``, each resumable on its own; their
clip scores are combined with ``model.fusion_weights`` (or a linear SVM fitted on the training
clips' scores) and the fused Keras model is saved as ``RUN/model.keras``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convsuite.common import config as config_lib
from convsuite.common import trainer as trainer_lib
from convsuite.common.checkpoint import atomic_write_text, save_model_atomic
from convsuite.common.errors import ConvsuiteError
from convsuite.common.results import write_metrics
from convsuite.common.rundir import run_directory
from convsuite.common.trainer import load_run_model, open_run
from convsuite.common.trainer import train as train_supervised
from convsuite.suites.video.config import EXPERIMENTS, VideoExperiment
from convsuite.suites.video.data import PreparedVideo, load_video_set, prepare

CLASSES_FILE = "classes.json"
STREAMS_OF = {"rgb": ("rgb",), "flow": ("flow",), "fused": ("rgb", "flow")}


def streams(experiment) -> tuple[str, ...]:
    if experiment.model.name == "twostream":
        return ("rgb", "flow")
    if experiment.model.name == "c3d":
        return ("rgb",)
    return STREAMS_OF[experiment.model.stream]


def clip_scores(model, x, batch_size: int = 64, decode=None) -> np.ndarray:
    """(clips, classes) scores: per-frame predictions averaged over the clip when the model gives them."""
    from convsuite.common.inputs import evaluation_batches

    if decode is None:
        outputs = [model.predict_on_batch(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    else:
        outputs = [model.predict_on_batch(batch) for batch, _ in evaluation_batches(x, np.zeros(len(x)), batch_size,
                                                                                    decode)]
    scores = np.concatenate([np.asarray(o, np.float32) for o in outputs]) if outputs else np.zeros((0, 1), np.float32)
    return scores.mean(axis=1) if scores.ndim == 3 else scores


def video_scores(scores: np.ndarray, videos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(video ids, averaged scores) of the clips of each video."""
    ids, inverse = np.unique(videos, return_inverse=True)
    summed = np.zeros((len(ids), scores.shape[1]), np.float64)
    np.add.at(summed, inverse, scores)
    counts = np.bincount(inverse, minlength=len(ids))[:, None]
    return ids, (summed / counts).astype(np.float32)


def score_metrics(scores: np.ndarray, prepared: PreparedVideo, prefix: str = "test") -> dict:
    """Clip, video and (motion set) direction accuracy of test scores, with the chance baselines."""
    from convsuite.suites.video.motion import direction_accuracy

    table = prepared.test
    labels = table.labels
    ids, per_video = video_scores(scores, table.video)
    video_labels = np.asarray([labels[np.argmax(table.video == v)] for v in ids])
    classes = prepared.dataset.class_names
    counts = np.bincount(labels, minlength=len(classes))
    metrics = {
        f"{prefix}_accuracy": float(np.mean(scores.argmax(1) == labels)),
        "video_accuracy": float(np.mean(per_video.argmax(1) == video_labels)),
        "test_clips": int(len(labels)),
        "test_videos": int(len(ids)),
        "baseline_chance_accuracy": round(1.0 / len(classes), 6),
        "baseline_majority_accuracy": float(counts.max() / max(1, counts.sum())),
    }
    direction = direction_accuracy(scores, labels, classes) if prepared.dataset.name == "motion" else None
    if direction is not None:
        metrics[f"{prefix}_direction_accuracy"] = direction
        metrics["baseline_chance_direction_accuracy"] = 0.5
    return metrics


def _described(experiment, prepared: PreparedVideo) -> dict:
    return {"dataset": prepared.dataset.name, "model": experiment.model.name,
            "representation": prepared.representation, "classes": len(prepared.dataset.class_names),
            "skipped_videos": dict(prepared.skipped), "shuffle_frames": experiment.data.shuffle_frames}


def _write_classes(run_dir: Path, class_names: list[str]) -> None:
    atomic_write_text(Path(run_dir) / CLASSES_FILE, json.dumps({"class_names": class_names}))


def read_classes(run_dir: Path) -> list[str] | None:
    path = Path(run_dir) / CLASSES_FILE
    return json.loads(path.read_text())["class_names"] if path.exists() else None


def _stream_experiment(experiment, stream: str, run_dir: Path) -> VideoExperiment:
    sub = copy.deepcopy(experiment)
    sub.name = f"{experiment.name}-{stream}"
    sub.trainer.run_dir = str(run_dir / "streams" / stream)
    if experiment.model.name != "twostream":
        sub.model.stream = stream
    return sub


def _train_stream(experiment, stream: str | None, dataset, resume: bool, progress: bool):
    from convsuite.suites.video.models import build_model

    data, prepared = prepare(experiment, stream=stream, progress=progress, dataset=dataset)
    shape = data.decode.shape if data.decode is not None else data.x_train.shape[1:]
    classes = len(prepared.dataset.class_names)

    def report(model) -> dict:
        scores = clip_scores(model, data.x_test, decode=data.decode)
        test_keys = trainer_lib.evaluate_model(model, data.x_test, data.y_test, decode=data.decode)
        extra = {f"test_frame_{k}": v for k, v in test_keys.items()} if prepared.per_frame_labels else {}
        return {**score_metrics(scores, prepared), **extra, **_described(experiment, prepared)}

    metrics = train_supervised(experiment, lambda: build_model(experiment, classes, shape, stream=stream), data,
                               resume=resume, report=report)
    _write_classes(run_directory(experiment), prepared.dataset.class_names)
    return metrics, data, prepared


def train(experiment: VideoExperiment, resume: bool = True) -> dict:
    """Train (or resume) the experiment; fused models train their two networks, then fuse them."""
    progress = experiment.trainer.progress
    if len(streams(experiment)) == 1:
        dataset = load_video_set(experiment, progress=progress)
        stream = streams(experiment)[0] if experiment.model.name in ("lrcn", "single_frame") else None
        metrics, _, _ = _train_stream(experiment, stream, dataset, resume, progress)
        return metrics
    with open_run(experiment) as run:
        if not resume:
            run.start_over()
        run.claim_config(experiment, resuming=run.config_path.exists(), finished=run.metrics_path.exists())
        dataset = load_video_set(experiment, progress=progress)
        results = {}
        for stream in ("rgb", "flow"):
            sub = _stream_experiment(experiment, stream, run.path)
            print(f"{experiment.name}: the {stream} network")
            results[stream] = _train_stream(sub, stream, dataset, resume, progress)
        metrics = _fuse(experiment, run.path, results)
        _write_classes(run.path, dataset.class_names)
        return write_metrics(run.path, metrics)


def _stream_model(run_dir: Path, which: str = "model"):
    return load_run_model(run_dir, which)


def _fuse(experiment, run_dir: Path, results: dict) -> dict:
    """Fused test metrics of the two networks; saves the fused Keras model (weighted average)."""
    from convsuite.suites.video.models import clip_model, late_fusion

    weights = list(experiment.model.fusion_weights)
    stream_scores, stream_models, stream_metrics = {}, [], {}
    for stream in ("rgb", "flow"):
        metrics, data, prepared = results[stream]
        model = _stream_model(run_dir / "streams" / stream)
        stream_models.append(clip_model(model))
        stream_scores[stream] = clip_scores(model, data.x_test, decode=data.decode)
        stream_metrics.update({f"{stream}_test_accuracy": metrics["test_accuracy"],
                               f"{stream}_video_accuracy": metrics["video_accuracy"]})
    prepared = results["rgb"][2]
    if experiment.model.fusion == "svm" and experiment.model.name == "twostream":
        fused = _svm_fusion(results, stream_scores, run_dir, experiment.trainer.seed)
    else:
        fused = fused_scores(experiment, run_dir, stream_scores["rgb"], stream_scores["flow"])
    fused_model = late_fusion(stream_models, weights)
    save_model_atomic(fused_model, run_dir / "model.keras")
    atomic_write_text(run_dir / "config.toml", config_lib.to_toml(experiment))
    rgb_metrics = results["rgb"][0]
    return {
        "experiment": experiment.name, "suite": "video", "fusion": experiment.model.fusion,
        "fusion_weights": weights, **score_metrics(fused, prepared), **stream_metrics,
        "train_seconds": round(sum(r[0].get("train_seconds", 0.0) for r in results.values()), 3),
        "epochs": rgb_metrics.get("epochs"), "backend": rgb_metrics.get("backend"),
        "device": rgb_metrics.get("device"), **_described(experiment, prepared),
        "representation": "frames+flow",
    }


SVM_FILE = "fusion_svm.json"


def _stacked_scores(rgb: np.ndarray, flow: np.ndarray) -> np.ndarray:
    parts = [s / np.maximum(np.linalg.norm(s, axis=1, keepdims=True), 1e-12) for s in (rgb, flow)]
    return np.concatenate(parts, axis=1)


def _svm_fusion(results, stream_scores, run_dir: Path, seed: int) -> np.ndarray:
    """Simonyan & Zisserman's SVM fusion: a linear SVM on the stacked L2-normalised clip scores of the
    training clips, applied to the test clips. Its weights go to ``RUN/fusion_svm.json`` so that
    ``evaluate`` and ``predict`` fuse the same way."""
    from sklearn.svm import LinearSVC

    train_scores = {}
    for stream in ("rgb", "flow"):
        _, data, _ = results[stream]
        model = _stream_model(run_dir / "streams" / stream)
        train_scores[stream] = clip_scores(model, data.x_train, decode=data.decode)
    labels = results["rgb"][2].train.labels
    svm = LinearSVC(C=1.0, random_state=seed).fit(_stacked_scores(train_scores["rgb"], train_scores["flow"]), labels)
    params = {"coef": np.atleast_2d(svm.coef_).tolist(), "intercept": np.atleast_1d(svm.intercept_).tolist(),
              "classes": svm.classes_.tolist(), "num_classes": len(results["rgb"][2].dataset.class_names)}
    atomic_write_text(run_dir / SVM_FILE, json.dumps(params))
    return svm_scores(stream_scores["rgb"], stream_scores["flow"], params)


def svm_scores(rgb: np.ndarray, flow: np.ndarray, params: dict) -> np.ndarray:
    """Class scores (softmax of the SVM's decisions) of the fused streams."""
    decision = _stacked_scores(rgb, flow) @ np.asarray(params["coef"]).T + np.asarray(params["intercept"])
    if decision.shape[1] == 1:  # two classes: one decision, positive for the second
        decision = np.concatenate([-decision, decision], axis=1)
    exp = np.exp(decision - decision.max(axis=1, keepdims=True))
    full = np.zeros((len(decision), params["num_classes"]), np.float32)
    full[:, params["classes"]] = exp / exp.sum(axis=1, keepdims=True)
    return full


def fused_scores(experiment, run_dir: Path, rgb: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """The run's fusion of its two networks' clip scores: the SVM it fitted, or the weighted average."""
    if experiment.model.fusion == "svm" and experiment.model.name == "twostream":
        path = Path(run_dir) / SVM_FILE
        if not path.exists():
            raise ConvsuiteError(f"{run_dir} was trained with model.fusion=svm but has no {SVM_FILE}; train it "
                                 "again to finish the fusion")
        return svm_scores(rgb, flow, json.loads(path.read_text()))
    weights = experiment.model.fusion_weights
    return (weights[0] * rgb + weights[1] * flow) / sum(weights)


# --------------------------------------------------------------------------- evaluate, predict


def experiment_from_run(run_dir: str | Path) -> VideoExperiment:
    """Rebuild the experiment a run directory was trained with (its config.toml)."""
    return trainer_lib.experiment_from_run(run_dir, EXPERIMENTS, VideoExperiment)


def load_run(run_dir: str | Path, which: str = "model"):
    """(model, experiment) of a run directory: ``model.keras`` (final) or ``best.keras``."""
    return load_run_model(run_dir, which), experiment_from_run(run_dir)


def evaluate(run_dir: str | Path, which: str = "model", experiment: VideoExperiment | None = None) -> dict:
    """Test metrics of a finished run, on the same clips it was tested on (metrics.json's numbers)."""
    run_dir = Path(run_dir)
    experiment = experiment or experiment_from_run(run_dir)
    progress = experiment.trainer.progress
    dataset = load_video_set(experiment, progress=progress)
    if len(streams(experiment)) == 1:
        stream = streams(experiment)[0] if experiment.model.name in ("lrcn", "single_frame") else None
        data, prepared = prepare(experiment, stream=stream, progress=progress, dataset=dataset)
        model = load_run_model(run_dir, which)
        _check_classes(model, prepared, run_dir)
        scores = clip_scores(model, data.x_test, decode=data.decode)
    else:
        parts = []
        for stream in ("rgb", "flow"):
            data, prepared_stream = prepare(experiment, stream=stream, progress=progress, dataset=dataset)
            model = load_run_model(run_dir / "streams" / stream, which)
            _check_classes(model, prepared_stream, run_dir)
            parts.append(clip_scores(model, data.x_test, decode=data.decode))
            prepared = prepared_stream if stream == "rgb" else prepared
        scores = fused_scores(experiment, run_dir, parts[0], parts[1])
    return {"experiment": experiment.name, "checkpoint": str(run_dir), "which": which,
            "dataset": prepared.dataset.name, **score_metrics(scores, prepared)}


def _check_classes(model, prepared: PreparedVideo, run_dir: Path) -> None:
    classes = int(model.output_shape[-1])
    if classes != len(prepared.dataset.class_names):
        raise ConvsuiteError(f"the model in {run_dir} predicts {classes} classes but {prepared.dataset.name} has "
                             f"{len(prepared.dataset.class_names)}; evaluate it on the data it was trained on")


@dataclass
class VideoPrediction:
    """Per-class scores of one video: the average over its clips."""

    path: str
    scores: np.ndarray
    class_names: list[str]
    clips: int

    @property
    def label(self) -> str:
        return self.class_names[int(np.argmax(self.scores))]

    def as_dict(self) -> dict:
        return {"video": self.path, "label": self.label, "clips": self.clips,
                "scores": {name: round(float(s), 6) for name, s in zip(self.class_names, self.scores)}}


def predict(run_dir: str | Path, videos, which: str = "model") -> list[VideoPrediction]:
    """Per-class scores of video files from a trained run, each averaged over ``data.test_clips``
    evenly spaced clips read and prepared exactly as the run's test clips were."""
    from convsuite.suites.video.data import ClipReader, VideoList, sample_clips
    from collections import Counter

    run_dir = Path(run_dir)
    if not (run_dir / "config.toml").exists():
        raise ConvsuiteError(f"{run_dir} is not a finished video run (no config.toml); pass the run directory "
                             f"that `convsuite train video` wrote")
    experiment = experiment_from_run(run_dir)
    class_names = read_classes(run_dir)
    paths = [Path(v) for v in ([videos] if isinstance(videos, (str, Path)) else videos)]
    for path in paths:
        if not path.exists():
            raise ConvsuiteError(f"{path} does not exist; pass video files (mp4, avi, ...)")
    skipped = Counter()
    table = sample_clips(VideoList(paths, np.zeros(len(paths), np.int64)), experiment.data,
                         experiment.data.test_clips, "uniform", experiment.trainer.seed, skipped, "given")
    if skipped:
        print("Skipped videos: " + "; ".join(f"{n} {reason}" for reason, n in sorted(skipped.items())))
    shuffle = experiment.trainer.seed if experiment.data.shuffle_frames else None
    parts = []
    for stream in streams(experiment):
        sub_dir = run_dir / "streams" / stream if len(streams(experiment)) > 1 else run_dir
        model = load_run_model(sub_dir, which)
        from convsuite.suites.video.data import representation_of

        stream_arg = stream if experiment.model.name in ("lrcn", "single_frame", "twostream") else None
        reader = ClipReader(table, experiment.data, representation_of(experiment, stream_arg),
                            experiment.model.flow_stack, shuffle)
        x = reader.read(np.arange(len(table)))
        parts.append(clip_scores(model, x))
    scores = parts[0] if len(parts) == 1 else fused_scores(experiment, run_dir, parts[0], parts[1])
    class_names = class_names or [str(i) for i in range(scores.shape[1])]
    ids, per_video = video_scores(scores, table.video)
    counts = np.bincount(table.video, minlength=len(paths))
    return [VideoPrediction(str(paths[v]), s, class_names, int(counts[v])) for v, s in zip(ids, per_video)]


# --------------------------------------------------------------------------- bench


def bench(experiment: VideoExperiment, train_batches: int = 20, inference_clips: int = 256) -> dict:
    """Decoded frames/s, optical-flow frames/s and training / inference clips/s on this machine."""
    import tempfile
    import time

    import keras

    from convsuite.common.runtime import configure
    from convsuite.suites.video.flow import optical_flow
    from convsuite.suites.video.models import build_model
    from convsuite.suites.video.motion import MotionSpec, render_video
    from convsuite.suites.video.video_io import iter_frames, write_video

    cfg = experiment.data
    runtime = configure(experiment.runtime)
    rng = np.random.default_rng(0)
    size = cfg.frame_size + cfg.frame_size % 2
    spec = MotionSpec(classes=("left", "right"), frames=16, size=max(16, size))
    frames = np.concatenate([render_video("left", spec, rng) for _ in range(8)])  # 128 frames
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.mp4"
        write_video(path, frames)
        start = time.perf_counter()
        decoded = sum(1 for _ in iter_frames(path, backend=cfg.decoder))
        decode_rate = decoded / (time.perf_counter() - start)
    optical_flow(frames[:3], method=cfg.flow)  # OpenCV's first call sets itself up
    start = time.perf_counter()
    optical_flow(frames, method=cfg.flow)
    flow_rate = (len(frames) - 1) / (time.perf_counter() - start)

    stream = streams(experiment)[0] if experiment.model.name in ("lrcn", "single_frame") else None
    shape = {"flow": (cfg.clip_frames - 1, cfg.frame_size, cfg.frame_size, 3)}.get(
        stream, (cfg.clip_frames, cfg.frame_size, cfg.frame_size, 3))
    batch = experiment.trainer.batch_size
    n = batch * train_batches
    x = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    classes = 8
    with runtime.scope():
        model = build_model(experiment, classes, shape, stream=stream)
        model.compile(optimizer=trainer_lib.make_optimizer(experiment.trainer), loss="sparse_categorical_crossentropy",
                      jit_compile=runtime.jit_compile)
    per_frame = len(model.output_shape) == 3
    labels = rng.integers(0, classes, size=n)
    y = np.repeat(labels[:, None], model.output_shape[1], axis=1) if per_frame else labels
    x_infer = rng.integers(0, 256, size=(inference_clips, *shape), dtype=np.uint8)
    train_rate, infer_rate = trainer_lib.measure_rates(model, x, y, batch, train_batches, x_infer, max(batch, 64))
    return {"suite": "video", "model": model.name, "params": int(model.count_params()), "batch_size": batch,
            "clip_shape": list(shape), "backend": keras.backend.backend(), "device": runtime.device_kind,
            "precision": experiment.runtime.precision, "jit_compile": runtime.jit_compile,
            "decoded_frames_per_s": round(decode_rate, 1), "decoder": cfg.decoder,
            "flow_frames_per_s": round(flow_rate, 1), "flow": cfg.flow,
            "train_clips_per_s": round(train_rate, 1), "inference_clips_per_s": round(infer_rate, 1)}
