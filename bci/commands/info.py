"""``bci info FILE | --stream NAME``: what a recording or a live stream holds."""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING

from bci.commands.board_options import add_board_arguments

if TYPE_CHECKING:
    import numpy as np

    from acquisition.recording import Recording


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``info`` subcommand."""
    p = subparsers.add_parser(
        "info",
        help="show channels, rate, duration and markers of a recording or LSL stream",
        description=(
            "Show the channels, sampling rate, duration and the events/markers (with counts) "
            "of a recording file (EDF, BDF, GDF, FIF, BrainVision, EEGLAB, XDF) or of a live "
            "LSL stream."
        ),
    )
    p.add_argument("file", nargs="?", help="recording file to describe")
    p.add_argument("--stream", metavar="NAME", help="describe the live LSL stream NAME instead")
    p.add_argument(
        "--seconds",
        type=float,
        default=2.0,
        help="with --stream: how long to read it to count markers and measure the rate (default 2)",
    )
    p.add_argument(
        "--markers",
        metavar="NAME",
        help="with --stream: the marker stream to count (default NAME-markers when visible)",
    )
    p.add_argument(
        "--timeout", type=float, default=5.0, help="with --stream: seconds to wait for it"
    )
    p.add_argument("--events", metavar="EVENTS_FILE", help="MNE events file for the recording")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    add_board_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Describe the file or stream named in ``args``; return the exit code."""
    from acquisition.errors import AcquisitionError
    from acquisition.file_source import load_recording

    given = [
        f"{what} {value!r}"
        for what, value in (("FILE", args.file), ("--stream", args.stream), ("--board", args.board))
        if value is not None
    ]
    if len(given) > 1:
        raise AcquisitionError(f"info: got {' and '.join(given)}; give one of them")
    if not given:
        raise AcquisitionError(
            "info: nothing to describe; give a recording FILE, --stream NAME or --board NAME"
        )
    if args.board is not None:
        from bci.commands.board_options import open_board

        with open_board(args) as board:
            summary = describe_source(board, seconds=args.seconds)
        summary["kind"] = "board"
    elif args.file is not None:
        rec = load_recording(args.file, events=args.events)
        summary = describe_recording(rec)
    else:
        summary = describe_stream(
            args.stream, seconds=args.seconds, markers=args.markers, timeout=args.timeout
        )
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_summary(summary))
    return 0


def describe_recording(rec: Recording) -> dict:
    """Return a JSON-safe summary of a loaded recording."""
    extras = rec.extras
    summary = {
        "source": rec.path,
        "kind": "file",
        "format": extras.get("format"),
        "n_channels": rec.info.n_channels,
        "ch_names": list(rec.info.ch_names),
        "ch_types": _counts(rec.info.ch_types),
        "sfreq": rec.sfreq,
        "n_samples": rec.n_samples,
        "duration": rec.duration,
        "n_markers": len(rec.marker_labels),
        "markers": rec.marker_counts(),
        "marker_source": extras.get("marker_source"),
    }
    for key in ("assumed_units", "events_path", "eeg_stream", "truncated", "meas_date"):
        if extras.get(key) is not None:
            summary[key] = extras[key]
    if "streams" in extras:
        summary["streams"] = extras["streams"]
    if extras.get("timestamps") is not None:
        summary["gaps"] = timestamp_gaps(extras["timestamps"], rec.sfreq)
    if extras.get("warnings"):
        summary["warnings"] = list(extras["warnings"])
    return summary


def timestamp_gaps(ts: np.ndarray, sfreq: float, *, tolerance: float = 0.5) -> dict:
    """Gaps in a recording's sample timestamps: count, total and longest, in seconds.

    A gap is a step between two samples longer than ``1 + tolerance`` sample periods (a
    sender restarted, samples lost); its length is the time missing beyond one period.
    """
    import numpy as np  # lazily: `bci --help` must not load numpy

    ts = np.asarray(ts, dtype=float)
    period = 1.0 / sfreq
    steps = np.diff(ts[np.isfinite(ts)]) if ts.size > 1 else np.empty(0)
    missing = steps[steps > (1.0 + tolerance) * period] - period
    return {
        "count": int(missing.size),
        "total_seconds": float(missing.sum()),
        "longest_seconds": float(missing.max()) if missing.size else 0.0,
    }


