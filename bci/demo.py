"""``bci demo``: calibrate, train and classify live on a simulated headset.

The story, with no hardware and nothing downloaded:

1. a :class:`~acquisition.simulator.SimulatedHeadset` streams EEG on LSL through a
   :class:`~acquisition.player.Player`, like a real headset would;
2. a short calibration session cues left / right (/ feet) imagery; the simulated person
   follows every cue (the session calls ``set_state`` at each cue) while the EEG and the
   cue markers are recorded to XDF;
3. the paradigm's pipeline is cross-validated and trained on that recording and saved as
   a ``.bci`` model;
4. live classification of the same stream, while the simulated person keeps following
   new cues; since the demo knows what the person is really doing, it measures the live
   accuracy.

With a display this happens in the calibration and live windows; without one (or with
``--headless``) the same story is told in the terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pylsl

from acquisition.lsl_source import LSLSource
from acquisition.player import Player
from acquisition.simulator import SimulatedHeadset
from bci.calibration import (
    CalibrationEvent,
    CalibrationProtocol,
    SessionTimings,
    timings_from_paradigm,
)
from bci.calibration_run import CalibrationResult, CalibrationRun
from bci.errors import BCIError
from bci.live_session import LiveSession
from bci.model_file import load_model
from bci.paradigm import Paradigm, builtin_paradigm

#: What the simulated person does for each class, for the story.
ACTIONS = {
    "left": "imagines squeezing the LEFT hand",
    "right": "imagines squeezing the RIGHT hand",
    "feet": "imagines moving both FEET",
}

#: Seconds the demo spends outside the calibration and live phases: LSL discovery, the
#: recorder's lead-in and tail, closing the XDF file (labrecorder takes ~5.5 s to stop),
#: training.
OVERHEAD_SECONDS = 9.0


def display_available() -> bool:
    """True when a window can be opened: a display server, or Qt's offscreen platform."""
    if os.environ.get("QT_QPA_PLATFORM", "") == "offscreen":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@dataclass(frozen=True)
class DemoPlan:
    """How a demo of a given length is split between calibration and live use.

    Attributes
    ----------
    paradigm : Paradigm
        The built-in ``demo`` paradigm with its classes, epochs and online window fitted
        to the (shortened) trial timings.
    timings : SessionTimings
        Calibration trial timings.
    live_timings : SessionTimings
        Trial timings of the live phase (imagery long enough for several windows).
    trials_per_class : int
        Calibration trials of each class (at least 5).
    live_seconds : float
        Length of the live phase.
    """

    paradigm: Paradigm
    timings: SessionTimings
    live_timings: SessionTimings
    trials_per_class: int
    live_seconds: float

    @property
    def classes(self) -> tuple[str, ...]:
        """The classes cued."""
        return tuple(self.paradigm.classes)

    @property
    def calibration_seconds(self) -> float:
        """Expected length of the calibration session."""
        return len(self.classes) * self.trials_per_class * self.timings.mean_trial


def plan_demo(seconds: float = 90.0) -> DemoPlan:
    """Fit the demo into ``seconds``: fewer classes and shorter trials when short.

    Keeps at least 5 trials per class and at least 0.8 s of imagery per trial. Below
    60 s the demo uses two classes (left, right), otherwise all three of the paradigm.
    """
    seconds = float(seconds)
    if not seconds >= 20:
        raise BCIError(
            f"--seconds must be at least 20 (the demo needs 5 trials per class), got {seconds:g}"
        )
    base = builtin_paradigm("demo")
    classes = list(base.classes) if seconds >= 60 else ["left", "right"]
    trials_per_class = 5 if seconds < 60 else 8
    usable = seconds - OVERHEAD_SECONDS
    calibration_budget = 0.6 * usable
    base_timings = timings_from_paradigm(base)
    per_trial = calibration_budget / (len(classes) * trials_per_class)
    factor = min(1.0, per_trial / base_timings.mean_trial)
    timings = base_timings.scaled(factor, min_task=0.8)
    cue_and_task = timings.cue + timings.task
    tmin = float(round(min(0.5, 0.3 * cue_and_task), 3))
    tmax = np.floor(cue_and_task * 1000) / 1000  # never past the end of the imagery
    tmax = float(tmax)
    window = float(np.floor(min(base.online.window, tmax - tmin) * 1000) / 1000)
    d = base.to_dict()
    d["classes"] = {c: base.classes[c] for c in classes}
    d["epochs"] = {"tmin": tmin, "tmax": tmax}
    d["online"] = {"window": window, "step": base.online.step}
    d["session"].update(
        {
            "fixation": timings.fixation,
            "cue": timings.cue,
            "imagery": timings.task,
            "rest_min": timings.rest_min,
            "rest_max": timings.rest_max,
            "trials_per_class": trials_per_class,
        }
    )
    paradigm = Paradigm.from_dict(d, source="bci/paradigms/demo.toml (shortened for the demo)")
    calibration = len(classes) * trials_per_class * timings.mean_trial
    live_timings = SessionTimings(
        fixation=timings.fixation,
        cue=timings.cue,
        task=max(timings.task, 3 * window),
        rest_min=timings.rest_min,
        rest_max=timings.rest_max,
    )
    live_seconds = max(5.0, seconds - OVERHEAD_SECONDS - calibration)
    return DemoPlan(paradigm, timings, live_timings, trials_per_class, live_seconds)


