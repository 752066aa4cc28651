"""Shared Keras 3 layer blocks that every convsuite domain builds on.

Every block is written with ``keras.ops`` / ``keras.layers`` only (no ``tf.*``, no ``jax.*``),
so the same model runs on the TensorFlow, JAX and PyTorch backends. Each is registered with
``keras.saving.register_keras_serializable(package="convsuite")``: importing this module is
all ``keras.saving.load_model(path)`` needs to load a ``.keras`` file that uses them.
Tensors are channels-last: (batch, height, width, channels), (batch, time, channels).

Blocks:
  ConvBNAct             Conv{1,2,3}D -> BatchNorm -> activation.
  ResidualBlock         He et al. 2016 basic block.
  CausalResidualBlock   Bai, Kolter & Koltun 2018 TCN block (dilated causal, weight norm).
  LocallyConnected2D    unshared per-position weights (Taigman et al. 2014, DeepFace).
  MaxPooling2D, AveragePooling2D   re-exported from keras, so pooling has one import place.
  L2Pooling2D           sqrt of the windowed sum of squares (Sermanet et al. 2012).
  StochasticPooling2D   Zeiler & Fergus 2013.
  RoIMaxPooling2D       Fast R-CNN RoI max pooling (Girshick 2015).
  DropConnectDense      Wan et al. 2013.

Max-norm regularisation (Srebro & Shraibman 2005; used with dropout by Srivastava et al. 2014)
is ``keras.constraints.MaxNorm`` (re-exported here as ``MaxNorm``): pass it as
``kernel_constraint=MaxNorm(3.0)`` to ``ConvBNAct``, ``keras.layers.Dense`` or any Keras conv.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from convsuite.common.errors import ConvsuiteError

MaxPooling2D = layers.MaxPooling2D
AveragePooling2D = layers.AveragePooling2D
MaxNorm = keras.constraints.MaxNorm

__all__ = [
    "ConvBNAct",
    "ResidualBlock",
    "CausalResidualBlock",
    "LocallyConnected2D",
    "MaxPooling2D",
    "AveragePooling2D",
    "L2Pooling2D",
    "StochasticPooling2D",
    "RoIMaxPooling2D",
    "DropConnectDense",
    "MaxNorm",
]

_register = keras.saving.register_keras_serializable(package="convsuite")


# --------------------------------------------------------------------------- helpers

def _tuple(value, n: int, name: str) -> tuple:
    """Broadcast an int (or length-n sequence) argument to an n-tuple of positive ints."""
    if isinstance(value, int):
        value = (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n or any(v < 1 for v in value):
        raise ConvsuiteError(f"{name}={value} must be a positive int or {n} positive ints; pass e.g. {name}=3")
    return value


def _padding(padding: str, allowed: tuple) -> str:
    padding = str(padding).lower()
    if padding not in allowed:
        raise ConvsuiteError(f"padding '{padding}' is not supported here; use one of {', '.join(allowed)}")
    return padding


def _out_and_pads(size, kernel: int, stride: int, padding: str):
    """Output length and (before, after) zero padding, with Keras/TF's 'same' convention."""
    if size is None:
        return None, (None, None)
    if padding == "valid":
        return (size - kernel) // stride + 1, (0, 0)
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, (total // 2, total - total // 2)  # the odd pixel goes after, as in Keras/TF


def _windows(x, pool: tuple, strides: tuple, padding: str) -> list:
    """The kh*kw strided views of x (B, H, W, C), row-major over the window, zero padded.

    View (i, j) holds, at output position (r, c), input pixel (r*sh + i, c*sw + j) of the
    padded image, so stacking the views gives every window without any gather.
    """
    height, width = x.shape[1], x.shape[2]
    if height is None or width is None:
        raise ConvsuiteError(
            f"input height/width ({height}, {width}) must be known when the layer runs; "
            "give keras.Input a fixed spatial shape"
        )
    out_h, pads_h = _out_and_pads(height, pool[0], strides[0], padding)
    out_w, pads_w = _out_and_pads(width, pool[1], strides[1], padding)
    if out_h < 1 or out_w < 1:
        raise ConvsuiteError(
            f"window {pool} does not fit the {height}x{width} input; use a smaller window or padding='same'"
        )
    if padding == "same" and (any(pads_h) or any(pads_w)):
        x = ops.pad(x, [[0, 0], list(pads_h), list(pads_w), [0, 0]])
    views = []
    for i in range(pool[0]):
        for j in range(pool[1]):
            views.append(x[:, i:i + strides[0] * (out_h - 1) + 1:strides[0],
                           j:j + strides[1] * (out_w - 1) + 1:strides[1], :])
    return views


def _pool_output_shape(input_shape, pool, strides, padding, channels=None):
    out_h, _ = _out_and_pads(input_shape[1], pool[0], strides[0], padding)
    out_w, _ = _out_and_pads(input_shape[2], pool[1], strides[1], padding)
    return (input_shape[0], out_h, out_w, input_shape[3] if channels is None else channels)


# --------------------------------------------------------------------------- conv blocks

@_register
class ConvBNAct(layers.Layer):
    """Conv{1,2,3}D -> BatchNormalization -> activation, the unit most CNNs repeat.

    Batch normalization (Ioffe & Szegedy 2015) follows the convolution, so the convolution
    has no bias when it is used (BN's beta replaces it). ``rank`` picks Conv1D/2D/3D;
    ``padding='causal'`` (rank 1 only) pads on the left so output t sees inputs <= t.
    ``kernel_constraint`` takes e.g. ``keras.constraints.MaxNorm(3.0)``.
    """

    def __init__(self, filters, kernel_size, rank=2, strides=1, padding="same", dilation_rate=1,
                 activation="relu", use_batch_norm=True, kernel_regularizer=None, kernel_constraint=None,
                 kernel_initializer="he_normal", bn_momentum=0.99, bn_epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        if rank not in (1, 2, 3):
            raise ConvsuiteError(f"rank={rank} is not supported; ConvBNAct needs rank 1, 2 or 3")
        self.filters = int(filters)
        self.rank = rank
        self.kernel_size = _tuple(kernel_size, rank, "kernel_size")
        self.strides = _tuple(strides, rank, "strides")
        self.dilation_rate = _tuple(dilation_rate, rank, "dilation_rate")
        self.padding = _padding(padding, ("valid", "same", "causal") if rank == 1 else ("valid", "same"))
        self.activation = keras.activations.get(activation)
        self.use_batch_norm = bool(use_batch_norm)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bn_momentum = bn_momentum
        self.bn_epsilon = bn_epsilon
        conv_class = {1: layers.Conv1D, 2: layers.Conv2D, 3: layers.Conv3D}[rank]
        self.conv = conv_class(
            self.filters, self.kernel_size, strides=self.strides, padding=self.padding,
            dilation_rate=self.dilation_rate, use_bias=not self.use_batch_norm,
            kernel_initializer=self.kernel_initializer, kernel_regularizer=self.kernel_regularizer,
            kernel_constraint=self.kernel_constraint, dtype=self.dtype_policy, name="conv",
        )
        self.bn = (layers.BatchNormalization(momentum=bn_momentum, epsilon=bn_epsilon,
                                             dtype=self.dtype_policy, name="bn")
                   if self.use_batch_norm else None)

    def build(self, input_shape):
        self.conv.build(input_shape)
        if self.bn is not None:
            self.bn.build(self.conv.compute_output_shape(input_shape))

    def call(self, inputs, training=None):
        x = self.conv(inputs)
        if self.bn is not None:
            x = self.bn(x, training=training)
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size, rank=self.rank, strides=self.strides,
            padding=self.padding, dilation_rate=self.dilation_rate,
            activation=keras.activations.serialize(self.activation), use_batch_norm=self.use_batch_norm,
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
            kernel_constraint=keras.constraints.serialize(self.kernel_constraint),
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bn_momentum=self.bn_momentum, bn_epsilon=self.bn_epsilon,
        )
        return config


@_register
class ResidualBlock(layers.Layer):
    """The basic residual block of He, Zhang, Ren & Sun 2016 ("Deep residual learning", Fig. 2).

    conv-BN-ReLU, conv-BN, plus the shortcut, then ReLU. The shortcut is the identity when
    the shape is kept and a strided 1x1 conv + BN projection (the paper's option B) when the
    stride or the channel count changes. ``receptive_field`` is k + (k-1)*stride per axis.
    """

    def __init__(self, filters, kernel_size=3, strides=1, rank=2, kernel_regularizer=None,
                 kernel_initializer="he_normal", **kwargs):
        super().__init__(**kwargs)
        if rank not in (1, 2, 3):
            raise ConvsuiteError(f"rank={rank} is not supported; ResidualBlock needs rank 1, 2 or 3")
        self.filters = int(filters)
        self.rank = rank
        self.kernel_size = _tuple(kernel_size, rank, "kernel_size")
        self.strides = _tuple(strides, rank, "strides")
        self.padding = "same"
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.conv1 = self._conv_bn(self.kernel_size, self.strides, "relu", "conv1")
        self.conv2 = self._conv_bn(self.kernel_size, 1, None, "conv2")
        self.shortcut = None

    def _conv_bn(self, kernel_size, strides, activation, name):
        return ConvBNAct(self.filters, kernel_size, rank=self.rank, strides=strides, activation=activation,
                         kernel_regularizer=self.kernel_regularizer, kernel_initializer=self.kernel_initializer,
                         dtype=self.dtype_policy, name=name)

    @property
    def receptive_field(self) -> tuple:
        return tuple(k + (k - 1) * s for k, s in zip(self.kernel_size, self.strides))

    def build(self, input_shape):
        if input_shape[-1] != self.filters or any(s != 1 for s in self.strides):
            self.shortcut = self._conv_bn(1, self.strides, None, "shortcut")
            self.shortcut.build(input_shape)
        self.conv1.build(input_shape)
        self.conv2.build(self.conv1.compute_output_shape(input_shape))

    def call(self, inputs, training=None):
        x = self.conv2(self.conv1(inputs, training=training), training=training)
        shortcut = inputs if self.shortcut is None else self.shortcut(inputs, training=training)
        return ops.relu(x + shortcut)

    def compute_output_shape(self, input_shape):
        return self.conv1.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                      rank=self.rank, kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
                      kernel_initializer=keras.initializers.serialize(self.kernel_initializer))
        return config