def describe_stream(
    name: str, *, seconds: float = 2.0, markers: str | None = None, timeout: float = 5.0
) -> dict:
    """Read the LSL stream ``name`` for ``seconds`` and return a JSON-safe summary.

    Markers are counted from the stream ``markers``, or from ``NAME-markers`` (the
    player's convention) when such a stream is visible.
    """
    from acquisition.lsl_source import LSLSource, list_streams  # lazily: loads liblsl

    if markers is None:
        visible = {s.name for s in list_streams(timeout=min(1.0, timeout))}
        markers = f"{name}-markers" if f"{name}-markers" in visible else None
    with LSLSource(name=name, marker_name=markers, timeout=timeout) as src:
        summary = describe_source(src, seconds=seconds)
    summary["marker_stream"] = markers
    return summary


def describe_source(src: object, *, seconds: float = 2.0) -> dict:
    """Read a live source (LSL stream or board) for ``seconds``; return a JSON-safe summary."""
    counts: dict[str, int] = {}
    n_samples = 0
    first_ts = last_ts = None
    info = src.info
    deadline = time.monotonic() + max(0.0, float(seconds))
    while time.monotonic() < deadline:
        data, ts = src.pull()
        n_samples += data.shape[1]
        if len(ts):
            first_ts = float(ts[0]) if first_ts is None else first_ts
            last_ts = float(ts[-1])
        _mts, labels = src.pull_markers()
        for lab in labels:
            counts[lab] = counts.get(lab, 0) + 1
        if data.shape[1] == 0:
            time.sleep(0.01)  # a live stream: wait for the device, not for a test
    health = src.health
    if n_samples > 1 and last_ts is not None and last_ts > first_ts:
        # From the samples' own timestamps: counting from the wall clock would mix in the
        # connection's first silent moments and the first pull's backlog (160 Hz read 127.7).
        rate = (n_samples - 1) / (last_ts - first_ts)
    else:
        rate = float(health.effective_rate) if health is not None else None
    dropped = int(health.dropped_samples) if health is not None else None
    return {
        "source": info.name,
        "kind": "stream",
        "source_id": info.source_id,
        "n_channels": info.n_channels,
        "ch_names": list(info.ch_names),
        "ch_types": _counts(info.ch_types),
        "sfreq": info.sfreq,
        "seconds_read": float(seconds),
        "n_samples": n_samples,
        "effective_rate": rate,
        "dropped_samples": dropped,
        "n_markers": sum(counts.values()),
        "markers": counts,
    }


def format_summary(s: dict) -> str:
    """Render a summary as a few human-readable lines."""
    names = ", ".join(s["ch_names"])
    types = ", ".join(f"{n} {t}" for t, n in s["ch_types"].items())
    lines = [f"{s['source']}" + (f" ({s['format']})" if s.get("format") else "")]
    lines.append(f"  channels:  {s['n_channels']} ({types}): {names}")
    lines.append(f"  rate:      {s['sfreq']:g} Hz")
    if s["kind"] == "file":
        lines.append(f"  duration:  {s['duration']:.2f} s ({s['n_samples']} samples)")
    else:
        rate = s.get("effective_rate")
        lines.append(
            f"  read:      {s['n_samples']} samples in {s['seconds_read']:g} s"
            + (f" ({rate:.1f} Hz effective)" if rate else "")
        )
    origin = f" from {s['marker_source']}" if s.get("marker_source") else ""
    if s["markers"]:
        counts = ", ".join(f"{k}: {v}" for k, v in s["markers"].items())
        lines.append(f"  markers:   {s['n_markers']}{origin} ({counts})")
    else:
        lines.append("  markers:   none")
    if s.get("assumed_units"):
        lines.append(f"  units:     none in the file; assumed {s['assumed_units']}")
    gaps = s.get("gaps")
    if gaps is not None:
        if gaps["count"]:
            lines.append(
                f"  gaps:      {gaps['count']} in the timestamps, {gaps['total_seconds']:.2f} s "
                f"missing in all, the longest {gaps['longest_seconds']:.2f} s (duration counts "
                "samples only)"
            )
        else:
            lines.append("  gaps:      none")
    if s.get("truncated"):
        lines.append("  warning:   the file ends early (recorder killed?); showing what it holds")
    for note in s.get("warnings", []):
        lines.append(f"  warning:   {note}")
    return "\n".join(lines)


def _counts(items: tuple[str, ...] | list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for it in items:
        out[it] = out.get(it, 0) + 1
    return out
