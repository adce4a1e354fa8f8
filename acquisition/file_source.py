"""Recorded EEG files: every format MNE reads, plus XDF, as a :class:`Recording` or a Source.

Markers come, in this order of preference, from an explicit ``events=`` file, an explicit
``stim_channel=``, the file's annotations, its stim channel(s), or a sibling MNE events file
(``NAME_raw.fif`` -> ``NAME-eve.fif``). Every marker is a string (event codes become
``"2"``). Stim channels never appear among the data rows.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from acquisition import limits
from acquisition.array_source import ArraySource
from acquisition.errors import RecordingFileError
from acquisition.montage import standard_name_map
from acquisition.recording import Recording
from acquisition.source import SourceInfo

#: File endings read here, and the format each one is.
SUPPORTED_FORMATS: dict[str, str] = {
    ".edf": "EDF",
    ".bdf": "BDF",
    ".gdf": "GDF",
    ".fif": "FIF",
    ".fif.gz": "FIF",
    ".vhdr": "BrainVision",
    ".set": "EEGLAB",
    ".xdf": "XDF",
    ".xdfz": "XDF",
}

#: Annotation prefixes that mark data segments (bad spans, concatenation edges), not events.
SEGMENT_ANNOTATION_PREFIXES = ("bad", "edge")

#: Unit names by FIFF unit code, for the units of non-EEG rows.
_FIFF_UNITS = {107: "V", 112: "T", 201: "T/m", 114: "K", 0: "NA", -1: "NA"}


def supported_extensions() -> str:
    """Return the file endings :func:`load_recording` reads, for messages."""
    return ", ".join(SUPPORTED_FORMATS)


def file_format(path: str | Path) -> str:
    """Return the format name of ``path`` from its ending, or raise RecordingFileError."""
    name = Path(path).name.lower()
    for ext in sorted(SUPPORTED_FORMATS, key=len, reverse=True):
        if name.endswith(ext):
            return SUPPORTED_FORMATS[ext]
    raise RecordingFileError(
        f"{path}: unknown recording format {Path(path).suffix or '(no extension)'!r}; "
        f"supported: {supported_extensions()}"
    )


def load_recording(
    path: str | Path,
    *,
    events: str | Path | None = None,
    stim_channel: str | None = None,
    stream: str | None = None,
    marker_stream: str | None = None,
) -> Recording:
    """Load a whole recording file into memory.

    Parameters
    ----------
    path : str or Path
        An EDF, BDF, GDF, FIF, BrainVision (``.vhdr``), EEGLAB (``.set``) or XDF file.
    events : str or Path, optional
        An MNE events file (``-eve.fif`` or text ``.eve``) whose codes become the markers,
        overriding what the recording itself holds.
    stim_channel : str, optional
        Take the markers from this stim channel (overrides annotations).
    stream, marker_stream : str, optional
        XDF only: which data and marker streams to use (see
        :func:`acquisition.xdf_file.load_xdf`).

    Returns
    -------
    Recording
        EEG rows in volts (float64), stim channels removed, string markers. ``extras``
        holds ``format``, ``marker_source`` (``"annotations"``, ``"stim"``,
        ``"events file"`` or ``None``) and, where relevant, ``events_path``,
        ``original_ch_names`` and ``skipped_annotations``.

    Raises
    ------
    RecordingFileError
        Missing, empty, truncated, corrupt or unknown-format file; a missing events file or
        stim channel. The message names the file and the problem on one line.
    """
    path = Path(path)
    if not path.exists():
        raise RecordingFileError(f"recording file {path} does not exist; check the path")
    if path.is_dir():
        raise RecordingFileError(f"{path} is a folder, not a recording file")
    fmt = file_format(path)
    if fmt == "XDF":
        if events is not None or stim_channel is not None:
            raise RecordingFileError(
                f"{path}: events= and stim_channel= do not apply to XDF files; their markers "
                "come from the marker stream (choose it with marker_stream=)"
            )
        from acquisition.xdf_file import load_xdf

        return load_xdf(path, stream=stream, marker_stream=marker_stream)
    if stream is not None or marker_stream is not None:
        raise RecordingFileError(
            f"{path}: stream= and marker_stream= apply to XDF files only; this is {fmt}"
        )
    if path.stat().st_size == 0:
        raise RecordingFileError(f"{path} is empty (0 bytes); it holds no recording")
    _check_magic(path, fmt)
    notes: list[str] = []
    raw = _read_raw(path, fmt, notes)
    recording = _recording_from_raw(raw, path, fmt, events=events, stim_channel=stim_channel)
    if notes:
        recording.extras["warnings"] = [*recording.extras.get("warnings", []), *notes]
    return recording


class FileSource(ArraySource):
    """A recording file replayed chunk by chunk through the ``Source`` interface.

    Parameters
    ----------
    path : str or Path
        Any file :func:`load_recording` reads.
    chunk_size : int
        Samples per ``pull`` when ``max_samples`` is not given.
    **load_kwargs
        Passed to :func:`load_recording` (``events=``, ``stim_channel=``).
    """

    def __init__(self, path: str | Path, *, chunk_size: int = 32, **load_kwargs: object) -> None:
        super().__init__(load_recording(path, **load_kwargs), chunk_size=chunk_size)  # type: ignore[arg-type]
        self.path = Path(path)


def _check_magic(path: Path, fmt: str) -> None:
    """Refuse an EDF/BDF whose first bytes are not the format's (MNE does not look)."""
    if fmt not in {"EDF", "BDF"}:
        return
    with path.open("rb") as fh:
        head = fh.read(8)
    want = b"\xffBIOSEMI" if fmt == "BDF" else b"0       "
    if head != want:
        raise RecordingFileError(
            f"{path}: cannot read as {fmt}: it starts with {head!r} where the {fmt} header "
            f"starts with {want!r}; the file is corrupt or of another format"
        )


