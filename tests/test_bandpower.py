"""Tests of bci.features.bandpower: band power of known sinusoids, shapes, state round trip."""

from __future__ import annotations

import numpy as np
import pytest

from bci.errors import BCIError
from bci.features.bandpower import BandPower

SFREQ = 200.0


def test_sinusoid_power_lands_in_its_band():
    t = np.arange(400) / SFREQ
    amp = 1e-5
    x = np.stack([np.stack([amp * np.sin(2 * np.pi * 10 * t), amp * np.sin(2 * np.pi * 20 * t)])])
    bp = BandPower(sfreq=SFREQ, bands=[(8, 12), (18, 22)], nperseg=200).fit(x)
    f = bp.transform(x).reshape(2, 2)
    # A sine of amplitude A has power A^2 / 2; Welch + band sum recovers it closely.
    assert f[0, 0] == pytest.approx(np.log10(amp**2 / 2), abs=0.05)
    assert f[1, 1] == pytest.approx(np.log10(amp**2 / 2), abs=0.05)
    assert f[0, 1] < f[0, 0] - 3 and f[1, 0] < f[1, 1] - 3
    assert bp.feature_names(["C3", "C4"])[1] == "C3 18-22Hz"


def test_natural_log_and_zero_signal_is_finite():
    x = np.zeros((2, 3, 256))
    bp = BandPower(sfreq=SFREQ, bands=[(8, 13)], nperseg=128, log="ln")
    out = bp.fit(x).transform(x)
    assert out.shape == (2, 3) and np.all(np.isfinite(out))


def test_state_round_trip_and_errors():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 2, 300))
    bp = BandPower(sfreq=SFREQ, bands=[(8, 13), (13, 30)], nperseg=100).fit(x)
    meta, arrays = bp.to_state()
    again = BandPower.from_state(meta, arrays)
    assert np.array_equal(again.transform(x), bp.transform(x))
    with pytest.raises(BCIError, match="shorter than the Welch segment"):
        bp.transform(x[..., :50])
    with pytest.raises(BCIError, match="no spectral bin"):
        BandPower(sfreq=SFREQ, bands=[(10.1, 10.2)], nperseg=100)
    with pytest.raises(BCIError, match="fitted on 2 channels"):
        bp.transform(rng.standard_normal((1, 3, 300)))
