"""Live accuracy against what the simulated person was really doing."""

from __future__ import annotations

from bci.live_accuracy import LiveAccuracy


def test_live_accuracy_scores_only_windows_inside_one_task() -> None:
    acc = LiveAccuracy(("left", "right"), window=1.0)
    acc.add_markers([0.0, 5.0, 10.0], ["left", "rest", "right"])
    times = [0.5, 2.0, 4.0, 5.5, 7.0, 11.5, 12.0]
    probas = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.6, 0.4]]
    acc.add_outputs(times, probas)
    acc.score_until(100.0)
    # 0.5 and 5.5 straddle a change; 7.0 is rest; the rest are scored.
    assert acc.scored == [
        ("left", "left"),
        ("left", "right"),
        ("right", "right"),
        ("right", "left"),
    ]
    assert acc.accuracy == 0.5
    assert acc.per_class() == {"left": 0.5, "right": 0.5}
