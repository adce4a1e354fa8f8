"""Tests of ``bci evaluate``: real files in, a table, a JSON report and plots out."""

from __future__ import annotations

import json

import mne
import pytest
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
[model]
kind = "softmax"
[online]
window = 2.0
step = 0.5
"""

KEYS = {
    "accuracy",
    "accuracy_std",
    "fold_accuracies",
    "chance_level",
    "significance_threshold",
    "kappa",
    "n_epochs",
    "classes",
    "confusion_matrix",
    "fit_seconds",
    "predict_ms_per_epoch",
}


def _fif(rec, path):
    info = mne.create_info(list(rec.info.ch_names), rec.sfreq, "eeg")
    raw = mne.io.RawArray(rec.data, info, verbose="error")
    raw.set_annotations(mne.Annotations(rec.marker_samples / rec.sfreq, 0.0, rec.marker_labels))
    raw.save(path, verbose="error")
    return path


@pytest.fixture
def files(tmp_path):
    return [
        _fif(make_recording(seed=s, n_trials=15, dc=0.0), tmp_path / f"r{s}_raw.fif")
        for s in (1, 2)
    ]


def test_evaluate_prints_table_and_writes_json_and_plots(files, tmp_path, capsys):
    par = tmp_path / "p.toml"
    par.write_text(PARADIGM)
    out = tmp_path / "report.json"
    plots = tmp_path / "plots"
    code = main(
        [
            "evaluate",
            *map(str, files),
            "--paradigm",
            str(par),
            "--cv",
            "3",
            "--json",
            str(out),
            "--plots",
            str(plots),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "3-fold cross-validation, stratified by class" in text
    assert "confusion matrix (rows true, columns predicted)" in text
    assert "above chance" in text and "pseudo-online" in text
    report = json.loads(out.read_text())
    assert KEYS <= set(report)
    assert report["n_epochs"] == 30 and report["classes"] == ["left", "right", "feet"]
    assert report["pseudo_online"]["n_windows"] > 0
    for name in ("confusion_matrix.png", "learning_curves.png", "topography.png"):
        assert (plots / name).stat().st_size > 5000


def test_evaluate_grouped_by_recording(files, tmp_path, capsys):
    par = tmp_path / "p.toml"
    par.write_text(PARADIGM)
    out = tmp_path / "r.json"
    code = main(
        [
            "evaluate",
            *map(str, files),
            "--paradigm",
            str(par),
            "--group-by",
            "recording",
            "--no-pseudo-online",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    report = json.loads(out.read_text())
    assert report["n_folds"] == 2 and report["group_by"] == "recording"
    assert "grouped by recording" in capsys.readouterr().out


def test_evaluate_user_errors_are_one_line(files, tmp_path, capsys):
    par = tmp_path / "p.toml"
    par.write_text(PARADIGM.replace('left = "left"', 'left = "nothere"'))
    assert main(["evaluate", str(files[0]), "--paradigm", str(par), "--cv", "20"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bci evaluate: error:") and err.count("\n") == 1
    assert main(["evaluate", str(files[0]), "--paradigm", str(par), "--cv", "1"]) == 2
    assert "at least 2 folds" in capsys.readouterr().err


def test_adapt_recentre_and_group_by_subject(tmp_path, capsys):
    """--adapt recentre: batch and causal figures; --group-by subject from folders or a
    --subject-of pattern; bad patterns are named."""
    files = []
    for subject, seeds in (("A", (1, 2)), ("B", (3, 4))):
        (tmp_path / subject).mkdir()
        for s in seeds:
            rec = make_recording(seed=s, n_trials=12, dc=0.0)
            files.append(str(_fif(rec, tmp_path / subject / f"sub{subject}_r{s}_raw.fif")))
    par = tmp_path / "p.toml"
    par.write_text(PARADIGM)
    out = tmp_path / "r.json"
    args = ["evaluate", *files, "--paradigm", str(par), "--adapt", "recentre"]
    assert main([*args, "--group-by", "subject", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2-fold cross-validation, grouped by subject" in text
    assert "causal epoch accuracy" in text and "leave-one-subject-out" in text
    report = json.loads(out.read_text())
    assert report["paradigm"]["adaptation"]["method"] == "recentre"
    assert 0.0 <= report["pseudo_online"]["epoch_accuracy"] <= 1.0
    assert (
        main([*args, "--group-by", "subject", "--subject-of", r"sub(\w)_", "--no-pseudo-online"])
        == 0
    )
    assert "2-fold cross-validation, grouped by subject" in capsys.readouterr().out
    assert main([*args, "--group-by", "subject", "--subject-of", "nomatch"]) != 0
    assert "--subject-of 'nomatch' does not match" in capsys.readouterr().err
    assert main([*args, "--subject-of", "x"]) != 0
    assert "--subject-of needs --group-by subject" in capsys.readouterr().err


def test_evaluate_says_what_it_is_doing_and_names_itself_once(files, tmp_path, capsys):
    par = tmp_path / "p.toml"
    par.write_text(PARADIGM)
    args = ["evaluate", *map(str, files), "--paradigm", str(par)]
    assert main([*args, "--cv", "3", "--plots", str(tmp_path / "plots")]) == 0
    err = capsys.readouterr().err  # not a terminal here: one line per stage
    for stage in ("cross-validation: fold 1 of 3", "pseudo-online: training without", "learning"):
        assert stage in err, err
    assert main([*args, "--cv", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "bci evaluate: error: --cv 1: need at least 2 folds"
