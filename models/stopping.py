"""When to stop iterating: no improvement of a score for a number of epochs."""

from __future__ import annotations


class StoppingMonitor:
    """Track a score to maximise; say when it stopped improving.

    Parameters
    ----------
    patience : int
        Stop after this many consecutive epochs without an improvement larger than ``tol``.
    tol : float
        The smallest increase that counts as an improvement.
    """

    def __init__(self, patience: int, tol: float) -> None:
        self.patience = patience
        self.tol = tol
        self.best = -float("inf")
        self.best_epoch = -1
        self._since_best = 0

    def update(self, score: float, epoch: int) -> tuple[bool, bool]:
        """Record ``score`` of ``epoch``; return ``(is_new_best, should_stop)``."""
        improved = score > self.best + self.tol
        is_best = score > self.best
        if is_best:
            self.best = score
            self.best_epoch = epoch
        self._since_best = 0 if improved else self._since_best + 1
        return is_best, self._since_best >= self.patience
