"""The engine that sends benchmark tasks to a running Dask distributed cluster.

The same tasks as the local engines (:mod:`bci.benchmark_local`), submitted with
``pure=False`` (every run evaluates again) and ``retries=2``. A task is a JSON string and
its result is one; the workers read the recordings from the paths in the task, so the
data must sit on a path every worker sees (a shared file system). When a worker dies
mid-task, the scheduler gives the task to another worker.

Dask is an optional extra: ``pip install -e ".[cluster]"``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence

from bci.benchmark_task import run_task_json
from bci.errors import BCIError

#: Outcome of one task: (task id, result JSON or None, engine error or None).
Outcome = tuple[str, str | None, str | None]

#: Address schemes of a Dask scheduler.
SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")

INSTALL_HINT = 'pip install -e ".[cluster]"'


def check_address(address: str) -> str:
    """Return ``address`` if it looks like ``tcp://HOST:PORT``, else raise BCIError."""
    scheme, sep, rest = address.partition("://")
    host, colon, port = rest.rpartition(":")
    if not sep or scheme not in SCHEMES or not colon or not host or not port.isdigit():
        raise BCIError(
            f"--scheduler {address!r}: expected a Dask scheduler address like "
            "tcp://HOST:PORT (what `dask scheduler` prints)"
        )
    return address


def _answers(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` answers HTTP 200 (the scheduler serves /status only with bokeh)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def check_installed() -> None:
    """Raise BCIError saying how to install Dask distributed when it is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise BCIError(
            f"--scheduler needs Dask distributed, which is not installed: {INSTALL_HINT}"
        ) from None


class DaskEngine:
    """Runs the tasks on the Dask cluster whose scheduler is at ``address``.

    Parameters
    ----------
    address : str
        ``tcp://HOST:PORT`` of a running scheduler.
    timeout : float
        Seconds to wait for the connection.

    Raises
    ------
    BCIError
        Dask is not installed (the message says how to install it), the address is
        malformed, or no scheduler answers there.
    """

    def __init__(self, address: str, *, timeout: float = 10.0) -> None:
        check_address(address)
        check_installed()
        import distributed

        self.address = address
        self._distributed = distributed
        self._futures: list = []
        try:
            self.client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise BCIError(
                f"--scheduler {address}: no Dask scheduler answered within {timeout:g} s "
                f"({' '.join(str(exc).split())[:200]}); start one with `dask scheduler` and "
                "workers with `dask worker ADDRESS`, or check the address"
            ) from None
        info = self.client.scheduler_info()
        workers = info.get("workers", {})
        self.parallelism = max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))
        self.n_workers = len(workers)
        port = (info.get("services") or {}).get("dashboard")
        host = address.partition("://")[2].rpartition(":")[0]
        self.dashboard = f"http://{host}:{port}/status" if port else None
        self.dashboard_ok = self.dashboard is not None and _answers(self.dashboard)

    def describe(self) -> str:
        """One line for the progress header, with the dashboard address."""
        where = f"Dask scheduler {self.address}, {self.n_workers} workers"
        if self.dashboard and self.dashboard_ok:
            return f"{where}; dashboard {self.dashboard}"
        if self.dashboard:
            return (
                f"{where}; dashboard {self.dashboard} does not answer (install bokeh>=3.1 "
                "where the scheduler runs)"
            )
        return f"{where}; no dashboard (the scheduler runs without one)"

    def run(self, tasks: Sequence[tuple[str, str]]) -> Iterator[Outcome]:
        """Submit every task and yield each outcome as it finishes."""
        run_id = uuid.uuid4().hex[:8]
        futures = {}
        for tid, text in tasks:
            fut = self.client.submit(
                run_task_json, text, key=f"bci-task-{tid}-{run_id}", pure=False, retries=2
            )
            futures[fut] = tid
        self._futures = list(futures)
        for fut in self._distributed.as_completed(self._futures, loop=self.client.loop):
            tid = futures[fut]
            if fut.status == "finished":
                yield tid, fut.result(), None
            else:  # e.g. KilledWorker: it took down every worker it was given to
                exc = fut.exception()
                yield tid, None, f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            fut.release()

    def close(self) -> None:
        """Cancel unfinished tasks and disconnect (the cluster keeps running)."""
        try:
            if self._futures:
                self.client.cancel(self._futures)
        finally:
            self._futures = []
            self.client.close()
