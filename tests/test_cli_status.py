"""``--status-every`` of the long-running commands: 0 means no status lines (9.10)."""

from __future__ import annotations

import argparse

import pytest
from live_helpers import simulated_replay

from acquisition.array_source import ArraySource
from acquisition.player import Player
from bci.commands.common import add_status_every_argument, first_status_time
from bci.commands.replay import drive


def _parse(*argv: str) -> float:
    p = argparse.ArgumentParser()
    add_status_every_argument(p)
    return p.parse_args(list(argv)).status_every


def test_zero_means_never_and_negative_is_refused(capsys) -> None:
    assert _parse() == 2.0 and _parse("--status-every", "0") == 0.0
    assert first_status_time(10.0, 0.0) == float("inf") and first_status_time(10.0, 2.0) == 12.0
    for bad in ("-1", "nan", "inf", "soon"):
        with pytest.raises(SystemExit):
            _parse("--status-every", bad)
    assert "must be a number of seconds >= 0" in capsys.readouterr().err


@pytest.mark.lsl
def test_replay_with_status_every_0_prints_only_its_last_line(unique_name, capsys) -> None:
    # Real time for 1.5 s: a status line every loop (0.1 s) before the fix.
    player = Player(ArraySource(simulated_replay(1.5)), name=unique_name, speed=1.0)
    assert drive(player, status_every=0.0) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith("(done)")


@pytest.mark.lsl
@pytest.mark.slow
def test_record_keeps_labrecorders_lines_out_of_the_terminal(bci_record_run) -> None:
    from pathlib import Path

    # The shared run (conftest): `bci record --stream NAME --seconds 1.5` as a subprocess.
    done, out = bci_record_run.done, bci_record_run.out
    assert done.returncode == 0, done.stderr
    terminal = done.stdout + done.stderr
    assert "Wrote footer" not in terminal and "record: stopped after" in terminal
    assert "Wrote footer" in Path(f"{out}.log").read_text()


@pytest.mark.lsl
@pytest.mark.slow
def test_sigterm_stops_replay_like_ctrl_c(tmp_path) -> None:
    # Before: SIGTERM killed replay with the default handler (exit -15, no closing line).
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    import mne

    rec = simulated_replay(60.0)
    raw = mne.io.RawArray(rec.data, mne.create_info(list(rec.info.ch_names), rec.sfreq, "eeg"))
    path = tmp_path / "rec_raw.fif"
    raw.save(path, verbose="error")
    bci = Path(sys.executable).with_name("bci")
    out = tmp_path / "replay.out"
    proc = subprocess.Popen(
        [str(bci), "replay", str(path), "--status-every", "0.5"],
        stdout=out.open("w"),
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    deadline = time.monotonic() + 120.0
    while "samples" not in out.read_text() and time.monotonic() < deadline:
        assert proc.poll() is None
        time.sleep(0.1)  # pacing a poll of another process
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10.0)
    assert proc.returncode == 0, err  # a replay stopped on purpose, as with Ctrl-C
    assert out.read_text().strip().splitlines()[-1].endswith("(stopped)")
    assert "Traceback" not in err
