"""A user's own videos in class folders, with and without train/test folders: classes, labels, the
seeded per-class hold-out and the error messages (placeholder files: finding videos decodes nothing)."""

import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.video.folders import USER_VIDEO_HELP, VIDEO_EXTENSIONS, load_video_folder


def touch(root, *relatives):
    for relative in relatives:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    return root


def class_tree(root, counts: dict, prefix: str = "", suffix: str = ".mp4"):
    for class_name, count in counts.items():
        touch(root, *(f"{prefix}{class_name}/clip{i:02d}{suffix}" for i in range(count)))
    return root


def test_class_folders_give_sorted_classes_and_a_per_class_hold_out(tmp_path):
    root = class_tree(tmp_path / "videos", {"wave": 10, "clap": 5})
    touch(root, "clap/notes.txt", "clap/.hidden.mp4", "wave/EXTRA.AVI")
    split = load_video_folder(root, test_fraction=0.2, seed=0)
    assert split.class_names == ["clap", "wave"] and split.missing == [] and split.source == str(root)
    test_counts = [sum(e.label == label for e in split.test) for label in range(2)]
    train_counts = [sum(e.label == label for e in split.train) for label in range(2)]
    assert test_counts == [1, 2] and train_counts == [4, 9]  # round(5 * 0.2), round(11 * 0.2)
    every = split.train + split.test
    assert len({e.name for e in every}) == 16
    for entry in every:
        assert entry.path.is_file() and entry.name.startswith(split.class_names[entry.label] + "/")
        assert entry.group == "" and entry.path.suffix.lower() in (".mp4", ".avi")


def test_hold_out_is_the_same_for_the_same_seed_and_changes_with_it(tmp_path):
    root = class_tree(tmp_path, {"a": 10, "b": 10, "c": 10})
    names = lambda split: sorted(e.name for e in split.test)  # noqa: E731
    first, again, other = (load_video_folder(root, 0.3, seed) for seed in (0, 0, 1))
    assert names(first) == names(again)
    assert names(first) != names(other)
    assert not set(names(first)) & {e.name for e in first.train}


def test_a_class_with_one_video_keeps_it_for_training(tmp_path):
    root = class_tree(tmp_path, {"few": 1, "many": 6})
    split = load_video_folder(root, test_fraction=0.5)
    assert [e.label for e in split.train].count(0) == 1 and all(e.label == 1 for e in split.test)


def test_train_and_test_folders_are_used_as_given(tmp_path):
    class_tree(tmp_path, {"jump": 3, "run": 2, "sit": 2}, prefix="train/")
    class_tree(tmp_path, {"run": 1, "sit": 2}, prefix="test/", suffix=".mkv")
    split = load_video_folder(tmp_path, test_fraction=0.9, seed=5)
    assert split.class_names == ["jump", "run", "sit"]
    assert len(split.train) == 7 and sorted(e.label for e in split.test) == [1, 2, 2]
    assert all(e.name.startswith("test/") for e in split.test) and all(e.name.startswith("train/") for e in split.train)


def test_a_train_folder_alone_is_held_out_from(tmp_path):
    class_tree(tmp_path, {"jump": 5, "run": 5}, prefix="train/")
    split = load_video_folder(tmp_path, test_fraction=0.4)
    assert len(split.train) == 6 and len(split.test) == 4


def test_a_test_class_the_train_split_lacks_is_refused(tmp_path):
    class_tree(tmp_path, {"jump": 2, "run": 2}, prefix="train/")
    class_tree(tmp_path, {"swim": 1}, prefix="test/")
    with pytest.raises(ConvsuiteError, match=r"class folder 'swim' that .*train lacks"):
        load_video_folder(tmp_path)


def test_an_empty_class_folder_is_named_with_the_extensions_accepted(tmp_path):
    class_tree(tmp_path, {"jump": 2})
    touch(tmp_path, "run/readme.txt")
    with pytest.raises(ConvsuiteError) as caught:
        load_video_folder(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "run") in message and "avi/mkv/mov/mp4/webm" in message


def test_a_folder_without_videos_or_classes_is_refused_with_how_to_lay_it_out(tmp_path):
    with pytest.raises(ConvsuiteError, match=r"has no class subfolders; .*mp4"):
        load_video_folder(tmp_path)
    touch(tmp_path, "a.mp4")
    with pytest.raises(ConvsuiteError, match=r"holds videos \(a.mp4 ...\) but no class subfolders"):
        load_video_folder(tmp_path)
    with pytest.raises(ConvsuiteError, match="does not exist"):
        load_video_folder(tmp_path / "nowhere")
    class_tree(tmp_path, {"only": 3})
    with pytest.raises(ConvsuiteError, match="only one class folder"):
        load_video_folder(tmp_path)


def test_only_the_given_extensions_count(tmp_path):
    class_tree(tmp_path, {"a": 3, "b": 3}, suffix=".avi")
    touch(tmp_path, "a/x.mp4", "a/z.MP4", "b/y.mp4", "b/w.mp4")
    split = load_video_folder(tmp_path, extensions=("mp4",), test_fraction=0.5)
    assert sorted(e.path.name for e in split.train + split.test) == ["w.mp4", "x.mp4", "y.mp4", "z.MP4"]
    with pytest.raises(ConvsuiteError, match="holds no webm videos"):
        load_video_folder(tmp_path, extensions=".webm")


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2])
def test_a_test_fraction_outside_0_1_is_refused(tmp_path, fraction):
    class_tree(tmp_path, {"a": 3, "b": 3})
    with pytest.raises(ConvsuiteError, match="test_fraction must lie between 0 and 1"):
        load_video_folder(tmp_path, test_fraction=fraction)


def test_a_hold_out_too_small_to_take_a_video_is_refused(tmp_path):
    class_tree(tmp_path, {"a": 2, "b": 2})
    with pytest.raises(ConvsuiteError, match="holds out no test video"):
        load_video_folder(tmp_path, test_fraction=0.1)


def test_user_help_explains_the_layout_and_the_training_command():
    assert len(USER_VIDEO_HELP) > 80
    assert "convsuite train video --config lrcn-motion --set data.dataset=/path/to/videos" in USER_VIDEO_HELP
    assert all(extension[1:] in USER_VIDEO_HELP for extension in VIDEO_EXTENSIONS)
    assert "train/<class>" in USER_VIDEO_HELP
