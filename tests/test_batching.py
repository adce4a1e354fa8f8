"""The seeded mini-batch iterator."""

from __future__ import annotations

import numpy as np
import pytest

from models import minibatches


def test_batches_cover_every_sample_once() -> None:
    batches = list(minibatches(103, 10, 0))
    assert [len(b) for b in batches] == [10] * 10 + [3]
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(103))


def test_same_seed_same_batches_other_seed_other_batches() -> None:
    a = np.concatenate(list(minibatches(50, 7, 42)))
    b = np.concatenate(list(minibatches(50, 7, 42)))
    c = np.concatenate(list(minibatches(50, 7, 43)))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_no_shuffle_keeps_order() -> None:
    batches = list(minibatches(5, 2, shuffle=False))
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4]]


def test_invalid_batch_size() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        list(minibatches(5, 0))
