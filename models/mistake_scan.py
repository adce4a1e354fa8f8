"""One perceptron epoch over samples in a fixed order: three exact ways to make the visit.

Every scan makes exactly the sequential perceptron's decisions: sample ``j`` is scored
with the weights left by the updates at samples ``0..j-1`` of the epoch, and a mistake
updates the weights (binary: ``w += y* f``; multiclass: ``w_pred -= f``, ``w_true += f``).
They differ only in how many numpy calls they need, which is what a pass costs on small
data (the arithmetic is a few hundred flops per sample):

- :func:`scan_sequential`: one sample at a time (any data, any error rate);
- :func:`scan_blocks`: score a block of samples at once and restart after its first
  mistake; cheap when mistakes are rare;
- :class:`GramScan`: when mistakes are frequent, a block's sequential decisions are the
  fixed point of an iteration on the block's Gram matrix (see its docstring), reached in a
  few matrix products instead of one step per sample.

The two functions return ``(where, predicted, loss)``: the positions of the mistakes, the
class predicted there (binary: 0 or 1, i.e. ``classes_[0]`` or ``classes_[1]``), and the
summed perceptron loss ``max(0, -y* w.f)`` (multiclass ``w_pred.f - w_true.f``) at the
weights each mistake met. A correct prediction has loss 0. The weights are updated in
place. :class:`GramScan` keeps its own buffers for a whole fit and returns
``(mistakes, loss)``, having also applied the averaging sums.
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


class GramScan:
    """The same visit, each block of samples solved as a fixed point on its Gram matrix.

    Within a block scored at its starting weights ``S0`` (one row per sample), an update
    at sample ``m`` changes the later samples' scores by their dot products with ``f_m``,
    so the sequential scores are ``S = S0 + L @ D``: ``L`` is the strictly lower triangle
    of the block's Gram matrix (``L[j, m] = f_j . f_m`` for ``m < j``) and row ``m`` of
    ``D`` is sample ``m``'s update (``e_true - e_pred``, zero if it was right; binary:
    ``+1``/``-1``/0). With ``T`` the one-hot true classes and ``P`` the predicted ones,
    ``D = T - P`` and ``S = A - L @ P`` with ``A = S0 + L @ T``. The sequential decisions
    are the fixed point of "decide from ``S``, rebuild ``P``, update ``S``": starting from
    any guess, every pass makes at least one more leading decision final (the first wrong
    guess is decided from a prefix that is already right), so it ends in at most
    ``block + 1`` passes; on noisy data in a handful, each pass one ``block x block``
    product, where the sequential scan needs one step per sample. The first guess is the
    decisions at the block's starting weights (``argmax S0``). The weights are then
    updated once per block: ``W += D.T @ rows``.

    One instance serves one fit (``F`` its samples with the bias feature, ``y_idx`` their
    class indices) and keeps every buffer of the epoch, so that an epoch allocates almost
    nothing; calling it runs one epoch. The blocks' Gram matrices come either from
    ``gram``, the samples' Gram matrix ``F @ F.T`` computed once per fit (one gather of
    the block entries per epoch), or, if ``gram`` is None, from one batched product of
    the epoch's rows (cheaper with few features: the gather's index arithmetic costs more
    than ``2 d`` multiply-adds per entry). A pass is four numpy calls (one-hot rows,
    product, argmax, compare): ``L``, ``S0`` and ``L @ T`` sit side by side in one array,
    so that ``[L | S0 | L @ T] @ [-P; I; I]`` is ``S`` in one product.
    """

    def __init__(
        self, F: np.ndarray, y_idx: np.ndarray, gram: np.ndarray | None, n_rows: int, block: int
    ) -> None:
        n, d = F.shape
        n_blocks = -(-n // block)
        m = -(-n // n_blocks)  # equal blocks: a short last one would cost a whole pass
        k = n_rows
        self._F, self._y_idx = F, y_idx
        self._n, self._m, self._k = n, m, k
        if gram is not None:
            self._gram_flat = gram.reshape(-1)
            self._pairs = _block_pairs(n, n_blocks, m, (m + 2 * k) * m)
        else:
            self._gram_flat = None
            self._upper = _strictly_upper(m)
        # The last block is padded to m samples with zero features (rows, Gram entries and
        # scores 0) and a label they are predicted as (class 0; binary: positive), so
        # they never make a mistake and every block has the same shape.
        size = n_blocks * m
        self._rows = np.zeros((size, d))
        self._labels = np.zeros(size, dtype=np.intp)
        self._positive = np.ones((size, 1), dtype=bool)
        self._truths = np.zeros((size, k))  # one-hot true classes (binary: positive)
        if k == 1:
            self._truths[n:] = 1.0
        self._updates = np.zeros((size, k))  # D = T - P of the epoch
        # Per block b, stacked rows: L.T (m rows: its strict upper triangle, zero below),
        # S0.T, (L @ T).T (k rows each); its transpose [L | S0 | L @ T] times
        # [-P; I; I] is S = A - L @ P in one product.
        self._stack = np.zeros((n_blocks, m + 2 * k, m))
        self._z = np.zeros((m + 2 * k, k))
        self._z[m:] = np.vstack([np.eye(k)] * 2)
        self._scores = np.zeros((n_blocks, m, k))
        self._eye = np.eye(k)
        self._minus_eye = -self._eye
        self._ramp = np.arange(n, dtype=F.dtype)[:, None]
        self.positions = np.arange(n)
        self.positions.flags.writeable = False
        self.order = np.empty(n, dtype=np.intp)  # a buffer for the caller's epoch order
        targets = self._positive if k == 1 else self._labels
        self._blocks = [
            (
                self._rows[start : start + m],
                self._rows[start : start + m].T,
                targets[start : start + m],
                self._truths[start : start + m],
                self._updates[start : start + m],
                self._stack[b, m : m + k],
                self._stack[b].T,
                self._scores[b],
            )
            for b, start in enumerate(range(0, size, m))
        ]

    def __call__(
        self, W: np.ndarray, order: np.ndarray, U: np.ndarray | None, c0: int
    ) -> tuple[int, float]:
        """One epoch in ``order``: update ``W`` in place (and, if given, the averaging
        sums ``U += (c0 + j) * update_j`` of Daume's trick); return (mistakes, loss)."""
        n, m, k = self._n, self._m, self._k
        rows, labels, truths, updates = self._rows, self._labels, self._truths, self._updates
        # mode="clip": the indices are in range, and "raise" copies when out= is given.
        self._F.take(order, axis=0, out=rows[:n], mode="clip")
        self._y_idx.take(order, out=labels[:n], mode="clip")
        if k == 1:
            np.equal(labels[:n], 1, out=self._positive[:n, 0])
            np.copyto(truths[:n], self._positive[:n])
        else:
            self._eye.take(labels, axis=0, out=truths, mode="clip")
        lt = self._stack[:, :m, :]
        if self._gram_flat is not None:
            at_i, at_j, into = self._pairs
            entries = self._gram_flat.take((order * n).take(at_i) + order.take(at_j))
            self._stack.reshape(-1)[into] = entries
        else:
            blocks = rows.reshape(-1, m, rows.shape[1])
            np.matmul(blocks, blocks.transpose(0, 2, 1), out=lt)
            np.multiply(lt, self._upper, out=lt)
        truths_t = truths.reshape(-1, m, k).transpose(0, 2, 1)
        np.matmul(truths_t, lt, out=self._stack[:, m + k :, :])  # (L @ T).T
        if k == 1:
            self._binary_blocks(W)
        else:
            self._multiclass_blocks(W)
        loss = -float(np.vdot(self._scores, updates))
        nonzero = int(np.count_nonzero(updates))
        mistakes = nonzero if k == 1 else nonzero // 2  # a multiclass update is +1 and -1
        if U is not None and mistakes:
            U += np.dot((updates[:n] * (self._ramp + c0)).T, rows[:n])
        return mistakes, loss

    def _multiclass_blocks(self, W: np.ndarray) -> None:
        z, minus_eye = self._z, self._minus_eye
        minus_p = z[: self._m]
        passes = range(self._m + 1)  # the fixed point is reached in at most m + 1
        for blk, blk_t, target, truth, update, s0_t, stack_t, scores in self._blocks:
            np.dot(W, blk_t, out=s0_t)
            new = s0_t.argmax(axis=0)
            if new.tobytes() == target.tobytes():  # no mistake in the block
                update.fill(0.0)
                continue
            for _ in passes:
                # mode="clip": the indices are in range, and numpy copies for "raise".
                minus_eye.take(new, axis=0, out=minus_p, mode="clip")
                pred = new
                np.dot(stack_t, z, out=scores)
                new = scores.argmax(axis=1)
                if new.tobytes() == pred.tobytes():  # (far cheaper than any() here)
                    break
            else:
                raise _not_converged()
            np.add(truth, minus_p, out=update)
            W += np.dot(update.T, blk)

    def _binary_blocks(self, W: np.ndarray) -> None:
        z = self._z
        minus_p = z[: self._m]
        passes = range(self._m + 1)
        for blk, blk_t, target, truth, update, s0_t, stack_t, scores in self._blocks:
            np.dot(W, blk_t, out=s0_t)
            new = s0_t.T >= 0.0
            if new.tobytes() == target.tobytes():
                update.fill(0.0)
                continue
            for _ in passes:
                np.multiply(new, -1.0, out=minus_p)
                pred = new
                np.dot(stack_t, z, out=scores)
                new = scores >= 0.0
                if new.tobytes() == pred.tobytes():
                    break
            else:
                raise _not_converged()
            np.add(truth, minus_p, out=update)
            W += np.dot(update.T, blk)


def _not_converged() -> RuntimeError:
    # Cannot happen while row i of a pass depends only on rows before i: a bug guard,
    # so that a broken triangle fails loudly instead of looping.
    return RuntimeError("GramScan: the block's fixed-point iteration did not converge")


@functools.lru_cache(maxsize=8)
def _block_pairs(n: int, n_blocks: int, m: int, stride: int) -> tuple[np.ndarray, ...]:
    """Where each block's strictly lower Gram entries come from and go (read-only).

    For every pair ``i > j`` of positions inside a block (the padded positions of the
    last block, ``>= n``, are left out): the epoch positions ``b m + i`` and ``b m + j``
    (to look up the samples' Gram entry), and the flat index of ``L.T[j, i]`` in
    :class:`GramScan`'s stack of blocks (``stride`` values per block, ``m`` per row).
    """
    i, j = np.tril_indices(m, -1)
    first = np.arange(n_blocks)[:, None] * m
    real = (first + i < n).ravel()
    at_i = (first + i).ravel()[real]
    at_j = (first + j).ravel()[real]
    into = (np.arange(n_blocks)[:, None] * stride + j * m + i).ravel()[real]
    for a in (at_i, at_j, into):
        a.flags.writeable = False
    return at_i, at_j, into


@functools.lru_cache(maxsize=8)
def _strictly_upper(m: int) -> np.ndarray:
    """1 strictly above the diagonal, 0 elsewhere (read-only: shared between fits)."""
    mask = np.triu(np.ones((m, m)), 1)
    mask.flags.writeable = False
    return mask
