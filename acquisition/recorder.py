"""Record LSL streams to XDF files with LabRecorder's Python bindings (``labrecorder``).

Measured here (``benchmarks/sigkill_record.py``): LabRecorder writes each stream's chunks to
the file about every 0.5 s, so a recorder killed with SIGKILL loses at most the last
~0.5 s of every stream; the file has no footer but pyxdf reads it.

Senders restarted with a new source id: liblsl's own recovery (inside LabRecorder's inlets)
follows a restart only when the source id is unchanged. A watcher thread therefore sends one
resolve wave for the recorded stream names every 0.25 s and, when a stream of a recorded name
appears with a source id not seen before, records it with another ``labrecorder.Recording``
into a part file next to the main one (``run.xdf`` -> ``run.part2.xdf``, ``run.part3.xdf``...;
:attr:`Recorder.paths` lists them, :func:`acquisition.xdf_file.load_xdf` appends them).
Measured on this machine, a 250 Hz sender pushing without pause, killed and restarted 0.5 s
later with a new source id, 9 restarts: the recording misses the restarted sender's first
60-128 samples (0.24-0.51 s); nothing of the dead stream is lost, nothing is duplicated.
(A 0.1 s wave: 22-54 samples; liblsl's ``ContinuousResolver``, which re-queries only every
~1.5 s: 67-320 samples.) Samples pushed before the recorder subscribes to the new outlet
cannot be recorded: LSL gives a new inlet no backlog.

Known limits of ``labrecorder`` 1.0.0rc0, found by trying:

- ``stop`` takes up to ~6 s: the file is finished when LabRecorder's clock-offset thread
  ends its 5 s cycle (``collect_offsets=False`` would avoid it but crashes the process on
  destruction, so offsets are always collected). Files are stopped together, but a
  recording whose sender died waits for its clock-offset queries to time out: measured
  8.6-8.9 s for a file and three parts after three restarts;
- ``streams`` must be resolved ``pylsl.StreamInfo`` objects: a query string crashes the
  process (segmentation fault), so this class resolves names itself first;
- ``watchfor`` queries re-resolve in 5 s cycles, so a stream is found 0-5 s after it
  appears (measured: a restarted sender's first 1.5 s were lost, and a stream that lived
  3 s after the recording started was not recorded at all), and a stream found that way
  is also written a second time, empty; they are not used.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import labrecorder
import pylsl

from acquisition.errors import AcquisitionError
from acquisition.lsl_source import build_query, not_found_error, resolve_stream
from acquisition.xdf_file import existing_parts, part_path

#: One LabRecorder write cycle (it moves inlet data to the file about every 0.5 s).
_FLUSH_SECONDS = 0.6
#: How long each of the watcher's resolve waves listens (it sends one every this many seconds).
_WATCH_SECONDS = 0.25

_log = logging.getLogger(__name__)


class Recorder:
    """Record chosen LSL streams into an XDF file, following senders that restart.

    A sender that restarts with a new source id (same stream name) is recorded on into a
    part file next to ``path`` (see the module docstring); :attr:`paths` lists every file.

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
        Replace an existing file and its part files (otherwise refuse).

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
        self._recordings: list[labrecorder.Recording] = []
        self._paths: list[Path] = []
        self._lock = threading.Lock()
        self._stop_watch = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def recording(self) -> bool:
        """True between ``start`` and ``stop``."""
        return bool(self._recordings)

    @property
    def paths(self) -> list[Path]:
        """Every file written: ``path`` first, then the part files of restarted senders."""
        with self._lock:
            return list(self._paths)

    def start(self) -> Recorder:
        """Resolve the streams and start writing; returns self.

        Raises
        ------
        StreamNotFoundError
            A stream is not visible (the message lists the visible ones).
        AcquisitionError
            The file exists (and ``overwrite`` is False) or cannot be created.
        """
        if self._recordings:
            raise AcquisitionError(f"Recorder {str(self.path)!r} is already recording")
        old = [p for p in [self.path, *existing_parts(self.path)] if p.exists()]
        if old:
            if not self.overwrite:
                raise AcquisitionError(
                    f"Recorder: {str(old[0])!r} exists; pass --overwrite to replace it, or "
                    "choose another --out"
                )
            for p in old:
                p.unlink()
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
        self._paths = [self.path]
        self._recordings = [labrecorder.Recording(str(self.path), infos)]
        self._stop_watch.clear()
        self._watcher = threading.Thread(
            target=self._watch, args=(infos,), name=f"Recorder {self.path.name}", daemon=True
        )
        self._watcher.start()
        return self

    def _watch(self, infos: list[pylsl.StreamInfo]) -> None:
        """Record on into a part file each stream that comes back with a new source id."""
        try:
            # By name even for predicate queries: a restarted sender keeps its name.
            names = sorted({info.name() for info in infos})
            query = " or ".join(f"({build_query(name)})" for name in names)
            current = {info.name(): info for info in infos}
            seen_uids = {info.uid() for info in infos}
            seen_ids = {info.source_id() for info in infos if info.source_id()}
            while not self._stop_watch.is_set():
                # One query wave, listening for all answers for _WATCH_SECONDS (an
                # unreachable minimum): liblsl's ContinuousResolver re-queries only every
                # ~1.5 s, which measured here lost up to 1.3 s after a restart.
                for found in pylsl.resolve_bypred(query, 1_000_000, _WATCH_SECONDS):
                    if found.uid() in seen_uids or found.name() not in current:
                        continue
                    seen_uids.add(found.uid())
                    if not _is_restart(found, current[found.name()], seen_ids):
                        continue
                    if found.source_id():
                        seen_ids.add(found.source_id())
                    current[found.name()] = found
                    self._record_part(found)
        except Exception:  # a watcher failure must not end the recording already running
            _log.exception("Recorder %s: stopped watching for restarted senders", self.path)

    def _record_part(self, info: pylsl.StreamInfo) -> None:
        with self._lock:
            if self._stop_watch.is_set():
                return
            path = part_path(self.path, len(self._paths) + 1)
            self._recordings.append(labrecorder.Recording(str(path), [info]))
            self._paths.append(path)
        _log.warning(
            "Recorder: stream %r came back with source id %r; recording it into %s",
            info.name(),
            info.source_id(),
            path,
        )

    def stop(self) -> None:
        """Stop recording and close the files (writes the stream footers)."""
        if not self._recordings:
            return
        self._stop_watch.set()
        if self._watcher is not None:
            self._watcher.join(timeout=2.0)
            self._watcher = None
        with self._lock:
            recordings, self._recordings = self._recordings, []
        # LabRecorder moves samples from its inlets to the file about every 0.5 s; give
        # it one cycle so what arrived just before the stop is written, not dropped.
        time.sleep(_FLUSH_SECONDS)
        for rec in recordings:
            rec.stop()
        # A file is complete only once its recording object is destroyed, which waits for
        # LabRecorder's clock-offset thread (up to ~6 s); all were stopped above, so those
        # threads end together.
        del rec
        recordings.clear()

    def __enter__(self) -> Recorder:
        if not self._recordings:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _is_restart(found: pylsl.StreamInfo, current: pylsl.StreamInfo, seen_ids: set[str]) -> bool:
    """Whether ``found`` is a restart of ``current`` that LabRecorder's inlets will not follow.

    The same source id is followed by liblsl itself. A stream on the same host created
    before the one recorded is an older, parallel sender, not a restart.
    """
    if found.source_id() and found.source_id() in seen_ids:
        return False
    same_host = found.hostname() == current.hostname()
    return not (same_host and found.created_at() <= current.created_at())
