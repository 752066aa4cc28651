"""Go models: parameter counts from the papers' layer lists, symmetry augmentation, any board
size, save/load, and the same numbers on JAX."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go import models
from convsuite.suites.go.features import model_inputs, symmetry_permutations, transform_planes, unpack_planes


def conv_params(k, c_in, c_out, bias=True):
    return k * k * c_in * c_out + (c_out if bias else 0)


def test_clark_storkey_parameter_count_follows_the_paper_layer_list():
    model = models.clark_storkey_net(19, 8)
    layers = [(7, 8, 64), (5, 64, 64), (5, 64, 64), (5, 64, 48), (5, 48, 48), (5, 48, 32), (5, 32, 32)]
    expected = sum(conv_params(*layer) for layer in layers) + 19 * 19 * 32 * 361 + 361
    assert model.count_params() == expected
    assert model.output_shape == (None, 361)


def test_maddison_twelve_layers_with_position_biases():
    model = models.maddison_net(19, 27, depth=12, filters=128)
    convs = [layer for layer in model.layers if "conv" in layer.name]
    assert len(convs) == 12
    expected = conv_params(5, 27, 128) + 10 * conv_params(3, 128, 128) + conv_params(3, 128, 1, bias=False) + 361
    assert model.count_params() == expected
    with pytest.raises(ConvsuiteError, match="depth"):
        models.maddison_net(9, 27, depth=1)


@pytest.mark.parametrize("size", [9, 13, 19])
def test_every_model_builds_on_any_board_size(size):
    x = np.zeros((2, size, size, 28), np.uint8)
    assert models.maddison_net(size, 27, depth=3, filters=8)(model_inputs(x[..., :27])).shape == (2, size * size)
    assert models.clark_storkey_net(size, 8)(model_inputs(x[..., :8])).shape == (2, size * size)
    value = models.value_net(size, 28, depth=3, filters=8, hidden=16)(model_inputs(x))
    assert value.shape == (2,) and np.all(np.abs(value) <= 1)
    with pytest.raises(ConvsuiteError, match="board_size"):
        models.maddison_net(30, 27)


@pytest.mark.parametrize("size, channels", [(9, 27), (19, 28), (5, 3)])
def test_the_model_unpacks_bits_exactly_as_numpy(size, channels):
    """The host packs, the model unpacks: the planes the convolutions see are the stored ones."""
    planes = np.random.default_rng(size).integers(0, 2, (4, size, size, channels)).astype(np.uint8)
    packed = model_inputs(planes)
    assert packed.shape == (4, (size * size * channels + 7) // 8)
    unpacked = models.UnpackPlanes(size, channels)(packed)
    np.testing.assert_array_equal(np.asarray(unpacked), planes.astype(np.float32))
    np.testing.assert_array_equal(unpack_planes(packed, size, channels), planes)


def test_policy_sums_to_one_and_inference_has_no_augmentation():
    model = models.maddison_net(9, 27, depth=3, filters=8, seed=0)
    x = model_inputs(np.random.default_rng(0).integers(0, 2, (5, 9, 9, 27)).astype(np.uint8))
    p = model(x, training=False).numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(p, model(x, training=False).numpy())


def test_training_mode_turns_each_example_and_turns_its_move_map_back():
    """In training each example's output equals the inference output of one of its 8 turned
    copies, mapped back to the board: the same as augmenting the (position, move) pair."""
    model = models.maddison_net(9, 27, depth=3, filters=8, seed=1)
    x = np.random.default_rng(1).integers(0, 2, (16, 9, 9, 27)).astype(np.uint8)
    trained = model(model_inputs(x), training=True).numpy()
    _, inverse = symmetry_permutations(9)
    turned = [model(model_inputs(transform_planes(x, k)), training=False).numpy()[:, inverse[k]] for k in range(8)]
    used = []
    for b in range(len(x)):
        matches = [k for k in range(8) if np.allclose(trained[b], turned[k][b], atol=1e-5)]
        assert matches, f"example {b} matches no symmetry"
        used.append(matches[0])
    assert len(set(used)) > 1  # not always the same symmetry


def test_saved_models_load_with_keras_alone(tmp_path):
    for model in (models.maddison_net(9, 27, depth=3, filters=8), models.clark_storkey_net(9, 8),
                  models.value_net(9, 28, depth=3, filters=8, hidden=8)):
        x = np.random.default_rng(2).integers(0, 2, (3, *model.input_shape[1:])).astype(np.uint8)
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
        assert models.model_board_size(loaded) == 9


def test_sign_accuracy_counts_agreeing_signs():
    metric = models.SignAccuracy()
    metric.update_state(np.array([1.0, -1.0, 1.0, 0.0]), np.array([0.3, -0.2, -0.1, 0.5]))
    assert float(metric.result()) == pytest.approx(0.5)


JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras
    from convsuite.suites.go import models
    from convsuite.suites.go.features import model_inputs, symmetry_permutations, transform_planes
    model = models.maddison_net(9, 27, depth=3, filters=8, seed=0)
    model.load_weights(sys.argv[1])
    x = np.load(sys.argv[2])
    trained = np.asarray(model(model_inputs(x), training=True))
    _, inverse = symmetry_permutations(9)
    turned = [np.asarray(model(model_inputs(transform_planes(x, k)), training=False))[:, inverse[k]] for k in range(8)]
    ok = all(any(np.allclose(trained[b], t[b], atol=1e-5) for t in turned) for b in range(len(x)))
    np.save(sys.argv[3], np.asarray(model(model_inputs(x), training=False)))
    print(json.dumps({"backend": keras.backend.backend(), "augmentation_consistent": bool(ok)}))
""")


def test_policy_net_on_jax_matches_tensorflow(tmp_path):
    model = models.maddison_net(9, 27, depth=3, filters=8, seed=0)
    x = np.random.default_rng(3).integers(0, 2, (6, 9, 9, 27)).astype(np.uint8)
    model.save_weights(tmp_path / "w.weights.h5")
    np.save(tmp_path / "x.npy", x)
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", JAX_SCRIPT, str(tmp_path / "w.weights.h5"), str(tmp_path / "x.npy"),
                             str(tmp_path / "p.npy")], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"backend": "jax", "augmentation_consistent": True}
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), model.predict(model_inputs(x), verbose=0), atol=1e-5)
