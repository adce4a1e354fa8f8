"""Leak-free evaluation: cross-validation, learning curves and pseudo-online accuracy.

Why it cannot leak: the only step applied before the split is the *causal* filter, which
is not fitted (its output at a sample depends on the past of that recording only), so
filtered epochs can be cut once. Every fitted step (spatial filter, tangent-space
reference, scaler, model) lives in the pipeline, and each fold trains a fresh pipeline
from ``make_pipeline()`` on its training epochs only. Grouped folds keep all epochs of a
recording/session/run together, and pseudo-online scoring slides windows only over a
recording the model never saw. With cropped training (``[epochs] train_crops``) the folds
are made on trials and only then is each training trial replaced by its crops
(``crops.take(train)``), so no trial has crops on both sides of a split; the test side is
always the standard epochs.

Significance follows Combrisson & Jerbi (2015), see :mod:`bci.metrics`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bci.errors import BCIError
from bci.metrics import (
    chance_level,
    cohen_kappa,
    confusion_matrix,
    significance_threshold,
    verdict,
)
from bci.splits import make_folds, stratified_folds

GROUP_BY = ("recording", "session", "run", "subject")

#: Windows are scored in batches of this many, so a long recording never sits in memory
#: as one (n_windows, n_channels, n_times) array.
WINDOW_BATCH = 256

__all__ = [
    "GROUP_BY",
    "chance_level",
    "cohen_kappa",
    "confusion_matrix",
    "cross_validate",
    "learning_curve",
    "pseudo_online",
    "significance_threshold",
]


#: ``progress(fraction 0..1, what is being done)`` for long loops.
Progress = Callable[[float, str], None]


def _silent(fraction: float, text: str) -> None:
    """The progress callback used when none is given."""


def _as_labels(y: Sequence | np.ndarray) -> np.ndarray:
    return np.asarray([str(v) for v in np.asarray(y).reshape(-1).tolist()], dtype=str)


def _class_order(pipeline: Any, y: np.ndarray) -> list[str]:
    """The paradigm's class order restricted to classes present, else sorted labels."""
    present = set(y.tolist())
    paradigm = getattr(pipeline, "paradigm", None)
    names = list(getattr(paradigm, "class_names", ()) or ())
    ordered = [c for c in names if c in present]
    ordered += sorted(present - set(ordered))
    return ordered


