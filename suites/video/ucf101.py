"""UCF101 (Soomro, Zamir & Shah, "UCF101: A Dataset of 101 Human Actions Classes From Videos in The Wild",
2012) read from its official files, and through tensorflow-datasets for users who prepared it online.

The official distribution is a folder ``UCF-101/<ClassName>/v_<ClassName>_gXX_cYY.avi`` (101 classes;
groups g01-g25, each group one set of actors and background; clips c01, c02, ... of a group) and the
split archive ``ucfTrainTestlist/`` with ``classInd.txt`` ("1 ApplyEyeMakeup"), ``trainlist0k.txt``
("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1") and ``testlist0k.txt`` (the path alone). The three
official splits hold out whole groups: split k tests on groups 1-7, 8-14 or 15-21, so no actor or
background is seen on both sides (`check_group_separation`). Some copies spell a class differently in
``classInd.txt``, the folder and the file names (HandstandPushups, HandStandPushups): class names and
paths are matched case-insensitively.

The loaders read the lists and check which videos exist; they do not decode. Labels are 0-based
(``class_names[label]``). Imports no Keras or TensorFlow.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from convsuite.common.errors import ConvsuiteError

SPLIT_FOLDER = "ucfTrainTestlist"
VIDEO_FOLDER = "UCF-101"
CLASS_INDEX_FILE = "classInd.txt"
OFFICIAL_TEST_GROUPS = {1: range(1, 8), 2: range(8, 15), 3: range(15, 22)}  # split -> group numbers tested on
HOW_TO_GET_UCF101 = (
    "get the UCF101 videos and the ucfTrainTestlist split archive from the dataset's authors at the University "
    "of Central Florida, unpack both into one folder and give it as data.dataset=ucf101 with data.data_dir=FOLDER, "
    "or, while online, prepare the tensorflow-datasets set with `tfds build ucf101`")
# tensorflow-datasets configs per official split, preferred first (ucf101_1_256 holds split 1 at 256x256)
TFDS_CONFIGS = {1: ("ucf101_1_256", "ucf101_1"), 2: ("ucf101_2",), 3: ("ucf101_3",)}

_VIDEO_NAME = re.compile(r"^v_(?P<class_name>[A-Za-z0-9]+)_g(?P<group>\d+)_c(?P<clip>\d+)(\.[A-Za-z0-9]+)?$")


@dataclass
class VideoEntry:
    """One video: its file, its 0-based class, its group ("g08"; "" where the set has none) and its
    name, the path relative to the dataset folder, unique within the set (key caches and messages on it)."""

    path: Path
    label: int
    group: str
    name: str


@dataclass
class VideoSplit:
    """The train and test videos of one split. ``missing`` names the videos a split file lists that are
    not on disk (they are left out of train/test); ``source`` says where the lists came from."""

    train: list[VideoEntry]
    test: list[VideoEntry]
    class_names: list[str]
    missing: list[str] = field(default_factory=list)
    source: str = ""


def parse_video_name(name: str | Path) -> tuple[str, str, str]:
    """``v_ApplyEyeMakeup_g08_c01.avi`` (a folder in front is ignored) -> ("ApplyEyeMakeup", "g08", "c01")."""
    base = Path(str(name).replace("\\", "/")).name
    match = _VIDEO_NAME.match(base)
    if match is None:
        raise ConvsuiteError(f"{str(name)!r} is not a UCF101 video name; UCF101 names its videos "
                             "v_<ClassName>_gXX_cYY.avi (class, group, clip), e.g. v_ApplyEyeMakeup_g08_c01.avi")
    return match["class_name"], f"g{int(match['group']):02d}", f"c{int(match['clip']):02d}"


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, stripped text) of the non-blank lines of a list file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
    except OSError as error:
        raise ConvsuiteError(f"cannot read {path} ({error.strerror or error}); check the file and its permissions") \
            from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line.strip()


def read_class_index(path: str | Path) -> list[str]:
    """The class names of ``classInd.txt`` ("1 ApplyEyeMakeup" lines): index 0 holds class 1."""
    path = Path(path)
    names: list[str] = []
    for number, line in _lines(path):
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise ConvsuiteError(f"{path} line {number} reads {line!r}; each line of {CLASS_INDEX_FILE} must be a "
                                 "class number and a class name, e.g. '1 ApplyEyeMakeup'")
        if int(parts[0]) != len(names) + 1:
            raise ConvsuiteError(f"{path} line {number} numbers class {parts[1]!r} as {parts[0]}, expected "
                                 f"{len(names) + 1}; the classes must be numbered 1, 2, 3, ... in order")
        if parts[1].lower() in (name.lower() for name in names):
            raise ConvsuiteError(f"{path} line {number} names class {parts[1]!r} a second time; "
                                 "each class must appear once")
        names.append(parts[1])
    if not names:
        raise ConvsuiteError(f"{path} holds no classes; it must list '1 ApplyEyeMakeup'-style lines")
    return names


def read_split_list(path: str | Path, class_names: list[str]) -> list[tuple[str, int]]:
    """(relative path, 0-based label) of each line of a ``trainlist0k.txt`` ("Class/v_Class_g08_c01.avi 1")
    or ``testlist0k.txt`` (the path alone: the label comes from the class folder in the path)."""
    path = Path(path)
    label_of = {name.lower(): label for label, name in enumerate(class_names)}
    pairs = []
    for number, line in _lines(path):
        where = f"{path} line {number}"
        parts = line.split()
        if len(parts) not in (1, 2):
            raise ConvsuiteError(f"{where} reads {line!r}; a split line is 'Class/v_Class_gXX_cYY.avi' "
                                 "optionally followed by the class number")
        relative = parts[0].replace("\\", "/")
        folder, _, file_name = relative.rpartition("/")
        if not folder:
            raise ConvsuiteError(f"{where} names {relative!r} without its class folder; a split line is "
                                 "'Class/v_Class_gXX_cYY.avi'")
        class_name = folder.rsplit("/", 1)[-1]
        if class_name.lower() not in label_of:
            raise ConvsuiteError(f"{where} names class folder {class_name!r}, which {CLASS_INDEX_FILE} lacks; "
                                 "use the split files that came with the class index")
        label = label_of[class_name.lower()]
        try:
            name_class, _, _ = parse_video_name(file_name)
        except ConvsuiteError as error:
            raise ConvsuiteError(f"{where}: {error}") from None
        if name_class.lower() != class_name.lower():
            raise ConvsuiteError(f"{where} puts {file_name!r} in class folder {class_name!r}; the class in the "
                                 "file name must match its folder")
        if len(parts) == 2:
            if not parts[1].isdigit():
                raise ConvsuiteError(f"{where} gives label {parts[1]!r}; the label must be a class number "
                                     f"from 1 to {len(class_names)}")
            if int(parts[1]) != label + 1:
                raise ConvsuiteError(f"{where} labels {relative!r} as class {parts[1]} but its folder "
                                     f"{class_name!r} is class {label + 1} in {CLASS_INDEX_FILE}")
        pairs.append((relative, label))
    return pairs


def _holds_split_files(folder: Path) -> bool:
    return folder.is_dir() and (folder / CLASS_INDEX_FILE).is_file()


def find_split_dir(root: str | Path) -> Path:
    """The folder holding ``classInd.txt`` and the split lists: ``root/ucfTrainTestlist``, ``root`` itself,
    or one of the layouts unpacking produces (a ``ucfTrainTestlist`` one or two folders down)."""
    root = Path(root)
    candidates = [root / SPLIT_FOLDER, root, root / "UCF101TrainTestSplits-RecognitionTask" / SPLIT_FOLDER,
                  root / "UCF101" / SPLIT_FOLDER, root / VIDEO_FOLDER / SPLIT_FOLDER]
    for candidate in candidates:
        if _holds_split_files(candidate):
            return candidate
    if root.is_dir():
        for depth in ("*", "*/*"):
            for candidate in sorted(root.glob(depth)):
                if candidate.name.lower() == SPLIT_FOLDER.lower() and _holds_split_files(candidate):
                    return candidate
    raise ConvsuiteError(f"no UCF101 split files ({SPLIT_FOLDER}/{CLASS_INDEX_FILE}) in {root}; "
                         f"{HOW_TO_GET_UCF101}")


def find_video_root(root: str | Path) -> Path:
    """The folder holding the class folders: ``root/UCF-101`` (or ``root/UCF101/UCF-101``, ``root/UCF101``)
    when it exists, else ``root``."""
    root = Path(root)
    for candidate in (root / VIDEO_FOLDER, root / "UCF101" / VIDEO_FOLDER, root / "UCF101"):
        if candidate.is_dir() and not _holds_split_files(candidate):
            return candidate
    return root


class _CaseInsensitiveFiles:
    """Finds ``Class/v_Class_g01_c01.avi`` under a folder whatever the case of its parts, listing
    each folder once."""

    def __init__(self, root: Path):
        self.root = root
        self._listings: dict[Path, dict[str, str]] = {}

    def _listing(self, folder: Path) -> dict[str, str]:
        if folder not in self._listings:
            try:
                self._listings[folder] = {name.lower(): name for name in os.listdir(folder)}
            except OSError:
                self._listings[folder] = {}
        return self._listings[folder]

    def find(self, relative: str) -> Path | None:
        folder = self.root
        for part in relative.split("/"):
            actual = self._listing(folder).get(part.lower())
            if actual is None:
                return None
            folder = folder / actual
        return folder if folder.is_file() else None


def _check_split_number(split) -> int:
    try:
        number = int(split)
    except (TypeError, ValueError):
        number = None
    if number not in OFFICIAL_TEST_GROUPS or str(split).strip() != str(number):
        raise ConvsuiteError(f"UCF101 has the official splits 1, 2 and 3, got split {split!r}; give 1, 2 or 3")
    return number


def load_ucf101_split(root: str | Path, split: int = 1, check_files: bool = True) -> VideoSplit:
    """The train and test videos of official split ``split`` (1-3) of UCF101 unpacked under ``root``.

    With ``check_files`` the videos a list names but the disk lacks go to ``missing`` (the run goes on
    with the rest); without it every listed video is taken as present (paths as the lists spell them).
    """
    split = _check_split_number(split)
    root = Path(root)
    if not root.is_dir():
        raise ConvsuiteError(f"UCF101 folder {root} does not exist; {HOW_TO_GET_UCF101}")
    split_dir = find_split_dir(root)
    files = {"classes": split_dir / CLASS_INDEX_FILE, "train": split_dir / f"trainlist{split:02d}.txt",
             "test": split_dir / f"testlist{split:02d}.txt"}
    absent = [path.name for path in files.values() if not path.is_file()]
    if absent:
        raise ConvsuiteError(f"{split_dir} lacks {' and '.join(absent)} of UCF101 split {split}; {HOW_TO_GET_UCF101}")
    class_names = read_class_index(files["classes"])
    video_root = find_video_root(root)
    finder = _CaseInsensitiveFiles(video_root)
    sides: dict[str, list[VideoEntry]] = {"train": [], "test": []}
    missing: list[str] = []
    listed = {}
    for side in sides:
        pairs = read_split_list(files[side], class_names)
        listed[side] = len(pairs)
        for relative, label in pairs:
            path = finder.find(relative) if check_files else video_root / relative
            if path is None:
                missing.append(relative)
                continue
            _, group, _ = parse_video_name(relative)
            sides[side].append(VideoEntry(path, label, group, relative))
    for side, entries in sides.items():
        if listed[side] and not entries:
            raise ConvsuiteError(f"none of the {listed[side]} videos {files[side].name} names is under {video_root} "
                                 f"({missing[0] if missing else ''} is one); unpack the UCF101 videos there as "
                                 f"{VIDEO_FOLDER}/<ClassName>/v_<ClassName>_gXX_cYY.avi or {HOW_TO_GET_UCF101}")
        if not listed[side]:
            raise ConvsuiteError(f"{files[side]} lists no videos; use the split files that came with UCF101")
    return VideoSplit(sides["train"], sides["test"], class_names, missing,
                      source=f"{video_root} with {files['train'].name}/{files['test'].name} from {split_dir}")


def check_group_separation(split: VideoSplit) -> None:
    """Raise when a group number (gXX: the same actors and background, shared across classes) has videos
    on both the train and the test side: the official splits hold out whole groups."""
    train_groups = {entry.group: entry for entry in split.train if entry.group}
    leaking = sorted({entry.group for entry in split.test if entry.group in train_groups})
    if leaking:
        test_example = next(entry for entry in split.test if entry.group == leaking[0])
        groups = f"groups {', '.join(leaking)} appear" if len(leaking) > 1 else f"group {leaking[0]} appears"
        raise ConvsuiteError(f"{groups} on both the train and the test side of {split.source or 'the split'} (e.g. "
                             f"{train_groups[leaking[0]].name} and {test_example.name}); use the official split "
                             "files, which hold out whole groups")


# --------------------------------------------------------------------------- tensorflow-datasets


@dataclass
class TfdsVideoSet:
    """UCF101 prepared by tensorflow-datasets: ``videos("train")`` / ``videos("test")`` yield
    (frames uint8 (T, H, W, 3), 0-based label) one video at a time."""

    class_names: list[str]
    config: str
    data_dir: str
    builder: Any = field(repr=False)

    def count(self, side: str) -> int:
        return int(self.builder.info.splits[side].num_examples)

    def videos(self, side: str = "train") -> Iterator[tuple[Any, int]]:
        import numpy as np
        import tensorflow_datasets as tfds

        if side not in ("train", "test"):
            raise ConvsuiteError(f"UCF101 has the sides 'train' and 'test', got {side!r}")
        for example in tfds.as_numpy(self.builder.as_dataset(split=side, shuffle_files=False)):
            yield np.asarray(example["video"], dtype=np.uint8), int(example["label"])


def _tfds_dir(data_dir: str | None) -> str:
    if data_dir:
        return str(data_dir)
    return os.environ.get("TFDS_DATA_DIR", os.path.expanduser("~/tensorflow_datasets"))


def _may_be_prepared(data_dir: str, config: str) -> bool:
    """False when no version of ``config`` has written its dataset_info.json, so tensorflow-datasets
    (and TensorFlow) need not be imported to say it is not prepared; remote folders are left to tfds."""
    if "://" in data_dir:
        return True
    return any(Path(data_dir, "ucf101", config).glob("*/dataset_info.json"))


def ucf101_tfds(split: int = 1, data_dir: str | None = None) -> TfdsVideoSet:
    """UCF101 split ``split`` through the tensorflow-datasets ``ucf101`` builder (``ucf101_1_256`` or
    ``ucf101_1`` for split 1, ``ucf101_2``, ``ucf101_3``) when it is prepared in ``data_dir`` ($TFDS_DATA_DIR
    or ~/tensorflow_datasets by default). Never downloads."""
    split = _check_split_number(split)
    tfds_dir = _tfds_dir(data_dir)
    configs = TFDS_CONFIGS[split]
    for config in configs:
        if not _may_be_prepared(tfds_dir, config):
            continue
        try:
            import tensorflow_datasets as tfds
        except ImportError:
            raise ConvsuiteError("UCF101 from tensorflow-datasets needs the tensorflow-datasets package, which is not "
                                 f"installed; run scripts/setup.sh, or {HOW_TO_GET_UCF101}") from None
        builder = tfds.builder(f"ucf101/{config}", data_dir=tfds_dir)
        if builder.is_prepared():
            names = list(builder.info.features["label"].names)
            return TfdsVideoSet(names, config, tfds_dir, builder)
    raise ConvsuiteError(f"the tensorflow-datasets set ucf101 ({' or '.join(configs)}) is not prepared in {tfds_dir}; "
                         f"run `tfds build ucf101 --config {configs[0]} --data_dir {tfds_dir}` once while online, "
                         "or use the official files offline: " + HOW_TO_GET_UCF101.split(", or,")[0])
