"""Ctrl-C and SIGTERM close the windows and end Qt's loop, without raising inside Qt.

Python runs a signal handler between two bytecodes of the main thread. While Qt's loop
runs, that is inside whatever Python slot or override happens to execute (a timer's
``tick``, a ``boundingRect``), and an exception raised there is printed by PySide and
swallowed: the session went on, and a second Ctrl-C left Qt half unwound and crashed it
(SIGSEGV). Qt's idle loop also runs no Python at all, so a handler might wait for the next
timer.

So while a window is open, :class:`CloseWindowsOnSignal` replaces the handlers with ones
that only note the signal. The C-level handler writes the signal number to a wake-up
socket (:func:`signal.set_wakeup_fd`), which wakes Qt's loop through a
:class:`QSocketNotifier`; its slot, in an ordinary Qt context, closes every top-level
window (their ``closeEvent`` finish what they record) and quits the loop. When the caller
leaves the ``with`` block (after its own cleanup), the previous handlers are restored and
the signal is delivered to them, in plain Python: Ctrl-C becomes the ``KeyboardInterrupt``
the command line turns into one line and exit code 130 (143 for SIGTERM).
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable, Iterable

from gui.qt import QtCore, QtWidgets, app

#: The signals that stop a window.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class CloseWindowsOnSignal:
    """While active, SIGINT/SIGTERM close every window and quit Qt's loop (see module).

    Parameters
    ----------
    signals : iterable of int
        Signals handled (default SIGINT and SIGTERM). A signal ignored by the parent
        process (``SIG_IGN``: ``nohup``, a background job) stays ignored.
    on_signal : callable or None
        Called as ``on_signal(signum)`` from the Qt loop before the windows close (e.g. to
        say what is being finished).
    deliver : bool
        On exit, deliver the signal that came to the handler that was there before (True)
        or only remember it in :attr:`signum` (False).

    Attributes
    ----------
    signum : int or None
        The first stop signal received, None when none came.
    """

    def __init__(
        self,
        signals: Iterable[int] = STOP_SIGNALS,
        *,
        on_signal: Callable[[int], None] | None = None,
        deliver: bool = True,
    ) -> None:
        self.signals = tuple(signals)
        self.on_signal = on_signal
        self.deliver = deliver
        self.signum: int | None = None
        self._previous: dict[int, object] = {}
        self._previous_fd = -1
        self._pair: tuple[socket.socket, socket.socket] | None = None
        self._notifier: QtCore.QSocketNotifier | None = None
        self._closing = False

    # ------------------------------------------------------------------ context
    def __enter__(self) -> CloseWindowsOnSignal:
        app()
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        self._pair = (reader, writer)
        self._previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        for signum in self.signals:
            if signal.getsignal(signum) is signal.SIG_IGN:
                continue
            self._previous[signum] = signal.signal(signum, self._note)
        self._notifier = QtCore.QSocketNotifier(reader.fileno(), QtCore.QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._wake)
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        # Read what is still in the socket: a signal that came after the loop ended.
        self._drain()
        signal.set_wakeup_fd(self._previous_fd)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        if self._pair is not None:
            for sock in self._pair:
                sock.close()
            self._pair = None
        if self.deliver and self.signum is not None and exc_type is None:
            # Now in plain Python: the previous handler raises or stops as it would have.
            signal.raise_signal(self.signum)

    # ------------------------------------------------------------------ handlers
    def _note(self, signum: int, frame: object) -> None:
        # Runs inside whatever Qt was doing: note only, never raise, never touch Qt.
        if self.signum is None:
            self.signum = signum

    def _drain(self) -> None:
        if self._pair is None:
            return
        while True:
            try:
                data = self._pair[0].recv(64)
            except (BlockingIOError, InterruptedError):
                return
            if not data:
                return
            for signum in data:
                if signum in self.signals and self.signum is None:
                    self.signum = signum

    def _wake(self) -> None:
        self._drain()
        if self.signum is None or self._closing:
            return
        self._closing = True
        if self.on_signal is not None:
            self.on_signal(self.signum)
        for widget in QtWidgets.QApplication.topLevelWidgets():
            if widget.isVisible():
                widget.close()
        app().quit()


__all__ = ["STOP_SIGNALS", "CloseWindowsOnSignal"]
