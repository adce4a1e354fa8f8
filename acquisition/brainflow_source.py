"""Read a BrainFlow board (OpenBCI, Muse, Unicorn, BrainBit, synthetic, playback file).

:class:`BrainFlowSource` is a ``Source`` (see :mod:`acquisition.source`) over BrainFlow's
``BoardShim``, so a headset is read directly, without a program that puts it on LSL first:

- any board by name (:data:`BOARD_NAMES`, built from BrainFlow's ``BoardIds``: ``synthetic``,
  ``cyton``, ``cyton_daisy``, ``ganglion``, ``muse_s``, ``muse_2``, ``unicorn``...), by number,
  or ``playback:PATH`` for a file BrainFlow wrote (``DataFilter.write_file``);
- connection parameters (:class:`BoardConnection`: serial port, MAC address, IP address and
  port, serial number, timeout) passed as ``BrainFlowInputParams``;
- channel labels and types from BrainFlow's board description: the EEG rows by default,
  the accelerometer, auxiliary (analog) and package-counter rows on request;
- values in volts (BrainFlow gives EEG in microvolts);
- timestamps on the LSL clock: BrainFlow stamps samples with the wall clock
  (``time.time()``); the offset to ``pylsl.local_clock()`` is measured at start and every
  few seconds, then the stamps are dejittered like an LSL stream's;
- the board's package counter tells dropped samples (reported as ``gap`` conditions and in
  :attr:`BrainFlowSource.health`), which timestamps cannot: the host stamps what it receives;
- BrainFlow's numeric markers (the marker row) as strings (``3.0`` -> ``"3"``);
- errors in words (:class:`~acquisition.errors.BoardError`): board not found, port busy,
  permission denied on the serial device, unknown board name.
"""

from __future__ import annotations

import dataclasses
import grp
import math
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pylsl
from brainflow.board_shim import BoardIds, BoardShim, BrainFlowError, BrainFlowInputParams
from brainflow.exit_codes import BrainFlowExitCodes

from acquisition.dejitter import Dejitterer
from acquisition.errors import BoardError
from acquisition.health import HealthTracker, StreamHealth
from acquisition.source import (
    Source,
    SourceInfo,
    StreamEvent,
    empty_chunk,
    empty_markers,
    nonfinite_event,
)


def _board_names() -> dict[str, int]:
    names = {}
    for member in BoardIds:
        if member.value == BoardIds.NO_BOARD.value:
            continue
        key = member.name.lower()
        key = key[: -len("_board")] if key.endswith("_board") else key
        names[key] = int(member.value)
    return names


#: Board name -> BrainFlow board id, from BrainFlow's ``BoardIds`` (``CYTON_DAISY_BOARD`` ->
#: ``cyton_daisy``). ``playback:PATH`` is the playback-file board.
BOARD_NAMES: dict[str, int] = _board_names()

#: Extra rows a source can deliver besides the EEG rows.
EXTRA_ROWS = ("accel", "aux", "counter")

#: Connection parameters each named board needs, for the error message when one is missing.
_NEEDS = {
    "cyton": "--serial-port (the dongle, e.g. /dev/ttyUSB0)",
    "cyton_daisy": "--serial-port (the dongle, e.g. /dev/ttyUSB0)",
    "ganglion": "--serial-port (the BLED112 dongle, e.g. /dev/ttyACM0)",
    "cyton_wifi": "--ip-address of the WiFi shield",
    "cyton_daisy_wifi": "--ip-address of the WiFi shield",
    "ganglion_wifi": "--ip-address of the WiFi shield",
    "muse_s_bled": "--serial-port (the BLED112 dongle)",
    "muse_2_bled": "--serial-port (the BLED112 dongle)",
    "streaming": "--ip-address and --ip-port of the BrainFlow streamer",
    "playback_file": "a file: give the board as playback:PATH",
}

#: Seconds between two measurements of the wall-clock -> LSL-clock offset.
_OFFSET_INTERVAL = 5.0
#: Samples BrainFlow's ring buffer holds (its default is 450000; this bounds memory).
_RING_SAMPLES = 450_000


