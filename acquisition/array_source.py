"""A ``Source`` that replays a ``Recording`` held in memory, chunk by chunk."""

from __future__ import annotations

import numpy as np

from acquisition.recording import Recording
from acquisition.source import Source, SourceInfo, StreamEvent, empty_markers, nonfinite_event


class ArraySource(Source):
    """Replay a :class:`Recording` deterministically through the ``Source`` interface.

    Each ``pull`` returns at most ``chunk_size`` samples (or ``max_samples`` if smaller)
    as fast as it is called; markers are released once the samples they point at have been
    pulled. This is the offline face of every file and of the simulator. A recording has
    no gaps and cannot stall; the only condition it reports is ``nonfinite`` (a chunk
    holding NaN/Inf values, passed on unchanged).

    Parameters
    ----------
    recording : Recording
        What to replay.
    chunk_size : int
        Largest chunk returned by one ``pull`` when ``max_samples`` is None.
    """

    def __init__(self, recording: Recording, *, chunk_size: int = 32) -> None:
        if int(chunk_size) < 1:
            raise ValueError(f"chunk_size must be a positive number of samples, got {chunk_size!r}")
        self.recording = recording
        self.chunk_size = int(chunk_size)
        self._pos = 0
        self._marker_pos = 0
        self._closed = False
        self._conditions: list[StreamEvent] = []

    @property
    def info(self) -> SourceInfo:
        """Channel names, types, units and rate of the recording."""
        return self.recording.info

    @property
    def ended(self) -> bool:
        """True once every sample has been pulled."""
        return self._pos >= self.recording.n_samples

    @property
    def position(self) -> int:
        """Index of the next sample ``pull`` will return."""
        return self._pos

    def rewind(self) -> bool:
        """Start again from the first sample and the first marker (used by looping replay)."""
        self._check_open()
        self._pos = 0
        self._marker_pos = 0
        return True

    def pull(self, max_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return the next chunk ``(data, timestamps)``; empty once the recording has ended."""
        self._check_open()
        n = self.chunk_size if max_samples is None else max(0, int(max_samples))
        stop = min(self._pos + n, self.recording.n_samples)
        data = self.recording.data[:, self._pos : stop].copy()
        times = self.recording.start_time + np.arange(self._pos, stop) / self.recording.sfreq
        self._pos = stop
        bad = nonfinite_event(self.info, data)
        if bad is not None:
            self._conditions.append(bad)
        return data, times

    def conditions(self) -> list[StreamEvent]:
        """Return and forget the ``nonfinite`` events of the chunks pulled since the last call."""
        out, self._conditions = self._conditions, []
        return out

    def pull_markers(self) -> tuple[np.ndarray, list[str]]:
        """Return the markers whose sample has been pulled since the last call."""
        self._check_open()
        rec = self.recording
        end = self._marker_pos
        while end < rec.marker_samples.size and rec.marker_samples[end] < self._pos:
            end += 1
        if end == self._marker_pos:
            return empty_markers()
        idx = slice(self._marker_pos, end)
        self._marker_pos = end
        stamps = rec.start_time + rec.marker_samples[idx] / rec.sfreq
        return stamps.astype(np.float64), list(rec.marker_labels[idx])

    def close(self) -> None:
        """Release the source; further pulls raise."""
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"source {self.info.name!r} is closed; open a new one to read again")
