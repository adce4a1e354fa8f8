"""Live accuracy of classified windows against what a person was really doing."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bci.paradigm import normalize_marker


@dataclass
class LiveAccuracy:
    """Live accuracy against what the person was really doing (known from markers).

    By default the markers are state changes (the simulator's own markers: class names,
    ``"rest"``, stamped at the sample where they happened): a window counts when one class
    was held over the whole window; windows overlapping a change or a rest are not scored.
    With ``epoch``, markers are cues (a paradigm's marker stream): a class holds from
    ``tmin`` to ``tmax`` after its marker, and a window counts when it lies inside that
    epoch, the same epochs training used.

    Parameters
    ----------
    classes : tuple of str
        Class names in probability-column order.
    window : float
        Online window length in seconds.
    names : dict or None
        Marker string -> class name (a paradigm's ``marker_to_class``); markers not in it
        are kept as they are (a class name, or something that is not scored).
    epoch : (float, float) or None
        ``(tmin, tmax)`` of a cue's epoch; None: markers are state changes.
    """

    classes: tuple[str, ...]
    window: float
    names: dict[str, str] | None = None
    epoch: tuple[float, float] | None = None
    changes: list[tuple[float, str]] = field(default_factory=list)
    pending: list[tuple[float, np.ndarray]] = field(default_factory=list)
    scored: list[tuple[str, str]] = field(default_factory=list)

    def add_markers(self, times: np.ndarray, labels: list[str]) -> None:
        """Record the person's state changes (or cues, with ``epoch``)."""
        names = self.names or {}
        for t, lab in zip(times, labels, strict=True):
            label = names.get(normalize_marker(lab), str(lab)) if names else str(lab)
            self.changes.append((float(t), label))
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
        if self.epoch is not None:
            tmin, tmax = self.epoch
            # The newest cue whose epoch began before the window; inside it, or nothing.
            for t, label in reversed(self.changes):
                if t + tmin <= start + 1e-9:
                    return label if t_end <= t + tmax + 1e-9 else None
            return None
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


__all__ = ["LiveAccuracy"]
