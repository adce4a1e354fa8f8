"""Tests of bci.filters: causal SOS filtering, chunked == whole, no DC start-up transient."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from bci.errors import BCIError
from bci.filters import CausalFilter, design_sos

SFREQ = 250.0


def test_chunked_equals_whole_to_1e10():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5000)) * 1e-5 + 2e-3
    sos = design_sos(SFREQ, 7.0, 30.0, order=4, notch=50.0)
    whole = CausalFilter(sos, 3).filter_whole(x)
    f = CausalFilter(sos, 3)
    parts, pos = [], 0
    while pos < x.shape[1]:
        k = int(rng.integers(1, 90))
        parts.append(f.process(x[:, pos : pos + k]))
        pos += k
    assert np.max(np.abs(np.concatenate(parts, axis=1) - whole)) < 1e-10


def test_dc_offset_gives_no_startup_transient():
    t = np.arange(2500) / SFREQ
    x = np.vstack([5e-3 + 1e-5 * np.sin(2 * np.pi * 10 * t), -3e-3 + 0 * t])
    y = CausalFilter(design_sos(SFREQ, 1.0, 30.0), 2).filter_whole(x)
    # A zero-state filter would start with a step of millivolts; this one stays at the signal's scale.
    assert np.max(np.abs(y)) < 2e-5
    naive = signal.sosfilt(design_sos(SFREQ, 1.0, 30.0), x, axis=-1)
    assert np.max(np.abs(naive)) > 1e-4


def test_passband_and_stopband():
    t = np.arange(5000) / SFREQ
    sos = design_sos(SFREQ, 8.0, 13.0)
    f = CausalFilter(sos, 2)
    y = f.filter_whole(np.vstack([np.sin(2 * np.pi * 10 * t), np.sin(2 * np.pi * 40 * t)]))
    tail = y[:, 2500:]
    assert 0.8 < np.std(tail[0]) / np.std(np.sin(2 * np.pi * 10 * t)) < 1.1
    assert np.std(tail[1]) < 0.01


def test_notch_removes_line_noise():
    t = np.arange(5000) / SFREQ
    sos = design_sos(SFREQ, None, None, notch=50.0)
    y = CausalFilter(sos, 1).filter_whole(np.sin(2 * np.pi * 50 * t)[None])
    assert np.std(y[0, 2500:]) < 0.02


def test_reset_restarts_from_next_first_sample_and_identity_when_no_band():
    sos = design_sos(SFREQ, 7.0, 30.0)
    f = CausalFilter(sos, 1)
    x = np.random.default_rng(1).standard_normal((1, 300))
    a = f.process(x)
    f.reset()
    assert f.zi is None
    assert np.array_equal(f.process(x), a)
    ident = CausalFilter(design_sos(SFREQ, None, None), 1)
    assert np.array_equal(ident.process(x), x)


def test_bad_design_and_shapes_raise():
    with pytest.raises(BCIError, match="h_freq"):
        design_sos(100.0, 7.0, 60.0)
    with pytest.raises(BCIError, match="shape"):
        CausalFilter(design_sos(SFREQ, 7.0, 30.0), 2).process(np.zeros((3, 10)))
