"""Video files written with PyAV and read back: frame counts, sizes and pixels through both decoders,
clip sampling, the one-pass clip reader's bounded memory, frame fitting, and broken files."""

import weakref

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.video import video_io
from convsuite.suites.video.video_io import (
    ClipTooShortError,
    VideoReadError,
    clip_indices,
    clip_starts,
    fit_frame,
    iter_frames,
    probe_video,
    read_clips,
    write_video,
)
from tests.requirements import require


def moving_square(frames: int, height: int = 32, width: int = 48, seed: int = 0):
    """A smooth colour gradient with a bright square moving right one pixel a frame: easy on lossy codecs,
    and every frame differs, so frame order is visible."""
    y, x = np.mgrid[0:height, 0:width]
    background = np.stack([x * 200 // width, y * 200 // height, np.full_like(x, 60 + 10 * seed)], axis=-1)
    for t in range(frames):
        frame = background.copy()
        left = t % (width - 8)
        frame[height // 2 - 4:height // 2 + 4, left:left + 8] = 255
        yield frame.astype(np.uint8)


def mean_abs_diff(a, b) -> float:
    return float(np.mean(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16))))


@pytest.fixture(scope="module")
def av():
    return require("av", "video")


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_written_video_probes_and_decodes_to_what_was_written(av, tmp_path, suffix):
    path = write_video(tmp_path / f"clip{suffix}", moving_square(20), fps=12.5)
    info = probe_video(path)
    assert (info.frames, info.width, info.height) == (20, 48, 32)
    assert info.fps == pytest.approx(12.5)
    decoded = list(iter_frames(path, backend="pyav"))
    written = list(moving_square(20))
    assert len(decoded) == 20
    assert all(frame.shape == (32, 48, 3) and frame.dtype == np.uint8 for frame in decoded)
    assert max(mean_abs_diff(a, b) for a, b in zip(decoded, written)) < 4.0
    # frames come back in order: each decoded frame is nearest to the frame written at its position
    for t in (0, 7, 19):
        assert np.argmin([mean_abs_diff(decoded[t], frame) for frame in written]) == t


def test_pyav_and_opencv_agree_on_frame_count_and_pixels(av, tmp_path):
    require("cv2", "video")
    path = write_video(tmp_path / "clip.mp4", moving_square(15))
    by_pyav, by_opencv = probe_video(path, "pyav"), probe_video(path, "opencv")
    assert (by_pyav.frames, by_pyav.width, by_pyav.height) == (by_opencv.frames, by_opencv.width, by_opencv.height)
    assert by_opencv.frames == 15
    pyav_frames = list(iter_frames(path, "pyav"))
    opencv_frames = list(iter_frames(path, "opencv"))
    assert len(pyav_frames) == len(opencv_frames) == 15
    assert max(mean_abs_diff(a, b) for a, b in zip(pyav_frames, opencv_frames)) < 3.0


def test_auto_backend_is_pyav_and_decord_reports_when_missing(av, monkeypatch):
    assert video_io.resolve_backend("auto") == "pyav"
    real_find_spec = video_io.importlib.util.find_spec
    monkeypatch.setattr(video_io.importlib.util, "find_spec",
                        lambda name: None if name in ("decord", "av") else real_find_spec(name))
    assert video_io.resolve_backend("auto") == "opencv"
    with pytest.raises(ConvsuiteError, match="decord.*not installed"):
        video_io.resolve_backend("decord")
    with pytest.raises(ConvsuiteError, match="Unknown video backend"):
        video_io.resolve_backend("gstreamer")


def test_write_video_takes_a_generator_and_replaces_the_file_atomically(av, tmp_path):
    path = tmp_path / "clip.mp4"
    write_video(path, moving_square(6))
    write_video(path, moving_square(10))
    assert probe_video(path).frames == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]  # no temporary file left behind


def test_write_video_rejects_odd_sizes_mixed_sizes_and_no_frames_leaving_no_file(av, tmp_path):
    path = tmp_path / "clip.mp4"
    with pytest.raises(ConvsuiteError, match="33x31.*even width and height"):
        write_video(path, [np.zeros((31, 33, 3), np.uint8)])
    with pytest.raises(ConvsuiteError, match="frame 1 is 32x16"):
        write_video(path, [np.zeros((32, 32, 3), np.uint8), np.zeros((16, 32, 3), np.uint8)])
    with pytest.raises(ConvsuiteError, match="no frames"):
        write_video(path, iter([]))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("backend", ["pyav", "opencv"])
