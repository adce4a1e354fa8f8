"""``bci calibrate --paradigm P.toml [--stream N] [--out-dir recordings]``: cue, record, train."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bci.commands.board_options import add_board_arguments, check_board_or_stream

if TYPE_CHECKING:
    from bci.calibration_run import CalibrationRun


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` subcommand."""
    p = subparsers.add_parser(
        "calibrate",
        help="run a calibration session: cues, XDF recording, training, then go live",
        description=(
            "Cue the participant through the paradigm's [session] trials (Graz motor imagery "
            "or SSVEP), send each cue as a string marker on LSL, record EEG and markers to "
            "<out-dir>/<timestamp>.xdf, then train, show the cross-validated accuracy with "
            "chance level and a confusion matrix, save <out-dir>/<timestamp>.bci and offer "
            "'Go live'. The cue markers go out on the LSL stream <stream>-calibration (e.g. "
            "'sim-calibration' for --stream sim): `bci simulate --name sim --follow "
            "sim-calibration` makes a simulated person follow them, to try the whole path "
            "without hardware. With --board the board is published on a private LSL stream "
            "and calibrated the same way."
        ),
    )
    p.add_argument(
        "--paradigm", required=True, metavar="P.toml", help="paradigm file or built-in name"
    )
    p.add_argument("--stream", metavar="N", help="EEG stream name (default: the first of type EEG)")
    p.add_argument(
        "--out-dir", default="recordings", metavar="DIR", help="where to write (default recordings)"
    )
    p.add_argument(
        "--trials", type=int, metavar="N", help="trials per class (default: the paradigm's)"
    )
    p.add_argument("--seed", type=int, metavar="N", help="seed of the trial order")
    p.add_argument(
        "--headless", action="store_true", help="no window: print the cues (for testing)"
    )
    add_board_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the session, train, and go live on request.

    Ctrl-C or SIGTERM stops the session: the XDF recorded so far is finished and named in
    the closing line (exit 130, or 143 for SIGTERM).
    """
    from bci.commands.common import resolve_paradigm
    from bci.commands.display import window_problem
    from bci.errors import BCIError

    if not args.headless:
        problem = window_problem()
        if problem is not None:
            raise BCIError(f"cannot open the calibration window: {problem}; or run with --headless")
    check_board_or_stream(args, "calibrate")
    paradigm = resolve_paradigm(args.paradigm)
    stream = args.stream
    if args.board:
        from bci.commands.board_options import open_board, private_stream_name, publish_board

        board = open_board(args)
        player = publish_board(board, private_stream_name(board.spec.name)).start()
        try:
            return _calibrate(args, paradigm, player.name)
        finally:
            player.close()
    return _calibrate(args, paradigm, stream)


def _calibrate(args: argparse.Namespace, paradigm: object, stream: str | None) -> int:
    from acquisition.lsl_source import LSLSource
    from bci.calibration_run import CalibrationRun

    if stream is None:
        with LSLSource(stype="EEG", timeout=5.0) as probe:
            stream = probe.info.name
    run_ = CalibrationRun(
        paradigm, stream=stream, out_dir=args.out_dir, seed=args.seed, trials_per_class=args.trials
    )
    from bci.commands.native_output import native_output_only_to

    run_.out_dir.mkdir(parents=True, exist_ok=True)
    try:
        # LabRecorder's and Qt's own lines go to <timestamp>.log next to the recording.
        with native_output_only_to(run_.recording_path.with_suffix(".log")):
            return _headless(run_) if args.headless else _in_windows(run_, stream)
    except KeyboardInterrupt as exc:
        from bci.commands.stopping import Stopped, signal_of

        run_.close()  # finishes the XDF when the signal came outside a window
        kept = run_.recording_path
        note = f"the recording so far is in {kept}" if kept.exists() else "nothing was recorded"
        raise Stopped(signal_of(exc), note) from None


def _headless(run_: CalibrationRun) -> int:
    n = run_.protocol.n_trials

    def show(events: list) -> None:
        for ev in events:
            if ev.phase == "cue":
                print(f"trial {ev.trial + 1}/{n}: {ev.label}", flush=True)

    run_.run_headless(on_update=show)
    result = run_.train(progress=lambda f, text: print(f"{100 * f:3.0f}% {text}", flush=True))
    print(result.summary())
    return 0


def _in_windows(run_: CalibrationRun, stream: str) -> int:
    from acquisition.lsl_source import LSLSource
    from bci.errors import BCIError
    from gui.calibration_window import run_calibration_window
    from gui.live_window import open_live_window

    live_windows = []

    def go_live(result: object) -> None:
        source = LSLSource(name=stream, timeout=5.0)
        window = open_live_window(source, result.pipeline, publish_name=stream)
        window.start()
        live_windows.append(window)

    # Qt runs until the last window closes: the live window too, after "Go live".
    try:
        result = run_calibration_window(run_, on_go_live=go_live)
    finally:
        for window in live_windows:
            if window.session is not None:
                window.session.close()
    if result is None:
        raise BCIError(f"calibration did not finish; what was recorded is in {run_.recording_path}")
    return 0
