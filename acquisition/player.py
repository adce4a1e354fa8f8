"""Publish any ``Source`` as a live LSL EEG stream plus a string marker stream.

The player is how a recording (``FileSource``), a synthetic ``Recording`` (``ArraySource``)
or the simulated headset becomes a "headset on the network" that the rest of the program,
and any LSL tool, reads exactly like real hardware.
"""

from __future__ import annotations

import math
import threading
import time
import uuid

import numpy as np
import pylsl

from acquisition.lsl_metadata import write_channel_metadata
from acquisition.source import Source


class Player:
    """Replay a ``Source`` as an LSL EEG outlet and a ``<name>-markers`` string outlet.

    EEG channels (volts inside the program) are sent in microvolts, float32, with
    ``desc/channels`` labels, types and units per the LSL conventions; other channels are
    sent unchanged with their own unit. Sample ``i`` of a finite source is stamped
    ``t0 + (t_i - t_first) / speed`` on ``pylsl.local_clock()`` and pushed when that time
    arrives, so at ``speed=10`` one minute of recording plays in six seconds. Markers are
    pushed, with the timestamp of their sample, right after the chunk holding that sample.
    A replay faster than real time declares ``desc/acquisition/replay_speed`` so readers
    (:class:`~acquisition.lsl_source.LSLSource`) know the sample spacing.

    A real-time source (one with ``realtime = True``, e.g. ``SimulatedHeadset(realtime=True)``)
    is forwarded as it produces samples; ``speed`` is ignored.

    Parameters
    ----------
    source : Source
        What to publish. The player pulls from it in its own thread and closes it at the end.
    name : str
        LSL stream name of the EEG outlet; the marker outlet is ``<name>-markers``.
    speed : float
        1 = real time, 10 = ten times faster; 0 or ``inf`` = as fast as possible (timestamps
        then keep the recording's real-time spacing).
    loop : bool
        Start again at the end of a finite source (it must have ``rewind()`` or be an
        ``ArraySource``-like object with a ``recording`` attribute).
    marker_name : str, optional
        Name of the marker outlet (default ``<name>-markers``).
    source_id : str, optional
        LSL source id (default: ``<name>-<random hex>``, unique per player).
    chunk_seconds : float
        Wall-clock seconds of data pushed per chunk (latency vs overhead).
    stype : str
        LSL content type of the EEG outlet.
    manufacturer : str
        Written to ``desc/acquisition/manufacturer``.
    keep_timestamps : bool
        Forward a real-time source's own timestamps unchanged: for a source already on
        ``pylsl.local_clock()`` (a BrainFlow board), whose stamps say when each sample was
        received; otherwise they are re-based on the time the player started.

    Examples
    --------
    >>> with Player(ArraySource(recording), name="replay", speed=10) as player:
    ...     player.join()
    """

    def __init__(
        self,
        source: Source,
        *,
        name: str,
        speed: float = 1.0,
        loop: bool = False,
        marker_name: str | None = None,
        source_id: str | None = None,
        chunk_seconds: float = 0.02,
        stype: str = "EEG",
        manufacturer: str = "bci",
        keep_timestamps: bool = False,
    ) -> None:
        speed = float(speed)
        if math.isnan(speed) or speed < 0:
            raise ValueError(f"speed must be >= 0 (0 or inf = as fast as possible), got {speed!r}")
        self.source = source
        self.name = name
        self.speed = math.inf if speed == 0 else speed
        self.loop = loop
        self.marker_name = marker_name or f"{name}-markers"
        self.source_id = source_id or f"{name}-{uuid.uuid4().hex[:12]}"
        self.chunk_seconds = float(chunk_seconds)
        self.realtime = bool(source.realtime)
        self.keep_timestamps = bool(keep_timestamps)
        info = source.info
        self._eeg_rows = np.array([t == "eeg" for t in info.ch_types])
        self._factors = np.where(self._eeg_rows, 1e6, 1.0)
        units = [
            "microvolts" if is_eeg else (u if u else "n/a")
            for is_eeg, u in zip(self._eeg_rows, info.units, strict=True)
        ]
        declared = 1.0 if (self.realtime or math.isinf(self.speed)) else self.speed
        eeg_info = pylsl.StreamInfo(
            name, stype, info.n_channels, info.sfreq, pylsl.cf_float32, self.source_id
        )
        extra = {"replay_speed": f"{declared:g}"} if declared != 1.0 else {}
        write_channel_metadata(
            eeg_info,
            info.ch_names,
            info.ch_types,
            units,
            manufacturer=manufacturer,
            extra_acquisition=extra,
        )
        marker_info = pylsl.StreamInfo(
            self.marker_name,
            "Markers",
            1,
            pylsl.IRREGULAR_RATE,
            pylsl.cf_string,
            f"{self.source_id}-markers",
        )
        self._outlet = pylsl.StreamOutlet(eeg_info, chunk_size=0, max_buffered=60)
        self._marker_outlet = pylsl.StreamOutlet(marker_info)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.samples_pushed = 0
        self.markers_pushed = 0
        self.error: BaseException | None = None
        # (LSL time of the first sample, its source time, LSL seconds per source second),
        # known once the first sample is pulled.
        self._clock: tuple[float, float, float] | None = None

    @property
    def running(self) -> bool:
        """True while the background thread is publishing."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Player:
        """Start publishing in a daemon thread; returns self."""
        if self._thread is not None:
            raise RuntimeError(f"player {self.name!r} was already started")
        self._thread = threading.Thread(target=self._run, name=f"player-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the thread to stop and wait for it."""
        self._stop.set()
        self.join()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the end of the source (or ``stop``); return True when finished."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def close(self) -> None:
        """Stop and remove the outlets from the network."""
        self.stop()
        self._outlet = None
        self._marker_outlet = None

    def source_time(self, lsl_time: float) -> float | None:
        """Map a ``pylsl.local_clock()`` time onto the source's own timestamps.

        The inverse of the mapping the player stamps samples with, so a marker another
        program stamped at ``lsl_time`` lands on the source sample published at that time.
        None until the first sample has been pulled.
        """
        clock = self._clock
        if clock is None:
            return None
        t0, first, scale = clock
        return first + (float(lsl_time) - t0) / scale

    def wait_for_consumers(self, timeout: float = 5.0) -> bool:
        """Block until at least one inlet is connected to the EEG outlet (or ``timeout``)."""
        return bool(self._outlet.wait_for_consumers(timeout))

    def __enter__(self) -> Player:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------------- thread
    def _run(self) -> None:
        try:
            if self.realtime:
                self._forward()
            else:
                start = pylsl.local_clock() + 0.05
                while True:
                    start = self._play_once(start)
                    if not self.loop or self._stop.is_set() or not self._rewind():
                        break
        except BaseException as exc:
            self.error = exc
        finally:
            try:
                self.source.close()
            except Exception:
                pass

    def _rewind(self) -> bool:
        return self.source.rewind()

    def _push(self, data: np.ndarray, stamps: np.ndarray) -> None:
        out = np.ascontiguousarray((data * self._factors[:, None]).T, dtype=np.float32)
        self._outlet.push_chunk(out, stamps.tolist())
        self.samples_pushed += stamps.size

    def _push_markers(self, mapped: callable) -> None:
        m_ts, labels = self.source.pull_markers()
        for stamp, label in zip(m_ts, labels, strict=True):
            self._marker_outlet.push_sample([str(label)], float(mapped(stamp)))
            self.markers_pushed += 1

    def _play_once(self, t0: float) -> float:
        """Play the source to its end from local time ``t0``; return where a loop continues."""
        sfreq = self.source.info.sfreq
        per_chunk = max(1, round(self.chunk_seconds * sfreq * min(self.speed, 1e6)))
        if math.isinf(self.speed):
            per_chunk = max(per_chunk, 256)
        first: float | None = None
        scale = 1.0 if math.isinf(self.speed) else 1.0 / self.speed
        last = t0 - scale / sfreq

        def mapped(t: float | np.ndarray) -> float | np.ndarray:
            return t0 + (t - first) * scale

        while not self._stop.is_set() and not self.source.ended:
            data, stamps = self.source.pull(per_chunk)
            if stamps.size == 0:
                continue
            if first is None:
                first = float(stamps[0])
                self._clock = (t0, first, scale)
            when = mapped(stamps)
            if not math.isinf(self.speed):
                self._sleep_until(float(when[-1]))
            self._push(data, when)
            self._push_markers(mapped)
            last = float(when[-1])
        return last + scale / sfreq

    def _forward(self) -> None:
        first: float | None = None
        t0 = pylsl.local_clock()

        def mapped(t: float | np.ndarray) -> float | np.ndarray:
            return t if self.keep_timestamps else t0 + (t - first)

        while not self._stop.is_set() and not self.source.ended:
            data, stamps = self.source.pull()
            if stamps.size == 0:
                self._stop.wait(0.005)
                continue
            if first is None:
                first = float(stamps[0])
                self._clock = (first if self.keep_timestamps else t0, first, 1.0)
            self._push(data, mapped(stamps))
            self._push_markers(mapped)

    def _sleep_until(self, target: float) -> None:
        while not self._stop.is_set():
            left = target - pylsl.local_clock()
            if left <= 0:
                return
            # Event.wait keeps stop() responsive during long waits.
            self._stop.wait(min(left, 0.05))
            if left < 0.002:
                time.sleep(0)
