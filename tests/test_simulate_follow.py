"""``bci simulate --follow``: a simulated person who follows another program's cues.

The whole no-hardware path at 10x speed: `bci simulate --follow NAME-calibration` runs as
its own process; a headless calibration (what `bci calibrate --headless` runs, at 10x)
cues it over LSL, records, trains; then live classification of the same simulated
person, cued over the same marker stream name, is scored trial by trial.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pylsl
import pytest
from live_helpers import CLASSES, short_paradigm

from acquisition.lsl_source import LSLSource
from acquisition.player import Player
from acquisition.simulator import CueFollower, SimulatedHeadset
from bci.calibration import CalibrationProtocol, timings_from_paradigm
from bci.calibration_run import CalibrationRun
from bci.live_session import LiveSession
from bci.metrics import significance_threshold
from bci.model_file import load_model

BCI = Path(sys.executable).with_name("bci")
SPEED = 10.0

pytestmark = [pytest.mark.lsl, pytest.mark.slow]


def test_cue_follower_maps_cues_to_tasks_and_rests_otherwise() -> None:
    headset = SimulatedHeadset(seed=0)
    follower = CueFollower(headset, {"T1": "left", "T2": "right"})
    follower.follow(["fixation", "T1", "imagery"])
    assert headset.state == "left"
    follower.follow(["rest"])
    assert headset.state == "rest"
    follower.follow(["T2", "stimulation"])
    assert headset.state == "right"
    follower.follow(["session_end"])
    assert headset.state == "rest"
    # Without a paradigm the marker text is the class, when the simulator knows the task.
    plain = CueFollower(SimulatedHeadset(seed=0))
    plain.follow(["feet"])
    assert plain.headset.state == "feet"
    assert plain.task_for("T1") is None


def test_player_source_time_inverts_the_stamps_it_publishes() -> None:
    headset = SimulatedHeadset(seed=0)
    player = Player(headset, name=f"clock-{uuid.uuid4().hex[:8]}", speed=SPEED)
    assert player.source_time(pylsl.local_clock()) is None  # nothing pulled yet
    with player:
        found = pylsl.resolve_byprop("name", player.name, 1, 10)
        assert found, "the player's stream did not appear"
        inlet = pylsl.StreamInlet(found[0])
        stamps: list[float] = []
        deadline = time.monotonic() + 10
        while len(stamps) < 100:
            assert time.monotonic() < deadline, "no samples within 10 s"
            _, ts = inlet.pull_chunk(timeout=0.5)
            stamps.extend(ts)
    # Each published stamp maps back onto its sample's own time: whole sample indices.
    index = np.array([player.source_time(t) for t in stamps]) * headset.sfreq
    np.testing.assert_allclose(index, np.round(index), atol=1e-3)
    np.testing.assert_allclose(np.diff(index), 1.0, atol=1e-3)


def _wait_for_line(proc: subprocess.Popen, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return line
    raise AssertionError(f"{text!r} not printed within {timeout} s; got {''.join(seen)!r}")


def test_calibrate_train_live_against_simulate_follow(tmp_path: Path) -> None:
    name = f"sim-{uuid.uuid4().hex[:8]}"
    cues = f"{name}-calibration"  # CalibrationRun's marker outlet for --stream NAME
    proc = subprocess.Popen(
        [
            str(BCI),
            "simulate",
            "--name",
            name,
            "--follow",
            cues,
            "--speed",
            str(SPEED),
            "--seed",
            "3",
            "--difficulty",
            "0.1",
            "--seconds",
            "120",
            "--status-every",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_line(proc, "simulate:", 30)
        assert pylsl.resolve_byprop("name", name, 1, 15), "the simulated stream did not appear"
        paradigm = short_paradigm()
        run = CalibrationRun(
            paradigm,
            stream=name,
            out_dir=tmp_path,
            seed=5,
            trials_per_class=10,
            speed=SPEED,
            lead_in=3.0,  # the follower looks for the cue stream every 0.5 s
            tail=1.0,
        )
        run.run_headless()
        result = run.train()
        m = result.metrics
        assert m["n_epochs"] == 20
        assert m["accuracy"] > m["significance_threshold"], m

        # ---- live: the same simulated person, cued over the same marker stream name
        model = load_model(result.model_path)
        source = LSLSource(name=name, timeout=10)
        session = LiveSession(source, model, publish_name=name)
        outlet = pylsl.StreamOutlet(
            pylsl.StreamInfo(cues, "Markers", 1, pylsl.IRREGULAR_RATE, pylsl.cf_string, "live")
        )
        assert outlet.wait_for_consumers(15), "the simulated person never found the live cues"
        protocol = CalibrationProtocol(
            dict(paradigm.classes),
            trials_per_class=10,
            timings=timings_from_paradigm(paradigm),
            seed=8,
            clock=lambda: pylsl.local_clock() * SPEED,
        )
        trials: list[tuple[str, float, float]] = []  # (class, cue time, task end) LSL clock
        outputs: list[tuple[float, np.ndarray]] = []
        events = protocol.start()
        deadline = time.monotonic() + 40
        while not protocol.finished:
            assert time.monotonic() < deadline, "the live session did not finish in 40 s"
            for ev in events:
                outlet.push_sample([ev.marker], ev.time / SPEED)
                if ev.phase == "cue":
                    trials.append((ev.label, ev.time / SPEED, float("nan")))
                elif ev.phase == "rest" and trials:
                    label, cue, _ = trials[-1]
                    trials[-1] = (label, cue, ev.time / SPEED)
            update = session.step()
            outputs.extend(zip(update.prob_times.tolist(), update.probabilities, strict=True))
            events = protocol.update()
            time.sleep(0.002)  # pacing the cue clock
        # Let the last windows arrive (bounded), then score.
        end = time.monotonic() + 2
        while time.monotonic() < end:
            update = session.step()
            outputs.extend(zip(update.prob_times.tolist(), update.probabilities, strict=True))
            time.sleep(0.01)  # pacing the poll
        session.close()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out
    done = [line for line in out.splitlines() if line.startswith("simulate: done")]
    print(done[-1] if done else out)

    # One decision per trial: the majority over windows that lie after the ramp-in (0.8 s of
    # signal after the cue) and end before the rest, as a user would read the bars.
    window = paradigm.online.window / SPEED
    classes = list(session.classes)
    correct = []
    for label, cue, task_end in trials:
        votes = [
            classes[int(np.argmax(p))]
            for t, p in outputs
            if t - window >= cue + 0.3 / SPEED and t <= task_end
        ]
        assert votes, f"no live window inside trial {label} at {cue:.2f}"
        correct.append(max(set(votes), key=votes.count) == label)
    accuracy = float(np.mean(correct))
    threshold = significance_threshold(len(correct), n_classes=len(CLASSES))
    print(
        f"calibration cv accuracy {m['accuracy']:.2f} (needed {m['significance_threshold']:.2f}); "
        f"live per-trial accuracy {accuracy:.2f} over {len(correct)} trials (needed {threshold:.2f})"
    )
    assert len(correct) == 20
    assert accuracy > threshold, (accuracy, threshold)
