"""The calibration protocol as a state machine, run on a fake clock at any speed."""

from __future__ import annotations

import pytest

from bci.calibration import (
    CalibrationError,
    CalibrationProtocol,
    SessionTimings,
    protocol_from_paradigm,
)
from bci.paradigm import Paradigm


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def run_to_end(protocol: CalibrationProtocol, clock: FakeClock, dt: float = 0.05) -> list:
    events = protocol.start()
    for _ in range(1_000_000):
        if protocol.finished:
            break
        clock.t += dt
        events += protocol.update()
    return events


def test_one_class_marker_per_trial_in_graz_order() -> None:
    clock = FakeClock()
    protocol = CalibrationProtocol(
        {"left": "left", "right": "right", "feet": "feet"},
        trials_per_class=6,
        seed=3,
        clock=clock,
    )
    events = run_to_end(protocol, clock)
    markers = [e.marker for e in events]
    assert markers[0] == "session_start" and markers[-1] == "session_end"
    cues = [m for m in markers if m in ("left", "right", "feet")]
    assert cues == list(protocol.trial_labels)
    assert {c: cues.count(c) for c in set(cues)} == {"left": 6, "right": 6, "feet": 6}
    # Every trial is fixation -> class marker -> imagery -> rest, in that order.
    body = markers[1:-1]
    assert len(body) == 4 * 18
    for k in range(18):
        trial = body[4 * k : 4 * k + 4]
        assert trial == ["fixation", protocol.trial_labels[k], "imagery", "rest"]


def test_phase_durations_follow_the_timings_and_rest_is_random() -> None:
    clock = FakeClock()
    timings = SessionTimings(fixation=2.0, cue=1.25, task=4.0, rest_min=1.5, rest_max=2.5)
    protocol = CalibrationProtocol(
        ["a", "b"], trials_per_class=10, timings=timings, seed=1, clock=clock
    )
    events = run_to_end(protocol, clock, dt=0.5)
    times = {e.phase: [] for e in events}
    for e in events:
        times[e.phase].append(e.time)
    fix, cue, task, rest = (times[p] for p in ("fixation", "cue", "task", "rest"))
    assert [round(c - f, 9) for f, c in zip(fix, cue, strict=True)] == [2.0] * 20
    assert [round(t - c, 9) for c, t in zip(cue, task, strict=True)] == [1.25] * 20
    assert [round(r - t, 9) for t, r in zip(task, rest, strict=True)] == [4.0] * 20
    rests = [f - r for r, f in zip(rest[:-1], fix[1:], strict=True)]
    assert all(1.5 <= r <= 2.5 for r in rests)
    assert len({round(r, 6) for r in rests}) > 5  # drawn, not constant
    # Scheduled times do not depend on how coarsely the caller polls.
    assert abs(protocol.expected_duration - (times["done"][0] - fix[0])) < 1e-9


def test_classes_are_balanced_and_shuffled_by_seed() -> None:
    orders = [
        CalibrationProtocol(["l", "r"], trials_per_class=10, seed=s, clock=FakeClock()).trial_labels
        for s in (1, 1, 2)
    ]
    assert orders[0] == orders[1] != orders[2]
    assert orders[0].count("l") == orders[0].count("r") == 10
    assert orders[0] != tuple(["l"] * 10 + ["r"] * 10)


def test_pause_waits_for_the_end_of_the_trial_and_resume_repeats_nothing() -> None:
    clock = FakeClock()
    protocol = CalibrationProtocol(["l", "r"], trials_per_class=3, seed=0, clock=clock)
    events = protocol.start()
    clock.t += 2.5  # inside the cue of trial 0
    events += protocol.update()
    events += protocol.pause()
    assert protocol.state().pause_requested and not protocol.paused
    for _ in range(400):
        clock.t += 0.05
        events += protocol.update()
    assert protocol.paused
    assert events[-1].marker == "pause"
    clock.t += 60.0  # a long break: nothing happens
    assert protocol.update() == []
    events += protocol.resume()
    assert events[-2].marker == "resume" and events[-1].marker == "fixation"
    for _ in range(100_000):
        if protocol.finished:
            break
        clock.t += 0.05
        events += protocol.update()
    cues = [e.marker for e in events if e.phase == "cue"]
    assert cues == list(protocol.trial_labels)


def test_pause_during_fixation_is_immediate_and_the_trial_restarts() -> None:
    clock = FakeClock()
    protocol = CalibrationProtocol(["l", "r"], trials_per_class=1, seed=0, clock=clock)
    protocol.start()
    clock.t += 1.0
    events = protocol.pause()
    assert protocol.paused and events[-1].marker == "pause"
    events = protocol.resume()
    assert [e.marker for e in events] == ["resume", "fixation"]
    assert events[-1].trial == 0


def test_ssvep_paradigm_uses_its_own_task_marker_and_session_table() -> None:
    paradigm = Paradigm.from_dict(
        {
            "classes": {"f8": "f8", "f10": "f10", "f12": "f12"},
            "session": {
                "kind": "ssvep",
                "fixation": 1.0,
                "cue": 0.5,
                "imagery": 3.0,
                "rest_min": 1.0,
                "rest_max": 1.0,
                "trials_per_class": 2,
                "frequencies": {"f8": 8.0, "f10": 10.0, "f12": 12.0},
            },
        }
    )
    clock = FakeClock()
    protocol = protocol_from_paradigm(paradigm, seed=0, clock=clock)
    events = run_to_end(protocol, clock)
    assert [e.marker for e in events].count("stimulation") == 6
    assert protocol.timings == SessionTimings(1.0, 0.5, 3.0, 1.0, 1.0)
    assert protocol.expected_duration == pytest.approx(6 * 5.5)


def test_impossible_settings_are_refused_with_the_name_of_the_setting() -> None:
    with pytest.raises(CalibrationError, match="rest_max"):
        SessionTimings(rest_min=3.0, rest_max=1.0)
    with pytest.raises(CalibrationError, match="at least 2 classes"):
        CalibrationProtocol(["only"], trials_per_class=3)
    with pytest.raises(CalibrationError, match="trials_per_class"):
        CalibrationProtocol(["a", "b"], trials_per_class=0)
