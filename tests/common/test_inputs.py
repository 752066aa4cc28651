"""Input pipelines: per-epoch orders, resume offsets and per-batch decoding, on tf.data and
on the PyDataset path the JAX machine uses."""

import numpy as np
import pytest

from convsuite.common import inputs
from convsuite.common.inputs import (BatchDecoder, epoch_order, evaluation_batches, filled_epoch_order,
                                     training_batches)


class Unpack(BatchDecoder):
    """Stored rows are packed bits; models see (4, 4, 2) uint8 planes."""

    shape = (4, 4, 2)
    dtype = "uint8"

    def __call__(self, batch):
        return np.unpackbits(batch, axis=1, count=32).reshape(len(batch), *self.shape)


def packed_examples(n=37, seed=0):
    planes = np.random.default_rng(seed).integers(0, 2, (n, 4, 4, 2)).astype(np.uint8)
    return planes, np.packbits(planes.reshape(n, -1), axis=1), np.arange(n)


@pytest.mark.parametrize("tf_path", [True, False], ids=["tf.data", "PyDataset"])
def test_decoded_batches_equal_the_planes_in_epoch_order(tf_path, monkeypatch):
    monkeypatch.setattr(inputs, "tensorflow_available", lambda: tf_path)
    planes, packed, y = packed_examples()
    batches = list(training_batches(packed, y, 8, seed=3, first_epoch=1, last_epoch=2, skip_batches=2,
                                    decode=Unpack()))
    order = filled_epoch_order(3, 1, len(y), 8)[16:]
    x_seen = np.concatenate([np.asarray(x) for x, _ in batches])
    y_seen = np.concatenate([np.asarray(label) for _, label in batches])
    np.testing.assert_array_equal(y_seen, order)
    np.testing.assert_array_equal(x_seen, planes[order])
    evaluated = list(evaluation_batches(packed, y, 10, decode=Unpack()))
    np.testing.assert_array_equal(np.concatenate([np.asarray(x) for x, _ in evaluated]), planes)


@pytest.mark.parametrize("tf_path", [True, False], ids=["tf.data", "PyDataset"])
def test_every_training_batch_is_full_and_every_example_seen_each_epoch(tf_path, monkeypatch):
    # 36 examples in batches of 16 used to end each epoch with a batch of 4, whose BatchNorm
    # statistics wrecked small-set training (docs/notes/batchnorm-fcn.md).
    monkeypatch.setattr(inputs, "tensorflow_available", lambda: tf_path)
    n, batch_size, epochs = 36, 16, 3
    x, y = np.arange(n, dtype=np.float32)[:, None], np.arange(n)
    batches = [np.asarray(label) for _, label in training_batches(x, y, batch_size, 5, 0, epochs)]
    assert [len(labels) for labels in batches] == [batch_size] * 3 * epochs
    for epoch in range(epochs):
        seen = np.concatenate(batches[3 * epoch: 3 * epoch + 3])
        np.testing.assert_array_equal(seen[:n], epoch_order(5, epoch, n))
        np.testing.assert_array_equal(seen[n:], epoch_order(5, epoch, n)[:3 * batch_size - n])


@pytest.mark.parametrize("tf_path", [True, False], ids=["tf.data", "PyDataset"])
def test_resumed_batches_equal_the_uninterrupted_ones(tf_path, monkeypatch):
    monkeypatch.setattr(inputs, "tensorflow_available", lambda: tf_path)
    x, y = np.zeros((10, 1), np.float32), np.arange(10)
    whole = [np.asarray(label) for _, label in training_batches(x, y, 4, 1, 0, 3)]
    resumed = [np.asarray(label) for _, label in training_batches(x, y, 4, 1, 1, 3, skip_batches=2)]
    assert len(whole) == 9
    for a, b in zip(whole[5:], resumed, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_batch_larger_than_the_set_repeats_the_order():
    np.testing.assert_array_equal(filled_epoch_order(0, 2, 3, 8), np.resize(epoch_order(0, 2, 3), 8))
    assert np.bincount(filled_epoch_order(0, 2, 3, 8)).min() >= 2
