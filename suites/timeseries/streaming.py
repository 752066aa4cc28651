"""Streaming inference of a TCN forecaster: one new step costs one new column per layer.

A causal convolution's output at step t reads its input at t, t-d, ..., t-(k-1)d only, so a
forecaster fed one step at a time needs, per convolution, just the last (k-1)*d inputs it saw
and one k-tap product: the caching of Paine et al. 2016 ("Fast WaveNet Generation Algorithm").
``StreamingForecaster`` reads every layer's effective weights once, at construction (the
weight-normalised kernels as the block computes them, layer norms, residual and skip 1x1
convolutions, the forecast head, the autoregressive highway), and then runs each step as plain
numpy on those arrays: no framework dispatch per layer, so it is the same on TensorFlow and JAX
and a step at batch 1 costs microseconds per layer, not a framework call per op.

Each convolution keeps its inputs in a ring buffer stored twice over (every value is written
at slot p and p + L), so the last L values are always one contiguous slice in time order and
the k taps are a strided view of it: a step copies k rows, never the history.
"""

from __future__ import annotations

import contextlib
import time

import keras
import numpy as np

from convsuite.common.blocks import CausalResidualBlock
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.timeseries.models import AutoregressiveHighway, ForecastHead


def _numpy(value) -> np.ndarray:
    """A weight or tensor as a float32 numpy array (mixed-precision models stream in float32)."""
    return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float32)


class _Ring:
    """The last ``window`` rows fed to one layer, time-major: (window, batch, channels)."""

    def __init__(self, window: int, channels: int, batch_size: int):
        self.window = window
        # Doubled storage: slots p and p + window hold the same value, so buffer[p+1 : p+1+window]
        # is the whole window, oldest first, after writing slot p. Time-major keeps each step's
        # rows contiguous, which matters at large batches.
        self.buffer = np.zeros((2 * window, batch_size, channels), dtype=np.float32)
        self.position = window - 1

    def push(self, x: np.ndarray) -> np.ndarray:
        """Append x (batch, channels); return the window (window, batch, channels), a view."""
        p = self.position = (self.position + 1) % self.window
        self.buffer[p] = x
        self.buffer[p + self.window] = x
        return self.buffer[p + 1:p + 1 + self.window]


class _CausalConv:
    """A dilated causal convolution, then layer norm (optional) and ReLU, one step at a time."""

    def __init__(self, kernel: np.ndarray, bias: np.ndarray, dilation: int, norm=None):
        self.taps, self.in_channels, filters = kernel.shape
        self.dilation = dilation
        self.kernel = np.ascontiguousarray(kernel.reshape(self.taps * self.in_channels, filters))  # (k*in, out)
        self.bias = bias
        self.norm = norm  # (gamma, beta, epsilon) of a LayerNormalization over channels, or None
        self.ring: _Ring | None = None

    def reset(self, batch_size: int) -> None:
        self.ring = _Ring((self.taps - 1) * self.dilation + 1, self.in_channels, batch_size)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        taps = self.ring.push(x)[::self.dilation]  # (k, batch, in): inputs t-(k-1)d, ..., t-d, t
        out = taps.transpose(1, 0, 2).reshape(len(x), -1) @ self.kernel
        out += self.bias
        if self.norm is not None:
            gamma, beta, epsilon = self.norm
            mean = out.mean(axis=-1, keepdims=True)
            centred = out - mean
            variance = np.mean(np.square(centred), axis=-1, keepdims=True)
            out = centred * (gamma / np.sqrt(variance + epsilon)) + beta
        return np.maximum(out, 0.0, out=out)


def _effective_kernel(block: CausalResidualBlock, index: int) -> np.ndarray:
    """Convolution ``index`` (1, 2) of a block as it convolves: under weight normalization
    w = g * v / ||v|| per output channel (CausalResidualBlock._effective_kernel), in numpy so
    that construction compiles nothing on JAX."""
    kernel, scale = _numpy(getattr(block, f"kernel{index}")), getattr(block, f"g{index}")
    if scale is None:
        return kernel
    return kernel * (_numpy(scale) / np.sqrt(np.sum(np.square(kernel), axis=(0, 1))))


