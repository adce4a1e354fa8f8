"""Player: any Source published on LSL, read back through LSLSource (real LSL, no mocks)."""

from __future__ import annotations

import numpy as np
import pylsl
import pytest
from reliability_helpers import poll

from acquisition import ArraySource, Recording, SourceInfo
from acquisition.lsl_source import LSLSource
from acquisition.player import Player

pytestmark = pytest.mark.lsl


def counter_recording(
    seconds: float, sfreq: float = 250.0, n_eeg: int = 4, seed: int = 0
) -> Recording:
    """Random EEG (volts) plus a last channel counting samples, with markers every 2 s."""
    n = int(seconds * sfreq)
    rng = np.random.default_rng(seed)
    data = np.vstack([rng.normal(0, 20e-6, (n_eeg, n)), np.arange(n)[None]])
    names = (*(f"E{i}" for i in range(n_eeg)), "counter")
    info = SourceInfo(
        "rec", names, ("eeg",) * n_eeg + ("misc",), sfreq, ("V",) * n_eeg + ("count",)
    )
    marks = np.arange(37, n, int(2 * sfreq))
    labels = [("left", "right")[i % 2] for i in range(marks.size)]
    return Recording(data, info, marker_samples=marks, marker_labels=labels)


def read_all(src: LSLSource, n: int, timeout: float, *, n_markers: int = 0):
    """Pull until ``n`` samples and ``n_markers`` markers arrived; fail at ``timeout``."""
    chunks, stamps, m_ts, m_labels = [], [], [], []

    def pull() -> None:
        d, t = src.pull()
        if t.size:
            chunks.append(d)
            stamps.append(t)
        mt, ml = src.pull_markers()
        m_ts.extend(mt)
        m_labels.extend(ml)

    def arrived() -> bool:
        return sum(t.size for t in stamps) >= n and len(m_labels) >= n_markers

    if not poll(arrived, timeout, step=pull):
        got = sum(t.size for t in stamps)
        pytest.fail(
            f"within {timeout:g} s: {got} of {n} samples, {len(m_labels)} of {n_markers} markers"
        )
    return np.concatenate(chunks, axis=1), np.concatenate(stamps), np.array(m_ts), m_labels


def test_sixty_seconds_at_10x_arrive_without_loss_duplication_or_reordering(unique_name):
    rec = counter_recording(60.0)
    player = Player(ArraySource(rec), name=unique_name, speed=10)
    with LSLSource(name=unique_name, timeout=5.0) as src:
        player.start()
        data, _, _, _ = read_all(src, rec.n_samples, timeout=30.0)
        health = src.health
        conditions = src.conditions()
    player.close()
    assert player.error is None
    np.testing.assert_array_equal(data[-1], np.arange(rec.n_samples))
    assert health.dropped_samples == 0
    assert [c.kind for c in conditions if c.kind == "gap"] == []


def test_replay_equals_the_recording_at_float32_precision_with_markers_in_place(unique_name):
    rec = counter_recording(8.0)
    player = Player(ArraySource(rec), name=unique_name, speed=10)
    with LSLSource(name=unique_name, marker_name=f"{unique_name}-markers") as src:
        assert src.info.ch_names == rec.info.ch_names
        assert src.info.sfreq == rec.sfreq
        player.start()
        data, ts, m_ts, labels = read_all(
            src, rec.n_samples, timeout=15.0, n_markers=len(rec.marker_labels)
        )
    player.close()
    np.testing.assert_allclose(data, rec.data, rtol=1e-6, atol=1e-12)
    assert labels == rec.marker_labels
    # Each marker's timestamp lands within one sample of the sample it points at.
    period = 1.0 / (rec.sfreq * 10)
    for stamp, sample in zip(m_ts, rec.marker_samples, strict=True):
        nearest = int(np.argmin(np.abs(ts - stamp)))
        assert abs(nearest - sample) <= 1
        assert abs(ts[sample] - stamp) <= period * 1.5


def test_outlet_metadata_source_id_and_replay_speed(unique_name):
    rec = counter_recording(1.0)
    player = Player(ArraySource(rec), name=unique_name, speed=10)
    other = Player(ArraySource(rec), name=unique_name + "-b")
    try:
        found = pylsl.resolve_bypred(f"name='{unique_name}'", 1, 5.0)
        full = pylsl.StreamInlet(found[0]).info(timeout=5.0)
        xml = full.as_xml()
        assert "<unit>microvolts</unit>" in xml and "<unit>count</unit>" in xml
        assert "<replay_speed>10</replay_speed>" in xml
        assert full.channel_format() == pylsl.cf_float32
        assert full.nominal_srate() == rec.sfreq
        assert player.source_id.startswith(unique_name) and player.source_id != other.source_id
        assert pylsl.resolve_bypred(f"name='{unique_name}-markers'", 1, 5.0)
    finally:
        player.close()
        other.close()


