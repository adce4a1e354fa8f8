"""Broken inputs through the real command line (issue 6 item 3).

A corpus is built in ``tmp_path`` at test time (nothing committed): truncated EDF, BDF, FIF
and XDF files (valid small ones written here, then cut), a wrong header, random bytes and
empty files with every supported extension, files without events, paradigm files with
unknown keys or wrong types, a missing file, a directory, broken model files. Each goes
through ``bci info`` / ``bci train`` / ``bci evaluate`` / ``bci live --model`` in a
subprocess, and the answer must be: exit code 2, one line on stderr naming the file, no
traceback.
"""

from __future__ import annotations

import os
import queue
import re
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mne
import numpy as np
import pytest
from forked_cli import ForkedCli
from xdf_writer import XdfStream, write_xdf

from bci.cli import build_parser

pytestmark = pytest.mark.slow

BCI = [sys.executable, "-m", "bci"]
EXTENSIONS = (".edf", ".bdf", ".gdf", ".fif", ".vhdr", ".set", ".xdf")
#: liblsl writes its own log lines to stderr (e.g. "Loaded default config"); not ours.
LIBLSL_LOG = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \(.*\)\s+\[.*\]\s+\S+:\d+\s+\w+\|")
COMMANDS = set(build_parser()._subparsers._group_actions[0].choices)

SFREQ = 128.0
NAMES = ["C3", "Cz", "C4"]


def write_edf(path: Path, data_uv: np.ndarray, sfreq: float, *, bdf: bool = False) -> Path:
    """A plain EDF (int16) or BDF (int24) file without annotations, 1 s records."""
    n_ch, n = data_uv.shape
    per_rec = int(sfreq)
    n_rec = n // per_rec
    dig = (-8388608, 8388607) if bdf else (-32768, 32767)
    phys = (-1000.0, 1000.0)

    def field(value, width):
        return str(value).ljust(width)[:width].encode("ascii")

    head = b"\xffBIOSEMI" if bdf else field("0", 8)
    head += field("X X X X", 80) + field("Startdate X X X X", 80)
    head += field("01.01.20", 8) + field("00.00.00", 8) + field(256 * (n_ch + 1), 8)
    head += field("24BIT" if bdf else "", 44) + field(n_rec, 8) + field(1, 8) + field(n_ch, 4)
    for values in (
        [field(nm, 16) for nm in NAMES[:n_ch]],
        [field("AgAgCl", 80)] * n_ch,
        [field("uV", 8)] * n_ch,
        [field(phys[0], 8)] * n_ch,
        [field(phys[1], 8)] * n_ch,
        [field(dig[0], 8)] * n_ch,
        [field(dig[1], 8)] * n_ch,
        [field("", 80)] * n_ch,
        [field(per_rec, 8)] * n_ch,
        [field("", 32)] * n_ch,
    ):
        head += b"".join(values)
    scale = (dig[1] - dig[0]) / (phys[1] - phys[0])
    digital = np.round((data_uv[:, : n_rec * per_rec] - phys[0]) * scale + dig[0]).astype(np.int64)
    body = bytearray()
    for r in range(n_rec):
        for ch in range(n_ch):
            block = digital[ch, r * per_rec : (r + 1) * per_rec]
            if bdf:
                raw = block.astype("<i4").tobytes()
                body += b"".join(raw[i : i + 3] for i in range(0, len(raw), 4))
            else:
                body += block.astype("<i2").tobytes()
    path.write_bytes(head + bytes(body))
    return path


