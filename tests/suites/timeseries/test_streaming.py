"""Streaming inference (suites/timeseries/streaming.py): step by step equals the full model on
every trunk option; reset; bad input. (test_models streams on JAX without TensorFlow.)"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries import models
from convsuite.suites.timeseries.streaming import StreamingForecaster, _Ring

RNG = np.random.default_rng(0)

# Every trunk option appears at least once: normalization, skips, stacks, kernel sizes 1-3,
# point and quantile heads (median first, middle, last), highway, identity and 1x1 residuals.
CONFIGS = {
    "weight-skip-quantiles-highway": dict(normalization="weight", skip_connections=True, kernel_size=3,
                                          quantiles=[0.1, 0.5, 0.9], highway=5),
    "layer-noskip-2stacks-k2": dict(normalization="layer", skip_connections=False, stacks=2, kernel_size=2),
    "none-skip-k1-highway": dict(normalization="none", skip_connections=True, kernel_size=1, highway=7),
    "weight-noskip-low-quantiles": dict(normalization="weight", skip_connections=False, kernel_size=3,
                                        quantiles=[0.5, 0.8, 0.95], dilations=(2, 3)),
    "layer-skip-high-quantiles-highway": dict(normalization="layer", skip_connections=True, kernel_size=3,
                                              quantiles=[0.05, 0.2, 0.5], highway=3),
    "identity-residual": dict(num_inputs=8, normalization="weight", skip_connections=True, kernel_size=3),
}


def _forecaster(num_inputs=3, **kwargs):
    keras.utils.set_random_seed(0)
    base = dict(filters=8, dilations=(1, 2, 4), horizon=3)
    base.update(kwargs)
    model = models.tcn_forecaster(num_inputs, **base)
    # Random weights everywhere: a zero-initialised head or highway would hide a wrong term.
    rng = np.random.default_rng(7)
    for weight in model.weights:
        weight.assign(rng.normal(scale=0.3, size=weight.shape).astype("float32"))
    return model


def test_ring_window_holds_the_last_inputs_oldest_first_with_zeros_before_the_start():
    ring = _Ring(window=5, channels=1, batch_size=1)  # kernel 3, dilation 2: taps t-4, t-2, t
    taps = [ring.push(np.array([[float(t)]]))[::2, 0, 0].tolist() for t in range(1, 8)]
    assert taps[0] == [0.0, 0.0, 1.0]  # before the start: the zeros of the causal padding
    assert taps[2] == [0.0, 1.0, 3.0]
    assert taps[4] == [1.0, 3.0, 5.0]
    assert taps[6] == [3.0, 5.0, 7.0]  # after wrapping around the buffer


@pytest.mark.parametrize("name", CONFIGS)
def test_streaming_run_equals_the_full_model(name):
    config = dict(CONFIGS[name])
    model = _forecaster(**config)
    x = RNG.normal(size=(2, 30, config.get("num_inputs", 3))).astype("float32")
    full = keras.ops.convert_to_numpy(model(x, training=False))
    streamed = StreamingForecaster(model).run(x)
    assert streamed.shape == full.shape and streamed.dtype == np.float32
    np.testing.assert_allclose(streamed, full, rtol=1e-5, atol=1e-5)


def test_reset_forgets_the_past_and_changes_the_batch_size():
    model = _forecaster(**CONFIGS["weight-skip-quantiles-highway"])
    x = RNG.normal(size=(3, 12, 3)).astype("float32")
    full = keras.ops.convert_to_numpy(model(x))
    stream = StreamingForecaster(model, batch_size=1)
    for _ in range(9):
        stream.step(RNG.normal(scale=5.0, size=(1, 3)))
    stream.reset(3)
    np.testing.assert_allclose(np.stack([stream.step(x[:, t]) for t in range(12)], axis=1), full,
                               rtol=1e-5, atol=1e-5)


def test_bad_shapes_and_batch_sizes_are_clear_errors():
    stream = StreamingForecaster(_forecaster(), batch_size=2)
    with pytest.raises(ConvsuiteError, match=r"shape \(2, 3\), got \(2, 4\)"):
        stream.step(np.zeros((2, 4)))
    with pytest.raises(ConvsuiteError, match=r"shape \(2, 3\), got \(3,\)"):
        stream.step(np.zeros(3))
    with pytest.raises(ConvsuiteError, match="must be numbers"):
        stream.step([["a", "b", "c"], ["d", "e", "f"]])
    with pytest.raises(ConvsuiteError, match=r"\(batch, time >= 1, 3\), got \(4, 3\)"):
        stream.run(np.zeros((4, 3)))
    with pytest.raises(ConvsuiteError, match="batch_size=0"):
        stream.reset(0)
    with pytest.raises(ConvsuiteError, match="no CausalResidualBlock"):
        StreamingForecaster(models.fcn_classifier(1, 2, filters=(4,), kernel_sizes=(3,)))
