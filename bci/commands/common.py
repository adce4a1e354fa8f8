"""What ``train``, ``evaluate`` and ``calibrate`` share: paradigm and recording arguments,
and turning them into labelled epochs with errors that name the recordings.

Not a command itself (it has no ``register``). Imported when commands register, so it
keeps to their rule (see :mod:`bci.commands`): the standard library at the top, the rest
inside the functions that need it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from bci.epochs import TrainCrops
    from bci.paradigm import Paradigm
    from bci.pipeline import Pipeline


def add_paradigm_argument(p: argparse.ArgumentParser) -> None:
    """Add ``--paradigm`` (a file or a built-in name)."""
    from bci.paradigm import builtin_paradigms  # the standard library only: cheap

    p.add_argument(
        "--paradigm",
        required=True,
        metavar="P.toml",
        help=f"paradigm file, or a built-in name ({', '.join(builtin_paradigms())})",
    )


def add_recording_arguments(p: argparse.ArgumentParser) -> None:
    """Add ``RECORDING...``, ``--paradigm``, ``--model``, ``--events`` and ``--adapt``."""
    from bci.paradigm import ADAPTATION_METHODS, MODEL_KINDS  # the standard library only: cheap

    p.add_argument("recordings", nargs="+", metavar="RECORDING", help="recording files")
    add_paradigm_argument(p)
    p.add_argument("--model", choices=MODEL_KINDS, help="override the paradigm's model kind")
    p.add_argument("--events", metavar="EVENTS_FILE", help="MNE events file (one recording only)")
    p.add_argument(
        "--adapt",
        choices=ADAPTATION_METHODS,
        help=(
            "override [adaptation] method: recentre = each recording re-centred on its own "
            "mean (Riemannian for tangent-space features, standardised otherwise)"
        ),
    )


def recording_epoch_lines(rinfo: dict) -> list[str]:
    """What ``train`` and ``evaluate`` print about one recording's epochs.

    ``rinfo`` is one entry of ``info["recordings"]`` from
    :meth:`bci.pipeline.Pipeline.epochs_from_recordings` (or the JSON-safe copy in an
    evaluation report): ``path``, ``counts``, ``n_dropped``, ``n_nonfinite`` and, when the
    recording held NaN/infinite samples, ``nonfinite`` (where they were). Returns the
    epochs-per-class line, then ``warning: ...`` when non-finite samples cost epochs.
    """
    counts = ", ".join(f"{k} {v}" for k, v in rinfo["counts"].items()) or "none"
    dropped = f" ({rinfo['n_dropped']} dropped: past the end)" if rinfo.get("n_dropped") else ""
    if rinfo.get("n_nonfinite"):
        dropped += f" ({rinfo['n_nonfinite']} dropped: NaN/infinite samples)"
    lines = [f"{rinfo['path']}: epochs {counts}{dropped}"]
    if rinfo.get("nonfinite"):
        lines.append(f"warning: {rinfo['nonfinite']}")
    return lines


def crops_line(paradigm: Paradigm, crops: TrainCrops | None) -> str | None:
    """What ``train`` and ``evaluate`` print about cropped training (None when it is off).

    ``crops`` is ``info["crops"]`` of the training epochs, or None.
    """
    c = paradigm.epochs.train_crops
    if crops is None or c is None:
        return None
    return (
        f"cropped training: {int(crops.valid.sum())} crops of {len(crops)} trials "
        f"({c.length:g} s starting {c.start:g} .. {c.starts()[-1]:g} s every {c.step:g} s); "
        "scored on the epochs"
    )


def resolve_paradigm(arg: str) -> Paradigm:
    """A paradigm from a file path, else from a built-in name."""
    from bci.paradigm import builtin_paradigm, builtin_paradigms, load_paradigm

    path = Path(arg)
    if path.exists() or (arg.endswith(".toml") and arg[:-5] not in builtin_paradigms()):
        return load_paradigm(path)
    return builtin_paradigm(arg)


def paradigm_from_args(args: argparse.Namespace) -> Paradigm:
    """The paradigm of ``--paradigm``, with ``--model`` and ``--adapt`` applied when given."""
    paradigm = resolve_paradigm(args.paradigm)
    if args.model and args.model != paradigm.model.kind:
        paradigm = paradigm.with_model(args.model)
    adapt = getattr(args, "adapt", None)
    if adapt and adapt != paradigm.adaptation.method:
        paradigm = paradigm.with_adaptation(adapt)
    return paradigm


def load_labelled_epochs(
    args: argparse.Namespace, command: str
) -> tuple[Paradigm, list, Pipeline, np.ndarray, np.ndarray, dict]:
    """Load the paradigm and recordings of ``args`` and cut their labelled epochs.

    Returns
    -------
    paradigm, recordings, pipeline (unfitted), E (n_epochs, n_channels, n_times), y, info
        ``info`` as returned by :meth:`Pipeline.epochs_from_recordings`.

    Raises
    ------
    BCIError
        ``--events`` with several recordings, no epochs, or fewer than two classes; the
        message names the recordings and the paradigm's markers.
    """
    from bci.evaluation_report import labelled_epochs

    paradigm = paradigm_from_args(args)
    recordings, pipe, E, y, info = labelled_epochs(
        paradigm, list(args.recordings), events=args.events, command=command
    )
    for rec in recordings:
        for note in rec.extras.get("warnings", []):
            print(f"warning: {note}", file=sys.stderr)
    return paradigm, recordings, pipe, E, y, info


def add_status_every_argument(p: argparse.ArgumentParser) -> None:
    """Add ``--status-every S`` (seconds between status lines; 0: none)."""
    p.add_argument(
        "--status-every",
        type=_status_seconds,
        default=2.0,
        metavar="S",
        help="seconds between status lines (default 2; 0: no status lines)",
    )


def _status_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds >= 0 (0: no status lines), got {text!r}"
        )
    return value


def first_status_time(started: float, every: float) -> float:
    """When the first status line is due: ``started + every``, never for ``every == 0``."""
    return started + every if every > 0 else float("inf")


def stop_on_sigterm() -> Callable[[], bool]:
    """Make SIGINT and SIGTERM end a command's loop cleanly; return whether one came.

    A recording or a stream stopped by a service manager must close its files as on
    Ctrl-C; both signals only set the flag (:func:`bci.commands.stopping.stop_flag`), so
    neither interrupts the work in the middle of a step.
    """
    from bci.commands.stopping import stop_flag

    came = stop_flag()
    return lambda: came() is not None
