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

    def forward(self, logits: np.ndarray, targets: np.ndarray) -> float:
        """Return the mean negative log-likelihood; cache softmax for ``backward``."""
        logp = log_softmax(logits)
        n = logits.shape[0]
        self._proba = np.exp(logp)
        self._targets = targets
        return float(-logp[np.arange(n), targets].mean())

    def backward(self) -> np.ndarray:
        """dL/dz = (softmax(z) - onehot(y)) / n."""
        grad = self._proba.copy()
        n = grad.shape[0]
        grad[np.arange(n), self._targets] -= 1.0
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
