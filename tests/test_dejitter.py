"""Dejitterer: segment-wise smoothing of timestamps."""

from __future__ import annotations

import numpy as np

from acquisition.dejitter import Dejitterer


def test_jittered_chunks_are_smoothed_towards_the_true_clock():
    rng = np.random.default_rng(0)
    true = 50.0 + np.arange(5000) / 250.0
    jittered = true.copy()
    for start in range(0, 5000, 25):  # chunks of 25 samples arriving with 0-20 ms delay
        jittered[start : start + 25] += rng.uniform(0, 0.02)
    dj = Dejitterer(250.0)
    out = np.concatenate([dj.process(jittered[i : i + 25]) for i in range(0, 5000, 25)])
    late = slice(2500, None)
    assert np.std(out[late] - true[late]) < 0.2 * np.std(jittered[late] - true[late])
    assert np.all(np.diff(out[late]) > 0)


def test_reset_starts_a_new_segment_at_a_jump():
    dj = Dejitterer(100.0)
    dj.process(np.arange(200) / 100.0)
    dj.reset()
    after = dj.process(3600.0 + np.arange(50) / 100.0)
    np.testing.assert_allclose(after, 3600.0 + np.arange(50) / 100.0, atol=1e-9)


def test_empty_and_tiny_chunks_pass_through():
    dj = Dejitterer(100.0)
    assert dj.process(np.empty(0)).size == 0
    np.testing.assert_array_equal(dj.process(np.array([5.0])), [5.0])