def signal(seconds: float = 8.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(0, 20, (len(NAMES), int(seconds * SFREQ)))  # microvolts


def fif_file(path: Path, *, events: bool) -> Path:
    info = mne.create_info(NAMES, SFREQ, "eeg")
    raw = mne.io.RawArray(signal() * 1e-6, info, verbose="ERROR")
    if events:
        raw.set_annotations(mne.Annotations([1.0, 3.0, 5.0], [0.0] * 3, ["left", "right", "left"]))
    raw.save(path, verbose="ERROR", overwrite=True)
    return path


def xdf_file(path: Path) -> Path:
    data = signal().T.astype(np.float32)
    stamps = 100.0 + np.arange(data.shape[0]) / SFREQ
    eeg = XdfStream("eeg", "EEG", data, stamps, SFREQ, labels=NAMES, units=["microvolts"] * 3)
    marks = XdfStream(
        "eeg-markers", "Markers", ["left", "right"], np.array([101.0, 103.0]), 0.0, "string"
    )
    return write_xdf(path, [eeg, marks])


def cut(path: Path, fraction: float = 0.5) -> Path:
    whole = path.read_bytes()
    out = path.with_name(f"cut-{path.name}")
    out.write_bytes(whole[: int(len(whole) * fraction)])
    return out


PARADIGM = """
[classes]
left = "left"
right = "right"
[epochs]
tmin = 0.0
tmax = 1.0
[filter]
l_freq = 8.0
h_freq = 30.0
[features]
bands = [[8, 13], [13, 30]]
[model]
kind = "softmax"
[online]
window = 1.0
step = 0.25
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(7)
    c: dict[str, Path] = {}
    for ext in (*EXTENSIONS, ".bci"):
        c[f"random{ext}"] = d / f"random{ext}"
        c[f"random{ext}"].write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
        c[f"empty{ext}"] = d / f"empty{ext}"
        c[f"empty{ext}"].write_bytes(b"")
    c["no-events.edf"] = write_edf(d / "no-events.edf", signal(), SFREQ)
    c["no-events.bdf"] = write_edf(d / "no-events.bdf", signal(), SFREQ, bdf=True)
    c["no-events_raw.fif"] = fif_file(d / "no-events_raw.fif", events=False)
    c["truncated.edf"] = cut(c["no-events.edf"], 0.6)
    c["truncated.bdf"] = cut(c["no-events.bdf"], 0.6)
    c["truncated.fif"] = cut(fif_file(d / "events_raw.fif", events=True), 0.5)
    c["truncated.xdf"] = cut(xdf_file(d / "whole.xdf"), 0.5)
    header = bytearray(c["no-events.edf"].read_bytes())
    header[252:256] = b"ab  "  # the number of signals is not a number
    c["wrong-header.edf"] = d / "wrong-header.edf"
    c["wrong-header.edf"].write_bytes(bytes(header))
    fif = bytearray(fif_file(d / "hdr_raw.fif", events=True).read_bytes())
    fif[:16] = b"\x00" * 16  # the FIF file id tag destroyed
    c["wrong-header_raw.fif"] = d / "wrong-header_raw.fif"
    c["wrong-header_raw.fif"].write_bytes(bytes(fif))
    c["missing.edf"] = d / "missing.edf"
    c["folder.fif"] = d / "folder.fif"
    c["folder.fif"].mkdir()
    # Paradigm files.
    c["good.toml"] = d / "good.toml"
    c["good.toml"].write_text(PARADIGM)
    c["unknown-key.toml"] = d / "unknown-key.toml"
    c["unknown-key.toml"].write_text(PARADIGM.replace("tmin = 0.0", "tmin = 0.0\ntmn = 0.5"))
    c["wrong-type.toml"] = d / "wrong-type.toml"
    c["wrong-type.toml"].write_text(PARADIGM.replace("tmax = 1.0", 'tmax = "late"'))
    c["unknown-table.toml"] = d / "unknown-table.toml"
    c["unknown-table.toml"].write_text(PARADIGM + "\n[modle]\nkind = 'mlp'\n")
    c["not-toml.toml"] = d / "not-toml.toml"
    c["not-toml.toml"].write_text("[classes\nleft = ")
    c["random.toml"] = d / "random.toml"
    c["random.toml"].write_bytes(rng.integers(0, 256, 512, dtype=np.uint8).tobytes())
    c["missing.toml"] = d / "missing.toml"
    c["good-events_raw.fif"] = fif_file(d / "good-events_raw.fif", events=True)
    # Model files.
    c["truncated.bci"] = d / "truncated.bci"
    c["truncated.bci"].write_bytes(
        b"PK\x03\x04" + rng.integers(0, 256, 300, dtype=np.uint8).tobytes()
    )
    c["missing.bci"] = d / "missing.bci"
    c["folder.bci"] = d / "folder.bci"
    c["folder.bci"].mkdir()
    return c


ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONWARNINGS": "ignore"}


@pytest.fixture(scope="module")
def forked():
    """Two warm servers that run each case in a forked ``python -m bci`` child.

    The cases test the commands' answers, not the interpreter's start: forking a process
    that has imported numpy, SciPy and MNE once saves ~1-2 s a case (see forked_cli.py).
    The single-case tests below still start a fresh ``python -m bci`` each.
    """
    servers = [ForkedCli(ENV) for _ in range(2)]
    yield servers
    for server in servers:
        server.close()


def run_all(
    cases: list[tuple[str, list[str]]], forked: list[ForkedCli] | None = None
) -> dict[str, subprocess.CompletedProcess]:
    """Run each case's ``bci ARGS``: a fresh ``python -m bci``, or a child of ``forked``."""
    here = Path(__file__).parent

    def run(args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*BCI, *args], capture_output=True, text=True, timeout=120, env=ENV, cwd=here
        )

    if forked is None:
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = list(pool.map(run, [args for _, args in cases]))
    else:
        free: queue.Queue[ForkedCli] = queue.Queue()
        for server in forked:
            free.put(server)

        def run_forked(args: list[str]) -> subprocess.CompletedProcess:
            server = free.get()
            try:
                return server.run(args, cwd=here, timeout=120)
            finally:
                free.put(server)

        with ThreadPoolExecutor(max_workers=len(forked)) as pool:
            results = list(pool.map(run_forked, [args for _, args in cases]))
    return {label: r for (label, _), r in zip(cases, results, strict=True)}


