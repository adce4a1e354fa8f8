"""``bci simulate``: a simulated headset, driven through random cues, published on LSL."""

from __future__ import annotations

import argparse
import time

from bci.commands.common import add_status_every_argument, first_status_time, stop_on_sigterm


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` subcommand."""
    p = subparsers.add_parser(
        "simulate",
        help="publish a simulated headset doing cued motor imagery as LSL EEG + markers",
        description=(
            "Publish synthetic EEG from the simulated headset as LSL stream NAME and its cues "
            "as string markers on NAME-markers. The simulated person follows a random, "
            "balanced Graz-style cue sequence over the given classes, or, with --follow, the "
            "cues of another program's marker stream. Runs for --seconds or until Ctrl-C. "
            "Try calibration without hardware: `bci simulate --name sim --follow "
            "sim-calibration` next to `bci calibrate --paradigm demo --stream sim` (the "
            "calibration sends its cues on <stream>-calibration)."
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
    p.add_argument(
        "--follow",
        metavar="MARKER_STREAM",
        help=(
            "imagine the class the last cue on this LSL marker stream names, rest otherwise "
            "(bci calibrate --stream NAME cues on NAME-calibration); waits for it to appear"
        ),
    )
    p.add_argument(
        "--paradigm",
        metavar="P.toml",
        help="with --follow: map cue markers to class names with the paradigm's [classes]",
    )
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="signal seconds per wall second (default 1; 10 for fast tests)",
    )
    add_status_every_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Simulate until ``--seconds`` or Ctrl-C/SIGTERM; return the exit code."""
    from acquisition import limits
    from acquisition.errors import AcquisitionError
    from acquisition.player import Player
    from acquisition.simulator import SimulatedHeadset, graz_cues

    if args.seconds is not None and not args.seconds > 0:
        raise AcquisitionError(f"simulate: --seconds must be > 0, got {args.seconds!r}")
    if not (args.speed > 0 and args.speed < 1000):
        raise AcquisitionError(f"simulate: --speed must be in (0, 1000), got {args.speed!r}")
    if args.paradigm and not args.follow:
        raise AcquisitionError("simulate: --paradigm is only used with --follow MARKER_STREAM")
    # At real time the headset paces itself; faster, the player paces a generator.
    realtime = args.speed == 1.0
    limits.SFREQ.check(args.sfreq, "--sfreq", where="simulate")
    headset = SimulatedHeadset(
        sfreq=args.sfreq,
        seed=args.seed,
        difficulty=args.difficulty,
        name=args.name,
        realtime=realtime,
    )
    # Following, the person changes task at the cue's own timestamp unless its sample was
    # already generated: chunks of at most 40 ms of signal keep that look-ahead small.
    chunk = min(0.02, 0.04 / args.speed) if args.follow else 0.02
    player = Player(headset, name=args.name, speed=args.speed, chunk_seconds=chunk)
    follower = _follower(args, headset, player) if args.follow else None
    what = f"following the cues on {args.follow!r}" if follower else f"cues {args.classes}"
    print(
        f"simulate: {headset.info.n_channels} channels at {args.sfreq:g} Hz on LSL "
        f"{args.name!r} ({args.speed:g}x), {what}, the person's tasks on "
        f"{player.marker_name!r}; Ctrl-C stops",
        flush=True,
    )
    stop = stop_on_sigterm()
    started = time.monotonic()
    next_status = first_status_time(started, args.status_every)
    cues: list[tuple[float, str | None]] = []
    offset = 0.0
    player.start()
    try:
        while not stop() and player.running:
            elapsed = time.monotonic() - started
            if args.seconds is not None and elapsed >= args.seconds:
                break
            if follower is not None:
                follower.poll()
            elif not cues:
                # One balanced block of 5 trials per class at a time, forever.
                block, length = graz_cues(
                    args.classes, 5, seed=None if args.seed is None else args.seed + int(offset)
                )
                cues = [(offset + t, label) for t, label in block]
                offset += length
            while cues and cues[0][0] <= elapsed * args.speed:
                headset.set_state(cues.pop(0)[1])
            if time.monotonic() >= next_status:
                next_status += args.status_every
                print(
                    f"[{elapsed:7.1f} s] {args.name}: {player.samples_pushed} samples, "
                    f"{player.markers_pushed} cues, doing {headset.state or 'rest'}",
                    flush=True,
                )
            # Pacing; shorter when following so a cue is acted on within ~2 ms of arrival.
            time.sleep(0.002 if follower is not None else 0.01)
    except KeyboardInterrupt:
        player.close()
        print("simulate: stopped", flush=True)
        return 0
    player.close()
    if player.error is not None:
        raise player.error
    late = ""
    if headset.lateness:
        lag = sorted(headset.lateness)
        late = (
            f"; task changes after their cue by (samples) median {lag[len(lag) // 2]}, "
            f"worst {lag[-1]}"
        )
    print(
        f"simulate: done, {player.samples_pushed} samples, {player.markers_pushed} cues{late}",
        flush=True,
    )
    return 0


class _FollowStream:
    """Waits (without blocking for long) for the marker stream to follow, then follows it."""

    def __init__(self, name: str, follower: object, player: object) -> None:
        self.name = name
        self.follower = follower
        self.player = player
        self.inlet = None
        self._next_try = 0.0

    def poll(self) -> None:
        """Apply the cues that arrived; look for the stream every 0.5 s until it is there."""
        from acquisition.errors import StreamNotFoundError
        from acquisition.lsl_source import MarkerInlet

        if self.inlet is None:
            if time.monotonic() < self._next_try:
                return
            self._next_try = time.monotonic() + 0.5
            try:
                self.inlet = MarkerInlet(self.name, timeout=0.2, sync_clock=True)
            except StreamNotFoundError:
                return
            print(f"simulate: following the cues on {self.name!r}", flush=True)
        stamps, labels = self.inlet.pull_markers()
        if labels:
            # Cue stamps (LSL clock) onto the headset's clock, so each change lands on the
            # sample published at the cue, however late the cue was read.
            times = [self.player.source_time(t) for t in stamps]
            self.follower.follow(labels, None if None in times else times)


def _follower(args: argparse.Namespace, headset: object, player: object) -> _FollowStream:
    from acquisition.simulator import CueFollower

    classes = None
    if args.paradigm:
        from bci.commands.common import resolve_paradigm

        paradigm = resolve_paradigm(args.paradigm)
        classes = {str(marker): name for name, marker in paradigm.classes.items()}
    return _FollowStream(args.follow, CueFollower(headset, classes), player)
