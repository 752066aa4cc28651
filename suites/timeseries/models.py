"""Models of the time-series suite.

Each function builds one published architecture as a keras.Model from ``keras.ops`` /
``keras.layers`` only (TensorFlow and JAX backends). Sequences are (batch, time, channels).

  tcn_forecaster          dilated causal CNN forecaster: TCN blocks (Bai, Kolter & Koltun 2018)
                          with WaveNet skip connections (van den Oord et al. 2016), conditional
                          inputs (Borovykh et al. 2017), non-crossing quantiles (Petnehazi 2019).
  tcn_sequence_model      the same trunk with a per-step or last-step head (adding, copy memory).
  fcn_classifier          fully convolutional classifier (Wang, Yan & Oates 2017), length-agnostic.
  resnet_classifier       residual classifier of the same paper (Wang, Yan & Oates 2017).
  inception_time_classifier  one InceptionTime network (Ismail Fawaz et al. 2020); the task
                          averages an ensemble of them.
  srcnn (anomaly.py)      SR-CNN of Ren et al. 2019.
"""

from __future__ import annotations

from typing import Sequence

import keras
import numpy as np
from keras import layers, ops

from convsuite.common.blocks import CausalResidualBlock
from convsuite.common.errors import ConvsuiteError

_register = keras.saving.register_keras_serializable(package="convsuite")


def receptive_field(kernel_size: int, dilations: Sequence[int], stacks: int = 1) -> int:
    """Input steps one output step sees: 1 + 2 (k-1) sum(d) per stack (two convs per block)."""
    return 1 + 2 * (int(kernel_size) - 1) * sum(int(d) for d in dilations) * int(stacks)


def _check_trunk(filters, kernel_size, dilations, stacks, normalization):
    if not dilations or any(int(d) < 1 for d in dilations):
        raise ConvsuiteError(f"dilations={list(dilations)} must be a non-empty list of positive ints, e.g. [1, 2, 4, 8]")
    if int(filters) < 1 or int(kernel_size) < 1 or int(stacks) < 1:
        raise ConvsuiteError(f"filters={filters}, kernel_size={kernel_size} and stacks={stacks} must be positive")
    if normalization not in ("weight", "layer", None, "none"):
        raise ConvsuiteError(f"normalization={normalization!r} must be 'weight', 'layer' or 'none'")


def _tcn_trunk(x, filters, kernel_size, dilations, stacks, dropout, normalization, skip_connections, seed):
    """The shared stack of causal residual blocks; returns the per-step features."""
    _check_trunk(filters, kernel_size, dilations, stacks, normalization)
    normalization = None if normalization == "none" else normalization
    skips = []
    index = 0
    for _ in range(int(stacks)):
        for dilation in dilations:
            index += 1
            x = CausalResidualBlock(filters, kernel_size=kernel_size, dilation_rate=int(dilation), dropout=dropout,
                                    normalization=normalization, seed=None if seed is None else seed + 2 * index,
                                    name=f"block{index}")(x)
            if skip_connections:
                skips.append(layers.Conv1D(filters, 1, name=f"skip{index}")(x))
    if skip_connections:  # WaveNet: sum of 1x1 projections of every block's output, then ReLU
        x = layers.Add(name="skip_sum")(skips) if len(skips) > 1 else skips[0]
        x = layers.Activation("relu", name="skip_relu")(x)
    return x


