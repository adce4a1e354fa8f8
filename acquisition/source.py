"""The ``Source`` protocol every EEG source implements, the metadata it carries, its events.

What a source must implement is in :class:`Source`; what it reports is a list of
:class:`StreamEvent` (the program's one event type) from :meth:`Source.conditions`.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import pylsl

from acquisition.health import StreamHealth


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


#: Kinds of :class:`StreamEvent` a source reports from :meth:`Source.conditions`.
SOURCE_EVENT_KINDS = (
    "gap",  # samples missing in the timestamps
    "timestamp_jump",  # the sender's clock jumped (not lost data)
    "stalled",  # no data for a while, the stream still visible
    "resumed",  # data again after a stall
    "lost",  # the stream disappeared
    "restored",  # it came back (maybe with a new source id)
    "nonfinite",  # NaN/Inf values passed on
    "marker_lost",  # the marker stream disappeared
    "marker_restored",  # it came back
    "changed",  # a stream of that name came back different (and is waited past)
)

#: Kinds a :class:`~bci.live_session.LiveSession` adds to its sources' events.
SESSION_EVENT_KINDS = (
    "ended",  # a finite source has delivered everything
    "error",  # pulling raised (a refused stream, a changed stream...)
    "behind",  # the classifier skipped stale windows to catch up
)

#: Every kind a :class:`StreamEvent` may have.
EVENT_KINDS = SOURCE_EVENT_KINDS + SESSION_EVENT_KINDS

#: Kinds that mean "the stream is not delivering"; a display shows a banner until a
#: ``resumed`` or ``restored`` event clears it.
TROUBLE_KINDS = ("stalled", "lost", "error")


@dataclass(frozen=True)
class StreamEvent:
    """Something that happened to a stream, reported once.

    The one event type of the program: sources return them from :meth:`Source.conditions`,
    :class:`~bci.live_session.LiveSession` passes them on (adding its own kinds) in
    ``LiveUpdate.events``, and the GUI and the logs show them.

    Parameters
    ----------
    kind : str
        One of :data:`EVENT_KINDS`.
    message : str
        A sentence for the user and the log, naming the stream and the figures.
    time : float
        ``pylsl.local_clock()`` when it was noticed (default: now).
    seconds : float
        Duration involved (gap length, jump size, time lost), ``nan`` when not applicable.
    samples : int
        Samples involved (missing samples, non-finite values), 0 when not applicable.
    timestamp : float
        Stream time of the first sample after a ``gap`` or ``timestamp_jump`` (``nan`` for
        the other kinds): where a consumer must not join the signal across.

    Raises
    ------
    ValueError
        ``kind`` is not one of :data:`EVENT_KINDS`.
    """

    kind: str
    message: str
    time: float = field(default_factory=pylsl.local_clock)
    seconds: float = float("nan")
    samples: int = 0
    timestamp: float = float("nan")

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(
                f"StreamEvent: kind {self.kind!r} is not one of {', '.join(EVENT_KINDS)}"
            )


@runtime_checkable
class Source(Protocol):
    """Anything that delivers EEG chunks and string markers: LSL, files, simulator, boards.

    A consumer (the player, the live session, the GUI) uses only these members and never
    probes a source with ``getattr``. An implementation subclasses ``Source`` explicitly:
    the members marked *required* are abstract; the others have the defaults given here.

    Required (abstract): ``info``, ``ended``, ``pull``, ``pull_markers``, ``close``.
    With defaults (override when the source has them): ``conditions`` (``[]``), ``health``
    (None), the context manager (``__exit__`` calls ``close``).

    Attributes
    ----------
    info : SourceInfo
        Required. Channel names, types, units, rate, source id.
    ended : bool
        Required. True once a finite source (a file) has delivered everything; always False
        for a live stream.
    health : StreamHealth or None
        Live figures (rate, drops, lag, state) of a live stream; None by default.

    Methods
    -------
    pull(max_samples=None)
        Required. ``(data, timestamps)``: ``data`` float64 ``(n_channels, n_samples)``, EEG
        rows in volts; ``timestamps`` float64 ``(n_samples,)`` in seconds, increasing; at
        most ``max_samples`` samples. When nothing is available, zero samples
        (:func:`empty_chunk`); it never blocks for long (a GUI calls it at 60 Hz).
    pull_markers()
        Required. The markers that arrived since the last call, ``(timestamps float64 (n,),
        list of n str)``; markers are always strings; :func:`empty_markers` when none.
    close()
        Required. Release the device, inlet or file; further pulls may raise.
    conditions()
        The :class:`StreamEvent` s (kinds :data:`SOURCE_EVENT_KINDS`) since the last call,
        each reported once; ``[]`` by default (a file, the simulator). The source is the
        *one* place that detects its gaps, stalls, losses and non-finite values (helpers:
        :class:`acquisition.health.HealthTracker`, :func:`nonfinite_event`); consumers act
        on the events and never detect them again.
    health
        Live health figures (:class:`acquisition.health.StreamHealth`); ``None`` by default.
    realtime
        True when the source produces samples at the pace of the clock (a device, a
        simulator in real-time mode); a player then never paces it again. False by default.
    rewind()
        Start again from the first sample and marker, returning True; ``False`` by default
        (a source that cannot, such as a device or a stream). Used by a looping replay.
    """

    #: The source delivers samples at the clock's pace itself (see the class docstring).
    realtime: bool = False

    @property
    @abstractmethod
    def info(self) -> SourceInfo:
        """Channel names, types, units, rate and source id."""

    @property
    @abstractmethod
    def ended(self) -> bool:
        """True once a finite source has delivered everything."""

    @abstractmethod
    def pull(self, max_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return the next ``(data, timestamps)``; zero samples when nothing is there."""

    @abstractmethod
    def pull_markers(self) -> tuple[np.ndarray, list[str]]:
        """Return the markers ``(timestamps, labels)`` that arrived since the last call."""

    @abstractmethod
    def close(self) -> None:
        """Release the source."""

    def conditions(self) -> list[StreamEvent]:
        """Return and forget the events since the last call (none by default)."""
        return []

    @property
    def health(self) -> StreamHealth | None:
        """Live health figures of the stream; None for a source without them."""
        return None

    def rewind(self) -> bool:
        """Start again from the first sample; False when the source cannot (the default)."""
        return False

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def nonfinite_event(info: SourceInfo, data: np.ndarray) -> StreamEvent | None:
    """The ``nonfinite`` event for a chunk holding NaN/Inf values, or None when it is clean.

    Parameters
    ----------
    info : SourceInfo
        The source's info (the message names the stream and the channels).
    data : ndarray, shape (n_channels, n_samples)
        The chunk about to be returned by ``pull``.
    """
    finite = np.isfinite(data)
    if finite.all():
        return None
    bad = int(finite.size - np.count_nonzero(finite))
    channels = [info.ch_names[i] for i in np.flatnonzero(~finite.all(axis=1))]
    return StreamEvent(
        "nonfinite",
        f"stream {info.name!r}: {bad} NaN/Inf values in a chunk of {data.shape[1]} samples, "
        f"channels {', '.join(channels[:8])}; passed on unchanged",
        samples=bad,
    )


