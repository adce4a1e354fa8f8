"""Benchmark: one online step (one window -> class probabilities) against pyRiemann.

Run from the project root (the peer shares the BLAS of the same run)::

    .venv/bin/python benchmarks/bench_online.py [--repeats 7]

What one step is: a 2 s window at 250 Hz (500 samples, already band-passed by the causal
filter) through the fitted chain of :class:`bci.pipeline.Pipeline`
(``predict_proba_epochs(window[None])``: feature steps, centring, softmax regression):

- ``tangent_space``: OAS covariance, whitening by the training mean, matrix log;
- ``filter_bank_riemann``: the same in 6 bands (3 SSVEP frequencies x 2 harmonics, +/-1 Hz,
  the shipped ``ssvep_exo`` bands), each band-passed in the window first.

The peer is pyRiemann ``Covariances("oas") + TangentSpace + LogisticRegression`` (a
scikit-learn pipeline) on the same window. Both are fitted on the same 60 synthetic
two-class epochs (class 2 has one source 3x stronger) for 8, 16, 32 and 64 channels.
CPU time (``time.process_time``) of blocks of calls, all sides and channel counts
alternated within each repeat, the median block per call reported; BLAS limited to one
thread on both sides with threadpoolctl. Printed: per-shape times and ratios ours/peer,
the growth exponent ``log(t64 / t8) / log(8)`` of each side, and the growth in absolute
CPU time ``t64 - t8``.
Where our tangent-space step spends its time at 8 and 64 channels: each stage timed on its
own input with the functions the step calls, alternated, the least disturbed block of
each. The pipeline's calls and checks are the total minus the same stage functions
chained in one call (both timed, alternated); the stages' sum minus that chain is the
noise of timing stages apart. Beside it,
what the live path adds before the window (``Pipeline.push_windows`` of one 0.1 s chunk:
the carried causal filter, the ring buffer and its window copy). Then the exponent our
step would have if nothing but LAPACK's ``eigh`` of the whitened covariance cost more at
64 channels than at 8: the floor for an exact eigendecomposition-based tangent map with
this ``eigh``. Whether a warm start could replace that ``eigh`` live: on consecutive
64-channel live windows (the pipeline's filter and 2 s / 0.1 s windows; seeded mixed noise
at 250 Hz, and 25 s of the PhysioNet run below when available), how far the previous
window's eigenvectors are from diagonalising the next whitened covariance (off-diagonal
norm over the median eigenvalue gap) and the ``logm`` error after three steps of Ogita &
Aishima's refinement (2018) started from them; as a control, from the exact eigenvectors
perturbed by 1e-6. Also: 45 x 64 x 320 covariances, ``np.einsum``
against the batched matmul the feature code now uses; and the Riemannian mean of the
training step (iterations and CPU time against pyRiemann's ``mean_riemann``) on the OAS
covariances of PhysioNet EEGBCI S001 run 4 (64 ch, 160 Hz, 2 s from each T0/T1/T2 onset,
unfiltered; Schalk et al. 2004) when ``../shared/data`` (or ``BCI_SHARED_DATA``) has it,
and on 45 spread synthetic 64 x 64 matrices.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bci.features.covariance import oas_covariances, scatter_matrices
from bci.features.riemann import invsqrtm, riemannian_mean, tangent_vectors
from bci.paradigm import Paradigm
from bci.pipeline import Pipeline
from bci.windows import sliding_windows

SFREQ = 250.0
WINDOW = 500  # 2 s at 250 Hz
CHANNELS = (8, 16, 32, 64)
N_TRAIN = 60
SSVEP_BANDS = [[12, 14], [16, 18], [20, 22], [25, 27], [33, 35], [41, 43]]


def paradigm(method: str) -> Paradigm:
    """A two-class paradigm with a 2 s online window; the feature method under test."""
    return Paradigm.from_dict(
        {
            "classes": {"a": "a", "b": "b"},
            "epochs": {"tmin": 0.0, "tmax": WINDOW / SFREQ},
            "filter": {"l_freq": 7.0, "h_freq": 45.0},
            "features": {"method": method, "bands": SSVEP_BANDS},
            "model": {"kind": "softmax"},
            "online": {"window": WINDOW / SFREQ, "step": 0.1},
        }
    )


def make_epochs(n_channels: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded epochs (volts) of two classes that differ in one source's power."""
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((n_channels, n_channels))
    y = np.repeat(["a", "b"], N_TRAIN // 2)
    src = rng.standard_normal((N_TRAIN, n_channels, WINDOW))
    src[y == "b", 0] *= 3.0
    return 1e-5 * (mix @ src), y


def block_seconds(fn, n_calls: int) -> float:
    """CPU seconds per call of ``fn`` over one block of ``n_calls``."""
    t = time.process_time()
    for _ in range(n_calls):
        fn()
    return (time.process_time() - t) / n_calls


def alternated(sides: dict, repeats: int, n_calls: int, stat=np.median) -> dict[str, float]:
    """Per-call CPU time of each side (``stat`` of the blocks, the median unless told), the
    sides alternated within every repeat."""
    times: dict[str, list[float]] = {k: [] for k in sides}
    for fn in sides.values():  # warm up (first-call allocations, imports)
        fn()
    for r in range(repeats):
        order = list(sides) if r % 2 == 0 else list(sides)[::-1]
        for k in order:
            times[k].append(block_seconds(sides[k], n_calls))
    return {k: float(stat(v)) for k, v in times.items()}


def peer_pipeline():
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression(max_iter=1000))


