"""``bci train RECORDING... --paradigm P.toml [--model K] --out M.bci``: fit and save a model."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from bci.commands.common import (
    add_recording_arguments,
    crops_line,
    load_labelled_epochs,
    recording_epoch_lines,
)

if TYPE_CHECKING:
    import numpy as np

    from bci.pipeline import Pipeline


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    p = subparsers.add_parser(
        "train",
        help="train a model on recordings and save it as a .bci file",
        description=(
            "Filter the recordings causally, cut the paradigm's epochs, fit features, scaler "
            "and model, print epochs per class, training accuracy and a 5-fold "
            "cross-validated estimate, and save the model."
        ),
    )
    add_recording_arguments(p)
    p.add_argument("--out", required=True, metavar="M.bci", help="where to write the model")
    p.add_argument("--cv", type=int, default=5, help="folds of the quick estimate (0 to skip)")
    p.add_argument("--seed", type=int, default=42, help="seed of the cross-validation folds")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, report and save; return the exit code."""
    from bci.model_file import save_model

    paradigm, recordings, pipe, E, y, info = load_labelled_epochs(args, "train")
    for rinfo in info["recordings"]:
        for line in recording_epoch_lines(rinfo):
            print(line)
    counts = info["counts"]
    print(
        f"paradigm {paradigm.name or paradigm.source}: {len(y)} epochs "
        f"({', '.join(f'{c} {counts.get(c, 0)}' for c in paradigm.class_names)}), "
        f"{pipe.n_channels} channels at {pipe.sfreq:g} Hz, features {paradigm.features.method}, "
        f"model {paradigm.model.kind}, adaptation {paradigm.adaptation.method}"
    )
    if line := crops_line(paradigm, info.get("crops")):
        print(line)
    start = time.perf_counter()
    # Each recording (session, person) is its own re-centring group with [adaptation].
    # With [epochs] train_crops the model learns from the crops of every trial.
    pipe.fit_epochs(E, y, info["groups"], crops=info.get("crops"))
    fit_seconds = time.perf_counter() - start
    train_acc = pipe.score_epochs(E, y, info["groups"])
    print(
        f"training accuracy {train_acc:.3f} (fit in {fit_seconds:.2f} s; optimistic: same epochs)"
    )
    metrics: dict = {
        "train_accuracy": train_acc,
        "n_epochs": len(y),
        "counts": counts,
        "fit_seconds": fit_seconds,
        "recordings": [str(r.path) for r in recordings],
    }
    if args.cv and args.cv > 1:
        cv = quick_cv(
            pipe, E, y, info["groups"], folds=args.cv, seed=args.seed, crops=info.get("crops")
        )
        if cv is not None:
            metrics["cross_validation"] = cv
    out = save_model(args.out, pipe, metrics=metrics)
    print(f"saved {out}")
    return 0


def quick_cv(
    pipe: Pipeline,
    E: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    folds: int,
    seed: int,
    crops=None,
):
    """Print a cross-validated accuracy (``bci evaluate`` gives the full report)."""
    from bci.errors import BCIError
    from bci.evaluation import cross_validate

    try:
        adapt = groups if pipe.adapter is not None else None
        result = cross_validate(
            E, y, groups, pipe.clone, cv=folds, seed=seed, adapt_groups=adapt, crops=crops
        )
    except BCIError as exc:
        print(f"cross-validation skipped: {exc}")
        return None
    acc, std = result.get("accuracy"), result.get("accuracy_std")
    thr = result.get("significance_threshold")
    verdict = ""
    if thr is not None and acc is not None:
        verdict = "above chance" if acc > thr else "NOT above chance"
        verdict = f"; p<0.05 needs > {thr:.3f}: {verdict}"
    print(
        f"{folds}-fold cross-validated accuracy {acc:.3f} +/- {std:.3f} "
        f"(chance {result.get('chance_level', float('nan')):.3f}{verdict})"
    )
    return result