#: Kinds that can repeat chunk after chunk; :class:`EventLimiter` folds them per second.
REPEATING_KINDS = ("gap", "timestamp_jump", "nonfinite", "behind")


class EventLimiter:
    """Fold repeating events into at most one per kind per ``interval`` seconds.

    Five seconds of NaN arrive as hundreds of chunks; a person (and a log) needs one line
    a second with a count, not one per chunk. The first event of a kind passes at once;
    the ones after it within ``interval`` are held and counted, and the next call after
    the interval returns one event that says how many there were (their samples and
    seconds summed, the first one's timestamp kept). State changes (lost, restored,
    stalled...) always pass. For *reporting*: consumers that act on each event (a
    pipeline restarting at a gap) use the events as the source gave them.

    Parameters
    ----------
    interval : float
        Seconds between two events of the same kind.
    kinds : tuple of str
        The kinds folded (default :data:`REPEATING_KINDS`).
    """

    def __init__(self, interval: float = 1.0, kinds: tuple[str, ...] = REPEATING_KINDS) -> None:
        self.interval = float(interval)
        self.kinds = tuple(kinds)
        self._last: dict[str, float] = {}
        self._held: dict[str, list[StreamEvent]] = {}

    def __call__(self, events: list[StreamEvent], now: float | None = None) -> list[StreamEvent]:
        """The events to report now (held ones flushed once their interval has passed)."""
        now = pylsl.local_clock() if now is None else float(now)
        out = []
        for ev in events:
            if ev.kind not in self.kinds:
                out.append(ev)
            elif now - self._last.get(ev.kind, -np.inf) >= self.interval and not self._held.get(
                ev.kind
            ):
                self._last[ev.kind] = now
                out.append(ev)
            else:
                self._held.setdefault(ev.kind, []).append(ev)
        for kind, held in list(self._held.items()):
            if held and now - self._last.get(kind, -np.inf) >= self.interval:
                self._last[kind] = now
                out.append(_folded(held, self.interval))
                self._held[kind] = []
        return out

    def flush(self) -> list[StreamEvent]:
        """Everything still held, folded (at the end of a session)."""
        out = [_folded(h, self.interval) for h in self._held.values() if h]
        self._held.clear()
        return out


def _folded(held: list[StreamEvent], interval: float) -> StreamEvent:
    first = held[0]
    if len(held) == 1:
        return first
    samples = sum(ev.samples for ev in held)
    seconds = (
        float(np.nansum([ev.seconds for ev in held]))
        if any(np.isfinite(ev.seconds) for ev in held)
        else float("nan")
    )
    return StreamEvent(
        first.kind,
        f"{len(held)} {first.kind} events in {interval:g} s ({samples} samples in all); "
        f"the first: {first.message}",
        held[-1].time,
        seconds,
        samples,
        timestamp=first.timestamp,
    )


def empty_chunk(n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``(data, timestamps)`` pair for "no samples available"."""
    return np.empty((n_channels, 0)), np.empty(0)


def empty_markers() -> tuple[np.ndarray, list[str]]:
    """Return the ``(timestamps, labels)`` pair for "no markers available"."""
    return np.empty(0), []
