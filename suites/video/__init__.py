"""Video action recognition: LRCN (CNN + LSTM), C3D-style 3x3x3 convolutions, two-stream networks
with optical flow, the single-frame baseline; video decoding, flow caching, UCF101 and a generated
motion set whose labels only motion carries.

Public names load lazily, so reading a config (``convsuite.suites.video.config``) does not start
Keras: the CLI picks the backend first.
"""

from convsuite.common.lazy import suite_exports

_EXPORTS = {
    "lrcn": "models",
    "single_frame": "models",
    "c3d": "models",
    "c3d_paper": "models",
    "spatial_stream": "models",
    "temporal_stream": "models",
    "late_fusion": "models",
    "frame_cnn": "models",
    "keras_application_backbone": "models",
    "FramePredictionAverage": "models",
    "WeightedScoreAverage": "models",
    "saliency": "models",
    "read_clips": "video_io",
    "iter_frames": "video_io",
    "probe_video": "video_io",
    "write_video": "video_io",
    "optical_flow": "flow",
    "FlowCache": "flow",
    "load_ucf101_split": "ucf101",
    "load_video_folder": "folders",
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
