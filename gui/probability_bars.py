"""A bar per class: height = probability, name and percentage, the winner highlighted."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gui.qt import QtCore, QtGui, class_color, pg


class PaintedPlotWidget(pg.PlotWidget):
    """A PlotWidget that tells when it has been painted (for sample-to-screen latency)."""

    painted = QtCore.Signal()

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:
        super().paintEvent(ev)
        self.painted.emit()


class ProbabilityBars(PaintedPlotWidget):
    """Bars of the current class probabilities.

    Parameters
    ----------
    classes : sequence of str
        Class names, in probability-column order.
    """

    def __init__(self, classes: Sequence[str], parent: object = None) -> None:
        super().__init__(parent)
        self.classes = tuple(str(c) for c in classes)
        n = len(self.classes)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setYRange(0, 1.12, padding=0)
        self.setXRange(-0.6, n - 0.4, padding=0)
        self.getAxis("left").setLabel("probability")
        self.getAxis("bottom").setTicks([list(enumerate(self.classes))])
        # No grid: axis grids repaint across the plot every frame (the main cost at 60 fps).
        self._x = np.arange(n, dtype=float)
        self._heights = np.zeros(n)
        self._colors = [pg.mkColor(class_color(i)) for i in range(n)]
        self._dim = [pg.mkColor(c.red(), c.green(), c.blue(), 110) for c in self._colors]
        self._bars = pg.BarGraphItem(x=self._x, height=self._heights, width=0.7, brushes=self._dim)
        self.addItem(self._bars)
        self._chance = pg.InfiniteLine(
            pos=1.0 / max(n, 1), angle=0, pen=pg.mkPen("#888", style=QtCore.Qt.PenStyle.DashLine)
        )
        self.addItem(self._chance)
        self._texts = []
        for i in range(n):
            text = pg.TextItem("", color="#eeeeee", anchor=(0.5, 1.0))
            text.setPos(i, 0.0)
            self.addItem(text)
            self._texts.append(text)
        self._winner = -1
        self._no_data = pg.TextItem("", color="#f0c674", anchor=(0.5, 0.5))
        self._no_data.setPos((n - 1) / 2.0, 0.55)
        self.addItem(self._no_data)

    def set_no_data(self, text: str = "no data") -> None:
        """Drop the bars and say ``text`` instead (the stream stalled or was lost).

        The last probabilities stay on screen otherwise, as if they were current.
        """
        n = len(self.classes)
        self._heights[:] = 0.0
        self._bars.setOpts(
            height=self._heights.copy(), brushes=self._dim, pens=[pg.mkPen(None)] * n
        )
        for t in self._texts:
            t.setText("")
        self._winner = -1
        self._no_data.setText(text)

    @property
    def no_data(self) -> str:
        """The "no data" text shown instead of bars ("" while probabilities are shown)."""
        return self._no_data.toPlainText()

    def set_probabilities(self, probabilities: np.ndarray) -> None:
        """Show ``probabilities`` (n_classes,)."""
        p = np.nan_to_num(np.asarray(probabilities, dtype=float).reshape(-1), nan=0.0)
        if self._no_data.toPlainText():
            self._no_data.setText("")
        self._heights[:] = np.clip(p, 0.0, 1.0)
        winner = int(np.argmax(self._heights)) if self._heights.size else -1
        brushes = [self._colors[i] if i == winner else self._dim[i] for i in range(len(p))]
        pens = [
            pg.mkPen("#ffffff", width=2) if i == winner else pg.mkPen(None) for i in range(len(p))
        ]
        self._bars.setOpts(height=self._heights.copy(), brushes=brushes, pens=pens)
        for i, text in enumerate(self._texts):
            h = self._heights[i]
            text.setText(f"{self.classes[i]}  {100 * h:.0f}%")
            # Inside the top of a tall bar, above a short one, so the label never leaves the plot.
            if h > 0.85:
                text.setAnchor((0.5, 0.0))
                text.setPos(i, h - 0.02)
            else:
                text.setAnchor((0.5, 1.0))
                text.setPos(i, h + 0.02)
            text.setColor("#ffffff" if i == winner else "#aaaaaa")
        self._winner = winner

    @property
    def heights(self) -> np.ndarray:
        """The bar heights currently drawn (a copy)."""
        return np.asarray(self._bars.opts["height"], dtype=float).copy()

    @property
    def winner(self) -> int:
        """Index of the highlighted class (-1 before any probability)."""
        return self._winner
