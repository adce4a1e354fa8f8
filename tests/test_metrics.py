"""Metric functions checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from bci.errors import BCIError
from bci.metrics import (
    accuracy,
    chance_level,
    cohen_kappa,
    confusion_matrix,
    significance_threshold,
    verdict,
)


def test_chance_level_is_majority_proportion_or_one_over_k():
    assert chance_level(["a", "a", "b", "c"]) == 0.5
    assert chance_level(["a", "b"] * 5) == 0.5
    assert chance_level(n_classes=4) == 0.25
    with pytest.raises(BCIError, match="n_classes"):
        chance_level()


def test_significance_threshold_matches_combrisson_table():
    # n = 100, 2 classes: P(X > 58) = 0.044 <= 0.05 < P(X > 57) = 0.067, so 58 %.
    assert significance_threshold(100, 2) == pytest.approx(0.58)
    # n = 10, 2 classes by hand: P(X > 8) = 11/1024 = 0.011, P(X > 7) = 56/1024 = 0.055.
    assert significance_threshold(10, 2) == pytest.approx(0.8)
    # Stricter level, more classes and a given chance: thresholds move the right way.
    assert significance_threshold(100, 2, p=0.01) > significance_threshold(100, 2)
    assert significance_threshold(64, 4) < significance_threshold(64, 2)
    assert significance_threshold(40, chance=0.7) > 0.7


def test_significance_threshold_rejects_bad_input():
    with pytest.raises(BCIError, match="n must be"):
        significance_threshold(0, 2)
    with pytest.raises(BCIError, match="n_classes"):
        significance_threshold(10, 1)
    with pytest.raises(BCIError, match="p must"):
        significance_threshold(10, 2, p=1.5)


def test_confusion_matrix_rows_true_columns_predicted_in_class_order():
    cm = confusion_matrix(["a", "a", "b", "c"], ["a", "b", "b", "a"], ["c", "b", "a"])
    # rows/cols: c, b, a
    assert cm.tolist() == [[0, 0, 1], [0, 1, 0], [0, 1, 1]]
    with pytest.raises(BCIError, match="not in classes"):
        confusion_matrix(["a"], ["z"], ["a"])
    with pytest.raises(BCIError, match="predictions"):
        confusion_matrix(["a", "a"], ["a"], ["a"])


def test_cohen_kappa_by_hand():
    # p_o = (20 + 15) / 50 = 0.7; p_e = (25*30 + 25*20) / 2500 = 0.5; kappa = 0.4.
    cm = np.array([[20, 5], [10, 15]])
    assert cohen_kappa(cm) == pytest.approx(0.4)
    assert cohen_kappa(np.diag([5, 5])) == pytest.approx(1.0)
    assert cohen_kappa(np.array([[5, 0], [5, 0]])) == pytest.approx(0.0)
    with pytest.raises(BCIError, match="square"):
        cohen_kappa(np.ones((2, 3)))


def test_accuracy_and_verdict_sentence():
    assert accuracy(["a", "b", "b"], ["a", "b", "a"]) == pytest.approx(2 / 3)
    above, text = verdict(0.9, 0.6, 0.5)
    assert above and text.startswith("above chance")
    above, text = verdict(0.6, 0.6, 0.5)  # equal to the threshold is not enough
    assert not above and "not above chance" in text
