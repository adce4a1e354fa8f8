"""A BrainFlow board through ``bci live --headless`` against BrainFlow's own polling loop.

Board: BrainFlow's synthetic board (16 EEG channels at 250 Hz, generated in BrainFlow's
native library). Two consumers, each its own process, alternated (ours, peer, ours, peer):

- **ours**: ``bci live --headless --board synthetic --model M.bci --seconds S``: the
  ``BrainFlowSource`` -> causal filter -> 2 s windows every 0.1 s -> band power -> softmax
  -> probabilities published on LSL and printed. The model is fitted here on a simulated
  recording with the synthetic board's channel names.
- **peer**: a plain loop ``BoardShim.get_board_data()`` every 10 ms (the pacing of
  ``bci live``'s headless loop), doing nothing with the data.

Figures per run: samples received and dropped (from the board's package counter), lag =
age of the newest sample when the consumer is done with it (ours: LiveSession latency,
window end -> probabilities; peer: ``time.time()`` at poll minus BrainFlow's timestamp of
the newest sample), median and 95th percentile; CPU seconds (user + system, from
``getrusage`` of the child) per second of data. CPU is also given *marginal*: the
difference between a S-second run and a 5-second run, which removes start-up (imports,
board preparation) and leaves the steady-state cost.

Run: ``.venv/bin/python benchmarks/bench_brainflow.py [--seconds 60] [--repeats 2]``
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BCI = Path(sys.executable).with_name("bci")

PEER = r"""
import json, sys, time
import numpy as np
from brainflow.board_shim import BoardShim, BrainFlowInputParams, BoardIds
seconds = float(sys.argv[1])
BoardShim.disable_board_logger()
bid = BoardIds.SYNTHETIC_BOARD.value
board = BoardShim(bid, BrainFlowInputParams())
board.prepare_session()
board.start_stream(450000)
ts_row = BoardShim.get_timestamp_channel(bid)
pkg_row = BoardShim.get_package_num_channel(bid)
lags, n, dropped, last = [], 0, 0, None
end = time.monotonic() + seconds
while time.monotonic() < end:
    data = board.get_board_data()
    if data.shape[1]:
        lags.append(time.time() - data[ts_row, -1])
        pkg = data[pkg_row]
        seq = pkg if last is None else np.concatenate(([last], pkg))
        dropped += int(np.sum(np.mod(np.diff(seq), 256) - 1))
        last = pkg[-1]
        n += data.shape[1]
    time.sleep(0.01)
board.stop_stream()
board.release_session()
print(json.dumps({"samples": n, "dropped": dropped, "lag_median": float(np.median(lags)),
                  "lag_p95": float(np.percentile(lags, 95))}))
"""

LIVE_LINE = re.compile(
    r"live: (\d+) samples received, (\d+) dropped; latency median ([\d.]+) ms, p95 ([\d.]+) ms"
)


def make_model(folder: Path) -> Path:
    """Fit the demo band-power paradigm on simulated EEG with the synthetic board's labels."""
    from brainflow.board_shim import BoardIds, BoardShim

    from acquisition.simulator import graz_cues, simulate_recording
    from bci.model_file import save_model
    from bci.paradigm import builtin_paradigm
    from bci.pipeline import Pipeline

    names = BoardShim.get_eeg_names(BoardIds.SYNTHETIC_BOARD.value)
    paradigm = builtin_paradigm("demo")
    cues, duration = graz_cues(list(paradigm.classes), 8, seed=0)
    rec = simulate_recording(cues, duration=duration, seed=0, ch_names=names)
    pipe = Pipeline(paradigm, rec.info.ch_names, rec.sfreq).fit([rec])
    path = folder / "synthetic16.bci"
    save_model(path, pipe)
    return path


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_ours(model: Path, seconds: float) -> dict:
    before = _child_cpu()
    done = subprocess.run(
        [
            str(BCI),
            "live",
            "--headless",
            "--board",
            "synthetic",
            "--model",
            str(model),
            "--seconds",
            str(seconds),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    cpu = _child_cpu() - before
    found = LIVE_LINE.search(done.stdout)
    if done.returncode != 0 or not found:
        raise SystemExit(f"bci live failed ({done.returncode}): {done.stderr[-2000:]}")
    n, dropped, med, p95 = found.groups()
    return {
        "samples": int(n),
        "dropped": int(dropped),
        "lag_median": float(med) / 1e3,
        "lag_p95": float(p95) / 1e3,
        "cpu": cpu,
    }


def run_peer(seconds: float) -> dict:
    before = _child_cpu()
    done = subprocess.run(
        [sys.executable, "-c", PEER, str(seconds)],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    cpu = _child_cpu() - before
    if done.returncode != 0:
        raise SystemExit(f"peer failed: {done.stderr[-2000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["cpu"] = cpu
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--short", type=float, default=5.0, help="run for the start-up cost")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = make_model(Path(tmp))
        rows: dict[str, list[dict]] = {"ours": [], "peer": []}
        short: dict[str, list[dict]] = {"ours": [], "peer": []}
        for _ in range(args.repeats):
            for who, fn in (("ours", lambda s: run_ours(model, s)), ("peer", run_peer)):
                t = time.monotonic()
                rows[who].append(fn(args.seconds))
                short[who].append(fn(args.short))
                print(f"  {who}: {rows[who][-1]} ({time.monotonic() - t:.0f} s)", flush=True)
    print(
        f"\nBrainFlow synthetic board, 16 EEG ch at 250 Hz, {args.seconds:g} s runs "
        f"(+ {args.short:g} s runs for start-up), {args.repeats} alternated repeats"
    )
    header = (
        f"{'consumer':38s} {'samples':>8s} {'dropped':>8s} {'lag med':>9s} {'lag p95':>9s} "
        f"{'CPU s/s data':>13s} {'marginal':>9s}"
    )
    print(header)
    summary = {}
    for who, label in (
        ("ours", "bci live --headless --board synthetic"),
        ("peer", "BoardShim.get_board_data loop (10 ms)"),
    ):
        long_, short_ = rows[who], short[who]
        samples = np.mean([r["samples"] for r in long_])
        dropped = np.mean([r["dropped"] for r in long_])
        med = np.median([r["lag_median"] for r in long_])
        p95 = np.median([r["lag_p95"] for r in long_])
        cpu = np.mean([r["cpu"] / (r["samples"] / 250) for r in long_])
        marginal = np.mean(
            [
                (a["cpu"] - b["cpu"]) / ((a["samples"] - b["samples"]) / 250)
                for a, b in zip(long_, short_, strict=True)
            ]
        )
        summary[who] = marginal
        print(
            f"{label:38s} {samples:8.0f} {dropped:8.0f} {1e3 * med:7.1f}ms {1e3 * p95:7.1f}ms "
            f"{cpu:13.4f} {marginal:9.4f}"
        )
    if summary["peer"] > 1e-3:
        ratio = f"{summary['ours'] / summary['peer']:.1f}x"
    else:
        ratio = "n/a: the peer's steady-state CPU is below this measurement's resolution"
    print(
        f"\nmarginal CPU ratio ours/peer: {ratio} (ours filters, windows, computes features and "
        "probabilities and publishes them; the peer only reads)"
    )


if __name__ == "__main__":
    main()
