"""Preparing video clips for each architecture: shapes and labels per representation, shuffled frames,
the per-batch decoder against the in-memory arrays, the optical-flow cache, a folder of the user's
videos with unusable ones skipped, validation that holds out whole groups, and UCF101's split files."""

import re

import numpy as np
import pytest

from convsuite.common import registry
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.video import flow as flow_module
from convsuite.suites.video.data import ClipTable, VideoList, prepare, validation_rows
from tests.requirements import require
from tests.suites.video.test_ucf101 import CLASSES, EXPECTED_TEST_PER_CLASS, EXPECTED_TRAIN_PER_CLASS, make_ucf_tree

SIZE, FRAMES = 16, 8
MOTION = ['data.motion_classes=["left","right","up","down"]', "data.motion_train_videos=16",
          "data.motion_test_videos=8", f"data.motion_frames={FRAMES}", f"data.motion_size={SIZE}"]
CLIPS = [f"data.clip_frames={FRAMES}", f"data.frame_size={SIZE}"]


def experiment(name, data_dir, *overrides):
    return registry.make_experiment("video", name, [*MOTION, *CLIPS, f"data.data_dir={data_dir}", *overrides])


def folder_experiment(folder, *overrides):
    return registry.make_experiment("video", "lrcn-motion", [f"data.dataset={folder}", *CLIPS, *overrides])


@pytest.fixture(scope="module")
def motion_dir(tmp_path_factory):
    require("av", "video")
    return tmp_path_factory.mktemp("motion-data")


# name, extra settings, stream, the shape of one clip, whether y has a label per frame
REPRESENTATIONS = [
    ("lrcn-motion", [], None, (FRAMES, SIZE, SIZE, 3), True),
    ("single-frame-motion", [], None, (FRAMES, SIZE, SIZE, 3), True),
    ("c3d-motion", [], None, (FRAMES, SIZE, SIZE, 3), False),
    ("lrcn-flow-motion", [], "flow", (FRAMES - 1, SIZE, SIZE, 3), True),
    ("twostream-motion", ["model.flow_stack=4"], "rgb", (FRAMES, SIZE, SIZE, 3), True),
    ("twostream-motion", ["model.flow_stack=4"], "flow", (SIZE, SIZE, 2 * 4), False),
]


@pytest.mark.parametrize("name, extra, stream, clip_shape, per_frame", REPRESENTATIONS,
                         ids=[f"{r[0]}-{r[2] or 'rgb'}" for r in REPRESENTATIONS])
def test_prepare_gives_each_representation_its_shape_and_labels(motion_dir, name, extra, stream, clip_shape,
                                                                per_frame):
    data, prepared = prepare(experiment(name, motion_dir, *extra), stream=stream)
    assert data.decode is None  # a tiny set is decoded into memory
    splits = ((data.x_train, data.y_train, prepared.train), (data.x_val, data.y_val, prepared.val),
              (data.x_test, data.y_test, prepared.test))
    assert sum(len(x) for x, _, _ in splits[:2]) == 16 and len(data.x_test) == 8
    for x, y, table in splits:
        assert x.dtype == np.uint8 and x.shape == (len(table), *clip_shape)
        if per_frame:
            assert y.shape == (len(table), clip_shape[0])
            assert (y == table.labels[:, None]).all()
        else:
            assert y.shape == (len(table),) and (y == table.labels).all()
    assert prepared.per_frame_labels == (clip_shape[0] if per_frame else 0)
    assert prepared.dataset.class_names == ["left", "right", "up", "down"]
    assert set(data.y_test.reshape(-1).tolist()) == {0, 1, 2, 3}


def frame_multiset(clip):
    return sorted(frame.tobytes() for frame in clip)


