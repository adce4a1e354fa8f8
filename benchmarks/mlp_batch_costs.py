"""Where the time of one ``mlp 64 adam`` mini-batch goes: each part timed on its own.

Run from the project root, after ``bench_models.py`` has cached the feature sets::

    .venv/bin/python benchmarks/mlp_batch_costs.py [--cache PATH] [--sets 500x500,ssvep]

For each set, a fit at the benchmark's settings (one hidden layer of 64 ReLU, Adam 1e-3,
batch 200, l2 1e-2, 30 epochs) gives the mean CPU time per batch; then, on one gathered
200-row batch of that set, each part of a training step is timed alone (median of 15
blocks of 10 calls, the parts taking turns block by block, one BLAS thread): the batch
gather, the two first-layer products, the first layer's L2 term added to its gradient,
the rest of the loss-and-gradient step, and Adam's step split into its compute-bound
sqrt and divide and its other eight passes. The parts are timed warm and alone, so their
sum is not exactly the fit's time per batch; the last line is the difference (the epoch
loop, the smaller last batch (negative when it is much smaller, e.g. 30 rows on
PhysioNet's 630), per-epoch and per-fit work, and the cache misses the parts do not pay
alone).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]


def cpu_us(calls: dict, rounds: int = 15, n: int = 10) -> dict[str, float]:
    """Median CPU time of each call in microseconds, ``n`` calls a block, the calls taking
    turns block by block (``rounds`` blocks each), so a change of load hits them all."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for f in calls.values():
        f()
    for _ in range(rounds):
        for name, f in calls.items():
            t0 = time.process_time()
            for _ in range(n):
                f()
            times[name].append((time.process_time() - t0) / n)
    return {name: statistics.median(t) * 1e6 for name, t in times.items()}


def batch_costs(models, X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, float]]:
    def make():
        return models.MLP(
            hidden_sizes=(64,),
            learning_rate=1e-3,
            batch_size=200,
            l2=1e-2,
            max_iter=30,
            tol=0.0,
            n_iter_no_change=30,
            early_stopping=False,
        )

    fits = []
    for _ in range(5):
        mlp, t0 = make(), time.process_time()
        mlp.fit(X, y)
        fits.append(time.process_time() - t0)
    n, d = X.shape
    per_batch = statistics.median(fits) / (30 * -(-n // 200)) * 1e6
    X = np.ascontiguousarray(X, dtype=np.float64)
    y_idx = np.searchsorted(mlp.classes_, y)
    rows = np.random.default_rng(0).permutation(n)[:200]
    buf = np.empty((rows.size, d))
    xb = X.take(rows, axis=0, out=buf, mode="clip")
    yb = y_idx[rows]
    step = mlp._step
    w0, grad0, product = step.weights[0], step.weight_grads[0], step._products[0]
    delta = np.abs(np.random.default_rng(1).normal(size=(rows.size, w0.shape[1])))
    z = np.empty((rows.size, w0.shape[1]))
    transposed = step._transposed[0]

    def weight_product():
        if transposed:
            np.matmul(delta.T, xb, out=product)
        else:
            np.matmul(xb.T, delta, out=product)

    def l2_term():
        np.multiply(w0, mlp.l2, out=grad0)
        np.add(grad0, product.T if transposed else product, out=grad0)

    params = np.abs(mlp._flat.value) + 1.0
    scratch = np.empty_like(params)

    def sqrt_divide():
        np.sqrt(params, out=scratch)
        np.divide(params, scratch, out=scratch)

    t = cpu_us(
        {
            "gather": lambda: X.take(rows, axis=0, out=buf, mode="clip"),
            "forward": lambda: np.matmul(xb, w0, out=z),
            "weight product": weight_product,
            "l2": l2_term,
            "step": lambda: step(xb, yb),
            "adam": mlp._optimizer.step,
            "sqrt divide": sqrt_divide,
        }
    )
    first = t["forward"] + t["weight product"] + t["l2"]
    parts = {
        "batch gather": t["gather"],
        "first layer: X_b @ W1": t["forward"],
        "first layer: weight-gradient product": t["weight product"],
        "first layer: l2 W1 added to its gradient": t["l2"],
        "rest of the step (ReLU, output layer, softmax, small gradients)": t["step"] - first,
        "Adam: sqrt and divide": t["sqrt divide"],
        "Adam: its other eight passes": t["adam"] - t["sqrt divide"],
    }
    parts["fit per batch minus the parts above"] = per_batch - sum(parts.values())
    return per_batch, parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/bench_models_features.npz"))
    ap.add_argument("--sets", default="200x50,500x500,1000x2000,physionet,ssvep")
    args = ap.parse_args()
    stored = dict(np.load(args.cache, allow_pickle=False))
    sys.path.insert(0, str(ROOT))
    import models

    with threadpool_limits(limits=1):
        for name in args.sets.split(","):
            X, y = stored[f"{name}_X"], stored[f"{name}_y"]
            per_batch, parts = batch_costs(models, X, y)
            print(f"{name} {X.shape[0]}x{X.shape[1]}: {per_batch:.0f} us per batch of the fit")
            for label, us in parts.items():
                print(f"  {us:7.0f} us {100 * us / per_batch:5.1f} %  {label}")


if __name__ == "__main__":
    main()
