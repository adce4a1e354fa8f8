"""``bci benchmark`` on this machine: real SSVEP-exo recordings, real worker processes,
a real ``bci`` subprocess killed and stopped mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from benchmark_data import (
    add_corrupt_subject,
    bci_command,
    make_dataset,
    read_rows,
    start_bci,
    task_files,
    wait_for,
    write_spec,
)

from bci.cli import main

pytestmark = pytest.mark.shared_data


@pytest.fixture
def spec(shared_data, tmp_path):
    make_dataset(shared_data, tmp_path / "data", subjects=(1, 2))
    return write_spec(tmp_path / "bench.toml", "data/s*")


def test_workers_give_the_serial_results_and_a_bad_subject_does_not_stop_the_rest(
    spec, tmp_path, capsys
):
    add_corrupt_subject(tmp_path / "data")
    assert main(["benchmark", str(spec), "--out", str(tmp_path / "serial"), "--workers", "1"]) == 1
    assert main(["benchmark", str(spec), "--out", str(tmp_path / "pool"), "--workers", "2"]) == 1
    captured = capsys.readouterr()
    assert "6 tasks (3 subjects x 2 pipelines)" in captured.err
    assert "on 2 local worker processes" in captured.err
    assert "4 of 6 tasks finished (0 from earlier runs), 2 failed" in captured.out

    serial = read_rows(tmp_path / "serial" / "results.csv")
    assert serial == read_rows(tmp_path / "pool" / "results.csv")
    assert [(r["subject"], r["pipeline"], r["status"]) for r in serial] == [
        ("s01", "fb-riemann", "ok"),
        ("s01", "bandpower", "ok"),
        ("s02", "fb-riemann", "ok"),
        ("s02", "bandpower", "ok"),
        ("s99", "fb-riemann", "failed"),
        ("s99", "bandpower", "failed"),
    ]
    bad = serial[-1]
    assert "broken_raw.fif" in bad["error"] and bad["accuracy"] == ""
    for r in serial[:4]:
        assert 0.25 < float(r["accuracy"]) <= 1 and r["n_epochs"] == "32"
        assert r["above_chance"] in ("True", "False") and float(r["chance_level"]) == 0.25

    out = tmp_path / "pool"
    assert len(task_files(out)) == 6
    first = json.loads(task_files(out)[0].read_text())
    assert set(first) == {"task_id", "task", "result"}
    assert first["task_id"] == task_files(out)[0].stem
    pids = {json.loads(p.read_text())["result"]["pid"] for p in task_files(out)}
    assert os.getpid() not in pids  # the pool's processes did the work
    summary = (out / "summary.md").read_text()
    assert "| fb-riemann | 2 (1 failed) |" in summary
    assert "Wilcoxon" in summary and "- s99 / bandpower: " in summary
    for png in ("accuracy_by_subject.png", "pipeline_pairs.png"):
        assert (out / png).stat().st_size > 10_000


def test_a_killed_run_resumes_with_only_the_unfinished_tasks(spec, tmp_path):
    out = tmp_path / "out"
    proc = start_bci("benchmark", str(spec), "--out", str(out), "--workers", "1")
    try:
        wait_for(lambda: len(task_files(out)) >= 2, 60, "two finished tasks")
    finally:
        proc.kill()  # SIGKILL: nothing gets to clean up
        proc.communicate(timeout=30)
    done = {p.name: p.read_bytes() for p in task_files(out)}
    assert 2 <= len(done) < 4, "the run must be killed before it finished"
    assert not (out / "results.csv").exists()

    again = subprocess.run(
        bci_command("benchmark", str(spec), "--out", str(out), "--workers", "1"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert f"{len(done)} already done" in again.stderr
    assert f"running {4 - len(done)} on" in again.stderr
    assert again.stderr.count(" done, ") == 4 - len(done)  # one progress line per task run
    assert all(p.read_bytes() == done[p.name] for p in task_files(out) if p.name in done)
    assert len(task_files(out)) == 4
    assert [r["status"] for r in read_rows(out / "results.csv")] == ["ok"] * 4


@pytest.mark.parametrize(
    "sig, code, workers", [(signal.SIGTERM, 143, "2"), (signal.SIGINT, 130, "1")]
)
def test_a_stopped_run_keeps_finished_tasks_and_stops_its_workers(
    spec, tmp_path, sig, code, workers
):
    out = tmp_path / "out"
    proc = start_bci("benchmark", str(spec), "--out", str(out), "--workers", workers)
    try:
        wait_for(lambda: task_files(out), 60, "a finished task")
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    finished = task_files(out)
    assert proc.returncode == code, stderr
    assert "stopped" in stderr and "run the same command again" in stderr
    rows = read_rows(out / "results.csv")
    assert len(rows) == 4
    statuses = [r["status"] for r in rows]
    assert statuses.count("ok") == len(finished) >= 1
    assert set(statuses) <= {"ok", "not run"}
    if len(finished) < 4:
        assert "not run" in statuses
    pids = {json.loads(p.read_text())["result"]["pid"] for p in finished}

    def gone() -> bool:
        for pid in pids:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            return False
        return True

    wait_for(gone, 5, f"the worker processes {sorted(pids)} to end")  # reaped by then


def test_bad_arguments_are_one_line_errors(spec, tmp_path, capsys):
    out = str(tmp_path / "o")
    assert main(["benchmark", str(spec), "--out", out, "--workers", "0"]) == 2
    assert "--workers 0: give a number of processes from 1" in capsys.readouterr().err
    code = main(
        ["benchmark", str(spec), "--out", out, "--workers", "2", "--scheduler", "tcp://h:1"]
    )
    assert code == 2 and "--workers applies to the local engine" in capsys.readouterr().err
    assert main(["benchmark", str(spec), "--out", out, "--scheduler", "localhost"]) == 2
    assert "expected a Dask scheduler address like tcp://HOST:PORT" in capsys.readouterr().err
    assert main(["benchmark", str(tmp_path / "none.toml"), "--out", out]) == 2
    assert "benchmark file not found" in capsys.readouterr().err


def test_without_dask_the_scheduler_option_says_how_to_install_it(spec, tmp_path):
    # A Python where `import distributed` fails, as it does when the extra is not installed.
    code = (
        "import sys; sys.modules['distributed'] = None; from bci.cli import main; "
        f"sys.exit(main(['benchmark', {str(spec)!r}, '--out', {str(tmp_path / 'o')!r}, "
        "'--scheduler', 'tcp://127.0.0.1:8786']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert 'pip install -e ".[cluster]"' in lines[0] and "--scheduler" in lines[0]
