"""Time-series models: receptive fields, exact causality, streaming, quantiles, masking."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from convsuite.common.analysis import receptive_field as analysed_receptive_field
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries import models
from convsuite.suites.timeseries.streaming import StreamingForecaster

RNG = np.random.default_rng(0)

# Every trunk option the suite offers: normalization x skip connections x stacks x kernel,
# with dropout (inactive at inference), covariates and quantile heads.
CONFIGS = [
    dict(normalization=n, skip_connections=s, stacks=st, kernel_size=k, dropout=0.1,
         quantiles=[0.1, 0.5, 0.9] if q else None, highway=5 if s != q else 0, horizon=3)
    for (n, s, st, k, q) in itertools.product(("weight", "layer", "none"), (True, False), (1, 2), (2, 3), (False, True))
    if not (st == 2 and k == 2)  # keep the grid small; every option still appears
]


def _forecaster(**kwargs):
    keras.utils.set_random_seed(0)
    base = dict(filters=8, dilations=(1, 2, 4))
    base.update(kwargs)
    model = models.tcn_forecaster(3, **base)
    # Random weights everywhere: a zero-initialised head or highway would hide a causality leak.
    rng = np.random.default_rng(7)
    for weight in model.weights:
        weight.assign(rng.normal(scale=0.3, size=weight.shape).astype("float32"))
    return model


def test_receptive_field_formula_matches_the_analysis_table():
    for kernel, dilations, stacks in ((3, (1, 2, 4, 8), 1), (2, (1, 2, 4), 2), (8, (1, 2, 4, 8), 1), (3, (1,), 3)):
        model = models.tcn_forecaster(2, filters=4, kernel_size=kernel, dilations=dilations, stacks=stacks)
        expected = 1 + 2 * (kernel - 1) * sum(dilations) * stacks
        assert model.receptive_field == expected == models.receptive_field(kernel, dilations, stacks)
        assert analysed_receptive_field(model) == (expected,)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items() if k != "dropout"))
def test_outputs_up_to_t_ignore_inputs_after_t_bit_for_bit(config):
    model = _forecaster(**config)
    x = RNG.normal(size=(2, 48, 3)).astype("float32")
    for t in (0, 17, 46):
        changed = x.copy()
        changed[:, t + 1:] = RNG.normal(scale=10.0, size=changed[:, t + 1:].shape)
        before = keras.ops.convert_to_numpy(model(x, training=False))
        after = keras.ops.convert_to_numpy(model(changed, training=False))
        assert np.array_equal(before[:, : t + 1], after[:, : t + 1]), f"output at <= {t} moved"
        assert not np.allclose(before[:, t + 1:], after[:, t + 1:])  # the perturbation does reach later outputs


def test_output_at_t_depends_on_exactly_the_receptive_field():
    model = _forecaster(kernel_size=3, dilations=(1, 2, 4), skip_connections=True)
    rf = model.receptive_field  # 29
    x = np.random.default_rng(3).normal(size=(8, 64, 3)).astype("float32")  # several inputs: ReLUs may cut one path
    t = 60
    base = keras.ops.convert_to_numpy(model(x))[:, t]
    oldest_seen = x.copy()
    oldest_seen[:, t - rf + 1] += 5.0
    just_outside = x.copy()
    just_outside[:, t - rf] += 5.0
    assert not np.array_equal(keras.ops.convert_to_numpy(model(oldest_seen))[:, t], base)
    assert np.array_equal(keras.ops.convert_to_numpy(model(just_outside))[:, t], base)


@pytest.mark.parametrize("config", CONFIGS[::3], ids=lambda c: f"{c['normalization']}-skip{c['skip_connections']}-q{bool(c['quantiles'])}-hw{c['highway']}")
def test_streaming_one_step_at_a_time_equals_full_sequence(config):
    model = _forecaster(**config)
    x = RNG.normal(size=(2, 40, 3)).astype("float32")
    full = keras.ops.convert_to_numpy(model(x, training=False))
    streamed = StreamingForecaster(model).run(x)
    assert streamed.shape == full.shape
    np.testing.assert_allclose(streamed, full, rtol=1e-4, atol=1e-4)


def test_streaming_rejects_a_step_of_the_wrong_shape():
    stream = StreamingForecaster(_forecaster(), batch_size=2)
    with pytest.raises(ConvsuiteError, match=r"shape \(2, 3\)"):
        stream.step(np.zeros((2, 4)))


def test_quantiles_never_cross_even_for_large_inputs():
    model = _forecaster(quantiles=[0.05, 0.25, 0.5, 0.75, 0.95], horizon=4)
    x = RNG.normal(scale=50.0, size=(8, 30, 3)).astype("float32")
    out = keras.ops.convert_to_numpy(model(x))
    assert out.shape == (8, 30, 4, 5)
    assert np.all(np.diff(out, axis=-1) >= 0)


def test_quantiles_must_be_increasing_and_inside_zero_one():
    for bad in ([0.5, 0.1], [0.0, 0.5], [0.5, 1.2], [0.3, 0.3]):
        with pytest.raises(ConvsuiteError, match="strictly increasing"):
            models.ForecastHead(2, bad)


def test_pinball_loss_known_values():
    loss = models.PinballLoss([0.1, 0.9])
    y_true = np.array([[[1.0]]], dtype="float32")  # (batch, time, horizon)
    y_pred = np.array([[[[0.0, 2.0]]]], dtype="float32")  # under by 1 at q=0.1, over by 1 at q=0.9
    # q=0.1, error +1 -> 0.1; q=0.9, error -1 -> 0.1; mean 0.1
    assert float(loss(y_true, y_pred)) == pytest.approx(0.1)
    median = models.PinballLoss([0.5])
    assert float(median(y_true, np.array([[[[3.0]]]], dtype="float32"))) == pytest.approx(1.0)  # |e| / 2


def test_pinball_trained_quantiles_cover_about_their_share():
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(256, 16, 1)).astype("float32")
    y = rng.normal(size=(256, 16, 1)).astype("float32")  # pure noise: the quantiles must learn N(0, 1)'s
    model = models.tcn_forecaster(1, horizon=1, quantiles=[0.1, 0.5, 0.9], filters=8, dilations=(1, 2))
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss=models.PinballLoss([0.1, 0.5, 0.9]))
    model.fit(x, y, epochs=30, batch_size=64, verbose=0)
    out = keras.ops.convert_to_numpy(model(rng.normal(size=(256, 16, 1)).astype("float32")))
    y_new = rng.normal(size=(256, 16, 1))
    below = [(y_new[..., 0] <= out[..., 0, i]).mean() for i in range(3)]
    assert below[0] == pytest.approx(0.1, abs=0.07)
    assert below[1] == pytest.approx(0.5, abs=0.1)
    assert below[2] == pytest.approx(0.9, abs=0.07)


def assert_same_after_save_and_load(model, x, path) -> None:
    """A .keras round trip rebuilds every custom layer: the loaded model gives the same outputs."""
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(loaded(x)))


def test_forecaster_saves_and_loads_with_its_custom_layers(tmp_path):
    model = _forecaster(quantiles=[0.1, 0.5, 0.9])
    model.compile(loss=models.PinballLoss([0.1, 0.5, 0.9]), metrics=[models.MedianAbsoluteError([0.1, 0.5, 0.9])])
    assert_same_after_save_and_load(model, RNG.normal(size=(1, 20, 3)).astype("float32"), tmp_path / "m.keras")


def test_fcn_paper_shape_and_parameter_count():
    model = models.fcn_classifier(1, 2)
    # conv 8*1*128+128, bn 4*128, conv 5*128*256+256, bn 4*256, conv 3*256*128+128, bn 4*128, dense 128*2+2
    expected = (8 * 128 + 128) + 512 + (5 * 128 * 256 + 256) + 1024 + (3 * 256 * 128 + 128) + 512 + (128 * 2 + 2)
    assert model.count_params() == expected
    assert model.output_shape == (None, 2)


def test_copy_model_reads_tokens_and_adding_model_reads_the_last_step():
    copy_model = models.tcn_sequence_model(0, 10, output="sequence", vocabulary=10, filters=4, kernel_size=8,
                                           dilations=(1, 2, 4, 8))
    assert copy_model.output_shape == (None, None, 10)
    assert copy_model.receptive_field == 1 + 2 * 7 * 15
    adding_model = models.tcn_sequence_model(2, 1, output="last", filters=4, kernel_size=6, dilations=(1, 2, 4, 8))
    assert adding_model.output_shape == (None, 1)


def test_bad_trunk_settings_are_clear_errors():
    with pytest.raises(ConvsuiteError, match="dilations"):
        models.tcn_forecaster(1, dilations=())
    with pytest.raises(ConvsuiteError, match="normalization"):
        models.tcn_forecaster(1, normalization="batch")
    with pytest.raises(ConvsuiteError, match="output"):
        models.tcn_sequence_model(1, 1, output="middle")


_JAX_SCRIPT = r"""
import json, sys

