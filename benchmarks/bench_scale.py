"""How ``bci benchmark`` scales: the SSVEP-exo 01-06 x 3 pipelines grid on three engines.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--rounds 2] [--data ../shared/data]``

The grid: SSVEP-exo subjects 01-06 (Kalunga et al., Neurocomputing 2016, CC0; both
sessions of each subject, 64 epochs, 4 classes), 5-fold stratified cross-validation,
seed 42, three pipelines (18 tasks):

- ``fb-riemann-softmax``: the shipped ``ssvep_exo`` paradigm;
- ``tangent-space-softmax``: one broadband covariance, tangent space, softmax;
- ``bandpower-mlp``: band power in the paradigm's bands, the MLP.

Engines, each on a fresh output folder (no resume), alternated between rounds (round 1
serial, pool, cluster; round 2 the reverse; ...):

- ``serial``: ``--workers 1``, every task in this process;
- ``workers2``: ``--workers 2``, a pool of 2 spawned processes (their start-up included);
- ``cluster2``: a ``distributed.LocalCluster(n_workers=2, threads_per_worker=1)`` on
  loopback, started before the clock starts (a cluster is already running when one sends
  it work); its start-up time is printed apart.

Printed per engine: wall time, the speed-up against ``serial`` measured in the same round,
the sum of the tasks' own wall and CPU time (what the task reports, loading included), and
the engine's overhead per task: ``(wall x parallelism - sum of task wall) / tasks``, the
time a worker slot was not running a task (start-up, transport, scheduling, idling at the
end), and the mean task CPU time (on a busy machine wall time is shared with other work,
CPU time much less). Then whether the three results.csv are identical (besides timing/host columns), and
the grid's summary table. The machine is shared: the load average is printed with it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bci  # noqa: E402, F401  (one BLAS thread before numpy loads)
from bci.benchmark_local import ProcessEngine, SerialEngine  # noqa: E402
from bci.benchmark_results import RUN_COLUMNS  # noqa: E402
from bci.benchmark_run import run_benchmark  # noqa: E402
from bci.benchmark_spec import load_benchmark_spec  # noqa: E402

SPEC = """
[dataset]
name = "SSVEP-exo subjects 01-06"
subjects = "{data}/ssvep-exo/subject0[1-6]"
pattern = "*_raw.fif"
[evaluation]
cv = 5
seed = 42
[[pipelines]]
name = "fb-riemann-softmax"
paradigm = "ssvep_exo"
[[pipelines]]
name = "tangent-space-softmax"
paradigm = "ssvep_exo"
overrides = {{ features.method = "tangent_space" }}
[[pipelines]]
name = "bandpower-mlp"
paradigm = "ssvep_exo"
overrides = {{ features.method = "bandpower", model.kind = "mlp" }}
"""


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for c in RUN_COLUMNS:
            r.pop(c)
    return rows


def _task_times(out: Path) -> tuple[float, float, int]:
    wall = cpu = 0.0
    n = 0
    for p in (out / "tasks").glob("*.json"):
        r = json.loads(p.read_text())["result"]
        wall += r["wall_seconds"]
        cpu += r.get("cpu_seconds", 0.0)
        n += 1
    return wall, cpu, n


def _cpu(who: int) -> float:
    u = resource.getrusage(who)
    return u.ru_utime + u.ru_stime


def run_engine(name: str, spec, out: Path, cluster_address: str | None) -> dict:
    if name == "serial":
        engine = SerialEngine()
    elif name == "workers2":
        engine = ProcessEngine(2)
    else:
        from bci.benchmark_dask import DaskEngine

        engine = DaskEngine(cluster_address)
    c_self, c_children = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        summary = run_benchmark(spec, out, engine, stream=quiet)
    wall = time.perf_counter() - t0
    task_wall, task_cpu, n = _task_times(out)
    return {
        "engine": name,
        "wall": wall,
        "parallelism": 1 if name == "serial" else 2,
        "task_wall": task_wall,
        "task_cpu": task_cpu,
        "n": n,
        "ok": summary.ok,
        "cpu_self": _cpu(resource.RUSAGE_SELF) - c_self,
        "cpu_children": _cpu(resource.RUSAGE_CHILDREN) - c_children,
        "out": out,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    args = ap.parse_args()
    data = Path(args.data).resolve()
    if not (data / "ssvep-exo").is_dir():
        print(f"SSVEP-exo not found under {data}; pass --data", file=sys.stderr)
        return 2
    import distributed

    work = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    spec_path = work / "bench.toml"
    spec_path.write_text(SPEC.format(data=data), encoding="utf-8")
    spec = load_benchmark_spec(spec_path)
    print(f"grid: {len(spec.subjects)} subjects x {len(spec.pipelines)} pipelines, cv 5")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    t0 = time.perf_counter()
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    print(f"LocalCluster(2) start-up: {time.perf_counter() - t0:.2f} s (not in its wall time)")
    order = ["serial", "workers2", "cluster2"]
    results: dict[str, list[dict]] = {k: [] for k in order}
    try:
        for rnd in range(args.rounds):
            names = order if rnd % 2 == 0 else order[::-1]
            for name in names:
                out = work / f"{name}-{rnd}"
                r = run_engine(name, spec, out, cluster.scheduler_address)
                results[name].append(r)
                print(
                    f"round {rnd + 1} {name:9s} wall {r['wall']:7.2f} s  tasks ok {r['ok']}/"
                    f"{r['n']}  load {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
    finally:
        cluster.close()

    print()
    print(
        f"{'engine':9s} {'wall s':>8s} {'speed-up':>9s} {'task wall s':>12s} "
        f"{'task cpu s':>11s} {'overhead ms/task':>17s} {'task ms (mean)':>15s} "
        f"{'task cpu ms (mean)':>19s}"
    )
    for name in order:
        rs = results[name]
        wall = sum(r["wall"] for r in rs) / len(rs)
        speed = [
            s["wall"] / r["wall"] for s, r in zip(results["serial"], rs, strict=True)
        ]  # same round
        tw = sum(r["task_wall"] for r in rs) / len(rs)
        tc = sum(r["task_cpu"] for r in rs) / len(rs)
        n = rs[0]["n"]
        over = sum((r["wall"] * r["parallelism"] - r["task_wall"]) / r["n"] for r in rs) / len(rs)
        print(
            f"{name:9s} {wall:8.2f} {sum(speed) / len(speed):8.2f}x {tw:12.2f} {tc:11.2f} "
            f"{1000 * over:17.0f} {1000 * tw / n:15.0f} {1000 * tc / n:19.0f}"
        )
    ref = _rows(results["serial"][0]["out"] / "results.csv")
    same = all(_rows(r["out"] / "results.csv") == ref for rs in results.values() for r in rs)
    print(f"\nresults.csv identical across engines and rounds (timing/host columns aside): {same}")
    print("\nsummary of the grid (serial, round 1):\n")
    summary = (results["serial"][0]["out"] / "summary.md").read_text()
    print(summary.split("## Failed tasks")[0])
    shutil.rmtree(work, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
