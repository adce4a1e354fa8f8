"""Fold generation: partitions, no leakage, groups kept whole, stratification, seeding."""

from __future__ import annotations

import numpy as np
import pytest

from bci.errors import BCIError
from bci.splits import group_folds, make_folds, stratified_folds


def _check_partition(folds, n):
    tests = np.concatenate([t for _, t in folds])
    assert np.array_equal(np.sort(tests), np.arange(n))  # every epoch tested exactly once
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0  # no epoch on both sides
        assert train.size + test.size == n


def test_stratified_folds_partition_and_balance():
    y = np.array(["a"] * 23 + ["b"] * 22 + ["c"] * 10)
    folds = stratified_folds(y, 5, seed=1)
    assert len(folds) == 5
    _check_partition(folds, y.size)
    for _, test in folds:
        counts = {c: int(np.sum(y[test] == c)) for c in "abc"}
        assert counts["a"] in (4, 5) and counts["b"] in (4, 5) and counts["c"] == 2
        assert test.size in (11, 12)


def test_stratified_folds_seeded_determinism():
    y = np.array(["l", "r"] * 20)
    a = stratified_folds(y, 4, seed=7)
    b = stratified_folds(y, 4, seed=7)
    c = stratified_folds(y, 4, seed=8)
    assert all(np.array_equal(x[1], z[1]) for x, z in zip(a, b, strict=True))
    assert not all(np.array_equal(x[1], z[1]) for x, z in zip(a, c, strict=True))


def test_stratified_folds_errors():
    with pytest.raises(BCIError, match="only 2 epochs"):
        stratified_folds(["a", "a", "b", "b", "b"], 3)
    with pytest.raises(BCIError, match="at least 2 folds"):
        stratified_folds(["a", "b"], 1)


def test_group_folds_never_split_a_group():
    groups = np.repeat(np.arange(7), [5, 9, 3, 8, 6, 4, 10])
    folds = group_folds(groups, 3, seed=0)
    assert len(folds) == 3
    _check_partition(folds, groups.size)
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])


def test_group_folds_leave_one_group_out_when_few_groups():
    groups = np.array(["r1"] * 4 + ["r2"] * 4 + ["r3"] * 4)
    folds = make_folds(np.array(["a", "b"] * 6), groups, n_folds=5)
    assert len(folds) == 3
    for _, test in folds:
        assert len(set(groups[test])) == 1
    with pytest.raises(BCIError, match="at least 2 groups"):
        group_folds(["x"] * 5, 5)
    with pytest.raises(BCIError, match="group labels"):
        make_folds(["a", "b"], ["g"], n_folds=2)


@pytest.mark.parametrize("seed", [0, 7, 42])
def test_stratified_folds_are_scikit_learns_folds(seed):
    # Accuracies must be comparable with peers evaluated on StratifiedKFold(shuffle=True).
    model_selection = pytest.importorskip("sklearn.model_selection")
    rng = np.random.default_rng(seed)
    for y in (
        rng.choice(["left", "right", "feet"], size=47),
        np.array(["T2"] * 22 + ["T1"] * 23)[rng.permutation(45)],
        rng.integers(0, 4, size=101),
    ):
        ours = stratified_folds(y, 5, seed)
        theirs = model_selection.StratifiedKFold(5, shuffle=True, random_state=seed).split(
            np.zeros(len(y)), y
        )
        for (tr, te), (sk_tr, sk_te) in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(te, sk_te)
            np.testing.assert_array_equal(tr, sk_tr)
