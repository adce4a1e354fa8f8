"""The probability history, offscreen: markers named by class, labels that never overlap,
the legend outside the traces."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from gui.probability_traces import ProbabilityTraces
from gui.qt import app

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/gui_shots")
FISTS_FEET = {"T1": "fists", "T2": "feet"}  # as feet_fists_eegbci.toml maps them


def traces(**kwargs) -> ProbabilityTraces:
    app()
    widget = ProbabilityTraces(("fists", "feet"), **kwargs)
    widget.resize(900, 330)
    widget.show()
    app().processEvents()
    return widget


def test_markers_are_labelled_with_their_class_and_other_markers_are_not() -> None:
    widget = traces(marker_names=FISTS_FEET)
    widget.add_markers(np.array([1.0, 5.0, 9.0, 13.0]), ["T0", "T1", "T0", "T2"])
    widget.refresh(20.0)
    assert widget.marker_labels == ["", "fists", "", "feet"]
    assert len(widget.label_items) == 2
    # Without a mapping, a marker is shown as it came.
    plain = traces(marker_names=None)
    plain.add_markers(np.array([1.0, 5.0]), ["T0", "T1"])
    assert plain.marker_labels == ["T0", "T1"]


def test_marker_labels_never_overlap_and_crowded_ones_are_dropped() -> None:
    widget = traces(marker_names=FISTS_FEET)
    times = 100.0 + np.arange(24) * 0.25  # a marker every 0.25 s: far too many for one row
    widget.add_markers(times, ["T1", "T2"] * 12)
    widget.refresh(times[-1] + 1.0)
    app().processEvents()
    widget.grab().save(str(SHOTS / "traces_crowded_markers.png"))
    labels = widget.label_items
    assert 3 <= len(labels) < 24  # staggered on the rows, the rest dropped
    rows = {round(item.orthoPos, 2) for item in labels}
    assert len(rows) >= 2
    rects = [item.sceneBoundingRect() for item in labels]
    for a, b in combinations(rects, 2):
        assert not a.intersects(b), (a, b)


def test_the_legend_sits_above_the_traces_not_on_them() -> None:
    widget = traces(marker_names=FISTS_FEET, smoothing=0.5)
    item = widget.getPlotItem()
    assert item.legend is None  # no legend box inside the plot area
    title = item.titleLabel
    assert "fists" in widget.legend_html and "feet" in widget.legend_html
    assert "smoothed, 0.5 s" in widget.legend_html
    view = widget.getViewBox().sceneBoundingRect()
    assert title.isVisible() and title.sceneBoundingRect().bottom() <= view.top() + 1
