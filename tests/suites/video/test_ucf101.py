"""UCF101's official split files on a small fake tree written here (3 classes, groups g01-g09): counts,
labels, group separation, missing videos, malformed lines, the HandstandPushups spelling, and the
tensorflow-datasets path that must never download."""

import socket
import sys
import types

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.video import ucf101
from convsuite.suites.video.ucf101 import (
    VideoEntry,
    VideoSplit,
    check_group_separation,
    find_split_dir,
    find_video_root,
    load_ucf101_split,
    parse_video_name,
    read_class_index,
    read_split_list,
    ucf101_tfds,
)
from tests.requirements import require

CLASSES = ["ApplyEyeMakeup", "Basketball", "HandstandPushups"]
GROUPS = range(1, 10)


def clips_in_group(group: int) -> int:
    return 2 if group % 2 else 1  # odd groups have two clips, even groups one


def write_tiny_video(path, frames=8, size=32):
    """A real 8-frame 32x32 video, moving stripes so the codec has something to encode."""
    require("av", "video")
    from convsuite.suites.video.video_io import write_video

    columns = np.arange(size)
    write_video(path, (np.broadcast_to((((columns + 2 * t) % 8 < 4) * 255).astype(np.uint8)[None, :, None],
                                       (size, size, 3)).copy() for t in range(frames)))


def video_name(class_name: str, group: int, clip: int) -> str:
    return f"{class_name}/v_{class_name}_g{group:02d}_c{clip:02d}.avi"


def make_ucf_tree(root, real_videos=False, test_groups=range(1, 8)):
    """UCF-101/<Class>/v_<Class>_gXX_cYY.avi plus ucfTrainTestlist/ following the official rule for split 1."""
    split_dir = root / "ucfTrainTestlist"
    split_dir.mkdir(parents=True)
    (split_dir / "classInd.txt").write_text("".join(f"{i} {name}\r\n" for i, name in enumerate(CLASSES, 1)))
    train_lines, test_lines = [], []
    for label, class_name in enumerate(CLASSES, 1):
        for group in GROUPS:
            for clip in range(1, clips_in_group(group) + 1):
                relative = video_name(class_name, group, clip)
                path = root / "UCF-101" / relative
                if real_videos:
                    write_tiny_video(path)
                else:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.touch()
                if group in test_groups:
                    test_lines.append(relative)
                else:
                    train_lines.append(f"{relative} {label}")
    (split_dir / "trainlist01.txt").write_text("\n".join(train_lines) + "\n")
    (split_dir / "testlist01.txt").write_text("\n".join(test_lines) + "\n")
    return root


EXPECTED_TEST_PER_CLASS = sum(clips_in_group(g) for g in range(1, 8))  # 11
EXPECTED_TRAIN_PER_CLASS = sum(clips_in_group(g) for g in (8, 9))  # 3


def test_official_split_gives_the_listed_videos_with_their_labels_and_no_shared_group(tmp_path):
    from convsuite.suites.video.video_io import probe_video

    root = make_ucf_tree(tmp_path / "ucf", real_videos=True)
    split = load_ucf101_split(root, split=1)
    assert split.class_names == CLASSES
    assert len(split.train) == 3 * EXPECTED_TRAIN_PER_CLASS and len(split.test) == 3 * EXPECTED_TEST_PER_CLASS
    assert split.missing == []
    for entry in split.train + split.test:
        assert entry.path.is_file()
        assert CLASSES[entry.label] in entry.path.name and entry.name.startswith(CLASSES[entry.label] + "/")
    assert {e.group for e in split.test} == {f"g{g:02d}" for g in range(1, 8)}
    assert {e.group for e in split.train} == {"g08", "g09"}
    assert np.bincount([e.label for e in split.train]).tolist() == [EXPECTED_TRAIN_PER_CLASS] * 3
    check_group_separation(split)
    info = probe_video(split.test[0].path)  # the files the loader returns are real videos
    assert (info.frames, info.width, info.height) == (8, 32, 32)


def test_a_split_file_that_leaks_a_group_makes_the_group_check_name_it(tmp_path):
    root = make_ucf_tree(tmp_path)
    with open(root / "ucfTrainTestlist" / "trainlist01.txt", "a") as file:
        file.write("Basketball/v_Basketball_g03_c01.avi 2\n")
    split = load_ucf101_split(root)
    with pytest.raises(ConvsuiteError, match=r"group g03 appears on both.*v_Basketball_g03_c01"):
        check_group_separation(split)


