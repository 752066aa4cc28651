"""Video action recognition: LRCN (CNN + LSTM), C3D-style 3x3x3 convolutions, two-stream networks
with optical flow, the single-frame baseline; video decoding, flow caching, UCF101 and a generated
motion set whose labels only motion carries.

Public names load lazily, so reading a config (``convsuite.suites.video.config``) does not start
Keras: the CLI picks the backend first.
"""

from convsuite.common.lazy import suite_exports

_EXPORTS = {
    "VideoExperiment": "config",
    "VideoModelConfig": "config",
    "VideoDataConfig": "config",
    "prepare": "data",
    "load_video_set": "data",
    "ClipReader": "data",
    "ClipDecoder": "data",
    "generate_motion_set": "motion",
    "render_video": "motion",
    "direction_accuracy": "motion",
    "predict": "train",
    "clip_scores": "train",
    "VideoPrediction": "train",
}

suite_exports(__name__, _EXPORTS, globals())
