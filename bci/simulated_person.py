"""A simulated person who follows a session's cues on a simulated headset."""

from __future__ import annotations

from acquisition.simulator import SimulatedHeadset
from bci.calibration import CalibrationEvent


class SimulatedPerson:
    """Makes the simulated headset's person follow a session's cues."""

    def __init__(self, headset: SimulatedHeadset) -> None:
        self.headset = headset
        self.doing: str | None = None

    def follow(self, event: CalibrationEvent) -> None:
        """Start the cued task at the cue; rest when the trial's rest begins."""
        if event.phase == "cue" and event.label is not None:
            self.doing = event.label
            self.headset.set_state(event.label)
        elif event.phase in ("rest", "paused", "done") and self.doing is not None:
            self.doing = None
            # "rest" (not None) so the simulator marks the change on its marker stream.
            self.headset.set_state("rest")


__all__ = ["SimulatedPerson"]
