"""LiveSession over real LSL: Player -> LSLSource -> pipeline -> probabilities outlet."""

from __future__ import annotations

import threading
import time

import numpy as np
import pylsl
import pytest
from live_helpers import CLASSES, fitted_pipeline, simulated_replay

from acquisition.array_source import ArraySource
from acquisition.health import HealthTracker
from acquisition.lsl_source import LSLSource
from acquisition.player import Player
from bci.errors import ModelFileError
from bci.live_session import LatencyTracker, LiveSession, StreamEvent

pytestmark = pytest.mark.lsl


def poll(condition, timeout: float = 10.0, step=None):
    """Call ``step`` (if any) until ``condition()`` is true or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if step is not None:
            step()
        if condition():
            return True
        time.sleep(0.005)  # pacing the poll loop, not a wait for data
    return False


def channel_labels(info: pylsl.StreamInfo) -> list[str]:
    ch = info.desc().child("channels").child("channel")
    labels = []
    while not ch.empty():
        labels.append(ch.child_value("label"))
        ch = ch.next_sibling()
    return labels


def test_probabilities_are_published_with_class_labels(unique_name: str) -> None:
    pipeline = fitted_pipeline()
    recording = simulated_replay(8.0)
    with Player(ArraySource(recording), name=unique_name, speed=2.0) as player:
        source = LSLSource(name=unique_name, timeout=5.0, marker_name=player.marker_name)
        session = LiveSession(source, pipeline, publish_name=unique_name)
        found = pylsl.resolve_byprop("name", f"{unique_name}-probabilities", 1, 5.0)
        assert found, "the probabilities outlet is not visible on LSL"
        inlet = pylsl.StreamInlet(found[0])
        full = inlet.info(5.0)
        assert channel_labels(full) == list(CLASSES)
        assert full.channel_count() == 2 and full.channel_format() == pylsl.cf_float32
        inlet.open_stream(5.0)
        produced, received, markers = [], [], []

        def step() -> None:
            update = session.step()
            produced.extend(zip(update.prob_times, update.probabilities, strict=True))
            markers.extend(update.markers)
            chunk, stamps = inlet.pull_chunk(timeout=0.0)
            received.extend(zip(stamps, chunk, strict=True))

        assert poll(lambda: len(received) >= 10 and len(markers) >= 2, 15.0, step)
        session.close()
    times = np.array([t for t, _ in produced])
    probas = np.array([p for _, p in produced])
    assert np.allclose(probas.sum(axis=1), 1.0)
    assert np.all(np.diff(times) > 0)
    got = np.array([row for _, row in received], dtype=float)
    got_t = np.array([t for t, _ in received])
    # What the outlet carries is what the session returned (float32), stamped at the
    # window's last sample.
    k = len(got)
    assert np.allclose(got, probas[:k].astype(np.float32), atol=1e-7)
    assert np.allclose(got_t, times[:k], atol=1e-6)
    assert set(markers) <= set(CLASSES) and markers
    assert session.latency.count == len(produced)
    assert (
        np.isfinite(session.latency.median()) and session.latency.p95() >= session.latency.median()
    )


def test_a_stream_with_other_channels_is_refused_in_words() -> None:
    pipeline = fitted_pipeline()
    other = simulated_replay(3.0, ch_names=["C3", "Cz", "C4", "O1"])
    with pytest.raises(ModelFileError, match="missing channels") as info:
        LiveSession(ArraySource(other), pipeline)
    assert "channels" in str(info.value) and "retrain" in str(info.value)


def test_channels_in_another_order_are_reordered_not_refused() -> None:
    pipeline = fitted_pipeline()
    recording = simulated_replay(4.0)
    straight = LiveSession(ArraySource(recording, chunk_size=50), pipeline)
    order = np.arange(recording.info.n_channels)[::-1]
    info = recording.info
    shuffled_info = type(info)(
        name=info.name,
        ch_names=tuple(info.ch_names[i] for i in order),
        ch_types=tuple(info.ch_types[i] for i in order),
        sfreq=info.sfreq,
    )
    shuffled = type(recording)(data=recording.data[order], info=shuffled_info)
    straight_out = np.vstack([straight.step().probabilities for _ in range(20)])
    pipeline_2 = fitted_pipeline()
    reordered = LiveSession(ArraySource(shuffled, chunk_size=50), pipeline_2)
    reordered_out = np.vstack([reordered.step().probabilities for _ in range(20)])
    assert straight_out.shape[0] > 5
    assert np.allclose(straight_out, reordered_out)


def test_non_finite_samples_and_end_of_source_are_reported_not_raised() -> None:
    pipeline = fitted_pipeline()
    recording = simulated_replay(3.0)
    recording.data[3, 100:110] = np.nan
    session = LiveSession(ArraySource(recording, chunk_size=64), pipeline)
    kinds, shown = [], []
    for _ in range(20):
        update = session.step()
        kinds += [e.kind for e in update.events]
        shown.append(update.data)
    assert "nonfinite" in kinds and kinds[-1] == "ended"
    assert np.isfinite(np.hstack(shown)).all()  # the display never gets NaN


def test_a_classifier_behind_the_stream_skips_stale_windows_and_says_so() -> None:
    # A backlog on the LSL clock: the newest sample is "now", the oldest 4 s ago, as when a
    # slow machine falls behind. Windows older than max_lag_seconds are not worth a command.
    recording = simulated_replay(4.0)
    recording.start_time = pylsl.local_clock() - recording.duration

    def run(max_lag):
        session = LiveSession(
            ArraySource(recording, chunk_size=2000), fitted_pipeline(), max_lag_seconds=max_lag
        )
        updates = [session.step() for _ in range(8)]
        times = np.concatenate([u.prob_times for u in updates])
        kinds = [e.kind for u in updates for e in u.events]
        return session, times, kinds

    every, every_times, every_kinds = run(None)
    shed, shed_times, shed_kinds = run(1.0)
    assert "behind" not in every_kinds and every.windows_skipped == 0
    assert "behind" in shed_kinds
    assert shed.windows_skipped > 0
    assert shed_times.size + shed.windows_skipped == every_times.size
    assert shed_times[-1] == every_times[-1]  # the newest window is always classified


def test_latency_tracker_median_and_p95() -> None:
    tracker = LatencyTracker(maxlen=100)
    assert np.isnan(tracker.median())
    tracker.add(np.arange(1, 101) / 1000)
    assert tracker.median() == pytest.approx(0.0505)
    assert tracker.p95() == pytest.approx(0.09505)
    tracker.add(1.0)
    assert tracker.count == 100


class GappySource(ArraySource):
    """A recording whose timestamps jump ``hole`` seconds at sample ``hole_at``.

    It reports the hole as LSLSource does: found by the same ``HealthTracker`` and
    placed by the event's ``timestamp``.
    """

    def __init__(self, recording, *, hole_at: int, hole: float, chunk_size: int) -> None:
        super().__init__(recording, chunk_size=chunk_size)
        self.hole_at, self.hole = hole_at, hole
        self.tracker = HealthTracker(recording.sfreq)
        self.gaps: list[StreamEvent] = []

    def pull(self, max_samples=None):
        first = self.position
        data, ts = super().pull(max_samples)
        ts = ts + np.where(np.arange(first, self.position) >= self.hole_at, self.hole, 0.0)
        for ev in self.tracker.update(ts, float(ts[-1]) if ts.size else 0.0):
            self.gaps.append(
                StreamEvent(ev.kind, "hole", seconds=ev.seconds, timestamp=ev.timestamp)
            )
        return data, ts

    def conditions(self):
        out, self.gaps = [*super().conditions(), *self.gaps], []
        return out


def test_a_gap_inside_a_chunk_restarts_classification_exactly_at_the_hole() -> None:
    recording = simulated_replay(6.0)
    hole_at = 700  # inside the fourth 200-sample chunk
    source = GappySource(recording, hole_at=hole_at, hole=1.0, chunk_size=200)
    session = LiveSession(source, fitted_pipeline(), max_lag_seconds=None)
    times, probas, kinds = [], [], []
    while not source.ended:
        update = session.step()
        times.extend(update.prob_times)
        probas.extend(update.probabilities)
        kinds += [e.kind for e in update.events]
    assert kinds.count("gap") == 1
    # The same pipeline run on the two pieces separately, restarted between them.
    reference = fitted_pipeline()
    ts = recording.times + np.where(np.arange(recording.n_samples) >= hole_at, 1.0, 0.0)
    windows = []
    for piece in (slice(0, hole_at), slice(hole_at, None)):
        reference.reset_online()
        windows += reference.push_windows(recording.data[:, piece], ts[piece])
    expected = reference.predict_proba_epochs(np.stack([w for _, w in windows]))
    assert np.array_equal(np.asarray(times), [t for t, _ in windows])
    assert np.max(np.abs(np.asarray(probas) - expected)) < 1e-12
    # No window spans the hole: the first one after it ends a full window later.
    after = np.asarray(times)[np.asarray(times) > ts[hole_at - 1]]
    assert after[0] == pytest.approx(ts[hole_at] + (reference.window_samples - 1) / recording.sfreq)


@pytest.mark.parametrize("method", ["bandpower", "tangent_space"])
def test_recentring_and_supervised_updates_run_online_over_lsl(
    method: str, unique_name: str, tmp_path
) -> None:
    """[adaptation] live: windows move the running reference, cued trials teach the model,
    and a copy of the model fed the same chunks in the same order gives the same output."""
    from live_helpers import short_paradigm

    from acquisition.simulator import graz_cues, simulate_recording
    from bci.model_file import load_model, save_model
    from bci.paradigm import Paradigm
    from bci.pipeline import Pipeline

    d = short_paradigm().to_dict()
    d["adaptation"] = {"method": "recentre", "memory": 5.0, "supervised": True}
    d["features"]["method"] = method
    par = Paradigm.from_dict(d)
    cues, duration = graz_cues(
        list(CLASSES), 8, seed=0, fixation=0.3, cue=0.3, imagery=1.2, rest=(0.3, 0.5)
    )
    rec = simulate_recording(cues, duration=duration + 0.5, seed=0, difficulty=0.1)
    pipeline = Pipeline(par, rec.info.ch_names, rec.sfreq).fit([rec])
    start = save_model(tmp_path / "start.bci", pipeline)
    # Another day: the replayed session has other channel gains.
    replay = simulated_replay(9.0)
    replay.data *= np.linspace(0.5, 2.0, replay.data.shape[0])[:, None]
    steps = []
    with Player(ArraySource(replay), name=unique_name, speed=2.0) as player:
        source = LSLSource(name=unique_name, timeout=5.0, marker_name=player.marker_name)
        session = LiveSession(source, pipeline, max_lag_seconds=None)
        produced = []

        def step() -> None:
            update = session.step()
            steps.append((update.data, update.timestamps, update.marker_times, update.markers))
            produced.extend(update.probabilities)

        assert poll(lambda: pipeline.adapter.n_updates >= 2 and len(produced) >= 30, 20.0, step)
        session.close()
    rec_state = pipeline.adapter.recentring
    moved = rec_state.online_reference
    assert not np.allclose(moved, rec_state.start_reference, rtol=1e-3, atol=0.0)
    # The same chunks, markers first as the session does, through the saved model.
    copy = load_model(start)
    copy.start_session()
    again = []
    for data, ts, mts, markers in steps:
        if len(markers):
            copy.observe_markers(mts, markers)
        wins = copy.push_windows(data, ts)
        if wins:
            times = np.array([t for t, _ in wins])
            again.extend(copy.predict_proba_windows(np.stack([w for _, w in wins]), times=times))
    assert len(again) == len(produced)
    np.testing.assert_allclose(np.asarray(again), np.asarray(produced), rtol=1e-9, atol=1e-12)
    assert copy.adapter.n_updates == pipeline.adapter.n_updates
    # --save-adapted: the session's running mean is where the next session starts.
    pipeline.adapter.adopt_session()
    adapted = load_model(save_model(tmp_path / "adapted.bci", pipeline))
    np.testing.assert_allclose(adapted.adapter.recentring.start_reference, moved, rtol=1e-12)


def test_latency_is_measured_against_arrival_when_timestamps_run_ahead(unique_name: str) -> None:
    # Like MNE-LSL's PlayerLSL: each chunk is released before its timestamps (here 0.3 s).
    from acquisition.lsl_metadata import write_channel_metadata

    lead = 0.3
    recording = simulated_replay(30.0)
    sfreq = recording.sfreq
    info = pylsl.StreamInfo(
        unique_name, "EEG", recording.info.n_channels, sfreq, pylsl.cf_float32, unique_name
    )
    n = recording.info.n_channels
    write_channel_metadata(info, list(recording.info.ch_names), ["eeg"] * n, ["V"] * n)
    outlet = pylsl.StreamOutlet(info)
    stop = threading.Event()
    chunk = round(0.05 * sfreq)

    def send() -> None:
        start = pylsl.local_clock()
        for k in range(0, recording.data.shape[1] - chunk, chunk):
            # Released at start + k/sfreq, stamped lead seconds later than that.
            while pylsl.local_clock() < start + k / sfreq and not stop.is_set():
                time.sleep(0.002)  # pacing a real-time sender
            stamps = start + lead + (k + np.arange(chunk)) / sfreq
            outlet.push_chunk(recording.data[:, k : k + chunk].T.astype(np.float32), stamps)
            if stop.is_set():
                return

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        source = LSLSource(name=unique_name, timeout=5.0)
        with LiveSession(source, fitted_pipeline()) as session:
            assert poll(lambda: session.latency.count >= 40, 20.0, step=session.step)
            median = session.latency.median()
            measured_lead = session.timestamp_lead
    finally:
        stop.set()
        sender.join(5.0)
    print(f"timestamps ahead by {1e3 * measured_lead:.0f} ms; latency median {1e3 * median:.0f} ms")
    assert measured_lead == pytest.approx(lead, abs=0.1)
    assert 0.0 <= median < lead  # not "-300 ms"
