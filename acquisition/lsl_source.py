"""Read EEG and string markers from Lab Streaming Layer, surviving drop-outs.

:class:`LSLSource` is a ``Source`` (see :mod:`acquisition.source`) over an LSL inlet:

- found by name, type and/or source id; when nothing matches,
  :class:`~acquisition.errors.StreamNotFoundError` lists the streams that *are* visible;
- channel labels, types and units from ``desc/channels`` (:mod:`acquisition.lsl_metadata`),
  values converted to float64 volts;
- a bounded inlet buffer (``max_buffer_seconds``): a consumer that falls further behind
  loses the oldest samples, which shows as a ``gap`` condition, never as minutes of lag;
- health (:attr:`LSLSource.health`) and conditions (:meth:`LSLSource.conditions`) for the
  GUI and the logs;
- recovery: when the stream disappears the source keeps answering ``pull`` (with no data),
  reports ``lost``, looks for a stream with the same name (any source id) in the
  background, and reports ``restored`` with the gap when it comes back. A stream that comes
  back with another channel count, rate, format or channel labels is refused with
  :class:`~acquisition.errors.StreamChangedError` on every further ``pull``.

``pull`` never blocks for more than a few milliseconds (except while reconnecting, bounded
by ``connect_timeout``), so a GUI can call it at 60 Hz.

Conditions (:class:`~acquisition.source.StreamEvent` kinds): ``gap`` (samples missing in
the timestamps), ``stalled`` (no data for ``stall_seconds``), ``resumed`` (data again after a stall), ``lost``, ``restored``,
``nonfinite`` (NaN/Inf values passed on), ``timestamp_jump``, ``marker_lost``,
``marker_restored``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pylsl

from acquisition import limits
from acquisition.dejitter import Dejitterer
from acquisition.errors import StreamChangedError, StreamNotFoundError
from acquisition.health import HealthTracker, StreamHealth
from acquisition.lsl_metadata import read_channel_metadata
from acquisition.source import (
    EventLimiter,
    Source,
    SourceInfo,
    StreamEvent,
    empty_chunk,
    empty_markers,
    nonfinite_event,
)

_NUMPY_DTYPES = {
    pylsl.cf_float32: np.float32,
    pylsl.cf_double64: np.float64,
    pylsl.cf_int8: np.int8,
    pylsl.cf_int16: np.int16,
    pylsl.cf_int32: np.int32,
    pylsl.cf_int64: np.int64,
}
_FORMAT_NAMES = {
    pylsl.cf_float32: "float32",
    pylsl.cf_double64: "double64",
    pylsl.cf_string: "string",
    pylsl.cf_int8: "int8",
    pylsl.cf_int16: "int16",
    pylsl.cf_int32: "int32",
    pylsl.cf_int64: "int64",
}

#: Seconds between two looks at the background resolver while a stream is stalled or lost.
_POLL_INTERVAL = 0.2
#: Seconds between two looks at the resolvers while waiting for a stream to appear.
_RESOLVE_SLICE = 0.05


@dataclass(frozen=True)
class StreamDescription:
    """One visible LSL stream, as listed by :func:`list_streams`."""

    name: str
    stype: str
    n_channels: int
    sfreq: float
    source_id: str
    channel_format: str
    hostname: str
    uid: str

    def describe(self) -> str:
        """One line: name, type, channels, rate, source id."""
        rate = "irregular" if self.sfreq == 0 else f"{self.sfreq:g} Hz"
        return (
            f"{self.name!r} (type {self.stype!r}, {self.n_channels} ch, {rate}, "
            f"{self.channel_format}, source_id {self.source_id!r})"
        )


def _describe(info: pylsl.StreamInfo) -> StreamDescription:
    return StreamDescription(
        name=info.name(),
        stype=info.type(),
        n_channels=info.channel_count(),
        sfreq=float(info.nominal_srate()),
        source_id=info.source_id(),
        channel_format=_FORMAT_NAMES.get(info.channel_format(), str(info.channel_format())),
        hostname=info.hostname(),
        uid=info.uid(),
    )


def list_streams(timeout: float = 1.0) -> list[StreamDescription]:
    """Return every LSL stream visible from this machine within ``timeout`` seconds."""
    return [_describe(i) for i in pylsl.resolve_streams(wait_time=float(timeout))]


def _quote(value: str) -> str:
    # XPath 1.0 has no escapes: pick the quote the value does not contain.
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise StreamNotFoundError(f"stream query value {value!r} contains both quote kinds; rename it")


def build_query(
    name: str | None = None, stype: str | None = None, source_id: str | None = None
) -> str:
    """Return the XPath predicate matching ``name``, ``stype`` and ``source_id`` (all given)."""
    parts = [
        f"{key}={_quote(value)}"
        for key, value in (("name", name), ("type", stype), ("source_id", source_id))
        if value
    ]
    if not parts:
        raise StreamNotFoundError("give a stream name, type or source_id to look for")
    return " and ".join(parts)


def resolve_stream(
    *,
    name: str | None = None,
    stype: str | None = None,
    source_id: str | None = None,
    timeout: float = 5.0,
) -> pylsl.StreamInfo:
    """Find one stream matching all the given fields within ``timeout`` seconds.

    Waits in short slices (liblsl's background resolvers, polled every 50 ms), so Ctrl-C
    and SIGTERM interrupt the wait at once (a single blocking ``resolve_bypred`` call
    held them for the whole timeout), and the streams listed when nothing matches are
    gathered during the same wait: "within 10 s" takes 10 s, not 10 plus a listing.

    Raises
    ------
    StreamNotFoundError
        Nothing matched; the message lists the streams that are visible.
    """
    query = build_query(name, stype, source_id)
    matching = pylsl.ContinuousResolver(pred=query, forget_after=max(5.0, float(timeout)))
    everything = pylsl.ContinuousResolver(forget_after=max(5.0, float(timeout)))
    deadline = time.monotonic() + float(timeout)
    while True:
        found = matching.results()
        if found:
            # Several outlets may share a name; the newest is the one most likely alive.
            return max(found, key=lambda i: i.created_at())
        if time.monotonic() >= deadline:
            break
        time.sleep(_RESOLVE_SLICE)  # a signal interrupts this, unlike liblsl's own wait
    raise not_found_error(query, timeout, visible=[_describe(i) for i in everything.results()])


def not_found_error(
    query: str, timeout: float, visible: list[StreamDescription] | None = None
) -> StreamNotFoundError:
    """Return the error for "nothing matches ``query``", listing the visible streams.

    ``visible`` are the streams already seen while waiting; None looks for 1 s.
    """
    if visible is None:
        visible = list_streams(timeout=1.0)
    listing = "; ".join(d.describe() for d in visible) or "none"
    return StreamNotFoundError(
        f"no LSL stream matching {query} within {timeout:g} s. Visible streams: {listing}. "
        "Check the name (--stream) and that the sender is running on this network."
    )


class _Rediscovery:
    """Watch for a stream matching ``query`` in liblsl's background resolver (non-blocking)."""

    def __init__(self, query: str, started: float) -> None:
        self.started = started
        self._resolver = pylsl.ContinuousResolver(pred=query, forget_after=2.0)
        self._next_poll = 0.0

    def poll(self, now: float) -> list[pylsl.StreamInfo] | None:
        """Return the visible matches, or None when it is too early to look again."""
        if now < self._next_poll:
            return None
        self._next_poll = now + _POLL_INTERVAL
        return self._resolver.results()

    def close(self) -> None:
        self._resolver = None


class MarkerInlet:
    """String markers from an LSL marker stream, surviving the stream's disappearance.

    Numeric marker streams are accepted: values become strings (``2.0`` -> ``"2"``).

    Parameters
    ----------
    name, stype, source_id : str, optional
        What to look for (all given fields must match).
    timeout : float
        Seconds to wait for the stream at construction.
    recover : bool
        Look for the stream again (same name) after it disappears.
    sync_clock : bool
        Estimate the clock offset before opening the stream (up to 2 s per connection),
        so no later pull blocks for it: otherwise the first pull that returns markers
        waits (~0.6 s) for that estimate, and whoever reacts to the markers reacts late.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        stype: str | None = None,
        source_id: str | None = None,
        timeout: float = 5.0,
        recover: bool = True,
        sync_clock: bool = False,
    ) -> None:
        self._sync_clock = bool(sync_clock)
        info = resolve_stream(name=name, stype=stype, source_id=source_id, timeout=timeout)
        self.name = info.name()
        self._query = build_query(info.name(), stype, source_id)
        self._recover = recover
        self._timeout = float(timeout)
        self._conditions: list[StreamEvent] = []
        self._rediscovery: _Rediscovery | None = None
        self._lost_uid = ""
        self._inlet: pylsl.StreamInlet | None = None
        self._connect(info)

    def _connect(self, info: pylsl.StreamInfo) -> None:
        self._numeric = info.channel_format() != pylsl.cf_string
        self._uid = info.uid()
        self._inlet = pylsl.StreamInlet(
            info, max_buflen=360, recover=False, processing_flags=pylsl.proc_clocksync
        )
        if self._sync_clock:
            try:
                self._inlet.time_correction(timeout=2.0)
            except pylsl.util.TimeoutError:
                pass  # the first pull with data will wait for it instead
        self._inlet.open_stream(timeout=min(self._timeout, 2.0))

    def conditions(self) -> list[StreamEvent]:
        """Return and forget the ``marker_lost`` / ``marker_restored`` conditions seen."""
        out, self._conditions = self._conditions, []
        return out

    @property
    def connected(self) -> bool:
        """True while an inlet is open on the marker stream."""
        return self._inlet is not None

    def pull_markers(self) -> tuple[np.ndarray, list[str]]:
        """Return the markers received since the last call as ``(timestamps, labels)``."""
        if self._inlet is None:
            self._try_reconnect()
            if self._inlet is None:
                return empty_markers()
        try:
            samples, stamps = self._inlet.pull_chunk(timeout=0.0, max_samples=4096)
        except pylsl.util.LostError:
            self._lose()
            return empty_markers()
        if not stamps:
            return empty_markers()
        labels = [_marker_text(s[0]) for s in samples]
        return np.asarray(stamps, dtype=np.float64), labels

    def _lose(self) -> None:
        now = pylsl.local_clock()
        self._close_inlet()
        self._lost_uid = self._uid
        self._conditions.append(
            StreamEvent("marker_lost", f"marker stream {self.name!r} disappeared", now)
        )
        if self._recover:
            self._rediscovery = _Rediscovery(self._query, now)

    def _try_reconnect(self) -> None:
        if self._rediscovery is None:
            return
        now = pylsl.local_clock()
        found = self._rediscovery.poll(now)
        fresh = [i for i in (found or []) if i.uid() != self._lost_uid]
        if not fresh:
            return
        self._connect(max(fresh, key=lambda i: i.created_at()))
        lost_for = now - self._rediscovery.started
        self._rediscovery.close()
        self._rediscovery = None
        self._conditions.append(
            StreamEvent(
                "marker_restored",
                f"marker stream {self.name!r} is back after {lost_for:.1f} s; markers sent "
                "meanwhile are missing",
                now,
                seconds=lost_for,
            )
        )

    def _close_inlet(self) -> None:
        if self._inlet is not None:
            try:
                self._inlet.close_stream()
            except Exception:
                pass
            self._inlet = None

    def close(self) -> None:
        """Close the inlet and stop looking for the stream."""
        self._close_inlet()
        if self._rediscovery is not None:
            self._rediscovery.close()
            self._rediscovery = None

    def __enter__(self) -> MarkerInlet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _marker_text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class LSLSource(Source):
    """A live EEG stream from LSL, as a ``Source`` with health and recovery.

    Parameters
    ----------
    name, stype, source_id : str, optional
        What to look for; every given field must match. At least one is required.
    timeout : float
        Seconds to wait for the stream when opening.
    marker_name : str, optional
        Also read this marker stream; its markers come from :meth:`pull_markers`.
    max_buffer_seconds : float
        Seconds of data liblsl keeps for this consumer (of stream time, i.e. divided by the
        replay speed a :class:`~acquisition.player.Player` declares). Older samples are
        dropped and reported as a ``gap``.
    recover : bool
        Look for the stream again when it disappears (else it stays ``lost``).
    stall_seconds : float
        No data for this long: ``stalled``; if the stream is also no longer visible, ``lost``.
    dejitter : bool
        Smooth the timestamps (segment-wise, restarting at every gap and jump).
    jitter_tolerance : float
        How much later than recent clean chunks timestamps may come before samples count as
        missing (see :class:`~acquisition.health.HealthTracker`). The default 60 ms holds
        chunked amplifiers' +/-50 ms jitter (measured: no false loss in 5 x 60 s of it);
        a loss shorter than about twice the jitter may then go unseen.
    connect_timeout : float
        Bound, in seconds, on the blocking steps of a reconnection done inside ``pull``.
    wait_for_original : bool
        A stream of the same name that comes back with other channels, rate or units is
        refused (:class:`~acquisition.errors.StreamChangedError` on every further
        ``pull``: the consumer ends). With True it is passed over instead (one
        ``changed`` event) and the source keeps waiting for a stream like the original.

    Attributes
    ----------
    info : SourceInfo
        Channel labels, types, units (``"V"`` for voltage channels), nominal rate, source id
        (updated when the stream comes back with a new source id).
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        stype: str | None = None,
        source_id: str | None = None,
        timeout: float = 5.0,
        marker_name: str | None = None,
        max_buffer_seconds: float = 10.0,
        recover: bool = True,
        stall_seconds: float = 2.0,
        dejitter: bool = True,
        jitter_tolerance: float = 0.06,
        connect_timeout: float = 2.0,
        wait_for_original: bool = False,
    ) -> None:
        resolved = resolve_stream(name=name, stype=stype, source_id=source_id, timeout=timeout)
        if resolved.channel_format() == pylsl.cf_string:
            raise StreamNotFoundError(
                f"stream {resolved.name()!r} carries strings (a marker stream), not EEG; "
                "open it with MarkerInlet or marker_name="
            )
        if resolved.nominal_srate() <= 0:
            raise StreamNotFoundError(
                f"stream {resolved.name()!r} has an irregular rate; an EEG source needs a "
                "nominal sampling rate"
            )
        # Re-find the stream by what identifies it to the user: a restart may change its id.
        self._query = build_query(resolved.name(), stype, source_id)
        self._recover = recover
        self._max_buffer_seconds = float(max_buffer_seconds)
        self._stall_seconds = float(stall_seconds)
        self._dejitter_enabled = dejitter
        self._jitter_tolerance = float(jitter_tolerance)
        self._connect_timeout = float(connect_timeout)
        self._wait_for_original = bool(wait_for_original)
        self._passed_over: set[str] = set()  # uids of streams that came back different
        # NaN arrives chunk after chunk: one event a second, with the count.
        self._limit = EventLimiter(1.0, kinds=("nonfinite",))
        self._conditions: list[StreamEvent] = []
        self._state = "ok"
        self._changed: str | None = None
        self._rediscovery: _Rediscovery | None = None
        self._inlet: pylsl.StreamInlet | None = None
        self._closed = False
        self._clock_offset = 0.0
        self._next_offset_query = 0.0
        self._lost_at = float("nan")
        self._lost_uid = ""
        self._pending_restore = False
        self._last_before_loss = float("nan")
        self._info: SourceInfo | None = None
        self._connect(resolved, first=True)
        self._markers = MarkerInlet(marker_name, timeout=timeout) if marker_name else None

    # ----------------------------------------------------------------- connection
    def _connect(self, resolved: pylsl.StreamInfo, *, first: bool) -> None:
        dtype = _NUMPY_DTYPES.get(resolved.channel_format())
        if dtype is None:
            raise StreamChangedError(
                f"stream {resolved.name()!r} has channel format "
                f"{_FORMAT_NAMES.get(resolved.channel_format())}; expected a numeric format"
            )
        timeout = 5.0 if first else self._connect_timeout
        probe = pylsl.StreamInlet(resolved, max_buflen=1, recover=False)
        try:
            full = probe.info(timeout=timeout)
        finally:
            probe.close_stream()
            del probe
        sfreq = limits.SFREQ.check(
            full.nominal_srate(), "nominal_srate", where=f"stream {full.name()!r}"
        )
        meta = read_channel_metadata(full)  # bounds channel_count and replay_speed
        info = SourceInfo(
            name=full.name(),
            ch_names=meta.ch_names,
            ch_types=meta.ch_types,
            sfreq=sfreq,
            units=meta.units,
            source_id=full.source_id(),
        )
        if not first:
            self._check_same(info, full)
        speed = meta.replay_speed
        # max_buflen counts seconds at the nominal rate; a replay at 10x fills it 10x faster.
        buflen = max(1, math.ceil(self._max_buffer_seconds * speed))
        inlet = pylsl.StreamInlet(
            resolved,
            max_buflen=buflen,
            recover=False,
            processing_flags=pylsl.proc_clocksync,
        )
        inlet.open_stream(timeout=timeout)
        opened = pylsl.local_clock()
        if first:
            # The first clock-offset estimate takes ~0.6 s; get it now rather than holding
            # back the first samples (measured: 640 ms latency for the first 250 samples).
            try:
                self._clock_offset = float(inlet.time_correction(timeout=timeout))
            except Exception:
                pass
        self._inlet = inlet
        self._uid = resolved.uid()
        self._dtype = dtype
        self._scales = meta.scales[:, None]
        self._capacity = max(1, math.ceil(buflen * sfreq))
        limits.check_buffer(
            self._capacity, info.n_channels, "the stream's buffer (rate x replay speed)"
        )
        self._buffer = np.empty((self._capacity, info.n_channels), dtype=dtype)
        self._info = info
        self._speed = speed
        if first:
            self._tracker = HealthTracker(
                sfreq,
                time_scale=speed,
                jitter_tolerance=self._jitter_tolerance,
                start_time=opened,
            )
        else:
            self._tracker.break_continuity()
        self._dejitter = Dejitterer(sfreq * speed)
        self._last_data = pylsl.local_clock()
        self._next_offset_query = 0.0

    def _check_same(self, new: SourceInfo, full: pylsl.StreamInfo) -> None:
        old = self._info
        diffs = []
        if new.n_channels != old.n_channels:
            diffs.append(f"{old.n_channels} -> {new.n_channels} channels")
        if new.sfreq != old.sfreq:
            diffs.append(f"rate {old.sfreq:g} -> {new.sfreq:g} Hz")
        elif new.n_channels == old.n_channels and new.ch_names != old.ch_names:
            changed = [
                f"{a}->{b}" for a, b in zip(old.ch_names, new.ch_names, strict=True) if a != b
            ]
            diffs.append("channel labels " + ", ".join(changed[:5]))
        if new.n_channels == old.n_channels and new.units != old.units:
            diffs.append(f"units {old.units} -> {new.units}")
        if diffs:
            came = (
                f"stream {old.name!r} came back (source_id {full.source_id()!r}) with "
                f"{'; '.join(diffs)}"
            )
            if self._wait_for_original:
                raise StreamChangedError(f"{came}; waiting for the original stream to return")
            self._changed = (
                f"{came}; refusing to continue: restart the consumer (and retrain or pick "
                "another model) for the new stream, or pass --wait to wait for the original"
            )
            raise StreamChangedError(self._changed)

    def _lose(self, now: float, why: str) -> None:
        self._close_inlet()
        self._state = "lost"
        self._lost_at = now
        self._lost_uid = self._uid
        self._last_before_loss = self._tracker.last_timestamp
        self._pending_restore = True
        self._dejitter.reset()
        self._conditions.append(StreamEvent("lost", f"stream {self._info.name!r} lost: {why}", now))
        if self._recover and self._rediscovery is None:
            self._rediscovery = _Rediscovery(self._query, now)

    def _close_inlet(self) -> None:
        if self._inlet is not None:
            try:
                self._inlet.close_stream()
            except Exception:
                pass
            self._inlet = None

    def _watch(self, now: float) -> None:
        """While stalled or lost, look at the background resolver (rate-limited, non-blocking)."""
        if self._rediscovery is None:
            return
        found = self._rediscovery.poll(now)
        if found is None:
            return
        if self._state == "stalled":
            # Give the resolver a moment to see what is there before concluding anything.
            if now - self._rediscovery.started < 2.5:
                return
            if any(i.uid() == self._uid for i in found):
                return
            self._lose(now, f"no data for {now - self._last_data:.1f} s and no longer visible")
            return
        fresh = [i for i in found if i.uid() not in (self._lost_uid, *self._passed_over)]
        if not fresh:
            return
        newest = max(fresh, key=lambda i: i.created_at())
        try:
            self._connect(newest, first=False)
        except StreamChangedError as exc:
            if not self._wait_for_original:
                raise
            self._passed_over.add(newest.uid())
            self._conditions.append(StreamEvent("changed", str(exc), now))
            return
        self._rediscovery.close()
        self._rediscovery = None
        self._state = "ok"

    # ----------------------------------------------------------------- Source API
    @property
    def info(self) -> SourceInfo:
        """Channel names, types, units, nominal rate and source id of the stream."""
        return self._info

    @property
    def ended(self) -> bool:
        """Always False: a live stream does not end (it may be ``lost``; see ``health``)."""
        return False

    @property
    def state(self) -> str:
        """``"ok"``, ``"stalled"`` or ``"lost"``."""
        return self._state

    @property
    def health(self) -> StreamHealth:
        """Current :class:`~acquisition.health.StreamHealth` of the stream."""
        return self._tracker.snapshot(
            pylsl.local_clock(), clock_offset=self._clock_offset, state=self._state
        )

    def conditions(self) -> list[StreamEvent]:
        """Return and forget the conditions reported since the last call (markers' included)."""
        out, self._conditions = self._conditions, []
        if self._markers is not None:
            out.extend(self._markers.conditions())
        return self._limit(sorted(out, key=lambda c: c.time))

    def pull(self, max_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return what has arrived: ``(data float64 (n_channels, n), timestamps (n,))``.

        Non-blocking. Returns zero samples while nothing is there, while the stream is
        stalled or lost (see :meth:`conditions`).

        Raises
        ------
        StreamChangedError
            The stream came back with another channel count, rate or labels.
        """
        if self._closed:
            raise RuntimeError(f"LSL source {self._info.name!r} is closed; open a new one")
        if self._changed:
            raise StreamChangedError(self._changed)
        now = pylsl.local_clock()
        if self._inlet is None:
            self._watch(now)
            if self._inlet is None:
                return empty_chunk(self._info.n_channels)
        limit = (
            self._capacity if max_samples is None else max(0, min(int(max_samples), self._capacity))
        )
        if limit == 0:
            return empty_chunk(self._info.n_channels)
        try:
            view, stamps = self._inlet.pull_chunk(
                timeout=0.0, max_samples=limit, dest_obj=self._buffer, as_numpy=True
            )
        except pylsl.util.LostError:
            self._lose(now, "the sender closed the connection")
            return empty_chunk(self._info.n_channels)
        n = len(stamps)
        if n == 0:
            self._check_stall(now)
            return empty_chunk(self._info.n_channels)
        return self._accept(view[:n], np.asarray(stamps, dtype=np.float64), now)

    def _check_stall(self, now: float) -> None:
        silent = now - self._last_data
        if self._state == "ok" and silent > self._stall_seconds:
            self._state = "stalled"
            self._conditions.append(
                StreamEvent(
                    "stalled",
                    f"stream {self._info.name!r}: no data for {silent:.1f} s",
                    now,
                    seconds=silent,
                )
            )
            if self._rediscovery is None:
                self._rediscovery = _Rediscovery(self._query, now)
        elif self._state == "stalled":
            self._watch(now)

    def _accept(
        self, raw: np.ndarray, stamps: np.ndarray, now: float
    ) -> tuple[np.ndarray, np.ndarray]:
        name = self._info.name
        if self._state == "stalled":
            silent = now - self._last_data
            self._state = "ok"
            if self._rediscovery is not None:
                self._rediscovery.close()
                self._rediscovery = None
            self._conditions.append(
                StreamEvent(
                    "resumed", f"stream {name!r}: data again after {silent:.1f} s", now, silent
                )
            )
        if self._pending_restore:
            self._pending_restore = False
            gap = float(stamps[0] - self._last_before_loss)
            down = now - self._lost_at
            missing = (
                max(round(gap * self._info.sfreq * self._speed) - 1, 0) if math.isfinite(gap) else 0
            )
            self._conditions.append(
                StreamEvent(
                    "restored",
                    f"stream {name!r} restored (source_id {self._info.source_id!r}) after "
                    f"{down:.1f} s; timestamp gap {gap:.3f} s, about {missing} samples never "
                    "received",
                    now,
                    seconds=gap,
                    samples=missing,
                )
            )
        self._last_data = now
        events = self._tracker.update(stamps, now)
        times = self._smooth(stamps, [ev.index for ev in events])
        for ev in events:
            if ev.kind == "gap":
                message = (
                    f"stream {name!r}: {ev.samples} samples missing ({ev.seconds:.3f} s gap "
                    f"at t={ev.timestamp:.3f})"
                )
            else:
                message = (
                    f"stream {name!r}: timestamps jumped by {ev.seconds:+.3f} s at "
                    f"t={ev.timestamp:.3f}"
                )
            # The timestamp as pull returns it, so a consumer finds the sample exactly.
            at = float(times[ev.index])
            self._conditions.append(
                StreamEvent(ev.kind, message, now, ev.seconds, ev.samples, timestamp=at)
            )
        data = raw.T.astype(np.float64)
        data *= self._scales
        bad = nonfinite_event(self._info, data)
        if bad is not None:
            self._conditions.append(bad)
        if now >= self._next_offset_query:
            self._next_offset_query = now + 5.0
            try:
                self._clock_offset = float(self._inlet.time_correction(timeout=0.0))
            except Exception:
                pass
        return data, times

    def _smooth(self, stamps: np.ndarray, breaks: list[int]) -> np.ndarray:
        if not self._dejitter_enabled:
            return stamps
        # A fit across a gap or jump would smear it: each piece starts a new segment.
        pieces = []
        start = 0
        for cut in [*breaks, stamps.size]:
            if cut > start:
                pieces.append(self._dejitter.process(stamps[start:cut]))
            if cut < stamps.size:
                self._dejitter.reset()
            start = cut
        return np.concatenate(pieces) if pieces else stamps

    def pull_markers(self) -> tuple[np.ndarray, list[str]]:
        """Markers of the attached marker stream since the last call (empty without one)."""
        if self._markers is None:
            return empty_markers()
        return self._markers.pull_markers()

    def close(self) -> None:
        """Close the inlets and stop looking for the streams."""
        self._closed = True
        self._close_inlet()
        if self._rediscovery is not None:
            self._rediscovery.close()
            self._rediscovery = None
        if self._markers is not None:
            self._markers.close()


__all__ = [
    "LSLSource",
    "MarkerInlet",
    "StreamDescription",
    "build_query",
    "list_streams",
    "not_found_error",
    "resolve_stream",
]
