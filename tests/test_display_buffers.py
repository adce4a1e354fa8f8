"""Ring buffers and reductions behind the live displays."""

from __future__ import annotations

import numpy as np

from bci.display_buffers import (
    ProbabilityHistory,
    RingBuffer,
    band_powers,
    minmax_decimate,
    power_spectrum,
    robust_spacing,
)


def test_ring_buffer_keeps_the_newest_samples_in_order_across_wraps() -> None:
    ring = RingBuffer(2, 10)
    data = np.vstack([np.arange(25.0), -np.arange(25.0)])
    for start in range(0, 25, 7):
        ring.append(data[:, start : start + 7], np.arange(start, min(start + 7, 25)) / 10)
    got, times = ring.latest()
    assert ring.count == 10
    assert np.array_equal(got, data[:, -10:])
    assert np.allclose(times, np.arange(15, 25) / 10)
    assert np.array_equal(ring.latest(3)[0], data[:, -3:])
    ring.append(data, np.arange(25) / 10)  # a chunk longer than the buffer
    assert np.array_equal(ring.latest()[0], data[:, -10:])


def test_minmax_decimation_keeps_spikes_and_the_right_edge() -> None:
    x = np.zeros((3, 10_000))
    x[1, 4321] = 50.0
    x[2, 9999] = -7.0
    index, values = minmax_decimate(x, 400)
    assert values.shape == (3, 800) and index.size == 800
    assert values[1].max() == 50.0 and values[2].min() == -7.0
    assert index[-1] == 9999
    short_index, short = minmax_decimate(x[:, :500], 400)
    assert short.shape == (3, 500) and short_index[-1] == 499


def test_robust_spacing_ignores_one_wild_channel() -> None:
    rng = np.random.default_rng(0)
    uv = rng.normal(0, 10, (8, 1000))
    uv[3] *= 1000  # a saturated channel
    spacing = robust_spacing(uv)
    assert 20 <= spacing <= 100
    assert spacing in (20.0, 50.0, 100.0)


def test_band_powers_find_a_10_hz_rhythm() -> None:
    sfreq = 250.0
    t = np.arange(500) / sfreq
    rng = np.random.default_rng(1)
    data = rng.normal(0, 1e-6, (2, t.size))
    data[0] += 2e-5 * np.sin(2 * np.pi * 10 * t)
    powers = band_powers(data, sfreq, ((8, 13), (13, 30)))
    assert powers.shape == (2, 2)
    assert powers[0, 0] > powers[1, 0] + 1  # 10x more alpha power where the rhythm is
    freqs, psd = power_spectrum(data, sfreq, fmax=40)
    assert freqs[-1] <= 40 and freqs[np.argmax(psd[0])] == 10.0


def test_probability_history_returns_the_recent_outputs() -> None:
    history = ProbabilityHistory(2, capacity=100)
    history.append(np.arange(10.0), np.column_stack([np.linspace(0, 1, 10), np.linspace(1, 0, 10)]))
    times, probs = history.since(6.5)
    assert np.array_equal(times, [7.0, 8.0, 9.0])
    assert probs.shape == (2, 3) and np.allclose(probs.sum(axis=0), 1)
