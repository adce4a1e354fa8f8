"""File source: every format through real MNE files, the real recordings, and bad files."""

from __future__ import annotations

import glob
import importlib.util
import struct
import warnings
from pathlib import Path

import mne
import numpy as np
import pytest

from acquisition.errors import RecordingFileError
from acquisition.file_source import (
    SUPPORTED_FORMATS,
    FileSource,
    file_format,
    load_recording,
)
from acquisition.source import Source

SFREQ = 250.0
N_TIMES = 2500  # 10 s


def _raw(with_stim: bool = False) -> mne.io.RawArray:
    names = ["C3", "Cz", "C4"] + (["STI 014"] if with_stim else [])
    types = ["eeg"] * 3 + (["stim"] if with_stim else [])
    rng = np.random.default_rng(0)
    data = rng.standard_normal((len(names), N_TIMES)) * 20e-6
    if with_stim:
        data[3] = 0
        data[3, 500:505] = 2
        data[3, 1500:1505] = 3
        data[3, 2000:2005] = 2
    return mne.io.RawArray(data, mne.create_info(names, SFREQ, types), verbose="ERROR")


def _annotated() -> mne.io.RawArray:
    raw = _raw()
    raw.set_annotations(
        mne.Annotations(
            [1.0, 3.0, 5.0, 7.0], [0.0, 0.0, 1.0, 0.0], ["left", "right", "BAD_x", "left"]
        )
    )
    return raw


# -- each format, written by MNE's own writers -----------------------------------------


def test_fif_with_stim_channel_gives_string_codes_and_drops_stim(tmp_path):
    raw = _raw(with_stim=True)
    raw.save(tmp_path / "s_raw.fif", verbose="ERROR")
    rec = load_recording(tmp_path / "s_raw.fif")
    assert rec.info.ch_names == ("C3", "Cz", "C4")
    assert "stim" not in rec.info.ch_types
    assert rec.marker_samples.tolist() == [500, 1500, 2000]
    assert rec.marker_labels == ["2", "3", "2"]
    assert rec.extras["marker_source"] == "stim"
    # FIF stores float32 by default
    np.testing.assert_allclose(rec.data, raw.get_data()[:3], rtol=1e-6, atol=1e-15)
    assert rec.data.dtype == np.float64


def test_fif_annotations_skip_bad_segments(tmp_path):
    raw = _annotated()
    raw.save(tmp_path / "a_raw.fif", verbose="ERROR")
    rec = load_recording(tmp_path / "a_raw.fif")
    assert rec.marker_labels == ["left", "right", "left"]
    assert rec.marker_samples.tolist() == [250, 750, 1750]
    assert rec.extras["skipped_annotations"] == {"BAD_x": 1}


def test_fif_with_first_samp_places_markers_relative_to_data(tmp_path):
    raw = _raw(with_stim=True)
    raw.crop(tmin=1.0)  # first_samp becomes 250
    raw.save(tmp_path / "c_raw.fif", verbose="ERROR")
    rec = load_recording(tmp_path / "c_raw.fif")
    assert rec.marker_samples.tolist() == [250, 1250, 1750]


def test_sibling_events_file_with_glob_characters_in_name(tmp_path):
    raw = _raw()
    stem = "record-[2012.07.06-19.02.16]"
    raw.save(tmp_path / f"{stem}_raw.fif", verbose="ERROR")
    events = np.array([[100, 0, 1], [600, 0, 4], [1100, 0, 1]])
    mne.write_events(tmp_path / f"{stem}-eve.fif", events, verbose="ERROR")
    rec = load_recording(tmp_path / f"{stem}_raw.fif")
    assert rec.extras["marker_source"] == "events file"
    assert rec.marker_labels == ["1", "4", "1"]
    assert rec.marker_samples.tolist() == [100, 600, 1100]


