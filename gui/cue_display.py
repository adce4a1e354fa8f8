"""The stimulus area of a calibration session: fixation cross, cue, imagery, rest, SSVEP."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

from gui.qt import QtCore, QtGui, QtWidgets

#: Arrow drawn at the cue of well-known motor-imagery classes (else the class name).
ARROWS = {
    "left": "←",
    "right": "→",
    "feet": "↓",
    "foot": "↓",
    "tongue": "↑",
    "up": "↑",
    "down": "↓",
}


class CueDisplay(QtWidgets.QWidget):
    """Draws what the participant should see in the current phase.

    Parameters
    ----------
    classes : sequence of str
        Class names (SSVEP targets are laid out in this order).
    frequencies : mapping of str to float, optional
        SSVEP flicker frequency of each class; when given the display is an SSVEP one.
    """

    def __init__(
        self,
        classes: Sequence[str],
        frequencies: Mapping[str, float] | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.classes = tuple(classes)
        self.frequencies = dict(frequencies or {})
        self.phase = "idle"
        self.label: str | None = None
        self.message = "Get ready"
        self.setMinimumSize(480, 320)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor("#000000"))
        self.setPalette(palette)

    @property
    def ssvep(self) -> bool:
        """True when the display shows flickering SSVEP targets."""
        return bool(self.frequencies)

    def set_phase(self, phase: str, label: str | None, message: str = "") -> None:
        """Show ``phase`` (idle, fixation, cue, task, rest, paused, done) of class ``label``."""
        changed = (phase, label, message) != (self.phase, self.label, self.message)
        self.phase, self.label, self.message = phase, label, message
        if changed or (self.ssvep and phase in ("cue", "task")):
            self.update()

    def cue_text(self) -> str:
        """What the cue shows for the current class (an arrow or the class name)."""
        if self.label is None:
            return ""
        return ARROWS.get(self.label.lower(), self.label)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        rect = self.rect()
        painter.fillRect(rect, QtGui.QColor("#000000"))
        if self.ssvep:
            self._paint_ssvep(painter, rect)
        elif self.phase in ("fixation", "cue", "task"):
            self._paint_cross(painter, rect)
            if self.phase == "cue":
                self._paint_text(painter, rect, self.cue_text(), 0.32, "#ffd34d", bold=True)
        if self.phase in ("idle", "rest", "paused", "done") or self.message:
            text = self.message or {"rest": "rest", "paused": "Paused", "done": "Done"}.get(
                self.phase, ""
            )
            self._paint_text(painter, rect, text, 0.06, "#9aa0aa", dy=0.38)
        if self.phase == "task" and self.label and not self.ssvep:
            self._paint_text(painter, rect, f"imagine: {self.label}", 0.05, "#666b75", dy=0.30)
        painter.end()

    def _paint_cross(self, painter: QtGui.QPainter, rect: QtCore.QRect) -> None:
        size = min(rect.width(), rect.height()) * 0.12
        c = rect.center()
        pen = QtGui.QPen(QtGui.QColor("#ffffff"), max(3.0, size / 10))
        painter.setPen(pen)
        painter.drawLine(QtCore.QPointF(c.x() - size, c.y()), QtCore.QPointF(c.x() + size, c.y()))
        painter.drawLine(QtCore.QPointF(c.x(), c.y() - size), QtCore.QPointF(c.x(), c.y() + size))

    def _paint_text(
        self,
        painter: QtGui.QPainter,
        rect: QtCore.QRect,
        text: str,
        size: float,
        color: str,
        *,
        dy: float = 0.0,
        bold: bool = False,
    ) -> None:
        if not text:
            return
        font = painter.font()
        font.setPixelSize(max(10, int(min(rect.width(), rect.height()) * size)))
        font.setBold(bold)
        painter.setFont(font)
        painter.setPen(QtGui.QColor(color))
        box = QtCore.QRectF(rect).translated(0, rect.height() * dy)
        painter.drawText(box, QtCore.Qt.AlignmentFlag.AlignCenter, text)

    def _paint_ssvep(self, painter: QtGui.QPainter, rect: QtCore.QRect) -> None:
        n = len(self.classes)
        side = min(rect.width() / (n + 1), rect.height() * 0.45)
        gap = (rect.width() - n * side) / (n + 1)
        now = time.monotonic()
        for i, cls in enumerate(self.classes):
            x = rect.left() + gap + i * (side + gap)
            y = rect.center().y() - side / 2
            box = QtCore.QRectF(x, y, side, side)
            freq = float(self.frequencies.get(cls, 0.0))
            on = True
            if self.phase == "task" and freq > 0:
                on = math.sin(2 * math.pi * freq * now) >= 0
            painter.fillRect(box, QtGui.QColor("#ffffff" if on else "#202020"))
            if self.phase == "cue" and cls == self.label:
                painter.setPen(QtGui.QPen(QtGui.QColor("#ffd34d"), 8))
                painter.drawRect(box.adjusted(-10, -10, 10, 10))
            painter.setPen(QtGui.QColor("#9aa0aa"))
            font = painter.font()
            font.setPixelSize(max(10, int(side * 0.12)))
            painter.setFont(font)
            painter.drawText(
                QtCore.QRectF(x, y + side + 8, side, side * 0.2),
                QtCore.Qt.AlignmentFlag.AlignCenter,
                f"{cls} ({freq:g} Hz)" if freq else cls,
            )
