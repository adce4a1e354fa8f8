"""``bci stream --board NAME [--name N]``: publish a BrainFlow board on LSL for any LSL program."""

from __future__ import annotations

import argparse
import time

from bci.commands.board_options import add_board_arguments
from bci.commands.common import add_status_every_argument, first_status_time, stop_on_sigterm


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``stream`` subcommand."""
    p = subparsers.add_parser(
        "stream",
        help="publish a BrainFlow board (OpenBCI, Muse, Unicorn, synthetic...) on LSL",
        description=(
            "Read a board with BrainFlow and publish it as the LSL EEG stream --name (float32, "
            "microvolts, desc/channels labels, types and units, the device as manufacturer) "
            "and its markers on NAME-markers, for LabRecorder, MNE-LSL, OpenViBE or bci itself. "
            "Timestamps are the board's, on the LSL clock. Prints a status line; Ctrl-C or "
            "SIGTERM stops cleanly."
        ),
    )
    add_board_arguments(p)
    p.add_argument("--name", metavar="N", help="LSL stream name (default bci-BOARD)")
    p.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    add_status_every_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Publish until ``--seconds``, Ctrl-C or SIGTERM; return the exit code."""
    from acquisition.errors import AcquisitionError
    from bci.commands.board_options import open_board, publish_board

    if not args.board:
        raise AcquisitionError("stream: give the board to publish, e.g. --board synthetic")
    if args.seconds is not None and not args.seconds > 0:
        raise AcquisitionError(f"stream: --seconds must be > 0, got {args.seconds!r}")
    source = open_board(args)
    name = args.name or f"bci-{source.spec.name.replace(':', '-')}"
    player = publish_board(source, name)
    info = source.info
    print(
        f"stream: board {source.spec.name} ({info.n_channels} ch at {info.sfreq:g} Hz: "
        f"{', '.join(info.ch_names)}) on LSL {name!r}, markers on {player.marker_name!r}; "
        "Ctrl-C stops",
        flush=True,
    )
    stopped = stop_on_sigterm()
    started = time.monotonic()
    next_status = first_status_time(started, args.status_every)
    player.start()
    try:
        while not stopped() and player.running:
            now = time.monotonic()
            if args.seconds is not None and now - started >= args.seconds:
                break
            if now >= next_status:
                next_status += args.status_every
                h = source.health
                print(
                    f"[{now - started:7.1f} s] {name}: {player.samples_pushed} samples "
                    f"({h.effective_rate:.1f} Hz), {h.dropped_samples} dropped, "
                    f"{player.markers_pushed} markers, {h.state}",
                    flush=True,
                )
            time.sleep(0.05)  # pacing the status loop; the player thread forwards the data
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a stream is normally ended
    finally:
        player.close()  # also closes the board
    if player.error is not None:
        raise player.error
    print(
        f"stream: stopped after {time.monotonic() - started:.1f} s, {player.samples_pushed} "
        f"samples, {player.markers_pushed} markers, {source.health.dropped_samples} dropped",
        flush=True,
    )
    return 0
