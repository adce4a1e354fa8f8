"""Causal IIR filtering with carried state: one object for a whole recording or a live stream.

The filter is a cascade of second-order sections (Butterworth band-pass, optional notch).
Filtering a recording at once and filtering it chunk by chunk give the same samples, so
features computed offline equal the ones computed live. The state is initialised to the
filter's steady state for the first sample seen, so a DC offset (thousands of microvolts
on some amplifiers) does not ring through the first seconds.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from bci.errors import BCIError


def design_sos(
    sfreq: float,
    l_freq: float | None,
    h_freq: float | None,
    *,
    order: int = 4,
    notch: float | None = None,
    notch_q: float = 30.0,
) -> np.ndarray:
    """Design the filter as second-order sections.

    Parameters
    ----------
    sfreq : float
        Sampling rate in Hz.
    l_freq, h_freq : float or None
        Pass-band edges in Hz; ``None`` leaves that side open (high-pass only, low-pass
        only, or no band filter at all).
    order : int
        Butterworth order (a band-pass has twice as many poles).
    notch : float or None
        Line-noise frequency to remove with an IIR notch, in Hz.
    notch_q : float
        Quality factor of the notch.

    Returns
    -------
    sos : ndarray, shape (n_sections, 6)
        Possibly zero sections (identity filter).
    """
    nyquist = sfreq / 2.0
    for name, value in (("l_freq", l_freq), ("h_freq", h_freq), ("notch", notch)):
        if value is not None and not 0 < value < nyquist:
            raise BCIError(
                f"filter {name} = {value} Hz must lie between 0 and the Nyquist frequency "
                f"{nyquist:g} Hz of {sfreq:g} Hz data"
            )
    sections = []
    if l_freq is not None and h_freq is not None:
        sections.append(signal.butter(order, [l_freq, h_freq], "bandpass", fs=sfreq, output="sos"))
    elif l_freq is not None:
        sections.append(signal.butter(order, l_freq, "highpass", fs=sfreq, output="sos"))
    elif h_freq is not None:
        sections.append(signal.butter(order, h_freq, "lowpass", fs=sfreq, output="sos"))
    if notch is not None:
        b, a = signal.iirnotch(notch, notch_q, fs=sfreq)
        sections.append(signal.tf2sos(b, a))
    if not sections:
        return np.empty((0, 6))
    return np.ascontiguousarray(np.concatenate(sections, axis=0), dtype=np.float64)


class CausalFilter:
    """A stateful causal SOS filter for ``n_channels`` rows.

    Parameters
    ----------
    sos : ndarray, shape (n_sections, 6)
        Second-order sections, e.g. from :func:`design_sos`.
    n_channels : int
        Number of rows every chunk has.

    Notes
    -----
    The state (``zi``, shape ``(n_sections, n_channels, 2)``) is created on the first chunk
    as the steady state for a constant input equal to that chunk's first sample, so a DC
    offset produces no start-up transient. :meth:`reset` forgets it; the next chunk starts
    afresh the same way. Offline code calls :meth:`filter_whole`, which is ``reset`` then
    ``process``: the same arithmetic as a live stream.
    """

    def __init__(self, sos: np.ndarray, n_channels: int) -> None:
        sos = np.asarray(sos, dtype=np.float64)
        if sos.ndim != 2 or sos.shape[1] != 6:
            raise BCIError(f"filter sections must have shape (n_sections, 6), got {sos.shape}")
        self.sos = sos
        self.n_channels = int(n_channels)
        self._zi_unit = signal.sosfilt_zi(sos) if len(sos) else np.empty((0, 2))
        self.zi: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the state; the next chunk re-initialises it from its first sample."""
        self.zi = None

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Filter ``chunk`` (n_channels, n_samples) continuing from the carried state."""
        x = np.asarray(chunk, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != self.n_channels:
            raise BCIError(
                f"filter expects chunks of shape ({self.n_channels}, n_samples), got {x.shape}"
            )
        if x.shape[1] == 0 or len(self.sos) == 0:
            return x.copy()
        if self.zi is None:
            # Steady state for a constant input x0: no transient from a DC offset.
            self.zi = self._zi_unit[:, None, :] * x[None, :, 0, None]
        y, self.zi = signal.sosfilt(self.sos, x, axis=-1, zi=self.zi)
        return y

    def filter_whole(self, data: np.ndarray) -> np.ndarray:
        """Filter a whole recording from a fresh state (``reset`` then ``process``)."""
        self.reset()
        return self.process(data)
