"""The standard 10-20 montage (names and 3-D positions), shared by files and the simulator."""

from __future__ import annotations

from functools import cache

import numpy as np

#: MNE renamed its template montages in 1.13; the first one this MNE has is used.
_MONTAGE_NAMES = ("colin27_1020", "standard_1020")


@cache
def standard_1020_positions() -> dict[str, np.ndarray]:
    """Return ``{name: xyz position in metres}`` for the standard 10-20 electrode names."""
    import mne

    available = set(mne.channels.get_builtin_montages())
    name = next(n for n in _MONTAGE_NAMES if n in available)
    montage = mne.channels.make_standard_montage(name)
    return {
        k: np.asarray(v, dtype=np.float64) for k, v in montage.get_positions()["ch_pos"].items()
    }


@cache
def standard_name_map() -> dict[str, str]:
    """Return ``{lowercase name: standard spelling}`` (``"fc5"`` -> ``"FC5"``)."""
    return {n.lower(): n for n in standard_1020_positions()}
