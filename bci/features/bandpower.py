"""Log band power per channel per band, from a Welch power spectral density."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import signal

from bci.errors import BCIError

#: Band powers below this (V^2) are clipped before the log: a flat channel gives a finite
#: feature instead of -inf.
POWER_FLOOR = 1e-30


class BandPower:
    """Log power of each channel in each band: the feature vector of the BCI.

    Parameters
    ----------
    sfreq : float
        Sampling rate in Hz.
    bands : sequence of (low, high)
        Bands in Hz; a band sums the PSD bins with ``low <= f <= high``.
    nperseg : int
        Welch segment length in samples (50 % overlap, Hann window). Epochs and windows
        must be at least this long; the same value is used offline and online.
    log : {"log10", "ln"}
        Logarithm applied to the band power.

    Notes
    -----
    The feature order is channel-major: ``[ch0 band0, ch0 band1, ..., ch1 band0, ...]``
    (see :meth:`feature_names`). The step has nothing to learn; ``fit`` only records the
    channel count so a mismatch is caught in ``transform``.
    """

    kind = "bandpower"

    def __init__(
        self,
        *,
        sfreq: float,
        bands: Sequence[Sequence[float]],
        nperseg: int,
        log: str = "log10",
    ) -> None:
        self.sfreq = float(sfreq)
        self.bands = tuple((float(lo), float(hi)) for lo, hi in bands)
        self.nperseg = int(nperseg)
        self.log = log
        if log not in ("log10", "ln"):
            raise BCIError(f"band power log must be 'log10' or 'ln', got {log!r}")
        if self.nperseg < 2:
            raise BCIError(f"Welch segment must be at least 2 samples, got {nperseg!r}")
        freqs = np.fft.rfftfreq(self.nperseg, 1.0 / self.sfreq)
        self._masks = []
        for lo, hi in self.bands:
            mask = (freqs >= lo) & (freqs <= hi)
            if not mask.any():
                raise BCIError(
                    f"band [{lo:g}, {hi:g}] Hz holds no spectral bin at a resolution of "
                    f"{self.sfreq / self.nperseg:g} Hz; widen the band or lengthen "
                    "features.welch_segment"
                )
            self._masks.append(mask)
        self.n_channels_: int | None = None

    def fit(self, epochs: np.ndarray, y: np.ndarray | None = None) -> BandPower:
        """Record the channel count (band power has nothing to learn)."""
        self.n_channels_ = int(np.asarray(epochs).shape[1])
        return self

    def psd(self, epochs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Welch PSD ``(freqs, psd (n_epochs, n_channels, n_freqs))`` in V^2/Hz."""
        x = np.asarray(epochs, dtype=np.float64)
        if x.ndim != 3:
            raise BCIError(f"band power expects (n_epochs, n_channels, n_times), got {x.shape}")
        if x.shape[-1] < self.nperseg:
            raise BCIError(
                f"epochs of {x.shape[-1]} samples are shorter than the Welch segment of "
                f"{self.nperseg} samples; lengthen the epoch/window or shorten "
                "features.welch_segment"
            )
        return signal.welch(
            x,
            fs=self.sfreq,
            window="hann",
            nperseg=self.nperseg,
            noverlap=self.nperseg // 2,
            detrend="constant",
            axis=-1,
        )

    def transform(self, epochs: np.ndarray) -> np.ndarray:
        """Return log band powers, shape ``(n_epochs, n_channels * n_bands)``."""
        x = np.asarray(epochs, dtype=np.float64)
        if self.n_channels_ is not None and x.ndim == 3 and x.shape[1] != self.n_channels_:
            raise BCIError(
                f"band power was fitted on {self.n_channels_} channels, got {x.shape[1]}"
            )
        freqs, pxx = self.psd(x)
        df = freqs[1] - freqs[0]
        power = np.stack([pxx[..., m].sum(axis=-1) * df for m in self._masks], axis=-1)
        power = np.maximum(power, POWER_FLOOR)
        logp = np.log10(power) if self.log == "log10" else np.log(power)
        return logp.reshape(x.shape[0], -1)

    def feature_names(self, ch_names: Sequence[str]) -> list[str]:
        """Names of the features in column order, e.g. ``"C3 8-13Hz"``."""
        return [f"{ch} {lo:g}-{hi:g}Hz" for ch in ch_names for lo, hi in self.bands]

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Return ``(meta, arrays)``: JSON-safe settings, no arrays."""
        meta = {
            "type": self.kind,
            "sfreq": self.sfreq,
            "bands": [list(b) for b in self.bands],
            "nperseg": self.nperseg,
            "log": self.log,
            "n_channels": self.n_channels_,
        }
        return meta, {}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> BandPower:
        """Rebuild the step saved by :meth:`to_state`."""
        step = cls(
            sfreq=meta["sfreq"], bands=meta["bands"], nperseg=meta["nperseg"], log=meta["log"]
        )
        step.n_channels_ = meta.get("n_channels")
        return step
