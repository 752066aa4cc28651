"""Models of the image-recognition suite.

Each builder returns one published architecture as a keras.Model; its docstring names the
paper and any deliberate deviation. Models take raw uint8-range pixels (N, H, W, C) and
scale them inside, so a saved `.keras` file is usable on raw images with nothing else.
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from convsuite.common.blocks import ConvBNAct, ResidualBlock
from convsuite.common.errors import ConvsuiteError


# --------------------------------------------------------------------------- LeNet-5

# Table I of LeCun et al. 1998: which S2 feature maps each of the 16 C3 maps reads.
LENET5_C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


@keras.saving.register_keras_serializable(package="convsuite")
class ConnectionTableConv2D(layers.Conv2D):
    """A convolution in which output map j reads only the input maps ``table[j]``: LeNet-5's
    C3 (LeCun et al. 1998, Table I), which breaks symmetry and cuts connections.

    The kernel is multiplied by a fixed 0/1 mask, so unconnected weights stay zero and get
    no gradient; ``connected_params`` counts the weights that exist in the paper's net.
    """

    def __init__(self, filters, kernel_size, table, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        self.table = tuple(tuple(int(i) for i in row) for row in table)
        if len(self.table) != filters:
            raise ValueError(f"the connection table has {len(self.table)} rows but the layer has {filters} filters")

    def build(self, input_shape):
        super().build(input_shape)
        channels = int(input_shape[-1])
        mask = [[1.0 if i in row else 0.0 for row in self.table] for i in range(channels)]
        self.mask = ops.convert_to_tensor(mask, dtype=self.compute_dtype)  # (in, out)

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, kernel * ops.cast(self.mask, kernel.dtype))

    @property
    def connected_params(self) -> int:
        kernel_area = int(math.prod(self.kernel_size))
        return sum(len(row) for row in self.table) * kernel_area + (self.filters if self.use_bias else 0)

    def get_config(self):
        return {**super().get_config(), "table": [list(row) for row in self.table]}


def lenet5(input_shape=(32, 32, 1), num_classes=10, activation="tanh", c3_table=True) -> keras.Model:
    """LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to
    document recognition", Fig. 2): C1 6@5x5, S2 2x2, C3 16@5x5, S4 2x2, C5 120@5x5, F6 84.

    Input 32x32: 28x28 images are centred with a 2-pixel border, as in the paper. Pixels are
    mapped to [-0.1, 1.175] (the paper's background/foreground levels). The squashing
    function is the paper's scaled tanh, 1.7159 tanh(2x/3). C3 uses the paper's sparse
    connection table (Table I; ``c3_table=False`` connects every S2 map instead).
    Deviations: S2/S4 are plain average pooling (the paper's subsampling units had a
    trainable coefficient and bias); the output is a softmax layer instead of Euclidean
    RBF units.
    """
    squash = scaled_tanh if activation == "tanh" else activation
    inputs = keras.Input(input_shape, name="image")
    x = layers.Rescaling(1.275 / 255.0, offset=-0.1, name="pixel_levels")(inputs)
    x = layers.Conv2D(6, 5, activation=squash, name="C1")(x)
    x = layers.AveragePooling2D(2, name="S2")(x)
    if c3_table:
        x = ConnectionTableConv2D(16, 5, LENET5_C3_TABLE, activation=squash, name="C3")(x)
    else:
        x = layers.Conv2D(16, 5, activation=squash, name="C3")(x)
    x = layers.AveragePooling2D(2, name="S4")(x)
    x = layers.Conv2D(120, 5, activation=squash, name="C5")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(84, activation=squash, name="F6")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="output", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="lenet5")


@keras.saving.register_keras_serializable(package="convsuite")
def scaled_tanh(x):
    """LeCun's squashing function f(a) = 1.7159 tanh(2a/3) (LeCun et al. 1998, App. A)."""
    return 1.7159 * ops.tanh(x * (2.0 / 3.0))


# --------------------------------------------------------------------------- MCDNN

@keras.saving.register_keras_serializable(package="convsuite")
class ImagePreprocessing(layers.Layer):
    """A fixed per-image preprocessing, one per MCDNN column (Ciresan et al. 2012, Sec. 3).

    ``none`` scales to [0, 1]; ``contrast`` standardises each image (global contrast
    normalisation); ``histeq`` equalises each image's grey-level histogram.
    """

    MODES = ("none", "contrast", "histeq")

    def __init__(self, mode="none", **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"preprocessing mode must be one of {self.MODES}, got {mode!r}")
        self.mode = mode

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        if self.mode == "none":
            return x / 255.0
        if self.mode == "contrast":
            mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
            std = ops.std(x, axis=(1, 2, 3), keepdims=True)
            return (x - mean) / (std + 1.0)
        # Histogram equalisation: each pixel becomes the fraction of its image's pixels
        # at or below its grey level (the empirical CDF), computed on 256 levels.
        batch = ops.shape(x)[0]
        levels = ops.cast(ops.clip(ops.round(x), 0, 255), "int32")
        flat = ops.reshape(levels, (batch, -1))
        counts = ops.sum(ops.one_hot(flat, 256), axis=1)  # (batch, 256)
        cdf = ops.cumsum(counts, axis=1) / ops.cast(ops.shape(flat)[1], "float32")
        equalised = ops.take_along_axis(cdf, flat, axis=1)
        return ops.reshape(equalised, ops.shape(x))

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="convsuite")
class ElasticDistortion(layers.Layer):
    """Training-time elastic + affine distortion (Simard, Steinkraus & Platt 2003), the
    augmentation Ciresan et al. 2012 used for every MCDNN column.

    A random displacement field, uniform in [-1, 1], is smoothed by a Gaussian of width
    ``sigma`` and scaled by ``alpha`` pixels; a random rotation (degrees) and scaling (fraction)
    are added; pixels are resampled bilinearly. The identity at inference.
    """

    def __init__(self, alpha=8.0, sigma=4.0, rotation=10.0, scale=0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha, self.sigma, self.rotation, self.scale = float(alpha), float(sigma), float(rotation), float(scale)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        radius = max(1, int(math.ceil(2 * self.sigma)))
        grid = [math.exp(-0.5 * (i / self.sigma) ** 2) for i in range(-radius, radius + 1)]
        total = sum(grid)
        self.kernel_1d = [g / total for g in grid]

    def _smooth(self, field):
        # Separable Gaussian blur of a (batch, H, W, 2) field with depthwise convolutions.
        k = ops.convert_to_tensor(self.kernel_1d, dtype="float32")
        n = len(self.kernel_1d)
        vertical = ops.tile(ops.reshape(k, (n, 1, 1, 1)), (1, 1, 2, 1))
        horizontal = ops.tile(ops.reshape(k, (1, n, 1, 1)), (1, 1, 2, 1))
        field = ops.depthwise_conv(field, vertical, padding="same")
        return ops.depthwise_conv(field, horizontal, padding="same")

    def call(self, inputs, training=False):
        if not training or (self.alpha == 0 and self.rotation == 0 and self.scale == 0):
            return inputs
        x = ops.cast(inputs, "float32")
        height, width = int(x.shape[1]), int(x.shape[2])
        batch = ops.shape(x)[0]
        field = keras.random.uniform((batch, height, width, 2), -1.0, 1.0, seed=self.seed_generator)
        field = self._smooth(field) * self.alpha
        angle = keras.random.uniform((batch, 1, 1), -1.0, 1.0, seed=self.seed_generator) * (self.rotation * math.pi / 180)
        zoom = 1.0 + keras.random.uniform((batch, 1, 1), -1.0, 1.0, seed=self.seed_generator) * self.scale
        cy, cx = (height - 1) / 2, (width - 1) / 2
        yy = ops.reshape(ops.cast(ops.arange(height), "float32") - cy, (1, height, 1))
        xx = ops.reshape(ops.cast(ops.arange(width), "float32") - cx, (1, 1, width))
        cos, sin = ops.cos(angle), ops.sin(angle)
        src_y = (cos * yy - sin * xx) / zoom + cy + field[..., 0]
        src_x = (sin * yy + cos * xx) / zoom + cx + field[..., 1]
        warped = bilinear_sample(x, src_y, src_x)
        return ops.cast(warped, inputs.dtype) if inputs.dtype != "float32" else warped

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "sigma": self.sigma, "rotation": self.rotation,
                "scale": self.scale, "seed": self.seed}


