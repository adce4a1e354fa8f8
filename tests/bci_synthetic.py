"""Synthetic motor-imagery recordings and paradigms shared by the pipeline-layer tests."""

from __future__ import annotations

import numpy as np

from acquisition.recording import Recording
from acquisition.source import SourceInfo
from bci.paradigm import Paradigm

SFREQ = 250.0
CH = ("C3", "Cz", "C4", "Oz")
EFFECT = {"left": (0.2, 1.0, 1.0, 1.0), "right": (1.0, 1.0, 0.2, 1.0), "feet": (1.0, 0.2, 1.0, 1.0)}


def make_recording(seed: int = 0, n_trials: int = 24, dc: float = 3e-3) -> Recording:
    """Alpha rhythm on C3/Cz/C4 that weakens on one channel during each class's imagery."""
    rng = np.random.default_rng(seed)
    n = int((n_trials * 4 + 4) * SFREQ)
    t = np.arange(n) / SFREQ
    data = rng.standard_normal((4, n)) * 4e-6 + dc
    alpha = 1e-5 * np.sin(2 * np.pi * 10 * t)
    gain = np.ones((4, n))
    samples, labels = [], []
    for k in range(n_trials):
        s = int((2 + 4 * k) * SFREQ)
        label = ("left", "right", "feet")[k % 3]
        samples.append(s)
        labels.append(label)
        gain[:, s : s + int(3 * SFREQ)] = np.asarray(EFFECT[label])[:, None]
    data[:3] += alpha * gain[:3]
    info = SourceInfo("synthetic", CH, ("eeg",) * 4, SFREQ)
    return Recording(data, info, np.asarray(samples), labels, start_time=100.0, path="synthetic")


def paradigm(method: str = "bandpower", **features) -> Paradigm:
    return Paradigm.from_dict(
        {
            "classes": {"left": "left", "right": "right", "feet": "feet"},
            "epochs": {"tmin": 0.5, "tmax": 2.5},
            "filter": {"l_freq": 7.0, "h_freq": 30.0, "notch": 50.0},
            "features": {"method": method, "bands": [[8, 13], [13, 30]], **features},
            "model": {"kind": "softmax"},
            "online": {"window": 2.0, "step": 0.1},
        }
    )
