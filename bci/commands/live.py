"""``bci live --model M.bci [--stream N] [--markers N] [--headless]``: classify a stream live."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from bci.commands.board_options import add_board_arguments, check_board_or_stream
from bci.commands.display import display_available

if TYPE_CHECKING:
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
    """Open the stream and classify it; 0 on a normal end, 2 when the stream is refused."""
    check_board_or_stream(args, "live")
    from acquisition.lsl_source import LSLSource
    from bci.errors import BCIError
    from bci.live_session import LiveSession
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
        source = LSLSource(**query, marker_name=args.markers, timeout=args.timeout)
    publish = args.publish or source.info.name
    headless = args.headless or not display_available()
    if headless:
        with LiveSession(source, pipeline, publish_name=publish) as session:
            code = _print_live(session, args.seconds)
        _save_adapted(pipeline, args.save_adapted)
        return code
    from gui.live_window import open_live_window
    from gui.qt import QtCore, app

    window = open_live_window(source, pipeline, publish_name=publish)
    window.start()
    if args.seconds:
        QtCore.QTimer.singleShot(round(args.seconds * 1000), window.close)
    app().exec()
    if window.session is None:
        source.close()
        return 2
    window.session.close()
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


def _print_live(session: LiveSession, seconds: float | None) -> int:
    import numpy as np

    info = session.info
    print(
        f"classifying {info.name!r} ({info.n_channels} ch, {info.sfreq:g} Hz) into "
        f"{', '.join(session.classes)}; publishing '{session.publish_name}-probabilities'",
        flush=True,
    )
    end = time.monotonic() + seconds if seconds else float("inf")
    last_print = 0.0
    while time.monotonic() < end:
        update = session.step()
        for ev in update.events:
            print(f"stream: {ev.message}", flush=True)
        for t, label in zip(update.marker_times, update.markers, strict=True):
            print(f"marker {label!r} at {t:.3f}", flush=True)
        now = time.monotonic()
        if session.last_probabilities is not None and now - last_print >= 0.5:
            last_print = now
            p = session.last_probabilities
            bars = "  ".join(f"{c} {v:4.0%}" for c, v in zip(session.classes, p, strict=True))
            print(
                f"{bars}  -> {session.classes[int(np.argmax(p))]:>8s}   latency median "
                f"{1e3 * session.latency.median():.0f} ms, p95 {1e3 * session.latency.p95():.0f} ms",
                flush=True,
            )
        time.sleep(0.01)  # pacing: each step handles whatever arrived meanwhile
    health = session.health
    if health is not None:
        print(
            f"live: {health.samples_received} samples received, {health.dropped_samples} "
            f"dropped; latency median {1e3 * session.latency.median():.1f} ms, "
            f"p95 {1e3 * session.latency.p95():.1f} ms",
            flush=True,
        )
    return 0