def test_shuffled_frames_are_each_clips_own_frames_in_a_fixed_other_order(motion_dir):
    plain, _ = prepare(experiment("lrcn-motion", motion_dir))
    shuffled, _ = prepare(experiment("lrcn-motion", motion_dir, "data.shuffle_frames=true"))
    again, _ = prepare(experiment("lrcn-motion", motion_dir, "data.shuffle_frames=true"))
    for ordered, mixed, repeated in ((plain.x_train, shuffled.x_train, again.x_train),
                                     (plain.x_test, shuffled.x_test, again.x_test)):
        assert all(frame_multiset(a) == frame_multiset(b) for a, b in zip(ordered, mixed))
        reordered = [not np.array_equal(a, b) for a, b in zip(ordered, mixed)]
        assert sum(reordered) >= len(reordered) - 1  # a random order of 8 frames is rarely the identity
        np.testing.assert_array_equal(mixed, repeated)


@pytest.mark.parametrize("name, stream", [("lrcn-motion", None), ("lrcn-flow-motion", "flow"),
                                          ("twostream-motion", "flow")])
def test_the_per_batch_decoder_gives_the_in_memory_arrays(motion_dir, name, stream):
    extra = ["model.flow_stack=4"] if name == "twostream-motion" else []
    in_memory, _ = prepare(experiment(name, motion_dir, *extra), stream=stream)
    batched, _ = prepare(experiment(name, motion_dir, *extra, "data.memory_limit_mb=0"), stream=stream)
    assert batched.decode is not None and batched.x_test.ndim == 1  # row numbers, decoded per batch
    assert tuple(batched.decode.shape) == in_memory.x_test.shape[1:]
    np.testing.assert_array_equal(batched.decode(batched.x_test), in_memory.x_test)
    np.testing.assert_array_equal(batched.decode(batched.x_train[::-1]), in_memory.x_train[::-1])
    np.testing.assert_array_equal(batched.y_test, in_memory.y_test)


def test_optical_flow_is_computed_once_and_then_read_from_the_cache(tmp_path, monkeypatch):
    require("av", "video")
    calls = []
    original = flow_module.optical_flow

    def counted(frames, *args, **kwargs):
        calls.append(len(frames))
        return original(frames, *args, **kwargs)

    monkeypatch.setattr(flow_module, "optical_flow", counted)
    first, _ = prepare(experiment("lrcn-flow-motion", tmp_path), stream="flow")
    clips = len(first.x_train) + len(first.x_val) + len(first.x_test)
    assert len(calls) == clips and set(calls) == {FRAMES}
    assert len(list((tmp_path / "video" / "flow-cache").glob("*.npz"))) == clips
    second, _ = prepare(experiment("lrcn-flow-motion", tmp_path), stream="flow")
    assert len(calls) == clips  # nothing computed again
    np.testing.assert_array_equal(second.x_train, first.x_train)
    np.testing.assert_array_equal(second.x_test, first.x_test)


# --------------------------------------------------------------------------- a folder of the user's videos


