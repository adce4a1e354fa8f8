"""A chain of modules: the output of one is the input of the next."""

from __future__ import annotations

import numpy as np

from .module import Module, Parameter


class Sequential(Module):
    """Compose modules ``m_k(...m_2(m_1(x)))``; backward runs the chain rule in reverse.

    Parameters
    ----------
    *modules : Module
        The layers, first to last.
    """

    def __init__(self, *modules: Module) -> None:
        self.modules = list(modules)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for m in self.modules:
            x = m.forward(x)
        return x

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        for m in reversed(self.modules):
            grad_output = m.backward(grad_output)
        return grad_output

    def parameters(self) -> list[Parameter]:
        return [p for m in self.modules for p in m.parameters()]

    def __len__(self) -> int:
        return len(self.modules)

    def __getitem__(self, i: int) -> Module:
        return self.modules[i]