def _predict(pipeline: Any, E: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    if groups is None:
        proba = pipeline.predict_proba_epochs(E)
    else:
        proba = pipeline.predict_proba_epochs(E, groups)
    proba = np.asarray(proba, dtype=np.float64)
    return np.asarray(pipeline.classes_, dtype=str)[np.argmax(proba, axis=1)]


def cross_validate(
    E: np.ndarray,
    y: Sequence | np.ndarray,
    groups: Sequence | np.ndarray | None,
    make_pipeline: Callable[[], Any],
    *,
    cv: int = 5,
    seed: int | None = 42,
    group_by: str | None = None,
    p: float = 0.05,
    folds: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    adapt_groups: Sequence | np.ndarray | None = None,
    crops: Any = None,
    progress: Progress | None = None,
) -> dict:
    """Cross-validate a pipeline on filtered epochs, refitting every fitted step per fold.

    Parameters
    ----------
    E : ndarray, shape (n_epochs, n_channels, n_times)
        Causally filtered epochs (``pipeline.epochs_from_recording``).
    y : sequence of str
        Class name of each epoch.
    groups : sequence or None
        Group id of each epoch (recording index, session, run). Used only with
        ``group_by``; ``None`` otherwise.
    make_pipeline : callable
        Returns a fresh, unfitted pipeline (e.g. ``pipeline.clone``) with
        ``fit_epochs(E, y)``, ``predict_proba_epochs(E)`` and ``classes_``.
    cv : int
        Number of folds (leave-one-group-out when grouping with fewer groups than this).
    seed : int or None
        Seed of the fold assignment.
    group_by : {None, "recording", "session", "run"}
        ``None``: stratified epoch-level folds. Otherwise grouped folds on ``groups``.
    p : float
        Significance level of the chance test.
    folds : sequence of (train_index, test_index), optional
        Explicit folds (e.g. to score several methods on the very same split); they must
        test every epoch exactly once. Overrides ``cv``, ``seed`` and ``group_by``.
    adapt_groups : sequence, optional
        Group of every epoch for ``[adaptation]`` re-centring (usually the recording):
        passed to ``fit_epochs`` and ``predict_proba_epochs`` of each fold, so training
        groups are re-centred on their own training epochs and a held-out group on its
        own test epochs (batch, no labels).
    crops : TrainCrops, optional
        Cropped training (``info["crops"]``, one row per epoch): each fold trains on the
        crops of its training trials (the split is made on the epochs first) and tests
        on the epochs.
    progress : callable, optional
        ``progress(fraction, text)`` before each fold and at the end.

    Returns
    -------
    dict
        JSON-safe: ``accuracy`` (mean over folds), ``accuracy_std``, ``fold_accuracies``,
        ``pooled_accuracy`` (all test predictions together), ``chance_level``,
        ``significance_threshold`` (the accuracy to *exceed* at p < 0.05 for ``n_epochs``
        decisions), ``above_chance``, ``verdict`` (a sentence), ``kappa``, ``n_epochs``,
        ``n_folds``, ``classes``, ``confusion_matrix`` (rows true, columns predicted, in
        ``classes`` order), ``fit_seconds`` (mean per fold), ``predict_ms_per_epoch``,
        ``cv``, ``seed``, ``group_by``, ``fold_sizes``.
    """
    E = np.asarray(E, dtype=np.float64)
    labels = _as_labels(y)
    if E.ndim != 3 or E.shape[0] != labels.size:
        raise BCIError(
            f"cross_validate: epochs of shape {E.shape} do not match {labels.size} labels; "
            "expected (n_epochs, n_channels, n_times)"
        )
    if np.unique(labels).size < 2:
        raise BCIError(
            f"cross_validate: need epochs of at least 2 classes, got "
            f"{sorted(str(v) for v in set(labels.tolist()))}"
        )
    if folds is not None:
        folds = [(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)) for a, b in folds]
        tested = np.sort(np.concatenate([b for _, b in folds])) if folds else np.empty(0)
        if not np.array_equal(tested, np.arange(labels.size)):
            raise BCIError("cross_validate: the given folds must test every epoch exactly once")
    elif group_by is not None:
        if group_by not in GROUP_BY:
            raise BCIError(f"group_by = {group_by!r} is not one of {', '.join(GROUP_BY)} (or None)")
        if groups is None:
            raise BCIError(f"group_by = {group_by!r} needs the group of every epoch; got none")
        folds = make_folds(labels, groups, n_folds=cv, seed=seed)
    else:
        folds = stratified_folds(labels, cv, seed)

    pred = np.empty(labels.size, dtype=object)
    fold_acc: list[float] = []
    fit_s: list[float] = []
    predict_s = 0.0
    classes: list[str] | None = None
    ag = None if adapt_groups is None else np.asarray(adapt_groups)
    if ag is not None and ag.shape != labels.shape:
        raise BCIError(f"cross_validate: {ag.shape} adapt_groups for {labels.size} epochs")
    if crops is not None and len(crops) != labels.size:
        raise BCIError(f"cross_validate: crops of {len(crops)} trials for {labels.size} epochs")
    report = progress or _silent
    for k, (train, test) in enumerate(folds):
        report(k / len(folds), f"cross-validation: fold {k + 1} of {len(folds)}")
        pipe = make_pipeline()
        if classes is None:
            classes = _class_order(pipe, labels)
        t0 = time.perf_counter()
        train_crops = None if crops is None else crops.take(train)
        if ag is None and train_crops is None:
            pipe.fit_epochs(E[train], labels[train])
        else:
            g = None if ag is None else ag[train]
            pipe.fit_epochs(E[train], labels[train], g, crops=train_crops)
        t1 = time.perf_counter()
        fold_pred = _predict(pipe, E[test], None if ag is None else ag[test])
        predict_s += time.perf_counter() - t1
        fit_s.append(t1 - t0)
        pred[test] = fold_pred
        fold_acc.append(float(np.mean(fold_pred == labels[test])))

    report(1.0, f"cross-validation: {len(folds)} folds done")
    classes = classes or sorted(set(labels.tolist()))
    pred = pred.astype(str)
    cm = confusion_matrix(labels, pred, classes)
    chance = chance_level(labels)
    threshold = significance_threshold(labels.size, chance=chance, p=p)
    acc = float(np.mean(fold_acc))
    above, sentence = verdict(acc, threshold, chance)
    return {
        "accuracy": acc,
        "accuracy_std": float(np.std(fold_acc)),
        "fold_accuracies": [float(a) for a in fold_acc],
        "pooled_accuracy": float(np.mean(pred == labels)),
        "chance_level": float(chance),
        "significance_threshold": float(threshold),
        "p_value_level": float(p),
        "above_chance": above,
        "verdict": sentence,
        "kappa": cohen_kappa(cm),
        "n_epochs": int(labels.size),
        "n_folds": len(folds),
        "fold_sizes": [int(t.size) for _, t in folds],
        "classes": list(classes),
        "confusion_matrix": cm.tolist(),
        "fit_seconds": float(np.mean(fit_s)),
        "predict_ms_per_epoch": float(1000.0 * predict_s / labels.size),
        "cv": int(cv),
        "seed": None if seed is None else int(seed),
        "group_by": group_by,
    }


