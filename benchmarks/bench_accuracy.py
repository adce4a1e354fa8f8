"""Accuracy of our pipelines against peer methods on the shared recordings, same folds.

Run: ``.venv/bin/python benchmarks/bench_accuracy.py [--seeds 42] [--folds sklearn|bci]
[--only ssvep,mi_lr,mi_ff,bci4als] [--crops RULE ...] [--paradigm-only]``

The shipped paradigm's line trains as shipped (on its ``[epochs] train_crops`` when it
has them, with a line "without train_crops" next to it); the alternative lines train on
the epochs. ``--crops``: also score the shipped paradigm with cropped training on the same
folds, one line per rule: ``default`` (``train_crops = true``), ``START,STOP,STEP`` in
seconds, or ``key=value`` pairs joined by ``:`` that override the defaults (``start=1``).
``--paradigm-only``: only the shipped paradigm (and its crop lines), no alternatives or
peers.

Datasets (``../shared/data``, see its README for licences and citations):

- ``ssvep``: SSVEP-exo subjects 01-06 (Kalunga et al., Neurocomputing 2016), 4 classes,
  epochs 2-4 s; each subject cross-validated on its own, the table shows the mean over
  subjects.
- ``mi_lr``: PhysioNet EEGBCI subject 1, imagined left vs right fist (runs 4, 8, 12),
  epochs 0.5-2.5 s, 7-30 Hz (Schalk et al. 2004; Goldberger et al. 2000).
- ``mi_ff``: the same subject, imagined both fists vs both feet (runs 6, 10, 14).
- ``bci4als``: the five BCI4ALS OpenBCI recordings pooled (idle / left / right).

Within each dataset every method is scored on the *same* stratified 5-fold split (by
default scikit-learn's ``StratifiedKFold(5, shuffle=True, random_state=seed)``, the split
the issue's peer numbers were measured with; ``--folds bci`` uses ``bci.splits``, which
assigns the same folds for the same seed, as a cross-check of ``bci evaluate``). With
several ``--seeds`` the table reports the mean over seeds: on 45 epochs one fold split
moves accuracy by several points, and only the repeated mean says which method is better.

Ours: the shipped paradigm (``bci/paradigms/*.toml``) through ``bci.pipeline.Pipeline``
(causal filter, feature steps refitted per fold, numpy model), plus band power + softmax
as the baseline and, for the non-SSVEP sets, tangent space and CSP (8 filters,
shrinkage 0.01) + softmax when the paradigm does not already ship them. Peers
(benchmark-only dependencies: MNE, scikit-learn, pyRiemann) get epochs cut at the same
markers from the same recordings, filtered the way their users usually do (MNE's
zero-phase FIR, ``mne.filter.filter_data``):

- MNE CSP (4 components) + LDA; pyRiemann covariance (OAS) + tangent space + logistic
  regression; log band power (Welch) + scikit-learn logistic regression;
- SSVEP: filter-bank covariance (each stimulation frequency +/- 1 Hz, MNE's zero-phase
  IIR as MOABB's filter-bank paradigm uses, channels stacked) + MDM, and the same
  covariance + tangent space + logistic regression.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from pathlib import Path

# One BLAS thread: the machine has 2 cores shared with other work, and small eigh calls
# get much slower when oversubscribed.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import mne  # noqa: E402
import numpy as np  # noqa: E402
from scipy.signal import welch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from acquisition.file_source import load_recording  # noqa: E402
from bci.evaluation import cross_validate  # noqa: E402
from bci.paradigm import Paradigm, load_paradigm  # noqa: E402
from bci.pipeline import Pipeline  # noqa: E402
from bci.splits import stratified_folds  # noqa: E402

DATA = Path(os.environ.get("BCI_SHARED_DATA", ROOT.parent / "shared" / "data")).resolve()
EEGBCI = DATA / "eegbci/MNE-eegbci-data/files/eegmmidb/1.0.0/S001"
PARADIGMS = ROOT / "bci" / "paradigms"
mne.set_log_level("ERROR")

#: Issue 4's targets for our pipelines (stratified 5-fold, sklearn folds, seed 42).
TARGETS = {
    "SSVEP-exo S01-06 (4 cl.)": 0.72,
    "PhysioNet S001 left/right": 0.82,
    "PhysioNet S001 fists/feet": 0.95,
}


# ----------------------------------------------------------------------------- data
def datasets(only: set[str]):
    """Yield ``(dataset, unit, paradigm_file, recordings)``; one unit per CV run."""
    if "ssvep" in only:
        for s in range(1, 7):
            folder = glob.escape(str(DATA / f"ssvep-exo/subject{s:02d}")) + "/*_raw.fif"
            recs = [load_recording(p) for p in sorted(glob.glob(folder))]
            yield "SSVEP-exo S01-06 (4 cl.)", f"s{s:02d}", "ssvep_exo.toml", recs
    if "mi_lr" in only:
        recs = [load_recording(EEGBCI / f"S001R{r:02d}.edf") for r in (4, 8, 12)]
        yield "PhysioNet S001 left/right", "", "motor_imagery_eegbci.toml", recs
    if "mi_ff" in only:
        recs = [load_recording(EEGBCI / f"S001R{r:02d}.edf") for r in (6, 10, 14)]
        yield "PhysioNet S001 fists/feet", "", "feet_fists_eegbci.toml", recs
    if "bci4als" in only:
        recs = [
            load_recording(DATA / f"bci4als/{s}/EEG.xdf") for s in ("09", "11", "12", "13", "14")
        ]
        yield "BCI4ALS pooled (3 cl.)", "", "bci4als.toml", recs


def peer_epochs(
    pipe: Pipeline, recs, info, band, *, highpass_first: bool, method: str = "fir"
) -> np.ndarray:
    """Epochs at our markers from zero-phase MNE-filtered data, as peers use it."""
    ep = pipe.paradigm.epochs
    offset = round(ep.tmin * pipe.sfreq)
    n_times = round((ep.tmax - ep.tmin) * pipe.sfreq)
    out = []
    for rec, rinfo in zip(recs, info["recordings"], strict=True):
        x = pipe.recording_data(rec)
        if highpass_first:  # BCI4ALS: DC offsets of thousands of microvolts
            x = x - x.mean(axis=1, keepdims=True)
        x = mne.filter.filter_data(x, pipe.sfreq, band[0], band[1], method=method, verbose="ERROR")
        starts = np.asarray(rinfo["onsets"]) + offset
        out.append(np.stack([x[:, s : s + n_times] for s in starts]))
    return np.concatenate(out)


def log_bandpower(E: np.ndarray, sfreq: float, bands) -> np.ndarray:
    f, p = welch(E, fs=sfreq, nperseg=min(E.shape[-1], int(sfreq)), axis=-1)
    p = np.maximum(p, np.finfo(np.float64).tiny)  # a flat channel has zero power
    cols = [np.log(p[..., (f >= lo) & (f <= hi)].mean(axis=-1)) for lo, hi in bands]
    return np.concatenate(cols, axis=-1)


# ----------------------------------------------------------------------------- methods
def with_features(par: Paradigm, **features) -> Paradigm:
    d = par.to_dict()
    d["features"].update(features)
    return Paradigm.from_dict(d, source=par.source)


def without_crops(par: Paradigm) -> Paradigm:
    """The paradigm trained on its epochs only (``[epochs] train_crops`` off)."""
    d = par.to_dict()
    d["epochs"].pop("train_crops", None)
    return Paradigm.from_dict(d, source=par.source)


def with_crops(par: Paradigm, rule: str) -> Paradigm | None:
    """The paradigm with ``[epochs] train_crops`` set by ``rule`` (see the module notes);
    ``paradigm``: its own setting (None when it has none)."""
    if rule == "paradigm":
        return par if par.epochs.train_crops is not None else None
    d = par.to_dict()
    if rule == "default":
        value: object = True
    elif "=" in rule:
        value = {k: float(v) for k, v in (kv.split("=") for kv in rule.split(":"))}
    else:
        start, stop, step = (float(v) for v in rule.split(","))
        value = {"start": start, "stop": stop, "step": step}
    d["epochs"]["train_crops"] = value
    return Paradigm.from_dict(d, source=par.source)


def our_methods(par: Paradigm, is_ssvep: bool):
    """``(label, paradigm)``: the shipped default, then the alternatives not already shipped.

    ``riemann`` is an alias of ``tangent_space`` (same features), so it gets no line of its
    own. MI also shows CSP (8 filters, shrinkage 0.01) + softmax, the former default.
    """
    yield f"ours: paradigm ({par.features.method} + {par.model.kind})", par
    method = par.features.method
    if is_ssvep and method != "filter_bank_riemann":
        fb = with_features(par, method="filter_bank_riemann", params={"harmonics": 2})
        yield "ours: filter-bank tangent space + softmax", fb.with_model("softmax")
    if not is_ssvep and method not in ("tangent_space", "riemann"):
        yield (
            "ours: tangent space + softmax",
            with_features(par, method="tangent_space", params={}).with_model("softmax"),
        )
    if not is_ssvep and not (
        method == "csp" and par.features.csp_components == 8 and par.features.csp_reg == 0.01
    ):
        yield (
            "ours: CSP-8 (shrinkage 0.01) + softmax",
            with_features(par, method="csp", csp_components=8, csp_reg=0.01).with_model("softmax"),
        )
    if method != "bandpower":
        yield (
            "ours: bandpower + softmax",
            with_features(par, method="bandpower").with_model("softmax"),
        )


def peer_methods(is_ssvep: bool, par: Paradigm, sfreq: float):
    """``(label, make_features_and_classifier)``: callables ``(E_peer) -> (X, clf)``."""
    from mne.decoding import CSP
    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if is_ssvep:
        yield (
            "peer: FB covariance + MDM (pyRiemann)",
            "fb",
            lambda: make_pipeline(Covariances("oas"), MDM()),
        )
        yield (
            "peer: FB covariance + TS + LR",
            "fb",
            lambda: make_pipeline(
                Covariances("oas"), TangentSpace(), LogisticRegression(max_iter=1000)
            ),
        )
        yield (
            "peer: band power + LR (sklearn)",
            "bp",
            lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        )
        return
    yield (
        "peer: CSP + LDA (MNE)",
        "raw",
        lambda: make_pipeline(CSP(n_components=4), LinearDiscriminantAnalysis()),
    )
    yield (
        "peer: cov + TS + LR (pyRiemann)",
        "raw",
        lambda: make_pipeline(
            Covariances("oas"), TangentSpace(), LogisticRegression(max_iter=1000)
        ),
    )
    yield (
        "peer: band power + LR (sklearn)",
        "bp",
        lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    )


def make_split(y: np.ndarray, kind: str, seed: int):
    if kind == "bci":
        return stratified_folds(y, 5, seed)
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(5, shuffle=True, random_state=seed).split(y, y))


def score_peer(make, X, y, folds) -> tuple[float, float, float]:
    accs, fits = [], []
    for train, test in folds:
        clf = make()
        t0 = time.perf_counter()
        clf.fit(X[train], y[train])
        fits.append(time.perf_counter() - t0)
        accs.append(float(np.mean(clf.predict(X[test]) == y[test])))
    return float(np.mean(accs)), float(np.mean(fits)), float(np.std(accs))


# ----------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[42])
    ap.add_argument("--folds", choices=("sklearn", "bci"), default="sklearn")
    ap.add_argument("--only", default="ssvep,mi_lr,mi_ff,bci4als")
    ap.add_argument("--crops", nargs="*", default=[], help="cropped-training rules to add")
    ap.add_argument("--paradigm-only", action="store_true")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"shared data not found at {DATA}; set BCI_SHARED_DATA")
        return 2
    only = set(args.only.split(","))
    # results[dataset][method] -> list over (unit, seed) of (acc, fit_s)
    results: dict[str, dict[str, list]] = {}
    thresholds: dict[str, list] = {}
    t_start = time.perf_counter()
    for dataset, unit, pfile, recs in datasets(only):
        par = load_paradigm(PARADIGMS / pfile)
        is_ssvep = par.session.kind == "ssvep"
        pipe = Pipeline.for_recording(par, recs[0])
        E, y, info = pipe.epochs_from_recordings(recs)
        y = np.asarray(y, dtype=str)
        hp = "bci4als" in pfile
        lo, hi = par.filter.l_freq or 1.0, par.filter.h_freq or pipe.sfreq / 2 - 1
        peers_X: dict[str, np.ndarray] = {}
        peers = list(peer_methods(is_ssvep, par, pipe.sfreq))
        if args.paradigm_only:
            pass
        elif is_ssvep:
            freqs = list(par.session.frequencies.values())
            peers_X["fb"] = np.concatenate(
                [
                    peer_epochs(pipe, recs, info, (f - 1, f + 1), highpass_first=hp, method="iir")
                    for f in freqs
                ],
                axis=1,
            )
            broad = peer_epochs(pipe, recs, info, (lo, hi), highpass_first=hp)
            bands = [(h * f - 1, h * f + 1) for f in freqs for h in (1, 2)]
            peers_X["bp"] = log_bandpower(broad, pipe.sfreq, bands)
        else:
            peers_X["raw"] = peer_epochs(pipe, recs, info, (lo, hi), highpass_first=hp)
            peers_X["bp"] = log_bandpower(peers_X["raw"], pipe.sfreq, par.features.bands)
        res = results.setdefault(dataset, {})
        crops = {}
        methods = list(our_methods(par, is_ssvep))
        if args.paradigm_only:
            methods = methods[:1]
        if par.epochs.train_crops is not None:
            crops[methods[0][0]] = info["crops"]
            methods.insert(1, ("ours: paradigm without train_crops", without_crops(par)))
        for rule in args.crops:
            cpar = with_crops(without_crops(par), rule)
            cE, _, cinfo = Pipeline.for_recording(cpar, recs[0]).epochs_from_recordings(recs)
            if not np.array_equal(cE, E):
                raise SystemExit(f"{dataset}: the crops paradigm cut different epochs")
            c = cpar.epochs.train_crops
            label = f"ours: paradigm +crops {c.start:g}..{c.stop:g} every {c.step:g} s"
            crops[label] = cinfo["crops"]
            methods.append((label, par))
        for seed in args.seeds:
            folds = make_split(y, args.folds, seed)
            for label, mpar in methods:
                r = cross_validate(
                    E,
                    y,
                    None,
                    Pipeline(mpar, pipe.ch_names, pipe.sfreq).clone,
                    folds=folds,
                    crops=crops.get(label),
                )
                res.setdefault(label, []).append(
                    (r["accuracy"], r["fit_seconds"], r["accuracy_std"])
                )
                if label.startswith("ours: paradigm"):
                    thresholds.setdefault(dataset, []).append(r["significance_threshold"])
            for label, key, make in () if args.paradigm_only else peers:
                res.setdefault(label, []).append(score_peer(make, peers_X[key], y, folds))
        print(f"  done {dataset} {unit} ({time.perf_counter() - t_start:.0f} s)", flush=True)

    print()
    print(
        f"Accuracy, stratified 5-fold ({args.folds} folds, seeds {args.seeds}); "
        "SSVEP: mean over subjects"
    )
    print("+/- fold: std over the folds; spread: std over subjects and seeds of the mean")
    head = (
        f"{'dataset':28s} {'method':48s} {'acc':>6s} {'+/-fold':>7s} {'spread':>6s} {'fit s':>7s}"
    )
    print(head)
    print("-" * len(head))
    for dataset, methods in results.items():
        n_units = len(next(iter(methods.values()))) // len(args.seeds)
        for label, vals in methods.items():
            a = np.asarray(vals)
            print(
                f"{dataset:28s} {label:48s} {a[:, 0].mean():6.3f} {a[:, 2].mean():7.3f} "
                f"{a[:, 0].std():6.3f} {a[:, 1].mean():7.3f}"
            )
        thr = np.mean(thresholds.get(dataset, [np.nan]))
        print(f"{dataset:28s} {'(p<0.05 threshold, per unit)':48s} {thr:6.3f}  units={n_units}")
        if dataset in TARGETS:
            # The target is judged on the shipped paradigm: an alternative line may have been
            # chosen on this very data, so it is named but does not meet the target.
            shipped = next(
                (np.mean(np.asarray(v)[:, 0]), k)
                for k, v in methods.items()
                if k.startswith("ours: paradigm")
            )
            best = max(
                (np.mean(np.asarray(v)[:, 0]), k)
                for k, v in methods.items()
                if k.startswith("ours")
            )
            peer = max(
                (
                    (np.mean(np.asarray(v)[:, 0]), k)
                    for k, v in methods.items()
                    if k.startswith("peer")
                ),
                default=(np.nan, "none"),
            )
            verdict = "met" if shipped[0] >= TARGETS[dataset] else "NOT met"
            print(
                f"{'':28s} target {TARGETS[dataset]:.2f}: {verdict} by the shipped paradigm "
                f"({shipped[0]:.3f}); best of ours: {best[1].removeprefix('ours: ')} ({best[0]:.3f}); "
                f"shipped / best peer = {shipped[0] / peer[0]:.3f}"
            )
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
