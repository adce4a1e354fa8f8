"""A progress bar for long loops of a command (``evaluate``'s folds, pseudo-online, plots).

Not a command itself (it has no ``register``); the standard library only.

On a terminal the bar is redrawn in place on stderr (``\\r``); into a file or a pipe (a
log, a test) only each new stage is written, one line each, so a log does not fill with
carriage returns.
"""

from __future__ import annotations

import sys
from typing import TextIO


class ProgressBar:
    """Call it as ``bar(fraction, text)``; :meth:`done` ends the line.

    Parameters
    ----------
    stream : file, optional
        Where to draw (default ``sys.stderr``).
    width : int
        Characters of the bar.
    """

    def __init__(self, stream: TextIO | None = None, *, width: int = 24) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = int(width)
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = bool(isatty and isatty())
        self._stage = ""
        self._drawn = False

    def __call__(self, fraction: float, text: str) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        if self.interactive:
            filled = round(fraction * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r[{bar}] {100 * fraction:3.0f}% {text[:70]:<70s}")
            self.stream.flush()
            self._drawn = True
            return
        stage = text.split(":", 1)[0]
        if stage != self._stage:
            self._stage = stage
            self.stream.write(f"{text}...\n")
            self.stream.flush()

    def done(self) -> None:
        """End the bar's line (on a terminal), so the next output starts on its own."""
        if self.interactive and self._drawn:
            self.stream.write("\r" + " " * (self.width + 80) + "\r")
            self.stream.flush()
        self._drawn = False
        self._stage = ""


__all__ = ["ProgressBar"]
