"""Issue 15's hostile and clumsy inputs, each through the real ``bci`` command line.

Every case builds its file (a real FIF/EDF/BrainVision/XDF file, a resealed model, a
paradigm, a real LSL outlet), runs ``python -m bci ...`` in a subprocess under
``/usr/bin/time`` and checks: the exit code, that stderr is one line (no traceback) naming
what was wrong, and the child's peak RSS (nothing may cost more than a few hundred MB).
Set ``BCI_CASES_TABLE=path`` to append a row per case (JSON lines) for the report.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from bci_synthetic import make_recording
from live_helpers import fitted_pipeline
from xdf_writer import XdfStream, write_xdf

from bci.model_file import array_sha256, save_model, seal_header

TIME = shutil.which("time") or "/usr/bin/time"
PEAK_MB = 400.0

pytestmark = pytest.mark.slow


def run_bci(args: list[str], tmp: Path, *, timeout: float = 120.0) -> tuple[int, str, str, float]:
    """Run ``bci ARGS``; return exit code, stdout, stderr and the child's peak RSS in MB."""
    rss_file = tmp / f"rss-{os.getpid()}-{len(list(tmp.iterdir()))}.txt"
    cmd = [sys.executable, "-m", "bci", *args]
    if Path(TIME).exists():
        cmd = [TIME, "-f", "%M", "-o", str(rss_file), *cmd]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    peak = float(rss_file.read_text().split()[-1]) / 1024 if rss_file.exists() else float("nan")
    return proc.returncode, proc.stdout, proc.stderr.strip(), peak


def record_case(name: str, rc: int, line: str, peak: float) -> None:
    table = os.environ.get("BCI_CASES_TABLE")
    if table:
        with open(table, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"case": name, "rc": rc, "line": line, "peak_mb": peak}) + "\n")


