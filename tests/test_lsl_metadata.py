"""Channel metadata in an LSL StreamInfo desc: write, read back, units to volts.

The live inlet and the XDF reader share one parser: a stream read live and the same stream
recorded to XDF by the project's recorder give the same names, types, units and volts.
"""

from __future__ import annotations

import time
import uuid

import numpy as np
import pylsl
import pytest

from acquisition.lsl_metadata import (
    parse_channel_metadata,
    read_channel_metadata,
    volt_scale,
    write_channel_metadata,
)
from acquisition.lsl_source import LSLSource
from acquisition.recorder import Recorder
from acquisition.xdf_file import load_xdf


def make_info(n: int, stype: str = "EEG", name: str = "meta-test") -> pylsl.StreamInfo:
    return pylsl.StreamInfo(name, stype, n, 100.0, pylsl.cf_float32, f"{name}-id")


def roundtrip(info: pylsl.StreamInfo) -> pylsl.StreamInfo:
    """Publish ``info`` and return what a real inlet receives (the full description)."""
    outlet = pylsl.StreamOutlet(info)
    found = pylsl.resolve_bypred(f"name='{info.name()}'", 1, 5.0)
    assert found, f"own outlet {info.name()!r} not visible"
    inlet = pylsl.StreamInlet(found[0])
    full = inlet.info(timeout=5.0)
    inlet.close_stream()
    del outlet
    return full


@pytest.mark.lsl
def test_labels_types_units_roundtrip_and_scale_to_volts(unique_name):
    info = make_info(4, name=unique_name)
    write_channel_metadata(
        info,
        ["C3", "Cz", "EOG1", "counter"],
        ["eeg", "eeg", "eog", "misc"],
        ["microvolts", "mV", "V", "count"],
        manufacturer="bci-tests",
        extra_acquisition={"replay_speed": "10"},
    )
    meta = read_channel_metadata(roundtrip(info))
    assert meta.ch_names == ("C3", "Cz", "EOG1", "counter")
    assert meta.ch_types == ("eeg", "eeg", "eog", "misc")
    assert meta.units == ("V", "V", "V", "count")
    np.testing.assert_allclose(meta.scales, [1e-6, 1e-3, 1.0, 1.0])
    assert meta.manufacturer == "bci-tests"
    assert meta.replay_speed == 10.0
    assert "<label>C3</label>" in info.as_xml()
    assert "<type>EEG</type>" in info.as_xml()


@pytest.mark.parametrize(
    ("unit", "scale"),
    [
        ("\u00b5V", 1e-6),  # micro sign
        ("\u03bcV", 1e-6),  # Greek mu
        ("uV", 1e-6),
        ("microvolts", 1e-6),
        ("MicroVolts", 1e-6),
        ("micro volts", 1e-6),
        (" UV ", 1e-6),
        ("mV", 1e-3),
        ("V", 1.0),
        ("volts", 1.0),
        ("nV", 1e-9),
        ("count", None),
        ("", None),
    ],
)
def test_volt_scale_table(unit, scale):
    assert volt_scale(unit) == scale


@pytest.mark.lsl
def test_missing_desc_gets_defaults_eeg_in_microvolts(unique_name):
    meta = read_channel_metadata(roundtrip(make_info(3, name=unique_name)))
    assert meta.ch_names == ("ch1", "ch2", "ch3")
    assert meta.ch_types == ("eeg", "eeg", "eeg")
    np.testing.assert_allclose(meta.scales, 1e-6)
    assert meta.replay_speed == 1.0
    other = read_channel_metadata(make_info(2, stype="Accelerometer"))
    assert other.ch_types == ("misc", "misc")
    np.testing.assert_allclose(other.scales, 1.0)


def test_wrong_number_of_labels_is_refused_with_the_counts():
    with pytest.raises(ValueError, match="3 channels but got 2 names"):
        write_channel_metadata(make_info(3), ["a", "b"], ["eeg"] * 3, ["V"] * 3)


def test_parser_rules_for_types_and_units():
    meta = parse_channel_metadata(
        "ExG",
        5,
        [
            {"label": "A", "type": "ExG", "unit": "micro volts"},
            {"label": "B", "type": "", "unit": ""},
            {"label": "C", "type": "EEG", "unit": "count"},
            {"label": "D", "type": "Accel", "unit": "g"},
            {"type": "EMG"},
        ],
        {"manufacturer": " OpenBCI ", "replay_speed": "nan"},
    )
    assert meta.ch_names == ("A", "B", "C", "D", "ch5")
    assert meta.ch_types == ("eeg", "eeg", "misc", "misc", "emg")
    assert meta.units == ("V", "V", "count", "g", "V")
    np.testing.assert_allclose(meta.scales, [1e-6, 1e-6, 1.0, 1.0, 1e-6])
    assert meta.assumed_units and meta.manufacturer == "OpenBCI" and meta.replay_speed == 1.0
    # A channel list of the wrong length cannot be matched to rows: it is ignored whole.
    short = parse_channel_metadata("EEG", 3, [{"label": "C3", "unit": "V"}])
    assert short.ch_names == ("ch1", "ch2", "ch3") and short.ch_types == ("eeg",) * 3
    np.testing.assert_allclose(short.scales, 1e-6)
    other = parse_channel_metadata("Accelerometer", 2, [])
    assert other.ch_types == ("misc", "misc") and other.units == ("NA", "NA")
    assert not other.assumed_units


