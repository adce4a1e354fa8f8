"""A whole recording held in memory: continuous data plus string markers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from acquisition.source import SourceInfo


@dataclass
class Recording:
    """Continuous EEG and its markers, as read from a file or produced by a simulator.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        float64; EEG rows in volts.
    info : SourceInfo
        Channel names, types, units and the sampling rate.
    marker_samples : ndarray of int, shape (n_markers,)
        Sample index (into ``data``) at which each marker occurred.
    marker_labels : list of str
        The markers, always strings (integer event codes become ``"2"``).
    start_time : float
        Timestamp, in seconds, of sample 0 (0.0 for files without a clock).
    path : str
        Where it came from (file path or a description), for messages.
    extras : dict
        Anything format-specific worth keeping (e.g. XDF stream headers).
    """

    data: np.ndarray
    info: SourceInfo
    marker_samples: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    marker_labels: list[str] = field(default_factory=list)
    start_time: float = 0.0
    path: str = ""
    extras: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data = np.asarray(self.data, dtype=np.float64)
        if self.data.ndim != 2 or self.data.shape[0] != self.info.n_channels:
            raise ValueError(
                f"Recording {self.path or ''}: data shape {self.data.shape} does not match "
                f"{self.info.n_channels} channels; expected (n_channels, n_samples)"
            )
        self.marker_samples = np.asarray(self.marker_samples, dtype=np.int64).reshape(-1)
        self.marker_labels = [str(m) for m in self.marker_labels]
        if len(self.marker_labels) != self.marker_samples.size:
            raise ValueError(
                f"Recording {self.path or ''}: {self.marker_samples.size} marker positions "
                f"but {len(self.marker_labels)} marker labels"
            )
        # Sources release markers in time order; keep equal positions in their given order.
        order = np.argsort(self.marker_samples, kind="stable")
        self.marker_samples = self.marker_samples[order]
        self.marker_labels = [self.marker_labels[i] for i in order]

    @property
    def sfreq(self) -> float:
        """Sampling rate in Hz."""
        return self.info.sfreq

    @property
    def n_samples(self) -> int:
        """Number of samples per channel."""
        return self.data.shape[1]

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.n_samples / self.sfreq

    @property
    def times(self) -> np.ndarray:
        """Timestamp of every sample, in seconds."""
        return self.start_time + np.arange(self.n_samples) / self.sfreq

    def marker_counts(self) -> dict[str, int]:
        """Return how many times each marker string occurs, in first-seen order."""
        counts: dict[str, int] = {}
        for label in self.marker_labels:
            counts[label] = counts.get(label, 0) + 1
        return counts
