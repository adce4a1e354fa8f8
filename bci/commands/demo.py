"""``bci demo [--headless] [--seconds S] [--seed N]``: the whole product on a simulated headset."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bci.commands.native_output import native_output_to


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    p = subparsers.add_parser(
        "demo",
        help="calibrate, train and classify live on a simulated headset (no hardware)",
        description=(
            "A simulated headset streams EEG on LSL; a short calibration session cues a "
            "simulated person who follows the cues while the EEG is recorded; a model is "
            "trained and cross-validated; then the same stream is classified live and the "
            "live accuracy is measured against what the person was really doing. Opens "
            "windows when a display is available, otherwise tells the story in the terminal."
        ),
    )
    p.add_argument(
        "--headless",
        action="store_true",
        help="no windows, print the story in the terminal (automatic without a display)",
    )
    p.add_argument(
        "--seconds",
        type=float,
        default=90.0,
        metavar="S",
        help=(
            "length of the demo in seconds (default 90, at least 20); at least 15 s of it "
            "are live use, so a short demo runs over (it says how long at the start)"
        ),
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the simulation")
    p.add_argument(
        "--out-dir",
        metavar="DIR",
        help="keep the recording and the model there (default: a temporary folder)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; 0 when it measured a live accuracy."""
    from bci.commands._demo_story import Story, main_exit_code, run_demo

    headless = bool(args.headless)
    if not headless:
        from bci.commands.display import window_problem

        problem = window_problem()
        if problem is not None:
            # A demo is worth seeing anyway: the same story in the terminal.
            print(f"bci demo: cannot open a window: {problem}; going on in the terminal")
            headless = True
    out_dir = Path(args.out_dir) if args.out_dir else Path(tempfile.mkdtemp(prefix="bci-demo-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    log = out_dir / "demo.log"
    with native_output_to(log) as write:
        story = Story(write)
        report = run_demo(
            seconds=args.seconds, seed=args.seed, headless=headless, out_dir=out_dir, story=story
        )
        write(f"(messages of the LSL and XDF libraries: {log})")
    return main_exit_code(report)
