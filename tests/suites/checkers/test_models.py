"""The Keras Blondie24 model: the paper's 5046 weights, the same values as the numpy network on
TensorFlow and on JAX, save/load with the king value, and model selection."""

import json
import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers import models, network


def random_codes(seed, n=16):
    return np.random.default_rng(seed).integers(-2, 3, (n, 32)).astype(np.int8)


def test_trainable_parameters_are_the_papers_5046():
    model = models.blondie24_net()
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == network.WEIGHT_COUNT == 5046
    assert [w.name for w in model.non_trainable_weights] == ["king_value"]
    assert model.name == "blondie24" and model.output_shape == (None,)


def test_numpy_network_computes_what_the_model_does():
    model = models.blondie24_net(king_value=2.0, seed=3)
    codes = random_codes(0)
    np.testing.assert_allclose(network.NetworkEvaluator(*models.flat_weights(model)).evaluate_codes(codes),
                               model.predict(codes, verbose=0), atol=1e-5)
    flat = network.random_weights(np.random.default_rng(1))
    models.set_flat_weights(model, flat, 2.6)
    read_flat, king_value = models.flat_weights(model)
    np.testing.assert_allclose(read_flat, flat, atol=1e-7)
    assert king_value == pytest.approx(2.6)
    expected = network.NetworkEvaluator(flat, 2.6).evaluate_codes(codes)
    np.testing.assert_allclose(model.predict(codes.astype("float32"), verbose=0), expected, atol=1e-5)


def test_seed_fixes_the_initial_weights():
    first, _ = models.flat_weights(models.blondie24_net(seed=5))
    again, _ = models.flat_weights(models.blondie24_net(seed=5))
    other, _ = models.flat_weights(models.blondie24_net(seed=6))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    assert np.abs(first).max() <= 0.2


def test_king_value_changes_only_positions_with_kings():
    model = models.blondie24_net(seed=1)
    flat, _ = models.flat_weights(model)
    # Sparse, balanced positions keep the output off tanh's flat ends, where float32 rounds to 1.
    rng = np.random.default_rng(2)
    squares = np.stack([rng.permutation(32)[:4] for _ in range(16)])
    men, kings = np.zeros((16, 32), np.int8), np.zeros((16, 32), np.int8)
    np.put_along_axis(men, squares, np.array([[1, -1, 1, -1]], np.int8), axis=1)
    np.put_along_axis(kings, squares, np.array([[2, -1, 1, -2]], np.int8), axis=1)
    models.set_flat_weights(model, flat, 1.5)
    men_low, kings_low = model.predict(men, verbose=0), model.predict(kings, verbose=0)
    models.set_flat_weights(model, flat, 2.5)
    np.testing.assert_array_equal(model.predict(men, verbose=0), men_low)
    assert np.all(model.predict(kings, verbose=0) != kings_low)


def test_saved_model_keeps_outputs_and_king_value(tmp_path):
    model = models.blondie24_net(seed=2)
    models.set_flat_weights(model, network.random_weights(np.random.default_rng(4)), 2.9)
    path = tmp_path / "blondie24.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    codes = random_codes(5)
    np.testing.assert_allclose(loaded.predict(codes, verbose=0), model.predict(codes, verbose=0), atol=1e-6)
    flat, king_value = models.flat_weights(loaded)
    np.testing.assert_array_equal(flat, models.flat_weights(model)[0])
    assert king_value == pytest.approx(2.9)


def test_build_model_reads_the_experiment_and_rejects_unknown_names():
    experiment = SimpleNamespace(model=SimpleNamespace(name="blondie24", king_value=1.7),
                                 trainer=SimpleNamespace(seed=4))
    model = models.build_model(experiment)
    assert models.flat_weights(model)[1] == pytest.approx(1.7)
    np.testing.assert_array_equal(models.flat_weights(model)[0], models.flat_weights(models.blondie24_net(seed=4))[0])
    bare = models.build_model(SimpleNamespace(model=SimpleNamespace(name="blondie24"), trainer=SimpleNamespace()))
    assert models.flat_weights(bare)[1] == 2.0
    with pytest.raises(ConvsuiteError, match="'chinook'.*blondie24|blondie24.*'chinook'"):
        models.build_model(SimpleNamespace(model=SimpleNamespace(name="chinook"), trainer=SimpleNamespace()))


JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras
    from convsuite.suites.checkers import models
    model = models.blondie24_net()
    models.set_flat_weights(model, np.load(sys.argv[1]), 2.4)
    np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))
    saved = sys.argv[4]
    model.save(saved)
    loaded = keras.saving.load_model(saved)
    print(json.dumps({"backend": keras.backend.backend(), "king_value": models.flat_weights(loaded)[1]}))
""")


def test_model_on_jax_computes_what_the_numpy_network_does(tmp_path):
    flat = network.random_weights(np.random.default_rng(6))
    codes = random_codes(7)
    np.save(tmp_path / "flat.npy", flat)
    np.save(tmp_path / "codes.npy", codes)
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", JAX_SCRIPT, str(tmp_path / "flat.npy"), str(tmp_path / "codes.npy"),
                             str(tmp_path / "values.npy"), str(tmp_path / "jax.keras")],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["backend"] == "jax" and report["king_value"] == pytest.approx(2.4)
    expected = network.NetworkEvaluator(flat, 2.4).evaluate_codes(codes)
    np.testing.assert_allclose(np.load(tmp_path / "values.npy"), expected, atol=1e-5)
    # The model saved on JAX loads on TensorFlow with the same values.
    loaded = keras.saving.load_model(tmp_path / "jax.keras")
    np.testing.assert_allclose(loaded.predict(codes, verbose=0), np.load(tmp_path / "values.npy"), atol=1e-5)