# --------------------------------------------------------------------------- live accuracy


@dataclass
class LiveAccuracy:
    """Live accuracy against what the simulated person was really doing.

    The person's state changes are the simulator's own markers (class names, ``"rest"``)
    stamped at the sample where they happened. A window counts when one class was held
    over the whole window; windows overlapping a change or a rest are not scored.

    Parameters
    ----------
    classes : tuple of str
        Class names in probability-column order.
    window : float
        Online window length in seconds.
    """

    classes: tuple[str, ...]
    window: float
    changes: list[tuple[float, str]] = field(default_factory=list)
    pending: list[tuple[float, np.ndarray]] = field(default_factory=list)
    scored: list[tuple[str, str]] = field(default_factory=list)

    def add_markers(self, times: np.ndarray, labels: list[str]) -> None:
        """Record the person's state changes."""
        self.changes.extend((float(t), str(lab)) for t, lab in zip(times, labels, strict=True))
        self.changes.sort()

    def add_outputs(self, times: np.ndarray, probabilities: np.ndarray) -> None:
        """Queue probabilities to score (scored once the markers after them are known)."""
        self.pending.extend(zip(np.asarray(times, float).tolist(), probabilities, strict=True))

    def score_until(self, now: float) -> None:
        """Score every queued output older than ``now`` minus a safety margin."""
        keep = []
        for t_end, proba in self.pending:
            if t_end > now - 0.5:
                keep.append((t_end, proba))
                continue
            truth = self._truth(t_end)
            if truth in self.classes:
                self.scored.append((truth, self.classes[int(np.argmax(proba))]))
        self.pending = keep

    def _truth(self, t_end: float) -> str | None:
        start = t_end - self.window
        state = None
        for t, label in self.changes:
            if t <= start:
                state = label
            elif t <= t_end:
                return None  # the person changed task inside the window
            else:
                break
        return state

    @property
    def n(self) -> int:
        """Windows scored."""
        return len(self.scored)

    @property
    def accuracy(self) -> float:
        """Fraction of scored windows classified as the true state (NaN before any)."""
        if not self.scored:
            return float("nan")
        return float(np.mean([t == p for t, p in self.scored]))

    def per_class(self) -> dict[str, float]:
        """Accuracy for each class with scored windows."""
        out = {}
        for cls in self.classes:
            hits = [p == cls for t, p in self.scored if t == cls]
            if hits:
                out[cls] = float(np.mean(hits))
        return out


# --------------------------------------------------------------------------- the story


@dataclass
class DemoReport:
    """What a demo run measured."""

    calibration: CalibrationResult | None = None
    live: LiveAccuracy | None = None
    latency_median: float = float("nan")
    latency_p95: float = float("nan")
    screen_latency_median: float = float("nan")
    seconds: float = 0.0


@contextlib.contextmanager
def native_output_to(log_path: Path) -> Iterator[Callable[[str], None]]:
    """Send what C libraries print (liblsl, labrecorder) to ``log_path``; yield a printer.

    liblsl and labrecorder write progress lines straight to file descriptors 1 and 2,
    which would bury the story; Python's own ``sys.stdout``/``sys.stderr`` are redirected
    with them, so the yielded function writes to the real terminal. Everything is
    restored on exit, before any error is printed.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    log = open(log_path, "ab")
    terminal = os.fdopen(os.dup(saved[0]), "w", encoding="utf-8", errors="replace")
    try:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)

        def write(text: str) -> None:
            terminal.write(text + "\n")
            terminal.flush()

        yield write
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        terminal.close()
        log.close()


class Story:
    """Prints the demo's narration with the elapsed time, flushing each line."""

    def __init__(self, out: Callable[[str], None] | None = None) -> None:
        self.t0 = time.monotonic()
        self.out = out or (lambda text: print(text, flush=True))

    def say(self, text: str = "") -> None:
        """Print ``text`` prefixed with the elapsed seconds."""
        if not text:
            self.out("")
            return
        self.out(f"[{time.monotonic() - self.t0:5.1f}s] {text}")

    def title(self, text: str) -> None:
        """Print a section heading."""
        self.out("")
        self.out(f"== {text} ==")


