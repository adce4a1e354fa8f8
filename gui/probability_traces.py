"""Probability of each class over the last seconds, with markers as labelled lines."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bci.display_buffers import ProbabilityHistory
from gui.probability_bars import PaintedPlotWidget
from gui.qt import class_color, pg


class ProbabilityTraces(PaintedPlotWidget):
    """Scrolling probability traces; x is seconds before now.

    Parameters
    ----------
    classes : sequence of str
        Class names, in probability-column order.
    seconds : float
        Width of the history shown.
    """

    def __init__(
        self, classes: Sequence[str], *, seconds: float = 30.0, parent: object = None
    ) -> None:
        super().__init__(parent)
        self.classes = tuple(str(c) for c in classes)
        self.seconds = float(seconds)
        self.history = ProbabilityHistory(len(self.classes))
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setYRange(0, 1.05, padding=0)
        self.setXRange(-self.seconds, 0, padding=0)
        self.getAxis("bottom").setLabel("seconds before now")
        self.getAxis("left").setLabel("probability")
        # No grid: axis grids repaint across the plot every frame (the main cost at 60 fps).
        legend = self.addLegend(offset=(10, 5), labelTextColor="#d8dbe2")
        self._curves = []
        for i, name in enumerate(self.classes):
            curve = self.plot([], [], pen=pg.mkPen(class_color(i), width=2), name=name)
            curve.setClipToView(True)
            self._curves.append(curve)
        legend.setZValue(10)
        self._markers: list[tuple[float, pg.InfiniteLine]] = []

    def add_probabilities(self, times: np.ndarray, probabilities: np.ndarray) -> None:
        """Append outputs ``probabilities`` (k, n_classes) at LSL ``times`` (k,)."""
        self.history.append(times, probabilities)

    def add_markers(self, times: np.ndarray, labels: Sequence[str]) -> None:
        """Draw each marker as a vertical line labelled with its string."""
        for t, label in zip(times, labels, strict=True):
            line = pg.InfiniteLine(
                pos=0.0,
                angle=90,
                pen=pg.mkPen("#c8c8c8", width=1),
                label=str(label),
                labelOpts={"position": 0.85, "color": "#e0e0e0", "fill": (30, 30, 30, 180)},
            )
            self.addItem(line)
            self._markers.append((float(t), line))

    def refresh(self, now: float) -> None:
        """Redraw with ``now`` (LSL clock) at the right edge."""
        times, probs = self.history.since(now - self.seconds - 1.0)
        x = times - now
        for i, curve in enumerate(self._curves):
            curve.setData(x, probs[i])
        keep = []
        for t, line in self._markers:
            if t < now - self.seconds - 1.0:
                self.removeItem(line)
            else:
                line.setPos(t - now)
                keep.append((t, line))
        self._markers = keep

    @property
    def marker_labels(self) -> list[str]:
        """Labels of the marker lines currently drawn."""
        return [line.label.format for _, line in self._markers]
