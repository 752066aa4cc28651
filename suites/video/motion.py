"""The generated motion set: action classes defined by motion alone, written as real video files.

No labelled action video installs offline, so the suite's default data is drawn here: a textured
object (a patch of one of scikit-image's photographs) over a background photograph moves left,
right, up or down, turns clockwise or anticlockwise, or approaches (grows) or recedes (shrinks).
The label is *which* of its four degrees of freedom (x, y, angle, log-scale) changes over the clip
and in which direction; the others are nuisances.

Why a single frame carries no label: every degree of freedom of every video walks the same grid of
values g_0 < ... < g_{T-1} (symmetric about 0). The label's one walks it in order (or reversed),
each nuisance one sits still at a uniformly drawn g_u ("static") or visits the grid in a random
order ("shuffled"). A frame drawn at a uniform time therefore shows, for every class, each degree of
freedom at an independent uniform grid value on top of the same per-video random offsets: the
distribution of a single frame is exactly the same for all classes.

What unordered frames show: with static nuisances the *set* of a clip's frames reveals which degree
of freedom varies (the kind of motion) but never the direction, since a clip and its time reversal
have the same frames: an order-free model is at chance (1/2) between a class and its reversal. With
shuffled nuisances every degree of freedom varies and the frame sets of all classes have the same
distribution, so order-free models are at chance (1/classes) outright; the task is much harder to
learn (the moving object jumps).

Videos are Motion-JPEG .avi files: every frame is coded on its own, so the codec cannot carry
motion information into single decoded frames either.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convsuite.common.checkpoint import atomic_write_text
from convsuite.common.errors import ConvsuiteError

# Each motion: (degree of freedom, direction). Degrees of freedom: 0 x, 1 y (image rows, down),
# 2 angle (OpenCV: positive = anticlockwise on screen), 3 log-scale.
MOTIONS = {
    "left": (0, -1), "right": (0, +1), "up": (1, -1), "down": (1, +1),
    "clockwise": (2, -1), "anticlockwise": (2, +1), "approach": (3, +1), "recede": (3, -1),
}
REVERSAL = {"left": "right", "right": "left", "up": "down", "down": "up", "clockwise": "anticlockwise",
            "anticlockwise": "clockwise", "approach": "recede", "recede": "approach"}
BACKGROUNDS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field", "retina",
               "colorwheel", "camera", "moon")
TEXTURES = ("brick", "grass", "gravel", "coins", "text", "page", "clock", "cell", "astronaut", "coffee", "chelsea",
            "rocket", "immunohistochemistry")
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class MotionSpec:
    """Everything that decides the generated videos (their cache key)."""

    classes: tuple[str, ...]
    frames: int = 16
    size: int = 48
    nuisance: str = "static"
    # Total range of each degree of freedom over a clip: translation as a share of the side, the
    # angle in degrees, the scale as a factor (its log walks the grid).
    translation: float = 0.5
    rotation: float = 120.0
    zoom: float = 2.25

    def check(self) -> None:
        unknown = [name for name in self.classes if name not in MOTIONS]
        if unknown:
            raise ConvsuiteError(f"unknown motion classes {unknown}; choose from {', '.join(MOTIONS)}")
        if len(set(self.classes)) != len(self.classes) or len(self.classes) < 2:
            raise ConvsuiteError(f"the motion classes must be at least two different names, got {list(self.classes)}")
        if self.size % 2 or self.size < 16:
            raise ConvsuiteError(f"the motion videos' side must be even and at least 16 pixels, got {self.size}")
        if self.frames < 2:
            raise ConvsuiteError(f"the motion videos need at least 2 frames, got {self.frames}")
        if self.nuisance not in ("static", "shuffled"):
            raise ConvsuiteError(f"motion nuisance must be static or shuffled, got {self.nuisance!r}")

    def key(self) -> str:
        text = json.dumps({**self.__dict__, "classes": list(self.classes), "version": GENERATOR_VERSION},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3]).astype(np.uint8)


_PHOTOS: dict[str, np.ndarray] = {}


def photograph(name: str) -> np.ndarray:
    """One of scikit-image's bundled photographs as RGB uint8 (they install with the wheel)."""
    if name not in _PHOTOS:
        try:
            import skimage.data
        except ImportError as error:
            raise ConvsuiteError("the motion set draws on scikit-image's photographs; install the video extra: "
                                 "pip install 'convsuite[video]' (scripts/setup.sh does)") from error
        _PHOTOS[name] = _rgb(getattr(skimage.data, name)())
    return _PHOTOS[name]


