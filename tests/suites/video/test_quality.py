"""The video suite's quality bar on the motion set: models that see frame order learn the motions,
models that cannot (one frame at a time, or frames shuffled) stay at chance.

Four motions (left, right, up, down) in 8-frame 16x16 clips keep the default run short; the full
set (eight motions, 16-frame 32x32 clips) is the slow test. Chance is measured on the same test
clips: 1/classes for the class, 1/2 for telling a motion from its time reversal (any model that
ignores frame order scores a clip and its reversal alike, see test_motion.py)."""

import pytest

from tests.requirements import require

SMALL = ['data.motion_classes=["left","right","up","down"]', "data.motion_frames=8", "data.clip_frames=8",
         "data.motion_size=16", "data.frame_size=16", "data.motion_train_videos=2000",
         "data.motion_test_videos=200", "trainer.epochs=10", "trainer.learning_rate=0.003", "model.dropout=0.2",
         "model.width=16"]
SMALL_MODELS = {"lrcn-motion": ["model.lstm_units=64"], "c3d-motion": ["model.dense_units=64", "model.c3d_stages=3"],
                "single-frame-motion": [], "lrcn-shuffled-motion": ["model.lstm_units=64"]}


def _train(name: str, settings: list[str], tmp_path) -> dict:
    from convsuite.common.config import apply_overrides
    from convsuite.suites.video import train as video_train
    from convsuite.suites.video.config import EXPERIMENTS

    experiment = apply_overrides(EXPERIMENTS[name](), [*settings, f"data.data_dir={tmp_path / 'data'}",
                                                       f"trainer.run_dir={tmp_path / name}", "trainer.progress=false"])
    experiment.validate()
    return video_train.train(experiment)


def _check_order_free(results: dict, classes: int, test_clips: int) -> None:
    chance = 1 / classes
    margin = 4 * (chance * (1 - chance) / test_clips) ** 0.5  # four standard deviations of a guesser
    direction_margin = 4 * (0.25 / test_clips) ** 0.5
    single = results["single-frame-motion"]
    assert single["test_accuracy"] <= chance + margin, single["test_accuracy"]
    assert abs(single["test_direction_accuracy"] - 0.5) <= direction_margin
    shuffled = results["lrcn-shuffled-motion"]
    # Unordered frames show which way the object may move (the kind) but never the direction.
    assert abs(shuffled["test_direction_accuracy"] - 0.5) <= direction_margin
    assert shuffled["test_accuracy"] <= 0.5 + margin  # every kind has two directions
    for result in results.values():
        assert result["baseline_chance_accuracy"] == pytest.approx(chance)


def test_lrcn_and_c3d_learn_the_motions_while_single_frames_and_shuffled_frames_stay_at_chance(tmp_path):
    require("av", "video")
    require("skimage", "video")
    results = {name: _train(name, SMALL + extra, tmp_path) for name, extra in SMALL_MODELS.items()}
    for name in ("lrcn-motion", "c3d-motion"):
        assert results[name]["test_accuracy"] >= 0.9, (name, results[name]["test_accuracy"])
    _check_order_free(results, classes=4, test_clips=200)


@pytest.mark.slow
def test_on_the_full_motion_set_c3d_learns_lrcn_reads_the_order_and_order_free_models_stay_at_chance(tmp_path):
    # The eight motions with turning and zooming, 16-frame 32x32 clips (about 30 minutes on 2 cores).
    # C3D reaches 0.9; LRCN trained from scratch does not (measured 0.49, direction 0.72: it needs
    # ~20,000 clips to leave chance, then overfits 1,440), so here it must only read the order: its
    # direction accuracy must stand clear of the 0.5 that binds every order-free model.
    require("av", "video")
    require("skimage", "video")
    results = {name: _train(name, [], tmp_path) for name in SMALL_MODELS}
    assert results["c3d-motion"]["test_accuracy"] >= 0.9
    lrcn = results["lrcn-motion"]
    assert lrcn["test_accuracy"] >= 0.125 + 4 * (0.125 * 0.875 / 800) ** 0.5
    assert lrcn["test_direction_accuracy"] >= 0.5 + 2 * 4 * (0.25 / 800) ** 0.5
    _check_order_free(results, classes=8, test_clips=800)
