"""``bci demo --headless --seconds 30``, run as a user would, through the installed ``bci``.

The demo runs 30 s in real time and mostly waits, so it is a background test (conftest): it
is started when collection ends and checked last, after the rest of the suite.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

BCI = Path(sys.executable).with_name("bci")


@dataclass
class DemoRun:
    """The demo's process, the folder it writes to and its captured output files."""

    proc: subprocess.Popen
    folder: Path

    def poll(self) -> int | None:
        return self.proc.poll()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def wait(self, timeout: float) -> tuple[int, str, str]:
        code = self.proc.wait(timeout=timeout)
        out = (self.folder / "stdout.txt").read_text()
        err = (self.folder / "stderr.txt").read_text()
        return code, out, err


def start_demo() -> DemoRun:
    folder = Path(tempfile.mkdtemp(prefix="bci-test-demo-"))
    (folder / "out").mkdir()
    env = dict(os.environ)
    for key in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(key, None)
    with open(folder / "stdout.txt", "w") as out, open(folder / "stderr.txt", "w") as err:
        proc = subprocess.Popen(
            [str(BCI), "demo", "--headless", "--seconds", "30", "--out-dir", str(folder / "out")],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
    return DemoRun(proc, folder)


@pytest.mark.lsl
@pytest.mark.slow
@pytest.mark.background(start=start_demo)
def test_headless_demo_exits_0_and_reports_a_live_accuracy(background: DemoRun) -> None:
    try:
        code, out, err = background.wait(timeout=120)
        assert code == 0, out + err
        for heading in ("1. Calibration", "2. Training", "3. Live classification", "Result"):
            assert heading in out
        assert len(re.findall(r"trial +\d+/10: cue", out)) == 10
        found = re.search(r"Live accuracy (\d+)% over (\d+) windows", out)
        assert found, out
        assert int(found.group(2)) > 0
        assert re.search(r"Cross-validated accuracy \d+%", out)
        folder = background.folder / "out"
        assert list(folder.glob("*.xdf")) and list(folder.glob("*.bci"))
        assert "Traceback" not in out + err
    finally:
        background.kill()
