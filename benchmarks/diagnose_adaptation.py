"""What limits the re-centred leave-one-recording-out figure (issue 11): a diagnosis, not a tuning.

Run: ``.venv/bin/python benchmarks/diagnose_adaptation.py [--only ssvep,windows,mi]``

It re-computes the shipped SSVEP-exo paradigm's filter-bank covariances once (OAS, the
product's own steps) and asks, fold by fold (subject 01-06, train on one recording, test
on the other; 32 epochs each):

- where the loss is: per held-out recording, none / re-centred, and the *within-recording
  ceiling* of that recording (stratified 4-fold inside it, re-centred on its own mean,
  mean over 5 fold seeds);
- whether more training epochs would help: accuracy across sessions when training on 4, 6
  or all 8 epochs per class of the training recording (10 random draws below 8);
- whether stretching could help: the dispersion (mean squared norm of the re-centred
  tangent vectors) of the training and of the test recording, and the squared distance
  between their means;
- whether the estimator matters: sample instead of OAS covariances; the test recording's
  mean (and the training one's) from all its sliding windows instead of its epochs;
- whether the regularisation is the limit: the L2 weight chosen by a stratified inner
  cross-validation on the training recording only, and (as a diagnosis only, never a
  choice: it looks at the test folds) the figure at each L2 of a grid;
- whether the number of training examples is the limit: training on the 2 s windows that
  start 1.0, 1.5, ..., 3.0 s after each cue (all inside the 5 s stimulation; the test
  epochs stay 2-4 s), across sessions, across people and within a recording (folds by
  trial, so the windows of one trial never straddle a split);
- how noisy the figure is: McNemar's exact test of re-centred against none on the paired
  epochs, and a bootstrap interval over epochs.

``mi``: PhysioNet S001 (runs as groups, leave-one-run-out: imagined and executed
left/right, imagined and executed fists/feet), where it asks whether the left/right drop
with re-centring is systematic (McNemar on the paired epochs of two independent run sets).

Data: ``../shared/data`` (see its README for licences and citations).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import mne  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import binomtest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from acquisition.file_source import load_recording  # noqa: E402
from bci.features.covariance import sample_covariances  # noqa: E402
from bci.features.riemann import invsqrtm, riemannian_mean, tangent_vectors  # noqa: E402
from bci.paradigm import Paradigm, load_paradigm  # noqa: E402
from bci.pipeline import Pipeline  # noqa: E402
from models import make_estimator  # noqa: E402

DATA = Path(os.environ.get("BCI_SHARED_DATA", ROOT.parent / "shared" / "data")).resolve()
EEGBCI = DATA / "eegbci/MNE-eegbci-data/files/eegmmidb/1.0.0/S001"
PARADIGMS = ROOT / "bci" / "paradigms"
L2_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
mne.set_log_level("ERROR")


def block_means(covs: np.ndarray) -> np.ndarray:
    """Riemannian mean per block: (n_blocks, n, c, c) -> (n_blocks, c, c)."""
    return np.stack([riemannian_mean(c) for c in covs])


def tangent(covs: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Concatenated per-block tangent vectors of ``covs`` at ``mean`` (as the product maps)."""
    n_blocks, n = covs.shape[:2]
    v = tangent_vectors(covs, invsqrtm(mean)[:, None])
    return v.reshape(n_blocks, n, -1).transpose(1, 0, 2).reshape(n, -1)


def hits(Xtr, ytr, Xte, yte, *, kind="softmax", params=None) -> np.ndarray:
    """Correct/incorrect per test epoch; features centred on the training mean (the scaler)."""
    mu = Xtr.mean(axis=0)
    model = make_estimator(kind, **(params or {})).fit(Xtr - mu, ytr)
    return model.predict(Xte - mu) == yte


