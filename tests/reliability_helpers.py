"""Shared by the reliability tests and benchmarks: counter-carrying sources and a counter tap.

A sample-counter channel is how every reliability check proves that nothing was lost,
duplicated or reordered: the sender puts the global sample index in a ``misc`` channel, the
receiver checks that the values it got are consecutive. The live classifier must not see
that channel (a model trained on EEG refuses extra channels), so :class:`CounterTap` sits
between a real :class:`~acquisition.lsl_source.LSLSource` and the
:class:`~bci.live_session.LiveSession`: it strips the counter row and books the counter
values. Everything else (conditions, health, markers) passes through unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from acquisition.health import StreamHealth
from acquisition.recording import Recording
from acquisition.source import Source, SourceInfo, StreamEvent, empty_chunk, empty_markers

COUNTER = "counter"

#: A 64-channel 10-10 montage (standard names the simulator knows).
CH64 = (
    "Fp1 Fpz Fp2 AF7 AF3 AFz AF4 AF8 F7 F5 F3 F1 Fz F2 F4 F6 F8 FT7 FC5 FC3 FC1 FCz FC2 FC4 "
    "FC6 FT8 T7 C5 C3 C1 Cz C2 C4 C6 T8 TP7 CP5 CP3 CP1 CPz CP2 CP4 CP6 TP8 P9 P7 P5 P3 P1 Pz "
    "P2 P4 P6 P8 P10 PO7 PO3 POz PO4 PO8 O1 Oz O2 Iz"
).split()
assert len(CH64) == 64


def with_counter_info(info: SourceInfo) -> SourceInfo:
    """``info`` plus a trailing ``counter`` misc channel."""
    return SourceInfo(
        name=info.name,
        ch_names=(*info.ch_names, COUNTER),
        ch_types=(*info.ch_types, "misc"),
        sfreq=info.sfreq,
        units=(*info.units, "count"),
        source_id=info.source_id,
    )


class LoopingCounterSource(Source):
    """A finite ``Source`` that loops a recording for ``total`` samples, plus a counter row.

    Memory stays that of one loop of the recording however long the replay is, which is
    what a soak of an hour of signal needs. Markers of the recording repeat every loop.

    Parameters
    ----------
    recording : Recording
        One loop of signal (EEG rows in volts) and its markers.
    total : int
        Samples to deliver before ``ended``.
    first : int
        Counter value of the first sample (to resume a stream where another left off).
    """

    def __init__(self, recording: Recording, total: int, *, first: int = 0) -> None:
        self.recording = recording
        self.total = int(total)
        self._info = with_counter_info(recording.info)
        self._pos = int(first)
        self._end = int(first) + self.total
        self._marker_done = int(first)
        self._closed = False

    @property
    def info(self) -> SourceInfo:
        return self._info

    @property
    def ended(self) -> bool:
        return self._pos >= self._end

    def pull(self, max_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        n = 32 if max_samples is None else max(0, int(max_samples))
        stop = min(self._pos + n, self._end)
        if stop <= self._pos:
            return empty_chunk(self._info.n_channels)
        idx = np.arange(self._pos, stop)
        loop_len = self.recording.n_samples
        data = np.empty((self._info.n_channels, idx.size))
        data[:-1] = self.recording.data[:, idx % loop_len]
        data[-1] = idx
        self._pos = stop
        return data, idx / self.recording.sfreq

    def pull_markers(self) -> tuple[np.ndarray, list[str]]:
        rec = self.recording
        if rec.marker_samples.size == 0 or self._marker_done >= self._pos:
            self._marker_done = self._pos
            return empty_markers()
        loop_len = rec.n_samples
        stamps, labels = [], []
        first_loop, last_loop = self._marker_done // loop_len, (self._pos - 1) // loop_len
        for loop in range(first_loop, last_loop + 1):
            pos = loop * loop_len + rec.marker_samples
            keep = (pos >= self._marker_done) & (pos < self._pos)
            stamps.extend((pos[keep] / rec.sfreq).tolist())
            labels.extend(rec.marker_labels[i] for i in np.flatnonzero(keep))
        self._marker_done = self._pos
        return np.asarray(stamps, dtype=np.float64), labels

    def close(self) -> None:
        self._closed = True


class CounterTap(Source):
    """Wrap a live source: strip its ``counter`` row, book the counter values received.

    Attributes
    ----------
    received : int
        Samples pulled.
    missing : int
        Counter values skipped between consecutive samples (lost samples).
    backwards : int
        Times the counter did not increase (duplicated or reordered samples).
    last : float
        Last counter value (nan before the first).
    """

    def __init__(self, source: Source, *, keep: bool = False) -> None:
        self.source = source
        self.keep = keep
        self.values: list[np.ndarray] = []
        self.received = 0
        self.missing = 0
        self.backwards = 0
        self.last = float("nan")
        self._refresh_info()

    def _refresh_info(self) -> None:
        full = self.source.info
        self._full_names = full.ch_names
        self._index = full.ch_names.index(COUNTER)
        rows = [i for i in range(full.n_channels) if i != self._index]
        self._rows = np.array(rows)
        self._info = SourceInfo(
            name=full.name,
            ch_names=tuple(full.ch_names[i] for i in rows),
            ch_types=tuple(full.ch_types[i] for i in rows),
            sfreq=full.sfreq,
            units=tuple(full.units[i] for i in rows),
            source_id=full.source_id,
        )

    @property
    def info(self) -> SourceInfo:
        return self._info

    @property
    def ended(self) -> bool:
        return self.source.ended

    @property
    def health(self) -> StreamHealth | None:
        return self.source.health

    def conditions(self) -> list[StreamEvent]:
        return self.source.conditions()

    def pull(self, max_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        data, ts = self.source.pull(max_samples)
        if ts.size == 0:
            return np.empty((self._info.n_channels, 0)), ts
        counter = data[self._index].copy()
        self.book(counter)
        return data[self._rows], ts

    def book(self, counter: np.ndarray) -> None:
        if self.keep:
            self.values.append(counter)
        steps = (
            np.diff(np.concatenate(([self.last], counter))) if self.received else np.diff(counter)
        )
        self.missing += int(np.sum(np.clip(steps[steps > 1] - 1, 0, None)))
        self.backwards += int(np.count_nonzero(steps < 1))
        self.received += counter.size
        self.last = float(counter[-1])

    def counter_values(self) -> np.ndarray:
        return np.concatenate(self.values) if self.values else np.empty(0)

    def pull_markers(self) -> tuple[np.ndarray, list[str]]:
        return self.source.pull_markers()

    def close(self) -> None:
        self.source.close()


def poll(condition: Callable[[], bool], timeout: float, step: Callable[[], object] | None = None):
    """Call ``step`` then check ``condition`` until true or ``timeout``; return the result."""
    deadline = time.monotonic() + timeout
    while True:
        if step is not None:
            step()
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)  # pacing the poll loop, not a wait for data


def vmrss_kib() -> int:
    """Resident set size of this process in KiB, from ``/proc/self/status``."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
