"""Seeded mini-batch iteration."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def minibatches(
    n_samples: int,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
    *,
    shuffle: bool = True,
) -> Iterator[np.ndarray]:
    """Yield index arrays that cover ``range(n_samples)`` once, in batches.

    Parameters
    ----------
    n_samples : int
    batch_size : int
        The last batch holds the remainder (it may be smaller).
    rng : numpy.random.Generator or int or None
        Seed or generator for the shuffle; the same seed gives the same batches.
    shuffle : bool
        If False, batches are consecutive ranges in order.

    Yields
    ------
    numpy.ndarray of int
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = np.random.default_rng(rng).permutation(n_samples) if shuffle else np.arange(n_samples)
    for start in range(0, n_samples, batch_size):
        yield order[start : start + batch_size]
