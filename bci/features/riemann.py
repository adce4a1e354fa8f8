"""Functions of symmetric positive-definite (SPD) matrices: the one copy the features share.

Every matrix function here goes through one eigendecomposition helper, :func:`eig_fn`.
The tangent map and the affine-invariant (Riemannian) mean follow Barachant et al. (IEEE
TBME 59(4), 2012) and the fixed-point iteration of Moakher (SIAM J. Matrix Anal. Appl.
26(3), 2005).

Flooring: the functions defined only on positive numbers (``sqrt``, ``1/sqrt``, ``log``)
see eigenvalues clipped at ``eps * max(|w|)`` of their own matrix (and at the smallest
normal float for an all-zero one). ``eigh`` returns eigenvalues with an absolute error of
about ``eps * ||A||``, so an eigenvalue below that is rounding noise, and its sign is
arbitrary: a fixed floor (the former ``1e-300``) turned that noise into ``log = -690`` or
``log(1e-17)`` depending on the sign, and flooring ``exp``'s argument (the former second
copy) was wrong outright, since a symmetric log-matrix has negative eigenvalues by design.
On well-conditioned input (any OAS covariance) no eigenvalue reaches the floor, so the
results are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_EPS = np.finfo(np.float64).eps
_TINY = np.finfo(np.float64).tiny


def eig_fn(
    mats: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], *, floor: bool = True
) -> np.ndarray:
    """``V fn(W) V^T`` of each symmetric matrix in ``mats`` (shape ``(..., n, n)``).

    ``floor=True`` clips the eigenvalues at ``eps * max|w|`` first (see the module note);
    use ``floor=False`` for functions defined on every real number (``exp``).
    """
    w, v = np.linalg.eigh(mats)
    if floor:
        top = np.abs(w).max(axis=-1, keepdims=True)
        w = np.maximum(w, np.maximum(top * _EPS, _TINY))
    return (v * fn(w)[..., None, :]) @ np.swapaxes(v, -1, -2)


def sqrtm(mats: np.ndarray) -> np.ndarray:
    """Principal square root of SPD matrices."""
    return eig_fn(mats, np.sqrt)


def invsqrtm(mats: np.ndarray) -> np.ndarray:
    """Inverse principal square root of SPD matrices (the whitening matrix)."""
    return eig_fn(mats, lambda w: 1.0 / np.sqrt(w))


def logm(mats: np.ndarray) -> np.ndarray:
    """Principal logarithm of SPD matrices."""
    return eig_fn(mats, np.log)


def expm(mats: np.ndarray) -> np.ndarray:
    """Exponential of symmetric matrices (no flooring: ``exp`` is defined everywhere)."""
    return eig_fn(mats, np.exp, floor=False)


def tangent_vectors(covs: np.ndarray, reference_isqrt: np.ndarray) -> np.ndarray:
    """Tangent vectors ``upper(logm(P C P))``, off-diagonal entries times sqrt(2).

    ``P = M^-1/2`` is the whitening matrix of the reference point ``M``. The sqrt(2) makes
    the Euclidean norm of a vector equal the Frobenius norm of the log-matrix, i.e. the
    affine-invariant distance from ``C`` to ``M``.

    Returns
    -------
    ndarray, shape (n_matrices, n * (n + 1) / 2)
    """
    logs = logm(reference_isqrt @ covs @ reference_isqrt)
    n = covs.shape[-1]
    rows, cols = np.triu_indices(n)
    weights = np.where(rows == cols, 1.0, np.sqrt(2.0))
    return logs[..., rows, cols] * weights


def riemannian_mean(covs: np.ndarray, *, max_iter: int = 50, tol: float = 1e-8) -> np.ndarray:
    """Geometric (affine-invariant) mean of SPD matrices by the usual fixed-point iteration."""
    mean = covs.mean(axis=0)
    for _ in range(max_iter):
        sqrt, isqrt = sqrtm(mean), invsqrtm(mean)
        t = logm(isqrt @ covs @ isqrt).mean(axis=0)
        mean = sqrt @ expm(t) @ sqrt
        if np.linalg.norm(t) < tol:
            break
    return mean
