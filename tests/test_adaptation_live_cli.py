"""``bci live --save-adapted`` as a person runs it: supervised adaptation on a real LSL
stream with markers, Ctrl-C, and the adapted model is on disk, loadable and different."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from live_helpers import CLASSES, short_paradigm, simulated_replay

from acquisition.array_source import ArraySource
from acquisition.player import Player
from acquisition.simulator import graz_cues, simulate_recording
from bci.model_file import load_model, save_model
from bci.paradigm import Paradigm
from bci.pipeline import Pipeline

BCI = Path(sys.executable).with_name("bci")
pytestmark = [pytest.mark.lsl, pytest.mark.slow]

#: Markers the live process must have printed before Ctrl-C: with markers every 1.5 s and a
#: trial released for learning at onset + tmax + window = onset + 2 s, the first trial has
#: been learnt once windows past the third marker are classified.
MARKERS_BEFORE_STOP = 4


def _adapting_model(path: Path) -> Path:
    d = short_paradigm().to_dict()
    d["adaptation"] = {"method": "recentre", "memory": 5.0, "supervised": True}
    par = Paradigm.from_dict(d)
    cues, duration = graz_cues(
        list(CLASSES), 8, seed=0, fixation=0.3, cue=0.3, imagery=1.2, rest=(0.3, 0.5)
    )
    rec = simulate_recording(cues, duration=duration + 0.5, seed=0, difficulty=0.1)
    return save_model(path, Pipeline(par, rec.info.ch_names, rec.sfreq).fit([rec]))


def test_ctrl_c_saves_the_model_as_adapted_during_the_session(
    unique_name: str, tmp_path: Path
) -> None:
    start = _adapting_model(tmp_path / "start.bci")
    adapted = tmp_path / "M2.bci"
    # Another day: the replayed session has other channel gains.
    replay = simulated_replay(30.0)
    replay.data *= np.linspace(0.5, 2.0, replay.data.shape[0])[:, None]
    out, err = tmp_path / "live.out", tmp_path / "live.err"
    with Player(ArraySource(replay), name=unique_name, loop=True) as player:
        args = ["live", "--model", str(start), "--stream", unique_name, "--headless"]
        args += ["--markers", player.marker_name, "--save-adapted", str(adapted)]
        proc = subprocess.Popen(
            [str(BCI), *args],
            stdout=out.open("w"),
            stderr=err.open("w"),
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        try:

            def learnt() -> bool:
                # Probabilities printed after the MARKERS_BEFORE_STOP-th marker line.
                text = out.read_text()
                marks = [m.end() for m in re.finditer(r"^marker '\w+' at ", text, re.M)]
                return len(marks) >= MARKERS_BEFORE_STOP and (
                    "->" in text[marks[MARKERS_BEFORE_STOP - 1] :]
                )

            deadline = time.monotonic() + 120.0
            while not learnt() and time.monotonic() < deadline:
                assert proc.poll() is None, err.read_text()
                time.sleep(0.1)  # pacing a poll of another process
            assert learnt(), out.read_text()
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(timeout=60.0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    stdout = out.read_text()
    assert rc == 130, err.read_text()
    saved = re.search(r"saved adapted model (\S+) \((\d+) supervised update", stdout)
    assert saved is not None, stdout
    n_updates = int(saved.group(2))
    assert Path(saved.group(1)) == adapted and n_updates >= 1

    before, after = load_model(start), load_model(adapted)
    assert after.metrics_["supervised_updates"] == n_updates
    assert after.metrics_["adapted_from"] == str(start)
    assert after.classes_ == before.classes_
    # partial_fit moved the weights; the running reference is where the next session starts.
    assert after.model.coef_.shape == before.model.coef_.shape
    assert not np.allclose(after.model.coef_, before.model.coef_, rtol=1e-6, atol=0.0)
    assert not np.allclose(
        after.adapter.recentring.start_reference,
        before.adapter.recentring.start_reference,
        rtol=1e-6,
        atol=0.0,
    )
    # The adapted model classifies: finite probabilities that sum to one.
    E, _, _ = after.epochs_from_recording(replay)
    proba = after.predict_proba_epochs(E)
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1.0)