def _read_raw(path: Path, fmt: str, notes: list[str]):  # -> mne.io.BaseRaw
    import mne

    try:
        with warnings.catch_warnings(), mne.utils.use_log_level("ERROR"):
            warnings.simplefilter("ignore")
            if fmt in {"EDF", "BDF"}:
                _check_edf_record_duration(path, fmt)
            raw = mne.io.read_raw(path, preload=False, verbose="ERROR")
            _check_header_sizes(raw, path)
            _check_data_files(raw, path, fmt)
            _check_complete(raw, path, fmt)
            _check_sizes(raw, path, fmt, notes)
            raw.load_data(verbose="ERROR")
    except RecordingFileError:
        raise
    except Exception as exc:  # MNE and its readers raise anything on corrupt input
        raise RecordingFileError(
            f"{path}: cannot read as {fmt} ({type(exc).__name__}: {_one_line(exc)}); "
            "the file is corrupt, truncated or not really this format"
        ) from None
    if raw.n_times == 0 or len(raw.ch_names) == 0:
        raise RecordingFileError(f"{path}: the {fmt} file holds no samples")
    return raw


def _check_edf_record_duration(path: Path, fmt: str) -> None:
    """Bound the EDF/BDF data-record duration (header bytes 244-252) before MNE divides by it."""
    with path.open("rb") as fh:
        header = fh.read(256)
    try:
        text = header[244:252].decode("ascii").strip()
        seconds = float(text)
    except (UnicodeDecodeError, ValueError):
        return  # MNE reports a header it cannot read
    if seconds == 0:
        return  # EDF+ annotation-only files use 0; MNE handles them
    limits.EDF_RECORD_SECONDS.check(
        seconds, "data record duration", where=f"{path} ({fmt} header)", error=RecordingFileError
    )


def _check_header_sizes(raw, path: Path) -> None:
    """Bound the rate and channel count a file header declares, before its data are read."""
    where = str(path)
    limits.SFREQ.check(
        float(raw.info["sfreq"]), "sampling rate", where=where, error=RecordingFileError
    )
    limits.CHANNELS.check(len(raw.ch_names), "channel count", where=where, error=RecordingFileError)


