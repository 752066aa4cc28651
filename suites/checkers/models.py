"""The Blondie24 evaluation network as a Keras model.

Chellapilla & Fogel, "Evolving an expert checkers playing program without using human
expertise", IEEE Transactions on Evolutionary Computation 5(4), 2001. The network is evolved,
not trained by gradients, so the workers evaluate it with the numpy twin in
``convsuite.suites.checkers.network``; this model is what the suite saves and loads, and
``flat_weights`` / ``set_flat_weights`` move weights between the two in the flat layout
``network.FLAT_LAYOUT`` defines.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers import network

_register = keras.saving.register_keras_serializable(package="convsuite")


def _initial_weights(seed: int, offset: int):
    return keras.initializers.RandomUniform(-network.INITIAL_RANGE, network.INITIAL_RANGE, seed=seed + offset)


@_register
class KingValue(layers.Layer):
    """Maps the king codes +-2 to +-K and leaves men (+-1) and empty squares (0) as they are.

    K is one non-trainable weight: the paper evolves it with the network (initial 2.0,
    kept in [1, 3]), so it is saved and loaded with the other weights."""

    def __init__(self, king_value: float = network.INITIAL_KING_VALUE, **kwargs):
        super().__init__(**kwargs)
        self.initial_king_value = float(king_value)

    def build(self, input_shape):
        self.king_value = self.add_weight(shape=(), initializer=keras.initializers.Constant(self.initial_king_value),
                                          trainable=False, name="king_value")

    def call(self, codes):
        x = ops.cast(codes, self.compute_dtype)
        king = ops.cast(self.king_value, self.compute_dtype)
        return ops.where(ops.greater(ops.abs(x), 1.5), ops.sign(x) * king, x)

    def get_config(self):
        return {**super().get_config(), "king_value": self.initial_king_value}


@_register
class SubBoards(layers.Layer):
    """The paper's spatial preprocessing layer: one tanh node per k x k sub-square of the board
    (k = 3..8, 91 nodes), each connected only to the squares inside it.

    The kernel is stored as the 854 connected weights (in ``np.nonzero(network.subboard_masks())``
    order) and gathered into the (32, 91) matrix on each call, so the trainable weights are
    exactly the paper's 854 + 91."""

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.seed = int(seed)
        mask = network.subboard_masks()
        positions = np.full(mask.shape, network.SUBBOARD_WEIGHT_COUNT, dtype="int32")  # the extra zero
        positions[mask] = np.arange(network.SUBBOARD_WEIGHT_COUNT, dtype="int32")
        self._positions = positions

    def build(self, input_shape):
        if input_shape[-1] != network.NUM_SQUARES:
            raise ConvsuiteError(f"SubBoards takes the {network.NUM_SQUARES} squares, got {input_shape[-1]} inputs")
        self.kernel = self.add_weight(shape=(network.SUBBOARD_WEIGHT_COUNT,),
                                      initializer=_initial_weights(self.seed, 0), name="kernel")
        self.bias = self.add_weight(shape=(network.NUM_SUBBOARDS,), initializer=_initial_weights(self.seed, 1),
                                    name="bias")

    def call(self, x):
        padded = ops.concatenate([ops.cast(self.kernel, x.dtype), ops.zeros((1,), x.dtype)])
        dense_kernel = ops.take(padded, ops.convert_to_tensor(self._positions))
        return ops.tanh(ops.matmul(x, dense_kernel) + ops.cast(self.bias, x.dtype))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], network.NUM_SUBBOARDS)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@_register
