"""Shared by the live-session, live-window and calibration tests: a quickly fitted pipeline,
and the online path (``Pipeline.push_windows``) driven chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from acquisition.simulator import graz_cues, simulate_recording
from bci.paradigm import Paradigm
from bci.pipeline import Pipeline

CLASSES = ("left", "right")


def short_paradigm(*, window: float = 0.5, step: float = 0.1) -> Paradigm:
    """Left/right motor imagery with short epochs and windows, for fast tests."""
    return Paradigm.from_dict(
        {
            "classes": {c: c for c in CLASSES},
            "epochs": {"tmin": 0.3, "tmax": 1.5},
            "filter": {"l_freq": 7.0, "h_freq": 30.0},
            "features": {"bands": [[8, 13], [13, 30]]},
            "model": {"kind": "softmax"},
            "online": {"window": window, "step": step},
            "session": {
                "fixation": 0.3,
                "cue": 0.3,
                "imagery": 1.2,
                "rest_min": 0.3,
                "rest_max": 0.5,
                "trials_per_class": 6,
            },
        }
    )


def fitted_pipeline(*, ch_names=None, seed: int = 0, window: float = 0.5) -> Pipeline:
    """A pipeline trained on a simulated left/right recording (easy difficulty)."""
    cues, duration = graz_cues(
        list(CLASSES), 8, seed=seed, fixation=0.3, cue=0.3, imagery=1.2, rest=(0.3, 0.5)
    )
    rec = simulate_recording(
        cues, duration=duration + 0.5, seed=seed, difficulty=0.1, ch_names=ch_names
    )
    return Pipeline(short_paradigm(window=window), rec.info.ch_names, rec.sfreq).fit([rec])


def simulated_replay(seconds: float, *, seed: int = 1, ch_names=None, n_channels=None):
    """A simulated recording alternating left/right every 1.5 s (an ArraySource input)."""
    cues = [(0.2 + 1.5 * k, CLASSES[k % 2]) for k in range(int(seconds / 1.5))]
    return simulate_recording(cues, duration=seconds, seed=seed, difficulty=0.1, ch_names=ch_names)


def push_chunks(
    pipe: Pipeline, data: np.ndarray, times: np.ndarray, sizes: Iterable[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Push ``data`` through ``pipe.push_windows`` in chunks of ``sizes`` (cycled until done).

    Returns ``(t_end, windows)``: the end time of every completed window and the windows,
    shape (n_windows, n_channels, window_samples). The online state is reset first.
    """
    pipe.reset_online()
    sizes = list(sizes)
    ends, wins, pos, k = [], [], 0, 0
    while pos < data.shape[1]:
        n = sizes[k % len(sizes)]
        for t, w in pipe.push_windows(data[:, pos : pos + n], times[pos : pos + n]):
            ends.append(t)
            wins.append(w)
        pos, k = pos + n, k + 1
    shape = (0, pipe.n_channels, pipe.window_samples)
    return np.asarray(ends), (np.stack(wins) if wins else np.empty(shape))