def online_step(repeats: int, n_calls: int) -> dict[int, dict[str, float]]:
    sides = {}
    for n_ch in CHANNELS:
        E, y = make_epochs(n_ch)
        names = [f"ch{i}" for i in range(n_ch)]
        ts = Pipeline(paradigm("tangent_space"), names, SFREQ).fit_epochs(E, y)
        fb = Pipeline(paradigm("filter_bank_riemann"), names, SFREQ).fit_epochs(E, y)
        peer = peer_pipeline().fit(E, y)
        window = make_epochs(n_ch, seed=1)[0][:1]
        p_ts, p_peer = ts.predict_proba_epochs(window), peer.predict_proba(window)
        # Same method, same data: the two tangent-space chains must agree on the class.
        assert np.argmax(p_ts) == np.argmax(p_peer), (p_ts, p_peer)
        sides[n_ch, "tangent_space"] = lambda ts=ts, w=window: ts.predict_proba_epochs(w)
        sides[n_ch, "filter_bank"] = lambda fb=fb, w=window: fb.predict_proba_epochs(w)
        sides[n_ch, "pyriemann"] = lambda peer=peer, w=window: peer.predict_proba(w)
    # Every channel count and side within each repeat: the growth t64 / t8 compares blocks
    # timed seconds apart, not one shape's minute against another's on a shared machine.
    times = alternated(sides, repeats, n_calls)
    return {n: {k: t for (m, k), t in times.items() if m == n} for n in CHANNELS}


