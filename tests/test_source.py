"""The Source protocol: every source implements it, one event type, explicit defaults."""

from __future__ import annotations

import time

import numpy as np
import pytest
from xdf_writer import XdfStream, write_xdf

from acquisition import ArraySource, Recording, SourceInfo
from acquisition.file_source import FileSource
from acquisition.lsl_source import LSLSource
from acquisition.player import Player
from acquisition.simulator import SimulatedHeadset
from acquisition.source import (
    EVENT_KINDS,
    SOURCE_EVENT_KINDS,
    Source,
    StreamEvent,
    empty_markers,
    nonfinite_event,
)


def small_recording(n: int = 400) -> Recording:
    rng = np.random.default_rng(0)
    info = SourceInfo("small", ("C3", "C4"), ("eeg", "eeg"), 100.0)
    return Recording(rng.normal(0, 1e-5, (2, n)), info, np.array([50]), ["left"])


def test_a_source_must_implement_the_required_members():
    class Incomplete(Source):
        def pull(self, max_samples=None):
            return np.empty((0, 0)), np.empty(0)

    with pytest.raises(TypeError, match="close, ended, info, pull_markers"):
        Incomplete()

    class Minimal(Source):
        info = SourceInfo("m", ("a",), ("eeg",), 10.0)
        ended = True

        def pull(self, max_samples=None):
            return np.empty((1, 0)), np.empty(0)

        def pull_markers(self):
            return empty_markers()

        def close(self):
            self.closed = True

    with Minimal() as src:
        assert src.conditions() == [] and src.health is None
    assert src.closed and isinstance(src, Source)


def test_stream_event_kinds_are_checked_and_nonfinite_events_name_the_channels():
    with pytest.raises(ValueError, match="'recovered' is not one of"):
        StreamEvent("recovered", "a synonym nobody emits")
    assert set(SOURCE_EVENT_KINDS) < set(EVENT_KINDS)
    info = SourceInfo("amp", ("C3", "Cz", "C4"), ("eeg",) * 3, 100.0)
    data = np.zeros((3, 5))
    assert nonfinite_event(info, data) is None
    data[1, 2], data[2, 0] = np.nan, np.inf
    ev = nonfinite_event(info, data)
    assert ev.kind == "nonfinite" and ev.samples == 2
    assert "Cz, C4" in ev.message and "C3" not in ev.message


def _drain(src: Source, want: int, timeout: float = 10.0) -> tuple[int, list[StreamEvent]]:
    got, events, deadline = 0, [], time.monotonic() + timeout
    while got < want and time.monotonic() < deadline:
        _, ts = src.pull()
        got += ts.size
        events += src.conditions()
        if not ts.size:
            time.sleep(0.005)  # pacing the poll loop, not a wait for data
    return got, events


def test_array_and_file_sources_report_nonfinite_chunks_and_nothing_else(tmp_path):
    rec = small_recording()
    rec.data[0, 100] = np.nan
    src = ArraySource(rec, chunk_size=64)
    got, events = _drain(src, rec.n_samples)
    assert got == rec.n_samples
    assert [e.kind for e in events] == ["nonfinite"] and "C3" in events[0].message
    stream = XdfStream(
        name="Amp",
        type="EEG",
        samples=(rec.data.T * 1e6).astype(np.float32),
        timestamps=np.arange(rec.n_samples) / 100.0,
        nominal_srate=100.0,
        labels=["C3", "C4"],
        units=["microvolts"] * 2,
    )
    with FileSource(write_xdf(tmp_path / "n.xdf", [stream]), chunk_size=64) as fsrc:
        got, events = _drain(fsrc, rec.n_samples)
    assert isinstance(fsrc, Source) and got == rec.n_samples
    assert [e.kind for e in events] == ["nonfinite"]


def test_the_simulator_is_a_source_with_no_conditions():
    with SimulatedHeadset(seed=1) as head:
        head.pull(100)
        assert isinstance(head, Source) and head.conditions() == [] and head.health is None


@pytest.mark.lsl
def test_the_lsl_source_reports_stream_events_and_health(unique_name):
    rec = small_recording(300)
    rec.data[1, 10] = np.inf
    player = Player(ArraySource(rec), name=unique_name, speed=5.0)
    try:
        with LSLSource(name=unique_name, timeout=5.0) as src:
            # LSL gives a new inlet no backlog: start sending once the source listens.
            player.start()
            assert isinstance(src, Source)
            got, events = _drain(src, rec.n_samples)
            assert got == rec.n_samples
            assert all(isinstance(e, StreamEvent) for e in events)
            assert "nonfinite" in [e.kind for e in events]
            assert src.health.samples_received == rec.n_samples
    finally:
        player.close()