@_register
class ForecastHead(layers.Layer):
    """Per-step forecast of the next ``horizon`` values; with quantiles, non-crossing ones.

    The quantile nearest 0.5 is a free output; each quantile above it adds a softplus
    increment to the one below, each quantile below subtracts one from the one above, so
    q_1 <= q_2 <= ... holds by construction (a monotone parametrisation against quantile
    crossing; Petnehazi 2019 trains independent outputs with the pinball loss). Anchoring
    at the median lets a zero-initialised head start from the highway's point forecast.
    Output (batch, time, horizon) or (batch, time, horizon, len(quantiles)).
    """

    def __init__(self, horizon: int, quantiles: Sequence[float] | None = None, kernel_initializer="glorot_uniform",
                 **kwargs):
        super().__init__(**kwargs)
        self.horizon = int(horizon)
        self.quantiles = [float(q) for q in quantiles] if quantiles else None
        if self.horizon < 1:
            raise ConvsuiteError(f"horizon={horizon} must be >= 1")
        if self.quantiles is not None:
            qs = self.quantiles
            if any(not 0.0 < q < 1.0 for q in qs) or any(b <= a for a, b in zip(qs, qs[1:])):
                raise ConvsuiteError(f"quantiles={qs} must be strictly increasing values in (0, 1), e.g. [0.1, 0.5, 0.9]")
        self.num_quantiles = len(self.quantiles) if self.quantiles else 1
        self.middle = int(np.argmin([abs(q - 0.5) for q in self.quantiles])) if self.quantiles else 0
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.dense = layers.Dense(self.horizon * self.num_quantiles, kernel_initializer=self.kernel_initializer,
                                  dtype=self.dtype_policy, name="dense")

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, inputs):
        out = self.dense(inputs)
        if self.quantiles is None:
            return out
        shape = ops.shape(out)
        out = ops.reshape(out, (shape[0], shape[1], self.horizon, self.num_quantiles))
        m = self.middle
        median = out[..., m:m + 1]
        parts = []
        if m > 0:  # below the median: cumulative softplus steps downwards
            below = ops.flip(ops.cumsum(ops.flip(ops.softplus(out[..., :m]), axis=-1), axis=-1), axis=-1)
            parts.append(median - below)
        parts.append(median)
        if m + 1 < self.num_quantiles:
            parts.append(median + ops.cumsum(ops.softplus(out[..., m + 1:]), axis=-1))
        return ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape):
        base = (*input_shape[:-1], self.horizon)
        return base if self.quantiles is None else (*base, self.num_quantiles)

    def get_config(self):
        config = super().get_config()
        config.update(horizon=self.horizon, quantiles=self.quantiles,
                      kernel_initializer=keras.initializers.serialize(self.kernel_initializer))
        return config


@_register
class PinballLoss(keras.losses.Loss):
    """Mean pinball (quantile) loss over quantiles, horizons and steps (Koenker & Bassett 1978).

    ``y_true`` (batch, time, horizon); ``y_pred`` (batch, time, horizon, quantiles). The first
    ``skip_steps`` steps of each window are not scored: they see zero padding instead of a
    full receptive field (the warm-up of WaveNet-style training).
    """

    def __init__(self, quantiles: Sequence[float], skip_steps: int = 0, name="pinball", **kwargs):
        super().__init__(name=name, **kwargs)
        self.quantiles = [float(q) for q in quantiles]
        self.skip_steps = int(skip_steps)

    def call(self, y_true, y_pred):
        y_true, y_pred = y_true[:, self.skip_steps:], y_pred[:, self.skip_steps:]
        q = ops.convert_to_tensor(self.quantiles, dtype=y_pred.dtype)
        error = ops.expand_dims(ops.cast(y_true, y_pred.dtype), -1) - y_pred
        return ops.mean(ops.maximum(q * error, (q - 1.0) * error), axis=(-2, -1))

    def get_config(self):
        return {**super().get_config(), "quantiles": self.quantiles, "skip_steps": self.skip_steps}


