"""common.analysis: receptive-field arithmetic against known networks and against perturbing
the input; saliency and Grad-CAM against hand-computed answers and across backends."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import layers as L

from convsuite.common.analysis import (
    format_table,
    grad_cam,
    layer_table,
    output_size,
    receptive_field,
    saliency,
)
from convsuite.common.errors import ConvsuiteError

# Positive weights, zero biases and a zero base image: raising one input pixel raises every
# unit whose receptive field holds it (through ReLU and max pooling too), and nothing else.
POSITIVE = keras.initializers.RandomUniform(0.1, 1.0, seed=0)


def row(rows, name):
    return next(r for r in rows if r.name == name)


def empirical_rf(model, input_shape, unit):
    """Per spatial axis, (first, last) input pixel whose perturbation changes output `unit`."""
    spatial = input_shape[:-1]
    n = int(np.prod(spatial))
    batch = np.zeros((n + 1, *input_shape), "float32")
    for i, idx in enumerate(np.ndindex(*spatial)):
        batch[(i + 1, *idx, 0)] = 1.0
    out = keras.ops.convert_to_numpy(model(batch, training=False))
    base = out[(0, *unit, 0)]
    changed = [idx for i, idx in enumerate(np.ndindex(*spatial)) if abs(out[(i + 1, *unit, 0)] - base) > 1e-6]
    assert changed, "no input pixel reaches the unit"
    changed = np.array(changed)
    return list(zip(changed.min(axis=0), changed.max(axis=0)))


def assert_table_matches_perturbation(model, input_shape):
    """The last layer's RF and centre (start + u*jump) equal what perturbation finds for a
    unit in the middle of the input, where padding does not clip the field."""
    last = layer_table(model)[-1]
    unit = []
    for axis, size in enumerate(input_shape[:-1]):
        u = round(((size - 1) / 2 - last.start[axis]) / last.jump[axis])
        centre = last.start[axis] + u * last.jump[axis]
        half = (last.receptive_field[axis] - 1) / 2
        assert 0 <= centre - half and centre + half <= size - 1, "test input too small for the RF"
        unit.append(u)
    found = empirical_rf(model, input_shape, tuple(unit))
    for axis, (lo, hi) in enumerate(found):
        assert hi - lo + 1 == last.receptive_field[axis], (axis, found, last)
        assert (lo + hi) / 2 == last.start[axis] + unit[axis] * last.jump[axis], (axis, found, last)


def vgg16_conv_stack():
    x = inputs = keras.Input((224, 224, 3))
    for block, (convs, filters) in enumerate([(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)], 1):
        for i in range(1, convs + 1):
            x = L.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{block}_{i}")(x)
        x = L.MaxPooling2D(2, name=f"pool{block}")(x)
    return keras.Model(inputs, x)


def lenet5():
    return keras.Sequential([
        keras.Input((32, 32, 1)),
        L.Conv2D(6, 5, activation="tanh", name="C1"), L.AveragePooling2D(2, name="S2"),
        L.Conv2D(16, 5, activation="tanh", name="C3"), L.AveragePooling2D(2, name="S4"),
        L.Conv2D(120, 5, activation="tanh", name="C5"), L.Flatten(),
        L.Dense(84, activation="tanh", name="F6"), L.Dense(10, name="output"),
    ])


def causal_tcn(length=40, kernel_initializer="glorot_uniform"):
    return keras.Sequential([keras.Input((length, 1))] + [
        L.Conv1D(2, 2, padding="causal", dilation_rate=d, kernel_initializer=kernel_initializer)
        for d in (1, 2, 4, 8)
    ])


# ----------------------------------------------------------------------- known answers


def test_vgg16_conv5_3_sees_196_pixels_and_pool5_212_with_jump_32():
    model = vgg16_conv_stack()
    rows = layer_table(model)
    assert row(rows, "conv5_3").receptive_field == (196, 196)
    assert row(rows, "pool5").receptive_field == (212, 212)
    assert row(rows, "pool5").jump == (32, 32)
    assert row(rows, "pool5").output_shape == (None, 7, 7, 512)
    assert receptive_field(model) == (212, 212)
    assert sum(r.params for r in rows) == model.count_params() == 14_714_688


def test_alexnet_conv1_is_11_pixels_wide_with_jump_4_and_55_outputs():
    inputs = keras.Input((227, 227, 3))
    model = keras.Model(inputs, L.Conv2D(96, 11, strides=4, name="conv1")(inputs))
    conv1 = row(layer_table(model), "conv1")
    assert conv1.receptive_field == (11, 11) and conv1.jump == (4, 4)
    assert conv1.kernel == (11, 11) and conv1.stride == (4, 4)
    assert conv1.output_shape == (None, 55, 55, 96)
    assert output_size(227, 11, 4) == (227 - 11) // 4 + 1 == 55
    assert conv1.params == model.count_params() == 11 * 11 * 3 * 96 + 96


def test_output_size_follows_the_conv_arithmetic():
    assert output_size(224, 3, 1, padding=1) == 224
    assert output_size(10, 3, dilation=2) == 6
    assert output_size(7, 2, 2) == 3


def test_dilated_causal_conv1d_stack_with_kernel_2_sees_16_steps_ending_now():
    model = causal_tcn()
    rows = layer_table(model)
    assert [r.receptive_field for r in rows[1:]] == [(2,), (4,), (8,), (16,)]
    assert [r.dilation for r in rows[1:]] == [(1,), (2,), (4,), (8,)]
    # Causal: output t covers t-15..t, so its centre sits 7.5 steps in the past.
    assert rows[-1].start == (-7.5,) and rows[-1].jump == (1,)
    assert receptive_field(model) == (16,)


def test_lenet5_c5_sees_the_whole_32x32_input_and_params_match_keras():
    model = lenet5()
    rows = layer_table(model)
    assert row(rows, "C5").receptive_field == (32, 32)
    assert row(rows, "C5").output_shape == (None, 1, 1, 120)
    assert row(rows, "F6").receptive_field == (32, 32) and not row(rows, "F6").spatial
    assert receptive_field(model) == (32, 32)
    assert sum(r.params for r in rows) == model.count_params() == 61_706


def test_format_table_lists_every_layer_aligned_with_total_params():
    rows = layer_table(lenet5())
    text = format_table(rows)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["layer", "kind", "output"]
    assert lines[-1] == "Total params: 61,706"
    for r in rows:
        assert any(line.startswith(r.name + " ") for line in lines), r.name
    c5 = next(line for line in lines if line.startswith("C5 "))
    assert c5.split()[2:8] == ["1x1x120", "5", "1", "1", "32", "4"]
    # Right-aligned numeric columns end where the header's do.
    assert lines[0].index("params") + len("params") == len(c5)


def test_non_square_kernels_are_tracked_per_axis():
    inputs = keras.Input((30, 20, 1))
    x = L.Conv2D(2, (3, 7), name="wide")(inputs)
    x = L.Conv2D(2, (5, 1), strides=(2, 1), name="tall")(x)
    rows = layer_table(keras.Model(inputs, x))
    assert row(rows, "wide").receptive_field == (3, 7)
    assert row(rows, "tall").receptive_field == (7, 7)
    assert row(rows, "tall").jump == (2, 1)
    tall = next(line for line in format_table(rows).splitlines() if line.startswith("tall "))
    assert tall.split()[3:8] == ["5x1", "2x1", "1", "7", "2x1"]


def test_unbuilt_model_and_input_without_spatial_axes_raise_one_sentence_errors():
    with pytest.raises(ConvsuiteError, match="no input shape"):
        layer_table(keras.Sequential([L.Conv2D(2, 3)]))
    mlp = keras.Sequential([keras.Input((8,)), L.Dense(4)])
    with pytest.raises(ConvsuiteError, match="no spatial layer"):
        receptive_field(mlp)


# -------------------------------------------------------- arithmetic vs. perturbation


def test_plain_stack_with_strides_dilation_and_same_padding_matches_perturbation():
    model = keras.Sequential([
        keras.Input((40, 40, 1)),
        L.Conv2D(2, (3, 5), padding="same", activation="relu", kernel_initializer=POSITIVE),
        L.Conv2D(2, 3, strides=2, kernel_initializer=POSITIVE),
        L.MaxPooling2D(2, padding="same"),
        L.Conv2D(2, 3, dilation_rate=2, padding="same", kernel_initializer=POSITIVE),
        L.BatchNormalization(), L.Dropout(0.5),
    ])
    assert layer_table(model)[-1].receptive_field == (23, 25)
    assert_table_matches_perturbation(model, (40, 40, 1))


def test_causal_dilated_stack_matches_perturbation():
    assert_table_matches_perturbation(causal_tcn(40, POSITIVE), (40, 1))


def test_conv3d_and_pool3d_match_perturbation():
    model = keras.Sequential([
        keras.Input((12, 16, 12, 1)),
        L.Conv3D(2, 3, strides=2, padding="same", kernel_initializer=POSITIVE),
        L.MaxPooling3D(2),
        L.Conv3D(2, (1, 3, 1), kernel_initializer=POSITIVE),
    ])
    assert layer_table(model)[-1].receptive_field == (5, 13, 5)
    assert_table_matches_perturbation(model, (12, 16, 12, 1))


class StridedBlock(keras.layers.Layer):
    """A custom block that exposes `kernel_size`/`strides` the way Keras convolutions do."""

    def __init__(self, kernel_size, strides, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size, self.strides = kernel_size, strides
        self.conv = L.Conv2D(2, kernel_size, strides=strides, kernel_initializer=POSITIVE)

    def call(self, x):
        return self.conv(x)


class TwoConvBlock(keras.layers.Layer):
    """Two stacked 3x3 convolutions that state their own receptive field."""

    receptive_field = 5

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = L.Conv2D(2, 3, padding="same", kernel_initializer=POSITIVE)
        self.b = L.Conv2D(2, 3, padding="same", kernel_initializer=POSITIVE)

    def call(self, x):
        return self.b(self.a(x))


def test_branches_merges_padding_custom_and_nested_blocks_match_perturbation():
    inputs = keras.Input((63, 63, 1))
    x = L.Conv2D(2, 3, kernel_initializer=POSITIVE)(inputs)
    wide = L.Conv2D(2, 5, padding="same", kernel_initializer=POSITIVE)(x)
    narrow = L.Conv2D(2, 1, kernel_initializer=POSITIVE)(x)
    x = L.Add()([L.Concatenate()([narrow, wide]), L.Concatenate()([wide, narrow])])
    x = TwoConvBlock(name="stated")(x)
    # Nested with a dynamic input shape: its odd-sized 'same' stride-2 padding (left 1)
    # is only right if the walk hands the outer sizes down.
    nested = keras.Sequential([keras.Input((None, None, 2)),
                               L.Conv2D(2, 3, strides=2, padding="same", kernel_initializer=POSITIVE),
                               L.Conv2D(2, 3, kernel_initializer=POSITIVE)], name="nested")
    x = nested(x)
    x = L.AveragePooling2D(3, strides=2)(x)
    x = L.ZeroPadding2D(((2, 0), (1, 3)))(x)
    x = L.Cropping2D(((1, 0), (0, 2)))(x)
    x = StridedBlock((3, 2), 2, name="custom")(x)
    model = keras.Model(inputs, x)
    rows = layer_table(model)
    assert row(rows, "add").receptive_field == (7, 7)
    assert row(rows, "stated").receptive_field == (11, 11)
    assert row(rows, "nested").receptive_field == (17, 17) and row(rows, "nested").jump == (2, 2)
    assert row(rows, "custom").kernel == (3, 2) and row(rows, "custom").stride == (2, 2)
    assert rows[-1].receptive_field == (21 + 2 * 4, 21 + 1 * 4) and rows[-1].jump == (8, 8)
    assert sum(r.params for r in rows) == model.count_params()
    assert_table_matches_perturbation(model, (63, 63, 1))


# ------------------------------------------------------------------- explanations


def linear_classifier(activation=None, seed=0):
    model = keras.Sequential([keras.Input((5, 4, 2)), L.Flatten(), L.Dense(3, activation=activation)])
    rng = np.random.default_rng(seed)
    model.layers[-1].set_weights([rng.normal(size=(40, 3)).astype("float32"), np.zeros(3, "float32")])
    return model


def test_saliency_of_a_linear_model_is_the_absolute_class_weights():
    model = linear_classifier()
    weights = model.layers[-1].get_weights()[0]
    images = np.random.default_rng(1).normal(size=(6, 5, 4, 2)).astype("float32")
    for c in range(3):
        expected = np.abs(weights[:, c]).reshape(5, 4, 2).max(axis=-1)
        np.testing.assert_array_equal(saliency(model, images, class_index=c), np.stack([expected] * 6))
    predicted = (images.reshape(6, -1) @ weights).argmax(axis=1)
    assert len(set(predicted)) > 1  # the default really is per example
    expected = np.stack([np.abs(weights[:, c]).reshape(5, 4, 2).max(axis=-1) for c in predicted])
    np.testing.assert_array_equal(saliency(model, images), expected)


def test_saliency_differentiates_the_score_before_a_final_softmax():
    plain, softmax = linear_classifier(), linear_classifier("softmax")
    images = np.random.default_rng(2).normal(size=(3, 5, 4, 2)).astype("float32")
    np.testing.assert_array_equal(saliency(softmax, images), saliency(plain, images))
    assert softmax.layers[-1].activation is keras.activations.softmax  # put back afterwards


def cam_model(first_stride=1):
    """Conv (identity 1x1) -> global average pool -> Dense: score_c = mean(sum_k w_kc A_k)."""
    inputs = keras.Input((8, 8, 2))
    features = L.Conv2D(2, 1, strides=first_stride, use_bias=False, name="features")(inputs)
    logits = L.Dense(2, use_bias=False, name="head")(L.GlobalAveragePooling2D()(features))
    model = keras.Model(inputs, logits)
    model.get_layer("features").set_weights([np.eye(2, dtype="float32")[None, None]])
    model.get_layer("head").set_weights([np.array([[1.0, -1.0], [-1.0, 1.0]], "float32")])
    return model


def test_grad_cam_equals_the_class_activation_map_of_a_gap_dense_model():
    # With GAP + Dense the gradient weights are w_kc / (h*w), so Grad-CAM is the CAM of
    # Zhou et al.: ReLU(x0 - x1) for class 0, ReLU(x1 - x0) for class 1, scaled to max 1.
    model = cam_model()
    images = np.random.default_rng(3).uniform(size=(4, 8, 8, 2)).astype("float32")
    for c, sign in ((0, 1.0), (1, -1.0)):
        diff = np.maximum(sign * (images[..., 0] - images[..., 1]), 0)
        expected = diff / diff.max(axis=(1, 2), keepdims=True)
        got = grad_cam(model, images, layer_name="features", class_index=c)
        np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_array_equal(grad_cam(model, images), grad_cam(model, images, "features"))


def test_grad_cam_upsamples_a_coarse_map_to_the_image_in_zero_to_one():
    images = np.random.default_rng(4).uniform(size=(3, 8, 8, 2)).astype("float32")
    cam = grad_cam(cam_model(first_stride=2), images, class_index=0)
    assert cam.shape == (3, 8, 8) and cam.min() >= 0
    np.testing.assert_allclose(cam.max(axis=(1, 2)), 1.0, atol=1e-6)


def test_explanations_reject_bad_inputs_with_one_sentence_errors():
    images = np.zeros((2, 5, 4, 2), "float32")
    with pytest.raises(ConvsuiteError, match="no layer with a 4-D"):
        grad_cam(linear_classifier(), images)
    with pytest.raises(ConvsuiteError, match=r"images shape \(5, 4, 2\) does not match"):
        saliency(linear_classifier(), images[0])
    with pytest.raises(ConvsuiteError, match="does not match"):
        grad_cam(cam_model(), np.zeros((2, 8, 8, 3), "float32"))
    with pytest.raises(ConvsuiteError, match="outside the model's 3 classes"):
        saliency(linear_classifier(), images, class_index=3)
    with pytest.raises(ConvsuiteError, match="no layer named"):
        grad_cam(cam_model(), np.zeros((1, 8, 8, 2), "float32"), layer_name="nope")


JAX_SCRIPT = """
import json, sys
import keras, numpy as np
from convsuite.common.analysis import grad_cam, receptive_field, saliency
model = keras.saving.load_model(sys.argv[1])
images = np.load(sys.argv[2])
np.savez(sys.argv[3], saliency=saliency(model, images), cam=grad_cam(model, images),
         cam_fixed=grad_cam(model, images, layer_name="c1", class_index=2))
