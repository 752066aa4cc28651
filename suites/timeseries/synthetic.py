"""The TCN paper's synthetic stress tests (Bai, Kolter & Koltun 2018, section 5): adding-problem
and copy-memory samples and the loss of their trivial baselines. numpy only; no Keras."""

from __future__ import annotations

import numpy as np

from convsuite.common.errors import ConvsuiteError


def adding_problem(n: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem: sum the two values marked in channel 1, one marker in each half.

    Markers follow Le, Jaitly & Hinton (2015): the first uniformly in the first half, the
    second uniformly in the second half. x (n, length, 2) float32, y (n, 1) float32.
    """
    if n < 1 or length < 2:
        raise ConvsuiteError(f"the adding problem needs n >= 1 and length >= 2, got n={n}, length={length}")
    rng = np.random.default_rng(seed)
    x = np.zeros((n, length, 2), dtype=np.float32)
    x[:, :, 0] = rng.uniform(0.0, 1.0, size=(n, length))
    rows = np.arange(n)
    first = rng.integers(0, length // 2, size=n)
    second = rng.integers(length // 2, length, size=n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    y = (x[rows, first, 0] + x[rows, second, 0])[:, None]
    return x, y.astype(np.float32)


def copy_memory(n: int, length: int, seed: int, memory: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The copy memory task with T=length: recall `memory` digits after a blank stretch.

    As the paper (Sec. 5.4) and its reference code define it: `memory` digits uniform in 1..8,
    T-1 zeros, then `memory`+1 nines (the first is the delimiter), length T+2*memory. The
    target is T+memory zeros, then the digits. Both int32 (n, T+2*memory).
    """
    if n < 1 or length < 1 or memory < 1:
        raise ConvsuiteError(f"copy memory needs n, length and memory >= 1, got n={n}, length={length}, memory={memory}")
    rng = np.random.default_rng(seed)
    digits = rng.integers(1, 9, size=(n, memory), dtype=np.int32)
    x = np.zeros((n, length + 2 * memory), dtype=np.int32)
    y = np.zeros_like(x)
    x[:, :memory] = digits
    x[:, length + memory - 1:] = 9
    y[:, length + memory:] = digits
    return x, y


def adding_baseline_mse() -> float:
    """MSE of always predicting 1: the variance of the sum of two U(0, 1), 2/12 = 1/6.

    (The TCN paper quotes "around 0.1767" for this baseline.)
    """
    return 1.0 / 6.0


def copy_memory_baseline_loss(length: int, memory: int = 10) -> float:
    """Cross-entropy of a memoryless guess: zeros, then uniform over 8 digits, memory*ln(8)/(T+2*memory)."""
    return memory * float(np.log(8.0)) / (length + 2 * memory)
