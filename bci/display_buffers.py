"""Fixed-size buffers and reductions behind the live displays (pure numpy, no Qt).

A window redraws at 60 frames per second, so nothing here allocates per sample: buffers
are preallocated rings, and the scope is reduced to about one min/max pair per pixel
before it is drawn.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from bci.filters import CausalFilter, design_sos


class RingBuffer:
    """The last ``capacity`` samples of ``n_channels`` channels, with their timestamps.

    Parameters
    ----------
    n_channels : int
        Rows.
    capacity : int
        Samples kept; older ones are overwritten.
    """

    def __init__(self, n_channels: int, capacity: int) -> None:
        self.n_channels = int(n_channels)
        self.capacity = max(1, int(capacity))
        self._data = np.zeros((self.n_channels, self.capacity))
        self._times = np.full(self.capacity, np.nan)
        self._write = 0
        self.count = 0

    def append(self, data: np.ndarray, times: np.ndarray) -> None:
        """Add samples ``data`` (n_channels, n) stamped ``times`` (n,)."""
        n = data.shape[1]
        if n == 0:
            return
        if n >= self.capacity:
            data, times, n = data[:, -self.capacity :], times[-self.capacity :], self.capacity
        first = min(n, self.capacity - self._write)
        self._data[:, self._write : self._write + first] = data[:, :first]
        self._times[self._write : self._write + first] = times[:first]
        rest = n - first
        if rest:
            self._data[:, :rest] = data[:, first:]
            self._times[:rest] = times[first:]
        self._write = (self._write + n) % self.capacity
        self.count = min(self.capacity, self.count + n)

    def latest(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return the last ``n`` samples (all held by default), oldest first."""
        n = self.count if n is None else min(int(n), self.count)
        idx = (self._write - n + np.arange(n)) % self.capacity
        return self._data[:, idx], self._times[idx]

    def clear(self) -> None:
        """Forget every sample."""
        self._write = 0
        self.count = 0
        self._times[:] = np.nan


class ProbabilityHistory:
    """Probabilities of the last ``seconds`` of classification, for the trace plot.

    Parameters
    ----------
    n_classes : int
        Columns.
    capacity : int
        Outputs kept (e.g. 30 s at 10 outputs/s, with room for bursts).
    """

    def __init__(self, n_classes: int, capacity: int = 2048) -> None:
        self._ring = RingBuffer(n_classes, capacity)

    def append(self, times: np.ndarray, probabilities: np.ndarray) -> None:
        """Add ``probabilities`` (k, n_classes) at ``times`` (k,)."""
        if len(times):
            self._ring.append(np.asarray(probabilities, dtype=float).T, np.asarray(times, float))

    def since(self, t_min: float) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(times (k,), probabilities (n_classes, k))`` stamped after ``t_min``."""
        data, times = self._ring.latest()
        keep = times >= t_min
        return times[keep], data[:, keep]


def minmax_decimate(data: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Reduce each row to ``n_out`` min/max pairs so spikes survive on screen.

    Every sample falls in exactly one bin (bins differ in length by at most one sample),
    so the drawn envelope is that of all the samples and the x range spans the first to
    the last sample whatever ``n`` and ``n_out``.

    Returns ``(index, values)``: ``index`` (2 * bins,) sample positions (float): each bin's
    first and last sample, and ``values`` (n_rows, 2 * bins), alternating the min and the
    max of each bin. Rows shorter than ``2 * n_out`` come back unchanged.
    """
    n = data.shape[1]
    if n <= 2 * n_out or n_out < 1:
        return np.arange(n, dtype=float), data
    starts = (np.arange(n_out) * n) // n_out  # strictly increasing since n > n_out
    ends = np.append(starts[1:], n) - 1
    out = np.empty((data.shape[0], n_out, 2))
    out[:, :, 0] = np.minimum.reduceat(data, starts, axis=1)
    out[:, :, 1] = np.maximum.reduceat(data, starts, axis=1)
    index = np.column_stack([starts, ends]).ravel()
    return index.astype(float), out.reshape(data.shape[0], 2 * n_out)


def robust_spacing(data_uv: np.ndarray, *, minimum: float = 1.0) -> float:
    """Vertical distance between stacked channels, in µV, from their typical spread.

    Uses the median over channels of each channel's interquartile range, so one dead or
    saturated channel does not squash the others.
    """
    if data_uv.size == 0:
        return 50.0
    finite = np.where(np.isfinite(data_uv), data_uv, 0.0)
    q75, q25 = np.percentile(finite, [75, 25], axis=1)
    spread = float(np.median(q75 - q25))
    spacing = 4.0 * spread
    if not np.isfinite(spacing) or spacing < minimum:
        return max(minimum, 50.0 if not np.isfinite(spacing) else minimum)
    # Round to 1, 2 or 5 x 10^k so the scale label reads well.
    exp = 10.0 ** np.floor(np.log10(spacing))
    for m in (1, 2, 5, 10):
        if spacing <= m * exp:
            return float(m * exp)
    return float(10 * exp)