@_register
class StepMeanSquaredError(keras.losses.Loss):
    """Mean squared error of sequence forecasts (batch, time, horizon), without the first
    ``skip_steps`` (warm-up) steps."""

    def __init__(self, skip_steps: int = 0, name="mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.skip_steps = int(skip_steps)

    def call(self, y_true, y_pred):
        y_true, y_pred = y_true[:, self.skip_steps:], y_pred[:, self.skip_steps:]
        return ops.mean(ops.square(ops.cast(y_true, y_pred.dtype) - y_pred), axis=-1)

    def get_config(self):
        return {**super().get_config(), "skip_steps": self.skip_steps}


@_register
class MedianAbsoluteError(keras.metrics.MeanMetricWrapper):
    """MAE of the point forecast or of the median (middle) quantile after the warm-up steps, so
    quantile and point runs log a comparable number."""

    def __init__(self, quantiles: Sequence[float] | None = None, skip_steps: int = 0, name="mae", dtype=None):
        self.quantiles = [float(q) for q in quantiles] if quantiles else None
        self.skip_steps = int(skip_steps)
        middle = None
        if self.quantiles:
            middle = int(np.argmin([abs(q - 0.5) for q in self.quantiles]))

        def error(y_true, y_pred):
            if middle is not None:
                y_pred = y_pred[..., middle]
            y_true, y_pred = y_true[:, self.skip_steps:], y_pred[:, self.skip_steps:]
            return ops.mean(ops.abs(ops.cast(y_true, y_pred.dtype) - y_pred), axis=-1)

        super().__init__(error, name=name, dtype=dtype)

    def get_config(self):
        return {"quantiles": self.quantiles, "skip_steps": self.skip_steps, "name": self.name, "dtype": self.dtype}


@_register
class AutoregressiveHighway(layers.Layer):
    """A linear autoregression on the last ``lags`` values of the target (input channel 0),
    forecasting ``horizon`` steps from every position; causal. Added to the CNN's forecast it
    is the "highway" of LSTNet (Lai, Chang, Yang & Liu 2018), which keeps the network's output
    on the input's scale and leaves the convolutions the non-linear remainder."""

    def __init__(self, lags: int, horizon: int, **kwargs):
        super().__init__(**kwargs)
        self.lags, self.horizon = int(lags), int(horizon)
        if self.lags < 1:
            raise ConvsuiteError(f"highway lags={lags} must be >= 1 (or leave the highway off with 0)")

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(self.lags, 1, self.horizon), initializer="zeros", name="kernel")
        self.bias = self.add_weight(shape=(self.horizon,), initializer="zeros", name="bias")

    def call(self, inputs):
        target = ops.pad(inputs[..., :1], [[0, 0], [self.lags - 1, 0], [0, 0]])
        return ops.conv(target, self.kernel, padding="valid") + self.bias

    @property
    def receptive_field(self) -> int:
        return self.lags

    padding = "causal"

    def initial_state(self, batch_size: int):
        return ops.zeros((batch_size, self.lags - 1, 1), dtype=self.compute_dtype)

    def step(self, x_t, state):
        """x_t (batch, 1, channels) -> (batch, 1, horizon), new state (the last lags-1 targets)."""
        window = ops.concatenate([state, x_t[..., :1]], axis=1)
        return ops.conv(window, self.kernel, padding="valid") + self.bias, window[:, 1:]

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.horizon)

    def get_config(self):
        return {**super().get_config(), "lags": self.lags, "horizon": self.horizon}


@_register
class AddPerQuantile(layers.Layer):
    """forecast (batch, time, horizon[, quantiles]) + highway (batch, time, horizon): the same
    shift for every quantile, so their order is kept."""

    def call(self, inputs):
        forecast, highway = inputs
        if len(forecast.shape) == 4:
            highway = ops.expand_dims(highway, -1)
        return forecast + highway

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def tcn_forecaster(num_inputs: int, horizon: int = 1, quantiles: Sequence[float] | None = None, filters: int = 64,
                   kernel_size: int = 3, dilations: Sequence[int] = (1, 2, 4, 8, 16, 32), stacks: int = 1,
                   dropout: float = 0.0, normalization: str | None = "weight", skip_connections: bool = True,
                   highway: int = 0, input_length: int | None = None, seed: int | None = 0,
                   name: str = "tcn_forecaster") -> keras.Model:
    """Dilated causal CNN forecaster: at every step t it forecasts steps t+1..t+horizon.

    The trunk is the TCN of Bai, Kolter & Koltun 2018 ("An Empirical Evaluation of Generic
    Convolutional and Recurrent Networks for Sequence Modeling"): residual blocks of two
    dilated causal convolutions with weight normalization and spatial dropout. With
    ``skip_connections`` the output reads the sum of 1x1 projections of every block, as in
    WaveNet (van den Oord et al. 2016). Channel 0 of the input is the target and the others
    are conditioning series, all seen through the same causal convolutions: the conditional
    architecture of Borovykh, Bohte & Oosterlee 2017 ("Conditional time series forecasting
    with convolutional neural networks"), with the input channels mixed in the first block
    rather than by separate per-series convolutions. ``quantiles`` gives quantile forecasts
    trained with the pinball loss (Petnehazi 2019, "QCNN: Quantile Convolutional Neural
    Network"), made non-crossing by ``ForecastHead``. ``highway`` > 0 adds a linear
    autoregression on that many past target values (LSTNet's highway; see
    ``AutoregressiveHighway``).

    Training on every step of a window (sequence-to-sequence) is the WaveNet practice; the
    forecast from a window is the last step's output. Output (batch, time, horizon) or
    (batch, time, horizon, quantiles). Causal: output t depends only on inputs <= t.
    """
    inputs = keras.Input((input_length, int(num_inputs)), name="series")
    x = _tcn_trunk(inputs, filters, kernel_size, dilations, stacks, dropout, normalization, skip_connections, seed)
    # With a highway the head starts at zero: the model begins as the linear autoregression.
    outputs = ForecastHead(horizon, quantiles, kernel_initializer="zeros" if highway else "glorot_uniform",
                           name="forecast")(x)
    if highway:
        linear = AutoregressiveHighway(highway, horizon, name="highway")(inputs)
        outputs = AddPerQuantile(name="forecast_plus_highway")([outputs, linear])
    model = keras.Model(inputs, outputs, name=name)
    model.receptive_field = receptive_field(kernel_size, dilations, stacks)
    return model


