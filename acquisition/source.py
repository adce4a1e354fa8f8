"""The ``Source`` protocol every EEG source implements, and the metadata it carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class SourceInfo:
    """What a source delivers.

    Parameters
    ----------
    name : str
        Stream or file name shown to the user.
    ch_names : tuple of str
        Channel labels, in the row order of the data ``pull`` returns.
    ch_types : tuple of str
        MNE channel types (``"eeg"``, ``"misc"``, ``"stim"``...), one per channel.
    sfreq : float
        Nominal sampling rate in Hz.
    units : tuple of str
        Unit of each row *as delivered by* ``pull``: ``"V"`` for EEG (always volts inside
        the program), something else for non-EEG channels (for example ``"count"``).
    source_id : str
        A stable identifier (the LSL source id, or the file path).
    """

    name: str
    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]
    sfreq: float
    units: tuple[str, ...] = field(default=())
    source_id: str = ""

    def __post_init__(self) -> None:
        n = len(self.ch_names)
        if len(self.ch_types) != n:
            raise ValueError(
                f"SourceInfo: {len(self.ch_types)} channel types for {n} channel names; "
                "give one type per channel"
            )
        if not self.units:
            object.__setattr__(self, "units", tuple("V" for _ in range(n)))
        elif len(self.units) != n:
            raise ValueError(
                f"SourceInfo: {len(self.units)} units for {n} channel names; give one per channel"
            )
        if not (np.isfinite(self.sfreq) and self.sfreq > 0):
            raise ValueError(
                f"SourceInfo: sfreq must be a positive number of Hz, got {self.sfreq!r}"
            )

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self.ch_names)


@runtime_checkable
class Source(Protocol):
    """Anything that delivers EEG chunks and string markers.

    ``pull`` returns ``(data, timestamps)``: ``data`` float64 ``(n_channels, n_samples)`` in
    volts for EEG rows, ``timestamps`` float64 ``(n_samples,)`` in seconds, increasing. When
    nothing is available it returns arrays with zero samples; it never blocks for long.
    ``pull_markers`` returns the markers that arrived since the last call as
    ``(timestamps float64 (n,), list of str)``; markers are always strings.
    ``ended`` is True once a finite source (a file) has delivered everything.
    """

    @property
    def info(self) -> SourceInfo: ...

    @property
    def ended(self) -> bool: ...

    def pull(self, max_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]: ...

    def pull_markers(self) -> tuple[np.ndarray, list[str]]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Source: ...

    def __exit__(self, *exc: object) -> None: ...


def empty_chunk(n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``(data, timestamps)`` pair for "no samples available"."""
    return np.empty((n_channels, 0)), np.empty(0)


def empty_markers() -> tuple[np.ndarray, list[str]]:
    """Return the ``(timestamps, labels)`` pair for "no markers available"."""
    return np.empty(0), []
