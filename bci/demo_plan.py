"""How a ``bci demo`` of a given length is split between calibration and live use.

The demo's paradigm is the built-in ``demo`` one, shortened to fit: fewer classes and
shorter trials when the demo is short, epochs and online window fitted to the imagery.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bci.calibration import SessionTimings, timings_from_paradigm
from bci.errors import BCIError
from bci.paradigm import Paradigm, builtin_paradigm

#: Seconds the demo spends outside the calibration and live phases: LSL discovery, the
#: recorder's lead-in and tail, closing the XDF file (labrecorder takes ~5.5 s to stop),
#: training.
OVERHEAD_SECONDS = 9.0


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
        Length of the live phase: what calibration leaves, and at least 15 s (half of a
        shorter demo).
    result_seconds : float
        How long each result screen stays (the training result, the live accuracy) when
        the demo runs in windows; 0 in the terminal.
    """

    paradigm: Paradigm
    timings: SessionTimings
    live_timings: SessionTimings
    trials_per_class: int
    live_seconds: float
    result_seconds: float = 0.0

    @property
    def classes(self) -> tuple[str, ...]:
        """The classes cued."""
        return tuple(self.paradigm.classes)

    @property
    def calibration_seconds(self) -> float:
        """Expected length of the calibration session."""
        return len(self.classes) * self.trials_per_class * self.timings.mean_trial

    @property
    def expected_seconds(self) -> float:
        """What the whole demo is expected to take (a short one runs over its ``seconds``)."""
        return (
            OVERHEAD_SECONDS
            + self.calibration_seconds
            + 2 * self.result_seconds
            + self.live_seconds
        )


def plan_demo(seconds: float = 90.0, *, result_seconds: float = 0.0) -> DemoPlan:
    """Fit the demo into ``seconds``: fewer classes and shorter trials when short.

    Keeps at least 5 trials per class and at least 0.8 s of imagery per trial. Below
    60 s the demo uses two classes (left, right), otherwise all three of the paradigm.
    The live phase gets what is left, and at least 15 s (half of a demo shorter than
    30 s), so a short demo runs over: its calibration cannot shrink below those trials, and
    in windows each result screen stays ``result_seconds``.
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
    pauses = 2 * float(result_seconds)
    # At least 15 s (half a short demo) of live use, even when that runs over ``seconds``.
    live_seconds = max(min(15.0, 0.5 * seconds), seconds - OVERHEAD_SECONDS - calibration - pauses)
    return DemoPlan(
        paradigm, timings, live_timings, trials_per_class, live_seconds, float(result_seconds)
    )


__all__ = ["OVERHEAD_SECONDS", "DemoPlan", "plan_demo"]
