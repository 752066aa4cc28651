"""The shared blocks against plain numpy references, save/load, and TensorFlow/JAX parity."""

import math
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from tests.requirements import require

from convsuite.common import blocks as B
from convsuite.common.errors import ConvsuiteError

PARITY_SCRIPT = Path(__file__).parent / "_block_parity.py"
TOL = dict(rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- numpy references

def np_pads(size, k_eff, stride, padding):
    """(output size, left pad, right pad) with Keras/TF conventions."""
    if padding == "valid":
        return (size - k_eff) // stride + 1, 0, 0
    if padding == "causal":
        return size, k_eff - 1, 0
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + k_eff - size, 0)
    return out, total // 2, total - total // 2


def np_conv(x, kernel, strides=None, padding="valid", dilation=None, bias=None):
    """N-D convolution, one output position at a time. x (B, *spatial, C), kernel (*k, C, F)."""
    rank = kernel.ndim - 2
    strides = strides or (1,) * rank
    dilation = dilation or (1,) * rank
    geometry = [np_pads(n, d * (k - 1) + 1, s, padding)
                for n, k, s, d in zip(x.shape[1:-1], kernel.shape[:rank], strides, dilation)]
    xp = np.pad(x, [(0, 0)] + [(left, right) for _, left, right in geometry] + [(0, 0)])
    y = np.zeros((x.shape[0], *[out for out, _, _ in geometry], kernel.shape[-1]))
    for pos in np.ndindex(*y.shape[1:-1]):
        window = xp[(slice(None),) + tuple(slice(p * s, p * s + d * (k - 1) + 1, d)
                                           for p, s, d, k in zip(pos, strides, dilation, kernel.shape))]
        y[(slice(None),) + pos] = np.tensordot(window, kernel, axes=rank + 1)
    return y if bias is None else y + bias


def np_batch_norm(x, bn):
    gamma, beta, mean, var = (np.asarray(v) for v in (bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance))
    return gamma * (x - mean) / np.sqrt(var + bn.epsilon) + beta


def np_layer_norm(x, ln):
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return np.asarray(ln.gamma) * (x - mean) / np.sqrt(var + ln.epsilon) + np.asarray(ln.beta)


def relu(x):
    return np.maximum(x, 0.0)


def randomize(layer, rng):
    """Fixed random values for every variable of a built layer (variances and scales positive)."""
    for w in layer.weights:
        leaf = w.path.split("/")[-1]
        positive = "variance" in leaf or leaf.startswith("g")
        w.assign(rng.uniform(0.5, 1.5, w.shape) if positive else rng.normal(0.0, 0.5, w.shape))


def run(layer, *inputs, training=False, rng=None):
    """Build the layer, give it random weights, then call it; returns numpy."""
    layer(*inputs)
    randomize(layer, rng or np.random.default_rng(7))
    return keras.ops.convert_to_numpy(layer(*inputs, training=training))


def np_conv_bn_act(x, block, activation=relu):
    conv = block.conv
    y = np_conv(x, np.asarray(conv.kernel), conv.strides, conv.padding, conv.dilation_rate,
                None if conv.bias is None else np.asarray(conv.bias))
    if block.bn is not None:
        y = np_batch_norm(y, block.bn)
    return activation(y)


# --------------------------------------------------------------------------- ConvBNAct

@pytest.mark.parametrize("rank, kwargs", [
    (1, dict(padding="causal", dilation_rate=2)),
    (2, dict(strides=2)),
    (2, dict(padding="valid", dilation_rate=(1, 2), kernel_constraint=keras.constraints.MaxNorm(2.0))),
    (3, dict(padding="valid")),
])
def test_conv_bn_act_matches_numpy_conv_then_inference_batch_norm_then_relu(rank, kwargs):
    rng = np.random.default_rng(rank)
    x = rng.normal(size=(2, *(7,) * rank, 3)).astype("float32")
    block = B.ConvBNAct(4, 3, rank=rank, **kwargs)
    got = run(block, x)
    assert block.conv.bias is None  # BN's beta replaces the bias
    assert not np.allclose(np.asarray(block.bn.moving_mean), 0)
    np.testing.assert_allclose(got, np_conv_bn_act(x, block), **TOL)


