"""The scope, band power and spectrum views, rendered offscreen: true axes, every sample drawn,
the controls a person uses, and the signal-quality colours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from acquisition.simulator import simulate_recording
from bci.signal_quality import FLAT, GOOD, LINE_NOISE, SATURATED
from gui.log_axis import decade_label
from gui.qt import QtCore, QtGui, app, pg
from gui.scope import QUALITY_COLORS, ScopeView

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/gui_shots")


@pytest.fixture(autouse=True)
def qt_app():
    """Widgets need the QApplication first (the live window makes it; here the test does)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return app()


def shown(scope: ScopeView, size=(1200, 600)) -> ScopeView:
    scope.resize(*size)
    scope.show()
    app().processEvents()
    return scope


def feed(scope: ScopeView, data: np.ndarray, chunk: int = 37) -> None:
    """Append ``data`` (volts) in chunks, as a live session does."""
    t = np.arange(data.shape[1]) / scope.sfreq
    for i in range(0, data.shape[1], chunk):
        scope.append(data[:, i : i + chunk], t[i : i + chunk])


def render(scope: ScopeView) -> QtGui.QImage:
    scope.refresh(force=True)
    app().processEvents()
    return scope.stack.currentWidget().grab().toImage()


def ticks(axis: pg.AxisItem, lo: float, hi: float) -> list[tuple[float, str]]:
    """The (value, label) pairs the axis paints for the range ``lo..hi`` (its own code path)."""
    out = []
    for spacing, values in axis.tickValues(lo, hi, axis.height() or 400):
        strings = axis.tickStrings(values, axis.autoSIPrefixScale, spacing)
        out.extend(zip(values, strings, strict=True))
    return out


def drawn_labels(axis: pg.AxisItem) -> list[str]:
    """The tick texts the axis really paints (pyqtgraph skips those that do not fit)."""
    image = QtGui.QImage(10, 10, QtGui.QImage.Format.Format_RGB32)
    painter = QtGui.QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _, _, text in specs[2]]


def sine_recording(sfreq: float, seconds: float, amplitude: float, freq: float, n_ch: int = 3):
    t = np.arange(round(seconds * sfreq)) / sfreq
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.05e-6, (n_ch, t.size))
    return noise + amplitude * np.sin(2 * np.pi * freq * t)


