"""Reading and writing real video files, one frame at a time.

Decoding streams: `iter_frames` yields one RGB frame at a time and `read_clips` makes a single pass
over a file keeping only the frames its clips need, so memory is bounded by the clips, never by the
video's length. Three decoders can read a file:

- ``"pyav"`` (the default): PyAV, whose wheel ships FFmpeg with its codecs;
- ``"opencv"``: ``cv2.VideoCapture`` from opencv-python-headless (also FFmpeg inside);
- ``"decord"``: where the decord package installs.

``"auto"`` picks PyAV when it imports, else OpenCV. Clips are sampled as in the papers: ``clip_frames``
frames taken every ``stride`` frames, several clips spread evenly over a test video (the multi-clip
test protocol of Simonyan & Zisserman 2014 and Tran et al. 2015) or one random clip per training video.

`write_video` writes real mp4 (H.264, or MPEG-4 part 2 where libx264 is missing) and avi (Motion JPEG)
files through PyAV; the generated data sets and the tests write their videos with it.

Imports no Keras; PyAV, OpenCV and decord are imported inside the functions that use them.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from convsuite.common.checkpoint import temporary_name
from convsuite.common.errors import ConvsuiteError

BACKENDS = ("auto", "pyav", "opencv", "decord")
CLIP_MODES = ("uniform", "random", "centre")
SHORT_VIDEO_POLICIES = ("error", "loop")
H264_CRF = 18  # libx264 constant rate factor: visually near-lossless, small files
MPEG_QUANTISER = 3  # fixed quantiser for mpeg4 and mjpeg (1 = best, 31 = worst): near-transparent quality


class VideoReadError(ConvsuiteError):
    """A video file that cannot be decoded: missing, empty, corrupt, or shorter than it claims."""


class ClipTooShortError(ConvsuiteError):
    """A video with fewer frames than one clip spans."""


@dataclass
class VideoInfo:
    """What `probe_video` found: the exact number of decodable frames, frame rate and frame size."""

    path: str
    frames: int
    fps: float
    width: int
    height: int


# --------------------------------------------------------------------------- decoding


def resolve_backend(backend: str = "auto") -> str:
    """The decoder ``backend`` names: "auto" is PyAV when it imports, else OpenCV."""
    if backend not in BACKENDS:
        raise ConvsuiteError(f"Unknown video backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "pyav" if importlib.util.find_spec("av") is not None else "opencv"
    if backend == "decord" and importlib.util.find_spec("decord") is None:
        raise ConvsuiteError("The video backend 'decord' is not installed; install decord where it has a wheel "
                             "for this platform, or use backend 'pyav' or 'opencv'")
    return backend


def _read_error(path, reason: str) -> VideoReadError:
    error = VideoReadError(f"Cannot read the video {path}: {reason}")
    error.reason = reason  # what a caller that skips the video reports
    return error


def _check_file(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise _read_error(path, "the file does not exist")
    if not path.is_file():
        raise _read_error(path, "it is not a file")
    if path.stat().st_size == 0:
        raise _read_error(path, "the file is empty (0 bytes)")
    return path


def _pyav_frames(path: Path) -> Iterator[np.ndarray]:
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as error:
        raise _read_error(path, f"FFmpeg cannot open it ({error})") from error
    with container:
        if not container.streams.video:
            raise _read_error(path, "it has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        decoded = 0
        try:
            for frame in container.decode(stream):
                decoded += 1
                yield frame.to_ndarray(format="rgb24")
        except av.error.FFmpegError as error:
            raise _read_error(path, f"decoding failed after {decoded} decoded frames ({error})") from error


def _opencv_frames(path: Path) -> Iterator[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise _read_error(path, "OpenCV cannot open it (not a video, or a codec it lacks)")
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()


def _decord_frames(path: Path) -> Iterator[np.ndarray]:
    import decord

    try:
        reader = decord.VideoReader(str(path), ctx=decord.cpu(0))
    except Exception as error:  # decord raises its own DECORDError for files it cannot open
        raise _read_error(path, f"decord cannot open it ({error})") from error
    for _ in range(len(reader)):  # next() decodes sequentially; the reader keeps no decoded frames
        yield reader.next().asnumpy()


_FRAME_SOURCES = {"pyav": _pyav_frames, "opencv": _opencv_frames, "decord": _decord_frames}


def iter_frames(path, backend: str = "auto") -> Iterator[np.ndarray]:
    """Yield the frames of the video at ``path`` one at a time as RGB uint8 (H, W, 3) arrays.

    Streaming: nothing is kept between frames, so memory does not grow with the video's length.
    Raises `VideoReadError` for a missing, empty or undecodable file.
    """
    backend = resolve_backend(backend)
    path = _check_file(path)
    return _FRAME_SOURCES[backend](path)


def count_frames(path, backend: str = "auto") -> int:
    """The number of frames that actually decode, counted by decoding the file (streaming)."""
    return sum(1 for _ in iter_frames(path, backend))


def _stated_properties(path: Path, backend: str) -> tuple[int, float, int, int]:
    """(frames the container states or 0 when it states none reliably, fps, width, height)."""
    if backend == "pyav":
        import av

        try:
            with av.open(str(path)) as container:
                if not container.streams.video:
                    raise _read_error(path, "it has no video stream")
                stream = container.streams.video[0]
                rate = stream.average_rate or stream.guessed_rate or stream.base_rate
                return int(stream.frames or 0), float(rate or 0.0), stream.width, stream.height
        except (av.error.FFmpegError, OSError, UnicodeDecodeError) as error:
            raise _read_error(path, f"FFmpeg cannot open it ({error})") from error
    if backend == "opencv":
        import cv2

        capture = cv2.VideoCapture(str(path))
        try:
            if not capture.isOpened():
                raise _read_error(path, "OpenCV cannot open it (not a video, or a codec it lacks)")
            # CAP_PROP_FRAME_COUNT may be an estimate from duration x fps: OpenCV's count is never trusted
            return (0, float(capture.get(cv2.CAP_PROP_FPS)), int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                    int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        finally:
            capture.release()
    import decord

    reader = decord.VideoReader(str(path), ctx=decord.cpu(0))
    height, width = reader[0].shape[:2] if len(reader) else (0, 0)
    return len(reader), float(reader.get_avg_fps()), width, height


def probe_video(path, backend: str = "auto") -> VideoInfo:
    """Frame count, frame rate and size of the video at ``path``.

    The count is exact: PyAV's comes from the container's index (mp4 sample table, avi index) when it
    has one; otherwise (and always with OpenCV, whose count may be an estimate) the frames are counted
    by decoding the file, streaming. A file with no decodable frame raises `VideoReadError`.
    """
    backend = resolve_backend(backend)
    path = _check_file(path)
    frames, fps, width, height = _stated_properties(path, backend)
    if frames <= 0 or width <= 0 or height <= 0:
        frames = 0
        for frame in iter_frames(path, backend):
            frames += 1
            height, width = frame.shape[:2]
    if frames == 0:
        raise _read_error(path, "it holds no decodable video frame")
    return VideoInfo(path=str(path), frames=frames, fps=fps, width=int(width), height=int(height))


# --------------------------------------------------------------------------- clip sampling


def clip_span(clip_frames: int, stride: int) -> int:
    """How many frames of the video one clip covers: its first to its last frame."""
    return (clip_frames - 1) * stride + 1


def _check_clip_shape(clip_frames: int, stride: int) -> None:
    if clip_frames < 1 or stride < 1:
        raise ConvsuiteError(f"A clip needs clip_frames >= 1 and frame_stride >= 1, got clip_frames={clip_frames} "
                             f"and frame_stride={stride}; fix data.clip_frames / data.frame_stride")


def _too_short(num_frames: int, clip_frames: int, stride: int, video=None) -> ClipTooShortError:
    name = f"The video {video}" if video is not None else "The video"
    return ClipTooShortError(
        f"{name} has {num_frames} frames but a clip of {clip_frames} frames taken every {stride} frames needs "
        f"{clip_span(clip_frames, stride)}; lower data.clip_frames or data.frame_stride, or set "
        f"data.short_videos=\"loop\" to repeat short videos")


def clip_starts(num_frames: int, clip_frames: int, stride: int, clips: int, mode: str = "uniform", rng=None,
                short: str = "error", video=None) -> list[int]:
    """First frames of the clips to take from a video of ``num_frames`` frames.

    A clip is ``clip_frames`` frames taken every ``stride`` frames, spanning
    ``(clip_frames - 1) * stride + 1`` frames. ``mode``:

    - ``"uniform"``: ``clips`` starts spread evenly from the first possible start to the last one
      (deterministic: the test protocol of several clips per video); a single clip sits in the middle;
    - ``"random"``: ``clips`` starts drawn uniformly from ``rng`` (a ``np.random.Generator``): training;
    - ``"centre"``: one clip in the middle of the video (``clips`` is ignored).

    A video shorter than one clip raises `ClipTooShortError` when ``short="error"``; with
    ``short="loop"`` the video repeats (`clip_indices` takes frame numbers modulo ``num_frames``) and the
    starts are spread over its ``num_frames`` frames instead. ``video`` names the file in the error.
    """
    _check_clip_shape(clip_frames, stride)
    if mode not in CLIP_MODES:
        raise ConvsuiteError(f"Unknown clip sampling mode {mode!r}; choose one of {', '.join(CLIP_MODES)}")
    if short not in SHORT_VIDEO_POLICIES:
        raise ConvsuiteError(f"Unknown short-video policy {short!r}; choose one of {', '.join(SHORT_VIDEO_POLICIES)}")
    if clips < 1:
        raise ConvsuiteError(f"clip_starts needs clips >= 1, got {clips}")
    if num_frames < 1:
        raise _too_short(num_frames, clip_frames, stride, video)
    span = clip_span(clip_frames, stride)
    if num_frames >= span:
        last_start = num_frames - span  # the latest start whose clip still ends inside the video
        choices = last_start + 1
    elif short == "loop":
        last_start = num_frames - 1
        choices = num_frames
    else:
        raise _too_short(num_frames, clip_frames, stride, video)
    if mode == "centre" or (mode == "uniform" and clips == 1):
        return [last_start // 2]
    if mode == "uniform":
        return [int(start) for start in np.round(np.linspace(0, last_start, clips)).astype(int)]
    if rng is None:
        raise ValueError("clip_starts(mode='random') needs rng, a np.random.Generator, so runs are reproducible")
    return [int(start) for start in rng.integers(0, choices, size=clips)]


def clip_indices(start: int, clip_frames: int, stride: int, num_frames: int | None = None,
                 short: str = "error") -> list[int]:
    """Frame numbers of the clip starting at ``start``; with ``short="loop"`` they wrap around ``num_frames``."""
    _check_clip_shape(clip_frames, stride)
    indices = [start + k * stride for k in range(clip_frames)]
    if short == "loop":
        if not num_frames:
            raise ConvsuiteError("Looping short videos needs the video's frame count; pass num_frames")
        return [index % num_frames for index in indices]
    if num_frames is not None and indices[-1] >= num_frames:
        if clip_span(clip_frames, stride) > num_frames:
            raise _too_short(num_frames, clip_frames, stride)
        raise ConvsuiteError(f"A clip starting at frame {start} ends at frame {indices[-1]}, past the video's "
                             f"{num_frames} frames; take the starts from clip_starts")
    return indices


# --------------------------------------------------------------------------- frame geometry


def fit_frame(frame: np.ndarray, size: int | None = None, crop: int | None = None) -> np.ndarray:
    """Resize ``frame`` so its shorter side is ``size`` (area averaging when shrinking), then cut the
    central ``crop`` x ``crop`` square. ``None`` skips a step; the frame's aspect ratio is kept."""
    import cv2

    height, width = frame.shape[:2]
    if size is not None and min(height, width) != size:
        if size < 1:
            raise ConvsuiteError(f"data.frame_size must be a positive number of pixels, got {size}")
        scale = size / min(height, width)
        new_width = size if width <= height else max(size, int(round(width * scale)))
        new_height = size if height <= width else max(size, int(round(height * scale)))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        frame = cv2.resize(frame, (new_width, new_height), interpolation=interpolation)
        height, width = new_height, new_width
    if crop is not None:
        if crop > height or crop > width:
            raise ConvsuiteError(f"Cannot crop {crop}x{crop} from a {width}x{height} frame; set data.frame_size "
                                 f"to at least {crop} or lower data.crop_size")
        top, left = (height - crop) // 2, (width - crop) // 2
        frame = frame[top:top + crop, left:left + crop]
    return np.ascontiguousarray(frame)