def bilinear_sample(images, src_y, src_x):
    """Sample (batch, H, W, C) images at fractional (batch, H, W) source coordinates;
    points outside the image read as 0. Works with a dynamic batch size on every backend."""
    height, width = int(images.shape[1]), int(images.shape[2])
    flat = ops.reshape(images, (ops.shape(images)[0], height * width, images.shape[3]))
    zeros = ops.zeros_like(flat, dtype="int32")
    y0, x0 = ops.floor(src_y), ops.floor(src_x)
    result = 0.0
    for dy in (0.0, 1.0):
        for dx in (0.0, 1.0):
            yi, xi = y0 + dy, x0 + dx
            weight = (1.0 - ops.abs(src_y - yi)) * (1.0 - ops.abs(src_x - xi))
            inside = (yi >= 0) & (yi <= height - 1) & (xi >= 0) & (xi <= width - 1)
            weight = ops.where(inside, weight, 0.0)
            index = ops.cast(ops.clip(yi, 0, height - 1) * width + ops.clip(xi, 0, width - 1), "int32")
            index = ops.reshape(index, (-1, height * width, 1)) + zeros
            values = ops.take_along_axis(flat, index, axis=1)
            result = result + values * ops.reshape(weight, (-1, height * width, 1))
    return ops.reshape(result, ops.shape(images))


