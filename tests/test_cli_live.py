"""``bci live`` as a person runs it: a stream that comes back different ends it (15.5)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pylsl
import pytest
from live_helpers import fitted_pipeline, simulated_replay

from acquisition.lsl_metadata import write_channel_metadata
from bci.model_file import save_model

BCI = Path(sys.executable).with_name("bci")
pytestmark = [pytest.mark.lsl, pytest.mark.slow]


class Sender:
    """A real-time LSL EEG outlet of ``n_channels`` of a simulated recording, in a thread."""

    def __init__(self, name: str, ch_names: list[str], data: np.ndarray, sfreq: float) -> None:
        n = len(ch_names)
        info = pylsl.StreamInfo(name, "EEG", n, sfreq, pylsl.cf_float32, f"{name}-{n}")
        write_channel_metadata(info, ch_names, ["eeg"] * n, ["V"] * n)
        self.outlet = pylsl.StreamOutlet(info)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(data, sfreq), daemon=True)
        self.thread.start()

    def _run(self, data: np.ndarray, sfreq: float) -> None:
        chunk, start = round(0.05 * sfreq), pylsl.local_clock()
        for k in range(0, data.shape[1] - chunk, chunk):
            while pylsl.local_clock() < start + k / sfreq:
                if self.stop.is_set():
                    return
                time.sleep(0.002)  # pacing a real-time sender
            self.outlet.push_chunk(data[:, k : k + chunk].T.astype(np.float32))

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5.0)
        self.outlet = None


def test_a_stream_that_comes_back_with_other_channels_ends_live_with_one_line(
    unique_name: str, tmp_path: Path
) -> None:
    recording = simulated_replay(120.0)
    names = list(recording.info.ch_names)
    model = save_model(tmp_path / "m.bci", fitted_pipeline())
    sender = Sender(unique_name, names, recording.data, recording.sfreq)
    out, err = tmp_path / "live.out", tmp_path / "live.err"
    proc = subprocess.Popen(
        [str(BCI), "live", "--model", str(model), "--stream", unique_name, "--headless"],
        stdout=out.open("w"),
        stderr=err.open("w"),
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        deadline = time.monotonic() + 120.0
        while "->" not in out.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, err.read_text()
            time.sleep(0.1)  # pacing a poll of another process
        assert "->" in out.read_text(), "live never classified"
        sender.close()  # the headset goes away...
        sender = Sender(unique_name, names[:-1], recording.data[:-1], recording.sfreq)  # ...back
        rc = proc.wait(timeout=60.0)
    finally:
        sender.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = err.read_text()
    assert rc == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bci live: error: stream "), stderr
    assert f"{len(names)} -> {len(names) - 1} channels" in lines[0] and "--wait" in lines[0]
    assert "windows classified" in out.read_text()  # the summary still comes


def test_with_wait_live_says_no_data_and_waits_for_the_original(unique_name, tmp_path) -> None:
    import signal

    recording = simulated_replay(120.0)
    names = list(recording.info.ch_names)
    model = save_model(tmp_path / "m.bci", fitted_pipeline())
    sender = Sender(unique_name, names, recording.data, recording.sfreq)
    out, err = tmp_path / "live.out", tmp_path / "live.err"
    args = ["live", "--model", str(model), "--stream", unique_name, "--headless", "--wait"]
    proc = subprocess.Popen(
        [str(BCI), *args],
        stdout=out.open("w"),
        stderr=err.open("w"),
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )

    def wait_for(text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in out.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, err.read_text()
            time.sleep(0.1)  # pacing a poll of another process
        assert text in out.read_text(), out.read_text()

    try:
        wait_for("->", 120.0)
        sender.close()
        sender = Sender(unique_name, names[:-1], recording.data[:-1], recording.sfreq)
        wait_for("waiting for the original", 30.0)
        wait_for("no data from", 30.0)
        assert proc.poll() is None  # still there, waiting
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=10.0)
    finally:
        sender.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 130, err.read_text()
    stdout = out.read_text()
    after = stdout[stdout.index("waiting for the original") :]
    assert "->" not in after  # no stale probabilities once the stream was gone
