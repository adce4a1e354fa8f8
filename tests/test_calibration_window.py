"""The calibration window, offscreen, on a simulated headset replayed at 10x."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from live_helpers import CLASSES, short_paradigm

from acquisition.player import Player
from acquisition.simulator import SimulatedHeadset
from bci.calibration_run import CalibrationRun
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
