"""Filter-bank Riemannian tangent-space features, with data-driven (OAS) shrinkage.

For each frequency band, every epoch (or online window) is band-pass filtered *within
the window* with a zero-phase Butterworth filter (designed once, at construction) (a pure function of the window, so the
online path computes exactly what training computed), its spatial covariance is shrunk
toward a scaled identity by the Oracle Approximating Shrinkage of Chen et al. (IEEE TSP
58(10), 2010; scikit-learn's form), whitened by the training set's Riemannian mean of
that band and mapped to the tangent space (``upper(logm(M^-1/2 C M^-1/2))``,
off-diagonals times sqrt(2); Barachant et al., IEEE TBME 59(4), 2012). The bands' vectors are concatenated.

Why these choices generalise:

- ``bands=None``: one block on the epochs as given (the paradigm's causal filter already
  applied). It equals :class:`bci.features.tangent_space.TangentSpace` with OAS, which
  ``features.method = "tangent_space"`` (alias ``"riemann"``) builds; it is kept so that
  model files saved by the former ``"riemann"`` builder still load.
- SSVEP: bands of +/-1 Hz around every stimulation frequency *and its harmonics* (the
  SSVEP response has harmonics, Herrmann 2001; Chen et al. 2015 filter-bank CCA) give
  the filter-bank covariance of Kalunga et al. (Neurocomputing 2016), whose shared
  recordings we test on.
- OAS picks the shrinkage from the data (number of samples vs channels), so a 64-channel
  2 s epoch and an 8-channel one are both well conditioned without a tuned constant.

Tangent vectors live in one metric (distances approximate Riemannian distances), so
they should not be standardised feature by feature: the class attribute
``standardize = False`` tells the pipeline so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import signal

from bci.errors import BCIError
from bci.features.covariance import oas_covariances
from bci.features.riemann import invsqrtm, riemannian_mean, tangent_vectors

#: Butterworth order of the in-window band filters (applied forward and backward).
BAND_ORDER = 2


def harmonic_bands(
    frequencies: Sequence[float], n_harmonics: int, half_width: float, nyquist: float
) -> tuple[tuple[float, float], ...]:
    """``[h f - half_width, h f + half_width]`` for every frequency and harmonic ``h``.

    Harmonics whose band reaches the Nyquist frequency are left out.
    """
    bands = []
    for f in frequencies:
        for h in range(1, int(n_harmonics) + 1):
            lo, hi = h * float(f) - half_width, h * float(f) + half_width
            if lo > 0 and hi < nyquist:
                bands.append((lo, hi))
    return tuple(bands)


class FilterBankTangentSpace:
    """Tangent-space vectors of OAS covariances, one block per frequency band.

    Parameters
    ----------
    sfreq : float
        Sampling rate in Hz.
    bands : sequence of (low, high) or None
        Bands in Hz, each applied within the window by a zero-phase Butterworth band-pass
        of order ``BAND_ORDER``. ``None``: one block on the epochs as given (already
        band-passed by the paradigm's causal filter).
    """

    kind = "filter_bank_tangent_space"
    #: Tangent vectors share one metric; per-feature standardisation would distort it.
    standardize = False

    def __init__(self, *, sfreq: float, bands: Sequence[Sequence[float]] | None = None) -> None:
        self.sfreq = float(sfreq)
        if not (np.isfinite(self.sfreq) and self.sfreq > 0):
            raise BCIError(f"filter-bank tangent space: sfreq must be > 0 Hz, got {sfreq!r}")
        self.bands: tuple[tuple[float, float], ...] | None = None
        if bands is not None:
            checked = []
            for i, band in enumerate(bands):
                lo, hi = (float(v) for v in band)
                if not 0 < lo < hi < self.sfreq / 2:
                    raise BCIError(
                        f"filter-bank tangent space: band {i} = [{lo:g}, {hi:g}] Hz must satisfy "
                        f"0 < low < high < Nyquist ({self.sfreq / 2:g} Hz); fix features.bands"
                    )
                checked.append((lo, hi))
            if not checked:
                raise BCIError("filter-bank tangent space: bands is empty; give at least one")
            self.bands = tuple(checked)
        # Designed once: the sections and the steady-state initial conditions of every
        # band (what sosfiltfilt would recompute for each band of each window).
        self._sos: np.ndarray | None = None  # (n_bands, n_sections, 6)
        self._zi: np.ndarray | None = None  # (n_bands, n_sections, 2)
        self._padlen = 0
        if self.bands is not None:
            sos = np.stack(
                [
                    signal.butter(BAND_ORDER, b, btype="bandpass", fs=self.sfreq, output="sos")
                    for b in self.bands
                ]
            )
            self._sos = sos
            self._zi = np.stack([signal.sosfilt_zi(s) for s in sos])
            # sosfiltfilt's default odd padding, 3 * ntaps, the same for every band.
            n_sections = sos.shape[1]
            zeros = min(int((sos[0, :, 2] == 0).sum()), int((sos[0, :, 5] == 0).sum()))
            self._padlen = 3 * (2 * n_sections + 1 - zeros)
        self.reference_isqrt_: np.ndarray | None = None  # (n_bands, n_ch, n_ch)
        #: Iterations of each band's Riemannian mean in the last ``fit``.
        self.n_iter_: list[int] | None = None

    def _band_filter(self, x: np.ndarray) -> np.ndarray:
        """Zero-phase band-pass of ``x`` in every band: ``(n_bands, *x.shape)``.

        The same operations as ``scipy.signal.sosfiltfilt(sos, x)`` with its default odd
        padding, with the padding done once for all bands and the per-band initial
        conditions taken from construction.
        """
        n = self._padlen
        first, last = x[..., :1], x[..., -1:]
        ext = np.concatenate(
            [2 * first - x[..., n:0:-1], x, 2 * last - x[..., -2 : -(n + 2) : -1]], axis=-1
        )
        x0 = ext[..., :1]
        out = np.empty((len(self._sos), *x.shape))
        for b, (sos, zi) in enumerate(zip(self._sos, self._zi, strict=True)):
            zi_b = zi.reshape(zi.shape[0], *([1] * (x.ndim - 1)), 2)
            y, _ = signal.sosfilt(sos, ext, axis=-1, zi=zi_b * x0)
            y, _ = signal.sosfilt(sos, y[..., ::-1], axis=-1, zi=zi_b * y[..., -1:])
            out[b] = y[..., ::-1][..., n:-n]
        return out

    def _band_covs(self, epochs: np.ndarray) -> np.ndarray:
        """OAS covariances of every band, shape ``(n_blocks, n_epochs, n_ch, n_ch)``."""
        x = np.asarray(epochs, dtype=np.float64)
        if x.ndim != 3:
            raise BCIError(
                f"filter-bank tangent space expects (n_epochs, n_channels, n_times), got {x.shape}"
            )
        if self._sos is None:
            return oas_covariances(x)[None]
        min_len = 3 * (2 * BAND_ORDER * 2 + 1)
        if x.shape[-1] <= min_len:
            raise BCIError(
                f"filter-bank tangent space: windows of {x.shape[-1]} samples are too short "
                f"to band-pass (need > {min_len}); lengthen the epochs/online window"
            )
        filtered = self._band_filter(x)
        n_bands, n_epochs, n_ch = filtered.shape[:3]
        covs = oas_covariances(filtered.reshape(n_bands * n_epochs, n_ch, -1))
        return covs.reshape(n_bands, n_epochs, n_ch, n_ch)

    def fit(self, epochs: np.ndarray, y: np.ndarray | None = None) -> FilterBankTangentSpace:
        """Learn each band's reference point: the Riemannian mean of the training covariances."""
        means = [riemannian_mean(c, return_n_iter=True) for c in self._band_covs(epochs)]
        self.reference_isqrt_ = invsqrtm(np.stack([m for m, _ in means]))
        self.n_iter_ = [k for _, k in means]
        return self

    def transform(self, epochs: np.ndarray) -> np.ndarray:
        """Concatenated tangent vectors, ``(n_epochs, n_bands * n_ch * (n_ch + 1) / 2)``."""
        if self.reference_isqrt_ is None:
            raise BCIError("filter-bank tangent space used before fit; fit it on training epochs")
        covs = self._band_covs(epochs)
        n_blocks, n_epochs, n_ch = covs.shape[:3]
        n = self.reference_isqrt_.shape[-1]
        if n_ch != n:
            raise BCIError(f"filter-bank tangent space was fitted on {n} channels, got {n_ch}")
        # All bands in one batch: whiten each band's covariances by its own reference.
        vecs = tangent_vectors(covs, self.reference_isqrt_[:, None])
        return vecs.reshape(n_blocks, n_epochs, -1).transpose(1, 0, 2).reshape(n_epochs, -1)

    # Re-centring (bci.features.recentre) maps each group at its own reference per band.
    def block_covariances(self, epochs: np.ndarray) -> np.ndarray:
        """OAS covariances of every band, shape ``(n_blocks, n_epochs, n_ch, n_ch)``."""
        return self._band_covs(epochs)

    @property
    def n_features_per_block(self) -> int:
        """Length of one band's tangent vector."""
        n = self.reference_isqrt_.shape[-1]
        return n * (n + 1) // 2

    def tangent_features(self, block_covs: np.ndarray, reference_isqrt: np.ndarray) -> np.ndarray:
        """Concatenated tangent vectors of ``block_covs`` (n_blocks, n, c, c), each band at
        its own ``reference_isqrt`` (n_blocks, c, c)."""
        n_blocks, n_epochs = block_covs.shape[:2]
        vecs = tangent_vectors(block_covs, reference_isqrt[:, None])
        return vecs.reshape(n_blocks, n_epochs, -1).transpose(1, 0, 2).reshape(n_epochs, -1)

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """``(meta, arrays)``: rate, bands and the whitening matrix of each band."""
        if self.reference_isqrt_ is None:
            raise BCIError("filter-bank tangent space is not fitted; nothing to save")
        meta = {
            "type": self.kind,
            "sfreq": self.sfreq,
            "bands": None if self.bands is None else [list(b) for b in self.bands],
        }
        return meta, {"reference_isqrt": self.reference_isqrt_.copy()}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> FilterBankTangentSpace:
        """Rebuild the step saved by :meth:`to_state`."""
        step = cls(sfreq=meta["sfreq"], bands=meta.get("bands"))
        ref = np.asarray(arrays["reference_isqrt"], dtype=np.float64)
        n_blocks = 1 if step.bands is None else len(step.bands)
        if (
            ref.ndim != 3
            or ref.shape[0] != n_blocks
            or ref.shape[1] != ref.shape[2]
            or not np.all(np.isfinite(ref))
        ):
            raise BCIError(
                f"filter-bank tangent space state: expected {n_blocks} finite square "
                f"whitening matrices, got shape {ref.shape}"
            )
        step.reference_isqrt_ = ref
        return step


# ----------------------------------------------------------------- registry builders
def build_filter_bank_riemann(paradigm, sfreq: float, n_channels: int) -> list:
    """``features.method = "filter_bank_riemann"``: one block per band.

    With ``[session.frequencies]`` (SSVEP) and ``features.params.harmonics = N``, the bands
    are ``h * f +/- params.half_width`` (default 1 Hz) for every stimulation frequency and
    ``h = 1..N``; otherwise ``features.bands``.
    """
    params = dict(getattr(paradigm.features, "params", {}) or {})
    harmonics = params.get("harmonics")
    freqs = list(getattr(paradigm.session, "frequencies", {}).values())
    if harmonics is not None:
        if isinstance(harmonics, bool) or not isinstance(harmonics, int) or harmonics < 1:
            raise BCIError(
                f"features.params.harmonics: expected an integer >= 1, got {harmonics!r}"
            )
        if not freqs:
            raise BCIError(
                "features.params.harmonics needs [session.frequencies] (class = Hz) to place "
                "the bands; add them or give features.bands instead"
            )
        half = params.get("half_width", 1.0)
        if isinstance(half, bool) or not isinstance(half, int | float) or not half > 0:
            raise BCIError(f"features.params.half_width: expected Hz > 0, got {half!r}")
        bands = harmonic_bands(freqs, harmonics, float(half), sfreq / 2.0)
    else:
        bands = paradigm.features.bands
    return [FilterBankTangentSpace(sfreq=sfreq, bands=bands)]
