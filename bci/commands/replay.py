"""``bci replay FILE``: publish a recording as a live LSL EEG stream plus its markers."""

from __future__ import annotations

import argparse
import time

from bci.commands.common import add_status_every_argument, first_status_time


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``replay`` subcommand."""
    p = subparsers.add_parser(
        "replay",
        help="publish a recording as a live LSL EEG stream and a string marker stream",
        description=(
            "Replay a recording (EDF, BDF, GDF, FIF, BrainVision, EEGLAB, XDF) as an LSL EEG "
            "stream NAME (channel labels, types and units in its metadata, a unique source "
            "id) and a string marker stream NAME-markers, at real time or faster. Runs until "
            "the end of the file (or forever with --loop) or Ctrl-C."
        ),
    )
    p.add_argument("file", help="recording file to replay")
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="1 = real time (default), 10 = ten times faster, 0 = as fast as possible",
    )
    p.add_argument("--loop", action="store_true", help="start again at the end of the file")
    p.add_argument("--name", default=None, help="LSL stream name (default: the file name)")
    p.add_argument("--events", metavar="EVENTS_FILE", help="MNE events file for the recording")
    add_status_every_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Replay ``args.file``; return the exit code."""
    from pathlib import Path

    from acquisition import limits
    from acquisition.errors import AcquisitionError
    from acquisition.file_source import FileSource
    from acquisition.player import Player

    if not (args.speed >= 0):
        raise AcquisitionError(
            f"replay: --speed must be >= 0 (0 = as fast as possible), got {args.speed!r}"
        )
    if args.speed not in (0, float("inf")):
        limits.REPLAY_SPEED.check(args.speed, "--speed", where="replay")
    kwargs = {"events": args.events} if args.events else {}
    source = FileSource(args.file, chunk_size=32, **kwargs)
    name = args.name or Path(args.file).stem
    rec = source.recording
    speed = "max" if args.speed in (0, float("inf")) else f"{args.speed:g}x"
    print(
        f"replay: {args.file}: {rec.info.n_channels} channels, {rec.sfreq:g} Hz, "
        f"{rec.duration:.1f} s, {len(rec.marker_labels)} markers -> LSL {name!r} and "
        f"{name + '-markers'!r} at {speed}{' (looping)' if args.loop else ''}; Ctrl-C stops",
        flush=True,
    )
    player = Player(source, name=name, speed=args.speed, loop=args.loop)
    return drive(player, status_every=args.status_every, total=rec.n_samples)


def drive(player, *, status_every: float, total: int | None = None) -> int:
    """Run ``player`` until it ends or Ctrl-C, printing a status line; return the exit code."""
    started = time.monotonic()
    next_status = first_status_time(started, status_every)
    player.start()
    try:
        while not player.join(timeout=0.1):
            if time.monotonic() >= next_status:
                next_status += status_every
                print(status_line(player, started, total), flush=True)
    except KeyboardInterrupt:
        player.close()
        print(f"{status_line(player, started, total)} (stopped)", flush=True)
        return 0
    player.close()
    if player.error is not None:
        raise player.error
    print(f"{status_line(player, started, total)} (done)", flush=True)
    return 0


def status_line(player, started: float, total: int | None) -> str:
    """One line: elapsed wall time, samples and markers pushed."""
    done = f"/{total}" if total else ""
    return (
        f"[{time.monotonic() - started:7.1f} s] {player.name}: {player.samples_pushed}{done} "
        f"samples, {player.markers_pushed} markers pushed"
    )
