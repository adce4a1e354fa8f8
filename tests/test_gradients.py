"""Central-difference gradient checks (float64) for every Module and loss of the core."""

from __future__ import annotations

import numpy as np
import pytest

from models import (
    MLP,
    Linear,
    MeanSquaredError,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxCrossEntropy,
    SoftmaxRegression,
    Tanh,
    log_softmax,
    softmax,
)

EPS = 1e-6


def numeric_grad(f, x: np.ndarray) -> np.ndarray:
    """Central differences of scalar ``f()`` with respect to every entry of ``x`` (in place)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + EPS
        up = f()
        x[i] = old - EPS
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * EPS)
    return grad


def check_module(module: Module, x: np.ndarray, rng: np.random.Generator) -> float:
    """Largest relative error between backward and central differences, for the input and
    every parameter, of the scalar ``L = sum(forward(x) * G)`` with a random ``G``."""
    G = rng.normal(size=module.forward(x).shape)

    def loss() -> float:
        return float(np.sum(module.forward(x) * G))

    module.zero_grad()
    module.forward(x)
    dx = module.backward(G)
    analytic = [dx] + [p.grad.copy() for p in module.parameters()]
    numeric = [numeric_grad(loss, x)] + [numeric_grad(loss, p.value) for p in module.parameters()]
    worst = 0.0
    for a, n in zip(analytic, numeric, strict=True):
        scale = max(np.abs(n).max(), np.abs(a).max(), 1e-8)
        worst = max(worst, float(np.abs(a - n).max() / scale))
    return worst


def random_shape(rng: np.random.Generator) -> tuple[int, int]:
    return int(rng.integers(1, 7)), int(rng.integers(1, 6))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("make", [Sigmoid, Tanh, ReLU], ids=["sigmoid", "tanh", "relu"])
def test_activation_gradients(make, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=random_shape(rng))
    # Keep ReLU inputs away from the kink at 0, where the derivative does not exist.
    x[np.abs(x) < 1e-3] = 0.5
    assert check_module(make(), x, rng) < 1e-6


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("init", ["glorot", "he"])
def test_linear_gradients(init: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, n_in = random_shape(rng)
    layer = Linear(n_in, int(rng.integers(1, 5)), init=init, rng=rng)
    layer.bias.value[...] = rng.normal(size=layer.bias.value.shape)
    assert check_module(layer, rng.normal(size=(n, n_in)), rng) < 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_sequential_gradients(seed: int) -> None:
    rng = np.random.default_rng(seed)
    net = Sequential(
        Linear(4, 5, rng=rng), Tanh(), Linear(5, 3, rng=rng), Sigmoid(), Linear(3, 2, rng=rng)
    )
    assert check_module(net, rng.normal(size=(6, 4)), rng) < 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_softmax_cross_entropy_gradient(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 8)), int(rng.integers(2, 6))
    z = rng.normal(scale=3.0, size=(n, k))
    y = rng.integers(0, k, n)
    loss = SoftmaxCrossEntropy()
    loss.forward(z, y)
    analytic = loss.backward()
    numeric = numeric_grad(lambda: loss.forward(z, y), z)
    np.testing.assert_allclose(analytic, numeric, atol=1e-8)


@pytest.mark.parametrize("seed", range(3))
def test_mean_squared_error_gradient(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pred, target = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    loss = MeanSquaredError()
    loss.forward(pred, target)
    analytic = loss.backward()
    numeric = numeric_grad(lambda: loss.forward(pred, target), pred)
    np.testing.assert_allclose(analytic, numeric, atol=1e-8)


def test_gradient_check_catches_a_wrong_backward() -> None:
    class WrongTanh(Tanh):
        def backward(self, grad_output: np.ndarray) -> np.ndarray:
            return grad_output * (1.0 - self._out)  # should be 1 - out**2

    class ForgetsBiasGrad(Linear):
        def backward(self, grad_output: np.ndarray) -> np.ndarray:
            self.weight.grad += self._x.T @ grad_output
            return grad_output @ self.weight.value.T

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    assert check_module(Tanh(), x, rng) < 1e-6
    assert check_module(WrongTanh(), x, rng) > 1e-2
    assert check_module(ForgetsBiasGrad(3, 2, rng=rng), x, rng) > 1e-2


def test_softmax_cross_entropy_is_stable_at_huge_activations() -> None:
    z = np.array([[1e3, -1e3, 0.0], [-1e3, -1e3, 1e3], [1e3, 1e3, -1e3]])
    loss = SoftmaxCrossEntropy()
    # Row 1: right class dominates -> log P = 0; row 2: wrong class by 2000 -> -log P = 2000;
    # row 3: two tied at 1e3 -> P = 1/2.
    value = loss.forward(z, np.array([0, 1, 0]))
    assert np.isfinite(value)
    assert value == pytest.approx((0.0 + 2000.0 + np.log(2.0)) / 3, rel=1e-12)
    grad = loss.backward()
    assert np.all(np.isfinite(grad))
    expected = np.array([[0.0, 0.0, 0.0], [0.0, -1.0, 1.0], [-0.5, 0.5, 0.0]]) / 3
    np.testing.assert_allclose(grad, expected, atol=1e-15)
    np.testing.assert_allclose(softmax(z).sum(axis=1), 1.0)
    assert np.all(np.isfinite(log_softmax(z)))


def test_sigmoid_and_tanh_are_stable_at_huge_activations() -> None:
    x = np.array([[-1e3, 1e3, 0.0]])
    out = Sigmoid().forward(x)
    np.testing.assert_array_equal(out, [[0.0, 1.0, 0.5]])
    assert np.all(np.isfinite(Tanh().forward(x)))


def test_float32_on_request() -> None:
    rng = np.random.default_rng(0)
    net = Sequential(Linear(3, 4, rng=rng, dtype=np.float32), ReLU(), Linear(4, 2, dtype="float32"))
    x = rng.normal(size=(5, 3)).astype(np.float32)
    out = net.forward(x)
    assert out.dtype == np.float32
    assert net.backward(np.ones_like(out)).dtype == np.float32
    assert all(p.value.dtype == np.float32 for p in net.parameters())
    assert Linear(3, 4).weight.value.dtype == np.float64


def test_zero_grad_resets_accumulated_gradients() -> None:
    rng = np.random.default_rng(1)
    layer = Linear(3, 2, rng=rng)
    x = rng.normal(size=(4, 3))
    layer.forward(x)
    layer.backward(np.ones((4, 2)))
    first = layer.weight.grad.copy()
    layer.forward(x)
    layer.backward(np.ones((4, 2)))
    np.testing.assert_allclose(layer.weight.grad, 2 * first)  # gradients accumulate
    layer.zero_grad()
    assert not layer.weight.grad.any() and not layer.bias.grad.any()


def estimator_objective(est) -> tuple:
    """The estimator's full training objective (with its L2 term) as a function of its
    flat parameter buffer, and the gradient its backward pass leaves in that buffer."""
    if isinstance(est, MLP):
        return lambda X, y: est._objective(X, y) + est._penalty()
    return est._objective


def check_estimator_gradient(est, X: np.ndarray, y: np.ndarray, rng) -> float:
    """Largest relative error between the estimator's gradient (data term + L2 term) and
    central differences of its objective, at random weights."""
    est.partial_fit(X, y, classes=np.unique(y))  # builds the network
    theta = est._flat.value
    theta[...] = rng.normal(scale=0.5, size=theta.shape)
    y_idx = np.searchsorted(est.classes_, y)
    f = estimator_objective(est)
    f(X, y_idx)
    analytic = est._flat.grad.copy()
    numeric = numeric_grad(lambda: f(X, y_idx), theta)
    scale = max(np.abs(numeric).max(), np.abs(analytic).max(), 1e-8)
    return float(np.abs(analytic - numeric).max() / scale)


@pytest.mark.parametrize("l2", [0.0, 0.3])
@pytest.mark.parametrize(
    "make",
    [
        lambda l2: SoftmaxRegression(l2=l2),
        lambda l2: MLP(hidden_sizes=(4, 3), activation="tanh", l2=l2),
        lambda l2: MLP(hidden_sizes=(5,), activation="sigmoid", l2=l2, solver="lbfgs"),
    ],
    ids=["softmax", "mlp-tanh", "mlp-sigmoid"],
)
@pytest.mark.parametrize("k", [2, 3])  # softmax regression has a two-class fast path
def test_estimator_gradients_include_the_l2_term(make, l2: float, k: int) -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(9, 4))
    y = np.arange(9) % k
    assert check_estimator_gradient(make(l2), X, y, rng) < 1e-6


def test_gradient_check_catches_a_wrong_l2_term(monkeypatch) -> None:
    rng = np.random.default_rng(8)
    X = rng.normal(size=(9, 4))
    y = np.arange(9) % 3
    good_softmax, good_mlp = SoftmaxRegression._objective, MLP._penalty

    def penalty_gradient_doubled(self, X, y_idx):
        value = good_softmax(self, X, y_idx)
        self._linear.weight.grad += self.l2 * self._linear.weight.value
        return value

    def penalty_counts_the_biases(self):
        return good_mlp(self) + 0.5 * self.l2 * sum(float(np.vdot(b, b)) for b in self.intercepts_)

    monkeypatch.setattr(SoftmaxRegression, "_objective", penalty_gradient_doubled)
    monkeypatch.setattr(MLP, "_penalty", penalty_counts_the_biases)
    assert check_estimator_gradient(SoftmaxRegression(l2=0.3), X, y, rng) > 1e-2
    assert check_estimator_gradient(MLP(hidden_sizes=(4,), l2=0.3), X, y, rng) > 1e-2
