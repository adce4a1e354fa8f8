"""Plots are written to files and are not blank."""

from __future__ import annotations

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
from bci_synthetic import CH, make_recording, paradigm

from bci.pipeline import Pipeline
from bci.plots import (
    band_power_topography_figure,
    plot_band_power_topography,
    plot_confusion_matrix,
    plot_learning_curves,
)


def _not_blank(path):
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    return float(np.std(img[..., :3])) > 0.05  # more than a flat background


def test_confusion_matrix_plot(tmp_path):
    out = plot_confusion_matrix([[5, 1], [2, 4]], ["left", "right"], tmp_path / "cm.png")
    assert out.is_file() and _not_blank(out)


def test_learning_curves_plot(tmp_path):
    curve = {"n_train": [10, 20, 40], "accuracy": [0.5, 0.7, 0.8], "accuracy_std": [0.1, 0.1, 0.05]}
    out = plot_learning_curves(
        tmp_path / "lc.png",
        loss_curve=[1.0, 0.5, 0.3],
        validation_scores=[0.4, 0.6, 0.7],
        curve=curve,
        chance=0.5,
    )
    assert _not_blank(out)


def test_topography_plot_and_skip_without_positions(tmp_path):
    rec = make_recording(seed=0, n_trials=12)
    pipe = Pipeline.for_recording(paradigm(), rec)
    E, y, _ = pipe.epochs_from_recording(rec)
    out = plot_band_power_topography(E, y, CH, rec.sfreq, [[8, 13]], tmp_path / "topo.png")
    assert out is not None and _not_blank(out)
    none = plot_band_power_topography(
        E, y, ["ch1", "ch2", "ch3", "ch4"], rec.sfreq, [[8, 13]], tmp_path / "skip.png"
    )
    assert none is None and not (tmp_path / "skip.png").exists()


def test_topography_has_a_colour_bar_per_band_and_titles_that_do_not_collide():
    rec = make_recording(seed=0, n_trials=12)
    pipe = Pipeline.for_recording(paradigm(), rec)
    E, y, _ = pipe.epochs_from_recording(rec)
    fig = band_power_topography_figure(E, y, CH, rec.sfreq, [[8, 13], [13, 30]])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 2 and all("dB" in ax.get_ylabel() for ax in bars)
    texts = [fig._suptitle] + [ax.title for ax in fig.axes if ax.get_title()]
    texts += [t for ax in fig.axes for t in ax.texts if t.get_text().endswith("Hz")]
    # The suptitle, a title per class, a label per band.
    assert len(texts) == 1 + len(set(y)) + 2
    boxes = [t.get_window_extent(renderer) for t in texts]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), "two titles or labels overlap"
    plt.close(fig)
