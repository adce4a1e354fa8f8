"""The MLP's training step on reused buffers: the same numbers as the backprop core's modules.

``MLP._core_objective`` runs ``network_`` (Linear, the activations, SoftmaxCrossEntropy, the
L2 term started as ``l2 * W``); ``MLP._objective`` runs :class:`DenseSoftmaxStep`. Every
branch of the step (activation, the transposed and direct weight-gradient products, the
column-wise and reduced softmax rows, with and without L2) must give the core's loss and
gradients bit for bit; the central-difference checks of the objective are in
``test_gradients.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from models import MLP
from models.dense_step import _COLUMNWISE_CLASSES, DenseSoftmaxStep, transposed_weight_gradient


def built(X, y, **params) -> tuple[MLP, np.ndarray]:
    mlp = MLP(max_iter=1, **params).fit(X, y)  # builds the network, moves the weights
    return mlp, mlp._prepare_fit(X, y)[1]


def core_and_step(mlp: MLP, X, y_idx) -> tuple[tuple, tuple]:
    grad = mlp._flat.grad
    core = mlp._core_objective(X, y_idx), grad.copy()
    grad[...] = np.nan  # every entry must be written by the step
    step = mlp._objective(X, y_idx), grad.copy()
    return core, step


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize(
    ("n_features", "hidden"),
    [
        (6, (8,)),  # both weight gradients transposed: a narrow output, a narrow hidden layer
        (6, (40, 20)),  # direct x^T g for the 40- and 20-wide layers
        (1100, (24,)),  # a wide input: transposed again
    ],
)
@pytest.mark.parametrize("k", [2, 3, _COLUMNWISE_CLASSES + 1])  # column-wise and reduced rows
@pytest.mark.parametrize("l2", [0.0, 0.05])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_step_is_the_module_chain_bit_for_bit(activation, n_features, hidden, k, l2, dtype) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(45, n_features)).astype(dtype)
    y = np.arange(45) % k
    mlp, y_idx = built(X, y, hidden_sizes=hidden, activation=activation, l2=l2, dtype=dtype)
    (core_value, core_grad), (value, grad) = core_and_step(mlp, X, y_idx)
    assert value == core_value
    np.testing.assert_array_equal(grad, core_grad)
    assert np.abs(grad).max() > 0


def test_the_parametrised_cases_reach_every_branch() -> None:
    # The cases above are only a proof if they take each branch they are meant to.
    assert transposed_weight_gradient(6, 8) and transposed_weight_gradient(8, 2)
    assert not transposed_weight_gradient(6, 40) and not transposed_weight_gradient(40, 20)
    assert transposed_weight_gradient(1100, 24)
    step = DenseSoftmaxStep(
        [np.zeros((3, 4)), np.zeros((4, 3))],
        [np.zeros(4), np.zeros(3)],
        [np.zeros((3, 4)), np.zeros((4, 3))],
        [np.zeros(4), np.zeros(3)],
        "relu",
        0.0,
    )
    assert step._buffers_for(5).columnwise
    wide = DenseSoftmaxStep(
        [np.zeros((3, _COLUMNWISE_CLASSES + 1))],
        [np.zeros(_COLUMNWISE_CLASSES + 1)],
        [np.zeros((3, _COLUMNWISE_CLASSES + 1))],
        [np.zeros(_COLUMNWISE_CLASSES + 1)],
        "relu",
        0.0,
    )
    assert not wide._buffers_for(5).columnwise


def test_buffers_of_other_batch_sizes_do_not_leak_between_batches() -> None:
    # A fit alternates full and remainder batches; the buffers of one size must not carry
    # anything into the next call (more sizes than are cached, and back again).
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 7))
    y = rng.integers(0, 3, 60)
    mlp, y_idx = built(X, y, hidden_sizes=(9, 5), l2=0.1)
    for m in (60, 13, 1, 60, 2, 3, 4, 5, 13):
        (core_value, core_grad), (value, grad) = core_and_step(mlp, X[:m], y_idx[:m])
        assert value == core_value
        np.testing.assert_array_equal(grad, core_grad)


def test_l2_set_between_partial_fits_is_used() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 4))
    y = np.arange(30) % 2
    mlp, y_idx = built(X, y, hidden_sizes=(6,), l2=0.0)
    mlp.set_params(l2=0.5)
    (core_value, core_grad), (value, grad) = core_and_step(mlp, X, y_idx)
    assert value == core_value
    np.testing.assert_array_equal(grad, core_grad)
    mlp.set_params(l2=0.0)
    _, (_, unpenalised) = core_and_step(mlp, X, y_idx)
    assert not np.array_equal(unpenalised, grad)


@pytest.mark.parametrize("solver", ["adam", "minibatch", "batch", "stochastic"])
def test_fits_are_those_of_the_module_chain(solver: str, monkeypatch) -> None:
    # Whole fits, shuffled mini-batches with a remainder batch, early stopping on: the same
    # weights and curves, bit for bit, as training through the core's modules.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(230, 12))
    y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    params = dict(hidden_sizes=(16,), solver=solver, batch_size=64, max_iter=6, l2=1e-2)
    fast = MLP(**params).fit(X, y)
    monkeypatch.setattr(MLP, "_objective", MLP._core_objective)
    core = MLP(**params).fit(X, y)
    assert fast.loss_curve_ == core.loss_curve_
    assert fast.validation_scores_ == core.validation_scores_
    for a, b in zip(fast.coefs_ + fast.intercepts_, core.coefs_ + core.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_unknown_activation_is_refused() -> None:
    w = [np.zeros((2, 2))]
    with pytest.raises(ValueError, match="activation"):
        DenseSoftmaxStep(w, [np.zeros(2)], w, [np.zeros(2)], "softplus", 0.0)
