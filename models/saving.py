"""Write an estimator's state to one .npz file: JSON metadata plus plain numpy arrays.

Kept apart from :mod:`models.persistence` (which needs the factory to rebuild estimators)
so that ``Estimator.save`` can use it without an import cycle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError

FORMAT_VERSION = 1
META_KEY = "__meta__"


def save(estimator: Any, path: str | Path) -> None:
    """Write a fitted estimator to ``path`` (an .npz holding JSON metadata and arrays)."""
    meta, arrays = estimator.to_state()
    if META_KEY in arrays:
        raise ModelError(f"array name {META_KEY!r} is reserved")
    payload = {k: np.asarray(v) for k, v in arrays.items()}
    payload[META_KEY] = np.array(json.dumps(meta))
    with open(Path(path), "wb") as fh:
        np.savez(fh, **payload)