def test_unreadable_empty_and_missing_files_raise_video_read_error_naming_the_file(av, tmp_path, backend):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    empty = tmp_path / "empty.avi"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.mp4"
    for path, reason in [(garbage, "cannot open"), (empty, "empty"), (missing, "does not exist")]:
        with pytest.raises(VideoReadError, match=f"{path.name}.*{reason}"):
            probe_video(path, backend)
        with pytest.raises(VideoReadError, match=path.name):
            list(iter_frames(path, backend))
        with pytest.raises(VideoReadError, match=path.name):
            read_clips(path, [0], clip_frames=2, stride=1, backend=backend)


def test_truncated_file_shorter_than_stated_raises_naming_the_frames_decoded(av, tmp_path):
    # an AVI states its length in its header; cutting the file leaves the header claiming all 24 frames
    path = write_video(tmp_path / "clip.avi", moving_square(24, 64, 64))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    stated = probe_video(path).frames
    decodable = 0
    with pytest.raises(VideoReadError, match=r"clip.avi.*decoding failed"):  # the last frame is cut in half
        for _ in iter_frames(path):
            decodable += 1
    assert 0 < decodable < stated == 24
    with pytest.raises(VideoReadError, match=rf"clip.avi.*after {decodable} decoded frames"):
        read_clips(path, [stated - 4], clip_frames=4, stride=1)
    assert read_clips(path, [0], clip_frames=decodable, stride=1).shape[1] == decodable  # what is intact still reads


def test_probe_counts_by_decoding_when_the_container_states_no_count(av, tmp_path, monkeypatch):
    path = write_video(tmp_path / "clip.mp4", moving_square(13))
    monkeypatch.setattr(video_io, "_stated_properties", lambda path, backend: (0, 25.0, 0, 0))
    info = probe_video(path)
    assert (info.frames, info.width, info.height) == (13, 48, 32)


# --------------------------------------------------------------------------- clip sampling


def test_uniform_clip_starts_spread_from_first_to_last_possible_start():
    # 100 frames, clips of 8 frames every 2: span 15, last possible start 85
    assert clip_starts(100, 8, 2, clips=3, mode="uniform") == [0, 42, 85]
    assert clip_starts(100, 8, 2, clips=1, mode="uniform") == [42]
    assert clip_starts(15, 8, 2, clips=2) == [0, 0]  # exactly one clip fits


def test_centre_clip_is_in_the_middle_and_random_starts_follow_the_generator():
    assert clip_starts(100, 8, 2, clips=5, mode="centre") == [42]
    first = clip_starts(100, 8, 2, clips=50, mode="random", rng=np.random.default_rng(3))
    again = clip_starts(100, 8, 2, clips=50, mode="random", rng=np.random.default_rng(3))
    assert first == again
    assert min(first) >= 0 and max(first) <= 85 and len(set(first)) > 10
    with pytest.raises(ValueError, match="rng"):
        clip_starts(100, 8, 2, clips=2, mode="random")
    with pytest.raises(ConvsuiteError, match="Unknown clip sampling mode"):
        clip_starts(100, 8, 2, clips=2, mode="dense")


def test_too_short_video_error_says_frames_had_needed_and_the_fix():
    with pytest.raises(ClipTooShortError, match=r"a.mp4 has 10 frames .* 8 frames taken every 2 frames needs 15.*"
                                                r"data.clip_frames.*data.frame_stride.*data.short_videos=\"loop\""):
        clip_starts(10, 8, 2, clips=1, video="a.mp4")
    assert issubclass(ClipTooShortError, ConvsuiteError)


def test_loop_option_takes_starts_in_the_video_and_wraps_frame_numbers():
    starts = clip_starts(10, 8, 2, clips=3, mode="uniform", short="loop")
    assert starts == [0, 4, 9]
    assert clip_indices(9, 8, 2, num_frames=10, short="loop") == [9, 1, 3, 5, 7, 9, 1, 3]
    assert all(0 <= s < 10 for s in clip_starts(10, 8, 2, clips=20, mode="random", rng=np.random.default_rng(0),
                                                short="loop"))


