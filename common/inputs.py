"""Input pipelines for the supervised trainer, identical in content on every backend.

The order of examples in epoch ``e`` is a pure function of (seed, e), so a run resumed at
epoch ``e``, batch ``b`` sees exactly the batches an uninterrupted run would have seen.

Every training batch has the full ``batch_size``: when it does not divide the number of
examples, the epoch's last batch is filled by wrapping around to the start of the same
epoch's order. A short last batch (36 series in batches of 16 end every epoch with 4) gives
BatchNorm statistics of a handful of examples once per epoch; on small sets those steps kept
the training loss high and the moving statistics away from the population's (see
docs/notes/batchnorm-fcn.md). Evaluation batches are not filled: each example counts once.

With TensorFlow present the batches come from tf.data (the fast path on CPU); without it
(the JAX GPU machine) from a ``keras.utils.PyDataset``. Arrays stay in their stored dtype
(uint8 images) until the model casts them, which keeps host-to-device traffic small.

``decode`` turns a batch of stored examples into model inputs on the way (grids made from
atoms, clips cut from videos, padded token batches): a callable on a numpy batch with
``shape`` (one decoded example) and ``dtype`` attributes, see ``BatchDecoder``; its ``targets``
decoder, when set, decodes the batch's y the same way (forecast windows stored as start
indices into one series, so no window is materialised). Work a model
can do itself belongs in the model instead (the Go nets unpack their bit-packed planes with
keras.ops), since a decoder runs in Python on the host.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np

from convsuite.common.arrays import BatchDecoder


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n).astype(np.int64)


def filled_epoch_order(seed: int, epoch: int, n: int, batch_size: int) -> np.ndarray:
    """``epoch_order`` extended cyclically to ``steps_per_epoch`` full batches: every example
    once, then the first few of the same order again to fill the last batch."""
    return np.resize(epoch_order(seed, epoch, n), steps_per_epoch(n, batch_size) * batch_size)


def steps_per_epoch(n: int, batch_size: int) -> int:
    return max(1, math.ceil(n / batch_size))


def tensorflow_available() -> bool:
    import keras

    return keras.backend.backend() == "tensorflow" and importlib.util.find_spec("tensorflow") is not None


def training_batches(x, y, batch_size: int, seed: int, first_epoch: int, last_epoch: int, skip_batches: int = 0,
                     decode: BatchDecoder | None = None):
    """Full batches for epochs [first_epoch, last_epoch), shuffled per epoch, skipping the first
    ``skip_batches`` of the first epoch. Returns an object ``model.fit`` accepts."""
    orders = np.stack([filled_epoch_order(seed, e, len(y), batch_size) for e in range(first_epoch, last_epoch)])
    if tensorflow_available():
        return _tf_batches(x, y, orders, batch_size, skip_batches, decode)
    return _ArrayBatches(x, y, orders, batch_size, skip_batches, decode)


def evaluation_batches(x, y, batch_size: int, decode: BatchDecoder | None = None):
    if tensorflow_available():
        import tensorflow as tf

        batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
        if decode is not None:
            batches = batches.map(_tf_decoder(decode, x, y), num_parallel_calls=tf.data.AUTOTUNE)
        return batches.prefetch(tf.data.AUTOTUNE)
    return _ArrayBatches(x, y, np.arange(len(y))[None], batch_size, 0, decode)


def _tf_decoder(decode: BatchDecoder, x, y):
    import tensorflow as tf

    def decoder_of(decoder, stored):
        shape_for = getattr(decoder, "shape_for", None)
        shape = (None, *(shape_for(stored) if shape_for is not None else decoder.shape))

        def decoded(batch):
            out = tf.numpy_function(decoder, [batch], tf.as_dtype(decoder.dtype), stateful=False)
            return tf.ensure_shape(out, shape)

        return decoded

    decode_x = decoder_of(decode, x)
    targets = getattr(decode, "targets", None)
    decode_y = decoder_of(targets, y) if targets is not None else (lambda batch: batch)

    def decode_batch(x_batch, y_batch):
        return decode_x(x_batch), decode_y(y_batch)

    return decode_batch


def _tf_batches(x, y, orders, batch_size, skip_batches, decode=None):
    import tensorflow as tf

    x_tensor = tf.constant(x)
    y_tensor = tf.constant(y)

    def gather(indices):
        return tf.gather(x_tensor, indices), tf.gather(y_tensor, indices)

    epochs = tf.data.Dataset.from_tensor_slices(orders)
    batches = epochs.flat_map(lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
    batches = batches.skip(skip_batches).map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    if decode is not None:
        batches = batches.map(_tf_decoder(decode, x, y), num_parallel_calls=tf.data.AUTOTUNE)
    return batches.prefetch(tf.data.AUTOTUNE)


def _array_batches_base():
    import keras

    return keras.utils.PyDataset


class _ArrayBatches(_array_batches_base()):
    """The same batches as ``_tf_batches`` for backends without TensorFlow: every batch of
    every requested epoch in one sequence, which ``fit`` walks ``steps_per_epoch`` at a time."""

    def __init__(self, x, y, orders, batch_size, skip_batches, decode=None):
        super().__init__()
        self.x, self.y, self.decode = x, y, decode
        per_epoch = steps_per_epoch(len(y), batch_size)
        batches = [order[i * batch_size : (i + 1) * batch_size] for order in orders for i in range(per_epoch)]
        self.batches = batches[skip_batches:]

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        indices = self.batches[index]
        x, y = self.x[indices], self.y[indices]
        if self.decode is None:
            return x, y
        targets = getattr(self.decode, "targets", None)
        return self.decode(x), (targets(y) if targets is not None else y)
