"""Sliding windows: a ring buffer for live streams and the same indexing over whole arrays.

Window ``k`` covers samples ``[k * step, k * step + window)`` of the stream since the last
reset; its last sample is ``k * step + window - 1``. :class:`SlidingWindow` (live, chunk by
chunk) and :func:`sliding_windows` (offline, pseudo-online evaluation) produce exactly the
same windows.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from bci.errors import BCIError


def _check_sizes(window_samples: int, step_samples: int) -> tuple[int, int]:
    w, s = int(window_samples), int(step_samples)
    if w < 1 or s < 1:
        raise BCIError(
            f"window and step must be at least one sample, got window={window_samples!r}, "
            f"step={step_samples!r}"
        )
    return w, s


def window_ends(n_samples: int, window_samples: int, step_samples: int) -> np.ndarray:
    """Index of the last sample of every full window in ``n_samples`` samples."""
    w, s = _check_sizes(window_samples, step_samples)
    if n_samples < w:
        return np.empty(0, dtype=np.int64)
    return np.arange(w - 1, n_samples, s, dtype=np.int64)


def sliding_windows(data: np.ndarray, window_samples: int, step_samples: int) -> np.ndarray:
    """Every full window of ``data`` (n_channels, n_samples), as a read-only view.

    Returns
    -------
    windows : ndarray, shape (n_windows, n_channels, window_samples)
        Window ``k`` is ``data[:, k*step : k*step + window]``; see :func:`window_ends`.
    """
    w, s = _check_sizes(window_samples, step_samples)
    data = np.asarray(data)
    if data.shape[-1] < w:
        return np.empty((0, data.shape[0], w), dtype=data.dtype)
    view = sliding_window_view(data, w, axis=-1)[:, ::s, :]
    return view.transpose(1, 0, 2)


class SlidingWindow:
    """Ring buffer that emits a copy of the last ``window_samples`` every ``step_samples``.

    The buffer holds exactly one window (``n_channels x window_samples`` floats) however
    long the stream runs; a chunk is written with at most two slice copies.

    Parameters
    ----------
    n_channels : int
    window_samples : int
        Window length in samples; the first window is emitted once that many samples
        have been pushed.
    step_samples : int
        Hop between consecutive windows, in samples.
    """

    def __init__(self, n_channels: int, window_samples: int, step_samples: int) -> None:
        self.window_samples, self.step_samples = _check_sizes(window_samples, step_samples)
        self.n_channels = int(n_channels)
        self._buf = np.zeros((self.n_channels, self.window_samples))
        self.reset()

    def reset(self) -> None:
        """Forget the buffered samples; the next window needs a full window of new samples."""
        self._count = 0
        self._next_emit = self.window_samples

    @property
    def n_pushed(self) -> int:
        """Samples pushed since the last reset."""
        return self._count

    def push(self, chunk: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Append ``chunk`` (n_channels, n) and return the windows it completes.

        Returns
        -------
        list of (int, ndarray)
            For each completed window: the index *within this chunk* of its last sample,
            and the window, shape ``(n_channels, window_samples)``, a copy.
        """
        chunk = np.asarray(chunk, dtype=np.float64)
        if chunk.ndim != 2 or chunk.shape[0] != self.n_channels:
            raise BCIError(
                f"sliding window expects chunks of shape ({self.n_channels}, n), got {chunk.shape}"
            )
        out: list[tuple[int, np.ndarray]] = []
        n = chunk.shape[1]
        pos = 0
        while pos < n:
            take = min(n - pos, self._next_emit - self._count)
            self._write(chunk[:, pos : pos + take])
            pos += take
            if self._count == self._next_emit:
                out.append((pos - 1, self._read()))
                self._next_emit += self.step_samples
        return out

    def _write(self, piece: np.ndarray) -> None:
        # At most two slice copies into the fixed buffer: no growth, no index arrays.
        w = self.window_samples
        n = piece.shape[1]
        if n >= w:
            piece = piece[:, n - w :]
        k = piece.shape[1]
        pos = (self._count + n - k) % w
        first = min(k, w - pos)
        self._buf[:, pos : pos + first] = piece[:, :first]
        self._buf[:, : k - first] = piece[:, first:]
        self._count += n

    def _read(self) -> np.ndarray:
        # The oldest buffered sample sits where the next one will be written.
        w = self.window_samples
        start = self._count % w
        out = np.empty((self.n_channels, w))
        out[:, : w - start] = self._buf[:, start:]
        out[:, w - start :] = self._buf[:, :start]
        return out