def test_conv_bn_act_without_batch_norm_has_a_bias_and_applies_the_activation():
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 2)).astype("float32")
    block = B.ConvBNAct(3, (3, 2), use_batch_norm=False, activation="tanh")
    got = run(block, x)
    assert block.bn is None and block.conv.bias is not None
    np.testing.assert_allclose(got, np_conv_bn_act(x, block, np.tanh), **TOL)


def test_conv_bn_act_rejects_causal_padding_for_images_and_bad_rank():
    with pytest.raises(ConvsuiteError, match="padding 'causal'"):
        B.ConvBNAct(4, 3, rank=2, padding="causal")
    with pytest.raises(ConvsuiteError, match="rank=4"):
        B.ConvBNAct(4, 3, rank=4)


# --------------------------------------------------------------------------- ResidualBlock

@pytest.mark.parametrize("filters, strides", [(3, 1), (5, 2)])
def test_residual_block_matches_numpy_two_conv_bn_plus_shortcut_then_relu(filters, strides):
    x = np.random.default_rng(filters).normal(size=(2, 8, 8, 3)).astype("float32")
    block = B.ResidualBlock(filters, strides=strides)
    got = run(block, x)
    assert (block.shortcut is None) == (filters == 3 and strides == 1)
    h = np_conv_bn_act(np_conv_bn_act(x, block.conv1), block.conv2, activation=lambda v: v)
    shortcut = x if block.shortcut is None else np_conv_bn_act(x, block.shortcut, activation=lambda v: v)
    np.testing.assert_allclose(got, relu(h + shortcut), **TOL)
    assert block.receptive_field == (3 + 2 * strides,) * 2


# --------------------------------------------------------------------------- CausalResidualBlock

def np_causal_residual(x, block):
    h = x
    for i in (1, 2):
        kernel = np.asarray(getattr(block, f"kernel{i}"))
        if block.normalization == "weight":
            kernel = np.asarray(getattr(block, f"g{i}")) * kernel / np.sqrt((kernel ** 2).sum(axis=(0, 1)))
        h = np_conv(h, kernel, padding="causal", dilation=(block.dilation_rate,),
                    bias=np.asarray(getattr(block, f"bias{i}")))
        if block.normalization == "layer":
            h = np_layer_norm(h, block.norms[i - 1])
        h = relu(h)
    residual = x
    if block.residual_kernel is not None:
        residual = np_conv(x, np.asarray(block.residual_kernel), bias=np.asarray(block.residual_bias))
    return relu(h + residual)


@pytest.mark.parametrize("normalization, in_channels", [("weight", 3), ("layer", 4), (None, 2)])
def test_causal_residual_block_matches_numpy_tcn_block(normalization, in_channels):
    x = np.random.default_rng(in_channels).normal(size=(2, 12, in_channels)).astype("float32")
    block = B.CausalResidualBlock(4, kernel_size=3, dilation_rate=2, dropout=0.3, normalization=normalization)
    got = run(block, x)
    assert (block.residual_kernel is None) == (in_channels == 4)
    np.testing.assert_allclose(got, np_causal_residual(x, block), **TOL)


def test_weight_norm_starts_from_the_initial_kernel_and_rescales_it_by_g():
    block = B.CausalResidualBlock(4, kernel_size=2)
    block.build((None, 5, 3))
    v = np.asarray(block.kernel1)
    np.testing.assert_allclose(np.asarray(block.g1), np.sqrt((v ** 2).sum(axis=(0, 1))), rtol=1e-6)


@pytest.mark.parametrize("normalization", ["weight", "layer"])
def test_causal_residual_block_output_at_t_is_bit_identical_when_later_inputs_change(normalization):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 20, 3)).astype("float32")
    block = B.CausalResidualBlock(5, kernel_size=3, dilation_rate=2, normalization=normalization)
    base = run(block, x, rng=np.random.default_rng(1))
    for t in (0, 7, 18):
        changed = x.copy()
        changed[:, t + 1:] = rng.normal(size=changed[:, t + 1:].shape) * 10
        out = keras.ops.convert_to_numpy(block(changed))
        np.testing.assert_array_equal(out[:, :t + 1], base[:, :t + 1])
        assert not np.allclose(out[:, t + 1:], base[:, t + 1:])


