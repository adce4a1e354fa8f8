"""Stream health: effective rate, dropped samples, timestamp jumps, lag; pure, no LSL.

:class:`HealthTracker` is fed the timestamps of every chunk a live source receives (and the
wall-clock time it received them) and keeps the figures the GUI and the logs show as a
:class:`StreamHealth`. It also classifies discontinuities in the timestamps:

- a **gap**: the next timestamp is later than one sample period plus a tolerance; the
  samples in between were dropped (an overflowing buffer, a stream that stopped producing);
- a **timestamp jump**: the timestamps went backwards by more than ``back_tolerance``, or
  forwards by more than ``jump_seconds`` while much less wall-clock time passed (a clock
  reset on the sender), which is not lost data and must not be counted as such.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

#: Values of :attr:`StreamHealth.state`.
STATES = ("ok", "stalled", "lost")


@dataclass(frozen=True)
class StreamHealth:
    """A snapshot of how a live stream is doing.

    Parameters
    ----------
    nominal_rate : float
        The rate the stream declares, in Hz.
    effective_rate : float
        Samples received per wall-clock second over the last ``window_seconds``
        (10 x ``nominal_rate`` for a replay at ten times real time).
    samples_received : int
        Samples received since the source was opened (all reconnections included).
    dropped_samples : int
        Samples missing according to the timestamps (gaps against the nominal period).
    clock_offset : float
        Last LSL clock correction of the sender against this machine, in seconds.
    lag_seconds : float
        How far behind live the consumer is: local clock minus the last timestamp pulled.
        ``nan`` before the first sample.
    last_timestamp : float
        Timestamp of the last sample pulled (``nan`` before the first).
    state : str
        ``"ok"``, ``"stalled"`` (no data for a while, stream still visible) or ``"lost"``.
    gaps : int
        Number of gaps seen.
    timestamp_jumps : int
        Number of timestamp jumps seen.
    """

    nominal_rate: float
    effective_rate: float = 0.0
    samples_received: int = 0
    dropped_samples: int = 0
    clock_offset: float = 0.0
    lag_seconds: float = float("nan")
    last_timestamp: float = float("nan")
    state: str = "ok"
    gaps: int = 0
    timestamp_jumps: int = 0


@dataclass(frozen=True)
class TimestampEvent:
    """A discontinuity found in the timestamps of a chunk.

    Parameters
    ----------
    kind : str
        ``"gap"`` or ``"timestamp_jump"``.
    timestamp : float
        Timestamp of the first sample after the discontinuity.
    seconds : float
        Size of the discontinuity in seconds (negative for a backward jump).
    samples : int
        Samples missing (gaps only; 0 for jumps).
    index : int
        Position, in the chunk, of the first sample after the discontinuity.
    """

    kind: str
    timestamp: float
    seconds: float
    samples: int = 0
    index: int = 0


class HealthTracker:
    """Keep the health figures of one stream up to date from the timestamps it delivers.

    Parameters
    ----------
    nominal_rate : float
        Declared rate in Hz (> 0).
    time_scale : float
        How much faster than real time the timestamps advance per sample: 10 for a replay
        at ten times real time, whose samples are ``1 / (10 * nominal_rate)`` apart.
    window_seconds : float
        Wall-clock window over which ``effective_rate`` is measured.
    jitter_tolerance : float
        Seconds a chunk's timestamps may stand later than any recent clean chunk (against
        the sample count) before the step into it counts as a gap: jitter below it is not
        a loss (real amplifiers deliver chunks with some jitter). See :meth:`_level`.
    back_tolerance : float
        A backward step larger than this, in seconds, is a timestamp jump; smaller ones are
        jitter.
    jump_seconds : float
        A forward step larger than this is a timestamp jump when less than half of it
        elapsed on the wall clock since the previous chunk; otherwise it is a gap.
    start_time : float, optional
        Wall-clock time from which data could arrive (the connection time); the rate is
        measured from it. Default: the arrival of the first chunk.
    """

    def __init__(
        self,
        nominal_rate: float,
        *,
        time_scale: float = 1.0,
        window_seconds: float = 5.0,
        jitter_tolerance: float = 0.02,
        back_tolerance: float = 0.1,
        jump_seconds: float = 30.0,
        start_time: float | None = None,
    ) -> None:
        if not (np.isfinite(nominal_rate) and nominal_rate > 0):
            raise ValueError(f"nominal_rate must be a positive number of Hz, got {nominal_rate!r}")
        if not (np.isfinite(time_scale) and time_scale > 0):
            raise ValueError(f"time_scale must be a positive number, got {time_scale!r}")
        self.nominal_rate = float(nominal_rate)
        self.time_scale = float(time_scale)
        self.period = 1.0 / (self.nominal_rate * self.time_scale)
        self.window_seconds = float(window_seconds)
        self.jitter_tolerance = float(jitter_tolerance)
        self.back_tolerance = float(back_tolerance)
        self.jump_seconds = float(jump_seconds)
        self.samples_received = 0
        self.dropped_samples = 0
        self.gaps = 0
        self.timestamp_jumps = 0
        self.last_timestamp = float("nan")
        self._count = 0  # samples counted in the current timestamp segment (+ missing ones)
        self._levels: deque[float] = deque(maxlen=25)
        self._last_arrival = float("nan")
        self._arrivals: deque[tuple[float, int]] = deque()
        self._first_arrival = float("nan") if start_time is None else float(start_time)

    def break_continuity(self) -> None:
        """Forget the previous timestamp (after a reconnection: its gap is reported elsewhere)."""
        self.last_timestamp = float("nan")
        self._count = 0
        self._levels.clear()

    def update(self, timestamps: np.ndarray, arrival: float) -> list[TimestampEvent]:
        """Account for one chunk and return the discontinuities it contains.

        Parameters
        ----------
        timestamps : ndarray, shape (n,)
            Timestamps of the chunk, in seconds, as received (not dejittered).
        arrival : float
            Wall-clock (``local_clock``) time at which the chunk was received.

        Returns
        -------
        list of TimestampEvent
            Gaps and jumps, in order, including the one between the previous chunk and this.
        """
        ts = np.asarray(timestamps, dtype=np.float64).reshape(-1)
        if ts.size == 0:
            return []
        if not np.isfinite(self._first_arrival):
            self._first_arrival = arrival
        self._arrivals.append((arrival, ts.size))
        self.samples_received += ts.size
        events = self._discontinuities(ts, arrival)
        self.last_timestamp = float(ts[-1])
        self._last_arrival = arrival
        return events

    def _discontinuities(self, ts: np.ndarray, arrival: float) -> list[TimestampEvent]:
        has_prev = bool(np.isfinite(self.last_timestamp))
        # steps[i] leads into after[i]; with a previous chunk, steps[0] crosses chunks.
        if has_prev:
            steps = np.diff(np.concatenate(([self.last_timestamp], ts)))
            first = 0
        else:
            steps = np.diff(ts)
            first = 1
        gap_limit = self.period + max(self.period, self.jitter_tolerance)
        suspicious = np.flatnonzero((steps > gap_limit) | (steps < -self.back_tolerance))
        # Where each sample "should" be from the samples counted so far: a loss shifts the
        # timestamps for good, jitter only around their level (see _level).
        count = self._count + np.arange(ts.size)
        events = []
        shift = np.zeros(ts.size)  # samples declared missing before each sample
        segment = 0  # index where the current timestamp segment starts in this chunk
        for i in suspicious:
            pos = int(i) + first
            step = float(steps[i])
            # Only the step into this chunk can be compared with the wall clock.
            wall = arrival - self._last_arrival if (has_prev and i == 0) else 0.0
            if step < 0 or (step > self.jump_seconds and wall < step / 2):
                self.timestamp_jumps += 1
                events.append(TimestampEvent("timestamp_jump", float(ts[pos]), step, 0, pos))
                # A new clock: count and level start again from this sample.
                count[pos:] = np.arange(ts.size - pos)
                shift[pos:] = 0.0
                self._levels.clear()
                segment = pos
                continue
            offset = ts[pos] - (count[pos] + shift[pos]) * self.period
            if self._levels:
                latest, center = max(self._levels), self._level()
            else:
                # No history yet: the first sample of the segment is the reference.
                latest = center = ts[segment] - (count[segment] + shift[segment]) * self.period
            if offset - latest <= self.jitter_tolerance:
                continue  # no later than clean chunks have been, give or take: jitter
            missing = max(round((offset - center) / self.period), 1)
            self.gaps += 1
            self.dropped_samples += missing
            shift[pos:] += missing
            events.append(TimestampEvent("gap", float(ts[pos]), step, missing, pos))
        self._count = int(count[-1]) + 1 + int(shift[-1])
        expected = (count[segment:] + shift[segment:]) * self.period
        self._levels.append(float(np.median(ts[segment:] - expected)))
        return events

    def _level(self) -> float:
        """Where the timestamps sit against the sample count (mid-range of recent chunks).

        A clean stream's ``timestamp - count * period`` stays at one level; jitter moves
        single chunks around it and a loss moves every later sample up by what is missing.
        So a long step is a gap only when the samples after it stand later than any recent
        clean chunk by more than ``jitter_tolerance`` (a step that only makes up for an
        early chunk is not); the missing count is measured from the level's middle.
        """
        return 0.5 * (min(self._levels) + max(self._levels))

    def effective_rate(self, now: float) -> float:
        """Samples per wall-clock second received over the last ``window_seconds``."""
        while self._arrivals and self._arrivals[0][0] < now - self.window_seconds:
            self._arrivals.popleft()
        if not np.isfinite(self._first_arrival):
            return 0.0
        span = min(self.window_seconds, now - self._first_arrival)
        if span <= 0:
            return 0.0
        return sum(n for _, n in self._arrivals) / span

    def snapshot(self, now: float, *, clock_offset: float = 0.0, state: str = "ok") -> StreamHealth:
        """Return the current figures as a :class:`StreamHealth`.

        Parameters
        ----------
        now : float
            Current ``local_clock`` time (lag and rate are measured against it).
        clock_offset : float
            Sender clock correction in seconds.
        state : str
            One of :data:`STATES`.
        """
        if state not in STATES:
            raise ValueError(f"state must be one of {STATES}, got {state!r}")
        return StreamHealth(
            nominal_rate=self.nominal_rate,
            effective_rate=self.effective_rate(now),
            samples_received=self.samples_received,
            dropped_samples=self.dropped_samples,
            clock_offset=float(clock_offset),
            lag_seconds=now - self.last_timestamp,
            last_timestamp=self.last_timestamp,
            state=state,
            gaps=self.gaps,
            timestamp_jumps=self.timestamp_jumps,
        )
