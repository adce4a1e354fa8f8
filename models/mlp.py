"""Multi-layer perceptron classifier built on the backprop core."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .activations import ACTIVATIONS, INPLACE_ACTIVATIONS
from .dense_step import DenseSoftmaxStep
from .errors import ModelError
from .estimator import Estimator
from .lbfgs import minimize_lbfgs
from .linear import Linear
from .losses import SoftmaxCrossEntropy, softmax
from .module import flatten_parameters
from .optimizers import SGD, Adam, Optimizer
from .sequential import Sequential
from .stopping import StoppingMonitor, resolve_early_stopping, run_epochs
from .validation import check_choice, check_training_params, train_validation_split

SOLVERS = ("adam", "minibatch", "batch", "stochastic", "lbfgs")


class MLP(Estimator):
    """Feed-forward neural network with a softmax output, trained by backpropagation.

    It minimises ``-J``, with ``J = (1/n) sum_i log P(y_i | x_i) - (l2/2) sum ||W||^2``
    (gradient ascent on the mean log-likelihood, exactly as for softmax regression, but
    the features are learned by the hidden layers). The loss is a *mean* over samples, so
    the learning rate does not depend on the number of samples. Biases are not penalised.

    The defaults (Adam at 3e-3, ``l2=1e-2``, early stopping from 200 samples with a
    patience of 4 epochs) were chosen on standardised band-power-like features (tens to
    hundreds of features, 60 to 20,000 samples): they generalise without tuning and stop
    within a few dozen epochs.

    Parameters
    ----------
    hidden_sizes : sequence of int
        Width of each hidden layer, e.g. ``(64,)`` or ``(128, 64)``.
    activation : {"relu", "tanh", "sigmoid"}
        Hidden nonlinearity. ReLU layers use He initialisation, the others Glorot.
    solver : {"adam", "minibatch", "batch", "stochastic", "lbfgs"}
        Adam (Kingma & Ba 2015) on mini-batches, or gradient steps with ``momentum`` on
        mini-batches of ``batch_size``, on all samples, or on one sample at a time; or
        L-BFGS on the whole objective (:mod:`models.lbfgs`; as scikit-learn's
        ``MLPClassifier(solver="lbfgs")``, it suits small data sets): ``max_iter`` then
        counts its iterations, ``tol`` bounds the gradient, there is no early stopping,
        and ``partial_fit`` makes Adam passes.
    learning_rate : float
    momentum : float in [0, 1)
        Nesterov momentum of the non-Adam solvers.
    batch_size : int or "auto"
        Samples per step for "adam" and "minibatch" (capped at the number of samples).
        "auto" is ``min(200, max(16, n_samples // 8))``: small data sets still get about
        eight steps per epoch instead of one.
    l2 : float
        L2 penalty on the weights; the default regularises noisy band-power data.
    max_iter : int
        Maximum number of epochs.
    tol : float
        Minimum improvement of the monitored log-likelihood.
    early_stopping : bool or "auto"
        Hold out ``validation_fraction`` (stratified), stop when its log-likelihood has not
        improved for ``n_iter_no_change`` epochs and restore the best weights. "auto": on
        with at least 200 samples. Without it, training stops when the training loss stops
        improving. Not with "lbfgs" ("auto" is off there, True is refused).
    validation_fraction : float
    n_iter_no_change : int
    random_state : int, Generator or None
        Seed of the initial weights, the shuffling and the split (default 0).
    dtype : {"float64", "float32"}

    Attributes
    ----------
    classes_, n_features_in_,
    coefs_ : list of ndarray (n_in, n_out) per layer
    intercepts_ : list of ndarray (n_out,) per layer
    loss_curve_ : list of float
        Training loss ``-J`` per epoch.
    validation_scores_ : list of float
        Held-out mean log-likelihood per epoch (empty without early stopping).
    best_epoch_ : int
        Epoch whose weights were kept (the best held-out log-likelihood).
    validation_indices_ : ndarray of int
        Rows of the training ``X`` held out for early stopping (empty without it; not saved).
    n_iter_ : int
    """

    kind = "mlp"

    def __init__(
        self,
        *,
        hidden_sizes: tuple[int, ...] = (64,),
        activation: str = "relu",
        solver: str = "adam",
        learning_rate: float = 3e-3,
        momentum: float = 0.9,
        batch_size: int | str = "auto",
        l2: float = 1e-2,
        max_iter: int = 200,
        tol: float = 1e-3,
        early_stopping: bool | str = "auto",
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 4,
        random_state: int | np.random.Generator | None = 0,
        dtype: str = "float64",
    ) -> None:
        self.hidden_sizes = hidden_sizes
        self.activation = activation
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
        sizes = self.hidden_sizes
        if isinstance(sizes, (int, np.integer)):
            sizes = (sizes,)
        if isinstance(sizes, str) or not all(
            isinstance(h, (int, np.integer)) and not isinstance(h, bool) and h > 0 for h in sizes
        ):
            raise ModelError(
                f"hidden_sizes must be a sequence of positive integers, got {self.hidden_sizes!r}"
            )
        check_choice("activation", self.activation, tuple(ACTIVATIONS))
        check_choice("solver", self.solver, SOLVERS)
        if self.learning_rate == "auto":
            raise ModelError("learning_rate must be a positive number, got 'auto'")
        check_training_params(self)
        if self.solver == "lbfgs" and self.early_stopping is True:
            raise ModelError(
                "early_stopping=True needs a mini-batch solver ('adam', 'minibatch', 'batch' "
                "or 'stochastic'); solver='lbfgs' minimises the training objective to tol: "
                "use early_stopping='auto' or False with it"
            )

    def _sizes(self) -> tuple[int, ...]:
        h = self.hidden_sizes
        return (int(h),) if isinstance(h, (int, np.integer)) else tuple(int(v) for v in h)

    # -- network -------------------------------------------------------------------------
    def _build(self, n_features: int) -> None:
        dtype = self._dtype()
        widths = [n_features, *self._sizes(), self.classes_.size]
        init = "he" if self.activation == "relu" else "glorot"
        layers = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(widths)):
            is_output = i == len(widths) - 2
            lin = Linear(
                n_in, n_out, init="glorot" if is_output else init, rng=self._rng, dtype=dtype
            )
            lin.needs_input_grad = i > 0
            layers.append(lin)
            if not is_output:
                layers.append(ACTIVATIONS[self.activation]())
        self.network_ = Sequential(*layers)
        self._linears = [m for m in layers if isinstance(m, Linear)]
        self._flat = flatten_parameters(self.network_.parameters())
        self._weights = [lin.weight for lin in self._linears]
        self._buffer: np.ndarray | None = None
        self._loss = SoftmaxCrossEntropy()
        self._step = DenseSoftmaxStep(
            [lin.weight.value for lin in self._linears],
            [lin.bias.value for lin in self._linears],
            [lin.weight.grad for lin in self._linears],
            [lin.bias.grad for lin in self._linears],
            self.activation,
            self.l2,
        )
        self._optimizer = self._make_optimizer()
        self.loss_curve_: list[float] = []
        self.validation_scores_: list[float] = []
        self.best_epoch_ = 0
        self.n_iter_ = 0
        self._publish()

    def _make_optimizer(self) -> Optimizer:
        params = [self._flat]
        if self.solver in ("adam", "lbfgs"):
            return Adam(params, learning_rate=self.learning_rate)
        return SGD(
            params,
            learning_rate=self.learning_rate,
            momentum=self.momentum,
            nesterov=self.momentum > 0,
        )

    def _publish(self) -> None:
        """Expose the layers' arrays (shared, not copied) for the prediction fast path."""
        self.coefs_ = [lin.weight.value for lin in self._linears]
        self.intercepts_ = [lin.bias.value for lin in self._linears]
        self._act = INPLACE_ACTIVATIONS[self.activation]

    # -- training ------------------------------------------------------------------------
    def _objective(self, X: np.ndarray, y_idx: np.ndarray) -> float:
        """Mean cross-entropy on (X, y); leaves its gradient plus the L2 term's in the flat
        gradient buffer (the penalty itself is added by the callers that report it).

        Computed by :class:`~models.dense_step.DenseSoftmaxStep` on reused buffers: the
        same numbers as :meth:`_core_objective`, the module chain of the backprop core.
        """
        step = self._step
        step.l2 = self.l2  # set_params between partial_fit calls takes effect, as before
        return step(X, y_idx)

    def _core_objective(self, X: np.ndarray, y_idx: np.ndarray) -> float:
        """:meth:`_objective` through the core's modules (``network_``), as reference."""
        net, loss, l2, flat = self.network_, self._loss, self.l2, self._flat
        if l2:
            # Start the gradient at the penalty's, l2 * W, in one pass over the buffer
            # (biases are not penalised); backward then adds the data term.
            np.multiply(flat.value, l2, out=flat.grad)
            for lin in self._linears:
                lin.bias.grad.fill(0.0)
        else:
            flat.grad.fill(0.0)
        value = loss.forward(net.forward(X), y_idx)
        net.backward(loss.backward())
        return value

    def _penalty(self) -> float:
        return 0.5 * self.l2 * sum(float(np.vdot(w.value, w.value)) for w in self._weights)

    def _epoch(self, X: np.ndarray, y_idx: np.ndarray) -> float:
        n = X.shape[0]
        batch = min(200, max(16, n // 8)) if self.batch_size == "auto" else self.batch_size
        solver = "adam" if self.solver == "lbfgs" else self.solver
        size = {"batch": n, "stochastic": 1}.get(solver, min(batch, n))
        opt = self._optimizer
        if size >= n:
            total = self._objective(X, y_idx) * n
            opt.step()
            return total / n + self._penalty()
        # Each batch is gathered into one reused (size, n_features) buffer: it is still in
        # cache for the two products that read it, and no shuffled copy of all of X is made.
        # (mode="clip": with the default "raise" numpy gathers into a temporary first.)
        order = self._rng.permutation(n)
        shape = (size, X.shape[1])
        if self._buffer is None or self._buffer.shape != shape or self._buffer.dtype != X.dtype:
            self._buffer = np.empty(shape, dtype=X.dtype)
        total = 0.0
        for start in range(0, n, size):
            rows = order[start : start + size]
            xb = X.take(rows, axis=0, out=self._buffer[: rows.size], mode="clip")
            total += self._objective(xb, y_idx[rows]) * rows.size
            opt.step()
        return total / n + self._penalty()

    def _fit_lbfgs(self, X: np.ndarray, y_idx: np.ndarray) -> None:
        theta = self._flat.value

        def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
            theta[...] = x
            return self._objective(X, y_idx) + self._penalty(), self._flat.grad

        result = minimize_lbfgs(fun, theta, max_iter=self.max_iter, gtol=self.tol)
        theta[...] = result.x
        self.loss_curve_ = [float(result.initial_fun), float(result.fun)]
        self.n_iter_ = self.best_epoch_ = int(result.n_iter)

    def _fit(self, X: np.ndarray, y_idx: np.ndarray) -> None:
        self._build(X.shape[1])
        self.validation_indices_ = np.empty(0, dtype=np.intp)
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, y_idx)
            return
        # Each epoch gathers the shuffled rows; from a Fortran-ordered X (as pipelines
        # often produce) that strided gather cost 5x a row copy: make rows contiguous once.
        X = np.ascontiguousarray(X)
        use_es = resolve_early_stopping(self.early_stopping, X.shape[0])
        held_out = None
        if use_es:
            tr, va = train_validation_split(y_idx, self.validation_fraction, self._rng)
            X, y_idx, Xv, yv = X[tr], y_idx[tr], X[va], y_idx[va]
            self.validation_indices_ = va

            def held_out() -> float:
                return self._mean_ll(Xv, yv)

        self.loss_curve_, self.validation_scores_, self.best_epoch_ = run_epochs(
            lambda: self._epoch(X, y_idx),
            StoppingMonitor(self.n_iter_no_change, self.tol),
            self.max_iter,
            held_out_score=held_out,
            weights=self._flat.value,
        )
        self.n_iter_ = len(self.loss_curve_)
        self._buffer = None

    def _partial_fit(self, X: np.ndarray, y_idx: np.ndarray, first: bool) -> None:
        if first:
            self._build(X.shape[1])
        self.loss_curve_.append(self._epoch(X, y_idx))
        self._buffer = None
        self.n_iter_ += 1

    def _mean_ll(self, X: np.ndarray, y_idx: np.ndarray) -> float:
        logits = self._forward_fast(X)
        return -self._loss.forward(logits, y_idx)

    # -- prediction ----------------------------------------------------------------------
    def _forward_fast(self, X: np.ndarray) -> np.ndarray:
        """Logits without caching anything for backward (allocation-light inference)."""
        act = self._act
        h = X
        last = len(self.coefs_) - 1
        for i, (W, b) in enumerate(zip(self.coefs_, self.intercepts_, strict=True)):
            h = h @ W
            h += b
            if i < last:
                act(h)
        return h

    def decision_function(self, X: Any) -> np.ndarray:
        """Output-layer activations (logits), shape (n_samples, n_classes)."""
        return self._forward_fast(self._check_predict_input(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """``P(y | x)`` for each class in ``classes_`` order; rows sum to 1."""
        return softmax(self.decision_function(X))

    # -- state -----------------------------------------------------------------------------
    def _fitted_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        meta = {
            "loss_curve": [float(v) for v in self.loss_curve_],
            "validation_scores": [float(v) for v in self.validation_scores_],
            "n_iter": int(self.n_iter_),
            "best_epoch": int(self.best_epoch_),
            "n_layers": len(self.coefs_),
        }
        arrays = {}
        for i, (W, b) in enumerate(zip(self.coefs_, self.intercepts_, strict=True)):
            arrays[f"coef_{i}"] = W
            arrays[f"intercept_{i}"] = b
        return meta, arrays

    def _restore_fitted(self, fitted: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        # The constructor parameters stay as given (hidden_sizes=[4] stays a list).
        self._build(self.n_features_in_)
        for i, lin in enumerate(self._linears):
            lin.weight.value[...] = arrays[f"coef_{i}"]
            lin.bias.value[...] = arrays[f"intercept_{i}"]
        self.loss_curve_ = list(fitted["loss_curve"])
        self.validation_scores_ = list(fitted["validation_scores"])
        self.n_iter_ = int(fitted["n_iter"])
        self.best_epoch_ = int(fitted["best_epoch"])
