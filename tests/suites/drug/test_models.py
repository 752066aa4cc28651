"""The drug models: AtomNet and default2017 layer by layer (parameter counts worked out by hand from the
papers' layers), the experiments' grids, save/load, and the same saved model on JAX without TensorFlow."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.drug import models
from convsuite.suites.drug.config import EXPERIMENTS, atomnet_output_edge
from tests.common.test_jax_path import BLOCK_TENSORFLOW

CHANNELS = 28


def conv3d_params(kernel, inputs, filters):
    return kernel ** 3 * inputs * filters + filters


def dense_params(inputs, units):
    return inputs * units + units


def test_atomnet_paper_layers_give_the_papers_parameter_count_without_building_it():
    # 20 Å at 1 Å: four unpadded convolutions 20 -> 16 -> 14 -> 12 -> 10, then 10^3 x 256 into 1024.
    assert atomnet_output_edge(20, [5, 3, 3, 3], False) == 10
    expected = (conv3d_params(5, CHANNELS, 128) + conv3d_params(3, 128, 256) + 2 * conv3d_params(3, 256, 256)
                + dense_params(10 ** 3 * 256, 1024) + dense_params(1024, 1024) + dense_params(1024, 1))
    assert expected == 268_068_225  # the flatten -> 1024 layer holds 262M of them


def test_atomnet_small_variant_has_the_hand_counted_parameters_and_one_probability_per_grid():
    model = models.atomnet((20, 20, 20, CHANNELS), filters=(32, 64, 64, 64), dense_units=(256,), pool_first=True)
    # 20 -> conv5 16 -> pool 8 -> 6 -> 4 -> 2: 2^3 x 64 = 512 features
    expected = (conv3d_params(5, CHANNELS, 32) + conv3d_params(3, 32, 64) + 2 * conv3d_params(3, 64, 64)
                + dense_params(512, 256) + dense_params(256, 1))
    assert model.count_params() == expected
    grids = np.random.default_rng(0).random((3, 20, 20, 20, CHANNELS)).astype(np.float16)
    out = keras.ops.convert_to_numpy(model.predict(grids, verbose=0))
    assert out.shape == (3, 1) and out.dtype == np.float32 and np.all((out > 0) & (out < 1))


def test_default2017_pools_three_times_and_has_the_hand_counted_parameters():
    model = models.default2017((48, 48, 48, CHANNELS))
    # 48 -> pool 24 -> conv -> pool 12 -> conv -> pool 6 -> conv: 6^3 x 128 features into one output
    expected = (conv3d_params(3, CHANNELS, 32) + conv3d_params(3, 32, 64) + conv3d_params(3, 64, 128)
                + dense_params(6 ** 3 * 128, 1))
    assert model.count_params() == expected == 328_545
    assert [layer.name for layer in model.layers if "pool" in layer.name] == ["pool1", "pool2", "pool3"]


def test_the_registry_experiments_build_their_grid_shapes_and_the_quarter_width_atomnet_is_small():
    for name in ("atomnet-registry", "default2017-registry"):
        experiment = EXPERIMENTS[name]()
        shape = models.grid_shape(experiment)
        edge = round(experiment.data.grid_size / experiment.data.resolution)
        assert shape == (edge, edge, edge, CHANNELS)
    small = models.build_model(EXPERIMENTS["atomnet-registry"]())
    assert small.count_params() == 520_289  # the quarter-width variant counted in the test above, 500 times smaller


def test_an_unknown_architecture_is_named_with_the_choices():
    experiment = EXPERIMENTS["atomnet-registry"]()
    experiment.model.name = "resnet"
    with pytest.raises(ConvsuiteError, match="atomnet, default2017"):
        models.build_model(experiment)


def test_too_small_a_grid_for_atomnets_unpadded_convolutions_is_refused_at_validation():
    from convsuite.common import registry

    with pytest.raises(ConvsuiteError, match="unpadded convolutions"):
        registry.make_experiment("drug", "atomnet-dude", ["data.grid_size=8"])
    with pytest.raises(ConvsuiteError, match="whole number"):
        registry.make_experiment("drug", "atomnet-registry", ["data.resolution=0.3"])


JAX_SCRIPT = textwrap.dedent("""
    import json
    import keras
    import numpy as np
    import convsuite
    grids = np.load(sys.argv[1])
    report = {}
    for name in ("atomnet", "default2017"):
        model = keras.saving.load_model(f"{sys.argv[2]}/{name}.keras")
        report[name] = keras.ops.convert_to_numpy(model.predict(grids, verbose=0)).tolist()
    assert "tensorflow" not in sys.modules
    print(json.dumps(report))
""")
CLI_IMPORT = "from convsuite.common.cli import main"


def test_both_models_saved_on_tensorflow_give_the_same_scores_on_jax_without_tensorflow(tmp_path):
    grids = np.random.default_rng(3).random((2, 16, 16, 16, CHANNELS)).astype(np.float32)
    np.save(tmp_path / "grids.npy", grids)
    built = {"atomnet": models.atomnet((16, 16, 16, CHANNELS), filters=(4, 8), kernels=(3, 3), dense_units=(8,)),
             "default2017": models.default2017((16, 16, 16, CHANNELS), filters=(4, 8, 8))}
    expected = {}
    for name, model in built.items():
        model.save(tmp_path / f"{name}.keras")
        expected[name] = keras.ops.convert_to_numpy(model.predict(grids, verbose=0))
    assert CLI_IMPORT in BLOCK_TENSORFLOW
    script = BLOCK_TENSORFLOW.split(CLI_IMPORT)[0] + JAX_SCRIPT
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "grids.npy"), str(tmp_path)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for name in built:
        np.testing.assert_allclose(report[name], expected[name], rtol=1e-4, atol=1e-5)
