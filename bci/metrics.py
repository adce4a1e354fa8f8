"""Classification metrics as pure functions: chance level, significance, kappa, confusion.

The significance threshold follows Combrisson & Jerbi (2015), "Exceeding chance level by
chance: the caveat of theoretical chance levels in brain signal classification and
statistical assessment of decoding accuracy", J Neurosci Methods 250:126-136: with ``n``
test decisions at chance probability ``p0``, the number of correct decisions is binomial
``B(n, p0)``, and decoding is better than chance at level ``alpha`` when the accuracy
*exceeds* ``binoinv(1 - alpha, n, p0) / n`` (their equation 1); accuracies at or below it
are reported as not above chance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from bci.errors import BCIError


def _labels(y: Sequence | np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray([str(v) for v in np.asarray(y).reshape(-1).tolist()], dtype=str)
    if arr.size == 0:
        raise BCIError(f"{name} is empty; need at least one label")
    return arr


def chance_level(y: Sequence | np.ndarray | None = None, *, n_classes: int | None = None) -> float:
    """Accuracy of always answering the most frequent class.

    Parameters
    ----------
    y : sequence of labels, optional
        The true labels; the chance level is the majority-class proportion (``1/n_classes``
        when the classes are balanced).
    n_classes : int, optional
        Used when ``y`` is not given: ``1 / n_classes``.

    Returns
    -------
    float
    """
    if y is not None:
        labels = _labels(y, "y")
        _, counts = np.unique(labels, return_counts=True)
        return float(counts.max() / labels.size)
    if n_classes is None or int(n_classes) < 1:
        raise BCIError(
            f"chance_level needs labels y or n_classes >= 1, got n_classes={n_classes!r}"
        )
    return 1.0 / int(n_classes)


def significance_threshold(
    n: int, n_classes: int | None = None, p: float = 0.05, *, chance: float | None = None
) -> float:
    """Accuracy that must be exceeded to beat chance at level ``p`` with ``n`` decisions.

    Parameters
    ----------
    n : int
        Number of test decisions (epochs).
    n_classes : int, optional
        Chance probability ``1 / n_classes`` when ``chance`` is not given.
    p : float
        Significance level (one-sided).
    chance : float, optional
        Chance probability of a correct decision (e.g. the majority-class proportion).

    Returns
    -------
    float
        ``binom.ppf(1 - p, n, chance) / n``: ``k / n`` with ``k`` the smallest count such
        that ``P(X > k) <= p`` under ``X ~ Binomial(n, chance)``. An accuracy must be
        strictly greater (Combrisson & Jerbi 2015, eq. 1).
    """
    if int(n) < 1:
        raise BCIError(f"significance_threshold: n must be >= 1 decision, got {n!r}")
    if not 0 < p < 1:
        raise BCIError(f"significance_threshold: p must be in (0, 1), got {p!r}")
    if chance is None:
        if n_classes is None or int(n_classes) < 2:
            raise BCIError(
                f"significance_threshold: need n_classes >= 2 or chance, got {n_classes!r}"
            )
        chance = 1.0 / int(n_classes)
    if not 0 < chance < 1:
        raise BCIError(f"significance_threshold: chance must be in (0, 1), got {chance!r}")
    n = int(n)
    # binom.ppf(q) is the smallest k with CDF(k) >= q, i.e. P(X > k) <= 1 - q.
    k = float(stats.binom.ppf(1.0 - p, n, chance))
    return k / n


def confusion_matrix(
    y_true: Sequence | np.ndarray, y_pred: Sequence | np.ndarray, classes: Sequence[str]
) -> np.ndarray:
    """Counts with rows = true class and columns = predicted class, in ``classes`` order.

    Labels not in ``classes`` raise :class:`~bci.errors.BCIError`.
    """
    t = _labels(y_true, "y_true")
    pr = _labels(y_pred, "y_pred")
    if t.size != pr.size:
        raise BCIError(f"confusion_matrix: {t.size} true labels but {pr.size} predictions")
    names = [str(c) for c in classes]
    index = {c: i for i, c in enumerate(names)}
    unknown = sorted((set(t.tolist()) | set(pr.tolist())) - set(names))
    if unknown:
        raise BCIError(f"confusion_matrix: labels {unknown} are not in classes {names}")
    cm = np.zeros((len(names), len(names)), dtype=np.int64)
    for a, b in zip(t.tolist(), pr.tolist(), strict=True):
        cm[index[a], index[b]] += 1
    return cm


def cohen_kappa(cm: np.ndarray) -> float:
    """Cohen's kappa of a confusion matrix: ``(p_o - p_e) / (1 - p_e)``.

    ``p_o`` is the observed agreement (accuracy), ``p_e`` the agreement expected from the
    row and column marginals. Returns 0.0 when ``p_e == 1`` (a single class everywhere).
    """
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise BCIError(f"cohen_kappa expects a square confusion matrix, got shape {cm.shape}")
    total = cm.sum()
    if total <= 0:
        raise BCIError("cohen_kappa: the confusion matrix is empty")
    p_o = np.trace(cm) / total
    p_e = float(np.sum(cm.sum(axis=0) * cm.sum(axis=1))) / total**2
    if p_e >= 1.0:
        return 0.0
    return float((p_o - p_e) / (1.0 - p_e))


def accuracy(y_true: Sequence | np.ndarray, y_pred: Sequence | np.ndarray) -> float:
    """Fraction of equal labels."""
    t = _labels(y_true, "y_true")
    pr = _labels(y_pred, "y_pred")
    if t.size != pr.size:
        raise BCIError(f"accuracy: {t.size} true labels but {pr.size} predictions")
    return float(np.mean(t == pr))


def verdict(accuracy_value: float, threshold: float, chance: float) -> tuple[bool, str]:
    """``(above_chance, sentence)`` for a measured accuracy against its threshold."""
    above = bool(accuracy_value > threshold)
    if above:
        text = (
            f"above chance: accuracy {accuracy_value:.3f} exceeds the p < 0.05 threshold "
            f"{threshold:.3f} (chance {chance:.3f})"
        )
    else:
        text = (
            f"not above chance: accuracy {accuracy_value:.3f} does not exceed the p < 0.05 threshold "
            f"{threshold:.3f} (chance {chance:.3f}); this model cannot be trusted to decode"
        )
    return above, text