@dataclass(frozen=True)
class BoardConnection:
    """How to reach a board: BrainFlow's ``BrainFlowInputParams``, the ones people need.

    Parameters
    ----------
    serial_port : str
        Serial device (``/dev/ttyUSB0``, ``COM3``) for dongle boards (Cyton, Ganglion).
    mac_address : str
        Bluetooth MAC address (Muse, Ganglion native); empty lets BrainFlow search.
    ip_address : str
        IP address (WiFi shields, a BrainFlow streaming board).
    ip_port : int
        IP port (0: the board's default).
    serial_number : str
        Device serial number (Unicorn, BrainBit, Muse native) when several are in range.
    timeout : int
        Seconds BrainFlow searches for a Bluetooth device (0: BrainFlow's default).
    master_board : str or int
        With ``playback:PATH`` or ``streaming``: the board whose row layout the data has.
    """

    serial_port: str = ""
    mac_address: str = ""
    ip_address: str = ""
    ip_port: int = 0
    serial_number: str = ""
    timeout: int = 0
    master_board: str | int = "synthetic"

    def input_params(self, file: str = "", master_board: int | None = None) -> BrainFlowInputParams:
        """Return the ``BrainFlowInputParams`` for this connection."""
        params = BrainFlowInputParams()
        params.serial_port = self.serial_port
        params.mac_address = self.mac_address
        params.ip_address = self.ip_address
        params.ip_port = int(self.ip_port)
        params.serial_number = self.serial_number
        params.timeout = int(self.timeout)
        params.file = file
        if master_board is not None:
            params.master_board = int(master_board)
        return params


@dataclass(frozen=True)
class BoardSpec:
    """A board as the user named it: BrainFlow id, display name and playback file."""

    board_id: int
    name: str
    file: str = ""


def known_boards() -> str:
    """The board names accepted, as one comma-separated string (for help and errors)."""
    return ", ".join(sorted(BOARD_NAMES)) + ", playback:PATH or a BrainFlow board number"


def parse_board(board: str | int) -> BoardSpec:
    """Turn ``"cyton"``, ``"Cyton-Daisy"``, ``"0"``, ``-1`` or ``"playback:run.csv"`` into a spec.

    Raises
    ------
    BoardError
        The name or number is not a BrainFlow board; the message lists the known names.
    """
    text = str(board).strip()
    if text.lower().startswith("playback:"):
        path = text.split(":", 1)[1]
        if not path:
            raise BoardError("--board playback:PATH needs a file after the colon")
        return BoardSpec(BoardIds.PLAYBACK_FILE_BOARD.value, f"playback:{Path(path).name}", path)
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is not None:
        for name, value in BOARD_NAMES.items():
            if value == number:
                return BoardSpec(number, name)
        raise BoardError(
            f"--board {text}: BrainFlow has no board number {number}; known boards: {known_boards()}"
        )
    key = text.lower().replace("-", "_").replace(" ", "_")
    if key.endswith("_board"):
        key = key[: -len("_board")]
    if key not in BOARD_NAMES:
        raise BoardError(f"--board {text!r}: unknown board name; known boards: {known_boards()}")
    return BoardSpec(BOARD_NAMES[key], key)


def _row_names(prefix: str, n: int) -> list[str]:
    if prefix == "Accel" and n == 3:
        return ["AccelX", "AccelY", "AccelZ"]
    return [f"{prefix}{i + 1}" for i in range(n)]


@dataclass(frozen=True)
class BoardLayout:
    """Which rows of BrainFlow's data array a source delivers, with their metadata."""

    rows: tuple[int, ...]
    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]
    units: tuple[str, ...]
    scales: np.ndarray  # per delivered row: factor to the delivered unit
    sfreq: float
    timestamp_row: int
    package_row: int | None
    marker_row: int | None
    device_name: str