def test_causal_residual_block_receptive_field_is_exact():
    block = B.CausalResidualBlock(6, kernel_size=3, dilation_rate=2, normalization=None)
    assert block.receptive_field == 1 + 2 * 2 * 2
    x = np.random.default_rng(4).normal(size=(1, 20, 6)).astype("float32")
    base = run(block, x, rng=np.random.default_rng(2))
    t = 15
    for offset, matters in ((block.receptive_field - 1, True), (block.receptive_field, False)):
        changed = x.copy()
        changed[:, t - offset] += 5.0
        out = keras.ops.convert_to_numpy(block(changed))
        assert (out[0, t] != base[0, t]).any() == matters, offset


# --------------------------------------------------------------------------- LocallyConnected2D

def np_locally_connected(x, layer):
    (kh, kw), (sh, sw) = layer.kernel_size, layer.strides
    out_h, top, bottom = np_pads(x.shape[1], kh, sh, layer.padding)
    out_w, left, right = np_pads(x.shape[2], kw, sw, layer.padding)
    xp = np.pad(x, [(0, 0), (top, bottom), (left, right), (0, 0)])
    kernel, bias = np.asarray(layer.kernel), np.asarray(layer.bias)
    y = np.zeros((x.shape[0], out_h, out_w, layer.filters))
    for b in range(x.shape[0]):
        for r in range(out_h):
            for c in range(out_w):
                patch = xp[b, r * sh:r * sh + kh, c * sw:c * sw + kw, :].reshape(-1)
                y[b, r, c] = patch @ kernel[r * out_w + c] + bias[r, c]
    return y


@pytest.mark.parametrize("padding, kernel_size, strides", [("valid", 3, 1), ("valid", (3, 2), 2),
                                                           ("same", 3, 1), ("same", (2, 3), (2, 1))])
def test_locally_connected_matches_numpy_per_position_filters(padding, kernel_size, strides):
    x = np.random.default_rng(5).normal(size=(2, 7, 6, 3)).astype("float32")
    layer = B.LocallyConnected2D(4, kernel_size, strides=strides, padding=padding)
    got = run(layer, x)
    expected = np_locally_connected(x, layer)
    assert layer.kernel.shape == (expected.shape[1] * expected.shape[2],
                                  layer.kernel_size[0] * layer.kernel_size[1] * 3, 4)
    np.testing.assert_allclose(got, expected, **TOL)


def test_locally_connected_weights_are_not_shared_between_positions():
    x = np.ones((1, 4, 4, 1), "float32")
    layer = B.LocallyConnected2D(1, 2, use_bias=False)
    out = run(layer, x)
    assert len(np.unique(np.round(out, 5))) == 9  # a conv would give one value everywhere


# --------------------------------------------------------------------------- pooling

def np_pool_windows(x, pool, strides, padding):
    """Yield (r, c, window (B, kh*kw, C)) over output positions, zero padded."""
    out_h, top, bottom = np_pads(x.shape[1], pool[0], strides[0], padding)
    out_w, left, right = np_pads(x.shape[2], pool[1], strides[1], padding)
    xp = np.pad(x, [(0, 0), (top, bottom), (left, right), (0, 0)])
    for r in range(out_h):
        for c in range(out_w):
            window = xp[:, r * strides[0]:r * strides[0] + pool[0], c * strides[1]:c * strides[1] + pool[1], :]
            yield r, c, window.reshape(x.shape[0], -1, x.shape[3])


def np_pool(x, pool, strides, padding, reduce):
    out_h = np_pads(x.shape[1], pool[0], strides[0], padding)[0]
    out_w = np_pads(x.shape[2], pool[1], strides[1], padding)[0]
    y = np.zeros((x.shape[0], out_h, out_w, x.shape[3]))
    for r, c, window in np_pool_windows(x, pool, strides, padding):
        y[:, r, c] = reduce(window.astype("float64"))
    return y


