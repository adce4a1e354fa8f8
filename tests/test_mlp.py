"""The MLP: XOR, universal approximation of sin, early stopping, initialisation."""

from __future__ import annotations

import numpy as np
import pytest

from models import MLP, Adam, Linear, MeanSquaredError, ModelError, Sequential, Tanh

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_learns_xor(activation: str) -> None:
    clf = MLP(
        hidden_sizes=(16,),
        activation=activation,
        learning_rate=0.05,
        l2=0.0,
        max_iter=1000,
        tol=1e-6,
        n_iter_no_change=50,
    ).fit(np.tile(XOR_X, (10, 1)), np.tile(XOR_Y, 10))
    np.testing.assert_array_equal(clf.predict(XOR_X), XOR_Y)
    assert np.all(clf.predict_proba(XOR_X)[np.arange(4), XOR_Y] > 0.9)


def test_xor_is_not_linearly_separable_but_two_layers_help() -> None:
    clf = MLP(
        hidden_sizes=(16, 8),
        activation="tanh",
        learning_rate=0.03,
        l2=0.0,
        max_iter=1000,
        tol=1e-6,
        n_iter_no_change=50,
    ).fit(XOR_X, ["no", "yes", "yes", "no"])
    assert clf.predict(XOR_X).tolist() == ["no", "yes", "yes", "no"]
    assert [w.shape for w in clf.coefs_] == [(2, 16), (16, 8), (8, 2)]


def test_core_approximates_sin_on_minus_pi_to_pi() -> None:
    # Universal approximation with the core directly: one tanh layer, squared loss, Adam.
    rng = np.random.default_rng(0)
    x = np.linspace(-np.pi, np.pi, 256)[:, None]
    t = np.sin(x)
    net = Sequential(Linear(1, 32, rng=rng), Tanh(), Linear(32, 1, rng=rng))
    loss = MeanSquaredError()
    opt = Adam(net.parameters(), learning_rate=0.01)
    for step in range(4000):
        if step == 3000:
            opt.learning_rate = 0.002
        opt.zero_grad()
        loss.forward(net.forward(x), t)
        net.backward(loss.backward())
        opt.step()
    grid = np.linspace(-np.pi, np.pi, 2001)[:, None]
    assert np.max(np.abs(net.forward(grid) - np.sin(grid))) < 0.05


@pytest.mark.parametrize("solver", ["adam", "minibatch", "batch", "stochastic"])
def test_every_solver_learns(solver: str) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 4))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)  # nonlinear (XOR-like quadrants)
    lr = {"adam": 0.01, "minibatch": 0.05, "batch": 0.3, "stochastic": 0.01}[solver]
    clf = MLP(
        hidden_sizes=(16,),
        solver=solver,
        learning_rate=lr,
        l2=0.0,
        max_iter=150,
        tol=0.0,
        n_iter_no_change=150,
    ).fit(X, y)
    assert clf.score(X, y) > 0.9
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_early_stopping_restores_the_best_weights() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 30))
    y = (X[:, 0] + rng.normal(scale=2.0, size=300) > 0).astype(int)  # noisy: overfits
    clf = MLP(
        hidden_sizes=(64,),
        learning_rate=0.01,
        l2=0.0,
        early_stopping=True,
        n_iter_no_change=5,
        max_iter=200,
    ).fit(X, y)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ and clf.n_iter_ < 200
    assert clf.best_epoch_ == int(np.argmax(scores)) and clf.best_epoch_ < clf.n_iter_ - 1
    # The kept weights are those of the best epoch: they score the best held-out value.
    va = clf.validation_indices_
    assert va.size == 30
    held_out_ll = np.mean(np.log(clf.predict_proba(X[va])[np.arange(va.size), y[va]]))
    assert held_out_ll == pytest.approx(max(scores), abs=1e-12)


