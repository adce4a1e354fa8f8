"""Read an XDF file (as written by LabRecorder) into a :class:`Recording`.

One EEG stream becomes the data; its marker stream(s) become string markers placed at
the nearest EEG sample. Channel labels, types and units come from the stream's
``desc/channels`` metadata, read by the same parser as a live inlet's
(:mod:`acquisition.lsl_metadata`); units are converted to volts.

A recording may continue in part files next to it (``run.part2.xdf``, ``run.part3.xdf``...,
written by :class:`acquisition.recorder.Recorder` when a sender restarts with a new source
id): loading ``run.xdf`` appends each part's streams to the same-named streams, in time order.
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path

import numpy as np

from acquisition import limits
from acquisition.errors import RecordingFileError
from acquisition.lsl_metadata import EEG_STREAM_TYPES, xdf_channel_metadata
from acquisition.recording import Recording
from acquisition.source import SourceInfo


def load_xdf(
    path: str | Path, *, stream: str | None = None, marker_stream: str | None = None
) -> Recording:
    """Load the EEG stream of an XDF file and its markers.

    Parameters
    ----------
    path : str or Path
        The ``.xdf`` (or gzip-compressed ``.xdfz``) file.
    stream : str, optional
        Name (or, failing that, type) of the data stream. By default the one stream of type
        ``EEG`` that has samples; an error lists the streams when there is none or several.
    marker_stream : str, optional
        Name of the marker stream. By default every string-valued stream with samples is
        merged.

    Returns
    -------
    Recording
        EEG rows in volts; ``start_time`` is the first (dejittered, clock-synchronised)
        EEG timestamp; markers sit at the nearest sample. ``extras`` holds ``timestamps``
        (the dejittered stamps of every sample), ``effective_srate``, ``streams`` (a summary
        of every stream in the file), ``marker_streams`` and, when the file has no unit
        metadata, ``assumed_units="microvolts"``; ``truncated`` is True when a stream has
        no footer (the recorder was killed: what was written is loaded).

    Raises
    ------
    RecordingFileError
        When the file is missing, unreadable or holds no usable EEG stream.
    """
    path = Path(path)
    streams = _read_streams(path)
    parts = existing_parts(path)
    for part in parts:
        streams = _append_part(streams, _read_streams(part))
    eeg = _pick_eeg_stream(path, streams, stream)
    ts = np.asarray(eeg["time_stamps"], dtype=np.float64)
    info = eeg["info"]
    where = f"{path}: stream {_text(info, 'name')!r}"
    sfreq = limits.SFREQ.check(
        _float(info, "nominal_srate"), "nominal_srate", where=where, error=RecordingFileError
    )
    try:
        n_ch_declared: object = int(_text(info, "channel_count") or 0)
    except ValueError:
        n_ch_declared = _text(info, "channel_count")
    n_ch = limits.CHANNELS.check(
        n_ch_declared, "channel_count", where=where, error=RecordingFileError
    )
    warnings_out: list[str] = []
    ts = _repaired_timestamps(ts, sfreq, where, warnings_out)
    series = np.asarray(eeg["time_series"])
    if series.ndim != 2 or series.shape[1] != n_ch:
        raise RecordingFileError(
            f"{path}: stream {_text(info, 'name')!r} has samples shaped {series.shape} "
            f"but declares {n_ch} channels; the file is corrupt"
        )
    meta = xdf_channel_metadata(info)
    data = series.T.astype(np.float64) * meta.scales[:, None]

    marker_list = _pick_marker_streams(path, streams, eeg, marker_stream)
    m_times: list[np.ndarray] = []
    m_labels: list[str] = []
    for mk in marker_list:
        m_times.append(np.asarray(mk["time_stamps"], dtype=np.float64))
        m_labels.extend(_marker_strings(mk["time_series"]))
    times = np.concatenate(m_times) if m_times else np.empty(0)
    finite = np.isfinite(times)
    order = np.argsort(np.where(finite, times, np.inf), kind="stable")
    n_unsorted = int(np.sum(np.diff(times[finite]) < 0)) if finite.sum() > 1 else 0
    times = times[order]
    m_labels = [m_labels[i] for i in order]
    samples, keep = _nearest_samples(ts, times, sfreq)
    keep &= np.isfinite(times)
    labels = [lab for lab, k in zip(m_labels, keep, strict=True) if k]
    n_bad_time = int((~finite).sum())
    n_outside = int((~keep).sum()) - n_bad_time
    if n_unsorted:
        warnings_out.append(
            f"{path}: {n_unsorted} marker timestamps were out of time order; markers sorted by time"
        )
    if n_bad_time or n_outside:
        warnings_out.append(
            f"{path}: {n_bad_time + n_outside} of {times.size} markers dropped: "
            f"{n_bad_time} with a NaN/infinite timestamp, {n_outside} outside the data"
        )

    extras: dict = {
        "format": "XDF",
        "timestamps": ts,
        "effective_srate": _float(info, "effective_srate"),
        "eeg_stream": _text(info, "name"),
        "marker_source": "marker stream" if labels else None,
        "marker_streams": [_text(m["info"], "name") for m in marker_list],
        "markers_outside_data": n_outside,
        "markers_bad_timestamps": n_bad_time,
        # LabRecorder writes footers when it stops cleanly; none means it was killed.
        "truncated": any("footer" not in s for s in streams),
        "streams": [_summary(s) for s in streams],
        "parts": [str(p) for p in parts],
    }
    if meta.assumed_units:
        extras["assumed_units"] = "microvolts"
    if warnings_out:
        extras["warnings"] = warnings_out
    source_info = SourceInfo(
        name=_text(info, "name") or path.stem,
        ch_names=meta.ch_names,
        ch_types=meta.ch_types,
        sfreq=sfreq,
        units=meta.units,
        source_id=_text(info, "source_id") or str(path.resolve()),
    )
    return Recording(
        data=data,
        info=source_info,
        marker_samples=samples[keep],
        marker_labels=labels,
        start_time=float(ts[0]),
        path=str(path),
        extras=extras,
    )


def _repaired_timestamps(ts: np.ndarray, sfreq: float, where: str, notes: list[str]) -> np.ndarray:
    """EEG timestamps usable for placing markers: non-finite or backward stamps repaired.

    A NaN or a stamp running backwards would make every marker fall "outside the data"
    (or at the wrong sample). Such stamps are replaced by the nominal-rate grid through the
    nearest good stamp before them; the repair is said in ``notes``.
    """
    if ts.size == 0:
        return ts
    good = np.isfinite(ts)
    if good.all() and (ts.size < 2 or np.all(np.diff(ts) >= 0)):
        return ts
    out = ts.copy()
    if not good.any():
        out = np.arange(ts.size) / sfreq
        notes.append(f"{where}: no finite timestamp; using the nominal rate from 0 s")
        return out
    first = int(np.argmax(good))
    out[:first] = out[first] - (first - np.arange(first)) / sfreq
    n_bad = int((~good).sum())
    n_back = 0
    for i in range(first + 1, ts.size):  # one pass; only reached for a damaged file
        if not np.isfinite(out[i]) or out[i] < out[i - 1]:
            n_back += int(np.isfinite(ts[i]))
            out[i] = out[i - 1] + 1.0 / sfreq
    notes.append(
        f"{where}: {n_bad} NaN/infinite and {n_back} backward EEG timestamps replaced by the "
        f"nominal {sfreq:g} Hz grid"
    )
    return out


def part_path(path: str | Path, number: int) -> Path:
    """The file of part ``number`` (2, 3, ...) of the recording ``path`` (``run.part2.xdf``)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.part{number}{path.suffix}")