@_register
class CausalResidualBlock(layers.Layer):
    """The temporal-convolution (TCN) residual block of Bai, Kolter & Koltun 2018, Fig. 1(b).

    Twice: dilated causal Conv1D -> normalization -> activation -> spatial dropout; then the
    input (through a 1x1 conv when the channel counts differ) is added and the activation is
    applied. Causal: the input is padded (k-1)*d steps on the left only, so output t depends
    on inputs <= t, exactly. ``normalization='weight'`` is weight normalization (Salimans &
    Kingma 2016), w = g * v / ||v|| per output channel, with g initialised to ||v|| so the
    block starts from the initialiser's weights; ``'layer'`` uses LayerNormalization over
    channels; ``None`` uses plain convolutions. Dropout drops whole channels, as the paper
    says (its reference code drops elements).
    """

    def __init__(self, filters, kernel_size=3, dilation_rate=1, dropout=0.0, normalization="weight",
                 activation="relu", kernel_initializer="he_normal", seed=None, **kwargs):
        super().__init__(**kwargs)
        if normalization not in ("weight", "layer", None):
            raise ConvsuiteError(
                f"normalization={normalization!r} is not supported; use 'weight', 'layer' or None")
        if not 0.0 <= float(dropout) < 1.0:
            raise ConvsuiteError(f"dropout={dropout} must be in [0, 1); pass e.g. dropout=0.2")
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.dilation_rate = int(dilation_rate)
        if self.kernel_size < 1 or self.dilation_rate < 1:
            raise ConvsuiteError(
                f"kernel_size={kernel_size} and dilation_rate={dilation_rate} must be positive ints")
        self.dropout = float(dropout)
        self.normalization = normalization
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.seed = seed
        self.padding = "causal"
        self.norms = ([layers.LayerNormalization(axis=-1, dtype=self.dtype_policy, name=f"norm{i + 1}")
                       for i in range(2)] if normalization == "layer" else [])
        self.drops = ([layers.SpatialDropout1D(self.dropout, seed=None if seed is None else seed + i,
                                               dtype=self.dtype_policy, name=f"dropout{i + 1}")
                       for i in range(2)] if self.dropout > 0 else [])

    @property
    def receptive_field(self) -> int:
        """Input steps one output step sees: 1 + 2*(kernel_size-1)*dilation_rate."""
        return 1 + 2 * (self.kernel_size - 1) * self.dilation_rate

    def _add_conv_weights(self, index, in_channels):
        """kernel{index} (k, in, filters), g{index} (filters,) under weight norm, bias{index}."""
        kernel = self.add_weight(shape=(self.kernel_size, in_channels, self.filters),
                                 initializer=self.kernel_initializer, name=f"kernel{index}")
        setattr(self, f"kernel{index}", kernel)
        scale = None
        if self.normalization == "weight":
            scale = self.add_weight(
                shape=(self.filters,), name=f"g{index}",
                initializer=lambda shape, dtype=None: ops.cast(
                    ops.sqrt(ops.sum(ops.square(kernel.value), axis=(0, 1))), dtype or "float32"))
        setattr(self, f"g{index}", scale)
        setattr(self, f"bias{index}", self.add_weight(shape=(self.filters,), initializer="zeros",
                                                      name=f"bias{index}"))

    def build(self, input_shape):
        in_channels = input_shape[-1]
        if in_channels is None:
            raise ConvsuiteError("the channel count of the input must be known; give keras.Input a shape")
        self._add_conv_weights(1, in_channels)
        self._add_conv_weights(2, self.filters)
        out_shape = (*input_shape[:-1], self.filters)
        for norm in self.norms:
            norm.build(out_shape)
        for drop in self.drops:
            drop.build(out_shape)
        if in_channels != self.filters:
            self.residual_kernel = self.add_weight(shape=(1, in_channels, self.filters),
                                                   initializer=self.kernel_initializer, name="residual_kernel")
            self.residual_bias = self.add_weight(shape=(self.filters,), initializer="zeros",
                                                 name="residual_bias")
        else:
            self.residual_kernel = None

    @staticmethod
    def _effective_kernel(kernel, scale):
        """Weight normalization: w = g * v / ||v|| per output channel (or v as is)."""
        if scale is None:
            return kernel
        return kernel * (scale / ops.sqrt(ops.sum(ops.square(kernel), axis=(0, 1))))

    def _causal_conv(self, x, kernel, scale, bias):
        kernel = self._effective_kernel(kernel, scale)
        x = ops.pad(x, [[0, 0], [(self.kernel_size - 1) * self.dilation_rate, 0], [0, 0]])
        return ops.conv(x, kernel, strides=1, padding="valid", dilation_rate=self.dilation_rate) + bias

    def call(self, inputs, training=None):
        x = inputs
        for i, (kernel, scale, bias) in enumerate(((self.kernel1, self.g1, self.bias1),
                                                   (self.kernel2, self.g2, self.bias2))):
            x = self._causal_conv(x, kernel, scale, bias)
            if self.norms:
                x = self.norms[i](x)
            x = self.activation(x)
            if self.drops:
                x = self.drops[i](x, training=training)
        residual = inputs
        if self.residual_kernel is not None:
            residual = ops.conv(inputs, self.residual_kernel, padding="valid") + self.residual_bias
        return self.activation(x + residual)

    def initial_state(self, batch_size: int, in_channels: int):
        """Empty streaming caches: the last (k-1)*d inputs of each convolution, all zeros
        (what the causal padding feeds the first steps)."""
        history = (self.kernel_size - 1) * self.dilation_rate
        return (ops.zeros((batch_size, history, in_channels), dtype=self.compute_dtype),
                ops.zeros((batch_size, history, self.filters), dtype=self.compute_dtype))

    def step(self, x_t, state):
        """One inference step: x_t (batch, 1, channels) -> (output (batch, 1, filters), new state).

        The convolution runs on [cache, x_t] with 'valid' padding, which yields exactly the
        output the full causal sequence gives at that step."""
        outputs, new_state = x_t, []
        for i, (kernel, scale, bias) in enumerate(((self.kernel1, self.g1, self.bias1),
                                                   (self.kernel2, self.g2, self.bias2))):
            window = ops.concatenate([state[i], outputs], axis=1)
            new_state.append(window[:, 1:])
            outputs = ops.conv(window, self._effective_kernel(kernel, scale), strides=1, padding="valid", dilation_rate=self.dilation_rate) + bias
            if self.norms:
                outputs = self.norms[i](outputs)
            outputs = self.activation(outputs)
        residual = x_t
        if self.residual_kernel is not None:
            residual = ops.conv(x_t, self.residual_kernel, padding="valid") + self.residual_bias
        return self.activation(outputs + residual), tuple(new_state)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, dilation_rate=self.dilation_rate,
                      dropout=self.dropout, normalization=self.normalization,
                      activation=keras.activations.serialize(self.activation),
                      kernel_initializer=keras.initializers.serialize(self.kernel_initializer), seed=self.seed)
        return config


