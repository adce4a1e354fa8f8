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


def flatten_parameters(parameters: list[Parameter]) -> Parameter:
    """Move ``parameters`` into one contiguous buffer and return it as a single Parameter.

    Each parameter's ``value`` and ``grad`` become views into the shared buffers, so an
    optimiser updating the returned Parameter updates every layer with a handful of
    vectorised operations instead of a handful per array (this matters for small nets,
    where per-call overhead dominates).
    """
    dtype = parameters[0].value.dtype
    flat = Parameter(np.empty(sum(p.value.size for p in parameters), dtype=dtype))
    offset = 0
    for p in parameters:
        size, shape = p.value.size, p.value.shape
        value = flat.value[offset : offset + size].reshape(shape)
        grad = flat.grad[offset : offset + size].reshape(shape)
        value[...] = p.value
        grad[...] = p.grad
        p.value, p.grad = value, grad
        offset += size
    return flat
