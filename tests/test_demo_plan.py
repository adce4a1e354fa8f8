"""The demo's plan: how a demo of a given length is split between calibration and live use."""

from __future__ import annotations

import pytest

from bci.demo_plan import plan_demo


def test_demo_plan_fits_the_budget_and_keeps_five_trials_per_class() -> None:
    short, default = plan_demo(30), plan_demo(90)
    assert short.classes == ("left", "right") and short.trials_per_class >= 5
    assert len(default.classes) == 3 and default.trials_per_class >= 5
    for plan, seconds in ((short, 30), (default, 90)):
        assert plan.calibration_seconds < seconds - 9
        ep = plan.paradigm.epochs
        assert ep.tmax <= plan.timings.cue + plan.timings.task + 1e-9
        assert plan.paradigm.online.window <= ep.tmax - ep.tmin + 1e-9
    assert default.timings.task > short.timings.task


def test_a_30_s_demo_leaves_at_least_15_s_live_and_says_how_long_it_takes() -> None:
    for result_seconds in (0.0, 8.0):  # in the terminal, in windows
        plan = plan_demo(30, result_seconds=result_seconds)
        assert plan.live_seconds >= 15.0
        assert plan.result_seconds == result_seconds
        # It runs over 30 s (5 trials per class, the result screens) and says so.
        assert plan.expected_seconds == pytest.approx(
            9.0 + plan.calibration_seconds + 2 * result_seconds + plan.live_seconds
        )
    assert plan_demo(90).expected_seconds == pytest.approx(90.0)  # a long one fits
