"""Tests of bci.tangent_space: Riemannian mean, tangent vectors, state round trip."""

from __future__ import annotations

import numpy as np
import pytest

from bci.errors import BCIError
from bci.tangent_space import TangentSpace, covariances, riemannian_mean


def test_mean_of_identical_matrices_is_that_matrix_and_features_vanish_there():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    spd = a @ a.T + 4 * np.eye(4)
    assert np.allclose(riemannian_mean(np.stack([spd, spd, spd])), spd)
    E = rng.standard_normal((30, 4, 300))
    ts = TangentSpace(shrinkage=0.1).fit(E)
    X = ts.transform(E)
    assert X.shape == (30, 10)
    # At the Riemannian mean, tangent vectors average to zero.
    assert np.abs(X.mean(axis=0)).max() < 1e-6


def test_scaled_class_moves_along_the_diagonal_and_state_round_trips():
    rng = np.random.default_rng(1)
    E = rng.standard_normal((20, 3, 200))
    E[10:] *= 3.0
    ts = TangentSpace().fit(E)
    X = ts.transform(E)
    assert X[10:, 0].mean() > X[:10, 0].mean() + 1.0
    again = TangentSpace.from_state(*ts.to_state())
    assert np.array_equal(again.transform(E), X)
    assert covariances(E, 0.0).shape == (20, 3, 3)
    with pytest.raises(BCIError, match="fitted on 3 channels"):
        ts.transform(E[:, :2])
