"""``bci benchmark`` on real Dask clusters on loopback: a ``distributed.LocalCluster`` with
two worker processes, and ``dask scheduler`` + ``dask worker`` started as subprocesses,
one of which is killed mid-task."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from benchmark_data import (
    make_dataset,
    read_rows,
    start_bci,
    task_files,
    wait_for,
    write_spec,
)

from bci.benchmark_local import SerialEngine
from bci.benchmark_run import run_benchmark
from bci.benchmark_spec import load_benchmark_spec
from bci.cli import main

distributed = pytest.importorskip("distributed", reason='needs pip install -e ".[cluster]"')

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def grid(shared_data, tmp_path_factory):
    """A 2-subject x 2-pipeline spec, and its results.csv from the local engine.

    (test_cli_benchmark shows the local process pool gives the same file.)
    """
    root = tmp_path_factory.mktemp("grid")
    make_dataset(shared_data, root / "data", subjects=(1, 2))
    spec = write_spec(root / "bench.toml", "data/s*")
    summary = run_benchmark(load_benchmark_spec(spec), root / "local", SerialEngine())
    assert summary.ok == 4
    return spec, read_rows(root / "local" / "results.csv")


def test_a_local_cluster_gives_exactly_the_local_engines_results(grid, tmp_path, capsys):
    from bci.benchmark_dask import DaskEngine

    spec, local = grid
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    ) as cluster:
        engine = DaskEngine(cluster.scheduler_address)
        assert engine.n_workers == 2
        summary = run_benchmark(load_benchmark_spec(spec), tmp_path / "dask", engine)
    assert (summary.ok, summary.failed) == (4, 0)
    assert read_rows(tmp_path / "dask" / "results.csv") == local
    err = capsys.readouterr().err
    assert f"Dask scheduler {cluster.scheduler_address}, 2 workers" in err
    assert "dashboard http://127.0.0.1:" in err
    pids = {json.loads(p.read_text())["result"]["pid"] for p in task_files(tmp_path / "dask")}
    assert os.getpid() not in pids and len(pids) >= 1


def _dask(log: Path, *args: str) -> subprocess.Popen:
    exe = os.path.join(os.path.dirname(sys.executable), "dask")
    with open(log, "w") as f:  # dask logs a lot: to a file, never a pipe nobody reads
        return subprocess.Popen([exe, *args], stdout=f, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """A real `dask scheduler` and two `dask worker`s on 127.0.0.1 (free ports)."""
    folder = tmp_path_factory.mktemp("dask")
    info = folder / "scheduler.json"
    scheduler_args = ["--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(info)]
    dashboard = ["--dashboard-address", "127.0.0.1:0"]
    procs = [_dask(folder / "scheduler.log", "scheduler", *scheduler_args, *dashboard)]
    try:
        wait_for(info.exists, 60, "the scheduler file")
        address = wait_for(lambda: json.loads(info.read_text() or "{}").get("address"), 30, "it")
        for name in ("w1", "w2"):
            procs.append(_worker(folder, address, name))
        client = distributed.Client(address, timeout=30)
        client.wait_for_workers(2, timeout=60)
        yield address, client, procs, folder
        client.shutdown()  # the scheduler and its workers close cleanly
    finally:
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=20)


def _worker(folder: Path, address: str, name: str) -> subprocess.Popen:
    return _dask(folder / f"{name}.log", "worker", address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
                 "--no-dashboard", "--name", name)  # fmt: skip


def test_dask_scheduler_and_workers_run_a_two_subject_spec(grid, scheduler, tmp_path, capsys):
    spec, local = grid
    address, *_ = scheduler
    out = tmp_path / "out"
    assert main(["benchmark", str(spec), "--out", str(out), "--scheduler", address]) == 0
    captured = capsys.readouterr()
    assert f"on Dask scheduler {address}, 2 workers; dashboard http://127.0.0.1:" in captured.err
    assert "4 of 4 tasks finished" in captured.out
    assert read_rows(out / "results.csv") == local


def test_a_worker_killed_mid_task_has_its_task_done_elsewhere(grid, scheduler, tmp_path):
    spec, local = grid
    address, client, procs, folder = scheduler
    victim = _worker(folder, address, "victim")
    procs.append(victim)
    client.wait_for_workers(3, timeout=60)
    by_name = {w["name"]: a for a, w in client.scheduler_info()["workers"].items()}
    victim_address = by_name["victim"]
    out = tmp_path / "out"
    run = start_bci("benchmark", str(spec), "--out", str(out), "--scheduler", address)
    try:
        keys = wait_for(
            lambda: client.processing(workers=[victim_address]).get(victim_address),
            120,
            "a task on the victim worker",
            interval=0.005,
        )
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=20)
        stdout, stderr = run.communicate(timeout=180)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, stderr
    assert "4 of 4 tasks finished" in stdout and "0 failed" in stdout
    assert read_rows(out / "results.csv") == local
    held = {str(k).split("-")[2] for k in keys}
    assert held, keys
    for tid in held:
        result = json.loads((out / "tasks" / f"{tid}.json").read_text())["result"]
        assert result["status"] == "ok"
        assert result["pid"] != victim.pid, "the killed worker cannot have finished it"
