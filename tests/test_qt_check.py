"""Qt that cannot start is one sentence, not an abort (issue 9.2).

The probe really starts Qt in a child process: on the xcb platform with a display where no
X server listens, and with a broken ``libxcb-cursor.so.0`` placed first on the library
path (an empty file: the dynamic loader refuses it as Qt's xcb plugin loads), which is
what Qt prints on a machine without the package.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bci.commands.qt_check import DESKTOP_PACKAGES, explain, install_hint, qt_problem

BCI = Path(sys.executable).with_name("bci")


def _free_display() -> str:
    for n in range(93, 120):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return f":{n}"
    pytest.skip("no free X display number to point at")


@pytest.fixture
def no_x_server(monkeypatch) -> str:
    display = _free_display()
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", display)
    return display


def test_offscreen_qt_starts() -> None:
    assert os.environ["QT_QPA_PLATFORM"] == "offscreen"  # conftest
    assert qt_problem() is None


def test_a_display_without_an_x_server_is_named(no_x_server: str) -> None:
    problem = qt_problem()
    assert problem is not None and no_x_server in problem and "\n" not in problem


def test_a_broken_xcb_library_is_named_with_its_package(no_x_server: str, tmp_path, monkeypatch):
    (tmp_path / "libxcb-cursor.so.0").write_bytes(b"")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
    problem = qt_problem()
    assert problem is not None and "\n" not in problem
    assert "libxcb-cursor.so.0" in problem
    assert "sudo apt install libxcb-cursor0 " in problem  # the missing one first
    assert all(package in problem for package in DESKTOP_PACKAGES)


def test_the_message_for_a_missing_library_as_qt_prints_it() -> None:
    # Qt 6.5+ with QT_DEBUG_PLUGINS=1 on a machine without libxcb-cursor0.
    output = (
        'qt.core.library: "/x/plugins/platforms/libqxcb.so" cannot load: Cannot load library '
        "/x/plugins/platforms/libqxcb.so: libxcb-cursor.so.0: cannot open shared object file: "
        "No such file or directory\n"
        'qt.qpa.plugin: Could not load the Qt platform plugin "xcb" in "" even though it was found.'
    )
    text = explain(output, 134)
    assert "libxcb-cursor.so.0 (cannot open shared object file" in text
    assert install_hint("libxcb-cursor.so.0") in text


def test_no_display_at_all(monkeypatch) -> None:
    for key in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(key, raising=False)
    assert qt_problem() == "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"


@pytest.mark.slow
def test_live_without_a_working_display_exits_2_with_the_headless_hint(no_x_server, tmp_path):
    done = subprocess.run(
        [str(BCI), "live", "--model", str(tmp_path / "m.bci"), "--stream", "x"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("bci live: error: cannot open the live window: Qt cannot connect")
    assert lines[0].endswith("or run with --headless")