@_register
class OneHot(layers.Layer):
    """Integer tokens (batch, time) -> one-hot vectors (batch, time, depth)."""

    def __init__(self, depth: int, **kwargs):
        super().__init__(**kwargs)
        self.depth = int(depth)

    def call(self, inputs):
        return ops.one_hot(ops.cast(inputs, "int32"), self.depth, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.depth)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth}


@_register
class LastStep(layers.Layer):
    """The last time step of a sequence: (batch, time, channels) -> (batch, channels)."""

    def call(self, inputs):
        return inputs[:, -1, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


def tcn_sequence_model(num_inputs: int, num_outputs: int, output: str = "sequence", vocabulary: int = 0,
                       filters: int = 30, kernel_size: int = 8, dilations: Sequence[int] = (1, 2, 4, 8, 16, 32),
                       stacks: int = 1, dropout: float = 0.0, normalization: str | None = "weight",
                       skip_connections: bool = False, input_length: int | None = None, seed: int | None = 0,
                       name: str = "tcn") -> keras.Model:
    """The TCN of Bai, Kolter & Koltun 2018 for their synthetic stress tests.

    ``output='last'``: a linear read-out of the last step (the adding problem). ``'sequence'``:
    a softmax over ``num_outputs`` classes at every step (copy memory); ``vocabulary`` > 0
    one-hot encodes integer input tokens first.
    """
    if output not in ("last", "sequence"):
        raise ConvsuiteError(f"output={output!r} must be 'last' or 'sequence'")
    if vocabulary:
        inputs = keras.Input((input_length,), dtype="int32", name="tokens")
        x = OneHot(vocabulary, name="one_hot")(inputs)
    else:
        inputs = keras.Input((input_length, int(num_inputs)), name="series")
        x = inputs
    x = _tcn_trunk(x, filters, kernel_size, dilations, stacks, dropout, normalization, skip_connections, seed)
    if output == "last":
        outputs = layers.Dense(num_outputs, name="readout")(LastStep(name="last_step")(x))
    else:
        outputs = layers.Dense(num_outputs, activation="softmax", name="readout")(x)
    model = keras.Model(inputs, outputs, name=name)
    model.receptive_field = receptive_field(kernel_size, dilations, stacks)
    return model


@_register
class SequenceMask(layers.Layer):
    """1.0 at steps where every channel is finite, 0.0 at NaN padding: (batch, time, 1)."""

    def call(self, inputs):
        finite = ops.all(ops.isfinite(inputs), axis=-1, keepdims=True)
        return ops.cast(finite, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1)


@_register
class ZeroPadded(layers.Layer):
    """Replace NaN padding by zeros so convolutions see the usual zero 'same' padding."""

    def call(self, inputs):
        return ops.where(ops.isfinite(inputs), inputs, ops.zeros_like(inputs))


@_register
class MaskedGlobalAveragePooling1D(layers.Layer):
    """Mean over the valid (mask = 1) steps of each sequence: [features, mask] -> (batch, channels)."""

    def call(self, inputs):
        x, mask = inputs
        total = ops.sum(x * mask, axis=1)
        return total / ops.maximum(ops.sum(mask, axis=1), 1.0)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], input_shape[0][-1])