def learning_curve(
    E: np.ndarray,
    y: Sequence | np.ndarray,
    make_pipeline: Callable[[], Any],
    *,
    fractions: Sequence[float] = (0.2, 0.4, 0.6, 0.8, 1.0),
    cv: int = 5,
    seed: int | None = 42,
    crops: Any = None,
    progress: Progress | None = None,
) -> dict:
    """Test accuracy against the number of training epochs (stratified folds).

    In every fold the training set is subsampled (per class, seeded) to each fraction;
    the test fold stays the same, so the points differ only by training-set size.
    ``crops`` (cropped training): each subsample trains on its trials' crops.
    ``progress(fraction, text)``, when given, is called before each fit.

    Returns
    -------
    dict
        ``n_train`` (mean training epochs per point), ``accuracy`` and ``accuracy_std``
        (over folds) per fraction, ``fractions``.
    """
    E = np.asarray(E, dtype=np.float64)
    labels = _as_labels(y)
    folds = stratified_folds(labels, cv, seed)
    rng = np.random.default_rng(seed)
    scores = np.full((len(fractions), len(folds)), np.nan)
    sizes = np.zeros((len(fractions), len(folds)))
    report = progress or _silent
    n_fits = len(folds) * len(fractions)
    for j, (train, test) in enumerate(folds):
        perm = train[rng.permutation(train.size)]
        for i, frac in enumerate(fractions):
            done = j * len(fractions) + i
            report(done / n_fits, f"learning curve: fit {done + 1} of {n_fits}")
            keep = []
            for cls in np.unique(labels[train]):
                idx = perm[labels[perm] == cls]
                keep.append(idx[: max(1, round(frac * idx.size))])
            sub = np.sort(np.concatenate(keep))
            sizes[i, j] = sub.size
            pipe = make_pipeline()
            try:
                if crops is None:
                    pipe.fit_epochs(E[sub], labels[sub])
                else:
                    pipe.fit_epochs(E[sub], labels[sub], crops=crops.take(sub))
            except BCIError:
                continue  # too few epochs for this step (e.g. a covariance); leave NaN
            scores[i, j] = float(np.mean(_predict(pipe, E[test]) == labels[test]))
    return {
        "fractions": [float(f) for f in fractions],
        "n_train": [float(v) for v in sizes.mean(axis=1)],
        "accuracy": [float(v) for v in np.nanmean(scores, axis=1)],
        "accuracy_std": [float(v) for v in np.nanstd(scores, axis=1)],
    }


