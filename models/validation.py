"""Checks of user input, with messages that say what was received and how to fix it."""

from __future__ import annotations

import numpy as np

from .errors import ModelError

VALID_DTYPES = ("float64", "float32")


def check_dtype(dtype: object) -> np.dtype:
    """Return the numpy dtype for the ``dtype`` parameter ("float64" or "float32")."""
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name not in VALID_DTYPES:
        raise ModelError(f"dtype must be one of {VALID_DTYPES}, got {dtype!r}")
    return np.dtype(name)


def check_X(X: object, *, dtype: np.dtype = np.float64, name: str = "X") -> np.ndarray:
    """Return ``X`` as a contiguous (C or Fortran order) 2-D float array, all finite.

    Fortran order is kept as it comes (pipelines often produce it): BLAS reads either
    layout at the same speed, and copying a 630 x 2080 matrix cost a fifth of a fit.

    Raises
    ------
    ModelError
        If ``X`` is not numeric, not 2-D, empty, or has NaN/inf values.
    """
    try:
        arr = np.asarray(X, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ModelError(
            f"{name} must be a numeric array of shape (n_samples, n_features); "
            f"could not convert it to {np.dtype(dtype).name}: {exc}"
        ) from None
    if arr.ndim != 2:
        hint = (
            " For one sample use X.reshape(1, -1); for one feature use X.reshape(-1, 1)."
            if arr.ndim == 1
            else " Flatten each sample's features into one row (e.g. X.reshape(len(X), -1))."
        )
        raise ModelError(
            f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}.{hint}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ModelError(f"{name} is empty (shape {arr.shape}); it needs samples and features")
    # The sum is finite for finite data (no temporary array); only if it is not (NaN, inf
    # or an overflow of huge values) look element by element.
    if not np.isfinite(arr.sum()) and not np.isfinite(arr).all():
        bad = ~np.isfinite(arr)
        rows = np.unique(np.nonzero(bad)[0])
        raise ModelError(
            f"{name} has {int(bad.sum())} non-finite values (NaN or inf) in {rows.size} rows, "
            f"first at row {int(rows[0])}; drop or impute those samples before fitting/predicting"
        )
    if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
        arr = np.ascontiguousarray(arr)
    return arr


def check_y(y: object, n_samples: int) -> np.ndarray:
    """Return labels ``y`` as a 1-D array of length ``n_samples``."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ModelError(
            f"y must be 1-D (one label per sample), got shape {arr.shape}; "
            "pass class labels, not one-hot rows"
        )
    if arr.shape[0] != n_samples:
        raise ModelError(
            f"X has {n_samples} samples but y has {arr.shape[0]} labels; "
            "they must have the same length (one label per row of X)"
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ModelError("y contains NaN or inf labels; drop those samples")
    if arr.dtype.kind == "O":
        arr = arr.astype(str)
    return arr


def check_classes(classes: np.ndarray) -> np.ndarray:
    """Ensure there are at least two classes to tell apart."""
    if classes.size < 2:
        found = classes.tolist()
        raise ModelError(
            f"y has a single class {found}; a classifier needs samples of at least two "
            "classes (check your markers/labels)"
        )
    return classes


def encode_labels(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Map labels to indices into sorted ``classes``; unknown labels raise ModelError."""
    idx = np.searchsorted(classes, y)
    idx_clipped = np.minimum(idx, classes.size - 1)
    ok = classes[idx_clipped] == y
    if not np.all(ok):
        unknown = np.unique(y[~ok]).tolist()
        raise ModelError(
            f"y has labels {unknown} that are not among the classes {classes.tolist()}; "
            "pass every class to the first partial_fit(..., classes=[...]) or refit with fit()"
        )
    return idx_clipped.astype(np.intp)


def check_n_features(X: np.ndarray, n_expected: int) -> None:
    """Raise if ``X`` has a different number of columns than the model was trained on."""
    if X.shape[1] != n_expected:
        raise ModelError(
            f"X has {X.shape[1]} features per sample but the model was trained on "
            f"{n_expected}; compute the same features (channels x bands) as at training time"
        )


def check_positive(name: str, value: object, *, integer: bool = False) -> None:
    """Raise ModelError unless ``value`` is a positive number (integer if asked)."""
    ok = isinstance(value, (int, np.integer)) if integer else isinstance(value, (int, float))
    if not ok or isinstance(value, bool) or value <= 0:
        kind = "a positive integer" if integer else "a positive number"
        raise ModelError(f"{name} must be {kind}, got {value!r}")


def check_choice(name: str, value: object, choices: tuple) -> None:
    """Raise ModelError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ModelError(f"{name} must be one of {choices}, got {value!r}")


def train_validation_split(
    y_idx: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split of sample indices: every class keeps ``fraction`` for validation."""
    train, val = [], []
    for k in np.unique(y_idx):
        members = rng.permutation(np.flatnonzero(y_idx == k))
        n_val = round(fraction * members.size)
        n_val = min(max(n_val, 1), members.size - 1)
        val.append(members[:n_val])
        train.append(members[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def check_training_params(est: object) -> None:
    """Check the training parameters the estimators share, for those ``est`` has.

    One place for the rules (and the messages) of ``max_iter``, ``tol``, ``l2``,
    ``momentum``, ``learning_rate``, ``batch_size``, ``early_stopping``,
    ``validation_fraction`` and ``n_iter_no_change``.
    """
    params = vars(est)
    if "max_iter" in params:
        check_positive("max_iter", est.max_iter, integer=True)
    if "tol" in params and est.tol is not None:
        _check_nonnegative("tol", est.tol)
    if "l2" in params:
        _check_nonnegative("l2", est.l2)
    if "momentum" in params:
        m = est.momentum
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not 0 <= m < 1:
            raise ModelError(f"momentum must be in [0, 1), got {m!r}")
    if "learning_rate" in params and est.learning_rate != "auto":
        check_positive("learning_rate", est.learning_rate)
    if "batch_size" in params and est.batch_size != "auto":
        check_positive("batch_size", est.batch_size, integer=True)
    if "early_stopping" in params:
        check_choice("early_stopping", est.early_stopping, (True, False, "auto"))
    if "validation_fraction" in params:
        f = est.validation_fraction
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < 1:
            raise ModelError(f"validation_fraction must be in (0, 1), got {f!r}")
    if "n_iter_no_change" in params:
        check_positive("n_iter_no_change", est.n_iter_no_change, integer=True)


def _check_nonnegative(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ModelError(f"{name} must be a number >= 0, got {value!r}")