def existing_parts(path: str | Path) -> list[Path]:
    """The part files next to ``path`` (``run.part2.xdf``, ``run.part3.xdf``...), in order."""
    found = []
    while part_path(path, len(found) + 2).exists():
        found.append(part_path(path, len(found) + 2))
    return found


def _append_part(streams: list[dict], part_streams: list[dict]) -> list[dict]:
    """Append each stream of a part file to the same stream (name, shape, rate) before it.

    A stream that matches none (or would overlap it in time) is kept as a stream of its own.
    """
    out = list(streams)
    for new in part_streams:
        key = _stream_key(new)
        for i, old in enumerate(out):
            if _stream_key(old) != key:
                continue
            if not _n_samples(new):
                break
            if not _n_samples(old):
                out[i] = new
                break
            if new["time_stamps"][0] <= old["time_stamps"][-1]:
                continue
            out[i] = _concatenated(old, new)
            break
        else:
            out.append(new)
    return out


def _stream_key(stream: dict) -> tuple:
    d = _summary(stream)
    return d["name"], d["channel_count"], d["nominal_srate"], d["channel_format"]


def _concatenated(first: dict, then: dict) -> dict:
    merged = dict(first)
    merged["time_stamps"] = np.concatenate([first["time_stamps"], then["time_stamps"]])
    if isinstance(first["time_series"], np.ndarray):
        merged["time_series"] = np.concatenate([first["time_series"], then["time_series"]])
    else:
        merged["time_series"] = list(first["time_series"]) + list(then["time_series"])
    if "footer" not in then:  # a part cut short makes the whole stream truncated
        merged.pop("footer", None)
    return merged


