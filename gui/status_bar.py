"""The live window's status bar: stream, rate, drops, clock offset, latency, fps."""

from __future__ import annotations

import numpy as np

from gui.qt import QtWidgets


def _fmt_ms(seconds: float) -> str:
    return "-" if not np.isfinite(seconds) else f"{seconds * 1e3:.0f} ms"


class LiveStatusBar(QtWidgets.QStatusBar):
    """Labels kept up to date from a LiveSession by :meth:`update_from`."""

    FIELDS = (
        "stream",
        "channels",
        "rate",
        "effective",
        "dropped",
        "offset",
        "ahead",
        "latency",
        "fps",
    )

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels: dict[str, QtWidgets.QLabel] = {}
        for key in self.FIELDS:
            label = QtWidgets.QLabel("")
            label.setStyleSheet("padding: 0 6px;")
            self.addWidget(label)
            self.labels[key] = label
        self.histogram_button = QtWidgets.QPushButton("Latency histogram")
        self.addPermanentWidget(self.histogram_button)

    def update_from(self, session: object, fps: float) -> None:
        """Refresh every label from ``session`` (a LiveSession) and the window's ``fps``."""
        info = session.info
        health = session.health
        effective = getattr(health, "effective_rate", None)
        if effective is None or not np.isfinite(effective):
            effective = session.arrival_rate()
        dropped = getattr(health, "dropped_samples", None)
        offset = getattr(health, "clock_offset", None)
        text = {
            "stream": f"Stream: {info.name}",
            "channels": f"{info.n_channels} ch",
            "rate": f"{info.sfreq:g} Hz",
            "effective": f"effective {effective:.1f} Hz",
            "dropped": f"dropped {dropped if dropped is not None else 0}",
            "offset": "clock offset -"
            if offset is None
            else f"clock offset {offset * 1e3:+.2f} ms",
            # A sender stamping ahead of arrival: latency is measured against arrival.
            "ahead": ""
            if not session.timestamp_lead
            else f"timestamps ahead {session.timestamp_lead * 1e3:+.0f} ms",
            "latency": (
                f"latency sample→probability {_fmt_ms(session.latency.median())} "
                f"(p95 {_fmt_ms(session.latency.p95())}), →screen "
                f"{_fmt_ms(session.screen_latency.median())} (p95 {_fmt_ms(session.screen_latency.p95())})"
            ),
            "fps": f"{fps:.0f} fps",
        }
        for key, value in text.items():
            self.labels[key].setText(value)

    def text(self) -> str:
        """All labels joined, for tests and logs."""
        return " | ".join(self.labels[k].text() for k in self.FIELDS)