@pytest.mark.parametrize("pool, strides, padding", [(2, None, "valid"), (3, 2, "same"), ((2, 3), (1, 2), "valid")])
def test_l2_pooling_is_the_root_of_the_windowed_sum_of_squares(pool, strides, padding):
    x = np.random.default_rng(6).normal(size=(2, 7, 8, 3)).astype("float32")
    layer = B.L2Pooling2D(pool, strides, padding)
    got = keras.ops.convert_to_numpy(layer(x))
    expected = np_pool(x, layer.pool_size, layer.strides, padding, lambda w: np.sqrt((w ** 2).sum(axis=1)))
    np.testing.assert_allclose(got, expected, **TOL)


def test_l2_pooling_of_a_zero_window_is_zero_with_a_finite_gradient():
    x = np.zeros((1, 4, 4, 1), "float32")
    x[0, 0, 0, 0] = 3.0
    out = keras.ops.convert_to_numpy(B.L2Pooling2D(2)(x))
    np.testing.assert_array_equal(out[0, :, :, 0], [[3.0, 0.0], [0.0, 0.0]])
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        variable = tf.Variable(x)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(B.L2Pooling2D(2)(variable))
        assert np.isfinite(tape.gradient(loss, variable).numpy()).all()


def stochastic_input(rng, shape=(2, 6, 6, 3)):
    x = rng.uniform(0.0, 1.0, shape).astype("float32")
    x[x < 0.3] = 0.0  # ReLU-like zeros
    x[0, :3, :3, 0] = 0.0  # an all-zero window for 2x2 and for 3x3 'same' pooling
    return x


def test_stochastic_pooling_at_inference_is_the_probability_weighted_average():
    x = stochastic_input(np.random.default_rng(8))
    got = keras.ops.convert_to_numpy(B.StochasticPooling2D(2)(x, training=False))

    def weighted(window):
        total = window.sum(axis=1)
        return np.where(total > 0, (window ** 2).sum(axis=1) / np.where(total > 0, total, 1), 0.0)

    np.testing.assert_allclose(got, np_pool(x, (2, 2), (2, 2), "valid", weighted), **TOL)
    assert got[0, 0, 0, 0] == 0.0


def test_stochastic_pooling_in_training_draws_a_positive_value_of_each_window():
    x = stochastic_input(np.random.default_rng(9))
    layer = B.StochasticPooling2D(3, strides=2, padding="same", seed=0)
    draws = np.stack([keras.ops.convert_to_numpy(layer(x, training=True)) for _ in range(20)])
    assert draws[:, 0, 0, 0, 0].tolist() == [0.0] * 20  # the all-zero window
    for r, c, window in np_pool_windows(x, (3, 3), (2, 2), "same"):
        for b in range(x.shape[0]):
            for ch in range(x.shape[3]):
                values = window[b, :, ch]
                positive = set(values[values > 0].tolist()) or {0.0}
                assert set(draws[:, b, r, c, ch].tolist()) <= positive
    assert len(np.unique(draws[:, 1, 1, 1, 1])) > 1  # it really samples


def test_stochastic_pooling_draws_each_activation_with_probability_a_over_sum():
    window = np.array([[1.0, 2.0], [0.0, 5.0]], "float32")  # p = 0.125, 0.25, 0, 0.625
    x = np.broadcast_to(window[None, :, :, None], (20000, 2, 2, 1))
    draws = keras.ops.convert_to_numpy(B.StochasticPooling2D(2, seed=4)(x, training=True)).reshape(-1)
    for value, p in ((1.0, 0.125), (2.0, 0.25), (0.0, 0.0), (5.0, 0.625)):
        assert abs((draws == value).mean() - p) < 0.015, value


# --------------------------------------------------------------------------- RoIMaxPooling2D

