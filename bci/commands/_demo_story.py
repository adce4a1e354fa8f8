"""The story of ``bci demo``: calibrate, train and classify live on a simulated headset.

The story, with no hardware and nothing downloaded:

1. a :class:`~acquisition.simulator.SimulatedHeadset` streams EEG on LSL through a
   :class:`~acquisition.player.Player`, like a real headset would;
2. a short calibration session cues left / right (/ feet) imagery; the simulated person
   (:class:`~bci.simulated_person.SimulatedPerson`) follows every cue while the EEG and
   the cue markers are recorded to XDF;
3. the paradigm's pipeline is cross-validated and trained on that recording and saved as
   a ``.bci`` model;
4. live classification of the same stream, while the simulated person keeps following
   new cues; since the demo knows what the person is really doing, it measures the live
   accuracy (:class:`~bci.live_accuracy.LiveAccuracy`).

With a display this happens in the calibration and live windows; without one (or with
``headless``) the same story is told in the terminal. This module is the command layer:
it is the one that opens the windows (importing :mod:`gui` when it does); the signal
logic it drives is in the library (:mod:`bci.demo_plan`, :mod:`bci.live_accuracy`,
:mod:`bci.simulated_person`, :mod:`bci.calibration_run`, :mod:`bci.live_session`).

A private module of :mod:`bci.commands`: heavy imports at the top, so it is imported only
when ``bci demo`` runs, never when the commands register.
"""

from __future__ import annotations

import html
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pylsl

from acquisition.lsl_source import LSLSource
from acquisition.player import Player
from acquisition.simulator import SimulatedHeadset
from bci.calibration import CalibrationEvent, CalibrationProtocol
from bci.calibration_run import CalibrationResult, CalibrationRun
from bci.commands.display import display_available
from bci.demo_plan import plan_demo
from bci.errors import BCIError
from bci.live_accuracy import LiveAccuracy
from bci.live_report import accuracy_verdict
from bci.live_session import LiveSession
from bci.model_file import load_model
from bci.simulated_person import SimulatedPerson

if TYPE_CHECKING:
    from bci.live_session import LiveUpdate

#: What the simulated person does for each class, for the story.
#: Seconds each result screen stays in the demo's windows (training result, live accuracy).
RESULT_SECONDS = 8.0

ACTIONS = {
    "left": "imagines squeezing the LEFT hand",
    "right": "imagines squeezing the RIGHT hand",
    "feet": "imagines moving both FEET",
}


@dataclass
class DemoReport:
    """What a demo run measured."""

    calibration: CalibrationResult | None = None
    live: LiveAccuracy | None = None
    latency_median: float = float("nan")
    latency_p95: float = float("nan")
    screen_latency_median: float = float("nan")
    seconds: float = 0.0


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
    story = story or Story()
    if headless is None:
        headless = not display_available()
    plan = plan_demo(seconds, result_seconds=0.0 if headless else RESULT_SECONDS)
    folder = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="bci-demo-"))
    name = f"bci-demo-{uuid.uuid4().hex[:6]}"
    report = DemoReport()
    t_start = time.monotonic()
    classes = plan.classes

    story.title("bci demo: a brain-computer interface on a simulated headset")
    story.say(
        f"A simulated person wears a {len(SimulatedHeadset().info.ch_names)}-channel EEG cap. "
        f"They will learn to drive {len(classes)} commands: {', '.join(classes)}. "
        f"This takes about {plan.expected_seconds:.0f} s, {plan.live_seconds:.0f} s of it live."
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
            result = run_calibration_window(run, auto_close=True, result_seconds=RESULT_SECONDS)
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
        # Whatever calibration and training left of the budget (they vary with the machine),
        # and never less than the plan's share.
        live_seconds = max(plan.live_seconds, seconds - (time.monotonic() - t_start) - 1.5)
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
        step = plan.paradigm.online.step
        try:
            if headless:
                _live_in_terminal(session, protocol, person, accuracy, live_seconds, story)
            else:
                _live_in_window(session, protocol, person, accuracy, live_seconds, step)
        finally:
            # The inlet before the outlet (the player): closed the other way round, liblsl
            # complains that the transmission broke off.
            session.close()
        accuracy.score_until(float("inf"))
        report.live = accuracy
        report.latency_median = session.latency.median()
        report.latency_p95 = session.latency.p95()
        report.screen_latency_median = session.screen_latency.median()

    # -------------------------------------------------------------------- summary
    story.title("Result")
    chance = 1.0 / len(classes)
    per_class = ", ".join(f"{c} {a:.0%}" for c, a in accuracy.per_class().items())
    story.say(
        f"Live accuracy {accuracy.accuracy:.0%} over {accuracy.n} windows of "
        f"{plan.paradigm.online.window:g} s (chance {chance:.0%}; by class: {per_class}): "
        f"{accuracy_verdict(accuracy, plan.paradigm.online.step)}."
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


def _live_in_window(
    session: LiveSession,
    protocol: CalibrationProtocol,
    person: SimulatedPerson,
    accuracy: LiveAccuracy,
    seconds: float,
    step: float,
) -> None:
    """The live phase in the live window: the person follows ``protocol`` while it is shown.

    At the end the views freeze and the live accuracy stays on screen for
    :data:`RESULT_SECONDS` (a countdown on the Close button).
    """
    from gui.live_window import LiveWindow, run_live_window

    events = protocol.start()

    def follow(window: LiveWindow, update: LiveUpdate) -> None:
        nonlocal events
        for ev in events + protocol.update():
            person.follow(ev)
        events = []
        accuracy.add_markers(update.marker_times, update.markers)
        accuracy.add_outputs(update.prob_times, update.probabilities)
        accuracy.score_until(update.now)
        doing = person.doing.upper() if person.doing else "resting"
        score = "-" if accuracy.n == 0 else f"{accuracy.accuracy:.0%} over {accuracy.n} windows"
        window.set_caption(
            f"The simulated person is {'imagining ' if person.doing else ''}{doing}.   "
            f"Live accuracy: {score}"
        )

    def final_text() -> str:
        accuracy.score_until(float("inf"))
        if accuracy.n == 0:
            return "Live classification over: no window could be scored."
        per_class = ", ".join(f"{c} {a:.0%}" for c, a in accuracy.per_class().items())
        # Rich text: the verdict says "p < 0.05", and a bare "<" would open a tag and
        # swallow the rest of the sentence on screen.
        return (
            f"Live accuracy <b>{accuracy.accuracy:.0%}</b> over {accuracy.n} windows "
            + html.escape(f"(by class: {per_class}): {accuracy_verdict(accuracy, step)}.")
        )

    run_live_window(
        session,
        seconds=seconds,
        on_tick=follow,
        final_text=final_text,
        final_seconds=RESULT_SECONDS,
    )


__all__ = ["ACTIONS", "DemoReport", "Story", "confusion_lines", "main_exit_code", "run_demo"]
