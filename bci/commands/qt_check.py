"""Can Qt open a window here? Asked in a child process before this one imports Qt.

Not a command itself (it has no ``register``); the standard library only.

When Qt's platform plugin cannot start (no display server, or a system library of the
xcb plugin missing, e.g. ``libxcb-cursor0`` since Qt 6.5), Qt aborts the whole process
(SIGABRT, exit 134) and says why only with ``QT_DEBUG_PLUGINS=1``. So
:func:`qt_problem` starts a ``QApplication`` in a short-lived child with that variable
set, and turns its output into one sentence naming the missing library and the packages
to install. The child costs about a second, paid only when a window is about to open.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

#: System packages the Qt xcb platform plugin needs on Debian/Ubuntu (README lists them).
DESKTOP_PACKAGES = (
    "libxcb-cursor0",
    "libxkbcommon-x11-0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxcb-xinerama0",
    "libxcb-xkb1",
    "libxcb-shape0",
    "libegl1",
)

#: A shared library Qt reported missing -> the Debian/Ubuntu package that has it.
_PACKAGE_OF = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}

_PROBE = (
    "import sys\n"
    "from PySide6.QtWidgets import QApplication\n"
    "app = QApplication(sys.argv[:1])\n"
    "print('qt-ok', app.platformName(), flush=True)\n"
)

_MISSING = re.compile(r"Cannot load library [^:]+: (?:[^:\s]*/)?([^/:\s]+\.so[.\w]*): ([^\"\n]+)")
_NO_DISPLAY = re.compile(r"could not connect to display ?([^\s\"]*)")


def install_hint(library: str | None = None) -> str:
    """``sudo apt install ...`` for the desktop packages (the missing one first)."""
    packages = list(DESKTOP_PACKAGES)
    first = _PACKAGE_OF.get(library or "")
    if first:
        packages = [first] + [p for p in packages if p != first]
    return "sudo apt install " + " ".join(packages)


def explain(output: str, returncode: int) -> str:
    """One sentence from a failed probe's output (what Qt printed with QT_DEBUG_PLUGINS)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "") or "the default"
    missing = _MISSING.search(output)
    if missing:
        library, why = missing.group(1), missing.group(2).strip()
        return (
            f"Qt cannot load its {platform!r} platform plugin: {library} ({why}); install the "
            f"desktop libraries ({install_hint(library)})"
        )
    display = _NO_DISPLAY.search(output)
    if display:
        where = display.group(1) or os.environ.get("DISPLAY", "")
        return f"Qt cannot connect to the display {where!r} (is an X server running there?)"
    if "xcb-cursor0" in output:
        return (
            f"Qt's xcb platform plugin cannot start; install {install_hint('libxcb-cursor.so.0')}"
        )
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    last = next(
        (line for line in reversed(lines) if "qt.core.plugin" not in line),
        f"exit code {returncode}",
    )
    return f"Qt cannot start a window ({last})"


def qt_problem(timeout: float = 20.0) -> str | None:
    """None when Qt can open a window here, else one sentence saying why it cannot."""
    if os.environ.get("QT_QPA_PLATFORM", "") != "offscreen" and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    env = dict(os.environ, QT_DEBUG_PLUGINS="1")
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE],
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"Qt did not start a window within {timeout:g} s"
    except OSError as exc:
        return f"cannot run the Qt check: {exc}"
    if done.returncode == 0 and "qt-ok" in done.stdout:
        return None
    return explain(done.stdout + "\n" + done.stderr, done.returncode)


__all__ = ["DESKTOP_PACKAGES", "explain", "install_hint", "qt_problem"]