def power_spectrum(
    data: np.ndarray, sfreq: float, *, fmax: float = 45.0
) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density of each row (V²/Hz), up to ``fmax`` Hz.

    Returns ``(freqs (n_f,), psd (n_rows, n_f))``; one-second segments (or the whole
    signal when shorter).
    """
    n = data.shape[1]
    if n < 8:
        return np.empty(0), np.empty((data.shape[0], 0))
    nperseg = min(n, max(8, round(sfreq)))
    freqs, psd = signal.welch(data, fs=sfreq, nperseg=nperseg, axis=-1)
    keep = freqs <= fmax
    return freqs[keep], psd[:, keep]


def band_powers(
    data: np.ndarray, sfreq: float, bands: tuple[tuple[float, float], ...]
) -> np.ndarray:
    """Log10 mean power (V²/Hz) per row and band, shape ``(n_rows, n_bands)``."""
    freqs, psd = power_spectrum(data, sfreq, fmax=sfreq / 2)
    out = np.full((data.shape[0], len(bands)), np.nan)
    if not freqs.size:
        return out
    for j, (lo, hi) in enumerate(bands):
        sel = (freqs >= lo) & (freqs <= hi)
        if sel.any():
            out[:, j] = np.log10(np.maximum(psd[:, sel].mean(axis=1), 1e-30))
    return out


#: Amplitude scales offered by the scope's +/- buttons, in µV between channels.
SCALE_STEPS_UV = tuple(float(m * 10.0**e) for e in range(-1, 6) for m in (1, 2, 5))


def step_scale(spacing_uv: float, steps: int) -> float:
    """The scale ``steps`` places up (> 0) or down (< 0) the 1-2-5 ladder from ``spacing_uv``.

    A value between two rungs moves to the nearest rung in the asked direction; the ends
    of :data:`SCALE_STEPS_UV` are sticky.
    """
    ladder = np.asarray(SCALE_STEPS_UV)
    if steps == 0:
        return float(spacing_uv)
    if steps > 0:
        i = int(np.searchsorted(ladder, spacing_uv * (1 + 1e-9), side="left")) + steps - 1
    else:
        i = int(np.searchsorted(ladder, spacing_uv * (1 - 1e-9), side="right")) - 1 + steps + 1
    return float(ladder[int(np.clip(i, 0, ladder.size - 1))])


class ExponentialSmoother:
    """Exponential moving average of probability rows with a time constant in seconds.

    Outputs arrive at irregular times, so the weight of each new row is
    ``1 - exp(-dt / tau)``; ``tau = 0`` passes the rows through unchanged. Display only:
    what is published stays the raw output.

    Parameters
    ----------
    n_classes : int
        Columns.
    tau : float
        Time constant in seconds (>= 0).
    """

    def __init__(self, n_classes: int, tau: float) -> None:
        if not (np.isfinite(tau) and tau >= 0):
            raise ValueError(f"smoothing time constant must be >= 0 seconds, got {tau!r}")
        self.tau = float(tau)
        self._last_time: float | None = None
        self._value = np.zeros(int(n_classes))

    def update(self, times: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
        """Smooth ``probabilities`` (k, n_classes) stamped ``times`` (k,); returns (k, n_classes)."""
        p = np.asarray(probabilities, dtype=float)
        if self.tau == 0 or p.shape[0] == 0:
            return p.copy()
        out = np.empty_like(p)
        for i, t in enumerate(np.asarray(times, dtype=float)):
            if self._last_time is None or not np.all(np.isfinite(self._value)):
                self._value = p[i].copy()
            else:
                alpha = 1.0 - np.exp(-max(t - self._last_time, 0.0) / self.tau)
                self._value = self._value + alpha * (p[i] - self._value)
            self._last_time = float(t)
            out[i] = self._value
        return out

    def reset(self) -> None:
        """Forget the running average; the next row starts it afresh."""
        self._last_time = None


class DisplayHighpass:
    """A causal 1 Hz (by default) high-pass for the scope only, its state carried across chunks.

    Raw EEG drifts by hundreds of µV, which squashes the rhythms a person looks for; this
    removes the drift on screen without touching what is classified.
    """

    def __init__(self, n_channels: int, sfreq: float, *, cutoff: float = 1.0) -> None:
        self.cutoff = float(cutoff)
        self._filter = CausalFilter(design_sos(sfreq, cutoff, None, order=2), n_channels)

    def process(self, data: np.ndarray) -> np.ndarray:
        """Filter a chunk (n_channels, n) continuing from the previous one."""
        x = np.nan_to_num(np.asarray(data, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
        return self._filter.process(x)

    def reset(self) -> None:
        """Forget the state (after a gap in the stream)."""
        self._filter.reset()


def place_label(level_ends: list[float], start: float, width: float) -> int | None:
    """Pick the first free row for a label spanning ``[start, start + width]``.

    ``level_ends`` holds, per row, where the last label placed on it ends (same units as
    ``start``, e.g. seconds); it is updated in place. Returns the row, or None when every
    row is still taken at ``start`` (the label is then dropped rather than drawn over
    another).
    """
    for level, end in enumerate(level_ends):
        if start >= end:
            level_ends[level] = start + width
            return level
    return None
