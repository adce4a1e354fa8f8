"""Common spatial patterns: spatial filters that maximise one class's variance over the rest."""

from __future__ import annotations

import numpy as np
from scipy import linalg

from bci.errors import BCIError
from bci.features.covariance import scatter_matrices, shrink


def epoch_covariances(epochs: np.ndarray) -> np.ndarray:
    """Trace-normalised spatial covariance of every epoch, shape (n_epochs, n_ch, n_ch).

    Normalising by the trace keeps one loud epoch from dominating the class average.
    """
    covs = scatter_matrices(epochs)
    traces = np.trace(covs, axis1=1, axis2=2)
    traces = np.where(traces > 0, traces, 1.0)
    return covs / traces[:, None, None]


class CSP:
    """Regularised common spatial patterns, one-vs-rest for more than two classes.

    Parameters
    ----------
    n_components : int
        Spatial filters per binary problem, half from each end of the generalised
        eigenvalue spectrum (the extra one from the top when odd). Two classes give one
        problem; ``k > 2`` classes give ``k`` one-vs-rest problems.
    reg : float
        Shrinkage of each class covariance toward a scaled identity, in [0, 1]; keeps the
        generalised eigenproblem well posed with few epochs or many channels.
    output : {"logvar", "signals"}
        ``"logvar"``: ``transform`` returns the log-variance of each spatially filtered
        signal (the classic CSP feature, shape ``(n_epochs, n_filters)``).
        ``"signals"``: it returns the filtered signals ``(n_epochs, n_filters, n_times)``
        for a following band-power step.
    """

    kind = "csp"

    def __init__(self, *, n_components: int = 4, reg: float = 0.1, output: str = "logvar") -> None:
        if int(n_components) < 1:
            raise BCIError(f"CSP n_components must be >= 1, got {n_components!r}")
        if not 0.0 <= float(reg) <= 1.0:
            raise BCIError(f"CSP reg must be between 0 and 1, got {reg!r}")
        if output not in ("logvar", "signals"):
            raise BCIError(f"CSP output must be 'logvar' or 'signals', got {output!r}")
        self.n_components = int(n_components)
        self.reg = float(reg)
        self.output = output
        self.filters_: np.ndarray | None = None
        self.classes_: np.ndarray | None = None

    def fit(self, epochs: np.ndarray, y: np.ndarray) -> CSP:
        """Learn the spatial filters from epochs ``(n_epochs, n_ch, n_times)`` and labels."""
        x = np.asarray(epochs, dtype=np.float64)
        y = np.asarray(y)
        if x.ndim != 3 or x.shape[0] != y.shape[0]:
            raise BCIError(
                f"CSP expects epochs (n, n_ch, n_times) and n labels, got {x.shape}, {y.shape}"
            )
        classes = np.unique(y)
        if classes.size < 2:
            raise BCIError(f"CSP needs at least two classes, got {classes.tolist()}")
        n_ch = x.shape[1]
        covs = epoch_covariances(x)
        means = {c: covs[y == c].mean(axis=0) for c in classes}
        problems = [classes[0]] if classes.size == 2 else list(classes)
        n_top = (self.n_components + 1) // 2
        n_bottom = self.n_components // 2
        filters = []
        for c in problems:
            rest = np.mean([means[o] for o in classes if o != c], axis=0)
            a = shrink(means[c], self.reg)
            b = a + shrink(rest, self.reg)
            try:
                evals, evecs = linalg.eigh(a, b)
            except (linalg.LinAlgError, ValueError) as exc:
                raise BCIError(
                    f"CSP could not separate class {c!r} ({exc}); raise features.csp_reg "
                    "(shrinkage) or use more epochs"
                ) from None
            order = np.argsort(evals)[::-1]
            evecs = evecs[:, order]
            k_top, k_bottom = min(n_top, n_ch), min(n_bottom, max(n_ch - n_top, 0))
            chosen = [evecs[:, :k_top]]
            if k_bottom:
                chosen.append(evecs[:, n_ch - k_bottom :])
            filters.append(np.concatenate(chosen, axis=1).T)
        self.filters_ = np.ascontiguousarray(np.concatenate(filters, axis=0))
        self.classes_ = classes
        return self

    def transform(self, epochs: np.ndarray) -> np.ndarray:
        """Spatially filter epochs; return log-variances or signals (see ``output``)."""
        if self.filters_ is None:
            raise BCIError("CSP used before fit; fit it on training epochs first")
        x = np.asarray(epochs, dtype=np.float64)
        if x.ndim != 3 or x.shape[1] != self.filters_.shape[1]:
            raise BCIError(
                f"CSP was fitted on {self.filters_.shape[1]} channels, got epochs of shape {x.shape}"
            )
        z = self.filters_ @ x
        if self.output == "signals":
            return z
        var = z.var(axis=-1)
        return np.log(np.maximum(var, 1e-30))

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Return ``(meta, arrays)`` with the spatial filters."""
        if self.filters_ is None:
            raise BCIError("CSP is not fitted; nothing to save")
        meta = {
            "type": self.kind,
            "n_components": self.n_components,
            "reg": self.reg,
            "output": self.output,
            "classes": [str(c) for c in self.classes_.tolist()],
        }
        return meta, {"filters": self.filters_.copy()}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> CSP:
        """Rebuild the step saved by :meth:`to_state`."""
        step = cls(n_components=meta["n_components"], reg=meta["reg"], output=meta["output"])
        filters = np.asarray(arrays["filters"], dtype=np.float64)
        if filters.ndim != 2 or not np.all(np.isfinite(filters)):
            raise BCIError(f"CSP state: filters must be a finite 2-D array, got {filters.shape}")
        step.filters_ = filters
        step.classes_ = np.asarray(meta["classes"], dtype=str)
        return step
