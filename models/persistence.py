"""Save and load estimators without pickle: JSON metadata plus numpy arrays in one .npz."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError
from .estimator import Estimator
from .factory import estimator_class
from .saving import FORMAT_VERSION, save
from .saving import META_KEY as _META_KEY

__all__ = ["FORMAT_VERSION", "estimator_from_state", "load", "save"]


def estimator_from_state(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Estimator:
    """Rebuild a fitted estimator from ``est.to_state()``; it predicts exactly as before.

    Raises
    ------
    ModelError
        If the metadata is not from ``to_state`` or from a newer format.
    """
    try:
        kind, params, fitted = meta["kind"], meta["params"], meta["fitted"]
        n_features = int(meta["n_features_in"])
        version = int(meta.get("format_version", 1))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(
            f"model state is incomplete or malformed (missing {exc}); "
            "it must come from estimator.to_state()"
        ) from None
    if version > FORMAT_VERSION:
        raise ModelError(
            f"model state has format_version {version}; this version reads up to "
            f"{FORMAT_VERSION}: upgrade the package"
        )
    tuple_params = meta.get("tuple_params", [])
    if not isinstance(params, dict) or not isinstance(tuple_params, list):
        raise ModelError("model state is malformed: 'params' must be an object")
    params = {
        k: tuple(v) if k in tuple_params and isinstance(v, list) else v for k, v in params.items()
    }
    est = estimator_class(kind)(**params)
    est._validate_params()
    est.classes_ = np.asarray(arrays["classes_"]).copy()
    est.n_features_in_ = n_features
    est._rng = np.random.default_rng(est.random_state)
    est._restore_fitted(fitted, {k: np.asarray(v) for k, v in arrays.items()})
    return est


def load(path: str | Path) -> Estimator:
    """Read an estimator written by ``save`` (never unpickles anything)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise ModelError(f"model file {str(path)!r} does not exist") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"{str(path)!r} is not a saved model (.npz): {exc}") from None
    if _META_KEY not in arrays:
        raise ModelError(f"{str(path)!r} has no model metadata; was it written by save()?")
    meta = json.loads(str(arrays.pop(_META_KEY)))
    return estimator_from_state(meta, arrays)