def window_labels(
    window_ends: np.ndarray,
    window_samples: int,
    onsets: np.ndarray,
    onset_labels: Sequence[str],
    epoch_offset: int,
    epoch_samples: int,
    *,
    min_overlap: float = 0.5,
) -> np.ndarray:
    """Label each window by the class whose epoch it overlaps most ("" when none).

    Window ``k`` covers samples ``[end_k - window_samples + 1, end_k]``; the epoch of a
    marker at ``s`` covers ``[s + epoch_offset, s + epoch_offset + epoch_samples)``. A
    window is labelled only when its best overlap is at least ``min_overlap`` of the
    window (or of the epoch, when the epoch is shorter).
    """
    ends = np.asarray(window_ends, dtype=np.int64)
    starts = ends - int(window_samples) + 1
    e_start = np.asarray(onsets, dtype=np.int64) + int(epoch_offset)
    e_stop = e_start + int(epoch_samples)  # exclusive
    out = np.full(ends.size, "", dtype=object)
    if e_start.size == 0 or ends.size == 0:
        return out.astype(str)
    overlap = np.minimum(ends[:, None] + 1, e_stop[None, :]) - np.maximum(
        starts[:, None], e_start[None, :]
    )
    overlap = np.clip(overlap, 0, None)
    best = np.argmax(overlap, axis=1)
    best_len = overlap[np.arange(ends.size), best]
    need = min_overlap * min(int(window_samples), int(epoch_samples))
    labels = np.asarray(list(onset_labels), dtype=object)
    ok = best_len >= max(need, 1)
    out[ok] = labels[best[ok]]
    return out.astype(str)


