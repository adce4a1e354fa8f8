"""One benchmark task on real SSVEP-exo recordings: the same report as `bci evaluate`,
an id that follows its inputs, failures recorded instead of raised."""

from __future__ import annotations

import json
import os
import shutil

import mne
import pytest
from benchmark_data import link_session

import bci.benchmark_task as benchmark_task
from bci.benchmark_task import Task, run_task, run_task_json, task_id
from bci.cli import main
from bci.paradigm import builtin_paradigm
from bci.paradigm_toml import paradigm_to_toml

pytestmark = pytest.mark.shared_data

#: Keys that depend on how fast the machine was, not on what was computed.
TIMING = {"fit_seconds", "predict_ms_per_epoch"}


def _task(recordings, **kw) -> Task:
    base = dict(
        subject="s01",
        pipeline="fb",
        recordings=tuple(str(r) for r in recordings),
        paradigm_toml=paradigm_to_toml(builtin_paradigm("ssvep_exo")),
        cv=4,
        seed=3,
    )
    return Task(**{**base, **kw})


def test_the_task_result_is_the_report_bci_evaluate_writes(shared_data, tmp_path):
    folder = link_session(shared_data, 1, 0, tmp_path / "s01")
    raw = str(next(folder.glob("*_raw.fif")))
    out = tmp_path / "evaluate.json"
    assert main(["evaluate", raw, "--paradigm", "ssvep_exo", "--cv", "4", "--seed", "3",
                 "--json", str(out)]) == 0  # fmt: skip
    expected = json.loads(out.read_text())

    result = json.loads(run_task_json(_task([raw]).to_json()))
    assert result["status"] == "ok" and result["error"] is None
    assert (result["subject"], result["pipeline"]) == ("s01", "fb")
    assert result["pid"] == os.getpid() and result["host"] and result["wall_seconds"] > 0
    for key, value in expected.items():
        if key not in TIMING:
            assert result[key] == value, key
    assert result["n_epochs"] == 32 and result["n_folds"] == 4
    assert result["fit_seconds"] > 0 and result["predict_ms_per_epoch"] > 0


def test_the_task_id_follows_inputs_file_stamps_and_version(shared_data, tmp_path, monkeypatch):
    folder = link_session(shared_data, 2, 0, tmp_path / "link")
    raw = next(folder.glob("*_raw.fif"))
    copy = tmp_path / "copy" / raw.name
    copy.parent.mkdir()
    shutil.copyfile(raw, copy)
    base = _task([copy])
    first = task_id(base)
    assert first == task_id(_task([copy])) and len(first) == 32
    others = {
        task_id(_task([copy], seed=4)),
        task_id(_task([copy], cv=5)),
        task_id(_task([copy], group_by="recording")),
        task_id(_task([copy], pipeline="other")),
        task_id(_task([copy], paradigm_toml=paradigm_to_toml(builtin_paradigm("demo")))),
    }
    assert first not in others and len(others) == 5
    st = copy.stat()
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    touched = task_id(base)
    assert touched != first
    with open(copy, "ab") as f:
        f.write(b"\0")
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert task_id(base) not in (first, touched)  # same time, other size
    before = task_id(base)
    monkeypatch.setattr(benchmark_task, "__version__", "999.0")
    assert task_id(base) != before  # another release may compute otherwise: redo


def test_a_corrupt_file_and_a_one_class_subject_fail_with_their_reason(shared_data, tmp_path):
    folder = link_session(shared_data, 1, 0, tmp_path / "s01")
    raw = next(folder.glob("*_raw.fif"))
    broken = tmp_path / "broken_raw.fif"
    broken.write_bytes(raw.read_bytes()[:5000])
    failed = run_task(_task([broken]))
    assert failed["status"] == "failed"
    assert str(broken) in failed["error"] and "\n" not in failed["error"]
    assert "traceback" not in failed  # a bad file is the data's fault, not a bug
    assert failed["wall_seconds"] >= 0 and failed["host"]

    # the same real recording, with an events file that keeps one class only
    one = tmp_path / "one"
    one.mkdir()
    (one / raw.name).symlink_to(raw.resolve())
    events = mne.read_events(str(raw).replace("_raw.fif", "-eve.fif"), verbose="error")
    keep = events[events[:, 2] == 2]
    assert len(keep) == 8
    mne.write_events(one / raw.name.replace("_raw.fif", "-eve.fif"), keep, verbose="error")
    failed = run_task(_task([one / raw.name]))
    assert failed["status"] == "failed"
    assert "f13 only" in failed["error"] and "at least two of" in failed["error"]

    assert run_task(_task([]))["error"].startswith("BCIError: no recording files")
    bad_text = run_task(_task([raw], paradigm_toml="[classes]\na = 1\n"))
    assert "need at least 2 classes" in bad_text["error"]


def test_an_unexpected_error_keeps_its_traceback(shared_data, tmp_path):
    folder = link_session(shared_data, 1, 0, tmp_path / "s01")
    raw = next(folder.glob("*_raw.fif"))
    # a hand-made task (the spec parser would refuse it): a string seed reaches numpy
    out = run_task(_task([raw], seed="x"))
    assert out["status"] == "failed" and out["error"].startswith("TypeError: ")
    assert "Traceback" in out["traceback"]
    # a model parameter the estimator does not have is the user's error: one line, no trace
    text = paradigm_to_toml(builtin_paradigm("ssvep_exo")).replace(
        'kind = "softmax"', 'kind = "softmax"\nbogus = 1'
    )
    out = run_task(_task([raw], paradigm_toml=text))
    assert out["error"].startswith("ModelError: unknown parameter(s) ['bogus']")
    assert "traceback" not in out
