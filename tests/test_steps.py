"""Tests of bci.features.steps: the registry builds every method and reloads saved steps."""

from __future__ import annotations

import numpy as np
import pytest
from bci_synthetic import paradigm

from bci.errors import BCIError
from bci.features.filter_bank import FilterBankTangentSpace
from bci.features.steps import available_methods, build_steps, step_from_state
from bci.features.tangent_space import TangentSpace


def test_every_method_builds_steps_that_fit_transform_and_reload_by_kind():
    rng = np.random.default_rng(0)
    E = rng.standard_normal((12, 4, 500))
    y = np.repeat(["left", "right"], 6)
    for method in available_methods():
        steps = build_steps(paradigm(method, csp_components=2), 250.0, 4)
        Z = E
        for step in steps:
            Z = step.fit(Z, y).transform(Z)
        assert Z.ndim == 2 and Z.shape[0] == 12 and np.all(np.isfinite(Z)), method
        again = [step_from_state(*step.to_state()) for step in steps]
        Z2 = E
        for step in again:
            Z2 = step.transform(Z2)
        np.testing.assert_array_equal(Z2, Z)


def test_unknown_step_type_is_an_error_listing_the_known_ones():
    with pytest.raises(BCIError, match=r"unknown feature step type 'nope'.*tangent_space"):
        step_from_state({"type": "nope"}, {})


def test_riemann_is_an_alias_and_old_riemann_model_steps_still_load():
    for method in ("riemann", "tangent_space"):
        (step,) = build_steps(paradigm(method), 100.0, 4)
        assert type(step) is TangentSpace and step.shrinkage == "oas"
    E = np.random.default_rng(4).standard_normal((15, 4, 120))
    ts = TangentSpace().fit(E)
    # Model files saved before the alias hold a one-block filter-bank step for "riemann".
    old = step_from_state(*FilterBankTangentSpace(sfreq=100.0, bands=None).fit(E).to_state())
    assert isinstance(old, FilterBankTangentSpace)
    assert np.allclose(old.transform(E), ts.transform(E), atol=1e-10)
    assert np.array_equal(step_from_state(*ts.to_state()).transform(E), ts.transform(E))
