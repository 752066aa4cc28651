"""The video suite's Keras models: LRCN, C3D, the two streams, late fusion and the single-frame baseline.

Papers:
  Donahue et al., "Long-term Recurrent Convolutional Networks for Visual Recognition and Description",
  CVPR 2015 (LRCN): a per-frame CNN, an LSTM over the frame features, a softmax at every time step and
  the per-frame predictions averaged over the clip; its table's single-frame baseline averages the
  predictions of the CNN alone. The RGB and flow models are fused by a weighted average of their scores.
  Tran et al., "Learning Spatiotemporal Features with 3D Convolutional Networks", ICCV 2015 (C3D):
  homogeneous 3x3x3 convolutions with stride 1.
  Simonyan & Zisserman, "Two-Stream Convolutional Networks for Action Recognition in Videos", NeurIPS
  2014: a spatial stream on one RGB frame and a temporal stream on a stack of L optical-flow fields
  (2L channels), fused late by averaging their softmax scores.

Inputs are raw pixels: clips ``(batch, T, H, W, 3)`` and single frames ``(batch, H, W, 3)`` with values
0..255 (uint8 is fine: Keras casts it), flow stacks ``(batch, H, W, 2L)`` encoded the same way. Every
model scales its input itself (``Rescaling(1/127.5, offset=-1)`` maps 0..255 to [-1, 1]; a
``keras.applications`` backbone instead applies what that application expects, see
``APPLICATION_BACKBONES``). Every classifier ends in a float32 softmax, so its output stays float32
under mixed precision.

The convolutional units are ``convsuite.common.blocks.ConvBNAct`` (rank 2 per frame, rank 3 for C3D).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence

import keras
import numpy as np
from keras import layers, ops

from convsuite.common.blocks import ConvBNAct
from convsuite.common.errors import ConvsuiteError

_register = keras.saving.register_keras_serializable(package="convsuite")

PIXEL_SCALE, PIXEL_OFFSET = 1.0 / 127.5, -1.0  # 0..255 -> [-1, 1]

# name -> (keras.applications constructor, the preprocessing it expects, its smallest input side).
# "tf": pixels scaled to [-1, 1]; "caffe": RGB -> BGR minus the ImageNet channel means (no scaling);
# "builtin": the application's first layers do it (they expect 0..255 pixels).
APPLICATION_BACKBONES = {
    "mobilenet_v2": ("MobileNetV2", "tf", 32),
    "mobilenet_v3_small": ("MobileNetV3Small", "builtin", 32),
    "mobilenet_v3_large": ("MobileNetV3Large", "builtin", 32),
    "efficientnet_v2_b0": ("EfficientNetV2B0", "builtin", 32),
    "resnet50": ("ResNet50", "caffe", 32),
    "inception_v3": ("InceptionV3", "tf", 75),
}
FRAME_BACKBONES = ("scratch", *APPLICATION_BACKBONES)
CAFFE_BGR_MEANS = (103.939, 116.779, 123.68)  # keras.applications' "caffe" mode, BGR order

# Donahue et al. 2015, Sec. 4: 256 LSTM hidden units for the RGB model (1024 were tried for flow).
LRCN_LSTM_UNITS = 256
# Donahue et al. 2015 weight flow 2/3 and RGB 1/3 when fusing; Simonyan & Zisserman 2014 average equally.
LRCN_FUSION_WEIGHTS = {"rgb": 1 / 3, "flow": 2 / 3}
TWO_STREAM_FUSION_WEIGHTS = {"spatial": 0.5, "temporal": 0.5}


# --------------------------------------------------------------------------- layers

@_register
class ApplicationPreprocessing(layers.Layer):
    """Maps 0..255 RGB pixels to the input range a ``keras.applications`` model was trained on.

    ``mode``: "tf" scales to [-1, 1]; "caffe" reverses the channels to BGR and subtracts the ImageNet
    means; "builtin" passes the pixels through (the application normalizes them itself)."""

    MODES = ("tf", "caffe", "builtin")

    def __init__(self, mode: str = "tf", **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ConvsuiteError(f"preprocessing mode '{mode}' is unknown; use one of {', '.join(self.MODES)}")
        self.mode = mode

    def call(self, pixels):
        pixels = ops.cast(pixels, self.compute_dtype)
        if self.mode == "tf":
            return pixels * PIXEL_SCALE + PIXEL_OFFSET
        if self.mode == "caffe":
            return ops.flip(pixels, axis=-1) - ops.convert_to_tensor(CAFFE_BGR_MEANS, dtype=self.compute_dtype)
        return pixels

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@_register
class FramePredictionAverage(layers.Layer):
    """Averages per-time-step class probabilities (batch, T, classes) over the clip -> (batch, classes).

    LRCN (Donahue et al. 2015) and its single-frame baseline average the per-frame *predictions*
    (probabilities after the softmax), not the logits."""

    def call(self, frame_probabilities):
        return ops.mean(ops.cast(frame_probabilities, self.compute_dtype), axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *input_shape[2:])


@_register
class WeightedScoreAverage(layers.Layer):
    """The weighted average of several models' class scores, the weights normalized to sum to 1.

    Late fusion by averaging: Simonyan & Zisserman 2014 weight the two streams equally; Donahue et al.
    2015 weight flow 2/3 and RGB 1/3."""

    def __init__(self, weights: Sequence[float] = (0.5, 0.5), **kwargs):
        super().__init__(**kwargs)
        self.score_weights = _normalized_weights(weights)

    def call(self, scores):
        if len(scores) != len(self.score_weights):
            raise ConvsuiteError(f"WeightedScoreAverage has {len(self.score_weights)} weights but got "
                                 f"{len(scores)} score tensors; pass one weight per model")
        total = None
        for weight, score in zip(self.score_weights, scores):
            term = ops.cast(score, self.compute_dtype) * weight
            total = term if total is None else total + term
        return total

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "weights": list(self.score_weights)}


def _normalized_weights(weights) -> list[float]:
    try:
        values = [float(w) for w in weights]
    except (TypeError, ValueError):
        raise ConvsuiteError(f"fusion weights {weights!r} must be a list of numbers, e.g. [1/3, 2/3]") from None
    if not values or any(not math.isfinite(w) or w < 0 for w in values) or sum(values) <= 0:
        raise ConvsuiteError(f"fusion weights {values} must be finite, non-negative and not all zero; "
                             "pass e.g. [1/3, 2/3]")
    total = sum(values)
    return [w / total for w in values]


# --------------------------------------------------------------------------- per-frame backbones

def frame_cnn(input_shape=(112, 112, 3), width: int = 32, blocks: int | None = None, dropout: float = 0.0,
              feature_units: int | None = None, name: str = "frame_cnn") -> keras.Model:
    """A small from-scratch per-frame CNN: pixels (H, W, C) 0..255 -> a feature vector.

    Each block is a 3x3 ConvBNAct and a 2x2 max pooling (skipped once a side reaches 1), the widths
    doubling per block; ``blocks=None`` takes as many as bring the shorter side down to 4-7 cells
    (CaffeNet's pool5 is 6x6), at most 5. The last feature map is flattened into a fully connected ReLU layer of
    ``feature_units`` (default 8 * width). It stands in for the CaffeNet fc6 features of Donahue et
    al. 2015 at the small frame sizes the suite trains on; like fc6 it keeps *where* things are in
    the frame (a global average pooling would not, and the LSTM could not see an object move)."""
    if blocks is None:
        side = min(int(input_shape[0] or 4), int(input_shape[1] or 4))
        blocks = int(min(5, max(1, math.floor(math.log2(max(side, 8) / 4)))))
    if blocks < 1 or width < 1:
        raise ConvsuiteError(f"frame_cnn needs blocks >= 1 and width >= 1, got blocks={blocks}, width={width}")
    pixels = keras.Input(tuple(input_shape), name="frame")
    x = layers.Rescaling(PIXEL_SCALE, offset=PIXEL_OFFSET, name="scale")(pixels)
    for block in range(blocks):
        x = ConvBNAct(width * 2 ** block, 3, name=f"conv{block + 1}")(x)
        pool = tuple(2 if side is None or side >= 2 else 1 for side in x.shape[1:3])
        x = layers.MaxPooling2D(pool, name=f"pool{block + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(feature_units or 8 * width, activation="relu", name="features")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(pixels, x, name=name)


def keras_application_backbone(name: str, input_shape=(224, 224, 3), weights_path: str | None = None
                               ) -> keras.Model:
    """A ``keras.applications`` model without its top (global average pooled features) as a per-frame CNN.

    It is built with ``weights=None`` (nothing is ever downloaded); ``weights_path`` loads the user's
    own no-top weights file (a Keras ``.weights.h5`` or the legacy ``.h5`` of that application built
    with ``include_top=False``). The model takes 0..255 RGB pixels and first applies the preprocessing
    that application expects (``ApplicationPreprocessing``)."""
    if name not in APPLICATION_BACKBONES:
        raise ConvsuiteError(f"unknown frame backbone '{name}'; use one of {', '.join(FRAME_BACKBONES)}")
    constructor_name, mode, min_side = APPLICATION_BACKBONES[name]
    input_shape = tuple(int(side) for side in input_shape)
    if len(input_shape) != 3 or input_shape[-1] != 3 or min(input_shape[:2]) < min_side:
        raise ConvsuiteError(f"the {name} backbone needs RGB frames of at least {min_side}x{min_side}x3, "
                             f"got {input_shape}; resize the frames or pick another backbone")
    expected = (f"a no-top weights file for {name} (keras.applications.{constructor_name}(include_top=False)) "
                f"at {input_shape[0]}x{input_shape[1]}")
    if weights_path is not None and not os.path.isfile(str(weights_path)):
        raise ConvsuiteError(f"the backbone weights file '{weights_path}' does not exist; expected {expected}")
    constructor = getattr(keras.applications, constructor_name)
    options = {"include_preprocessing": True} if mode == "builtin" else {}
    application = constructor(include_top=False, weights=None, input_shape=input_shape, pooling="avg",
                              **options)
    if weights_path is not None:
        _load_application_weights(application, name, expected, weights_path)
    pixels = keras.Input(input_shape, name="frame")
    features = application(ApplicationPreprocessing(mode, name="preprocess")(pixels))
    return keras.Model(pixels, features, name=name)


def _load_application_weights(application, name, expected, weights_path):
    path = str(weights_path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            application.load_weights(path, skip_mismatch=False)
    except Exception as error:  # Keras raises ValueError/OSError/KeyError... depending on the file
        reason = f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
        raise ConvsuiteError(f"cannot load the backbone weights file '{path}' ({reason}); expected {expected}"
                             ) from None
    # Keras only warns when parts of the model find nothing to load in the file: a mismatch all the same.
    skipped = [str(w.message) for w in caught if "skipping" in str(w.message).lower()
               or "could not be loaded" in str(w.message).lower()]
    if skipped:
        raise ConvsuiteError(f"the backbone weights file '{path}' does not cover the whole {name} model "
                             f"({len(skipped)} parts were skipped, e.g. {skipped[0].splitlines()[0][:160]}); "
                             f"expected {expected}")
    for caught_warning in caught:  # pass the others on
        warnings.warn_explicit(caught_warning.message, caught_warning.category, caught_warning.filename,
                               caught_warning.lineno)


def _frame_backbone(backbone, frame_shape, backbone_weights, width, name="frame_cnn") -> keras.Model:
    if backbone == "scratch":
        if backbone_weights is not None:
            raise ConvsuiteError(f"backbone_weights='{backbone_weights}' was given for the scratch backbone; "
                                 f"pick a keras.applications backbone ({', '.join(APPLICATION_BACKBONES)}) "
                                 "or drop the weights")
        return frame_cnn(frame_shape, width=width, name=name)
    return keras_application_backbone(backbone, frame_shape, backbone_weights)


def _clip_input(frames, frame_shape):
    if frames is not None and int(frames) < 1:
        raise ConvsuiteError(f"frames={frames} must be a positive number of frames per clip (or None)")
    frame_shape = tuple(int(side) for side in frame_shape)
    return keras.Input((None if frames is None else int(frames), *frame_shape), name="clip")


def _softmax(x, name="probabilities"):
    return layers.Activation("softmax", dtype="float32", name=name)(x)


# --------------------------------------------------------------------------- clip models

def _frame_features(clip, frame_shape, backbone, backbone_weights, width):
    """The per-frame CNN on every frame of the clip: (batch, T, features)."""
    backbone_model = _frame_backbone(backbone, frame_shape, backbone_weights, width)
    return layers.TimeDistributed(backbone_model, name="frame_features")(clip)


def _averaged_frame_classifier(clip, sequence, num_classes, dropout, name) -> keras.Model:
    """A softmax at every time step ("frame_probabilities"), averaged over the clip."""
    if dropout:
        sequence = layers.Dropout(dropout, name="dropout")(sequence)
    logits = layers.TimeDistributed(layers.Dense(num_classes), name="frame_logits")(sequence)
    frame_probabilities = _softmax(logits, name="frame_probabilities")
    probabilities = FramePredictionAverage(dtype="float32", name="probabilities")(frame_probabilities)
    return keras.Model(clip, probabilities, name=name)


def lrcn(num_classes: int, frames: int | None = 16, frame_shape=(112, 112, 3), backbone: str = "scratch",
         backbone_weights: str | None = None, width: int = 32, lstm_units: int = LRCN_LSTM_UNITS,
         dropout: float = 0.5, name: str = "lrcn") -> keras.Model:
    """LRCN for activity recognition (Donahue et al. 2015, Sec. 4): clip (T, H, W, 3) -> class probabilities.

    The per-frame CNN runs on every frame through ``TimeDistributed``; an LSTM (256 units for RGB in
    the paper) reads the frame features; a softmax classifier at every time step gives per-frame
    predictions ("frame_probabilities"), averaged over the clip. ``dropout`` is applied to the LSTM
    outputs before the classifier (our choice; the network is otherwise the paper's). ``frames=None``
    accepts clips of any length."""
    clip = _clip_input(frames, frame_shape)
    features = _frame_features(clip, frame_shape, backbone, backbone_weights, width)
    sequence = layers.LSTM(lstm_units, return_sequences=True, name="lstm")(features)
    return _averaged_frame_classifier(clip, sequence, num_classes, dropout, name)


def single_frame(num_classes: int, frames: int | None = 16, frame_shape=(112, 112, 3), backbone: str = "scratch",
                 backbone_weights: str | None = None, width: int = 32, dropout: float = 0.5,
                 name: str = "single_frame") -> keras.Model:
    """The single-frame baseline of Donahue et al. 2015's table: LRCN without the LSTM.

    Each frame is classified on its own (the same per-frame CNN, a softmax per frame) and the
    predictions averaged over the clip, so the output does not depend on the frames' order."""
    clip = _clip_input(frames, frame_shape)
    features = _frame_features(clip, frame_shape, backbone, backbone_weights, width)
    return _averaged_frame_classifier(clip, features, num_classes, dropout, name)


def _c3d_pool(shape, first: bool) -> tuple:
    """Tran et al.'s pooling: pool1 is 1x2x2 (keeps early temporal information), then 2x2x2;
    an axis already down to 1 is not pooled further."""
    time, height, width = shape
    return (1 if first or time < 2 else 2, 2 if height >= 2 else 1, 2 if width >= 2 else 1)


def c3d(num_classes: int, frames: int = 16, frame_shape=(112, 112, 3), width: int = 32, stages: int = 4,
        dropout: float = 0.5, dense_units: int = 256, name: str = "c3d") -> keras.Model:
    """C3D-style network (Tran et al. 2015) scaled for small clips: clip (T, H, W, 3) -> class probabilities.

    Homogeneous 3x3x3 convolutions, stride 1, 'same' padding. As in the paper, the first two stages
    have one convolution and the later ones two, the width doubling per stage up to 8x (the paper:
    64-128-256-256-512-512 over 8 layers); pool1 is 1x2x2, later pools 2x2x2 while the time axis
    allows. The paper's two 4096-unit fully connected layers become one of ``dense_units`` after
    global average pooling. Batch normalization in every ConvBNAct is a modern addition the paper
    does not have. ``c3d_paper`` builds the paper's exact network."""
    if stages < 1 or width < 1 or frames is None or int(frames) < 1:
        raise ConvsuiteError(f"c3d needs stages >= 1, width >= 1 and a fixed frames >= 1; got stages={stages}, "
                             f"width={width}, frames={frames}")
    clip = _clip_input(frames, frame_shape)
    x = layers.Rescaling(PIXEL_SCALE, offset=PIXEL_OFFSET, name="scale")(clip)
    for stage in range(stages):
        filters = width * 2 ** min(stage, 3)
        for index in range(1 if stage < 2 else 2):
            x = ConvBNAct(filters, 3, rank=3, name=f"conv{stage + 1}{'ab'[index]}")(x)
        x = layers.MaxPooling3D(_c3d_pool(x.shape[1:4], stage == 0), name=f"pool{stage + 1}")(x)
    x = layers.GlobalAveragePooling3D(name="features")(x)
    x = layers.Dense(dense_units, activation="relu", name="fc6")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(clip, _softmax(layers.Dense(num_classes, name="logits")(x)), name=name)


def c3d_paper(num_classes: int = 101, name: str = "c3d_paper") -> keras.Model:
    """The network of Tran et al. 2015 (Fig. 3) on 16x112x112 clips: 8 convolutions 3x3x3 (64, 128,
    2x256, 2x512, 2x512), 5 max poolings (pool1 1x2x2, the others 2x2x2), fc6 and fc7 of 4096 with
    dropout 0.5, softmax. No batch normalization, as in the paper. About 78M parameters."""
    clip = keras.Input((16, 112, 112, 3), name="clip")
    x = layers.Rescaling(PIXEL_SCALE, offset=PIXEL_OFFSET, name="scale")(clip)
    plan = [("1", (64,)), ("2", (128,)), ("3", (256, 256)), ("4", (512, 512)), ("5", (512, 512))]
    for stage, widths in plan:
        for index, filters in enumerate(widths):
            x = ConvBNAct(filters, 3, rank=3, use_batch_norm=False, kernel_initializer="glorot_uniform",
                          name=f"conv{stage}{'ab'[index]}")(x)
        pool = (1, 2, 2) if stage == "1" else (2, 2, 2)
        x = layers.MaxPooling3D(pool, padding="same" if stage == "5" else "valid", name=f"pool{stage}")(x)
    x = layers.Flatten(name="flatten")(x)  # 512 x 1 x 4 x 4 = 8192
    for fc in ("fc6", "fc7"):
        x = layers.Dense(4096, activation="relu", name=fc)(x)
        x = layers.Dropout(0.5, name=f"{fc}_dropout")(x)
    return keras.Model(clip, _softmax(layers.Dense(num_classes, name="logits")(x)), name=name)


# --------------------------------------------------------------------------- two streams

def _stream_tower(inputs, num_classes, width, dropout, name) -> keras.Model:
    """Simonyan & Zisserman's CNN-M-2048 tower scaled by ``width`` (the paper's width is 96).

    conv1 7x7 stride 2 (96 -> width), conv2 5x5 stride 2 (256 -> 2*width), conv3-5 3x3 (512 -> 4*width),
    3x3/2 max pooling after conv1, conv2 and conv5, full6 (4096 -> 16*width) and full7 (2048 -> 8*width)
    with dropout, softmax. Batch normalization replaces the paper's local response normalization, and
    global average pooling before full6 makes the tower fit any frame size."""
    x = layers.Rescaling(PIXEL_SCALE, offset=PIXEL_OFFSET, name="scale")(inputs)
    x = ConvBNAct(width, 7, strides=2, name="conv1")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = ConvBNAct(2 * width, 5, strides=2, name="conv2")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    for index in (3, 4, 5):
        x = ConvBNAct(4 * width, 3, name=f"conv{index}")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool5")(x)
    x = layers.GlobalAveragePooling2D(name="features")(x)
    for fc, units in (("full6", 16 * width), ("full7", 8 * width)):
        x = layers.Dense(units, activation="relu", name=fc)(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"{fc}_dropout")(x)
    return keras.Model(inputs, _softmax(layers.Dense(num_classes, name="logits")(x)), name=name)


def spatial_stream(num_classes: int, frame_shape=(112, 112, 3), width: int = 32, dropout: float = 0.5,
                   name: str = "spatial_stream") -> keras.Model:
    """The spatial stream of Simonyan & Zisserman 2014: one RGB frame (H, W, 3) -> class probabilities.

    The paper compares dropout 0.5 and 0.9 (its Table 1)."""
    frame = keras.Input(tuple(int(side) for side in frame_shape), name="frame")
    return _stream_tower(frame, num_classes, width, dropout, name)


def temporal_stream(num_classes: int, flow_shape=(112, 112, 20), width: int = 32, dropout: float = 0.5,
                    name: str = "temporal_stream") -> keras.Model:
    """The temporal stream of Simonyan & Zisserman 2014: L stacked flow fields (H, W, 2L) -> probabilities.

    The flow is 0..255 encoded (128 = no motion) like the frames and scaled to [-1, 1]; the paper
    stacks L=10 fields (20 channels)."""
    flow_shape = tuple(int(side) for side in flow_shape)
    if len(flow_shape) != 3 or flow_shape[-1] < 2 or flow_shape[-1] % 2:
        raise ConvsuiteError(f"flow_shape {flow_shape} must be (H, W, 2L): x and y flow for each of L frames")
    flow = keras.Input(flow_shape, name="flow")
    return _stream_tower(flow, num_classes, width, dropout, name)


def late_fusion(models: Sequence[keras.Model], weights: Sequence[float], name: str = "late_fusion"
                ) -> keras.Model:
    """One model taking each stream's input (in order) and returning the weighted average of the streams'
    class probabilities, the weights normalized to sum 1 (``WeightedScoreAverage``)."""
    models = list(models)
    if len(models) < 2:
        raise ConvsuiteError(f"late_fusion needs at least two models, got {len(models)}")
    weights = list(weights) if isinstance(weights, (list, tuple)) else weights
    if not isinstance(weights, list) or len(weights) != len(models):
        raise ConvsuiteError(f"late_fusion got {len(models)} models but weights={weights!r}; "
                             "pass one weight per model, e.g. [1/3, 2/3]")
    weights = _normalized_weights(weights)
    classes = [model.outputs[0].shape[-1] if len(model.outputs) == 1 else None for model in models]
    if len(set(classes)) != 1 or classes[0] is None:
        raise ConvsuiteError(f"late_fusion needs models with one output over the same classes; their class counts "
                             f"are {classes} ({', '.join(model.name for model in models)})")
    inputs, scores = [], []
    for index, model in enumerate(models):
        if len(model.inputs) != 1:
            raise ConvsuiteError(f"model '{model.name}' has {len(model.inputs)} inputs; late_fusion needs "
                                 "single-input streams")
        model_input = keras.Input(tuple(model.inputs[0].shape[1:]), name=f"{model.name}_{index}_input")
        inputs.append(model_input)
        scores.append(model(model_input))
    fused = WeightedScoreAverage(weights, dtype="float32", name="fused_probabilities")(scores)
    return keras.Model(inputs, fused, name=name)





# --------------------------------------------------------------------------- explanation

def saliency(model: keras.Model, clip: np.ndarray, class_index: int | None = None) -> np.ndarray:
    """Saliency over the frames of one clip (Simonyan, Vedaldi & Zisserman 2014): (T, H, W).

    max over channels of |d score / d pixel| for ``class_index`` (None: the predicted class), on the
    running backend (``convsuite.common.analysis.saliency``). The score is the pre-softmax logit
    where the model ends in a softmax (C3D, the streams) and the clip-averaged probability for LRCN
    and the single-frame model, whose last step averages probabilities."""
    from convsuite.common.analysis import saliency as batch_saliency

    clip = np.asarray(clip)
    expected = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else None
    if expected is not None and clip.ndim != len(expected):
        raise ConvsuiteError(f"clip shape {clip.shape} does not match the model's input {expected}; "
                             "pass one clip without a batch axis")
    return batch_saliency(model, clip[None].astype("float32"), class_index)[0]


# --------------------------------------------------------------------------- the suite's models


def per_frame(model: keras.Model) -> keras.Model:
    """The per-frame predictions (batch, T, classes) of an LRCN or single-frame model: the form they are
    trained in, with a loss at every time step as Donahue et al. trained LRCN."""
    return keras.Model(model.inputs, model.get_layer("frame_probabilities").output, name=model.name)


def clip_model(model: keras.Model) -> keras.Model:
    """A model scoring whole clips (batch, classes): per-frame predictions are averaged over the clip."""
    if len(model.outputs[0].shape) == 2:
        return model
    averaged = FramePredictionAverage(dtype="float32", name="probabilities")(model.outputs[0])
    return keras.Model(model.inputs, averaged, name=model.name)


def spatial_frames(num_classes: int, frames: int, frame_shape, width: int = 32, dropout: float = 0.5) -> keras.Model:
    """The spatial stream applied to every frame of a clip: per-frame predictions (batch, T, classes),
    averaged at test time as Simonyan & Zisserman average the scores of a video's frames."""
    clip = _clip_input(frames, frame_shape)
    stream = spatial_stream(num_classes, frame_shape, width=width, dropout=dropout)
    frame_probabilities = layers.TimeDistributed(stream, name="frame_probabilities")(clip)
    return keras.Model(clip, frame_probabilities, name="spatial_stream")


def default_input_shape(experiment, stream: str | None = None) -> tuple:
    data, model = experiment.data, experiment.model
    side = data.frame_size
    if model.name == "twostream" and stream == "flow":
        return (side, side, 2 * model.flow_stack)
    flow = model.name in ("lrcn", "single_frame") and (stream or model.stream) == "flow"
    return (data.clip_frames - 1 if flow else data.clip_frames, side, side, 3)


def build_model(experiment, num_classes: int = 8, input_shape: tuple | None = None,
                stream: str | None = None) -> keras.Model:
    """The experiment's network in its training form, for ``stream`` (rgb or flow) of a fused model.

    LRCN, single-frame and the two-stream spatial net give per-frame predictions (batch, T, classes);
    C3D and the temporal stream give clip predictions (batch, classes)."""
    m = experiment.model
    shape = tuple(int(s) for s in (input_shape or default_input_shape(experiment, stream)))
    weights = m.backbone_weights or None
    if m.name == "lrcn":
        return per_frame(lrcn(num_classes, shape[0], shape[1:], backbone=m.backbone, backbone_weights=weights,
                              width=m.width, lstm_units=m.lstm_units, dropout=m.dropout))
    if m.name == "single_frame":
        return per_frame(single_frame(num_classes, shape[0], shape[1:], backbone=m.backbone,
                                      backbone_weights=weights, width=m.width, dropout=m.dropout))
    if m.name == "c3d":
        return c3d(num_classes, shape[0], shape[1:], width=m.width, stages=m.c3d_stages, dropout=m.dropout,
                   dense_units=m.dense_units)
    if m.name == "twostream":
        if stream == "flow" or len(shape) == 3:
            return temporal_stream(num_classes, shape, width=m.width, dropout=m.dropout)
        return spatial_frames(num_classes, shape[0], shape[1:], width=m.width, dropout=m.dropout)
    raise ConvsuiteError(f"unknown video architecture {m.name!r}; one of lrcn, single_frame, c3d, twostream")


def two_stream(num_classes: int, frames: int = 16, frame_shape=(112, 112, 3), flow_stack: int = 10, width: int = 32,
               dropout: float = 0.5, weights=(0.5, 0.5)) -> keras.Model:
    """Simonyan & Zisserman's two streams in one model: (clip, flow stack) -> the weighted average of the
    spatial stream's frame-averaged scores and the temporal stream's scores. The suite trains the two
    streams separately (as the paper does) and saves their fusion in this form."""
    spatial = clip_model(spatial_frames(num_classes, frames, frame_shape, width=width, dropout=dropout))
    flow_shape = (*tuple(frame_shape)[:2], 2 * flow_stack)
    temporal = temporal_stream(num_classes, flow_shape, width=width, dropout=dropout)
    return late_fusion([spatial, temporal], list(weights), name="two_stream")


# The suite's architectures (model.name) and the builder of each; build_model builds them from a config.
MODELS = {
    "lrcn": lrcn,
    "single_frame": single_frame,
    "c3d": c3d,
    "twostream": two_stream,
}
