"""Adaptation across sessions (issue 11): ours against pyRiemann's re-centring, same folds.

Run: ``.venv/bin/python benchmarks/bench_adaptation.py [--only ssvep_loro,ssvep_loso,
ssvep_strat,mi_lr,mi_ff] [--no-supervised] [--per-fold] [--crops RULE] [--no-peer]``

Ours trains on the epochs (the paradigm without ``[epochs] train_crops``); the ``+crops``
rows train on crops, on the very same folds: ``--crops paradigm`` (the default: the
paradigm's own ``train_crops``, no ``+crops`` rows when it has none), ``default``
(``train_crops = true``: epoch-long crops from the marker every 0.5 s to the end of the
stimulation), ``START,STOP,STEP`` in seconds, ``key=value`` pairs joined by ``:``, or
``none``.

Data (``../shared/data``, see its README for licences and citations):

- SSVEP-exo subjects 01-06 (Kalunga et al., Neurocomputing 2016), 2 recordings each,
  shipped paradigm ``ssvep_exo.toml`` (filter-bank tangent space + softmax).
  ``ssvep_loro``: per subject, leave-one-recording-out (train on one session, test on the
  other), mean over subjects. ``ssvep_loso``: all 12 recordings, leave-one-subject-out
  (train on five people, test on the sixth with no labels of the sixth), per-subject
  accuracy against the binomial significance threshold of that subject's epochs.
  ``ssvep_strat``: per subject, stratified 5-fold over both recordings (within-session
  figure: adaptation must not make it worse).
- PhysioNet EEGBCI S001 (Schalk et al. 2004; Goldberger et al. 2000), runs as groups,
  leave-one-run-out: ``mi_lr`` imagined left/right fist (runs 4, 8, 12,
  ``motor_imagery_eegbci.toml``), ``mi_ff`` fists/feet (runs 6, 10, 14,
  ``feet_fists_eegbci.toml``).

Methods, all on the same folds:

- ours none: the shipped paradigm (``cross_validate``, grouped folds);
- ours recentre (batch): ``[adaptation] method = "recentre"``: every training recording
  re-centred on its own mean, the held-out one on the mean of all its epochs (unsupervised);
- ours recentre (causal): the held-out recording replayed in time order as a live session
  (``pseudo_online``): it starts at the training reference, the running mean moves with
  every window after that window is classified; each epoch is classified when its last
  sample arrives. Epoch accuracy (comparable with batch) and window accuracy;
- ours recentre + supervised (causal): the same, and the markers reach the pipeline as
  the replay reaches them; each window overlapping a cued epoch by half is learnt with
  ``partial_fit`` right after it is classified (as ``bci live`` does);
- ``+crops`` (with ``--crops``): the same, trained on the crops of the training trials
  (``[epochs] train_crops``; the folds are the same trials, the test epochs unchanged);
- peer: pyRiemann ``Covariances("oas")`` + ``TangentSpace`` + scikit-learn logistic
  regression on epochs filtered the way its users do (MNE zero-phase; SSVEP: filter-bank
  covariance, each stimulation frequency +/- 1 Hz, channels stacked), plain and with
  ``pyriemann.transfer.TLCenter`` re-centring every recording on its own mean.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import mne  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_accuracy import peer_epochs, with_crops, without_crops  # noqa: E402

from acquisition.file_source import load_recording  # noqa: E402
from bci.evaluation import cross_validate, pseudo_online  # noqa: E402
from bci.metrics import chance_level, significance_threshold  # noqa: E402
from bci.paradigm import load_paradigm  # noqa: E402
from bci.pipeline import Pipeline  # noqa: E402
from bci.splits import make_folds, stratified_folds  # noqa: E402

DATA = Path(os.environ.get("BCI_SHARED_DATA", ROOT.parent / "shared" / "data")).resolve()
EEGBCI = DATA / "eegbci/MNE-eegbci-data/files/eegmmidb/1.0.0/S001"
PARADIGMS = ROOT / "bci" / "paradigms"
mne.set_log_level("ERROR")

TARGETS = {"ssvep_loro recentre (batch)": 0.76, "ssvep_loso recentre (batch)": 0.68}


def ssvep_subject(s: int) -> list:
    folder = glob.escape(str(DATA / f"ssvep-exo/subject{s:02d}")) + "/*_raw.fif"
    return [load_recording(p) for p in sorted(glob.glob(folder))]


def peer_features(pipe: Pipeline, recs, info, is_ssvep: bool) -> np.ndarray:
    """OAS covariances of peer-filtered epochs (SSVEP: filter bank, channels stacked)."""
    from pyriemann.estimation import Covariances

    par = pipe.paradigm
    if is_ssvep:
        X = np.concatenate(
            [
                peer_epochs(pipe, recs, info, (f - 1, f + 1), highpass_first=False, method="iir")
                for f in par.session.frequencies.values()
            ],
            axis=1,
        )
    else:
        X = peer_epochs(
            pipe, recs, info, (par.filter.l_freq, par.filter.h_freq), highpass_first=False
        )
    return Covariances("oas").fit_transform(X)


def peer_scores(covs, y, rec_groups, folds, *, recentre: bool) -> list[float]:
    """pyRiemann TS + LR per fold, optionally after TLCenter re-centring per recording."""
    from pyriemann.tangentspace import TangentSpace
    from pyriemann.transfer import TLCenter, encode_domains
    from sklearn.linear_model import LogisticRegression

    out = []
    for train, test in folds:
        X = covs
        if recentre:
            domains = np.asarray([f"r{g}" for g in rec_groups])
            # TLCenter uses no labels: each domain is whitened by its own Riemannian mean.
            X_enc, y_enc = encode_domains(covs, y, domains)
            X = TLCenter(target_domain=domains[test[0]]).fit_transform(X_enc, y_enc)
        ts = TangentSpace(metric="riemann").fit(X[train])
        clf = LogisticRegression(max_iter=1000).fit(ts.transform(X[train]), y[train])
        out.append(float(np.mean(clf.predict(ts.transform(X[test])) == y[test])))
    return out


def ours(par, pipe, E, y, rec_groups, folds, *, adapt: bool, crops=None) -> list[float]:
    p = par.with_adaptation("recentre") if adapt else par
    r = cross_validate(
        E,
        y,
        None,
        Pipeline(p, pipe.ch_names, pipe.sfreq).clone,
        folds=folds,
        adapt_groups=rec_groups if adapt else None,
        crops=crops,
    )
    return r["fold_accuracies"]


def causal(par, recs, groups, *, supervised: bool) -> dict:
    p = par.with_adaptation("recentre", supervised=supervised)
    return pseudo_online(recs, lambda rec: Pipeline.for_recording(p, rec), groups=groups)


def evaluate_split(
    name, par, recs, rec_of_file, held_unit, folds_kind, supervised, rows, crops="none", peer=True
):
    """Score every method on one split of ``recs``; append rows (one per method)."""
    is_ssvep = par.session.kind == "ssvep"
    pipe = Pipeline.for_recording(par, recs[0])
    E, y, info = pipe.epochs_from_recordings(recs)
    y = np.asarray(y, dtype=str)
    rec_groups = info["groups"]
    if folds_kind == "stratified":
        folds = stratified_folds(y, 5, 42)
    else:
        unit = np.asarray([held_unit[g] for g in rec_groups])
        folds = make_folds(y, unit, n_folds=len(set(held_unit)), seed=42)
    cpar = None if crops == "none" else with_crops(without_crops(par), crops)
    if crops == "paradigm":
        cpar = with_crops(par, crops)
    par = without_crops(par)
    res = {}
    res["ours none"] = ours(par, pipe, E, y, rec_groups, folds, adapt=False)
    res["ours recentre (batch)"] = ours(par, pipe, E, y, rec_groups, folds, adapt=True)
    if cpar is not None:
        cE, _, cinfo = Pipeline.for_recording(cpar, recs[0]).epochs_from_recordings(recs)
        # The same epochs and folds: only the training examples differ.
        if not np.array_equal(cE, E):
            raise SystemExit(f"{name}: the crops paradigm cut different epochs")
        for adapt in (False, True):
            key = "ours recentre (batch) +crops" if adapt else "ours none +crops"
            res[key] = ours(par, pipe, E, y, rec_groups, folds, adapt=adapt, crops=cinfo["crops"])
    if peer:
        covs = peer_features(pipe, recs, info, is_ssvep)
        res["pyRiemann TS+LR"] = peer_scores(covs, y, rec_groups, folds, recentre=False)
        res["pyRiemann TLCenter+TS+LR"] = peer_scores(covs, y, rec_groups, folds, recentre=True)
    online = {}
    if folds_kind != "stratified":
        held = list(held_unit)
        online["ours recentre (causal)"] = causal(par, recs, held, supervised=False)
        if cpar is not None:
            online["ours recentre (causal) +crops"] = causal(cpar, recs, held, supervised=False)
        if supervised:
            online["ours recentre+supervised (causal)"] = causal(par, recs, held, supervised=True)
    test_sizes = [t.size for _, t in folds]
    thr = [significance_threshold(n, chance=chance_level(y)) for n in test_sizes]
    rows.append({"split": name, "folds": res, "online": online, "thresholds": thr})


def summarise(rows: list[dict], label: str, *, per_fold: bool = False) -> None:
    """Print one table: mean over units, per-unit accuracies (``per_fold``: every held-out
    recording's own accuracy instead of the mean over a subject's folds)."""
    by_split: dict[str, list[dict]] = {}
    for r in rows:
        by_split.setdefault(r["split"], []).append(r)
    print()
    print(label)
    head = f"{'split':12s} {'method':38s} {'mean':>6s}  per unit (fold / subject)"
    print(head)
    print("-" * 100)
    for split, rs in by_split.items():
        methods = list(rs[0]["folds"]) + list(rs[0]["online"])
        for m in methods:
            if m in rs[0]["folds"]:
                per = [float(np.mean(r["folds"][m])) for r in rs]
                if len(rs) == 1 or per_fold:
                    per = [a for r in rs for a in r["folds"][m]]
            else:
                per = []
                for r in rs:
                    o = r["online"][m]
                    if len(rs) == 1 or per_fold:
                        per.extend(p["epoch_accuracy"] for p in o["per_recording"])
                    else:
                        per.append(o["epoch_accuracy"])
            cells = " ".join(f"{v:.3f}" for v in per)
            # The mean over units (subjects), also when the cells are per fold.
            mean = np.mean(per) if not per_fold else _unit_mean(rs, m)
            print(f"{split:12s} {m:38s} {mean:6.3f}  {cells}")
            if m not in rs[0]["folds"]:
                win = [r["online"][m]["accuracy"] for r in rs]
                print(f"{split:12s} {'  (windows, same run)':38s} {np.mean(win):6.3f}")
        if split == "ssvep_loso":
            thr = rs[0]["thresholds"]
            print(
                f"{split:12s} {'  p<0.05 threshold per subject':38s} {'':6s}  "
                + " ".join(f"{t:.3f}" for t in thr)
            )


def _unit_mean(rs: list[dict], m: str) -> float:
    """Mean over units of method ``m`` (each unit: the mean of its folds / recordings)."""
    if m in rs[0]["folds"]:
        per = [float(np.mean(r["folds"][m])) for r in rs]
        return float(np.mean(per if len(rs) > 1 else rs[0]["folds"][m]))
    if len(rs) == 1:
        return float(np.mean([p["epoch_accuracy"] for p in rs[0]["online"][m]["per_recording"]]))
    return float(np.mean([r["online"][m]["epoch_accuracy"] for r in rs]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="ssvep_loro,ssvep_loso,ssvep_strat,mi_lr,mi_ff")
    ap.add_argument("--no-supervised", action="store_true")
    ap.add_argument(
        "--crops", default="paradigm", help="paradigm, default, START,STOP,STEP, k=v:k=v or none"
    )
    ap.add_argument("--no-peer", action="store_true", help="skip the pyRiemann rows")
    ap.add_argument(
        "--per-fold",
        action="store_true",
        help="print every held-out recording's accuracy (LORO: two per subject)",
    )
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"shared data not found at {DATA}; set BCI_SHARED_DATA")
        return 2
    only = set(args.only.split(","))
    sup = not args.no_supervised
    kw = {"crops": args.crops, "peer": not args.no_peer}
    t0 = time.perf_counter()
    rows: list[dict] = []
    ssvep = load_paradigm(PARADIGMS / "ssvep_exo.toml")
    subjects = (
        {s: ssvep_subject(s) for s in range(1, 7)}
        if only & {"ssvep_loro", "ssvep_loso", "ssvep_strat"}
        else {}
    )
    if "ssvep_loro" in only:
        for s, recs in subjects.items():
            evaluate_split("ssvep_loro", ssvep, recs, None, [0, 1], "grouped", sup, rows, **kw)
            print(f"  ssvep_loro s{s:02d} ({time.perf_counter() - t0:.0f} s)", flush=True)
    if "ssvep_strat" in only:
        for s, recs in subjects.items():
            evaluate_split("ssvep_strat", ssvep, recs, None, [0, 1], "stratified", sup, rows, **kw)
            print(f"  ssvep_strat s{s:02d} ({time.perf_counter() - t0:.0f} s)", flush=True)
    if "ssvep_loso" in only:
        recs = [r for s in subjects for r in subjects[s]]
        held = [s for s in subjects for _ in subjects[s]]
        evaluate_split("ssvep_loso", ssvep, recs, None, held, "grouped", sup, rows, **kw)
        print(f"  ssvep_loso ({time.perf_counter() - t0:.0f} s)", flush=True)
    for key, runs, pfile in (
        ("mi_lr", (4, 8, 12), "motor_imagery_eegbci.toml"),
        ("mi_ff", (6, 10, 14), "feet_fists_eegbci.toml"),
    ):
        if key in only:
            par = load_paradigm(PARADIGMS / pfile)
            recs = [load_recording(EEGBCI / f"S001R{r:02d}.edf") for r in runs]
            evaluate_split(key, par, recs, None, [0, 1, 2], "grouped", sup, rows, **kw)
            print(f"  {key} ({time.perf_counter() - t0:.0f} s)", flush=True)
    summarise(
        rows,
        "Accuracy across sessions (LORO: leave-one-recording-out, mean over subjects for "
        "SSVEP; LOSO: per held-out subject; strat: stratified 5-fold within subject). "
        "Causal rows: epoch accuracy of the time-ordered replay; '(windows)': window accuracy.",
        per_fold=args.per_fold,
    )
    for key, target in TARGETS.items():
        print(f"target {key}: >= {target:.2f}")
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