def stratified(y: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fold = np.zeros(y.size, dtype=int)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        fold[idx] = np.arange(idx.size) % k
    return fold


def inner_l2(X: np.ndarray, y: np.ndarray) -> float:
    """L2 of the grid with the best stratified 4-fold accuracy inside the training set."""
    fold = stratified(y, 4)
    acc = [
        np.mean(
            np.concatenate(
                [
                    hits(X[fold != f], y[fold != f], X[fold == f], y[fold == f], params={"l2": l2})
                    for f in range(4)
                ]
            )
        )
        for l2 in L2_GRID
    ]
    return L2_GRID[int(np.argmax(acc))]


def mcnemar(a: np.ndarray, b: np.ndarray) -> tuple[int, int, float]:
    """Epochs only ``a`` gets right, only ``b`` gets right, exact two-sided p."""
    n01, n10 = int(np.sum(a & ~b)), int(np.sum(~a & b))
    return n01, n10, float(binomtest(n01, n01 + n10, 0.5).pvalue) if n01 + n10 else 1.0


def load_ssvep() -> dict[int, list[dict]]:
    par = load_paradigm(PARADIGMS / "ssvep_exo.toml")
    out = {}
    for s in range(1, 7):
        folder = glob.escape(str(DATA / f"ssvep-exo/subject{s:02d}")) + "/*_raw.fif"
        recs = [load_recording(p) for p in sorted(glob.glob(folder))]
        pipe = Pipeline.for_recording(par, recs[0])
        step = pipe.steps[-1]
        per = []
        for rec in recs:
            E, y, _ = pipe.epochs_from_recording(rec)
            W, _ = pipe.windows_from_recording(rec)
            # The step's own in-window band filters, then a sample covariance instead of OAS.
            x = step._band_filter(E)
            nb, n, c, t = x.shape
            per.append(
                {
                    "y": np.asarray(y),
                    "oas": step.block_covariances(E),
                    "sample": sample_covariances(x.reshape(nb * n, c, t)).reshape(nb, n, c, c),
                    "windows": step.block_covariances(W),
                }
            )
        out[s] = per
        print(f"  loaded subject {s:02d}", flush=True)
    return out


def loro(data, *, cov="oas", recentre=True, test_mean="epochs", train_mean="epochs", l2=None):
    """Per-fold hit vectors of one variant (fold order: s01 test rec 1, s01 test rec 2, ...)."""
    out = []
    for per in data.values():
        for te in (0, 1):
            a, b = per[1 - te], per[te]
            if recentre:
                m_tr = block_means(a["windows"] if train_mean == "windows" else a[cov])
                m_te = block_means(b["windows"] if test_mean == "windows" else b[cov])
            else:
                m_tr = m_te = block_means(a[cov])
            Xtr, Xte = tangent(a[cov], m_tr), tangent(b[cov], m_te)
            weight = inner_l2(Xtr, a["y"]) if l2 == "inner" else (1e-2 if l2 is None else l2)
            out.append(hits(Xtr, a["y"], Xte, b["y"], params={"l2": weight}))
    return out


def line(name: str, folds: list[np.ndarray]) -> str:
    subj = np.mean([np.mean([folds[i].mean(), folds[i + 1].mean()]) for i in range(0, 12, 2)])
    return f"{name:44s} {subj:.3f} | " + " ".join(f"{h.mean():.2f}" for h in folds)


def ssvep(data) -> None:
    rng = np.random.default_rng(0)
    print("\nSSVEP-exo 01-06, leave-one-recording-out (32 epochs a fold), per held-out recording")
    head = f"{'fold':9s} {'none':>5s} {'recentre':>8s} {'ceiling':>7s}"
    head += (
        f" {'n=16':>5s} {'n=24':>5s} {'n=32':>5s} {'disp tr':>7s} {'disp te':>7s} {'d2 means':>8s}"
    )
    print(head)
    rows = []
    none_hits, rc_hits = [], []
    for s, per in data.items():
        for te in (0, 1):
            a, b = per[1 - te], per[te]
            m_tr, m_te = block_means(a["oas"]), block_means(b["oas"])
            Xtr, Xte = tangent(a["oas"], m_tr), tangent(b["oas"], m_te)
            h = hits(Xtr, a["y"], Xte, b["y"])
            hn = hits(Xtr, a["y"], tangent(b["oas"], m_tr), b["y"])
            none_hits.append(hn)
            rc_hits.append(h)
            ceiling = float(
                np.mean(
                    [
                        np.mean(
                            np.concatenate(
                                [
                                    hits(
                                        Xte[fold != f],
                                        b["y"][fold != f],
                                        Xte[fold == f],
                                        b["y"][fold == f],
                                    )
                                    for f in range(4)
                                ]
                            )
                        )
                        for fold in (stratified(b["y"], 4, seed) for seed in range(5))
                    ]
                )
            )
            curve = []
            for n in (4, 6, 8):
                draws = []
                for _ in range(10 if n < 8 else 1):
                    keep = np.concatenate(
                        [
                            rng.permutation(np.flatnonzero(a["y"] == c))[:n]
                            for c in np.unique(a["y"])
                        ]
                    )
                    draws.append(hits(Xtr[keep], a["y"][keep], Xte, b["y"]).mean())
                curve.append(float(np.mean(draws)))
            disp_tr = float(np.mean(np.sum(Xtr**2, axis=1)))
            disp_te = float(np.mean(np.sum(Xte**2, axis=1)))
            d2 = sum(
                float(np.sum(np.log(np.linalg.eigvalsh(invsqrtm(p) @ q @ invsqrtm(p))) ** 2))
                for p, q in zip(m_tr, m_te, strict=True)
            )
            rows.append([hn.mean(), h.mean(), ceiling, *curve, disp_tr, disp_te, d2])
            cells = f"{rows[-1][0]:5.2f} {rows[-1][1]:8.2f} {ceiling:7.2f} "
            cells += " ".join(f"{v:5.2f}" for v in curve)
            print(f"s{s:02d} rec{te + 1}  {cells} {disp_tr:7.1f} {disp_te:7.1f} {d2:8.2f}")
    r = np.asarray(rows).mean(axis=0)
    print(f"{'mean':9s} {r[0]:5.3f} {r[1]:8.3f} {r[2]:7.3f} {r[3]:5.3f} {r[4]:5.3f} {r[5]:5.3f}")
    n01, n10, p = mcnemar(np.concatenate(none_hits), np.concatenate(rc_hits))
    print(f"paired epochs: only none right {n01}, only re-centred right {n10}, McNemar p = {p:.3f}")
    boot = [
        np.mean([np.mean(h[rng.integers(0, h.size, h.size)]) for h in rc_hits]) for _ in range(2000)
    ]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    print(f"re-centred figure: bootstrap 95% interval over epochs [{lo:.3f}, {hi:.3f}]")

    print("\nvariants (mean over subjects | per held-out recording)")
    print(line("none (OAS)", loro(data, recentre=False)))
    print(line("re-centred (shipped: OAS, mean of epochs)", loro(data)))
    print(line("re-centred, sample covariances", loro(data, cov="sample")))
    print(line("none, sample covariances", loro(data, cov="sample", recentre=False)))
    print(line("re-centred, test mean of all windows", loro(data, test_mean="windows")))
    both = loro(data, test_mean="windows", train_mean="windows")
    print(line("re-centred, train+test means of all windows", both))
    print(line("re-centred, L2 by inner CV on training rec", loro(data, l2="inner")))
    for l2 in L2_GRID:
        print(line(f"[diagnosis only, test folds] L2 = {l2:g}", loro(data, l2=l2)))


#: Starts (s after the cue) of the 2 s training windows of the training-examples check.
WINDOW_STARTS = (1.0, 1.5, 2.0, 2.5, 3.0)


def ssvep_windows() -> None:
    """LORO and within-recording with more training windows per trial (see the notes)."""
    par = load_paradigm(PARADIGMS / "ssvep_exo.toml")
    length = par.epochs.tmax - par.epochs.tmin
    cross = {False: [], True: []}
    within = {False: [], True: []}
    subjects = {}
    test_start = par.epochs.tmin
    for s in range(1, 7):
        folder = glob.escape(str(DATA / f"ssvep-exo/subject{s:02d}")) + "/*_raw.fif"
        recs = [load_recording(p) for p in sorted(glob.glob(folder))]
        per = []
        for rec in recs:
            by_start = {}
            for t0 in WINDOW_STARTS:
                d = par.to_dict()
                d["epochs"] = {**d["epochs"], "tmin": t0, "tmax": t0 + length}
                pipe = Pipeline.for_recording(Paradigm.from_dict(d), rec)
                E, y, _ = pipe.epochs_from_recording(rec)
                by_start[t0] = (pipe.steps[-1].block_covariances(E), np.asarray(y))
            per.append(by_start)
        subjects[s] = per
        for more in (False, True):
            starts = WINDOW_STARTS if more else (test_start,)
            for te in (0, 1):
                a, b = per[1 - te], per[te]
                covs = np.concatenate([a[t][0] for t in starts], axis=1)
                y = np.concatenate([a[t][1] for t in starts])
                m_tr, m_te = block_means(a[test_start][0]), block_means(b[test_start][0])
                h = hits(tangent(covs, m_tr), y, tangent(b[test_start][0], m_te), b[test_start][1])
                cross[more].append(h.mean())
            for rec in per:
                y = rec[test_start][1]
                fold = stratified(y, 4)
                mean = block_means(rec[test_start][0])
                h = []
                for f in range(4):
                    tr = fold != f
                    covs = np.concatenate([rec[t][0][:, tr] for t in starts], axis=1)
                    ytr = np.concatenate([rec[t][1][tr] for t in starts])
                    test = tangent(rec[test_start][0][:, fold == f], mean)
                    h.append(hits(tangent(covs, mean), ytr, test, y[fold == f]))
                within[more].append(np.concatenate(h).mean())
        print(f"  windows: subject {s:02d}", flush=True)
    loso = {False: [], True: []}
    for more in (False, True):
        starts = WINDOW_STARTS if more else (test_start,)
        for s in subjects:
            X, y = [], []
            for other, per in subjects.items():
                for rec in per if other != s else ():
                    mean = block_means(rec[test_start][0])
                    X += [tangent(rec[t][0], mean) for t in starts]
                    y += [rec[t][1] for t in starts]
            # The held-out person's recordings, each re-centred on the mean of its own epochs.
            test = [
                (tangent(r[test_start][0], block_means(r[test_start][0])), r[test_start][1])
                for r in subjects[s]
            ]
            Xte = np.concatenate([t for t, _ in test])
            yte = np.concatenate([t for _, t in test])
            loso[more].append(hits(np.concatenate(X), np.concatenate(y), Xte, yte).mean())
    print("\ntraining examples (re-centred; test epochs 2-4 s; per held-out recording/subject)")
    for more in (False, True):
        what = f"{len(WINDOW_STARTS)} windows a trial" if more else "1 epoch a trial (shipped)"
        print(
            f"{'LORO, ' + what:56s} {np.mean(cross[more]):.3f} | "
            + " ".join(f"{v:.2f}" for v in cross[more])
        )
        print(
            f"{'within-recording (by trial), ' + what:56s} {np.mean(within[more]):.3f} | "
            + " ".join(f"{v:.2f}" for v in within[more])
        )
        print(
            f"{'LOSO, ' + what:56s} {np.mean(loso[more]):.3f} | "
            + " ".join(f"{v:.2f}" for v in loso[more])
        )


def physionet() -> None:
    print("\nPhysioNet S001, leave-one-run-out (15 epochs a run): is the L/R drop systematic?")
    sets = (
        ("imagined left/right", (4, 8, 12), "motor_imagery_eegbci.toml"),
        ("executed left/right", (3, 7, 11), "motor_imagery_eegbci.toml"),
        ("imagined fists/feet", (6, 10, 14), "feet_fists_eegbci.toml"),
        ("executed fists/feet", (5, 9, 13), "feet_fists_eegbci.toml"),
    )
    for name, runs, pfile in sets:
        par = load_paradigm(PARADIGMS / pfile)
        recs = [load_recording(EEGBCI / f"S001R{r:02d}.edf") for r in runs]
        pipe = Pipeline.for_recording(par, recs[0])
        E, y, info = pipe.epochs_from_recordings(recs)
        y, g = np.asarray(y), info["groups"]
        got = {}
        for adapt in (False, True):
            p = par.with_adaptation("recentre") if adapt else par
            h = np.zeros(y.size, dtype=bool)
            for k in range(len(recs)):
                tr, te = g != k, g == k
                m = Pipeline(p, pipe.ch_names, pipe.sfreq)
                m.fit_epochs(E[tr], y[tr], g[tr] if adapt else None)
                pred = m.predict_epochs(E[te], g[te]) if adapt else m.predict_epochs(E[te])
                h[te] = np.asarray(pred) == y[te]
            got[adapt] = h
        n01, n10, p = mcnemar(got[False], got[True])
        print(
            f"{name:20s} none {got[False].mean():.3f}  re-centred {got[True].mean():.3f}  "
            f"only none right {n01}, only re-centred right {n10}, McNemar p = {p:.3f} "
            f"({y.size} epochs)"
        )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--only",
        default="ssvep,windows,mi",
        help="parts: ssvep (folds, variants), windows (training examples), mi (S001)",
    )
    args = ap.parse_args(argv)
    parts = set(args.only.split(","))
    if not DATA.is_dir():
        print(f"shared data not found at {DATA}; set BCI_SHARED_DATA")
        return 2
    if "ssvep" in parts:
        ssvep(load_ssvep())
    if "windows" in parts:
        ssvep_windows()
    if "mi" in parts:
        physionet()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