def test_spectrum_axis_is_in_uv2_per_hz_on_a_log_axis_with_sane_ticks() -> None:
    sfreq = 250.0
    scope = shown(ScopeView(["A", "B", "C"], sfreq))
    feed(scope, sine_recording(sfreq, 4.0, 10e-6, 10.0))  # a 10 µV (amplitude) 10 Hz sine
    scope.set_mode("spectrum")
    image = render(scope)
    freqs, log_psd = scope.spectrum_data
    # Welch with a 1 s Hann window: peak PSD = A²/2 / (1.5 Hz) = 50 / 1.5 = 33.3 µV²/Hz.
    peak = 10 ** log_psd.max()
    assert freqs[np.argmax(log_psd)] == 10.0
    assert peak == pytest.approx(50 / 1.5, rel=0.02)
    plot = scope.spectrum_plot
    (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
    assert x0 == 0 and x1 == pytest.approx(70.0, abs=1.0)
    # The axis shows log10 of µV²/Hz: the top of the view is just above the peak...
    assert np.log10(peak) + 0.2 < y1 < np.log10(peak) + 0.5
    # ...and the bottom at most 1.5 decades under the noise floor (0.05 µV white noise:
    # 2e-5 µV²/Hz; its Welch bins scatter below that).
    noise = np.log10(0.05**2 / 125)
    assert noise - 1.5 <= y0 < noise
    axis = plot.getAxis("left")
    labelled = ticks(axis, y0, y1)
    decades = {v: s for v, s in labelled if float(v).is_integer()}
    assert decades[1.0] == "10" and decades[0.0] == "1" and decades[-4.0] == "1e-04"
    assert all("e+2" not in s and "e+1" not in s for _, s in labelled)
    assert "µV²/Hz" in axis.labelString() and "x1e" not in axis.labelString()
    assert axis.autoSIPrefixScale == 1.0
    assert [decade_label(v) for v in (-3.0, -2.0, 0.0, 3.0, 4.0)] == [
        "0.001",
        "0.01",
        "1",
        "1000",
        "10000",
    ]
    image.save(str(SHOTS / "scope_spectrum_10uV.png"))


def test_band_power_bars_end_at_the_band_power_on_a_log_axis() -> None:
    sfreq = 160.0
    scope = shown(ScopeView(["A", "B", "C"], sfreq))
    data = sine_recording(sfreq, 4.0, 10e-6, 10.0)
    data[1] *= 10  # 100 µV alpha: 100x the power, two decades more
    data += np.random.default_rng(5).normal(0, 1e-6, data.shape)  # 1 µV background: 0.0125 µV²/Hz
    data[2] = 1e-3  # a dead channel must not stretch the axis over 30 decades
    feed(scope, data)
    scope.set_mode("band power")
    render(scope)
    alpha = scope._band_items[0]
    right = np.asarray(alpha.opts["x0"]) + np.asarray(alpha.opts["width"])
    assert right[1] - right[0] == pytest.approx(2.0, abs=0.01)
    # The sine's power A²/2 = 50 µV² lies within 8..13 Hz, averaged over 6 one-Hz bins.
    assert 10 ** right[0] == pytest.approx(50 / 6, rel=0.02)
    (x0, x1), _ = scope.band_plot.getViewBox().viewRange()
    assert x0 < right[:2].min() and right.max() <= x1 and x0 == -3.0
    assert alpha.opts["width"][2] == 0.0  # the dead channel: no bar
    labels = dict(ticks(scope.band_plot.getAxis("bottom"), x0, x1))
    assert labels[1.0] == "10" and labels[2.0] == "100"


@pytest.mark.parametrize("sfreq", [128.0, 160.0, 250.0, 500.0, 512.0, 2048.0])
def test_the_scope_draws_the_whole_span_from_its_left_edge(sfreq: float) -> None:
    scope = shown(ScopeView([f"ch{i}" for i in range(4)], sfreq, seconds=10.0))
    feed(scope, sine_recording(sfreq, 12.0, 20e-6, 7.0, n_ch=4), chunk=round(sfreq / 30))
    image = render(scope)
    x, _ = scope._scope_curves[GOOD].getData()
    n = round(10 * sfreq)
    assert np.nanmin(x) == pytest.approx(-(n - 1) / sfreq) and np.nanmax(x) == 0.0
    # The left strip of the plot (the first 0.3 s) holds trace pixels: no blank band.
    vb = scope.scope_plot.getViewBox()
    left = scope.scope_plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(-9.95, 0))).x()
    inner = scope.scope_plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(-9.7, 0))).x()
    trace = QtGui.QColor(QUALITY_COLORS[GOOD]).rgb() & 0xFFFFFF
    hits = sum(
        (image.pixel(px, py) & 0xFFFFFF) == trace
        for px in range(int(left), int(inner) + 1)
        for py in range(0, image.height(), 2)
    )
    assert hits > 10, f"blank left strip at {sfreq} Hz"


def test_64_channels_are_paged_with_every_visible_trace_labelled() -> None:
    names = [f"E{i:02d}" for i in range(64)]
    rec = simulate_recording([], duration=6.0, seed=1)  # 24 channels, repeated to 64
    data = np.vstack([rec.data] * 3)[:64]
    scope = shown(ScopeView(names, 250.0, page_size=16), size=(1400, 700))
    feed(scope, data)
    render(scope)
    axis = scope.scope_plot.getAxis("left")
    assert scope.page_count == 4 and scope.visible_channels == tuple(names[:16])
    assert scope.channel_labels == names[:16]
    assert drawn_labels(axis) == names[:16]  # what the axis paints
    assert scope.page_label.text() == "1-16 of 64"
    _, y = scope._scope_curves[GOOD].getData()
    assert np.sum(np.isnan(y)) == 16  # sixteen traces drawn, one per label
    scope.next_button.click()
    render(scope)
    assert scope.channel_labels == names[16:32] and scope.page_label.text() == "17-32 of 64"
    assert drawn_labels(axis) == names[16:32]
    scope.previous_button.click()
    scope.previous_button.click()  # wraps to the last page
    assert scope.channel_labels == names[48:64]
    scope.set_page_size(32)
    assert scope.channel_labels == names[32:64] and scope.page_count == 2
    scope.grab().save(str(SHOTS / "scope_64ch_page.png"))