@_register
class LocallyConnected2D(layers.Layer):
    """A 2-D convolution whose weights are not shared: every output position has its own filter.

    Taigman, Yang, Ranzato & Wolf 2014 (DeepFace) used it on aligned faces, where each region
    has its own statistics. Keras 3 dropped the layer; this one takes the kh*kw strided views
    of the input (slicing, no gather) and contracts them with a kernel of shape
    (out_h*out_w, kh*kw*in_channels, filters); the bias has shape (out_h, out_w, filters).
    The input's height and width must be fixed.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", kernel_regularizer=None, kernel_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = _tuple(kernel_size, 2, "kernel_size")
        self.strides = _tuple(strides, 2, "strides")
        self.padding = _padding(padding, ("valid", "same"))
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)

    def build(self, input_shape):
        _, height, width, channels = input_shape
        if height is None or width is None or channels is None:
            raise ConvsuiteError(
                f"LocallyConnected2D needs a fixed input shape, got (height, width, channels)="
                f"({height}, {width}, {channels}); give keras.Input a full shape")
        _, out_h, out_w, _ = _pool_output_shape(input_shape, self.kernel_size, self.strides, self.padding)
        if out_h < 1 or out_w < 1:
            raise ConvsuiteError(f"kernel {self.kernel_size} does not fit the {height}x{width} input; "
                                 "use a smaller kernel or padding='same'")
        self.output_hw = (out_h, out_w)
        patch = self.kernel_size[0] * self.kernel_size[1] * channels
        # Fan-in is the patch size, as for a conv; 'positions' is only a batch of independent filters.
        self.kernel = self.add_weight(shape=(out_h * out_w, patch, self.filters), name="kernel",
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (self.add_weight(shape=(out_h, out_w, self.filters), initializer="zeros", name="bias")
                     if self.use_bias else None)

    def call(self, inputs):
        views = _windows(inputs, self.kernel_size, self.strides, self.padding)
        patches = ops.stack(views, axis=3)  # (B, out_h, out_w, kh*kw, C): row-major (kh, kw, C)
        out_h, out_w = self.output_hw
        patches = ops.reshape(patches, (-1, out_h * out_w, self.kernel.shape[1]))
        x = ops.einsum("bpk,pkf->bpf", patches, self.kernel)
        x = ops.reshape(x, (-1, out_h, out_w, self.filters))
        if self.bias is not None:
            x = x + self.bias
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return _pool_output_shape(input_shape, self.kernel_size, self.strides, self.padding, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                      padding=self.padding, activation=keras.activations.serialize(self.activation),
                      use_bias=self.use_bias,
                      kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
                      kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
                      kernel_constraint=keras.constraints.serialize(self.kernel_constraint))
        return config


# --------------------------------------------------------------------------- pooling

@_register
class L2Pooling2D(layers.Layer):
    """L2-norm pooling, sqrt(sum of x^2 over the window) (Sermanet, Chintala & LeCun 2012).

    Between average and max pooling; Sermanet et al. found it best for house-number digits.
    The windowed sum is a depthwise convolution with a kernel of ones (zero padding for
    'same'); the square root has a zero gradient, not NaN, on an all-zero window.
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = _tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else _tuple(strides, 2, "strides")
        self.padding = _padding(padding, ("valid", "same"))

    def call(self, inputs):
        channels = inputs.shape[-1]
        ones = ops.ones((*self.pool_size, channels, 1), dtype=inputs.dtype)
        total = ops.depthwise_conv(ops.square(inputs), ones, strides=self.strides, padding=self.padding)
        positive = total > 0
        return ops.where(positive, ops.sqrt(ops.where(positive, total, ops.ones_like(total))), 0.0)

    def compute_output_shape(self, input_shape):
        return _pool_output_shape(input_shape, self.pool_size, self.strides, self.padding)

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides, padding=self.padding)
        return config


