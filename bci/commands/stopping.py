"""How every command stops on Ctrl-C (SIGINT) and SIGTERM: one line, exit 128 + signal.

Not a command itself (it has no ``register``); the standard library only.

:func:`install` (called by :func:`bci.cli.main` before a command runs) makes both
signals raise :class:`Stopped`, a ``KeyboardInterrupt`` that knows which signal came, so a
service manager's SIGTERM ends a command exactly as Ctrl-C does (before, SIGTERM killed
``live`` and ``replay`` with no closing line, exit -15). A command whose loop must finish
something first (close an XDF file) polls :func:`stop_flag` instead, and a window uses
``gui.interrupt.CloseWindowsOnSignal``, which hands the signal back here once the windows
are closed. A signal the parent process ignores (``nohup``, a background job) stays
ignored.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

#: The signals that stop a command.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM arrived: the command stops.

    Parameters
    ----------
    signum : int
        The signal (``signal.SIGINT`` or ``signal.SIGTERM``).
    note : str
        What the user should know (e.g. where the recording so far is), added to the
        closing line.
    """

    def __init__(self, signum: int = signal.SIGINT, note: str = "") -> None:
        super().__init__(note)
        self.signum = int(signum)
        self.note = note


#: Whether a stop signal has been turned into :class:`Stopped` since :func:`install`.
_stopping = False


def _raise_stopped(signum: int, frame: object) -> None:
    global _stopping
    if _stopping:
        # A second Ctrl-C while the first one winds the command down (closing an XDF,
        # tearing Qt down) must not raise again in the middle of that: it is only noted.
        return
    _stopping = True
    raise Stopped(signum)


def install() -> dict[int, object]:
    """Make SIGINT and SIGTERM raise :class:`Stopped` (ignored signals stay ignored).

    Returns the handlers replaced, for :func:`restore`.
    """
    global _stopping
    _stopping = False
    previous = {}
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, _raise_stopped)
    return previous


def restore(previous: dict[int, object]) -> None:
    """Put back the handlers :func:`install` or :func:`stop_flag` replaced.

    After a stop the command is ending: further signals stay ignored rather than raise
    ``KeyboardInterrupt`` during the interpreter's teardown.
    """
    for signum, handler in previous.items():
        if handler is not None:
            signal.signal(signum, signal.SIG_IGN if _stopping else handler)


def signal_of(exc: KeyboardInterrupt) -> int:
    """The signal behind ``exc`` (SIGINT for a plain ``KeyboardInterrupt``)."""
    return getattr(exc, "signum", signal.SIGINT)


def exit_code(exc: KeyboardInterrupt) -> int:
    """128 + the signal number: 130 for Ctrl-C, 143 for SIGTERM (the shell's convention)."""
    return 128 + signal_of(exc)


def closing_line(command: str, exc: KeyboardInterrupt) -> str:
    """The one line a stopped command prints, e.g. ``bci live: interrupted (Ctrl-C)``."""
    signum = signal_of(exc)
    what = "interrupted (Ctrl-C)" if signum == signal.SIGINT else f"stopped by {_name(signum)}"
    note = getattr(exc, "note", "") or ""
    prefix = f"bci {command}" if command else "bci"
    return f"{prefix}: {what}" + (f"; {note}" if note else "")


def _name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def stop_flag() -> Callable[[], int | None]:
    """Make SIGINT and SIGTERM only note that a stop was asked; return who asked.

    For loops that must finish something after the signal (a recorder closing its file):
    they poll the returned function, which gives the signal number once one came (None
    before), and end their loop cleanly. Further signals while finishing are only noted.
    """
    came: dict[str, int | None] = {"signum": None}

    def handler(signum: int, frame: object) -> None:
        global _stopping
        _stopping = True  # the command is ending: see restore
        if came["signum"] is None:
            came["signum"] = signum

    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, handler)
    return lambda: came["signum"]


__all__ = [
    "STOP_SIGNALS",
    "Stopped",
    "closing_line",
    "exit_code",
    "install",
    "restore",
    "signal_of",
    "stop_flag",
]