def test_loop_clips_read_from_a_short_file_repeat_its_frames(av, tmp_path):
    path = write_video(tmp_path / "short.mp4", moving_square(6))
    frames = list(iter_frames(path))
    clips = read_clips(path, [4], clip_frames=5, stride=1, short="loop")
    assert clips.shape == (1, 5, 32, 48, 3)
    for position, index in enumerate([4, 5, 0, 1, 2]):
        np.testing.assert_array_equal(clips[0, position], frames[index])
    with pytest.raises(VideoReadError, match="ended after 6 decoded frames"):
        read_clips(path, [4], clip_frames=5, stride=1)


# --------------------------------------------------------------------------- clip reading


def test_read_clips_matches_the_decoded_frames_resized_and_cropped(av, tmp_path):
    path = write_video(tmp_path / "clip.avi", moving_square(30))
    frames = list(iter_frames(path))
    clips = read_clips(path, [0, 10], clip_frames=4, stride=3, size=16, crop=16)
    assert clips.shape == (2, 4, 16, 16, 3) and clips.dtype == np.uint8
    np.testing.assert_array_equal(clips[1, 2], fit_frame(frames[16], 16, 16))
    unresized = read_clips(path, [2], clip_frames=3, stride=2)
    np.testing.assert_array_equal(unresized[0], np.stack([frames[2], frames[4], frames[6]]))


def test_read_clips_holds_no_decoded_frame_and_stops_after_the_last_needed(av, tmp_path, monkeypatch):
    """Memory is bounded by the clips: while a 300-frame file is decoded, no frame the decoder handed out
    is still referenced when the next one comes (weak references count them), and decoding stops at the
    last frame a clip needs."""
    path = write_video(tmp_path / "long.mp4", moving_square(300, 32, 64))
    alive = []  # weak references to every frame the decoder handed out
    most_alive = [0]
    decode = video_io.iter_frames

    def watched_frames(path, backend="auto"):
        for frame in decode(path, backend):
            most_alive[0] = max(most_alive[0], sum(ref() is not None for ref in alive))
            alive.append(weakref.ref(frame))
            yield frame

    monkeypatch.setattr(video_io, "iter_frames", watched_frames)
    clips = read_clips(path, [3, 250], clip_frames=4, stride=5)
    assert clips.shape == (2, 4, 32, 64, 3)
    # only the reader's loop variables still name the previous frame when the next is decoded: a reader that
    # kept frames would hold up to 266 of them
    assert most_alive[0] <= 2
    assert len(alive) == 266  # decoding stopped at frame 265, the last one a clip needs
    frames = list(decode(path))
    np.testing.assert_array_equal(clips[1], np.stack([frames[i] for i in (250, 255, 260, 265)]))
    assert sum(ref() is not None for ref in alive) == 0  # the clips are copies, not views of decoded frames


def test_frames_of_mixed_sizes_become_one_clip_shape(monkeypatch):
    sizes = [(40, 60), (20, 30), (60, 60), (40, 60)]

    def mixed_frames(path, backend="auto"):
        for t, (height, width) in enumerate(sizes):
            yield np.full((height, width, 3), 10 * t, np.uint8)

    monkeypatch.setattr(video_io, "iter_frames", mixed_frames)
    assert read_clips("mixed.mp4", [0], clip_frames=4, stride=1, size=20, crop=20).shape == (1, 4, 20, 20, 3)
    # without a crop the aspect ratios differ; every frame is brought to the first one's 20x30
    assert read_clips("mixed.mp4", [0], clip_frames=4, stride=1, size=20).shape == (1, 4, 20, 30, 3)
    with pytest.raises(ConvsuiteError, match="mixed.mp4 has frames of different sizes.*data.frame_size"):
        read_clips("mixed.mp4", [0], clip_frames=4, stride=1)


def test_fit_frame_resizes_the_shorter_side_and_crops_the_centre():
    frame = np.zeros((120, 160, 3), np.uint8)
    frame[50:70, 70:90] = 200  # a bright square in the centre
    resized = fit_frame(frame, size=60)
    assert resized.shape == (60, 80, 3)
    assert resized[30, 40, 0] == 200 and resized[0, 0, 0] == 0
    cropped = fit_frame(frame, size=60, crop=20)
    assert cropped.shape == (20, 20, 3)
    assert cropped[10, 10, 0] == 200
    assert fit_frame(np.zeros((30, 20, 3), np.uint8), size=40).shape == (60, 40, 3)  # enlarging a tall frame
    assert fit_frame(frame).shape == (120, 160, 3)
    with pytest.raises(ConvsuiteError, match="Cannot crop 200x200 from a 160x120 frame"):
        fit_frame(frame, crop=200)
