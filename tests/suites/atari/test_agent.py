"""The DQN learner: TD targets, Huber loss, target network, Double DQN, the optimizer, exploration."""

import keras
import numpy as np
import pytest

from convsuite.suites.atari.agent import DQNLearner, build_learner, huber, linear_epsilon, make_optimizer
from convsuite.suites.atari.evaluation import epsilon_greedy
from convsuite.suites.atari.config import EXPERIMENTS
from convsuite.suites.atari.models import mlp_q_network


def _learner(double=False, gamma=0.9):
    online = mlp_q_network(3, (1, 2), width=8, depth=1, seed=1, name="online")
    target = mlp_q_network(3, (1, 2), width=8, depth=1, seed=2, name="target")
    learner = DQNLearner(online, target, gamma=gamma, double_dqn=double)
    learner.compile(optimizer=keras.optimizers.SGD(0.1))
    return learner


def _batch(rng, size=16):
    return {"state": rng.normal(size=(size, 1, 2)).astype("float32"),
            "action": rng.integers(0, 3, size).astype("int32"),
            "reward": rng.normal(size=size).astype("float32"),
            "next_state": rng.normal(size=(size, 1, 2)).astype("float32"),
            "done": (rng.random(size) < 0.3).astype("float32")}


@pytest.mark.parametrize("double", [False, True])
def test_td_targets_match_the_papers_formula(double):
    learner = _learner(double)
    batch = _batch(np.random.default_rng(0))
    q_target = learner.target.predict_on_batch(batch["next_state"])
    q_online = learner.online.predict_on_batch(batch["next_state"])
    chosen = np.argmax(q_online if double else q_target, axis=1)
    expected = batch["reward"] + 0.9 * (1 - batch["done"]) * q_target[np.arange(16), chosen]
    got = keras.ops.convert_to_numpy(learner.td_targets(batch))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    if not double:  # a done transition's target is its reward alone
        done = batch["done"] == 1
        np.testing.assert_allclose(got[done], batch["reward"][done], atol=1e-6)


def test_double_dqn_targets_differ_from_dqn_when_the_networks_disagree():
    batch = _batch(np.random.default_rng(1), 64)
    plain = keras.ops.convert_to_numpy(_learner(False).td_targets(batch))
    double = keras.ops.convert_to_numpy(_learner(True).td_targets(batch))
    assert not np.allclose(plain, double)
    assert np.all(double <= plain + 1e-6)  # the target network's max is an upper bound of any of its values


def test_huber_gradient_is_the_error_clipped_to_delta():
    errors = keras.ops.convert_to_tensor(np.array([-3.0, -1.0, -0.25, 0.0, 0.5, 2.0], "float32"))
    values = keras.ops.convert_to_numpy(huber(errors, 1.0))
    np.testing.assert_allclose(values, [2.5, 0.5, 0.03125, 0.0, 0.125, 1.5], rtol=1e-6)
    # numeric gradient
    e = np.array([-3.0, -0.25, 0.5, 2.0], "float64")
    h = 1e-3
    grad = (keras.ops.convert_to_numpy(huber(keras.ops.convert_to_tensor((e + h).astype("float32"))))
            - keras.ops.convert_to_numpy(huber(keras.ops.convert_to_tensor((e - h).astype("float32"))))) / (2 * h)
    np.testing.assert_allclose(grad, np.clip(e, -1, 1), atol=2e-3)


def test_an_update_changes_the_online_network_only_and_update_target_copies_it():
    learner = _learner()
    target_before = [w.copy() for w in learner.target.get_weights()]
    online_before = [w.copy() for w in learner.online.get_weights()]
    logs = learner.train_on_batch(_batch(np.random.default_rng(2)), return_dict=True)
    assert np.isfinite(logs["loss"]) and "mean_q" in logs
    assert all(np.array_equal(a, b) for a, b in zip(target_before, learner.target.get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(online_before, learner.online.get_weights()))
    learner.update_target()
    assert all(np.array_equal(a, b) for a, b in zip(learner.online.get_weights(), learner.target.get_weights()))


def test_updates_reduce_the_td_loss_on_a_fixed_batch():
    learner = _learner(gamma=0.0)  # targets are the rewards: plain regression
    batch = _batch(np.random.default_rng(3), 32)
    batch["reward"] = 2.0 * batch["state"][:, 0, 0] - batch["state"][:, 0, 1]  # learnable from the state
    first = learner.train_on_batch(batch, return_dict=True)["loss"]
    for _ in range(60):
        learner.reset_metrics()
        last = learner.train_on_batch(batch, return_dict=True)["loss"]
    assert last < 0.5 * first


def test_the_papers_rmsprop_and_adam_settings_reach_the_optimizer():
    experiment = EXPERIMENTS["dqn-pong"]()
    rmsprop = make_optimizer(experiment)
    assert isinstance(rmsprop, keras.optimizers.RMSprop)
    assert rmsprop.centered and rmsprop.rho == pytest.approx(0.95) and rmsprop.momentum == 0.0
    assert float(keras.ops.convert_to_numpy(rmsprop.learning_rate)) == pytest.approx(0.00025)
    adam = make_optimizer(EXPERIMENTS["dqn-pong-short"]())
    assert isinstance(adam, keras.optimizers.Adam) and adam.epsilon == pytest.approx(1.5e-4)


def test_build_learner_starts_the_target_as_a_copy_of_the_online_network():
    experiment = EXPERIMENTS["dqn-cartpole"]()
    learner = build_learner(experiment, 2, (1, 4))
    assert all(np.array_equal(a, b) for a, b in zip(learner.online.get_weights(), learner.target.get_weights()))
    assert learner.target.trainable is False and len(learner.trainable_weights) == len(learner.online.weights)


def test_linear_epsilon_decays_then_stays():
    assert linear_epsilon(0, 1.0, 0.1, 100) == 1.0
    assert linear_epsilon(50, 1.0, 0.1, 100) == pytest.approx(0.55)
    assert linear_epsilon(100, 1.0, 0.1, 100) == pytest.approx(0.1)
    assert linear_epsilon(10**6, 1.0, 0.1, 100) == pytest.approx(0.1)


def test_epsilon_greedy_explores_at_the_given_rate():
    rng = np.random.default_rng(0)
    q = np.tile(np.array([[0.0, 1.0, 0.0, 0.0]]), (20_000, 1))
    greedy = epsilon_greedy(q, 0.0, 4, rng)
    assert np.all(greedy == 1)
    mixed = epsilon_greedy(q, 0.2, 4, rng)
    # random picks land on the greedy action a quarter of the time: 0.8 + 0.2 / 4
    assert abs(np.mean(mixed == 1) - 0.85) < 0.02
    assert set(np.unique(epsilon_greedy(None, 1.0, 4, rng, count=500))) == {0, 1, 2, 3}