def _check_data_files(raw, path: Path, fmt: str) -> None:
    """Refuse a header whose data file (``DataFile=``, the ``.fdt``) lies outside its folder.

    A ``.vhdr`` saying ``DataFile=/etc/passwd`` would otherwise be read and replayed as EEG.
    """
    folder = path.resolve().parent
    for name in getattr(raw, "filenames", ()) or ():
        if name is None:
            continue
        data_file = Path(name).resolve()
        if data_file.parent != folder:
            raise RecordingFileError(
                f"{path}: the {fmt} header points at the data file {data_file}, outside the "
                f"header's folder {folder}; refused: keep the data file next to its header"
            )


def _check_sizes(raw, path: Path, fmt: str, notes: list[str]) -> None:
    """BrainVision and EEGLAB size checks, like EDF's record count.

    EEGLAB: the ``.fdt`` must hold ``channels x points`` float32 values (MNE fails later
    with an internal error otherwise). BrainVision: MNE takes the sample count from the
    ``.eeg`` size, so a file cut short would pass for a short recording; the header's
    ``DataPoints`` (when written) or the last marker in the ``.vmrk`` say how long it was:
    a shorter ``.eeg`` is read as far as it goes, with a warning naming both durations.
    """
    sfreq = float(raw.info["sfreq"])
    n_ch = len(raw.ch_names)
    if fmt == "EEGLAB":
        data_file = Path(raw.filenames[0]) if raw.filenames else None
        if data_file is None or data_file.suffix.lower() != ".fdt" or not data_file.is_file():
            return  # data embedded in the .set: MATLAB's own container checks it
        want = raw.n_times * n_ch * 4
        have = data_file.stat().st_size
        if have < want:
            raise RecordingFileError(
                f"{path}: truncated EEGLAB data file {data_file.name}: the header announces "
                f"{raw.n_times} samples x {n_ch} channels ({raw.n_times / sfreq:.2f} s, "
                f"{want} bytes), the file holds {have} bytes ({have / (4 * n_ch) / sfreq:.2f} s)"
            )
    elif fmt == "BrainVision":
        expected = _brainvision_expected_samples(path)
        if expected is not None and expected > raw.n_times:
            note = (
                f"{path}: the BrainVision data file holds {raw.n_times / sfreq:.2f} s "
                f"({raw.n_times} samples) but its header/markers expect at least "
                f"{expected / sfreq:.2f} s ({expected} samples): the .eeg file is truncated; "
                "reading what it holds"
            )
            notes.append(note)
        extra = raw._raw_extras[0] if raw._raw_extras else {}
        data_file = Path(raw.filenames[0]) if raw.filenames else None
        fmt_bytes = {"int_16": 2, "int_32": 4, "single": 4, "double": 8}.get(
            str(extra.get("fmt", "")), 0
        )
        if data_file is not None and data_file.is_file() and fmt_bytes:
            rest = data_file.stat().st_size % (fmt_bytes * extra.get("orig_nchan", n_ch))
            if rest:
                notes.append(
                    f"{path}: the .eeg file ends {rest} bytes into a sample (cut mid-write); "
                    "the partial sample is ignored"
                )


_VMRK_POSITION = re.compile(r"^Mk\d+=[^,]*,[^,]*,\s*(\d+)\s*,\s*(\d+)", re.MULTILINE)


def _brainvision_expected_samples(path: Path) -> int | None:
    """Samples a BrainVision recording should hold: ``DataPoints=`` or its last marker."""
    try:
        header = path.read_text(encoding="latin-1")[: 1 << 20]
    except OSError:
        return None
    found = re.search(r"^\s*DataPoints\s*=\s*(\d+)", header, re.MULTILINE)
    if found:
        return int(found.group(1))
    marker = re.search(r"^\s*MarkerFile\s*=\s*(.+?)\s*$", header, re.MULTILINE)
    if not marker:
        return None
    vmrk = path.parent / Path(marker.group(1)).name  # never outside the header's folder
    try:
        with vmrk.open("r", encoding="latin-1") as fh:
            text = fh.read(16 * 1024 * 1024)
    except OSError:
        return None
    ends = [int(pos) + max(int(points), 1) - 1 for pos, points in _VMRK_POSITION.findall(text)]
    return max(ends) if ends else None


