"""A whole calibration at high speed: simulated headset on LSL -> cues -> XDF -> model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from live_helpers import CLASSES, short_paradigm

from acquisition.file_source import load_recording
from acquisition.player import Player
from acquisition.simulator import SimulatedHeadset, graz_cues, simulate_recording
from bci.calibration_run import CalibrationRun
from bci.model_file import load_model
from bci.simulated_person import SimulatedPerson

pytestmark = [pytest.mark.lsl, pytest.mark.slow]

SPEED = 10.0


def test_high_speed_calibration_records_every_cue_and_trains_a_useful_model(
    tmp_path: Path, unique_name: str
) -> None:
    paradigm = short_paradigm()
    headset = SimulatedHeadset(seed=11, difficulty=0.1, name=unique_name)
    person = SimulatedPerson(headset)
    with Player(headset, name=unique_name, speed=SPEED):
        run = CalibrationRun(
            paradigm,
            stream=unique_name,
            out_dir=tmp_path,
            seed=5,
            trials_per_class=6,
            on_event=person.follow,
            speed=SPEED,
            lead_in=1.0,
            tail=1.0,
        )
        run.run_headless()
    assert run.recording_path.is_file()
    recording = load_recording(run.recording_path)
    labels = recording.marker_labels
    cues = [m for m in labels if m in CLASSES]
    # One marker per cue, in the order the protocol showed them, 6 of each class.
    assert cues == list(run.protocol.trial_labels)
    assert {c: cues.count(c) for c in CLASSES} == {"left": 6, "right": 6}
    trials = [m for m in labels if m in ("fixation", "imagery", "rest")]
    assert trials == ["fixation", "imagery", "rest"] * 12
    assert labels[-1] == "session_end"
    # Each cue lies cue-duration after its fixation, in recorded samples.
    fix = recording.marker_samples[[i for i, m in enumerate(labels) if m == "fixation"]]
    cue = recording.marker_samples[[i for i, m in enumerate(labels) if m in CLASSES]]
    assert np.allclose((cue - fix) / recording.sfreq, paradigm.session.fixation, atol=0.1)

    result = run.train()
    assert result.model_path.is_file()
    m = result.metrics
    assert m["n_epochs"] == 12 and list(m["classes"]) == list(CLASSES)
    assert np.asarray(m["confusion_matrix"]).sum() == 12

    # Held-out simulated trials from another session of the same simulated person.
    model = load_model(result.model_path)
    cues_out, duration = graz_cues(
        list(CLASSES), 15, seed=99, fixation=0.3, cue=0.3, imagery=1.2, rest=(0.3, 0.5)
    )
    held_out = simulate_recording(cues_out, duration=duration + 0.5, seed=12, difficulty=0.1)
    E, y, _ = model.epochs_from_recording(held_out)
    accuracy = float(np.mean(model.predict_epochs(E) == y))
    assert len(y) == 30
    assert accuracy > 0.75, accuracy  # chance is 0.5; 0.7 is significant at p < 0.05 for n=30