def step_breakdown(n_ch: int, repeats: int, n_calls: int) -> dict[str, float]:
    """CPU ms of each stage of one tangent-space step (see the module note)."""
    E, y = make_epochs(n_ch)
    pipe = Pipeline(paradigm("tangent_space"), [f"ch{i}" for i in range(n_ch)], SFREQ)
    pipe.fit_epochs(E, y)
    window = make_epochs(n_ch, seed=1)[0][:1]
    p = pipe.steps[0].reference_isqrt_
    covs = oas_covariances(window)
    whitened = p @ covs @ p
    z = pipe.features(window)
    # The live path before the window: one 0.1 s chunk through the carried causal filter
    # and the ring buffer, which then hands out a copy of the window (Pipeline.push_windows).
    raw = make_epochs(n_ch, seed=2)[0][0]
    step = pipe.step_samples
    chunk, chunk_ts = raw[:, :step], np.arange(step) / SFREQ
    pipe.push_windows(raw, np.arange(raw.shape[1]) / SFREQ)  # a full window in: emits per chunk
    causal = pipe.new_filter()
    causal.process(raw)
    t = alternated(
        {
            "filter": lambda: causal.process(chunk),
            "push": lambda: pipe.push_windows(chunk, chunk_ts),
            "total": lambda: pipe.predict_proba_epochs(window),
            "scatter": lambda: scatter_matrices(window),
            "oas": lambda: oas_covariances(window),
            "whiten": lambda: p @ covs @ p,
            "eigh": lambda: np.linalg.eigh(whitened),
            "tangent": lambda: tangent_vectors(covs, p),
            "model": lambda: pipe.model.predict_proba(pipe.scaler.transform(z)),
            # The stages above chained in one call on the window: what the pipeline runs
            # without its calls and checks.
            "sequence": lambda: pipe.model.predict_proba(
                pipe.scaler.transform(tangent_vectors(oas_covariances(window), p))
            ),
        },
        repeats,
        n_calls,
        # The least disturbed block: stage costs are differences of totals, and on a shared
        # machine a median of each still moves by more than the small stages themselves.
        stat=np.min,
    )
    stages = {
        "covariance (centre, X X^T)": t["scatter"],
        "OAS shrinkage": t["oas"] - t["scatter"],
        "whitening P C P": t["whiten"],
        "eigh": t["eigh"],
        "log map rest (log, V L V^T, upper)": t["tangent"] - t["whiten"] - t["eigh"],
        "centring + classifier": t["model"],
    }
    stages["timing stages apart (noise)"] = t["sequence"] - t["oas"] - t["tangent"] - t["model"]
    stages["pipeline calls and checks"] = t["total"] - t["sequence"]
    stages["total"] = t["total"]
    # Not part of the total above (the benchmark's step starts from a filtered window).
    stages["live path: causal filter of one chunk"] = t["filter"]
    stages["live path: ring write + window copy"] = t["push"] - t["filter"]
    return {k: 1e3 * v for k, v in stages.items()}