def problems(label: str, r: subprocess.CompletedProcess, named: Path) -> list[str]:
    """What is wrong with a command's answer to a bad input (empty when it is right)."""
    lines = [ln for ln in r.stderr.splitlines() if ln.strip() and not LIBLSL_LOG.match(ln)]
    out = []
    if r.returncode != 2:
        out.append(f"exit code {r.returncode}")
    if "Traceback" in r.stderr:
        out.append("traceback: " + r.stderr.strip().splitlines()[-1])
    if len(lines) != 1:
        out.append(f"{len(lines)} stderr lines: {lines[:4]}")
    elif named.name not in lines[0]:
        out.append(f"does not name {named.name}: {lines[0]}")
    elif ": error: " not in lines[0]:
        out.append(f"not an error line: {lines[0]}")
    return [f"{label}: {p}" for p in out]


def recording_inputs(c: dict[str, Path]) -> list[str]:
    return [
        *(f"random{e}" for e in EXTENSIONS),
        *(f"empty{e}" for e in EXTENSIONS),
        "truncated.edf",
        "truncated.bdf",
        "truncated.fif",
        "wrong-header.edf",
        "wrong-header_raw.fif",
        "missing.edf",
        "folder.fif",
    ]


def test_info_on_broken_recordings(corpus, forked):
    names = recording_inputs(corpus)
    results = run_all([(n, ["info", str(corpus[n])]) for n in names], forked)
    found = [p for n in names for p in problems(n, results[n], corpus[n])]
    assert found == [], "\n".join(found)


def test_a_truncated_xdf_opens_with_a_warning(corpus):
    # XDF is what a killed recorder leaves behind: it must open, saying it ends early.
    r = run_all([("truncated.xdf", ["info", str(corpus["truncated.xdf"])])])["truncated.xdf"]
    assert r.returncode == 0, r.stderr
    assert "ends early" in r.stdout and "Traceback" not in r.stderr


def test_train_on_broken_recordings_and_files_without_events(corpus, forked, tmp_path):
    names = [
        "random.gdf",
        "empty.vhdr",
        "random.set",
        "truncated.edf",
        "truncated.fif",
        "wrong-header.edf",
        "missing.edf",
        "folder.fif",
    ]
    good = str(corpus["good.toml"])
    cases = [
        (n, ["train", str(corpus[n]), "--paradigm", good, "--out", str(tmp_path / f"{n}.bci")])
        for n in names
    ]
    results = run_all(cases, forked)
    found = [p for n in names for p in problems(n, results[n], corpus[n])]
    assert found == [], "\n".join(found)
    assert not list(tmp_path.glob("*.bci"))  # nothing half-written


def test_train_on_files_without_events_names_them(corpus, forked, tmp_path):
    names = ["no-events.edf", "no-events_raw.fif"]
    good = str(corpus["good.toml"])
    cases = [
        (n, ["train", str(corpus[n]), "--paradigm", good, "--out", str(tmp_path / f"{n}.bci")])
        for n in names
    ]
    results = run_all(cases, forked)
    for n in names:
        assert "no epochs" in results[n].stderr
    assert not list(tmp_path.glob("*.bci"))
    found = [p for n in names for p in problems(n, results[n], corpus[n])]
    assert found == [], "\n".join(found)