def np_roi_max_pool(features, rois, pooled):
    """Fast R-CNN's Caffe RoI pooling: rounded inclusive boxes, floor/ceil bins, 0 when empty."""
    batch, height, width, channels = features.shape
    ph, pw = pooled
    out = np.zeros((batch, rois.shape[1], ph, pw, channels), "float32")
    for b in range(batch):
        for r in range(rois.shape[1]):
            y1, x1, y2, x2 = (math.floor(v + 0.5) for v in rois[b, r])
            h, w = max(y2 - y1 + 1, 1), max(x2 - x1 + 1, 1)
            for i in range(ph):
                top = min(max(math.floor(i * h / ph) + y1, 0), height)
                bottom = min(max(math.ceil((i + 1) * h / ph) + y1, 0), height)
                for j in range(pw):
                    left = min(max(math.floor(j * w / pw) + x1, 0), width)
                    right = min(max(math.ceil((j + 1) * w / pw) + x1, 0), width)
                    if bottom > top and right > left:
                        out[b, r, i, j] = features[b, top:bottom, left:right].max(axis=(0, 1))
    return out


def test_roi_max_pooling_matches_numpy_bins_for_ordinary_tiny_fractional_and_outside_boxes():
    rng = np.random.default_rng(10)
    features = rng.normal(size=(2, 9, 11, 3)).astype("float32")
    rois = np.array([[[0, 0, 8, 10],        # the whole map
                      [2.4, 1.6, 6.5, 7.49],  # fractional: rounds to (2, 2, 7, 7)
                      [4, 5, 4, 5],          # one pixel: every bin is that pixel
                      [3, 3, 1, 2]],         # inverted: becomes 1 x 1
                     [[-3, -2, 2, 3],        # partly above and left of the map
                      [6, 8, 14, 20],        # partly below and right
                      [20, 20, 25, 25],      # entirely outside: zeros
                      [1, 0, 7, 2]]], "float32")  # narrower than the grid: bins overlap
    layer = B.RoIMaxPooling2D((3, 4))
    got = keras.ops.convert_to_numpy(layer([features, rois]))
    assert got.shape == (2, 4, 3, 4, 3)
    np.testing.assert_array_equal(got, np_roi_max_pool(features, rois, (3, 4)))
    np.testing.assert_array_equal(got[0, 2], np.broadcast_to(features[0, 4, 5], (3, 4, 3)))
    np.testing.assert_array_equal(got[1, 2], 0.0)


def test_roi_max_pooling_of_the_whole_map_into_one_bin_is_global_max_pooling():
    features = np.random.default_rng(11).normal(size=(3, 5, 6, 2)).astype("float32")
    rois = np.tile(np.array([[[0, 0, 4, 5]]], "float32"), (3, 1, 1))
    got = keras.ops.convert_to_numpy(B.RoIMaxPooling2D((1, 1))([features, rois]))
    np.testing.assert_array_equal(got[:, 0, 0, 0], features.max(axis=(1, 2)))


# --------------------------------------------------------------------------- DropConnectDense

def dense_case(drop_rate, seed=0):
    rng = np.random.default_rng(12)
    x = rng.normal(size=(4, 8)).astype("float32")
    layer = B.DropConnectDense(5, drop_rate=drop_rate, seed=seed)
    run(layer, x)
    expected = x.astype("float64") @ np.asarray(layer.kernel) + np.asarray(layer.bias)
    return x, layer, expected


def test_drop_connect_dense_at_inference_is_x_times_w_plus_b():
    x, layer, expected = dense_case(0.5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, **TOL)


def test_drop_connect_dense_with_drop_rate_zero_trains_like_inference():
    x, layer, expected = dense_case(0.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x, training=True)), expected, **TOL)


