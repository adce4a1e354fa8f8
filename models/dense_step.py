"""The MLP's training step: loss and gradient of a dense softmax network, on reused buffers.

The arithmetic is the backprop core's (:class:`~models.linear.Linear`, the activations and
:class:`~models.losses.SoftmaxCrossEntropy` run through :class:`~models.sequential.Sequential`,
with the L2 term started as ``l2 * W``): the same numpy operations on the same operands in
the same order, so the loss and every gradient are bit-identical to the core's (a test
checks it). What differs is bookkeeping: every layer-sized intermediate array lives in a
buffer kept from one batch to the next and is written with ``out=``, the softmax output
becomes its own gradient in place, the row reductions over a few classes run column by
column, and the targets are picked with one flat index. On a 200-sample batch of a
64-unit ReLU network that is 0.86x the module chain's time at 50 features and 0.94x at
216 (the SSVEP features), about 35 us less; besides the two first-layer products, what
is left is some 35 numpy calls of 1-15 us each.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_MAX_CACHED_SIZES = 4  # batch sizes with buffers kept (a fit uses one or two)
# Below this many classes the row reductions of the logits run column by column: numpy's
# add.reduce over a row that short is the same left-to-right sum (pairwise summation
# starts at 8 terms), and k - 1 vector operations cost 3 us where the reduction over
# rows of 3 costs 15 us on a 200-sample batch.
_COLUMNWISE_CLASSES = 8


def transposed_weight_gradient(n_in: int, n_out: int) -> bool:
    """Whether the weight gradient ``x^T g`` is computed as ``(g^T x)^T``.

    OpenBLAS is 2-4x slower on ``x^T g`` when ``g`` is narrow (an output layer of a few
    classes) or ``x`` is wide; ``g^T x`` is the same product, row-major friendly. The
    core's :class:`~models.linear.Linear` makes the same choice.
    """
    return n_out <= 16 or n_in >= 1000


class _Buffers:
    """Every intermediate array of one batch size."""

    def __init__(self, m: int, widths: Sequence[int], dtype: np.dtype) -> None:
        n_hidden = len(widths) - 2
        k = widths[-1]
        # Flat indices of the targets' logits, rows * k + y: a 1-d gather is 3x faster
        # than indexing with (rows, y).
        self.row_starts = np.arange(m) * k
        self.targets = np.empty(m, dtype=np.intp)
        # Layer outputs: hidden activations (kept for backward) and the logits, which
        # become log-probabilities, probabilities and then the output gradient in place.
        self.outputs = [np.empty((m, w), dtype=dtype) for w in widths[1:]]
        self.masks = [np.empty((m, w), dtype=dtype) for w in widths[1 : 1 + n_hidden]]
        self.deltas = [np.empty((m, w), dtype=dtype) for w in widths[1 : 1 + n_hidden]]
        self.derivs = [np.empty((m, w), dtype=dtype) for w in widths[1 : 1 + n_hidden]]
        self.row_max = np.empty((m, 1), dtype=dtype)
        self.exp = np.empty((m, k), dtype=dtype)
        self.row_sum = np.empty((m, 1), dtype=dtype)
        self.logits_flat = self.outputs[-1].reshape(-1)
        self.columnwise = 1 < k < _COLUMNWISE_CLASSES
        self.logit_columns = [self.outputs[-1][:, j] for j in range(k)]
        self.exp_columns = [self.exp[:, j] for j in range(k)]


class DenseSoftmaxStep:
    """Mean cross-entropy of a dense network and its gradient, written into given buffers.

    Parameters
    ----------
    weights, biases : sequence of ndarray
        Per layer, ``W`` (n_in, n_out) and ``b`` (n_out,): read, never copied (views of the
        model's flat parameter vector are updated by the optimiser between calls).
    weight_grads, bias_grads : sequence of ndarray
        Where the gradient of ``loss + (l2/2) sum ||W||^2`` goes (overwritten each call).
    activation : {"relu", "tanh", "sigmoid"}
        Nonlinearity of every hidden layer; the output layer is linear (softmax logits).
    l2 : float
        L2 coefficient on the weights (biases are not penalised); an attribute read at
        every call.
    """

    def __init__(
        self,
        weights: Sequence[np.ndarray],
        biases: Sequence[np.ndarray],
        weight_grads: Sequence[np.ndarray],
        bias_grads: Sequence[np.ndarray],
        activation: str,
        l2: float,
    ) -> None:
        if activation not in ("relu", "tanh", "sigmoid"):
            raise ValueError(f"activation must be relu, tanh or sigmoid, got {activation!r}")
        self.weights, self.biases = list(weights), list(biases)
        self.weight_grads, self.bias_grads = list(weight_grads), list(bias_grads)
        self.activation, self.l2 = activation, float(l2)
        self.dtype = self.weights[0].dtype
        self.widths = [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]
        # Per layer: a (n_out, n_in) buffer for g^T x, or one like W for x^T g to which the
        # L2 term is added (without one, x^T g goes straight into the gradient).
        self._products = [
            np.empty((w.shape[1], w.shape[0]), dtype=self.dtype)
            if transposed_weight_gradient(*w.shape)
            else np.empty_like(w)
            for w in self.weights
        ]
        self._transposed = [transposed_weight_gradient(*w.shape) for w in self.weights]
        self._buffers: dict[int, _Buffers] = {}

    def _buffers_for(self, m: int) -> _Buffers:
        buf = self._buffers.get(m)
        if buf is None:
            if len(self._buffers) >= _MAX_CACHED_SIZES:
                self._buffers.clear()
            buf = self._buffers[m] = _Buffers(m, self.widths, self.dtype)
        return buf

    def __call__(self, x: np.ndarray, y: np.ndarray) -> float:
        """Return the mean cross-entropy of ``(x, y)`` (without the L2 term) and leave the
        gradient of the full objective in ``weight_grads`` and ``bias_grads``.

        ``x`` is (m, n_features) in the weights' dtype, ``y`` the class indices (m,).
        """
        m = x.shape[0]
        buf = self._buffers_for(m)
        weights, biases, outputs = self.weights, self.biases, buf.outputs
        last = len(weights) - 1
        act = self.activation
        # Forward: Linear (x @ W, += b) then the activation, in place on the output buffer.
        h = x
        for i in range(last):
            z = np.matmul(h, weights[i], out=outputs[i])
            z += biases[i]
            if act == "relu":
                np.maximum(z, 0, out=z)
                np.greater(z, 0, out=buf.masks[i])
            elif act == "tanh":
                np.tanh(z, out=z)
            else:  # sigmoid, as sigmoid_inplace: 0.5 tanh(z/2) + 0.5
                z *= 0.5
                np.tanh(z, out=z)
                z *= 0.5
                z += 0.5
            h = z
        z = np.matmul(h, weights[last], out=outputs[last])
        z += biases[last]
        # SoftmaxCrossEntropy.forward, on the logits' buffer.
        if buf.columnwise:
            cols, row_max = buf.logit_columns, buf.row_max[:, 0]
            np.maximum(cols[0], cols[1], out=row_max)
            for col in cols[2:]:
                np.maximum(row_max, col, out=row_max)
        else:
            np.maximum.reduce(z, axis=1, keepdims=True, out=buf.row_max)
        z -= buf.row_max
        np.exp(z, out=buf.exp)
        if buf.columnwise:
            cols, row_sum = buf.exp_columns, buf.row_sum[:, 0]
            np.add(cols[0], cols[1], out=row_sum)
            for col in cols[2:]:
                row_sum += col
        else:
            np.add.reduce(buf.exp, axis=1, keepdims=True, out=buf.row_sum)
        np.log(buf.row_sum, out=buf.row_sum)
        z -= buf.row_sum
        targets, flat = buf.targets, buf.logits_flat
        np.add(buf.row_starts, y, out=targets)
        value = float(-(np.add.reduce(flat[targets]) / m))  # in the dtype, as the core
        # SoftmaxCrossEntropy.backward: dL/dz = (softmax(z) - onehot(y)) / m.
        np.exp(z, out=z)
        flat[targets] -= 1.0
        z /= m
        # Backward, last layer first.
        delta = z
        for i in range(last, -1, -1):
            a = x if i == 0 else outputs[i - 1]
            self._weight_gradient(i, a, delta)
            np.add.reduce(delta, axis=0, out=self.bias_grads[i])
            if i == 0:
                break  # nobody uses dL/dx: the first layer skips that product
            d = np.matmul(delta, weights[i].T, out=buf.deltas[i - 1])
            out = outputs[i - 1]
            if act == "relu":
                d *= buf.masks[i - 1]
            elif act == "tanh":  # grad * (1 - out^2)
                deriv = np.multiply(out, out, out=buf.derivs[i - 1])
                np.subtract(1.0, deriv, out=deriv)
                d *= deriv
            else:  # sigmoid: (grad * out) * (1 - out)
                d *= out
                d *= np.subtract(1.0, out, out=buf.derivs[i - 1])
            delta = d
        return value

    def _weight_gradient(self, i: int, a: np.ndarray, delta: np.ndarray) -> None:
        """``grad_W = l2 W + a^T delta``, in the core's order of operations."""
        grad, product, l2 = self.weight_grads[i], self._products[i], self.l2
        if self._transposed[i]:
            np.matmul(delta.T, a, out=product)
            if l2:
                np.multiply(self.weights[i], l2, out=grad)
                grad += product.T
            else:
                np.copyto(grad, product.T)
        elif l2:
            np.matmul(a.T, delta, out=product)
            np.multiply(self.weights[i], l2, out=grad)
            grad += product
        else:
            np.matmul(a.T, delta, out=grad)
