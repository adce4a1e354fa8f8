"""``bci live --model M.bci [--stream N] [--markers N] [--headless]``: classify a stream live."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from bci.commands.board_options import add_board_arguments, check_board_or_stream

if TYPE_CHECKING:
    from bci.live_report import LiveReport
    from bci.live_session import LiveSession


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``live`` subcommand."""
    p = subparsers.add_parser(
        "live",
        help="classify an LSL EEG stream live with a trained model",
        description=(
            "Read the EEG stream, classify it with the model every online step, show the "
            "probabilities (window: bars, history, scope, stream health, latency) and publish "
            "them on LSL as '<stream>-probabilities' with the class names as channel labels."
        ),
    )
    p.add_argument(
        "--model", required=True, metavar="M.bci", help="a model from bci train/calibrate"
    )
    p.add_argument("--stream", metavar="N", help="EEG stream name (default: the first of type EEG)")
    p.add_argument(
        "--markers", metavar="N", help="marker stream to draw on the probability history"
    )
    p.add_argument(
        "--publish",
        metavar="NAME",
        help="prefix of the probabilities stream (default: the stream name)",
    )
    p.add_argument(
        "--headless", action="store_true", help="print probabilities instead of opening a window"
    )
    p.add_argument(
        "--seconds",
        type=float,
        metavar="S",
        help="stop after S seconds (default: until closed / Ctrl-C)",
    )
    p.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="seconds to wait for the stream"
    )
    p.add_argument(
        "--wait",
        action="store_true",
        help=(
            "when the stream comes back with other channels or rate, wait for the original "
            "(default: end the session, exit 2)"
        ),
    )
    add_board_arguments(p)
    p.add_argument(
        "--save-adapted",
        metavar="M2.bci",
        help=(
            "at the end, save the model as adapted during the session ([adaptation]: the "
            "running reference becomes the next session's start; supervised updates kept)"
        ),
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Open the stream and classify it; 0 on a normal end, 2 when the stream is refused.

    Ends with a summary (windows classified, latency, dropped samples and, with
    ``--markers``, the live accuracy against them), also on Ctrl-C or SIGTERM.
    """
    from bci.commands.display import window_problem
    from bci.errors import BCIError

    check_board_or_stream(args, "live")
    if not args.headless:
        problem = window_problem()
        if problem is not None:
            raise BCIError(f"cannot open the live window: {problem}; or run with --headless")
    from acquisition.lsl_source import LSLSource
    from bci.live_report import LiveReport
    from bci.model_file import load_model

    pipeline = load_model(args.model)
    if args.save_adapted and pipeline.adapter is None:
        raise BCIError(
            f"live: --save-adapted {args.save_adapted}: the model has no [adaptation]; train "
            "it with --adapt recentre or [adaptation] supervised = true"
        )
    if args.board:
        from bci.commands.board_options import open_board

        source = open_board(args)
    else:
        query = {"name": args.stream} if args.stream else {"stype": "EEG"}
        wanted = f"stream {args.stream!r}" if args.stream else "a stream of type EEG"
        print(f"live: looking for {wanted} (up to {args.timeout:g} s)", flush=True)
        source = LSLSource(
            **query, marker_name=args.markers, timeout=args.timeout, wait_for_original=args.wait
        )
    publish = args.publish or source.info.name
    report = LiveReport.for_pipeline(pipeline, with_markers=bool(args.markers))
    if args.headless:
        from bci.live_session import LiveSession

        try:
            session = LiveSession(source, pipeline, publish_name=publish)
        except BaseException:
            source.close()
            raise
        with session:
            try:
                code = _print_live(session, report, args.seconds)
            except KeyboardInterrupt:
                _save_adapted(pipeline, args.save_adapted)  # Ctrl-C ends a session normally
                raise
        _save_adapted(pipeline, args.save_adapted)
        return code
    from acquisition.errors import StreamChangedError
    from gui.live_window import open_live_window, run_live_window

    def follow(window: object, update: object) -> None:
        report.add(update)
        if window.session.refused is not None:
            window.close()  # a stream that came back different ends the session

    window = None
    try:
        window = open_live_window(source, pipeline, publish_name=publish, on_tick=follow)
        try:
            run_live_window(None, window=window, seconds=args.seconds)
        except KeyboardInterrupt:
            if window.session is not None and window.session.refused is None:
                window.session.close()
                _save_adapted(pipeline, args.save_adapted)
            raise
    finally:
        if window is None or window.session is None:
            source.close()
        else:
            window.session.close()
            for line in report.lines(window.session):
                print(line, flush=True)
    if window.session is None:
        return 2
    if window.session.refused is not None:
        raise StreamChangedError(window.session.refused)
    _save_adapted(pipeline, args.save_adapted)
    return 0


def _save_adapted(pipeline, path: str | None) -> None:
    if not path:
        return
    from bci.model_file import save_model

    pipeline.adapter.adopt_session()
    metrics = dict(pipeline.metrics_ or {})
    metrics["adapted_from"] = str(pipeline.source_path)
    metrics["supervised_updates"] = pipeline.adapter.n_updates
    out = save_model(path, pipeline, metrics=metrics)
    print(f"saved adapted model {out} ({pipeline.adapter.n_updates} supervised update(s))")


def _print_live(session: LiveSession, report: LiveReport, seconds: float | None) -> int:
    import numpy as np

    from acquisition.errors import StreamChangedError
    from acquisition.source import EventLimiter
    from bci.commands.stopping import Stopped, stop_flag

    info = session.info
    print(
        f"classifying {info.name!r} ({info.n_channels} ch, {info.sfreq:g} Hz) into "
        f"{', '.join(session.classes)}; publishing '{session.publish_name}-probabilities'",
        flush=True,
    )
    stopped = stop_flag()  # Ctrl-C / SIGTERM end the loop between steps, never inside one
    end = time.monotonic() + seconds if seconds else float("inf")
    last_print = last_window = time.monotonic()
    fresh = False
    limit = EventLimiter(1.0)  # gaps chunk after chunk: one line a second, with the count
    try:
        while time.monotonic() < end and stopped() is None:
            update = session.step()
            report.add(update)
            if session.refused is not None:
                break  # said once, by the command line's error line
            for ev in limit(update.events):
                print(f"stream: {ev.message}", flush=True)
            for t, label in zip(update.marker_times, update.markers, strict=True):
                print(f"marker {label!r} at {t:.3f}", flush=True)
            now = time.monotonic()
            if update.prob_times.size:
                fresh, last_window = True, now
            if now - last_print < 0.5:
                pass
            elif fresh:
                last_print, fresh = now, False
                p = session.last_probabilities
                bars = "  ".join(f"{c} {v:4.0%}" for c, v in zip(session.classes, p, strict=True))
                print(
                    f"{bars}  -> {session.classes[int(np.argmax(p))]:>8s}   latency median "
                    f"{1e3 * session.latency.median():.0f} ms, "
                    f"p95 {1e3 * session.latency.p95():.0f} ms",
                    flush=True,
                )
            elif now - last_window >= 2.0 and now - last_print >= 2.0:
                # Repeating the last probabilities would pass them off as current.
                last_print = now
                print(f"no data from {info.name!r} for {now - last_window:.0f} s", flush=True)
            time.sleep(0.01)  # pacing: each step handles whatever arrived meanwhile
    finally:
        for line in report.lines(session):
            print(line, flush=True)
    signum = stopped()
    if signum is not None:
        raise Stopped(signum)
    if session.refused is not None:
        # One line and exit 2 (the command line prints it), not stale probabilities.
        raise StreamChangedError(session.refused)
    return 0
