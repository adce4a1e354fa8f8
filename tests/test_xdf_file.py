"""XDF files: written by our spec-following test writer, by LabRecorder, and the real set."""

from __future__ import annotations

import gc
import time

import numpy as np
import pytest
from xdf_writer import XdfStream, write_xdf

from acquisition.errors import RecordingFileError
from acquisition.file_source import FileSource, load_recording
from acquisition.xdf_file import load_xdf

FS = 100.0
N = 500
T0 = 5000.0


def _eeg(**kw) -> XdfStream:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((N, 3)) * 10).astype(np.float32)
    defaults = dict(
        name="Amp",
        type="EEG",
        samples=x,
        timestamps=T0 + np.arange(N) / FS,
        nominal_srate=FS,
        labels=["C3", "Cz", "C4"],
        units=["microvolts"] * 3,
        source_id="amp-1",
        clock_offsets=[(T0, 0.0), (T0 + 4.0, 0.0)],
    )
    defaults.update(kw)
    return XdfStream(**defaults)


def _markers(labels, times, **kw) -> XdfStream:
    return XdfStream(
        name=kw.pop("name", "Amp-markers"),
        type=kw.pop("type", "Markers"),
        samples=list(labels),
        timestamps=np.asarray(times, dtype=float),
        channel_format="string",
        clock_offsets=[(T0, 0.0), (T0 + 4.0, 0.0)],
        **kw,
    )


def test_labels_units_markers_and_timing(tmp_path):
    eeg = _eeg()
    mk = _markers(["left", "right", "1111.000000000000"], [T0 + 1.004, T0 + 2.0, T0 + 3.996])
    rec = load_xdf(write_xdf(tmp_path / "a.xdf", [eeg, mk]))
    assert rec.info.ch_names == ("C3", "Cz", "C4")
    assert rec.info.ch_types == ("eeg", "eeg", "eeg")
    assert rec.info.units == ("V", "V", "V")
    assert rec.info.source_id == "amp-1"
    assert rec.sfreq == FS
    np.testing.assert_allclose(rec.data, eeg.samples.T.astype(np.float64) * 1e-6, rtol=1e-12)
    assert rec.marker_labels == ["left", "right", "1111"]
    assert rec.marker_samples.tolist() == [100, 200, 400]  # nearest sample
    assert rec.start_time == pytest.approx(T0, abs=1e-9)
    assert "assumed_units" not in rec.extras
    assert rec.extras["truncated"] is False
    np.testing.assert_allclose(rec.extras["timestamps"], eeg.timestamps, atol=1e-9)


@pytest.mark.parametrize(
    ("unit", "scale"), [("µV", 1e-6), ("uV", 1e-6), ("mV", 1e-3), ("V", 1.0), ("volts", 1.0)]
)
def test_unit_spellings(tmp_path, unit, scale):
    eeg = _eeg(units=[unit] * 3)
    rec = load_xdf(write_xdf(tmp_path / "u.xdf", [eeg]))
    np.testing.assert_allclose(rec.data, eeg.samples.T.astype(np.float64) * scale, rtol=1e-12)


def test_no_metadata_assumes_microvolts_and_numbers_channels(tmp_path):
    eeg = _eeg(labels=None, units=None)
    rec = load_xdf(write_xdf(tmp_path / "n.xdf", [eeg]))
    assert rec.info.ch_names == ("ch1", "ch2", "ch3")
    assert rec.extras["assumed_units"] == "microvolts"
    np.testing.assert_allclose(rec.data, eeg.samples.T.astype(np.float64) * 1e-6, rtol=1e-12)
    assert rec.marker_labels == []


def test_non_voltage_channel_is_not_eeg(tmp_path):
    eeg = _eeg(units=["microvolts", "microvolts", "count"], types=["EEG", "EEG", "MISC"])
    rec = load_xdf(write_xdf(tmp_path / "c.xdf", [eeg]))
    assert rec.info.ch_types == ("eeg", "eeg", "misc")
    assert rec.info.units == ("V", "V", "count")
    np.testing.assert_allclose(rec.data[2], eeg.samples[:, 2], rtol=1e-12)