def pseudo_online(
    recordings: Sequence[Any],
    make_pipeline: Callable[[Any], Any],
    *,
    min_overlap: float = 0.5,
    groups: Sequence | None = None,
    progress: Progress | None = None,
) -> dict:
    """Leave-one-recording-out accuracy of sliding windows, as the live path would see them.

    For each recording: fit a fresh pipeline on the epochs of the *other* recordings, slide
    the paradigm's ``online.window`` / ``online.step`` over the held-out one (causally
    filtered from its start, exactly as a stream would be), label each window by the
    class whose marker epoch it overlaps most (see :func:`window_labels`) and score the
    labelled windows.

    With ``[adaptation]`` the held-out recording is replayed as a live session: it starts
    at the training reference, *every* window (labelled or not) is classified in time
    order and moves the running reference only after it is classified, and each
    marker-locked epoch is classified when its last sample has arrived, with the
    reference of the windows before it (no look-ahead). With ``supervised = true`` the
    markers reach the pipeline when the replay reaches them and the windows inside a cued
    trial update the model after they are classified, as in ``bci live``, so only later
    windows and epochs benefit. The causal epoch accuracy is reported as
    ``epoch_accuracy``, comparable with the batch figure of :func:`cross_validate`.

    Parameters
    ----------
    recordings : sequence of Recording
        At least two.
    make_pipeline : callable
        ``make_pipeline(recording)`` returns an unfitted pipeline for that recording's
        channels and rate (e.g. ``lambda r: Pipeline.for_recording(paradigm, r)``).
    groups : sequence, optional
        A group id per recording (e.g. the subject): all recordings of a group are held
        out together (leave-one-group-out); each is replayed as its own session. Default:
        each recording is its own group.
    progress : callable, optional
        ``progress(fraction, text)`` before each held-out recording and at the end.

    Returns
    -------
    dict
        ``accuracy`` (over all labelled windows), ``per_recording`` accuracies,
        ``n_windows``, ``chance_level`` (majority class of the labelled windows),
        ``confusion_matrix``, ``classes``, and a ``note``: overlapping windows are not
        independent, so no binomial threshold is given for them. With adaptation also
        ``epoch_accuracy`` and ``n_epochs``.
    """
    recs = list(recordings)
    if len(recs) < 2:
        raise BCIError(
            f"pseudo-online evaluation needs at least 2 recordings (train on the others, "
            f"slide over the held-out one), got {len(recs)}"
        )
    unit = list(range(len(recs))) if groups is None else list(groups)
    if len(unit) != len(recs):
        raise BCIError(f"pseudo-online: {len(unit)} groups for {len(recs)} recordings")
    if len(set(unit)) < 2:
        raise BCIError("pseudo-online: all recordings are in one group; need at least two groups")
    all_true: list[str] = []
    all_pred: list[str] = []
    epoch_hits: list[bool] = []
    per_rec: list[dict] = []
    classes: list[str] | None = None
    fitted: dict = {}
    report = progress or _silent
    for i, held in enumerate(recs):
        report(
            i / len(recs),
            f"pseudo-online: training without {getattr(held, 'path', i)} and sliding over it "
            f"({i + 1} of {len(recs)})",
        )
        pipe = make_pipeline(held)
        adapts = getattr(pipe, "adapter", None) is not None
        others = [r for j, r in enumerate(recs) if unit[j] != unit[i]]
        E, y, tinfo = pipe.epochs_from_recordings(others)
        train_crops = tinfo.get("crops")
        if adapts:
            # Each training recording is re-centred on its own reference.
            pipe.fit_epochs(E, y, tinfo["groups"], crops=train_crops)
        else:
            key = unit[i]
            if key in fitted:
                pipe = fitted[key]
            else:
                pipe.fit_epochs(E, y, crops=train_crops)
                fitted[key] = pipe
        E_held, y_held, info = pipe.epochs_from_recording(held)
        if classes is None:
            classes = list(getattr(pipe.paradigm, "class_names", ())) or sorted(set(y))
        windows, times = pipe.windows_from_recording(held)
        ends = np.round((np.asarray(times) - held.start_time) * pipe.sfreq).astype(np.int64)
        ep = pipe.paradigm.epochs
        offset = round(ep.tmin * pipe.sfreq)
        n_times = round((ep.tmax - ep.tmin) * pipe.sfreq)
        wl = window_labels(
            ends,
            pipe.window_samples,
            info["onsets"],
            list(y_held),
            offset,
            n_times,
            min_overlap=min_overlap,
        )
        idx = np.flatnonzero(wl != "")
        rec_epoch_hits: list[bool] = []
        if adapts:
            preds, rec_epoch_hits = _replay_session(
                pipe,
                windows,
                ends,
                E_held,
                y_held,
                info["onsets"] + offset + n_times - 1,
                idx,
                marker_samples=np.asarray(held.marker_samples),
                marker_labels=list(held.marker_labels),
            )
        else:
            preds = []
            for k in range(0, idx.size, WINDOW_BATCH):
                batch = np.ascontiguousarray(windows[idx[k : k + WINDOW_BATCH]], dtype=np.float64)
                preds.extend(_predict(pipe, batch).tolist())
        truth = wl[idx].tolist()
        acc = float(np.mean(np.asarray(preds) == np.asarray(truth))) if truth else float("nan")
        entry = {
            "recording": str(getattr(held, "path", i)),
            "accuracy": acc,
            "n_windows": len(truth),
        }
        if adapts:
            entry["epoch_accuracy"] = float(np.mean(rec_epoch_hits)) if rec_epoch_hits else None
            entry["n_epochs"] = len(rec_epoch_hits)
        per_rec.append(entry)
        all_true.extend(truth)
        all_pred.extend(preds)
        epoch_hits.extend(rec_epoch_hits)
    report(1.0, f"pseudo-online: {len(recs)} recordings done")
    if not all_true:
        raise BCIError(
            "pseudo-online: no window overlaps a class epoch; check the markers and "
            "online.window against the epochs"
        )
    names = list(classes or [])
    names += sorted((set(all_true) | set(all_pred)) - set(names))
    cm = confusion_matrix(all_true, all_pred, names)
    out = {
        "accuracy": float(np.mean(np.asarray(all_true) == np.asarray(all_pred))),
        "per_recording": per_rec,
        "n_windows": len(all_true),
        "chance_level": chance_level(all_true),
        "classes": names,
        "confusion_matrix": cm.tolist(),
        "min_overlap": float(min_overlap),
        "note": (
            "windows overlap and are not independent: compare with chance_level, but no "
            "binomial significance threshold applies to them"
        ),
    }
    if epoch_hits:
        out["epoch_accuracy"] = float(np.mean(epoch_hits))
        out["n_epochs"] = len(epoch_hits)
    return out


