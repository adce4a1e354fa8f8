"""Fault injection through the real live path (issue 6 item 1).

A raw pylsl outlet driven by the test (so each fault is exactly what the test sends) ->
``LSLSource`` -> counter tap -> ``LiveSession`` with a fitted pipeline, with a ``Recorder``
writing the same streams to XDF. Every stream carries a sample counter in its last channel.
For each fault the test checks: no exception escapes ``LiveSession.step``, the condition
is reported as an event, probabilities come again once they can, and the XDF holds every
sample that was sent (pyxdf, counter channel).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pylsl
import pytest
import pyxdf
from live_helpers import fitted_pipeline, simulated_replay
from reliability_helpers import COUNTER, CounterTap, poll

from acquisition.lsl_metadata import write_channel_metadata
from acquisition.lsl_source import LSLSource
from acquisition.recorder import Recorder
from bci.live_session import LiveSession

pytestmark = [pytest.mark.lsl, pytest.mark.slow]

RATE = 250.0
CHUNK = 25  # 0.1 s of signal per push


@pytest.fixture(scope="module")
def pipeline_and_signal():
    """A fitted pipeline (default simulator montage) and 6 s of signal to loop."""
    rec = simulated_replay(6.0, seed=3)
    return rec, fitted_pipeline(ch_names=rec.info.ch_names)


class Sender:
    """An LSL EEG outlet (EEG in microvolts + counter) and a string marker outlet.

    ``send(n)`` pushes the next ``n`` samples: EEG from a looped recording, the counter,
    timestamps ``t0 + k / rate + offset`` (``offset`` moves the clock to inject jumps).
    """

    def __init__(
        self,
        name: str,
        data: np.ndarray,
        ch_names,
        *,
        source_id: str,
        rate: float = RATE,
        extra_channels: int = 0,
        first: int = 0,
        markers: bool = True,
    ) -> None:
        self.name, self.data, self.rate = name, data, rate
        names = [*ch_names, *(f"X{i}" for i in range(extra_channels)), COUNTER]
        n_eeg = len(names) - 1
        info = pylsl.StreamInfo(name, "EEG", len(names), rate, pylsl.cf_float32, source_id)
        write_channel_metadata(
            info, names, ["eeg"] * n_eeg + ["misc"], ["microvolts"] * n_eeg + ["count"]
        )
        self.outlet = pylsl.StreamOutlet(info)
        self.n_eeg = n_eeg
        self.k = first
        self.t0 = pylsl.local_clock() - first / rate
        self.offset = 0.0
        self.marker_outlet = None
        if markers:
            minfo = pylsl.StreamInfo(
                f"{name}-markers", "Markers", 1, 0, pylsl.cf_string, f"{source_id}-m"
            )
            self.marker_outlet = pylsl.StreamOutlet(minfo)

    def send(self, n: int = CHUNK, *, corrupt=None) -> None:
        idx = np.arange(self.k, self.k + n)
        block = np.empty((n, self.n_eeg + 1), dtype=np.float32)
        eeg = self.data[:, idx % self.data.shape[1]] * 1e6
        block[:, : self.data.shape[0]] = eeg.T
        block[:, self.data.shape[0] : self.n_eeg] = 0.0
        block[:, -1] = idx
        if corrupt is not None:
            corrupt(block)
        stamps = self.t0 + idx / self.rate + self.offset
        self.outlet.push_chunk(block, stamps.tolist())
        if self.marker_outlet is not None and self.k // 375 != (self.k + n) // 375:
            label = ("left", "right")[((self.k + n) // 375) % 2]
            self.marker_outlet.push_sample([label], float(stamps[-1]))
        self.k += n

    def close(self) -> None:
        self.outlet = None
        self.marker_outlet = None


class Rig:
    """Sender + recorder + LSLSource/tap + LiveSession, with the events and outputs booked."""

    def __init__(self, name: str, signal, pipeline, out: Path, **source_kw) -> None:
        self.rec, self.pipeline = signal, pipeline
        self.name = name
        self.sender = Sender(name, signal.data, signal.info.ch_names, source_id=f"{name}-a")
        self.recorder = Recorder(out, streams=[name, f"{name}-markers"]).start()
        assert self.sender.outlet.wait_for_consumers(10.0)
        assert self.sender.marker_outlet.wait_for_consumers(10.0)
        self.source = LSLSource(name=name, marker_name=f"{name}-markers", **source_kw)
        self.tap = CounterTap(self.source, keep=True)
        self.session = LiveSession(self.tap, pipeline)
        self.events: list = []
        self.prob_times: list[float] = []
        self.prob_counter: list[float] = []  # counter value when each probability came
        self.markers: list[str] = []
        self.last_recordable = -1  # last counter value the current recording can hold

    def step(self) -> None:
        update = self.session.step()  # must never raise, whatever the stream does
        self.events.extend(update.events)
        self.markers.extend(update.markers)
        self.prob_times.extend(update.prob_times.tolist())
        self.prob_counter.extend([self.tap.last] * update.prob_times.size)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def run(self, chunks: int, **send_kw) -> None:
        """Send ``chunks`` chunks, stepping until the session has each one."""
        for _ in range(chunks):
            self.sender.send(**send_kw)
            self.last_recordable = self.sender.k - 1
            want = self.sender.k - 1
            assert poll(lambda w=want: self.tap.last >= w, 5.0, self.step), (
                f"sample {want} never reached the session; events {self.kinds()}"
            )

    def probabilities_after(self, counter: float) -> int:
        return sum(1 for c in self.prob_counter if c > counter)

    def finish(self) -> list[np.ndarray]:
        """Stop the recorder, close everything; return the XDF counters of the stream.

        LabRecorder writes what it received about every 0.5 s and ``stop`` does not drain
        the rest (see ``test_a_clean_stop_keeps_what_arrived_just_before``), so first poll
        the growing file until it holds the last sample sent.
        """
        self.session.close()
        wait_for_file(self.recorder.path, self.name, self.last_recordable)
        self.recorder.stop()
        self.sender.close()
        return xdf_counters(self.recorder.path, self.name)


def read_counters(path: Path, name: str) -> list[np.ndarray]:
    """Counters of every stream ``name`` in a (possibly still growing) XDF file."""
    try:
        streams, _ = pyxdf.load_xdf(str(path), synchronize_clocks=False, dejitter_timestamps=False)
    except Exception:  # a chunk half-written at this very moment: look again
        return []
    return [
        np.asarray(s["time_series"], dtype=np.float64)[:, -1]
        for s in streams
        if s["info"]["name"][0] == name and len(s["time_series"])
    ]


def wait_for_file(path: Path, name: str, last: int, timeout: float = 10.0) -> bool:
    """Poll the file until it holds counter value ``last`` (bounded)."""
    return poll(lambda: any(c.size and c[-1] >= last for c in read_counters(path, name)), timeout)


def xdf_counters(path: Path, name: str) -> list[np.ndarray]:
    streams, _ = pyxdf.load_xdf(str(path))
    found = [s for s in streams if s["info"]["name"][0] == name]
    assert found, f"no stream {name!r} in {path}"
    return [np.asarray(s["time_series"], dtype=np.float64)[:, -1] for s in found]


def assert_contiguous(counter: np.ndarray, first: int, last: int) -> None:
    """The file holds every sample ``first..last`` once, in order."""
    assert counter.size, "no samples recorded"
    assert counter[0] <= first, f"recording starts at sample {counter[0]}, first sent {first}"
    assert counter[-1] >= last, f"recording ends at sample {counter[-1]}, last sent {last}"
    np.testing.assert_array_equal(np.diff(counter), 1)


def test_stream_stops_past_the_stall_limit_and_resumes(unique_name, tmp_path, pipeline_and_signal):
    rig = Rig(unique_name, *pipeline_and_signal, tmp_path / "stall.xdf")
    rig.run(20)  # 2 s of signal
    before = rig.tap.last
    assert rig.probabilities_after(-1) > 0
    # The sender stops for 3 s of wall time, past the source's default 2 s stall limit; the
    # session keeps stepping (a GUI timer). (3 s, not 5: LabRecorder's clock-offset thread
    # runs in 5 s cycles, so a recording that outlives 5 s costs 5 s more to stop.)
    stop = time.monotonic() + 3.0
    poll(lambda: time.monotonic() > stop, 10.0, rig.step)
    assert "stalled" in rig.kinds()
    assert rig.tap.last == before  # nothing invented during the stall
    rig.run(20)
    assert "resumed" in rig.kinds() or "restored" in rig.kinds()
    assert "error" not in rig.kinds()
    assert rig.probabilities_after(before) > 0  # classification resumed
    assert rig.tap.missing == 0 and rig.tap.backwards == 0
    [counter] = rig.finish()
    assert_contiguous(counter, 0, rig.sender.k - 1)


def test_restart_with_a_new_source_id(unique_name, tmp_path, pipeline_and_signal):
    rec, pipeline = pipeline_and_signal
    rig = Rig(unique_name, rec, pipeline, tmp_path / "restart.xdf", stall_seconds=0.5)
    rig.run(15)
    before = rig.tap.last
    first_stop = rig.sender.k - 1
    # Let the recorder receive the last chunk first (see the next test on the race at death).
    assert wait_for_file(rig.recorder.path, unique_name, first_stop)
    rig.sender.close()  # the amplifier software dies...
    assert poll(lambda: "lost" in rig.kinds(), 15.0, rig.step), rig.kinds()
    # ...and comes back with a new source id, continuing the counter.
    rig.sender = Sender(
        unique_name,
        rec.data,
        rec.info.ch_names,
        source_id=f"{unique_name}-b",
        first=int(before) + 1,
    )
    assert poll(lambda: rig.source.state == "ok", 15.0, rig.step), rig.kinds()
    rig.run(15)
    assert "restored" in rig.kinds()
    assert "error" not in rig.kinds()
    assert rig.source.info.source_id == f"{unique_name}-b"
    assert rig.probabilities_after(before) > 0
    assert rig.tap.missing == 0 and rig.tap.backwards == 0
    rig.last_recordable = first_stop  # the main file holds only the first stream
    counters = rig.finish()
    # The samples of the first stream are all in the file.
    assert_contiguous(counters[0], 0, first_stop)


def test_restart_with_a_new_source_id_keeps_recording(unique_name, tmp_path, pipeline_and_signal):
    rec, pipeline = pipeline_and_signal
    rig = Rig(unique_name, rec, pipeline, tmp_path / "restart2.xdf", stall_seconds=0.5)
    rig.run(5)
    before = rig.sender.k - 1
    # This test is about the restart, not the race at the sender's death: an outlet
    # destroyed right after a push may not deliver its last chunk to every consumer (seen
    # once in four loaded runs: the recorder missed the final 25 samples the session got).
    assert wait_for_file(rig.recorder.path, unique_name, before)
    rig.sender.close()
    assert poll(lambda: "lost" in rig.kinds(), 15.0, rig.step), rig.kinds()
    rig.sender = Sender(
        unique_name,
        rec.data,
        rec.info.ch_names,
        source_id=f"{unique_name}-b",
        first=int(before) + 1,
    )
    # The recorder follows the new sender into a part file; it can record only what is
    # sent once it has subscribed (LSL gives a new inlet no backlog). Nothing else consumes
    # the new outlet yet: the session looks for it only when stepped.
    assert rig.sender.outlet.wait_for_consumers(10.0)
    assert poll(lambda: rig.source.state == "ok", 15.0, rig.step), rig.kinds()
    rig.run(10)
    last = rig.sender.k - 1
    parts = rig.recorder.paths[1:]  # a part file per restarted stream (EEG, markers)
    assert poll(
        lambda: any(c[-1] >= last for p in parts for c in read_counters(p, unique_name)), 10.0
    )
    rig.last_recordable = before  # the main file holds the stream until it died
    counters = rig.finish()
    counters += [c for p in parts for c in read_counters(p, unique_name)]
    recorded = np.concatenate(counters)
    assert set(range(last + 1)) <= set(recorded.astype(int).tolist())


@pytest.mark.parametrize(
    ("change", "message"),
    [({"rate": 500.0}, "rate 250 -> 500 Hz"), ({"extra_channels": 2}, "channels")],
    ids=["rate", "channel-count"],
)
def test_a_stream_that_comes_back_changed_is_refused_in_words(
    unique_name, tmp_path, pipeline_and_signal, change, message
):
    rec, pipeline = pipeline_and_signal
    rig = Rig(unique_name, rec, pipeline, tmp_path / "changed.xdf", stall_seconds=0.5)
    rig.run(10)
    first_stop = rig.sender.k - 1
    assert wait_for_file(rig.recorder.path, unique_name, first_stop)
    rig.sender.close()
    assert poll(lambda: "lost" in rig.kinds(), 15.0, rig.step), rig.kinds()
    n_probs = len(rig.prob_times)
    rig.sender = Sender(
        unique_name, rec.data, rec.info.ch_names, source_id=f"{unique_name}-c", **change
    )
    assert poll(lambda: "error" in rig.kinds(), 15.0, lambda: (rig.sender.send(), rig.step()))
    errors = [e.message for e in rig.events if e.kind == "error"]
    assert message in errors[0] and unique_name in errors[0] and "refusing" in errors[0]
    # It stays refused: nothing of the changed stream is classified.
    for _ in range(10):
        rig.sender.send()
        rig.step()
    assert len(rig.prob_times) == n_probs
    rig.last_recordable = first_stop
    [counter] = rig.finish()
    assert_contiguous(counter, 0, first_stop)


def test_timestamps_jump_backwards_and_by_hours(unique_name, tmp_path, pipeline_and_signal):
    rig = Rig(unique_name, *pipeline_and_signal, tmp_path / "jumps.xdf")
    rig.run(10)
    rig.sender.offset = -30.0  # the sender's clock is set back by 30 s
    rig.run(10)
    after_back = rig.tap.last
    rig.sender.offset = 3 * 3600.0  # ...then forward by 3 hours
    jumped_at = rig.tap.last
    rig.run(12)
    jumps = [e for e in rig.events if e.kind == "timestamp_jump"]
    assert len(jumps) == 2, rig.kinds()
    assert "gap" not in rig.kinds() and "error" not in rig.kinds()
    assert rig.probabilities_after(after_back) > 0
    assert rig.probabilities_after(jumped_at) > 0  # classification goes on after the jump
    assert rig.tap.missing == 0 and rig.tap.backwards == 0
    assert rig.source.health.dropped_samples == 0  # a clock jump is not lost data
    [counter] = rig.finish()
    assert_contiguous(counter, 0, rig.sender.k - 1)


def test_chunks_with_nan_and_inf(unique_name, tmp_path, pipeline_and_signal):
    rig = Rig(unique_name, *pipeline_and_signal, tmp_path / "nan.xdf")
    rig.run(10)

    def corrupt(block):
        block[3, 0] = np.nan
        block[7, 1] = np.inf
        block[9, 2] = -np.inf

    bad_at = rig.tap.last
    rig.run(1, corrupt=corrupt)
    rig.run(15)
    bad = [e for e in rig.events if e.kind == "nonfinite"]
    assert bad, rig.kinds()
    assert "error" not in rig.kinds()
    assert rig.probabilities_after(bad_at + CHUNK) > 0  # classification restarts after
    assert all(np.isfinite(p) for p in rig.prob_times)
    assert rig.tap.missing == 0
    [counter] = rig.finish()
    assert_contiguous(counter, 0, rig.sender.k - 1)


def test_marker_stream_dies_while_eeg_continues(unique_name, tmp_path, pipeline_and_signal):
    rig = Rig(unique_name, *pipeline_and_signal, tmp_path / "markers.xdf")
    rig.run(20)
    assert rig.markers  # markers arrive while the marker stream lives
    rig.sender.marker_outlet = None  # the marker sender dies, the EEG goes on
    died_at = rig.tap.last
    assert poll(
        lambda: "marker_lost" in rig.kinds(), 15.0, lambda: (rig.sender.send(), rig.step())
    ), rig.kinds()
    rig.run(10)
    assert rig.probabilities_after(died_at) > 0
    assert not {"error", "lost", "stalled"} & set(rig.kinds())
    assert rig.tap.missing == 0 and rig.tap.backwards == 0
    [counter] = rig.finish()
    assert_contiguous(counter, 0, rig.sender.k - 1)


def test_a_clean_stop_keeps_what_arrived_just_before(unique_name, tmp_path, pipeline_and_signal):
    rec, _ = pipeline_and_signal
    sender = Sender(unique_name, rec.data, rec.info.ch_names, source_id=unique_name)
    recorder = Recorder(tmp_path / "stop.xdf", streams=[unique_name]).start()
    assert sender.outlet.wait_for_consumers(10.0)
    for _ in range(40):  # 4 s of signal delivered in a burst (a backlog after a stall)
        sender.send()
    recorder.stop()
    [counter] = xdf_counters(recorder.path, unique_name)
    assert_contiguous(counter, 0, sender.k - 1)
