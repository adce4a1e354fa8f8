"""Soak: an hour of 64-channel 250 Hz signal at 10x through the full live path (issue 6 item 5).

Player (a looped simulated recording plus a sample-counter channel) -> LSL -> LSLSource ->
counter tap -> LiveSession with a trained pipeline. Every ``--every`` seconds of wall time it
samples this process's resident memory (``VmRSS`` from ``/proc/self/status``: player,
inlet and classifier all live here) and the lag behind live (LSL clock minus the timestamp
of the last sample pulled). At the end it prints memory growth (mean of the last quartile of
samples against the first), the largest lag and its trend (slope of a line fitted to the lag
over time, and last-quartile mean against first), and the samples lost, duplicated or
reordered according to the counter channel.

Peer in the same run: the rate at which samples arrive (10 x 250 Hz) against the rate the
live path consumed them (ratio 1.00 = kept up).

Run: ``.venv/bin/python benchmarks/bench_soak.py [--minutes 60] [--speed 10]``
(60 minutes of signal take ~6 minutes of wall time at 10x).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pylsl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from live_helpers import fitted_pipeline, simulated_replay  # noqa: E402
from reliability_helpers import (  # noqa: E402
    CH64,
    CounterTap,
    LoopingCounterSource,
    vmrss_kib,
)

from acquisition.lsl_source import LSLSource  # noqa: E402
from acquisition.player import Player  # noqa: E402
from bci.live_session import LiveSession  # noqa: E402


def soak(
    minutes: float,
    speed: float,
    *,
    every: float = 3.0,
    window: float = 1.0,
    loop_seconds: float = 60.0,
    verbose: bool = True,
) -> dict:
    """Run the soak and return its figures (also used, shortened, by tests/test_soak.py)."""
    pipeline = fitted_pipeline(ch_names=CH64, window=window)
    loop = simulated_replay(loop_seconds, ch_names=CH64)
    sfreq = loop.sfreq
    total = round(minutes * 60 * sfreq)
    name = f"soak-{uuid.uuid4().hex[:8]}"
    samples: list[tuple[float, int, float]] = []  # (wall seconds, rss KiB, lag seconds)
    n_probs = 0
    events: dict[str, int] = {}
    player = Player(LoopingCounterSource(loop, total), name=name, speed=speed)
    # Subscribe before the first push: LSL gives an inlet that connects later no backlog, so
    # a player started first could lose its first chunk to a slow resolve (seen under load).
    tap = CounterTap(LSLSource(name=name, timeout=10.0, marker_name=player.marker_name))
    with player.start():
        session = LiveSession(tap, pipeline)
        start = time.monotonic()
        next_sample = start + every
        quiet_since = None
        while True:
            update = session.step()
            n_probs += update.prob_times.size
            for ev in update.events:
                events[ev.kind] = events.get(ev.kind, 0) + 1
            now = time.monotonic()
            if now >= next_sample and tap.received:
                next_sample += every
                health = tap.health
                lag = pylsl.local_clock() - health.last_timestamp
                samples.append((now - start, vmrss_kib(), lag))
                if verbose:
                    print(
                        f"[{now - start:6.1f} s] signal {tap.received / sfreq / 60:5.1f} min, "
                        f"rss {samples[-1][1] / 1024:7.1f} MiB, lag {lag * 1000:6.1f} ms, "
                        f"probabilities {n_probs}",
                        flush=True,
                    )
            if tap.last == total - 1:
                break
            if update.timestamps.size:
                quiet_since = None
            else:
                if not player.running:
                    quiet_since = quiet_since or now
                    if now - quiet_since > 5.0:
                        break  # the player finished and nothing more comes: samples were lost
                time.sleep(0.002)  # pacing the poll loop, not a wait for data
        wall = time.monotonic() - start
        health = tap.health
        session.close()
    t, rss, lag = (np.array(col, dtype=float) for col in zip(*samples, strict=True))
    q = max(1, len(samples) // 4)
    slope = float(np.polyfit(t, lag, 1)[0]) if len(samples) >= 2 else float("nan")
    return {
        "signal_minutes": tap.received / sfreq / 60,
        "wall_seconds": wall,
        "channels": len(CH64),
        "sfreq": sfreq,
        "speed": speed,
        "sent": total,
        "received": tap.received,
        "lost": tap.missing + (total - tap.received),
        "missing_inside": tap.missing,
        "backwards": tap.backwards,
        "probabilities": n_probs,
        "expected_probabilities": (total - pipeline.window_samples) // pipeline.step_samples + 1,
        "rss_first_mib": float(rss[:q].mean() / 1024),
        "rss_last_mib": float(rss[-q:].mean() / 1024),
        "rss_growth_mib": float((rss[-q:].mean() - rss[:q].mean()) / 1024),
        "lag_max_s": float(lag.max()),
        "lag_median_s": float(np.median(lag)),
        "lag_first_quartile_s": float(lag[:q].mean()),
        "lag_last_quartile_s": float(lag[-q:].mean()),
        "lag_slope_s_per_hour": slope * 3600,
        "dropped_by_health": health.dropped_samples,
        "events": events,
        "consumed_vs_arrival": (tap.received / wall) / (sfreq * speed),
        "n_samples": len(samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="minutes of signal")
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=3.0, help="seconds between samples")
    args = parser.parse_args()
    r = soak(args.minutes, args.speed, every=args.every)
    print()
    print(
        f"soak: {r['signal_minutes']:.1f} min of {r['channels']} ch x {r['sfreq']:g} Hz at "
        f"{r['speed']:g}x in {r['wall_seconds']:.0f} s wall"
    )
    print(
        f"samples sent {r['sent']}, received {r['received']}, lost {r['lost']} "
        f"(inside the stream {r['missing_inside']}), duplicated/reordered {r['backwards']}, "
        f"health dropped {r['dropped_by_health']}"
    )
    print(
        f"probabilities {r['probabilities']} (expected {r['expected_probabilities']}); "
        f"events {r['events'] or 'none'}"
    )
    print(
        f"memory (VmRSS): first quartile {r['rss_first_mib']:.1f} MiB, last quartile "
        f"{r['rss_last_mib']:.1f} MiB, growth {r['rss_growth_mib']:+.1f} MiB"
    )
    print(
        f"lag behind live: median {r['lag_median_s'] * 1000:.1f} ms, max "
        f"{r['lag_max_s'] * 1000:.1f} ms; first quartile {r['lag_first_quartile_s'] * 1000:.1f} "
        f"ms, last quartile {r['lag_last_quartile_s'] * 1000:.1f} ms; trend "
        f"{r['lag_slope_s_per_hour'] * 1000:+.1f} ms per hour of wall time"
    )
    print(
        f"consumed / arrival rate: {r['consumed_vs_arrival']:.3f} (1.000 = the live path kept up "
        f"with {r['speed']:g}x)"
    )


if __name__ == "__main__":
    main()
