"""``bci dataset eegbci --subject N --runs 4 8 12 [--path DIR]``: fetch public recordings."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``dataset`` subcommand."""
    from bci.datasets import EEGBCI_RUN_TASKS  # the standard library only: cheap

    p = subparsers.add_parser(
        "dataset",
        help="fetch a public EEG dataset (files already on disk are found offline)",
        description="Fetch public recordings through MNE and print their file paths.",
    )
    sub = p.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    e = sub.add_parser(
        "eegbci",
        help="PhysioNet EEG Motor Movement/Imagery (64 EEG, 160 Hz, EDF)",
        description=(
            "PhysioNet EEG Motor Movement/Imagery (Schalk et al. 2004). Runs: "
            + "; ".join(f"{r}: {t}" for r, t in EEGBCI_RUN_TASKS.items() if r in (1, 2, 3, 4, 5, 6))
            + "; 7-14 repeat 3-6."
        ),
    )
    e.add_argument("--subject", type=int, required=True, help="subject number, 1 to 109")
    e.add_argument("--runs", type=int, nargs="+", required=True, help="run numbers, 1 to 14")
    e.add_argument(
        "--path", metavar="DIR", help="folder holding/receiving MNE-eegbci-data (default: MNE's)"
    )
    e.set_defaults(func=run_eegbci)


def run_eegbci(args: argparse.Namespace) -> int:
    """Print one EDF path per run (stdout; what each run holds goes to stderr)."""
    from bci.datasets import EEGBCI_RUN_TASKS, eegbci_files

    files = eegbci_files(args.subject, args.runs, args.path)
    for run, path in zip(args.runs, files, strict=True):
        print(path)
        print(f"run {run}: {EEGBCI_RUN_TASKS[run]}", file=sys.stderr)
    return 0
