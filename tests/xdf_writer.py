"""A minimal XDF writer for tests (https://github.com/sccn/xdf/wiki/Specifications).

Writes the chunks LabRecorder writes: FileHeader (tag 1), StreamHeader (2), Samples (3),
ClockOffset (4) and StreamFooter (6), so tests can make small XDF files with exactly the
metadata they need (labels and units or none, several streams, string or numeric markers).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

_FORMATS = {
    "float32": "<f4",
    "double64": "<f8",
    "int8": "<i1",
    "int16": "<i2",
    "int32": "<i4",
    "int64": "<i8",
}


@dataclass
class XdfStream:
    """One stream to write.

    ``samples`` is ``(n_samples, n_channels)`` numeric, or a list of strings (one-channel
    string markers). ``labels``/``units``/``types``: per channel, written into
    ``desc/channels`` when given.
    """

    name: str
    type: str
    samples: object
    timestamps: np.ndarray
    nominal_srate: float = 0.0
    channel_format: str = "float32"
    labels: Sequence[str] | None = None
    units: Sequence[str] | None = None
    types: Sequence[str] | None = None
    source_id: str = ""
    clock_offsets: list[tuple[float, float]] = field(default_factory=list)

    @property
    def channel_count(self) -> int:
        if self.channel_format == "string":
            return 1
        return int(np.asarray(self.samples).shape[1])


def _varlen(n: int) -> bytes:
    if n < 256:
        return struct.pack("<BB", 1, n)
    if n < 2**32:
        return struct.pack("<BI", 4, n)
    return struct.pack("<BQ", 8, n)


def _chunk(tag: int, content: bytes) -> bytes:
    return _varlen(len(content) + 2) + struct.pack("<H", tag) + content


def _header_xml(s: XdfStream) -> bytes:
    desc = ""
    if s.labels or s.units or s.types:
        chans = []
        for i in range(s.channel_count):
            parts = []
            if s.labels:
                parts.append(f"<label>{escape(s.labels[i])}</label>")
            if s.units:
                parts.append(f"<unit>{escape(s.units[i])}</unit>")
            if s.types:
                parts.append(f"<type>{escape(s.types[i])}</type>")
            chans.append("<channel>" + "".join(parts) + "</channel>")
        desc = "<channels>" + "".join(chans) + "</channels>"
    xml = (
        '<?xml version="1.0"?><info>'
        f"<name>{escape(s.name)}</name><type>{escape(s.type)}</type>"
        f"<channel_count>{s.channel_count}</channel_count>"
        f"<nominal_srate>{s.nominal_srate}</nominal_srate>"
        f"<channel_format>{s.channel_format}</channel_format>"
        f"<source_id>{escape(s.source_id)}</source_id>"
        "<version>1.1</version><created_at>0</created_at>"
        "<uid>test</uid><session_id>default</session_id><hostname>localhost</hostname>"
        f"<desc>{desc}</desc></info>"
    )
    return xml.encode("utf-8")


def _samples_chunk(sid: int, s: XdfStream, start: int, stop: int) -> bytes:
    out = [struct.pack("<I", sid), _varlen(stop - start)]
    if s.channel_format == "string":
        values = list(s.samples)  # type: ignore[arg-type]
        for i in range(start, stop):
            raw = str(values[i]).encode("utf-8")
            out.append(b"\x08" + struct.pack("<d", s.timestamps[i]) + _varlen(len(raw)) + raw)
    else:
        data = np.asarray(s.samples).astype(_FORMATS[s.channel_format])
        for i in range(start, stop):
            out.append(b"\x08" + struct.pack("<d", s.timestamps[i]) + data[i].tobytes())
    return _chunk(3, b"".join(out))


def write_xdf(path: str | Path, streams: Sequence[XdfStream], *, chunk: int = 64) -> Path:
    """Write ``streams`` to an XDF file at ``path``, samples interleaved in chunks."""
    path = Path(path)
    parts = [b"XDF:", _chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')]
    for sid, s in enumerate(streams, start=1):
        parts.append(_chunk(2, struct.pack("<I", sid) + _header_xml(s)))
    longest = max(len(s.timestamps) for s in streams)
    for start in range(0, longest, chunk):
        for sid, s in enumerate(streams, start=1):
            stop = min(start + chunk, len(s.timestamps))
            if stop > start:
                parts.append(_samples_chunk(sid, s, start, stop))
    for sid, s in enumerate(streams, start=1):
        for t, offset in s.clock_offsets:
            parts.append(_chunk(4, struct.pack("<Idd", sid, t, offset)))
    for sid, s in enumerate(streams, start=1):
        n = len(s.timestamps)
        first = s.timestamps[0] if n else 0.0
        last = s.timestamps[-1] if n else 0.0
        xml = (
            f'<?xml version="1.0"?><info><first_timestamp>{first}</first_timestamp>'
            f"<last_timestamp>{last}</last_timestamp><sample_count>{n}</sample_count>"
            "<clock_offsets></clock_offsets></info>"
        )
        parts.append(_chunk(6, struct.pack("<I", sid) + xml.encode()))
    path.write_bytes(b"".join(parts))
    return path
