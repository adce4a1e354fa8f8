"""LSLSource and MarkerInlet against real LSL outlets on this machine (no mocks).

Outlets are made with plain pylsl so each test controls exactly what is sent (timestamps,
NaNs, restarts). Tests poll with bounded deadlines; nothing sleeps to wait for data.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pylsl
import pytest

from acquisition.errors import StreamChangedError, StreamNotFoundError
from acquisition.lsl_metadata import write_channel_metadata
from acquisition.lsl_source import LSLSource, MarkerInlet, list_streams
from acquisition.source import Source

pytestmark = pytest.mark.lsl

RATE = 100.0


def eeg_outlet(name: str, n_ch: int = 3, rate: float = RATE, source_id: str | None = None):
    info = pylsl.StreamInfo(name, "EEG", n_ch, rate, pylsl.cf_float32, source_id or f"{name}-1")
    labels = [f"E{i}" for i in range(n_ch - 1)] + ["counter"]
    write_channel_metadata(
        info, labels, ["eeg"] * (n_ch - 1) + ["misc"], ["microvolts"] * (n_ch - 1) + ["count"]
    )
    return pylsl.StreamOutlet(info)


def push(outlet, start: int, stop: int, t0: float, n_ch: int = 3, rate: float = RATE, values=None):
    """Push samples start..stop-1: EEG rows = sample index in microvolts, last row = index."""
    idx = np.arange(start, stop)
    block = np.repeat(idx[:, None], n_ch, axis=1).astype(np.float32) if values is None else values
    outlet.push_chunk(block, (t0 + idx / rate).tolist())


def pull_until(src, predicate, timeout: float = 5.0):
    """Pull into lists until ``predicate(data, stamps, conditions)`` or the deadline."""
    chunks, stamps, conds = [], [], []
    deadline = time.monotonic() + timeout
    while True:
        d, t = src.pull()
        if t.size:
            chunks.append(d)
            stamps.append(t)
        conds.extend(src.conditions())
        data = np.concatenate(chunks, axis=1) if chunks else np.empty((src.info.n_channels, 0))
        ts = np.concatenate(stamps) if stamps else np.empty(0)
        if predicate(data, ts, conds) or time.monotonic() > deadline:
            return data, ts, conds
        time.sleep(0.005)  # pacing of the poll loop, not a wait for data


def kinds(conds) -> list[str]:
    return [c.kind for c in conds]


def test_reads_labels_units_and_converts_microvolts_to_volts(unique_name):
    outlet = eeg_outlet(unique_name)
    with LSLSource(name=unique_name, timeout=5.0) as src:
        assert isinstance(src, Source)
        assert src.info.ch_names == ("E0", "E1", "counter")
        assert src.info.units == ("V", "V", "count")
        assert src.info.sfreq == RATE
        assert src.info.source_id == f"{unique_name}-1"
        assert src.ended is False
        push(outlet, 0, 50, pylsl.local_clock())
        data, ts, conds = pull_until(src, lambda d, t, c: t.size >= 50)
    assert data.dtype == np.float64
    np.testing.assert_allclose(data[0], np.arange(50) * 1e-6)
    np.testing.assert_array_equal(data[2], np.arange(50))
    assert ts.size == 50
    assert "gap" not in kinds(conds)


def test_missing_stream_lists_the_visible_ones(unique_name):
    outlet = eeg_outlet(unique_name)  # noqa: F841 - must stay visible during the lookup
    with pytest.raises(StreamNotFoundError) as err:
        LSLSource(name=unique_name + "-wrong", timeout=0.5)
    message = str(err.value)
    assert unique_name + "-wrong" in message
    assert f"{unique_name!r} (type 'EEG', 3 ch, 100 Hz" in message
    assert any(s.name == unique_name for s in list_streams(timeout=1.0))


def test_a_marker_stream_is_not_an_eeg_source(unique_name):
    info = pylsl.StreamInfo(unique_name, "Markers", 1, 0, pylsl.cf_string, unique_name)
    outlet = pylsl.StreamOutlet(info)  # noqa: F841
    with pytest.raises(StreamNotFoundError, match="marker stream"):
        LSLSource(name=unique_name, timeout=5.0)


def test_nan_and_inf_are_reported_and_passed_on(unique_name):
    outlet = eeg_outlet(unique_name)
    with LSLSource(name=unique_name) as src:
        values = np.ones((20, 3), dtype=np.float32)
        values[5, 0] = np.nan
        values[7, 1] = np.inf
        push(outlet, 0, 20, pylsl.local_clock(), values=values)
        data, _, conds = pull_until(src, lambda d, t, c: t.size >= 20 and "nonfinite" in kinds(c))
    bad = [c for c in conds if c.kind == "nonfinite"]
    assert len(bad) == 1 and bad[0].samples == 2
    assert "E0" in bad[0].message and "E1" in bad[0].message
    assert np.isnan(data[0, 5]) and np.isinf(data[1, 7])


def test_gap_in_timestamps_is_reported_with_the_missing_count(unique_name):
    outlet = eeg_outlet(unique_name)
    with LSLSource(name=unique_name) as src:
        t0 = pylsl.local_clock()
        push(outlet, 0, 30, t0)
        push(outlet, 45, 60, t0)  # 15 samples never sent
        _, _ts, conds = pull_until(src, lambda d, t, c: t.size >= 45)
        health = src.health
    gaps = [c for c in conds if c.kind == "gap"]
    assert [g.samples for g in gaps] == [15]
    assert health.dropped_samples == 15
    assert health.samples_received == 45


def test_timestamp_jumps_backwards_and_by_hours_are_reported(unique_name):
    outlet = eeg_outlet(unique_name)
    with LSLSource(name=unique_name) as src:
        t0 = pylsl.local_clock()
        push(outlet, 0, 20, t0)
        push(outlet, 20, 40, t0 - 30.0)
        push(outlet, 40, 60, t0 + 7200.0)
        data, ts, conds = pull_until(src, lambda d, t, c: t.size >= 60)
        health = src.health
    jumps = [c for c in conds if c.kind == "timestamp_jump"]
    assert len(jumps) == 2
    assert jumps[0].seconds < -29 and jumps[1].seconds > 7000
    assert health.dropped_samples == 0
    np.testing.assert_array_equal(data[2], np.arange(60))
    # The smoothing restarts at each jump instead of smearing it over later samples.
    np.testing.assert_allclose(ts[45:] - ts[44:59], 1 / RATE, atol=2e-3)


def test_slow_consumer_is_bounded_and_the_dropped_samples_reported(unique_name):
    outlet = eeg_outlet(unique_name)
    with LSLSource(name=unique_name, max_buffer_seconds=1.0) as src:
        t0 = pylsl.local_clock()
        push(outlet, 0, 10, t0)
        _first, _, _ = pull_until(src, lambda d, t, c: t.size >= 10)
        # 5 s of data arrive while the consumer is busy; the inlet keeps the last second.
        push(outlet, 10, 510, t0)
        # The fault simulated here is a consumer busy for a while (not a wait for data):
        # without it, a pull on a loaded machine can start while the burst is still in
        # transit and legitimately receive it in two halves.
        threading.Event().wait(1.0)
        data, _, conds = pull_until(src, lambda d, t, c: bool(d.size) and d[2, -1] == 509)
    counter = data[2]
    assert counter[-1] == 509
    assert counter.size <= 110  # the consumer is at most ~1 s behind, never minutes
    np.testing.assert_array_equal(np.diff(counter), 1)
    dropped = sum(c.samples for c in conds if c.kind == "gap")
    assert dropped == counter[0] - 10
    assert dropped >= 390


def test_restart_with_new_source_id_recovers_and_reports_the_gap(unique_name):
    outlet = eeg_outlet(unique_name, source_id="first")
    with LSLSource(name=unique_name, stall_seconds=0.5) as src:
        t0 = pylsl.local_clock()
        push(outlet, 0, 30, t0)
        pull_until(src, lambda d, t, c: t.size >= 30)
        del outlet  # the sender dies
        _, _, conds = pull_until(src, lambda d, t, c: "lost" in kinds(c), timeout=10.0)
        assert "lost" in kinds(conds)
        assert src.health.state == "lost"
        assert src.pull()[1].size == 0  # still answering, not raising
        outlet = eeg_outlet(unique_name, source_id="second")
        # The source reconnects in the background of its pulls; state is "ok" once it has.
        pull_until(src, lambda d, t, c: src.state == "ok", timeout=15.0)
        assert src.state == "ok"
        push(outlet, 100, 110, t0)  # samples 30..99 never sent: a 0.71 s timestamp gap
        data, _, conds = pull_until(src, lambda d, t, c: t.size >= 10)
        assert src.info.source_id == "second"
        assert src.health.state == "ok"
    restored = [c for c in conds if c.kind == "restored"]
    assert len(restored) == 1
    assert restored[0].seconds == pytest.approx(0.71, abs=0.01)
    assert restored[0].samples == 70
    assert "second" in restored[0].message
    assert data[2][0] >= 100


@pytest.mark.parametrize(
    ("n_ch", "rate", "message"), [(5, RATE, "3 -> 5 channels"), (3, 250.0, "rate 100 -> 250 Hz")]
)
def test_restart_with_other_channel_count_or_rate_is_refused_clearly(
    unique_name, n_ch, rate, message
):
    outlet = eeg_outlet(unique_name, n_ch=3)
    with LSLSource(name=unique_name) as src:
        push(outlet, 0, 10, pylsl.local_clock())
        pull_until(src, lambda d, t, c: t.size >= 10)
        del outlet
        pull_until(src, lambda d, t, c: "lost" in kinds(c), timeout=10.0)
        outlet = eeg_outlet(unique_name, n_ch=n_ch, rate=rate, source_id="changed")  # noqa: F841
        with pytest.raises(StreamChangedError) as err:
            pull_until(src, lambda d, t, c: False, timeout=10.0)
        assert message in str(err.value)
        assert unique_name in str(err.value)
        with pytest.raises(StreamChangedError):  # and it stays refused
            src.pull()


def test_stall_then_resume_is_reported(unique_name):
    outlet = eeg_outlet(unique_name)
    with LSLSource(name=unique_name, stall_seconds=0.3) as src:
        t0 = pylsl.local_clock()
        push(outlet, 0, 10, t0)
        _, _, conds = pull_until(src, lambda d, t, c: "stalled" in kinds(c), timeout=5.0)
        assert src.health.state == "stalled"
        push(outlet, 10, 20, t0)
        _, _, conds2 = pull_until(src, lambda d, t, c: "resumed" in kinds(c), timeout=5.0)
    assert "stalled" in kinds(conds)
    assert "resumed" in kinds(conds2)


def test_marker_inlet_turns_numbers_into_strings_and_survives_loss(unique_name):
    info = pylsl.StreamInfo(unique_name, "Markers", 1, 0, pylsl.cf_int32, unique_name)
    outlet = pylsl.StreamOutlet(info)
    with MarkerInlet(unique_name, timeout=5.0) as inlet:
        for code in (1111, 2, 3):
            outlet.push_sample([code])
        labels: list[str] = []
        deadline = time.monotonic() + 5
        while len(labels) < 3 and time.monotonic() < deadline:
            labels += inlet.pull_markers()[1]
            time.sleep(0.005)
        assert labels == ["1111", "2", "3"]
        del outlet
        deadline = time.monotonic() + 10
        conds = []
        while "marker_lost" not in kinds(conds) and time.monotonic() < deadline:
            inlet.pull_markers()
            conds += inlet.conditions()
            time.sleep(0.005)
        assert "marker_lost" in kinds(conds)
        assert inlet.connected is False


def test_attached_marker_stream_dying_does_not_stop_eeg(unique_name):
    outlet = eeg_outlet(unique_name)
    minfo = pylsl.StreamInfo(unique_name + "-markers", "Markers", 1, 0, pylsl.cf_string, "m")
    moutlet = pylsl.StreamOutlet(minfo)
    with LSLSource(name=unique_name, marker_name=unique_name + "-markers") as src:
        t0 = pylsl.local_clock()
        moutlet.push_sample(["left"], t0 + 0.05)
        push(outlet, 0, 20, t0)
        got: list[str] = []

        def seen(d, t, c):
            got.extend(src.pull_markers()[1])
            return t.size >= 20 and got == ["left"]

        pull_until(src, seen)
        assert got == ["left"]
        del moutlet

        def lost(d, t, c):
            src.pull_markers()
            return "marker_lost" in kinds(c)

        _, _, conds = pull_until(src, lost, timeout=10.0)
        assert "marker_lost" in kinds(conds)
        push(outlet, 20, 40, t0)
        data, _, _ = pull_until(src, lambda d, t, c: t.size >= 20)
    np.testing.assert_array_equal(data[2], np.arange(20, 40))


def test_with_wait_for_original_a_changed_stream_is_passed_over(unique_name):
    outlet = eeg_outlet(unique_name, n_ch=3, source_id="original")
    with LSLSource(name=unique_name, wait_for_original=True, stall_seconds=0.5) as src:
        t0 = pylsl.local_clock()
        push(outlet, 0, 10, t0)
        pull_until(src, lambda d, t, c: t.size >= 10)
        del outlet
        pull_until(src, lambda d, t, c: "lost" in kinds(c), timeout=10.0)
        other = eeg_outlet(unique_name, n_ch=5, source_id="other")
        _, _, conds = pull_until(src, lambda d, t, c: "changed" in kinds(c), timeout=10.0)
        changed = [c for c in conds if c.kind == "changed"]
        assert len(changed) == 1 and "3 -> 5 channels" in changed[0].message
        assert "waiting for the original" in changed[0].message
        assert src.state == "lost" and src.pull()[1].size == 0  # no error: still waiting
        del other
        outlet = eeg_outlet(unique_name, n_ch=3, source_id="original-again")
        pull_until(src, lambda d, t, c: src.state == "ok", timeout=15.0)
        push(outlet, 50, 60, t0)
        data, _, conds = pull_until(src, lambda d, t, c: t.size >= 10)
    assert "restored" in kinds(conds) and data.shape == (3, 10)


def test_nan_chunk_after_chunk_is_one_event_a_second_with_the_count(unique_name):
    outlet = eeg_outlet(unique_name)
    values = np.full((10, 3), np.nan, dtype=np.float32)
    with LSLSource(name=unique_name) as src:
        t0 = started = pylsl.local_clock()
        events = []
        for k in range(40):  # 40 chunks of NaN, each pulled on its own
            push(outlet, 10 * k, 10 * k + 10, t0, values=values)
            _, _, conds = pull_until(src, lambda d, t, c: t.size >= 10)
            events += [c for c in conds if c.kind == "nonfinite"]
        elapsed = pylsl.local_clock() - started

        def all_counted(d, t, c):
            events.extend(e for e in c if e.kind == "nonfinite")
            return sum(e.samples for e in events) >= 1200

        pull_until(src, all_counted, timeout=3.0)  # the held count comes out after its second
    assert sum(e.samples for e in events) == 40 * 30  # every NaN counted
    assert len(events) <= elapsed + 2  # about one a second, not one per chunk (40)
    assert any("nonfinite events in 1 s" in e.message for e in events)
