"""Q networks of the Atari suite.

Mnih, Kavukcuoglu, Silver et al., "Human-level control through deep reinforcement learning",
Nature 518, 529-533 (2015): the "Nature DQN" reads a stack of the last 4 preprocessed 84x84
frames and outputs one action value per action: 32 filters 8x8 stride 4, 64 filters 4x4
stride 2, 64 filters 3x3 stride 1 (each followed by a rectifier), 512 rectifier units, a
linear output layer. Frames enter as uint8, so a replay batch crosses to the device at a
quarter of the float32 size, and are scaled to [0, 1] inside the model.

The MLP is the same head on a vector state (CartPole), for checking the learning loop.
"""

from __future__ import annotations

import keras
from keras import layers

from convsuite.common.blocks import ConvBNAct
from convsuite.common.errors import ConvsuiteError

_register = keras.saving.register_keras_serializable(package="convsuite")


def _torch_default_init(seed: int | None):
    """Uniform in +-1/sqrt(fan_in): the default initialisation of the paper's (Torch 7) layers."""
    return keras.initializers.VarianceScaling(scale=1.0 / 3.0, mode="fan_in", distribution="uniform", seed=seed)


@_register
class FramesToChannels(layers.Layer):
    """(batch, stack, height, width) uint8 frames -> (batch, height, width, stack) floats in [0, 1]."""

    def call(self, frames):
        x = keras.ops.cast(frames, self.compute_dtype) / 255.0
        return keras.ops.transpose(x, (0, 2, 3, 1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2], input_shape[3], input_shape[1])


def nature_dqn(num_actions: int, stack: int = 4, frame_size: int = 84, seed: int | None = 0,
               name: str = "nature_dqn") -> keras.Model:
    """The Nature DQN (Mnih et al. 2015): three rectified convolutions, 512 rectified units, linear Q values."""
    if frame_size < 36:
        raise ConvsuiteError(f"the Nature DQN needs frames of at least 36x36 (its three convolutions), got "
                             f"{frame_size}x{frame_size}")
    seeds = [None if seed is None else seed + i for i in range(5)]
    frames = keras.Input((stack, frame_size, frame_size), dtype="uint8", name="frames")
    x = FramesToChannels(name="scale")(frames)
    for i, (filters, kernel, stride) in enumerate(((32, 8, 4), (64, 4, 2), (64, 3, 1))):
        x = ConvBNAct(filters, kernel, strides=stride, padding="valid", use_batch_norm=False,
                      kernel_initializer=_torch_default_init(seeds[i]), name=f"conv{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(512, activation="relu", kernel_initializer=_torch_default_init(seeds[3]), name="hidden")(x)
    q_values = layers.Dense(num_actions, kernel_initializer=_torch_default_init(seeds[4]), name="q_values")(x)
    return keras.Model(frames, q_values, name=name)


def mlp_q_network(num_actions: int, state_shape: tuple, width: int = 64, depth: int = 2, seed: int | None = 0,
                  name: str = "mlp_q") -> keras.Model:
    """A rectified MLP over a flattened stack of vector states, one linear Q value per action."""
    states = keras.Input(tuple(state_shape), dtype="float32", name="states")
    x = layers.Flatten(name="flatten")(states)
    for i in range(depth):
        x = layers.Dense(width, activation="relu", kernel_initializer=_torch_default_init(
            None if seed is None else seed + i), name=f"hidden{i + 1}")(x)
    q_values = layers.Dense(num_actions, kernel_initializer=_torch_default_init(None if seed is None else seed + 99),
                            name="q_values")(x)
    return keras.Model(states, q_values, name=name)


def _nature(experiment, num_actions: int, state_shape: tuple, seed: int | None, name: str):
    stack, height, width = state_shape
    if height != width:
        raise ConvsuiteError(f"the Nature DQN reads square frames, got {height}x{width}")
    return nature_dqn(num_actions, stack, height, seed, name)


def _mlp(experiment, num_actions: int, state_shape: tuple, seed: int | None, name: str):
    return mlp_q_network(num_actions, state_shape, experiment.model.mlp_width, experiment.model.mlp_layers, seed, name)


MODELS = {"nature-dqn": _nature, "mlp": _mlp}


def build_model(experiment, num_actions: int | None = None, state_shape: tuple | None = None,
                seed: int | None = None, name: str = "q_network") -> keras.Model:
    """The experiment's Q network for ``num_actions`` actions and states of ``state_shape``
    ((stack, 84, 84) frames by default; give it for other games and environments)."""
    d = experiment.data
    if num_actions is None:
        num_actions = 6
    if state_shape is None:
        state_shape = (d.stack, d.frame_size, d.frame_size) if d.dataset == "ale" else (d.stack, 4)
    if experiment.model.name not in MODELS:
        raise ConvsuiteError(f"unknown model.name {experiment.model.name!r}; choose one of {', '.join(MODELS)}")
    seed = experiment.trainer.seed if seed is None else seed
    return MODELS[experiment.model.name](experiment, int(num_actions), tuple(state_shape), seed, name)