def test_loop_plays_the_recording_again_and_stop_ends_it(unique_name):
    rec = counter_recording(1.0, sfreq=100.0)
    player = Player(ArraySource(rec), name=unique_name, speed=10, loop=True)
    with LSLSource(name=unique_name) as src:
        player.start()
        data, ts, _, _ = read_all(src, 3 * rec.n_samples, timeout=10.0)
        player.stop()
        conditions = src.conditions()
    assert not player.running
    counter = data[-1, : 3 * rec.n_samples]
    np.testing.assert_array_equal(counter, np.tile(np.arange(rec.n_samples), 3))
    # Time runs on across the loops: no gap, no jump.
    assert [c.kind for c in conditions if c.kind in ("gap", "timestamp_jump")] == []
    assert np.all(np.diff(ts) > 0)


def test_as_fast_as_possible_delivers_everything_to_a_consumer_that_keeps_up(unique_name):
    rec = counter_recording(2.0, sfreq=100.0)
    player = Player(ArraySource(rec), name=unique_name, speed=0)
    with LSLSource(name=unique_name) as src:
        player.start()
        data, _, _, _ = read_all(src, rec.n_samples, timeout=10.0)
    assert player.join(5.0)
    player.close()
    np.testing.assert_array_equal(data[-1], np.arange(rec.n_samples))


def test_realtime_source_is_forwarded(unique_name):
    simulator = pytest.importorskip("acquisition.simulator")
    headset = simulator.SimulatedHeadset(sfreq=250.0, seed=1, realtime=True)
    player = Player(headset, name=unique_name)
    with LSLSource(name=unique_name) as src:
        player.start()
        headset.set_state("left")
        data, _, _, _ = read_all(src, 100, timeout=10.0)
        assert src.info.ch_names == headset.info.ch_names
    player.close()
    assert data.shape[1] >= 100
    assert np.all(np.isfinite(data)) and np.std(data) > 0


def test_bad_speed_is_refused():
    with pytest.raises(ValueError, match="speed"):
        Player(ArraySource(counter_recording(0.1)), name="never-published", speed=-1)


def first_seconds(rec: Recording, seconds: float) -> Recording:
    """The first ``seconds`` of a recording, with the markers that fall inside."""
    n = int(seconds * rec.sfreq)
    keep = rec.marker_samples < n
    return Recording(
        rec.data[:, :n],
        rec.info,
        marker_samples=rec.marker_samples[keep],
        marker_labels=[m for m, k in zip(rec.marker_labels, keep, strict=True) if k],
    )


@pytest.mark.parametrize(
    "relative",
    [
        "eegbci/MNE-eegbci-data/files/eegmmidb/1.0.0/S001/S001R04.edf",
        "bci4als/11/EEG.xdf",
    ],
    ids=["eegbci-edf", "bci4als-xdf"],
)
def test_real_recordings_replay_equal_to_the_file(shared_data, unique_name, relative):
    from acquisition.file_source import load_recording

    rec = first_seconds(load_recording(shared_data / relative), 20.0)
    assert rec.marker_samples.size >= 2  # the comparison below must cover markers
    player = Player(ArraySource(rec), name=unique_name, speed=20)
    with LSLSource(name=unique_name, marker_name=f"{unique_name}-markers") as src:
        assert src.info.ch_names == rec.info.ch_names
        player.start()
        data, ts, m_ts, labels = read_all(
            src, rec.n_samples, timeout=30.0, n_markers=len(rec.marker_labels)
        )
    player.close()
    assert player.error is None
    assert data.shape == rec.data.shape
    # float32 on the wire: equal to 1e-6 relative (these EEG rows carry DC offsets).
    np.testing.assert_allclose(data, rec.data, rtol=1e-6, atol=1e-12)
    assert labels == rec.marker_labels
    for stamp, sample in zip(m_ts, rec.marker_samples, strict=True):
        assert abs(int(np.argmin(np.abs(ts - stamp))) - sample) <= 1
