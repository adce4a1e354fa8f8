"""Errors raised by the learning layer for a user's input."""


class ModelError(ValueError):
    """Base class: the data or parameters given to an estimator are unusable."""


class NotFittedError(ModelError, AttributeError):
    """An estimator was asked to predict (or save) before ``fit``."""


class NoProbabilityError(ModelError, AttributeError):
    """An estimator that has no probabilistic output was asked for ``predict_proba``."""
