"""Tests of ``bci train``: real files in, a loadable .bci model out, one-line user errors."""

from __future__ import annotations

import mne
import numpy as np
import pytest
from bci_synthetic import make_recording

from bci.cli import main
from bci.model_file import load_model, read_header

PARADIGM = """
[classes]
left = "left"
right = "right"
feet = "feet"
[epochs]
tmin = 0.5
tmax = 2.5
[model]
kind = "softmax"
"""


@pytest.fixture
def fif_recording(tmp_path):
    rec = make_recording(dc=0.0)
    info = mne.create_info(list(rec.info.ch_names), rec.sfreq, "eeg")
    raw = mne.io.RawArray(rec.data, info, verbose="error")
    onsets = rec.marker_samples / rec.sfreq
    raw.set_annotations(mne.Annotations(onsets, 0.0, rec.marker_labels))
    path = tmp_path / "synthetic_raw.fif"
    raw.save(path, verbose="error")
    return path


def test_train_writes_a_model_and_reports(fif_recording, tmp_path, capsys):
    paradigm = tmp_path / "p.toml"
    paradigm.write_text(PARADIGM)
    out = tmp_path / "m.bci"
    code = main(["train", str(fif_recording), "--paradigm", str(paradigm), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "epochs left 8, right 8, feet 8" in printed
    assert "training accuracy" in printed
    pipe = load_model(out)
    assert pipe.classes_ == ("left", "right", "feet")
    assert read_header(out)["metrics"]["train_accuracy"] > 0.9


def test_model_override_and_user_errors(fif_recording, tmp_path, capsys):
    paradigm = tmp_path / "p.toml"
    paradigm.write_text(PARADIGM)
    out = tmp_path / "m.bci"
    args = [
        "train",
        str(fif_recording),
        "--paradigm",
        str(paradigm),
        "--out",
        str(out),
        "--cv",
        "0",
    ]
    assert main([*args, "--model", "perceptron"]) == 0
    assert read_header(out)["model"]["meta"]["kind"] == "perceptron"
    bad = tmp_path / "bad.toml"
    bad.write_text(PARADIGM + "[epochs2]\nx = 1\n")
    assert main(["train", str(fif_recording), "--paradigm", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "epochs2" in err and len(err.strip().splitlines()) == 1


@pytest.mark.shared_data
def test_train_on_physionet_left_right(shared_data, tmp_path, capsys):
    folder = shared_data / "eegbci/MNE-eegbci-data/files/eegmmidb/1.0.0/S001"
    files = [str(folder / f"S001R{r:02d}.edf") for r in (4, 8, 12)]
    out = tmp_path / "lr.bci"
    code = main(
        ["train", *files, "--paradigm", "motor_imagery_eegbci", "--out", str(out), "--cv", "0"]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "45 epochs (left 23, right 22)" in printed
    pipe = load_model(out)
    assert pipe.n_channels == 64 and pipe.sfreq == 160.0
    assert np.isfinite(read_header(out)["metrics"]["train_accuracy"])
