"""Losses: softmax cross-entropy (negative mean log-likelihood) and squared error.

The core *minimises* a loss; the loss here is ``-mean_i log P(y_i | x_i)``, so a gradient
step down the loss is exactly a gradient *ascent* step up the (mean) log-likelihood
(Bishop, *Pattern Recognition and Machine Learning*, 2006, eq. 4.108-4.109). Means (not sums) keep learning rates independent of the number of samples.
"""

from __future__ import annotations

import numpy as np


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise ``log(softmax(z))`` via log-sum-exp; finite for activations of any size."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so exp never overflows."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e


class SoftmaxCrossEntropy:
    """``L = -(1/n) sum_i log softmax(z_i)[y_i]`` for logits ``z`` and class indices ``y``."""

    def __init__(self) -> None:
        self._rows = np.arange(0)

    def _row_index(self, n: int) -> np.ndarray:
        # The same np.arange(n) for every batch of a fit (a few us per batch otherwise).
        if self._rows.size != n:
            self._rows = np.arange(n)
        return self._rows

    def forward(self, logits: np.ndarray, targets: np.ndarray) -> float:
        """Return the mean negative log-likelihood; cache softmax for ``backward``."""
        # log_softmax written out on one temporary (the same operations, so the same
        # numbers): per-call overhead, not arithmetic, dominates a batch of 200 x 3.
        n = logits.shape[0]
        logp = logits - np.maximum.reduce(logits, axis=1, keepdims=True)
        logp -= np.log(np.add.reduce(np.exp(logp), axis=1, keepdims=True))
        picked = logp[self._row_index(n), targets]
        self._proba = np.exp(logp, out=logp)
        self._targets = targets
        return float(-(np.add.reduce(picked) / n))

    def backward(self) -> np.ndarray:
        """dL/dz = (softmax(z) - onehot(y)) / n."""
        grad = self._proba.copy()
        n = grad.shape[0]
        grad[self._row_index(n), self._targets] -= 1.0
        grad /= n
        return grad


class MeanSquaredError:
    """``L = (1/2n) sum_i ||f(x_i) - t_i||^2`` (for regression with the core)."""

    def forward(self, predictions: np.ndarray, targets: np.ndarray) -> float:
        """Return half the mean squared error; cache the residual for ``backward``."""
        self._residual = predictions - targets
        n = predictions.shape[0]
        return float(0.5 * np.sum(self._residual * self._residual) / n)

    def backward(self) -> np.ndarray:
        """dL/df = (f - t) / n."""
        return self._residual / self._residual.shape[0]
