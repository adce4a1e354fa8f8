"""Public datasets fetched through MNE: PhysioNet EEG Motor Movement/Imagery (``eegbci``).

``mne.datasets.eegbci.load_data`` checks the files already on disk (by their registry
hash) and downloads only what is missing, so a folder that holds them works offline.
Schalk et al., BCI2000, IEEE TBME 51(6), 2004; Goldberger et al., PhysioNet, Circulation
101(23), 2000 (ODC-By 1.0).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bci.errors import BCIError

EEGBCI_SUBJECTS = range(1, 110)
EEGBCI_RUNS = range(1, 15)

#: What T1/T2 mean in each run of the eegbci set (T0 is rest everywhere).
EEGBCI_RUN_TASKS = {
    1: "baseline, eyes open",
    2: "baseline, eyes closed",
    **{r: "executed left/right fist (T1 left, T2 right)" for r in (3, 7, 11)},
    **{r: "imagined left/right fist (T1 left, T2 right)" for r in (4, 8, 12)},
    **{r: "executed both fists/both feet (T1 fists, T2 feet)" for r in (5, 9, 13)},
    **{r: "imagined both fists/both feet (T1 fists, T2 feet)" for r in (6, 10, 14)},
}


def eegbci_files(subject: int, runs: Sequence[int], path: str | Path | None = None) -> list[Path]:
    """Return the EDF paths of ``subject``'s ``runs``, downloading the missing ones.

    Parameters
    ----------
    subject : int
        1 to 109.
    runs : sequence of int
        1 to 14 (see :data:`EEGBCI_RUN_TASKS`).
    path : str or Path, optional
        Folder holding (or to receive) ``MNE-eegbci-data``; MNE's default data folder
        otherwise. The MNE configuration is never changed (``update_path=False``).

    Raises
    ------
    BCIError
        A subject or run out of range, or files missing and the download failing (offline).
    """
    import mne

    if isinstance(subject, bool) or int(subject) not in EEGBCI_SUBJECTS:
        raise BCIError(f"eegbci: --subject {subject!r} is out of range; choose 1 to 109")
    runs = [int(r) for r in runs]
    if not runs:
        raise BCIError("eegbci: give at least one run (--runs 4 8 12)")
    bad = [r for r in runs if r not in EEGBCI_RUNS]
    if bad:
        raise BCIError(f"eegbci: --runs {bad} out of range; runs are 1 to 14")
    folder = None if path is None else str(Path(path).expanduser())
    try:
        files = mne.datasets.eegbci.load_data(
            int(subject), runs, path=folder, update_path=False, verbose="ERROR"
        )
    except Exception as exc:  # pooch/requests raise many types when offline
        where = folder or "MNE's data folder"
        raise BCIError(
            f"eegbci: subject {subject} runs {runs} are not in {where} and could not be "
            f"downloaded ({type(exc).__name__}: {exc}); connect to the network or point "
            "--path at a folder holding MNE-eegbci-data"
        ) from None
    return [Path(f) for f in files]