@_register
class StochasticPooling2D(layers.Layer):
    """Stochastic pooling (Zeiler & Fergus 2013), a regulariser that needs no hyperparameter.

    Training: in each window one activation is drawn with probability p_i = a_i / sum(a)
    (inverse-CDF sampling with keras.random and the layer's SeedGenerator). Inference: the
    probability-weighted average sum(p_i * a_i) = sum(a^2) / sum(a). Inputs must be
    non-negative (e.g. after ReLU); an all-zero window gives 0. 'same' padding adds zeros,
    which are never drawn. The input's height and width must be known when it runs.
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = _tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else _tuple(strides, 2, "strides")
        self.padding = _padding(padding, ("valid", "same"))
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        a = ops.stack(_windows(inputs, self.pool_size, self.strides, self.padding), axis=-1)  # (..., C, K)
        total = ops.sum(a, axis=-1)
        positive = total > 0
        if not training:
            weighted = ops.sum(ops.square(a), axis=-1) / ops.where(positive, total, ops.ones_like(total))
            return ops.where(positive, weighted, 0.0)
        cdf = ops.cumsum(a, axis=-1)
        # u in (0, 1]: draw the first positive a_k with cdf_k >= u * total; P(k) = a_k / total.
        u = 1.0 - keras.random.uniform(ops.shape(total), dtype=a.dtype, seed=self.seed_generator)
        hit = ops.logical_and(cdf >= ops.expand_dims(u * cdf[..., -1], -1), a > 0)
        first = ops.logical_and(hit, ops.cumsum(ops.cast(hit, "int32"), axis=-1) == 1)
        return ops.sum(ops.where(first, a, ops.zeros_like(a)), axis=-1)

    def compute_output_shape(self, input_shape):
        return _pool_output_shape(input_shape, self.pool_size, self.strides, self.padding)

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides, padding=self.padding, seed=self.seed)
        return config


@_register
class RoIMaxPooling2D(layers.Layer):
    """RoI max pooling of Fast R-CNN (Girshick 2015, Sec. 2.1): any box -> a fixed ph x pw grid.

    call([features, rois]): features (B, H, W, C); rois (B, R, 4) as (y1, x1, y2, x2) in
    feature-map pixel coordinates, rounded to the nearest pixel (halves up) with y2, x2
    inclusive, as in the paper's Caffe layer. A box of h x w pixels (at least 1 x 1) is
    split into bins [floor(i*h/ph), ceil((i+1)*h/ph)), each at least one pixel, clipped to
    the map; the output (B, R, ph, pw, C) is the max in each bin, 0 for a bin off the map.
    Vectorised with masks over H and W (no loop over boxes), so it runs under jit on every
    backend; memory is O(B*R*H*W*C) per bin column.
    """

    def __init__(self, pooled_size=(7, 7), **kwargs):
        super().__init__(**kwargs)
        self.pooled_size = _tuple(pooled_size, 2, "pooled_size")

    @staticmethod
    def _bin_masks(start, end, bins, size, dtype):
        """(B, R, bins, size) masks of the pixels in each bin, and (B, R, bins) 'bin is empty'."""
        length = ops.expand_dims(ops.maximum(end - start + 1.0, 1.0), -1)
        index = ops.cast(ops.arange(bins), dtype)
        # Multiply before dividing: i*h is exact, so an exact edge never rounds across an integer.
        lo = ops.floor(index * length / bins) + ops.expand_dims(start, -1)
        hi = ops.ceil((index + 1.0) * length / bins) + ops.expand_dims(start, -1)
        lo = ops.clip(lo, 0.0, float(size) if isinstance(size, int) else ops.cast(size, dtype))
        hi = ops.clip(hi, 0.0, float(size) if isinstance(size, int) else ops.cast(size, dtype))
        pixel = ops.cast(ops.arange(size), dtype)
        mask = ops.logical_and(pixel >= ops.expand_dims(lo, -1), pixel < ops.expand_dims(hi, -1))
        return mask, hi <= lo

    def call(self, inputs):
        features, rois = inputs
        dtype = "float32"
        rois = ops.floor(ops.cast(rois, dtype) + 0.5)
        height, width = ops.shape(features)[1], ops.shape(features)[2]
        ph, pw = self.pooled_size
        mask_h, empty_h = self._bin_masks(rois[..., 0], rois[..., 2], ph, height, dtype)  # (B, R, ph, H)
        mask_w, empty_w = self._bin_masks(rois[..., 1], rois[..., 3], pw, width, dtype)   # (B, R, pw, W)
        low = ops.cast(float("-inf"), features.dtype)
        grid = ops.expand_dims(features, 1)  # (B, 1, H, W, C)
        columns = []
        for j in range(pw):  # max over W per bin column: (B, R, H, C)
            m = mask_w[:, :, j, :][:, :, None, :, None]  # (B, R, 1, W, 1)
            columns.append(ops.max(ops.where(m, grid, low), axis=3))
        columns = ops.stack(columns, axis=3)  # (B, R, H, pw, C)
        rows = []
        for i in range(ph):  # max over H per bin row: (B, R, pw, C)
            m = mask_h[:, :, i, :][:, :, :, None, None]  # (B, R, H, 1, 1)
            rows.append(ops.max(ops.where(m, columns, low), axis=2))
        pooled = ops.stack(rows, axis=2)  # (B, R, ph, pw, C)
        empty = ops.logical_or(empty_h[:, :, :, None], empty_w[:, :, None, :])[..., None]
        return ops.where(empty, ops.zeros_like(pooled), pooled)

    def compute_output_shape(self, input_shape):
        features, rois = input_shape
        return (features[0], rois[1], *self.pooled_size, features[3])

    def get_config(self):
        config = super().get_config()
        config.update(pooled_size=self.pooled_size)
        return config


# --------------------------------------------------------------------------- dense

@_register
class DropConnectDense(layers.Layer):
    """A dense layer regularised by DropConnect (Wan, Zeiler, Zhang, LeCun & Fergus 2013).

    Training: each weight of the kernel is dropped with probability ``drop_rate`` (one
    Bernoulli mask per call, shared by the batch, where the paper draws one per example)
    and the kept weights are scaled by 1/(1-drop_rate); the bias is not dropped.
    Inference: the plain weights, x @ W + b. Deviation: the paper's inference instead
    moment-matches a Gaussian over the masked pre-activations and samples it; the plain
    weights are the mean of that Gaussian and cost nothing extra.
    """

    def __init__(self, units, drop_rate=0.5, activation=None, seed=None, use_bias=True,
                 kernel_initializer="glorot_uniform", kernel_regularizer=None, kernel_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(drop_rate) < 1.0:
            raise ConvsuiteError(f"drop_rate={drop_rate} must be in [0, 1); pass e.g. drop_rate=0.5")
        self.units = int(units)
        self.drop_rate = float(drop_rate)
        self.activation = keras.activations.get(activation)
        self.seed = seed
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel",
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
                     if self.use_bias else None)

    def call(self, inputs, training=None):
        kernel = self.kernel
        if training and self.drop_rate > 0:
            draw = keras.random.uniform(kernel.shape, dtype=inputs.dtype, seed=self.seed_generator)
            keep = draw >= self.drop_rate
            kernel = kernel * (ops.cast(keep, inputs.dtype) / (1.0 - self.drop_rate))
        x = ops.matmul(inputs, kernel)
        if self.bias is not None:
            x = x + self.bias
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, drop_rate=self.drop_rate,
                      activation=keras.activations.serialize(self.activation), seed=self.seed,
                      use_bias=self.use_bias,
                      kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
                      kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
                      kernel_constraint=keras.constraints.serialize(self.kernel_constraint))
        return config
