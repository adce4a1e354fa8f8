"""A scrolling multichannel scope, switchable to band power per channel or a spectrum."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from bci.display_buffers import (
    RingBuffer,
    band_powers,
    minmax_decimate,
    power_spectrum,
    robust_spacing,
)
from gui.probability_bars import PaintedPlotWidget
from gui.qt import QtWidgets, pg

MODES = ("scope", "band power", "spectrum")
DISPLAY_BANDS = ((8.0, 13.0), (13.0, 30.0))


def _stacked_axis_ticks(ch_names: Sequence[str], offsets: np.ndarray, max_labels: int) -> list:
    step = max(1, int(np.ceil(len(ch_names) / max(1, max_labels))))
    return [[(float(offsets[i]), ch_names[i]) for i in range(0, len(ch_names), step)]]


class ScopeView(QtWidgets.QWidget):
    """Live EEG display: stacked traces in µV, band power bars, or spectra.

    Parameters
    ----------
    ch_names : sequence of str
        Channel labels.
    sfreq : float
        Sampling rate in Hz.
    seconds : float
        Width of the scope.
    points : int
        Min/max bins per channel drawn (about one per pixel column).
    """

    def __init__(
        self,
        ch_names: Sequence[str],
        sfreq: float,
        *,
        seconds: float = 10.0,
        points: int = 500,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ch_names = tuple(ch_names)
        self.sfreq = float(sfreq)
        self.seconds = float(seconds)
        self.points = int(points)
        n = len(self.ch_names)
        self.buffer = RingBuffer(n, round(self.seconds * self.sfreq))
        self.mode = MODES[0]
        self.spacing_uv = 50.0
        self._spacing_time = 0.0
        self._slow_time = 0.0
        self._offsets = -np.arange(n, dtype=float)  # channel i drawn around -i * spacing

        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(4, 0, 4, 0)
        self._buttons = QtWidgets.QButtonGroup(self)
        for i, mode in enumerate(MODES):
            button = QtWidgets.QPushButton(mode.capitalize())
            button.setCheckable(True)
            button.setChecked(i == 0)
            self._buttons.addButton(button, i)
            bar.addWidget(button)
        self._buttons.idClicked.connect(lambda i: self.set_mode(MODES[i]))
        bar.addStretch(1)
        self.scale_label = QtWidgets.QLabel("")
        bar.addWidget(self.scale_label)

        self.stack = QtWidgets.QStackedWidget()
        self.scope_plot = self._make_plot("seconds before now", "")
        self.band_plot = self._make_plot("log10 band power (µV²/Hz)", "")
        self.spectrum_plot = self._make_plot("frequency (Hz)", "µV²/Hz")
        for plot in (self.scope_plot, self.band_plot, self.spectrum_plot):
            self.stack.addWidget(plot)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        # One curve for all channels: 64 setData calls per frame cost more than the drawing.
        self._scope_curve = pg.PlotCurveItem(pen=pg.mkPen("#9fd3a8", width=1), connect="finite")
        self.scope_plot.addItem(self._scope_curve)
        self.scope_plot.setXRange(-self.seconds, 0, padding=0)
        self.scope_plot.setYRange(-(n - 0.5), 0.5, padding=0)
        self.scope_plot.getAxis("left").setTicks(
            _stacked_axis_ticks(self.ch_names, self._offsets, 40)
        )
        self._scope_x = np.empty(0)
        self._scope_y = np.empty(0)

        self._band_items = []
        for j, color in enumerate(("#4c9be8", "#f28e2b")):
            item = pg.BarGraphItem(
                x0=0, y=self._offsets + (0.2 - 0.4 * j), height=0.38, width=np.zeros(n), brush=color
            )
            self.band_plot.addItem(item)
            self._band_items.append(item)
        self.band_plot.getAxis("left").setTicks(
            _stacked_axis_ticks(self.ch_names, self._offsets, 40)
        )
        self.band_plot.setYRange(-(n - 0.5), 0.5, padding=0)
        legend = self.band_plot.addLegend(offset=(-10, 5))
        for j, (lo, hi) in enumerate(DISPLAY_BANDS):
            legend.addItem(self._band_items[j], f"{lo:g}-{hi:g} Hz")
        self._spectrum_curve = pg.PlotCurveItem(pen=pg.mkPen("#9fd3a8", width=1), connect="finite")
        self._spectrum_mean = pg.PlotCurveItem(pen=pg.mkPen("#ffffff", width=2))
        self.spectrum_plot.addItem(self._spectrum_curve)
        self.spectrum_plot.addItem(self._spectrum_mean)
        self.spectrum_plot.setLogMode(y=True)

    def _make_plot(self, xlabel: str, ylabel: str) -> pg.PlotWidget:
        plot = PaintedPlotWidget()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.getAxis("bottom").setLabel(xlabel)
        if ylabel:
            plot.getAxis("left").setLabel(ylabel)
        # No grid: axis grids repaint across the plot every frame (the main cost at 60 fps).
        return plot

    # ------------------------------------------------------------------ API
    def set_mode(self, mode: str) -> None:
        """Show ``"scope"``, ``"band power"`` or ``"spectrum"``."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.stack.setCurrentIndex(MODES.index(mode))
        self._buttons.button(MODES.index(mode)).setChecked(True)
        self._slow_time = 0.0
        self.refresh(force=True)

    def append(self, data: np.ndarray, times: np.ndarray) -> None:
        """Add samples (volts, (n_channels, n)) to the display buffer."""
        self.buffer.append(data, times)

    def refresh(self, *, force: bool = False) -> None:
        """Redraw the current mode (the slow modes at most 4 times per second)."""
        if self.buffer.count < 2:
            return
        if self.mode == "scope":
            self._refresh_scope()
            return
        now = time.monotonic()
        if not force and now - self._slow_time < 0.25:
            return
        self._slow_time = now
        data, _ = self.buffer.latest(min(self.buffer.count, round(2 * self.sfreq)))
        data = data - data.mean(axis=1, keepdims=True)
        if self.mode == "band power":
            self._refresh_bands(data)
        else:
            self._refresh_spectrum(data)

    # ------------------------------------------------------------------ modes
    def _refresh_scope(self) -> None:
        data, _ = self.buffer.latest()
        n = data.shape[1]
        uv = data * 1e6
        uv = uv - np.nanmean(uv, axis=1, keepdims=True)
        now = time.monotonic()
        if now - self._spacing_time > 1.0:
            self._spacing_time = now
            self.spacing_uv = robust_spacing(uv[:, -min(n, round(2 * self.sfreq)) :])
            self.scale_label.setText(f"{self.spacing_uv:g} µV between channels")
        index, values = minmax_decimate(uv, self.points)
        x = (index - (n - 1)) / self.sfreq
        n_ch, n_pts = values.shape
        if self._scope_x.size != n_ch * (n_pts + 1):
            self._scope_x = np.empty(n_ch * (n_pts + 1))
            self._scope_y = np.empty(n_ch * (n_pts + 1))
        xs = self._scope_x.reshape(n_ch, n_pts + 1)
        ys = self._scope_y.reshape(n_ch, n_pts + 1)
        xs[:, :n_pts] = x
        xs[:, n_pts] = np.nan
        ys[:, :n_pts] = values / self.spacing_uv + self._offsets[:, None]
        ys[:, n_pts] = np.nan
        self._scope_curve.setData(self._scope_x, self._scope_y)

    def _refresh_bands(self, data: np.ndarray) -> None:
        powers = band_powers(data * 1e6, self.sfreq, DISPLAY_BANDS)
        for j, item in enumerate(self._band_items):
            item.setOpts(width=np.nan_to_num(powers[:, j], nan=0.0))

    def _refresh_spectrum(self, data: np.ndarray) -> None:
        freqs, psd = power_spectrum(data * 1e6, self.sfreq, fmax=min(45.0, self.sfreq / 2))
        if not freqs.size:
            return
        psd = np.maximum(psd, 1e-6)
        n_ch, n_f = psd.shape
        x = np.empty((n_ch, n_f + 1))
        y = np.empty((n_ch, n_f + 1))
        x[:, :n_f], x[:, n_f] = freqs, np.nan
        y[:, :n_f], y[:, n_f] = psd, np.nan
        self._spectrum_curve.setData(x.ravel(), y.ravel())
        self._spectrum_mean.setData(freqs, np.exp(np.log(psd).mean(axis=0)))
