"""The calibration window, offscreen, on a simulated headset replayed at 10x."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from live_helpers import CLASSES, short_paradigm

from acquisition.player import Player
from acquisition.simulator import SimulatedHeadset
from bci.calibration_run import CalibrationResult, CalibrationRun
from bci.simulated_person import SimulatedPerson
from gui.calibration_window import CalibrationWindow
from gui.cue_display import CueDisplay
from gui.qt import app

pytestmark = [pytest.mark.gui, pytest.mark.lsl, pytest.mark.slow]
SHOTS = Path("/tmp/gui_shots")


def pump(condition, timeout: float) -> bool:
    qt = app()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        qt.processEvents()
        if condition():
            return True
        time.sleep(0.002)  # pacing the event loop, not a wait for data
    return False


def test_window_cues_records_trains_and_offers_go_live(tmp_path: Path, unique_name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    headset = SimulatedHeadset(seed=3, difficulty=0.1, name=unique_name)
    person = SimulatedPerson(headset)
    went_live = []
    with Player(headset, name=unique_name, speed=10.0):
        run = CalibrationRun(
            short_paradigm(),
            stream=unique_name,
            out_dir=tmp_path,
            seed=2,
            trials_per_class=5,
            on_event=person.follow,
            speed=10.0,
            lead_in=1.0,
        )
        window = CalibrationWindow(run, on_go_live=went_live.append)
        window.resize(1000, 760)
        window.start()
        assert pump(lambda: window.cue.phase == "cue", 10.0)
        shot = window.grab()
        shot.save(str(SHOTS / "calibration_cue.png"))
        assert window.cue.cue_text() in ("←", "→")
        assert window.progress.value() == 1  # "trial 1 of 10"
        assert pump(lambda: window.result is not None or window.error is not None, 30.0)
    assert window.error is None, window.error
    assert window.results.isVisible() and window.go_live_button.isVisible()
    text = window.accuracy_label.text()
    assert "accuracy" in text and "chance" in text
    assert window.matrix.rowCount() == window.matrix.columnCount() == len(CLASSES)
    counts = [int(window.matrix.item(i, j).text().split()[0]) for i in range(2) for j in range(2)]
    assert sum(counts) == 10
    app().processEvents()
    window.grab().save(str(SHOTS / "calibration_results.png"))
    window.go_live_button.click()
    assert went_live and went_live[0].model_path.is_file()
    assert np.isfinite(went_live[0].metrics["accuracy"])


def test_cue_display_draws_ssvep_targets_and_a_pause() -> None:
    app()  # a QApplication before any widget (when this test runs alone)
    display = CueDisplay(["f8", "f10", "f12"], {"f8": 8.0, "f10": 10.0, "f12": 12.0})
    display.resize(800, 500)
    display.show()
    display.set_phase("cue", "f10")
    app().processEvents()
    image = display.grab().toImage()
    display.grab().save(str(SHOTS / "calibration_ssvep_cue.png"))
    # The cued target is framed in yellow.
    yellow = sum(
        1
        for x in range(0, 800, 4)
        for y in range(0, 500, 4)
        if image.pixelColor(x, y).red() > 200 and image.pixelColor(x, y).blue() < 120
    )
    assert yellow > 20
    display.set_phase("paused", None, "Paused: press Resume to continue")
    assert display.message.startswith("Paused")


def _result(tmp_path: Path, accuracy: float) -> CalibrationResult:
    metrics = {
        "accuracy": accuracy,
        "chance_level": 0.5,
        "significance_threshold": 0.7,
        "classes": list(CLASSES),
        "confusion_matrix": [[4, 1], [1, 4]],
        "n_epochs": 10,
    }
    return CalibrationResult(tmp_path / "r.xdf", tmp_path / "r.bci", metrics)


def _idle_window(tmp_path: Path, **kwargs) -> CalibrationWindow:
    # Never started: the result screen is shown directly (no stream needed).
    run = CalibrationRun(short_paradigm(), stream="not-started", out_dir=tmp_path)
    window = CalibrationWindow(run, **kwargs)
    window.show()
    return window


def test_the_result_stays_until_go_live_is_pressed(tmp_path: Path) -> None:
    went_live = []
    window = _idle_window(tmp_path, on_go_live=went_live.append)
    window.show_result(_result(tmp_path, 0.9))
    shown = time.monotonic()
    assert not pump(lambda: not window.isVisible(), 1.5)  # still there, nothing counting
    assert window.go_live_button.remaining is None and window.go_live_button.text() == "Go live"
    assert time.monotonic() - shown >= 1.5 and not went_live
    window.go_live_button.click()
    assert went_live and pump(lambda: not window.isVisible(), 2.0)


def test_the_demo_result_counts_down_eight_seconds_then_goes_on(tmp_path: Path) -> None:
    window = _idle_window(tmp_path, auto_close=True)
    assert window.result_seconds == 8.0  # what the demo gets
    window.result_seconds = 1.5  # the same countdown, shorter for the test
    window.show_result(_result(tmp_path, 0.9))
    assert window.go_live_button.isVisible()
    assert window.go_live_button.text() == "Go live (2 s)"
    assert pump(lambda: window.go_live_button.text() == "Go live (1 s)", 2.0)
    assert pump(lambda: not window.isVisible(), 3.0)


def test_an_accuracy_at_the_threshold_says_not_above_chance(tmp_path: Path) -> None:
    window = _idle_window(tmp_path)
    window.show_result(_result(tmp_path, 0.7))  # equal to the threshold: not above it
    assert "not above chance" in window.accuracy_label.text()
    window.show_result(_result(tmp_path, 0.8))
    assert "above chance" in window.accuracy_label.text()
    assert "not above" not in window.accuracy_label.text()
    window.close()


def test_the_closing_the_recording_bar_shows_its_text(tmp_path: Path) -> None:
    window = _idle_window(tmp_path)
    window._start_training()  # finishing an unstarted run is instant; training then fails
    assert "closing the recording" in window.work_progress.text()
    window.work_progress.grab().save(str(SHOTS / "calibration_closing_bar.png"))
    window._worker.join(30.0)  # nothing was recorded, so training fails (and says so)
    window._collect()
    assert window.error is not None and "Training failed" in window.error
    window.close()
