"""Probability of each class over the last seconds, with markers as labelled lines.

A marker that is a class (through the paradigm's marker -> class map) is drawn in the
class's colour and labelled with the class name; any other marker (a rest ``T0``, a trial
start) is a dim unlabelled line. Labels are staggered on three rows, and one that would
still overlap is dropped; the legend is the title line, above the traces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from bci.display_buffers import ProbabilityHistory, place_label
from bci.paradigm import normalize_marker
from gui.probability_bars import PaintedPlotWidget
from gui.qt import QtCore, QtGui, class_color, pg

#: Where along the (vertical) marker line each label row sits, top row first.
LABEL_ROWS = (0.95, 0.83, 0.71)
#: Pixels kept free between two labels on the same row.
LABEL_GAP_PX = 6


class ProbabilityTraces(PaintedPlotWidget):
    """Scrolling probability traces; x is seconds before now.

    Parameters
    ----------
    classes : sequence of str
        Class names, in probability-column order.
    seconds : float
        Width of the history shown.
    marker_names : mapping or None
        Marker string (normalised, see :func:`bci.paradigm.normalize_marker`) -> class
        name, e.g. ``{"T1": "fists"}``. None: every marker is labelled as it came.
    smoothing : float
        The time constant (s) of the moving average the probabilities shown went through;
        only said in the title (0: raw).
    """

    def __init__(
        self,
        classes: Sequence[str],
        *,
        seconds: float = 30.0,
        marker_names: Mapping[str, str] | None = None,
        smoothing: float = 0.0,
        parent: object = None,
    ) -> None:
        super().__init__(parent)
        self.classes = tuple(str(c) for c in classes)
        self.seconds = float(seconds)
        self.marker_names = None if marker_names is None else dict(marker_names)
        self.history = ProbabilityHistory(len(self.classes))
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setYRange(0, 1.05, padding=0)
        self.setXRange(-self.seconds, 0, padding=0)
        self.getAxis("bottom").setLabel("seconds before now")
        self.getAxis("left").setLabel("probability")
        # No grid: axis grids repaint across the plot every frame (the main cost at 60 fps).
        self._curves = []
        for i in range(len(self.classes)):
            curve = self.plot([], [], pen=pg.mkPen(class_color(i), width=2))
            curve.setClipToView(True)
            self._curves.append(curve)
        # The legend is the title line, above the traces: it never covers one.
        keys = [
            f"<span style='color:{class_color(i)}'>&#9473;&#9473; {name}</span>"
            for i, name in enumerate(self.classes)
        ]
        self.legend_html = "&nbsp;&nbsp;&nbsp;".join(keys)
        if smoothing > 0:
            self.legend_html += (
                f"&nbsp;&nbsp;&nbsp;<span style='color:#999'>(smoothed, {smoothing:g} s)</span>"
            )
        self.setTitle(self.legend_html, size="10pt")
        self._class_index = {c: i for i, c in enumerate(self.classes)}
        self._markers: list[tuple[float, pg.InfiniteLine]] = []
        self._level_ends = [-np.inf] * len(LABEL_ROWS)

    def add_probabilities(self, times: np.ndarray, probabilities: np.ndarray) -> None:
        """Append outputs ``probabilities`` (k, n_classes) at LSL ``times`` (k,)."""
        self.history.append(times, probabilities)

    def marker_label(self, marker: str) -> str:
        """The label drawn for ``marker``: its class name, ``""`` for a non-class marker."""
        if self.marker_names is None:
            return str(marker)
        return self.marker_names.get(normalize_marker(marker), "")

    def add_markers(self, times: np.ndarray, labels: Sequence[str]) -> None:
        """Draw each marker as a vertical line, labelled with its class name."""
        font = QtGui.QFont()
        metrics = QtGui.QFontMetrics(font)
        seconds_per_px = self.seconds / max(1.0, self.getViewBox().width())
        for t, marker in zip(times, labels, strict=True):
            text = self.marker_label(marker)
            index = self._class_index.get(text)
            if index is not None:
                pen = pg.mkPen(class_color(index), width=1.5)
            else:
                pen = pg.mkPen("#777777", width=1, style=QtCore.Qt.PenStyle.DashLine)
            row = None
            if text:
                width = (metrics.horizontalAdvance(text) + 8 + LABEL_GAP_PX) * seconds_per_px
                row = place_label(self._level_ends, float(t), width)
            line = pg.InfiniteLine(pos=0.0, angle=90, pen=pen)
            if row is not None:
                # The label starts at its line and runs right, into the period it names.
                line.label = pg.InfLineLabel(
                    line,
                    text=text,
                    position=LABEL_ROWS[row],
                    anchors=[(0, 0.5), (0, 0.5)],
                    color="#f0f0f0",
                    fill=(30, 30, 30, 200),
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
        """Labels of the marker lines currently drawn (``""`` for an unlabelled line)."""
        return [
            line.label.format if getattr(line, "label", None) is not None else ""
            for _, line in self._markers
        ]

    @property
    def label_items(self) -> list[pg.InfLineLabel]:
        """The marker labels drawn (for checking that none overlaps another)."""
        return [line.label for _, line in self._markers if getattr(line, "label", None)]
