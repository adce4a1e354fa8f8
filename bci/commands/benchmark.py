"""``bci benchmark SPEC.toml --out results/``: many subjects x many pipelines, resumable.

Runs every (subject, pipeline) evaluation of the benchmark file on this machine
(``--workers N`` processes) or on a running Dask cluster (``--scheduler tcp://HOST:PORT``),
keeps each finished task's JSON as a checkpoint, and writes ``results.csv``,
``summary.md`` and plots. Exit code 0 when every task finished, 1 when some failed (they
are listed), 130 after Ctrl-C and 143 after SIGTERM (finished tasks are kept).
"""

from __future__ import annotations

import argparse
import signal

#: Upper bound of ``--workers``: more processes than this is a typo, not a machine.
MAX_WORKERS = 1024


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``benchmark`` subcommand."""
    p = subparsers.add_parser(
        "benchmark",
        help="evaluate many subjects x many pipelines, locally or on a Dask cluster",
        description=(
            "Cross-validate every pipeline of the benchmark file on every subject (one task "
            "each, the same report as `bci evaluate`), on this machine or on a Dask "
            "distributed cluster. Finished tasks are kept in OUT/tasks/ and skipped when "
            "the same command runs again; a failing subject is recorded and the others "
            "go on. Writes OUT/results.csv, OUT/summary.md (per-pipeline table, paired "
            "Wilcoxon tests) and plots. Exit code 0 when every task finished, 1 when some "
            "failed, 130 after Ctrl-C, 143 after SIGTERM."
        ),
    )
    p.add_argument("spec", metavar="SPEC.toml", help="the benchmark file")
    p.add_argument(
        "--out", default="results", metavar="DIR", help="output folder (default ./results)"
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local worker processes (default: this machine's cores; 1 runs in this process)",
    )
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help='run on the Dask cluster of this scheduler (needs pip install -e ".[cluster]"); '
        "the workers must see the recordings at the same paths",
    )
    p.set_defaults(func=run)


class _SigtermStops:
    """While active, SIGTERM raises BenchmarkTerminated in the main thread (like Ctrl-C)."""

    def __init__(self, exc_type: type[BaseException]) -> None:
        self.exc_type = exc_type
        self.previous = None

    def _handler(self, signum: int, frame: object) -> None:
        raise self.exc_type("SIGTERM")

    def __enter__(self) -> _SigtermStops:
        self.previous = signal.signal(signal.SIGTERM, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGTERM, self.previous or signal.SIG_DFL)


def run(args: argparse.Namespace) -> int:
    """Load the benchmark file, pick the engine, run, print where the results are."""
    from bci.errors import BCIError

    if args.scheduler and args.workers is not None:
        raise BCIError(
            "--workers applies to the local engine; with --scheduler the cluster's workers "
            "run the tasks (drop one of them)"
        )
    if args.scheduler:
        from bci.benchmark_dask import check_address, check_installed

        check_address(args.scheduler)
        check_installed()  # before loading anything: a missing extra is said at once
    from bci.benchmark_local import ProcessEngine, SerialEngine, default_workers
    from bci.benchmark_run import BenchmarkTerminated, run_benchmark
    from bci.benchmark_spec import load_benchmark_spec

    workers = default_workers() if args.workers is None else args.workers
    if not 1 <= workers <= MAX_WORKERS:
        raise BCIError(f"--workers {workers}: give a number of processes from 1 to {MAX_WORKERS}")
    spec = load_benchmark_spec(args.spec)
    if args.scheduler:
        from bci.benchmark_dask import DaskEngine

        engine = DaskEngine(args.scheduler)
    elif workers == 1:
        engine = SerialEngine()
    else:
        engine = ProcessEngine(workers)
    with _SigtermStops(BenchmarkTerminated):
        summary = run_benchmark(spec, args.out, engine)
    out = summary.out
    print(
        f"{summary.ok} of {summary.total} tasks finished ({summary.skipped} from earlier runs), "
        f"{summary.failed} failed, {summary.not_run} not run, in {summary.seconds:.1f} s"
    )
    print(f"results: {out / 'results.csv'}; summary: {out / 'summary.md'}")
    if summary.stopped_by == "SIGINT":
        return 130
    if summary.stopped_by == "SIGTERM":
        return 143
    return 1 if summary.failed else 0