def test_numeric_marker_stream_becomes_strings(tmp_path):
    mk = XdfStream(
        name="codes",
        type="Markers",
        samples=np.array([[3], [7]], dtype=np.int32),
        timestamps=np.array([T0 + 1.0, T0 + 2.0]),
        channel_format="int32",
    )
    rec = load_xdf(write_xdf(tmp_path / "i.xdf", [_eeg(), mk]))
    assert rec.marker_labels == ["3", "7"]


def test_stream_choice(tmp_path):
    a = _eeg(name="AmpA")
    b = _eeg(name="AmpB", labels=["O1", "Oz", "O2"])
    empty_markers = _markers([], [], name="Empty")
    mk = _markers(["go"], [T0 + 1.0], name="Cues")
    path = write_xdf(tmp_path / "two.xdf", [a, b, empty_markers, mk])
    with pytest.raises(RecordingFileError, match=r"several EEG streams.*'AmpA'.*'AmpB'"):
        load_xdf(path)
    rec = load_xdf(path, stream="AmpB")
    assert rec.info.ch_names == ("O1", "Oz", "O2")
    assert rec.marker_labels == ["go"]
    assert rec.extras["marker_streams"] == ["Cues"]
    assert load_xdf(path, stream="AmpA", marker_stream="Empty").marker_labels == []
    with pytest.raises(RecordingFileError, match="no stream named 'Nope'"):
        load_xdf(path, stream="Nope")
    with pytest.raises(RecordingFileError, match="no marker stream named 'Nope'"):
        load_xdf(path, stream="AmpA", marker_stream="Nope")
    with pytest.raises(RecordingFileError, match="not a regularly sampled"):
        load_xdf(path, stream="Cues")


def test_only_markers_is_a_clear_error(tmp_path):
    path = write_xdf(tmp_path / "m.xdf", [_markers(["x"], [T0])])
    with pytest.raises(RecordingFileError, match="no EEG stream with samples"):
        load_xdf(path)


def test_markers_outside_the_data_are_dropped(tmp_path):
    mk = _markers(["before", "in", "after"], [T0 - 10, T0 + 1, T0 + 60])
    rec = load_xdf(write_xdf(tmp_path / "o.xdf", [_eeg(), mk]))
    assert rec.marker_labels == ["in"]
    assert rec.extras["markers_outside_data"] == 2


def test_truncated_xdf_loads_what_is_there(tmp_path):
    mk = _markers(["a", "b"], [T0 + 0.5, T0 + 4.5])
    whole = write_xdf(tmp_path / "w.xdf", [_eeg(), mk], chunk=50).read_bytes()
    cut = tmp_path / "cut.xdf"
    cut.write_bytes(whole[: int(len(whole) * 0.6)])
    rec = load_xdf(cut)
    assert 0 < rec.n_samples < N
    assert rec.extras["truncated"] is True
    assert rec.marker_labels == ["a"]


def test_header_only_and_garbage(tmp_path):
    whole = write_xdf(tmp_path / "w.xdf", [_eeg()]).read_bytes()
    for size in (4, 30):
        cut = tmp_path / f"cut{size}.xdf"
        cut.write_bytes(whole[:size])
        with pytest.raises(RecordingFileError) as exc:
            load_xdf(cut)
        assert str(cut) in str(exc.value) and "\n" not in str(exc.value)
    bad = tmp_path / "bad.xdf"
    bad.write_bytes(b"XDF:" + np.random.default_rng(2).bytes(3000))
    with pytest.raises(RecordingFileError, match=str(bad)):
        load_xdf(bad)
    with pytest.raises(RecordingFileError, match="does not exist"):
        load_xdf(tmp_path / "missing.xdf")


def test_file_source_replays_xdf(tmp_path):
    mk = _markers(["left", "right"], [T0 + 1.0, T0 + 2.0])
    path = write_xdf(tmp_path / "r.xdf", [_eeg(), mk])
    with FileSource(path, chunk_size=64) as src:
        data, ts = src.pull()
        assert data.shape == (3, 64)
        assert ts[0] == pytest.approx(T0, abs=1e-9)
        while not src.ended:
            src.pull()
        assert src.pull_markers()[1] == ["left", "right"]


