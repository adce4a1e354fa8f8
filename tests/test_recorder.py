"""Recorder: LSL streams -> XDF (labrecorder) -> pyxdf, compared with what was sent."""

from __future__ import annotations

import numpy as np
import pylsl
import pytest
import pyxdf
from reliability_helpers import poll

from acquisition import ArraySource, Recording, SourceInfo
from acquisition.errors import AcquisitionError, StreamNotFoundError
from acquisition.player import Player
from acquisition.recorder import Recorder

pytestmark = pytest.mark.lsl


def counter_recording(seconds: float, sfreq: float = 250.0) -> Recording:
    n = int(seconds * sfreq)
    rng = np.random.default_rng(3)
    data = np.vstack([rng.normal(0, 20e-6, (3, n)), np.arange(n)[None]])
    info = SourceInfo(
        "rec",
        ("C3", "Cz", "C4", "counter"),
        ("eeg",) * 3 + ("misc",),
        sfreq,
        ("V",) * 3 + ("count",),
    )
    marks = np.array([10, 200, 555, 700])
    return Recording(
        data, info, marker_samples=marks, marker_labels=["left", "right", "feet", "left"]
    )


def stream(streams: list[dict], name: str) -> dict:
    return next(s for s in streams if s["info"]["name"][0] == name)


def xdf_holds(path, name: str, last: int) -> bool:
    """True when the XDF being written at ``path`` holds counter value ``last`` of ``name``.

    The counter is the stream's last channel.
    """
    try:
        streams, _ = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    except Exception:  # the file is being written at this very moment: look again
        return False
    for s in streams:
        if s["info"]["name"][0] == name and len(s["time_series"]):
            return s["time_series"][-1][-1] >= last
    return False


def test_what_was_sent_is_what_the_xdf_holds(unique_name, tmp_path):
    rec = counter_recording(3.0)
    out = tmp_path / "sub" / "run.xdf"
    player = Player(ArraySource(rec), name=unique_name, speed=4)
    with Recorder(out, streams=[unique_name, f"{unique_name}-markers"]) as recorder:
        assert recorder.recording
        # LabRecorder connects in its own threads; start sending once it listens.
        assert player.wait_for_consumers(timeout=10.0)
        assert player._marker_outlet.wait_for_consumers(10.0)
        player.start()
        assert player.join(timeout=20.0)
        # LabRecorder writes from its own threads: stop only once the file holds the last
        # sample (the markers, pushed before it, are flushed by the stop at the latest).
        last = rec.n_samples - 1
        assert poll(lambda: xdf_holds(out, unique_name, last), 20.0), (
            f"{out} did not receive sample {last} within 20 s"
        )
    player.close()
    streams, _ = pyxdf.load_xdf(str(out))
    eeg = stream(streams, unique_name)
    series = np.asarray(eeg["time_series"], dtype=np.float64)
    np.testing.assert_array_equal(series[:, -1], np.arange(rec.n_samples))
    np.testing.assert_allclose(series[:, :3].T * 1e-6, rec.data[:3], rtol=1e-6, atol=1e-12)
    labels = [ch["label"][0] for ch in eeg["info"]["desc"][0]["channels"][0]["channel"]]
    assert labels == ["C3", "Cz", "C4", "counter"]
    markers = stream(streams, f"{unique_name}-markers")
    assert [m[0] for m in markers["time_series"]] == rec.marker_labels
    # Markers sit on the timestamps of their samples.
    for stamp, sample in zip(markers["time_stamps"], rec.marker_samples, strict=True):
        assert abs(int(np.argmin(np.abs(eeg["time_stamps"] - stamp))) - sample) <= 1


def test_missing_stream_is_named_and_nothing_is_written(unique_name, tmp_path):
    out = tmp_path / "x.xdf"
    with pytest.raises(StreamNotFoundError, match=unique_name):
        Recorder(out, streams=[unique_name], timeout=0.3).start()
    with pytest.raises(StreamNotFoundError, match="type='NoSuchType"):
        Recorder(out, streams=[f"type='NoSuchType{unique_name}'"], timeout=0.3).start()


def test_bad_output_paths_are_refused(tmp_path):
    with pytest.raises(AcquisitionError, match=r"must end in \.xdf"):
        Recorder(tmp_path / "x.edf", streams=["a"])
    existing = tmp_path / "old.xdf"
    existing.write_bytes(b"keep me")
    with pytest.raises(AcquisitionError, match="exists"):
        Recorder(existing, streams=["a"]).start()
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(AcquisitionError, match="at least one stream"):
        Recorder(tmp_path / "y.xdf", streams=[])


def test_bci_record_command_stops_after_seconds(bci_record_run):
    # The shared run (conftest): `bci record --stream NAME --seconds 1.5` as a subprocess.
    run = bci_record_run
    assert run.done.returncode == 0, run.done.stderr
    streams, _ = pyxdf.load_xdf(str(run.out))
    counter = np.asarray(stream(streams, run.name)["time_series"])[:, -1]
    assert counter.size > 50
    np.testing.assert_array_equal(np.diff(counter), 1)
    assert any(s["info"]["name"][0] == f"{run.name}-markers" for s in streams)


def test_a_sender_restarted_with_a_new_source_id_is_recorded_into_a_part(unique_name, tmp_path):
    from acquisition.xdf_file import load_xdf

    def outlet(source_id: str) -> pylsl.StreamOutlet:
        info = pylsl.StreamInfo(unique_name, "EEG", 2, 100.0, pylsl.cf_float32, source_id)
        return pylsl.StreamOutlet(info)

    t0 = pylsl.local_clock()

    def send(out: pylsl.StreamOutlet, first: int, n: int) -> None:
        counter = np.arange(first, first + n, dtype=np.float32)
        stamps = (t0 + counter / 100.0).tolist()  # a sender's clock goes on across a restart
        out.push_chunk(np.column_stack([np.zeros(n, np.float32), counter]), stamps)

    out_path = tmp_path / "run.xdf"
    sender = outlet(f"{unique_name}-a")
    recorder = Recorder(out_path, streams=[unique_name]).start()
    assert sender.wait_for_consumers(10.0)
    send(sender, 0, 150)
    assert poll(lambda: xdf_holds(out_path, unique_name, 149), 10.0)
    sender = None  # the sender dies...
    sender = outlet(f"{unique_name}-b")  # ...and comes back with a new source id
    assert sender.wait_for_consumers(10.0)  # the recorder followed it
    send(sender, 150, 150)
    part = tmp_path / "run.part2.xdf"
    assert recorder.paths == [out_path, part]
    assert poll(lambda: xdf_holds(part, unique_name, 299), 10.0)
    recorder.stop()
    assert recorder.paths == [out_path, part]  # still listed after the stop
    rec = load_xdf(out_path)
    # No unit metadata: the loader assumes microvolts; undo that for the counter.
    np.testing.assert_array_equal(np.rint(rec.data[1] * 1e6), np.arange(300))
    assert rec.extras["parts"] == [str(part)]
    assert rec.extras["truncated"] is False
    # A stale part would be appended to a new recording at this path: refused like the file.
    out_path.unlink()
    with pytest.raises(AcquisitionError, match=r"part2\.xdf' exists"):
        Recorder(out_path, streams=[unique_name]).start()