print(json.dumps({"backend": keras.backend.backend(), "rf": receptive_field(model),
                  "tensorflow_imported": "tensorflow" in sys.modules}))
"""


def test_jax_backend_gives_the_same_saliency_and_grad_cam_as_tensorflow(tmp_path):
    keras.utils.set_random_seed(5)
    model = keras.Sequential([
        keras.Input((12, 12, 3)),
        L.Conv2D(6, 3, padding="same", name="c1"), L.BatchNormalization(), L.ReLU(),
        L.MaxPooling2D(2), L.Conv2D(8, 3, activation="relu", name="c2"),
        L.GlobalAveragePooling2D(), L.Dense(4, activation="softmax"),
    ])
    bn = model.layers[1]
    bn.moving_mean.assign(np.linspace(-0.2, 0.2, 6)), bn.moving_variance.assign(np.linspace(0.5, 2, 6))
    model.save(tmp_path / "model.keras")
    images = np.random.default_rng(6).normal(size=(5, 12, 12, 3)).astype("float32")
    np.save(tmp_path / "images.npy", images)
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", JAX_SCRIPT, str(tmp_path / "model.keras"), str(tmp_path / "images.npy"),
         str(tmp_path / "jax.npz")], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert info["backend"] == "jax" and tuple(info["rf"]) == receptive_field(model) == (8, 8)
    assert not info["tensorflow_imported"]  # the JAX path must not need TensorFlow
    jax_result = np.load(tmp_path / "jax.npz")
    tf_saliency = saliency(model, images)
    assert tf_saliency.shape == (5, 12, 12) and tf_saliency.max() > 0
    np.testing.assert_allclose(jax_result["saliency"], tf_saliency, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(jax_result["cam"], grad_cam(model, images), atol=1e-5)
    np.testing.assert_allclose(jax_result["cam_fixed"], grad_cam(model, images, "c1", 2), atol=1e-5)
