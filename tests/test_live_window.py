"""The live window, offscreen: bars = the pipeline's probabilities, regions drawn, stalls survived."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from live_helpers import CLASSES, fitted_pipeline, simulated_replay

from acquisition.array_source import ArraySource
from acquisition.lsl_source import LSLSource
from acquisition.player import Player
from acquisition.simulator import SimulatedHeadset
from bci.live_session import LiveSession
from gui.live_window import LiveWindow, open_live_window
from gui.qt import QtGui, app

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/gui_shots")


def pump(window: LiveWindow, condition, timeout: float = 10.0) -> bool:
    """Run frames (tick + Qt events) until ``condition()`` or ``timeout``."""
    qt = app()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        window.tick()
        qt.processEvents()
        if condition():
            return True
        time.sleep(0.002)  # pacing frames, not a wait for data
    return False


def save_shot(window: QtGui.QWindow, path: Path) -> QtGui.QImage:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixmap = window.grab()
    assert pixmap.save(str(path))
    return pixmap.toImage()


def region_has_content(image: QtGui.QImage, widget, window) -> bool:
    """True when the widget's area in the screenshot holds more than two colours."""
    top_left = widget.mapTo(window, widget.rect().topLeft())
    w, h = widget.width(), widget.height()
    colors = set()
    for y in np.linspace(top_left.y() + 2, top_left.y() + h - 3, 40).astype(int):
        for x in np.linspace(top_left.x() + 2, top_left.x() + w - 3, 60).astype(int):
            colors.add(image.pixel(int(x), int(y)))
    return len(colors) > 2


def test_bars_show_the_pipelines_probabilities_and_every_region_is_drawn(tmp_path: Path) -> None:
    headset = SimulatedHeadset(realtime=True, seed=4, difficulty=0.1)
    session = LiveSession(headset, fitted_pipeline())
    window = LiveWindow(session)
    window.resize(1280, 860)
    window.start()
    outputs, chunks = [], []

    def record(w: LiveWindow, update) -> None:
        outputs.extend(update.probabilities)
        chunks.append((update.data, update.timestamps))
        if len(chunks) % 60 == 20:  # the simulated person switches task now and then
            headset.set_state(CLASSES[len(chunks) // 60 % 2])

    window.on_tick = record
    assert pump(window, lambda: len(outputs) >= 30 and window.frames > 20, 15.0)
    # What the bars show is the last probability the pipeline produced...
    assert np.allclose(window.bars.heights, outputs[-1])
    assert window.bars.winner == int(np.argmax(outputs[-1]))
    # ...and that is what a fresh copy of the pipeline computes from the same samples.
    reference = fitted_pipeline()
    data = np.hstack([c[0] for c in chunks])
    times = np.concatenate([c[1] for c in chunks])
    expected = reference.push(data, times)
    assert np.allclose(outputs[-1], expected[-1][1])
    assert window.traces.marker_labels  # the simulator's markers are drawn as lines
    window.scope.refresh(force=True)
    app().processEvents()
    image = save_shot(window, tmp_path / "live.png")
    save_shot(window, SHOTS / "live_window.png")
    assert image.width() > 500 and image.height() > 400
    for widget in (window.bars, window.traces, window.scope.scope_plot, window.status):
        assert region_has_content(image, widget, window), type(widget).__name__
    status = window.status.text()
    assert "24 ch" in status and "250 Hz" in status and "latency" in status
    for mode in ("band power", "spectrum"):
        window.scope.set_mode(mode)
        app().processEvents()
        shot = save_shot(window, SHOTS / f"live_window_{mode.replace(' ', '_')}.png")
        assert region_has_content(shot, window.scope.stack.currentWidget(), window)
    dialog = window.status.histogram_button
    dialog.click()
    app().processEvents()
    assert window._histogram is not None and window._histogram.isVisible()
    assert "median" in window._histogram.summary.text()
    window._histogram.grab().save(str(SHOTS / "latency_histogram.png"))
    window.close()


def test_a_refused_stream_is_explained_in_the_window(tmp_path: Path) -> None:
    other = simulated_replay(3.0, ch_names=["C3", "Cz", "C4", "O1"])
    window = open_live_window(ArraySource(other), fitted_pipeline())
    window.start()
    app().processEvents()
    assert window.session is None and window.error_banner.showing
    text = window.error_banner.text()
    assert "missing channels" in text and "Traceback" not in text
    save_shot(window, SHOTS / "live_window_refused.png")
    window.close()


@pytest.mark.lsl
def test_the_window_survives_a_stream_that_dies_and_comes_back(unique_name: str) -> None:
    recording = simulated_replay(120.0)
    player = Player(ArraySource(recording), name=unique_name).start()
    source = LSLSource(name=unique_name, timeout=5.0, stall_seconds=0.4)
    window = open_live_window(source, fitted_pipeline())
    window.start()
    got = []
    window.on_tick = lambda w, update: got.extend(update.prob_times)
    assert pump(window, lambda: len(got) > 3, 10.0)
    player.close()  # the headset dies
    assert pump(window, lambda: window.banner.showing and window.banner.severity == "warning", 10.0)
    assert "Stream" in window.banner.text()
    save_shot(window, SHOTS / "live_window_stalled.png")
    before = len(got)
    player = Player(ArraySource(recording), name=unique_name).start()  # and comes back
    try:
        assert pump(window, lambda: len(got) > before + 3, 20.0)
        assert pump(window, lambda: not window.banner.showing, 10.0)
    finally:
        player.close()
        window.close()
        window.session.close()
    assert window.bars.heights.sum() == pytest.approx(1.0)
    assert tuple(window.bars.classes) == CLASSES
