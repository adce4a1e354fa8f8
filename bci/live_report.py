"""What a live session did, for the summary ``bci live`` prints when it ends.

A :class:`LiveReport` is fed every :class:`~bci.live_session.LiveUpdate` (by the headless
loop or the window's frame callback). With a marker stream it also scores the live
accuracy against the markers with the demo's :class:`~bci.live_accuracy.LiveAccuracy`: a window
counts when it lies inside a marked epoch (the paradigm's ``[epochs] tmin..tmax`` after a
class marker), the same epochs training used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from bci.live_accuracy import LiveAccuracy
from bci.metrics import significance_threshold


def accuracy_verdict(accuracy: LiveAccuracy, step: float | None = None) -> str:
    """ "above chance" or "not above chance" for a live accuracy, with the threshold used.

    Overlapping windows are not independent decisions: with a step shorter than the
    window, the binomial test (Combrisson & Jerbi 2015, as for cross-validation) counts
    ``n * step / window`` decisions, the number of non-overlapping windows in the span.
    """
    if accuracy.n == 0:
        return "no window could be scored"
    k = len(accuracy.classes)
    overlap = 1.0 if not step or step >= accuracy.window else step / accuracy.window
    decisions = max(1, int(accuracy.n * overlap))
    threshold = significance_threshold(decisions, k)
    verdict = "above chance" if accuracy.accuracy > threshold else "not above chance"
    return (
        f"{verdict} (chance {1.0 / k:.0%}, {threshold:.0%} needed at p < 0.05 over "
        f"{decisions} independent windows)"
    )


@dataclass
class LiveReport:
    """Counts of a live session, and its live accuracy when markers are known.

    Parameters
    ----------
    accuracy : LiveAccuracy or None
        Scored from the updates' markers and probabilities (None: no marker stream).
    step : float or None
        The online step (for the independence correction of :func:`accuracy_verdict`).
    """

    accuracy: LiveAccuracy | None = None
    step: float | None = None
    windows: int = 0
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def for_pipeline(cls, pipeline: object, *, with_markers: bool) -> LiveReport:
        """A report for a session of ``pipeline``; scored against its paradigm's epochs
        when ``with_markers``."""
        paradigm = getattr(pipeline, "paradigm", None)
        accuracy = None
        if with_markers and paradigm is not None:
            accuracy = LiveAccuracy(
                tuple(str(c) for c in pipeline.classes_),
                paradigm.online.window,
                names=dict(paradigm.marker_to_class),
                epoch=(paradigm.epochs.tmin, paradigm.epochs.tmax),
            )
        step = paradigm.online.step if paradigm is not None else None
        return cls(accuracy=accuracy, step=step)

    def add(self, update: object) -> None:
        """Count what one step produced."""
        self.windows += int(np.asarray(update.prob_times).size)
        if self.accuracy is not None:
            self.accuracy.add_markers(update.marker_times, update.markers)
            self.accuracy.add_outputs(update.prob_times, update.probabilities)
            self.accuracy.score_until(update.now)

    def lines(self, session: object) -> list[str]:
        """The summary: windows, latency, dropped samples and (with markers) accuracy."""
        elapsed = time.monotonic() - self.started
        health = session.health
        dropped = getattr(health, "dropped_samples", 0) if health is not None else 0
        latency = session.latency
        ahead = session.timestamp_lead
        lines = [
            f"live: {self.windows} windows classified in {elapsed:.1f} s; latency median "
            f"{_ms(latency.median())}, p95 {_ms(latency.p95())}"
            + (f" (against arrival: timestamps run {_ms(ahead)} ahead)" if ahead > 0 else "")
            + f"; {dropped} samples dropped"
        ]
        if self.accuracy is not None:
            self.accuracy.score_until(float("inf"))
            acc = self.accuracy
            if acc.n:
                per_class = ", ".join(f"{c} {a:.0%}" for c, a in acc.per_class().items())
                lines.append(
                    f"live accuracy against the markers: {acc.accuracy:.0%} over {acc.n} "
                    f"windows (by class: {per_class}); {accuracy_verdict(acc, self.step)}"
                )
            else:
                lines.append(
                    "live accuracy: no window fell inside a marked epoch (no class markers "
                    "of the paradigm arrived on the marker stream)"
                )
        return lines


def _ms(seconds: float) -> str:
    return "-" if not np.isfinite(seconds) else f"{1e3 * seconds:.0f} ms"


__all__ = ["LiveReport", "accuracy_verdict"]
