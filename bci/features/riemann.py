"""Functions of symmetric positive-definite (SPD) matrices: the one copy the features share.

Every matrix function here goes through one eigendecomposition helper, :func:`eig_fn`.
The tangent map and the affine-invariant (Riemannian) mean follow Barachant et al. (IEEE
TBME 59(4), 2012) and the fixed-point iteration of Moakher (SIAM J. Matrix Anal. Appl.
26(3), 2005), with the step-size control and stopping rule of pyRiemann's ``mean_riemann``.

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
from functools import lru_cache

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
    flat, weights = _upper_layout(n)
    # ``logs`` is a fresh C-ordered product, so the reshape is a view: one gather.
    return np.take(logs.reshape(*logs.shape[:-2], n * n), flat, axis=-1) * weights


@lru_cache(maxsize=32)
def _upper_layout(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of the upper triangle of an ``n x n`` matrix and the sqrt(2) weights.

    Built once per size (a per-window ``triu_indices`` cost as much as the gather itself);
    read-only, since the cache hands out the same arrays to every caller.
    """
    rows, cols = np.triu_indices(n)
    flat = rows * n + cols
    weights = np.where(rows == cols, 1.0, np.sqrt(2.0))
    flat.setflags(write=False)
    weights.setflags(write=False)
    return flat, weights


def riemannian_mean(
    covs: np.ndarray, *, max_iter: int = 50, tol: float = 1e-8, return_n_iter: bool = False
) -> np.ndarray | tuple[np.ndarray, int]:
    """Affine-invariant (Karcher) mean of SPD matrices.

    Each iteration whitens the matrices by the current estimate ``M``, averages their
    logarithms (``J``, the gradient in the tangent space at ``M``) and steps
    ``M <- M^1/2 expm(nu J) M^1/2``. ``J`` lives in whitened coordinates, so its norm is
    the step's size *relative to the estimate* (scale-free: the same for microvolt and
    volt data). Like pyRiemann, the step size ``nu`` shrinks by 0.95 while the step keeps
    decreasing and halves when it grows (a plain fixed point can oscillate on spread-out
    matrices and run to the cap); iteration stops when ``||J||_F <= tol`` or
    ``nu <= tol``, or after ``max_iter`` iterations.

    Parameters
    ----------
    covs : ndarray, shape (n_matrices, n, n)
    max_iter : int
        Iteration cap.
    tol : float
        Tolerance on the relative step norm ``||J||_F``.
    return_n_iter : bool
        Also return the number of iterations run.

    Returns
    -------
    mean : ndarray, shape (n, n)
    n_iter : int
        Only with ``return_n_iter=True``.
    """
    mean = covs.mean(axis=0)
    nu = 1.0
    tau = np.finfo(np.float64).max
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is returned
        w, v = np.linalg.eigh(mean)
        w = np.maximum(w, np.maximum(w.max() * _EPS, _TINY))
        sqrt = (v * np.sqrt(w)) @ v.T
        isqrt = (v / np.sqrt(w)) @ v.T
        step = logm(isqrt @ covs @ isqrt).mean(axis=0)
        mean = sqrt @ expm(nu * step) @ sqrt
        crit = np.linalg.norm(step)
        h = nu * crit
        if h < tau:
            nu, tau = 0.95 * nu, h
        else:
            nu *= 0.5
        if crit <= tol or nu <= tol:
            break
    return (mean, n_iter) if return_n_iter else mean
