"""A scrolling multichannel scope, switchable to band power per channel or a spectrum.

Scope controls: amplitude (- / + / auto), time span, channel pages (every trace on a page
is labelled), a display-only 1 Hz high-pass, pause, and a colour per signal quality
(flat, saturated, line noise; :mod:`bci.signal_quality` decides, this only draws).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from bci.display_buffers import (
    DisplayHighpass,
    RingBuffer,
    band_powers,
    minmax_decimate,
    power_spectrum,
    robust_spacing,
    step_scale,
)
from bci.signal_quality import FLAT, GOOD, LINE_NOISE, QUALITIES, QUALITY_HELP, channel_quality
from gui.log_axis import DecadeAxis
from gui.probability_bars import PaintedPlotWidget
from gui.qt import QtGui, QtWidgets, pg

MODES = ("scope", "band power", "spectrum")
DISPLAY_BANDS = ((8.0, 13.0), (13.0, 30.0))
BAND_COLORS = ("#4c9be8", "#f28e2b")
#: Time spans offered, in seconds (those whose buffer fits :data:`MAX_BUFFER_VALUES`).
SPANS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0)
#: Channels per page offered; a page never holds more than 32 so every label stays legible.
PAGE_SIZES = (4, 8, 16, 32)
#: Samples x channels each display ring may hold (two rings of float64: 2 x 64 MB at most).
MAX_BUFFER_VALUES = 8_000_000
#: Trace colour per signal quality.
QUALITY_COLORS = {GOOD: "#9fd3a8", FLAT: "#8c8c8c", "saturated": "#ff5a5a", LINE_NOISE: "#f2c12e"}
#: Seconds of raw signal the quality cue and the auto scale look at.
QUALITY_SECONDS = 2.0


def _legend_html() -> str:
    parts = [f"<span style='color:{QUALITY_COLORS[q]}'>&#9632; {q}</span>" for q in QUALITIES[1:]]
    return "&nbsp;&nbsp;".join(parts)


class ScopeView(QtWidgets.QWidget):
    """Live EEG display: stacked traces in µV, band power bars, or spectra.

    Parameters
    ----------
    ch_names : sequence of str
        Channel labels.
    sfreq : float
        Sampling rate in Hz.
    seconds : float
        Initial width of the scope (one of :data:`SPANS` is chosen, the nearest).
    points : int
        Min/max bins per channel drawn (about one per pixel column).
    page_size : int
        Channels per page at start (at most 32).
    """

    def __init__(
        self,
        ch_names: Sequence[str],
        sfreq: float,
        *,
        seconds: float = 10.0,
        points: int = 500,
        page_size: int = 16,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ch_names = tuple(ch_names)
        self.sfreq = float(sfreq)
        self.points = int(points)
        n = len(self.ch_names)
        fits = [s for s in SPANS if n * round(s * self.sfreq) <= MAX_BUFFER_VALUES]
        self.spans = tuple(fits) or (SPANS[0],)
        capacity = round(self.spans[-1] * self.sfreq)
        self.buffer = RingBuffer(n, capacity)  # raw, for the spectrum and the quality cue
        self.filtered = RingBuffer(n, capacity)  # 1 Hz high-passed, for the scope
        self._highpass_filter = DisplayHighpass(n, self.sfreq)
        self.seconds = min(self.spans, key=lambda s: abs(s - seconds))
        self.mode = MODES[0]
        self.spacing_uv = 50.0
        self.auto_scale = True
        self.highpass = True
        self.paused = False
        self.quality: tuple[str, ...] = (GOOD,) * n
        self.page = 0
        self.page_size = self._valid_page_size(page_size)
        self._spacing_time = 0.0
        self._slow_time = 0.0

        self._build_controls()
        self.stack = QtWidgets.QStackedWidget()
        self.scope_plot = self._make_plot("seconds before now", "")
        self.band_plot = self._make_plot(
            "band power (µV²/Hz, log scale)", "", axis={"bottom": DecadeAxis("bottom")}
        )
        self.spectrum_plot = self._make_plot(
            "frequency (Hz)", "power spectral density (µV²/Hz)", axis={"left": DecadeAxis("left")}
        )
        for plot in (self.scope_plot, self.band_plot, self.spectrum_plot):
            self.stack.addWidget(plot)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self._top_bar)
        layout.addWidget(self.scope_controls)
        layout.addWidget(self.stack, 1)

        # One curve per quality for all channels: 64 setData calls cost more than drawing.
        self._scope_curves = {}
        for q in QUALITIES:
            curve = pg.PlotCurveItem(pen=pg.mkPen(QUALITY_COLORS[q], width=1), connect="finite")
            self.scope_plot.addItem(curve)
            self._scope_curves[q] = curve
        self._band_items = []
        for color in BAND_COLORS:
            item = pg.BarGraphItem(x0=[0.0], y=[0.0], height=0.38, width=[0.0], brush=color)
            self.band_plot.addItem(item)
            self._band_items.append(item)
        # Wide enough for the longest channel name with the longest quality tag: a tick
        # label that does not fit is silently not drawn.
        axis = self.scope_plot.getAxis("left")
        metrics = QtGui.QFontMetrics(axis.style["tickFont"] or axis.font())
        longest = max(metrics.horizontalAdvance(f"{c} · {LINE_NOISE}") for c in self.ch_names)
        for plot in (self.scope_plot, self.band_plot):
            plot.getAxis("left").setWidth(min(320, longest + 24))
        # The legend is the title line, so it never covers a bar.
        keys = [
            f"<span style='color:{c}'>&#9632; {lo:g}-{hi:g} Hz</span>"
            for c, (lo, hi) in zip(BAND_COLORS, DISPLAY_BANDS, strict=True)
        ]
        self.band_plot.setTitle("&nbsp;&nbsp;&nbsp;".join(keys), size="10pt")
        self._spectrum_curve = pg.PlotCurveItem(pen=pg.mkPen("#9fd3a8", width=1), connect="finite")
        self._spectrum_mean = pg.PlotCurveItem(pen=pg.mkPen("#ffffff", width=2))
        self.spectrum_plot.addItem(self._spectrum_curve)
        self.spectrum_plot.addItem(self._spectrum_mean)
        self.spectrum_plot.getAxis("left").setWidth(70)
        self._apply_span()
        self._apply_page()

    # ------------------------------------------------------------------ construction
    def _build_controls(self) -> None:
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
        self.quality_legend = QtWidgets.QLabel(_legend_html())
        self.quality_legend.setToolTip(
            "Trace colours:\n"
            + "\n".join(
                QUALITY_HELP[q].format(flat_uv=0.5, clip_fraction=0.05) for q in QUALITIES[1:]
            )
        )
        bar.addWidget(self.quality_legend)
        bar.addSpacing(16)
        self.scale_label = QtWidgets.QLabel("")
        bar.addWidget(self.scale_label)
        self._top_bar = bar

        self.scope_controls = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(self.scope_controls)
        row.setContentsMargins(4, 0, 4, 0)

        def button(text: str, tip: str, slot: object, *, checkable: bool = False):
            b = QtWidgets.QPushButton(text)
            b.setToolTip(tip)
            b.setCheckable(checkable)
            b.clicked.connect(slot)
            row.addWidget(b)
            return b

        first = row.count()
        row.addWidget(QtWidgets.QLabel("Amplitude"))
        self.smaller_button = button(
            "-", "Smaller traces (more µV between channels)", self.zoom_out
        )
        self.larger_button = button("+", "Larger traces (fewer µV between channels)", self.zoom_in)
        self.auto_button = button(
            "Auto", "Scale from the channels' typical spread", self.set_auto_scale, checkable=True
        )
        self.auto_button.setChecked(True)
        row.addSpacing(12)
        row.addWidget(QtWidgets.QLabel("Span"))
        self.span_box = QtWidgets.QComboBox()
        for s in self.spans:
            self.span_box.addItem(f"{s:g} s", s)
        self.span_box.setCurrentIndex(self.spans.index(self.seconds))
        self.span_box.currentIndexChanged.connect(
            lambda i: self.set_span(float(self.span_box.itemData(i)))
        )
        row.addWidget(self.span_box)
        row.addSpacing(12)
        paging_from = row.count()
        row.addWidget(QtWidgets.QLabel("Channels"))
        self.previous_button = button("<", "Previous page of channels", self.previous_page)
        self.page_label = QtWidgets.QLabel("")
        row.addWidget(self.page_label)
        self.next_button = button(">", "Next page of channels", self.next_page)
        self.page_box = QtWidgets.QComboBox()
        n = len(self.ch_names)
        for size in self._page_choices():
            self.page_box.addItem(f"{size} per page" if size < n else "all", size)
        self.page_box.setCurrentIndex(self._page_choices().index(self.page_size))
        self.page_box.currentIndexChanged.connect(
            lambda i: self.set_page_size(int(self.page_box.itemData(i)))
        )
        row.addWidget(self.page_box)
        row.addSpacing(12)
        paging_to = row.count()
        self.highpass_box = QtWidgets.QCheckBox("1 Hz high-pass (display only)")
        self.highpass_box.setToolTip(
            "Remove slow drift from the traces; classification is unaffected"
        )
        self.highpass_box.setChecked(True)
        self.highpass_box.toggled.connect(self.set_highpass)
        row.addWidget(self.highpass_box)
        self.pause_button = button(
            "Pause",
            "Freeze the display (the session keeps running)",
            self.set_paused,
            checkable=True,
        )
        # Channel pages also serve the band power bars; the rest is for the traces only.
        widgets = [row.itemAt(i).widget() for i in range(first, row.count())]
        paging = {row.itemAt(i).widget() for i in range(paging_from, paging_to)}
        self._trace_only = [w for w in widgets if w is not None and w not in paging]
        row.addStretch(1)

    def _make_plot(self, xlabel: str, ylabel: str, *, axis: dict | None = None) -> pg.PlotWidget:
        plot = PaintedPlotWidget(axisItems=axis or {})
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.getAxis("bottom").setLabel(xlabel)
        if ylabel:
            plot.getAxis("left").setLabel(ylabel)
        # No grid: axis grids repaint across the plot every frame (the main cost at 60 fps).
        return plot

    def _page_choices(self) -> list[int]:
        n = len(self.ch_names)
        sizes = [s for s in PAGE_SIZES if s < n]
        if n <= PAGE_SIZES[-1]:
            sizes.append(n)
        return sizes or [n]

    def _valid_page_size(self, size: int) -> int:
        choices = self._page_choices()
        return max([c for c in choices if c <= size] or [choices[0]])

    # ------------------------------------------------------------------ API
    def set_mode(self, mode: str) -> None:
        """Show ``"scope"``, ``"band power"`` or ``"spectrum"``."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.stack.setCurrentIndex(MODES.index(mode))
        self._buttons.button(MODES.index(mode)).setChecked(True)
        # The µV scale and the trace controls mean something only for the traces.
        self.scope_controls.setVisible(mode != "spectrum")
        for widget in self._trace_only:
            widget.setVisible(mode == "scope")
        self.scale_label.setVisible(mode == "scope")
        self.quality_legend.setVisible(mode == "scope")
        self._slow_time = 0.0
        self.refresh(force=True)

    def append(self, data: np.ndarray, times: np.ndarray) -> None:
        """Add samples (volts, (n_channels, n)) to the display buffers."""
        if data.shape[1] == 0:
            return
        self.buffer.append(data, times)
        self.filtered.append(self._highpass_filter.process(data), times)

    @property
    def visible_channels(self) -> tuple[str, ...]:
        """Names of the channels on the current page, top to bottom."""
        return tuple(self.ch_names[i] for i in self._page_indices())

    @property
    def channel_labels(self) -> list[str]:
        """The labels on the scope's channel axis, top to bottom."""
        return [text for _, text in self._labels]

    @property
    def page_count(self) -> int:
        """Number of channel pages."""
        return max(1, -(-len(self.ch_names) // self.page_size))

    def next_page(self) -> None:
        """Show the next channels (wraps to the first page)."""
        self.set_page((self.page + 1) % self.page_count)

    def previous_page(self) -> None:
        """Show the previous channels (wraps to the last page)."""
        self.set_page((self.page - 1) % self.page_count)

    def set_page(self, page: int) -> None:
        """Show page ``page`` (0-based) of the channels."""
        self.page = int(np.clip(page, 0, self.page_count - 1))
        self._apply_page()

    def set_page_size(self, size: int) -> None:
        """Show ``size`` channels per page, keeping the top channel in view."""
        top = self.page * self.page_size
        self.page_size = self._valid_page_size(size)
        self.page = min(top // self.page_size, self.page_count - 1)
        index = self.page_box.findData(self.page_size)
        if index >= 0 and index != self.page_box.currentIndex():
            self.page_box.setCurrentIndex(index)
        self._apply_page()

    def set_span(self, seconds: float) -> None:
        """Show the last ``seconds`` (the nearest of the spans offered)."""
        self.seconds = min(self.spans, key=lambda s: abs(s - float(seconds)))
        index = self.span_box.findData(self.seconds)
        if index >= 0 and index != self.span_box.currentIndex():
            self.span_box.setCurrentIndex(index)
        self._apply_span()

    def zoom_in(self) -> None:
        """Larger traces: one step down the 1-2-5 ladder of µV between channels."""
        self.set_scale(step_scale(self.spacing_uv, -1))

    def zoom_out(self) -> None:
        """Smaller traces: one step up the ladder."""
        self.set_scale(step_scale(self.spacing_uv, +1))

    def set_scale(self, spacing_uv: float) -> None:
        """Fix the distance between channels to ``spacing_uv`` µV (auto scale off)."""
        self.spacing_uv = float(spacing_uv)
        self.set_auto_scale(False)

    def set_auto_scale(self, on: bool) -> None:
        """Scale from the channels' typical spread, re-measured every second."""
        self.auto_scale = bool(on)
        self.auto_button.setChecked(self.auto_scale)
        self._spacing_time = 0.0
        self._update_scale_label()
        self.refresh(force=True)

    def set_highpass(self, on: bool) -> None:
        """Draw the 1 Hz high-passed traces (True) or the raw ones."""
        self.highpass = bool(on)
        self.highpass_box.setChecked(self.highpass)
        self._spacing_time = 0.0
        self.refresh(force=True)

    def set_paused(self, on: bool) -> None:
        """Freeze the display; samples keep arriving and show again on resume."""
        self.paused = bool(on)
        self.pause_button.setChecked(self.paused)
        self.pause_button.setText("Resume" if self.paused else "Pause")
        if not self.paused:
            self.refresh(force=True)

    def trace_color(self, channel: str) -> str:
        """The colour (``#rrggbb``) the trace of ``channel`` is drawn in."""
        return QUALITY_COLORS[self.quality[self.ch_names.index(channel)]]

    def channel_y(self, channel: str) -> float:
        """The plot's y coordinate around which ``channel`` is drawn (it must be on the page)."""
        return -float(self._page_indices().index(self.ch_names.index(channel)))

    def refresh(self, *, force: bool = False) -> None:
        """Redraw the current mode (the slow modes at most 4 times per second)."""
        if self.buffer.count < 2 or (self.paused and self.mode == "scope" and not force):
            return
        if self.mode == "scope":
            self._refresh_scope(force=force)
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

    # ------------------------------------------------------------------ layout
    def _page_indices(self) -> list[int]:
        start = self.page * self.page_size
        return list(range(start, min(start + self.page_size, len(self.ch_names))))

    def _apply_span(self) -> None:
        self.scope_plot.setXRange(-self.seconds, 0, padding=0)
        self.refresh(force=True)

    def _apply_page(self) -> None:
        rows = self._page_indices()
        m = max(1, len(rows))
        for plot in (self.scope_plot, self.band_plot):
            plot.setYRange(-(m - 0.5), 0.5, padding=0)
        self.page_label.setText(f"{rows[0] + 1}-{rows[-1] + 1} of {len(self.ch_names)}")
        self.previous_button.setEnabled(self.page_count > 1)
        self.next_button.setEnabled(self.page_count > 1)
        self._update_labels()
        self._slow_time = 0.0
        self.refresh(force=True)

    def _update_labels(self) -> None:
        self._labels = []
        for k, i in enumerate(self._page_indices()):
            q = self.quality[i]
            self._labels.append((-float(k), self.ch_names[i] + ("" if q == GOOD else f" · {q}")))
        for plot in (self.scope_plot, self.band_plot):
            plot.getAxis("left").setTicks([self._labels])
        bad = [f"{self.ch_names[i]}: {q}" for i, q in enumerate(self.quality) if q != GOOD]
        self.scope_plot.setToolTip(
            "Signal quality: " + (", ".join(bad) if bad else "no flat, saturated or noisy channel")
        )

    def _update_scale_label(self) -> None:
        how = "auto" if self.auto_scale else "fixed"
        self.scale_label.setText(f"{self.spacing_uv:g} µV between channels ({how})")

    # ------------------------------------------------------------------ modes
    def _refresh_scope(self, *, force: bool) -> None:
        rows = self._page_indices()
        span = min(self.buffer.count, round(self.seconds * self.sfreq))
        ring = self.filtered if self.highpass else self.buffer
        data, _ = ring.latest(span)
        n = data.shape[1]
        uv = data[rows] * 1e6
        uv = uv - np.nanmean(uv, axis=1, keepdims=True)
        now = time.monotonic()
        if force or now - self._spacing_time > 1.0:
            self._spacing_time = now
            recent = round(QUALITY_SECONDS * self.sfreq)
            if self.auto_scale:
                self.spacing_uv = robust_spacing(uv[:, -min(n, recent) :])
            quality = channel_quality(self.buffer.latest(recent)[0], self.sfreq)
            if quality != self.quality:
                self.quality = quality
                self._update_labels()
            self._update_scale_label()
        index, values = minmax_decimate(uv, self.points)
        x = (index - (n - 1)) / self.sfreq
        ys = values / self.spacing_uv - np.arange(len(rows))[:, None]
        for q, curve in self._scope_curves.items():
            picked = [k for k, i in enumerate(rows) if self.quality[i] == q]
            if not picked:
                curve.setData([], [])
                continue
            n_pts = x.size
            cx = np.empty((len(picked), n_pts + 1))
            cy = np.empty((len(picked), n_pts + 1))
            cx[:, :n_pts], cx[:, n_pts] = x, np.nan
            cy[:, :n_pts], cy[:, n_pts] = ys[picked], np.nan
            curve.setData(cx.ravel(), cy.ravel())

    def _refresh_bands(self, data: np.ndarray) -> None:
        rows = self._page_indices()
        powers = band_powers(data[rows] * 1e6, self.sfreq, DISPLAY_BANDS)
        finite = powers[np.isfinite(powers)]
        if not finite.size:
            return
        # Bars grow from a decade below the weakest live band, on a log axis in µV²/Hz; a
        # dead channel (under 1e-6 µV²/Hz) would otherwise stretch the axis over 30 decades.
        live = finite[finite > -6.0]
        floor = float(np.floor((live if live.size else finite).min())) - 1.0
        top = float(np.ceil(finite.max() + 0.05))
        y = -np.arange(len(rows), dtype=float)
        for j, item in enumerate(self._band_items):
            width = np.clip(np.nan_to_num(powers[:, j] - floor, nan=0.0), 0.0, None)
            item.setOpts(x0=np.full(len(rows), floor), y=y + (0.2 - 0.4 * j), width=width)
        self.band_plot.setXRange(floor, top, padding=0)

    def _refresh_spectrum(self, data: np.ndarray) -> None:
        freqs, psd = power_spectrum(data * 1e6, self.sfreq, fmax=min(70.0, self.sfreq / 2))
        if not freqs.size:
            return
        # log10 of µV²/Hz: the DecadeAxis labels these in µV²/Hz; 1e-6 floors a dead channel.
        log_psd = np.log10(np.maximum(psd, 1e-6))
        n_ch, n_f = log_psd.shape
        x = np.empty((n_ch, n_f + 1))
        y = np.empty((n_ch, n_f + 1))
        x[:, :n_f], x[:, n_f] = freqs, np.nan
        y[:, :n_f], y[:, n_f] = log_psd, np.nan
        self._spectrum_curve.setData(x.ravel(), y.ravel())
        self._spectrum_mean.setData(freqs, log_psd.mean(axis=0))
        # From just under the typical channel's weakest bin (a dead channel's floor would
        # squash the rest) to a little above the strongest, so the top label is not cut.
        typical = np.median(log_psd[:, freqs >= 1.0] if (freqs >= 1.0).any() else log_psd, axis=0)
        lo = float(np.floor(typical.min() - 0.3))
        hi = float(log_psd.max() + 0.3)
        self.spectrum_plot.setYRange(lo, max(hi, lo + 1), padding=0)
        self.spectrum_plot.setXRange(0, freqs[-1], padding=0)

    @property
    def spectrum_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The mean spectrum drawn: ``(freqs, log10 µV²/Hz)``."""
        x, y = self._spectrum_mean.getData()
        return np.asarray(x), np.asarray(y)