class PieceDifferenceOutput(layers.Layer):
    """The output node: tanh(hidden . w + b + piece difference), where the piece difference is
    the sum of the (king-scaled) inputs, joined to the output with a fixed weight of 1."""

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.seed = int(seed)

    def build(self, input_shape):
        hidden_shape, _ = input_shape
        self.kernel = self.add_weight(shape=(int(hidden_shape[-1]),), initializer=_initial_weights(self.seed, 4),
                                      name="kernel")
        self.bias = self.add_weight(shape=(1,), initializer=_initial_weights(self.seed, 5), name="bias")

    def call(self, inputs):
        hidden, squares = inputs
        hidden = ops.cast(hidden, "float32")
        squares = ops.cast(squares, "float32")
        total = ops.sum(hidden * ops.cast(self.kernel, "float32"), axis=-1) + ops.sum(squares, axis=-1)
        return ops.tanh(total + ops.cast(self.bias[0], "float32"))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1])

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def blondie24_net(king_value: float = network.INITIAL_KING_VALUE, seed: int = 0) -> keras.Model:
    """The evaluation network of Chellapilla & Fogel 2001 (5046 weights): 32 square codes, K for
    kings, 91 sub-board tanh nodes, Dense(40, tanh), Dense(10, tanh), and a tanh output that also
    receives the piece difference. Input: (batch, 32) codes from ``network.board_codes``;
    output: (batch,) values in [-1, 1] for the side the codes are oriented to.
    Weights start uniform in [-0.2, 0.2] as in the paper."""
    seed = int(seed)
    codes = keras.Input((network.NUM_SQUARES,), name="codes")
    squares = KingValue(king_value, name="king_value")(codes)
    x = SubBoards(seed, name="sub_boards")(squares)
    x = layers.Dense(network.HIDDEN_SIZES[0], activation="tanh", kernel_initializer=_initial_weights(seed, 2),
                     bias_initializer=_initial_weights(seed, 12), name="hidden_40")(x)
    x = layers.Dense(network.HIDDEN_SIZES[1], activation="tanh", kernel_initializer=_initial_weights(seed, 3),
                     bias_initializer=_initial_weights(seed, 13), name="hidden_10")(x)
    value = PieceDifferenceOutput(seed, dtype="float32", name="value")([x, squares])
    return keras.Model(codes, value, name="blondie24")


MODELS = {"blondie24": blondie24_net}


def build_model(experiment, **dims) -> keras.Model:
    """The model ``experiment.model.name`` names, with ``model.king_value`` and ``trainer.seed``.

    The paper fixes every dimension (32 squares in, one value out), so ``dims`` may only be None."""
    name = experiment.model.name
    if name not in MODELS:
        raise ConvsuiteError(f"model.name must be one of {', '.join(MODELS)}, got {name!r}")
    fixed = {key: value for key, value in dims.items() if value is not None}
    if fixed:
        raise ConvsuiteError(f"the {name} network has fixed dimensions (32 squares in, one value out); "
                             f"drop {', '.join(sorted(fixed))} from build_model")
    return MODELS[name](king_value=float(getattr(experiment.model, "king_value", network.INITIAL_KING_VALUE)),
                        seed=int(getattr(experiment.trainer, "seed", 0) or 0))


def set_flat_weights(model: keras.Model, flat, king_value: float) -> None:
    """Load one flat weight vector (``network.FLAT_LAYOUT``) and king value into a ``blondie24_net``."""
    parts = network.split_flat(flat)
    model.get_layer("king_value").king_value.assign(float(king_value))
    model.get_layer("sub_boards").set_weights([parts["subboard_kernel"], parts["subboard_bias"]])
    model.get_layer("hidden_40").set_weights([parts["dense1_kernel"], parts["dense1_bias"]])
    model.get_layer("hidden_10").set_weights([parts["dense2_kernel"], parts["dense2_bias"]])
    model.get_layer("value").set_weights([parts["output_kernel"], parts["output_bias"]])


def flat_weights(model: keras.Model) -> tuple[np.ndarray, float]:
    """The flat float64 weight vector and the king value of a ``blondie24_net``, so that
    ``network.NetworkEvaluator(*flat_weights(model))`` computes what the model does."""
    sub_kernel, sub_bias = model.get_layer("sub_boards").get_weights()
    dense1_kernel, dense1_bias = model.get_layer("hidden_40").get_weights()
    dense2_kernel, dense2_bias = model.get_layer("hidden_10").get_weights()
    output_kernel, output_bias = model.get_layer("value").get_weights()
    flat = network.join_flat({
        "subboard_kernel": sub_kernel, "subboard_bias": sub_bias, "dense1_kernel": dense1_kernel,
        "dense1_bias": dense1_bias, "dense2_kernel": dense2_kernel, "dense2_bias": dense2_bias,
        "output_kernel": output_kernel, "output_bias": output_bias,
    })
    king_value = float(keras.ops.convert_to_numpy(model.get_layer("king_value").king_value))
    return flat, king_value
