"""BrainFlowSource on BrainFlow's real synthetic and playback-file boards (no hardware).

Every board here is a real BrainFlow board: the synthetic board generates data in
BrainFlow's native library, the playback board replays a CSV written by BrainFlow's own
``DataFilter.write_file``. Hardware errors use real missing / non-serial devices.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pylsl
import pytest
from brainflow.board_shim import BoardIds, BoardShim, BrainFlowError
from brainflow.data_filter import DataFilter
from brainflow.exit_codes import BrainFlowExitCodes
from live_helpers import short_paradigm

from acquisition.brainflow_source import (
    BOARD_NAMES,
    BoardConnection,
    BoardSpec,
    BrainFlowSource,
    PackageCounter,
    board_error,
    parse_board,
    serial_port_problem,
)
from acquisition.errors import AcquisitionError, BoardError
from acquisition.recording import Recording
from acquisition.simulator import graz_cues, simulate_recording
from bci.pipeline import Pipeline

SYNTHETIC = BoardIds.SYNTHETIC_BOARD.value


def pull_until(source, n_samples: int, timeout: float = 10.0):
    """Pull until ``n_samples`` arrived (bounded); return data, timestamps, chunk sizes."""
    chunks, stamps, sizes = [], [], []
    deadline = time.monotonic() + timeout
    while sum(sizes) < n_samples:
        assert time.monotonic() < deadline, f"only {sum(sizes)} of {n_samples} samples came"
        data, ts = source.pull()
        if ts.size:
            chunks.append(data)
            stamps.append(ts)
            sizes.append(ts.size)
        else:
            time.sleep(0.005)  # pacing the poll of a board's ring buffer
    return np.concatenate(chunks, axis=1), np.concatenate(stamps), sizes


def test_board_names_come_from_brainflow_and_parse() -> None:
    for name in ("synthetic", "cyton", "cyton_daisy", "ganglion", "muse_s", "muse_2", "unicorn"):
        assert name in BOARD_NAMES
    assert parse_board("Cyton-Daisy") == BoardSpec(BoardIds.CYTON_DAISY_BOARD.value, "cyton_daisy")
    assert parse_board("-1").name == "synthetic"
    assert parse_board(0).name == "cyton"
    spec = parse_board("playback:/data/run1.csv")
    assert (spec.board_id, spec.file) == (BoardIds.PLAYBACK_FILE_BOARD.value, "/data/run1.csv")


def test_synthetic_board_info_volts_and_lsl_clock() -> None:
    with BrainFlowSource("synthetic", extra=["counter", "accel"]) as src:
        info = src.info
        eeg = list(BoardShim.get_eeg_names(SYNTHETIC))
        assert info.ch_names == (*eeg, "Package", "AccelX", "AccelY", "AccelZ")
        assert info.ch_types[:16] == ("eeg",) * 16 and set(info.ch_types[16:]) == {"misc"}
        assert info.units[:16] == ("V",) * 16 and info.units[16] == "count"
        assert info.sfreq == BoardShim.get_sampling_rate(SYNTHETIC) == 250
        data, ts, _ = pull_until(src, 250)
        now = pylsl.local_clock()
        # BrainFlow gives µV (synthetic: ~tens of µV): here volts.
        rms = np.sqrt(np.mean(data[:16] ** 2, axis=1))
        assert np.all((rms > 1e-7) & (rms < 1e-3)), rms
        # Timestamps on the LSL clock: the newest sample is a fraction of a second old.
        assert 0.0 <= now - ts[-1] < 0.5, now - ts[-1]
        assert np.all(np.diff(ts) > 0)
        assert np.median(np.diff(ts)) == pytest.approx(1 / 250, rel=0.05)
        counter = data[16]
        assert np.all(np.mod(np.diff(counter), 256) == 1)
        assert src.health.dropped_samples == 0
        src.insert_marker(7)
        deadline = time.monotonic() + 5
        labels: list[str] = []
        while not labels:
            assert time.monotonic() < deadline, "the inserted marker never came back"
            src.pull()
            _, labels = src.pull_markers()
            time.sleep(0.01)  # pacing the poll
        assert labels == ["7"]


def test_synthetic_board_through_pipeline_equals_offline_features() -> None:
    with BrainFlowSource("synthetic") as src:
        names = src.info.ch_names
        cues, duration = graz_cues(["left", "right"], 4, seed=0, fixation=0.3, cue=0.3, imagery=1.2)
        train = simulate_recording(cues, duration=duration, seed=0, ch_names=names)
        pipe = Pipeline(short_paradigm(), names, src.info.sfreq).fit([train])
        pipe.reset_online()
        online, ends = [], []
        chunks, stamps = [], []
        deadline = time.monotonic() + 15
        while len(online) < 20:
            assert time.monotonic() < deadline, f"{len(online)} online windows in 15 s"
            data, ts = src.pull()
            if not ts.size:
                time.sleep(0.005)  # pacing the poll
                continue
            chunks.append(data)
            stamps.append(ts)
            for t, w in pipe.push_windows(data, ts):
                ends.append(t)
                online.append(pipe.features(w[None])[0])
    data, ts = np.concatenate(chunks, axis=1), np.concatenate(stamps)
    rec = Recording(data, src.info, start_time=float(ts[0]), path="synthetic board")
    windows, _ = pipe.windows_from_recording(rec)
    offline = pipe.features(windows)
    assert len(offline) == len(online) >= 20
    assert np.max(np.abs(np.asarray(online) - offline)) < 1e-10
    # Window ends are the board's (dejittered, LSL-clock) timestamps of each last sample.
    last = pipe.window_samples - 1 + pipe.step_samples * np.arange(len(ends))
    assert np.array_equal(np.asarray(ends), ts[last])


def test_playback_board_replays_a_brainflow_csv(tmp_path: Path) -> None:
    n = 600
    rows = BoardShim.get_num_rows(SYNTHETIC)
    table = np.zeros((rows, n))
    table[BoardShim.get_package_num_channel(SYNTHETIC)] = np.arange(n) % 256
    eeg_rows = BoardShim.get_eeg_channels(SYNTHETIC)
    table[eeg_rows] = np.random.default_rng(3).normal(0, 20, (len(eeg_rows), n))
    table[BoardShim.get_timestamp_channel(SYNTHETIC)] = 1.7e9 + np.arange(n) / 250
    path = tmp_path / "run.csv"
    DataFilter.write_file(table, str(path), "w")
    conn = BoardConnection(master_board="synthetic")
    with BrainFlowSource(f"playback:{path}", conn, extra=["counter"]) as src:
        assert src.info.ch_names[:16] == tuple(BoardShim.get_eeg_names(SYNTHETIC))
        data, ts, _ = pull_until(src, n, timeout=15)
        assert src.health.dropped_samples == 0
    assert data.shape == (17, n)
    # The CSV keeps ~6 significant digits of the µV values.
    assert np.allclose(data[:16], table[eeg_rows] * 1e-6, rtol=1e-5, atol=1e-12)
    assert np.array_equal(data[16], table[0])
    # Replayed at the file's pace: 600 samples at 250 Hz span 2.4 s.
    assert ts[-1] - ts[0] == pytest.approx((n - 1) / 250, abs=0.1)


def test_package_counter_counts_drops_across_the_wrap() -> None:
    counter = PackageCounter()
    seq = np.arange(240, 240 + 40) % 256  # wraps 255 -> 0 without loss
    assert counter.update(seq[:20]) == [] and counter.update(seq[20:]) == []
    assert counter.dropped == 0
    lost = np.delete(np.arange(280, 320) % 256, [5, 6, 7, 30])
    assert counter.update(lost) == [(5, 3), (27, 1)]
    assert (counter.dropped, counter.gaps) == (4, 2)


# ------------------------------------------------------------------------------ errors
def test_unknown_board_name_lists_the_known_ones() -> None:
    with pytest.raises(BoardError, match=r"unknown board name; known boards: .*cyton.*synthetic"):
        BrainFlowSource("cytonn")
    with pytest.raises(BoardError, match="no board number 4242"):
        BrainFlowSource(4242)
    with pytest.raises(BoardError, match="unknown row kind; choose from accel, aux, counter"):
        BrainFlowSource("synthetic", extra=["gyro"])
    assert issubclass(BoardError, AcquisitionError)


def test_missing_serial_port_is_board_not_found() -> None:
    with pytest.raises(
        BoardError, match=r"serial port /dev/ttyUSB99 does not exist \(board not found"
    ):
        BrainFlowSource("cyton", BoardConnection(serial_port="/dev/ttyUSB99"))


def test_cyton_without_a_port_names_the_option() -> None:
    with pytest.raises(BoardError, match="needs --serial-port"):
        BrainFlowSource("cyton")


def test_a_device_that_is_not_a_serial_port_is_named() -> None:
    with pytest.raises(BoardError, match="/dev/null is not a serial port"):
        BrainFlowSource("cyton", BoardConnection(serial_port="/dev/null"))


@pytest.mark.slow
def test_a_serial_port_with_no_board_behind_it_is_board_not_found() -> None:
    # A pseudo-terminal is a real serial device that nothing answers on (BrainFlow waits ~6 s).
    master, slave = os.openpty()
    try:
        port = os.ttyname(slave)
        with pytest.raises(BoardError, match=rf"board not found: no answer on {port}"):
            BrainFlowSource("cyton", BoardConnection(serial_port=port))
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may open any device: no permission error")
def test_permission_denied_names_the_dialout_group(tmp_path: Path) -> None:
    port = tmp_path / "ttyUSB0"
    port.touch()
    port.chmod(0)
    message = serial_port_problem(str(port))
    assert "permission denied" in message and "usermod -a -G" in message


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (BrainFlowExitCodes.PORT_ALREADY_OPEN_ERROR, "is busy: another program"),
        (BrainFlowExitCodes.BOARD_NOT_READY_ERROR, "board not found"),
        (BrainFlowExitCodes.SYNC_TIMEOUT_ERROR, "board not found"),
        (BrainFlowExitCodes.UNSUPPORTED_BOARD_ERROR, "known boards"),
        (BrainFlowExitCodes.ANOTHER_BOARD_IS_CREATED_ERROR, "already open"),
    ],
)
def test_brainflow_error_codes_become_sentences(code, words) -> None:
    # BrainFlow's own exception, as its native library raises it for that code.
    exc = BrainFlowError("unable to prepare streaming session", code.value)
    msg = str(board_error(exc, parse_board("cyton"), BoardConnection(serial_port="/dev/ttyUSB0")))
    assert words in msg and "board cyton" in msg


def test_permission_denied_as_an_unprivileged_user_on_a_real_device() -> None:
    # Root may open anything, so a forked child drops to 'nobody' and checks a device node
    # that only root may open (this machine's /dev/ttyS0 is root:root 0600).
    import pwd

    if os.geteuid() != 0:
        pytest.skip("needs root to become 'nobody' (the non-root case is tested above)")
    device = "/dev/ttyS0"
    if not Path(device).exists() or os.stat(device).st_mode & 0o006:
        pytest.skip(f"{device} is missing or open to other users on this machine")
    nobody = pwd.getpwnam("nobody")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            os.write(write, str(serial_port_problem(device)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        message = pipe.read()
    os.waitpid(pid, 0)
    assert f"permission denied on serial port {device}" in message, message
    assert "usermod -a -G" in message and "dialout" in message
