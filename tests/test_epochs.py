"""Tests of bci.epochs: event selection (strings, codes, trial occurrences) and cutting."""

from __future__ import annotations

import numpy as np

from bci.epochs import cut_epochs, epoch_samples, find_events


def test_string_and_integer_markers_map_to_classes():
    ev = find_events(
        [10, 20, 30, 40], ["2.000", "T0", "3", "left"], {"a": "2", "b": "3", "c": "left"}
    )
    assert ev.samples.tolist() == [10, 30, 40]
    assert ev.labels.tolist() == ["a", "b", "c"]


def test_trial_marker_selects_nth_class_marker():
    markers = ["1111", "1001", "2", "1001", "2", "9", "1111", "1001", "3", "1001", "3", "9"]
    samples = list(range(0, 120, 10))
    ev = find_events(
        samples, markers, {"left": "2", "right": "3"}, trial_marker="1111", occurrence=2
    )
    assert ev.samples.tolist() == [40, 100]
    assert ev.labels.tolist() == ["left", "right"]


def test_cut_epochs_positions_and_drops_at_the_edges():
    sfreq = 100.0
    data = np.tile(np.arange(1000.0), (2, 1))
    ev = find_events([5, 100, 500, 980], ["a", "b", "a", "b"], {"a": "a", "b": "b"})
    ep = cut_epochs(data, sfreq, ev, -0.1, 0.4)
    offset, n = epoch_samples(sfreq, -0.1, 0.4)
    assert (offset, n) == (-10, 50)
    assert ep.data.shape == (2, 2, 50)
    assert ep.n_dropped == 2 and ep.dropped_onsets == [5, 980]
    assert ep.data[0, 0, 0] == 90.0 and ep.data[1, 1, -1] == 539.0
    assert ep.labels.tolist() == ["b", "a"] and ep.counts() == {"b": 1, "a": 1}
