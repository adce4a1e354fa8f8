"""``bci record`` checks its output folder before starting and its file before reporting."""

from __future__ import annotations

import argparse
import signal

import numpy as np
import pytest

from acquisition import ArraySource, Recording, SourceInfo
from acquisition.errors import AcquisitionError
from acquisition.player import Player
from acquisition.xdf_check import check_xdf
from bci.commands import record


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bci")
    record.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["record", *argv])


def test_an_unwritable_folder_is_refused_before_anything_starts(tmp_path):
    with pytest.raises(AcquisitionError, match="cannot write in /proc"):
        record.check_writable(tmp_path.__class__("/proc/y.xdf"), overwrite=False)
    record.check_writable(tmp_path / "new" / "sub" / "run.xdf", overwrite=False)  # made later
    assert not (tmp_path / "new").exists()  # the probe leaves nothing behind
    assert list(tmp_path.iterdir()) == []


@pytest.mark.lsl
def test_the_finished_file_is_verified_before_saying_it_stopped(unique_name, tmp_path, capsys):
    n = 3000
    data = np.tile(np.arange(n, dtype=np.float64), (2, 1))
    rec = Recording(data, SourceInfo("c", ("a", "b"), ("misc", "misc"), 100.0, ("n", "n")))
    player = Player(ArraySource(rec), name=unique_name, speed=1)
    player.start()
    out = tmp_path / "run.xdf"
    args = _args(
        "--stream", unique_name, "--markers", "none", "--out", str(out), "--seconds", "1.5"
    )
    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert args.func(args) == 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        player.close()
    last = capsys.readouterr().out.strip().splitlines()[-1]
    check = check_xdf(out)
    assert check.ok and check.headers == check.footers and sum(check.sample_chunks.values()) > 0
    assert last.startswith("record: stopped after") and "verified" in last
    assert f"({len(check.headers)} streams" in last