def test_drop_connect_dense_training_output_averages_to_the_inference_output():
    x, layer, expected = dense_case(0.5, seed=3)
    draws = np.stack([keras.ops.convert_to_numpy(layer(x, training=True)) for _ in range(1000)])
    assert not np.allclose(draws[0], expected)
    # each draw: sum_i x_i W_ij m_ij / (1-p), variance sum_i x_i^2 W_ij^2 p / (1-p)
    std = np.sqrt((x[:, :, None] ** 2 * np.asarray(layer.kernel)[None] ** 2).sum(axis=1) / len(draws))
    assert (np.abs(draws.mean(axis=0) - expected) < 4 * std + 1e-6).all()
    # about half of the weights are dropped: a one-hot input reads one row of W, masked
    row = keras.ops.convert_to_numpy(layer(np.eye(8, dtype="float32")[:1], training=True)) - np.asarray(layer.bias)
    kernel = np.asarray(layer.kernel)[0]
    assert np.all(np.isclose(row[0], 0.0, atol=1e-6) | np.isclose(row[0], 2 * kernel, rtol=1e-5))


# --------------------------------------------------------------------------- save / load

def model_with_every_block():
    image = keras.Input((12, 12, 3), name="image")
    rois = keras.Input((2, 4), name="rois")
    sequence = keras.Input((10, 2), name="sequence")
    x = B.ConvBNAct(4, 3, kernel_constraint=B.MaxNorm(3.0), kernel_regularizer="l2")(image)
    x = B.ResidualBlock(6, strides=2)(x)  # 6x6x6
    roi = keras.layers.Flatten()(B.RoIMaxPooling2D((2, 2))([x, rois]))
    x = B.LocallyConnected2D(4, 3, padding="same", activation="relu")(x)
    pooled = [B.L2Pooling2D(2)(x), B.StochasticPooling2D(2, seed=1)(x), B.MaxPooling2D(2)(x),
              B.AveragePooling2D(2)(x)]
    x = keras.layers.Flatten()(keras.layers.Concatenate()(pooled))
    s = B.CausalResidualBlock(3, dilation_rate=2, dropout=0.1, normalization="weight")(sequence)
    s = B.CausalResidualBlock(3, normalization="layer")(s)
    s = B.ConvBNAct(3, 2, rank=1, padding="causal")(s)
    h = keras.layers.Concatenate()([x, roi, keras.layers.Flatten()(s)])
    out = B.DropConnectDense(3, drop_rate=0.3, seed=2, activation="softmax")(h)
    return keras.Model([image, rois, sequence], out)


def test_a_model_with_every_block_saves_and_loads_with_plain_load_model(tmp_path):
    rng = np.random.default_rng(13)
    model = model_with_every_block()
    for layer in model.layers:
        if layer.weights:
            randomize(layer, rng)
    inputs = [rng.uniform(size=(2, 12, 12, 3)).astype("float32"),
              np.array([[[0, 0, 5, 5], [1, 2, 3, 5]]] * 2, "float32"),
              rng.normal(size=(2, 10, 2)).astype("float32")]
    expected = keras.ops.convert_to_numpy(model(inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(inputs)), expected)
    for before, after in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(np.asarray(before), np.asarray(after))


# --------------------------------------------------------------------------- backend parity

def test_blocks_give_the_same_outputs_on_tensorflow_and_jax(tmp_path):
    require("jax", "dev")
    require("tensorflow", "tf-cpu")
    processes = {}
    for backend in ("tensorflow", "jax"):
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        processes[backend] = subprocess.Popen(
            [sys.executable, str(PARITY_SCRIPT), str(tmp_path / f"{backend}.npz")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for backend, process in processes.items():
        _, err = process.communicate(timeout=240)
        assert process.returncode == 0, f"{backend}: {err[-3000:]}"
    tf_out, jax_out = np.load(tmp_path / "tensorflow.npz"), np.load(tmp_path / "jax.npz")
    assert str(tf_out["backend"]) == "tensorflow" and str(jax_out["backend"]) == "jax"
    names = [name for name in tf_out.files if name not in ("backend", "fit_loss")]
    assert len(names) == 16 and set(names) == set(jax_out.files) - {"backend", "fit_loss"}
    for name in names:
        assert np.abs(tf_out[name]).max() > 0, name
        np.testing.assert_allclose(jax_out[name], tf_out[name], rtol=1e-5, atol=1e-5, err_msg=name)
    assert np.isfinite(tf_out["fit_loss"]) and np.isfinite(jax_out["fit_loss"])
