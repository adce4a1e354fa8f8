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
from .mistake_scan import GramScan, scan_blocks, scan_sequential
from .validation import check_training_params

#: Below this training error rate in the previous epoch, samples are scored in blocks
#: (``scan_blocks``); above it most blocks would end at their first sample.
_BLOCK_BELOW_ERROR_RATE = 0.1
#: The Gram-matrix scan (``GramScan``) is used above that rate when the Gram matrices are
#: cheap (n d <= 65536, n <= 1024). Measured with its first version (a gather from the
#: samples' Gram matrix, since made faster) against the sequential scan, 20 noisy epochs:
#: 0.42-0.75x the time from 150x200 to 1000x30 (3 classes); 1.05-1.12x on 1000x30 binary
#: and 2000x15, hence the cap on n.
_GRAM_MAX_SIZE = 65536
_GRAM_MAX_SAMPLES = 1024
#: Samples per fixed-point block of ``GramScan`` (at most; the blocks are made equal, 4
#: of 50 at n = 200): larger blocks need fewer numpy calls per sample but more passes
#: and a larger product per pass (measured at 200x50, time relative to 64, noise about
#: 3 %: 34 1.07x, 40 0.95x, 67 1.03x, 100 1.35x).
_GRAM_BLOCK = 64
#: Up to this many features (bias included) each epoch's block Gram matrices are products
#: of its rows; with more, entries gathered from the samples' Gram matrix are cheaper
#: (20 epochs, 3 noisy classes, measured: products 0.72-0.92x the gather's time at
#: 200x12, 200x50, 500x100, 600x100, 1000x30 and 1000x60; 1.10x at 300x200).
_GRAM_PRODUCTS_MAX_FEATURES = 128


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
        n = F.shape[0]
        if not self.shuffle:
            order = np.arange(n)
        elif self._gram_scan is not None:
            # Generator.permutation(n) is arange(n) shuffled: the same draws, no allocation.
            order = self._gram_scan.order
            np.copyto(order, self._gram_scan.positions)
            self._rng.shuffle(order)
        else:
            order = self._rng.permutation(n)
        c0 = self._c
        rate = self.loss_curve_[-1] if self.loss_curve_ else None  # last epoch's error rate
        few_mistakes = rate is not None and rate <= _BLOCK_BELOW_ERROR_RATE
        if self._gram_scan is not None and not few_mistakes:
            U = self._u if self.average else None
            mistakes, loss = self._gram_scan(self._w, order, U, c0)
            return self._record(mistakes, loss, n)
        rows = F.take(order, axis=0)
        labels = y_idx.take(order)
        if few_mistakes:
            block = int(np.clip(2.0 / max(rate, 1e-6), 16, 1024))
            where, predicted, loss = scan_blocks(self._w, rows, labels, block)
        else:
            where, predicted, loss = scan_sequential(self._w, rows, labels)
        # The scans only do the perceptron update of w; the averaging sums u += c * update
        # are applied in one vectorised pass after the epoch from the mistakes' positions.
        if where.size and self.average:
            weight = (c0 + where).astype(rows.dtype)
            if self._w.shape[0] == 1:
                signs = np.where(labels[where] == 1, weight, -weight)
                self._u[0] += signs @ rows[where]
            else:
                classes = np.arange(self._w.shape[0])
                coef = (labels[where, None] == classes).astype(rows.dtype)
                coef -= predicted[:, None] == classes
                coef *= weight[:, None]
                self._u += coef.T @ rows[where]
        return self._record(int(where.size), loss, n)

    def _record(self, mistakes: int, loss: float, n: int) -> int:
        self._c += n
        self.mistakes_.append(mistakes)
        self.loss_curve_.append(mistakes / n)
        self.losses_.append(loss / n)
        self.n_iter_ += 1
        return mistakes

    def _prepare_gram(self, F: np.ndarray, y_idx: np.ndarray) -> None:
        """Set up :class:`GramScan` for this fit if its Gram matrices are cheap enough.

        Only in float64: its scores agree with the sequential scan's to about 1e-15, so
        the decisions are the same; float32 rounding could decide a near-tie otherwise.
        """
        n, d = F.shape
        small = n <= _GRAM_MAX_SAMPLES and n * d <= _GRAM_MAX_SIZE
        if small and F.dtype == np.float64:
            gram = F @ F.T if d > _GRAM_PRODUCTS_MAX_FEATURES else None
            self._gram_scan = GramScan(F, y_idx, gram, self._w.shape[0], _GRAM_BLOCK)
        else:
            self._gram_scan = None

    def _publish(self) -> None:
        """Expose the weights used for prediction as ``coef_`` / ``intercept_``."""
        w = self._w - self._u / self._c if self.average else self._w
        self.coef_ = np.ascontiguousarray(w[:, :-1])
        self.intercept_ = w[:, -1].copy()

    def _fit(self, X: np.ndarray, y_idx: np.ndarray) -> None:
        self._init_weights(X.shape[1])
        F = _with_bias(X)
        self._prepare_gram(F, y_idx)
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
        self._gram_scan = None
        self._publish()

    def _partial_fit(self, X: np.ndarray, y_idx: np.ndarray, first: bool) -> None:
        if first:
            self._init_weights(X.shape[1])
        F = _with_bias(X)
        self._prepare_gram(F, y_idx)
        self._epoch(F, y_idx)
        self._gram_scan = None
        self._publish()

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