def _read_streams(path: Path) -> list[dict]:
    if not path.exists():
        raise RecordingFileError(f"recording file {path} does not exist; check the path")
    if path.is_dir():
        raise RecordingFileError(f"{path} is a folder, not an XDF file; give the .xdf file")
    if path.stat().st_size == 0:
        raise RecordingFileError(f"{path} is empty (0 bytes); it holds no recording")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if path.suffix.lower() == ".xdf" and magic != b"XDF:":
        raise RecordingFileError(
            f"{path} is not an XDF file (it does not start with 'XDF:'); it is corrupt or "
            "of another format"
        )
    import pyxdf

    # pyxdf logs (not raises) when a file ends mid-chunk; keep that out of the user's
    # terminal, we report what is missing ourselves.
    logger = logging.getLogger("pyxdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            streams, _header = pyxdf.load_xdf(
                str(path),
                synchronize_clocks=True,
                dejitter_timestamps=True,
                handle_clock_resets=True,
            )
    except Exception as exc:  # pyxdf raises many kinds on corrupt input
        raise RecordingFileError(
            f"{path}: cannot read as XDF ({type(exc).__name__}: {_one_line(exc)}); "
            "the file is corrupt or truncated"
        ) from None
    finally:
        logger.setLevel(level)
    if not streams:
        raise RecordingFileError(f"{path}: the XDF file holds no streams")
    return streams


def _pick_eeg_stream(path: Path, streams: list[dict], wanted: str | None) -> dict:
    regular = [s for s in streams if _float(s["info"], "nominal_srate") > 0 and _is_numeric(s)]
    if wanted is not None:
        found = [s for s in streams if _text(s["info"], "name") == wanted]
        if not found:
            found = [s for s in regular if _text(s["info"], "type").lower() == wanted.lower()]
        found = [s for s in found if _n_samples(s) > 0] or found
        if len(found) != 1:
            problem = "no stream" if not found else f"{len(found)} streams"
            raise RecordingFileError(
                f"{path}: {problem} named {wanted!r}; streams in the file: {_listing(streams)}"
            )
        chosen = found[0]
        if chosen not in regular:
            raise RecordingFileError(
                f"{path}: stream {wanted!r} is not a regularly sampled numeric stream "
                f"(nominal rate {_text(chosen['info'], 'nominal_srate')}, format "
                f"{_text(chosen['info'], 'channel_format')}); pick the EEG stream with stream="
            )
    else:
        found = [s for s in regular if _text(s["info"], "type").lower() in EEG_STREAM_TYPES]
        if not found and len(regular) == 1:
            found = regular
        with_data = [s for s in found if _n_samples(s) > 0]
        if len(with_data) != 1:
            what = "no EEG stream with samples" if not with_data else "several EEG streams"
            raise RecordingFileError(
                f"{path}: {what}; streams in the file: {_listing(streams)}; "
                "name the one to use with stream=NAME"
            )
        chosen = with_data[0]
    if _n_samples(chosen) == 0:
        raise RecordingFileError(
            f"{path}: stream {_text(chosen['info'], 'name')!r} has no samples; "
            "the recording is empty or was cut before any data was written"
        )
    return chosen


