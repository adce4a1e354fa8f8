"""Benchmark: our numpy estimators against scikit-learn, ours/peer CPU-time ratios.

Run from the project root::

    .venv/bin/python benchmarks/bench_models.py [--root PATH] [--repeats 5] [--only softmax,...]

``--before PATH`` also measures the ``models`` of another checkout (e.g. ``/work/main``)
in the same run, imported as a separate package: each line then shows before/peer and
ours/peer side by side, all three fits alternated (rotated each repeat), so a change is
judged against the very same peer timings. ``--root`` replaces this checkout's ``models``
instead. The features are computed by this checkout's ``bci`` and cached in ``--cache``,
so every run fits the very same matrices.

All sides run in one process, with one BLAS thread (threadpoolctl), and the time is CPU
time (``time.process_time``), median over ``--repeats``.

Data:

- synthetic: 3 Gaussian classes (seeded), shapes 200x50, 500x500, 1000x2000;
- ``physionet``: PhysioNet EEGBCI S001 runs 6/10/14, imagined fists vs feet (Schalk et
  al. 2004; Goldberger et al. 2000): 2 s windows every 0.15 s over 0-4 s of each trial,
  the shipped paradigm's tangent-space features (64 channels: 2080 features);
- ``ssvep``: SSVEP-exo subject 01, both sessions (Kalunga et al. 2016): 2 s windows every
  0.25 s over 1-5 s of each trial, the shipped filter-bank tangent-space features.

Matched settings:

- softmax: our objective is ``(1/n) sum_i -log P(y_i|x_i) + (l2/2)||W||^2`` (one weight
  row per class); scikit-learn's multinomial one is ``C sum_i -log P + (1/2)||W||^2``:
  dividing by ``C n`` shows they are the same for ``C = 1 / (n l2)``. With two classes
  scikit-learn fits one vector ``w`` (the logit difference). At our optimum the two rows
  sum to zero (the data gradient sums to zero over classes), so ``w = w_1 - w_0 = 2 w_1``
  and our penalty is ``(l2/2)(|w|^2/2) = (l2/4)|w|^2``: the same problem for
  ``C = 2 / (n l2)`` (checked: decision functions agree to 1e-7 at tight tolerances).
  Intercepts unpenalised, tol 1e-4 on both;
- perceptron: the same number of epochs (tol=None on both sides, shuffled); averaged:
  scikit-learn's ``SGDClassifier(loss="perceptron", eta0=1, learning_rate="constant",
  penalty=None, average=True)``. Ours also stops after an epoch without mistakes (the
  plain perceptron's weights cannot change after one; the averaged one's average would
  still move), scikit-learn with tol=None runs all max_iter: see the ``epochs o/p``
  column (only the noisy 200x50 set runs all 20 epochs on both sides);
- mlp: one hidden layer of 64 ReLU, Adam at 1e-3, batch 200, the same L2 (sklearn's
  ``alpha`` is ``l2 * batch_size``: it divides the penalty by the batch size), no early
  stopping, a fixed number of epochs (tol=0, n_iter_no_change=max_iter on both);
- ``mlp 64 adam es`` (only with ``--only``): the same with early stopping on both sides
  (a tenth held out, tol 1e-4, patience 10, at most 200 epochs). The rules are not the
  same: ours watches the held-out log-likelihood, scikit-learn's the held-out accuracy,
  which saturates early on separable sets, so the ``epochs o/p`` column differs (e.g.
  200/16 on 1000x2000) and the ratio mixes per-epoch speed with epoch counts.

Under each ``mlp 64 adam`` line, ``floor`` times (alternated with the fits, in the same
run) the work no float64 numpy fit at those settings can skip, as a fraction of the
peer's fit: the two first-layer products of every batch of the 30 epochs (``X_b @ W1``
and the weight gradient ``X_b^T delta``; scikit-learn makes the same two), then those
plus the batch gather and Adam's two compute-bound passes over all the parameters
(``sqrt`` and the divide). In float64 numpy, a fit below the second number would have to
leave out work that Adam on shuffled mini-batches must do; ``mlp_batch_costs.py`` shows
where the rest of our time goes.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import itertools
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("BCI_SHARED_DATA", "/work/shared/data")).resolve()


# ----------------------------------------------------------------------------- data
def synthetic(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Overlapping classes (centres 0.1 apart per feature): not separable at 200x50, so
    # the perceptrons run all their epochs there.
    centers = rng.normal(scale=0.1, size=(3, d))
    y = rng.integers(0, 3, n)
    return centers[y] + rng.normal(size=(n, d)), y


def _subwindows(E: np.ndarray, y, sfreq: float, window: float, step: float):
    w, s = round(window * sfreq), round(step * sfreq)
    starts = range(0, E.shape[-1] - w + 1, s)
    W = np.stack([E[:, :, a : a + w] for a in starts], axis=1)  # (trials, k, ch, w)
    return W.reshape(-1, *W.shape[2:]), np.repeat(np.asarray(y), len(starts))


def real_features(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features of a shared recording, computed through the project's own pipeline."""
    sys.path.insert(0, str(ROOT))
    from acquisition.file_source import load_recording
    from bci.paradigm import Paradigm, load_paradigm
    from bci.pipeline import Pipeline

    if name == "physionet":
        folder = DATA / "eegbci/MNE-eegbci-data/files/eegmmidb/1.0.0/S001"
        recs = [load_recording(folder / f"S001R{r:02d}.edf") for r in (6, 10, 14)]
        paradigm_file, span, step = "feet_fists_eegbci.toml", (0.0, 4.0), 0.15
    else:
        pattern = glob.escape(str(DATA / "ssvep-exo/subject01")) + "/*_raw.fif"
        recs = [load_recording(p) for p in sorted(glob.glob(pattern))]
        paradigm_file, span, step = "ssvep_exo.toml", (1.0, 5.0), 0.25
    par = load_paradigm(ROOT / "bci" / "paradigms" / paradigm_file)
    d = par.to_dict()
    d["epochs"].update({"tmin": span[0], "tmax": span[1]})
    par = Paradigm.from_dict(d, source=par.source)
    pipe = Pipeline.for_recording(par, recs[0])
    E, y, _ = pipe.epochs_from_recordings(recs)
    W, yw = _subwindows(E, y, pipe.sfreq, 2.0, step)
    pipe.fit_epochs(W, yw)  # fits the feature steps and the scaler (and a model we ignore)
    return pipe.transform(W), yw


