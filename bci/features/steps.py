"""Registry of feature chains: paradigm ``features.method`` -> list of fitted-able steps.

A step is any object with ``fit(Z, y) -> self``, ``transform(Z) -> Z'``, ``to_state() ->
(meta, arrays)`` (meta JSON-safe with a ``"type"`` key, arrays numpy, no pickle) and a
classmethod ``from_state(meta, arrays)``. Steps run in order: epochs ``(n, n_ch, n_times)``
in, the last step returns features ``(n, n_features)``. The pipeline appends the scaler
and the model.

To add an extractor (filter bank, Riemannian tangent space...): write it in its own module,
then register its step class and a builder here with :func:`register_step` and
:func:`register_method` (builders receive the paradigm, the sampling rate and the channel
count and return fresh, unfitted steps).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bci.errors import BCIError
from bci.features.bandpower import BandPower
from bci.features.csp import CSP
from bci.features.filter_bank import FilterBankTangentSpace, build_filter_bank_riemann
from bci.features.scaler import StandardScaler
from bci.features.tangent_space import TangentSpace

Builder = Callable[[Any, float, int], list]

_STEP_TYPES: dict[str, type] = {}
_METHODS: dict[str, Builder] = {}


def register_step(cls: type) -> type:
    """Make a step class loadable from a model file under its ``kind`` name."""
    _STEP_TYPES[cls.kind] = cls
    return cls


def register_method(name: str, builder: Builder) -> None:
    """Make ``features.method = name`` build the steps ``builder(paradigm, sfreq, n_ch)``."""
    _METHODS[name] = builder


def available_methods() -> list[str]:
    """Names accepted in ``features.method``."""
    return sorted(_METHODS)


def build_steps(paradigm: Any, sfreq: float, n_channels: int) -> list:
    """Return fresh (unfitted) feature steps for ``paradigm.features.method``."""
    method = paradigm.features.method
    builder = _METHODS.get(method)
    if builder is None:
        raise BCIError(
            f"unknown features.method {method!r}; choose one of {', '.join(available_methods())}"
        )
    return builder(paradigm, sfreq, n_channels)


def step_from_state(meta: dict, arrays: dict[str, np.ndarray]) -> Any:
    """Rebuild a saved step from its ``(meta, arrays)``."""
    cls = _STEP_TYPES.get(meta.get("type")) if isinstance(meta, dict) else None
    if cls is None:
        raise BCIError(
            f"unknown feature step type {meta.get('type') if isinstance(meta, dict) else meta!r}; "
            f"known: {', '.join(sorted(_STEP_TYPES))}"
        )
    return cls.from_state(meta, arrays)


def welch_nperseg(paradigm: Any, sfreq: float) -> int:
    """Welch segment in samples: the same for epochs and online windows."""
    return max(2, round(paradigm.welch_segment_seconds() * float(sfreq)))


def _bandpower(paradigm: Any, sfreq: float, n_channels: int) -> list:
    f = paradigm.features
    return [
        BandPower(sfreq=sfreq, bands=f.bands, nperseg=welch_nperseg(paradigm, sfreq), log=f.log)
    ]


def _csp(paradigm: Any, sfreq: float, n_channels: int) -> list:
    f = paradigm.features
    return [CSP(n_components=min(f.csp_components, n_channels), reg=f.csp_reg, output="logvar")]


def _csp_bandpower(paradigm: Any, sfreq: float, n_channels: int) -> list:
    f = paradigm.features
    csp = CSP(n_components=min(f.csp_components, n_channels), reg=f.csp_reg, output="signals")
    return [csp, *_bandpower(paradigm, sfreq, n_channels)]


def _tangent_space(paradigm: Any, sfreq: float, n_channels: int) -> list:
    """``tangent_space`` (alias ``riemann``): one OAS tangent-space block on the epochs."""
    params = paradigm.features.params
    return [TangentSpace(**({"shrinkage": params["shrinkage"]} if "shrinkage" in params else {}))]


# FilterBankTangentSpace stays registered as a step type: besides the filter bank, it is
# what model files saved with ``method = "riemann"`` hold (one block, ``bands`` null).
for _cls in (BandPower, CSP, StandardScaler, TangentSpace, FilterBankTangentSpace):
    register_step(_cls)
register_method("bandpower", _bandpower)
register_method("csp", _csp)
register_method("csp+bandpower", _csp_bandpower)
register_method("tangent_space", _tangent_space)
# Alias: "riemann" used to build a one-block FilterBankTangentSpace, which computes the same
# features as TangentSpace with OAS; one implementation now serves both names.
register_method("riemann", _tangent_space)
register_method("filter_bank_riemann", build_filter_bank_riemann)
