"""A button that presses itself after a countdown shown on it ("Go live (8 s)")."""

from __future__ import annotations

import math
import time

from gui.qt import QtCore, QtWidgets


class CountdownButton(QtWidgets.QPushButton):
    """A push button; :meth:`start_countdown` makes it press itself after ``seconds``.

    The remaining whole seconds are shown in its text (``"Go live (7 s)"``), so a person
    sees how long the screen stays and can press it earlier.

    Parameters
    ----------
    text : str
        The button's text without the countdown.

    Attributes
    ----------
    fired : Signal
        Emitted once, when pressed or when the countdown ends (connect the action to it:
        a Qt connection, not a Python reference that would tie the window in a cycle).
    """

    fired = QtCore.Signal()

    def __init__(self, text: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.base_text = text
        self._deadline: float | None = None
        self._pressed = False
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._tick)
        self.clicked.connect(self.press)

    def start_countdown(self, seconds: float) -> None:
        """Press the button by itself ``seconds`` from now, counting down on it."""
        self._deadline = time.monotonic() + float(seconds)
        self._timer.start()
        self._tick()

    @property
    def remaining(self) -> float | None:
        """Seconds left before it presses itself (None without a countdown)."""
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - time.monotonic())

    def press(self) -> None:
        """Stop the countdown and emit :attr:`fired` (once)."""
        self._timer.stop()
        self._deadline = None
        if self._pressed:
            return
        self._pressed = True
        self.setEnabled(False)
        self.fired.emit()

    def _tick(self) -> None:
        left = self.remaining
        if left is None:
            return
        if left <= 0:
            self.press()
            return
        self.setText(f"{self.base_text} ({math.ceil(left)} s)")


__all__ = ["CountdownButton"]
