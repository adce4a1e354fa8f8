"""Smooth the timestamps of a regularly sampled stream, segment by segment.

liblsl's own dejittering (``proc_dejitter``) spreads a timestamp jump over hundreds of
samples and ``proc_monotonize`` hides backward jumps entirely (measured with liblsl 1.18: a
+3600 s jump came out as a ramp 31 s, 67 s, ... 2458 s over 100 samples). So the LSL source
asks liblsl for clock synchronisation only, finds gaps and jumps in the raw timestamps
(:class:`acquisition.health.HealthTracker`), and dejitters here, restarting at each of them.
"""

from __future__ import annotations

import numpy as np


class Dejitterer:
    """Fit ``t = a + b * k`` (k = sample index in the segment) by forgetting least squares.

    Parameters
    ----------
    rate : float
        Expected samples per second of timestamp time (nominal rate x replay speed).
    halftime_seconds : float
        Old samples weigh half as much after this many seconds of samples.
    """

    def __init__(self, rate: float, *, halftime_seconds: float = 90.0) -> None:
        self.rate = float(rate)
        self._decay = 0.5 ** (1.0 / max(halftime_seconds * self.rate, 1.0))
        self.reset()

    def reset(self) -> None:
        """Start a new segment (after a gap, a jump or a reconnection)."""
        self._t0 = float("nan")
        self._n = 0
        self._sums = np.zeros(5)  # weights, k, k^2, t, k*t

    def process(self, timestamps: np.ndarray) -> np.ndarray:
        """Return the smoothed timestamps of the next chunk of the current segment."""
        ts = np.asarray(timestamps, dtype=np.float64)
        m = ts.size
        if m == 0:
            return ts.copy()
        if not np.isfinite(self._t0):
            self._t0 = float(ts[0])
        k = self._n + np.arange(m, dtype=np.float64)
        y = ts - self._t0
        w = self._decay ** np.arange(m - 1, -1, -1, dtype=np.float64)
        chunk = np.array([w.sum(), w @ k, w @ (k * k), w @ y, w @ (k * y)])
        self._sums = self._sums * self._decay**m + chunk
        self._n += m
        s0, sk, skk, st, skt = self._sums
        det = s0 * skk - sk * sk
        # Until the segment spans a few samples the slope is not known: keep the raw stamps.
        if self._n < 3 or det <= 1e-12 * max(s0 * skk, 1.0):
            return ts.copy()
        b = (s0 * skt - sk * st) / det
        a = (st - b * sk) / s0
        return self._t0 + a + b * k
