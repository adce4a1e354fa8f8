"""Softmax regression: L-BFGS and gradient ascent reach the regularised log-likelihood optimum.

The objective and its gradient are written again below, independently of the package, and
the optimum is found by SciPy's L-BFGS-B (a reference implementation used only here).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from models import ModelError, SoftmaxRegression


def blobs(n: int = 200, d: int = 5, k: int = 3, seed: int = 0, spread: float = 1.5):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=1.5, size=(k, d))
    y = rng.integers(0, k, n)
    return centers[y] + rng.normal(scale=spread, size=(n, d)), y


def objective(theta: np.ndarray, X: np.ndarray, y: np.ndarray, k: int, l2: float):
    """-J and -dJ/dtheta, written independently of the package (theta = [W.ravel(), b])."""
    n, d = X.shape
    W, b = theta[: k * d].reshape(k, d), theta[k * d :]
    Z = X @ W.T + b
    Z -= Z.max(axis=1, keepdims=True)
    logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    J = logp[np.arange(n), y].mean() - 0.5 * l2 * np.sum(W * W)
    R = -np.exp(logp)
    R[np.arange(n), y] += 1.0
    gW = R.T @ X / n - l2 * W
    gb = R.mean(axis=0)
    return -J, -np.concatenate([gW.ravel(), gb])


@pytest.mark.parametrize("l2", [1e-2, 1e-3])
def test_batch_ascent_reaches_the_lbfgs_optimum(l2: float) -> None:
    X, y = blobs()
    k, d = 3, X.shape[1]
    res = minimize(
        objective,
        np.zeros(k * d + k),
        args=(X, y, k, l2),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000},
    )
    clf = SoftmaxRegression(
        solver="batch", l2=l2, max_iter=5000, tol=0.0, early_stopping=False
    ).fit(X, y)
    theta = np.concatenate([clf.coef_.ravel(), clf.intercept_])
    ours = -objective(theta, X, y, k, l2)[0]
    # Both are mean log-likelihoods (per sample), so this is the 1e-4-per-sample criterion.
    assert abs(ours - (-res.fun)) < 1e-4
    assert np.all(np.diff(clf.loss_curve_) <= 1e-12), "plain steps of 1/L never decrease J"
    assert clf.loss_curve_[-1] == pytest.approx(-ours, abs=1e-9)
    assert clf.log_likelihood(X, y) == pytest.approx(ours + 0.5 * l2 * np.sum(clf.coef_**2))


def test_ascent_with_nesterov_momentum_also_converges() -> None:
    X, y = blobs(seed=1)
    l2 = 1e-2
    res = minimize(
        objective,
        np.zeros(18),
        args=(X, y, 3, l2),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-15},
    )
    clf = SoftmaxRegression(
        solver="batch",
        l2=l2,
        max_iter=2000,
        n_iter_no_change=2000,
        early_stopping=False,
        momentum=0.9,
    ).fit(X, y)
    ours = -objective(np.concatenate([clf.coef_.ravel(), clf.intercept_]), X, y, 3, l2)[0]
    assert abs(ours + res.fun) < 1e-4


def test_one_ascent_step_by_hand() -> None:
    # Two classes, one sample f = [1, 2] of class "a", all weights zero: P = [0.5, 0.5].
    # Gradient of log P(a|x): class a gets (1 - 0.5) f = [0.5, 1.0], bias 0.5;
    # class b gets -0.5 f = [-0.5, -1.0], bias -0.5. With alpha = 0.1:
    # w_a = [0.05, 0.1], b_a = 0.05; w_b = [-0.05, -0.1], b_b = -0.05.
    X = np.array([[1.0, 2.0], [0.0, 0.0]])
    clf = SoftmaxRegression(
        solver="batch", learning_rate=0.1, l2=0.0, max_iter=1, early_stopping=False
    )
    clf.fit(X, ["a", "b"])
    # The second sample (f = 0, class b) adds (1 - 0.5) * 0 to weights and +0.5 to b's bias,
    # -0.5 to a's bias; the mean over the two samples halves everything:
    # W = 0.1 * ([[0.5, 1.0], [-0.5, -1.0]] + 0) / 2, b = 0.1 * ([0.5, -0.5] + [-0.5, 0.5]) / 2.
    np.testing.assert_allclose(clf.coef_, [[0.025, 0.05], [-0.025, -0.05]])
    np.testing.assert_allclose(clf.intercept_, [0.0, 0.0], atol=1e-15)


@pytest.mark.parametrize("solver", ["batch", "minibatch", "stochastic"])
def test_every_solver_learns(solver: str) -> None:
    X, y = blobs(n=300, seed=2, spread=1.0)
    clf = SoftmaxRegression(solver=solver, max_iter=100, early_stopping=False).fit(X, y)
    assert clf.score(X, y) > 0.85
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_early_stopping_keeps_best_validation_weights() -> None:
    X, y = blobs(n=600, d=20, seed=3, spread=3.0)
    clf = SoftmaxRegression(
        solver="minibatch", early_stopping=True, l2=0.0, n_iter_no_change=3
    ).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ < 200
    assert clf.validation_scores_ and all(np.isfinite(clf.validation_scores_))
    # The kept weights are those of the best held-out epoch.
    assert max(clf.validation_scores_) > clf.validation_scores_[-1] or clf.n_iter_ == 200
    # auto: on from 200 samples, off below; never with L-BFGS (it solves the objective).
    assert SoftmaxRegression(solver="minibatch").fit(*blobs(n=250)).validation_scores_
    assert not SoftmaxRegression(solver="minibatch").fit(*blobs(n=100)).validation_scores_
    assert not SoftmaxRegression().fit(*blobs(n=250)).validation_scores_
    with pytest.raises(ModelError, match="early_stopping=True"):
        SoftmaxRegression(solver="lbfgs", early_stopping=True).fit(X, y)


def test_loss_is_a_mean_so_learning_rate_does_not_depend_on_n() -> None:
    X, y = blobs(n=100, seed=4)
    one = SoftmaxRegression(
        solver="batch", learning_rate=0.5, max_iter=20, tol=0.0, early_stopping=False
    ).fit(X, y)
    ten = SoftmaxRegression(
        solver="batch", learning_rate=0.5, max_iter=20, tol=0.0, early_stopping=False
    ).fit(np.tile(X, (10, 1)), np.tile(y, 10))
    np.testing.assert_allclose(one.coef_, ten.coef_, rtol=1e-9)


def test_invalid_parameters_are_named() -> None:
    X, y = blobs(n=30)
    for params, name in [
        ({"solver": "newton"}, "solver"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"l2": -0.1}, "l2"),
        ({"momentum": 1.5}, "momentum"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"dtype": "int8"}, "dtype"),
        ({"tol": -1.0}, "tol"),
        ({"max_iter": 0}, "max_iter"),
    ]:
        with pytest.raises(ModelError, match=name):
            SoftmaxRegression(**params).fit(X, y)


def reference_optimum(X, y, k: int, l2: float) -> float:
    """-J at the optimum found by SciPy's L-BFGS-B at a tolerance far below the test's."""
    d = X.shape[1]
    res = minimize(
        objective,
        np.zeros(k * d + k),
        args=(X, y, k, l2),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 100_000, "maxfun": 100_000},
    )
    return float(res.fun)


def ill_conditioned(n: int = 300, d: int = 12, k: int = 3, seed: int = 5):
    """Correlated blobs whose feature scales span four orders of magnitude (condition
    number of X about 2e4: thousands of L-BFGS iterations, for SciPy too)."""
    X, y = blobs(n=n, d=d, k=k, seed=seed, spread=2.0)
    mix = np.eye(d) + 0.9 * np.random.default_rng(seed).normal(size=(d, d)) / np.sqrt(d)
    return (X @ mix) * np.logspace(-2, 2, d), y


@pytest.mark.parametrize(
    ("data", "l2"),
    [
        (blobs(), 1e-2),
        (blobs(n=150, d=40, k=4, seed=7), 1e-3),
        (ill_conditioned(), 1e-2),
        (ill_conditioned(k=2), 1e-3),
    ],
    ids=["blobs", "wide", "ill-conditioned", "ill-conditioned-binary"],
)
def test_lbfgs_reaches_the_scipy_optimum(data, l2: float) -> None:
    X, y = data
    k = int(y.max()) + 1
    clf = SoftmaxRegression(l2=l2, tol=1e-9, max_iter=10_000).fit(X, y)
    assert clf.solver == "lbfgs"  # the default
    theta = np.concatenate([clf.coef_.ravel(), clf.intercept_])
    ours = objective(theta, X, y, k, l2)[0]
    assert abs(ours - reference_optimum(X, y, k, l2)) < 1e-6
    assert clf.loss_curve_[-1] == pytest.approx(ours, abs=1e-12)
    assert clf.loss_curve_[0] == pytest.approx(np.log(k))  # zero weights: uniform P


def test_lbfgs_default_tolerance_is_close_and_quick() -> None:
    X, y = blobs(n=400, d=30, seed=8)
    clf = SoftmaxRegression().fit(X, y)
    ours = objective(np.concatenate([clf.coef_.ravel(), clf.intercept_]), X, y, 3, 1e-2)[0]
    assert ours - reference_optimum(X, y, 3, 1e-2) < 1e-5  # tol=1e-4 on the gradient
    assert clf.n_iter_ < 60


def test_a_wrong_gradient_makes_the_line_search_fail_loudly(monkeypatch) -> None:
    from models.lbfgs import LineSearchError

    X, y = blobs(seed=9)
    good = SoftmaxRegression._objective

    def forgets_the_bias_and_flips_l2(self, X, y_idx):
        value = good(self, X, y_idx)
        self._linear.bias.grad *= -3.0  # a wrong backward: the bias gradient is off
        return value

    monkeypatch.setattr(SoftmaxRegression, "_objective", forgets_the_bias_and_flips_l2)
    with pytest.raises(LineSearchError, match="gradient does not match"):
        SoftmaxRegression(tol=1e-10, max_iter=500).fit(X, y)


def test_stochastic_loss_is_finite_when_the_true_class_probability_underflows() -> None:
    # Huge features and a fixed large step: after the first updates the wrong class wins
    # some samples by more than 745 nats, so P(y|x) underflows to 0 in float64 and
    # log(P[y] / sum P) was -inf. The log-sum-exp form gives the exact, finite value.
    rng = np.random.default_rng(0)
    X = rng.normal(scale=1e3, size=(40, 3))
    y = rng.integers(0, 2, 40)  # labels unrelated to X: mistakes with huge margins
    clf = SoftmaxRegression(
        solver="stochastic", learning_rate=1.0, l2=0.0, max_iter=3, early_stopping=False
    ).fit(X, y)
    assert np.all(np.isfinite(clf.loss_curve_))
    Z = clf.decision_function(X)
    margin = Z.max(axis=1) - Z[np.arange(40), y]
    assert margin.max() > 800, "the data must make P(y|x) underflow for this test to bite"
    assert -clf.log_likelihood(X, y) == pytest.approx(np.mean(margin), rel=1e-6)


def test_partial_fit_with_lbfgs_makes_minibatch_passes() -> None:
    X, y = blobs(n=300, seed=10, spread=1.0)
    clf = SoftmaxRegression()
    for _ in range(20):
        for start in range(0, 300, 30):
            clf.partial_fit(X[start : start + 30], y[start : start + 30], classes=[0, 1, 2])
    assert clf.n_iter_ == 200 and len(clf.loss_curve_) == 200
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    # It approaches the L-BFGS solution of the same objective.
    assert clf.score(X, y) >= SoftmaxRegression().fit(X, y).score(X, y) - 0.03
