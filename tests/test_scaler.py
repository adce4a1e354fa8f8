"""Tests of bci.features.scaler: standardisation learned on training data only."""

from __future__ import annotations

import numpy as np
import pytest

from bci.errors import BCIError
from bci.features.scaler import StandardScaler


def test_standardises_with_training_statistics_only():
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 3.0, size=(200, 4))
    test = rng.normal(50.0, 1.0, size=(10, 4))
    sc = StandardScaler().fit(train)
    z = sc.transform(train)
    assert np.allclose(z.mean(axis=0), 0.0) and np.allclose(z.std(axis=0), 1.0)
    # Test data is scaled with the training mean, so its shift stays visible.
    assert np.all(sc.transform(test).mean(axis=0) > 10)


def test_constant_feature_is_only_centred_and_state_round_trips():
    X = np.column_stack([np.ones(5) * 3.0, np.arange(5.0)])
    sc = StandardScaler().fit(X)
    assert np.all(sc.transform(X)[:, 0] == 0.0)
    again = StandardScaler.from_state(*sc.to_state())
    assert np.array_equal(again.transform(X), sc.transform(X))


def test_errors():
    with pytest.raises(BCIError, match="before fit"):
        StandardScaler().transform(np.zeros((1, 2)))
    sc = StandardScaler().fit(np.zeros((3, 2)))
    with pytest.raises(BCIError, match="fitted on 2 features"):
        sc.transform(np.zeros((3, 5)))
    with pytest.raises(BCIError, match="non-finite or non-positive"):
        StandardScaler.from_state({}, {"mean": np.zeros(2), "scale": np.array([1.0, 0.0])})
