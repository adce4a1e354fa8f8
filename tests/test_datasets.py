"""``bci.datasets`` and ``bci dataset``: files already on disk are found offline."""

from __future__ import annotations

import pytest

from bci.cli import main
from bci.datasets import eegbci_files
from bci.errors import BCIError


@pytest.mark.shared_data
def test_eegbci_files_found_offline(shared_data):
    files = eegbci_files(1, [4, 8, 12], shared_data / "eegbci")
    assert [f.name for f in files] == ["S001R04.edf", "S001R08.edf", "S001R12.edf"]
    assert all(f.is_file() for f in files)


@pytest.mark.shared_data
def test_dataset_command_prints_paths(shared_data, capsys):
    code = main(
        [
            "dataset",
            "eegbci",
            "--subject",
            "1",
            "--runs",
            "6",
            "--path",
            str(shared_data / "eegbci"),
        ]
    )
    assert code == 0
    out = capsys.readouterr()
    assert out.out.strip().endswith("S001R06.edf")
    assert "fists" in out.err


def test_out_of_range_arguments_are_user_errors(capsys):
    with pytest.raises(BCIError, match="1 to 109"):
        eegbci_files(0, [4])
    with pytest.raises(BCIError, match="1 to 14"):
        eegbci_files(1, [15])
    assert main(["dataset", "eegbci", "--subject", "1", "--runs", "99"]) == 2
    assert "runs are 1 to 14" in capsys.readouterr().err