def fcn_classifier(num_channels: int, num_classes: int, filters: Sequence[int] = (128, 256, 128),
                   kernel_sizes: Sequence[int] = (8, 5, 3), input_length: int | None = None,
                   name: str = "fcn") -> keras.Model:
    """Fully convolutional network for time-series classification (Wang, Yan & Oates 2017,
    "Time Series Classification from Scratch with Deep Neural Networks: A Strong Baseline").

    Three Conv1D ('same') -> BatchNorm -> ReLU blocks with 128/256/128 filters of sizes 8/5/3,
    global average pooling and a softmax, as in the paper. Any length and any number of input
    channels (multivariate). Variable length: series padded at the end with NaN are masked;
    features are zeroed at padded steps after every block and the pooling averages only the
    valid steps, so a padded series is classified exactly as the unpadded one at inference.
    (Batch statistics during training still include the zeroed steps.)
    """
    if len(filters) != len(kernel_sizes) or not filters:
        raise ConvsuiteError(f"filters {list(filters)} and kernel_sizes {list(kernel_sizes)} must be equally long lists")
    inputs = keras.Input((input_length, int(num_channels)), name="series")
    mask = SequenceMask(name="mask")(inputs)
    x = ZeroPadded(name="zero_padded")(inputs)
    for i, (f, k) in enumerate(zip(filters, kernel_sizes), start=1):
        x = layers.Conv1D(int(f), int(k), padding="same", name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.Activation("relu", name=f"relu{i}")(x)
        x = layers.Multiply(name=f"masked{i}")([x, mask])
    x = MaskedGlobalAveragePooling1D(name="gap")([x, mask])
    outputs = layers.Dense(int(num_classes), activation="softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


@_register
class MaskedMaxPooling1D(layers.Layer):
    """Max pooling (stride 1, 'same') over valid steps only: [features, mask] -> features.

    Padded steps enter the windows as -inf, as Keras' own 'same' padding does beyond the
    end of a series, and come out as zeros, so a padded series pools like the unpadded one."""

    def __init__(self, pool_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)

    def call(self, inputs):
        x, mask = inputs
        valid = ops.broadcast_to(mask > 0, ops.shape(x))
        pooled = ops.max_pool(ops.where(valid, x, float("-inf")), self.pool_size, strides=1, padding="same")
        return ops.where(valid, pooled, ops.zeros_like(pooled))

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}


def _check_classifier(num_channels, num_classes, **lists) -> None:
    if int(num_channels) < 1 or int(num_classes) < 2:
        raise ConvsuiteError(f"a classifier needs >= 1 input channel and >= 2 classes, got {num_channels} and "
                             f"{num_classes}")
    for key, values in lists.items():
        if not values or any(int(v) < 1 for v in values):
            raise ConvsuiteError(f"{key}={list(values)} must be a non-empty list of positive ints")


def resnet_classifier(num_channels: int, num_classes: int, filters: Sequence[int] = (64, 128, 128),
                      kernel_sizes: Sequence[int] = (8, 5, 3), input_length: int | None = None,
                      name: str = "resnet") -> keras.Model:
    """Residual network for time-series classification (Wang, Yan & Oates 2017, "Time Series
    Classification from Scratch with Deep Neural Networks: A Strong Baseline"); Fawaz et al.
    2019 ("Deep learning for time series classification: a review") found it the strongest of
    nine deep classifiers on the UCR archive.

    Three residual blocks of 64/128/128 filters; each block is three Conv1D ('same') + BatchNorm
    layers of kernel sizes 8/5/3, with ReLU after the first two and after the sum with the
    shortcut. The shortcut is a 1x1 convolution + BatchNorm where the block changes the channel
    count, BatchNorm alone where it does not (the paper's third block), as in the authors' code.
    Global average pooling and a softmax. Variable length: NaN padding is masked as in
    ``fcn_classifier`` (features zeroed at padded steps before every convolution, pooling over
    valid steps), so a padded series is classified exactly as the unpadded one at inference.
    """
    _check_classifier(num_channels, num_classes, filters=filters, kernel_sizes=kernel_sizes)
    inputs = keras.Input((input_length, int(num_channels)), name="series")
    mask = SequenceMask(name="mask")(inputs)
    x = ZeroPadded(name="zero_padded")(inputs)
    channels = int(num_channels)
    for b, width in enumerate(filters, start=1):
        block_input = x
        for i, k in enumerate(kernel_sizes, start=1):
            x = layers.Conv1D(int(width), int(k), padding="same", name=f"block{b}_conv{i}")(x)
            x = layers.BatchNormalization(name=f"block{b}_bn{i}")(x)
            if i < len(kernel_sizes):
                x = layers.Activation("relu", name=f"block{b}_relu{i}")(x)
                x = layers.Multiply(name=f"block{b}_masked{i}")([x, mask])
        shortcut = block_input
        if channels != int(width):
            shortcut = layers.Conv1D(int(width), 1, padding="same", name=f"block{b}_shortcut_conv")(shortcut)
        shortcut = layers.BatchNormalization(name=f"block{b}_shortcut_bn")(shortcut)
        x = layers.Add(name=f"block{b}_add")([shortcut, x])
        x = layers.Activation("relu", name=f"block{b}_relu")(x)
        x = layers.Multiply(name=f"block{b}_masked")([x, mask])
        channels = int(width)
    x = MaskedGlobalAveragePooling1D(name="gap")([x, mask])
    outputs = layers.Dense(int(num_classes), activation="softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


def _inception_module(x, mask, filters: int, bottleneck: int, kernel_sizes: Sequence[int], prefix: str):
    """Bottleneck, parallel convolutions of several lengths and a max-pool branch, concatenated."""
    branch_input = x
    if bottleneck and int(x.shape[-1]) > 1:  # the authors' code skips the bottleneck on one channel
        branch_input = layers.Conv1D(bottleneck, 1, padding="same", use_bias=False, name=f"{prefix}_bottleneck")(x)
    branches = [layers.Conv1D(filters, int(k), padding="same", use_bias=False, name=f"{prefix}_conv{k}")(branch_input)
                for k in kernel_sizes]
    pooled = MaskedMaxPooling1D(3, name=f"{prefix}_maxpool")([x, mask])
    branches.append(layers.Conv1D(filters, 1, padding="same", use_bias=False, name=f"{prefix}_pool_conv")(pooled))
    x = layers.Concatenate(axis=-1, name=f"{prefix}_concat")(branches)
    x = layers.BatchNormalization(name=f"{prefix}_bn")(x)
    x = layers.Activation("relu", name=f"{prefix}_relu")(x)
    return layers.Multiply(name=f"{prefix}_masked")([x, mask])


def inception_time_classifier(num_channels: int, num_classes: int, filters: int = 32, bottleneck: int = 32,
                              kernel_sizes: Sequence[int] = (40, 20, 10), depth: int = 6, residual_every: int = 3,
                              input_length: int | None = None, name: str = "inception") -> keras.Model:
    """One network of InceptionTime (Ismail Fawaz et al. 2020, "InceptionTime: Finding AlexNet
    for Time Series Classification"). The paper's classifier is an ensemble of five such
    networks, trained from different initialisations, whose class probabilities are averaged;
    the classify task trains the members (``model.ensemble``).

    ``depth`` Inception modules: a 1x1 bottleneck to ``bottleneck`` channels (skipped on a
    one-channel input, as in the authors' code), parallel convolutions of lengths 40/20/10 and
    a max-pool (3) + 1x1 convolution branch, ``filters`` each, concatenated, BatchNorm, ReLU.
    Every ``residual_every`` modules a shortcut (1x1 convolution + BatchNorm) from the last
    shortcut's output is added, then ReLU. Global average pooling and a softmax. Convolutions
    have no bias (BatchNorm follows). NaN padding is masked as in ``fcn_classifier``; the
    max-pool branch ignores padded steps.
    """
    _check_classifier(num_channels, num_classes, kernel_sizes=kernel_sizes)
    if int(filters) < 1 or int(bottleneck) < 0 or int(depth) < 1 or int(residual_every) < 0:
        raise ConvsuiteError(f"filters={filters}, depth={depth} must be >= 1 and bottleneck={bottleneck}, "
                             f"residual_every={residual_every} >= 0")
    inputs = keras.Input((input_length, int(num_channels)), name="series")
    mask = SequenceMask(name="mask")(inputs)
    x = ZeroPadded(name="zero_padded")(inputs)
    residual = x
    for d in range(1, int(depth) + 1):
        x = _inception_module(x, mask, int(filters), int(bottleneck), kernel_sizes, prefix=f"module{d}")
        if residual_every and d % int(residual_every) == 0:
            shortcut = layers.Conv1D(int(x.shape[-1]), 1, padding="same", use_bias=False,
                                     name=f"shortcut{d}_conv")(residual)
            shortcut = layers.BatchNormalization(name=f"shortcut{d}_bn")(shortcut)
            x = layers.Add(name=f"shortcut{d}_add")([shortcut, x])
            x = layers.Activation("relu", name=f"shortcut{d}_relu")(x)
            x = layers.Multiply(name=f"shortcut{d}_masked")([x, mask])
            residual = x
    x = MaskedGlobalAveragePooling1D(name="gap")([x, mask])
    outputs = layers.Dense(int(num_classes), activation="softmax", name="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------- registry

def _tcn_kwargs(model_cfg, seed: int) -> dict:
    return dict(filters=model_cfg.filters, kernel_size=model_cfg.kernel_size, dilations=model_cfg.dilations,
                stacks=model_cfg.stacks, dropout=model_cfg.dropout, normalization=model_cfg.normalization,
                skip_connections=model_cfg.skip_connections, seed=seed)


def _tcn(experiment, num_inputs: int = 1, num_outputs: int = 1) -> keras.Model:
    """The TCN of the experiment's task: a forecaster, or the adding / copy-memory model."""
    m, d, seed = experiment.model, experiment.data, experiment.trainer.seed
    if d.task == "forecast":
        horizon = 1 if d.forecast == "recursive" else d.horizon
        return tcn_forecaster(num_inputs, horizon=horizon, quantiles=m.quantiles or None, highway=m.highway,
                              **_tcn_kwargs(m, seed))
    if d.task == "adding":
        return tcn_sequence_model(2, 1, output="last", name="tcn_adding", **_tcn_kwargs(m, seed))
    if d.task == "copy":
        return tcn_sequence_model(0, 10, output="sequence", vocabulary=10, name="tcn_copy", **_tcn_kwargs(m, seed))
    raise ConvsuiteError(f"model.name=tcn serves data.task forecast, adding or copy, not {d.task!r}")


def _fcn(experiment, num_inputs: int = 1, num_outputs: int = 2) -> keras.Model:
    m = experiment.model
    return fcn_classifier(num_inputs, num_outputs, filters=m.fcn_filters, kernel_sizes=m.fcn_kernel_sizes)


def _resnet(experiment, num_inputs: int = 1, num_outputs: int = 2) -> keras.Model:
    m = experiment.model
    return resnet_classifier(num_inputs, num_outputs, filters=m.resnet_filters, kernel_sizes=m.resnet_kernel_sizes)


def _inception(experiment, num_inputs: int = 1, num_outputs: int = 2) -> keras.Model:
    m = experiment.model
    return inception_time_classifier(num_inputs, num_outputs, filters=m.inception_filters,
                                     bottleneck=m.inception_bottleneck, kernel_sizes=m.inception_kernel_sizes,
                                     depth=m.inception_depth)


def _srcnn(experiment, num_inputs: int = 1, num_outputs: int = 1) -> keras.Model:
    from convsuite.suites.timeseries.anomaly import srcnn

    return srcnn(experiment.model.srcnn_window)


# model.name -> builder(experiment, num_inputs, num_outputs); the counts come from the data.
MODELS = {"tcn": _tcn, "fcn": _fcn, "resnet": _resnet, "inception": _inception, "srcnn": _srcnn}


def build_model(experiment, num_inputs: int = 1, num_outputs: int | None = None) -> keras.Model:
    """The keras.Model ``experiment.model.name`` names for the experiment's task, with
    ``num_inputs`` channels and (classification) ``num_outputs`` classes."""
    name = experiment.model.name
    if name not in MODELS:
        raise ConvsuiteError(f"model.name must be one of {', '.join(MODELS)}, got {name!r}")
    dims = {"num_inputs": num_inputs} if num_outputs is None else {"num_inputs": num_inputs, "num_outputs": num_outputs}
    return MODELS[name](experiment, **dims)
