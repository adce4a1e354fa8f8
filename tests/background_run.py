"""A real process started early and checked late (test helper for ``@pytest.mark.background``).

See conftest.py: a background test's process is started when collection ends, so its wall
time in real time overlaps the rest of the suite; the test runs last and waits for it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


class BackgroundRun:
    """A process whose stdout/stderr go to files in its own folder (no pipe can fill up).

    Parameters
    ----------
    argv : list of str
        The command; ``{folder}`` in an argument is replaced by the run's folder.
    env : dict, optional
        Its environment.
    """

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bci-test-background-"))
        self.argv = [a.replace("{folder}", str(self.folder)) for a in argv]
        with (
            open(self.folder / "stdout.txt", "w") as out,
            open(self.folder / "stderr.txt", "w") as err,
        ):
            self.proc = subprocess.Popen(
                self.argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, text=True, env=env
            )

    def poll(self) -> int | None:
        return self.proc.poll()

    def wait(self, timeout: float) -> subprocess.CompletedProcess:
        """Wait (bounded) for the end; the exit code and the captured output."""
        code = self.proc.wait(timeout=timeout)
        out = (self.folder / "stdout.txt").read_text()
        err = (self.folder / "stderr.txt").read_text()
        return subprocess.CompletedProcess(self.argv, code, out, err)

    def kill(self) -> None:
        """End the process if it still runs, and remove its folder."""
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