PARADIGM_CASES = {
    "unknown-key.toml": "tmn",
    "wrong-type.toml": "tmax",
    "unknown-table.toml": "modle",
    "not-toml.toml": "TOML",
    "random.toml": "",
    "missing.toml": "not found",
    "folder.fif": "",
}


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_broken_paradigm_files(corpus, forked, tmp_path, command):
    if command not in COMMANDS:
        pytest.skip(f"bci {command} is not there yet")
    rec = str(corpus["good-events_raw.fif"])
    extra = ["--out", str(tmp_path / "m.bci")] if command == "train" else []
    results = run_all(
        [(n, [command, rec, "--paradigm", str(corpus[n]), *extra]) for n in PARADIGM_CASES], forked
    )
    found = [p for n in PARADIGM_CASES for p in problems(n, results[n], corpus[n])]
    assert found == [], "\n".join(found)
    for n, key in PARADIGM_CASES.items():
        assert key in results[n].stderr, (
            f"{n}: the message does not name {key!r}: {results[n].stderr}"
        )


def test_evaluate_on_broken_recordings_and_files_without_events(corpus, forked):
    if "evaluate" not in COMMANDS:
        pytest.skip("bci evaluate is not there yet")
    names = [
        "truncated.edf",
        "truncated.xdf",
        "random.fif",
        "empty.set",
        "missing.edf",
        "folder.fif",
        "no-events.edf",
    ]
    good = str(corpus["good.toml"])
    results = run_all(
        [(n, ["evaluate", str(corpus[n]), "--paradigm", good]) for n in names], forked
    )
    found = [p for n in names for p in problems(n, results[n], corpus[n])]
    assert found == [], "\n".join(found)


def test_live_with_broken_model_files(corpus, forked):
    if "live" not in COMMANDS:
        pytest.skip("bci live is not there yet")
    names = ["random.bci", "empty.bci", "truncated.bci", "missing.bci", "folder.bci", "random.fif"]
    common = [
        "--stream",
        "no-such-stream-for-bad-model-test",
        "--timeout",
        "1",
        "--headless",
        "--seconds",
        "1",
    ]
    results = run_all([(n, ["live", "--model", str(corpus[n]), *common]) for n in names], forked)
    found = [p for n in names for p in problems(n, results[n], corpus[n])]
    assert found == [], "\n".join(found)


def test_the_corpus_is_what_it_claims(corpus):
    # The "valid" files really are valid, so the broken ones are broken by their cut only.
    from acquisition.file_source import load_recording

    for n in ("no-events.edf", "no-events.bdf", "no-events_raw.fif", "good-events_raw.fif"):
        rec = load_recording(corpus[n])
        assert rec.info.n_channels == 3 and rec.sfreq == SFREQ
    assert load_recording(corpus["good-events_raw.fif"]).marker_labels == ["left", "right", "left"]
    assert load_recording(corpus["no-events.edf"]).marker_labels == []
    np.testing.assert_allclose(
        load_recording(corpus["no-events.edf"]).data * 1e6, signal()[:, : 8 * int(SFREQ)], atol=0.05
    )
    assert struct.unpack("4s", corpus["truncated.bci"].read_bytes()[:4])[0] == b"PK\x03\x04"


def test_live_with_a_corrupt_compressed_model(corpus, tmp_path):
    if "live" not in COMMANDS:
        pytest.skip("bci live is not there yet")
    from live_helpers import fitted_pipeline

    from bci.model_file import save_model

    good = save_model(tmp_path / "good.bci", fitted_pipeline())
    raw = bytearray(good.read_bytes())
    raw[200] ^= 0x55  # inside header.json's deflated bytes
    bad = tmp_path / "corrupt.bci"
    bad.write_bytes(bytes(raw))
    args = [
        "live",
        "--model",
        str(bad),
        "--stream",
        "no-such-stream",
        "--timeout",
        "1",
        "--headless",
    ]
    r = run_all([("corrupt.bci", args)])["corrupt.bci"]
    found = problems("corrupt.bci", r, bad)
    assert found == [], "\n".join(found)
