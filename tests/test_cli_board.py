"""``--board`` on the command line and ``bci stream``: BrainFlow's real synthetic board.

``bci record --board`` is read back with pyxdf; ``bci stream`` with a plain pylsl inlet and
with the project's LSLSource. No hardware: the synthetic board runs in BrainFlow's library.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pylsl
import pytest
import pyxdf
from background_run import BackgroundRun
from brainflow.board_shim import BoardIds, BoardShim

from acquisition.brainflow_source import BrainFlowSource
from acquisition.lsl_source import LSLSource
from bci.cli import main
from bci.commands.board_options import publish_board

BCI = Path(sys.executable).with_name("bci")
SYNTHETIC_NAMES = tuple(BoardShim.get_eeg_names(BoardIds.SYNTHETIC_BOARD.value))

pytestmark = pytest.mark.lsl


def resolve(name: str, timeout: float = 15.0) -> pylsl.StreamInfo:
    found = pylsl.resolve_byprop("name", name, 1, timeout)
    assert found, f"stream {name!r} did not appear within {timeout} s"
    return found[0]


def start_board_record() -> BackgroundRun:
    argv = [str(BCI), "record", "--board", "synthetic", "--board-extra", "counter",
            "--seconds", "4", "--out", "{folder}/board.xdf", "--status-every", "1"]  # fmt: skip
    return BackgroundRun(argv)


@pytest.mark.background(start=start_board_record)  # 4 s of board plus LabRecorder's stop
def test_record_board_writes_every_sample_to_xdf(background: BackgroundRun) -> None:
    out = background.folder / "board.xdf"
    done = background.wait(timeout=90)
    assert done.returncode == 0, done.stderr
    streams, _ = pyxdf.load_xdf(str(out), dejitter_timestamps=False)
    eeg = next(s for s in streams if s["info"]["type"][0] == "EEG")
    channels = eeg["info"]["desc"][0]["channels"][0]["channel"]
    labels = [c["label"][0] for c in channels]
    assert tuple(labels) == (*SYNTHETIC_NAMES, "Package")
    assert [c["unit"][0] for c in channels] == ["microvolts"] * 16 + ["count"]
    assert eeg["info"]["desc"][0]["acquisition"][0]["manufacturer"][0] == "BrainFlow Synthetic"
    counter = eeg["time_series"][:, 16].astype(np.int64)
    # Every sample the board produced from the first recorded one on: no counter step skipped.
    assert np.all(np.mod(np.diff(counter), 256) == 1), np.unique(np.mod(np.diff(counter), 256))
    assert counter.size >= 3.5 * 250, counter.size
    # The recorder started reading after LabRecorder subscribed: nothing before is lost.
    assert counter[0] == 0
    stamps = eeg["time_stamps"]
    assert np.median(np.diff(stamps)) == pytest.approx(1 / 250, rel=0.05)


def test_stream_board_is_read_by_pylsl_and_by_lsl_source(unique_name: str) -> None:
    proc = subprocess.Popen(
        [
            str(BCI),
            "stream",
            "--board",
            "synthetic",
            "--name",
            unique_name,
            "--board-extra",
            "counter",
            "--status-every",
            "0.5",
            "--seconds",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = resolve(unique_name)
        inlet = pylsl.StreamInlet(info)
        full = inlet.info(timeout=5)
        assert full.channel_count() == 17 and full.nominal_srate() == 250
        assert full.channel_format() == pylsl.cf_float32
        ch = full.desc().child("channels").child("channel")
        labels, units, types = [], [], []
        while not ch.empty():
            labels.append(ch.child_value("label"))
            units.append(ch.child_value("unit"))
            types.append(ch.child_value("type"))
            ch = ch.next_sibling()
        assert tuple(labels) == (*SYNTHETIC_NAMES, "Package")
        assert units == ["microvolts"] * 16 + ["count"]
        assert types == ["EEG"] * 16 + ["MISC"]
        manufacturer = full.desc().child("acquisition").child_value("manufacturer")
        assert manufacturer == "BrainFlow Synthetic"
        got, stamps = [], []
        deadline = time.monotonic() + 10
        while sum(len(g) for g in got) < 250:
            assert time.monotonic() < deadline, "fewer than 250 samples in 10 s from bci stream"
            chunk, ts = inlet.pull_chunk(timeout=0.5)
            if ts:
                got.append(chunk)
                stamps.extend(ts)
        values = np.concatenate([np.asarray(g) for g in got])
        assert np.all(np.mod(np.diff(values[:, 16]), 256) == 1)
        assert 1 < np.sqrt(np.mean(values[:, :16] ** 2)) < 1000  # microvolts on the wire
        # The board's own timestamps, on this machine's LSL clock.
        assert 0 <= pylsl.local_clock() - stamps[-1] < 1.0
        inlet.close_stream()

        with LSLSource(name=unique_name, timeout=10) as src:
            assert src.info.ch_names == (*SYNTHETIC_NAMES, "Package")
            assert src.info.units[:16] == ("V",) * 16
            pulled, deadline = [], time.monotonic() + 10
            while sum(d.shape[1] for d in pulled) < 250:
                assert time.monotonic() < deadline, "LSLSource got fewer than 250 samples"
                data, _ = src.pull()
                if data.shape[1]:
                    pulled.append(data[:16])
                else:
                    time.sleep(0.01)  # pacing the poll
            # Volts again: the same scale as the microvolts above, times 1e-6 (the synthetic
            # board's peaks pass 1 mV now and then, so the bound is on the RMS, as above).
            assert 1e-6 < np.sqrt(np.mean(np.concatenate(pulled, axis=1) ** 2)) < 1e-3
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "] " + unique_name + ":" in out  # status lines
    assert "stream: stopped after" in out and "0 dropped" in out


def test_published_board_carries_its_markers(unique_name: str) -> None:
    # What `bci stream` runs, in this process so the test can insert a BrainFlow marker.
    source = BrainFlowSource("synthetic")
    player = publish_board(source, unique_name)
    with player:
        inlet = pylsl.StreamInlet(resolve(player.marker_name))
        inlet.open_stream(timeout=5)
        source.insert_marker(42)
        sample, stamp = inlet.pull_sample(timeout=10)
    assert sample == ["42"]
    assert abs(pylsl.local_clock() - stamp) < 2.0


def test_info_board_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--board", "synthetic", "--seconds", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kind"] == "board" and summary["ch_names"] == list(SYNTHETIC_NAMES)
    assert summary["sfreq"] == 250 and 150 < summary["n_samples"] < 350
    assert summary["dropped_samples"] == 0


@pytest.mark.parametrize("command", ["live", "record", "calibrate", "info"])
def test_board_errors_are_one_line(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    extra = {
        "live": ["--model", "m.bci"],
        "record": ["--out", "x.xdf"],
        "calibrate": ["--paradigm", "demo"],
        "info": [],
    }[command]
    if command == "live":
        # The model is checked first; use a board error that needs no model: --stream + --board.
        code = main([command, *extra, "--board", "cyton", "--stream", "x"])
        assert code == 2
        assert "give one of them" in capsys.readouterr().err
        return
    code = main([command, *extra, "--board", "cyton", "--serial-port", "/dev/ttyUSB99"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "serial port /dev/ttyUSB99 does not exist" in err


def test_stream_needs_a_board(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stream"]) == 2
    assert "--board synthetic" in capsys.readouterr().err
