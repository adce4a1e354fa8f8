"""Tests of bci.features.csp: CSP finds the discriminative source, multiclass shapes, state round trip."""

from __future__ import annotations

import numpy as np
import pytest

from bci.errors import BCIError
from bci.features.csp import CSP


def mixed_epochs(seed=0, n=60, n_ch=6, n_times=200):
    """Class 'a' has a strong source 0, class 'b' a strong source 1, mixed into channels."""
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((n_ch, n_ch))
    y = np.array(["a", "b"] * (n // 2))
    sources = rng.standard_normal((n, n_ch, n_times))
    sources[y == "a", 0] *= 4.0
    sources[y == "b", 1] *= 4.0
    return np.einsum("cs,est->ect", mixing, sources), y


def test_log_variance_separates_the_classes():
    E, y = mixed_epochs()
    csp = CSP(n_components=2, reg=0.05).fit(E, y)
    X = csp.transform(E)
    assert X.shape == (60, 2)
    # First filter: high variance for 'a'; last: high variance for 'b'.
    assert X[y == "a", 0].mean() > X[y == "b", 0].mean() + 1.0
    assert X[y == "b", 1].mean() > X[y == "a", 1].mean() + 1.0


def test_signals_output_and_multiclass_one_vs_rest():
    E, y = mixed_epochs()
    sig = CSP(n_components=3, output="signals").fit(E, y).transform(E)
    assert sig.shape == (60, 3, 200)
    y3 = np.array(["a", "b", "c"] * 20)
    csp = CSP(n_components=2).fit(E, y3)
    assert csp.filters_.shape == (6, 6)  # 3 problems x 2 filters


def test_state_round_trip_and_errors():
    E, y = mixed_epochs()
    csp = CSP(n_components=4, reg=0.1).fit(E, y)
    meta, arrays = csp.to_state()
    again = CSP.from_state(meta, arrays)
    assert np.array_equal(again.transform(E), csp.transform(E))
    with pytest.raises(BCIError, match="two classes"):
        CSP().fit(E, np.array(["a"] * 60))
    with pytest.raises(BCIError, match="before fit"):
        CSP().transform(E)
    with pytest.raises(BCIError, match="fitted on 6 channels"):
        csp.transform(E[:, :3])
    with pytest.raises(BCIError, match="reg"):
        CSP(reg=2.0)
