"""Per-channel signal quality for the scope: flat, saturated or line-noise dominated.

Pure numpy on a few seconds of raw signal (volts); the window only colours what this
returns. The thresholds are deliberately coarse: the cue says "look at this electrode",
not "this electrode is bad".
"""

from __future__ import annotations

import numpy as np
from scipy import signal

GOOD = "ok"
FLAT = "flat"
SATURATED = "saturated"
LINE_NOISE = "line noise"
#: Every quality, good first; the order the scope's legend lists them in.
QUALITIES = (GOOD, FLAT, SATURATED, LINE_NOISE)

#: What each cue means, for the legend's tooltip.
QUALITY_HELP = {
    FLAT: "flat: under {flat_uv:g} µV standard deviation (a loose or dead electrode)",
    SATURATED: "saturated: over {clip_fraction:.0%} of samples stuck at the channel's extreme "
    "(the amplifier clips)",
    LINE_NOISE: "line noise: more power at 50/60 Hz than in 1-40 Hz (poor contact, cable)",
}


def channel_quality(
    data: np.ndarray,
    sfreq: float,
    *,
    flat_uv: float = 0.5,
    clip_fraction: float = 0.05,
    line_ratio: float = 1.0,
    line_freqs: tuple[float, ...] = (50.0, 60.0),
) -> tuple[str, ...]:
    """Classify each row of ``data`` (n_channels, n_samples, volts) as one of :data:`QUALITIES`.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Raw signal in volts (not high-passed: clipping shows in the raw values).
    sfreq : float
        Sampling rate in Hz.
    flat_uv : float
        A channel whose standard deviation is below this (µV) is ``"flat"``.
    clip_fraction : float
        A channel with at least this fraction of its samples equal to its minimum or its
        maximum is ``"saturated"`` (continuous EEG almost never repeats its extreme).
    line_ratio : float
        A channel whose power within 1 Hz of a line frequency exceeds ``line_ratio`` times
        its 1-40 Hz power is ``"line noise"``.
    line_freqs : tuple of float
        Mains frequencies checked (those below Nyquist - 1 Hz).

    Returns
    -------
    tuple of str
        One quality per channel. Non-finite samples are ignored; a channel with fewer
        than 2 finite samples is ``"flat"``.
    """
    x = np.asarray(data, dtype=float)
    n_ch, n = x.shape
    out = [GOOD] * n_ch
    finite = np.isfinite(x)
    for i in range(n_ch):
        row = x[i, finite[i]]
        if row.size < 2 or np.std(row) * 1e6 < flat_uv:
            out[i] = FLAT
            continue
        lo, hi = row.min(), row.max()
        tol = 1e-9 * max(abs(lo), abs(hi))
        stuck = np.count_nonzero(row <= lo + tol) + np.count_nonzero(row >= hi - tol)
        if stuck >= max(3, clip_fraction * row.size):
            out[i] = SATURATED
    lines = [f for f in line_freqs if f + 1.0 < sfreq / 2.0]
    todo = [i for i in range(n_ch) if out[i] == GOOD]
    if not lines or not todo or n < round(sfreq / 2):
        return tuple(out)
    rows = np.where(finite[todo], x[todo], 0.0)
    rows = rows - rows.mean(axis=1, keepdims=True)
    freqs, psd = signal.welch(rows, fs=sfreq, nperseg=min(n, round(sfreq)), axis=-1)
    eeg = psd[:, (freqs >= 1.0) & (freqs <= 40.0)].sum(axis=1)
    for f0 in lines:
        line = psd[:, np.abs(freqs - f0) <= 1.0].sum(axis=1)
        for j in np.flatnonzero(line > line_ratio * eeg):
            out[todo[j]] = LINE_NOISE
    return tuple(out)