def refine_eigenvectors(a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One step of Ogita & Aishima's refinement of approximate eigenvectors ``x`` of the
    symmetric ``a`` (Japan J. Indust. Appl. Math. 35, 2018, Algorithm 1): four products,
    quadratic convergence while the error is small against the eigenvalue gaps."""
    n = a.shape[0]
    r = np.eye(n) - x.T @ x
    s = x.T @ a @ x
    lam = np.diag(s) / (1.0 - np.diag(r))
    delta = 2.0 * (
        np.linalg.norm(s - np.diag(lam), 2) + np.linalg.norm(a, 2) * np.linalg.norm(r, 2)
    )
    gap = lam[None, :] - lam[:, None]
    apart = np.abs(gap) > delta
    e = np.where(apart, (s + lam[None, :] * r) / np.where(apart, gap, 1.0), r / 2.0)
    return x + x @ e, lam


def live_whitened_covariances(data: np.ndarray, sfreq: float) -> np.ndarray:
    """Whitened OAS covariances ``P C P`` of consecutive live windows of ``data``
    (channels x samples, raw): the pipeline's causal filter, its 2 s / 0.1 s windows, and
    ``P`` the inverse square root of the Riemannian mean of every tenth window."""
    pipe = Pipeline(paradigm("tangent_space"), [f"ch{i}" for i in range(len(data))], sfreq)
    filtered = pipe.filter_continuous(data)[:, int(sfreq) :]  # past the filter's start-up
    windows = sliding_windows(filtered, pipe.window_samples, pipe.step_samples)
    covs = oas_covariances(windows)
    p = invsqrtm(riemannian_mean(covs[::10]))
    return p @ covs @ p


def warm_start(data_sets: dict[str, tuple[np.ndarray, float]], n_pairs: int = 40) -> dict:
    """How far the previous live window's eigenvectors are from the next one's.

    For consecutive windows (95 % overlap): the off-diagonal norm of ``V_prev^T A V_prev``
    against the median eigenvalue gap of ``A``, and the largest error of ``logm(A)`` after
    three refinement steps started from ``V_prev``; as a check of the refinement itself,
    the same from ``eigh(A)``'s eigenvectors perturbed by 1e-6 (medians over the pairs).
    """
    out = {}
    rng = np.random.default_rng(4)
    for name, (data, sfreq) in data_sets.items():
        a = live_whitened_covariances(data, sfreq)[: n_pairs + 1]
        rows = []
        for prev, cur in itertools.pairwise(a):
            w, v = np.linalg.eigh(cur)
            exact = (v * np.log(w)) @ v.T
            v_prev = np.linalg.eigh(prev)[1]
            b = v_prev.T @ cur @ v_prev
            off = np.linalg.norm(b - np.diag(np.diag(b)), 2) / np.median(np.diff(w))
            errors = []
            for x in (v_prev, v + 1e-6 * rng.standard_normal(v.shape)):
                for _ in range(3):
                    x, lam = refine_eigenvectors(cur, x)
                log_a = (x * np.log(np.maximum(lam, 1e-300))) @ x.T
                errors.append(np.abs(log_a - exact).max() / np.abs(exact).max())
            rows.append((off, *errors))
        out[name] = np.median(np.asarray(rows), axis=0)
    return out


def covariance_kernels(repeats: int) -> dict[str, float]:
    x = np.random.default_rng(2).standard_normal((45, 64, 320))
    xc = x - x.mean(axis=-1, keepdims=True)
    np.testing.assert_allclose(
        np.einsum("ect,edt->ecd", xc, xc), scatter_matrices(x), rtol=1e-10, atol=1e-10
    )
    return alternated(
        {
            "einsum": lambda: np.einsum(
                "ect,edt->ecd",
                x - x.mean(axis=-1, keepdims=True),
                x - x.mean(axis=-1, keepdims=True),
            ),
            "matmul": lambda: scatter_matrices(x),
        },
        repeats,
        3,
    )


PHYSIONET_RUN = "eegbci/MNE-eegbci-data/files/eegmmidb/1.0.0/S001/S001R04.edf"


def shared_file(relative: str) -> Path:
    """A file of the shared recordings (``../shared/data`` or ``BCI_SHARED_DATA``)."""
    root = Path(
        os.environ.get("BCI_SHARED_DATA", Path(__file__).resolve().parents[1] / "../shared/data")
    )
    return root / relative


def physionet_raw(edf: Path):
    import mne

    mne.set_log_level("ERROR")
    return mne.io.read_raw_edf(edf, preload=True)


def warm_start_data() -> dict[str, tuple[np.ndarray, float]]:
    """Raw continuous 64-channel data for :func:`warm_start` (the real run if available)."""
    rng = np.random.default_rng(5)
    mix = rng.standard_normal((64, 64))
    sets = {"synthetic 64 ch": (1e-5 * (mix @ rng.standard_normal((64, 4000))), SFREQ)}
    edf = shared_file(PHYSIONET_RUN)
    if edf.exists():
        raw = physionet_raw(edf)
        sets["EEGBCI S001R04"] = (raw.get_data()[:, 1000:5000], raw.info["sfreq"])
    return sets


def mean_inputs() -> dict[str, np.ndarray]:
    """Covariance sets that the Riemannian mean is fitted on (real one if available)."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((45, 64, 70))
    sets = {"synthetic 45x64x64": a @ a.transpose(0, 2, 1) + 0.01 * np.eye(64)}
    edf = shared_file(PHYSIONET_RUN)
    if edf.exists():
        import mne

        raw = physionet_raw(edf)
        events, _ = mne.events_from_annotations(raw)
        epochs = mne.Epochs(raw, events, tmin=0.0, tmax=2.0, baseline=None, preload=True)
        covs = oas_covariances(epochs.get_data())
        sets[f"EEGBCI S001R04 OAS {covs.shape[0]}x64x64"] = covs
    return sets


def riemannian_means(repeats: int) -> dict[str, tuple[int, dict[str, float]]]:
    from pyriemann.utils.mean import mean_riemann

    out = {}
    for name, covs in mean_inputs().items():
        ours, n_iter = riemannian_mean(covs, return_n_iter=True)
        ref = mean_riemann(covs)
        # Same fixed point: the timings compare equal results.
        np.testing.assert_allclose(ours, ref, rtol=1e-8, atol=1e-12 * np.abs(ref).max())
        times = alternated(
            {
                "ours": lambda c=covs: riemannian_mean(c),
                "pyriemann": lambda c=covs: mean_riemann(c),
            },
            max(3, repeats // 2),
            1,
        )
        out[name] = (n_iter, times)
    return out


def exponent(t_small: float, t_large: float, small: int = 8, large: int = 64) -> float:
    return float(np.log(t_large / t_small) / np.log(large / small))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="alternated repeats per shape")
    parser.add_argument("--calls", type=int, default=20, help="calls per timed block")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    with threadpool_limits(limits=1):
        blas = ", ".join(
            f"{i['internal_api']} {i.get('version')} x{i['num_threads']}" for i in threadpool_info()
        )
        print(f"python {platform.python_version()}, numpy {np.__version__}, BLAS {blas}")
        print("load average at start: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
        print(f"one online step, {SFREQ:g} Hz, {WINDOW}-sample window, CPU ms per window")
        res = online_step(args.repeats, args.calls)
        print(
            f"{'channels':>8} {'ours TS':>9} {'ours FB':>9} {'pyRiemann':>10} {'TS/peer':>8} {'FB/peer':>8}"
        )
        for n_ch, r in res.items():
            print(
                f"{n_ch:>8} {1e3 * r['tangent_space']:>9.3f} {1e3 * r['filter_bank']:>9.3f} "
                f"{1e3 * r['pyriemann']:>10.3f} {r['tangent_space'] / r['pyriemann']:>8.2f} "
                f"{r['filter_bank'] / r['pyriemann']:>8.2f}"
            )
        lo, hi = res[CHANNELS[0]], res[CHANNELS[-1]]
        print(
            "growth exponent 8->64 ch: "
            + ", ".join(f"{k} {exponent(lo[k], hi[k]):.2f}" for k in lo)
        )
        print("growth t64 - t8 (ms): " + ", ".join(f"{k} {1e3 * (hi[k] - lo[k]):.3f}" for k in lo))
        parts = {
            n: step_breakdown(n, args.repeats, args.calls) for n in (CHANNELS[0], CHANNELS[-1])
        }
        small, large = parts[CHANNELS[0]], parts[CHANNELS[-1]]
        print(
            f"our tangent-space step, CPU ms (share of the total; the live path's "
            f"lines: on top of it) {'':>1}8 ch {'':>9}64 ch"
        )
        for name in small:
            print(
                f"  {name:<40} {small[name]:>6.3f} ({100 * small[name] / small['total']:>3.0f}%) "
                f"{large[name]:>7.3f} ({100 * large[name] / large['total']:>3.0f}%)"
            )
        floor = small["total"] + large["eigh"] - small["eigh"]
        print(
            "exponent if only eigh grew from 8 to 64 ch: "
            f"{exponent(small['total'], floor):.2f} (measured here: "
            f"{exponent(small['total'], large['total']):.2f})"
        )
        for name, (off, err_prev, err_near) in warm_start(warm_start_data()).items():
            print(
                f"warm start, {name}: previous window's eigenvectors leave off-diagonal "
                f"{off:.0f}x the median eigenvalue gap; logm error after 3 refinement steps "
                f"{err_prev:.1e} from them, {err_near:.1e} from eigh's perturbed by 1e-6"
            )
        print(
            "load average after the step timings: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
        )
        cov = covariance_kernels(args.repeats)
        print(
            f"45x64x320 covariances: einsum {1e3 * cov['einsum']:.2f} ms, "
            f"matmul {1e3 * cov['matmul']:.2f} ms ({cov['einsum'] / cov['matmul']:.1f}x)"
        )
        for name, (n_iter, t) in riemannian_means(args.repeats).items():
            print(
                f"Riemannian mean, {name}: ours {n_iter} iterations {1e3 * t['ours']:.1f} ms, "
                f"pyRiemann {1e3 * t['pyriemann']:.1f} ms ({t['ours'] / t['pyriemann']:.2f}x)"
            )


if __name__ == "__main__":
    main()
