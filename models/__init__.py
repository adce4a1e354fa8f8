"""The numpy learning layer: a small backprop core and the estimators built on it.

Core: :class:`Module`, :class:`Linear`, :class:`Sigmoid`, :class:`Tanh`, :class:`ReLU`,
:class:`Sequential`, :class:`SoftmaxCrossEntropy`, :class:`SGD`, :class:`Adam`,
:func:`minibatches`. Estimators: :class:`Perceptron`, :class:`SoftmaxRegression`,
:class:`MLP`, built by name with :func:`make_estimator`; saved without pickle with
``est.save(path)`` / :func:`load` or ``est.to_state()`` / :func:`estimator_from_state`.
"""

from .activations import ReLU, Sigmoid, Tanh
from .batching import minibatches
from .errors import ModelError, NoProbabilityError, NotFittedError
from .estimator import Estimator
from .factory import ESTIMATORS, make_estimator
from .linear import Linear
from .losses import MeanSquaredError, SoftmaxCrossEntropy, log_softmax, softmax
from .mlp import MLP
from .module import Module, Parameter
from .optimizers import SGD, Adam, Optimizer
from .perceptron import Perceptron
from .persistence import estimator_from_state, load, save
from .sequential import Sequential
from .softmax_regression import SoftmaxRegression

__all__ = [
    "ESTIMATORS",
    "MLP",
    "SGD",
    "Adam",
    "Estimator",
    "Linear",
    "MeanSquaredError",
    "ModelError",
    "Module",
    "NoProbabilityError",
    "NotFittedError",
    "Optimizer",
    "Parameter",
    "Perceptron",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "SoftmaxRegression",
    "Tanh",
    "estimator_from_state",
    "load",
    "log_softmax",
    "make_estimator",
    "minibatches",
    "save",
    "softmax",
]
