"""Shared fixtures: the real recordings in ../shared/data, offscreen Qt, unique LSL names,
one shared ``bci record`` run."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
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


@dataclass(frozen=True)
class RecordRun:
    """One finished ``bci record`` subprocess: its answer, its file and the stream's name."""

    done: subprocess.CompletedProcess
    out: Path
    name: str


@pytest.fixture(scope="session")
def bci_record_run(tmp_path_factory) -> RecordRun:
    """One real ``bci record --seconds 1.5`` of a counter stream and its markers, shared.

    Any recording costs ~6.7 s of wall time to stop (LabRecorder's clock-offset thread ends
    in 5 s cycles), so the tests of what one run writes and prints (test_recorder,
    test_record_checks, test_cli_status) read this single run. EEG: 3 channels of noise
    and a ``counter`` channel at 100 Hz, with a marker stream, replayed in real time.
    """
    import numpy as np

    from acquisition import ArraySource, Recording, SourceInfo
    from acquisition.player import Player

    n = 3000
    rng = np.random.default_rng(3)
    data = np.vstack([rng.normal(0, 20e-6, (3, n)), np.arange(n)[None]])
    info = SourceInfo(
        "rec",
        ("C3", "Cz", "C4", "counter"),
        ("eeg",) * 3 + ("misc",),
        100.0,
        ("V",) * 3 + ("count",),
    )
    rec = Recording(
        data, info, marker_samples=np.array([10, 60, 120]), marker_labels=["a", "b", "a"]
    )
    name = f"bci-test-{uuid.uuid4().hex[:10]}"
    out = tmp_path_factory.mktemp("record") / "run.xdf"
    bci = Path(sys.executable).with_name("bci")
    with Player(ArraySource(rec), name=name, speed=1.0):
        done = subprocess.run(
            [str(bci), "record", "--stream", name, "--out", str(out), "--seconds", "1.5"],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ),
        )
    return RecordRun(done, out, name)


# --------------------------------------------------------------------- background runs
# A test marked ``@pytest.mark.background(start=FUNCTION)`` checks a real process that
# mostly waits in real time (the 30 s headless demo, a 4 s board recording). FUNCTION()
# starts that process when collection ends and returns a background_run.BackgroundRun; the
# test runs last and gets it from the ``background`` fixture, so the process runs while the
# rest of the suite does instead of adding its wall time.
_BACKGROUND = pytest.StashKey[dict]()


def pytest_collection_modifyitems(config, items) -> None:
    late = [item for item in items if item.get_closest_marker("background")]
    items[:] = [item for item in items if not item.get_closest_marker("background")] + late


def pytest_collection_finish(session) -> None:
    started: dict = {}
    session.config.stash[_BACKGROUND] = started
    if session.config.option.collectonly:
        return
    for item in session.items:
        marker = item.get_closest_marker("background")
        if marker is not None:
            started[item.nodeid] = marker.kwargs["start"]()


def pytest_sessionfinish(session) -> None:
    for handle in session.config.stash.get(_BACKGROUND, {}).values():
        handle.kill()  # ends it if its test did not run or failed early; removes its files


@pytest.fixture
def background(request):
    """The handle of this test's background process (started now if it was not yet)."""
    started = request.config.stash.get(_BACKGROUND, {})
    if request.node.nodeid not in started:
        started[request.node.nodeid] = request.node.get_closest_marker("background").kwargs[
            "start"
        ]()
    return started[request.node.nodeid]