def read_clips(path, starts: list[int], clip_frames: int, stride: int, size: int | None = None,
               crop: int | None = None, backend: str = "auto", num_frames: int | None = None,
               short: str = "error") -> np.ndarray:
    """The clips starting at ``starts`` as uint8 (len(starts), clip_frames, H, W, 3), in one pass.

    The file is decoded once, up to the last frame a clip needs; each needed frame goes through
    `fit_frame` (shorter side ``size``, central ``crop`` square) straight into the result, the others are
    dropped, so memory is bounded by the clips, not by the video. With ``short="loop"`` frame numbers wrap
    around the video's length (``num_frames``, probed when not given). Frames of different sizes in one
    video are all brought to the first needed frame's shape; with neither ``size`` nor ``crop`` that is
    impossible and raises an error. A file that ends before a needed frame raises `VideoReadError`.
    """
    if short not in SHORT_VIDEO_POLICIES:
        raise ConvsuiteError(f"Unknown short-video policy {short!r}; choose one of {', '.join(SHORT_VIDEO_POLICIES)}")
    if len(starts) == 0:
        raise ConvsuiteError(f"read_clips got no clip starts for {path}")
    if short == "loop" and num_frames is None:
        num_frames = probe_video(path, backend).frames
    slots: dict[int, list[tuple[int, int]]] = {}  # frame number -> the (clip, position) places it fills
    for clip, start in enumerate(starts):
        if start < 0:
            raise ConvsuiteError(f"Clip starts must be >= 0, got {start} for {path}")
        for position, index in enumerate(clip_indices(start, clip_frames, stride, num_frames, short)):
            slots.setdefault(index, []).append((clip, position))
    last_needed = max(slots)
    clips = None
    decoded = 0
    frames = iter_frames(path, backend)
    try:
        for index, frame in enumerate(frames):
            decoded = index + 1
            places = slots.get(index)
            if places is not None:
                fitted = fit_frame(frame, size, crop)
                if clips is None:
                    clips = np.empty((len(starts), clip_frames) + fitted.shape, dtype=np.uint8)
                elif fitted.shape != clips.shape[2:]:
                    fitted = _match_shape(fitted, clips.shape[2:], path, size, crop)
                for clip, position in places:
                    clips[clip, position] = fitted
            if index >= last_needed:
                break
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()  # stop decoding now: the rest of the file is not needed
    if decoded <= last_needed:
        raise _read_error(path, f"the file ended after {decoded} decoded frames but the clips need frame "
                                f"{last_needed + 1} (its stated length is wrong, or it is truncated)")
    return clips


