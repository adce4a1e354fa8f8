"""Check that an XDF file is complete without loading its samples: headers and footers.

Used by ``bci record`` after stopping, before it says the recording is safe: the file
must start with ``XDF:`` and a FileHeader chunk, and every stream that has a StreamHeader
must have its StreamFooter (LabRecorder writes the footers when it stops cleanly). Only
chunk headers are read; the chunk contents are skipped with seeks, so checking a long
recording costs a few milliseconds per thousand chunks.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

#: XDF chunk tags (https://github.com/sccn/xdf/wiki/Specifications).
FILE_HEADER, STREAM_HEADER, SAMPLES, CLOCK_OFFSET, BOUNDARY, STREAM_FOOTER = 1, 2, 3, 4, 5, 6


@dataclass
class XDFCheck:
    """What the chunk scan found.

    Attributes
    ----------
    size : int
        File size in bytes.
    headers, footers : set of int
        Stream ids with a StreamHeader / StreamFooter chunk.
    sample_chunks : dict
        Stream id -> number of Samples chunks.
    problem : str
        Empty when the file is complete, else what is wrong (one line).
    """

    size: int = 0
    headers: set[int] = field(default_factory=set)
    footers: set[int] = field(default_factory=set)
    sample_chunks: dict[int, int] = field(default_factory=dict)
    problem: str = ""

    @property
    def ok(self) -> bool:
        """True when the file has a header and every stream its header and footer."""
        return not self.problem


def check_xdf(path: str | Path) -> XDFCheck:
    """Scan ``path``'s chunk structure; return what it holds and the first problem found."""
    path = Path(path)
    out = XDFCheck()
    try:
        out.size = path.stat().st_size
        fh = path.open("rb")
    except OSError as exc:
        out.problem = f"cannot open it ({exc.strerror or exc})"
        return out
    with fh:
        if fh.read(4) != b"XDF:":
            out.problem = "it does not start with 'XDF:'"
            return out
        seen_file_header = False
        pos = 4
        while pos < out.size:
            n_bytes = fh.read(1)
            if not n_bytes or n_bytes[0] not in (1, 4, 8):
                out.problem = f"a broken chunk at byte {pos}"
                return out
            raw = fh.read(n_bytes[0])
            if len(raw) != n_bytes[0]:
                out.problem = f"it ends inside a chunk header at byte {pos}"
                return out
            length = int.from_bytes(raw, "little")
            start = pos + 1 + n_bytes[0]
            if length < 2 or start + length > out.size:
                out.problem = f"it ends inside a chunk at byte {pos} (cut short?)"
                return out
            tag = struct.unpack("<H", fh.read(2))[0]
            if tag == FILE_HEADER:
                seen_file_header = True
            elif tag in (STREAM_HEADER, SAMPLES, CLOCK_OFFSET, STREAM_FOOTER):
                if length < 6:
                    out.problem = f"a chunk without a stream id at byte {pos}"
                    return out
                stream = struct.unpack("<I", fh.read(4))[0]
                if tag == STREAM_HEADER:
                    out.headers.add(stream)
                elif tag == STREAM_FOOTER:
                    out.footers.add(stream)
                elif tag == SAMPLES:
                    out.sample_chunks[stream] = out.sample_chunks.get(stream, 0) + 1
            pos = start + length
            fh.seek(pos)
    if not seen_file_header:
        out.problem = "no FileHeader chunk"
    elif not out.headers:
        out.problem = "no stream header: no stream was recorded"
    elif out.headers - out.footers:
        missing = ", ".join(str(s) for s in sorted(out.headers - out.footers))
        out.problem = f"no footer for stream(s) {missing}: the recorder did not finish the file"
    return out
