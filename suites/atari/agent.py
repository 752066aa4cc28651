"""The DQN learner: an online and a target Q network, the TD loss, the exploration schedule.

Mnih et al., "Human-level control through deep reinforcement learning", Nature 2015: targets
``r + gamma * max_a' Q_target(s', a')`` from a target network copied from the online one every
C steps, the TD error clipped to [-1, 1] in the gradient (a Huber loss), RMSProp. Double DQN
(van Hasselt, Guez & Silver, "Deep reinforcement learning with double Q-learning", AAAI 2016)
lets the online network pick ``a'`` and the target network value it.

``DQNLearner`` is a ``keras.Model`` whose ``compute_loss`` is the TD loss, so one update is
Keras's own compiled train step (a ``tf.function`` on TensorFlow, ``jax.jit`` on JAX): the
step is written once, in ``keras.ops``, for every backend. The target network is a
non-trainable part of the learner, so on JAX its weights travel through the jitted step as
state, and ``update_target`` is a plain weight copy.
"""

from __future__ import annotations

import keras
from keras import ops

from convsuite.common.errors import ConvsuiteError

_register = keras.saving.register_keras_serializable(package="convsuite")


def huber(error, delta: float = 1.0):
    """0.5 e^2 for |e| <= delta, delta (|e| - delta/2) beyond: its gradient is e clipped to [-delta, delta]."""
    absolute = ops.abs(error)
    quadratic = ops.minimum(absolute, delta)
    return 0.5 * ops.square(quadratic) + delta * (absolute - quadratic)


def _pick(values, actions):
    """values[i, actions[i]] for every row i."""
    return ops.squeeze(ops.take_along_axis(values, ops.expand_dims(ops.cast(actions, "int32"), -1), axis=-1), -1)


class DQNLearner(keras.Model):
    """Online network + frozen target network; ``train_on_batch(batch)`` is one DQN update.

    ``batch`` is the replay memory's dict: state, action, reward, next_state, done (1.0 where the
    transition ended its episode). Logs ``loss`` and ``mean_q`` (the mean max-Q of the batch's
    states), averaged since the last ``reset_metrics()``."""

    def __init__(self, online: keras.Model, target: keras.Model, gamma: float = 0.99, double_dqn: bool = False,
                 huber_delta: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if len(online.weights) != len(target.weights):
            raise ConvsuiteError("the target network must be a copy of the online network's architecture")
        self.online = online
        self.target = target
        self.target.trainable = False
        self.gamma = float(gamma)
        self.double_dqn = bool(double_dqn)
        self.huber_delta = float(huber_delta)
        self.q_tracker = keras.metrics.Mean(name="mean_q")

    def call(self, batch, training=False):
        return self.online(batch["state"], training=training)

    def td_targets(self, batch):
        """r + gamma (1 - done) Q_target(s', a'), a' from the target (DQN) or the online network (Double DQN)."""
        next_target = self.target(batch["next_state"], training=False)
        if self.double_dqn:
            chooser = self.online(batch["next_state"], training=False)
        else:
            chooser = next_target
        next_value = _pick(next_target, ops.argmax(chooser, axis=-1))
        reward = ops.cast(batch["reward"], next_value.dtype)
        done = ops.cast(batch["done"], next_value.dtype)
        return ops.stop_gradient(reward + self.gamma * (1.0 - done) * next_value)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        q_taken = _pick(y_pred, x["action"])
        error = q_taken - self.td_targets(x)
        return ops.mean(huber(error, self.huber_delta))

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        self.q_tracker.update_state(ops.max(y_pred, axis=-1))
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def update_target(self) -> None:
        """Copy the online network's weights into the target network."""
        for target, online in zip(self.target.weights, self.online.weights):
            # a copy: on JAX, one buffer shared by both variables would be donated twice by the jitted step
            target.assign(ops.copy(online.value))


def make_optimizer(experiment):
    """The paper's RMSProp (centred, rho 0.95, no momentum) or Adam, as the trainer section says."""
    t, a = experiment.trainer, experiment.agent
    if t.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(t.learning_rate, rho=a.rmsprop_rho, momentum=t.momentum,
                                        epsilon=a.rmsprop_epsilon, centered=True)
    if t.optimizer == "adam":
        return keras.optimizers.Adam(t.learning_rate, epsilon=a.adam_epsilon)
    from convsuite.common.trainer import make_optimizer as supervised_optimizer

    return supervised_optimizer(t)


def build_learner(experiment, num_actions: int, state_shape: tuple, jit_compile: bool = False) -> DQNLearner:
    """Online and target networks (same weights), compiled into a learner with the experiment's optimizer
    (``jit_compile``: XLA, the runtime's choice: on JAX and on GPUs)."""
    from convsuite.suites.atari.models import build_model

    online = build_model(experiment, num_actions, state_shape, name="online")
    target = build_model(experiment, num_actions, state_shape, name="target")
    target.set_weights(online.get_weights())
    a = experiment.agent
    learner = DQNLearner(online, target, gamma=a.gamma, double_dqn=a.double_dqn, huber_delta=a.huber_delta)
    learner.compile(optimizer=make_optimizer(experiment), jit_compile=jit_compile)
    return learner


def linear_epsilon(step: int, start: float, final: float, decay_steps: int) -> float:
    """Exploration rate at ``step``: linear from ``start`` to ``final`` over ``decay_steps``, then flat."""
    fraction = min(1.0, max(0, step) / decay_steps)
    return float(start + fraction * (final - start))
