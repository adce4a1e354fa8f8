"""The unit of the backprop core: a differentiable function with parameters."""

from __future__ import annotations

import numpy as np


class Parameter:
    """A learnable array and the gradient of the loss with respect to it.

    Parameters
    ----------
    value : numpy.ndarray
        Initial value; stored as given (not copied).
    """

    __slots__ = ("grad", "value")

    def __init__(self, value: np.ndarray) -> None:
        self.value = value
        self.grad = np.zeros_like(value)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.value.shape}, dtype={self.value.dtype})"


class Module:
    """A differentiable function ``y = f(x; parameters)``.

    ``forward`` caches what ``backward`` needs; ``backward(dL/dy)`` returns ``dL/dx`` and
    *adds* ``dL/dparameter`` into each parameter's ``grad`` (gradients accumulate until
    ``zero_grad``, as in any reverse-mode autodiff).
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Compute the output for a batch ``x`` of shape (n_samples, n_in)."""
        raise NotImplementedError

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """Given dL/d(output) of the last ``forward``, return dL/d(input)."""
        raise NotImplementedError

    def parameters(self) -> list[Parameter]:
        """The learnable parameters (empty for parameter-free modules)."""
        return []

    def zero_grad(self) -> None:
        """Reset every parameter's accumulated gradient to zero."""
        for p in self.parameters():
            p.grad[...] = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)
