"""Marker-locked epochs cut from continuous (already filtered) data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from acquisition.limits import MAX_CROP_VALUES, LimitError
from bci.paradigm import normalize_marker


@dataclass
class EpochEvents:
    """The class-marker events selected from a recording.

    Parameters
    ----------
    samples : ndarray of int
        Sample index of each event (the marker position).
    labels : ndarray of str
        Class name of each event.
    """

    samples: np.ndarray
    labels: np.ndarray


@dataclass
class Epochs:
    """Epochs cut from one recording.

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
    labels : ndarray of str, shape (n_epochs,)
    onsets : ndarray of int, shape (n_epochs,)
        Sample index of each epoch's marker.
    n_dropped : int
        Events whose epoch ran past either end of the data (not in ``data``).
    dropped_onsets : list of int
        Their marker samples, for messages.
    n_nonfinite : int
        Events whose epoch held a NaN or infinite sample (not in ``data``, not in
        ``n_dropped``).
    """

    data: np.ndarray
    labels: np.ndarray
    onsets: np.ndarray
    n_dropped: int = 0
    dropped_onsets: list[int] = field(default_factory=list)
    n_nonfinite: int = 0

    def counts(self) -> dict[str, int]:
        """Number of epochs per class, in first-seen order."""
        out: dict[str, int] = {}
        for label in self.labels.tolist():
            out[label] = out.get(label, 0) + 1
        return out


def epoch_samples(sfreq: float, tmin: float, tmax: float) -> tuple[int, int]:
    """Return ``(offset, n_times)``: first sample relative to the marker and epoch length.

    ``n_times = round((tmax - tmin) * sfreq)`` so an epoch has the same number of samples as
    an online window of the same length (``round(window * sfreq)``).
    """
    sfreq = float(sfreq)
    return round(tmin * sfreq), round((tmax - tmin) * sfreq)


def find_events(
    marker_samples: Sequence[int] | np.ndarray,
    marker_labels: Sequence[str],
    classes: Mapping[str, str],
    *,
    trial_marker: str | None = None,
    occurrence: int = 1,
) -> EpochEvents:
    """Select the markers that start an epoch and map them to class names.

    Parameters
    ----------
    marker_samples, marker_labels
        The recording's markers (sample positions and strings), in time order.
    classes : mapping
        Class name -> marker; markers are compared after :func:`normalize_marker`, so
        ``"2"``, ``2`` and ``"2.000"`` match.
    trial_marker : str or None
        When given, markers are grouped into trials starting at this marker and only the
        ``occurrence``-th class marker of each trial counts (for paradigms that repeat the
        class marker at the cue and at the imagery onset).
    occurrence : int
        1-based rank of the class marker inside a trial.
    """
    to_class = {normalize_marker(m): name for name, m in classes.items()}
    trial = None if trial_marker is None else normalize_marker(trial_marker)
    samples: list[int] = []
    labels: list[str] = []
    seen_in_trial = 0
    for pos, raw in zip(np.asarray(marker_samples).tolist(), marker_labels, strict=True):
        marker = normalize_marker(raw)
        if trial is not None and marker == trial:
            seen_in_trial = 0
            continue
        name = to_class.get(marker)
        if name is None:
            continue
        if trial is not None:
            seen_in_trial += 1
            if seen_in_trial != occurrence:
                continue
        samples.append(int(pos))
        labels.append(name)
    return EpochEvents(np.asarray(samples, dtype=np.int64), np.asarray(labels, dtype=str))


def nonfinite_spans(data: np.ndarray) -> np.ndarray:
    """Sample ranges ``[start, stop)`` (shape (n, 2)) where any row of ``data`` is NaN or inf."""
    bad = ~np.isfinite(data).all(axis=0)
    if not bad.any():
        return np.empty((0, 2), dtype=np.int64)
    edges = np.diff(np.concatenate([[0], bad.astype(np.int8), [0]]))
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1)


def describe_nonfinite(
    data: np.ndarray, sfreq: float, ch_names: Sequence[str], where: str, spans: np.ndarray
) -> str:
    """One line naming the recording, the channels and the time spans of non-finite samples."""
    bad_rows = ~np.isfinite(data).all(axis=1)
    names = [str(ch_names[i]) for i in np.flatnonzero(bad_rows)]
    channels = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    shown = ", ".join(f"{a / sfreq:.2f}-{b / sfreq:.2f} s" for a, b in spans[:5].tolist())
    more = f" and {len(spans) - 5} more" if len(spans) > 5 else ""
    n_values = int((~np.isfinite(data)).sum())
    return (
        f"{where}: {n_values} NaN/infinite values in channel(s) {channels} at {shown}{more} "
        f"({int((spans[:, 1] - spans[:, 0]).sum()) / sfreq:.2f} s in {len(spans)} span(s)); "
        "epochs touching them are dropped"
    )


def finite_runs(n_samples: int, spans: np.ndarray) -> list[tuple[int, int]]:
    """The ``[start, stop)`` runs of ``range(n_samples)`` between the non-finite ``spans``."""
    runs, at = [], 0
    for a, b in spans.tolist():
        if a > at:
            runs.append((at, a))
        at = b
    if at < n_samples:
        runs.append((at, n_samples))
    return runs


def cut_epochs(
    data: np.ndarray,
    sfreq: float,
    events: EpochEvents,
    tmin: float,
    tmax: float,
    *,
    bad_spans: np.ndarray | None = None,
) -> Epochs:
    """Cut ``[marker + tmin, marker + tmax)`` from ``data`` (n_channels, n_samples).

    Events whose window runs past the start or the end of the data are dropped and
    counted in ``Epochs.n_dropped``; those whose window overlaps one of ``bad_spans``
    (``[start, stop)`` sample ranges of non-finite input, see :func:`nonfinite_spans`) are
    dropped and counted in ``Epochs.n_nonfinite``.
    """
    offset, n_times = epoch_samples(sfreq, tmin, tmax)
    n_total = data.shape[1]
    starts = events.samples + offset
    keep = (starts >= 0) & (starts + n_times <= n_total)
    clean = np.ones_like(keep)
    if bad_spans is not None and len(bad_spans):
        spans = np.asarray(bad_spans, dtype=np.int64).reshape(-1, 2)
        # An epoch [s, s + n) overlaps a span [a, b) when s < b and a < s + n.
        overlap = (starts[:, None] < spans[None, :, 1]) & (
            spans[None, :, 0] < starts[:, None] + n_times
        )
        clean = ~overlap.any(axis=1)
    n_nonfinite = int((keep & ~clean).sum())
    edge_dropped = ~keep
    keep &= clean
    kept_starts = starts[keep]
    idx = kept_starts[:, None] + np.arange(n_times)[None, :]
    # (n_ch, n_epochs, n_times) -> (n_epochs, n_ch, n_times)
    epochs = np.ascontiguousarray(data[:, idx].transpose(1, 0, 2), dtype=np.float64)
    return Epochs(
        data=epochs,
        labels=events.labels[keep],
        onsets=events.samples[keep],
        n_dropped=int(edge_dropped.sum()),
        dropped_onsets=events.samples[edge_dropped].tolist(),
        n_nonfinite=n_nonfinite,
    )


@dataclass
class TrainCrops:
    """Training crops of a set of trials, one row per trial (aligned with its epochs).

    Cropped training (``[epochs] train_crops``): each trial contributes every crop that
    lies inside the data and touches no non-finite sample. Select trials with
    :meth:`take` *before* turning crops into examples (:meth:`examples`): a split made on
    trials keeps all crops of a trial on one side.

    Parameters
    ----------
    data : ndarray, shape (n_trials, n_crops, n_channels, n_times)
        Zero where a crop is not ``valid``.
    valid : ndarray of bool, shape (n_trials, n_crops)
    starts : ndarray, shape (n_crops,)
        Crop starts in seconds after the marker.
    """

    data: np.ndarray
    valid: np.ndarray
    starts: np.ndarray

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def take(self, index: np.ndarray | Sequence[int]) -> TrainCrops:
        """The crops of trials ``index`` (integer positions, as a fold's train indices)."""
        idx = np.asarray(index, dtype=np.int64)
        return TrainCrops(self.data[idx], self.valid[idx], self.starts)

    def examples(
        self, y: np.ndarray, groups: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        """``(X, y, groups, trial)``: the valid crops as training examples, trial-major.

        ``y`` and ``groups`` (one per trial) are repeated for each crop; ``trial`` is the
        row each example came from.
        """
        trial, crop = np.nonzero(self.valid)
        X = self.data[trial, crop]
        g = None if groups is None else np.asarray(groups)[trial]
        return X, np.asarray(y)[trial], g, trial

    @staticmethod
    def concatenate(parts: Sequence[TrainCrops]) -> TrainCrops:
        """Crops of several recordings, in order (their crop starts must agree)."""
        _, n_crops, n_channels, n_times = parts[0].data.shape
        check_crop_values(sum(len(p) for p in parts), n_crops, n_channels * n_times)
        return TrainCrops(
            np.concatenate([p.data for p in parts], axis=0),
            np.concatenate([p.valid for p in parts], axis=0),
            parts[0].starts,
        )


def cut_crops(
    data: np.ndarray,
    sfreq: float,
    onsets: np.ndarray,
    starts: Sequence[float],
    length: float,
    *,
    bad_spans: np.ndarray | None = None,
) -> TrainCrops:
    """Cut ``[marker + start, marker + start + length)`` for every start and marker.

    Each crop has ``round(length * sfreq)`` samples, as an epoch of that length. A crop
    past either end of ``data`` or overlapping ``bad_spans`` is marked invalid (the trial
    keeps its other crops).
    """
    onsets = np.asarray(onsets, dtype=np.int64)
    n_times = round(float(length) * float(sfreq))
    check_crop_values(onsets.size, len(starts), data.shape[0] * n_times)
    out = np.zeros((onsets.size, len(starts), data.shape[0], n_times), dtype=np.float64)
    valid = np.zeros((onsets.size, len(starts)), dtype=bool)
    spans = None
    if bad_spans is not None and len(bad_spans):
        spans = np.asarray(bad_spans, dtype=np.int64).reshape(-1, 2)
    for k, t0 in enumerate(starts):
        first = onsets + round(float(t0) * float(sfreq))
        ok = (first >= 0) & (first + n_times <= data.shape[1])
        if spans is not None:
            # As cut_epochs: [s, s + n) overlaps [a, b) when s < b and a < s + n.
            overlap = (first[:, None] < spans[None, :, 1]) & (
                spans[None, :, 0] < first[:, None] + n_times
            )
            ok &= ~overlap.any(axis=1)
        rows = np.flatnonzero(ok)
        idx = first[rows, None] + np.arange(n_times)[None, :]
        out[rows, k] = data[:, idx].transpose(1, 0, 2)
        valid[rows, k] = True
    return TrainCrops(out, valid, np.asarray(starts, dtype=np.float64))


def check_crop_values(n_trials: int, n_crops: int, values_per_crop: int) -> None:
    """Refuse training crops above :data:`~acquisition.limits.MAX_CROP_VALUES` values.

    Raises
    ------
    LimitError
        Naming ``epochs.train_crops``, the size it would make and what to change.
    """
    values = float(n_trials) * float(n_crops) * float(values_per_crop)
    if values > MAX_CROP_VALUES:
        raise LimitError(
            f"epochs.train_crops: {n_crops} crops a trial x {n_trials} trials x "
            f"{values_per_crop} values a crop = {values:.3g} values, above the limit of "
            f"{MAX_CROP_VALUES} ({MAX_CROP_VALUES * 8 // 1024**3} GB as float64); use a larger "
            "step, a shorter stop - start, fewer recordings or channels, or train_crops = false"
        )