def test_explicit_events_override_annotations(tmp_path):
    raw = _annotated()
    raw.save(tmp_path / "x_raw.fif", verbose="ERROR")
    ev_path = tmp_path / "other-eve.fif"
    mne.write_events(ev_path, np.array([[42, 0, 7]]), verbose="ERROR")
    rec = load_recording(tmp_path / "x_raw.fif", events=ev_path)
    assert rec.marker_labels == ["7"]
    assert rec.marker_samples.tolist() == [42]


def test_explicit_stim_channel_and_missing_one(tmp_path):
    raw = _raw(with_stim=True)
    raw.set_annotations(mne.Annotations([1.0], [0.0], ["note"]))
    raw.save(tmp_path / "s_raw.fif", verbose="ERROR")
    assert load_recording(tmp_path / "s_raw.fif").marker_labels == ["note"]
    rec = load_recording(tmp_path / "s_raw.fif", stim_channel="STI 014")
    assert rec.marker_labels == ["2", "3", "2"]
    with pytest.raises(RecordingFileError, match="STI 999"):
        load_recording(tmp_path / "s_raw.fif", stim_channel="STI 999")


@pytest.mark.parametrize(
    ("fmt", "ext", "module"),
    [
        ("edf", ".edf", "edfio"),
        ("bdf", ".bdf", "edfio"),
        ("brainvision", ".vhdr", "pybv"),
        ("eeglab", ".set", "eeglabio"),
    ],
)
def test_exported_formats_round_trip(tmp_path, fmt, ext, module):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"MNE's {fmt} exporter needs the optional package {module!r}")
    raw = _annotated()
    path = tmp_path / f"rec{ext}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pybv: "converting double to float32"
        mne.export.export_raw(path, raw, fmt=fmt, verbose="ERROR")
    rec = load_recording(path)
    assert file_format(path) == SUPPORTED_FORMATS[ext]
    assert rec.info.ch_names == ("C3", "Cz", "C4")
    assert rec.sfreq == SFREQ
    assert rec.n_samples == N_TIMES
    assert rec.marker_labels == ["left", "right", "left"]
    assert rec.marker_samples.tolist() == [250, 750, 1750]
    # EDF stores 16-bit integers: about 0.1% of the range; the others are float32.
    atol = 2e-9 if fmt == "edf" else 1e-10
    np.testing.assert_allclose(rec.data, raw.get_data(), rtol=0, atol=atol)


def test_file_source_replays_in_chunks_deterministically(tmp_path):
    raw = _raw(with_stim=True)
    raw.save(tmp_path / "s_raw.fif", verbose="ERROR")
    src = FileSource(tmp_path / "s_raw.fif", chunk_size=7)
    assert isinstance(src, Source)
    chunks, stamps, labels = [], [], []
    while not src.ended:
        data, ts = src.pull()
        assert data.shape[1] <= 7
        chunks.append(data)
        stamps.append(ts)
        labels += src.pull_markers()[1]
    src.close()
    np.testing.assert_array_equal(np.concatenate(chunks, axis=1), src.recording.data)
    np.testing.assert_allclose(src.recording.data, raw.get_data()[:3], rtol=1e-6, atol=1e-15)
    assert np.all(np.diff(np.concatenate(stamps)) > 0)
    assert labels == ["2", "3", "2"]
    with pytest.raises(RuntimeError):
        src.pull()


# -- bad input: one line naming the file and the problem ---------------------------------


def _assert_one_line(exc: pytest.ExceptionInfo, path: Path) -> None:
    msg = str(exc.value)
    assert str(path) in msg
    assert "\n" not in msg


def test_missing_file(tmp_path):
    with pytest.raises(RecordingFileError, match="does not exist") as exc:
        load_recording(tmp_path / "nope.edf")
    _assert_one_line(exc, tmp_path / "nope.edf")


