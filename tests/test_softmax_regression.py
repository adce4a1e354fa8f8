"""Softmax regression: the lecture's gradient ascent reaches the log-likelihood optimum."""

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
    clf = SoftmaxRegression(early_stopping=True, l2=0.0, n_iter_no_change=3).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ < 200
    assert clf.validation_scores_ and all(np.isfinite(clf.validation_scores_))
    # auto: on from 200 samples, off below
    assert SoftmaxRegression().fit(*blobs(n=250)).validation_scores_
    assert not SoftmaxRegression().fit(*blobs(n=100)).validation_scores_


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
    ]:
        with pytest.raises(ModelError, match=name):
            SoftmaxRegression(**params).fit(X, y)
