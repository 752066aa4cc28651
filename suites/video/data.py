"""Data preparation for the video suite: videos -> clips -> the arrays each architecture reads.

A data set is a list of video files with labels (the generated motion set, UCF101's official split
files, a user's folder). Clips of ``data.clip_frames`` frames every ``data.frame_stride`` frames are
taken from each video: ``data.train_clips`` random ones from a training video (fixed by the seed),
``data.test_clips`` evenly spaced ones from a test video, whose averaged scores give the
video-level accuracy. Each architecture reads its own *representation* of a clip:

  frames   (T, S, S, 3) uint8 RGB                      LRCN, single frame, C3D
  flow     (T-1, S, S, 3) uint8 flow images (x, y, |f|)  LRCN / single frame on flow
  stack    (S, S, 2L) uint8 L stacked flow fields        the two-stream temporal stream

Optical flow is computed once per clip and cached on disk (``flow.FlowCache``). Clips are decoded
into memory once when they fit in ``data.memory_limit_mb``; larger sets are decoded batch by batch
by a ``ClipDecoder`` inside the trainer's input pipeline, so memory does not grow with the set.

Unreadable videos and videos shorter than a clip are skipped with a count and the reasons
(``data.short_videos``); a data set left without videos is an error. Imports no Keras.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convsuite.common.arrays import BatchDecoder, SupervisedData
from convsuite.common.data import data_root, register_dataset
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.video.folders import USER_VIDEO_HELP

REPRESENTATIONS = ("frames", "flow", "stack")


@dataclass
class VideoList:
    """Video files and their labels, one side of a split."""

    paths: list[Path]
    labels: np.ndarray
    groups: list[str] = field(default_factory=list)  # UCF101's gXX, so validation can hold out whole groups


@dataclass
class VideoSet:
    """A data set's train/test videos and class names, with what was left out and why."""

    name: str
    train: VideoList
    test: VideoList
    class_names: list[str]
    skipped: Counter = field(default_factory=Counter)  # reason -> videos
    notes: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


@dataclass
class ClipTable:
    """The clips of one side: which video, which start frame, which label."""

    paths: list[Path]
    video: np.ndarray  # (clips,) index into paths
    start: np.ndarray  # (clips,) first frame
    labels: np.ndarray  # (clips,)
    frames: np.ndarray  # (videos,) frame counts

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, rows: np.ndarray) -> "ClipTable":
        return ClipTable(self.paths, self.video[rows], self.start[rows], self.labels[rows], self.frames)


@dataclass
class PreparedVideo:
    """What train/evaluate need besides the arrays: the clip tables and the class names."""

    dataset: VideoSet
    train: ClipTable
    val: ClipTable
    test: ClipTable
    representation: str
    per_frame_labels: int  # >0: y repeats each clip's label this many times (per-frame training)
    skipped: Counter = field(default_factory=Counter)  # reason -> videos left out of these clips


# --------------------------------------------------------------------------- data sets

USER_DATA_HELP = USER_VIDEO_HELP

UCF101_HELP = ("UCF101 is not here: get the UCF101 videos (UCF-101/) and the ucfTrainTestlist archive from the "
               "data set's authors at the University of Central Florida, unpack both into data/video/UCF101 or into a "
               "folder given as data.data_dir (or prepare the tensorflow-datasets ucf101 builder while online and use "
               "data.dataset=ucf101-tfds)")

register_dataset("motion", "generated clips of textured objects over photographs moving left/right/up/down, "
                 "turning or approaching/receding: the label is the motion alone (written as real .avi files)",
                 offline=True, how_to_get="generated on first use (needs scikit-image, installed by set-up)",
                 suite="video")
register_dataset("ucf101", "UCF101 (Soomro et al. 2012): 13,320 videos of 101 actions, the official splits",
                 offline=False, how_to_get="the videos and ucfTrainTestlist in one folder: data.data_dir=FOLDER",
                 suite="video")
register_dataset("ucf101-tfds", "UCF101 through tensorflow-datasets (prepared while online; never downloaded "
                 "here)", offline=False, how_to_get="tfds build ucf101 (online), then data.data_dir=TFDS_DIR",
                 suite="video")
register_dataset("FOLDER", "your own videos: a folder of class subfolders (see USER_DATA_HELP)", offline=True,
                 how_to_get="data.dataset=/path/to/videos", suite="video")


