"""One BLAS thread where work starts, even in a process that imported numpy first.

Each case runs in a fresh interpreter (the BLAS libraries read their thread count once,
when they load, so the test process itself cannot show it), with the thread variables
removed from its environment, and reads ``threadpoolctl.threadpool_info()`` there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bci.threads import THREAD_VARIABLES

TESTS = Path(__file__).resolve().parent

#: Prints the thread count of every BLAS library loaded, as JSON, under a label.
PRELUDE = """
import json, sys
from threadpoolctl import threadpool_info

def report(label):
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    print(json.dumps([label, sorted({i["filepath"]: i["num_threads"] for i in blas}.items())]))
"""

pytestmark = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="one core: BLAS runs one thread whatever we do"
)


def run_fresh(body: str, **env_extra: str) -> dict[str, list]:
    """Run ``body`` in a new interpreter; return what it reported, by label."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    env.update(env_extra)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    code = PRELUDE + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    reports = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")]
    return {label: dict(libs) for label, libs in reports}


def test_numpy_imported_first_then_the_limit_gives_one_thread_in_every_blas():
    got = run_fresh(
        """
        import numpy, scipy.linalg  # a notebook: numpy and scipy first
        report("before")
        from bci.threads import limit_blas_threads
        assert limit_blas_threads() is True
        report("after")
        """
    )
    assert got["before"], "no BLAS library loaded: nothing was tested"
    assert max(got["before"].values()) > 1, "BLAS already ran one thread before the limit"
    assert set(got["after"]) == set(got["before"])
    assert set(got["after"].values()) == {1}


def test_the_users_own_setting_wins():
    got = run_fresh(
        """
        import numpy
        from bci.threads import limit_blas_threads
        assert limit_blas_threads() is False
        import scipy.linalg  # loaded after: reads the user's variable, not ours
        report("after")
        """,
        OPENBLAS_NUM_THREADS="2",
    )
    assert set(got["after"].values()) == {2}


def test_the_bci_command_limits_a_blas_loaded_before_and_one_loaded_during_its_work(tmp_path):
    mne = pytest.importorskip("mne")
    import numpy as np

    raw = mne.io.RawArray(
        np.zeros((2, 256)), mne.create_info(["C3", "C4"], 128.0, "eeg"), verbose="ERROR"
    )
    path = tmp_path / "tiny_raw.fif"
    raw.save(path, verbose="ERROR")
    got = run_fresh(
        f"""
        import numpy  # loaded before the command: limited by threadpoolctl
        report("before")
        from bci.cli import main
        assert "scipy" not in sys.modules
        assert main(["info", {str(path)!r}]) == 0  # loads MNE, hence scipy's own OpenBLAS
        assert "scipy" in sys.modules
        report("after")
        """
    )
    assert max(got["before"].values()) > 1
    assert len(got["after"]) > len(got["before"]), "scipy's BLAS did not load during the work"
    assert set(got["after"].values()) == {1}


def test_a_live_session_started_in_a_process_that_imported_numpy_first_runs_one_thread():
    got = run_fresh(
        """
        import numpy
        from live_helpers import fitted_pipeline, simulated_replay
        from acquisition.array_source import ArraySource
        from bci.live_session import LiveSession

        pipeline = fitted_pipeline()
        report("before")
        session = LiveSession(ArraySource(simulated_replay(2.0)), pipeline)
        outputs = 0
        for _ in range(20):
            outputs += len(session.step().probabilities)
        assert outputs > 0, "the session classified nothing"
        report("during")
        session.close()
        """
    )
    assert max(got["before"].values()) > 1
    assert set(got["during"].values()) == {1}
