"""Frame rate and sample-to-screen latency of the live window at 64 channels, 250 Hz.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui.py [--seconds 20]``

A 64-channel simulated headset streams in real time on LSL (Player); the live window
classifies it (LSLSource -> LiveSession -> pipeline) and draws bars, 30 s of probability
traces and a 10 s scope, driven by its 60 Hz timer. The peer, in the same run and on the
same kind of stream, is a bare pyqtgraph PlotWidget drawing the same 10 s of 64 channels
the obvious way (one curve per channel, every sample, ``setData`` each frame).

Printed: frames per second (paint events of the plots), sample-to-screen latency
(newest sample's LSL timestamp to the paint that showed it; for our window also the
probability of a window to the paint of the bars), and the ratios ours / peer.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pylsl

from acquisition.lsl_source import LSLSource
from acquisition.montage import standard_1020_positions
from acquisition.player import Player
from acquisition.simulator import SimulatedHeadset, graz_cues, simulate_recording
from bci.live_session import LatencyTracker, LiveSession
from bci.paradigm import builtin_paradigm
from bci.pipeline import Pipeline
from gui.live_window import LiveWindow
from gui.probability_bars import PaintedPlotWidget
from gui.qt import QtCore, app

SFREQ = 250.0
SCOPE_SECONDS = 10.0


def montage_64() -> list[str]:
    """64 standard 10-20 names covering the head."""
    skip = {
        "AF9",
        "AF10",
        "F9",
        "F10",
        "FT9",
        "FT10",
        "T9",
        "T10",
        "TP9",
        "TP10",
        "P9",
        "P10",
        "PO9",
        "PO10",
    }
    names = [n for n in standard_1020_positions() if n not in skip]
    return names[:64]


def fitted_pipeline(ch_names: list[str]) -> Pipeline:
    paradigm = builtin_paradigm("demo")
    cues, duration = graz_cues(
        list(paradigm.classes), 6, seed=0, fixation=0.5, cue=0.5, imagery=2.5, rest=(0.5, 0.8)
    )
    rec = simulate_recording(cues, duration=duration + 1, seed=0, difficulty=0.2, ch_names=ch_names)
    return Pipeline(paradigm, rec.info.ch_names, rec.sfreq).fit([rec])


def run_for(seconds: float) -> None:
    """Run Qt's event loop for ``seconds`` (a local loop: app.quit() would close windows)."""
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def run_ours(name: str, pipeline: Pipeline, seconds: float) -> dict:
    app()
    source = LSLSource(name=name, timeout=5.0)
    session = LiveSession(source, pipeline)
    window = LiveWindow(session)
    window.resize(1600, 1000)
    window.start()
    # Warm up (fill the buffers), then measure.
    run_for(3.0)
    frames0, t0 = window.frames, time.monotonic()
    session.screen_latency.values.clear()
    session.latency.values.clear()
    window.scope_latency.values.clear()
    run_for(seconds)
    elapsed = time.monotonic() - t0
    frames = window.frames - frames0
    window.stop()
    window.close()
    session.close()
    return {
        "fps": frames / elapsed,
        "scope": window.scope_latency,
        "probability": session.latency,
        "screen": session.screen_latency,
    }


def run_peer(name: str, n_channels: int, seconds: float) -> dict:
    app()
    source = LSLSource(name=name, timeout=5.0)
    n = int(SCOPE_SECONDS * SFREQ)
    buffer = np.zeros((n_channels, n))
    widget = PaintedPlotWidget()
    widget.resize(1600, 1000)
    x = np.arange(n) / SFREQ - SCOPE_SECONDS
    curves = [widget.plot(x, buffer[i] + 100 * i) for i in range(n_channels)]
    state = {"frames": 0, "pending": None}
    latency = LatencyTracker()

    def tick() -> None:
        data, ts = source.pull()
        if ts.size:
            k = min(ts.size, n)
            buffer[:, :-k] = buffer[:, k:]
            buffer[:, -k:] = data[:, -k:] * 1e6
            if state["pending"] is None:
                state["pending"] = float(ts[-1])
        for i, curve in enumerate(curves):
            curve.setData(x, buffer[i] + 100 * i)

    def painted() -> None:
        state["frames"] += 1
        if state["pending"] is not None:
            latency.add(pylsl.local_clock() - state["pending"])
            state["pending"] = None

    widget.painted.connect(painted)
    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    timer.setInterval(16)
    timer.timeout.connect(tick)
    widget.show()
    timer.start()
    run_for(3.0)
    frames0, t0 = state["frames"], time.monotonic()
    latency.values.clear()
    run_for(seconds)
    elapsed = time.monotonic() - t0
    timer.stop()
    widget.close()
    source.close()
    return {"fps": (state["frames"] - frames0) / elapsed, "scope": latency}


def ms(tracker: LatencyTracker) -> str:
    return f"median {1e3 * tracker.median():6.1f} ms, p95 {1e3 * tracker.p95():6.1f} ms (n={tracker.count})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    ch_names = montage_64()
    pipeline = fitted_pipeline(ch_names)
    name = f"bench-gui-{uuid.uuid4().hex[:6]}"
    headset = SimulatedHeadset(ch_names=ch_names, sfreq=SFREQ, realtime=True, seed=1, name=name)
    with Player(headset, name=name):
        ours = run_ours(name, pipeline, args.seconds)
        peer = run_peer(name, len(ch_names), args.seconds)
    print(f"live window, {len(ch_names)} channels at {SFREQ:g} Hz, {args.seconds:g} s offscreen")
    print(f"  ours: {ours['fps']:5.1f} fps | scope sample->screen {ms(ours['scope'])}")
    print(f"        window end->probability {ms(ours['probability'])}")
    print(f"        window end->bars on screen {ms(ours['screen'])}")
    print(
        f"  peer (bare PlotWidget, 64 curves, every sample): {peer['fps']:5.1f} fps | scope sample->screen {ms(peer['scope'])}"
    )
    print(
        f"  ratio ours/peer: fps x{ours['fps'] / max(peer['fps'], 1e-9):.2f}, "
        f"scope latency median x{ours['scope'].median() / peer['scope'].median():.2f}"
    )


if __name__ == "__main__":
    main()
