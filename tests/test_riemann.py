"""Tests of bci.features.riemann: matrix functions, flooring, tangent map, Riemannian mean."""

from __future__ import annotations

import numpy as np
import pytest

from bci.features.riemann import (
    eig_fn,
    expm,
    invsqrtm,
    logm,
    riemannian_mean,
    sqrtm,
    tangent_vectors,
)


def _spd(rng, n, k=None):
    a = rng.standard_normal((n, n) if k is None else (k, n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def test_matrix_functions_invert_each_other():
    m = _spd(np.random.default_rng(0), 5, 3)
    np.testing.assert_allclose(sqrtm(m) @ sqrtm(m), m, rtol=1e-10)
    np.testing.assert_allclose(
        invsqrtm(m) @ m @ invsqrtm(m), np.broadcast_to(np.eye(5), m.shape), atol=1e-10
    )
    np.testing.assert_allclose(expm(logm(m)), m, rtol=1e-10)


def test_exp_is_not_floored_and_the_floor_is_relative_to_the_largest_eigenvalue():
    sym = np.diag([-3.0, 0.0, 2.0])
    np.testing.assert_allclose(expm(sym), np.diag(np.exp([-3.0, 0.0, 2.0])))
    # A rank-deficient matrix: the zero eigenvalue becomes eps * largest, whatever the sign
    # of eigh's rounding noise, so log is finite and the same for +/- tiny noise.
    eps = np.finfo(np.float64).eps
    for noise in (1e-20, -1e-20):
        w = np.diag(eig_fn(np.diag([4.0, noise]), np.log))
        np.testing.assert_allclose(w, [np.log(4.0), np.log(4.0 * eps)])


def test_tangent_vector_of_the_reference_is_zero_and_norm_is_riemann_distance():
    m = _spd(np.random.default_rng(1), 4)
    p = invsqrtm(m)
    assert np.allclose(tangent_vectors(m[None], p), 0.0, atol=1e-12)
    c = m * np.e  # log(P C P) = I: distance sqrt(4)
    t = tangent_vectors(c[None], p)[0]
    assert np.linalg.norm(t) == pytest.approx(2.0)


def test_mean_of_identical_matrices_is_that_matrix_in_one_iteration():
    spd = _spd(np.random.default_rng(2), 4)
    mean, n_iter = riemannian_mean(np.stack([spd, spd, spd]), return_n_iter=True)
    np.testing.assert_allclose(mean, spd, rtol=1e-10)
    assert n_iter == 1


def test_mean_zeroes_the_average_tangent_vector_and_matches_pyriemann():
    rng = np.random.default_rng(3)
    covs = _spd(rng, 6, 40) * np.exp(rng.normal(0.0, 1.5, 40))[:, None, None]
    mean, n_iter = riemannian_mean(covs, return_n_iter=True)
    assert n_iter < 50
    assert np.abs(tangent_vectors(covs, invsqrtm(mean)).mean(axis=0)).max() < 1e-7
    pr = pytest.importorskip("pyriemann.utils.mean")
    np.testing.assert_allclose(mean, pr.mean_riemann(covs), rtol=1e-6)


def test_mean_stops_at_the_cap_and_reports_it():
    covs = _spd(np.random.default_rng(4), 5, 20) * np.logspace(-3, 3, 20)[:, None, None]
    _, n_iter = riemannian_mean(covs, max_iter=2, tol=0.0, return_n_iter=True)
    assert n_iter == 2


def test_tangent_vectors_are_the_weighted_upper_triangle_row_by_row_for_any_batch_shape():
    rng = np.random.default_rng(7)
    covs = _spd(rng, 4, 6).reshape(3, 2, 4, 4)  # (bands, epochs, c, c) as the filter bank
    refs = invsqrtm(_spd(rng, 4, 3))[:, None]
    vecs = tangent_vectors(covs, refs)
    assert vecs.shape == (3, 2, 10)
    for b in range(3):
        for e in range(2):
            log = logm(refs[b, 0] @ covs[b, e] @ refs[b, 0])
            expected = [
                log[i, j] * (1.0 if i == j else np.sqrt(2.0)) for i in range(4) for j in range(i, 4)
            ]
            np.testing.assert_allclose(vecs[b, e], expected, rtol=1e-12, atol=1e-14)
    # The layout is cached per size: a caller writing into a result must not change the next.
    first = vecs.copy()
    vecs[...] = 0.0
    assert np.array_equal(tangent_vectors(covs, refs), first)
