"""Keras-free containers for a supervised task's arrays, shared by every suite's data module.

``SupervisedData`` is what a suite's data preparation hands the trainer; ``BatchDecoder`` is
the interface of a per-batch transform from a compact stored form into model inputs (see
``common.inputs``). Nothing here imports Keras, so data modules can use them before a
backend starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class BatchDecoder:
    """A per-batch transform of stored examples into model inputs, for ``decode=``.

    ``targets``, when set, is a second decoder applied to each batch's stored y: forecast
    windows store x and y as the same start indices into one series and cut both per batch."""

    shape: tuple  # one decoded example (None for an axis whose length varies between batches)
    dtype: str
    targets: "BatchDecoder | None" = None

    def shape_for(self, stored: np.ndarray) -> tuple:
        """``shape`` for the batches of one stored array (a decoder may read more from it, such
        as a length every example shares, which keeps the pipeline's shapes static)."""
        return self.shape

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@dataclass
class SupervisedData:
    """Arrays ready for the model: training, validation (may be empty) and test splits.

    With ``decode`` the x arrays hold a compact stored form that each batch is decoded from
    (see ``BatchDecoder``), and the y arrays too when ``decode.targets`` is set."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    decode: BatchDecoder | None = None


def split_validation(x, y, fraction: float, seed: int):
    """Hold out a fixed random ``fraction`` of the training split for validation."""
    if fraction <= 0:
        return x, y, x[:0], y[:0]
    order = np.random.default_rng([seed, 7919]).permutation(len(y))
    n_val = max(1, int(round(len(y) * fraction)))
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    return x[train], y[train], x[val], y[val]