class NoTensorFlow:  # behave as if TensorFlow were not installed, as on the GPU machines
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tensorboard"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, NoTensorFlow())
import numpy as np
import keras
from convsuite.suites.timeseries import models
from convsuite.suites.timeseries.streaming import StreamingForecaster
model = models.tcn_forecaster(3, horizon=2, quantiles=[0.1, 0.5, 0.9], filters=8, dilations=(1, 2, 4), normalization="layer")
model.load_weights(sys.argv[1])
x = np.load(sys.argv[2])
out = keras.ops.convert_to_numpy(model(x))
changed = x.copy(); changed[:, 21:] += 3.0
after = keras.ops.convert_to_numpy(model(changed))
stream = StreamingForecaster(model).run(x)
np.save(sys.argv[3], out)
print(json.dumps({"backend": keras.backend.backend(), "causal": bool(np.array_equal(out[:, :21], after[:, :21])),
                  "stream_diff": float(np.abs(stream - out).max()), "tensorflow": "tensorflow" in sys.modules}))
"""


def test_forecaster_on_jax_without_tensorflow_matches_tensorflow_stays_causal_and_streams(tmp_path):
    keras.utils.set_random_seed(0)
    model = models.tcn_forecaster(3, horizon=2, quantiles=[0.1, 0.5, 0.9], filters=8, dilations=(1, 2, 4),
                                  normalization="layer")
    weights = tmp_path / "w.weights.h5"
    model.save_weights(weights)
    x = RNG.normal(size=(2, 32, 3)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    script = tmp_path / "run.py"
    script.write_text(_JAX_SCRIPT)
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, str(script), str(weights), str(tmp_path / "x.npy"), str(tmp_path / "out.npy")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert info == {"backend": "jax", "causal": True, "stream_diff": pytest.approx(0.0, abs=1e-4), "tensorflow": False}
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), keras.ops.convert_to_numpy(model(x)), rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------- ResNet and InceptionTime classifiers

def _bn(channels: int) -> int:
    return 4 * channels  # gamma, beta, moving mean, moving variance


def test_resnet_paper_shape_and_parameter_count():
    model = models.resnet_classifier(1, 2)

    def conv(k, c_in, c_out):
        return k * c_in * c_out + c_out

    def block(c_in, c_out, shortcut_conv):
        body = conv(8, c_in, c_out) + conv(5, c_out, c_out) + conv(3, c_out, c_out) + 3 * _bn(c_out)
        return body + (conv(1, c_in, c_out) if shortcut_conv else 0) + _bn(c_out)

    # Wang et al. 2017: blocks of 64, 128, 128 filters; the third block's shortcut is BatchNorm alone
    expected = block(1, 64, True) + block(64, 128, True) + block(128, 128, False) + (128 * 2 + 2)
    assert expected == 506_818
    assert model.count_params() == expected
    assert model.output_shape == (None, 2)


def test_inception_time_shape_and_parameter_count_with_and_without_bottleneck():
    branches = 32 * 32 * (40 + 20 + 10)  # three long convolutions from the 32-channel bottleneck, no biases

    def module(c_in):
        if c_in == 1:  # one input channel: no bottleneck, the long convolutions read the series
            return 1 * 32 * (40 + 20 + 10) + 1 * 32 + _bn(128)
        return c_in * 32 + branches + c_in * 32 + _bn(128)

    def shortcut(c_in):
        return c_in * 128 + _bn(128)

    for channels in (1, 3):
        model = models.inception_time_classifier(channels, 5)
        expected = (module(channels) + 5 * module(128) + shortcut(channels) + shortcut(128)) + (128 * 5 + 5)
        assert model.count_params() == expected, channels
        assert model.output_shape == (None, 5)
    assert models.inception_time_classifier(1, 2).count_params() == 422_498


def test_masked_max_pooling_ignores_padded_steps():
    x = np.array([[[1.0], [-2.0], [-3.0], [0.0]]], dtype="float32")
    mask = np.array([[[1.0], [1.0], [1.0], [0.0]]], dtype="float32")
    out = keras.ops.convert_to_numpy(models.MaskedMaxPooling1D(3)([x, mask]))
    # windows of 3 around each step; the padded step neither wins a max (-2 at step 2, not 0) nor outputs one
    np.testing.assert_array_equal(out[0, :, 0], [1.0, 1.0, -2.0, 0.0])


def _randomise_batchnorm(model):
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = (w.shape for w in layer.get_weights())
            layer.set_weights([rng.uniform(0.5, 1.5, gamma), rng.normal(0, 0.5, beta), rng.normal(0, 0.5, mean),
                               rng.uniform(0.5, 2.0, variance)])


@pytest.mark.parametrize("builder", [models.fcn_classifier, models.resnet_classifier,
                                     models.inception_time_classifier])
def test_classifiers_classify_a_nan_padded_series_exactly_as_the_unpadded_one(builder):
    keras.utils.set_random_seed(0)
    kwargs = {models.fcn_classifier: {}, models.resnet_classifier: {"filters": (8, 16, 16)},
              models.inception_time_classifier: {"depth": 3}}[builder]
    model = builder(2, 3, **kwargs)
    _randomise_batchnorm(model)  # non-zero shifts: padded steps would leak into valid ones without the mask
    short = RNG.normal(size=(1, 37, 2)).astype("float32")
    padded = np.full((1, 60, 2), np.nan, dtype="float32")
    padded[:, :37] = short
    a = keras.ops.convert_to_numpy(model(short, training=False))
    b = keras.ops.convert_to_numpy(model(padded, training=False))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert np.isfinite(b).all()
    zeros_as_data = np.nan_to_num(padded)  # zeros instead of NaN are read as steps: the equality is the mask's doing
    assert not np.allclose(a, keras.ops.convert_to_numpy(model(zeros_as_data, training=False)), rtol=1e-3, atol=1e-4)


def test_inception_time_saves_and_loads_with_its_masked_pooling(tmp_path):
    keras.utils.set_random_seed(0)
    model = models.inception_time_classifier(2, 3, filters=4, bottleneck=4, depth=3)
    assert_same_after_save_and_load(model, RNG.normal(size=(2, 20, 2)).astype("float32"), tmp_path / "inception.keras")


def test_build_model_builds_each_classifier_from_the_config():
    from convsuite.suites.timeseries.config import EXPERIMENTS

    exp = EXPERIMENTS["classify-ucr"]()
    for name, params in (("fcn", 265_986), ("resnet", 506_818), ("inception", 422_498)):
        exp.model.name = name
        assert models.build_model(exp, num_inputs=1, num_outputs=2).count_params() == params, name


def test_bad_classifier_settings_are_clear_errors():
    with pytest.raises(ConvsuiteError, match="kernel_sizes"):
        models.resnet_classifier(1, 2, kernel_sizes=())
    with pytest.raises(ConvsuiteError, match="2 classes"):
        models.inception_time_classifier(1, 1)
    with pytest.raises(ConvsuiteError, match="depth=0"):
        models.inception_time_classifier(1, 2, depth=0)
