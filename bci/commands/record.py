"""``bci record``: record LSL EEG and marker streams into an XDF file."""

from __future__ import annotations

import argparse
import contextlib
import time

from bci.commands.board_options import add_board_arguments, check_board_or_stream
from bci.commands.common import add_status_every_argument, first_status_time, stop_on_sigterm


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``record`` subcommand."""
    p = subparsers.add_parser(
        "record",
        help="record LSL streams (EEG and markers) into an XDF file",
        description=(
            "Record the LSL EEG stream --stream and its marker stream --markers into an XDF "
            "file with LabRecorder. Stops cleanly on Ctrl-C, SIGTERM or after --seconds. "
            "A killed recorder loses at most the last ~0.5 s. With --board the board is "
            "published on a private LSL stream and recorded the same way, so the file is the "
            "one `bci stream --board` + `bci record --stream` would give."
        ),
    )
    p.add_argument("--stream", default=None, help="EEG stream name (default bci-sim)")
    p.add_argument(
        "--markers",
        default=None,
        help="marker stream name (default STREAM-markers when visible; 'none' to skip)",
    )
    p.add_argument("--out", required=True, help="output .xdf file, e.g. recordings/run1.xdf")
    p.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    p.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to wait for the streams (default 5)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    add_status_every_argument(p)
    add_board_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Record until ``--seconds``, Ctrl-C or SIGTERM; return the exit code."""
    from pathlib import Path

    from acquisition.errors import AcquisitionError
    from acquisition.recorder import Recorder
    from acquisition.xdf_check import check_xdf
    from bci.commands.native_output import native_output_only_to

    if args.seconds is not None and not args.seconds > 0:
        raise AcquisitionError(f"record: --seconds must be > 0, got {args.seconds!r}")
    check_board_or_stream(args, "record")
    player = None
    if args.board:
        # LabRecorder records LSL streams only: publish the board privately and record that,
        # which writes exactly the XDF a recording of `bci stream --board` gives.
        from bci.commands.board_options import open_board, private_stream_name, publish_board

        board = open_board(args)
        player = publish_board(board, private_stream_name(board.spec.name))
        args.stream, args.markers = player.name, player.marker_name
    args.stream = args.stream or "bci-sim"
    streams = [args.stream]
    if args.markers is None:
        import pylsl

        default = f"{args.stream}-markers"
        if pylsl.resolve_bypred(f"name='{default}'", 1, min(args.timeout, 2.0)):
            streams.append(default)
    elif args.markers.lower() != "none":
        streams.append(args.markers)
    check_writable(Path(args.out), overwrite=args.overwrite)
    stopped = stop_on_sigterm()
    # LabRecorder's own lines ("Wrote footer ...") go to OUT.log, not between ours.
    quiet = contextlib.ExitStack()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)  # checked writable above
    quiet.enter_context(native_output_only_to(Path(f"{args.out}.log")))
    recorder = Recorder(args.out, streams=streams, timeout=args.timeout, overwrite=args.overwrite)
    recorder.start()
    if player is not None:
        # Start reading the board once LabRecorder listens: a new inlet gets no backlog, and
        # BrainFlow's ring buffer holds the samples of the meantime.
        player.wait_for_consumers(timeout=args.timeout)
        player.start()
    out = Path(args.out)
    print(f"record: {', '.join(repr(s) for s in streams)} -> {out}; Ctrl-C stops", flush=True)
    started = time.monotonic()
    next_status = first_status_time(started, args.status_every)
    code = 0
    try:
        while not stopped():
            elapsed = time.monotonic() - started
            if args.seconds is not None and elapsed >= args.seconds:
                break
            if time.monotonic() >= next_status:
                next_status += args.status_every
                size = out.stat().st_size if out.exists() else 0
                print(f"[{elapsed:7.1f} s] {out.name}: {size / 1024:.0f} kB", flush=True)
            time.sleep(0.05)
    except KeyboardInterrupt:
        code = 0  # Ctrl-C is how a recording is normally ended
    finally:
        if player is not None:
            player.stop()  # push what the board still holds before the recorder stops
        print("record: finishing the file (LabRecorder takes up to ~6 s)...", flush=True)
        recorder.stop()
        quiet.close()
        if player is not None:
            player.close()
    elapsed = time.monotonic() - started
    check = check_xdf(out)
    if not check.ok:
        raise AcquisitionError(
            f"record: {out} is not a complete recording after {elapsed:.1f} s: {check.problem} "
            f"({check.size} bytes); the data may be lost"
        )
    chunks = sum(check.sample_chunks.values())
    print(
        f"record: stopped after {elapsed:.1f} s, {out} {check.size / 1024:.0f} kB "
        f"({len(check.headers)} streams, {chunks} sample chunks, verified)",
        flush=True,
    )
    return code


def check_writable(out, *, overwrite: bool) -> None:
    """Refuse an ``--out`` whose folder cannot take a new file, before anything starts.

    ``os.access`` is not enough (root passes it on ``/proc``): a real temporary file is
    created in the folder and removed.
    """
    import os
    import tempfile

    from acquisition.errors import AcquisitionError

    folder = out.parent if str(out.parent) else out.resolve().parent
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent  # the recorder creates missing folders: test the first that exists
    if out.exists() and out.is_dir():
        raise AcquisitionError(f"record: --out {out} is a folder; give a .xdf file name")
    try:
        fd, tmp = tempfile.mkstemp(dir=probe, prefix=".bci-record-probe-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise AcquisitionError(
            f"record: cannot write in {probe} for --out {out} ({exc.strerror or exc}); "
            "choose a folder you can write to"
        ) from None
