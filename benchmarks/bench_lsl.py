"""LSL throughput and latency of ``LSLSource`` against a plain pylsl inlet (the peer).

1. End-to-end latency push -> pull on loopback: a pusher thread sends one sample every
   2 ms stamped with ``local_clock()`` at push; the consumer polls every 0.2 ms and
   measures ``local_clock()`` at arrival minus the stamp. Ours: ``LSLSource.pull`` (float64
   volts, health, conditions; dejitter off so the raw stamp is compared). Peer:
   ``StreamInlet.pull_chunk`` in a loop.
2. Effective rate at 10x replay of a 64-channel recording (PhysioNet eegbci S001R04,
   64 ch 160 Hz, first 60 s, via ``FileSource``; synthetic 64 ch 250 Hz when the data is
   absent), pulled the way the GUI does (every 1/60 s). Counts samples, checks the sample
   count and reports samples per wall-clock second and the final lag, for ours and the peer.

Run: ``.venv/bin/python benchmarks/bench_lsl.py``
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pylsl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from acquisition import ArraySource, Recording, SourceInfo  # noqa: E402
from acquisition.lsl_source import LSLSource  # noqa: E402
from acquisition.player import Player  # noqa: E402

EEGBCI = ROOT.parent / "shared/data/eegbci/MNE-eegbci-data/files/eegmmidb/1.0.0/S001/S001R04.edf"


#: Samples at the start of a latency run reported separately (connection start-up).
WARMUP = 250


def latency_run(consumer: str, n: int = 1500) -> np.ndarray:
    name = f"bench-lat-{uuid.uuid4().hex[:8]}"
    info = pylsl.StreamInfo(name, "EEG", 8, 500.0, pylsl.cf_float32, name)
    outlet = pylsl.StreamOutlet(info)
    if consumer == "ours":
        src = LSLSource(name=name, dejitter=False)

        def pull():
            return src.pull()[1]

        close = src.close
    else:
        inlet = pylsl.StreamInlet(
            pylsl.resolve_bypred(f"name='{name}'", 1, 5.0)[0], processing_flags=pylsl.proc_clocksync
        )
        inlet.open_stream(5.0)
        buf = np.empty((1024, 8), dtype=np.float32)

        def pull():
            return inlet.pull_chunk(0.0, 1024, dest_obj=buf, as_numpy=True)[1]

        close = inlet.close_stream
    stop = threading.Event()

    def pusher():
        sample = np.zeros((1, 8), dtype=np.float32)
        for _ in range(n):
            outlet.push_chunk(sample, [pylsl.local_clock()])
            time.sleep(0.002)
        stop.set()

    lat: list[float] = []
    threading.Thread(target=pusher, daemon=True).start()
    deadline = time.monotonic() + 30
    while (not stop.is_set() or len(lat) < n) and time.monotonic() < deadline:
        ts = pull()
        now = pylsl.local_clock()
        lat.extend(now - np.asarray(ts))
        time.sleep(0.0002)
    close()
    return np.array(lat) * 1e3


def load_64ch() -> tuple[Recording, str]:
    if EEGBCI.exists():
        from acquisition.file_source import load_recording

        rec = load_recording(EEGBCI)
        n = int(60 * rec.sfreq)
        keep = rec.marker_samples < n
        cut = Recording(
            rec.data[:, :n],
            rec.info,
            rec.marker_samples[keep],
            [m for m, k in zip(rec.marker_labels, keep, strict=True) if k],
            path=str(EEGBCI),
        )
        return (
            cut,
            f"eegbci S001R04 (PhysioNet), first 60 s, {rec.info.n_channels} ch {rec.sfreq:g} Hz",
        )
    sfreq, n = 250.0, 250 * 60
    rng = np.random.default_rng(0)
    names = tuple(f"E{i}" for i in range(64))
    info = SourceInfo("synthetic", names, ("eeg",) * 64, sfreq)
    return Recording(rng.normal(0, 20e-6, (64, n)), info), "synthetic 64 ch 250 Hz, 60 s"


def replay_run(rec: Recording, consumer: str, speed: float = 10.0) -> dict:
    name = f"bench-rate-{uuid.uuid4().hex[:8]}"
    player = Player(ArraySource(rec), name=name, speed=speed)
    if consumer == "ours":
        src = LSLSource(name=name)

        def pull():
            return src.pull()[1].size

        def lag():
            return src.health.lag_seconds
    else:
        inlet = pylsl.StreamInlet(
            pylsl.resolve_bypred(f"name='{name}'", 1, 5.0)[0],
            max_buflen=100,
            processing_flags=pylsl.proc_clocksync,
        )
        inlet.open_stream(5.0)
        buf = np.empty((1 << 15, rec.info.n_channels), dtype=np.float32)
        last = {"t": np.nan}

        def pull():
            ts = inlet.pull_chunk(0.0, 1 << 15, dest_obj=buf, as_numpy=True)[1]
            if len(ts):
                last["t"] = ts[-1]
            return len(ts)

        def lag():
            return pylsl.local_clock() - last["t"]

    player.start()
    started = time.monotonic() + 0.05  # the player stamps its first sample 50 ms ahead
    got, first, lags, last_arrival = 0, None, [], None
    deadline = time.monotonic() + rec.duration / speed + 20
    while got < rec.n_samples and time.monotonic() < deadline:
        k = pull()
        if k and first is None:
            first = time.monotonic()
        got += k
        if k:
            last_arrival = time.monotonic()
            lags.append(lag())
        time.sleep(1 / 60)
    elapsed = last_arrival - started
    player.close()
    if consumer == "ours":
        health = src.health
        src.close()
        extra = {"dropped (timestamps)": health.dropped_samples}
    else:
        inlet.close_stream()
        extra = {}
    return {
        "received": got,
        "sent": rec.n_samples,
        "rate_hz": got / elapsed if elapsed > 0 else float("nan"),
        "lag_ms_median": 1e3 * float(np.median(lags)),
        "lag_ms_max": 1e3 * float(np.max(lags)),
        **extra,
    }


def main() -> None:
    print(f"pylsl {pylsl.__version__}, liblsl {pylsl.library_version()}")
    print("\n1. latency push -> pull on loopback (ms), 1500 samples at 500 Hz, 8 ch")
    res = {}
    for consumer in ("ours", "peer"):
        full = latency_run(consumer)
        # The first samples wait for liblsl's first clock-offset query (clocksync): report
        # them apart from the steady state.
        lat = full[WARMUP:]
        res[consumer] = lat
        print(
            f"  {consumer:5s} ({'LSLSource.pull' if consumer == 'ours' else 'pylsl pull_chunk'}): "
            f"median {np.median(lat):.3f}  p99 {np.percentile(lat, 99):.3f}  max {lat.max():.3f}  "
            f"n={lat.size}; first {WARMUP} samples: max {full[:WARMUP].max():.1f}"
        )
    print(
        f"  ratio ours/peer: median {np.median(res['ours']) / np.median(res['peer']):.2f}, "
        f"p99 {np.percentile(res['ours'], 99) / np.percentile(res['peer'], 99):.2f}"
    )
    rec, what = load_64ch()
    target = 10 * rec.sfreq
    print(f"\n2. 10x replay of {what}: target {target:g} samples/s, consumer pulls at 60 Hz")
    out = {}
    for consumer in ("ours", "peer"):
        r = replay_run(rec, consumer)
        out[consumer] = r
        print(f"  {consumer:5s}: {r}")
    print(
        f"  effective rate held: ours {out['ours']['rate_hz'] / target:.3f} x target, "
        f"peer {out['peer']['rate_hz'] / target:.3f} x target; "
        f"ratio ours/peer {out['ours']['rate_hz'] / out['peer']['rate_hz']:.3f}"
    )


if __name__ == "__main__":
    main()
