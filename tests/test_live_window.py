"""The live window, offscreen: bars = the pipeline's probabilities, regions drawn, stalls survived."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pylsl
import pytest
from live_helpers import CLASSES, fitted_pipeline, push_chunks, simulated_replay

from acquisition.array_source import ArraySource
from acquisition.lsl_source import LSLSource
from acquisition.player import Player
from acquisition.simulator import SimulatedHeadset
from bci.display_buffers import ExponentialSmoother
from bci.live_session import LiveSession, LiveUpdate, StreamEvent
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
    _, windows = push_chunks(reference, data, times, [data.shape[1]])
    expected = reference.predict_proba_epochs(windows[-1:])
    assert np.allclose(outputs[-1], expected[-1])
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


@pytest.mark.lsl
def test_smoothing_changes_what_is_shown_but_not_what_is_published(unique_name: str) -> None:
    pipeline = fitted_pipeline()
    # The paradigm's [online] smoothing reaches the window (the pipeline carries it).
    online = dataclasses.replace(pipeline.paradigm.online, smoothing=0.5)
    pipeline.paradigm = dataclasses.replace(pipeline.paradigm, online=online)
    session = LiveSession(
        ArraySource(simulated_replay(12.0), chunk_size=8), pipeline, publish_name=unique_name
    )
    found = pylsl.resolve_byprop("name", f"{unique_name}-probabilities", 1, 5.0)
    assert found, "the probabilities outlet is not visible on LSL"
    inlet = pylsl.StreamInlet(found[0])
    inlet.open_stream(5.0)
    window = LiveWindow(session)
    assert window.smoother.tau == 0.5
    window.start()
    raw_t, raw, received = [], [], []

    def record(w: LiveWindow, update) -> None:
        raw_t.extend(update.prob_times)
        raw.extend(update.probabilities)
        chunk, _ = inlet.pull_chunk(timeout=0.0)
        received.extend(chunk)

    window.on_tick = record
    try:
        assert pump(window, lambda: len(received) >= 40 and len(raw) >= 40, 20.0)
    finally:
        window.close()
        session.close()
    raw_t, raw = np.array(raw_t), np.array(raw)
    published = np.array(received, dtype=float)
    k = len(published)
    # LSL carries the pipeline's raw probabilities...
    assert np.allclose(published, raw[:k].astype(np.float32), atol=1e-7)
    # ...the history and the bars show their moving average.
    shown_t, shown = window.traces.history.since(-np.inf)
    expected = ExponentialSmoother(2, 0.5).update(raw_t, raw)
    assert np.array_equal(shown_t, raw_t[-shown_t.size :])
    assert np.allclose(shown.T, expected[-shown_t.size :])
    assert np.max(np.abs(shown.T - raw[-shown_t.size :])) > 0.05
    assert np.allclose(window.bars.heights, np.clip(expected[-1], 0, 1))
    assert np.abs(published - expected[:k]).max() > 0.05  # the smoothed values were not sent


def test_the_last_screen_shows_its_text_and_closes_after_its_countdown() -> None:
    session = LiveSession(ArraySource(simulated_replay(6.0), chunk_size=8), fitted_pipeline())
    window = LiveWindow(session)
    window.start()
    assert pump(window, lambda: window.bars.winner >= 0, 10.0)
    window.show_final("Live accuracy <b>80%</b> over 40 windows: above chance", seconds=1.5)
    assert not window.timer.isActive()  # frozen
    assert window.final_panel.isVisible() and "80%" in window.final_label.text()
    assert window.close_button.text() == "Close (2 s)"
    save_shot(window, SHOTS / "live_window_final.png")
    qt = app()
    deadline = time.monotonic() + 5.0
    while window.isVisible() and time.monotonic() < deadline:
        qt.processEvents()
        time.sleep(0.01)  # pacing the event loop while the countdown runs
    assert not window.isVisible()
    session.close()


def test_after_a_lost_stream_the_bars_say_no_data() -> None:
    session = LiveSession(ArraySource(simulated_replay(6.0), chunk_size=8), fitted_pipeline())
    window = LiveWindow(session)
    window.start()
    assert pump(window, lambda: window.bars.winner >= 0, 10.0)
    lost = LiveUpdate(
        data=np.empty((session.info.n_channels, 0)),
        timestamps=np.empty(0),
        prob_times=np.empty(0),
        probabilities=np.empty((0, 2)),
        events=[StreamEvent("lost", "stream 'x' lost: the sender closed the connection", 0.0)],
    )
    window._handle_events(lost)
    assert window.bars.no_data.startswith("no data") and window.bars.winner == -1
    assert window.bars.heights.sum() == 0.0  # the last probabilities are not shown as current
    assert pump(window, lambda: window.bars.winner >= 0, 10.0)  # new windows: bars again
    assert window.bars.no_data == ""
    window.close()
    session.close()
