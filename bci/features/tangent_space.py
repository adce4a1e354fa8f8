"""Riemannian tangent-space features of spatial covariance matrices.

Each epoch's covariance is shrunk toward a scaled identity for conditioning, whitened by
the training set's Riemannian mean ``M`` and mapped to the tangent space at ``M``:
``upper(logm(M^-1/2 C M^-1/2))`` with off-diagonal entries scaled by sqrt(2), so Euclidean
distances between feature vectors approximate Riemannian distances between covariances
(Barachant et al., IEEE TBME 59(4), 2012). With a linear model on top, this is the
cross-subject default of the MOABB benchmarks (Jayaram & Barachant 2018).

Why these defaults generalise (none was chosen on a subject's accuracy):

- Shrinkage: Oracle Approximating Shrinkage (Chen et al., IEEE TSP 2010) picks the weight
  from the number of samples vs channels, so a 64-channel 2 s epoch and an 8-channel one
  are both well conditioned without a tuned constant. A fixed constant (the old 0.05) was
  what set this step apart from pyRiemann's ``Covariances("oas")`` + ``TangentSpace``: on
  PhysioNet S001 it cost 0.01-0.04 of 10-seed mean accuracy (benchmarks/bench_accuracy.py).
- No per-feature rescaling: tangent vectors live in one metric, so the class attribute
  ``standardize = False`` tells the pipeline to centre them only (as pyRiemann's TS + LR,
  which does not scale them at all, and as :mod:`bci.features.filter_bank`).
"""

from __future__ import annotations

import numpy as np

from bci.errors import BCIError
from bci.features.covariance import oas_covariances, sample_covariances, shrink
from bci.features.riemann import invsqrtm, riemannian_mean, tangent_vectors

#: ``shrinkage`` value that selects Oracle Approximating Shrinkage.
OAS = "oas"


def covariances(epochs: np.ndarray, shrinkage: float | str) -> np.ndarray:
    """Spatial covariance of every epoch, shrunk toward ``trace/n * I``.

    ``shrinkage`` is a fixed weight in [0, 1) (unbiased sample covariance) or ``"oas"``
    (Oracle Approximating Shrinkage of the biased one, weight chosen per epoch).
    """
    if shrinkage == OAS:
        return oas_covariances(epochs)
    return shrink(sample_covariances(epochs, ddof=1), shrinkage)


def _check_shrinkage(shrinkage: object) -> float | str:
    if isinstance(shrinkage, str):
        if shrinkage.strip().lower() == OAS:
            return OAS
    elif not isinstance(shrinkage, bool) and isinstance(shrinkage, int | float):
        if 0.0 <= float(shrinkage) < 1.0:
            return float(shrinkage)
    raise BCIError(
        f'tangent space shrinkage must be "oas" or a number in [0, 1), got {shrinkage!r}; '
        'fix features.params.shrinkage (or leave it out for "oas")'
    )


class TangentSpace:
    """Tangent-space vectors of epoch covariances at the training set's Riemannian mean.

    Parameters
    ----------
    shrinkage : float or "oas"
        ``"oas"`` (default): Oracle Approximating Shrinkage, weight chosen from the data.
        A number in [0, 1): that fixed weight of the scaled identity.
    """

    kind = "tangent_space"
    #: Tangent vectors share one metric; per-feature standardisation would distort it.
    standardize = False

    def __init__(self, *, shrinkage: float | str = OAS) -> None:
        self.shrinkage = _check_shrinkage(shrinkage)
        self.reference_isqrt_: np.ndarray | None = None
        #: Iterations the Riemannian mean took in the last ``fit`` (None before it).
        self.n_iter_: int | None = None

    def fit(self, epochs: np.ndarray, y: np.ndarray | None = None) -> TangentSpace:
        """Learn the reference point (Riemannian mean) from training epochs."""
        x = np.asarray(epochs, dtype=np.float64)
        if x.ndim != 3:
            raise BCIError(f"tangent space expects (n_epochs, n_channels, n_times), got {x.shape}")
        mean, self.n_iter_ = riemannian_mean(covariances(x, self.shrinkage), return_n_iter=True)
        self.reference_isqrt_ = invsqrtm(mean)
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
        return tangent_vectors(covariances(x, self.shrinkage), self.reference_isqrt_)

    # Re-centring (bci.features.recentre) maps each group at its own reference point.
    def block_covariances(self, epochs: np.ndarray) -> np.ndarray:
        """Shrunk covariances as one block, shape ``(1, n_epochs, n_ch, n_ch)``."""
        x = np.asarray(epochs, dtype=np.float64)
        if x.ndim != 3:
            raise BCIError(f"tangent space expects (n_epochs, n_channels, n_times), got {x.shape}")
        return covariances(x, self.shrinkage)[None]

    @property
    def n_features_per_block(self) -> int:
        """Length of one block's tangent vector."""
        n = self.reference_isqrt_.shape[-1]
        return n * (n + 1) // 2

    def tangent_features(self, block_covs: np.ndarray, reference_isqrt: np.ndarray) -> np.ndarray:
        """Tangent vectors of ``block_covs`` (1, n, c, c) at ``reference_isqrt`` (1, c, c)."""
        return tangent_vectors(block_covs[0], reference_isqrt[0])

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
