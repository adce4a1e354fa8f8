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
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pylsl

from acquisition.errors import AcquisitionError
from acquisition.source import Source
from bci.errors import BCIError
from bci.model_file import check_stream_compatible
from models.errors import ModelError

#: Event kinds a session reports (the source's own conditions are mapped onto these).
EVENT_KINDS = (
    "stalled",
    "resumed",
    "lost",
    "restored",
    "gap",
    "timestamp_jump",
    "nonfinite",
    "marker_lost",
    "marker_restored",
    "ended",
    "error",
)

#: Kinds that mean "the stream is not delivering"; a display shows a banner until a
#: "resumed" or "restored" event clears it.
TROUBLE_KINDS = ("stalled", "lost", "error")


@dataclass(frozen=True)
class StreamEvent:
    """A condition of the stream worth telling the user about.

    Parameters
    ----------
    kind : str
        One of :data:`EVENT_KINDS`.
    message : str
        A sentence for the user.
    time : float
        ``pylsl.local_clock()`` when it was noticed.
    """

    kind: str
    message: str
    time: float


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
        Conditions noticed during this step.
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
        A fitted ``bci.pipeline.Pipeline`` (e.g. from ``bci.model_file.load_model``).
    publish_name : str or None
        When set, probabilities are published on the LSL stream
        ``<publish_name>-probabilities``.
    max_pull_seconds : float
        Most signal handled in one step, so a backlog is worked off over several steps.
    stall_after : float
        Seconds without samples after which the stream is reported as stalled.
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
        pipeline: object,
        *,
        publish_name: str | None = None,
        max_pull_seconds: float = 1.0,
        stall_after: float = 1.0,
        max_lag_seconds: float | None = 2.0,
    ) -> None:
        index_map = check_stream_compatible(pipeline, source.info)
        bind = getattr(pipeline, "bind_input", None)
        if callable(bind):
            # A stream with the model's channels in another order is reordered, not refused.
            bind(index_map)
        self.source = source
        self.pipeline = pipeline
        self.info = source.info
        self.classes: tuple[str, ...] = tuple(str(c) for c in pipeline.classes_)
        self.max_pull = max(1, round(max_pull_seconds * self.info.sfreq))
        self.stall_after = float(stall_after)
        self.max_lag = None if max_lag_seconds is None else float(max_lag_seconds)
        self.windows_skipped = 0
        self.latency = LatencyTracker()
        self.screen_latency = LatencyTracker()
        self.last_probabilities: np.ndarray | None = None
        self.samples_received = 0
        self.outlet = None
        if publish_name:
            step = getattr(getattr(pipeline, "paradigm", None), "online", None)
            self.outlet = probability_outlet(
                publish_name, self.classes, step=getattr(step, "step", None)
            )
        self.publish_name = publish_name
        self._last_sample_wall = time.monotonic()
        self._clock_shift: float | None = None
        self._last_error: str | None = None
        self._last_ts: float | None = None
        self._stalled = False
        self._ended_reported = False
        self._hold = np.zeros(self.info.n_channels)
        self._rate_window: deque[tuple[float, int]] = deque()
        pipeline.reset_online()

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
            # A refused stream raises on every pull: say it once, not sixty times a second.
            if str(exc) != self._last_error:
                self._last_error = str(exc)
                events.append(self._event("error", str(exc)))
        reports_conditions = callable(getattr(self.source, "conditions", None))
        events.extend(self._source_conditions())
        data = np.asarray(data, dtype=np.float64)
        ts = np.asarray(ts, dtype=np.float64)
        wall = time.monotonic()
        shown = data
        if ts.size:
            self._align_clock(ts)
            shown = self._displayable(data, events, report=not reports_conditions)
            if self._last_ts is not None and self._is_gap(ts[0]):
                gap = ts[0] - self._last_ts
                if not reports_conditions:
                    events.append(
                        self._event(
                            "gap", f"{gap:.2f} s of signal missing; classification restarts"
                        )
                    )
                # Never let a window span a hole in the signal.
                self.pipeline.reset_online()
            self._last_ts = float(ts[-1])
            self._last_sample_wall = wall
            self.samples_received += ts.size
            self._rate_window.append((wall, ts.size))
            if self._stalled:
                self._stalled = False
                if not reports_conditions:
                    events.append(self._event("resumed", f"stream {self.info.name!r} is back"))
        elif not self._stalled and wall - self._last_sample_wall > self.stall_after:
            self._stalled = True
            if not reports_conditions:
                events.append(
                    self._event(
                        "stalled",
                        f"no samples from {self.info.name!r} for "
                        f"{wall - self._last_sample_wall:.1f} s; waiting for it to come back",
                    )
                )
        if getattr(self.source, "ended", False) and not self._ended_reported and not ts.size:
            self._ended_reported = True
            events.append(self._event("ended", f"{self.info.name!r} has no more samples"))

        prob_times, probas = self._classify(data, ts, events)
        now = self.now()
        if prob_times.size:
            self.latency.add(now - prob_times)
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

    def record_screen_time(
        self, prob_times: np.ndarray | float, shown_at: float | None = None
    ) -> None:
        """Record that probabilities for windows ending at ``prob_times`` are now on screen.

        ``shown_at`` is the ``pylsl.local_clock()`` of the frame that showed them (now by
        default); the difference is the sample-to-screen latency.
        """
        shown_at = self.now() if shown_at is None else shown_at + (self._clock_shift or 0.0)
        self.screen_latency.add(shown_at - np.atleast_1d(np.asarray(prob_times, dtype=float)))

    # ------------------------------------------------------------------ health
    @property
    def stalled(self) -> bool:
        """True while no samples have arrived for ``stall_after`` seconds."""
        return self._stalled

    @property
    def health(self) -> object | None:
        """The source's ``StreamHealth`` when it has one (LSL sources), else None."""
        return getattr(self.source, "health", None)

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
        self, data: np.ndarray, ts: np.ndarray, events: list[StreamEvent]
    ) -> tuple[np.ndarray, np.ndarray]:
        empty = np.empty(0), np.empty((0, len(self.classes)))
        if not ts.size:
            return empty
        windows = self.pipeline.push_windows(data, ts)
        drain = getattr(self.pipeline, "conditions", None)
        if callable(drain):
            drain()  # the source already reported what the pipeline saw; keep memory flat
        if not windows:
            return empty
        if self.max_lag is not None and len(windows) > 1:
            now = self.now()
            fresh = [w for w in windows if now - w[0] <= self.max_lag] or windows[-1:]
            skipped = len(windows) - len(fresh)
            if skipped:
                self.windows_skipped += skipped
                events.append(
                    self._event(
                        "behind",
                        f"classification is {now - windows[0][0]:.1f} s behind the stream; "
                        f"skipped {skipped} stale window(s) to catch up",
                    )
                )
                windows = fresh
        times = np.array([float(t) for t, _ in windows])
        probas = self.pipeline.predict_proba_epochs(np.stack([w for _, w in windows]))
        return times, np.asarray(probas, dtype=np.float64)

    def _is_gap(self, first_ts: float) -> bool:
        expected = self._last_ts + 1.0 / self.info.sfreq
        return first_ts - expected > max(0.1, 5.0 / self.info.sfreq)

    def _displayable(
        self, data: np.ndarray, events: list[StreamEvent], *, report: bool
    ) -> np.ndarray:
        """Return ``data`` with NaN/Inf held at the last good value, for the scope only.

        The pipeline gets the raw chunk: it drops non-finite samples and restarts its
        filter itself (see ``bci.pipeline``).
        """
        bad = ~np.isfinite(data)
        if bad.any():
            if report:
                events.append(
                    self._event(
                        "nonfinite",
                        f"{int(bad.sum())} NaN/Inf value(s) in {self.info.name!r}; "
                        "those samples are not classified",
                    )
                )
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
        conditions = getattr(self.source, "conditions", None)
        if not callable(conditions):
            return []
        try:
            found = conditions() or []
        except (AcquisitionError, BCIError) as exc:
            return [self._event("error", str(exc))]
        return [self._to_event(c) for c in found]

    def _to_event(self, condition: object) -> StreamEvent:
        kind = str(getattr(condition, "kind", None) or condition).lower()
        message = str(
            getattr(condition, "detail", None) or getattr(condition, "message", None) or condition
        )
        if kind in ("nan", "inf", "nonfinite", "non-finite"):
            kind = "nonfinite"
        elif kind not in EVENT_KINDS:
            kind = {"recovered": "restored", "disconnected": "lost", "stall": "stalled"}.get(
                kind, "gap" if "gap" in kind else "error"
            )
        if kind in ("restored", "lost"):
            # A reconnected stream starts a new clock segment: do not window across it.
            self.pipeline.reset_online()
        return self._event(kind, message)

    def _event(self, kind: str, message: str) -> StreamEvent:
        return StreamEvent(kind, message, pylsl.local_clock())