def user_folder(dataset: str) -> Path | None:
    text = str(dataset)
    if text in ("motion", "ucf101", "ucf101-tfds"):
        return None
    path = Path(text).expanduser()
    if path.is_dir():
        return path.resolve()
    raise ConvsuiteError(f"data.dataset={text!r} is neither a known video set (motion, ucf101, ucf101-tfds) nor a "
                         f"folder of videos; {USER_DATA_HELP}")


def load_video_set(experiment, progress: bool = False) -> VideoSet:
    """The experiment's videos. A user folder is stored back as an absolute path (config.toml)."""
    cfg = experiment.data
    if cfg.dataset == "motion":
        from convsuite.suites.video.motion import generate_motion_set

        train, test = generate_motion_set(cfg, progress=progress)
        return VideoSet("motion", VideoList(train.paths, train.labels), VideoList(test.paths, test.labels),
                        train.class_names)
    if cfg.dataset == "ucf101":
        from convsuite.suites.video.ucf101 import check_group_separation, load_ucf101_split

        root = Path(cfg.data_dir).expanduser() if cfg.data_dir else data_root() / "video" / "UCF101"
        if not root.exists():
            raise ConvsuiteError(UCF101_HELP)
        split = load_ucf101_split(root, cfg.split)
        check_group_separation(split)
        return _from_split("ucf101", split)
    if cfg.dataset == "ucf101-tfds":
        from convsuite.suites.video.ucf101 import ucf101_tfds

        prepared = ucf101_tfds(cfg.split, cfg.data_dir or None)
        folder = data_root(cfg.data_dir) / "video" / f"tfds-{prepared.config}"
        train = export_videos(prepared.videos("train"), folder / "train", prepared.count("train"), progress)
        test = export_videos(prepared.videos("test"), folder / "test", prepared.count("test"), progress)
        return VideoSet("ucf101-tfds", train, test, list(prepared.class_names))
    folder = user_folder(cfg.dataset)
    from convsuite.suites.video.folders import load_video_folder

    cfg.dataset = str(folder)
    return _from_split(folder.name, load_video_folder(folder, cfg.test_fraction, experiment.trainer.seed))