class _Block:
    """One CausalResidualBlock at inference: two causal convolutions plus the (1x1) residual."""

    def __init__(self, block: CausalResidualBlock):
        if keras.activations.serialize(block.activation) != "relu":
            raise ConvsuiteError(f"block '{block.name}' uses activation "
                                 f"{keras.activations.serialize(block.activation)!r}; streaming supports 'relu' "
                                 "(what tcn_forecaster builds)")
        norms = [None, None]
        if block.normalization == "layer":
            norms = [(_numpy(n.gamma) if n.scale else np.float32(1.0), _numpy(n.beta) if n.center else np.float32(0.0),
                      np.float32(n.epsilon)) for n in block.norms]
        self.convs = [_CausalConv(_effective_kernel(block, i), _numpy(getattr(block, f"bias{i}")),
                                  block.dilation_rate, norms[i - 1]) for i in (1, 2)]
        self.residual = None
        if block.residual_kernel is not None:
            self.residual = (_numpy(block.residual_kernel)[0], _numpy(block.residual_bias))

    def reset(self, batch_size: int) -> None:
        for conv in self.convs:
            conv.reset(batch_size)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = self.convs[1](self.convs[0](x))
        if self.residual is None:
            out += x
        else:
            kernel, bias = self.residual
            out += x @ kernel
            out += bias
        return np.maximum(out, 0.0, out=out)


_BLAS = []  # [threadpoolctl's selection of the loaded BLAS libraries, or None], filled on first use


def _one_blas_thread():
    """A context running numpy's BLAS on one thread (threadpoolctl, a scikit-learn dependency).

    A step's matrix products are small; OpenBLAS threads on them gain little on an idle machine
    and cost 10-100x on a busy one (measured: 0.4 -> 16 ms a step at batch 64 beside TensorFlow
    and other jobs on 2 cores). The previous setting is restored on exit."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS.append(ThreadpoolController().select(user_api="blas"))
        except ImportError:
            _BLAS.append(None)
    return contextlib.nullcontext() if _BLAS[0] is None else _BLAS[0].limit(limits=1)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x).astype(np.float32, copy=False)


class StreamingForecaster:
    """Step-at-a-time inference of a ``tcn_forecaster`` model in numpy, with cached layer inputs.

    ``step`` costs one new output per convolution (k taps, one matrix product), however long
    the history; ``run`` over a sequence equals the full-sequence model's output up to float
    rounding. The model's weights are read once, at construction: build a new streamer after
    training further.
    """

    def __init__(self, model: keras.Model, batch_size: int = 1):
        self.model = model
        blocks = [layer for layer in model.layers if isinstance(layer, CausalResidualBlock)]
        if not blocks:
            raise ConvsuiteError(f"model '{model.name}' has no CausalResidualBlock; streaming needs a TCN model")
        heads = [layer for layer in model.layers if isinstance(layer, ForecastHead)]
        if not heads:
            raise ConvsuiteError(f"model '{model.name}' has no ForecastHead; build it with tcn_forecaster")
        self.num_inputs = int(model.input_shape[-1])
        self.blocks = [_Block(block) for block in blocks]
        names = {layer.name for layer in model.layers}
        self.skip = None
        if "skip1" in names:  # WaveNet skips: sum_i (h_i @ S_i + s_i) = [h_1 .. h_n] @ [S_1; ..; S_n] + sum_i s_i
            skips = [model.get_layer(f"skip{i + 1}") for i in range(len(blocks))]
            self.skip = (np.concatenate([_numpy(s.kernel)[0] for s in skips], axis=0),
                         np.sum([_numpy(s.bias) for s in skips], axis=0, dtype=np.float32))
        head = heads[0]
        self.horizon, self.quantiles, self.middle = head.horizon, head.quantiles, head.middle
        self.head = (_numpy(head.dense.kernel), _numpy(head.dense.bias))
        highways = [layer for layer in model.layers if isinstance(layer, AutoregressiveHighway)]
        self.highway = None
        if highways:
            hw = highways[0]
            self.highway = (_numpy(hw.kernel)[:, 0, :], _numpy(hw.bias))  # (lags, horizon), (horizon,)
            self.lags = hw.lags
        self.reset(batch_size)

    def reset(self, batch_size: int = 1) -> None:
        """Forget the past: every cache holds zeros, as the causal padding does."""
        if int(batch_size) < 1:
            raise ConvsuiteError(f"batch_size={batch_size} must be >= 1")
        self.batch_size = int(batch_size)
        for block in self.blocks:
            block.reset(self.batch_size)
        self.targets = _Ring(self.lags, 1, self.batch_size) if self.highway is not None else None

    def step(self, x_t) -> np.ndarray:
        """Feed one step (batch, channels); return its forecast (batch, horizon[, quantiles])."""
        try:
            x = np.asarray(x_t, dtype=np.float32)
        except (TypeError, ValueError) as error:
            raise ConvsuiteError(f"a streaming step must be numbers of shape ({self.batch_size}, {self.num_inputs}); "
                                 f"{error}") from None
        if x.shape != (self.batch_size, self.num_inputs):
            raise ConvsuiteError(
                f"a streaming step must have shape ({self.batch_size}, {self.num_inputs}), got {x.shape}; "
                f"call reset(batch_size) for another batch size")
        with _one_blas_thread():
            return self._forward(x)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        h = x
        outputs = []
        for block in self.blocks:
            h = block(h)
            outputs.append(h)
        if self.skip is not None:
            kernel, bias = self.skip
            h = np.concatenate(outputs, axis=1) @ kernel
            h += bias
            np.maximum(h, 0.0, out=h)
        kernel, bias = self.head
        out = h @ kernel
        out += bias
        if self.quantiles is not None:
            out = self._non_crossing(out.reshape(self.batch_size, self.horizon, len(self.quantiles)))
        if self.highway is not None:
            kernel, bias = self.highway
            linear = self.targets.push(x[:, :1])[..., 0].T @ kernel  # (batch, lags) @ (lags, horizon)
            linear += bias
            out += linear[..., None] if out.ndim == 3 else linear
        return out

    def _non_crossing(self, raw: np.ndarray) -> np.ndarray:
        """ForecastHead's quantiles: the middle one free, softplus steps away from it on each side."""
        out = np.empty_like(raw)
        m = self.middle
        out[..., m] = raw[..., m]
        for j in range(m - 1, -1, -1):  # a handful of quantiles: a loop beats cumsum over a strided axis
            np.subtract(out[..., j + 1], _softplus(raw[..., j]), out=out[..., j])
        for j in range(m + 1, raw.shape[-1]):
            np.add(out[..., j - 1], _softplus(raw[..., j]), out=out[..., j])
        return out

    def run(self, series) -> np.ndarray:
        """Stream a whole (batch, time, channels) array from an empty past: (batch, time, horizon[, quantiles])."""
        series = np.asarray(series, dtype=np.float32)
        if series.ndim != 3 or series.shape[2] != self.num_inputs or series.shape[1] < 1:
            raise ConvsuiteError(f"a streamed series must have shape (batch, time >= 1, {self.num_inputs}), "
                                 f"got {series.shape}")
        self.reset(series.shape[0])
        return np.stack([self.step(series[:, t]) for t in range(series.shape[1])], axis=1)


