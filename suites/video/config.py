"""Experiments of the video suite: action recognition from clips, one per paper setting reproduced.

Donahue et al., "Long-term Recurrent Convolutional Networks for Visual Recognition and Description"
(CVPR 2015): a per-frame CNN, an LSTM over the frame features and the per-frame predictions averaged
over the clip; RGB and optical-flow networks fused with weights 1/3 and 2/3. Tran et al., "Learning
Spatiotemporal Features with 3D Convolutional Networks" (ICCV 2015): homogeneous 3x3x3 convolutions.
Simonyan & Zisserman, "Two-Stream Convolutional Networks for Action Recognition in Videos" (NeurIPS
2014): a spatial stream on single frames and a temporal stream on L=10 stacked flow fields, fused late.

The offline default is the generated motion set (``motion.py``): its labels are defined by motion
alone, so a single frame carries no information about them.

Imports no Keras, so the CLI can read a config and pick the backend before Keras starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from convsuite.common.config import DataConfig, Experiment, ModelConfig, TrainerConfig, setting, uses
from convsuite.common.errors import ConvsuiteError
from convsuite.common.reproduce import PaperResult

ARCHITECTURES = ("lrcn", "single_frame", "c3d", "twostream")
STREAMS = ("rgb", "flow", "fused")
FRAME_MODELS = uses("model.name", "lrcn", "single_frame")
LRCN, C3D, TWOSTREAM = uses("model.name", "lrcn"), uses("model.name", "c3d"), uses("model.name", "twostream")
MOTION = uses("data.dataset", "motion")
MOTION_CLASSES = ("left", "right", "up", "down", "clockwise", "anticlockwise", "approach", "recede")
BACKBONES = ("scratch", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "resnet50",
             "efficientnet_v2_b0",
             "inception_v3")


@dataclass
class VideoModelConfig(ModelConfig):
    name: str = setting("lrcn", "architecture: LRCN (CNN + LSTM), the single-frame CNN baseline, C3D (3x3x3 "
                                "convolutions) or two streams (frames + stacked optical flow, fused late)",
                        choices=ARCHITECTURES)
    stream: str = setting("rgb", "what the frame models see: RGB frames, optical-flow images (x, y, magnitude) or "
                                 "both, as two networks whose scores are fused with model.fusion_weights",
                          choices=STREAMS, used_by=FRAME_MODELS)
    backbone: str = setting("scratch", "per-frame CNN: a small one trained from scratch or a keras.applications "
                                       "network (its weights from model.backbone_weights; nothing is downloaded)",
                            choices=BACKBONES, used_by=FRAME_MODELS)
    backbone_weights: str = setting("", "a keras.applications no-top weights file (.weights.h5) for model.backbone; "
                                        "empty: random initial weights", used_by=FRAME_MODELS)
    width: int = setting(32, "filters of the first convolution (doubled per stage) of the from-scratch networks",
                         at_least=1)
    lstm_units: int = setting(256, "LRCN's LSTM hidden units (Donahue et al.: 256 for RGB)", at_least=1,
                              used_by=LRCN)
    dropout: float = setting(0.5, "dropout before each classifier", at_least=0, below=1)
    c3d_stages: int = setting(4, "C3D convolution stages (the paper's 16x112x112 net has 5)", at_least=1,
                              used_by=C3D)
    dense_units: int = setting(256, "C3D's fully connected layer (the paper: two of 4096)", at_least=1, used_by=C3D)
    flow_stack: int = setting(10, "flow fields stacked for the temporal stream (Simonyan & Zisserman: L = 10)",
                              at_least=1, used_by=TWOSTREAM)
    fusion: str = setting("average", "late fusion of the two networks' class scores: a weighted average "
                                     "(model.fusion_weights) or a linear SVM on the stacked L2-normalised scores "
                                     "(Simonyan & Zisserman)", choices=("average", "svm"),
                          used_by=uses("model.name", "twostream"))
    fusion_weights: list[float] = setting([0.5, 0.5], "weights of the [RGB, flow] scores in the fused average "
                                                      "(Donahue et al.'s best: [1/3, 2/3])")


@dataclass
class VideoDataConfig(DataConfig):
    dataset: str = setting("motion", "motion (generated here: labels defined by motion alone), ucf101 (the "
                                     "official videos and split files in data.data_dir), ucf101-tfds, or a folder "
                                     "of your own videos (USER_DATA_HELP)")
    split: int = setting(1, "UCF101's official train/test split", choices=(1, 2, 3),
                         used_by=uses("data.dataset", "ucf101", "ucf101-tfds"))
    clip_frames: int = setting(16, "frames per clip (T)", at_least=2)
    frame_stride: int = setting(1, "take every this many frames", at_least=1)
    frame_size: int = setting(32, "resize each frame so its shorter side has this many pixels, then centre-crop a "
                                  "square of this size", at_least=8)
    train_clips: int = setting(1, "clips taken from each training video (random starts, fixed by trainer.seed)",
                               at_least=1)
    test_clips: int = setting(5, "clips taken from each test video (evenly spaced); their averaged scores give "
                                 "the video-level accuracy", at_least=1)
    short_videos: str = setting("skip", "videos shorter than a clip: skip them (counted, with the reason), loop "
                                        "them, or stop with an error", choices=("skip", "loop", "error"))
    decoder: str = setting("auto", "video decoding library: auto (PyAV, else OpenCV), pyav, opencv or decord",
                           choices=("auto", "pyav", "opencv", "decord"))
    flow: str = setting("farneback", "optical flow: Farneback (OpenCV) or TV-L1 (needs opencv-contrib)",
                        choices=("farneback", "tvl1"))
    flow_bound: float = setting(20.0, "flow in pixels is clipped to +-this and stored as 8-bit (0 -> 128)",
                                above=0)
    shuffle_frames: bool = setting(False, "shuffle the frames of every clip (a control: a model that needs "
                                          "frame order must fall to chance)")
    memory_limit_mb: int = setting(2048, "decode every clip into memory once when they fit in this many MB; "
                                         "larger sets are decoded batch by batch", at_least=0)
    # The generated motion set (motion.py)
    motion_classes: list[str] = setting(list(MOTION_CLASSES), "the motions to tell apart (each one's time "
                                                                "reversal is also a class by default)",
                                        choices=MOTION_CLASSES, used_by=MOTION)
    motion_train_videos: int = setting(1600, "generated training videos (classes balanced)", at_least=2,
                                       used_by=MOTION)
    motion_test_videos: int = setting(800, "generated test videos (another seed)", at_least=1, used_by=MOTION)
    motion_frames: int = setting(16, "frames per generated video", at_least=2, used_by=MOTION)
    motion_size: int = setting(32, "side of the generated square videos in pixels (even)", at_least=16,
                               used_by=MOTION)
    motion_nuisance: str = setting("static", "the motions other than the label's: static (each frame alone "
                                             "carries no label; unordered frames still show which kind of "
                                             "motion it is) or shuffled (they visit the same values in a random "
                                             "order: unordered frames carry nothing; much harder to learn)",
                                   choices=("static", "shuffled"), used_by=MOTION)
    validation_fraction: float = setting(0.1, "share of the training videos held out for validation (whole "
                                              "UCF101 groups, so no actor is on both sides)", at_least=0, below=1)
    test_fraction: float = setting(0.2, "your own videos without a test folder: the stratified share held out",
                                   above=0, below=1)


@dataclass
class VideoExperiment(Experiment):
    suite: str = setting("video", "the suite this experiment belongs to")
    model: VideoModelConfig = field(default_factory=VideoModelConfig, metadata={"help": "the architecture"})
    data: VideoDataConfig = field(default_factory=VideoDataConfig, metadata={"help": "the videos and their clips"})
    trainer: TrainerConfig = field(default_factory=lambda: clip_trainer(), metadata={"help": "the optimisation"})

    def check_consistency(self) -> None:
        m, d = self.model, self.data
        weights = m.fusion_weights
        if len(weights) != 2 or min(weights) < 0 or sum(weights) <= 0:
            raise ConvsuiteError(f"model.fusion_weights must be two non-negative weights [rgb, flow] with a positive "
                                 f"sum, e.g. [0.5, 0.5] or [0.333, 0.667], got {weights}")
        if d.dataset == "motion":
            if d.motion_size % 2:
                raise ConvsuiteError(f"data.motion_size must be even (video codecs need even sizes), got {d.motion_size}")
            if len(set(d.motion_classes)) < 2:
                raise ConvsuiteError(f"data.motion_classes must name at least two different motions, got "
                                     f"{d.motion_classes}")
            span = (d.clip_frames - 1) * d.frame_stride + 1
            if span > d.motion_frames and d.short_videos != "loop":
                raise ConvsuiteError(f"a clip of data.clip_frames={d.clip_frames} every data.frame_stride="
                                     f"{d.frame_stride} spans {span} frames but the generated videos have "
                                     f"data.motion_frames={d.motion_frames}; lower the clip or raise the videos")
        if m.name == "twostream" and m.flow_stack > d.clip_frames - 1:
            raise ConvsuiteError(f"model.flow_stack={m.flow_stack} flow fields need clips of at least "
                                 f"{m.flow_stack + 1} frames, got data.clip_frames={d.clip_frames}")


def clip_trainer(epochs: int = 15, batch_size: int = 16, decay: float = 0.9) -> TrainerConfig:
    return TrainerConfig(epochs=epochs, batch_size=batch_size, optimizer="adam", learning_rate=1e-3,
                         lr_decay_per_epoch=decay, monitor="val_accuracy")


def motion_experiment(name: str, model: str, description: str, **model_settings) -> VideoExperiment:
    """The motion set: 8 motions, 16-frame 32x32 clips, 1,600 training and 800 test videos.

    One clip per video (a generated video is exactly one clip long). Measured choices: with 8-frame
    clips (twice the motion per frame) C3D's 3x3x3 kernels stayed at chance for 8 epochs; LRCN from
    scratch sits near chance for its first ~20,000 clips and then overfits the set (RESULTS.md)."""
    exp = VideoExperiment(name=name, description=description)
    exp.model = VideoModelConfig(name=model, **model_settings)
    exp.data = VideoDataConfig(dataset="motion", test_clips=1)
    return exp


def shuffled_lrcn() -> VideoExperiment:
    exp = motion_experiment("lrcn-shuffled-motion", "lrcn", "LRCN fed shuffled frames (a control: order is gone)")
    exp.data.shuffle_frames = True
    return exp


def ucf101_experiment(name: str, model: str, description: str, **model_settings) -> VideoExperiment:
    """The papers' UCF101 protocol (split 1, 16-frame clips, five test clips per video) at C3D's 112x112
    frames (LRCN's CaffeNet read 227x227 crops): a GPU job (RESULTS.md has the commands)."""
    exp = VideoExperiment(name=name, description=description)
    exp.model = VideoModelConfig(name=model, **model_settings)
    exp.data = VideoDataConfig(dataset="ucf101", split=1, clip_frames=16, frame_stride=2, frame_size=112,
                               train_clips=1, test_clips=5, memory_limit_mb=0, validation_fraction=0.1)
    exp.trainer = clip_trainer(epochs=30, batch_size=32)
    return exp


EXPERIMENTS = {
    "lrcn-motion": lambda: motion_experiment("lrcn-motion", "lrcn", "LRCN (Donahue et al. 2015) on the motion set"),
    "c3d-motion": lambda: motion_experiment("c3d-motion", "c3d", "C3D-style 3x3x3 convolutions (Tran et al. 2015) "
                                                                 "on the motion set"),
    "twostream-motion": lambda: motion_experiment("twostream-motion", "twostream", "two streams (Simonyan & "
                                                  "Zisserman 2014), frames + stacked flow, on the motion set"),
    "single-frame-motion": lambda: motion_experiment("single-frame-motion", "single_frame",
                                                     "single-frame CNN, predictions averaged (the baseline)"),
    "lrcn-shuffled-motion": shuffled_lrcn,
    "lrcn-flow-motion": lambda: motion_experiment("lrcn-flow-motion", "lrcn", "LRCN on optical-flow images",
                                                  stream="flow"),
    "lrcn-ucf101": lambda: ucf101_experiment("lrcn-ucf101", "lrcn", "LRCN, RGB, UCF101 split 1"),
    "lrcn-fused-ucf101": lambda: ucf101_experiment("lrcn-fused-ucf101", "lrcn", "LRCN, RGB + flow (1/3, 2/3), "
                                                   "UCF101 split 1", stream="fused", fusion_weights=[1 / 3, 2 / 3]),
    "single-frame-ucf101": lambda: ucf101_experiment("single-frame-ucf101", "single_frame",
                                                     "single-frame CNN, RGB, UCF101 split 1"),
    "c3d-ucf101": lambda: ucf101_experiment("c3d-ucf101", "c3d", "C3D-style net from scratch, UCF101 split 1"),
    "twostream-ucf101": lambda: ucf101_experiment("twostream-ucf101", "twostream", "two streams, UCF101 split 1"),
}
DEFAULT_EXPERIMENT = "lrcn-motion"

# The paper table of `convsuite reproduce video` (fields: convsuite.common.reproduce). Metrics are
# test accuracies; video_accuracy averages the scores of data.test_clips clips per video.
_CHANCE = dict(baseline_metric="baseline_chance_accuracy", baseline="chance")
# Quick: four motions in 8-frame 16x16 clips (the default test's size; minutes, not the set's numbers).
_QUICK_MOTION = ['data.motion_classes=["left","right","up","down"]', "data.motion_frames=8", "data.clip_frames=8",
                 "data.motion_size=16", "data.frame_size=16",
                 "data.motion_train_videos=2000", "data.motion_test_videos=200", "trainer.epochs=10",
                 "trainer.learning_rate=0.003", "model.dropout=0.2", "model.width=16"]
_UCF101_NOTE = "needs UCF101 (data.data_dir) and a GPU; ours: a from-scratch per-frame CNN unless model.backbone_weights"

PAPER_RESULTS = [
    PaperResult(paper="Donahue et al. 2015", setting="LRCN, RGB, UCF101 split 1 accuracy", paper_value=0.6820,
                experiment="lrcn-ucf101", metric="video_accuracy", **_CHANCE, quick=None, note=_UCF101_NOTE),
    PaperResult(paper="Donahue et al. 2015", setting="single frame, RGB, UCF101 split 1 accuracy",
                paper_value=0.6737, experiment="single-frame-ucf101", metric="video_accuracy", **_CHANCE, quick=None,
                note=_UCF101_NOTE),
    PaperResult(paper="Donahue et al. 2015", setting="LRCN, RGB 1/3 + flow 2/3, UCF101 split 1 accuracy",
                paper_value=0.8234, experiment="lrcn-fused-ucf101", metric="video_accuracy", **_CHANCE, quick=None,
                note=_UCF101_NOTE),
    PaperResult(paper="Simonyan & Zisserman 2014", setting="two streams, averaging fusion, UCF101 accuracy",
                paper_value=0.869, experiment="twostream-ucf101", metric="video_accuracy", **_CHANCE, quick=None,
                note="paper: mean over the three splits, spatial net pre-trained on ImageNet; " + _UCF101_NOTE),
    PaperResult(paper="Donahue et al. 2015", setting="LRCN, motion set accuracy", paper_value=None,
                experiment="lrcn-motion", metric="test_accuracy", **_CHANCE, quick=_QUICK_MOTION,
                note="not in the paper: labels defined by motion alone"),
    PaperResult(paper="Tran et al. 2015", setting="C3D, motion set accuracy", paper_value=None,
                experiment="c3d-motion", metric="test_accuracy", **_CHANCE, quick=_QUICK_MOTION,
                note="not in the paper: labels defined by motion alone"),
    PaperResult(paper="Simonyan & Zisserman 2014", setting="two streams, motion set accuracy", paper_value=None,
                experiment="twostream-motion", metric="test_accuracy", **_CHANCE,
                quick=[*_QUICK_MOTION, "model.flow_stack=6"],  # 8-frame clips hold 7 flow fields
                note="not in the paper: labels defined by motion alone"),
    PaperResult(paper="Donahue et al. 2015", setting="single frame, motion set accuracy", paper_value=None,
                experiment="single-frame-motion", metric="test_accuracy", **_CHANCE, quick=_QUICK_MOTION,
                note="a single frame carries no label: must stay at chance"),
    PaperResult(paper="Donahue et al. 2015", setting="LRCN fed shuffled frames, motion set accuracy",
                paper_value=None, experiment="lrcn-shuffled-motion", metric="test_direction_accuracy",
                baseline_metric="baseline_chance_direction_accuracy", baseline="chance", quick=_QUICK_MOTION,
                note="unordered frames can show the kind of motion, never its direction: direction stays at 0.5"),
]