# -- a real LabRecorder file ----------------------------------------------------------------


@pytest.mark.lsl
def test_labrecorder_file(tmp_path, unique_name):
    labrecorder = pytest.importorskip("labrecorder")
    pylsl = pytest.importorskip("pylsl")
    info = pylsl.StreamInfo(unique_name, "EEG", 3, FS, "float32", unique_name + "-id")
    chans = info.desc().append_child("channels")
    for label in ("C3", "Cz", "C4"):
        ch = chans.append_child("channel")
        ch.append_child_value("label", label)
        ch.append_child_value("unit", "microvolts")
        ch.append_child_value("type", "EEG")
    outlet = pylsl.StreamOutlet(info)
    m_outlet = pylsl.StreamOutlet(
        pylsl.StreamInfo(unique_name + "-markers", "Markers", 1, 0, "string", unique_name + "-m")
    )
    found: list = []
    deadline = time.monotonic() + 10
    while len(found) < 2 and time.monotonic() < deadline:
        found = [s for s in pylsl.resolve_streams(0.5) if s.name().startswith(unique_name)]
    assert len(found) == 2, "the test outlets did not appear on LSL"
    path = tmp_path / "lr.xdf"
    rec = labrecorder.Recording(str(path), found)
    try:
        deadline = time.monotonic() + 10
        while not (outlet.have_consumers() and m_outlet.have_consumers()):
            assert time.monotonic() < deadline, "LabRecorder did not connect"
            time.sleep(0.01)
        n = 300
        base = pylsl.local_clock()
        x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
        m_outlet.push_sample(["left"], base + 100 / FS)
        m_outlet.push_sample(["7"], base + 200 / FS)
        for i in range(n):
            outlet.push_sample(x[i].tolist(), base + i / FS)
        # pyxdf reads a file still being written: poll it until the samples have arrived
        # (LabRecorder may hold back marker chunks until it stops)
        deadline = time.monotonic() + 20
        while True:
            try:
                got = load_xdf(path)
                if got.n_samples == n:
                    break
            except RecordingFileError:
                pass
            assert time.monotonic() < deadline, "LabRecorder did not write all samples"
            time.sleep(0.05)
    finally:
        rec.stop()
        # LabRecorder writes the footers and closes the file when the object is destroyed
        del rec
        gc.collect()
    got = load_xdf(path)
    assert got.info.ch_names == ("C3", "Cz", "C4")
    np.testing.assert_allclose(got.data, x.T * 1e-6, rtol=1e-7)
    assert got.marker_labels == ["left", "7"]
    assert got.marker_samples.tolist() == [100, 200]


# -- the real bci4als set ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def bci4als(shared_data) -> dict[str, object]:
    return {
        p.parent.name: load_recording(p)
        for p in sorted((shared_data / "bci4als").glob("*/EEG.xdf"))
    }


def test_bci4als_sessions(bci4als):
    assert sorted(bci4als) == ["09", "11", "12", "13", "14"]
    for session, rec in bci4als.items():
        assert rec.info.n_channels == 16, session
        assert rec.sfreq == 125.0
        assert rec.info.ch_names[0] == "ch1"
        assert rec.extras["assumed_units"] == "microvolts"
        counts = rec.marker_counts()
        trials = counts["1111"]
        assert counts["9"] == trials
        assert counts["1001"] == 2 * trials
        # each class code is sent twice a trial (cue, then imagery onset)
        assert counts["1"] + counts["2"] + counts["3"] == 2 * trials
        assert counts["0"] == counts["99"] == 1
        # volts: microvolt DC offsets of thousands -> around 1e-3..1 V in magnitude
        assert np.max(np.abs(rec.data)) < 10.0


def test_bci4als_session_09_picks_the_marker_stream_with_data(bci4als):
    rec = bci4als["09"]  # it has an empty MarkerStream next to the real one
    assert len(rec.marker_labels) == 182
    assert rec.extras["marker_streams"] == ["MarkerStream"]
    assert np.all(np.diff(rec.marker_samples) >= 0)
    assert rec.marker_samples[-1] < rec.n_samples
