"""``bci demo --headless --seconds 30``, run as a user would, through the installed ``bci``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
