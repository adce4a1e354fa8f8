"""Benchmark: our numpy estimators against scikit-learn on band-power-like features.

Run from the project root (both libraries share the same BLAS in the same run)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_models.py

The data imitate standardised log band power: 4 classes, each a mixture of two Gaussian
sub-clusters in an 8-D latent space, mixed into 128 correlated features through a linear
map plus a saturating nonlinearity, with independent noise. BLAS runs single-threaded
(``OPENBLAS_NUM_THREADS=1`` unless set) because the machine's cores are shared and
multi-threaded BLAS timings of small matrices are noise.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogReg
from sklearn.linear_model import Perceptron as SkPerceptron
from sklearn.neural_network import MLPClassifier

from models import MLP, Perceptron, SoftmaxRegression

N_FEATURES, N_CLASSES, LATENT = 128, 4, 8


def make_band_power_like(n_train: int, n_test: int = 5000, seed: int = 0):
    """Seeded 4-class data shaped like standardised band-power features."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 0.55, size=(N_CLASSES, 2, LATENT))
    mix = rng.normal(0.0, 1.0, size=(LATENT, N_FEATURES)) / np.sqrt(LATENT)
    bend = rng.normal(0.0, 1.0, size=(LATENT, N_FEATURES)) / np.sqrt(LATENT)

    def draw(n: int, r: np.random.Generator):
        y = r.integers(0, N_CLASSES, n)
        z = centers[y, r.integers(0, 2, n)] + r.normal(0.0, 0.6, size=(n, LATENT))
        X = z @ mix + 1.5 * np.tanh(z @ bend) + r.normal(0.0, 1.0, size=(n, N_FEATURES))
        return X, y

    Xtr, ytr = draw(n_train, np.random.default_rng(seed + 1))
    Xte, yte = draw(n_test, np.random.default_rng(seed + 2))
    mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
    return (Xtr - mu) / sd, ytr, (Xte - mu) / sd, yte


def fit_seconds(est, X, y, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        est.fit(X, y)
        best = min(best, time.perf_counter() - t0)
    return best


def single_predict_us(est, x: np.ndarray, n_calls: int = 2000) -> float:
    """Median wall time of ``predict`` on one feature vector (1 x n_features)."""
    row = x[None, :]
    for _ in range(50):
        est.predict(row)
    times = np.empty(n_calls)
    for i in range(n_calls):
        t0 = time.perf_counter()
        est.predict(row)
        times[i] = time.perf_counter() - t0
    return float(np.median(times) * 1e6)


PAIRS = [
    (
        "perceptron",
        lambda: Perceptron(max_iter=50, random_state=0),
        lambda: SkPerceptron(max_iter=50, random_state=0),
    ),
    (
        "perceptron avg",
        lambda: Perceptron(max_iter=50, average=True, random_state=0),
        lambda: SkPerceptron(max_iter=50, random_state=0),
    ),
    ("softmax / logreg", lambda: SoftmaxRegression(), lambda: SkLogReg()),
    (
        "mlp (64,)",
        lambda: MLP(hidden_sizes=(64,)),
        lambda: MLPClassifier(hidden_layer_sizes=(64,), random_state=0),
    ),
    (
        "mlp (64,) vs sk early-stop",
        lambda: MLP(hidden_sizes=(64,)),
        lambda: MLPClassifier(hidden_layer_sizes=(64,), early_stopping=True, random_state=0),
    ),
]


def main() -> None:
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}"
    )
    header = (
        f"{'n_train':>7} {'model':<27} {'fit ours s':>10} {'fit sk s':>9} {'ratio':>6} "
        f"{'pred ours us':>12} {'pred sk us':>10} {'ratio':>6} {'acc ours':>8} {'acc sk':>7}"
    )
    print(header)
    print("-" * len(header))
    for n_train in (2000, 20000):
        Xtr, ytr, Xte, yte = make_band_power_like(n_train)
        repeats = 3 if n_train <= 2000 else 1
        for name, ours_f, theirs_f in PAIRS:
            ours, theirs = ours_f(), theirs_f()
            t_ours = fit_seconds(ours, Xtr, ytr, repeats)
            t_sk = fit_seconds(theirs, Xtr, ytr, repeats)
            p_ours = single_predict_us(ours, Xte[0])
            p_sk = single_predict_us(theirs, Xte[0])
            a_ours = float(np.mean(ours.predict(Xte) == yte))
            a_sk = float(np.mean(theirs.predict(Xte) == yte))
            print(
                f"{n_train:>7} {name:<27} {t_ours:>10.3f} {t_sk:>9.3f} {t_ours / t_sk:>6.2f} "
                f"{p_ours:>12.1f} {p_sk:>10.1f} {p_ours / p_sk:>6.2f} "
                f"{100 * a_ours:>7.1f}% {100 * a_sk:>6.1f}%",
                flush=True,
            )


if __name__ == "__main__":
    main()
