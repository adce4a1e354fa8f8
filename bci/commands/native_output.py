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


__all__ = ["native_output_to"]
