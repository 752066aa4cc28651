"""Population statistics for BatchNormalization layers after training.

BatchNorm's moving mean and variance are exponential averages of batch statistics with
momentum 0.99, i.e. over the last ~100 steps. With few steps per epoch (36 series in
batches of 16: 3 steps) that window spans tens of epochs in which the weights keep moving,
so at the end of training the averages lag the network they normalise, and inference-mode
outputs differ from what training optimised (docs/notes/batchnorm-fcn.md: 1.00 training-set
accuracy with batch statistics, 0.64 with the moving ones). Recomputing the statistics with
the final weights in one pass over the training data removes the lag.
"""

from __future__ import annotations

import keras
import numpy as np


def batchnorm_layers(model) -> list:
    """Every trainable BatchNormalization layer of ``model``, nested ones included."""
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable]


def recompute_batchnorm_statistics(model, batches) -> int:
    """Set each BatchNormalization layer's moving mean and variance to the averages of its
    batch statistics over ``batches`` (one pass in training mode; trainable weights are not
    changed), each batch weighted by its size. ``batches`` yields inputs or (inputs, targets)
    pairs, e.g. one epoch of ``inputs.training_batches``. Returns the number of examples used.
    """
    layers = batchnorm_layers(model)
    if not layers:
        return 0
    momenta = [layer.momentum for layer in layers]
    before = [(keras.ops.convert_to_numpy(layer.moving_mean), keras.ops.convert_to_numpy(layer.moving_variance))
              for layer in layers]
    sums = [(np.zeros(mean.shape, "float64"), np.zeros(mean.shape, "float64")) for mean, _ in before]
    seen = 0
    try:
        for layer in layers:
            layer.momentum = 0.0  # a training-mode call then stores exactly this batch's statistics
        for batch in batches:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            size = int(keras.ops.shape(keras.tree.flatten(x)[0])[0])
            model(x, training=True)
            for layer, (mean, variance) in zip(layers, sums):
                mean += size * keras.ops.convert_to_numpy(layer.moving_mean)
                variance += size * keras.ops.convert_to_numpy(layer.moving_variance)
            seen += size
    except BaseException:
        _assign(layers, before)
        raise
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    _assign(layers, [(mean / seen, variance / seen) for mean, variance in sums] if seen else before)
    return seen


def _assign(layers, statistics) -> None:
    for layer, (mean, variance) in zip(layers, statistics):
        layer.moving_mean.assign(np.asarray(mean, layer.moving_mean.dtype))
        layer.moving_variance.assign(np.asarray(variance, layer.moving_variance.dtype))