def test_initialisation_is_seeded_glorot_or_he() -> None:
    X = np.random.default_rng(0).normal(size=(20, 400))
    y = np.arange(20) % 2
    relu = MLP(hidden_sizes=(300,), activation="relu", max_iter=1)
    relu.partial_fit(X, y, classes=[0, 1])
    tanh = MLP(hidden_sizes=(300,), activation="tanh", max_iter=1, learning_rate=1e-12)
    tanh.partial_fit(X, y, classes=[0, 1])
    # He: std sqrt(2 / n_in); Glorot uniform: std sqrt(2 / (n_in + n_out)).
    assert np.std(relu.coefs_[0]) == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    assert np.std(tanh.coefs_[0]) == pytest.approx(np.sqrt(2 / 700), rel=0.05)
    again = MLP(hidden_sizes=(300,), activation="tanh", max_iter=1, learning_rate=1e-12)
    again.partial_fit(X, y, classes=[0, 1])
    np.testing.assert_array_equal(again.coefs_[0], tanh.coefs_[0])


def test_float32_on_request() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 5))
    y = (X[:, 0] > 0).astype(int)
    clf = MLP(dtype="float32", max_iter=20).fit(X, y)
    assert all(w.dtype == np.float32 for w in clf.coefs_)
    assert clf.predict_proba(X).dtype == np.float32
    assert clf.score(X, y) > 0.8


def test_invalid_parameters_are_named() -> None:
    X, y = np.eye(4), [0, 1, 0, 1]
    for params, name in [
        ({"hidden_sizes": (0,)}, "hidden_sizes"),
        ({"hidden_sizes": "64"}, "hidden_sizes"),
        ({"activation": "softplus"}, "activation"),
        ({"solver": "newton"}, "solver"),
        ({"solver": "lbfgs", "early_stopping": True}, "early_stopping"),
        ({"learning_rate": "auto"}, "learning_rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"early_stopping": "yes"}, "early_stopping"),
    ]:
        with pytest.raises(ModelError, match=name):
            MLP(**params).fit(X, y)


def test_lbfgs_solver_fits_a_small_nonlinear_problem() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    clf = MLP(hidden_sizes=(16,), solver="lbfgs", l2=1e-3, max_iter=300, tol=1e-6).fit(X, y)
    assert clf.score(X, y) > 0.95
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] and 0 < clf.n_iter_ <= 300
    assert not clf.validation_scores_
    clf.partial_fit(X, y)  # continues with Adam passes
    assert clf.n_iter_ > 0


def test_reloading_keeps_constructor_parameters_as_given(tmp_path) -> None:
    from models import load

    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    for sizes in ([4], (4,), (5, 3), 6):
        clf = MLP(hidden_sizes=sizes, max_iter=3).fit(X, y)
        clf.save(tmp_path / "m.npz")
        loaded = load(tmp_path / "m.npz")
        assert loaded.get_params() == clf.get_params()
        assert type(loaded.hidden_sizes) is type(sizes)
        np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_first_layer_skips_the_input_gradient_without_changing_the_parameters() -> None:
    # Nobody uses dL/dX, so the first Linear layer does not compute it (a batch x hidden x
    # n_features product saved per step); every parameter gradient must be unchanged.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 30)), rng.integers(0, 3, 40)
    grads = {}
    for skip in (True, False):
        mlp = MLP(hidden_sizes=(8, 5), l2=0.1, max_iter=1)
        mlp.fit(X, y)  # builds the network and fixes the weights
        first = mlp.network_[0]
        assert isinstance(first, Linear) and first.needs_input_grad is False
        first.needs_input_grad = not skip
        mlp._core_objective(X, mlp._prepare_fit(X, y)[1])
        grads[skip] = mlp._flat.grad.copy()
        if not skip:
            assert mlp.network_.backward(np.ones((40, 3))).shape == X.shape  # computed
    np.testing.assert_array_equal(grads[True], grads[False])
    assert np.abs(grads[True]).max() > 0
