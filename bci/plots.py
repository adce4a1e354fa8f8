"""Evaluation plots written to files (matplotlib's Agg backend: no display needed).

- :func:`plot_confusion_matrix`: counts and row percentages, rows true, columns predicted.
- :func:`plot_learning_curves`: the model's training loss (and validation score) per
  iteration, and cross-validated accuracy against the number of training epochs.
- :func:`plot_band_power_topography`: per class and band, the class's mean log band power
  minus the mean over classes, on the scalp (MNE topomap, standard 10-20 positions);
  channels without a standard position are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import matplotlib.figure

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from scipy.signal import welch

from bci.errors import BCIError


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` to ``path`` (folders made as needed) and close it; return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out


def plot_confusion_matrix(
    cm: Sequence[Sequence[int]] | np.ndarray,
    classes: Sequence[str],
    path: str | Path,
    *,
    title: str = "Cross-validated confusion matrix",
) -> Path:
    """Write a confusion matrix (rows true, columns predicted) with counts and row %."""
    cm = np.asarray(cm, dtype=np.float64)
    k = len(classes)
    if cm.shape != (k, k):
        raise BCIError(f"confusion matrix of shape {cm.shape} does not match {k} classes")
    rows = cm.sum(axis=1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    fig, ax = plt.subplots(figsize=(1.2 * k + 2.5, 1.1 * k + 2))
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            color = "white" if frac[i, j] > 0.6 else "black"
            ax.text(
                j, i, f"{int(cm[i, j])}\n{frac[i, j]:.0%}", ha="center", va="center", color=color
            )
    ax.set_xticks(range(k), classes, rotation=30, ha="right")
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046, label="fraction of the true class")
    return save_figure(fig, path)


def plot_learning_curves(
    path: str | Path,
    *,
    loss_curve: Sequence[float] | None = None,
    validation_scores: Sequence[float] | None = None,
    curve: dict | None = None,
    chance: float | None = None,
) -> Path:
    """Write the model's loss per iteration and accuracy vs number of training epochs.

    Parameters
    ----------
    loss_curve, validation_scores : sequence of float, optional
        ``model.loss_curve_`` and ``model.validation_scores_`` of a fitted model.
    curve : dict, optional
        :func:`bci.evaluation.learning_curve` output (``n_train``, ``accuracy``,
        ``accuracy_std``).
    chance : float, optional
        Drawn as a horizontal line on the accuracy panel.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    ax = axes[0]
    if loss_curve:
        ax.plot(np.arange(1, len(loss_curve) + 1), loss_curve, label="training loss")
        ax.set_xlabel("iteration (epoch of the optimiser)")
        ax.set_ylabel("loss")
        if validation_scores:
            ax2 = ax.twinx()
            ax2.plot(
                np.arange(1, len(validation_scores) + 1),
                validation_scores,
                color="tab:orange",
                label="validation score",
            )
            ax2.set_ylabel("validation score", color="tab:orange")
        ax.legend(loc="upper right")
    else:
        ax.text(0.5, 0.5, "the model records no loss curve", ha="center", va="center")
    ax.set_title("Model training")
    ax = axes[1]
    if curve and curve.get("n_train"):
        n = np.asarray(curve["n_train"])
        acc = np.asarray(curve["accuracy"])
        std = np.asarray(curve.get("accuracy_std", np.zeros_like(acc)))
        ax.errorbar(n, acc, yerr=std, marker="o", capsize=3, label="cross-validated")
        if chance is not None:
            ax.axhline(chance, color="grey", ls="--", label=f"chance {chance:.2f}")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("training epochs (trials)")
        ax.set_ylabel("test accuracy")
        ax.legend(loc="lower right")
    else:
        ax.text(0.5, 0.5, "no learning curve computed", ha="center", va="center")
    ax.set_title("Accuracy vs training-set size")
    fig.tight_layout()
    return save_figure(fig, path)


