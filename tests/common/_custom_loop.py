"""A small DQN-shaped custom loop on ``RunState``, run as a subprocess by test_runstate.py.

    python _custom_loop.py RUN_DIR OUT.npz

Two networks (online, target), an optimizer, a uint8 replay buffer, counters, epsilon, a
NumPy Generator and the global RNGs (Python, NumPy, Keras: dropout and keras.random), trained
with a custom jitted JAX step, TensorFlow blocked (the GPU machine's path); a large ``ballast`` array makes every save slow enough that
a kill lands inside one. Prints ``started`` once the state is restored, and at the end writes
everything the run holds to OUT.npz so two runs can be compared bit for bit.
"""

import json
import os
import random
import sys


class NoTensorFlow:
    """Behave as if TensorFlow were not installed: the loop runs on JAX alone."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tensorboard"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None


sys.meta_path.insert(0, NoTensorFlow())
os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from convsuite.common.checkpoint import rng_state  # noqa: E402
from convsuite.common.runstate import RunState  # noqa: E402

STEPS = 60
SAVE_EVERY = 2
LOG_EVERY = 5
TARGET_EVERY = 10
CAPACITY = 64
BATCH = 16
BALLAST = 6 * 2**20  # bytes


def network():
    inputs = keras.Input((8, 8))
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Dense(16, activation="relu")(x)
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(inputs, keras.layers.Dense(4)(x))


def main(run_dir, out):
    keras.utils.set_random_seed(0)
    online, target = network(), network()
    target.set_weights(online.get_weights())
    optimizer = keras.optimizers.Adam(1e-3)

    state = RunState.open(run_dir, total_steps=STEPS, progress=False, keep=2)
    state.add_model("online", online, optimizer)
    state.add_model("target", target)
    state.arrays.update(frames=np.zeros((CAPACITY, 8, 8), np.uint8), actions=np.zeros(CAPACITY, np.int64),
                        rewards=np.zeros(CAPACITY, np.float32), ballast=np.zeros(BALLAST, np.uint8))
    env = np.random.default_rng(1)
    state.add_generator("env", env)
    state.values.update(epsilon=1.0, filled=0, losses=[])
    state.restore()
    print("started", flush=True)

    def loss_of(trainable, non_trainable, x, chosen_actions, goal, noise):
        q, non_trainable = online.stateless_call(trainable, non_trainable, x, training=True)
        chosen = jnp.take_along_axis(q, chosen_actions[:, None], axis=1)[:, 0]
        return jnp.mean(jnp.square(chosen - goal - noise)), non_trainable

    train_step = jax.jit(jax.value_and_grad(loss_of, has_aux=True))
    frames, actions, rewards = state.arrays["frames"], state.arrays["actions"], state.arrays["rewards"]
    while state.step < STEPS:
        slot = state.step % CAPACITY
        frames[slot] = env.integers(0, 256, (8, 8), dtype=np.uint8)
        q = keras.ops.convert_to_numpy(online(frames[slot][None].astype("float32") / 255, training=False))
        greedy = env.random() >= state.values["epsilon"]
        actions[slot] = int(np.argmax(q)) if greedy else int(env.integers(4))
        rewards[slot] = float(frames[slot].mean() / 255) + 1e-3 * np.random.normal() + 1e-3 * random.random()
        state.arrays["ballast"][state.step * 7919 % BALLAST] = state.step % 256
        state.values["filled"] = min(state.values["filled"] + 1, CAPACITY)
        if state.values["filled"] >= BATCH:
            index = env.integers(0, state.values["filled"], BATCH)
            x = frames[index].astype("float32") / 255
            following = frames[(index + 1) % CAPACITY].astype("float32") / 255
            noise = keras.random.uniform((BATCH,), maxval=1e-3)  # Keras's global seed generator
            goal = rewards[index] + 0.9 * np.max(keras.ops.convert_to_numpy(target(following)), axis=1)
            (loss, non_trainable), gradients = train_step(
                [v.value for v in online.trainable_variables], [v.value for v in online.non_trainable_variables],
                x, actions[index], goal, noise)
            optimizer.apply_gradients(zip(gradients, online.trainable_variables))
            for variable, value in zip(online.non_trainable_variables, non_trainable):
                variable.assign(value)  # dropout's seed state: back into the variables the checkpoint saves
            state.values["losses"].append(float(loss))
        state.step += 1
        state.values["epsilon"] = max(0.1, state.values["epsilon"] * 0.98)
        if state.step % TARGET_EVERY == 0:
            target.set_weights(online.get_weights())
        if state.step % LOG_EVERY == 0:
            state.log({"loss": state.values["losses"][-1] if state.values["losses"] else 0.0,
                       "epsilon": state.values["epsilon"]})
        if state.step % SAVE_EVERY == 0:
            state.save()

    state.finish({"steps": state.step, "final_loss": state.values["losses"][-1]})
    state.close()
    everything = {f"online_{i}": w for i, w in enumerate(online.get_weights())}
    everything.update({f"target_{i}": w for i, w in enumerate(target.get_weights())})
    everything.update({f"optimizer_{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(optimizer.variables)})
    everything.update({f"array_{k}": v for k, v in state.arrays.items()})
    assert "tensorflow" not in sys.modules
    everything["json"] = np.frombuffer(json.dumps({"values": state.values, "env": env.bit_generator.state,
                                                   "rng": rng_state()}, sort_keys=True).encode(), np.uint8)
    np.savez(out, **everything)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