def board_layout(descr_id: int, extra: Iterable[str] = ()) -> BoardLayout:
    """Read BrainFlow's description of board ``descr_id`` and choose the rows to deliver.

    Parameters
    ----------
    descr_id : int
        The board whose rows the data has (the master board for playback / streaming).
    extra : iterable of str
        Any of :data:`EXTRA_ROWS` besides the EEG rows.
    """
    extra = [str(e).strip().lower() for e in extra if str(e).strip()]
    unknown = [e for e in extra if e not in EXTRA_ROWS]
    if unknown:
        raise BoardError(
            f"--board-extra {','.join(unknown)}: unknown row kind; choose from {', '.join(EXTRA_ROWS)}"
        )
    descr = BoardShim.get_board_descr(descr_id)
    eeg_rows = list(descr.get("eeg_channels", []))
    try:
        eeg_names = list(BoardShim.get_eeg_names(descr_id))
    except BrainFlowError:
        eeg_names = []
    if len(eeg_names) != len(eeg_rows):
        eeg_names = _row_names("EEG", len(eeg_rows))
    rows, names, types, units, scales = [], [], [], [], []
    for row, name in zip(eeg_rows, eeg_names, strict=True):
        rows.append(row)
        names.append(name)
        types.append("eeg")
        units.append("V")
        scales.append(1e-6)
    board_name = str(descr.get("name", descr_id))
    kinds = {"accel": ("accel_channels", "Accel", "g"), "aux": ("analog_channels", "Aux", "n/a")}
    for kind in extra:
        if kind == "counter":
            if "package_num_channel" not in descr:
                raise BoardError(f"board {board_name} has no package counter row")
            rows.append(int(descr["package_num_channel"]))
            names.append("Package")
            types.append("misc")
            units.append("count")
            scales.append(1.0)
            continue
        key, prefix, unit = kinds[kind]
        found = list(descr.get(key, []))
        if not found:
            raise BoardError(f"--board-extra {kind}: board {board_name} has no {kind} rows")
        for row, name in zip(found, _row_names(prefix, len(found)), strict=True):
            rows.append(row)
            names.append(name)
            types.append("misc")
            units.append(unit)
            scales.append(1.0)
    if len(set(names)) != len(names):
        # Channel labels must be unique downstream; keep BrainFlow's and number repeats.
        seen: dict[str, int] = {}
        for i, n in enumerate(names):
            seen[n] = seen.get(n, 0) + 1
            if seen[n] > 1:
                names[i] = f"{n}-{seen[n]}"
    if not rows:
        raise BoardError(f"board {board_name} has no EEG rows; add --board-extra accel or aux")
    return BoardLayout(
        rows=tuple(rows),
        ch_names=tuple(names),
        ch_types=tuple(types),
        units=tuple(units),
        scales=np.asarray(scales, dtype=np.float64),
        sfreq=float(descr["sampling_rate"]),
        timestamp_row=int(descr["timestamp_channel"]),
        package_row=int(descr["package_num_channel"]) if "package_num_channel" in descr else None,
        marker_row=int(descr["marker_channel"]) if "marker_channel" in descr else None,
        device_name=board_name,
    )


def wall_to_lsl_offset(tries: int = 7) -> float:
    """``time.time() - pylsl.local_clock()``, from the tightest of ``tries`` bracketed readings."""
    best = (math.inf, 0.0)
    for _ in range(tries):
        a = pylsl.local_clock()
        wall = time.time()
        b = pylsl.local_clock()
        best = min(best, (b - a, wall - (a + b) / 2))
    return best[1]


class PackageCounter:
    """Count samples missing from a board's package-number row (it wraps around).

    The counter's modulus is 256 (BrainFlow's boards send an 8-bit package number) unless
    larger values are seen; the step is the most common difference of the first chunk
    (1 for most boards, 2 for some that merge packets).
    """

    def __init__(self) -> None:
        self.last: float | None = None
        self.step: int | None = None
        self.modulus = 256
        self.dropped = 0
        self.gaps = 0

    def update(self, counter: np.ndarray) -> list[tuple[int, int]]:
        """Account for a chunk's counters; return ``(index, missing)`` for each gap in it."""
        c = np.asarray(counter, dtype=np.float64)
        if c.size == 0:
            return []
        top = float(np.max(c))
        while top >= self.modulus:
            self.modulus *= 2
        seq = c if self.last is None else np.concatenate(([self.last], c))
        diffs = np.mod(np.diff(seq), self.modulus).astype(np.int64)
        if self.step is None and diffs.size >= 8:
            values, counts = np.unique(diffs[diffs > 0], return_counts=True)
            self.step = int(values[np.argmax(counts)]) if values.size else 1
        step = self.step or 1
        out = []
        offset = 0 if self.last is None else 1
        for i in np.flatnonzero(diffs != step):
            missing = int(diffs[i]) // step - 1 if diffs[i] > 0 else 0
            if missing > 0:
                self.dropped += missing
                self.gaps += 1
                out.append((int(i) + 1 - offset, missing))
        self.last = float(c[-1])
        return out


