"""Dense optical flow for the temporal stream, computed once per video and cached on disk.

Simonyan & Zisserman (2014) feed their temporal stream a stack of L = 10 consecutive optical-flow
fields; Donahue et al. (2015) feed LRCN "flow images" whose x and y channels are the flow centred on
128 and scaled into 0..255, with the flow magnitude as a third channel. Both start from the same
quantised flow: each component clipped to [-bound, bound] pixels and mapped linearly onto 0..255, the
way flow is commonly stored as 8-bit images. This module computes the flow (OpenCV's Farneback 2003
polynomial-expansion method, or TV-L1 of Zach, Pock & Bischof 2007 where opencv-contrib is installed),
quantises it, builds both inputs, and keeps the quantised flow of each video in a `FlowCache`.

Imports no Keras; OpenCV is imported inside the functions that use it.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from convsuite.common.checkpoint import atomic_write_bytes
from convsuite.common.errors import ConvsuiteError

FLOW_METHODS = ("farneback", "tvl1")
# cv2.calcOpticalFlowFarneback's arguments: the values of OpenCV's own Farneback example. A 3-level
# pyramid halving each level follows motions of several pixels; a 15-pixel averaging window and
# polynomial neighbourhoods of 5 pixels (Gaussian sigma 1.2) suit frames of 100-300 pixels.
FARNEBACK_PARAMETERS = {
    "pyr_scale": 0.5,
    "levels": 3,
    "winsize": 15,
    "iterations": 3,
    "poly_n": 5,
    "poly_sigma": 1.2,
    "flags": 0,
}
FLOW_BOUND = 20.0  # pixels per frame: larger motions are clipped before quantising
FLOW_ZERO = 128  # the quantised value of zero flow


def tvl1_available() -> bool:
    """Whether OpenCV has TV-L1 optical flow (``cv2.optflow``, from opencv-contrib)."""
    import cv2

    return hasattr(cv2, "optflow") and hasattr(cv2.optflow, "DualTVL1OpticalFlow_create")


def optical_flow(frames: np.ndarray, method: str = "farneback") -> np.ndarray:
    """Dense flow between consecutive frames: float32 (T-1, H, W, 2), (x, y) displacement in pixels.

    ``frames`` are RGB uint8 (T, H, W, 3), converted to grey. Flow ``[t]`` maps frame t onto frame
    t + 1: a pattern moving right gives positive x. ``method`` is "farneback" (`FARNEBACK_PARAMETERS`)
    or "tvl1" (OpenCV's default TV-L1 parameters; needs opencv-contrib).
    """
    import cv2

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ConvsuiteError(f"optical_flow needs uint8 RGB frames (T, H, W, 3), got {frames.dtype} {frames.shape}")
    if len(frames) < 2:
        raise ConvsuiteError(f"optical_flow needs at least 2 frames, got {len(frames)}")
    if method == "farneback":
        def flow_between(previous, following):
            return cv2.calcOpticalFlowFarneback(previous, following, None, **FARNEBACK_PARAMETERS)
    elif method == "tvl1":
        if not tvl1_available():
            raise ConvsuiteError("TV-L1 optical flow needs OpenCV's contrib modules (cv2.optflow), which are not "
                                 "installed; install opencv-contrib-python-headless instead of "
                                 "opencv-python-headless, or use flow method 'farneback'")
        tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()

        def flow_between(previous, following):
            return tvl1.calc(previous, following, None)
    else:
        raise ConvsuiteError(f"Unknown optical flow method {method!r}; choose one of {', '.join(FLOW_METHODS)}")
    flow = np.empty((len(frames) - 1,) + frames.shape[1:3] + (2,), dtype=np.float32)
    previous = cv2.cvtColor(frames[0], cv2.COLOR_RGB2GRAY)
    for t in range(1, len(frames)):
        following = cv2.cvtColor(frames[t], cv2.COLOR_RGB2GRAY)
        flow[t - 1] = flow_between(previous, following)
        previous = following
    return flow


def quantise_flow(flow: np.ndarray, bound: float = FLOW_BOUND) -> np.ndarray:
    """Flow in pixels to uint8: clip to [-bound, bound], map linearly onto 0..255, round half up.

    So -bound -> 0, +bound -> 255 and zero flow -> 127.5 rounded up to `FLOW_ZERO` (128); one step is
    2 * bound / 255 pixels.
    """
    if not bound > 0:
        raise ConvsuiteError(f"The flow bound must be a positive number of pixels, got {bound}")
    scaled = (np.clip(flow, -bound, bound) + bound) * (255.0 / (2.0 * bound))
    return np.floor(scaled + 0.5).astype(np.uint8)


def dequantise_flow(flow_q: np.ndarray, bound: float = FLOW_BOUND) -> np.ndarray:
    """The inverse of `quantise_flow` (to within one quantisation step): uint8 back to float32 pixels."""
    return (flow_q.astype(np.float32) * np.float32(2.0 * bound / 255.0) - np.float32(bound)).astype(np.float32)


def flow_images(flow_q: np.ndarray) -> np.ndarray:
    """LRCN's flow input (Donahue et al. 2015): uint8 (T, H, W, 3) images of x, y and magnitude.

    The x and y channels are the quantised flow itself (centred on 128); the magnitude of the centred
    components, sqrt((x - 128)^2 + (y - 128)^2), is scaled so the largest possible value (128 * sqrt(2))
    is 255, and zero flow is 0.
    """
    flow_q = np.asarray(flow_q)
    if flow_q.ndim != 4 or flow_q.shape[-1] != 2 or flow_q.dtype != np.uint8:
        raise ConvsuiteError(f"flow_images needs quantised flow uint8 (T, H, W, 2), got {flow_q.dtype} {flow_q.shape}")
    centred = flow_q.astype(np.float32) - FLOW_ZERO
    magnitude = np.sqrt(np.sum(centred * centred, axis=-1, keepdims=True)) * (255.0 / (FLOW_ZERO * np.sqrt(2.0)))
    magnitude = np.clip(np.floor(magnitude + 0.5), 0, 255).astype(np.uint8)
    return np.concatenate([flow_q, magnitude], axis=-1)


def flow_stack(flow_q: np.ndarray, start: int, length: int = 10) -> np.ndarray:
    """The two-stream temporal input (Simonyan & Zisserman 2014): uint8 (H, W, 2 * length).

    ``length`` consecutive flow fields from ``start`` (L = 10 in the paper), stacked as the paper's
    channel order: x of field 0, y of field 0, x of field 1, y of field 1, ...
    """
    flow_q = np.asarray(flow_q)
    if flow_q.ndim != 4 or flow_q.shape[-1] != 2:
        raise ConvsuiteError(f"flow_stack needs quantised flow (T, H, W, 2), got {flow_q.shape}")
    if length < 1 or start < 0 or start + length > len(flow_q):
        raise ConvsuiteError(f"A flow stack of {length} fields from field {start} needs fields {start}.."
                             f"{start + length - 1}, but the clip has {len(flow_q)} flow fields "
                             f"({len(flow_q) + 1} frames); lower the flow stack length or take more frames")
    fields = flow_q[start:start + length]  # (L, H, W, 2)
    height, width = fields.shape[1:3]
    return np.ascontiguousarray(fields.transpose(1, 2, 0, 3).reshape(height, width, 2 * length))


class FlowCache:
    """Quantised flow of each video, computed once and kept in ``root`` as compressed .npz files.

    A file's key hashes the video's resolved path, size and modification time (ns) with the flow
    settings (method, bound, frame size, stride, ...), so editing the video or changing a setting
    computes the flow again under a new key. Files are written atomically; a damaged one is computed
    again and rewritten, with a warning.
    """

    def __init__(self, root):
        self.root = Path(root)

    def path_for(self, video_path, settings: dict) -> Path:
        """Where the flow of ``video_path`` with ``settings`` is (or will be) cached."""
        video = Path(video_path).resolve()
        try:
            status = video.stat()
        except OSError as error:
            raise ConvsuiteError(f"Cannot cache the optical flow of {video}: {error.strerror or error}") from error
        key = {"video": str(video), "size": status.st_size, "mtime_ns": status.st_mtime_ns, "settings": settings}
        digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", video.stem)[:60]
        return self.root / f"{stem}-{digest}.npz"

    def get(self, video_path, settings: dict, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The cached flow of ``video_path`` under ``settings``, calling ``compute()`` only when it is not cached."""
        path = self.path_for(video_path, settings)
        if path.is_file():
            try:
                with np.load(path, allow_pickle=False) as stored:
                    return stored["flow"]
            except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
                warnings.warn(f"The flow cache file {path} is damaged ({type(error).__name__}: {error}); "
                              f"computing the flow again", stacklevel=2)
        flow = np.asarray(compute())
        buffer = io.BytesIO()
        np.savez_compressed(buffer, flow=flow)
        atomic_write_bytes(path, buffer.getvalue())
        return flow

    def clear(self) -> int:
        """Remove every cached flow file; return how many were removed."""
        removed = 0
        if self.root.is_dir():
            for path in self.root.glob("*.npz"):
                path.unlink(missing_ok=True)
                removed += 1
        return removed