# ---------------------------------------------------------------- live == XDF
#: Unit spellings real devices send, and the factor to volts each must give.
SPELLINGS = {
    "microvolts": 1e-6,
    "uV": 1e-6,
    "\u00b5V": 1e-6,
    "\u03bcV": 1e-6,
    "micro volts": 1e-6,
    "volts": 1.0,
    "V": 1.0,
    "mV": 1e-3,
    "nV": 1e-9,
    "": 1e-6,  # none: a biopotential channel is in microvolts by the LSL convention
}
#: (stream type, channel type written for the voltage channels, expected MNE type);
#: a channel type of None writes no ``desc`` at all.
VARIANTS = [
    ("EEG", "EEG", "eeg"),
    ("EEG", "", "eeg"),
    ("ExG", "", "eeg"),
    ("ExG", "ExG", "eeg"),
    ("ExG", "EMG", "emg"),
    ("ExG", None, "eeg"),
]
N_SAMPLES = 300
RATE = 100.0


def _variant_info(name: str, stype: str, ch_type: str | None) -> pylsl.StreamInfo:
    n = len(SPELLINGS) + 1 if ch_type is not None else 3
    info = pylsl.StreamInfo(name, stype, n, RATE, pylsl.cf_float32, f"{name}-id")
    if ch_type is None:
        return info
    channels = info.desc().append_child("channels")
    rows = [(f"E{i}", ch_type, unit) for i, unit in enumerate(SPELLINGS)]
    for label, kind, unit in [*rows, ("counter", "MISC", "count")]:
        ch = channels.append_child("channel")
        ch.append_child_value("label", label)
        if kind:  # leave the element out: the type-less case devices send
            ch.append_child_value("type", kind)
        if unit:
            ch.append_child_value("unit", unit)
    return info


@pytest.fixture(scope="module")
def live_and_recorded(tmp_path_factory):
    """Every variant sent on a real outlet, read live by LSLSource and recorded to one XDF."""
    base = f"bci-test-meta-{uuid.uuid4().hex[:8]}"
    names = [f"{base}-{i}" for i in range(len(VARIANTS))]
    outlets, sent = [], []
    for name, (stype, ch_type, _) in zip(names, VARIANTS, strict=True):
        outlets.append(pylsl.StreamOutlet(_variant_info(name, stype, ch_type)))
    path = tmp_path_factory.mktemp("meta") / "all.xdf"
    rng = np.random.default_rng(11)
    live: dict[str, tuple] = {}
    with Recorder(path, streams=names) as recorder:
        assert recorder.recording
        for outlet in outlets:  # the recorder is the only consumer yet
            assert outlet.wait_for_consumers(10.0), "the recorder never connected"
        sources = [LSLSource(name=name, timeout=5.0) for name in names]
        t0 = pylsl.local_clock()
        for outlet, src in zip(outlets, sources, strict=True):
            n_ch = src.info.n_channels
            values = (rng.standard_normal((N_SAMPLES, n_ch)) * 40).astype(np.float32)
            stamps = t0 + np.arange(N_SAMPLES) / RATE
            for start in range(0, N_SAMPLES, 50):
                outlet.push_chunk(values[start : start + 50], stamps[start : start + 50].tolist())
            sent.append(values)
        for name, src in zip(names, sources, strict=True):
            chunks, deadline = [], time.monotonic() + 10.0
            while sum(c.shape[1] for c in chunks) < N_SAMPLES and time.monotonic() < deadline:
                data, _ = src.pull()
                if data.shape[1]:
                    chunks.append(data)
                else:
                    time.sleep(0.005)  # pacing the poll loop, not a wait for data
            live[name] = (src.info, np.hstack(chunks) if chunks else np.empty((0, 0)))
            src.close()
        # Data the recorder holds is written about every 0.5 s; stop() flushes it.
    del outlets
    return names, live, sent, path


@pytest.mark.lsl
@pytest.mark.parametrize("variant", range(len(VARIANTS)), ids=[f"{v[0]}-{v[1]}" for v in VARIANTS])
def test_live_inlet_and_its_xdf_recording_agree(live_and_recorded, variant):
    names, live, sent, path = live_and_recorded
    name = names[variant]
    _, ch_type, expected_type = VARIANTS[variant]
    info, data = live[name]
    assert data.shape == (info.n_channels, N_SAMPLES), f"{name}: not every sample arrived live"
    rec = load_xdf(path, stream=name)
    # The same names, types, units and scaled values through both paths...
    assert rec.info.ch_names == info.ch_names
    assert rec.info.ch_types == info.ch_types
    assert rec.info.units == info.units
    assert rec.data.shape == data.shape
    np.testing.assert_array_equal(rec.data, data)
    # ...and they are the right ones.
    raw = sent[variant].T.astype(np.float64)
    if ch_type is None:
        assert info.ch_names == ("ch1", "ch2", "ch3")
        assert info.ch_types == (expected_type,) * 3 and info.units == ("V",) * 3
        np.testing.assert_array_equal(data, raw * 1e-6)
        assert rec.extras["assumed_units"] == "microvolts"
        return
    n = len(SPELLINGS)
    assert info.ch_names == (*(f"E{i}" for i in range(n)), "counter")
    assert info.ch_types == (expected_type,) * n + ("misc",)
    assert info.units == ("V",) * n + ("count",)
    scales = np.array([*SPELLINGS.values(), 1.0])
    np.testing.assert_array_equal(data, raw * scales[:, None])
