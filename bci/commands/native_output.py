"""Keep what C libraries print (liblsl, labrecorder) off the terminal of a command.

Not a command itself (it has no ``register``); the standard library only.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def native_output_to(log_path: Path) -> Iterator[Callable[[str], None]]:
    """Send what C libraries print (liblsl, labrecorder) to ``log_path``; yield a printer.

    liblsl and labrecorder write progress lines straight to file descriptors 1 and 2,
    which would bury the story; Python's own ``sys.stdout``/``sys.stderr`` are redirected
    with them, so the yielded function writes to the real terminal. Everything is
    restored on exit, before any error is printed.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    log = open(log_path, "ab")
    terminal = os.fdopen(os.dup(saved[0]), "w", encoding="utf-8", errors="replace")
    try:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)

        def write(text: str) -> None:
            terminal.write(text + "\n")
            terminal.flush()

        yield write
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        terminal.close()
        log.close()


@contextlib.contextmanager
def native_output_only_to(log_path: Path) -> Iterator[Path]:
    """Send only what C libraries print (LabRecorder's "Wrote footer...") to ``log_path``.

    File descriptors 1 and 2 go to the log; Python's ``sys.stdout`` and ``sys.stderr``
    are re-pointed at copies of the terminal's, so the command's own ``print`` still
    reaches the terminal. Restored on exit.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    old = sys.stdout, sys.stderr
    log = open(log_path, "ab")
    out = os.fdopen(os.dup(saved[0]), "w", encoding="utf-8", errors="replace", buffering=1)
    err = os.fdopen(os.dup(saved[1]), "w", encoding="utf-8", errors="replace", buffering=1)
    try:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        sys.stdout, sys.stderr = out, err
        yield Path(log_path)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = old
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        out.close()
        err.close()
        log.close()


__all__ = ["native_output_only_to", "native_output_to"]
