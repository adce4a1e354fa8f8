"""Whether the command line may open a window (asked before anything imports Qt).

Not a command itself (it has no ``register``); the standard library only.
"""

from __future__ import annotations

import os


def display_available() -> bool:
    """True when a window can be opened: a display server, or Qt's offscreen platform."""
    if os.environ.get("QT_QPA_PLATFORM", "") == "offscreen":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def window_problem() -> str | None:
    """None when a window can open here, else one sentence saying why not.

    Asks Qt itself in a child process (:func:`bci.commands.qt_check.qt_problem`): a Qt
    that cannot start aborts its process, which must not be this one.
    """
    from bci.commands.qt_check import qt_problem

    return qt_problem()
