"""Recomputing BatchNorm population statistics after training."""

import keras
import numpy as np
import pytest

from convsuite.common.batchnorm import batchnorm_layers, recompute_batchnorm_statistics


def small_conv_net():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 2))
    x = keras.layers.Conv1D(4, 3, padding="same", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))


def series(n=20, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 12, 2)).astype(np.float32) * 3 + 1


def test_inference_outputs_equal_training_outputs_after_recomputing_on_the_same_batch():
    model, x = small_conv_net(), series()
    trained = keras.ops.convert_to_numpy(model(x, training=True))
    assert not np.allclose(keras.ops.convert_to_numpy(model(x, training=False)), trained, atol=1e-4)
    assert recompute_batchnorm_statistics(model, [(x, None)]) == len(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x, training=False)), trained, atol=1e-5)


def test_statistics_are_the_size_weighted_averages_of_batch_statistics():
    model, x = small_conv_net(), series(30)
    conv = keras.ops.convert_to_numpy(model.get_layer("conv")(x)).astype("float64")
    first, second = conv[:20], conv[20:]  # batches of 20 and 10 series
    recompute_batchnorm_statistics(model, [x[:20], x[20:]])
    bn = model.get_layer("bn")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean),
                               (20 * first.mean((0, 1)) + 10 * second.mean((0, 1))) / 30, rtol=1e-4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_variance),
                               (20 * first.var((0, 1)) + 10 * second.var((0, 1))) / 30, rtol=1e-4)
    assert bn.momentum == 0.99


def test_a_failing_pass_leaves_the_statistics_and_momentum_as_they_were():
    model, x = small_conv_net(), series()
    bn = batchnorm_layers(model)[0]
    bn.moving_mean.assign(np.full(4, 0.5, "float32"))

    def batches():
        yield x
        raise RuntimeError("reader failed")

    with pytest.raises(RuntimeError):
        recompute_batchnorm_statistics(model, batches())
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(bn.moving_mean), np.full(4, 0.5))
    assert bn.momentum == 0.99
