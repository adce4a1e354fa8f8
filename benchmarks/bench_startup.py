"""Start-up time of the ``bci`` command against ``python -c pass`` (the peer).

Three invocations that should answer at once, because they do no work: ``bci --help``,
``bci live --help`` and an argument error (``bci live`` without ``--model``, exit 2).
Each round runs the peer and the three cases once, in an order rotated every round
(alternated, so that a busy moment of this shared machine hits all of them alike); the
script prints the median wall time and the median CPU time (user + system of the child)
of each, and the ratio of the medians to the peer's.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--rounds 15] [--bci PATH]``
(``--bci`` times another installation's ``bci`` script, e.g. an older checkout's).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(cmd: list[str], expect: int) -> tuple[float, float]:
    """Run ``cmd`` once; return (wall seconds, CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}, expected {expect}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="runs of each case (default 15)")
    parser.add_argument(
        "--bci",
        default=str(Path(sys.executable).with_name("bci")),
        help="the bci script to time (default: the one of this interpreter)",
    )
    args = parser.parse_args(argv)
    if not os.access(args.bci, os.X_OK):
        raise SystemExit(f"--bci {args.bci}: not an executable; install the package first")
    cases = {
        "python -c pass": ([sys.executable, "-c", "pass"], 0),
        "bci --help": ([args.bci, "--help"], 0),
        "bci live --help": ([args.bci, "live", "--help"], 0),
        "bci live (argument error)": ([args.bci, "live"], 2),
    }
    names = list(cases)
    for name in names:  # warm the file cache once; not counted
        timed(*cases[name])
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            w, c = timed(*cases[name])
            wall[name].append(w)
            cpu[name].append(c)
    peer_wall = statistics.median(wall[names[0]])
    peer_cpu = statistics.median(cpu[names[0]])
    print(f"{args.bci}; {args.rounds} alternated rounds; {os.cpu_count()} CPUs")
    print(f"{'':28s} {'wall median':>12s} {'x peer':>7s} {'CPU median':>11s} {'x peer':>7s}")
    for name in names:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(
            f"{name:28s} {1e3 * w:10.0f} ms {w / peer_wall:7.1f} {1e3 * c:9.0f} ms "
            f"{c / peer_cpu if peer_cpu else float('nan'):7.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