def _positions(ch_names: Sequence[str]) -> tuple[list[int], list[str]]:
    """Indices and standard spellings of the channels that have a 10-20 position."""
    from acquisition.montage import standard_name_map

    names = standard_name_map()
    idx, std = [], []
    for i, ch in enumerate(ch_names):
        key = str(ch).strip().strip(".").lower()  # PhysioNet: "C3..", "Fc5."
        if key in names and names[key] not in std:
            idx.append(i)
            std.append(names[key])
    return idx, std


def plot_band_power_topography(
    E: np.ndarray,
    y: Sequence[str],
    ch_names: Sequence[str],
    sfreq: float,
    bands: Sequence[Sequence[float]],
    path: str | Path,
    *,
    classes: Sequence[str] | None = None,
) -> Path | None:
    """Write scalp maps of each class's log band power relative to the class average.

    Returns ``None`` (nothing written) when fewer than 3 channels have a standard 10-20
    position (e.g. a headset whose channels are named ``ch1``...``ch16``).
    """
    fig = band_power_topography_figure(E, y, ch_names, sfreq, bands, classes=classes)
    return None if fig is None else save_figure(fig, path)


def band_power_topography_figure(
    E: np.ndarray,
    y: Sequence[str],
    ch_names: Sequence[str],
    sfreq: float,
    bands: Sequence[Sequence[float]],
    *,
    classes: Sequence[str] | None = None,
) -> matplotlib.figure.Figure | None:
    """The figure of :func:`plot_band_power_topography` (None without 3 positions):
    classes as column titles, bands as row labels, one colour bar (dB) per band."""
    import mne

    from acquisition.montage import standard_1020_positions

    idx, std = _positions(ch_names)
    if len(idx) < 3:
        return None
    E = np.asarray(E, dtype=np.float64)[:, idx]
    labels = np.asarray([str(v) for v in y], dtype=str)
    classes = [c for c in (classes or sorted(set(labels))) if c in set(labels)]
    f, p = welch(E, fs=sfreq, nperseg=min(E.shape[-1], round(sfreq)), axis=-1)
    bands = [(float(lo), float(hi)) for lo, hi in bands]
    pos = standard_1020_positions()
    montage = mne.channels.make_dig_montage({n: pos[n] for n in std}, coord_frame="head")
    info = mne.create_info(std, sfreq, "eeg")
    info.set_montage(montage)
    # Constrained layout keeps the titles, row labels and colour bars from colliding.
    fig, axes = plt.subplots(
        len(bands),
        len(classes),
        figsize=(2.6 * len(classes) + 1.4, 2.5 * len(bands) + 0.6),
        squeeze=False,
        layout="constrained",
    )
    for b, (lo, hi) in enumerate(bands):
        mask = (f >= lo) & (f <= hi)
        if not mask.any():
            raise BCIError(f"band [{lo:g}, {hi:g}] Hz has no frequency bin at {sfreq:g} Hz")
        logp = 10 * np.log10(p[..., mask].mean(axis=-1))  # dB, (n_epochs, n_ch)
        means = np.stack([logp[labels == c].mean(axis=0) for c in classes])
        rel = means - means.mean(axis=0)
        lim = float(np.abs(rel).max()) or 1.0
        image = None
        for c, cname in enumerate(classes):
            ax = axes[b, c]
            image, _ = mne.viz.plot_topomap(
                rel[c], info, axes=ax, show=False, cmap="RdBu_r", vlim=(-lim, lim), contours=4
            )
            if b == 0:
                ax.set_title(cname, fontsize=10)
            if c == 0:
                # A topomap hides its axes; a text label names the band of the row instead.
                ax.text(
                    -0.08,
                    0.5,
                    f"{lo:g}-{hi:g} Hz",
                    transform=ax.transAxes,
                    rotation=90,
                    ha="right",
                    va="center",
                    fontsize=9,
                )
        # One colour bar per band: the rows share nothing but the colour map.
        fig.colorbar(image, ax=list(axes[b, :]), shrink=0.85, label="dB vs class mean")
    fig.suptitle("Log band power of each class minus the class average", fontsize=10)
    return fig