class SimulatedPerson:
    """Makes the simulated headset's person follow a session's cues."""

    def __init__(self, headset: SimulatedHeadset) -> None:
        self.headset = headset
        self.doing: str | None = None

    def follow(self, event: CalibrationEvent) -> None:
        """Start the cued task at the cue; rest when the trial's rest begins."""
        if event.phase == "cue" and event.label is not None:
            self.doing = event.label
            self.headset.set_state(event.label)
        elif event.phase in ("rest", "paused", "done") and self.doing is not None:
            self.doing = None
            # "rest" (not None) so the simulator marks the change on its marker stream.
            self.headset.set_state("rest")


def confusion_lines(metrics: dict) -> list[str]:
    """The confusion matrix of a cross-validation report as aligned text lines."""
    classes = [str(c) for c in metrics.get("classes", [])]
    matrix = np.asarray(metrics.get("confusion_matrix", []), dtype=float)
    if not classes or matrix.shape != (len(classes), len(classes)):
        return []
    width = max(6, *(len(c) for c in classes))
    lines = [" " * (width + 8) + " ".join(f"{c:>{width}}" for c in classes) + "   (predicted)"]
    for i, cls in enumerate(classes):
        row = " ".join(f"{int(v):>{width}d}" for v in matrix[i])
        lines.append(f"  true {cls:>{width}} {row}")
    return lines


def run_demo(
    *,
    seconds: float = 90.0,
    seed: int = 0,
    headless: bool | None = None,
    out_dir: str | Path | None = None,
    story: Story | None = None,
) -> DemoReport:
    """Run the whole demo; see the module docstring. Returns what it measured."""
    plan = plan_demo(seconds)
    story = story or Story()
    if headless is None:
        headless = not display_available()
    folder = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="bci-demo-"))
    name = f"bci-demo-{uuid.uuid4().hex[:6]}"
    report = DemoReport()
    t_start = time.monotonic()
    classes = plan.classes

    story.title("bci demo: a brain-computer interface on a simulated headset")
    story.say(
        f"A simulated person wears a {len(SimulatedHeadset().info.ch_names)}-channel EEG cap. "
        f"They will learn to drive {len(classes)} commands: {', '.join(classes)}."
    )
    headset = SimulatedHeadset(realtime=True, seed=seed, difficulty=0.1, name=name)
    person = SimulatedPerson(headset)
    with Player(headset, name=name) as player:
        story.say(
            f"The headset streams {headset.info.n_channels} channels at {headset.info.sfreq:g} Hz "
            f"on Lab Streaming Layer as {name!r}."
        )
        # ---------------------------------------------------------------- calibration
        story.title("1. Calibration")
        t = plan.timings
        story.say(
            f"{plan.trials_per_class} trials per class, shuffled. Each trial: fixation cross "
            f"{t.fixation:.1f} s, cue {t.cue:.1f} s, imagery {t.task:.1f} s, rest "
            f"{t.rest_min:.1f}-{t.rest_max:.1f} s (shortened Graz protocol)."
        )
        run = CalibrationRun(
            plan.paradigm,
            stream=name,
            out_dir=folder,
            seed=seed,
            trials_per_class=plan.trials_per_class,
            timings=plan.timings,
            on_event=person.follow,
        )
        if headless:
            _calibrate_in_terminal(run, story)
            story.say(f"EEG and cue markers recorded to {run.recording_path}")
            story.title("2. Training")
            result = run.train(progress=lambda f, text: story.say(f"{100 * f:3.0f}% {text}"))
        else:
            from gui.calibration_window import run_calibration_window

            story.say("The calibration window shows the cues; it trains when the session ends.")
            result = run_calibration_window(run, auto_close=True)
            if result is None:
                raise BCIError("the calibration window closed before training finished")
            story.say(f"EEG and cue markers recorded to {run.recording_path}")
            story.title("2. Training")
        report.calibration = result
        m = result.metrics
        story.say(
            f"Cross-validated accuracy {m['accuracy']:.0%} (+/- {m.get('accuracy_std', 0):.0%}) "
            f"on {m.get('n_epochs', '?')} trials; chance is {m['chance_level']:.0%}, "
            f"{m['significance_threshold']:.0%} is needed to beat it at p < 0.05."
        )
        if m.get("verdict"):
            story.say(str(m["verdict"]))
        for line in confusion_lines(m):
            story.out(line)
        story.say(f"Model saved to {result.model_path}")

        # ---------------------------------------------------------------- live
        story.title("3. Live classification")
        # Whatever calibration and training left of the budget (they vary with the machine).
        live_seconds = max(5.0, seconds - (time.monotonic() - t_start) - 1.5)
        # Load first, then open the stream: samples queued meanwhile would count as latency.
        pipeline = load_model(result.model_path)
        source = LSLSource(name=name, marker_name=player.marker_name, timeout=5.0)
        session = LiveSession(source, pipeline, publish_name=name)
        story.say(
            f"Probabilities are published on LSL as '{name}-probabilities' "
            f"(channels: {', '.join(session.classes)}) for games or devices to use."
        )
        accuracy = LiveAccuracy(session.classes, plan.paradigm.online.window)
        protocol = CalibrationProtocol(
            dict(plan.paradigm.classes),
            trials_per_class=10_000,
            timings=plan.live_timings,
            seed=seed + 1,
            clock=pylsl.local_clock,
        )
        if headless:
            _live_in_terminal(session, protocol, person, accuracy, live_seconds, story)
        else:
            from gui.live_window import run_demo_live_window

            run_demo_live_window(session, protocol, person, accuracy, live_seconds)
        accuracy.score_until(float("inf"))
        report.live = accuracy
        report.latency_median = session.latency.median()
        report.latency_p95 = session.latency.p95()
        report.screen_latency_median = session.screen_latency.median()
        session.close()

    # -------------------------------------------------------------------- summary
    story.title("Result")
    chance = 1.0 / len(classes)
    per_class = ", ".join(f"{c} {a:.0%}" for c, a in accuracy.per_class().items())
    story.say(
        f"Live accuracy {accuracy.accuracy:.0%} over {accuracy.n} windows of "
        f"{plan.paradigm.online.window:g} s (chance {chance:.0%}; by class: {per_class})."
    )
    story.say(
        f"Latency from the last sample of a window to its probabilities: median "
        f"{1e3 * report.latency_median:.0f} ms, 95th percentile {1e3 * report.latency_p95:.0f} ms."
    )
    story.say(
        "Try it on your own headset: bci calibrate --paradigm P.toml --stream NAME, then "
        "bci live --model MODEL.bci --stream NAME (this demo's model: "
        f"{result.model_path})"
    )
    report.seconds = time.monotonic() - t_start
    return report


