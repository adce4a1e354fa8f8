"""Live accuracy of classified windows against what a person was really doing."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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


__all__ = ["LiveAccuracy"]
