"""Models of the Go suite: move-prediction (policy) networks and a value network.

Every model takes the feature planes of ``convsuite.suites.go.features`` bit-packed, eight
to a byte (``features.model_inputs``; (batch, ceil(size*size*planes/8)) uint8), and unpacks
them inside with ``keras.ops`` bit operations (``UnpackPlanes``): the host only moves packed
bytes, 8x less than uint8 planes, and no Python decoding sits between the stored positions
and the accelerator. Policies output a softmax over the size*size points (passes are left to the
player); the value net outputs the expected result in [-1, 1] for the player to move.
Any board size can be built; a built model is tied to its size by its dense layer or its
position biases, and the player checks that size against the board.

Training-time augmentation by the 8 board symmetries happens inside the model
(``RandomSymmetry`` / ``UndoSymmetry``): each example is turned by its own random
symmetry and the predicted move map is turned back, which is the same as augmenting the
(position, move) pair, costs one gather, and needs no input-pipeline support.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from convsuite.common.blocks import ConvBNAct
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go.features import model_inputs, packed_width, symmetry_permutations

_register = keras.saving.register_keras_serializable(package="convsuite")


def _check_size(board_size: int) -> None:
    if not 2 <= int(board_size) <= 25:
        raise ConvsuiteError(f"board_size must be between 2 and 25 (9..19 for real games), got {board_size}")


@_register
class UnpackPlanes(layers.Layer):
    """Bit-packed bytes (batch, ceil(size*size*planes/8)) -> float planes (batch, size, size, planes).

    The inverse of ``features.pack_planes`` (``numpy.packbits``: first plane bit in the highest
    bit of the first byte), written with keras.ops so it runs inside the compiled model on any
    backend."""

    def __init__(self, board_size: int, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.board_size, self.channels = int(board_size), int(channels)
        self._shifts = np.arange(7, -1, -1, dtype="int32")

    def call(self, packed):
        bits = ops.bitwise_and(ops.right_shift(ops.expand_dims(ops.cast(packed, "int32"), -1),
                                               ops.convert_to_tensor(self._shifts)), 1)
        n = self.board_size * self.board_size * self.channels
        flat = ops.reshape(bits, (ops.shape(packed)[0], -1))[:, :n]
        return ops.reshape(ops.cast(flat, self.compute_dtype),
                           (ops.shape(packed)[0], self.board_size, self.board_size, self.channels))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.board_size, self.board_size, self.channels)

    def get_config(self):
        return {**super().get_config(), "board_size": self.board_size, "channels": self.channels}


@_register
class RandomSymmetry(layers.Layer):
    """Turns each example by one of the 8 board symmetries while training (identity otherwise).

    Returns the turned planes and the symmetry index per example, which ``UndoSymmetry``
    uses to turn the predicted move map back to the original orientation."""

    def __init__(self, board_size: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.board_size = int(board_size)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        forward, _ = symmetry_permutations(self.board_size)
        self._forward = forward

    def call(self, planes, training=None):
        batch = ops.shape(planes)[0]
        if not training:
            return planes, ops.zeros((batch,), "int32")
        k = keras.random.randint((batch,), 0, 8, seed=self.seed_generator, dtype="int32")
        index = ops.take(ops.convert_to_tensor(self._forward), k, axis=0)  # (batch, points)
        n = self.board_size * self.board_size
        flat = ops.reshape(planes, (batch, n, -1))
        turned = ops.take_along_axis(flat, ops.expand_dims(index, -1), axis=1)
        return ops.reshape(turned, ops.shape(planes)), k

    def compute_output_shape(self, input_shape):
        return input_shape, (input_shape[0],)

    def get_config(self):
        return {**super().get_config(), "board_size": self.board_size, "seed": self.seed}


@_register
class UndoSymmetry(layers.Layer):
    """Maps per-point outputs (batch, size*size) computed on turned planes back to the board."""

    def __init__(self, board_size: int, **kwargs):
        super().__init__(**kwargs)
        self.board_size = int(board_size)
        _, inverse = symmetry_permutations(self.board_size)
        self._inverse = inverse

    def call(self, inputs):
        values, k = inputs
        index = ops.take(ops.convert_to_tensor(self._inverse), k, axis=0)
        return ops.take_along_axis(values, index, axis=1)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "board_size": self.board_size}


@_register
class PositionBias(layers.Layer):
    """A learned bias per board point (Maddison et al. 2015's position-dependent biases),
    added to per-point scores of shape (batch, points)."""

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(int(input_shape[-1]),), initializer="zeros", name="bias")

    def call(self, inputs):
        return inputs + ops.cast(self.bias, inputs.dtype)


def _planes_input(board_size: int, num_planes: int, augment: bool, seed):
    _check_size(board_size)
    planes = keras.Input((packed_width(board_size, num_planes),), dtype="uint8", name="packed_planes")
    x = UnpackPlanes(board_size, num_planes, dtype="float32", name="unpack_planes")(planes)
    symmetry = None
    if augment:
        x, symmetry = RandomSymmetry(board_size, seed=seed, name="random_symmetry")(x)
    return planes, x, symmetry


def _policy_output(scores, board_size: int, symmetry, name: str, position_bias: bool = False):
    if symmetry is not None:
        scores = UndoSymmetry(board_size, name="undo_symmetry")([scores, symmetry])
    if position_bias:  # in board coordinates, after the symmetry is undone
        scores = PositionBias(name="position_bias")(scores)
    return layers.Activation("softmax", dtype="float32", name=name)(scores)


def clark_storkey_net(board_size: int = 19, num_planes: int = 8, augment: bool = True, seed: int | None = None,
                      batch_norm: bool = False) -> keras.Model:
    """The best move predictor of Clark & Storkey 2014 ("Teaching Deep Convolutional Neural
    Networks to Play Go", arXiv:1412.3409; ICML 2015 as "Training Deep Convolutional Neural
    Networks to Play Go"): one layer of 64 7x7 filters, two of 64 5x5, two of 48 5x5, two of
    32 5x5 (ReLU, zero padding), then one fully connected layer to a softmax over the points.

    Deviation: the paper tied weights so the net is exactly symmetric; here the 8 symmetries
    are a random training-time augmentation instead. ``batch_norm`` (off by default, as in
    the paper) adds BatchNorm after each convolution.
    """
    planes, x, symmetry = _planes_input(board_size, num_planes, augment, seed)
    for i, (filters, kernel) in enumerate([(64, 7), (64, 5), (64, 5), (48, 5), (48, 5), (32, 5), (32, 5)]):
        x = ConvBNAct(filters, kernel, use_batch_norm=batch_norm, name=f"conv{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    scores = layers.Dense(board_size * board_size, name="fully_connected")(x)
    return keras.Model(planes, _policy_output(scores, board_size, symmetry, "policy"), name="clark_storkey")


def _maddison_trunk(x, depth: int, filters: int, batch_norm: bool, first_kernel: int = 5):
    x = ConvBNAct(filters, first_kernel, use_batch_norm=batch_norm, name="conv1")(x)
    for i in range(depth - 1):
        x = ConvBNAct(filters, 3, use_batch_norm=batch_norm, name=f"conv{i + 2}")(x)
    return x


def maddison_net(board_size: int = 19, num_planes: int = 27, depth: int = 12, filters: int = 128, augment: bool = True,
                 seed: int | None = None, batch_norm: bool = False) -> keras.Model:
    """The 12-layer move predictor of Maddison, Huang, Sutskever & Silver 2015 ("Move Evaluation
    in Go Using Deep Convolutional Neural Networks", ICLR): a 5x5 convolution, then 3x3
    convolutions (``depth`` convolutional layers in all, the last with one filter), ReLU, zero
    padding, no pooling, position-dependent biases, and a softmax over the points.

    The paper varied the width (64-192 filters; 128 is the default here). Deviation: weight
    tying for symmetry is replaced by random symmetry augmentation in training.
    """
    if depth < 2:
        raise ConvsuiteError(f"maddison_net needs depth >= 2 (a 5x5 layer and the output layer), got {depth}")
    planes, x, symmetry = _planes_input(board_size, num_planes, augment, seed)
    x = _maddison_trunk(x, depth - 1, filters, batch_norm)
    x = layers.Conv2D(1, 3, padding="same", use_bias=False, name=f"conv{depth}")(x)
    scores = layers.Flatten(name="flatten")(x)
    return keras.Model(planes, _policy_output(scores, board_size, symmetry, "policy", position_bias=True),
                       name="maddison")


def value_net(board_size: int = 19, num_planes: int = 28, depth: int = 12, filters: int = 128, hidden: int = 256,
              augment: bool = True, seed: int | None = None, batch_norm: bool = False) -> keras.Model:
    """An AlphaGo-style value network (Silver et al. 2016, "Mastering the game of Go with deep
    neural networks and tree search", Methods: the policy trunk, then a 1x1 convolution, a
    256-unit ReLU layer and a tanh unit): the expected game result in [-1, 1] for the player
    to move. Deviation: the 1x1 convolution is batch-normalized (as in the AlphaGo Zero value
    head, Silver et al. 2017), which keeps its single ReLU channel from dying. Trained with mean squared error on the recorded result, one position per game
    per epoch being the paper's remedy for overfitting (``data.value_positions_per_game``).
    """
    planes, x, _ = _planes_input(board_size, num_planes, augment, seed)
    x = _maddison_trunk(x, depth - 1, filters, batch_norm)
    # One filter behind a ReLU dies easily (all outputs 0, then no gradient: seen here on 9x9
    # self-play); batch normalization before the ReLU, as the AlphaGo Zero value head has it,
    # keeps half of it alive.
    x = ConvBNAct(1, 1, use_batch_norm=True, name=f"conv{depth}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(hidden, activation="relu", name="hidden")(x)
    value = layers.Dense(1, activation="tanh", dtype="float32", name="value")(x)
    return keras.Model(planes, layers.Reshape((), name="result")(value), name="value_net")


@_register
class SignAccuracy(keras.metrics.MeanMetricWrapper):
    """How often the value net's sign is the game's winner (results of 0 are skipped as wrong)."""

    def __init__(self, name="sign_accuracy", dtype=None):
        def agree(y_true, y_pred):
            y_true = ops.cast(y_true, "float32")
            return ops.cast(ops.greater(y_true * ops.cast(y_pred, "float32"), 0.0), "float32")

        super().__init__(agree, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def _common_kwargs(experiment, board_size, num_planes) -> dict:
    from convsuite.suites.go.features import num_planes as planes_of

    d, m = experiment.data, experiment.model
    return dict(board_size=board_size or d.board_size, num_planes=num_planes or planes_of(d.feature_set),
                augment=m.augment, seed=experiment.trainer.seed, batch_norm=m.batch_norm)


def _clark_storkey(experiment, board_size=None, num_planes=None) -> keras.Model:
    return clark_storkey_net(**_common_kwargs(experiment, board_size, num_planes))


def _maddison(experiment, board_size=None, num_planes=None) -> keras.Model:
    m = experiment.model
    return maddison_net(depth=m.depth, filters=m.filters, **_common_kwargs(experiment, board_size, num_planes))


def _value(experiment, board_size=None, num_planes=None) -> keras.Model:
    m = experiment.model
    return value_net(depth=m.depth, filters=m.filters, hidden=m.value_hidden,
                     **_common_kwargs(experiment, board_size, num_planes))


# model.name -> builder(experiment, board_size=None, num_planes=None); None takes the experiment's data settings.
MODELS = {"clark-storkey": _clark_storkey, "maddison": _maddison, "value": _value}


def build_model(experiment, board_size: int | None = None, num_planes: int | None = None) -> keras.Model:
    """The model ``experiment.model.name`` names, for ``data.board_size`` and the planes of
    ``data.feature_set`` unless given."""
    name = experiment.model.name
    if name not in MODELS:
        raise ConvsuiteError(f"model.name must be one of {', '.join(MODELS)}, got {name!r}")
    return MODELS[name](experiment, board_size=board_size, num_planes=num_planes)


def _unpack_layer(model: keras.Model) -> UnpackPlanes:
    for layer in model.layers:
        if isinstance(layer, UnpackPlanes):
            return layer
    raise ConvsuiteError(f"model {model.name!r} is not a Go net of this version (no unpack_planes layer); "
                         "train it again with `convsuite train go`")


def model_board_size(model: keras.Model) -> int:
    return _unpack_layer(model).board_size


def model_planes(model: keras.Model) -> int:
    return _unpack_layer(model).channels


def policy_scores(model: keras.Model, planes: np.ndarray) -> np.ndarray:
    """Move probabilities (batch, points) for a batch of uint8 planes (batch, size, size, C)."""
    return np.asarray(model.predict_on_batch(model_inputs(planes)))