def expect_one_line_error(name: str, args: list[str], tmp: Path, *needles: str) -> str:
    rc, _out, err, peak = run_bci(args, tmp)
    record_case(name, rc, err, peak)
    assert rc == 2, (rc, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    assert peak < PEAK_MB, f"{name}: peak RSS {peak:.0f} MB"
    return err


# ----------------------------------------------------------------------------- files


def _fif(path: Path, *, sfreq: float = 250.0, nan_span: tuple[float, float] | None = None) -> Path:
    import mne

    rec = make_recording()
    data = rec.data.copy()
    if nan_span is not None:
        a, b = (round(t * rec.sfreq) for t in nan_span)
        data[1, a:b] = np.nan
    info = mne.create_info(list(rec.info.ch_names), sfreq, "eeg")
    raw = mne.io.RawArray(data, info, verbose="ERROR")
    onsets = np.asarray(rec.marker_samples) / sfreq
    raw.set_annotations(mne.Annotations(onsets, 0.0, rec.marker_labels))
    raw.save(path, overwrite=True, verbose="ERROR")
    return path


def _paradigm(path: Path, extra: str = "", **tables: dict) -> Path:
    base = {
        "classes": {"left": "left", "right": "right", "feet": "feet"},
        "epochs": {"tmin": 0.5, "tmax": 2.5},
        "features": {"method": "bandpower"},
        "online": {"window": 2.0, "step": 0.1},
    }
    for table, values in tables.items():
        base[table] = {**base.get(table, {}), **values}
    lines = []
    for table, values in base.items():
        lines.append(f"[{table}]")
        lines.extend(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in values.items())
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def test_fif_at_1e9_hz_is_refused_before_allocating(tmp_path):
    fif = _fif(tmp_path / "fast_raw.fif", sfreq=1e9)
    par = _paradigm(tmp_path / "p.toml")
    expect_one_line_error(
        "FIF at 1e9 Hz: bci train",
        ["train", "--paradigm", str(par), str(fif), "--out", str(tmp_path / "m.bci")],
        tmp_path,
        "sampling rate = 1000000000.0 is out of range",
        "0.1 .. 100000 Hz",
    )


def _xdf(path: Path, *, srate: object = 100.0, marker_ts=None, gap_at: float | None = None):
    n = 6000
    ts = np.arange(n) / 100.0 + 10.0
    if gap_at is not None:
        ts[int(gap_at * 100) :] += 10.0
    rng = np.random.default_rng(0)
    eeg = XdfStream("EEG", "EEG", rng.standard_normal((n, 4)).astype(np.float32), ts, srate)
    eeg.labels = ["C3", "Cz", "C4", "Oz"]
    eeg.units = ["microvolts"] * 4
    times = np.linspace(12.0, 68.0, 21) if marker_ts is None else marker_ts
    markers = XdfStream("Markers", "Markers", ["left", "right", "feet"] * 7, times, 0.0, "string")
    return write_xdf(path, [eeg, markers])


@pytest.mark.parametrize("srate", ["1e12", "inf"])
def test_xdf_with_absurd_nominal_srate_is_refused(tmp_path, srate):
    xdf = _xdf(tmp_path / "fast.xdf", srate=srate)
    for command in ("info", "replay"):
        args = [command, str(xdf)] + (["--seconds", "1"] if command == "replay" else [])
        if command == "replay":
            args = ["replay", str(xdf)]
        expect_one_line_error(
            f"XDF nominal_srate {srate}: bci {command}",
            args,
            tmp_path,
            "nominal_srate",
            "0.1 .. 100000 Hz",
        )


def _edf(path: Path) -> Path:
    import mne

    rec = make_recording(n_trials=6)
    raw = mne.io.RawArray(
        rec.data * 1e-3, mne.create_info(list(rec.info.ch_names), 250.0, "eeg"), verbose="ERROR"
    )
    mne.export.export_raw(path, raw, fmt="edf", overwrite=True, verbose="ERROR")
    return path


def test_edf_with_a_record_duration_of_1e_9_s_is_refused(tmp_path):
    edf = _edf(tmp_path / "r.edf")
    raw = bytearray(edf.read_bytes())
    raw[244:252] = b"1e-9    "
    edf.write_bytes(bytes(raw))
    for command in ("info", "replay"):
        expect_one_line_error(
            f"EDF record duration 1e-9 s: bci {command}",
            [command, str(edf)],
            tmp_path,
            "data record duration = 1e-09 is out of range",
        )


def test_bdf_with_a_corrupted_first_byte_is_refused(tmp_path):
    # A BDF header starts with 0xFF "BIOSEMI"; one flipped first byte (here on a file whose
    # other bytes are EDF's) must not be read as some other layout.
    bdf = tmp_path / "r.bdf"
    raw = bytearray(_edf(tmp_path / "r.edf").read_bytes())
    raw[0:8] = b"\x00BIOSEMI"
    bdf.write_bytes(bytes(raw))
    expect_one_line_error(
        "BDF, first byte corrupted: bci info", ["info", str(bdf)], tmp_path, "cannot read as BDF"
    )


def _brainvision(folder: Path) -> Path:
    import pybv

    rng = np.random.default_rng(0)
    data = rng.standard_normal((4, 160 * 60)) * 10.0
    events = np.array([[int(s * 160), 1] for s in range(5, 60, 5)])
    pybv.write_brainvision(
        data=data,
        sfreq=160,
        ch_names=["C3", "Cz", "C4", "Oz"],
        fname_base="r",
        folder_out=str(folder),
        events=events,
        overwrite=True,
        unit="µV",
    )
    return folder / "r.vhdr"


def test_brainvision_eeg_cut_in_half_reads_with_a_warning(tmp_path):
    vhdr = _brainvision(tmp_path)
    eeg = tmp_path / "r.eeg"
    eeg.write_bytes(eeg.read_bytes()[: eeg.stat().st_size // 2])
    rc, out, err, peak = run_bci(["info", str(vhdr)], tmp_path)
    warning = next(line.strip() for line in out.splitlines() if "truncated" in line)
    record_case("BrainVision .eeg cut in half: bci info", rc, warning, peak)
    assert rc == 0, err
    assert "duration:  30.00 s" in out
    assert "holds 30.00 s" in warning and "expect at least 55.01 s" in warning


def test_vhdr_datafile_outside_its_folder_is_refused(tmp_path):
    vhdr = _brainvision(tmp_path)
    text = vhdr.read_text(encoding="utf-8").replace("DataFile=r.eeg", "DataFile=/etc/passwd")
    vhdr.write_text(text, encoding="utf-8")
    expect_one_line_error(
        "vhdr DataFile=/etc/passwd: bci info",
        ["info", str(vhdr)],
        tmp_path,
        "/etc/passwd, outside the header's folder",
    )


def test_nan_in_a_recording_drops_only_the_epochs_it_touches(tmp_path):
    fif = _fif(tmp_path / "nan_raw.fif", nan_span=(10.0, 11.0))
    par = _paradigm(tmp_path / "p.toml")
    rc, out, err, peak = run_bci(
        ["train", "--paradigm", str(par), str(fif), "--out", str(tmp_path / "m.bci"), "--cv", "0"],
        tmp_path,
    )
    warning = next(line for line in out.splitlines() if line.startswith("warning:"))
    record_case("NaN for 1 s in channel Cz: bci train", rc, warning, peak)
    assert rc == 0, err
    assert "channel(s) Cz at 10.00-11.00 s" in warning and "nan_raw.fif" in warning
    # Markers every 4 s from 2 s: the epoch [10.5, 12.5) s touches the NaN span [10, 11).
    assert "(1 dropped: NaN/infinite samples)" in out
    assert "23 epochs" in out


def test_xdf_markers_with_bad_timestamps_are_counted(tmp_path):
    times = np.linspace(12.0, 68.0, 21)
    times[[3, 7]] = np.nan
    xdf = _xdf(tmp_path / "nan.xdf", marker_ts=times)
    rc, out, err, peak = run_bci(["info", str(xdf)], tmp_path)
    line = next(line.strip() for line in out.splitlines() if "markers dropped" in line)
    record_case("XDF with 2 NaN marker timestamps: bci info", rc, line, peak)
    assert rc == 0, err
    assert "2 of 21 markers dropped: 2 with a NaN/infinite timestamp" in line
    shuffled = np.random.default_rng(1).permutation(np.linspace(12.0, 68.0, 21))
    xdf = _xdf(tmp_path / "shuffled.xdf", marker_ts=shuffled)
    rc, out, err, peak = run_bci(["info", str(xdf)], tmp_path)
    line = next(line.strip() for line in out.splitlines() if "out of time order" in line)
    record_case("XDF with shuffled marker timestamps: bci info", rc, line, peak)
    assert rc == 0, err
    assert "markers:   21" in out


def test_info_reports_gaps(tmp_path):
    xdf = _xdf(tmp_path / "gap.xdf", gap_at=30.0)
    rc, out, err, peak = run_bci(["info", str(xdf)], tmp_path)
    line = next(line.strip() for line in out.splitlines() if line.strip().startswith("gaps:"))
    record_case("XDF with a 10 s gap (sender restarted): bci info", rc, line, peak)
    assert rc == 0, err
    assert "1 in the timestamps, 10.00 s missing in all, the longest 10.00 s" in line


# ----------------------------------------------------------------------------- paradigms


PARADIGM_CASES = {
    "bands nested 5000 deep": ({}, "[x]\ny = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
    "hidden_sizes = [1e9]": (
        {"model": {"kind": "mlp", "hidden_sizes": [1000000000]}},
        "",
        "model.hidden_sizes[0] = 1000000000 is out of range",
    ),
    "tmin = -1e6": ({"epochs": {"tmin": -1e6}}, "", "epochs.tmin = -1000000.0 is out of range"),
    "online.window = 1e5": (
        {"online": {"window": 1e5}},
        "",
        "online.window = 100000.0 is out of range",
    ),
    "window longer than the epoch": (
        {"online": {"window": 3.0}},
        "",
        "online.window = 3 s is longer than the epoch",
    ),
    "step longer than window": (
        {"online": {"window": 1.0, "step": 2.0}},
        "",
        "online.step = 2 s is longer than online.window",
    ),
    "csp_components = 500 on 4 channels": (
        {"features": {"method": "csp", "csp_components": 500}},
        "",
        "features.csp_components = 500 is more than the 4 channels",
    ),
    "empty class name": ({"classes": {"": "T0"}}, "", "a class name is empty"),
}


@pytest.fixture(scope="module")
def train_fif(tmp_path_factory) -> Path:
    return _fif(tmp_path_factory.mktemp("fif") / "r_raw.fif")


@pytest.mark.parametrize("case", list(PARADIGM_CASES))
def test_hostile_paradigms_give_one_line(tmp_path, train_fif, case):
    tables, extra, needle = PARADIGM_CASES[case]
    par = _paradigm(tmp_path / "p.toml", extra, **tables)
    expect_one_line_error(
        f"paradigm {case}: bci train",
        ["train", "--paradigm", str(par), str(train_fif), "--out", str(tmp_path / "m.bci")],
        tmp_path,
        needle,
    )


# ----------------------------------------------------------------------------- models


@pytest.fixture(scope="module")
def good_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "good.bci"
    save_model(path, fitted_pipeline())
    return path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write(path: Path, members: dict[str, bytes], header: dict | None = None, *, raw=None):
    if header is not None:
        members["header.json"] = json.dumps(seal_header(header)).encode()
    if raw is not None:
        members["header.json"] = raw
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _weights_key(header: dict) -> str:
    return max(
        (k for k in header["arrays"] if k.startswith("model/")),
        key=lambda k: np.prod(header["arrays"][k]["shape"]),
    )


def _model_case(good: Path, out: Path, how: str) -> Path:
    members = _members(good)
    h = json.loads(members["header.json"])
    if how == "nesting 200000 deep":
        deep = "[" * 200_000 + "]" * 200_000
        return _write(out, members, raw=('{"format": "bci-model", "x": ' + deep + "}").encode())
    if how == "sfreq 1e9":
        h["sfreq"] = 1e9
    elif how == "online.window 1e6":
        h["paradigm"]["online"]["window"] = 1e6
    elif how == "epochs.tmax 1e7":
        h["paradigm"]["epochs"]["tmax"] = 1e7
    elif how == "epochs.tmin -1e7":
        h["paradigm"]["epochs"]["tmin"] = -1e7
    elif how == ".npy declaring shape (1e12,) over 64 bytes":
        key = _weights_key(h)
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
        )
        members[f"arrays/{key}.npy"] = buf.getvalue() + bytes(64)
        h["arrays"][key]["shape"] = [10**12]
    elif how == "3 extra arrays of 128 MB declared, correct hashes":
        for i in range(3):
            arr = np.zeros(16 * 1024**2 // 8)  # small on disk; the header declares the big one
            key = f"model/extra{i}"
            members[f"arrays/{key}.npy"] = _npy(arr)
            h["arrays"][key] = {"dtype": "<f8", "shape": [16 * 1024**2], "sha256": "x"}
            h["arrays"][key]["sha256"] = array_sha256(np.zeros(16 * 1024**2))
    elif how == "an extra array, under every size cap, correct hash":
        arr = np.ones(1000)
        members["arrays/model/extra.npy"] = _npy(arr)
        h["arrays"]["model/extra"] = {
            "dtype": "<f8",
            "shape": [1000],
            "sha256": array_sha256(arr),
        }
    elif how == "NaN weights with recomputed hashes":
        key = _weights_key(h)
        arr = np.load(io.BytesIO(members[f"arrays/{key}.npy"]))
        arr = arr.copy()
        arr.flat[0] = np.nan
        members[f"arrays/{key}.npy"] = _npy(arr)
        h["arrays"][key]["sha256"] = array_sha256(arr)
    elif how == "header edited, not resealed":
        h["sfreq"] = 250.0 if h["sfreq"] != 250.0 else 200.0
        members["header.json"] = json.dumps(h).encode()
        return _write(out, members)
    return _write(out, members, h)


MODEL_CASES = {
    "nesting 200000 deep": "nested too deeply",
    "sfreq 1e9": "sfreq = 1000000000.0 is out of range",
    "online.window 1e6": "online.window = 1000000.0 is out of range",
    "epochs.tmax 1e7": "epochs.tmax = 10000000.0 is out of range",
    "epochs.tmin -1e7": "epochs.tmin = -10000000.0 is out of range",
    ".npy declaring shape (1e12,) over 64 bytes": "total size of the model's arrays",
    "3 extra arrays of 128 MB declared, correct hashes": "total size of the model's arrays",
    "an extra array, under every size cap, correct hash": "used by no step: model/extra",
    "NaN weights with recomputed hashes": "NaN or infinite values",
    "header edited, not resealed": "does not match its header_sha256",
}


@pytest.mark.parametrize("case", list(MODEL_CASES))
def test_hostile_model_files_give_one_line(tmp_path, good_model, case):
    bad = _model_case(good_model, tmp_path / "bad.bci", case)
    expect_one_line_error(
        f"model file {case}: bci live",
        ["live", "--model", str(bad), "--headless", "--seconds", "1", "--timeout", "1"],
        tmp_path,
        str(bad),
        MODEL_CASES[case],
    )


# ----------------------------------------------------------------------------- streams, options


@pytest.mark.lsl
def test_lsl_sender_with_replay_speed_1e7_cannot_size_our_memory(tmp_path, unique_name):
    import pylsl

    from acquisition.lsl_metadata import write_channel_metadata

    info = pylsl.StreamInfo(unique_name, "EEG", 4, 160.0, pylsl.cf_float32, unique_name)
    write_channel_metadata(
        info,
        ["C3", "Cz", "C4", "Oz"],
        ["eeg"] * 4,
        ["microvolts"] * 4,
        extra_acquisition={"replay_speed": "1e7"},
    )
    outlet = pylsl.StreamOutlet(info)
    try:
        expect_one_line_error(
            "LSL desc/acquisition/replay_speed = 1e7: bci info --stream",
            ["info", "--stream", unique_name, "--seconds", "1", "--timeout", "10"],
            tmp_path,
            "desc/acquisition/replay_speed = 10000000.0 is out of range",
        )
    finally:
        del outlet


def test_simulate_sfreq_1e9_is_refused(tmp_path):
    expect_one_line_error(
        "bci simulate --sfreq 1e9",
        ["simulate", "--sfreq", "1e9", "--seconds", "1"],
        tmp_path,
        "--sfreq = 1000000000.0 is out of range",
    )


def test_record_into_an_unwritable_folder_is_refused_before_starting(tmp_path):
    expect_one_line_error(
        "bci record --out /proc/y.xdf",
        ["record", "--out", "/proc/y.xdf", "--seconds", "1"],
        tmp_path,
        "cannot write in /proc",
    )
