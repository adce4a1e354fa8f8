"""One benchmark task: one subject's recordings evaluated with one pipeline.

A task is plain data at its boundary: its inputs are file paths, the paradigm as TOML
text, the fold count, the fold seed and the grouping, and its result is the JSON report
``bci evaluate --json`` writes, plus where and how long it ran. It travels to a worker
process or a Dask worker as a JSON string and comes back as one, so nothing is pickled
but a ``str``, and any engine that can call a function on a string can run it.

The task id hashes everything the result depends on: the inputs, the size and
modification time of every recording, and the package version. It names the task's
checkpoint file, so a rerun finds finished tasks and an edited recording or paradigm is
evaluated again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

from acquisition.errors import AcquisitionError
from bci import __version__
from bci.errors import BCIError
from models.errors import ModelError

#: Errors about the data or the paradigm: recorded as one line, without a traceback.
EXPECTED_ERRORS = (BCIError, AcquisitionError, ModelError, OSError)


@dataclass(frozen=True)
class Task:
    """The inputs of one (subject, pipeline) evaluation; JSON-safe."""

    subject: str
    pipeline: str
    recordings: tuple[str, ...]
    paradigm_toml: str
    cv: int = 5
    seed: int = 42
    group_by: str | None = None
    pseudo_online: bool = False
    paradigm_source: str = "<benchmark>"
    folder: str = ""

    def to_json(self) -> str:
        """The task as a JSON object (what crosses to a worker)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Task:
        """The task from :meth:`to_json` text."""
        d = json.loads(text)
        d["recordings"] = tuple(d["recordings"])
        return cls(**d)


def _file_stamp(path: str) -> dict:
    try:
        st = os.stat(path)
    except OSError:
        return {"path": str(Path(path).absolute()), "missing": True}
    return {"path": str(Path(path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def task_id(task: Task) -> str:
    """A hash of the task's inputs, its recordings' sizes and times, and the bci version.

    The same inputs give the same id on every machine and run; a changed recording,
    paradigm, fold setting or package version gives another.
    """
    stamp = {
        "bci_version": __version__,
        "task": asdict(task),
        "files": [_file_stamp(p) for p in task.recordings],
    }
    text = json.dumps(stamp, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def evaluate_subject(
    recordings: list[str] | tuple[str, ...],
    paradigm_toml: str,
    *,
    seed: int,
    cv: int,
    group_by: str | None,
    pseudo_online: bool = False,
    source: str = "<benchmark>",
) -> dict:
    """Cross-validate the paradigm given as TOML text on one subject's recordings.

    Returns
    -------
    dict
        The report ``bci evaluate --json`` writes for the same recordings and options.

    Raises
    ------
    BCIError
        No recordings, invalid paradigm text, unreadable recordings, fewer than 2 classes.
    """
    from bci.evaluation_report import evaluation_report
    from bci.paradigm_toml import paradigm_from_toml

    if not recordings:
        raise BCIError("no recording files in this subject's folder (check dataset.pattern)")
    paradigm = paradigm_from_toml(paradigm_toml, source)
    report, *_ = evaluation_report(
        paradigm,
        list(recordings),
        cv=cv,
        seed=seed,
        group_by=group_by,
        with_pseudo_online=pseudo_online,
        command="benchmark",
    )
    return report


def _one_blas_thread():
    # Workers run side by side, one task each: a multithreaded BLAS in every one of them
    # only oversubscribes the cores (and makes results depend on the thread count).
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the environment variables set by `bci` then do it
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_task(task: Task) -> dict:
    """Run one task; never raises for a bad subject.

    Returns
    -------
    dict
        ``status`` ``"ok"`` with the evaluation report's keys, or ``"failed"`` with
        ``error`` (one line) and, for an unexpected error, ``traceback``. Always
        ``subject``, ``pipeline``, ``host``, ``pid``, ``bci_version``, ``wall_seconds`` and
        ``cpu_seconds`` (the task's own time, loading included; CPU of its process).
    """
    t0 = time.perf_counter()
    c0 = time.process_time()
    head = {"subject": task.subject, "pipeline": task.pipeline}
    try:
        with _one_blas_thread():
            report = evaluate_subject(
                task.recordings,
                task.paradigm_toml,
                seed=task.seed,
                cv=task.cv,
                group_by=task.group_by,
                pseudo_online=task.pseudo_online,
                source=task.paradigm_source,
            )
        out = {**head, "status": "ok", "error": None, **report}
    except Exception as exc:  # a bad subject must not stop the others; recorded instead
        out = {**head, "status": "failed", "error": _one_line(exc)}
        if not isinstance(exc, EXPECTED_ERRORS):
            out["traceback"] = traceback.format_exc(limit=-4)
    out.update(
        host=socket.gethostname(),
        pid=os.getpid(),
        bci_version=__version__,
        wall_seconds=time.perf_counter() - t0,
        cpu_seconds=time.process_time() - c0,
    )
    return out


def run_task_json(task_json: str) -> str:
    """:func:`run_task` from and to JSON text: the function engines send to workers."""
    return json.dumps(run_task(Task.from_json(task_json)))
