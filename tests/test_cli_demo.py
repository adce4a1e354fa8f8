"""``bci demo --headless --seconds 30``, run as a user would, through the installed ``bci``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bci.demo import LiveAccuracy, plan_demo

BCI = Path(sys.executable).with_name("bci")


@pytest.mark.lsl
@pytest.mark.slow
def test_headless_demo_exits_0_and_reports_a_live_accuracy(tmp_path: Path) -> None:
    env = dict(os.environ)
    for key in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(key, None)
    done = subprocess.run(
        [str(BCI), "demo", "--headless", "--seconds", "30", "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for heading in ("1. Calibration", "2. Training", "3. Live classification", "Result"):
        assert heading in out
    assert len(re.findall(r"trial +\d+/10: cue", out)) == 10
    found = re.search(r"Live accuracy (\d+)% over (\d+) windows", out)
    assert found, out
    assert int(found.group(2)) > 0
    assert re.search(r"Cross-validated accuracy \d+%", out)
    assert list(tmp_path.glob("*.xdf")) and list(tmp_path.glob("*.bci"))
    assert "Traceback" not in out + done.stderr


def test_demo_plan_fits_the_budget_and_keeps_five_trials_per_class() -> None:
    short, default = plan_demo(30), plan_demo(90)
    assert short.classes == ("left", "right") and short.trials_per_class >= 5
    assert len(default.classes) == 3 and default.trials_per_class >= 5
    for plan, seconds in ((short, 30), (default, 90)):
        assert plan.calibration_seconds < seconds - 9
        ep = plan.paradigm.epochs
        assert ep.tmax <= plan.timings.cue + plan.timings.task + 1e-9
        assert plan.paradigm.online.window <= ep.tmax - ep.tmin + 1e-9
    assert default.timings.task > short.timings.task


def test_live_accuracy_scores_only_windows_inside_one_task() -> None:
    acc = LiveAccuracy(("left", "right"), window=1.0)
    acc.add_markers([0.0, 5.0, 10.0], ["left", "rest", "right"])
    times = [0.5, 2.0, 4.0, 5.5, 7.0, 11.5, 12.0]
    probas = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.6, 0.4]]
    acc.add_outputs(times, probas)
    acc.score_until(100.0)
    # 0.5 and 5.5 straddle a change; 7.0 is rest; the rest are scored.
    assert acc.scored == [
        ("left", "left"),
        ("left", "right"),
        ("right", "right"),
        ("right", "left"),
    ]
    assert acc.accuracy == 0.5
    assert acc.per_class() == {"left": 0.5, "right": 0.5}
