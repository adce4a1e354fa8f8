"""Engines that run benchmark tasks on this machine: in this process, or a process pool.

An engine takes ``(task_id, task_json)`` pairs and yields ``(task_id, result_json,
engine_error)`` as tasks finish, in any order: ``result_json`` is what
:func:`bci.benchmark_task.run_task_json` returned (a bad subject is a result with status
``failed``), ``engine_error`` says why the engine could not run the task at all.
``close()`` stops the engine, abandoning unfinished tasks.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from bci.benchmark_task import run_task_json

#: Outcome of one task: (task id, result JSON or None, engine error or None).
Outcome = tuple[str, str | None, str | None]

#: A pool whose worker died (killed, out of memory) is replaced this many times at most;
#: the tasks it held are given to the new pool.
MAX_POOL_RESTARTS = 2

_BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def default_workers() -> int:
    """The number of cores this process may use."""
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if counter is not None:
        return max(1, counter() or 1)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class SerialEngine:
    """Runs every task in this process, one after the other (``--workers 1``)."""

    parallelism = 1

    def describe(self) -> str:
        """One line for the progress header."""
        return "serial, in this process"

    def run(self, tasks: Sequence[tuple[str, str]]) -> Iterator[Outcome]:
        """Yield each task's outcome as it finishes."""
        for tid, text in tasks:
            yield tid, run_task_json(text), None

    def close(self) -> None:
        """Nothing to stop."""


def _init_worker(parent_pid: int) -> None:
    """Set up a pool worker: one BLAS thread, no Ctrl-C, exit when the coordinator dies."""
    for var in _BLAS_VARIABLES:
        os.environ[var] = "1"
    # Ctrl-C in a terminal reaches the whole process group; the coordinator stops the
    # workers itself, so they must not die mid-task printing tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        # A coordinator killed with SIGKILL cannot stop its workers: they notice instead.
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="bci-parent-watch", daemon=True).start()


class ProcessEngine:
    """A pool of ``workers`` processes (spawned, so no state is inherited), one task each.

    Parameters
    ----------
    workers : int
        Number of worker processes.
    start_method : {"spawn", "forkserver"}
        How worker processes start; ``spawn`` works everywhere.
    """

    def __init__(self, workers: int, *, start_method: str = "spawn") -> None:
        self.parallelism = int(workers)
        self._context = multiprocessing.get_context(start_method)
        self._pool: ProcessPoolExecutor | None = None

    def describe(self) -> str:
        """One line for the progress header."""
        return f"{self.parallelism} local worker processes"

    def _new_pool(self) -> ProcessPoolExecutor:
        self._pool = ProcessPoolExecutor(
            max_workers=self.parallelism,
            mp_context=self._context,
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        return self._pool

    def run(self, tasks: Sequence[tuple[str, str]]) -> Iterator[Outcome]:
        """Yield each task's outcome as it finishes; replace a pool whose worker died."""
        pending = dict(tasks)
        restarts = 0
        try:
            while pending:
                pool = self._new_pool()
                futures: dict[Future, str] = {
                    pool.submit(run_task_json, text): tid for tid, text in pending.items()
                }
                broken: list[str] = []
                for fut in as_completed(futures):
                    tid = futures[fut]
                    exc = fut.exception()
                    if isinstance(exc, BrokenProcessPool):
                        broken.append(tid)
                        continue
                    del pending[tid]
                    if exc is None:
                        yield tid, fut.result(), None
                    else:
                        yield tid, None, f"{type(exc).__name__}: {exc}"
                self._stop(graceful=not broken)
                if broken:
                    restarts += 1
                    if restarts > MAX_POOL_RESTARTS:
                        for tid in broken:
                            del pending[tid]
                            yield (
                                tid,
                                None,
                                f"a worker process died {restarts} times while the pool held "
                                "this task (killed, or out of memory?)",
                            )
        finally:
            self._stop()

    def _stop(self, *, graceful: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if graceful:
            pool.shutdown(wait=True)
            return
        terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
        if terminate is not None:
            terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            return
        # Before 3.14 the pool's processes are only reachable here, and shutdown() forgets
        # them: take them first (they are ours), then stop them.
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(timeout=5)

    def close(self) -> None:
        """Stop the workers, abandoning the tasks they run."""
        self._stop()