def write_moving_video(path, frames=FRAMES, size=SIZE, speed=1):
    from convsuite.suites.video.video_io import write_video

    path.parent.mkdir(parents=True, exist_ok=True)
    columns = np.arange(size)
    write_video(path, [np.broadcast_to((((columns + speed * t) % 8 < 4) * 255).astype(np.uint8)[None, :, None],
                                       (size, size, 3)).copy() for t in range(frames)])


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory):
    """train/ and test/ with two classes; train/ also holds three videos no clip can come from."""
    require("av", "video")
    root = tmp_path_factory.mktemp("videos")
    for side, count in (("train", 3), ("test", 1)):
        for label, name in enumerate(("leftward", "rightward")):
            for i in range(count):
                write_moving_video(root / side / name / f"{name}{i}.avi", speed=1 if label else -1)
    (root / "train" / "leftward" / "empty.mp4").write_bytes(b"")
    (root / "train" / "rightward" / "noise.avi").write_bytes(np.random.default_rng(0).bytes(4096))
    write_moving_video(root / "train" / "leftward" / "short.avi", frames=FRAMES // 2)
    return root


def skipped_counts(printed):
    line = next(line for line in printed.splitlines() if line.startswith("Skipped videos: "))
    return {reason: int(count) for count, reason in re.findall(r"(\d+) ([^;]+)", line[len("Skipped videos: "):])}


def clip_paths(prepared):
    tables = (prepared.train, prepared.val, prepared.test)
    return {table.paths[v].name for table in tables for v in np.unique(table.video)}


def test_unreadable_and_short_videos_are_skipped_with_the_count_and_reasons(user_folder, capsys):
    data, prepared = prepare(folder_experiment(user_folder))
    counts = skipped_counts(capsys.readouterr().out)
    assert sum(counts.values()) == 3 and counts.get(f"shorter than a clip of {FRAMES} frames") == 1
    assert all(reason.startswith("unreadable") for reason in counts if not reason.startswith("shorter"))
    assert dict(prepared.skipped) == counts
    assert clip_paths(prepared) == {f"{name}{i}.avi" for name in ("leftward", "rightward") for i in range(3)}
    assert len(data.x_train) + len(data.x_val) == 6 and len(data.x_test) == 2
    assert data.x_train.shape[1:] == (FRAMES, SIZE, SIZE, 3)
    assert prepared.dataset.class_names == ["leftward", "rightward"]


def test_short_videos_loop_keeps_the_short_video(user_folder, capsys):
    data, prepared = prepare(folder_experiment(user_folder, "data.short_videos=loop"))
    counts = skipped_counts(capsys.readouterr().out)
    assert sum(counts.values()) == 2 and not any(reason.startswith("shorter") for reason in counts)
    assert "short.avi" in clip_paths(prepared)
    assert len(data.x_train) + len(data.x_val) == 7


def test_short_videos_error_stops_naming_the_frames(user_folder):
    with pytest.raises(ConvsuiteError, match="frames"):
        prepare(folder_experiment(user_folder, "data.short_videos=error"))


def test_a_folder_without_any_usable_video_is_an_error(tmp_path):
    for side in ("train", "test"):
        for name in ("leftward", "rightward"):
            folder = tmp_path / side / name
            folder.mkdir(parents=True)
            (folder / "empty.mp4").write_bytes(b"")
            (folder / "noise.avi").write_bytes(np.random.default_rng(1).bytes(2048))
    with pytest.raises(ConvsuiteError, match="no usable training videos"):
        prepare(folder_experiment(tmp_path))


# --------------------------------------------------------------------------- validation


def clip_table(videos, clips_per_video):
    video = np.repeat(np.arange(videos), clips_per_video)
    return ClipTable([f"v{i}.avi" for i in range(videos)], video, np.zeros(len(video), np.int64),
                     video % 3, np.full(videos, 20))


def test_validation_holds_out_whole_groups_when_the_videos_have_them():
    groups = [f"g{i // 4 + 1:02d}" for i in range(20)]  # five groups of four videos
    videos = VideoList([f"v{i}.avi" for i in range(20)], np.arange(20) % 3, groups)
    table = clip_table(20, 2)
    for seed in range(5):
        train, val = validation_rows(videos, table, 0.2, seed)
        assert sorted([*train, *val]) == list(range(len(table)))
        train_groups = {groups[v] for v in table.video[train]}
        val_groups = {groups[v] for v in table.video[val]}
        assert len(val_groups) == 1 and not train_groups & val_groups
        assert len(val) == 8  # the group's four videos, two clips each


def test_validation_holds_out_whole_videos_without_groups():
    videos = VideoList([f"v{i}.avi" for i in range(10)], np.arange(10) % 3)
    table = clip_table(10, 3)
    train, val = validation_rows(videos, table, 0.3, seed=0)
    assert sorted([*train, *val]) == list(range(len(table)))
    assert len(set(table.video[val])) == 3 and not set(table.video[train]) & set(table.video[val])
    train, val = validation_rows(videos, table, 0.0, seed=0)
    assert len(train) == len(table) and len(val) == 0


# --------------------------------------------------------------------------- UCF101 and unknown sets


def test_ucf101_split_files_prepare_their_videos_with_a_missing_one_counted(tmp_path, capsys):
    tree = make_ucf_tree(tmp_path / "ucf", real_videos=True)
    (tree / "UCF-101" / CLASSES[0] / f"v_{CLASSES[0]}_g01_c01.avi").unlink()  # listed for testing, not on disk
    exp = registry.make_experiment("video", "lrcn-motion", ["data.dataset=ucf101", f"data.data_dir={tree}",
                                                            *CLIPS, "data.test_clips=2"])
    data, prepared = prepare(exp)
    assert dict(prepared.skipped) == {"missing on disk": 1}
    assert "1 missing on disk" in capsys.readouterr().out
    assert prepared.dataset.class_names == CLASSES
    train_labels = np.concatenate([prepared.train.labels, prepared.val.labels])
    assert np.bincount(train_labels).tolist() == [EXPECTED_TRAIN_PER_CLASS] * 3
    test_videos = np.bincount(prepared.test.labels) // 2  # two clips per test video
    assert test_videos.tolist() == [EXPECTED_TEST_PER_CLASS - 1, EXPECTED_TEST_PER_CLASS, EXPECTED_TEST_PER_CLASS]
    groups = {video.name.split("_")[2] for table in (prepared.train, prepared.val) for video in table.paths}
    assert groups == {"g08", "g09"}  # split 1 tests on groups 1-7
    val_groups = {prepared.val.paths[v].name.split("_")[2] for v in np.unique(prepared.val.video)}
    train_groups = {prepared.train.paths[v].name.split("_")[2] for v in np.unique(prepared.train.video)}
    assert len(val_groups) == 1 and not val_groups & train_groups
    assert data.x_test.shape == (len(prepared.test), FRAMES, SIZE, SIZE, 3)


def test_ucf101_without_a_data_dir_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVSUITE_DATA", str(tmp_path))  # no data/video/UCF101 there
    exp = registry.make_experiment("video", "lrcn-motion", ["data.dataset=ucf101", *CLIPS])
    with pytest.raises(ConvsuiteError, match="UCF101 is not here") as error:
        prepare(exp)
    assert "data.data_dir" in str(error.value) and "\n" not in str(error.value)


def test_an_unknown_data_set_that_is_not_a_folder_is_a_clear_error(tmp_path):
    missing = tmp_path / "no-such-videos"
    exp = registry.make_experiment("video", "lrcn-motion", [f"data.dataset={missing}", *CLIPS])
    with pytest.raises(ConvsuiteError, match="neither a known video set .* nor a folder of videos"):
        prepare(exp)


class _PreparedTfdsSet:
    """What ucf101.ucf101_tfds returns for a prepared builder: decoded videos, one at a time."""

    config, class_names = "ucf101_1_256", ["ApplyEyeMakeup", "Archery"]

    def __init__(self, lengths):
        self.lengths = lengths
        self.iterated = 0

    def count(self, side):
        return len(self.lengths[side])

    def videos(self, side):
        rng = np.random.default_rng(len(side))
        for number, frames in enumerate(self.lengths[side]):
            self.iterated += 1
            yield rng.integers(0, 255, (frames, 17, 21, 3), dtype=np.uint8), number % 2  # odd sides on purpose


def test_tfds_ucf101_is_exported_once_as_video_files_and_read_like_the_others(tmp_path, monkeypatch):
    from convsuite.suites.video import ucf101

    fake = _PreparedTfdsSet({"train": [9, 9, 10, 12], "test": [9, 3]})
    monkeypatch.setattr(ucf101, "ucf101_tfds", lambda split, data_dir: fake)
    exp = registry.make_experiment("video", "c3d-motion", ["data.dataset=ucf101-tfds", f"data.data_dir={tmp_path}",
                                                           *CLIPS, "data.validation_fraction=0"])
    data, prepared = prepare(exp)
    assert prepared.dataset.class_names == fake.class_names
    assert data.x_train.shape == (4, FRAMES, SIZE, SIZE, 3) and data.x_test.shape == (1, FRAMES, SIZE, SIZE, 3)
    assert prepared.skipped  # the 3-frame test video is shorter than a clip
    exported = fake.iterated
    _, again = prepare(exp)
    assert fake.iterated == exported  # the second run reads the exported files
    assert again.skipped == prepared.skipped  # counted once per preparation, not added up
