"""Record LSL streams to an XDF file with LabRecorder's Python bindings (``labrecorder``).

Measured here (``benchmarks/sigkill_record.py``): LabRecorder writes each stream's chunks to
the file about every 0.5 s, so a recorder killed with SIGKILL loses at most the last
~0.5 s of every stream; the file has no footer but pyxdf reads it.

Known limits of ``labrecorder`` 1.0.0rc0, found by trying:

- ``stop`` takes up to ~6 s: the file is finished when LabRecorder's clock-offset thread
  ends its 5 s cycle (``collect_offsets=False`` would avoid it but crashes the process on
  destruction, so offsets are always collected);

- ``streams`` must be resolved ``pylsl.StreamInfo`` objects: a query string crashes the
  process (segmentation fault), so this class resolves names itself first;
- ``watchfor`` queries find streams only seconds after they appear and record a stream a
  second time if it was also given in ``streams``; they are not used. Consequently a
  sender restarted with a *new* source id is not followed (liblsl's own recovery follows a
  restart with the same source id).
"""

from __future__ import annotations

import time
from pathlib import Path

import labrecorder
import pylsl

from acquisition.errors import AcquisitionError
from acquisition.lsl_source import build_query, not_found_error, resolve_stream

#: One LabRecorder write cycle (it moves inlet data to the file about every 0.5 s).
_FLUSH_SECONDS = 0.6


class Recorder:
    """Record chosen LSL streams into one XDF file.

    Parameters
    ----------
    path : str or Path
        The ``.xdf`` file to write (its folder is created).
    streams : list of str
        Stream names, or XPath predicates (anything containing ``=``, e.g.
        ``"type='EEG'"``), one per stream to record.
    timeout : float
        Seconds to wait for each stream when starting.
    overwrite : bool
        Replace an existing file (otherwise refuse).

    Examples
    --------
    >>> with Recorder("recordings/run1.xdf", streams=["sim", "sim-markers"]):
    ...     time.sleep(60)
    """

    def __init__(
        self,
        path: str | Path,
        *,
        streams: list[str],
        timeout: float = 5.0,
        overwrite: bool = False,
    ) -> None:
        if not streams:
            raise AcquisitionError("Recorder: give at least one stream name to record")
        self.path = Path(path)
        if self.path.suffix.lower() != ".xdf":
            raise AcquisitionError(f"Recorder: output file {str(self.path)!r} must end in .xdf")
        self.stream_queries = list(streams)
        self.timeout = float(timeout)
        self.overwrite = overwrite
        self.infos: list[pylsl.StreamInfo] = []
        self._recording: labrecorder.Recording | None = None

    @property
    def recording(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self._recording is not None

    def start(self) -> Recorder:
        """Resolve the streams and start writing; returns self.

        Raises
        ------
        StreamNotFoundError
            A stream is not visible (the message lists the visible ones).
        AcquisitionError
            The file exists (and ``overwrite`` is False) or cannot be created.
        """
        if self._recording is not None:
            raise AcquisitionError(f"Recorder {str(self.path)!r} is already recording")
        if self.path.exists():
            if not self.overwrite:
                raise AcquisitionError(
                    f"Recorder: {str(self.path)!r} exists; choose another --out or delete it"
                )
            self.path.unlink()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AcquisitionError(
                f"Recorder: cannot create folder for {str(self.path)!r}: {exc}"
            ) from exc
        infos = []
        for query in self.stream_queries:
            if "=" in query:
                found = pylsl.resolve_bypred(query, 1, self.timeout)
                if not found:
                    raise not_found_error(query, self.timeout)
                infos.append(max(found, key=lambda i: i.created_at()))
            else:
                build_query(query)
                infos.append(resolve_stream(name=query, timeout=self.timeout))
        self.infos = infos
        self._recording = labrecorder.Recording(str(self.path), infos)
        return self

    def stop(self) -> None:
        """Stop recording and close the file (writes the stream footers)."""
        if self._recording is not None:
            rec, self._recording = self._recording, None
            # LabRecorder moves samples from its inlets to the file about every 0.5 s; give
            # it one cycle so what arrived just before the stop is written, not dropped.
            time.sleep(_FLUSH_SECONDS)
            rec.stop()
            # The file is complete only once the recording object is destroyed, which waits
            # for LabRecorder's clock-offset thread (up to ~6 s).
            del rec

    def __enter__(self) -> Recorder:
        if self._recording is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