def test_group_check_counts_groups_across_classes():
    """Group numbers are shared by all classes: g05 of one class in train and g05 of another in test leaks."""
    split = VideoSplit(train=[VideoEntry(ucf101.Path("a"), 0, "g05", "A/v_A_g05_c01.avi")],
                       test=[VideoEntry(ucf101.Path("b"), 1, "g05", "B/v_B_g05_c01.avi"),
                             VideoEntry(ucf101.Path("c"), 1, "g01", "B/v_B_g01_c01.avi")],
                       class_names=["A", "B"], missing=[], source="test")
    with pytest.raises(ConvsuiteError, match="g05"):
        check_group_separation(split)


def test_videos_missing_on_disk_are_collected_and_left_out(tmp_path):
    root = make_ucf_tree(tmp_path)
    (root / "UCF-101" / video_name("Basketball", 8, 1)).unlink()
    (root / "UCF-101" / video_name("ApplyEyeMakeup", 1, 2)).unlink()
    split = load_ucf101_split(root)
    assert sorted(split.missing) == sorted([video_name("Basketball", 8, 1), video_name("ApplyEyeMakeup", 1, 2)])
    assert len(split.train) == 3 * EXPECTED_TRAIN_PER_CLASS - 1
    assert len(split.test) == 3 * EXPECTED_TEST_PER_CLASS - 1
    unchecked = load_ucf101_split(root, check_files=False)
    assert unchecked.missing == [] and len(unchecked.train) == 3 * EXPECTED_TRAIN_PER_CLASS


def test_all_videos_missing_is_an_error_naming_the_folder(tmp_path):
    root = make_ucf_tree(tmp_path)
    for path in sorted((root / "UCF-101").rglob("*.avi")):
        path.unlink()
    with pytest.raises(ConvsuiteError, match=r"none of the 9 videos trainlist01.txt names is under .*UCF-101"):
        load_ucf101_split(root)


@pytest.mark.parametrize("bad_line, message", [
    ("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1 extra", "trainlist01.txt line 2 reads"),
    ("ApplyEyeMakeup/clip_08.avi 1", "trainlist01.txt line 2: 'clip_08.avi' is not a UCF101 video name"),
    ("Juggling/v_Juggling_g08_c01.avi 1", "trainlist01.txt line 2 names class folder 'Juggling'"),
    ("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 2", "trainlist01.txt line 2 labels .* as class 2"),
    ("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi one", "trainlist01.txt line 2 gives label 'one'"),
    ("v_ApplyEyeMakeup_g08_c01.avi 1", "trainlist01.txt line 2 names .* without its class folder"),
])
def test_a_malformed_split_line_names_file_and_line(tmp_path, bad_line, message):
    path = tmp_path / "trainlist01.txt"
    path.write_text(f"Basketball/v_Basketball_g08_c01.avi 2\n{bad_line}\n")
    with pytest.raises(ConvsuiteError, match=message):
        read_split_list(path, CLASSES)


def test_a_malformed_class_index_names_file_and_line(tmp_path):
    path = tmp_path / "classInd.txt"
    path.write_text("1 ApplyEyeMakeup\n\n3 Basketball\n")
    with pytest.raises(ConvsuiteError, match=r"classInd.txt line 3 numbers class 'Basketball' as 3, expected 2"):
        read_class_index(path)
    path.write_text("1 ApplyEyeMakeup\nBasketball\n")
    with pytest.raises(ConvsuiteError, match="classInd.txt line 2 reads 'Basketball'"):
        read_class_index(path)
    path.write_text("\ufeff1 ApplyEyeMakeup\r\n2 Basketball\r\n")
    assert read_class_index(path) == ["ApplyEyeMakeup", "Basketball"]


def test_test_lists_take_the_label_from_the_class_folder(tmp_path):
    path = tmp_path / "testlist01.txt"
    path.write_text("Basketball/v_Basketball_g01_c01.avi\nApplyEyeMakeup/v_ApplyEyeMakeup_g02_c03.avi\n")
    assert read_split_list(path, CLASSES) == [("Basketball/v_Basketball_g01_c01.avi", 1),
                                             ("ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c03.avi", 0)]


