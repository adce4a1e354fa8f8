"""Tests of bci.features.covariance: sample covariances, shrinkage, OAS against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

from bci.features.covariance import (
    oas_covariances,
    oas_weights,
    sample_covariances,
    scatter_matrices,
    shrink,
)


def test_sample_covariances_equal_numpy_cov_of_each_epoch():
    x = np.random.default_rng(0).standard_normal((4, 5, 50)) + 3.0
    for ddof in (0, 1):
        ours = sample_covariances(x, ddof=ddof)
        for e in range(4):
            np.testing.assert_allclose(ours[e], np.cov(x[e], ddof=ddof), rtol=1e-12)
    np.testing.assert_allclose(scatter_matrices(x), sample_covariances(x) * 50, rtol=1e-12)


def test_shrink_keeps_the_trace_and_moves_toward_the_scaled_identity():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 4, 4))
    covs = a @ a.transpose(0, 2, 1)
    mu = np.trace(covs, axis1=1, axis2=2) / 4
    np.testing.assert_allclose(shrink(covs, 0.0), covs)
    np.testing.assert_allclose(shrink(covs, 1.0), mu[:, None, None] * np.eye(4))
    half = shrink(covs, np.array([0.5, 0.5, 0.5]))
    np.testing.assert_allclose(half, 0.5 * covs + 0.5 * mu[:, None, None] * np.eye(4))
    np.testing.assert_allclose(np.trace(shrink(covs[0], 0.3)), np.trace(covs[0]))


def test_oas_matches_scikit_learn():
    sk = pytest.importorskip("sklearn.covariance")
    x = np.random.default_rng(0).standard_normal((3, 6, 40))
    ours = oas_covariances(x)
    for e in range(3):
        ref = sk.OAS(assume_centered=False).fit(x[e].T).covariance_
        np.testing.assert_allclose(ours[e], ref, rtol=1e-6, atol=1e-9)
        shrinkage = sk.OAS(assume_centered=False).fit(x[e].T).shrinkage_
        assert oas_weights(sample_covariances(x[e : e + 1]), 40)[0] == pytest.approx(shrinkage)


def test_oas_of_a_flat_epoch_is_positive_definite_not_zero():
    covs = oas_covariances(np.zeros((1, 3, 20)))
    assert np.all(np.linalg.eigvalsh(covs) > 0)


def test_in_place_oas_is_bit_identical_to_shrink_of_the_oas_weights_plus_the_floor():
    # oas_covariances works in place on the fresh sample covariances; the arithmetic must
    # stay the composition shrink(S, oas_weights(S)) + floor, operation for operation.
    # 200 epochs: enough diagonal entries that a reordered sum would round differently.
    x = 1e-5 * np.random.default_rng(4).standard_normal((200, 9, 60)) + 2e-3
    s = sample_covariances(x)
    mu = np.trace(s, axis1=-2, axis2=-1) / 9
    expected = shrink(s, oas_weights(s, 60))
    expected[:, np.arange(9), np.arange(9)] += (1e-10 * mu)[:, None]
    assert np.array_equal(oas_covariances(x), expected)
    assert np.array_equal(oas_covariances(x[:1]), expected[:1])  # one online window


def _two_pass_scatter(x):
    centred = x - x.mean(axis=-1, keepdims=True)
    return centred @ centred.transpose(0, 2, 1)


def test_one_pass_scatter_of_large_epochs_equals_the_two_pass_one_to_rounding():
    from bci.features.covariance import _ONE_PASS_SIZE

    rng = np.random.default_rng(5)
    x = 1e-5 * (rng.standard_normal((64, 64)) @ rng.standard_normal((3, 64, 500)))
    x += 2e-6 * rng.standard_normal((3, 64, 1))  # small offsets: still the one-pass path
    assert x.shape[1] * x.shape[2] >= _ONE_PASS_SIZE  # the path under test
    ours, ref = scatter_matrices(x), _two_pass_scatter(x)
    scale = np.linalg.norm(ref, axis=(1, 2))
    assert np.all(np.linalg.norm(ours - ref, axis=(1, 2)) <= 1e-14 * scale)
    # A strided view (offline sliding windows) gives the same matrices.
    data = 1e-5 * rng.standard_normal((40, 1200))
    view = np.lib.stride_tricks.sliding_window_view(data, 500, axis=1)[:, ::100].transpose(1, 0, 2)
    np.testing.assert_allclose(
        scatter_matrices(view), _two_pass_scatter(view), rtol=1e-12, atol=1e-22
    )


def test_large_epochs_with_a_dc_offset_or_a_flat_channel_are_centred_explicitly():
    # The one-pass formula G - n m m^T would lose the variance of a channel sitting on a
    # large offset (1e4 x its spread: 27 of 53 bits) and could make a flat channel's
    # variance negative; those epochs must come out as the two-pass centring gives them.
    rng = np.random.default_rng(6)
    x = 1e-5 * rng.standard_normal((3, 40, 500))
    x[0, 3] += 0.1  # volts: a DC offset 1e4 x the channel's spread
    x[1, 7] = 0.05  # a flat channel
    ours, ref = scatter_matrices(x), _two_pass_scatter(x)
    np.testing.assert_allclose(ours[0], ref[0], rtol=1e-12, atol=1e-12 * np.abs(ref[0]).max())
    assert np.abs(ours[1, 7]).max() <= 1e-20 * np.abs(ref[1]).max()
    np.testing.assert_allclose(ours[2], ref[2], rtol=0, atol=1e-14 * np.abs(ref[2]).max())
