"""Optimisers: one step worked by hand, momentum, Adam, and learning a small problem."""

from __future__ import annotations

import numpy as np
import pytest

from models import SGD, Adam, Linear, MeanSquaredError, Parameter


def test_one_gradient_step_by_hand() -> None:
    layer = Linear(2, 1)
    layer.weight.value[...] = [[0.5], [-1.0]]
    layer.bias.value[...] = [0.1]
    x = np.array([[1.0, 2.0]])
    target = np.array([[0.0]])
    loss = MeanSquaredError()

    # forward: f = 0.5 * 1 + (-1.0) * 2 + 0.1 = -1.4
    f = layer.forward(x)
    assert f[0, 0] == pytest.approx(-1.4)
    # L = (1/2n) sum (f - t)^2 = 0.5 * (-1.4)^2 = 0.98
    assert loss.forward(f, target) == pytest.approx(0.98)
    # dL/df = (f - t) / n = -1.4; dL/dW = x^T dL/df = [[1 * -1.4], [2 * -1.4]]; dL/db = -1.4
    layer.zero_grad()
    layer.backward(loss.backward())
    np.testing.assert_allclose(layer.weight.grad, [[-1.4], [-2.8]])
    np.testing.assert_allclose(layer.bias.grad, [-1.4])
    # step with lr 0.1: W = [[0.5 + 0.14], [-1.0 + 0.28]] = [[0.64], [-0.72]];
    # b = 0.1 + 0.14 = 0.24
    SGD(layer.parameters(), learning_rate=0.1).step()
    np.testing.assert_allclose(layer.weight.value, [[0.64], [-0.72]])
    np.testing.assert_allclose(layer.bias.value, [0.24])
    # the new prediction 0.64 - 1.44 + 0.24 = -0.56 is closer to the target 0
    assert layer.forward(x)[0, 0] == pytest.approx(-0.56)


def test_momentum_accumulates_velocity() -> None:
    p = Parameter(np.array([1.0]))
    opt = SGD([p], learning_rate=0.1, momentum=0.5)
    p.grad[...] = 2.0
    opt.step()  # v = -0.1 * 2 = -0.2; w = 0.8
    assert p.value[0] == pytest.approx(0.8)
    opt.step()  # v = 0.5 * -0.2 - 0.2 = -0.3; w = 0.5
    assert p.value[0] == pytest.approx(0.5)


def test_adam_first_step_is_learning_rate_times_sign() -> None:
    # With bias correction, m_hat = g and v_hat = g^2 after one step: update = lr * g/|g|.
    p = Parameter(np.array([1.0, -2.0, 3.0]))
    opt = Adam([p], learning_rate=0.01)
    p.grad[...] = [5.0, -0.001, 1e3]
    opt.step()
    np.testing.assert_allclose(p.value, [0.99, -1.99, 2.99], atol=1e-6)


def test_adam_steps_are_the_papers_formula() -> None:
    # Kingma & Ba (2015), algorithm 1, written out: the in-place form must agree.
    rng = np.random.default_rng(1)
    p = Parameter(rng.normal(size=50))
    opt = Adam([p], learning_rate=0.003, beta1=0.8, beta2=0.99, epsilon=1e-6)
    w, m, v = p.value.copy(), np.zeros(50), np.zeros(50)
    for t in range(1, 31):
        g = rng.normal(scale=10.0 ** rng.uniform(-4, 2), size=50)
        p.grad[...] = g
        opt.step()
        m = 0.8 * m + 0.2 * g
        v = 0.99 * v + 0.01 * g * g
        w = w - 0.003 * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.99**t)) + 1e-6)
        np.testing.assert_allclose(p.value, w, rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, learning_rate=0.1),
        lambda ps: SGD(ps, learning_rate=0.05, momentum=0.9),
        lambda ps: SGD(ps, learning_rate=0.05, momentum=0.9, nesterov=True),
        lambda ps: Adam(ps, learning_rate=0.05),
    ],
    ids=["sgd", "momentum", "nesterov", "adam"],
)
def test_optimizers_fit_a_linear_map(make) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    true_w = np.array([[1.0], [-2.0], [0.5]])
    t = X @ true_w + 0.3
    layer = Linear(3, 1, rng=rng)
    loss = MeanSquaredError()
    opt = make(layer.parameters())
    for _ in range(500):
        opt.zero_grad()
        loss.forward(layer.forward(X), t)
        layer.backward(loss.backward())
        opt.step()
    np.testing.assert_allclose(layer.weight.value, true_w, atol=1e-2)
    np.testing.assert_allclose(layer.bias.value, [0.3], atol=1e-2)