def _match_shape(frame: np.ndarray, shape: tuple, path, size, crop) -> np.ndarray:
    import cv2

    if size is None and crop is None:
        raise ConvsuiteError(f"The video {path} has frames of different sizes ({frame.shape[1]}x{frame.shape[0]} "
                             f"and {shape[1]}x{shape[0]}); set data.frame_size so every frame is resized to one size")
    interpolation = cv2.INTER_AREA if frame.shape[0] * frame.shape[1] > shape[0] * shape[1] else cv2.INTER_LINEAR
    return cv2.resize(frame, (shape[1], shape[0]), interpolation=interpolation)


# --------------------------------------------------------------------------- writing


_CONTAINER_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi"}


def _default_codec(suffix: str) -> str:
    import av

    if suffix == ".avi":
        return "mjpeg"
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def write_video(path, frames: Iterable[np.ndarray], fps: float = 25.0, codec: str | None = None) -> Path:
    """Write RGB uint8 (H, W, 3) ``frames`` (any iterable, e.g. a generator) to a real video file.

    ``.mp4``: H.264 (libx264, CRF 18) where PyAV's FFmpeg has it, else MPEG-4 part 2; ``.avi``: Motion
    JPEG. Chroma is subsampled 4:2:0, which needs an even width and height. The file is written under a
    temporary name in the same folder and renamed into place, so it exists whole or not at all.
    Returns the path.
    """
    import av

    path = Path(path)
    container_format = _CONTAINER_FORMATS.get(path.suffix.lower())
    if container_format is None:
        raise ConvsuiteError(f"Cannot write the video {path}: use one of the extensions "
                             f"{', '.join(_CONTAINER_FORMATS)}")
    codec = codec or _default_codec(path.suffix.lower())
    if codec not in av.codecs_available:
        raise ConvsuiteError(f"Cannot write the video {path}: PyAV's FFmpeg has no codec {codec!r}")
    if not fps > 0:
        raise ConvsuiteError(f"Cannot write the video {path} at {fps} frames per second; fps must be positive")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path, suffix=path.suffix)
    written = 0
    try:
        with av.open(str(tmp), mode="w", format=container_format) as container:
            stream = None
            for frame in frames:
                frame = np.asarray(frame)
                if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
                    raise ConvsuiteError(f"Cannot write the video {path}: frames must be uint8 (H, W, 3) RGB, "
                                         f"frame {written} is {frame.dtype} {frame.shape}")
                if stream is None:
                    stream = _add_stream(container, codec, fps, frame.shape, path)
                elif (frame.shape[0], frame.shape[1]) != (stream.height, stream.width):
                    raise ConvsuiteError(f"Cannot write the video {path}: frame {written} is "
                                         f"{frame.shape[1]}x{frame.shape[0]} but the first was "
                                         f"{stream.width}x{stream.height}; a video has one frame size")
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
                written += 1
            if stream is None:
                raise ConvsuiteError(f"Cannot write the video {path}: no frames were given")
            for packet in stream.encode(None):  # flush the frames the encoder still holds
                container.mux(packet)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _add_stream(container, codec: str, fps: float, shape: tuple, path: Path):
    height, width = shape[:2]
    if height % 2 or width % 2:
        raise ConvsuiteError(f"Cannot write the video {path}: its frames are {width}x{height} but 4:2:0 video "
                             f"needs an even width and height; crop or pad the frames by one pixel")
    if codec == "libx264":
        options = {"crf": str(H264_CRF)}
    elif codec in ("mpeg4", "mjpeg"):
        options = {"qmin": str(MPEG_QUANTISER), "qmax": str(MPEG_QUANTISER)}
    else:
        options = {}
    stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001), options=options)
    stream.width, stream.height = width, height
    stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
    return stream