def export_videos(videos, folder: Path, count: int, progress: bool = False) -> VideoList:
    """Write decoded videos ((frames, label) pairs, e.g. from tensorflow-datasets) once as Motion-JPEG
    files, so they are read like any other video; the index is written last (an interrupted export
    is finished, not trusted)."""
    import json

    from convsuite.common.checkpoint import atomic_write_text
    from convsuite.common.progress import counter_bar
    from convsuite.suites.video.video_io import write_video

    index = Path(folder) / "index.json"
    if index.exists():
        try:
            entries = json.loads(index.read_text())
            if entries["count"] == count:
                return VideoList([Path(folder) / name for name in entries["files"]],
                                 np.asarray(entries["labels"], np.int64))
        except (ValueError, KeyError, TypeError):
            pass
    names, labels = [], []
    bar = counter_bar(total=count, desc=f"writing {Path(folder).name} videos", enabled=progress, unit="video")
    for number, (frames, label) in enumerate(videos):
        name = f"{int(label):03d}/{number:05d}.avi"
        path = Path(folder) / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            frames = np.asarray(frames, np.uint8)
            even = frames[:, : frames.shape[1] // 2 * 2, : frames.shape[2] // 2 * 2]  # codecs need even sides
            write_video(path, even)
        names.append(name)
        labels.append(int(label))
        bar.update(1)
    bar.close()
    atomic_write_text(index, json.dumps({"count": len(names), "files": names, "labels": labels}))
    return VideoList([Path(folder) / name for name in names], np.asarray(labels, np.int64))


def _from_split(name: str, split) -> VideoSet:
    def side(entries):
        return VideoList([Path(e.path) for e in entries], np.asarray([e.label for e in entries], np.int64),
                         [getattr(e, "group", "") for e in entries])

    skipped = Counter()
    if getattr(split, "missing", None):
        skipped["missing on disk"] = len(split.missing)
    return VideoSet(name, side(split.train), side(split.test), list(split.class_names), skipped)


# --------------------------------------------------------------------------- clips


def representation_of(experiment, stream: str | None = None) -> str:
    model = experiment.model
    if model.name == "twostream":
        return "stack" if stream == "flow" else "frames"
    if model.name in ("lrcn", "single_frame"):
        return "flow" if (stream or model.stream) == "flow" else "frames"
    return "frames"


def clip_span(clip_frames: int, stride: int) -> int:
    return (clip_frames - 1) * stride + 1


def sample_clips(videos: VideoList, cfg, clips_per_video: int, mode: str, seed: int, skipped: Counter,
                 what: str, known_frames: int | None = None) -> ClipTable:
    """Probe each video once and choose its clips; unreadable and short videos are counted out."""
    from convsuite.suites.video.video_io import ClipTooShortError, VideoReadError, clip_starts, probe_video

    rng = np.random.default_rng([seed, 31337])
    video, start, labels = [], [], []
    frames = np.zeros(len(videos.paths), np.int64)  # 0: a video with no clip
    for index, (path, label) in enumerate(zip(videos.paths, videos.labels)):
        try:
            count = known_frames if known_frames is not None else probe_video(path, backend=cfg.decoder).frames
            starts = clip_starts(count, cfg.clip_frames, cfg.frame_stride, clips_per_video, mode=mode, rng=rng,
                                 short="error" if cfg.short_videos == "skip" else cfg.short_videos)
        except ClipTooShortError:
            if cfg.short_videos == "error":
                raise
            skipped[f"shorter than a clip of {clip_span(cfg.clip_frames, cfg.frame_stride)} frames"] += 1
            continue
        except VideoReadError as error:
            skipped[_reason(error)] += 1
            continue
        frames[index] = count
        for value in starts:
            video.append(index)
            start.append(value)
            labels.append(label)
    table = ClipTable(list(videos.paths), np.asarray(video, np.int64), np.asarray(start, np.int64),
                      np.asarray(labels, np.int64), frames)
    if not len(table):
        reasons = "; ".join(f"{n} {reason}" for reason, n in skipped.items()) or "no videos"
        raise ConvsuiteError(f"no usable {what} videos are left ({reasons}); check the data set or lower "
                             f"data.clip_frames / data.frame_stride")
    return table


def _reason(error: Exception) -> str:
    """A short reason to count skipped videos by: "unreadable: the file is empty", ..."""
    import re

    reason = getattr(error, "reason", "") or "unreadable"
    reason = re.sub(r"\d+", "N", reason.split(" (")[0])  # one count per kind of failure
    return f"unreadable: {reason}"


class ClipReader:
    """Reads the clips of a table as one representation, with optical flow from a disk cache."""

    def __init__(self, table: ClipTable, cfg, representation: str, flow_stack: int = 10,
                 shuffle_seed: int | None = None):
        if representation not in REPRESENTATIONS:
            raise ConvsuiteError(f"unknown clip representation {representation!r}; one of {REPRESENTATIONS}")
        self.table = table
        self.representation = representation
        self.clip_frames, self.stride, self.size = cfg.clip_frames, cfg.frame_stride, cfg.frame_size
        self.decoder, self.short = cfg.decoder, "loop" if cfg.short_videos == "loop" else "error"
        self.flow_method, self.flow_bound = cfg.flow, cfg.flow_bound
        self.flow_stack = flow_stack
        self.cache_root = data_root(cfg.data_dir) / "video" / "flow-cache"
        self.shuffle_seed = shuffle_seed

    @property
    def shape(self) -> tuple:
        s, t = self.size, self.clip_frames
        return {"frames": (t, s, s, 3), "flow": (t - 1, s, s, 3), "stack": (s, s, 2 * self.flow_stack)}[
            self.representation]

    def frames_of(self, video: int, starts: list[int]) -> np.ndarray:
        from convsuite.suites.video.video_io import read_clips

        path = self.table.paths[video]
        key = _DECODED.key(path, starts, self.clip_frames, self.stride, self.size, self.decoder, self.short)
        clips = _DECODED.get(key)
        if clips is None:
            clips = read_clips(path, starts, self.clip_frames, self.stride, size=self.size, crop=self.size,
                               backend=self.decoder, num_frames=int(self.table.frames[video]) or None,
                               short=self.short)
            _DECODED.put(key, clips)
        return clips

    def flow_of(self, video: int, start: int, frames: np.ndarray | None = None) -> np.ndarray:
        """Quantised flow (T-1, S, S, 2) of one clip, computed once and cached on disk."""
        from convsuite.suites.video.flow import FlowCache, optical_flow, quantise_flow

        settings = {"start": int(start), "frames": self.clip_frames, "stride": self.stride, "size": self.size,
                    "method": self.flow_method, "bound": self.flow_bound}

        def compute():
            clip = frames if frames is not None else self.frames_of(video, [start])[0]
            return quantise_flow(optical_flow(clip, method=self.flow_method), self.flow_bound)

        return FlowCache(self.cache_root).get(self.table.paths[video], settings, compute)

    def represent(self, video: int, start: int, frames: np.ndarray | None) -> np.ndarray:
        from convsuite.suites.video.flow import flow_images, flow_stack

        if self.representation == "frames":
            return frames
        flow = self.flow_of(video, start, frames)
        if self.representation == "flow":
            return flow_images(flow)
        first = max(0, (len(flow) - self.flow_stack) // 2)  # the stack in the middle of the clip
        return flow_stack(flow, first, self.flow_stack)

    def read(self, rows: np.ndarray) -> np.ndarray:
        """The representation of the table's ``rows``, reading each video once."""
        out = np.empty((len(rows), *self.shape), np.uint8)
        by_video: dict[int, list[int]] = {}
        for position, row in enumerate(rows):
            by_video.setdefault(int(self.table.video[row]), []).append(position)
        for video, positions in by_video.items():
            starts = [int(self.table.start[rows[p]]) for p in positions]
            clips = self.frames_of(video, starts)
            for position, start, clip in zip(positions, starts, clips):
                out[position] = self.represent(video, start, clip)
        if self.shuffle_seed is not None and self.representation != "stack":
            for position, row in enumerate(rows):  # a fixed order per clip: the same clip, the same shuffle
                order = np.random.default_rng([self.shuffle_seed, int(row)]).permutation(out.shape[1])
                out[position] = out[position][order]
        return out


class DecodedClips:
    """Recently decoded clips, kept up to a size, so models trained one after another on the same
    videos (a notebook's comparison, a fused model's two networks) decode them once.

    A video is known by its path, size and modification time: a changed file is decoded again."""

    def __init__(self, limit_bytes: int = 512 * 2**20):
        from collections import OrderedDict

        self.limit_bytes = limit_bytes
        self.entries: OrderedDict = OrderedDict()
        self.bytes = 0

    @staticmethod
    def key(path: Path, starts, *settings) -> tuple | None:
        try:
            stat = Path(path).stat()
        except OSError:
            return None
        return (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns, tuple(int(s) for s in starts), *settings)

    def get(self, key):
        if key is None or key not in self.entries:
            return None
        self.entries.move_to_end(key)
        return self.entries[key]

    def put(self, key, clips: np.ndarray) -> None:
        if key is None or clips.nbytes > self.limit_bytes:
            return
        clips.setflags(write=False)  # shared by every reader that asks again
        self.entries[key] = clips
        self.bytes += clips.nbytes
        while self.bytes > self.limit_bytes:
            _, dropped = self.entries.popitem(last=False)
            self.bytes -= dropped.nbytes


_DECODED = DecodedClips()


class ClipDecoder(BatchDecoder):
    """Per-batch decoding for sets too large for memory: stored x is each clip's row number."""

    def __init__(self, reader: ClipReader):
        self.reader = reader
        self.shape = reader.shape
        self.dtype = "uint8"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.reader.read(np.asarray(batch).reshape(-1).astype(np.int64))


def validation_rows(videos: VideoList, table: ClipTable, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows) of a clip table, holding out whole videos (whole groups when
    the set has them, so one actor is never on both sides)."""
    if fraction <= 0:
        return np.arange(len(table)), np.arange(0)
    rng = np.random.default_rng([seed, 7919])
    units = [videos.groups[v] if videos.groups and videos.groups[v] else str(v) for v in table.video]
    names = sorted(set(units))
    held = set(rng.permutation(names)[:max(1, int(round(len(names) * fraction)))].tolist())
    val = np.asarray([i for i, unit in enumerate(units) if unit in held], np.int64)
    train = np.asarray([i for i, unit in enumerate(units) if unit not in held], np.int64)
    if not len(train):
        raise ConvsuiteError(f"data.validation_fraction={fraction} leaves no training videos; lower it")
    return train, val


def _subset(table: ClipTable, count: int, seed: int) -> ClipTable:
    """The clips of ``count`` videos (0 = all), stratified by label."""
    if not count:
        return table
    videos = np.unique(table.video)
    if count >= len(videos):
        return table
    labels = np.asarray([table.labels[np.argmax(table.video == v)] for v in videos])
    rng = np.random.default_rng([seed, 4099])
    chosen = []
    for label in np.unique(labels):
        members = rng.permutation(videos[labels == label])
        chosen.extend(members[:max(1, int(round(count * len(members) / len(videos))))].tolist())
    keep = np.isin(table.video, np.asarray(chosen[:count]))
    return table.take(np.flatnonzero(keep))


def prepare(experiment, stream: str | None = None, progress: bool = False,
            dataset: VideoSet | None = None) -> tuple[SupervisedData, PreparedVideo]:
    """The experiment's clips as arrays (or a per-batch decoder) for ``stream`` of its model."""
    cfg = experiment.data
    seed = experiment.trainer.seed
    dataset = dataset or load_video_set(experiment, progress=progress)
    known = cfg.motion_frames if cfg.dataset == "motion" else None
    skipped = Counter(dataset.skipped)  # the set's own (missing files), then what sampling leaves out
    train_all = sample_clips(dataset.train, cfg, cfg.train_clips, "random", seed, skipped, "training", known)
    test = sample_clips(dataset.test, cfg, cfg.test_clips, "uniform", seed, skipped, "test", known)
    train_all = _subset(train_all, cfg.train_subset, seed)
    test = _subset(test, cfg.test_subset, seed)
    train_rows, val_rows = validation_rows(dataset.train, train_all, cfg.validation_fraction, seed)
    train, val = train_all.take(train_rows), train_all.take(val_rows)
    if skipped:
        print("Skipped videos: " + "; ".join(f"{n} {reason}" for reason, n in sorted(skipped.items())))

    representation = representation_of(experiment, stream)
    shuffle = seed if cfg.shuffle_frames else None
    frame_model = experiment.model.name in ("lrcn", "single_frame") or (
        experiment.model.name == "twostream" and stream != "flow")
    # One table holds every split, so one reader (and one per-batch decoder) serves them all.
    tables = (train, val, test)
    joined = join_tables(tables)
    reader = ClipReader(joined, cfg, representation, experiment.model.flow_stack, shuffle)
    per_frame = reader.shape[0] if frame_model else 0
    in_memory = len(joined) * int(np.prod(reader.shape)) <= cfg.memory_limit_mb * 2**20
    arrays, offset = [], 0
    for table in tables:
        rows = np.arange(offset, offset + len(table))
        offset += len(table)
        x = _read_all(reader, rows, progress, what=f"decoding {len(rows)} clips") if in_memory else rows
        y = table.labels if not per_frame else np.repeat(table.labels[:, None], per_frame, axis=1)
        arrays.extend([x, y])
    data = SupervisedData(*arrays, decode=None if in_memory else ClipDecoder(reader))
    return data, PreparedVideo(dataset, train, val, test, representation, per_frame, skipped)


def join_tables(tables) -> ClipTable:
    """One table of several (each with its own video list), rows in order."""
    paths, video, start, labels, frames = [], [], [], [], []
    for table in tables:
        video.append(table.video + len(paths))
        paths.extend(table.paths)
        start.append(table.start)
        labels.append(table.labels)
        frames.append(table.frames)
    return ClipTable(paths, np.concatenate(video), np.concatenate(start), np.concatenate(labels),
                     np.concatenate(frames))


def _read_all(reader: ClipReader, rows: np.ndarray, progress: bool, what: str, chunk: int = 64) -> np.ndarray:
    from convsuite.common.progress import counter_bar

    out = np.empty((len(rows), *reader.shape), np.uint8)
    bar = counter_bar(total=len(rows), desc=what, enabled=progress, unit="clip")
    for begin in range(0, len(rows), chunk):
        part = rows[begin:begin + chunk]
        out[begin:begin + len(part)] = reader.read(part)
        bar.update(len(part))
    bar.close()
    return out
