"""Standardisation of feature vectors, fitted on training data only."""

from __future__ import annotations

import numpy as np

from bci.errors import BCIError


class StandardScaler:
    """Subtract the training mean and divide by the training standard deviation.

    Features with zero training variance are only centred (their scale is set to 1), so a
    constant feature never produces a division by zero.
    """

    kind = "scaler"

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> StandardScaler:
        """Learn mean and scale of ``X`` (n_samples, n_features)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 1:
            raise BCIError(f"scaler expects (n_samples, n_features) with samples, got {X.shape}")
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        scale[~(scale > 1e-12 * (np.abs(self.mean_) + 1.0))] = 1.0
        self.scale_ = scale
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Return ``(X - mean_) / scale_``."""
        if self.mean_ is None or self.scale_ is None:
            raise BCIError("scaler used before fit; fit it on training features first")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.mean_.size:
            raise BCIError(
                f"scaler was fitted on {self.mean_.size} features, got array of shape {X.shape}"
            )
        return (X - self.mean_) / self.scale_

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Return ``(meta, arrays)`` with ``mean`` and ``scale``."""
        if self.mean_ is None or self.scale_ is None:
            raise BCIError("scaler is not fitted; nothing to save")
        return {"type": self.kind}, {"mean": self.mean_.copy(), "scale": self.scale_.copy()}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> StandardScaler:
        """Rebuild the scaler saved by :meth:`to_state`."""
        step = cls()
        mean = np.asarray(arrays["mean"], dtype=np.float64)
        scale = np.asarray(arrays["scale"], dtype=np.float64)
        if mean.ndim != 1 or mean.shape != scale.shape:
            raise BCIError(f"scaler state: mean {mean.shape} and scale {scale.shape} differ")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(scale)) and np.all(scale > 0)):
            raise BCIError("scaler state holds non-finite or non-positive values")
        step.mean_, step.scale_ = mean, scale
        return step
