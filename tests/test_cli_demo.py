"""``bci demo --headless --seconds 30``, run as a user would, through the installed ``bci``.

The demo runs 30 s in real time and mostly waits, so it is a background test (conftest): it
is started when collection ends and checked last, after the rest of the suite.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from background_run import BackgroundRun

BCI = Path(sys.executable).with_name("bci")


def start_demo() -> BackgroundRun:
    env = dict(os.environ)
    for key in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(key, None)
    argv = [str(BCI), "demo", "--headless", "--seconds", "30", "--out-dir", "{folder}/out"]
    return BackgroundRun(argv, env)


@pytest.mark.lsl
@pytest.mark.slow
@pytest.mark.background(start=start_demo)
def test_headless_demo_exits_0_and_reports_a_live_accuracy(background: BackgroundRun) -> None:
    done = background.wait(timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for heading in ("1. Calibration", "2. Training", "3. Live classification", "Result"):
        assert heading in out
    assert len(re.findall(r"trial +\d+/10: cue", out)) == 10
    found = re.search(r"Live accuracy (\d+)% over (\d+) windows", out)
    assert found, out
    assert int(found.group(2)) > 0
    assert re.search(r"Cross-validated accuracy \d+%", out)
    folder = background.folder / "out"
    assert list(folder.glob("*.xdf")) and list(folder.glob("*.bci"))
    assert "Traceback" not in out + done.stderr
