"""A dialog with the histogram of sample-to-probability and sample-to-screen latencies."""

from __future__ import annotations

import numpy as np

from gui.qt import QtWidgets, pg


class LatencyHistogram(QtWidgets.QDialog):
    """Histograms of the latencies a :class:`~bci.live_session.LiveSession` tracked."""

    def __init__(self, session: object, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Latency histogram")
        self.resize(560, 360)
        self.session = session
        self.plot = pg.PlotWidget()
        self.plot.getAxis("bottom").setLabel("latency (ms)")
        self.plot.getAxis("left").setLabel("count")
        self.plot.addLegend()
        self.summary = QtWidgets.QLabel("")
        refresh = QtWidgets.QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.plot, 1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.summary, 1)
        row.addWidget(refresh)
        layout.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the session's current latencies."""
        self.plot.clear()
        parts = []
        for name, tracker, color in (
            ("sample to probability", self.session.latency, (76, 155, 232, 150)),
            ("sample to screen", self.session.screen_latency, (242, 142, 43, 150)),
        ):
            values = tracker.array() * 1e3
            if values.size < 2:
                continue
            counts, edges = np.histogram(values, bins=40)
            self.plot.plot(
                edges, counts, stepMode="center", fillLevel=0, brush=color, pen=None, name=name
            )
            parts.append(
                f"{name}: median {np.median(values):.0f} ms, p95 {np.percentile(values, 95):.0f} ms (n={values.size})"
            )
        self.summary.setText("\n".join(parts) or "no latencies measured yet")
