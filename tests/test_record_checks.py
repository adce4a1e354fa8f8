"""``bci record`` checks its output folder before starting and its file before reporting."""

from __future__ import annotations

import argparse

import pytest

from acquisition.errors import AcquisitionError
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
def test_the_finished_file_is_verified_before_saying_it_stopped(bci_record_run):
    # The shared run (conftest): `bci record --stream NAME --seconds 1.5` as a subprocess.
    run = bci_record_run
    assert run.done.returncode == 0, run.done.stderr
    last = run.done.stdout.strip().splitlines()[-1]
    check = check_xdf(run.out)
    assert check.ok and check.headers == check.footers and sum(check.sample_chunks.values()) > 0
    assert last.startswith("record: stopped after") and "verified" in last
    assert f"({len(check.headers)} streams" in last