def _marker_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class BrainFlowSource(Source):
    """A ``Source`` over a BrainFlow board (see the module docstring).

    Parameters
    ----------
    board : str or int
        Board name (:data:`BOARD_NAMES`), number, or ``playback:PATH``.
    connection : BoardConnection, optional
        Serial port, MAC address, IP address/port, serial number, timeout, master board.
    extra : iterable of str
        Rows besides EEG: ``"accel"``, ``"aux"``, ``"counter"`` (the package number).
    name : str, optional
        Name in ``info`` (default: the board name, e.g. ``"cyton"``).
    stall_seconds : float
        No data for this long is reported as ``stalled``.
    dejitter : bool
        Smooth the host's arrival timestamps into a regular grid (restarted at each gap).

    Raises
    ------
    BoardError
        Unknown board, missing connection parameter, port missing/busy/not permitted,
        board not answering.
    """

    #: Samples appear at the board's pace (the player forwards them as they come).
    realtime = True

    def __init__(
        self,
        board: str | int,
        connection: BoardConnection | None = None,
        *,
        extra: Iterable[str] = (),
        name: str | None = None,
        stall_seconds: float = 2.0,
        dejitter: bool = True,
    ) -> None:
        self.spec = parse_board(board)
        self.connection = connection or BoardConnection()
        master = None
        descr_id = self.spec.board_id
        if self.spec.board_id in (
            BoardIds.PLAYBACK_FILE_BOARD.value,
            BoardIds.STREAMING_BOARD.value,
        ):
            master = parse_board(self.connection.master_board).board_id
            descr_id = master
            if self.spec.file and not Path(self.spec.file).is_file():
                raise BoardError(
                    f"--board {self.spec.name}: file {self.spec.file!r} does not exist; give a "
                    "file written by BrainFlow (DataFilter.write_file)"
                )
        self.layout = board_layout(descr_id, extra)
        BoardShim.disable_board_logger()
        params = self.connection.input_params(file=self.spec.file, master_board=master)
        board = BoardShim(self.spec.board_id, params)
        try:
            board.prepare_session()
            board.start_stream(_RING_SAMPLES)
        except BrainFlowError as exc:
            error = board_error(exc, self.spec, self.connection)
            try:
                board.release_session()
            except BrainFlowError:
                pass
            del board  # not kept alive by the traceback until interpreter shutdown
            raise error from None
        self._board = board
        started = pylsl.local_clock()
        lay = self.layout
        label = name or self.spec.name
        where = (
            self.connection.serial_port or self.connection.mac_address or self.connection.ip_address
        )
        self._info = SourceInfo(
            name=label,
            ch_names=lay.ch_names,
            ch_types=lay.ch_types,
            sfreq=lay.sfreq,
            units=lay.units,
            source_id=f"brainflow-{self.spec.name}" + (f"-{where}" if where else ""),
        )
        self._rows = np.asarray(lay.rows)
        self._scales = lay.scales[:, None]
        self._offset = wall_to_lsl_offset()
        self._next_offset = started + _OFFSET_INTERVAL
        self._stall_seconds = float(stall_seconds)
        # Drops come from the package counter; the timestamp tracker keeps rate, lag, jumps.
        self._tracker = HealthTracker(lay.sfreq, jitter_tolerance=1e9, start_time=started)
        self._counter = PackageCounter()
        self._dejitter = Dejitterer(lay.sfreq) if dejitter else None
        self._conditions: list[StreamEvent] = []
        self._markers: list[tuple[float, str]] = []
        self._state = "ok"
        self._last_data = started
        self._closed = False

    # ----------------------------------------------------------------- Source API
    @property
    def info(self) -> SourceInfo:
        """Channel labels (BrainFlow's EEG names), types, units (volts for EEG), rate."""
        return self._info

    @property
    def ended(self) -> bool:
        """Always False: a board streams until closed (a stopped board shows ``stalled``)."""
        return False

    @property
    def manufacturer(self) -> str:
        """BrainFlow's device name (for ``desc/acquisition/manufacturer``)."""
        return f"BrainFlow {self.layout.device_name}"

    @property
    def health(self) -> StreamHealth:
        """Rate, lag and timestamp jumps from the timestamps; drops from the package counter."""
        snap = self._tracker.snapshot(pylsl.local_clock(), state=self._state)
        return dataclasses.replace(
            snap, dropped_samples=self._counter.dropped, gaps=self._counter.gaps
        )

    def conditions(self) -> list[StreamEvent]:
        """Return and forget what happened since the last call (``gap``, ``stalled``...)."""
        out, self._conditions = self._conditions, []
        return out

    def insert_marker(self, value: float) -> None:
        """Put a numeric marker into the board's marker row (BrainFlow ``insert_marker``)."""
        self._board.insert_marker(float(value))

    def pull(self, max_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return what the board delivered: ``(data float64 (n_channels, n), timestamps (n,))``.

        Non-blocking: reads BrainFlow's ring buffer (``get_board_data``).
        """
        if self._closed:
            raise RuntimeError(f"board {self._info.name!r} is closed; open a new source")
        now = pylsl.local_clock()
        n_ch = self._info.n_channels
        if max_samples is not None and int(max_samples) <= 0:
            return empty_chunk(n_ch)
        try:
            raw = (
                self._board.get_board_data()
                if max_samples is None
                else self._board.get_board_data(int(max_samples))
            )
        except BrainFlowError as exc:
            raise board_error(exc, self.spec, self.connection) from None
        if raw.shape[1] == 0:
            self._check_stall(now)
            return empty_chunk(n_ch)
        return self._accept(raw, now)

    def _check_stall(self, now: float) -> None:
        silent = now - self._last_data
        if self._state == "ok" and silent > self._stall_seconds:
            self._state = "stalled"
            self._conditions.append(
                StreamEvent(
                    "stalled",
                    f"board {self._info.name!r}: no data for {silent:.1f} s",
                    now,
                    seconds=silent,
                )
            )

    def _accept(self, raw: np.ndarray, now: float) -> tuple[np.ndarray, np.ndarray]:
        name = self._info.name
        if self._state == "stalled":
            silent = now - self._last_data
            self._state = "ok"
            self._conditions.append(
                StreamEvent(
                    "resumed", f"board {name!r}: data again after {silent:.1f} s", now, silent
                )
            )
        self._last_data = now
        if now >= self._next_offset:
            self._next_offset = now + _OFFSET_INTERVAL
            self._offset = wall_to_lsl_offset()
        stamps = raw[self.layout.timestamp_row] - self._offset
        breaks = []
        if self.layout.package_row is not None:
            for index, missing in self._counter.update(raw[self.layout.package_row]):
                breaks.append(index)
                self._conditions.append(
                    StreamEvent(
                        "gap",
                        f"board {name!r}: {missing} samples missing (package counter) at "
                        f"t={stamps[index]:.3f}",
                        now,
                        seconds=missing / self._info.sfreq,
                        samples=missing,
                        timestamp=float(stamps[index]),
                    )
                )
        for ev in self._tracker.update(stamps, now):
            if ev.kind == "timestamp_jump":
                breaks.append(ev.index)
                self._conditions.append(
                    StreamEvent(
                        ev.kind,
                        f"board {name!r}: timestamps jumped by {ev.seconds:+.3f} s",
                        now,
                        ev.seconds,
                        timestamp=ev.timestamp,
                    )
                )
        if self.layout.marker_row is not None:
            row = raw[self.layout.marker_row]
            for i in np.flatnonzero(row != 0):
                self._markers.append((float(stamps[i]), _marker_text(float(row[i]))))
        data = raw[self._rows] * self._scales
        bad = nonfinite_event(self._info, data)
        if bad is not None:
            self._conditions.append(bad)
        return data, self._smooth(stamps, sorted(set(breaks)))

    def _smooth(self, stamps: np.ndarray, breaks: list[int]) -> np.ndarray:
        if self._dejitter is None:
            return stamps
        pieces, start = [], 0
        for cut in [*breaks, stamps.size]:
            if cut > start:
                pieces.append(self._dejitter.process(stamps[start:cut]))
            if cut < stamps.size:
                self._dejitter.reset()
            start = cut
        return np.concatenate(pieces) if pieces else stamps

    def pull_markers(self) -> tuple[np.ndarray, list[str]]:
        """The board's markers (its marker row) in the samples pulled since the last call."""
        if not self._markers:
            return empty_markers()
        out, self._markers = self._markers, []
        return np.array([t for t, _ in out]), [m for _, m in out]

    def close(self) -> None:
        """Stop the stream and release the board (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._board.stop_stream()
        except BrainFlowError:
            pass
        try:
            self._board.release_session()
        except BrainFlowError:
            pass

    def __enter__(self) -> BrainFlowSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- errors
def _serial_ports() -> list[str]:
    found = []
    for pattern in ("ttyUSB*", "ttyACM*", "cu.usbserial*", "tty.usbserial*"):
        found.extend(str(p) for p in sorted(Path("/dev").glob(pattern)))
    return found


def serial_port_problem(port: str) -> str | None:
    """Say what is wrong with serial device ``port`` (missing, not permitted), or None."""
    if not port or os.name == "nt":
        return None
    path = Path(port)
    if not path.exists():
        visible = ", ".join(_serial_ports()) or "none"
        return (
            f"serial port {port} does not exist (board not found: is the dongle plugged in?); "
            f"serial ports present: {visible}"
        )
    if not os.access(path, os.R_OK | os.W_OK):
        try:
            group = grp.getgrgid(path.stat().st_gid).gr_name
        except (KeyError, OSError):
            group = "dialout"
        usual = (
            ""
            if group == "dialout"
            else " (on most Linux systems serial ports belong to 'dialout')"
        )
        return (
            f"permission denied on serial port {port} (owned by group {group!r}{usual}); add "
            f"yourself to it: sudo usermod -a -G {group} $USER, then log out and in again"
        )
    return None


def board_error(exc: BrainFlowError, spec: BoardSpec, conn: BoardConnection) -> BoardError:
    """Translate a ``BrainFlowError`` into a one-line :class:`BoardError` that says what to do."""
    code = int(getattr(exc, "exit_code", BrainFlowExitCodes.GENERAL_ERROR.value))
    codes = BrainFlowExitCodes
    board = f"board {spec.name}"
    port = conn.serial_port
    if code in (codes.UNABLE_TO_OPEN_PORT_ERROR.value, codes.SER_PORT_ERROR.value):
        problem = serial_port_problem(port)
        if problem:
            return BoardError(f"{board}: {problem}")
        if code == codes.SER_PORT_ERROR.value:
            return BoardError(
                f"{board}: {port or 'the port'} is not a serial port BrainFlow can configure; "
                "check --serial-port"
            )
        return BoardError(
            f"{board}: could not open {port or 'the connection'} (port busy? close the OpenBCI "
            "GUI or any other program using it)"
        )
    if code == codes.PORT_ALREADY_OPEN_ERROR.value:
        return BoardError(
            f"{board}: port {port or '?'} is busy: another program (the OpenBCI GUI, another "
            "bci command) has it open; close it and try again"
        )
    if code == codes.ANOTHER_BOARD_IS_CREATED_ERROR.value:
        return BoardError(
            f"{board}: this board is already open in this program; close the other source first"
        )
    if code == codes.UNSUPPORTED_BOARD_ERROR.value:
        return BoardError(
            f"--board {spec.name}: BrainFlow does not support it here; known boards: {known_boards()}"
        )
    if code == codes.INVALID_ARGUMENTS_ERROR.value:
        need = _NEEDS.get(spec.name)
        hint = (
            f"it needs {need}"
            if need
            else "check the connection options (--serial-port, --mac-address, --ip-address, --ip-port)"
        )
        return BoardError(f"{board}: BrainFlow refused the connection parameters; {hint}")
    if code in (
        codes.BOARD_NOT_READY_ERROR.value,
        codes.SYNC_TIMEOUT_ERROR.value,
        codes.BOARD_WRITE_ERROR.value,
        codes.INCOMMING_MSG_ERROR.value,
        codes.INITIAL_MSG_ERROR.value,
        codes.GENERAL_ERROR.value,
    ):
        where = port or conn.mac_address or conn.ip_address or "the default connection"
        return BoardError(
            f"{board}: board not found: no answer on {where} ({codes(code).name}); check that "
            "it is switched on, charged, in range, and that the port or address is the right one"
        )
    try:
        name = codes(code).name
    except ValueError:
        name = f"code {code}"
    return BoardError(f"{board}: BrainFlow error {name}: {exc}")


__all__ = [
    "BOARD_NAMES",
    "EXTRA_ROWS",
    "BoardConnection",
    "BoardLayout",
    "BoardSpec",
    "BrainFlowSource",
    "PackageCounter",
    "board_error",
    "board_layout",
    "known_boards",
    "parse_board",
    "serial_port_problem",
    "wall_to_lsl_offset",
]
