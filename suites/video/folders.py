"""A user's own labelled videos: one folder per class, with or without train/test folders.

``root/<class>/*.mp4`` (the classes are the subfolder names, sorted), held out per class with a seed, or
``root/train/<class>/...`` and ``root/test/<class>/...`` as the user split them. Returns the same
`VideoSplit` as the UCF101 loader; the videos are found here and decoded later. Imports no Keras or
TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.video.ucf101 import VideoEntry, VideoSplit

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm")
SPLIT_FOLDERS = ("train", "test")
USER_VIDEO_HELP = (
    "Your own videos: set data.dataset to a folder with one subfolder per class holding video files, "
    "e.g. videos/wave/clip1.mp4 and videos/clap/clip7.avi (mp4, avi, mov, mkv or webm; the class names are "
    "the folder names), or split them yourself into videos/train/<class>/ and videos/test/<class>/; without "
    "a test folder a stratified data.test_fraction (default 0.2) of every class is held out, fixed by "
    "trainer.seed. Frames are resized to data.frame_size and clips of data.clip_frames frames every "
    "data.frame_stride frames are taken; videos that cannot be read or are shorter than a clip are skipped "
    "with a count. Train with `convsuite train video --config lrcn-motion --set data.dataset=/path/to/videos`, "
    "then `convsuite evaluate video --checkpoint runs/lrcn-motion`.")


def _normalized_extensions(extensions) -> tuple[str, ...]:
    if isinstance(extensions, str):
        extensions = (extensions,)
    normalized = tuple(sorted({("." + str(e).lower().lstrip(".")) for e in extensions if str(e).strip(".")}))
    if not normalized:
        raise ConvsuiteError(f"no video extensions given ({extensions!r}); give some, e.g. {VIDEO_EXTENSIONS}")
    return normalized


def _visible_subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _class_videos(folder: Path, extensions: tuple[str, ...], at_least_two: bool = True
                  ) -> tuple[list[str], list[tuple[Path, str]]]:
    """The class names (sorted subfolder names) and (file, class name) pairs of a folder of classes."""
    accepted = "/".join(e[1:] for e in extensions)
    classes = _visible_subfolders(folder)
    if not classes:
        loose = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in extensions)
        if loose:
            raise ConvsuiteError(f"{folder} holds videos ({loose[0]} ...) but no class subfolders; put each class's "
                                 f"videos in a subfolder named after the class")
        raise ConvsuiteError(f"{folder} has no class subfolders; make one subfolder per class holding its "
                             f"{accepted} videos")
    if at_least_two and len(classes) < 2:
        raise ConvsuiteError(f"{folder} has only one class folder ({classes[0].name}); a classifier needs at least two")
    pairs = []
    for class_folder in classes:
        files = sorted(p for p in class_folder.iterdir()
                       if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in extensions)
        if not files:
            raise ConvsuiteError(f"class folder {class_folder} holds no {accepted} videos; add some or remove the "
                                 "folder")
        pairs += [(file, class_folder.name) for file in files]
    return [c.name for c in classes], pairs


def _entries(pairs, class_names: list[str], root: Path) -> list[VideoEntry]:
    label_of = {name: label for label, name in enumerate(class_names)}
    return [VideoEntry(path, label_of[class_name], "", path.relative_to(root).as_posix()) for path, class_name in pairs]


def _hold_out(entries: list[VideoEntry], num_classes: int, test_fraction: float, seed: int, source: Path
              ) -> tuple[list[VideoEntry], list[VideoEntry]]:
    """Hold out ``test_fraction`` of every class (at least one video of each stays for training): the
    same videos for the same seed and files."""
    if not 0 < test_fraction < 1:
        raise ConvsuiteError(f"{source} has no test folder, so data.test_fraction must lie between 0 and 1, "
                             f"got {test_fraction}")
    rng = np.random.default_rng([seed, 7919])
    labels = np.array([entry.label for entry in entries])
    is_test = np.zeros(len(entries), dtype=bool)
    for label in range(num_classes):
        members = np.flatnonzero(labels == label)
        take = min(int(round(len(members) * test_fraction)), len(members) - 1)
        is_test[rng.permutation(members)[:take]] = True
    if not is_test.any():
        raise ConvsuiteError(f"data.test_fraction={test_fraction} of the {len(entries)} videos in {source} holds out "
                             "no test video; raise it, add videos, or make a test folder")
    train = [entry for entry, test in zip(entries, is_test) if not test]
    test = [entry for entry, test in zip(entries, is_test) if test]
    return train, test


def load_video_folder(root: str | Path, test_fraction: float = 0.2, seed: int = 0,
                      extensions=VIDEO_EXTENSIONS) -> VideoSplit:
    """The videos under ``root/<class>/`` (split per class by ``test_fraction`` and ``seed``) or under
    ``root/train/<class>/`` and ``root/test/<class>/``; labels index the sorted class names."""
    root = Path(root)
    if not root.is_dir():
        raise ConvsuiteError(f"video folder {root} does not exist or is not a folder; {USER_VIDEO_HELP}")
    extensions = _normalized_extensions(extensions)
    names = {sub.name for sub in _visible_subfolders(root)}
    if "train" in names and names <= set(SPLIT_FOLDERS):
        class_names, train_pairs = _class_videos(root / "train", extensions)
        train = _entries(train_pairs, class_names, root)
        if "test" not in names:
            train, test = _hold_out(train, len(class_names), test_fraction, seed, root / "train")
        else:
            test_classes, test_pairs = _class_videos(root / "test", extensions, at_least_two=False)
            unknown = sorted(set(test_classes) - set(class_names))
            if unknown:
                raise ConvsuiteError(f"{root / 'test'} has class folder {unknown[0]!r} that {root / 'train'} lacks; "
                                     "the test split may only hold classes the training split has")
            test = _entries(test_pairs, class_names, root)
    else:
        class_names, pairs = _class_videos(root, extensions)
        train, test = _hold_out(_entries(pairs, class_names, root), len(class_names), test_fraction, seed, root)
    return VideoSplit(train, test, class_names, [], source=str(root))