def test_amplitude_span_highpass_and_pause_controls() -> None:
    sfreq = 250.0
    t = np.arange(round(12 * sfreq)) / sfreq
    alpha = 10e-6 * np.sin(2 * np.pi * 10 * t)
    data = np.vstack([alpha + 400e-6 * t / t[-1], alpha, alpha])  # ch0 drifts 400 µV
    scope = shown(ScopeView(["drift", "b", "c"], sfreq))
    feed(scope, data)
    render(scope)
    auto = scope.spacing_uv
    assert "µV between channels (auto)" in scope.scale_label.text()
    scope.larger_button.click()
    assert scope.spacing_uv < auto and not scope.auto_scale
    assert f"{scope.spacing_uv:g} µV between channels (fixed)" == scope.scale_label.text()
    scope.smaller_button.click()
    scope.smaller_button.click()
    assert scope.spacing_uv > auto
    scope.auto_button.click()
    render(scope)
    assert scope.auto_scale and scope.spacing_uv == auto

    def row_extent(channel: int) -> float:
        render(scope)
        _, y = scope._scope_curves[GOOD].getData()
        rows = np.split(y, np.flatnonzero(np.isnan(y)) + 1)
        return float(np.ptp(rows[channel][np.isfinite(rows[channel])]) * scope.spacing_uv)

    scope.set_scale(50.0)
    with_hp = row_extent(0)
    scope.highpass_box.click()  # off: the raw drift is drawn
    assert not scope.highpass
    raw = row_extent(0)
    assert with_hp < 40 and raw > 300  # µV drawn over the 10 s span
    scope.highpass_box.click()

    scope.span_box.setCurrentIndex(scope.span_box.findData(2.0))
    render(scope)
    assert scope.seconds == 2.0
    assert scope.scope_plot.getViewBox().viewRange()[0] == pytest.approx([-2.0, 0.0])
    x, _ = scope._scope_curves[GOOD].getData()
    assert np.nanmin(x) == pytest.approx(-(2 * sfreq - 1) / sfreq)

    scope.pause_button.click()
    frozen = scope._scope_curves[GOOD].getData()[1].copy()
    feed(scope, np.zeros((3, 100)) + 50e-6)
    scope.refresh()
    assert scope.paused and scope.pause_button.text() == "Resume"
    assert np.array_equal(scope._scope_curves[GOOD].getData()[1], frozen, equal_nan=True)
    scope.pause_button.click()
    assert not np.array_equal(scope._scope_curves[GOOD].getData()[1], frozen, equal_nan=True)


def test_scale_text_shows_only_in_scope_mode() -> None:
    scope = shown(ScopeView(["a", "b"], 250.0))
    feed(scope, sine_recording(250.0, 3.0, 10e-6, 10.0, n_ch=2))
    render(scope)
    assert scope.scale_label.isVisible() and scope.larger_button.isVisible()
    scope.set_mode("band power")  # the bars are paged too, but have no µV scale
    assert not scope.scale_label.isVisible() and not scope.larger_button.isVisible()
    assert scope.next_button.isVisible() and not scope.pause_button.isVisible()
    scope.set_mode("spectrum")
    assert not scope.scale_label.isVisible() and not scope.scope_controls.isVisible()
    scope.set_mode("scope")
    assert scope.scale_label.isVisible() and scope.pause_button.isVisible()


def test_flat_saturated_and_mains_channels_are_drawn_in_their_colours() -> None:
    sfreq = 250.0
    names = ["good", "flat", "clipped", "mains"]
    rec = simulate_recording([], duration=6.0, seed=2, ch_names=["C3", "C4", "Cz", "Pz"])
    data = rec.data.copy()
    t = np.arange(data.shape[1]) / sfreq
    data[1] = 5e-3  # a disconnected electrode: a constant
    data[2] = np.clip(data[2] * 20, -100e-6, 100e-6)
    data[3] += 80e-6 * np.sin(2 * np.pi * 50 * t)
    scope = shown(ScopeView(names, sfreq), size=(1200, 500))
    feed(scope, data)
    image = render(scope)
    assert scope.quality == (GOOD, FLAT, SATURATED, LINE_NOISE)
    assert scope.channel_labels == [
        "good",
        "flat · flat",
        "clipped · saturated",
        "mains · line noise",
    ]
    assert drawn_labels(scope.scope_plot.getAxis("left")) == scope.channel_labels
    assert "clipped: saturated" in scope.scope_plot.toolTip()
    plot, vb = scope.scope_plot, scope.scope_plot.getViewBox()
    for name in names:
        color = scope.trace_color(name)
        assert color == QUALITY_COLORS[scope.quality[names.index(name)]]
        # Count pixels of each quality colour inside this channel's row of the picture.
        y = scope.channel_y(name)
        top = int(plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(-5, y + 0.45))).y())
        bottom = int(plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(-5, y - 0.45))).y())
        counts = {}
        for q, c in QUALITY_COLORS.items():
            rgb = QtGui.QColor(c).rgb() & 0xFFFFFF
            counts[q] = sum(
                (image.pixel(px, py) & 0xFFFFFF) == rgb
                for px in range(100, image.width() - 5, 3)
                for py in range(max(0, top), min(image.height(), bottom))
            )
        expected = scope.quality[names.index(name)]
        assert counts[expected] > 50 and max(counts, key=counts.get) == expected, (name, counts)
    image.save(str(SHOTS / "scope_quality.png"))
