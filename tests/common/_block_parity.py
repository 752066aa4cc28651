"""Run every shared block on the backend named by KERAS_BACKEND and save the outputs.

Usage: KERAS_BACKEND=jax python _block_parity.py OUT.npz
Weights and inputs come from a seeded numpy RNG, so two backends see identical numbers.
Each block is wrapped in a functional model and run with predict_on_batch (tf.function on
TensorFlow, jax.jit on JAX). A one-step fit of the stochastic blocks checks that their
training-mode randomness also compiles (key "fit_loss").
"""

import sys

import numpy as np

import keras
from keras import layers

from convsuite.common import blocks as B


def randomize(model, rng):
    """Give every variable a fixed random value (variances positive)."""
    values = []
    for w in model.weights:
        if "variance" in w.path or w.path.split("/")[-1].startswith("g"):
            values.append(rng.uniform(0.5, 1.5, w.shape).astype("float32"))
        else:
            values.append(rng.normal(0.0, 0.5, w.shape).astype("float32"))
    model.set_weights(values)


def cases(rng):
    image = rng.uniform(0.0, 1.0, (2, 10, 10, 3)).astype("float32")
    sequence = rng.normal(size=(2, 12, 3)).astype("float32")
    rois = np.array([[[0, 0, 9, 9], [2.3, 1.6, 7.4, 5.5], [5, 5, 5, 5]],
                     [[-2, 3, 4, 12], [1, 1, 3, 8], [0, 4, 9, 6]]], "float32")
    yield "conv_bn_act_2d", B.ConvBNAct(4, 3, strides=2, kernel_constraint=B.MaxNorm(2.0)), image
    yield "conv_bn_act_1d_causal", B.ConvBNAct(4, 3, rank=1, padding="causal", dilation_rate=2), sequence
    yield "conv_bn_act_3d", B.ConvBNAct(2, 2, rank=3, activation="tanh"), image[..., None]
    yield "residual_identity", B.ResidualBlock(3), image
    yield "residual_projection", B.ResidualBlock(5, strides=2), image
    for norm in ("weight", "layer", None):
        yield f"causal_residual_{norm}", B.CausalResidualBlock(4, 2, dilation_rate=3, dropout=0.2,
                                                                normalization=norm), sequence
    yield "locally_connected_valid", B.LocallyConnected2D(4, 3, strides=2), image
    yield "locally_connected_same", B.LocallyConnected2D(2, (3, 2), padding="same", activation="relu"), image
    yield "l2_pooling", B.L2Pooling2D(3, 2, padding="same"), image
    yield "stochastic_pooling", B.StochasticPooling2D(2, seed=1), image
    yield "max_pooling", B.MaxPooling2D(2), image
    yield "average_pooling", B.AveragePooling2D(2), image
    yield "roi_max_pooling", B.RoIMaxPooling2D((3, 2)), (image, rois)
    yield "drop_connect_dense", B.DropConnectDense(5, seed=2), image[:, 0, 0, :]


def fit_loss(rng):
    """One training step through every block with training-mode randomness."""
    image = keras.Input((8, 8, 3))
    sequence = keras.Input((6, 2))
    x = B.StochasticPooling2D(2, seed=3)(layers.ReLU()(B.ConvBNAct(3, 3)(image)))
    x = B.DropConnectDense(4, drop_rate=0.5, seed=4)(layers.Flatten()(x))
    s = B.CausalResidualBlock(3, dropout=0.5, seed=5)(sequence)
    out = layers.Concatenate()([x, layers.Flatten()(s)])
    model = keras.Model([image, sequence], out)
    model.compile("sgd", "mse")
    history = model.fit([rng.uniform(size=(4, 8, 8, 3)), rng.normal(size=(4, 6, 2))], np.zeros((4, 22)),
                        batch_size=4, epochs=1, verbose=0)
    return np.array(history.history["loss"][-1], "float32")


def main(path):
    rng = np.random.default_rng(0)
    outputs = {}
    for name, layer, data in cases(rng):
        data = data if isinstance(data, tuple) else (data,)
        inputs = [keras.Input(d.shape[1:]) for d in data]
        model = keras.Model(inputs, layer(inputs if len(inputs) > 1 else inputs[0]))
        randomize(model, rng)
        batch = list(data) if len(data) > 1 else data[0]
        outputs[name] = keras.ops.convert_to_numpy(model.predict_on_batch(batch))
    outputs["fit_loss"] = fit_loss(rng)
    np.savez(path, backend=keras.backend.backend(), **outputs)


if __name__ == "__main__":
    main(sys.argv[1])