def _check_complete(raw, path: Path, fmt: str) -> None:
    """Refuse EDF/BDF files shorter than their header says.

    MNE quietly keeps the complete data records of a truncated EDF; a recording cut short
    must not pass for a whole one, so compare with the record count in the header.
    """
    if fmt not in {"EDF", "BDF"}:
        return
    with path.open("rb") as fh:
        header = fh.read(256)
    try:
        announced = int(header[236:244].decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        return  # MNE accepted the header; nothing better to compare against
    extra = raw._raw_extras[0]
    have = int(extra.get("n_records", announced))
    if announced > have:
        raise RecordingFileError(
            f"{path}: truncated {fmt} file: the header announces {announced} data records, "
            f"the file holds {have} complete ones ({path.stat().st_size} bytes)"
        )


def _recording_from_raw(
    raw, path: Path, fmt: str, *, events: str | Path | None, stim_channel: str | None
) -> Recording:
    types = raw.get_channel_types()
    stim_names = [n for n, t in zip(raw.ch_names, types, strict=True) if t == "stim"]
    if stim_channel is not None and stim_channel not in raw.ch_names:
        raise RecordingFileError(
            f"{path}: no channel named {stim_channel!r} for stim_channel=; channels: "
            f"{', '.join(raw.ch_names)}"
        )
    extras: dict = {"format": fmt}
    samples, labels, source = None, None, None
    if events is not None:
        samples, labels = _events_from_file(Path(events), raw, path)
        source, extras["events_path"] = "events file", str(events)
    elif stim_channel is not None:
        samples, labels = _events_from_stim(raw, [stim_channel], path)
        source = "stim"
    else:
        samples, labels, skipped = _events_from_annotations(raw)
        if skipped:
            extras["skipped_annotations"] = skipped
        source = "annotations" if labels else None
        if not labels and stim_names:
            samples, labels = _events_from_stim(raw, stim_names, path)
            source = "stim" if labels else None
        if not labels:
            sibling = _sibling_events_file(path)
            if sibling is not None:
                samples, labels = _events_from_file(sibling, raw, path)
                source, extras["events_path"] = "events file", str(sibling)
    extras["marker_source"] = source

    drop = set(stim_names) | ({stim_channel} if stim_channel else set())
    picks = [i for i, n in enumerate(raw.ch_names) if n not in drop]
    if not picks:
        raise RecordingFileError(f"{path}: the file holds only stim channels, no signal")
    data = raw.get_data(picks=picks)
    names, original = _clean_names([raw.ch_names[i] for i in picks])
    if original is not None:
        extras["original_ch_names"] = original
    units = tuple(_FIFF_UNITS.get(int(raw.info["chs"][i]["unit"]), "NA") for i in picks)
    meas_date = raw.info.get("meas_date")
    extras["meas_date"] = meas_date.isoformat() if meas_date is not None else None
    info = SourceInfo(
        name=path.name,
        ch_names=tuple(names),
        ch_types=tuple(types[i] for i in picks),
        sfreq=float(raw.info["sfreq"]),
        units=units,
        source_id=str(path.resolve()),
    )
    return Recording(
        data=data,
        info=info,
        marker_samples=np.empty(0, dtype=np.int64) if samples is None else samples,
        marker_labels=labels or [],
        start_time=0.0,
        path=str(path),
        extras=extras,
    )


def _events_from_annotations(raw) -> tuple[np.ndarray, list[str], dict[str, int]]:
    annot = raw.annotations
    if len(annot) == 0:
        return np.empty(0, dtype=np.int64), [], {}
    # pybv writes free-text annotations as BrainVision "Comment" markers; MNE reads them
    # back as "Comment/<text>". Other types ("Stimulus/S  1") keep MNE's spelling.
    desc = [str(d).removeprefix("Comment/") for d in annot.description]
    is_event = np.array(
        [not d.lower().startswith(SEGMENT_ANNOTATION_PREFIXES) for d in desc], dtype=bool
    )
    skipped: dict[str, int] = {}
    for d, ok in zip(desc, is_event, strict=True):
        if not ok:
            skipped[d] = skipped.get(d, 0) + 1
    onsets = np.asarray(annot.onset, dtype=np.float64)[is_event]
    samples = np.asarray(
        raw.time_as_index(onsets, use_rounding=True, origin=annot.orig_time), dtype=np.int64
    )
    labels = [d for d, ok in zip(desc, is_event, strict=True) if ok]
    inside = (samples >= 0) & (samples < raw.n_times)
    return samples[inside], [lab for lab, k in zip(labels, inside, strict=True) if k], skipped


def _events_from_stim(raw, names: list[str], path: Path) -> tuple[np.ndarray, list[str]]:
    import mne

    try:
        with mne.utils.use_log_level("ERROR"):
            ev = mne.find_events(
                raw, stim_channel=names, shortest_event=1, initial_event=True, verbose="ERROR"
            )
    except Exception as exc:
        raise RecordingFileError(
            f"{path}: cannot read events from stim channel(s) {', '.join(names)} ({_one_line(exc)})"
        ) from None
    return ev[:, 0].astype(np.int64) - raw.first_samp, [str(int(c)) for c in ev[:, 2]]


def _events_from_file(events_path: Path, raw, path: Path) -> tuple[np.ndarray, list[str]]:
    import mne

    if not events_path.is_file():
        raise RecordingFileError(f"events file {events_path} (for {path}) does not exist")
    try:
        with warnings.catch_warnings(), mne.utils.use_log_level("ERROR"):
            warnings.simplefilter("ignore")
            ev = mne.read_events(events_path, verbose="ERROR")
    except Exception as exc:
        raise RecordingFileError(
            f"events file {events_path}: cannot read as MNE events ({_one_line(exc)})"
        ) from None
    samples = ev[:, 0].astype(np.int64) - raw.first_samp
    inside = (samples >= 0) & (samples < raw.n_times)
    return samples[inside], [str(int(c)) for c in ev[inside, 2]]


def _sibling_events_file(path: Path) -> Path | None:
    """``NAME_raw.fif`` -> ``NAME-eve.fif`` (and spelling variants), if it exists.

    Plain path checks, no globbing: names like ``record-[2012.07.06]_raw.fif`` hold
    glob metacharacters.
    """
    name = path.name
    lower = name.lower()
    stems = []
    for suffix in ("_raw.fif.gz", "-raw.fif.gz", "_raw.fif", "-raw.fif", ".fif.gz", ".fif"):
        if lower.endswith(suffix):
            stems.append(name[: -len(suffix)])
            break
    if not stems:
        stems.append(path.stem)
    for stem in stems:
        for ending in ("-eve.fif", "_eve.fif", "-eve.fif.gz", "-eve.txt", ".eve"):
            candidate = path.with_name(stem + ending)
            if candidate.is_file():
                return candidate
    return None


def _clean_names(names: list[str]) -> tuple[list[str], list[str] | None]:
    """Strip padding dots (eegbci's ``C3..``) and restore 10-20 capitalisation (``Fc5`` -> ``FC5``).

    Returns the names and the originals when anything changed. Names are left alone if
    cleaning would make two of them equal.
    """
    if not any(n.endswith(".") for n in names):
        return names, None
    standard = standard_name_map()
    cleaned = []
    for n in names:
        base = n.rstrip(".") or n
        cleaned.append(standard.get(base.lower(), base))
    if len(set(cleaned)) != len(cleaned):
        return names, None
    return cleaned, list(names)


def _one_line(exc: BaseException) -> str:
    text = "".join(
        c if c.isprintable() and c.isascii() else " " if c.isspace() else "?" for c in str(exc)
    )
    text = " ".join(text.split())
    return (text[:160] + "...") if len(text) > 160 else (text or type(exc).__name__)