def _pick_marker_streams(
    path: Path, streams: list[dict], eeg: dict, wanted: str | None
) -> list[dict]:
    others = [s for s in streams if s is not eeg]
    if wanted is not None:
        found = [s for s in others if _text(s["info"], "name") == wanted]
        if not found:
            raise RecordingFileError(
                f"{path}: no marker stream named {wanted!r}; streams in the file: "
                f"{_listing(streams)}"
            )
        return [s for s in found if _n_samples(s) > 0]
    return [
        s
        for s in others
        if _n_samples(s) > 0
        and (
            _text(s["info"], "channel_format") == "string"
            or (
                _text(s["info"], "type").lower() == "markers"
                and _float(s["info"], "nominal_srate") == 0
            )
        )
    ]


def _nearest_samples(
    ts: np.ndarray, times: np.ndarray, sfreq: float
) -> tuple[np.ndarray, np.ndarray]:
    """Index of the EEG sample nearest to each marker time, and which markers fall inside."""
    if times.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    right = np.clip(np.searchsorted(ts, times), 0, ts.size - 1)
    left = np.clip(right - 1, 0, ts.size - 1)
    use_left = np.abs(times - ts[left]) <= np.abs(ts[right] - times)
    idx = np.where(use_left, left, right).astype(np.int64)
    half = 0.5 / sfreq
    keep = (times >= ts[0] - half) & (times <= ts[-1] + half)
    return idx, keep


def _marker_strings(series: object) -> list[str]:
    """Markers as strings; numeric ones without a fraction lose it (``1111.0`` -> ``"1111"``)."""
    out = []
    for row in series:  # list of lists (strings) or a 2-D array (numeric)
        value = row[0] if len(row) else ""
        out.append(_normalise_marker(value))
    return out


def _normalise_marker(value: object) -> str:
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number == int(number):
        return str(int(number))
    return text


def _text(d: dict, key: str) -> str:
    value = d.get(key)
    while isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else str(value)


def _float(d: dict, key: str) -> float:
    try:
        return float(_text(d, key) or 0.0)
    except ValueError:
        return 0.0


def _n_samples(stream: dict) -> int:
    return len(stream["time_stamps"])


def _is_numeric(stream: dict) -> bool:
    return _text(stream["info"], "channel_format") != "string"


def _summary(stream: dict) -> dict:
    info = stream["info"]
    return {
        "name": _text(info, "name"),
        "type": _text(info, "type"),
        "channel_count": int(_text(info, "channel_count") or 0),
        "nominal_srate": _float(info, "nominal_srate"),
        "channel_format": _text(info, "channel_format"),
        "n_samples": _n_samples(stream),
    }


def _listing(streams: list[dict]) -> str:
    parts = []
    for s in streams:
        d = _summary(s)
        parts.append(
            f"{d['name']!r} (type {d['type']!r}, {d['channel_count']} ch, "
            f"{d['nominal_srate']:g} Hz, {d['n_samples']} samples)"
        )
    return ", ".join(parts) or "none"


def _one_line(exc: BaseException) -> str:
    text = "".join(
        c if c.isprintable() and c.isascii() else " " if c.isspace() else "?" for c in str(exc)
    )
    text = " ".join(text.split())
    return (text[:160] + "...") if len(text) > 160 else (text or type(exc).__name__)
