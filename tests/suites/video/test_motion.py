"""The generated motion set: labels carried by motion alone, written as real videos."""

import json

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.video.config import VideoDataConfig
from convsuite.suites.video.motion import (MOTIONS, REVERSAL, MotionSpec, degree_of_freedom_paths, direction_accuracy,
                                           generate_motion_set, generate_split, grid, render_video)
from tests.requirements import require

SPEC = MotionSpec(classes=tuple(MOTIONS), frames=8, size=24)


@pytest.fixture(autouse=True)
def _video_packages():
    require("av", "video")
    require("skimage", "video")


@pytest.mark.parametrize("motion", sorted(MOTIONS))
def test_a_clip_played_backwards_is_exactly_its_reversed_class(motion):
    # The same random draws give the reversed class the same frames in the opposite order: any model that
    # ignores frame order scores a class and its reversal alike.
    forward = render_video(motion, SPEC, np.random.default_rng(5))
    backward = render_video(REVERSAL[motion], SPEC, np.random.default_rng(5))
    assert forward.shape == (8, 24, 24, 3) and forward.dtype == np.uint8
    np.testing.assert_array_equal(forward[::-1], backward)
    assert np.abs(np.diff(forward.astype(int), axis=0)).mean() > 1  # something does move


@pytest.mark.parametrize("nuisance", ["static", "shuffled"])
def test_every_degree_of_freedom_visits_the_grid_so_a_single_frame_is_class_free(nuisance):
    spec = MotionSpec(classes=tuple(MOTIONS), frames=8, nuisance=nuisance)
    values = grid(8)
    rng = np.random.default_rng(0)
    for motion, (dof, direction) in MOTIONS.items():
        paths = degree_of_freedom_paths(motion, spec, rng)
        np.testing.assert_allclose(paths[dof], direction * values)
        for other in set(range(4)) - {dof}:
            if nuisance == "static":
                assert np.ptp(paths[other]) == 0 and np.isclose(values, paths[other][0]).any()
            else:  # the same values in some order
                np.testing.assert_allclose(np.sort(paths[other]), values)


def test_static_nuisances_are_uniform_over_the_grid():
    # A frame at a uniform time shows the label's degree of freedom at a uniform grid value; a static
    # nuisance must be uniform over the same grid, or single frames would tell the classes apart.
    spec = MotionSpec(classes=tuple(MOTIONS), frames=4)
    rng = np.random.default_rng(1)
    counts = np.zeros(4)
    for _ in range(4000):
        counts[np.searchsorted(grid(4), degree_of_freedom_paths("left", spec, rng)[1][0].round(9) - 1e-9)] += 1
    assert counts.min() > 850 and counts.max() < 1150  # 1000 expected each


def test_direction_accuracy_is_one_half_for_order_free_scores_and_one_for_perfect_ones():
    names = list(MOTIONS)
    labels = np.arange(8).repeat(3)
    perfect = np.eye(8)[labels]
    assert direction_accuracy(perfect, labels, names) == 1.0
    # An order-free model scores a class and its reversal the same.
    order_free = np.full((24, 8), 1 / 8)
    assert direction_accuracy(order_free, labels, names) == 0.5
    assert direction_accuracy(perfect, np.array([0, 1]), ["left", "approach"]) is None


def test_generated_videos_are_real_files_read_back_through_the_decoder(tmp_path):
    from convsuite.suites.video.video_io import probe_video, read_clips

    spec = MotionSpec(classes=("left", "right", "clockwise"), frames=8, size=24)
    videos = generate_split(tmp_path / "train", spec, count=6, seed=3)
    assert sorted(np.bincount(videos.labels).tolist()) == [2, 2, 2]
    assert all(path.suffix == ".avi" and path.exists() for path in videos.paths)
    info = probe_video(videos.paths[0])
    assert (info.frames, info.width, info.height) == (8, 24, 24)
    decoded = read_clips(videos.paths[0], [0], 8, 1)[0]
    rendered = render_video(spec.classes[videos.labels[0]], spec, np.random.default_rng([3, 0]))
    assert np.abs(decoded.astype(int) - rendered).mean() < 6  # Motion-JPEG at high quality


def test_generation_is_deterministic_and_resumes_after_an_interruption(tmp_path):
    spec = MotionSpec(classes=("up", "down"), frames=6, size=16)
    first = generate_split(tmp_path / "a", spec, count=4, seed=9)
    (tmp_path / "a" / "index.json").unlink()  # interrupted before the index was written
    first.paths[1].unlink()
    again = generate_split(tmp_path / "a", spec, count=4, seed=9)
    assert [p.name for p in again.paths] == [p.name for p in first.paths] and again.paths[1].exists()
    np.testing.assert_array_equal(first.labels, again.labels)
    (tmp_path / "a" / "index.json").write_text("{not json")
    assert len(generate_split(tmp_path / "a", spec, count=4, seed=9).paths) == 4
    assert json.loads((tmp_path / "a" / "index.json").read_text())["count"] == 4


def test_the_motion_set_lives_in_the_data_cache_and_train_differs_from_test(tmp_path):
    cfg = VideoDataConfig(dataset="motion", data_dir=str(tmp_path), motion_classes=["left", "right"],
                          motion_train_videos=4, motion_test_videos=2, motion_frames=6, motion_size=16)
    train, test = generate_motion_set(cfg)
    assert train.paths[0].is_relative_to(tmp_path / "video") and len(test.paths) == 2
    assert train.paths[0].read_bytes() != test.paths[0].read_bytes()


@pytest.mark.parametrize("spec, message", [
    (MotionSpec(classes=("left", "sideways")), "unknown motion classes"),
    (MotionSpec(classes=("left", "left")), "at least two different"),
    (MotionSpec(classes=("left", "right"), size=25), "even"),
    (MotionSpec(classes=("left", "right"), nuisance="wobbly"), "static or shuffled"),
])
def test_bad_motion_settings_are_refused_clearly(spec, message):
    with pytest.raises(ConvsuiteError, match=message):
        spec.check()
