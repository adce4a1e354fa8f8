"""Benchmark plots (matplotlib, Agg): per-subject accuracy per pipeline, and pipeline pairs.

- :func:`plot_subject_accuracy`: a strip plot, one column per pipeline, one dot per
  subject (filled when above chance at p < 0.05), the same subject joined across
  pipelines, with the chance level and the significance threshold.
- :func:`plot_pipeline_pairs`: for every two pipelines, subject accuracy of one against
  the other, with the diagonal: dots above it are subjects the second pipeline did better.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from bci.plots import save_figure

#: Pairs drawn at most; beyond this only the first pipeline against each other one.
MAX_PAIR_PANELS = 28


def _ok(rows: Sequence[dict]) -> list[dict]:
    return [r for r in rows if r["status"] == "ok"]


def plot_subject_accuracy(rows: Sequence[dict], pipelines: Sequence[str], path: str | Path) -> Path:
    """Write the per-subject strip plot of accuracy per pipeline to ``path``."""
    ok = _ok(rows)
    subjects = list(dict.fromkeys(r["subject"] for r in rows))
    n = max(1, len(subjects))
    # A fixed offset per subject (not random): the same subject sits at the same place in
    # every column, so the lines joining it stay readable.
    offset = {s: 0.25 * ((i + 0.5) / n - 0.5) for i, s in enumerate(subjects)}
    fig, ax = plt.subplots(figsize=(1.6 * len(pipelines) + 2.5, 4.5))
    acc = {(r["subject"], r["pipeline"]): r for r in ok}
    for s in subjects:
        xs = [j + offset[s] for j, p in enumerate(pipelines) if (s, p) in acc]
        ys = [float(acc[(s, p)]["accuracy"]) for p in pipelines if (s, p) in acc]
        ax.plot(xs, ys, color="0.8", lw=0.8, zorder=1)
    for j, p in enumerate(pipelines):
        pts = [acc[(s, p)] for s in subjects if (s, p) in acc]
        x = [j + offset[r["subject"]] for r in pts]
        y = [float(r["accuracy"]) for r in pts]
        filled = [r["above_chance"] is True for r in pts]
        color = f"C{j % 10}"
        ax.scatter(
            [a for a, f in zip(x, filled, strict=True) if f],
            [b for b, f in zip(y, filled, strict=True) if f],
            color=color,
            zorder=3,
            s=30,
        )
        ax.scatter(
            [a for a, f in zip(x, filled, strict=True) if not f],
            [b for b, f in zip(y, filled, strict=True) if not f],
            facecolors="none",
            edgecolors=color,
            zorder=3,
            s=30,
        )
        if y:
            ax.hlines(np.mean(y), j - 0.3, j + 0.3, color="k", lw=2, zorder=4)
    if ok:
        chance = float(np.mean([float(r["chance_level"]) for r in ok]))
        threshold = float(np.mean([float(r["significance_threshold"]) for r in ok]))
        ax.axhline(chance, color="k", ls="--", lw=1, label=f"chance {chance:.2f}")
        ax.axhline(threshold, color="k", ls=":", lw=1, label=f"p < 0.05 above {threshold:.2f}")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xticks(range(len(pipelines)), pipelines, rotation=20, ha="right")
    ax.set_xlim(-0.6, len(pipelines) - 0.4)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("cross-validated accuracy")
    ax.set_title(f"Accuracy per subject ({len(subjects)} subjects; bar = mean; hollow = n.s.)")
    return save_figure(fig, path)


def plot_pipeline_pairs(
    rows: Sequence[dict], pipelines: Sequence[str], path: str | Path
) -> Path | None:
    """Write the pipeline-vs-pipeline scatter panels; ``None`` with fewer than 2 pipelines."""
    if len(pipelines) < 2:
        return None
    pairs = [(a, b) for i, a in enumerate(pipelines) for b in pipelines[i + 1 :]]
    if len(pairs) > MAX_PAIR_PANELS:
        pairs = [(pipelines[0], b) for b in pipelines[1:]][:MAX_PAIR_PANELS]
    cols = min(3, len(pairs))
    nrows = math.ceil(len(pairs) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.6 * cols, 3.5 * nrows), squeeze=False)
    ok = _ok(rows)
    acc = {(r["subject"], r["pipeline"]): float(r["accuracy"]) for r in ok}
    chance = float(np.mean([float(r["chance_level"]) for r in ok])) if ok else None
    subjects = list(dict.fromkeys(r["subject"] for r in rows))
    for ax, (a, b) in zip(axes.flat, pairs, strict=False):
        both = [s for s in subjects if (s, a) in acc and (s, b) in acc]
        x = [acc[(s, a)] for s in both]
        y = [acc[(s, b)] for s in both]
        ax.plot([0, 1], [0, 1], color="0.6", lw=1)
        if chance is not None:
            ax.axvline(chance, color="0.8", ls="--", lw=1)
            ax.axhline(chance, color="0.8", ls="--", lw=1)
        ax.scatter(x, y, s=25, color="C0", zorder=3)
        for s, xi, yi in zip(both, x, y, strict=True):
            ax.annotate(s, (xi, yi), fontsize=6, xytext=(2, 2), textcoords="offset points")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel(a)
        ax.set_ylabel(b)
        above = sum(1 for xi, yi in zip(x, y, strict=True) if yi > xi)
        ax.set_title(f"{b} better on {above}/{len(both)}", fontsize=9)
    for ax in list(axes.flat)[len(pairs) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return save_figure(fig, path)