@pytest.mark.parametrize("split", [0, 4, "x", 1.5, None])
def test_a_split_other_than_1_2_or_3_is_refused(tmp_path, split):
    root = make_ucf_tree(tmp_path)
    with pytest.raises(ConvsuiteError, match="official splits 1, 2 and 3"):
        load_ucf101_split(root, split=split)


def test_missing_split_folder_says_in_one_sentence_how_to_get_ucf101(tmp_path):
    (tmp_path / "UCF-101" / "Basketball").mkdir(parents=True)
    with pytest.raises(ConvsuiteError) as caught:
        load_ucf101_split(tmp_path)
    message = str(caught.value)
    for needed in ("ucfTrainTestlist", "University of Central Florida", "data.dataset=ucf101", "data.data_dir",
                   "tfds", str(tmp_path)):
        assert needed in message
    assert "\n" not in message and ". " not in message and "://" not in message and "www" not in message
    with pytest.raises(ConvsuiteError, match="University of Central Florida"):
        load_ucf101_split(tmp_path / "nowhere")


def test_missing_split_file_of_the_chosen_split_is_named(tmp_path):
    root = make_ucf_tree(tmp_path)
    with pytest.raises(ConvsuiteError, match=r"lacks trainlist02.txt and testlist02.txt of UCF101 split 2"):
        load_ucf101_split(root, split=2)


def test_handstand_pushups_spelled_differently_in_lists_folder_and_files_is_found(tmp_path):
    """classInd says HandstandPushups; the archive's files say HandStandPushups; lists may use either."""
    split_dir = tmp_path / "ucfTrainTestlist"
    split_dir.mkdir()
    (split_dir / "classInd.txt").write_text("1 Basketball\n2 HandstandPushups\n")
    (split_dir / "trainlist01.txt").write_text("HandstandPushups/v_HandStandPushups_g08_c01.avi 2\n"
                                               "Basketball/v_Basketball_g08_c01.avi 1\n")
    (split_dir / "testlist01.txt").write_text("HandStandPushups/v_HandStandPushups_g01_c01.avi\n"
                                              "Basketball/v_Basketball_g01_c01.avi\n")
    for relative in ("HandstandPushups/v_HandStandPushups_g08_c01.avi",
                     "HandstandPushups/v_HandstandPushups_g01_c01.avi", "Basketball/v_Basketball_g08_c01.avi", "Basketball/v_Basketball_g01_c01.avi"):
        (tmp_path / "UCF-101" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "UCF-101" / relative).touch()
    split = load_ucf101_split(tmp_path)
    assert split.missing == []
    assert [(e.label, e.group) for e in split.train] == [(1, "g08"), (0, "g08")]
    assert [e.label for e in split.test] == [1, 0]
    assert split.test[0].path == tmp_path / "UCF-101" / "HandstandPushups" / "v_HandstandPushups_g01_c01.avi"
    check_group_separation(split)


def test_split_and_video_folders_are_found_in_the_usual_layouts(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "classInd.txt").write_text("1 A\n")
    assert find_split_dir(flat) == flat and find_video_root(flat) == flat
    nested = tmp_path / "nested"
    (nested / "UCF101TrainTestSplits-RecognitionTask" / "ucfTrainTestlist").mkdir(parents=True)
    (nested / "UCF101TrainTestSplits-RecognitionTask" / "ucfTrainTestlist" / "classInd.txt").write_text("1 A\n")
    (nested / "UCF101" / "UCF-101").mkdir(parents=True)
    assert find_split_dir(nested) == nested / "UCF101TrainTestSplits-RecognitionTask" / "ucfTrainTestlist"
    assert find_video_root(nested) == nested / "UCF101" / "UCF-101"
    with pytest.raises(ConvsuiteError, match="no UCF101 split files"):
        find_split_dir(tmp_path / "empty")


def test_parse_video_name_splits_class_group_and_clip():
    assert parse_video_name("v_ApplyEyeMakeup_g08_c01.avi") == ("ApplyEyeMakeup", "g08", "c01")
    assert parse_video_name("YoYo/v_YoYo_g25_c05.avi") == ("YoYo", "g25", "c05")
    with pytest.raises(ConvsuiteError, match="'holiday.avi' is not a UCF101 video name"):
        parse_video_name("holiday.avi")