def test_unknown_extension_lists_supported(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("1,2,3\n")
    with pytest.raises(RecordingFileError, match=r"\.edf.*\.vhdr.*\.xdf") as exc:
        load_recording(path)
    _assert_one_line(exc, path)


@pytest.mark.parametrize("ext", sorted(SUPPORTED_FORMATS))
def test_empty_file(tmp_path, ext):
    path = tmp_path / f"empty{ext}"
    path.write_bytes(b"")
    with pytest.raises(RecordingFileError, match="empty") as exc:
        load_recording(path)
    _assert_one_line(exc, path)


@pytest.mark.parametrize("ext", sorted(SUPPORTED_FORMATS))
def test_random_bytes(tmp_path, ext):
    path = tmp_path / f"noise{ext}"
    path.write_bytes(np.random.default_rng(1).bytes(5000))
    with pytest.raises(RecordingFileError) as exc:
        load_recording(path)
    _assert_one_line(exc, path)


def test_truncated_fif(tmp_path):
    _raw(with_stim=True).save(tmp_path / "s_raw.fif", verbose="ERROR")
    whole = (tmp_path / "s_raw.fif").read_bytes()
    cut = tmp_path / "cut_raw.fif"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(RecordingFileError) as exc:
        load_recording(cut)
    _assert_one_line(exc, cut)


def test_truncated_edf(tmp_path):
    if importlib.util.find_spec("edfio") is None:
        pytest.skip("writing an EDF needs the optional package 'edfio'")
    mne.export.export_raw(tmp_path / "r.edf", _annotated(), fmt="edf", verbose="ERROR")
    whole = (tmp_path / "r.edf").read_bytes()
    cut = tmp_path / "cut.edf"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(RecordingFileError, match="truncated EDF") as exc:
        load_recording(cut)
    _assert_one_line(exc, cut)


def _write_gdf1(path: Path, data_uv: np.ndarray, sfreq: float, names, events) -> np.ndarray:
    """Write a minimal GDF 1.25 file (int16 in µV, 1 s records, event table mode 1).

    MNE has no GDF writer; this follows the layout MNE's reader expects. Returns the data
    as stored (after 16-bit quantisation), in µV.
    """
    n_ch, n = data_uv.shape
    spr = int(sfreq)
    n_rec = n // spr
    phys = float(np.abs(data_uv).max()) * 1.01

    def text(values, width):
        return b"".join(v.encode().ljust(width) for v in values)

    head = b"GDF 1.25" + b" " * 160 + b"20260101120000  "
    head += struct.pack("<q", 256 * (n_ch + 1)) + bytes(44)
    head += struct.pack("<qIII", n_rec, 1, 1, n_ch)
    head += text(names, 16) + text([""] * n_ch, 80) + text(["uV"] * n_ch, 8)
    head += struct.pack(f"<{2 * n_ch}d", *([-phys] * n_ch + [phys] * n_ch))
    head += struct.pack(f"<{2 * n_ch}q", *([-32767] * n_ch + [32767] * n_ch))
    head += text([""] * n_ch, 80) + struct.pack(f"<{2 * n_ch}i", *([spr] * n_ch + [3] * n_ch))
    head += bytes(32 * n_ch)
    dig = np.round(data_uv[:, : n_rec * spr] / phys * 32767).astype("<i2")
    body = dig.reshape(n_ch, n_rec, spr).transpose(1, 0, 2).tobytes()
    table = bytes([1]) + int(sfreq).to_bytes(3, "little") + struct.pack("<I", len(events))
    table += struct.pack(f"<{len(events)}I", *[s + 1 for s, _ in events])  # 1-based
    table += struct.pack(f"<{len(events)}H", *[c for _, c in events])
    path.write_bytes(head + body + table)
    return dig.astype(float) / 32767 * phys


def test_gdf_with_event_table(tmp_path):
    x = np.random.default_rng(0).standard_normal((3, N_TIMES)) * 20
    stored = _write_gdf1(tmp_path / "r.gdf", x, SFREQ, ["C3", "Cz", "C4"], [(250, 769), (750, 770)])
    rec = load_recording(tmp_path / "r.gdf")
    assert rec.info.ch_names == ("C3", "Cz", "C4")
    assert rec.sfreq == SFREQ
    assert rec.marker_labels == ["769", "770"]
    assert rec.marker_samples.tolist() == [250, 750]
    np.testing.assert_allclose(rec.data, stored * 1e-6, rtol=1e-12, atol=1e-15)


def test_truncated_gdf(tmp_path):
    x = np.random.default_rng(0).standard_normal((3, N_TIMES)) * 20
    _write_gdf1(tmp_path / "r.gdf", x, SFREQ, ["C3", "Cz", "C4"], [(250, 769)])
    whole = (tmp_path / "r.gdf").read_bytes()
    cut = tmp_path / "cut.gdf"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(RecordingFileError) as exc:
        load_recording(cut)
    _assert_one_line(exc, cut)


def test_folder_and_missing_events_file(tmp_path):
    with pytest.raises(RecordingFileError, match="folder"):
        load_recording(tmp_path)
    _raw().save(tmp_path / "a_raw.fif", verbose="ERROR")
    with pytest.raises(RecordingFileError, match=r"no-eve\.fif"):
        load_recording(tmp_path / "a_raw.fif", events=tmp_path / "no-eve.fif")


# -- the real recordings in ../shared/data -----------------------------------------------

EEGBCI_RUNS = "eegbci/MNE-eegbci-data/files/eegmmidb/1.0.0/S001/S001R{:02d}.edf"


@pytest.fixture(scope="module")
def eegbci_imagery(shared_data):
    """Runs 4, 8, 12 (left/right fist imagery), loaded once."""
    return [load_recording(shared_data / EEGBCI_RUNS.format(r)) for r in (4, 8, 12)]


def test_eegbci_imagery_runs(eegbci_imagery):
    totals: dict[str, int] = {}
    for rec in eegbci_imagery:
        assert rec.info.n_channels == 64
        assert rec.sfreq == 160.0
        assert set(rec.info.ch_types) == {"eeg"}
        assert {"C3", "Cz", "C4", "FC5", "FCz"} <= set(rec.info.ch_names)
        assert not any(n.endswith(".") for n in rec.info.ch_names)
        assert rec.extras["original_ch_names"][0] == "Fc5."
        assert rec.extras["marker_source"] == "annotations"
        for k, v in rec.marker_counts().items():
            totals[k] = totals.get(k, 0) + v
    assert totals["T1"] == 23
    assert totals["T2"] == 22
    # EEG in volts: tens of microvolts, not thousands
    assert 1e-6 < np.median(np.std(eegbci_imagery[0].data, axis=1)) < 2e-4


def test_eegbci_feet_runs(shared_data):
    totals: dict[str, int] = {}
    for run in (6, 10, 14):
        for k, v in load_recording(shared_data / EEGBCI_RUNS.format(run)).marker_counts().items():
            totals[k] = totals.get(k, 0) + v
    assert (totals["T1"], totals["T2"]) == (21, 24)


def test_ssvep_exo_sessions(shared_data):
    files = sorted(glob.glob(glob.escape(str(shared_data / "ssvep-exo")) + "/subject*/*_raw.fif"))
    assert len(files) == 12  # 6 subjects x 2 sessions
    for f in files[:4]:
        rec = load_recording(f)
        assert rec.info.ch_names == ("Oz", "O1", "O2", "PO3", "POz", "PO7", "PO8", "PO4")
        assert rec.sfreq == 256.0
        assert rec.extras["marker_source"] == "events file"
        assert rec.marker_counts() == {"1": 8, "2": 8, "3": 8, "4": 8}


def test_eeglab_set(shared_data):
    rec = load_recording(shared_data / "eeglab" / "eeglab_data.set")
    assert rec.info.n_channels == 32
    assert rec.sfreq == 128.0
    assert rec.marker_counts() == {"square": 80, "rt": 74}
    assert rec.extras["marker_source"] == "annotations"


def test_bci4als_via_load_recording(shared_data):
    rec = load_recording(shared_data / "bci4als" / "09" / "EEG.xdf")
    assert rec.info.n_channels == 16
    assert rec.sfreq == 125.0
    assert rec.extras["format"] == "XDF"
