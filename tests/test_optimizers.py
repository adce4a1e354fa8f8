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


def _papers_adam(w, grads, lr=0.003, b1=0.8, b2=0.99, eps=1e-6):
    """Kingma & Ba (2015), algorithm 1, written out."""
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return w


def test_adam_in_chunks_is_the_papers_formula_on_every_element() -> None:
    # A parameter of 2.5 chunks (the last one partial), one of a single partial chunk, and
    # one that is not C-contiguous (updated whole): every element must follow the paper.
    from models.optimizers import ADAM_CHUNK

    rng = np.random.default_rng(2)
    big = Parameter(rng.normal(size=(5 * ADAM_CHUNK // 2 + 3,)))
    small = Parameter(rng.normal(size=(7, 3)))
    strided = Parameter(rng.normal(size=(6, 5)).T)
    params = [big, small, strided]
    start = [p.value.copy() for p in params]
    opt = Adam(params, learning_rate=0.003, beta1=0.8, beta2=0.99, epsilon=1e-6)
    grads = [[rng.normal(scale=10.0 ** rng.uniform(-4, 2), size=p.value.shape) for p in params]]
    grads += [[rng.normal(size=p.value.shape) for p in params] for _ in range(4)]
    for step in grads:
        for p, g in zip(params, step, strict=True):
            p.grad[...] = g
        opt.step()
    assert len(opt._pieces_of(0)) == 3 and len(opt._pieces_of(2)) == 1
    for i, p in enumerate(params):
        expected = _papers_adam(start[i], [step[i] for step in grads])
        np.testing.assert_allclose(p.value, expected, rtol=1e-12, atol=0)


def test_adam_follows_parameters_whose_arrays_are_replaced() -> None:
    # flatten_parameters re-points value and grad at views of one buffer: the chunk views
    # cached by a step before that must not keep updating the old arrays.
    from models.module import flatten_parameters

    rng = np.random.default_rng(3)
    p = Parameter(rng.normal(size=10))
    opt = Adam([p], learning_rate=0.01)
    p.grad[...] = 1.0
    opt.step()
    flatten_parameters([p])
    before = p.value.copy()
    p.grad[...] = 1.0
    opt.step()
    assert np.all(p.value < before)
