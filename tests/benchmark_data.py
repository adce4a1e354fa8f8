"""Small, fast benchmark datasets built from the real SSVEP-exo recordings (links, no copies).

Each subject folder links one session (the ``_raw.fif`` and its ``-eve.fif`` sibling) of
a real SSVEP-exo subject (Kalunga et al., Neurocomputing 2016, CC0): 32 epochs, 4
classes, 8 channels at 256 Hz, so a task takes well under a second.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

from bci.benchmark_results import RUN_COLUMNS

#: Two pipelines: the shipped SSVEP paradigm, and band power on its bands.
PIPELINES = """
[[pipelines]]
name = "fb-riemann"
paradigm = "ssvep_exo"
[[pipelines]]
name = "bandpower"
paradigm = "ssvep_exo"
overrides = { features.method = "bandpower" }
"""


def link_session(shared: Path, subject: int, session: int, folder: Path) -> Path:
    """Link session ``session`` (0 or 1) of SSVEP-exo ``subject`` into ``folder``."""
    src = shared / "ssvep-exo" / f"subject{subject:02d}"
    raw = sorted(src.glob("*_raw.fif"))[session]
    eve = raw.with_name(raw.name.replace("_raw.fif", "-eve.fif"))
    folder.mkdir(parents=True, exist_ok=True)
    for f in (raw, eve):
        (folder / f.name).symlink_to(f)
    return folder


def make_dataset(
    shared: Path, root: Path, subjects: tuple[int, ...] = (1, 2), sessions: tuple[int, ...] = (0,)
) -> Path:
    """Folders ``root/s01``, ``root/s02``, ... each with the given sessions of a subject."""
    for s in subjects:
        for k in sessions:
            link_session(shared, s, k, root / f"s{s:02d}")
    return root


def add_corrupt_subject(root: Path, name: str = "s99") -> Path:
    """A subject whose only recording is a FIF file cut short (a real failure to read)."""
    folder = root / name
    folder.mkdir(parents=True)
    good = next(p for p in sorted(root.glob("s*/*_raw.fif")))
    (folder / "broken_raw.fif").write_bytes(good.read_bytes()[:5000])
    return folder


def write_spec(path: Path, subjects_glob: str, *, cv: int = 4, pipelines: str = PIPELINES) -> Path:
    """A benchmark file over ``subjects_glob`` (relative to ``path``'s folder)."""
    path.write_text(
        f'[dataset]\nname = "ssvep-exo (test)"\nsubjects = "{subjects_glob}"\n'
        f"[evaluation]\ncv = {cv}\nseed = 7\n{pipelines}",
        encoding="utf-8",
    )
    return path


def read_rows(path: Path, *, drop_run_columns: bool = True) -> list[dict]:
    """results.csv rows, without the columns that depend on where and when tasks ran."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if drop_run_columns:
        for r in rows:
            for c in RUN_COLUMNS:
                r.pop(c)
    return rows


def bci_command(*args: str) -> list[str]:
    """``bci ARGS`` run with this interpreter (the project's environment)."""
    return [sys.executable, "-m", "bci", *args]


def start_bci(*args: str, **kwargs) -> subprocess.Popen:
    """Start ``bci ARGS`` as a real subprocess (output captured)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        bci_command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )


def wait_for(condition, timeout: float, what: str, interval: float = 0.02):
    """Poll ``condition()`` until it returns a truthy value; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def task_files(out: Path) -> list[Path]:
    """The finished tasks' checkpoint files in ``out``."""
    return sorted((out / "tasks").glob("*.json"))