def load_sets(names: list[str], cache: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    stored = dict(np.load(cache, allow_pickle=False)) if cache.exists() else {}
    sets = {}
    for name in names:
        if f"{name}_X" not in stored:
            X, y = synthetic(*map(int, name.split("x"))) if "x" in name else real_features(name)
            stored[f"{name}_X"], stored[f"{name}_y"] = X, np.asarray(y).astype(str)
            np.savez(cache, **stored)
        sets[name] = (stored[f"{name}_X"], stored[f"{name}_y"])
    return sets


# ----------------------------------------------------------------------------- pairs
def pairs(models, n: int, n_classes: int, has_tol: bool):
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.linear_model import Perceptron as SkPerceptron
    from sklearn.neural_network import MLPClassifier

    l2 = 1e-2
    extra = {"tol": None} if has_tol else {}
    epochs, mlp_epochs, batch = 20, 30, 200
    yield (
        "softmax",
        lambda: models.SoftmaxRegression(l2=l2),
        lambda: LogisticRegression(
            C=(2.0 if n_classes == 2 else 1.0) / (n * l2), tol=1e-4, max_iter=1000
        ),
    )
    yield (
        "perceptron",
        lambda: models.Perceptron(max_iter=epochs, **extra),
        lambda: SkPerceptron(max_iter=epochs, tol=None, random_state=0),
    )
    yield (
        "perceptron avg",
        lambda: models.Perceptron(max_iter=epochs, average=True, **extra),
        lambda: SGDClassifier(
            loss="perceptron",
            penalty=None,
            learning_rate="constant",
            eta0=1.0,
            average=True,
            max_iter=epochs,
            tol=None,
            random_state=0,
        ),
    )
    yield (
        "mlp 64 adam",
        lambda: models.MLP(
            hidden_sizes=(64,),
            learning_rate=1e-3,
            batch_size=batch,
            l2=l2,
            max_iter=mlp_epochs,
            tol=0.0,
            n_iter_no_change=mlp_epochs,
            early_stopping=False,
        ),
        lambda: MLPClassifier(
            hidden_layer_sizes=(64,),
            learning_rate_init=1e-3,
            batch_size=batch,
            alpha=l2 * batch,
            max_iter=mlp_epochs,
            tol=0.0,
            n_iter_no_change=mlp_epochs,
            early_stopping=False,
            random_state=0,
        ),
    )
    yield (
        "mlp 64 adam es",
        lambda: models.MLP(
            hidden_sizes=(64,),
            learning_rate=1e-3,
            batch_size=batch,
            l2=l2,
            max_iter=200,
            tol=1e-4,
            n_iter_no_change=10,
            early_stopping=True,
            validation_fraction=0.1,
        ),
        lambda: MLPClassifier(
            hidden_layer_sizes=(64,),
            learning_rate_init=1e-3,
            batch_size=batch,
            alpha=l2 * batch,
            max_iter=200,
            tol=1e-4,
            n_iter_no_change=10,
            early_stopping=True,
            validation_fraction=0.1,
            random_state=0,
        ),
    )


class MlpFloor:
    """Not a model: the part of a ``mlp 64 adam`` fit that cannot be skipped (``fit`` only).

    ``gather_and_adam=False``: the two first-layer products of every batch, on contiguous
    row blocks of ``X``; ``True``: those on shuffled batches gathered into a reused buffer,
    plus ``sqrt`` and a divide over a parameter-sized vector per batch.
    """

    def __init__(self, gather_and_adam: bool, epochs: int = 30, batch: int = 200) -> None:
        self.gather_and_adam = gather_and_adam
        self.epochs, self.batch, self.hidden = epochs, batch, 64

    def fit(self, X: np.ndarray, y: np.ndarray) -> MlpFloor:
        rng = np.random.default_rng(0)
        X = np.ascontiguousarray(X)
        (n, d), h, size = X.shape, self.hidden, min(self.batch, X.shape[0])
        k = np.unique(y).size
        W, delta = rng.normal(size=(d, h)), rng.normal(size=(size, h))
        z = np.empty((size, h))
        # The weight gradient in its faster form (ours: (delta^T X_b)^T from 1000 features).
        grad = np.empty((h, d)) if d >= 1000 else np.empty((d, h))
        buf = np.empty((size, d))
        params = np.abs(rng.normal(size=(d + 1) * h + (h + 1) * k)) + 1.0
        tmp = np.empty_like(params)
        for _ in range(self.epochs):
            order = rng.permutation(n)
            for start in range(0, n, size):
                m = min(size, n - start)
                if self.gather_and_adam:
                    xb = np.take(X, order[start : start + m], axis=0, out=buf[:m], mode="clip")
                else:
                    xb = X[start : start + m]
                np.matmul(xb, W, out=z[:m])
                if d >= 1000:
                    np.matmul(delta[:m].T, xb, out=grad)
                else:
                    np.matmul(xb.T, delta[:m], out=grad)
                if self.gather_and_adam:
                    np.sqrt(params, out=tmp)
                    np.divide(params, tmp, out=tmp)
        return self


def _n_iter(est) -> int:
    n = est.n_iter_
    return int(np.max(n)) if np.ndim(n) else int(n)


def cpu_fit(est, X, y) -> float:
    t0 = time.process_time()
    est.fit(X, y)
    return time.process_time() - t0


def import_models(root: Path, name: str):
    """Import ``root/models`` as the package ``name`` (its relative imports follow)."""
    folder = root.resolve() / "models"
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def measure(makers: list, X, y, repeats: int) -> tuple[list[float], list]:
    """Median CPU time of each maker's fit, the order rotated every repeat; last fits."""
    times: list[list[float]] = [[] for _ in makers]
    fitted: list = [None] * len(makers)
    for r in range(repeats):
        for i in [(r + j) % len(makers) for j in range(len(makers))]:
            est = makers[i]()
            times[i].append(cpu_fit(est, X, y))
            fitted[i] = est
    return [statistics.median(t) for t in times], fitted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout to import models from")
    ap.add_argument("--before", type=Path, help="also measure this checkout's models")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/bench_models_features.npz"))
    ap.add_argument("--sets", default="200x50,500x500,1000x2000,physionet,ssvep")
    ap.add_argument("--only", default="softmax,perceptron,perceptron avg,mlp 64 adam")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    sets = load_sets(args.sets.split(","), args.cache)
    sys.path.insert(0, str(args.root.resolve()))
    for mod in [m for m in sys.modules if m == "models" or m.startswith("models.")]:
        del sys.modules[mod]
    import models

    before = import_models(args.before, "models_before") if args.before else None
    only = set(args.only.split(","))
    print(
        f"models from {Path(models.__file__).parent}"
        + (f", before: {Path(before.__file__).parent}" if before else "")
        + f"; {platform.machine()}, {os.cpu_count()} cpus, numpy {np.__version__}; one BLAS "
        f"thread; CPU time, median of {args.repeats} alternated fits; load average "
        f"{os.getloadavg()[0]:.2f}; accuracy on the training set (ours / peer)"
    )
    print(
        f"{'data':<10} {'shape':>10} {'model':<15} {'ours s':>8} {'peer s':>8} {'ratio':>6} "
        + (f"{'before s':>8} {'before':>6} " if before else "")
        + f"{'acc ours':>8} {'acc peer':>8} {'epochs o/p':>11}"
    )
    with threadpool_limits(limits=1):
        for name, (X, y) in sets.items():
            k = np.unique(y).size
            ours_pairs = pairs(models, X.shape[0], k, "tol" in models.Perceptron._param_names())
            before_pairs = (
                pairs(before, X.shape[0], k, "tol" in before.Perceptron._param_names())
                if before
                else itertools.repeat(None)
            )
            for (label, make_ours, make_peer), old in zip(ours_pairs, before_pairs, strict=False):
                if label not in only:
                    continue
                makers = [make_ours, make_peer] + ([old[1]] if before else [])
                if label == "mlp 64 adam":
                    makers += [lambda: MlpFloor(False), lambda: MlpFloor(True)]
                medians, fitted = measure(makers, X, y, args.repeats)
                mo, mp = medians[0], medians[1]
                ours, peer = fitted[0], fitted[1]
                extra = f"{medians[2]:>8.4f} {medians[2] / mp:>6.2f} " if before else ""
                print(
                    f"{name:<10} {f'{X.shape[0]}x{X.shape[1]}':>10} {label:<15} {mo:>8.4f} "
                    f"{mp:>8.4f} {mo / mp:>6.2f} {extra}{ours.score(X, y):>8.3f} "
                    f"{peer.score(X, y):>8.3f} {f'{ours.n_iter_}/{_n_iter(peer)}':>11}",
                    flush=True,
                )
                if label == "mlp 64 adam":
                    print(
                        f"{'':<21} floor: first-layer products alone {medians[-2] / mp:.2f} of "
                        f"the peer's fit; with the batch gather and Adam's sqrt and divide "
                        f"{medians[-1] / mp:.2f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
