"""When to stop iterating: no improvement of a score for a number of epochs.

Shared by the estimators trained epoch by epoch (softmax regression's gradient-ascent
solvers, the MLP): the rule, the ``"auto"`` switch, and the loop that keeps the weights
of the best held-out epoch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Below this many training samples, ``early_stopping="auto"`` keeps all data for training
#: (a held-out tenth of a small set is too noisy to decide anything) and relies on L2.
EARLY_STOPPING_MIN_SAMPLES = 200


def resolve_early_stopping(early_stopping: bool | str, n_samples: int) -> bool:
    """``"auto"`` means on when there are at least ``EARLY_STOPPING_MIN_SAMPLES`` samples."""
    if early_stopping == "auto":
        return n_samples >= EARLY_STOPPING_MIN_SAMPLES
    return bool(early_stopping)


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


def run_epochs(
    run_epoch: Callable[[], float],
    monitor: StoppingMonitor,
    max_iter: int,
    *,
    held_out_score: Callable[[], float] | None = None,
    weights: np.ndarray | None = None,
) -> tuple[list[float], list[float], int]:
    """Run ``run_epoch`` (returns the training loss) until ``monitor`` says stop.

    Without ``held_out_score`` the monitored score is minus the training loss. With it
    (early stopping), the score is the held-out one and ``weights`` (the model's flat
    parameter buffer) is restored in place to its value after the best epoch.

    Returns
    -------
    (loss_curve, validation_scores, best_epoch)
    """
    losses: list[float] = []
    scores: list[float] = []
    best = weights.copy() if held_out_score is not None else None
    best_epoch = 0
    for epoch in range(max_iter):
        loss = run_epoch()
        losses.append(loss)
        if held_out_score is not None:
            score = held_out_score()
            scores.append(score)
        else:
            score = -loss
        is_best, stop = monitor.update(score, epoch)
        if is_best:
            best_epoch = epoch
            if best is not None:
                best[...] = weights
        if stop:
            break
    if best is not None:
        weights[...] = best
    return losses, scores, best_epoch
