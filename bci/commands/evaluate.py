"""``bci evaluate RECORDING... --paradigm P.toml``: leak-free cross-validated accuracy.

Prints a table (per-fold accuracy, mean +/- std, chance level, the accuracy needed to beat
chance at p < 0.05, Cohen's kappa, the confusion matrix, timings, pseudo-online accuracy)
and optionally writes it as JSON and draws plots.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from bci.commands.common import (
    add_recording_arguments,
    crops_line,
    paradigm_from_args,
    recording_epoch_lines,
)

if TYPE_CHECKING:
    from bci.pipeline import Pipeline

#: ``--group-by`` choices: :data:`bci.evaluation.GROUP_BY`, written out so that registering
#: the command does not import the evaluation (numpy); a test keeps the two equal.
GROUP_BY = ("recording", "session", "run", "subject")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand."""
    p = subparsers.add_parser(
        "evaluate",
        help="cross-validate a paradigm on recordings (leak-free) and report accuracy",
        description=(
            "Filter the recordings causally, cut the paradigm's epochs and cross-validate: "
            "every fitted step (spatial filter, scaler, model) is refitted inside each fold. "
            "Reports accuracy per fold, chance level, the accuracy needed to beat chance at "
            "p < 0.05 (binomial, Combrisson & Jerbi 2015), Cohen's kappa, the confusion "
            "matrix and, with two or more recordings, pseudo-online accuracy of sliding "
            "windows over each held-out recording."
        ),
    )
    add_recording_arguments(p)
    p.add_argument("--cv", type=int, default=5, help="number of folds (default 5)")
    p.add_argument("--seed", type=int, default=42, help="seed of the fold assignment")
    p.add_argument(
        "--group-by",
        choices=GROUP_BY,
        help=(
            "keep all epochs of a group in one fold: recording/run = each file, session = "
            "the files of one folder, subject = the folder too, or what --subject-of "
            "extracts (leave-one-group-out when there are few groups)"
        ),
    )
    p.add_argument(
        "--subject-of",
        metavar="REGEX",
        help=(
            "with --group-by subject: a regular expression whose first group (or whole "
            r"match) in each recording's path names the subject, e.g. 'S(\d+)R'"
        ),
    )
    p.add_argument("--json", metavar="OUT", help="write the report as JSON to this file")
    p.add_argument(
        "--plots", metavar="DIR", help="write confusion matrix, learning curves, topography"
    )
    p.add_argument(
        "--no-pseudo-online",
        action="store_true",
        help="skip the sliding-window evaluation over held-out recordings",
    )
    p.set_defaults(func=run)


def format_report(r: dict, paradigm_name: str) -> list[str]:
    """The human-readable table of a :func:`cross_validate` report."""
    lines = [f"paradigm {paradigm_name}: {r['n_epochs']} epochs, classes {', '.join(r['classes'])}"]
    split = f"grouped by {r['group_by']}" if r["group_by"] else "stratified by class"
    lines.append(f"{r['n_folds']}-fold cross-validation, {split}, seed {r['seed']}")
    lines.append(f"{'fold':>6s} {'epochs':>7s} {'accuracy':>9s}")
    for i, (n, a) in enumerate(zip(r["fold_sizes"], r["fold_accuracies"], strict=True), 1):
        lines.append(f"{i:>6d} {n:>7d} {a:>9.3f}")
    lines.append(
        f"{'mean':>6s} {r['n_epochs']:>7d} {r['accuracy']:>9.3f} +/- {r['accuracy_std']:.3f}"
    )
    lines.append(
        f"chance level {r['chance_level']:.3f}; p < 0.05 needs accuracy > "
        f"{r['significance_threshold']:.3f} for {r['n_epochs']} epochs; kappa {r['kappa']:.3f}"
    )
    lines.append(r["verdict"])
    width = max(8, *(len(c) for c in r["classes"]))
    lines.append("confusion matrix (rows true, columns predicted):")
    lines.append(" " * (width + 1) + " ".join(f"{c:>{width}s}" for c in r["classes"]))
    for c, row in zip(r["classes"], r["confusion_matrix"], strict=True):
        lines.append(f"{c:>{width}s} " + " ".join(f"{v:>{width}d}" for v in row))
    lines.append(
        f"fit {r['fit_seconds']:.3f} s per fold; predict {r['predict_ms_per_epoch']:.3f} ms per epoch"
    )
    return lines


