"""SIGKILL of ``bci record`` and ``bci calibrate`` (issue 6 item 2), a few trials each.

The full 20 trials per program are ``benchmarks/bench_crash_safety.py``; this runs the same
trial three times per program at seeded random moments and asserts: every file opens with
our file source and with pyxdf, the counter channel is contiguous, and at most the last
second before the kill is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_crash_safety import SFREQ, kill_trial

pytestmark = [pytest.mark.lsl, pytest.mark.slow]


@pytest.mark.parametrize("kind", ["record", "calibrate"])
def test_sigkill_at_random_moments_loses_at_most_the_last_second(kind, tmp_path):
    rng = np.random.default_rng(11 if kind == "record" else 12)
    for trial in range(3):
        r = kill_trial(kind, float(rng.uniform(0.2, 3.0)), tmp_path)
        where = f"{kind} trial {trial}: {r}"
        assert r["opens"], where
        assert r["contiguous"] and r["file_source_agrees"], where
        assert r["in_file"] > 0, where
        assert r["lost_samples"] <= SFREQ, where  # at most the last second
