"""Training, evaluating, predicting and benchmarking video runs on tiny models and a tiny motion set:
`convsuite evaluate` giving back the run's numbers in a new process, `convsuite video predict` on good,
missing and empty files, the two-stream run and its late fusion recomputed by hand, resuming a
finished run, and the benchmark's rates."""

import json

import numpy as np
import pytest

from convsuite.common import cli, registry
from convsuite.suites.video import train as video_train
from convsuite.suites.video.data import prepare
from tests.common.test_cli import convsuite
from tests.requirements import require

MOTION = ['data.motion_classes=["left","right","up","down"]', "data.motion_train_videos=16",
          "data.motion_test_videos=8", "data.motion_frames=8", "data.motion_size=16", "data.clip_frames=8",
          "data.frame_size=16", "trainer.epochs=1", "trainer.progress=false", "model.width=4"]
TINY = {"lrcn-motion": ["model.lstm_units=8"], "c3d-motion": ["model.dense_units=8"],
        "twostream-motion": ["model.flow_stack=4"]}


def tiny(name, tmp, run="run", *extra):
    return [*MOTION, *TINY[name], f"data.data_dir={tmp}", f"trainer.run_dir={tmp / run}", *extra]


def as_flags(settings):
    return [flag for setting in settings for flag in ("--set", setting)]


