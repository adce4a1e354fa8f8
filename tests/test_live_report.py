"""The summary ``bci live`` ends with: counts, and the live accuracy against cue markers."""

from __future__ import annotations

import numpy as np
import pytest
from live_helpers import fitted_pipeline, simulated_replay

from acquisition.array_source import ArraySource
from bci.live_accuracy import LiveAccuracy
from bci.live_report import LiveReport, accuracy_verdict
from bci.live_session import LiveSession


def test_cue_markers_score_only_windows_inside_their_epoch() -> None:
    # Paradigm markers "T1"/"T2" mean left/right; epochs 0.5..2.5 s after the cue.
    acc = LiveAccuracy(
        ("left", "right"), 1.0, names={"T1": "left", "T2": "right"}, epoch=(0.5, 2.5)
    )
    acc.add_markers(np.array([10.0, 20.0, 30.0]), ["T1", "T2", "T0"])
    ends = np.array([11.4, 11.6, 12.5, 12.6, 21.5, 22.0, 31.8])
    p_left, p_right = [0.9, 0.1], [0.2, 0.8]
    acc.add_outputs(ends, np.array([p_left, p_left, p_right, p_left, p_right, p_left, p_left]))
    acc.score_until(np.inf)
    # 11.4 starts before the epoch; 12.6 ends after it; 31.8 follows T0 (not a class).
    assert acc.scored == [
        ("left", "left"),
        ("left", "right"),
        ("right", "right"),
        ("right", "left"),
    ]
    assert acc.accuracy == 0.5 and acc.per_class() == {"left": 0.5, "right": 0.5}


def test_a_live_accuracy_at_the_threshold_is_not_above_chance() -> None:
    acc = LiveAccuracy(("left", "right"), 1.0)
    acc.scored = [("left", "left")] * 15 + [("left", "right")] * 5  # 75% of 20
    # Step = window: 20 independent decisions, p < 0.05 needs more than 70%.
    assert accuracy_verdict(acc, step=1.0).startswith("above chance")
    # Overlapping windows (step 0.25 s of 1 s): 5 independent decisions, 80% needed.
    verdict = accuracy_verdict(acc, step=0.25)
    assert verdict.startswith("not above chance") and "5 independent windows" in verdict
    assert accuracy_verdict(LiveAccuracy(("a", "b"), 1.0)) == "no window could be scored"


def test_the_report_counts_every_window_of_a_session() -> None:
    pipeline = fitted_pipeline()
    source = ArraySource(simulated_replay(6.0), chunk_size=16)
    report = LiveReport.for_pipeline(pipeline, with_markers=True)
    produced = 0
    with LiveSession(source, pipeline) as session:
        while not source.ended:
            update = session.step()
            report.add(update)
            produced += update.prob_times.size
        lines = report.lines(session)
    assert produced > 10 and report.windows == produced
    assert lines[0].startswith(f"live: {produced} windows classified in ")
    assert "latency median" in lines[0] and "0 samples dropped" in lines[0]
    # The replay's markers are the cues left/right: windows inside their epochs are scored.
    assert lines[1].startswith("live accuracy against the markers: ")
    assert report.accuracy.n > 0


def test_without_markers_there_is_no_accuracy_line() -> None:
    report = LiveReport.for_pipeline(fitted_pipeline(), with_markers=False)
    assert report.accuracy is None


@pytest.mark.parametrize("step", [None, 0.0])
def test_an_unknown_step_counts_every_window(step) -> None:
    acc = LiveAccuracy(("left", "right"), 1.0)
    acc.scored = [("left", "left")] * 20
    assert "over 20 independent windows" in accuracy_verdict(acc, step=step)
