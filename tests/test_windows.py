"""Tests of bci.windows: the ring buffer and the offline windows share their indexing."""

from __future__ import annotations

import numpy as np
import pytest

from bci.errors import BCIError
from bci.windows import SlidingWindow, sliding_windows, window_ends


@pytest.mark.parametrize(("window", "step"), [(50, 10), (7, 7), (10, 13), (1, 1)])
def test_ring_buffer_equals_offline_windows(window, step):
    rng = np.random.default_rng(window * 100 + step)
    data = rng.standard_normal((3, 503))
    offline = sliding_windows(data, window, step)
    ends = window_ends(data.shape[1], window, step)
    sw = SlidingWindow(3, window, step)
    got, got_ends, pos = [], [], 0
    while pos < data.shape[1]:
        k = int(rng.integers(1, 3 * window + 2))
        for i, w in sw.push(data[:, pos : pos + k]):
            got.append(w)
            got_ends.append(pos + i)
        pos += k
    assert len(got) == len(offline) == len(ends)
    assert np.array_equal(np.array(got), offline)
    assert got_ends == ends.tolist()
    assert np.array_equal(offline[0], data[:, :window])


def test_reset_requires_a_full_window_again():
    sw = SlidingWindow(1, 4, 2)
    assert len(sw.push(np.arange(6.0)[None])) == 2
    sw.reset()
    assert sw.push(np.arange(3.0)[None]) == []
    out = sw.push(np.arange(3.0, 5.0)[None])
    assert len(out) == 1 and out[0][1].tolist() == [[0.0, 1.0, 2.0, 3.0]]


def test_short_data_and_bad_sizes():
    assert sliding_windows(np.zeros((2, 5)), 10, 1).shape == (0, 2, 10)
    with pytest.raises(BCIError):
        SlidingWindow(2, 0, 1)
    with pytest.raises(BCIError, match="chunks of shape"):
        SlidingWindow(2, 4, 1).push(np.zeros((3, 4)))


def test_the_ring_buffer_holds_one_window_however_long_the_stream():
    sw = SlidingWindow(2, 50, 10)
    buffer = sw._buf
    rng = np.random.default_rng(1)
    tail = np.zeros((2, 0))  # the last 50 samples pushed before this chunk
    for _ in range(2000):  # 100,000+ samples in uneven chunks
        chunk = rng.standard_normal((2, int(rng.integers(1, 120))))
        for i, window in sw.push(chunk):
            assert np.array_equal(window, np.hstack([tail, chunk[:, : i + 1]])[:, -50:])
        tail = np.hstack([tail, chunk])[:, -50:]
    assert sw._buf is buffer and buffer.shape == (2, 50)  # never reallocated, never grown
    assert sw.n_pushed > 100_000