def _calibrate_in_terminal(run: CalibrationRun, story: Story) -> None:
    n = run.protocol.n_trials

    def narrate(events: list[CalibrationEvent]) -> None:
        for ev in events:
            if ev.phase == "cue":
                story.say(
                    f"trial {ev.trial + 1:2d}/{n}: cue {ev.label.upper():5s} -> the person "
                    f"{ACTIONS.get(ev.label, 'does ' + ev.label)}"
                )
            elif ev.phase == "done":
                story.say("session over; closing the XDF file (takes a few seconds)")

    run.run_headless(on_update=narrate)


def _live_in_terminal(
    session: LiveSession,
    protocol: CalibrationProtocol,
    person: SimulatedPerson,
    accuracy: LiveAccuracy,
    seconds: float,
    story: Story,
) -> None:
    protocol_events = protocol.start()
    end = time.monotonic() + seconds
    trial_outputs: list[int] = []
    current: str | None = None
    while time.monotonic() < end:
        for ev in protocol_events:
            person.follow(ev)
            if ev.phase == "cue":
                current = ev.label
                trial_outputs = []
            elif ev.phase == "rest" and current is not None:
                _narrate_live_trial(story, session.classes, current, trial_outputs)
                current = None
        update = session.step()
        accuracy.add_markers(update.marker_times, update.markers)
        accuracy.add_outputs(update.prob_times, update.probabilities)
        accuracy.score_until(update.now)
        if current is not None:
            trial_outputs.extend(int(np.argmax(p)) for p in update.probabilities)
        for ev in update.events:
            story.say(f"stream: {ev.message}")
        protocol_events = protocol.update()
        time.sleep(0.02)  # pacing the loop like a 50 Hz display would
    person.follow(CalibrationEvent(pylsl.local_clock(), "rest", "rest", -1, None))


def _narrate_live_trial(
    story: Story, classes: tuple[str, ...], truth: str, outputs: list[int]
) -> None:
    if not outputs:
        return
    counts = np.bincount(outputs, minlength=len(classes))
    said = classes[int(np.argmax(counts))]
    verdict = "correct" if said == truth else "wrong"
    story.say(
        f"the person imagines {truth.upper():5s} -> the classifier mostly says {said.upper():5s} "
        f"({counts.max()}/{len(outputs)} windows) {verdict}"
    )


def main_exit_code(report: DemoReport) -> int:
    """0 when the demo ran to its end and measured a live accuracy."""
    return 0 if report.live is not None and report.live.n > 0 else 1


__all__ = [
    "DemoPlan",
    "DemoReport",
    "LiveAccuracy",
    "SimulatedPerson",
    "Story",
    "display_available",
    "plan_demo",
    "run_demo",
]
