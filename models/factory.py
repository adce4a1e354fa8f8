"""Build an estimator from its kind name and parameters (as a paradigm file gives them)."""

from __future__ import annotations

from typing import Any

from .errors import ModelError
from .estimator import Estimator
from .mlp import MLP
from .perceptron import Perceptron
from .softmax_regression import SoftmaxRegression

ESTIMATORS: dict[str, type[Estimator]] = {
    "perceptron": Perceptron,
    "softmax": SoftmaxRegression,
    "mlp": MLP,
}


def estimator_class(kind: str) -> type[Estimator]:
    """The estimator class for ``kind``; unknown kinds raise ModelError listing valid ones."""
    try:
        return ESTIMATORS[kind]
    except (KeyError, TypeError):
        raise ModelError(
            f"unknown model kind {kind!r}; valid kinds: {sorted(ESTIMATORS)}"
        ) from None


def make_estimator(kind: str, **params: Any) -> Estimator:
    """Return an unfitted estimator of ``kind`` ("perceptron", "softmax" or "mlp").

    Raises
    ------
    ModelError
        If ``kind`` or a parameter name is unknown (the message lists the valid ones), or a
        parameter value is invalid.
    """
    cls = estimator_class(kind)
    valid = cls._param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ModelError(
            f"unknown parameter(s) {unknown} for model kind {kind!r}; valid: {sorted(valid)}"
        )
    est = cls(**params)
    est._validate_params()
    return est
