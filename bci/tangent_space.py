"""Riemannian tangent-space features of spatial covariance matrices.

Each epoch's covariance (shrunk toward a scaled identity for conditioning) is whitened by
the training set's Riemannian mean ``M`` and mapped to the tangent space at ``M``:
``upper(logm(M^-1/2 C M^-1/2))`` with off-diagonal entries scaled by sqrt(2), so Euclidean
distances between feature vectors approximate Riemannian distances between covariances
(Barachant et al., IEEE TBME 2012). With a linear model on top, this is the method that
does best on motor imagery here.
"""

from __future__ import annotations

import numpy as np

from bci.errors import BCIError


def covariances(epochs: np.ndarray, shrinkage: float) -> np.ndarray:
    """Spatial covariance of every epoch, shrunk toward ``trace/n * I``."""
    x = epochs - epochs.mean(axis=-1, keepdims=True)
    covs = np.einsum("ect,edt->ecd", x, x) / max(x.shape[-1] - 1, 1)
    n = covs.shape[-1]
    mu = np.trace(covs, axis1=1, axis2=2) / n
    return (1.0 - shrinkage) * covs + shrinkage * mu[:, None, None] * np.eye(n)[None]


def _eig_fn(mats: np.ndarray, fn) -> np.ndarray:
    w, v = np.linalg.eigh(mats)
    return (v * fn(w)[..., None, :]) @ np.swapaxes(v, -1, -2)


def _floor(w: np.ndarray) -> np.ndarray:
    return np.maximum(w, 1e-300)


def riemannian_mean(covs: np.ndarray, *, max_iter: int = 50, tol: float = 1e-8) -> np.ndarray:
    """Geometric (affine-invariant) mean of SPD matrices by the usual fixed-point iteration."""
    mean = covs.mean(axis=0)
    for _ in range(max_iter):
        sqrt = _eig_fn(mean, lambda w: np.sqrt(_floor(w)))
        isqrt = _eig_fn(mean, lambda w: 1.0 / np.sqrt(_floor(w)))
        t = _eig_fn(isqrt @ covs @ isqrt, lambda w: np.log(_floor(w))).mean(axis=0)
        mean = sqrt @ _eig_fn(t, np.exp) @ sqrt
        if np.linalg.norm(t) < tol:
            break
    return mean


class TangentSpace:
    """Tangent-space vectors of epoch covariances at the training set's Riemannian mean.

    Parameters
    ----------
    shrinkage : float
        Weight of the scaled identity mixed into each covariance, in [0, 1).
    """

    kind = "tangent_space"

    def __init__(self, *, shrinkage: float = 0.05) -> None:
        if not 0.0 <= float(shrinkage) < 1.0:
            raise BCIError(f"tangent space shrinkage must be in [0, 1), got {shrinkage!r}")
        self.shrinkage = float(shrinkage)
        self.reference_isqrt_: np.ndarray | None = None

    def fit(self, epochs: np.ndarray, y: np.ndarray | None = None) -> TangentSpace:
        """Learn the reference point (Riemannian mean) from training epochs."""
        x = np.asarray(epochs, dtype=np.float64)
        if x.ndim != 3:
            raise BCIError(f"tangent space expects (n_epochs, n_channels, n_times), got {x.shape}")
        mean = riemannian_mean(covariances(x, self.shrinkage))
        self.reference_isqrt_ = _eig_fn(mean, lambda w: 1.0 / np.sqrt(_floor(w)))
        return self

    def transform(self, epochs: np.ndarray) -> np.ndarray:
        """Return tangent vectors, shape ``(n_epochs, n_ch * (n_ch + 1) / 2)``."""
        if self.reference_isqrt_ is None:
            raise BCIError("tangent space used before fit; fit it on training epochs first")
        x = np.asarray(epochs, dtype=np.float64)
        n = self.reference_isqrt_.shape[0]
        if x.ndim != 3 or x.shape[1] != n:
            raise BCIError(
                f"tangent space was fitted on {n} channels, got epochs of shape {x.shape}"
            )
        p = self.reference_isqrt_
        logs = _eig_fn(p @ covariances(x, self.shrinkage) @ p, lambda w: np.log(_floor(w)))
        rows, cols = np.triu_indices(n)
        weights = np.where(rows == cols, 1.0, np.sqrt(2.0))
        return logs[:, rows, cols] * weights

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Return ``(meta, arrays)`` with the whitening matrix of the reference point."""
        if self.reference_isqrt_ is None:
            raise BCIError("tangent space is not fitted; nothing to save")
        return {"type": self.kind, "shrinkage": self.shrinkage}, {
            "reference_isqrt": self.reference_isqrt_.copy()
        }

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> TangentSpace:
        """Rebuild the step saved by :meth:`to_state`."""
        step = cls(shrinkage=meta["shrinkage"])
        ref = np.asarray(arrays["reference_isqrt"], dtype=np.float64)
        if ref.ndim != 2 or ref.shape[0] != ref.shape[1] or not np.all(np.isfinite(ref)):
            raise BCIError(
                f"tangent space state: reference must be a finite square matrix, got {ref.shape}"
            )
        step.reference_isqrt_ = ref
        return step
