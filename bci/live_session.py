"""Live classification: source -> pipeline -> timestamped probabilities (and an LSL outlet).

A :class:`LiveSession` is driven by calling :meth:`LiveSession.step` repeatedly (a Qt timer
in the window, a loop in headless mode). Each step pulls what the source has, pushes it
through the fitted pipeline, publishes any new probabilities on the LSL stream
``<publish_name>-probabilities`` and returns everything a display needs in a
:class:`LiveUpdate`. A step never waits for data and handles at most ``max_pull_seconds``
of signal, so a window driving it stays responsive even when a backlog arrives at once.

Latency is measured on the LSL clock: ``pylsl.local_clock()`` when a probability is
produced minus the timestamp of the last sample of its window. A display adds the time
to the screen with :meth:`LiveSession.record_screen_time`.

The session detects nothing about the stream itself: the source reports gaps, stalls,
losses and non-finite values as :class:`~acquisition.source.StreamEvent` s
(:meth:`~acquisition.source.Source.conditions`); the session passes them on, adds its own
(``ended``, ``error``, ``behind``) and acts on them (restarting classification at a gap,
a forward jump, a loss or a restore).
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pylsl

from acquisition.errors import AcquisitionError, StreamChangedError
from acquisition.health import StreamHealth
from acquisition.source import TROUBLE_KINDS, Source, StreamEvent
from bci.errors import BCIError
from bci.model_file import check_stream_compatible
from bci.pipeline import Pipeline
from bci.threads import limit_blas_threads
from models.errors import ModelError

__all__ = [
    "RESTART_GAP_SECONDS",
    "TROUBLE_KINDS",
    "LatencyTracker",
    "LiveSession",
    "LiveUpdate",
    "StreamEvent",
    "probability_outlet",
]

#: A gap or forward timestamp jump longer than this many seconds (or 5 samples, when
#: longer) restarts classification, so that no window spans a hole in the signal; shorter
#: ones (a dropped sample or two) are bridged.
RESTART_GAP_SECONDS = 0.1


@dataclass
class LiveUpdate:
    """What one :meth:`LiveSession.step` produced.

    Attributes
    ----------
    data : ndarray, shape (n_channels, n)
        New samples in volts (non-finite values already replaced).
    timestamps : ndarray, shape (n,)
        Their LSL timestamps.
    prob_times : ndarray, shape (k,)
        Timestamp of the last sample of each classified window.
    probabilities : ndarray, shape (k, n_classes)
        Class probabilities, columns in ``LiveSession.classes`` order.
    marker_times : ndarray, shape (m,)
        Timestamps of new markers.
    markers : list of str
        The new markers.
    events : list of StreamEvent
        The source's conditions and the session's own events of this step.
    now : float
        ``pylsl.local_clock()`` at the end of the step.
    """

    data: np.ndarray
    timestamps: np.ndarray
    prob_times: np.ndarray
    probabilities: np.ndarray
    marker_times: np.ndarray = field(default_factory=lambda: np.empty(0))
    markers: list[str] = field(default_factory=list)
    events: list[StreamEvent] = field(default_factory=list)
    now: float = 0.0


class LatencyTracker:
    """Median and 95th percentile of the last ``maxlen`` latencies, in seconds."""

    def __init__(self, maxlen: int = 3000) -> None:
        self.values: deque[float] = deque(maxlen=maxlen)

    def add(self, seconds: float | Iterable[float]) -> None:
        """Record one latency or several."""
        if np.ndim(seconds) == 0:
            self.values.append(float(seconds))
        else:
            self.values.extend(float(s) for s in seconds)

    @property
    def count(self) -> int:
        """Number of latencies held."""
        return len(self.values)

    def median(self) -> float:
        """Median latency (NaN when none)."""
        return float(np.median(self.values)) if self.values else float("nan")

    def p95(self) -> float:
        """95th percentile latency (NaN when none)."""
        return float(np.percentile(self.values, 95)) if self.values else float("nan")

    def array(self) -> np.ndarray:
        """All held latencies, oldest first."""
        return np.fromiter(self.values, dtype=np.float64, count=len(self.values))


def probability_outlet(
    name: str, classes: Iterable[str], *, step: float | None = None
) -> pylsl.StreamOutlet:
    """Create the LSL outlet ``<name>-probabilities``: one float32 channel per class.

    Channel labels are the class names (``desc/channels/channel/label``, LSL's metadata
    convention), so a consumer needs no other file to know which column is which. The
    stream is irregular: probabilities come when windows complete, in bursts after a stall.
    """
    classes = [str(c) for c in classes]
    info = pylsl.StreamInfo(
        f"{name}-probabilities",
        "Probabilities",
        len(classes),
        pylsl.IRREGULAR_RATE,
        pylsl.cf_float32,
        f"{name}-probabilities-{uuid.uuid4().hex[:8]}",
    )
    desc = info.desc()
    channels = desc.append_child("channels")
    for cls in classes:
        ch = channels.append_child("channel")
        ch.append_child_value("label", cls)
        ch.append_child_value("unit", "probability")
        ch.append_child_value("type", "Probability")
    if step is not None:
        desc.append_child_value("step_seconds", f"{step:g}")
    desc.append_child_value("producer", "bci live")
    return pylsl.StreamOutlet(info)


class LiveSession:
    """Classify a live source with a fitted pipeline, one non-blocking step at a time.

    Parameters
    ----------
    source : Source
        Where samples come from (an ``LSLSource`` in use; any Source in tests).
    pipeline : Pipeline
        A fitted pipeline (e.g. from ``bci.model_file.load_model``).
    publish_name : str or None
        When set, probabilities are published on the LSL stream
        ``<publish_name>-probabilities``.
    max_pull_seconds : float
        Most signal handled in one step, so a backlog is worked off over several steps.
    max_lag_seconds : float or None
        When the classifier has fallen further behind than this (a slow machine, a heavy
        model), windows older than it are skipped and a ``"behind"`` event says how many:
        a command from seconds ago is worse than none. None classifies every window.

    Raises
    ------
    ModelFileError
        The stream's channels or rate do not match the model's (the message says what
        differs).
    """

    def __init__(
        self,
        source: Source,
        pipeline: Pipeline,
        *,
        publish_name: str | None = None,
        max_pull_seconds: float = 1.0,
        max_lag_seconds: float | None = 2.0,
    ) -> None:
        limit_blas_threads()  # live work starts here, also in a notebook that loaded numpy
        index_map = check_stream_compatible(pipeline, source.info)
        # A stream with the model's channels in another order is reordered, not refused.
        pipeline.bind_input(index_map)
        self.source = source
        self.pipeline = pipeline
        self.info = source.info
        self.classes: tuple[str, ...] = tuple(str(c) for c in pipeline.classes_)
        self.max_pull = max(1, round(max_pull_seconds * self.info.sfreq))
        self.max_lag = None if max_lag_seconds is None else float(max_lag_seconds)
        self.restart_gap = max(RESTART_GAP_SECONDS, 5.0 / self.info.sfreq)
        self.windows_skipped = 0
        self.latency = LatencyTracker()
        self.screen_latency = LatencyTracker()
        self.last_probabilities: np.ndarray | None = None
        self.samples_received = 0
        self.outlet = None
        if publish_name:
            self.outlet = probability_outlet(
                publish_name, self.classes, step=pipeline.paradigm.online.step
            )
        self.publish_name = publish_name
        self._clock_shift: float | None = None
        #: Why the source refuses to go on (a stream that came back different), else None:
        #: a command ends the session on it.
        self.refused: str | None = None
        #: How far the source's timestamps run ahead of their arrival (s, >= 0); see
        #: :meth:`_follow_lead`.
        self.timestamp_lead = 0.0
        self._leads: deque[float] = deque(maxlen=50)
        self._last_error: str | None = None
        self._stalled = False
        self._ended_reported = False
        self._hold = np.zeros(self.info.n_channels)
        self._rate_window: deque[tuple[float, int]] = deque()
        pipeline.start_session()

    # ------------------------------------------------------------------ stepping
    def step(self) -> LiveUpdate:
        """Pull, classify, publish; return what happened. Never waits for data."""
        events: list[StreamEvent] = []
        n_ch = self.info.n_channels
        data, ts = np.empty((n_ch, 0)), np.empty(0)
        mts, markers = np.empty(0), []
        try:
            data, ts = self.source.pull(self.max_pull)
            mts, markers = self.source.pull_markers()
            self._last_error = None
        except (AcquisitionError, BCIError, ModelError) as exc:
            if isinstance(exc, StreamChangedError):
                self.refused = str(exc)
            # A refused stream raises on every pull: say it once, not sixty times a second.
            if str(exc) != self._last_error:
                self._last_error = str(exc)
                events.append(StreamEvent("error", str(exc)))
        conditions = self._source_conditions()
        events.extend(conditions)
        self._follow_state(conditions)
        data = np.asarray(data, dtype=np.float64)
        ts = np.asarray(ts, dtype=np.float64)
        shown = data
        if ts.size:
            self._align_clock(ts)
            self._follow_lead(ts)
            shown = self._displayable(data)
            self.samples_received += ts.size
            self._rate_window.append((time.monotonic(), ts.size))
        if self.source.ended and not self._ended_reported and not ts.size:
            self._ended_reported = True
            events.append(StreamEvent("ended", f"{self.info.name!r} has no more samples"))

        if len(markers):
            # Supervised adaptation learns from cued trials; a no-op otherwise.
            self.pipeline.observe_markers(mts, [str(m) for m in markers])
        restarts = self._restart_points(conditions, ts)
        prob_times, probas = self._classify(data, ts, restarts, events)
        now = self.now()
        if prob_times.size:
            # Against arrival: a sender stamping ahead of the clock would give negative ones.
            self.latency.add(now - (prob_times - self.timestamp_lead))
            self.last_probabilities = probas[-1]
            if self.outlet is not None:
                for t_end, p in zip(prob_times, probas, strict=True):
                    # Stamped on the LSL clock at the window's last sample.
                    lsl_time = float(t_end) - (self._clock_shift or 0.0)
                    self.outlet.push_sample(p.astype(np.float32), lsl_time)
        return LiveUpdate(
            data=shown,
            timestamps=ts,
            prob_times=prob_times,
            probabilities=probas,
            marker_times=np.asarray(mts, dtype=np.float64),
            markers=[str(m) for m in markers],
            events=events,
            now=now,
        )

    def now(self) -> float:
        """The current time on the source's clock (see :meth:`_align_clock`)."""
        return pylsl.local_clock() + (self._clock_shift or 0.0)

    def _align_clock(self, ts: np.ndarray) -> None:
        """Decide once whether the source's timestamps are on the LSL clock.

        LSL streams and the realtime simulator stamp samples with ``pylsl.local_clock()``;
        a file replayed directly starts at 0. Such a source is aligned at its first chunk,
        so traces scroll and latencies mean time since that chunk arrived.
        """
        if self._clock_shift is None and ts.size:
            offset = float(ts[-1]) - pylsl.local_clock()
            self._clock_shift = offset if abs(offset) > 5.0 else 0.0

    def _follow_lead(self, ts: np.ndarray) -> None:
        """Track how far the newest timestamp runs ahead of the clock when it arrives.

        An LSL sender stamps a sample when it was acquired, so it arrives a little after
        its timestamp (a negative lead). Some senders release chunks *before* their
        timestamps (MNE-LSL's ``PlayerLSL`` does): then "now minus the window's last
        timestamp" would be a negative latency. The median lead of the last chunks, when
        positive, is subtracted, so latency is measured against arrival; it is also shown
        as a health figure (the sender's clock runs ahead of arrival by that much).
        """
        self._leads.append(float(ts[-1]) - self.now())
        self.timestamp_lead = max(0.0, float(np.median(self._leads)))

    def record_screen_time(
        self, prob_times: np.ndarray | float, shown_at: float | None = None
    ) -> None:
        """Record that probabilities for windows ending at ``prob_times`` are now on screen.

        ``shown_at`` is the ``pylsl.local_clock()`` of the frame that showed them (now by
        default); the difference is the sample-to-screen latency.
        """
        shown_at = self.now() if shown_at is None else shown_at + (self._clock_shift or 0.0)
        arrived = np.atleast_1d(np.asarray(prob_times, dtype=float)) - self.timestamp_lead
        self.screen_latency.add(shown_at - arrived)

    # ------------------------------------------------------------------ health
    @property
    def stalled(self) -> bool:
        """True from a ``stalled`` or ``lost`` event of the source to its ``resumed``/``restored``."""
        return self._stalled

    @property
    def health(self) -> StreamHealth | None:
        """The source's ``StreamHealth`` (None for a source without live health figures)."""
        return self.source.health

    def arrival_rate(self, seconds: float = 5.0) -> float:
        """Samples per second that arrived over the last ``seconds`` of wall time."""
        now = time.monotonic()
        while self._rate_window and now - self._rate_window[0][0] > seconds:
            self._rate_window.popleft()
        if not self._rate_window:
            return 0.0
        span = max(now - self._rate_window[0][0], 1e-3)
        return sum(n for _, n in self._rate_window) / max(span, min(seconds, 1.0))

    def close(self) -> None:
        """Close the source and drop the outlet."""
        self.outlet = None
        self.source.close()

    def __enter__(self) -> LiveSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _classify(
        self, data: np.ndarray, ts: np.ndarray, restarts: list[int], events: list[StreamEvent]
    ) -> tuple[np.ndarray, np.ndarray]:
        empty = np.empty(0), np.empty((0, len(self.classes)))
        if restarts and restarts[0] == 0:
            self.pipeline.reset_online()
        if not ts.size:
            return empty
        windows: list[tuple[float, np.ndarray]] = []
        cuts = [0, *(r for r in restarts if r > 0), ts.size]
        for start, stop in pairwise(cuts):
            if start > 0:
                self.pipeline.reset_online()
            windows.extend(self.pipeline.push_windows(data[:, start:stop], ts[start:stop]))
        # The source reported the non-finite samples the pipeline dropped; keep memory flat.
        self.pipeline.conditions()
        if not windows:
            return empty
        if self.max_lag is not None and len(windows) > 1:
            now = self.now()
            fresh = [w for w in windows if now - w[0] <= self.max_lag] or windows[-1:]
            skipped = len(windows) - len(fresh)
            if skipped:
                self.windows_skipped += skipped
                events.append(
                    StreamEvent(
                        "behind",
                        f"classification is {now - windows[0][0]:.1f} s behind the stream; "
                        f"skipped {skipped} stale window(s) to catch up",
                    )
                )
                windows = fresh
        times = np.array([float(t) for t, _ in windows])
        # In time order: with [adaptation] each window moves the running reference, and
        # windows inside cued trials teach the model (supervised).
        probas = self.pipeline.predict_proba_windows(np.stack([w for _, w in windows]), times=times)
        return times, np.asarray(probas, dtype=np.float64)

    def _restart_points(self, conditions: list[StreamEvent], ts: np.ndarray) -> list[int]:
        """Indices of ``ts`` before which classification restarts (0: before the chunk).

        A loss or a restore starts a new clock segment; a gap or a forward jump longer than
        :attr:`restart_gap` is a hole no window may span. The source said where (the
        event's ``timestamp``); a hole it could not place restarts before the chunk.
        """
        points: set[int] = set()
        for ev in conditions:
            if ev.kind in ("lost", "restored"):
                points.add(0)
            elif ev.kind in ("gap", "timestamp_jump") and ev.seconds > self.restart_gap:
                if ts.size and np.isfinite(ev.timestamp):
                    points.add(int(np.argmin(np.abs(ts - ev.timestamp))))
                else:
                    points.add(0)
        return sorted(points)

    def _follow_state(self, conditions: list[StreamEvent]) -> None:
        for ev in conditions:
            if ev.kind in ("stalled", "lost"):
                self._stalled = True
            elif ev.kind in ("resumed", "restored"):
                self._stalled = False

    def _displayable(self, data: np.ndarray) -> np.ndarray:
        """Return ``data`` with NaN/Inf held at the last good value, for the scope only.

        The pipeline gets the raw chunk: it drops non-finite samples and restarts its
        filter itself (see ``bci.pipeline``); the source reported them.
        """
        bad = ~np.isfinite(data)
        if bad.any():
            data = data.copy()
            for ch in np.flatnonzero(bad.any(axis=1)):
                row = data[ch]
                prev = self._hold[ch]
                for i in np.flatnonzero(~np.isfinite(row)):
                    row[i] = prev if i == 0 else row[i - 1]
                    prev = row[i]
        self._hold = data[:, -1].copy()
        return data

    def _source_conditions(self) -> list[StreamEvent]:
        try:
            return list(self.source.conditions())
        except (AcquisitionError, BCIError) as exc:
            return [StreamEvent("error", str(exc))]
