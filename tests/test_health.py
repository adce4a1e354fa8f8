"""HealthTracker and StreamHealth: pure timestamp arithmetic, no LSL."""

from __future__ import annotations

import numpy as np
import pytest

from acquisition.health import HealthTracker, StreamHealth


def stamps(start: int, stop: int, rate: float = 100.0, t0: float = 1000.0) -> np.ndarray:
    return t0 + np.arange(start, stop) / rate


def test_regular_stream_has_no_events_and_counts_samples():
    tracker = HealthTracker(100.0)
    events = tracker.update(stamps(0, 50), arrival=1000.5) + tracker.update(stamps(50, 100), 1001.0)
    assert events == []
    health = tracker.snapshot(1001.0)
    assert isinstance(health, StreamHealth)
    assert health.samples_received == 100
    assert health.dropped_samples == 0
    assert health.last_timestamp == pytest.approx(1000.99)
    assert health.lag_seconds == pytest.approx(0.01)
    assert health.state == "ok"


def test_missing_samples_inside_and_between_chunks_are_counted():
    tracker = HealthTracker(100.0)
    tracker.update(stamps(0, 10), 1000.1)
    inside = np.r_[stamps(10, 20), stamps(27, 30)]  # 20..26 missing
    events = tracker.update(inside, 1000.3)
    events += tracker.update(stamps(40, 50), 1000.5)  # 30..39 missing
    assert [e.kind for e in events] == ["gap", "gap"]
    assert [e.samples for e in events] == [7, 10]
    assert events[0].index == 10
    assert events[1].index == 0
    assert tracker.snapshot(1000.5).dropped_samples == 17


def test_jitter_below_tolerance_is_not_a_gap():
    tracker = HealthTracker(250.0, jitter_tolerance=0.02)
    ts = stamps(0, 100, 250.0)
    ts[50:] += 0.012  # a chunk arriving 12 ms late
    assert tracker.update(ts, 1000.4) == []


def test_backward_jump_is_a_jump_not_a_gap():
    tracker = HealthTracker(100.0)
    tracker.update(stamps(0, 10), 1000.1)
    events = tracker.update(stamps(10, 20) - 10.0, 1000.2)
    assert [e.kind for e in events] == ["timestamp_jump"]
    assert events[0].seconds == pytest.approx(-9.99)
    assert tracker.snapshot(1000.2).dropped_samples == 0


def test_forward_jump_by_hours_while_data_kept_flowing_is_a_jump():
    tracker = HealthTracker(100.0)
    tracker.update(stamps(0, 10), 1000.1)
    events = tracker.update(stamps(10, 20) + 3600.0, 1000.2)
    assert [e.kind for e in events] == ["timestamp_jump"]
    assert tracker.snapshot(1000.2).dropped_samples == 0
    assert tracker.snapshot(1000.2).timestamp_jumps == 1


def test_long_silence_with_matching_wall_time_is_a_gap():
    tracker = HealthTracker(100.0, jump_seconds=30.0)
    tracker.update(stamps(0, 10), 1000.1)
    events = tracker.update(stamps(4010, 4020), 1040.2)  # 40 s later, 40 s of wall clock
    assert [e.kind for e in events] == ["gap"]
    assert events[0].samples == 4000


def test_time_scale_sets_the_expected_spacing():
    tracker = HealthTracker(100.0, time_scale=10.0, jitter_tolerance=0.0)
    fast = 1000.0 + np.arange(100) / 1000.0
    assert tracker.update(fast, 1000.1) == []
    events = tracker.update(1000.0 + np.arange(103, 110) / 1000.0, 1000.2)
    assert [e.samples for e in events] == [3]


def test_effective_rate_is_measured_on_the_wall_clock():
    tracker = HealthTracker(100.0, window_seconds=2.0)
    for k in range(40):  # 10 samples every 0.05 s: 200 samples/s
        tracker.update(stamps(10 * k, 10 * k + 10), 1000.0 + 0.05 * k)
    assert tracker.effective_rate(1000.0 + 0.05 * 40) == pytest.approx(200.0, rel=0.05)
    # A stall: no samples in the window any more.
    assert tracker.effective_rate(1010.0) == 0.0


def test_effective_rate_counts_from_the_connection_time():
    tracker = HealthTracker(100.0, window_seconds=5.0, start_time=1000.0)
    tracker.update(stamps(0, 100), 1001.0)  # a backlog of 1 s pulled at once
    assert tracker.effective_rate(1001.0) == pytest.approx(100.0)
    assert tracker.effective_rate(1010.0) == 0.0


def test_break_continuity_hides_the_reconnection_gap():
    tracker = HealthTracker(100.0)
    tracker.update(stamps(0, 10), 1000.1)
    tracker.break_continuity()
    assert tracker.update(stamps(500, 510), 1005.2) == []


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="nominal_rate"):
        HealthTracker(0.0)
    with pytest.raises(ValueError, match="state"):
        HealthTracker(10.0).snapshot(0.0, state="broken")


def _jittered_chunks(rate: float, seconds: float, jitter: float, seed: int = 0, lose=None):
    """Chunks of 10 samples whose timestamps are late or early by up to ``jitter`` s."""
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    keep = np.ones(n, bool)
    if lose is not None:
        keep[lose[0] : lose[1]] = False
    for start in range(0, n, 10):
        idx = np.arange(start, min(start + 10, n))[keep[start : start + 10]]
        if idx.size:
            yield 1000.0 + idx / rate + rng.uniform(-jitter, jitter), 1000.0 + start / rate


def test_jitter_of_50_ms_without_loss_is_not_a_loss():
    tracker = HealthTracker(250.0, jitter_tolerance=0.06)
    events = []
    for ts, arrival in _jittered_chunks(250.0, 20.0, 0.05):
        events += tracker.update(ts, arrival)
    assert events == [] and tracker.dropped_samples == 0


def test_a_real_loss_inside_jitter_is_found_once_with_about_its_count():
    tracker = HealthTracker(250.0, jitter_tolerance=0.06)
    events = []
    for ts, arrival in _jittered_chunks(250.0, 20.0, 0.05, lose=(2500, 2550)):  # 0.2 s
        events += tracker.update(ts, arrival)
    assert [e.kind for e in events] == ["gap"]
    assert abs(events[0].samples - 50) <= 13  # give or take the chunk's own 50 ms jitter
