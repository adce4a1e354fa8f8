"""Run ``python -m bci ARGS`` in forked children of one warm interpreter (test helper).

A bad-input case through the command line costs 1-3 s, nearly all of it the start of a
fresh interpreter importing numpy, SciPy and MNE; what the case tests (the exit code, stderr,
no traceback) takes a tenth of that. This module runs as a server process that imports
those libraries once, then for each request forks a child that runs the real
``bci/__main__.py`` with ``runpy`` from the top level of this script: the child is its own
process with its own argv, working folder, stdout and stderr files and exit code, and ends
through the interpreter's normal shutdown (atexit, threads, finalisers) like ``python -m
bci``. What it does not repeat is the interpreter start and the imports; the server checks
that those imports print nothing (a line there would be a second stderr line in a real run).

The client side is :class:`ForkedCli`; its :meth:`ForkedCli.run` returns a
``subprocess.CompletedProcess`` as ``subprocess.run`` would.

Protocol (JSON lines): the client writes ``{"argv", "cwd", "stdout", "stderr"}`` on the
server's stdin; the server answers ``{"pid": N}`` once the child is forked and
``{"code": C}`` when it has ended (``-signal`` if killed).
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

#: What the commands import (libraries, then ours); importing them once is the saving.
PRELOAD = (
    "numpy",
    "scipy.signal",
    "scipy.io",
    "mne",
    "mne.io",
    "pyxdf",
    "bci.cli",
    "acquisition.file_source",
    "bci.model_file",
    "bci.commands.info",
    "bci.commands.train",
    "bci.commands.evaluate",
    "bci.commands.live",
)
#: MNE loads its readers on first use; each child would load them again.
MNE_READERS = ("edf", "bdf", "gdf", "fif", "brainvision", "eeglab")


class ForkedCli:
    """A warm server process that runs ``bci`` commands in forked children.

    Parameters
    ----------
    env : dict
        Environment of the server, hence of every child (as ``subprocess.run(env=...)``).
    """

    def __init__(self, env: dict[str, str]) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="bci-forked-"))
        self._lock = threading.Lock()
        self._count = 0
        self._proc = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=Path(__file__).parent,
        )
        ready = self._proc.stdout.readline()
        if not ready:
            raise RuntimeError(f"the forked-cli server did not start: {self._proc.stderr.read()}")
        preload_stderr = json.loads(ready)["stderr"]
        if preload_stderr.strip():
            raise RuntimeError(f"importing {PRELOAD} printed on stderr: {preload_stderr!r}")

    def run(
        self, args: list[str], *, cwd: Path, timeout: float = 120.0
    ) -> subprocess.CompletedProcess:
        """Run ``bci ARGS`` in a forked child; kill it after ``timeout`` s (TimeoutExpired)."""
        with self._lock:  # one child at a time per server: the protocol is a dialogue
            self._count += 1
            out = self._dir / f"{self._count}.out"
            err = self._dir / f"{self._count}.err"
            request = {"argv": list(args), "cwd": str(cwd), "stdout": str(out), "stderr": str(err)}
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            pid = json.loads(self._proc.stdout.readline())["pid"]
            killed = threading.Event()
            timer = threading.Timer(timeout, _kill, (pid, killed))
            timer.start()
            try:
                code = json.loads(self._proc.stdout.readline())["code"]
            finally:
                timer.cancel()
            stdout, stderr = out.read_text(), err.read_text()
            if killed.is_set():
                raise subprocess.TimeoutExpired(["bci", *args], timeout, stdout, stderr)
            return subprocess.CompletedProcess(["bci", *args], code, stdout, stderr)

    def close(self) -> None:
        """End the server (it exits when its stdin closes)."""
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc.stdout.close()
        self._proc.stderr.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def _kill(pid: int, killed: threading.Event) -> None:
    killed.set()
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# ------------------------------------------------------------------------------ server


def _preload() -> str:
    """Import :data:`PRELOAD` with fd 2 captured; return what was printed there."""
    import importlib

    with tempfile.TemporaryFile(mode="w+b") as capture:
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            for name in PRELOAD:
                importlib.import_module(name)
            mne_io = sys.modules["mne.io"]
            for kind in MNE_READERS:
                getattr(mne_io, f"read_raw_{kind}")
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        return capture.read().decode("utf-8", "replace")


def _serve() -> dict | None:
    """Answer requests; return the request in a forked child, None when stdin closes."""
    reply = os.fdopen(os.dup(1), "w")
    reply.write(json.dumps({"stderr": _preload()}) + "\n")
    reply.flush()
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            reply.close()
            return request
        reply.write(json.dumps({"pid": pid}) + "\n")
        reply.flush()
        _, status = os.waitpid(pid, 0)
        reply.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")
        reply.flush()
    return None


def _become(request: dict) -> None:
    """In the child: the argv, folder and standard streams of ``python -m bci ARGV``."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    os.chdir(request["cwd"])
    sys.argv = ["bci", *request["argv"]]


if __name__ == "__main__":
    _request = _serve()
    if _request is not None:
        _become(_request)
        # From the top level of the script, so SystemExit ends this child's interpreter.
        runpy.run_module("bci", run_name="__main__", alter_sys=True)
