"""One perceptron epoch over samples in a fixed order: three exact ways to make the visit.

Every scan makes exactly the sequential perceptron's decisions: sample ``j`` is scored
with the weights left by the updates at samples ``0..j-1`` of the epoch, and a mistake
updates the weights (binary: ``w += y* f``; multiclass: ``w_pred -= f``, ``w_true += f``).
They differ only in how many numpy calls they need, which is what a pass costs on small
data (the arithmetic is a few hundred flops per sample):

- :func:`scan_sequential`: one sample at a time (any data, any error rate);
- :func:`scan_blocks`: score a block of samples at once and restart after its first
  mistake; cheap when mistakes are rare;
- :func:`scan_gram`: when mistakes are frequent, a block's sequential decisions are the
  fixed point of an iteration on the block's Gram matrix (see its docstring), reached in a
  few matrix products instead of one step per sample.

Each returns ``(where, predicted, loss)``: the positions of the mistakes, the class
predicted there (binary: 0 or 1, i.e. ``classes_[0]`` or ``classes_[1]``), and the summed
perceptron loss ``max(0, -y* w.f)`` (multiclass ``w_pred.f - w_true.f``) at the weights
each mistake met. A correct prediction has loss 0. The weights are updated in place.
"""

from __future__ import annotations

import functools

import numpy as np

ScanResult = tuple[np.ndarray, np.ndarray, float]


def _result(where: list[int], predicted: list[int], loss: float) -> ScanResult:
    return np.asarray(where, dtype=np.intp), np.asarray(predicted, dtype=np.intp), loss


def scan_sequential(W: np.ndarray, rows: np.ndarray, labels: np.ndarray) -> ScanResult:
    """Visit the samples one by one: predict, and on a mistake update ``W``.

    ``W`` is (1, n_features) for two classes (``labels`` 1 is the positive class), else
    (n_classes, n_features); ``rows`` already carry the bias feature.
    """
    where: list[int] = []
    predicted: list[int] = []
    loss = 0.0
    if W.shape[0] == 1:
        w = W[0]
        for i, (f, positive) in enumerate(zip(rows, (labels == 1).tolist(), strict=True)):
            s = float(f @ w)
            if (s >= 0.0) != positive:
                if positive:
                    w += f
                else:
                    w -= f
                where.append(i)
                predicted.append(0 if positive else 1)
                loss += abs(s)
        return _result(where, predicted, loss)
    for i, (f, y_star) in enumerate(zip(rows, labels.tolist(), strict=True)):
        scores = W @ f
        y_hat = int(scores.argmax())
        if y_hat != y_star:
            loss += float(scores[y_hat] - scores[y_star])
            W[y_hat] -= f
            W[y_star] += f
            where.append(i)
            predicted.append(y_hat)
    return _result(where, predicted, loss)


def scan_blocks(W: np.ndarray, rows: np.ndarray, labels: np.ndarray, block: int) -> ScanResult:
    """The same visit, scoring ``block`` samples at once with the current weights.

    Until the first mistake in a block the weights do not change, so those samples'
    predictions are exactly the sequential ones; after the update at that mistake the
    scan restarts at the next sample. With few mistakes (late epochs, separable data)
    this replaces most per-sample steps by one matrix product per block.
    """
    where: list[int] = []
    predicted: list[int] = []
    loss = 0.0
    n = rows.shape[0]
    binary = W.shape[0] == 1
    positive = labels == 1
    i = 0
    while i < n:
        blk = rows[i : i + block]
        if binary:
            w = W[0]
            margins = blk @ w
            bad = np.flatnonzero((margins >= 0.0) != positive[i : i + block])
            if bad.size == 0:
                i += blk.shape[0]
                continue
            j = i + int(bad[0])
            loss += abs(float(margins[bad[0]]))
            if positive[j]:
                w += rows[j]
            else:
                w -= rows[j]
            predicted.append(0 if positive[j] else 1)
        else:
            scores = blk @ W.T
            pred = scores.argmax(axis=1)
            bad = np.flatnonzero(pred != labels[i : i + block])
            if bad.size == 0:
                i += blk.shape[0]
                continue
            j = i + int(bad[0])
            y_hat, y_star = int(pred[bad[0]]), int(labels[j])
            loss += float(scores[bad[0], y_hat] - scores[bad[0], y_star])
            W[y_hat] -= rows[j]
            W[y_star] += rows[j]
            predicted.append(y_hat)
        where.append(j)
        i = j + 1
    return _result(where, predicted, loss)


