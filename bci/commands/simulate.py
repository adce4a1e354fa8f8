"""``bci simulate``: a simulated headset, driven through random cues, published on LSL."""

from __future__ import annotations

import argparse
import time

from bci.commands.common import add_status_every_argument, stop_on_sigterm


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` subcommand."""
    p = subparsers.add_parser(
        "simulate",
        help="publish a simulated headset doing cued motor imagery as LSL EEG + markers",
        description=(
            "Publish synthetic EEG from the simulated headset as LSL stream NAME and its cues "
            "as string markers on NAME-markers. The simulated person follows a random, "
            "balanced Graz-style cue sequence over the given classes. Runs for --seconds or "
            "until Ctrl-C."
        ),
    )
    p.add_argument("--name", default="bci-sim", help="LSL stream name (default bci-sim)")
    p.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    p.add_argument(
        "--classes", nargs="+", default=["left", "right"], help="cue labels (default: left right)"
    )
    p.add_argument("--sfreq", type=float, default=250.0, help="sampling rate in Hz (default 250)")
    p.add_argument("--difficulty", type=float, default=0.3, help="0 easy .. 1 chance (default 0.3)")
    p.add_argument("--seed", type=int, default=None, help="random seed (signal and cue order)")
    add_status_every_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Simulate until ``--seconds`` or Ctrl-C/SIGTERM; return the exit code."""
    from acquisition.errors import AcquisitionError
    from acquisition.player import Player
    from acquisition.simulator import SimulatedHeadset, graz_cues

    if args.seconds is not None and not args.seconds > 0:
        raise AcquisitionError(f"simulate: --seconds must be > 0, got {args.seconds!r}")
    headset = SimulatedHeadset(
        sfreq=args.sfreq, seed=args.seed, difficulty=args.difficulty, name=args.name
    )
    player = Player(headset, name=args.name, speed=1.0)
    print(
        f"simulate: {headset.info.n_channels} channels at {args.sfreq:g} Hz on LSL "
        f"{args.name!r}, cues {args.classes} on {player.marker_name!r}; Ctrl-C stops",
        flush=True,
    )
    stop = stop_on_sigterm()
    started = time.monotonic()
    next_status = started + args.status_every
    cues: list[tuple[float, str | None]] = []
    offset = 0.0
    player.start()
    try:
        while not stop() and player.running:
            elapsed = time.monotonic() - started
            if args.seconds is not None and elapsed >= args.seconds:
                break
            if not cues:
                # One balanced block of 5 trials per class at a time, forever.
                block, length = graz_cues(
                    args.classes, 5, seed=None if args.seed is None else args.seed + int(offset)
                )
                cues = [(offset + t, label) for t, label in block]
                offset += length
            while cues and cues[0][0] <= elapsed:
                headset.set_state(cues.pop(0)[1])
            if time.monotonic() >= next_status:
                next_status += args.status_every
                print(
                    f"[{elapsed:7.1f} s] {args.name}: {player.samples_pushed} samples, "
                    f"{player.markers_pushed} cues, doing {headset.state or 'rest'}",
                    flush=True,
                )
            time.sleep(0.01)
    except KeyboardInterrupt:
        player.close()
        print("simulate: stopped", flush=True)
        return 0
    player.close()
    if player.error is not None:
        raise player.error
    print(
        f"simulate: done, {player.samples_pushed} samples, {player.markers_pushed} cues", flush=True
    )
    return 0
