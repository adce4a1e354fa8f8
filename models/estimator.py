"""What every estimator shares: parameters, labels, checks, scoring and state."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .errors import ModelError, NotFittedError
from .saving import save
from .validation import (
    check_classes,
    check_dtype,
    check_n_features,
    check_X,
    check_y,
    encode_labels,
)


def _json_safe(value: Any) -> Any:
    """Convert tuples and numpy scalars to JSON types (tuples become lists)."""
    if isinstance(value, (tuple, list)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class Estimator:
    """Base class of the classifiers (scikit-learn shaped, without scikit-learn).

    ``__init__`` only stores keyword arguments; everything learned ends in ``_``.
    Subclasses set ``kind`` and implement ``_fit``, ``_partial_fit``, ``decision_function``,
    ``_fitted_state`` and ``_restore_fitted``.
    """

    kind: ClassVar[str] = ""

    # -- parameters -------------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [n for n, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor parameters (``type(est)(**est.get_params())`` clones it)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Estimator:
        """Set constructor parameters; unknown names raise ModelError listing the valid ones."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ModelError(
                    f"{type(self).__name__} has no parameter {name!r}; valid: {sorted(valid)}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- shared input handling -----------------------------------------------------------
    def _dtype(self) -> np.dtype:
        return check_dtype(self.dtype)

    def _prepare_fit(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Validate training data; set ``classes_`` and ``n_features_in_``; encode labels."""
        self._validate_params()
        X = check_X(X, dtype=self._dtype())
        y = check_y(y, X.shape[0])
        # One sort gives both the classes and each label's index (half the time of
        # unique + searchsorted on string labels).
        classes, y_idx = np.unique(y, return_inverse=True)
        self.classes_ = check_classes(classes)
        self.n_features_in_ = X.shape[1]
        return X, y_idx.reshape(-1).astype(np.intp, copy=False)

    def _prepare_partial_fit(
        self, X: Any, y: Any, classes: Any
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """Like ``_prepare_fit`` for incremental learning; returns (X, y_idx, first_call)."""
        first = not hasattr(self, "classes_")
        if first:
            self._validate_params()
        X = check_X(X, dtype=self._dtype())
        y = check_y(y, X.shape[0])
        if first:
            all_classes = np.unique(np.asarray(classes if classes is not None else y))
            if all_classes.dtype.kind == "O":
                all_classes = all_classes.astype(str)
            self.classes_ = check_classes(all_classes)
            self.n_features_in_ = X.shape[1]
        else:
            if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
                raise ModelError(
                    f"classes={list(classes)} differs from the classes of the first "
                    f"partial_fit {self.classes_.tolist()}; use fit() to start over"
                )
            check_n_features(X, self.n_features_in_)
        return X, encode_labels(y, self.classes_), first

    def _check_predict_input(self, X: Any) -> np.ndarray:
        if not hasattr(self, "classes_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X, y) before "
                "predicting or saving"
            )
        X = check_X(X, dtype=self._dtype())
        check_n_features(X, self.n_features_in_)
        return X

    def _validate_params(self) -> None:
        check_dtype(self.dtype)

    # -- public API ----------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> Estimator:
        """Learn from features ``X`` (n_samples, n_features) and labels ``y`` (ints/strings)."""
        X, y_idx = self._prepare_fit(X, y)
        self._rng = np.random.default_rng(self.random_state)
        self._fit(X, y_idx)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> Estimator:
        """One pass over ``(X, y)`` continuing from the current weights.

        ``classes`` (all labels that will ever occur) is needed on the first call unless
        that batch already contains every class.
        """
        X, y_idx, first = self._prepare_partial_fit(X, y, classes)
        if first:
            self._rng = np.random.default_rng(self.random_state)
        self._partial_fit(X, y_idx, first)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Most likely class label of each sample."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores >= 0).astype(np.intp)]
        return self.classes_[scores.argmax(axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Mean accuracy of ``predict(X)`` against ``y``."""
        pred = self.predict(X)
        y = check_y(y, pred.shape[0])
        return float(np.mean(pred == y))

    # -- state -----------------------------------------------------------------------
    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Return ``(meta, arrays)``: JSON-safe metadata and numpy arrays, no pickle needed."""
        if not hasattr(self, "classes_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted; fit it before saving")
        given = self.get_params()
        params = {k: _json_safe(v) for k, v in given.items()}
        if not (params["random_state"] is None or isinstance(params["random_state"], int)):
            params["random_state"] = None  # a Generator cannot be stored as JSON
        fitted_meta, arrays = self._fitted_state()
        classes = self.classes_
        arrays = {
            **arrays,
            "classes_": classes.astype(str) if classes.dtype.kind == "O" else classes,
        }
        meta = {
            "kind": self.kind,
            "format_version": 1,
            "params": params,
            # JSON has no tuples: name the parameters to turn back into tuples on loading,
            # so a reloaded estimator has exactly the constructor parameters it was given.
            "tuple_params": sorted(k for k, v in given.items() if isinstance(v, tuple)),
            "n_features_in": int(self.n_features_in_),
            "fitted": fitted_meta,
        }
        return meta, arrays

    def save(self, path: str | Path) -> None:
        """Write the fitted estimator to ``path`` (.npz of JSON metadata + arrays)."""
        save(self, path)

    def _fitted_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        raise NotImplementedError

    def _restore_fitted(self, fitted: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError
