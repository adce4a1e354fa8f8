"""``bci info``: files of every kind, JSON output, user errors, and a live LSL stream."""

from __future__ import annotations

import argparse
import json
import sys

import mne
import numpy as np
import pytest
from xdf_writer import XdfStream, write_xdf

from acquisition.player import Player
from acquisition.simulator import SimulatedHeadset, simulate_recording
from bci import cli
from bci.commands import info as info_command


def main(argv: list[str]) -> int:
    """``bci`` with only the ``info`` command registered, and the CLI's error handling.

    Keeps these tests independent of the other commands' imports; ``test_through_bci_main``
    goes through the real entry point.
    """
    parser = argparse.ArgumentParser(prog="bci")
    info_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except cli.user_errors() as exc:
        print(f"bci {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _fif(tmp_path):
    rec = simulate_recording([(1.0, "left"), (3.0, "right"), (5.0, "left")], duration=8.0, seed=0)
    raw = mne.io.RawArray(
        rec.data, mne.create_info(list(rec.info.ch_names), rec.sfreq, "eeg"), verbose="ERROR"
    )
    onsets = rec.marker_samples / rec.sfreq
    raw.set_annotations(mne.Annotations(onsets, np.zeros(len(onsets)), rec.marker_labels))
    path = tmp_path / "sim_raw.fif"
    raw.save(path, verbose="ERROR")
    return path, rec


def test_text_output(tmp_path, capsys):
    path, rec = _fif(tmp_path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{rec.info.n_channels} (" in out
    assert "C3, C4" not in out  # listed in file order, which puts C1 between them
    assert "Cz" in out and "Oz" in out
    assert "250 Hz" in out
    assert "8.00 s" in out
    assert "3 from annotations (left: 2, right: 1)" in out


def test_through_bci_main(tmp_path, capsys):
    path, _ = _fif(tmp_path)
    assert cli.main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["markers"] == {"left": 2, "right": 1}
    assert cli.main(["info", str(tmp_path / "missing.edf")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_json_output(tmp_path, capsys):
    path, rec = _fif(tmp_path)
    assert main(["info", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_channels"] == rec.info.n_channels
    assert summary["ch_names"] == list(rec.info.ch_names)
    assert summary["sfreq"] == 250.0
    assert summary["duration"] == pytest.approx(8.0)
    assert summary["markers"] == {"left": 2, "right": 1}
    assert summary["format"] == "FIF"


def test_xdf_with_assumed_units(tmp_path, capsys):
    ts = 10.0 + np.arange(200) / 100.0
    eeg = XdfStream("Amp", "EEG", np.zeros((200, 2), np.float32), ts, 100.0)
    mk = XdfStream("M", "Markers", ["1111.0", "2"], np.array([10.5, 11.0]), 0.0, "string")
    path = write_xdf(tmp_path / "r.xdf", [eeg, mk])
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ch1, ch2" in out
    assert "(1111: 1, 2: 1)" in out
    assert "assumed microvolts" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["info", "{tmp}/missing.edf"], "does not exist"),
        (["info", "{tmp}/bad.edf"], "cannot read as EDF"),
        (["info", "{tmp}/x.csv"], "unknown recording format"),
        (["info"], "nothing to describe"),
        (["info", "{tmp}/x.csv", "--stream", "s"], "give one of them"),
    ],
)
def test_user_errors_are_one_line_exit_2(tmp_path, capsys, argv, needle):
    (tmp_path / "bad.edf").write_bytes(b"0" * 300)
    (tmp_path / "x.csv").write_text("a,b\n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bci info: error:")
    assert needle in err
    assert "\n" not in err and "Traceback" not in err


def test_real_recordings(shared_data, capsys):
    assert main(["info", str(shared_data / "eeglab" / "eeglab_data.set"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["n_channels"], summary["sfreq"]) == (32, 128.0)
    assert summary["markers"] == {"square": 80, "rt": 74}
    ssvep = next((shared_data / "ssvep-exo" / "subject01").glob("*_raw.fif"))
    assert main(["info", str(ssvep)]) == 0
    out = capsys.readouterr().out
    assert "32 from events file" in out


@pytest.mark.lsl
def test_live_stream(unique_name, capsys):
    player_mod = pytest.importorskip("acquisition.player")
    head = SimulatedHeadset(seed=0, realtime=True, chunk_size=10)
    with player_mod.Player(head, name=unique_name):
        head.set_state("left")
        code = main(["info", "--stream", unique_name, "--seconds", "1.0", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kind"] == "stream"
    assert summary["ch_names"] == list(head.info.ch_names)
    assert summary["sfreq"] == 250.0
    assert summary["n_samples"] > 0
    assert summary["marker_stream"] == f"{unique_name}-markers"


@pytest.mark.lsl
def test_the_effective_rate_of_a_live_stream_is_its_rate(unique_name, capsys):
    head = SimulatedHeadset(seed=0, realtime=True, chunk_size=10, sfreq=160.0)
    with Player(head, name=unique_name):
        assert main(["info", "--stream", unique_name, "--seconds", "2.0", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    # Not the 127.7 Hz the first pull's backlog and the connection's first moments gave.
    assert summary["effective_rate"] == pytest.approx(160.0, rel=0.02)


def test_missing_stream_is_a_user_error(unique_name, capsys):
    pytest.importorskip("acquisition.lsl_source")
    assert main(["info", "--stream", unique_name, "--timeout", "0.5", "--seconds", "0"]) == 2
    err = capsys.readouterr().err
    assert unique_name in err
