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