def run(args: argparse.Namespace) -> int:
    """Cross-validate, print, and write JSON/plots; return the exit code."""
    from bci.commands.progress import ProgressBar
    from bci.errors import BCIError
    from bci.evaluation_report import evaluation_report

    if args.subject_of is not None and args.group_by != "subject":
        raise BCIError("evaluate: --subject-of needs --group-by subject")
    paradigm = paradigm_from_args(args)
    bar = ProgressBar()  # say what it is doing while it cross-validates and slides windows
    report, pipe, E, y, crops = evaluation_report(
        paradigm,
        list(args.recordings),
        cv=args.cv,
        seed=args.seed,
        group_by=args.group_by,
        events=args.events,
        with_pseudo_online=not args.no_pseudo_online,
        subject_of=args.subject_of,
        progress=bar,
    )
    bar.done()
    name = paradigm.name or str(args.paradigm)
    for rinfo in report["recording_epochs"]:
        for line in recording_epoch_lines(rinfo):
            print(line)
    if line := crops_line(paradigm, crops):
        print(line)
    for line in format_report(report, name):
        print(line)
    if paradigm.adaptation.enabled:
        print(
            f"adaptation {paradigm.adaptation.method}: batch figure above (each held-out "
            "recording re-centred on all its epochs); causal figure below (pseudo-online)"
        )
    online = report["pseudo_online"]
    if online is not None:
        per = ", ".join(f"{p['accuracy']:.3f}" for p in online["per_recording"])
        unit = online.get("held_out", "recording")
        print(
            f"pseudo-online ({paradigm.online.window:g} s windows every "
            f"{paradigm.online.step:g} s, leave-one-{unit}-out): accuracy "
            f"{online['accuracy']:.3f} over {online['n_windows']} windows (per recording: "
            f"{per}); chance {online['chance_level']:.3f}"
        )
        if "epoch_accuracy" in online:
            print(
                "causal epoch accuracy (adaptation running as live, no look-ahead): "
                f"{online['epoch_accuracy']:.3f} over {online['n_epochs']} epochs"
            )
    elif len(args.recordings) < 2:
        print("pseudo-online: needs at least 2 recordings (train on others, slide over one)")

    if args.plots:
        print(f"plots: fitting the model, a learning curve and the topography into {args.plots}")
        written = write_plots(Path(args.plots), pipe, E, y, report, args, progress=bar, crops=crops)
        bar.done()
        report["plots"] = [str(p) for p in written]
        print(f"plots written to {args.plots}: {', '.join(Path(p).name for p in report['plots'])}")
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2), encoding="utf-8")
        print(f"report written to {out}")
    return 0


def write_plots(
    folder: Path, pipe: Pipeline, E, y, result: dict, args, progress=None, crops=None
) -> list[Path]:
    """Confusion matrix, learning curves and band-power topography into ``folder``.

    ``crops`` (cropped training): the model and the learning curve train on them."""
    from bci.evaluation import learning_curve
    from bci.plots import plot_band_power_topography, plot_confusion_matrix, plot_learning_curves

    written = [
        plot_confusion_matrix(
            result["confusion_matrix"], result["classes"], folder / "confusion_matrix.png"
        )
    ]
    full = pipe.clone().fit_epochs(E, y, crops=crops)
    model = full.model
    curve = learning_curve(
        E, y, pipe.clone, cv=min(args.cv, 5), seed=args.seed, crops=crops, progress=progress
    )
    written.append(
        plot_learning_curves(
            folder / "learning_curves.png",
            loss_curve=list(getattr(model, "loss_curve_", []) or []),
            validation_scores=list(getattr(model, "validation_scores_", []) or []),
            curve=curve,
            chance=result["chance_level"],
        )
    )
    topo = plot_band_power_topography(
        E,
        y,
        pipe.ch_names,
        pipe.sfreq,
        pipe.paradigm.features.bands,
        folder / "topography.png",
        classes=result["classes"],
    )
    if topo is None:
        print("topography skipped: fewer than 3 channels have standard 10-20 names")
    else:
        written.append(topo)
    return written