def run_cli(capsys, *args):
    """`convsuite ARGS` in this process (Keras is started once for the whole file): (exit code, out, err)."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(list(args))
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.fixture(scope="module")
def lrcn_run(tmp_path_factory):
    require("av", "video")
    tmp = tmp_path_factory.mktemp("lrcn")
    exit_code = None
    try:
        cli.main(["train", "video", "--config", "lrcn-motion", *as_flags(tiny("lrcn-motion", tmp)), "--json"])
    except SystemExit as exit_info:
        exit_code = exit_info.code
    assert exit_code == 0
    return tmp, tmp / "run"


def test_a_lrcn_run_writes_its_metrics_with_the_baselines_and_its_classes(lrcn_run):
    tmp, run_dir = lrcn_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("test_accuracy", "video_accuracy", "test_direction_accuracy", "test_frame_accuracy"):
        assert 0 <= metrics[key] <= 1, key
    assert metrics["baseline_chance_accuracy"] == 0.25 and metrics["epochs"] == 1
    assert metrics["test_clips"] == metrics["test_videos"] == 8 and metrics["model"] == "lrcn"
    assert json.loads((run_dir / "classes.json").read_text())["class_names"] == ["left", "right", "up", "down"]
    assert (run_dir / "model.keras").is_file() and (run_dir / "config.toml").is_file()


def test_evaluate_gives_back_the_runs_accuracies_exactly(lrcn_run, capsys):
    _, run_dir = lrcn_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    code, out, _ = run_cli(capsys, "evaluate", "video", "--checkpoint", str(run_dir), "--json")
    assert code == 0
    evaluated = json.loads(out.strip())
    assert evaluated["test_accuracy"] == metrics["test_accuracy"]
    assert evaluated["video_accuracy"] == metrics["video_accuracy"]
    assert evaluated["test_direction_accuracy"] == metrics["test_direction_accuracy"]


def motion_test_videos(tmp):
    return sorted(tmp.glob("video/motion-*/test/*/*.avi"))


def test_predict_prints_one_json_line_per_video_with_scores_over_the_classes(lrcn_run, capsys):
    tmp, run_dir = lrcn_run
    videos = motion_test_videos(tmp)[:2]
    code, out, _ = run_cli(capsys, "video", "predict", "--checkpoint", str(run_dir), *map(str, videos),
                           "--format", "json")
    assert code == 0
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert [line["video"] for line in lines] == [str(v) for v in videos]
    for line in lines:
        assert list(line["scores"]) == ["left", "right", "up", "down"] and line["clips"] == 1
        assert sum(line["scores"].values()) == pytest.approx(1.0, abs=1e-4)
        assert line["label"] == max(line["scores"], key=line["scores"].get)


def test_predict_scores_the_test_videos_as_the_run_scored_their_clips(lrcn_run):
    _, run_dir = lrcn_run
    model, experiment = video_train.load_run(run_dir)
    data, prepared = prepare(experiment)
    scores = video_train.clip_scores(model, data.x_test)
    predictions = video_train.predict(run_dir, prepared.test.paths)
    assert [p.path for p in predictions] == [str(p) for p in prepared.test.paths]
    np.testing.assert_allclose(np.stack([p.scores for p in predictions]), scores[np.argsort(prepared.test.video)],
                               atol=1e-6)


def test_predict_of_a_missing_file_is_a_one_line_error(lrcn_run, tmp_path, capsys):
    tmp, run_dir = lrcn_run
    missing = tmp_path / "no-such-video.avi"
    code, out, err = run_cli(capsys, "video", "predict", "--checkpoint", str(run_dir),
                             str(motion_test_videos(tmp)[0]), str(missing))
    assert code != 0 and not out
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert err.startswith("convsuite: error:") and str(missing) in err


def test_predict_skips_an_empty_video_with_a_message_and_scores_the_others(lrcn_run, tmp_path, capsys):
    tmp, run_dir = lrcn_run
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    videos = motion_test_videos(tmp)[:2]
    code, out, err = run_cli(capsys, "video", "predict", "--checkpoint", str(run_dir), str(videos[0]), str(empty),
                             str(videos[1]), "--format", "json")
    assert code == 0
    assert [json.loads(line)["video"] for line in out.strip().splitlines()] == [str(v) for v in videos]
    assert "1 unreadable" in err and "1 of 3 videos were skipped" in err


# --------------------------------------------------------------------------- two streams


@pytest.fixture(scope="module")
def twostream_run(tmp_path_factory):
    require("av", "video")
    tmp = tmp_path_factory.mktemp("twostream")
    experiment = registry.make_experiment("video", "twostream-motion",
                                          tiny("twostream-motion", tmp, "run", "model.fusion_weights=[1.0, 3.0]"))
    return experiment, tmp / "run", video_train.train(experiment)


@pytest.mark.slow  # two networks trained: about 20 s on one core
def test_two_streams_train_into_their_own_runs_and_save_the_fused_model(twostream_run):
    _, run_dir, metrics = twostream_run
    for stream in ("rgb", "flow"):
        assert (run_dir / "streams" / stream / "model.keras").is_file()
        assert json.loads((run_dir / "streams" / stream / "metrics.json").read_text())["epochs"] == 1
    assert (run_dir / "model.keras").is_file() and (run_dir / "classes.json").is_file()
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics
    for key in ("rgb_test_accuracy", "flow_test_accuracy", "test_accuracy", "video_accuracy"):
        assert 0 <= metrics[key] <= 1, key
    assert metrics["fusion"] == "average" and metrics["fusion_weights"] == [1.0, 3.0]


@pytest.mark.slow  # two networks trained: about 20 s on one core
def test_the_fused_accuracy_is_the_weighted_average_of_the_streams_clip_scores(twostream_run):
    experiment, run_dir, metrics = twostream_run
    scores, inputs = {}, {}
    for stream in ("rgb", "flow"):
        data, prepared = prepare(experiment, stream=stream)
        model = video_train.load_run_model(run_dir / "streams" / stream)
        scores[stream], inputs[stream] = video_train.clip_scores(model, data.x_test), data.x_test
        assert metrics[f"{stream}_test_accuracy"] == pytest.approx(
            video_train.score_metrics(scores[stream], prepared)["test_accuracy"], abs=1e-6)
    by_hand = (1.0 * scores["rgb"] + 3.0 * scores["flow"]) / 4.0
    expected = video_train.score_metrics(by_hand, prepared)
    assert metrics["test_accuracy"] == pytest.approx(expected["test_accuracy"], abs=1e-6)
    assert metrics["video_accuracy"] == pytest.approx(expected["video_accuracy"], abs=1e-6)
    fused_model = video_train.load_run_model(run_dir)
    fused = np.asarray(fused_model.predict_on_batch([inputs["rgb"], inputs["flow"]]))
    np.testing.assert_allclose(fused, by_hand, atol=1e-6)


@pytest.mark.slow
def test_evaluate_in_a_new_process_gives_back_the_runs_accuracies_exactly(lrcn_run):
    _, run_dir = lrcn_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    evaluated = json.loads(convsuite("evaluate", "video", "--checkpoint", str(run_dir), "--json").stdout.strip())
    assert evaluated["test_accuracy"] == metrics["test_accuracy"]
    assert evaluated["video_accuracy"] == metrics["video_accuracy"]


@pytest.mark.slow
def test_svm_fusion_of_two_streams_trains_and_scores(tmp_path):
    experiment = registry.make_experiment("video", "twostream-motion",
                                          tiny("twostream-motion", tmp_path, "run", "model.fusion=svm"))
    metrics = video_train.train(experiment)
    assert metrics["fusion"] == "svm" and 0 <= metrics["test_accuracy"] <= 1
    assert (tmp_path / "run" / "model.keras").is_file() and (tmp_path / "run" / video_train.SVM_FILE).is_file()
    evaluated = video_train.evaluate(tmp_path / "run")  # fuses with the fitted SVM, not the weights
    assert evaluated["test_accuracy"] == metrics["test_accuracy"]


@pytest.mark.parametrize("classes", [2, 4])
def test_svm_fusion_scores_rank_the_classes_as_the_fitted_svm_decides(classes):
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(classes)
    rgb, flow = rng.dirichlet(np.ones(classes), 40), rng.dirichlet(np.ones(classes), 40)
    labels = np.arange(40) % classes
    stacked = video_train._stacked_scores(rgb, flow)
    svm = LinearSVC(random_state=0).fit(stacked, labels)
    params = {"coef": np.atleast_2d(svm.coef_).tolist(), "intercept": np.atleast_1d(svm.intercept_).tolist(),
              "classes": svm.classes_.tolist(), "num_classes": classes}
    scores = video_train.svm_scores(rgb, flow, params)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(scores.argmax(axis=1), svm.predict(stacked))


# --------------------------------------------------------------------------- resuming, benchmark


def test_training_a_finished_c3d_run_again_only_evaluates_it(tmp_path, capsys):
    experiment = registry.make_experiment("video", "c3d-motion", tiny("c3d-motion", tmp_path))
    first = video_train.train(experiment)
    log = (tmp_path / "run" / "log.csv").read_text()
    capsys.readouterr()
    again = video_train.train(registry.make_experiment("video", "c3d-motion", tiny("c3d-motion", tmp_path)))
    assert "already finished 1 epochs" in capsys.readouterr().out
    assert again["epochs"] == first["epochs"] == 1 and first["model"] == "c3d"
    assert again["test_accuracy"] == first["test_accuracy"] and again["video_accuracy"] == first["video_accuracy"]
    assert (tmp_path / "run" / "log.csv").read_text() == log  # no epoch was trained


def test_bench_prints_decoding_flow_and_training_rates(tmp_path, capsys):
    require("av", "video")
    settings = [*(setting for setting in tiny("c3d-motion", tmp_path) if not setting.startswith("trainer.run_dir")),
                "trainer.batch_size=4"]
    code, out, _ = run_cli(capsys, "bench", "video", "--config", "c3d-motion", *as_flags(settings), "--json")
    assert code == 0
    result = json.loads(out.strip())
    for key in ("decoded_frames_per_s", "flow_frames_per_s", "train_clips_per_s"):
        assert result[key] > 0, key
    assert result["model"] and result["clip_shape"] == [8, 16, 16, 3]


JAX_SCRIPT = """
import json
from pathlib import Path