# --------------------------------------------------------------------------- tensorflow-datasets


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


class FakeBuilder:
    """Stands in for a tfds builder: records what is asked of it."""

    calls: list = []

    def __init__(self, name, data_dir, prepared, videos=()):
        self.name, self.data_dir, self.prepared, self.examples = name, data_dir, prepared, list(videos)
        self.info = types.SimpleNamespace(features={"label": types.SimpleNamespace(names=["a", "b"])},
                                          splits={"train": types.SimpleNamespace(num_examples=len(self.examples))})

    def is_prepared(self):
        FakeBuilder.calls.append(("is_prepared", self.name))
        return self.prepared

    def download_and_prepare(self, *args, **kwargs):
        raise AssertionError("download_and_prepare must never be called")

    def as_dataset(self, split, shuffle_files=False):
        return [{"video": video, "label": label} for video, label in self.examples]


def fake_tfds(monkeypatch, prepared, videos=()):
    module = types.ModuleType("tensorflow_datasets")
    module.builder = lambda name, data_dir=None: FakeBuilder(name, data_dir, prepared, videos)
    module.as_numpy = lambda dataset: iter(dataset)
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", module)
    FakeBuilder.calls = []


def test_tfds_not_prepared_says_how_to_prepare_without_importing_tfds_or_the_network(tmp_path, monkeypatch,
                                                                                   no_network):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # importing it would fail
    with pytest.raises(ConvsuiteError) as caught:
        ucf101_tfds(split=1, data_dir=str(tmp_path))
    message = str(caught.value)
    assert "not prepared in " + str(tmp_path) in message and "tfds build ucf101 --config ucf101_1_256" in message
    assert "University of Central Florida" in message and "://" not in message
    assert list(tmp_path.iterdir()) == []  # nothing was written either


def test_tfds_builder_that_is_not_prepared_is_asked_but_never_downloads(tmp_path, monkeypatch, no_network):
    (tmp_path / "ucf101" / "ucf101_2" / "2.0.0").mkdir(parents=True)
    (tmp_path / "ucf101" / "ucf101_2" / "2.0.0" / "dataset_info.json").write_text("{}")
    fake_tfds(monkeypatch, prepared=False)
    with pytest.raises(ConvsuiteError, match="ucf101_2.*is not prepared"):
        ucf101_tfds(split=2, data_dir=str(tmp_path))
    assert FakeBuilder.calls == [("is_prepared", "ucf101/ucf101_2")]
    with pytest.raises(ConvsuiteError, match="official splits"):
        ucf101_tfds(split=4, data_dir=str(tmp_path))


def test_prepared_tfds_set_yields_uint8_frames_and_labels(tmp_path, monkeypatch, no_network):
    (tmp_path / "ucf101" / "ucf101_1" / "2.0.0").mkdir(parents=True)
    (tmp_path / "ucf101" / "ucf101_1" / "2.0.0" / "dataset_info.json").write_text("{}")
    clip = np.full((4, 6, 8, 3), 7, dtype=np.uint8)
    fake_tfds(monkeypatch, prepared=True, videos=[(clip, 1), (clip[:2], 0)])
    videos = ucf101_tfds(split=1, data_dir=str(tmp_path))
    assert videos.config == "ucf101_1" and videos.class_names == ["a", "b"] and videos.count("train") == 2
    got = list(videos.videos("train"))
    assert [label for _, label in got] == [1, 0] and got[0][0].dtype == np.uint8 and got[1][0].shape == (2, 6, 8, 3)


@pytest.mark.slow
def test_real_tfds_builder_in_an_empty_folder_is_not_prepared_and_never_downloads(tmp_path, monkeypatch,
                                                                                  no_network):
    tfds = require("tensorflow_datasets", "video")
    monkeypatch.setattr(ucf101, "_may_be_prepared", lambda data_dir, config: True)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare",
                        lambda *a, **k: pytest.fail("download_and_prepare was called"))
    for config in ("ucf101_1_256", "ucf101_1", "ucf101_2", "ucf101_3"):
        assert config in {c.name for c in tfds.builder_cls("ucf101").BUILDER_CONFIGS}
    with pytest.raises(ConvsuiteError, match="is not prepared"):
        ucf101_tfds(split=1, data_dir=str(tmp_path))
