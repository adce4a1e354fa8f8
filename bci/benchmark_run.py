"""Run a benchmark: every (subject, pipeline) task on an engine, checkpointed, then reported.

Each finished task's result is written at once to ``OUT/tasks/<task id>.json`` (atomically:
a killed run never leaves half a file). A rerun of the same benchmark computes the same
ids, finds those files and skips the tasks that finished; failed tasks run again (their
failure may have been the machine's). After the tasks, or when the run is stopped,
``results.csv``, ``summary.md`` and the plots are written from every finished task.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from bci import __version__
from bci.benchmark_results import result_row, write_results_csv, write_summary
from bci.benchmark_spec import BenchmarkSpec
from bci.benchmark_task import Task, task_id
from bci.errors import BCIError
from bci.paradigm_toml import paradigm_to_toml


class BenchmarkTerminated(Exception):
    """Raised (from a SIGTERM handler) to stop a run as Ctrl-C does."""


class Engine(Protocol):
    """What :func:`run_benchmark` needs of an engine (see :mod:`bci.benchmark_local`)."""

    parallelism: int

    def describe(self) -> str: ...

    def run(self, tasks: Sequence[tuple[str, str]]): ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RunSummary:
    """What a run did: counts over all tasks, and how it ended."""

    total: int
    skipped: int
    ran: int
    ok: int
    failed: int
    not_run: int
    stopped_by: str | None
    seconds: float
    out: Path


def build_tasks(spec: BenchmarkSpec) -> list[tuple[str, Task]]:
    """Every (subject, pipeline) task of ``spec`` with its id, subject by subject."""
    texts = {pl.name: paradigm_to_toml(pl.paradigm) for pl in spec.pipelines}
    tasks = []
    for subject in spec.subjects:
        for pl in spec.pipelines:
            task = Task(
                subject=subject.name,
                pipeline=pl.name,
                recordings=subject.recordings,
                paradigm_toml=texts[pl.name],
                cv=spec.cv,
                seed=spec.seed,
                group_by=spec.group_by,
                pseudo_online=spec.pseudo_online,
                paradigm_source=f"{spec.source}: pipeline {pl.name!r}",
                folder=subject.folder,
            )
            tasks.append((task_id(task), task))
    return tasks


def checkpoint_path(out: Path, tid: str) -> Path:
    """Where the result of task ``tid`` is kept."""
    return Path(out) / "tasks" / f"{tid}.json"


def read_checkpoint(out: Path, tid: str) -> dict | None:
    """The finished result of task ``tid``, or None (absent, unreadable, or failed)."""
    path = checkpoint_path(out, tid)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("task_id") != tid:
        return None
    result = data.get("result")
    if not isinstance(result, dict) or result.get("status") != "ok":
        return None
    return result


def write_checkpoint(out: Path, tid: str, task: Task, result: dict) -> Path:
    """Write ``{"task_id", "task", "result"}`` to the task's file, atomically."""
    path = checkpoint_path(out, tid)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    body = {"task_id": tid, "task": json.loads(task.to_json()), "result": result}
    tmp.write_text(json.dumps(body, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


def _engine_failure(task: Task, error: str) -> dict:
    return {
        "subject": task.subject,
        "pipeline": task.pipeline,
        "status": "failed",
        "error": error,
        "host": "",
        "wall_seconds": math.nan,
    }


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class Progress:
    """A progress line per finished task: a bar, done/total, failures, time left."""

    def __init__(self, total: int, already: int, stream: TextIO, width: int = 20) -> None:
        self.total = total
        self.done = already
        self.failed = 0
        self.ran = 0
        self.t0 = time.monotonic()
        self.stream = stream
        self.width = width

    def update(self, result: dict) -> None:
        """Count ``result`` and print the line."""
        self.done += 1
        self.ran += 1
        ok = result.get("status") == "ok"
        self.failed += not ok
        elapsed = time.monotonic() - self.t0
        left = self.total - self.done
        eta = elapsed / self.ran * left
        filled = round(self.width * self.done / max(1, self.total))
        bar = "#" * filled + "." * (self.width - filled)
        what = (
            f"{result.get('accuracy', math.nan):.3f}"
            if ok
            else f"FAILED: {str(result.get('error'))[:120]}"
        )
        print(
            f"[{bar}] {self.done}/{self.total} done, {self.failed} failed, ETA {_clock(eta)}"
            f" | {result.get('subject')} {result.get('pipeline')}: {what}",
            file=self.stream,
            flush=True,
        )


def run_benchmark(
    spec: BenchmarkSpec, out: str | Path, engine: Engine, *, stream: TextIO | None = None
) -> RunSummary:
    """Run the tasks of ``spec`` not yet finished in ``out`` on ``engine``; write the outputs.

    Ctrl-C (KeyboardInterrupt) or :class:`BenchmarkTerminated` stops the engine; the
    outputs are then written from the tasks finished so far and ``stopped_by`` says why.

    Raises
    ------
    BCIError
        The engine itself failed (e.g. the scheduler went away); the outputs are written
        first, and the message says that a rerun resumes.
    """
    stream = stream if stream is not None else sys.stderr
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    tasks = build_tasks(spec)
    by_id = dict(tasks)
    results: dict[str, dict] = {}
    todo: list[tuple[str, Task]] = []
    for tid, task in tasks:
        done = read_checkpoint(out, tid)
        if done is None:
            todo.append((tid, task))
        else:
            results[tid] = done
    skipped = len(results)
    print(
        f"benchmark: {len(tasks)} tasks ({len(spec.subjects)} subjects x "
        f"{len(spec.pipelines)} pipelines); {skipped} already done in {out / 'tasks'}; "
        f"running {len(todo)} on {engine.describe()}",
        file=stream,
        flush=True,
    )
    progress = Progress(len(tasks), skipped, stream)
    stopped_by = None
    engine_error = None
    ran = 0
    try:
        outcomes = engine.run([(tid, task.to_json()) for tid, task in todo])
        for tid, result_json, error in outcomes:
            task = by_id[tid]
            result = json.loads(result_json) if result_json is not None else None
            if result is None:
                result = _engine_failure(task, error or "the engine returned nothing")
            write_checkpoint(out, tid, task, result)
            results[tid] = result
            ran += 1
            progress.update(result)
    except KeyboardInterrupt:
        stopped_by = "SIGINT"
    except BenchmarkTerminated:
        stopped_by = "SIGTERM"
    except Exception as exc:  # e.g. the connection to the scheduler lost mid-run
        engine_error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        stopped_by = "engine error"
    finally:
        engine.close()
    if stopped_by:
        print(
            f"benchmark: stopped ({stopped_by}); {len(results)} of {len(tasks)} tasks are "
            "finished and kept; run the same command again to do the rest",
            file=stream,
            flush=True,
        )
    rows = write_outputs(spec, tasks, results, out, engine=engine.describe())
    if engine_error is not None:
        raise BCIError(
            f"benchmark: the engine failed ({engine_error[:300]}); the {len(results)} finished "
            f"tasks are kept in {out / 'tasks'}: run the same command again to do the rest"
        )
    return RunSummary(
        total=len(tasks),
        skipped=skipped,
        ran=ran,
        ok=sum(r["status"] == "ok" for r in rows),
        failed=sum(r["status"] == "failed" for r in rows),
        not_run=sum(r["status"] == "not run" for r in rows),
        stopped_by=stopped_by,
        seconds=time.monotonic() - t0,
        out=out,
    )


def write_outputs(
    spec: BenchmarkSpec,
    tasks: Sequence[tuple[str, Task]],
    results: dict[str, dict],
    out: Path,
    *,
    engine: str = "",
) -> list[dict]:
    """Write results.csv, summary.md and the plots; return the rows."""
    from bci.benchmark_plots import plot_pipeline_pairs, plot_subject_accuracy

    rows = [result_row(t.subject, t.pipeline, tid, results.get(tid)) for tid, t in tasks]
    names = [pl.name for pl in spec.pipelines]
    write_results_csv(rows, out / "results.csv")
    group = spec.group_by or "none (stratified by class)"
    details = [
        "",
        f"Benchmark file `{spec.source}`; {spec.cv}-fold cross-validation, fold seed "
        f"{spec.seed}, grouped by {group}; bci {__version__}; engine: {engine}.",
        "",
        "| pipeline | features | model |",
        "|---|---|---|",
    ]
    for pl in spec.pipelines:
        model = ", ".join(f"{k}={v}" for k, v in pl.paradigm.model.params.items())
        kind = pl.paradigm.model.kind + (f" ({model})" if model else "")
        details.append(f"| {pl.name} | {pl.paradigm.features.method} | {kind} |")
    title = f"Benchmark: {spec.dataset}" if spec.dataset else "Benchmark"
    write_summary(rows, names, out / "summary.md", title=title, details=details)
    if any(r["status"] == "ok" for r in rows):
        plot_subject_accuracy(rows, names, out / "accuracy_by_subject.png")
        plot_pipeline_pairs(rows, names, out / "pipeline_pairs.png")
    return rows