from convsuite.common import registry
from convsuite.suites.video import train as video_train

run_dir = Path(sys.argv[1])
experiment = registry.make_experiment("video", "lrcn-motion", sys.argv[2:] + [f"trainer.run_dir={run_dir}"])
metrics = video_train.train(experiment)
evaluated = video_train.evaluate(run_dir)
test_videos = sorted((Path(experiment.data.data_dir) / "video").glob("motion-*/test/*/*.avi"))[:2]
predictions = video_train.predict(run_dir, test_videos)
assert "tensorflow" not in sys.modules
print(json.dumps({"metrics": metrics, "evaluated": evaluated["test_accuracy"],
                  "scores": [p.scores.tolist() for p in predictions]}))
"""


def test_train_evaluate_and_predict_on_jax_without_tensorflow(tmp_path):
    # The GPU path: decoding, clips, training through PyDataset, evaluation and prediction, no TensorFlow.
    import os
    import subprocess
    import sys

    from tests.common.test_jax_path import BLOCK_TENSORFLOW

    require("av", "video")
    cli_import = "from convsuite.common.cli import main"
    assert cli_import in BLOCK_TENSORFLOW
    script = BLOCK_TENSORFLOW.split(cli_import)[0] + JAX_SCRIPT
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "run"), *tiny("lrcn-motion", tmp_path),
                             "runtime.backend=jax"], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["metrics"]["backend"] == "jax" and report["metrics"]["epochs"] == 1
    assert report["evaluated"] == pytest.approx(report["metrics"]["test_accuracy"], abs=1e-6)
    np.testing.assert_allclose(np.sum(report["scores"], axis=1), 1.0, atol=1e-5)
