"""Spatial covariances of epochs, and their shrinkage toward a scaled identity.

One estimator serves every feature step: the sample covariance as a batched matrix product
(``X @ X^T``: BLAS, several times faster than the equivalent ``np.einsum`` at 64 channels),
and one shrinkage ``(1 - rho) S + rho (tr(S)/p) I`` whose weight ``rho`` is either fixed
(CSP's ``reg``, the tangent space's numeric ``shrinkage``) or chosen per epoch by Oracle
Approximating Shrinkage (Chen et al., IEEE TSP 58(10), 2010).
"""

from __future__ import annotations

import numpy as np


def scatter_matrices(epochs: np.ndarray) -> np.ndarray:
    """``X X^T`` of every epoch after removing each channel's mean.

    Parameters
    ----------
    epochs : ndarray, shape (n_epochs, n_channels, n_times)

    Returns
    -------
    ndarray, shape (n_epochs, n_channels, n_channels)
    """
    x = np.asarray(epochs, dtype=np.float64)
    p, n_times = x.shape[-2:]
    if p * n_times < _ONE_PASS_SIZE:
        return _centred_scatter(x)
    # One pass on large epochs: the centred scatter is G - n m m^T with G = X X^T and m
    # the channel means, so no centred copy of the epochs is made (at 64 channels x 500
    # samples that copy cost a third of the covariance; below _ONE_PASS_SIZE the extra
    # small operations cost more than it). In floating point the subtraction loses about
    # log2(G_ii / C_ii) bits of a channel whose mean is large against its spread; where
    # that ratio passes _ONE_PASS_RATIO (a DC offset, a flat channel) the epoch is centred
    # explicitly, so the error stays within a few ulps of the two-pass result.
    scatter = x @ x.transpose(0, 2, 1)
    sums = x @ np.ones(n_times)
    means = sums / n_times
    scatter -= means[..., :, None] * sums[..., None, :]
    diagonal = scatter.reshape(len(scatter), p * p)[:, :: p + 1]
    exact = means * sums <= (_ONE_PASS_RATIO - 1.0) * diagonal
    if not exact.all():
        redo = ~exact.all(axis=-1)
        scatter[redo] = _centred_scatter(x[redo])
    return scatter


def _centred_scatter(x: np.ndarray) -> np.ndarray:
    # The channel means by BLAS (x @ 1: about twice as fast as x.mean(axis=-1)).
    n_times = x.shape[-1]
    x = x - (x @ np.ones(n_times) / n_times)[..., None]
    return x @ x.transpose(0, 2, 1)


#: Epoch size (channels x samples) from which :func:`scatter_matrices` centres in one pass.
_ONE_PASS_SIZE = 8192
#: Largest ``G_ii / C_ii`` (uncentred over centred scatter of one channel) for which
#: :func:`scatter_matrices` keeps the one-pass result: it then loses at most 4 bits.
_ONE_PASS_RATIO = 16.0


def sample_covariances(epochs: np.ndarray, *, ddof: int = 0) -> np.ndarray:
    """Spatial covariance of every epoch: the scatter divided by ``n_times - ddof``.

    ``ddof=0`` gives the biased (maximum-likelihood) estimate OAS expects, ``ddof=1`` the
    unbiased one.
    """
    n_times = np.shape(epochs)[-1]
    covs = scatter_matrices(epochs)
    covs /= max(n_times - ddof, 1)  # in place: the scatter is a fresh array
    return covs


def shrink(covs: np.ndarray, rho: float | np.ndarray) -> np.ndarray:
    """``(1 - rho) S + rho mu I`` with ``mu = trace(S) / p``, for one or a stack of matrices.

    ``rho`` is a number or one weight per matrix (shape ``covs.shape[:-2]``).
    """
    p = covs.shape[-1]
    mu = np.trace(covs, axis1=-2, axis2=-1) / p
    rho = np.asarray(rho, dtype=np.float64)
    out = (1.0 - rho)[..., None, None] * covs
    idx = np.arange(p)
    out[..., idx, idx] += (rho * mu)[..., None]
    return out


def oas_weights(covs: np.ndarray, n_times: int) -> np.ndarray:
    """Oracle Approximating Shrinkage weight of each biased sample covariance.

    ``rho = min(1, (tr(S^2) + tr(S)^2) / ((n + 1)(tr(S^2) - tr(S)^2 / p)))``: the form
    scikit-learn uses since 1.3 (``sklearn.covariance.oas``), which pyRiemann's
    ``Covariances("oas")`` calls. A zero denominator (a scaled identity, or all zeros)
    gives ``rho = 1``.
    """
    return _oas_weights(covs, np.trace(covs, axis1=-2, axis2=-1), n_times)


def _oas_weights(covs: np.ndarray, tr: np.ndarray, n_times: int) -> np.ndarray:
    p = covs.shape[-1]
    # tr(S S) of a symmetric S is the sum of its squared entries.
    tr2 = np.square(covs).sum(axis=(-2, -1))
    num = tr2 + tr**2
    den = (n_times + 1.0) * (tr2 - tr**2 / p)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, np.minimum(1.0, num / np.where(den > 0, den, 1.0)), 1.0)


def oas_covariances(epochs: np.ndarray) -> np.ndarray:
    """Spatial covariances with Oracle Approximating Shrinkage toward ``trace/p * I``.

    Parameters
    ----------
    epochs : ndarray, shape (n_epochs, n_channels, n_times)

    Returns
    -------
    ndarray, shape (n_epochs, n_channels, n_channels)
        ``shrink(S, oas_weights(S))`` of the biased sample covariance ``S``, plus
        ``1e-10 * mu`` on the diagonal so a flat (all-zero) channel set stays positive
        definite.
    """
    # The same arithmetic as ``shrink(S, oas_weights(S))`` plus the floor, operation for
    # operation (bit-identical), done in place on the fresh sample covariances with one
    # trace: on one online window the copies and repeated traces were a third of the
    # shrinkage's cost, at 8 and at 64 channels alike.
    covs = sample_covariances(epochs)
    p = covs.shape[-1]
    tr = np.trace(covs, axis1=-2, axis2=-1)
    rho = _oas_weights(covs, tr, np.shape(epochs)[-1])
    mu = tr / p
    floor = np.maximum(mu, np.finfo(np.float64).tiny) * 1e-10
    covs *= (1.0 - rho)[..., None, None]
    diagonal = covs.reshape(*covs.shape[:-2], p * p)[..., :: p + 1]  # a view: covs is C-ordered
    diagonal += (rho * mu)[..., None]
    diagonal += floor[..., None]
    return covs