def streaming_speed(model: keras.Model, input_length: int, batch_sizes=(1, 64, 1024), steps: int = 50,
                    recompute_budget_s: float = 1.0, seed: int = 0) -> dict:
    """Does streaming pay for itself? Per batch size: the median ms of one ``StreamingForecaster``
    step (over ``steps`` steps after a warm-up) and of one recomputation of the whole
    ``input_length`` window by ``model.predict_on_batch`` (the model's compiled predict
    function; repeated while under ``recompute_budget_s``, at least twice after a warm-up call
    that traces it), and recompute / step. ``model`` must be compiled (jit as the runtime says)."""
    rng = np.random.default_rng(seed)
    num_inputs = int(model.input_shape[-1])
    result = {"window": int(input_length)}

    def median_ms(call, repeats: int, budget_s: float = float("inf")) -> float:
        times = []
        while len(times) < repeats and (len(times) < 2 or sum(times) < budget_s):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return 1000.0 * float(np.median(times))

    for batch_size in batch_sizes:
        window = rng.normal(size=(batch_size, input_length, num_inputs)).astype(np.float32)
        stream = StreamingForecaster(model, batch_size)
        for t in range(10):  # warm-up
            stream.step(window[:, t % input_length])
        clock = iter(range(10, 10 + steps))
        step_ms = median_ms(lambda: stream.step(window[:, next(clock) % input_length]), steps)
        model.predict_on_batch(window)  # warm-up: traces / compiles the predict function for this shape
        recompute_ms = median_ms(lambda: model.predict_on_batch(window), steps, recompute_budget_s)
        result[f"batch_{batch_size}"] = {"step_ms": round(step_ms, 4), "recompute_ms": round(recompute_ms, 3),
                                         "speedup": round(recompute_ms / step_ms, 1)}
    return result
