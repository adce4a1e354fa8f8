"""Cross-validation folds: stratified by class (seeded) or grouped (recording/session/run).

A fold is a pair ``(train_index, test_index)`` of integer arrays that partition the
epochs. Grouped folds keep every epoch of a group on the same side, so windows or
epochs of one recording can never be both trained on and tested on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bci.errors import BCIError

Fold = tuple[np.ndarray, np.ndarray]


def stratified_folds(y: Sequence | np.ndarray, n_folds: int, seed: int | None = 42) -> list[Fold]:
    """Seeded stratified k-fold, assigning epochs exactly as scikit-learn does.

    The fold assignment is that of ``sklearn.model_selection.StratifiedKFold(n_folds,
    shuffle=True, random_state=seed)``, so an accuracy reported here for a seed is computed
    on the same folds as a published scikit-learn/MNE/pyRiemann pipeline with that seed.
    Classes are taken in order of first appearance; the sorted labels are dealt
    round-robin to decide how many epochs of each class every fold gets (sizes differ by
    at most one); then each class's fold labels are shuffled.

    Raises
    ------
    BCIError
        ``n_folds`` < 2 or larger than the smallest class (a fold would lack that class).
    """
    labels = np.asarray([str(v) for v in np.asarray(y).reshape(-1).tolist()], dtype=str)
    n_folds = int(n_folds)
    if n_folds < 2:
        raise BCIError(f"cv = {n_folds}: need at least 2 folds")
    names, first_index, inverse = np.unique(labels, return_index=True, return_inverse=True)
    _, class_rank = np.unique(first_index, return_inverse=True)
    encoded = class_rank[inverse.reshape(-1)]
    counts = np.bincount(encoded)
    if counts.size and counts.min() < n_folds:
        small = str(names[np.argmin(np.bincount(inverse.reshape(-1)))])  # not np.str_('x')
        raise BCIError(
            f"cv = {n_folds} folds but class {small!r} has only {counts.min()} epochs; "
            f"use --cv {max(2, int(counts.min()))} or record more trials"
        )
    # The legacy generator is what scikit-learn seeds; it makes the folds identical to its.
    rng = np.random.RandomState(seed)
    dealt = np.sort(encoded)
    allocation = np.asarray(
        [np.bincount(dealt[i::n_folds], minlength=counts.size) for i in range(n_folds)]
    )
    fold_of = np.empty(labels.size, dtype=np.int64)
    for k in range(counts.size):
        folds_for_class = np.arange(n_folds).repeat(allocation[:, k])
        rng.shuffle(folds_for_class)
        fold_of[encoded == k] = folds_for_class
    return _folds_from_assignment(fold_of, n_folds)


def group_folds(groups: Sequence | np.ndarray, n_folds: int, seed: int | None = 42) -> list[Fold]:
    """Folds that never split a group; leave-one-group-out when ``n_groups <= n_folds``.

    With more groups than folds, groups are shuffled (seeded) and assigned greedily to the
    fold with the fewest epochs so far, largest group first.

    Raises
    ------
    BCIError
        Fewer than two groups: nothing to hold out.
    """
    g = np.asarray([str(v) for v in np.asarray(groups).reshape(-1).tolist()], dtype=str)
    names, inverse, sizes = np.unique(g, return_inverse=True, return_counts=True)
    if names.size < 2:
        raise BCIError(
            f"grouped cross-validation needs at least 2 groups (recordings/sessions/runs), "
            f"got {names.size}; give more recordings or drop --group-by"
        )
    n_folds = int(n_folds)
    if n_folds < 2:
        raise BCIError(f"cv = {n_folds}: need at least 2 folds")
    if names.size <= n_folds:
        return _folds_from_assignment(inverse, names.size)
    rng = np.random.default_rng(seed)
    order = rng.permutation(names.size)
    order = order[np.argsort(-sizes[order], kind="stable")]
    load = np.zeros(n_folds, dtype=np.int64)
    fold_of_group = np.empty(names.size, dtype=np.int64)
    for gi in order:
        f = int(np.argmin(load))
        fold_of_group[gi] = f
        load[f] += sizes[gi]
    return _folds_from_assignment(fold_of_group[inverse], n_folds)


def make_folds(
    y: Sequence | np.ndarray,
    groups: Sequence | np.ndarray | None = None,
    *,
    n_folds: int = 5,
    seed: int | None = 42,
) -> list[Fold]:
    """Grouped folds when ``groups`` is given, else stratified epoch-level folds."""
    if groups is None:
        return stratified_folds(y, n_folds, seed)
    g = np.asarray(groups).reshape(-1)
    if g.size != np.asarray(y).reshape(-1).size:
        raise BCIError(f"{g.size} group labels for {np.asarray(y).size} epochs; give one each")
    return group_folds(g, n_folds, seed)


def _folds_from_assignment(fold_of: np.ndarray, n_folds: int) -> list[Fold]:
    all_idx = np.arange(fold_of.size)
    folds = []
    for f in range(n_folds):
        test = all_idx[fold_of == f]
        if test.size:
            folds.append((all_idx[fold_of != f], test))
    return folds
