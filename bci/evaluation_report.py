"""One subject's evaluation report: recordings in, the dict ``bci evaluate --json`` writes out.

``bci evaluate`` and every task of ``bci benchmark`` build their report here, so a
benchmark row is exactly what ``bci evaluate`` prints for that subject and paradigm.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bci.errors import BCIError
from bci.evaluation import Progress, cross_validate, pseudo_online
from bci.paradigm import Paradigm
from bci.pipeline import Pipeline


def labelled_epochs(
    paradigm: Paradigm,
    paths: Sequence[str | Path],
    *,
    events: str | Path | None = None,
    command: str = "evaluate",
) -> tuple[list, Pipeline, np.ndarray, np.ndarray, dict]:
    """Load ``paths`` and cut the paradigm's labelled epochs, filtered causally.

    Returns
    -------
    recordings, pipeline (unfitted), E (n_epochs, n_channels, n_times), y, info
        ``info`` as returned by :meth:`Pipeline.epochs_from_recordings`.

    Raises
    ------
    BCIError
        No recordings, ``events`` with several recordings, no epochs, or fewer than two
        classes; the message names the recordings and the paradigm's markers.
    """
    from acquisition.file_source import load_recording

    if not paths:
        raise BCIError(f"{command}: no recordings given")
    if events is not None and len(paths) > 1:
        raise BCIError(f"{command}: --events applies to a single recording; give one RECORDING")
    recordings = [load_recording(path, events=events) for path in paths]
    pipe = Pipeline.for_recording(paradigm, recordings[0])
    E, y, info = pipe.epochs_from_recordings(recordings)
    names = ", ".join(str(r.path) for r in recordings)
    if len(y) == 0:
        markers = ", ".join(f"{k}={v}" for k, v in paradigm.classes.items())
        raise BCIError(
            f"{command}: no epochs found in {names}; the paradigm's markers ({markers}) do not "
            "occur in the recordings (see `bci info RECORDING`)"
        )
    present = [c for c in paradigm.class_names if info["counts"].get(c, 0)]
    if len(present) < 2:
        raise BCIError(
            f"{command}: {names} hold epochs of {' and '.join(present)} only; {command} needs "
            f"at least two of {', '.join(paradigm.class_names)} (check the paradigm's "
            "[classes] markers against the recordings)"
        )
    return recordings, pipe, E, y, info


def recording_epochs(rinfo: dict) -> dict:
    """The JSON-safe part of one recording's epoch info: what was kept and what dropped.

    ``path``, ``counts`` (epochs per class), ``n_dropped`` (past the end),
    ``n_nonfinite`` (touching NaN/infinite samples) and ``nonfinite`` (where those samples
    were, or None).
    """
    return {
        "path": None if rinfo.get("path") is None else str(rinfo["path"]),
        "counts": {str(k): int(v) for k, v in rinfo["counts"].items()},
        "n_dropped": int(rinfo.get("n_dropped", 0)),
        "n_nonfinite": int(rinfo.get("n_nonfinite", 0)),
        "nonfinite": rinfo.get("nonfinite"),
    }


def subject_ids(paths: Sequence[str | Path], pattern: str | None) -> list[str]:
    """Subject of each recording: its folder, or what ``pattern`` finds in its path (the
    first group, else the whole match)."""
    if pattern is None:
        return [str(Path(p).resolve().parent) for p in paths]
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise BCIError(f"--subject-of {pattern!r} is not a regular expression ({exc})") from None
    out = []
    for p in paths:
        m = regex.search(str(p))
        if m is None:
            raise BCIError(
                f"--subject-of {pattern!r} does not match {p}; give a pattern every "
                "recording path contains"
            )
        out.append(m.group(1) if m.groups() else m.group(0))
    return out


def epoch_groups(
    paths: Sequence[str | Path],
    recording_index: np.ndarray,
    group_by: str | None,
    subject_of: str | None = None,
) -> np.ndarray | None:
    """The group of every epoch: its recording, its folder for ``group_by="session"``, its
    subject (folder, or ``subject_of`` pattern) for ``group_by="subject"``."""
    if group_by is None:
        return None
    if group_by == "subject":
        subjects = subject_ids(paths, subject_of)
        ids = {s: i for i, s in enumerate(dict.fromkeys(subjects))}
        return np.asarray([ids[subjects[i]] for i in recording_index], dtype=np.int64)
    if group_by == "session":
        folders = [str(Path(p).resolve().parent) for p in paths]
        ids = {f: i for i, f in enumerate(dict.fromkeys(folders))}
        return np.asarray([ids[folders[i]] for i in recording_index], dtype=np.int64)
    return np.asarray(recording_index, dtype=np.int64)


def evaluation_report(
    paradigm: Paradigm,
    paths: Sequence[str | Path],
    *,
    cv: int = 5,
    seed: int | None = 42,
    group_by: str | None = None,
    events: str | Path | None = None,
    with_pseudo_online: bool = True,
    command: str = "evaluate",
    subject_of: str | None = None,
    progress: Progress | None = None,
) -> tuple[dict, Pipeline, np.ndarray, np.ndarray]:
    """Cross-validate ``paradigm`` on the recordings at ``paths`` and build the report.

    Parameters
    ----------
    paradigm : Paradigm
    paths : sequence of path
        Recording files of one subject.
    cv, seed, group_by
        As :func:`bci.evaluation.cross_validate`.
    events : path, optional
        An MNE events file for a single recording.
    with_pseudo_online : bool
        Also score sliding windows over each held-out recording (needs two recordings;
        ``pseudo_online`` is ``None`` otherwise). With ``group_by`` subject or session, all
        recordings of a group are held out together.
    subject_of : str, optional
        Regular expression naming the subject in each path (``group_by="subject"``).
    progress : callable, optional
        ``progress(fraction, text)`` through the cross-validation and the pseudo-online
        loops.

    With ``[adaptation]`` every recording is its own re-centring group: the folds' figure
    is the batch one, ``pseudo_online["epoch_accuracy"]`` the causal one.

    Returns
    -------
    report, pipeline (unfitted), E, y, crops
        ``report`` is JSON-safe: the :func:`~bci.evaluation.cross_validate` keys plus
        ``paradigm``, ``recordings``, ``epochs_per_class``, ``recording_epochs`` (see
        :func:`recording_epochs`) and ``pseudo_online``. ``crops``: the trials'
        :class:`~bci.epochs.TrainCrops` with ``[epochs] train_crops``, else None.
    """
    if cv < 2:
        raise BCIError(f"{command}: --cv {cv}: need at least 2 folds")
    recordings, pipe, E, y, info = labelled_epochs(paradigm, paths, events=events, command=command)
    groups = epoch_groups(list(paths), info["groups"], group_by, subject_of)
    adapt_groups = info["groups"] if pipe.adapter is not None else None
    result = cross_validate(
        E,
        y,
        groups,
        pipe.clone,
        cv=cv,
        seed=seed,
        group_by=group_by,
        adapt_groups=adapt_groups,
        crops=info.get("crops"),
        progress=progress,
    )
    online = None
    held_out = None
    if group_by in ("subject", "session"):
        held_out = epoch_groups(list(paths), np.arange(len(paths)), group_by, subject_of)
        held_out = held_out.tolist()
    if with_pseudo_online and len(recordings) >= 2 and len(set(held_out or [0, 1])) >= 2:
        online = pseudo_online(
            recordings,
            lambda rec: Pipeline.for_recording(paradigm, rec),
            groups=held_out,
            progress=progress,
        )
        online["held_out"] = group_by if held_out is not None else "recording"
    report = {
        **result,
        "paradigm": paradigm.to_dict(),
        "recordings": [str(p) for p in paths],
        "epochs_per_class": info["counts"],
        "recording_epochs": [recording_epochs(r) for r in info["recordings"]],
        "pseudo_online": online,
    }
    return report, pipe, E, y, info.get("crops")
