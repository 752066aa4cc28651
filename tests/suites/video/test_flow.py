"""Optical flow on frames with a known motion, the 8-bit flow convention, the LRCN and two-stream flow
inputs, and the on-disk flow cache (computed once, recomputed when the video or a setting changes,
recovered when damaged)."""

import os

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.video.flow import (
    FLOW_ZERO,
    FlowCache,
    dequantise_flow,
    flow_images,
    flow_stack,
    optical_flow,
    quantise_flow,
    tvl1_available,
)
from tests.requirements import require


def shifting_texture(frames: int, shift_x: int = 2, shift_y: int = 0, size: int = 64) -> np.ndarray:
    """A smooth random texture moving ``shift_x`` pixels right and ``shift_y`` down per frame."""
    cv2 = require("cv2", "video")
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (size + 40, size + 40)).astype(np.float32), (0, 0), 2.0)
    texture = (texture - texture.min()) / (texture.max() - texture.min()) * 255
    out = []
    for t in range(frames):
        # the content moves right: the window onto the texture moves left
        top, left = 20 - t * shift_y, 20 - t * shift_x
        grey = texture[top:top + size, left:left + size].astype(np.uint8)
        out.append(np.repeat(grey[..., None], 3, axis=-1))
    return np.stack(out)


def test_farneback_flow_of_a_texture_moving_right_is_two_pixels_in_x():
    flow = optical_flow(shifting_texture(4, shift_x=2), method="farneback")
    assert flow.shape == (3, 64, 64, 2) and flow.dtype == np.float32
    inner = flow[:, 8:-8, 8:-8]  # away from the borders, where content enters and leaves
    assert np.mean(inner[..., 0]) == pytest.approx(2.0, abs=0.2)
    assert np.mean(inner[..., 1]) == pytest.approx(0.0, abs=0.2)


def test_farneback_flow_of_a_texture_moving_up_is_negative_in_y():
    flow = optical_flow(shifting_texture(3, shift_x=0, shift_y=-3), method="farneback")
    inner = flow[:, 8:-8, 8:-8]
    assert np.mean(inner[..., 1]) == pytest.approx(-3.0, abs=0.3)
    assert np.mean(inner[..., 0]) == pytest.approx(0.0, abs=0.3)


def test_optical_flow_rejects_bad_input_and_unknown_methods():
    with pytest.raises(ConvsuiteError, match="at least 2 frames"):
        optical_flow(np.zeros((1, 8, 8, 3), np.uint8))
    with pytest.raises(ConvsuiteError, match=r"uint8 RGB frames"):
        optical_flow(np.zeros((3, 8, 8), np.uint8))
    with pytest.raises(ConvsuiteError, match="Unknown optical flow method 'lucas'"):
        optical_flow(np.zeros((2, 8, 8, 3), np.uint8), method="lucas")


def test_tvl1_without_opencv_contrib_says_what_to_install():
    if tvl1_available():
        flow = optical_flow(shifting_texture(2), method="tvl1")
        assert flow.shape == (1, 64, 64, 2)
        return
    with pytest.raises(ConvsuiteError, match="opencv-contrib-python-headless instead of opencv-python-headless"):
        optical_flow(shifting_texture(2), method="tvl1")


def test_quantised_flow_round_trips_within_one_step_and_zero_is_128():
    bound = 20.0
    flow = np.linspace(-bound, bound, 1001, dtype=np.float32).reshape(1, 1, -1, 1).repeat(2, axis=-1)
    quantised = quantise_flow(flow, bound)
    assert quantised.dtype == np.uint8
    assert quantised.min() == 0 and quantised.max() == 255
    assert quantise_flow(np.zeros((1, 1, 1, 2), np.float32), bound).ravel().tolist() == [FLOW_ZERO, FLOW_ZERO]
    step = 2 * bound / 255
    assert np.max(np.abs(dequantise_flow(quantised, bound) - flow)) <= step / 2 + 1e-5
    clipped = quantise_flow(np.array([-100.0, 100.0], np.float32), bound)
    assert clipped.tolist() == [0, 255]


