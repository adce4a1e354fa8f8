"""Multiclass logistic regression trained by gradient ascent on the log-likelihood."""

from __future__ import annotations

from typing import Any

import numpy as np

from .batching import minibatches
from .errors import ModelError
from .estimator import Estimator
from .losses import log_softmax, softmax
from .stopping import StoppingMonitor
from .validation import check_choice, check_positive, train_validation_split

SOLVERS = ("batch", "minibatch", "stochastic")

#: Below this many training samples, ``early_stopping="auto"`` keeps all data for training
#: (a held-out tenth of a small set is too noisy to decide anything) and relies on L2.
EARLY_STOPPING_MIN_SAMPLES = 200


def resolve_early_stopping(early_stopping: bool | str, n_samples: int) -> bool:
    """``"auto"`` means on when there are at least ``EARLY_STOPPING_MIN_SAMPLES`` samples."""
    if early_stopping == "auto":
        return n_samples >= EARLY_STOPPING_MIN_SAMPLES
    return bool(early_stopping)


class SoftmaxRegression(Estimator):
    """Multiclass logistic regression: ``P(y | x) = softmax_y(w_y . x + b_y)``.

    Fitted by gradient *ascent* on the objective

        J(W, b) = (1/n) sum_i log P(y_i | x_i; W, b) - (l2 / 2) ||W||^2

    whose gradient for class ``y'`` is ``(1/n) sum_i (1[y_i = y'] - P(y' | x_i)) x_i - l2 w_y'``
    (the lecture's update: add ``f`` to the correct class, subtract it from every class in
    proportion to its probability). The log-likelihood is the *mean* over samples, so the
    learning rate does not depend on the number of samples. The bias is not penalised.

    Parameters
    ----------
    solver : {"minibatch", "batch", "stochastic"}
        Gradient over all samples per step ("batch"), one random sample per step
        ("stochastic") or random subsets of ``batch_size`` ("minibatch").
    learning_rate : float or "auto"
        Step size ``alpha``. "auto" uses ``1 / L``, with ``L`` the Lipschitz constant of the
        gradient (``||[X 1]||_2^2 / (2n) + l2``), which guarantees ascent for "batch".
    momentum : float in [0, 1)
        Nesterov momentum on the ascent direction (0 gives the lecture's plain steps).
    batch_size : int
        Samples per step for the "minibatch" solver.
    l2 : float
        L2 penalty on the weights (>= 0). The default suits standardised features.
    max_iter : int
        Maximum number of epochs (passes over the data; one step per epoch for "batch").
    tol : float
        Minimum improvement of the monitored log-likelihood; training stops after
        ``n_iter_no_change`` epochs without it.
    early_stopping : bool or "auto"
        Hold out ``validation_fraction`` of the data (stratified), stop when its
        log-likelihood stops improving and keep the best weights. "auto": on when there
        are at least 200 samples.
    validation_fraction : float
    n_iter_no_change : int
    random_state : int, Generator or None
        Seed for shuffling and the validation split (default 0: deterministic).
    dtype : {"float64", "float32"}

    Attributes
    ----------
    classes_, coef_ (n_classes, n_features), intercept_ (n_classes,), n_features_in_,
    loss_curve_ : list of float
        Training objective ``-J`` per epoch (lower is better).
    validation_scores_ : list of float
        Held-out mean log-likelihood per epoch (empty without early stopping).
    n_iter_ : int
    """

    kind = "softmax"

    def __init__(
        self,
        *,
        solver: str = "minibatch",
        learning_rate: float | str = "auto",
        momentum: float = 0.0,
        batch_size: int = 500,
        l2: float = 1e-2,
        max_iter: int = 200,
        tol: float = 1e-4,
        early_stopping: bool | str = "auto",
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 4,
        random_state: int | np.random.Generator | None = 0,
        dtype: str = "float64",
    ) -> None:
        self.solver = solver
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.batch_size = batch_size
        self.l2 = l2
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.dtype = dtype

    def _validate_params(self) -> None:
        super()._validate_params()
        check_choice("solver", self.solver, SOLVERS)
        if self.learning_rate != "auto":
            check_positive("learning_rate", self.learning_rate)
        if not 0 <= self.momentum < 1:
            raise ModelError(f"momentum must be in [0, 1), got {self.momentum!r}")
        check_positive("batch_size", self.batch_size, integer=True)
        if not isinstance(self.l2, (int, float)) or self.l2 < 0:
            raise ModelError(f"l2 must be a number >= 0, got {self.l2!r}")
        check_positive("max_iter", self.max_iter, integer=True)
        check_choice("early_stopping", self.early_stopping, (True, False, "auto"))
        if not 0 < self.validation_fraction < 1:
            raise ModelError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}"
            )
        check_positive("n_iter_no_change", self.n_iter_no_change, integer=True)

    # -- the objective -----------------------------------------------------------------
    def log_likelihood(self, X: Any, y: Any) -> float:
        """Mean log-likelihood ``(1/n) sum_i log P(y_i | x_i)`` of labelled data."""
        from .validation import check_y, encode_labels

        X = self._check_predict_input(X)
        y_idx = encode_labels(check_y(y, X.shape[0]), self.classes_)
        return _mean_ll(X, y_idx, self.coef_, self.intercept_)

    def _ascent_direction(
        self, X: np.ndarray, Y: np.ndarray, W: np.ndarray, b: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Return ``J`` on (X, Y) and its gradient (dJ/dW, dJ/db); ``Y`` is one-hot."""
        n = X.shape[0]
        Z = X @ W.T
        Z += b
        logp = log_softmax(Z)
        ll = float(np.vdot(Y, logp)) / n
        # (onehot(y) - P) / n: add f to the right class, subtract P(y'|x) f from every y'.
        R = np.exp(logp, out=logp)
        np.subtract(Y, R, out=R)
        R /= n
        gW = R.T @ X
        if self.l2:
            gW -= self.l2 * W
        objective = ll - 0.5 * self.l2 * float(np.vdot(W, W))
        return objective, gW, R.sum(axis=0)

    def _step_size(self, X: np.ndarray) -> float:
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        if self.solver == "stochastic":
            sq = np.einsum("ij,ij->i", X, X) + 1.0
            return float(1.0 / (0.5 * sq.mean() + self.l2))
        # L = lambda_max([X 1]^T [X 1] / n) / 2 + l2 bounds the curvature of J (the softmax
        # Hessian is at most I/2). Estimated on <= 2000 rows: the Gram matrix is then cheap.
        rows = X if X.shape[0] <= 2000 else X[self._rng.choice(X.shape[0], 2000, replace=False)]
        A = np.empty((rows.shape[0], rows.shape[1] + 1), dtype=np.float64)
        A[:, :-1] = rows
        A[:, -1] = 1.0
        # A^T A and A A^T share their nonzero eigenvalues: take the smaller Gram matrix
        # (wide band-power/tangent-space data has far more features than epochs).
        gram = A.T @ A if A.shape[1] <= A.shape[0] else A @ A.T
        lam = float(np.linalg.eigvalsh(gram)[-1]) / rows.shape[0]
        return 1.0 / (0.5 * lam + self.l2)

    # -- training -----------------------------------------------------------------------
    def _init_weights(self, n_features: int) -> None:
        k = self.classes_.size
        dtype = self._dtype()
        self.coef_ = np.zeros((k, n_features), dtype=dtype)
        self.intercept_ = np.zeros(k, dtype=dtype)
        self._vW = np.zeros_like(self.coef_)
        self._vb = np.zeros_like(self.intercept_)
        self.loss_curve_: list[float] = []
        self.validation_scores_: list[float] = []
        self.n_iter_ = 0

    def _epoch(self, X: np.ndarray, y_idx: np.ndarray, lr: float) -> float:
        """One pass of the chosen solver; returns the mean training objective seen."""
        W, b, vW, vb = self.coef_, self.intercept_, self._vW, self._vb
        mu = self.momentum
        if self.solver == "stochastic":
            return self._stochastic_epoch(X, y_idx, lr)
        size = X.shape[0] if self.solver == "batch" else self.batch_size
        total, count = 0.0, 0
        Y = np.zeros((X.shape[0], W.shape[0]), dtype=X.dtype)
        Y[np.arange(X.shape[0]), y_idx] = 1.0
        for idx in minibatches(X.shape[0], size, self._rng, shuffle=self.solver != "batch"):
            Xb = X if self.solver == "batch" else X[idx]
            Yb = Y if self.solver == "batch" else Y[idx]
            obj, gW, gb = self._ascent_direction(Xb, Yb, W, b)
            total += obj * len(idx)
            count += len(idx)
            if mu:
                # Nesterov momentum, ascent form: v = mu v + lr g; w += mu v + lr g.
                vW *= mu
                vW += lr * gW
                vb *= mu
                vb += lr * gb
                W += mu * vW + lr * gW
                b += mu * vb + lr * gb
            else:
                W += lr * gW
                b += lr * gb
        return total / count

    def _stochastic_epoch(self, X: np.ndarray, y_idx: np.ndarray, lr: float) -> float:
        W, b, l2 = self.coef_, self.intercept_, self.l2
        order = self._rng.permutation(X.shape[0])
        total = 0.0
        decay = 1.0 - lr * l2
        for f, y in zip(X[order], y_idx[order].tolist(), strict=True):
            z = W @ f
            z += b
            z -= z.max()
            p = np.exp(z)
            s = p.sum()
            total += float(np.log(p[y] / s))
            r = p * (-lr / s)
            r[y] += lr  # lr * (onehot(y) - P)
            if l2:
                W *= decay
            W += np.outer(r, f)
            b += r
        return total / X.shape[0] - 0.5 * l2 * float(np.vdot(W, W))

    def _fit(self, X: np.ndarray, y_idx: np.ndarray) -> None:
        self._init_weights(X.shape[1])
        use_es = resolve_early_stopping(self.early_stopping, X.shape[0])
        if use_es:
            tr, va = train_validation_split(y_idx, self.validation_fraction, self._rng)
            X, y_idx, Xv, yv = X[tr], y_idx[tr], X[va], y_idx[va]
        lr = self._step_size(X)
        monitor = StoppingMonitor(self.n_iter_no_change, self.tol)
        best = (self.coef_.copy(), self.intercept_.copy())
        for epoch in range(self.max_iter):
            obj = self._epoch(X, y_idx, lr)
            self.loss_curve_.append(-obj)
            self.n_iter_ += 1
            if use_es:
                score = _mean_ll(Xv, yv, self.coef_, self.intercept_)
                self.validation_scores_.append(score)
            else:
                score = obj
            is_best, stop = monitor.update(score, epoch)
            if use_es and is_best:
                best = (self.coef_.copy(), self.intercept_.copy())
            if stop:
                break
        if use_es:
            self.coef_[...], self.intercept_[...] = best

    def _partial_fit(self, X: np.ndarray, y_idx: np.ndarray, first: bool) -> None:
        if first:
            self._init_weights(X.shape[1])
        if not hasattr(self, "_vW"):
            self._vW = np.zeros_like(self.coef_)
            self._vb = np.zeros_like(self.intercept_)
        self.loss_curve_.append(-self._epoch(X, y_idx, self._step_size(X)))
        self.n_iter_ += 1

    # -- prediction --------------------------------------------------------------------
    def decision_function(self, X: Any) -> np.ndarray:
        """Class activations ``w_y . x + b_y``, shape (n_samples, n_classes)."""
        X = self._check_predict_input(X)
        Z = X @ self.coef_.T
        Z += self.intercept_
        return Z

    def predict_proba(self, X: Any) -> np.ndarray:
        """``P(y | x)`` for each class in ``classes_`` order; rows sum to 1."""
        return softmax(self.decision_function(X))

    # -- state -----------------------------------------------------------------------------
    def _fitted_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        meta = {
            "loss_curve": [float(v) for v in self.loss_curve_],
            "validation_scores": [float(v) for v in self.validation_scores_],
            "n_iter": int(self.n_iter_),
        }
        return meta, {"coef_": self.coef_, "intercept_": self.intercept_}

    def _restore_fitted(self, fitted: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.loss_curve_ = list(fitted["loss_curve"])
        self.validation_scores_ = list(fitted["validation_scores"])
        self.n_iter_ = int(fitted["n_iter"])
        self.coef_ = arrays["coef_"].copy()
        self.intercept_ = arrays["intercept_"].copy()


def _mean_ll(X: np.ndarray, y_idx: np.ndarray, W: np.ndarray, b: np.ndarray) -> float:
    Z = X @ W.T
    Z += b
    return float(log_softmax(Z)[np.arange(X.shape[0]), y_idx].mean())
