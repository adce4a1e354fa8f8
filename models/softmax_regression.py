"""Multiclass logistic regression: a one-layer network of the backprop core.

``SoftmaxRegression`` is ``Linear`` followed by ``SoftmaxCrossEntropy``, plus an L2 term
(Bishop, *Pattern Recognition and Machine Learning*, 2006, section 4.3.4), solved by
L-BFGS (:mod:`models.lbfgs`) or by gradient steps of the core's ``SGD``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ModelError
from .estimator import Estimator
from .lbfgs import minimize_lbfgs
from .linear import Linear
from .losses import SoftmaxCrossEntropy, log_softmax, softmax
from .module import flatten_parameters
from .optimizers import SGD
from .stopping import StoppingMonitor, resolve_early_stopping, run_epochs
from .validation import check_choice, check_training_params, train_validation_split

SOLVERS = ("lbfgs", "batch", "minibatch", "stochastic")


class SoftmaxRegression(Estimator):
    """Multiclass logistic regression: ``P(y | x) = softmax_y(w_y . x + b_y)``.

    Fitted by maximising the objective

        J(W, b) = (1/n) sum_i log P(y_i | x_i; W, b) - (l2 / 2) ||W||^2

    (the core minimises ``-J``). Its gradient for class ``y'`` is
    ``(1/n) sum_i (1[y_i = y'] - P(y' | x_i)) x_i - l2 w_y'``: add ``x`` to the correct
    class, subtract it from every class in proportion to its probability (Bishop 2006,
    eq. 4.109). The log-likelihood is the *mean* over samples, so the learning rate does
    not depend on the number of samples. The bias is not penalised. ``J`` is the objective
    of scikit-learn's multinomial ``LogisticRegression`` with ``C = 1 / (n * l2)``.

    Parameters
    ----------
    solver : {"lbfgs", "batch", "minibatch", "stochastic"}
        "lbfgs" (default): limited-memory BFGS with a strong-Wolfe line search on the
        whole objective (Nocedal & Wright 2006, ch. 7), stopped when ``max |grad J| <=
        tol``; ``max_iter`` counts its iterations. The others are gradient ascent: over
        all samples per step ("batch"), one random sample per step ("stochastic") or
        random subsets of ``batch_size`` ("minibatch"); ``max_iter`` counts epochs.
        ``partial_fit`` always makes one "minibatch" pass when the solver is "lbfgs".
    learning_rate : float or "auto"
        Step size of the gradient-ascent solvers. "auto" uses ``1 / L``, with ``L`` the
        Lipschitz constant of the gradient (``||[X 1]||_2^2 / (2n) + l2``), which
        guarantees ascent for "batch".
    momentum : float in [0, 1)
        Nesterov momentum of the gradient-ascent solvers (0: plain steps).
    batch_size : int
        Samples per step for the "minibatch" solver.
    l2 : float
        L2 penalty on the weights (>= 0). The default suits standardised features.
    max_iter : int
        Maximum number of L-BFGS iterations or of epochs (passes over the data).
    tol : float
        "lbfgs": stop when every gradient component is at most ``tol``. Gradient ascent:
        the minimum improvement of the monitored log-likelihood; training stops after
        ``n_iter_no_change`` epochs without it.
    early_stopping : bool or "auto"
        Gradient ascent only: hold out ``validation_fraction`` of the data (stratified),
        stop when its log-likelihood stops improving and keep the best weights. "auto":
        on with at least 200 samples. L-BFGS solves the regularised objective itself
        ("auto" is off; True is refused).
    validation_fraction : float
    n_iter_no_change : int
    random_state : int, Generator or None
        Seed for shuffling and the validation split (default 0: deterministic).
    dtype : {"float64", "float32"}

    Attributes
    ----------
    classes_, coef_ (n_classes, n_features), intercept_ (n_classes,), n_features_in_,
    loss_curve_ : list of float
        Training objective ``-J`` per epoch or L-BFGS iteration (lower is better); for
        "lbfgs" the values at the start and at the end.
    validation_scores_ : list of float
        Held-out mean log-likelihood per epoch (empty without early stopping).
    n_iter_ : int
    """

    kind = "softmax"

    def __init__(
        self,
        *,
        solver: str = "lbfgs",
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
        check_training_params(self)
        if self.solver == "lbfgs" and self.early_stopping is True:
            raise ModelError(
                "early_stopping=True needs a gradient-ascent solver ('batch', 'minibatch' "
                "or 'stochastic'); solver='lbfgs' solves the L2-regularised objective to "
                "tol: use early_stopping='auto' or False with it"
            )

    # -- the network -------------------------------------------------------------------
    def _build(self, n_features: int) -> None:
        """One ``Linear`` layer (zero weights) and its loss; ``coef_`` views its weights."""
        linear = Linear(n_features, self.classes_.size, rng=0, dtype=self._dtype())
        linear.weight.value[...] = 0.0
        linear.needs_input_grad = False
        self._linear = linear
        self._flat = flatten_parameters(linear.parameters())
        self._loss = SoftmaxCrossEntropy()
        self._optimizer: SGD | None = None
        self._buffer: np.ndarray | None = None
        # coef_ (n_classes, n_features) is the transposed view of the layer's (n_in, n_out).
        self.coef_ = linear.weight.value.T
        self.intercept_ = linear.bias.value
        self.loss_curve_: list[float] = []
        self.validation_scores_: list[float] = []
        self.n_iter_ = 0

    def _objective(self, X: np.ndarray, y_idx: np.ndarray) -> float:
        """``-J`` on (X, y); leaves ``-dJ/dtheta`` in the flat gradient buffer."""
        linear, loss, l2 = self._linear, self._loss, self.l2
        self._flat.grad.fill(0.0)
        if linear.weight.value.shape[1] == 2:
            value = self._binary_data_term(X, y_idx)
        else:
            value = loss.forward(linear.forward(X), y_idx)
            linear.backward(loss.backward())
        if l2:
            W = linear.weight
            W.grad += l2 * W.value
            value += 0.5 * l2 * float(np.vdot(W.value, W.value))
        return value

    def _binary_data_term(self, X: np.ndarray, y_idx: np.ndarray) -> float:
        """``Linear`` + ``SoftmaxCrossEntropy`` for two classes, with one product each way.

        The softmax depends only on the logit difference ``z = x.(w_1 - w_0) + b_1 - b_0``,
        and its gradient with respect to the two logits is ``(-r, r)``; so the data term
        and its gradient need ``X @ (w_1 - w_0)`` and ``r @ X`` (matrix-vector products)
        instead of the two-column matrix products, which OpenBLAS runs 1.5-3x slower on
        wide data (measured on 630 x 2080 tangent vectors). Same objective, same gradient.
        """
        W, b = self._linear.weight, self._linear.bias
        logits = np.zeros((X.shape[0], 2), dtype=X.dtype)
        np.matmul(X, W.value[:, 1] - W.value[:, 0], out=logits[:, 1])
        logits[:, 1] += b.value[1] - b.value[0]
        value = self._loss.forward(logits, y_idx)
        r = np.ascontiguousarray(self._loss.backward()[:, 1])
        g = r @ X
        W.grad[:, 1] += g
        W.grad[:, 0] -= g
        b.grad[1] += r.sum()
        b.grad[0] -= r.sum()
        return value

    def log_likelihood(self, X: Any, y: Any) -> float:
        """Mean log-likelihood ``(1/n) sum_i log P(y_i | x_i)`` of labelled data."""
        from .validation import check_y, encode_labels

        X = self._check_predict_input(X)
        y_idx = encode_labels(check_y(y, X.shape[0]), self.classes_)
        return self._mean_ll(X, y_idx)

    def _mean_ll(self, X: np.ndarray, y_idx: np.ndarray) -> float:
        logp = log_softmax(self._scores(X))
        return float(logp[np.arange(X.shape[0]), y_idx].mean())

    # -- L-BFGS ------------------------------------------------------------------------
    def _fit_lbfgs(self, X: np.ndarray, y_idx: np.ndarray) -> None:
        theta = self._flat.value

        def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
            theta[...] = x
            return self._objective(X, y_idx), self._flat.grad

        result = minimize_lbfgs(fun, theta, max_iter=self.max_iter, gtol=self.tol)
        theta[...] = result.x
        self.loss_curve_ = [float(result.initial_fun), float(result.fun)]
        self.n_iter_ = int(result.n_iter)
        self.n_evals_ = int(result.n_evals)

    # -- gradient ascent ---------------------------------------------------------------
    def _step_size(self, X: np.ndarray, solver: str) -> float:
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        if solver == "stochastic":
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

    def _ascent_solver(self) -> str:
        return "minibatch" if self.solver == "lbfgs" else self.solver

    def _ensure_optimizer(self, lr: float) -> SGD:
        if self._optimizer is None:
            mu = self.momentum
            self._optimizer = SGD([self._flat], learning_rate=lr, momentum=mu, nesterov=mu > 0)
        self._optimizer.learning_rate = lr
        return self._optimizer

    def _epoch(self, X: np.ndarray, y_idx: np.ndarray, lr: float) -> float:
        """One pass of gradient ascent; returns the mean training ``-J`` seen."""
        solver = self._ascent_solver()
        opt = self._ensure_optimizer(lr)
        n = X.shape[0]
        if solver == "batch":
            value = self._objective(X, y_idx)
            opt.step()
            return value
        size = 1 if solver == "stochastic" else min(self.batch_size, n)
        # One gather per epoch into a reused buffer; the batches are then views.
        order = self._rng.permutation(n)
        if self._buffer is None or self._buffer.shape != X.shape:
            self._buffer = np.empty(X.shape, dtype=X.dtype)  # C order: batches are contiguous rows
        Xs = np.take(X, order, axis=0, out=self._buffer, mode="clip")
        ys = y_idx[order]
        total = 0.0
        for start in range(0, n, size):
            stop = min(start + size, n)
            total += self._objective(Xs[start:stop], ys[start:stop]) * (stop - start)
            opt.step()
        return total / n

    def _fit_ascent(self, X: np.ndarray, y_idx: np.ndarray) -> None:
        use_es = resolve_early_stopping(self.early_stopping, X.shape[0])
        held_out = None
        if use_es:
            tr, va = train_validation_split(y_idx, self.validation_fraction, self._rng)
            X, y_idx, Xv, yv = X[tr], y_idx[tr], X[va], y_idx[va]

            def held_out() -> float:
                return self._mean_ll(Xv, yv)

        lr = self._step_size(X, self.solver)
        self.loss_curve_, self.validation_scores_, _ = run_epochs(
            lambda: self._epoch(X, y_idx, lr),
            StoppingMonitor(self.n_iter_no_change, self.tol),
            self.max_iter,
            held_out_score=held_out,
            weights=self._flat.value,
        )
        self.n_iter_ = len(self.loss_curve_)
        self._buffer = None

    # -- training ------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, y_idx: np.ndarray) -> None:
        self._build(X.shape[1])
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, y_idx)
        else:
            self._fit_ascent(X, y_idx)

    def _partial_fit(self, X: np.ndarray, y_idx: np.ndarray, first: bool) -> None:
        if first:
            self._build(X.shape[1])
        lr = self._step_size(X, self._ascent_solver())
        self.loss_curve_.append(self._epoch(X, y_idx, lr))
        self._buffer = None
        self.n_iter_ += 1

    # -- prediction --------------------------------------------------------------------
    def _scores(self, X: np.ndarray) -> np.ndarray:
        """Class activations of an already validated ``X``."""
        Z = X @ self._linear.weight.value
        Z += self.intercept_
        return Z

    def decision_function(self, X: Any) -> np.ndarray:
        """Class activations ``w_y . x + b_y``, shape (n_samples, n_classes)."""
        return self._scores(self._check_predict_input(X))

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
        arrays = {
            "coef_": np.ascontiguousarray(self.coef_),
            "intercept_": self.intercept_.copy(),
        }
        return meta, arrays

    def _restore_fitted(self, fitted: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        coef, intercept = arrays["coef_"], arrays["intercept_"]
        k, d = self.classes_.size, self.n_features_in_
        if coef.shape != (k, d) or intercept.shape != (k,):
            raise ModelError(
                f"saved softmax weights have shapes {coef.shape} and {intercept.shape}, "
                f"expected ({k}, {d}) and ({k},) for {k} classes and {d} features"
            )
        self._build(d)
        self._linear.weight.value[...] = coef.T
        self._linear.bias.value[...] = intercept
        self.loss_curve_ = list(fitted["loss_curve"])
        self.validation_scores_ = list(fitted["validation_scores"])
        self.n_iter_ = int(fitted["n_iter"])
