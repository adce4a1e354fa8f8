"""``bci train`` and ``bci evaluate`` say the same thing about epochs lost to NaN samples."""

from __future__ import annotations

import json

import mne
import numpy as np
from bci_synthetic import make_recording

from bci.cli import main

PARADIGM = """
name = "synthetic"
[classes]
left = "left"
right = "right"
feet = "feet"
[epochs]
tmin = 0.5
tmax = 2.5
[features]
method = "bandpower"
[online]
window = 2.0
step = 0.5
"""


def _fif_with_nan(path, nan_span: tuple[float, float]):
    rec = make_recording()
    data = rec.data.copy()
    a, b = (round(t * rec.sfreq) for t in nan_span)
    data[1, a:b] = np.nan
    info = mne.create_info(list(rec.info.ch_names), rec.sfreq, "eeg")
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_annotations(mne.Annotations(rec.marker_samples / rec.sfreq, 0.0, rec.marker_labels))
    raw.save(path, verbose="error")
    return path, rec.info.ch_names[1]


def _lines(text: str, path) -> tuple[str, str]:
    """The epochs line of ``path`` and the warning line that follows it."""
    lines = text.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(f"{path}: epochs "))
    return lines[i], lines[i + 1]


def test_evaluate_prints_the_nan_warning_line_train_prints(tmp_path, capsys) -> None:
    fif, channel = _fif_with_nan(tmp_path / "nan_raw.fif", (10.0, 11.0))
    par = tmp_path / "p.toml"
    par.write_text(PARADIGM, encoding="utf-8")
    model = tmp_path / "m.bci"
    assert main(["train", "--paradigm", str(par), str(fif), "--out", str(model), "--cv", "0"]) == 0
    train_out = capsys.readouterr().out
    report = tmp_path / "r.json"
    args = ["evaluate", "--paradigm", str(par), str(fif), "--json", str(report)]
    assert main([*args, "--cv", "3", "--no-pseudo-online"]) == 0
    eval_out = capsys.readouterr().out

    train_epochs, train_warning = _lines(train_out, fif)
    eval_epochs, eval_warning = _lines(eval_out, fif)
    assert eval_epochs == train_epochs and eval_warning == train_warning
    assert "dropped: NaN/infinite samples)" in eval_epochs
    assert eval_warning.startswith("warning: ") and f"channel(s) {channel} at 10.00-11.00 s" in (
        eval_warning
    )
    saved = json.loads(report.read_text(encoding="utf-8"))["recording_epochs"]
    assert len(saved) == 1 and saved[0]["n_nonfinite"] >= 1
    assert f"({saved[0]['n_nonfinite']} dropped: NaN/infinite samples)" in eval_epochs


def test_a_clean_recording_has_no_warning_line(tmp_path, capsys) -> None:
    rec = make_recording()
    info = mne.create_info(list(rec.info.ch_names), rec.sfreq, "eeg")
    raw = mne.io.RawArray(rec.data, info, verbose="error")
    raw.set_annotations(mne.Annotations(rec.marker_samples / rec.sfreq, 0.0, rec.marker_labels))
    fif = tmp_path / "clean_raw.fif"
    raw.save(fif, verbose="error")
    par = tmp_path / "p.toml"
    par.write_text(PARADIGM, encoding="utf-8")
    args = ["evaluate", "--paradigm", str(par), str(fif), "--cv", "3", "--no-pseudo-online"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"{fif}: epochs " in out and "dropped" not in out
    assert not any(line.startswith("warning:") for line in out.splitlines())
