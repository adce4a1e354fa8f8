"""Shared fixtures: the real recordings in ../shared/data, offscreen Qt, unique LSL names."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from bci.threads import limit_blas_threads

# Property-based tests are reproducible in CI: the "ci" profile derandomizes hypothesis (the
# examples are a fixed function of each test), so a run passes or fails the same way on
# every clone. `pytest --hypothesis-profile=long --timeout=0` (or BCI_HYPOTHESIS_PROFILE=long) runs a
# long randomised search on demand; BCI_HYPOTHESIS_EXAMPLES sets its number of examples.
settings.register_profile(
    "ci",
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("BCI_HYPOTHESIS_EXAMPLES", "5000")),
    derandomize=False,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("BCI_HYPOTHESIS_PROFILE", "ci"))

# Qt must never try to open a real display in tests; set before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The tests do the work of the program: one BLAS thread as in `bci` (a user's variable wins).
limit_blas_threads()

SHARED_DATA = Path(
    os.environ.get(
        "BCI_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the real recordings folder; skips the test (with the reason) when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real recordings not found at {SHARED_DATA} (set BCI_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def unique_name() -> str:
    """A stream name no other test (or concurrent test run) on this machine uses."""
    return f"bci-test-{uuid.uuid4().hex[:10]}"
