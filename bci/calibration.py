"""The calibration protocol (Graz motor imagery, or SSVEP) as a pure state machine.

A trial is ``fixation -> cue -> task -> rest``. Every phase change is an
:class:`CalibrationEvent` carrying the string marker to send on the marker stream:

========================  ===========================================================
marker                    meaning
========================  ===========================================================
``"session_start"``       the first trial is about to begin
``"fixation"``            a fixation cross appears (start of a trial)
*the class marker*        the cue appears; this is the marker training epochs lock to.
                          It is the value the paradigm's ``[classes]`` table maps the
                          class name to (the shipped calibration paradigms map each class
                          to its own name: ``left = "left"``), so training reads it back.
``"imagery"``             the cue is gone; the person keeps imagining (``"stimulation"``
                          for SSVEP: the targets flicker)
``"rest"``                the trial is over; a random rest follows
``"pause"`` / ``"resume"``  the operator paused and resumed the session
``"session_end"``         every trial is done
========================  ===========================================================

The clock is passed in (``clock() -> seconds``), so tests run sessions at any speed.
:meth:`CalibrationProtocol.update` advances through every transition that is due and
timestamps each event with its *scheduled* time, so markers do not jitter with the
caller's polling rate.

Pausing never cuts a trial in two: requested before the cue, it takes effect at once
(the trial restarts after ``resume``); requested after the cue, it takes effect when the
trial reaches its rest. Each completed trial therefore has exactly one class marker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bci.errors import BCIError

#: Phases of one trial, in order.
PHASES = ("fixation", "cue", "task", "rest")


class CalibrationError(BCIError):
    """A calibration session was configured with impossible values."""


@dataclass(frozen=True)
class SessionTimings:
    """Durations of the phases of one trial, in seconds.

    Parameters
    ----------
    fixation, cue, task : float
        Durations of the fixation cross, the cue and the imagery (or stimulation) period.
    rest_min, rest_max : float
        Bounds of the uniformly random rest after each trial.
    """

    fixation: float = 2.0
    cue: float = 1.25
    task: float = 4.0
    rest_min: float = 1.5
    rest_max: float = 2.5

    def __post_init__(self) -> None:
        for name in ("fixation", "cue", "task", "rest_min", "rest_max"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise CalibrationError(
                    f"session timing {name!r} must be a non-negative number of seconds, "
                    f"got {value!r}"
                )
        if self.rest_max < self.rest_min:
            raise CalibrationError(
                f"session timing rest_max ({self.rest_max}) is below rest_min "
                f"({self.rest_min}); give rest_min <= rest_max"
            )
        if self.cue + self.task <= 0:
            raise CalibrationError("session timings cue + imagery must be longer than 0 s")

    @property
    def mean_trial(self) -> float:
        """Average length of one trial in seconds."""
        return self.fixation + self.cue + self.task + (self.rest_min + self.rest_max) / 2

    def scaled(self, factor: float, *, min_task: float = 0.0) -> SessionTimings:
        """Return the timings multiplied by ``factor``, the task lasting at least ``min_task``."""
        return SessionTimings(
            fixation=self.fixation * factor,
            cue=self.cue * factor,
            task=max(self.task * factor, min_task),
            rest_min=self.rest_min * factor,
            rest_max=self.rest_max * factor,
        )


@dataclass(frozen=True)
class CalibrationEvent:
    """One phase change of a session.

    Parameters
    ----------
    time : float
        Scheduled time of the change, on the protocol's clock.
    marker : str
        The string to send on the marker stream.
    phase : str
        The phase entered: one of :data:`PHASES`, ``"paused"`` or ``"done"``.
    trial : int
        Index of the trial (0-based), -1 before the first.
    label : str or None
        The class of the trial (None outside trials).
    """

    time: float
    marker: str
    phase: str
    trial: int
    label: str | None


@dataclass(frozen=True)
class ProtocolState:
    """A snapshot of the session for a window to draw.

    Parameters
    ----------
    phase : str
        ``"idle"``, one of :data:`PHASES`, ``"paused"`` or ``"done"``.
    trial : int
        Index of the current trial (0-based).
    n_trials : int
        Trials in the whole session.
    label : str or None
        Class of the current trial.
    elapsed, remaining : float
        Seconds spent in and left of the current phase.
    pause_requested : bool
        A pause will take effect at the end of the current trial.
    """

    phase: str
    trial: int
    n_trials: int
    label: str | None
    elapsed: float
    remaining: float
    pause_requested: bool

    @property
    def progress(self) -> float:
        """Fraction of the trials completed, 0 to 1."""
        if self.phase == "done":
            return 1.0
        done = self.trial + (1 if self.phase == "rest" else 0)
        return min(1.0, max(0, done) / max(1, self.n_trials))


class CalibrationProtocol:
    """Cue a person through balanced, shuffled trials on a clock that is passed in.

    Parameters
    ----------
    class_markers : mapping of str to str
        Class name -> the marker sent at its cue (see the module docstring).
    trials_per_class : int
        Trials of each class.
    timings : SessionTimings
        Phase durations.
    seed : int or None
        Seeds the trial order and the rest durations.
    clock : callable
        Returns the current time in seconds (``time.monotonic`` by default;
        ``pylsl.local_clock`` to timestamp markers on the LSL clock).
    task_marker : str
        Marker at the start of the task phase (``"imagery"``; ``"stimulation"`` for SSVEP).
    """

    def __init__(
        self,
        class_markers: Mapping[str, str] | Sequence[str],
        *,
        trials_per_class: int,
        timings: SessionTimings | None = None,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        task_marker: str = "imagery",
    ) -> None:
        if not isinstance(class_markers, Mapping):
            class_markers = {str(c): str(c) for c in class_markers}
        if len(class_markers) < 2:
            raise CalibrationError(
                f"a calibration session needs at least 2 classes, got {list(class_markers)!r}"
            )
        if int(trials_per_class) < 1:
            raise CalibrationError(f"trials_per_class must be at least 1, got {trials_per_class!r}")
        self.class_markers = {str(k): str(v) for k, v in class_markers.items()}
        self.classes = tuple(self.class_markers)
        self.trials_per_class = int(trials_per_class)
        self.timings = timings or SessionTimings()
        self.task_marker = task_marker
        self.clock = clock
        rng = np.random.default_rng(seed)
        order = np.repeat(np.arange(len(self.classes)), self.trials_per_class)
        rng.shuffle(order)
        #: The class of each trial, in presentation order.
        self.trial_labels: tuple[str, ...] = tuple(self.classes[i] for i in order)
        self._rests = rng.uniform(self.timings.rest_min, self.timings.rest_max, order.size)
        self._phase = "idle"
        self._trial = -1
        self._phase_start = 0.0
        self._phase_end = np.inf
        self._pause_requested = False
        self._paused_at = 0.0

    # ------------------------------------------------------------------ queries
    @property
    def n_trials(self) -> int:
        """Number of trials in the session."""
        return len(self.trial_labels)

    @property
    def finished(self) -> bool:
        """True once the last trial's rest is over."""
        return self._phase == "done"

    @property
    def paused(self) -> bool:
        """True while the session is paused."""
        return self._phase == "paused"

    @property
    def expected_duration(self) -> float:
        """Seconds the whole session lasts without pauses."""
        t = self.timings
        return self.n_trials * (t.fixation + t.cue + t.task) + float(self._rests.sum())

    def state(self) -> ProtocolState:
        """Return a snapshot of where the session is (call :meth:`update` first)."""
        now = self.clock()
        label = self.trial_labels[self._trial] if 0 <= self._trial < self.n_trials else None
        if self._phase in ("idle", "done", "paused"):
            elapsed = remaining = 0.0
        else:
            elapsed = max(0.0, now - self._phase_start)
            remaining = max(0.0, self._phase_end - now)
        return ProtocolState(
            phase=self._phase,
            trial=max(0, self._trial),
            n_trials=self.n_trials,
            label=label,
            elapsed=elapsed,
            remaining=remaining,
            pause_requested=self._pause_requested,
        )

    # ------------------------------------------------------------------ control
    def start(self) -> list[CalibrationEvent]:
        """Begin the session now; returns the first events."""
        if self._phase != "idle":
            raise CalibrationError("the calibration session has already started")
        now = self.clock()
        events = [CalibrationEvent(now, "session_start", "idle", -1, None)]
        events.append(self._enter(0, "fixation", now))
        return events

    def pause(self) -> list[CalibrationEvent]:
        """Pause now if before a cue, otherwise at the end of the current trial."""
        events = self.update()
        if self._phase in ("idle", "done", "paused"):
            return events
        if self._phase == "fixation":
            events.append(self._pause_now(self.clock()))
        else:
            self._pause_requested = True
        return events

    def resume(self) -> list[CalibrationEvent]:
        """Resume a paused session with the next trial's fixation cross."""
        events = self.update()
        if self._pause_requested and self._phase != "paused":
            self._pause_requested = False  # cancelled before it took effect
            return events
        if self._phase != "paused":
            return events
        now = self.clock()
        events.append(CalibrationEvent(now, "resume", "paused", self._trial, None))
        events.append(self._enter(self._trial, "fixation", now))
        return events

    def update(self) -> list[CalibrationEvent]:
        """Advance through every transition due by now and return their events."""
        events: list[CalibrationEvent] = []
        now = self.clock()
        while self._phase in PHASES and now >= self._phase_end:
            t = self._phase_end
            if self._phase == "fixation":
                events.append(self._enter(self._trial, "cue", t))
            elif self._phase == "cue":
                events.append(self._enter(self._trial, "task", t))
            elif self._phase == "task":
                events.append(self._enter(self._trial, "rest", t))
            else:  # rest over
                nxt = self._trial + 1
                if nxt >= self.n_trials:
                    self._phase = "done"
                    self._phase_end = np.inf
                    events.append(CalibrationEvent(t, "session_end", "done", self._trial, None))
                elif self._pause_requested:
                    self._trial = nxt
                    events.append(self._pause_now(t))
                else:
                    events.append(self._enter(nxt, "fixation", t))
        return events

    # ------------------------------------------------------------------ internals
    def _pause_now(self, t: float) -> CalibrationEvent:
        self._pause_requested = False
        self._phase = "paused"
        self._phase_end = np.inf
        self._paused_at = t
        return CalibrationEvent(t, "pause", "paused", self._trial, None)

    def _enter(self, trial: int, phase: str, t: float) -> CalibrationEvent:
        timings = self.timings
        duration = {
            "fixation": timings.fixation,
            "cue": timings.cue,
            "task": timings.task,
            "rest": float(self._rests[trial]),
        }[phase]
        self._trial, self._phase = trial, phase
        self._phase_start, self._phase_end = t, t + duration
        label = self.trial_labels[trial]
        marker = {
            "fixation": "fixation",
            "cue": self.class_markers[label],
            "task": self.task_marker,
            "rest": "rest",
        }[phase]
        return CalibrationEvent(t, marker, phase, trial, label)


def timings_from_paradigm(paradigm: object) -> SessionTimings:
    """The trial timings of a paradigm's ``[session]`` table."""
    s = paradigm.session
    return SessionTimings(
        fixation=s.fixation, cue=s.cue, task=s.imagery, rest_min=s.rest_min, rest_max=s.rest_max
    )


def protocol_from_paradigm(
    paradigm: object,
    *,
    trials_per_class: int | None = None,
    timings: SessionTimings | None = None,
    seed: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> CalibrationProtocol:
    """Build the session a paradigm describes (its classes, markers and ``[session]``).

    ``trials_per_class`` and ``timings`` override the paradigm's values (the demo
    shortens sessions this way).
    """
    ssvep = getattr(paradigm.session, "kind", "motor_imagery") == "ssvep"
    return CalibrationProtocol(
        dict(paradigm.classes),
        trials_per_class=trials_per_class or paradigm.session.trials_per_class,
        timings=timings or timings_from_paradigm(paradigm),
        seed=seed,
        clock=clock,
        task_marker="stimulation" if ssvep else "imagery",
    )
