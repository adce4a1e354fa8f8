"""Signal-quality cue: flat, saturated and line-noise channels are told apart from EEG."""

from __future__ import annotations

import numpy as np
import pytest

from acquisition.simulator import simulate_recording
from bci.signal_quality import FLAT, GOOD, LINE_NOISE, SATURATED, channel_quality


def eeg_like(n_channels: int, sfreq: float, seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    rec = simulate_recording([], duration=seconds + 1, seed=seed, sfreq=sfreq)
    return rec.data[:n_channels, : round(seconds * sfreq)].copy()


@pytest.mark.parametrize("sfreq", [160.0, 250.0, 500.0])
def test_each_fault_is_named_and_eeg_is_ok(sfreq: float) -> None:
    x = eeg_like(6, sfreq)
    t = np.arange(x.shape[1]) / sfreq
    x[1] = 12e-3 + 0.05e-6 * np.sin(t)  # a DC offset with almost nothing on it: flat
    x[2] = np.clip(x[2] * 20, -100e-6, 100e-6)  # the amplifier clips at +-100 µV
    x[3] += 60e-6 * np.sin(2 * np.pi * 50 * t)  # mains pick-up bigger than the EEG
    x[4] += 60e-6 * np.sin(2 * np.pi * 60 * t)  # the same, in America
    got = channel_quality(x, sfreq)
    assert got == (GOOD, FLAT, SATURATED, LINE_NOISE, LINE_NOISE, GOOD)


def test_real_eeg_amounts_of_mains_and_quantisation_stay_ok() -> None:
    sfreq = 160.0
    x = eeg_like(4, sfreq, seed=3)
    t = np.arange(x.shape[1]) / sfreq
    x[0] += 3e-6 * np.sin(2 * np.pi * 50 * t)  # a little mains is normal
    x[1] = np.round(x[1] / 0.5e-6) * 0.5e-6  # a 0.5 µV ADC step
    assert channel_quality(x, sfreq) == (GOOD,) * 4


def test_nan_samples_and_rates_too_low_for_mains_are_handled() -> None:
    x = eeg_like(3, 100.0)
    x[0, ::3] = np.nan  # gaps are ignored, not a crash
    x[1] = np.nan
    t = np.arange(x.shape[1]) / 100.0
    x[2] += 80e-6 * np.sin(2 * np.pi * 50 * t)  # 50 Hz is Nyquist at 100 Hz: not judged
    assert channel_quality(x, 100.0) == (GOOD, FLAT, GOOD)
