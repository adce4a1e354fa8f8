"""Property tests: the fast paths of issue 14 compute what their plain references compute.

Hypothesis draws the shapes (samples, features, classes, block sizes, hidden layers, batch
sizes) that the parametrised tests of ``test_perceptron.py``, ``test_dense_step.py`` and
``test_covariance.py`` fix by hand. The CI profile is derandomised (``conftest.py``); the
long profile (``--hypothesis-profile=long``) searches further on demand.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_dense_step import built, core_and_step
from test_perceptron import SCANS, force_scan, plain_perceptron

from bci.features.covariance import scatter_matrices
from models import Perceptron


@given(
    n=st.integers(2, 140),
    d=st.integers(1, 12),
    n_classes=st.integers(2, 5),
    scan=st.sampled_from(sorted(SCANS)),
    block=st.sampled_from([2, 3, 7, 16, 64]),
    epochs=st.integers(1, 4),
    average=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_every_scan_is_the_plain_loop_on_any_shape(
    n, d, n_classes, scan, block, epochs, average, seed
):
    # Small integer features keep every score exact (many ties among them), so the scans
    # must make the plain loop's very decisions; the weights are then exact too, and the
    # lazy average equals the literal mean of the weights to rounding.
    from models import perceptron as module

    rng = np.random.default_rng(seed)
    X = rng.integers(-3, 4, (n, d)).astype(float)
    y = rng.integers(0, n_classes, n)
    y[:n_classes] = np.arange(n_classes)[: min(n, n_classes)]  # every class present
    n_present = np.unique(y).size
    with pytest.MonkeyPatch.context() as mp:
        force_scan(mp, scan)
        mp.setattr(module, "_GRAM_BLOCK", block)
        clf = Perceptron(max_iter=epochs, tol=None, average=average, random_state=0).fit(X, y)
    order_rng = np.random.default_rng(0)
    orders = [order_rng.permutation(n) for _ in range(epochs)]
    W, mistakes, losses = plain_perceptron(X, y, n_present, orders, average)
    # Training stops after an epoch without mistakes: compare the epochs it ran.
    ran = clf.n_iter_
    assert clf.mistakes_ == mistakes[:ran]
    if ran < epochs:
        assert mistakes[ran - 1] == 0
        W, _, _ = plain_perceptron(X, y, n_present, orders[:ran], average)
    np.testing.assert_allclose(clf.losses_, losses[:ran], rtol=1e-12, atol=0)
    if average:
        np.testing.assert_allclose(clf.coef_, W[:, :-1], rtol=0, atol=1e-9)
        np.testing.assert_allclose(clf.intercept_, W[:, -1], rtol=0, atol=1e-9)
    else:
        np.testing.assert_array_equal(clf.coef_, W[:, :-1])
        np.testing.assert_array_equal(clf.intercept_, W[:, -1])


@given(
    n_features=st.integers(1, 40),
    hidden=st.lists(st.integers(1, 24), min_size=1, max_size=2).map(tuple),
    k=st.integers(2, 11),
    m=st.integers(1, 40),
    activation=st.sampled_from(["relu", "tanh", "sigmoid"]),
    l2=st.sampled_from([0.0, 1e-3, 0.05]),
    seed=st.integers(0, 2**16),
)
def test_the_training_step_is_the_module_chain_on_any_shape(
    n_features, hidden, k, m, activation, l2, seed
):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(max(m, k), n_features))
    y = np.arange(len(X)) % k
    mlp, y_idx = built(X, y, hidden_sizes=hidden, activation=activation, l2=l2)
    (core_value, core_grad), (value, grad) = core_and_step(mlp, X[:m], y_idx[:m])
    assert value == core_value
    np.testing.assert_array_equal(grad, core_grad)


@given(
    n_epochs=st.integers(1, 4),
    n_channels=st.integers(1, 70),
    n_times=st.integers(2, 600),
    offset=st.sampled_from([0.0, 1e-6, 1e-4, 1e-2, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_scatter_matrices_are_the_two_pass_ones_on_any_shape(
    n_epochs, n_channels, n_times, offset, seed
):
    # Small and large epochs (the one-pass path starts at 8192 values), with channel
    # offsets from none to 1e5 x the spread (the explicit-centring fallback).
    rng = np.random.default_rng(seed)
    x = 1e-5 * rng.standard_normal((n_epochs, n_channels, n_times))
    x += offset * rng.standard_normal((n_epochs, n_channels, 1))
    centred = x - x.mean(axis=-1, keepdims=True)
    ref = centred @ centred.transpose(0, 2, 1)
    ours = scatter_matrices(x)
    # Entry (i, j) of a scatter is a sum of n_times products: its rounding is at most
    # about n_times eps sqrt(G_ii G_jj) (Cauchy-Schwarz), and the one-pass path is kept
    # only where G_ii <= 16 C_ii; so n_times eps 16 sqrt(C_ii C_jj) bounds both paths.
    # Without the fallback, an offset 1e5 x the spread would err by ~1e10 eps C_ii.
    diag = np.sqrt(np.einsum("eii->ei", ref))
    scale = diag[:, :, None] * diag[:, None, :]
    assert np.all(np.abs(ours - ref) <= 16 * n_times * np.finfo(float).eps * scale)