def _replay_session(
    pipe: Any,
    windows: np.ndarray,
    ends: np.ndarray,
    E: np.ndarray,
    y: Sequence[str],
    epoch_ends: np.ndarray,
    labelled: np.ndarray,
    *,
    marker_samples: np.ndarray | None = None,
    marker_labels: Sequence[str] = (),
) -> tuple[list[str], list[bool]]:
    """Replay one recording through an adapting pipeline in time order, as live.

    Sample indices count from the recording's start. Windows ending before an epoch's last
    sample are classified (and move the running reference) first; then the epoch is
    classified at that reference. Markers reach the pipeline (``observe_markers``, for
    supervised adaptation) once the stream has reached them, before the windows after
    them. Returns the predictions of the ``labelled`` windows and whether each epoch was
    classified correctly.
    """
    pipe.start_session()
    names = np.asarray(pipe.classes_, dtype=str)
    window_pred = np.empty(ends.size, dtype=object)
    m_samples = np.asarray([] if marker_samples is None else marker_samples, dtype=np.int64)
    m_order = np.argsort(m_samples, kind="stable")
    m_samples = m_samples[m_order]
    m_labels = [str(marker_labels[i]) for i in m_order.tolist()]
    sfreq = float(pipe.sfreq)
    done = 0
    seen = 0
    hits: list[bool] = []

    def run_windows(stop: int) -> None:
        nonlocal done, seen
        for k in range(done, stop, WINDOW_BATCH):
            sl = slice(k, min(k + WINDOW_BATCH, stop))
            batch = np.ascontiguousarray(windows[sl], dtype=np.float64)
            # One window at a time when markers may fall inside the batch: a marker is
            # observed before the first window after it, never later.
            pending = int(np.searchsorted(m_samples, ends[sl.stop - 1], side="right")) > seen
            step = 1 if pending else batch.shape[0]
            for j in range(0, batch.shape[0], step):
                sub = slice(sl.start + j, sl.start + j + step)
                upto = int(np.searchsorted(m_samples, ends[sub.start], side="right"))
                if upto > seen:
                    pipe.observe_markers(m_samples[seen:upto] / sfreq, m_labels[seen:upto])
                    seen = upto
                proba = pipe.predict_proba_windows(batch[j : j + step], times=ends[sub] / sfreq)
                window_pred[sub] = names[np.argmax(proba, axis=1)]
        done = max(done, stop)

    for e in np.argsort(epoch_ends, kind="stable").tolist():
        # Windows whose last sample comes before the epoch's last one (strictly earlier).
        run_windows(int(np.searchsorted(ends, epoch_ends[e], side="left")))
        proba = pipe.predict_proba_windows(E[e : e + 1], update=False)
        hits.append(bool(names[int(np.argmax(proba[0]))] == str(y[e])))
    run_windows(ends.size)
    return [str(v) for v in window_pred[labelled].tolist()], hits
