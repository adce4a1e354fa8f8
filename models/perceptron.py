"""The perceptron: binary, multiclass and averaged, with mistake-driven updates.

Binary: Rosenblatt (1958). Multiclass: Collins (2002), *Discriminative training methods
for hidden Markov models: theory and experiments with perceptron algorithms*, EMNLP.
Averaged: Freund & Schapire (1999), *Large margin classification using the perceptron
algorithm*, Machine Learning 37(3), computed by the lazy update of Daume III, *A Course in
Machine Learning* (2012), algorithm 7 ("averaged perceptron").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import NoProbabilityError
from .estimator import Estimator
from .validation import check_training_params

#: Below this training error rate in the previous epoch, samples are scored in blocks
#: (see ``Perceptron._scan_blocks``); above it most blocks would end at their first sample.
_BLOCK_BELOW_ERROR_RATE = 0.1


def _with_bias(X: np.ndarray) -> np.ndarray:
    """Append the constant feature 1, so the bias is learned as an ordinary weight."""
    F = np.empty((X.shape[0], X.shape[1] + 1), dtype=X.dtype)
    F[:, :-1] = X
    F[:, -1] = 1.0
    return F


class Perceptron(Estimator):
    """Mistake-driven linear classifier.

    Binary (two classes): weights start at zero; predict +1 if ``w . f(x) >= 0`` else -1;
    on a mistake ``w += y* f(x)`` (``y*`` in {-1, +1}; ``classes_[1]`` is +1).
    Multiclass: one weight vector per class, predict ``argmax_y w_y . f(x)``; on a mistake
    ``w_pred -= f(x)`` and ``w_true += f(x)``. ``f(x)`` is ``x`` with a constant 1 appended
    (the bias). Training stops after an epoch without mistakes, after ``max_iter`` epochs,
    or, as scikit-learn's ``Perceptron`` does, when the epoch's mean perceptron loss
    (``max(0, -y* w.f(x))``, multiclass ``max_y w_y.f(x) - w_true.f(x)``, at the weights
    each sample met) has not fallen below the best so far minus ``tol`` for
    ``n_iter_no_change`` epochs in a row.

    Parameters
    ----------
    max_iter : int
        Maximum number of passes over the training data.
    tol : float or None
        The loss decrease that counts as an improvement; None: run ``max_iter`` epochs
        (or until an epoch without mistakes).
    n_iter_no_change : int
        Epochs without improvement before stopping.
    average : bool
        Predict with the average of the weight vectors over all training steps (the
        averaged perceptron), which thrashes less on noisy, non-separable data.
    shuffle : bool
        Visit the samples in a new seeded random order each epoch.
    random_state : int, Generator or None
        Seed for the shuffling.
    dtype : {"float64", "float32"}

    Attributes
    ----------
    classes_ : ndarray
    coef_ : ndarray, shape (1, n_features) for two classes else (n_classes, n_features)
    intercept_ : ndarray, shape (1,) or (n_classes,)
    mistakes_ : list of int
        Mistakes made during each epoch.
    loss_curve_ : list of float
        Training error rate (mistakes / n_samples) of each epoch.
    losses_ : list of float
        Mean perceptron loss of each epoch (the quantity ``tol`` is tested on).
    n_iter_ : int
        Epochs run.

    Notes
    -----
    The perceptron has no probabilistic output: ``predict_proba`` raises
    ``NoProbabilityError``; use ``decision_function`` for the scores.
    """

    kind = "perceptron"

    def __init__(
        self,
        *,
        max_iter: int = 50,
        tol: float | None = 1e-3,
        n_iter_no_change: int = 5,
        average: bool = False,
        shuffle: bool = True,
        random_state: int | np.random.Generator | None = 0,
        dtype: str = "float64",
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.average = average
        self.shuffle = shuffle
        self.random_state = random_state
        self.dtype = dtype

    def _validate_params(self) -> None:
        super()._validate_params()
        check_training_params(self)

    # -- training ------------------------------------------------------------------------
    def _init_weights(self, n_features: int) -> None:
        n_rows = 1 if self.classes_.size == 2 else self.classes_.size
        dtype = self._dtype()
        self._w = np.zeros((n_rows, n_features + 1), dtype=dtype)
        # Daume's trick: u accumulates c * update, so the average is w - u / c in O(1).
        self._u = np.zeros_like(self._w)
        self._c = 1
        self.mistakes_: list[int] = []
        self.loss_curve_: list[float] = []
        self.losses_: list[float] = []
        self.n_iter_ = 0

    def _epoch(self, F: np.ndarray, y_idx: np.ndarray) -> int:
        order = self._rng.permutation(F.shape[0]) if self.shuffle else np.arange(F.shape[0])
        rows = F[order]
        labels = y_idx[order]
        c0 = self._c
        # Mistakes are logged as (position, predicted, true); the averaging sums
        # u += c * update are applied in one vectorised pass after the epoch, so the
        # scan only does the perceptron update of w.
        binary = self._w.shape[0] == 1
        rate = self.loss_curve_[-1] if self.loss_curve_ else None  # last epoch's error rate
        if rate is None or rate > _BLOCK_BELOW_ERROR_RATE:
            where, wrong, right, loss = self._scan_sequential(rows, labels, binary)
        else:
            block = int(np.clip(2.0 / max(rate, 1e-6), 16, 1024))
            where, wrong, right, loss = self._scan_blocks(rows, labels, binary, block)
        if where and self.average:
            pos = np.asarray(where)
            if binary:
                signs = np.where(labels[pos] == 1, 1.0, -1.0) * (c0 + pos)
                self._u[0] += signs @ rows[pos]
            else:
                cf = rows[pos] * (c0 + pos)[:, None].astype(rows.dtype)
                np.add.at(self._u, np.asarray(wrong), -cf)
                np.add.at(self._u, np.asarray(right), cf)
        mistakes = len(where)
        self._c = c0 + F.shape[0]
        self.mistakes_.append(mistakes)
        self.loss_curve_.append(mistakes / F.shape[0])
        self.losses_.append(loss / F.shape[0])
        self.n_iter_ += 1
        self._publish()
        return mistakes

    def _scan_sequential(
        self, rows: np.ndarray, labels: np.ndarray, binary: bool
    ) -> tuple[list[int], list[int], list[int], float]:
        """Visit the samples one by one: predict, and on a mistake update ``w``.

        Returns the mistakes' positions, wrong and right classes, and the summed loss
        (only mistakes have a loss: a correct prediction's is 0).
        """
        where: list[int] = []
        wrong: list[int] = []
        right: list[int] = []
        loss = 0.0
        if binary:
            w = self._w[0]
            for i, (f, positive) in enumerate(zip(rows, (labels == 1).tolist(), strict=True)):
                s = float(f @ w)
                if (s >= 0.0) != positive:
                    if positive:
                        w += f
                    else:
                        w -= f
                    where.append(i)
                    loss += abs(s)
            return where, wrong, right, loss
        W = self._w
        for i, (f, y_star) in enumerate(zip(rows, labels.tolist(), strict=True)):
            scores = W @ f
            y_hat = int(scores.argmax())
            if y_hat != y_star:
                loss += float(scores[y_hat] - scores[y_star])
                W[y_hat] -= f
                W[y_star] += f
                where.append(i)
                wrong.append(y_hat)
                right.append(y_star)
        return where, wrong, right, loss

    def _scan_blocks(
        self, rows: np.ndarray, labels: np.ndarray, binary: bool, block: int
    ) -> tuple[list[int], list[int], list[int], float]:
        """The same visit, scoring ``block`` samples at once with the current weights.

        Until the first mistake in a block the weights do not change, so those samples'
        predictions are exactly the sequential ones; after the update at that mistake the
        scan restarts at the next sample. With few mistakes (late epochs, separable data)
        this replaces most per-sample steps by one matrix product per block.
        """
        where: list[int] = []
        wrong: list[int] = []
        right: list[int] = []
        loss = 0.0
        n = rows.shape[0]
        positive = labels == 1
        i = 0
        while i < n:
            blk = rows[i : i + block]
            if binary:
                w = self._w[0]
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
            else:
                W = self._w
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
                wrong.append(y_hat)
                right.append(y_star)
            where.append(j)
            i = j + 1
        return where, wrong, right, loss

    def _publish(self) -> None:
        """Expose the weights used for prediction as ``coef_`` / ``intercept_``."""
        w = self._w - self._u / self._c if self.average else self._w
        self.coef_ = np.ascontiguousarray(w[:, :-1])
        self.intercept_ = w[:, -1].copy()

    def _fit(self, X: np.ndarray, y_idx: np.ndarray) -> None:
        self._init_weights(X.shape[1])
        F = _with_bias(X)
        best, since = np.inf, 0
        for _ in range(self.max_iter):
            if self._epoch(F, y_idx) == 0:
                break
            if self.tol is None:
                continue
            # scikit-learn's rule (sklearn/linear_model/_sgd_fast.pyx): count epochs whose
            # loss is not below the best so far minus tol; reset on an improvement.
            loss = self.losses_[-1]
            since = since + 1 if loss > best - self.tol else 0
            best = min(best, loss)
            if since >= self.n_iter_no_change:
                break

    def _partial_fit(self, X: np.ndarray, y_idx: np.ndarray, first: bool) -> None:
        if first:
            self._init_weights(X.shape[1])
        self._epoch(_with_bias(X), y_idx)

    # -- prediction --------------------------------------------------------------------
    def decision_function(self, X: Any) -> np.ndarray:
        """Activations ``w . f(x)``: shape (n,) for two classes (>= 0 means ``classes_[1]``),
        else (n, n_classes)."""
        X = self._check_predict_input(X)
        scores = X @ self.coef_.T
        scores += self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict_proba(self, X: Any) -> np.ndarray:
        """Not defined for the perceptron: always raises ``NoProbabilityError``."""
        raise NoProbabilityError(
            "Perceptron has no predict_proba: its scores are not probabilities. Use "
            "decision_function(X) for scores, or SoftmaxRegression/MLP (make_estimator("
            "'softmax') or 'mlp') for class probabilities"
        )

    # -- state -----------------------------------------------------------------------------
    def _fitted_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        meta = {
            "mistakes": [int(m) for m in self.mistakes_],
            "loss_curve": [float(v) for v in self.loss_curve_],
            "losses": [float(v) for v in self.losses_],
            "n_iter": int(self.n_iter_),
            "c": int(self._c),
        }
        arrays = {"coef_": self.coef_, "intercept_": self.intercept_, "w": self._w, "u": self._u}
        return meta, arrays

    def _restore_fitted(self, fitted: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.mistakes_ = list(fitted["mistakes"])
        self.loss_curve_ = list(fitted["loss_curve"])
        self.losses_ = list(fitted.get("losses", []))  # absent from files of before tol
        self.n_iter_ = int(fitted["n_iter"])
        self._c = int(fitted["c"])
        self._w, self._u = arrays["w"].copy(), arrays["u"].copy()
        self.coef_, self.intercept_ = arrays["coef_"].copy(), arrays["intercept_"].copy()
