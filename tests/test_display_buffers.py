"""Ring buffers and reductions behind the live displays."""

from __future__ import annotations

import numpy as np
import pytest

from bci.display_buffers import (
    SCALE_STEPS_UV,
    DisplayHighpass,
    ExponentialSmoother,
    ProbabilityHistory,
    RingBuffer,
    band_powers,
    minmax_decimate,
    place_label,
    power_spectrum,
    robust_spacing,
    step_scale,
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


@pytest.mark.parametrize("sfreq", [128, 160, 250, 256, 500, 512, 1000, 2048, 125.5])
@pytest.mark.parametrize("n_out", [1, 7, 333, 499, 500, 640, 1001])
def test_minmax_decimation_covers_every_sample_at_every_rate(sfreq: float, n_out: int) -> None:
    n = round(10 * sfreq) + 3  # ten seconds and a few odd samples
    rng = np.random.default_rng(int(sfreq) + n_out)
    x = rng.normal(0, 10, (2, n))
    index, values = minmax_decimate(x, n_out)
    # The drawn x range is the whole span: first sample to last.
    assert index[0] == 0 and index[-1] == n - 1
    if n <= 2 * n_out:
        assert np.array_equal(values, x)
        return
    starts, ends = index[0::2].astype(int), index[1::2].astype(int)
    # The bins tile the samples: contiguous, none empty, none skipped.
    assert np.array_equal(starts[1:], ends[:-1] + 1) and np.all(ends >= starts)
    assert np.ptp(ends - starts) <= 1
    # Each pair is exactly that bin's envelope, so the envelope of every sample survives.
    for k in rng.choice(starts.size, size=min(starts.size, 50), replace=False):
        block = x[:, starts[k] : ends[k] + 1]
        assert np.array_equal(values[:, 2 * k], block.min(axis=1))
        assert np.array_equal(values[:, 2 * k + 1], block.max(axis=1))
    assert np.array_equal(values.min(axis=1), x.min(axis=1))
    assert np.array_equal(values.max(axis=1), x.max(axis=1))


def test_minmax_decimation_keeps_a_spike_in_the_first_samples_at_160_hz() -> None:
    x = np.zeros((1, 1600))  # 10 s at 160 Hz: the old code dropped 1600 mod 500 = 100 samples
    x[0, 3] = 80.0
    index, values = minmax_decimate(x, 500)
    assert values.max() == 80.0 and index[0] == 0


def test_step_scale_walks_the_1_2_5_ladder_and_snaps_in_between_values() -> None:
    assert step_scale(50.0, +1) == 100.0 and step_scale(50.0, -1) == 20.0
    assert step_scale(20.0, -2) == 5.0 and step_scale(50.0, 0) == 50.0
    assert step_scale(30.0, +1) == 50.0 and step_scale(30.0, -1) == 20.0
    assert step_scale(SCALE_STEPS_UV[-1], +1) == SCALE_STEPS_UV[-1]
    assert step_scale(SCALE_STEPS_UV[0], -3) == SCALE_STEPS_UV[0]


def test_exponential_smoother_follows_its_time_constant_at_irregular_steps() -> None:
    raw = ExponentialSmoother(2, 0.0)
    p = np.array([[0.2, 0.8], [0.9, 0.1]])
    assert np.array_equal(raw.update(np.array([0.0, 0.1]), p), p)
    smooth = ExponentialSmoother(2, 0.5)
    smooth.update(np.array([0.0]), np.array([[0.0, 1.0]]))
    # A step to (1, 0): after one time constant the average has gone 1 - 1/e of the way,
    # whether the outputs came every 0.01 s or at irregular times.
    times = np.cumsum(np.r_[0.003, np.tile([0.004, 0.013, 0.008], 20)])
    times = times / times[-1] * 0.5
    out = smooth.update(times, np.tile([1.0, 0.0], (times.size, 1)))
    assert out[-1, 0] == pytest.approx(1 - np.exp(-1), abs=1e-12)
    assert np.allclose(out.sum(axis=1), 1.0)  # still probabilities
    assert np.all(np.diff(out[:, 0]) > 0)
    with pytest.raises(ValueError, match="smoothing"):
        ExponentialSmoother(2, -1.0)


def test_display_highpass_removes_drift_and_carries_its_state_across_chunks() -> None:
    sfreq = 250.0
    t = np.arange(round(20 * sfreq)) / sfreq
    drift = 300e-6 * t / t[-1] + 40e-6  # 300 µV of drift over 20 s on a DC offset
    alpha = 10e-6 * np.sin(2 * np.pi * 10 * t)
    x = np.vstack([drift + alpha, alpha])
    whole = DisplayHighpass(2, sfreq).process(x)
    hp = DisplayHighpass(2, sfreq)
    chunked = np.hstack([hp.process(x[:, i : i + 37]) for i in range(0, t.size, 37)])
    assert np.allclose(chunked, whole, atol=1e-15)
    late = slice(round(5 * sfreq), None)  # after the filter has settled
    assert np.max(np.abs(whole[0, late] - whole[1, late])) < 1e-6  # drift gone (< 1 µV)
    assert np.std(whole[1, late]) == pytest.approx(np.std(alpha), rel=0.02)  # alpha kept


def test_place_label_staggers_rows_and_drops_what_would_overlap() -> None:
    ends = [-np.inf] * 3
    rows = [place_label(ends, t, 1.0) for t in (0.0, 0.3, 0.6, 0.9, 1.05, 2.5)]
    assert rows == [0, 1, 2, None, 0, 0]