def test_flow_images_hold_x_y_and_magnitude():
    quantised = np.full((3, 4, 5, 2), FLOW_ZERO, np.uint8)
    quantised[1, 0, 0] = [255, 0]  # a large motion
    quantised[2, 1, 1] = [FLOW_ZERO + 30, FLOW_ZERO + 40]  # magnitude 50 in quantised units
    images = flow_images(quantised)
    assert images.shape == (3, 4, 5, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images[..., :2], quantised)
    assert images[0, ..., 2].max() == 0  # no motion, no magnitude
    assert images[1, 0, 0, 2] == 254  # (127, -128): |.| = 180.3 of the largest possible 181.0
    assert images[2, 1, 1, 2] == round(50 * 255 / (128 * np.sqrt(2)))


def test_flow_stack_interleaves_x_and_y_of_consecutive_fields():
    quantised = np.zeros((12, 3, 4, 2), np.uint8)
    quantised[..., 0] = np.arange(12)[:, None, None]
    quantised[..., 1] = 100 + np.arange(12)[:, None, None]
    stack = flow_stack(quantised, start=2, length=10)
    assert stack.shape == (3, 4, 20) and stack.dtype == np.uint8
    assert stack[0, 0].tolist() == [value for t in range(2, 12) for value in (t, 100 + t)]
    assert flow_stack(quantised, start=0, length=1).shape == (3, 4, 2)
    with pytest.raises(ConvsuiteError, match=r"fields 3..12, but the clip has 12 flow fields \(13 frames\)"):
        flow_stack(quantised, start=3, length=10)


# --------------------------------------------------------------------------- the cache


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"pretend video bytes")  # the cache keys on the file, it does not decode it
    return path


def counting(value):
    calls = []

    def compute():
        calls.append(1)
        return value

    return compute, calls


SETTINGS = {"method": "farneback", "bound": 20.0, "frame_size": 64, "stride": 1}


def test_flow_cache_computes_once_and_returns_the_same_flow(tmp_path, video):
    flow = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 2), dtype=np.uint8)
    compute, calls = counting(flow)
    cache = FlowCache(tmp_path / "flow")
    first = cache.get(video, SETTINGS, compute)
    second = FlowCache(tmp_path / "flow").get(video, dict(SETTINGS), compute)  # a new process reads the file
    assert len(calls) == 1
    np.testing.assert_array_equal(first, flow)
    np.testing.assert_array_equal(second, flow)
    assert second.dtype == np.uint8
    assert [path.suffix for path in (tmp_path / "flow").iterdir()] == [".npz"]  # no temporary file left


def test_flow_cache_recomputes_when_a_setting_or_the_video_changes(tmp_path, video):
    compute, calls = counting(np.zeros((2, 4, 4, 2), np.uint8))
    cache = FlowCache(tmp_path / "flow")
    cache.get(video, SETTINGS, compute)
    cache.get(video, {**SETTINGS, "bound": 15.0}, compute)
    assert len(calls) == 2
    status = video.stat()
    os.utime(video, ns=(status.st_atime_ns, status.st_mtime_ns + 10**9))  # touched: a newer mtime
    cache.get(video, SETTINGS, compute)
    assert len(calls) == 3
    cache.get(video, SETTINGS, compute)
    assert len(calls) == 3


def test_flow_cache_recovers_from_a_truncated_file_with_a_warning(tmp_path, video):
    flow = np.random.default_rng(1).integers(0, 256, (6, 16, 16, 2), dtype=np.uint8)
    compute, calls = counting(flow)
    cache = FlowCache(tmp_path / "flow")
    cache.get(video, SETTINGS, compute)
    path = cache.path_for(video, SETTINGS)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.warns(UserWarning, match="flow cache file .* is damaged"):
        recovered = cache.get(video, SETTINGS, compute)
    np.testing.assert_array_equal(recovered, flow)
    assert len(calls) == 2
    np.testing.assert_array_equal(cache.get(video, SETTINGS, compute), flow)  # the rewritten file reads
    assert len(calls) == 2


def test_flow_cache_of_a_missing_video_is_a_clear_error(tmp_path):
    with pytest.raises(ConvsuiteError, match="Cannot cache the optical flow of .*gone.mp4"):
        FlowCache(tmp_path / "flow").get(tmp_path / "gone.mp4", SETTINGS, lambda: np.zeros(1))
