"""Input pipelines: per-epoch orders, resume offsets and per-batch decoding, on tf.data and
on the PyDataset path the JAX machine uses."""

import numpy as np
import pytest

from convsuite.common import inputs
from convsuite.common.inputs import BatchDecoder, epoch_order, evaluation_batches, training_batches


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
    order = epoch_order(3, 1, len(y))[16:]
    x_seen = np.concatenate([np.asarray(x) for x, _ in batches])
    y_seen = np.concatenate([np.asarray(label) for _, label in batches])
    np.testing.assert_array_equal(y_seen, order)
    np.testing.assert_array_equal(x_seen, planes[order])
    evaluated = list(evaluation_batches(packed, y, 10, decode=Unpack()))
    np.testing.assert_array_equal(np.concatenate([np.asarray(x) for x, _ in evaluated]), planes)
