"""An axis for values given as log10: ticks at decades, labelled in plain numbers."""

from __future__ import annotations

import numpy as np

from gui.qt import pg


def decade_label(value: float) -> str:
    """``0.01``, ``1``, ``1000`` for 10^-2, 10^0, 10^3; ``1e-05``-style outside 1e-3..1e5."""
    number = 10.0**value
    if 1 <= number < 1e5:
        return f"{number:.0f}"
    if 1e-3 <= number < 1:
        return f"{number:.3g}"
    return f"{number:.0e}"


class DecadeAxis(pg.AxisItem):
    """An axis whose data are already log10 values (no log transform, no SI prefix).

    The curves are given ``log10(x)``; this axis only labels them: pyqtgraph's log mode
    places the ticks at decades (and 2..9 times a decade when zoomed in), and the labels
    read as the quantity itself (``0.1``, ``1``, ``10``), so the unit in the axis label
    applies unscaled.
    """

    def __init__(self, orientation: str, **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)
        self.logMode = True

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        # Over more than a decade, label 1, 2 and 5 times each decade; the other minor
        # ticks stay as marks (nine labels a decade collide).
        lo, hi = sorted(self.range)
        keep = (1, 2, 5) if hi - lo > 1.0 else range(1, 10)
        out = []
        for v in values:
            mantissa = round(10.0 ** (v - np.floor(v + 1e-9)))
            out.append(decade_label(v) if mantissa in keep else "")
        return out
