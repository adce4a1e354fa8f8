"""The demo's plan: how a demo of a given length is split between calibration and live use."""

from __future__ import annotations

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