def scan_gram(
    W: np.ndarray,
    rows: np.ndarray,
    labels: np.ndarray,
    gram: np.ndarray,
    order: np.ndarray,
    block: int,
) -> ScanResult:
    """The same visit, each block of samples solved as a fixed point on its Gram matrix.

    Within a block scored at its starting weights ``S0`` (one row per sample), an update
    at sample ``m`` changes the later samples' scores by their dot products with ``f_m``,
    so the sequential scores are ``S = S0 + L @ D``: ``L`` is the strictly lower triangle
    of the block's Gram matrix (``L[j, m] = f_j . f_m`` for ``m < j``) and row ``m`` of
    ``D`` is sample ``m``'s update (``e_true - e_pred``, zero if it was right). The
    sequential decisions are the fixed point of "decide from ``S``, rebuild ``D``, update
    ``S``": starting from "no mistakes", every pass makes at least one more leading
    decision final (the first wrong guess is decided from a prefix that is already right),
    so it ends in at most ``block + 1`` passes; on noisy data in a handful, each pass one
    ``block x block`` product, where the sequential scan needs one step per sample. The
    weights are then updated once per block: ``W += D.T @ rows``.

    ``gram`` is the Gram matrix of the training samples in their original order
    (``F @ F.T``), ``order`` the epoch's visiting order (``rows = F[order]``).
    """
    n = rows.shape[0]
    binary = W.shape[0] == 1
    n_blocks = -(-n // block)
    block = -(-n // n_blocks)  # equal blocks: a short last one would cost a whole pass
    minus_lower = _minus_strictly_lower(block, rows.dtype)
    # One-hot rows by ``take`` (several times cheaper than fancy indexing at this size).
    eye = np.eye(W.shape[0], dtype=rows.dtype)
    truths = labels.astype(rows.dtype) if binary else eye.take(labels, axis=0)
    decisions = np.empty(n, dtype=np.intp)
    loss = 0.0
    for start in range(0, n, block):
        stop = min(start + block, n)
        m = stop - start
        at = order[start:stop]
        blk = rows[start:stop]
        negL = gram.take(at, axis=0).take(at, axis=1)
        negL *= minus_lower[:m, :m]  # -L
        T = truths[start:stop]  # with D = T - P (one-hot true, predicted): S = A + (-L) @ P
        if binary:
            s = blk @ W[0]
            a = s - negL @ T
            pred = T.astype(bool)  # "no mistakes"
            for _ in range(m + 1):
                new = s >= 0.0
                if new.tobytes() == pred.tobytes():  # (far cheaper than any() here)
                    break
                s = a + negL @ new
                pred = new
            update = T - pred  # +1: w += f, -1: w -= f, 0: right (float - bool)
            W[0] += update @ blk
            loss -= float(s @ update)  # |s| at a mistake is -s * update
        else:
            S = blk @ W.T
            A = S - negL @ T
            pred = labels[start:stop]
            for _ in range(m + 1):
                new = S.argmax(axis=1)
                if new.tobytes() == pred.tobytes():
                    break
                S = A + negL @ eye.take(new, axis=0)
                pred = new
            update = T - eye.take(pred, axis=0)
            W += update.T @ blk
            loss -= float(np.vdot(S, update))  # S[pred] - S[true] at a mistake
        decisions[start:stop] = pred
    where = np.flatnonzero(decisions != labels)
    return where, decisions[where], loss


@functools.lru_cache(maxsize=8)
def _minus_strictly_lower(size: int, dtype: np.dtype) -> np.ndarray:
    """-1 strictly below the diagonal, 0 elsewhere (read-only: shared between calls)."""
    mask = -np.tril(np.ones((size, size), dtype=dtype), -1)
    mask.flags.writeable = False
    return mask