def grid(frames: int) -> np.ndarray:
    """The values every degree of freedom walks: symmetric about 0, from -1 to 1."""
    return np.linspace(-1.0, 1.0, frames)


def degree_of_freedom_paths(motion: str, spec: MotionSpec, rng: np.random.Generator) -> np.ndarray:
    """(4, frames) paths of x, y, angle and log-scale on the unit grid (see the module docstring)."""
    values = grid(spec.frames)
    if spec.nuisance == "static":
        paths = np.stack([np.full(spec.frames, values[rng.integers(spec.frames)]) for _ in range(4)])
    else:
        paths = np.stack([values[rng.permutation(spec.frames)] for _ in range(4)])
    dof, direction = MOTIONS[motion]
    paths[dof] = direction * values
    return paths


def render_video(motion: str, spec: MotionSpec, rng: np.random.Generator) -> np.ndarray:
    """One clip (frames, size, size, 3) uint8 of ``motion``."""
    import cv2

    size = spec.size
    background = photograph(BACKGROUNDS[rng.integers(len(BACKGROUNDS))])
    height, width = background.shape[:2]
    side = int(rng.integers(min(height, width) // 3, min(height, width) // 2 + 1))
    top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
    backdrop = cv2.resize(background[top:top + side, left:left + side], (size, size), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        backdrop = backdrop[:, ::-1]

    texture = photograph(TEXTURES[rng.integers(len(TEXTURES))])
    object_h, object_w = max(4, size // 4), max(6, (size * 3) // 8)  # a 2:3 rectangle, so turning shows
    zoom_out = 3
    t_height, t_width = texture.shape[:2]
    ty = int(rng.integers(0, t_height - object_h * zoom_out + 1))
    tx = int(rng.integers(0, t_width - object_w * zoom_out + 1))
    patch = cv2.resize(texture[ty:ty + object_h * zoom_out, tx:tx + object_w * zoom_out], (object_w, object_h),
                       interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:  # light or dark objects over any background
        patch = 255 - patch
    patch = np.clip(patch.astype(np.float32) * rng.uniform(0.7, 1.3, size=3), 0, 255)

    half = np.array([spec.translation * size / 2, spec.translation * size / 2, spec.rotation / 2,
                     np.log(spec.zoom) / 2])
    paths = degree_of_freedom_paths(motion, spec, rng) * half[:, None]
    centre = size / 2 + rng.uniform(-size / 16, size / 16, size=2)
    base_angle = rng.uniform(0.0, 360.0)
    base_scale = rng.uniform(0.9, 1.1)
    ones = np.ones((object_h, object_w), np.float32)
    clip = np.empty((spec.frames, size, size, 3), np.uint8)
    for t in range(spec.frames):
        matrix = cv2.getRotationMatrix2D((object_w / 2, object_h / 2), base_angle + paths[2, t],
                                         float(base_scale * np.exp(paths[3, t])))
        matrix[:, 2] += (centre[0] + paths[0, t] - object_w / 2, centre[1] + paths[1, t] - object_h / 2)
        warped = cv2.warpAffine(patch, matrix, (size, size), flags=cv2.INTER_LINEAR)
        alpha = cv2.warpAffine(ones, matrix, (size, size), flags=cv2.INTER_LINEAR)[..., None]
        clip[t] = np.clip(backdrop * (1.0 - alpha) + warped * alpha, 0, 255).round().astype(np.uint8)
    return clip


@dataclass
class MotionVideos:
    """Paths and labels of a generated split."""

    paths: list[Path]
    labels: np.ndarray
    class_names: list[str]


def balanced_labels(count: int, classes: int, rng: np.random.Generator) -> np.ndarray:
    labels = np.arange(count) % classes
    rng.shuffle(labels)
    return labels


def generate_split(folder: Path, spec: MotionSpec, count: int, seed: int, progress: bool = False) -> MotionVideos:
    """Write ``count`` videos (classes balanced) to ``folder`` once; later calls read the index.

    The index file is written last, so an interrupted generation is finished, not trusted."""
    from convsuite.suites.video.video_io import write_video

    spec.check()
    folder = Path(folder)
    index = folder / "index.json"
    if index.exists():
        try:
            entries = json.loads(index.read_text())
            paths = [folder / name for name in entries["files"]]
            if entries["count"] == count and all(path.exists() for path in paths):
                return MotionVideos(paths, np.asarray(entries["labels"], np.int64), list(spec.classes))
        except (ValueError, KeyError, TypeError):
            pass  # a damaged index: write the split again
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 104729])
    labels = balanced_labels(count, len(spec.classes), rng)
    names = []
    from convsuite.common.progress import counter_bar

    bar = counter_bar(total=count, desc=f"writing {folder.name} videos", enabled=progress, unit="video")
    for number, label in enumerate(labels):
        video_rng = np.random.default_rng([seed, number])
        motion = spec.classes[label]
        name = f"{motion}/{number:05d}.avi"
        path = folder / name
        if not path.exists():  # a generation interrupted part-way keeps the videos it wrote
            path.parent.mkdir(parents=True, exist_ok=True)
            write_video(path, render_video(motion, spec, video_rng), fps=25.0)
        names.append(name)
        bar.update(1)
    bar.close()
    atomic_write_text(index, json.dumps({"count": count, "files": names, "labels": labels.tolist(),
                                         "classes": list(spec.classes), "spec": spec.key()}))
    return MotionVideos([folder / name for name in names], labels, list(spec.classes))


def motion_spec(data_config) -> MotionSpec:
    return MotionSpec(classes=tuple(data_config.motion_classes), frames=data_config.motion_frames,
                      size=data_config.motion_size, nuisance=data_config.motion_nuisance)


def generate_motion_set(data_config, seed: int = 0, root: Path | None = None,
                        progress: bool = False) -> tuple[MotionVideos, MotionVideos]:
    """(train, test) videos of the experiment's motion set, generated once into the data cache.

    Training and test videos come from different seeds; the set does not depend on trainer.seed,
    so experiments with different seeds see the same videos."""
    from convsuite.common.data import data_root

    spec = motion_spec(data_config)
    spec.check()
    base = Path(root) if root is not None else data_root(data_config.data_dir) / "video" / f"motion-{spec.key()}"
    train = generate_split(base / "train", spec, data_config.motion_train_videos, seed=1000 + seed,
                           progress=progress)
    test = generate_split(base / "test", spec, data_config.motion_test_videos, seed=2000 + seed, progress=progress)
    return train, test


def direction_accuracy(probabilities: np.ndarray, labels: np.ndarray, class_names: list[str]) -> float | None:
    """How often the true class scores above its time reversal: 0.5 for any order-free model.

    Only clips whose reversal is also a class count; None when no class has its reversal."""
    index = {name: i for i, name in enumerate(class_names)}
    rows, partners = [], []
    for row, label in enumerate(labels):
        partner = index.get(REVERSAL.get(class_names[label], ""))
        if partner is not None:
            rows.append(row)
            partners.append(partner)
    if not rows:
        return None
    rows = np.asarray(rows)
    own = probabilities[rows, np.asarray(labels)[rows]]
    other = probabilities[rows, np.asarray(partners)]
    return float(np.mean(np.where(own == other, 0.5, own > other)))