def mcdnn_column(input_shape=(28, 28, 1), num_classes=10, preprocessing="none", architecture="ciresan2012",
                 distortion=None, dropout=0.0, name="column") -> keras.Model:
    """One column ("DNN") of the multi-column deep net (Ciresan, Meier & Schmidhuber 2012,
    "Multi-column deep neural networks for image classification", CVPR).

    ``ciresan2012``: the paper's MNIST column, conv 20@4x4 - maxpool 2 - conv 40@5x5 - maxpool 3
    - dense 150 - softmax, scaled-tanh units. ``wide``: a deeper column for harder sets
    (conv 32,32 3x3 - maxpool - conv 64,64 3x3 - maxpool - dense 256, BN + ReLU, dropout),
    our deviation for Fashion-MNIST where the paper's column is too small to reach 0.92.
    ``distortion`` holds ElasticDistortion arguments (None: no augmentation).
    """
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    if distortion:
        x = ElasticDistortion(**distortion, name="distortion")(x)
    x = ImagePreprocessing(preprocessing, name="preprocessing")(x)
    if architecture == "ciresan2012":
        x = layers.Conv2D(20, 4, activation=scaled_tanh, name="conv1")(x)
        x = layers.MaxPooling2D(2, name="pool1")(x)
        x = layers.Conv2D(40, 5, activation=scaled_tanh, name="conv2")(x)
        x = layers.MaxPooling2D(3, name="pool2")(x)
        x = layers.Flatten()(x)
        x = layers.Dense(150, activation=scaled_tanh, name="dense")(x)
    elif architecture == "wide":
        for i, filters in enumerate((32, 32, 64, 64)):
            x = ConvBNAct(filters, 3, name=f"conv{i + 1}")(x)
            if i % 2 == 1:
                x = layers.MaxPooling2D(2, name=f"pool{i // 2 + 1}")(x)
        x = layers.Flatten()(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Dense(256, activation="relu", name="dense")(x)
        x = layers.Dropout(dropout, name="dropout_dense")(x)
    else:
        raise ValueError(f"MCDNN column architecture must be 'ciresan2012' or 'wide', got {architecture!r}")
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def multi_column(columns: list[keras.Model], name="mcdnn") -> keras.Model:
    """Average the class probabilities of independently trained columns (the MCDNN output)."""
    inputs = keras.Input(columns[0].input_shape[1:], name="image")
    outputs = [column(inputs) for column in columns]
    averaged = layers.Average(name="average")(outputs) if len(outputs) > 1 else outputs[0]
    return keras.Model(inputs, averaged, name=name)


# --------------------------------------------------------------------------- ResNet

def small_resnet(input_shape=(32, 32, 3), num_classes=10, depth=20, width=16) -> keras.Model:
    """The CIFAR-10 ResNet of He, Zhang, Ren & Sun 2016 ("Deep residual learning for image
    recognition", Sec. 4.2): a 3x3 conv, three stages of n basic blocks with 16/32/64 filters
    (stride 2 between stages), global average pooling and softmax; depth = 6n + 2.

    Deviation: the shortcut across a stage change is a 1x1 strided projection (the paper's
    option B) rather than zero-padding (option A).
    """
    if (depth - 2) % 6:
        raise ValueError(f"ResNet depth must be 6n+2 (20, 32, 44, 56, 110), got {depth}")
    blocks_per_stage = (depth - 2) // 6
    inputs = keras.Input(input_shape, name="image")
    x = layers.Rescaling(1.0 / 255.0, name="scale")(inputs)
    x = ConvBNAct(width, 3, name="stem")(x)
    for stage in range(3):
        for block in range(blocks_per_stage):
            strides = 2 if stage > 0 and block == 0 else 1
            x = ResidualBlock(width * 2**stage, 3, strides=strides, name=f"stage{stage + 1}_block{block + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs, name=f"resnet{depth}")


# --------------------------------------------------------------------------- registry

# The input each architecture was published for, used when no data fixes it (bench, tests).
DEFAULT_INPUT_SHAPES = {"lenet5": (32, 32, 1), "mcdnn": (28, 28, 1), "resnet": (32, 32, 3)}


def _lenet5(experiment, input_shape, num_classes, column=0) -> keras.Model:
    cfg = experiment.model
    return lenet5(input_shape, num_classes, activation=cfg.activation, c3_table=cfg.c3_table)


def _mcdnn_column(experiment, input_shape, num_classes, column=0) -> keras.Model:
    cfg = experiment.model
    distortion = None
    if cfg.elastic_alpha or cfg.affine_rotation or cfg.affine_scale:
        distortion = dict(alpha=cfg.elastic_alpha, sigma=cfg.elastic_sigma, rotation=cfg.affine_rotation,
                          scale=cfg.affine_scale, seed=experiment.trainer.seed + column)
    preprocessing = cfg.column_preprocessing[column]
    return mcdnn_column(input_shape, num_classes, preprocessing=preprocessing, architecture=cfg.column_architecture,
                        distortion=distortion, dropout=cfg.column_dropout, name=f"column{column + 1}_{preprocessing}")


def _resnet(experiment, input_shape, num_classes, column=0) -> keras.Model:
    cfg = experiment.model
    return small_resnet(input_shape, num_classes, depth=cfg.resnet_depth, width=cfg.resnet_width)


# model.name -> builder(experiment, input_shape, num_classes, column); MCDNN builds one column at a time.
MODELS = {"lenet5": _lenet5, "mcdnn": _mcdnn_column, "resnet": _resnet}


def build_model(experiment, input_shape=None, num_classes: int = 10, column: int = 0) -> keras.Model:
    """The keras.Model ``experiment.model.name`` names (for MCDNN: column ``column``), for images
    of ``input_shape`` (default: the architecture's published input) and ``num_classes``."""
    name = experiment.model.name
    if name not in MODELS:
        raise ConvsuiteError(f"model.name must be one of {', '.join(MODELS)}, got {name!r}")
    shape = tuple(input_shape) if input_shape is not None else DEFAULT_INPUT_SHAPES[name]
    return MODELS[name](experiment, shape, num_classes, column=column)
