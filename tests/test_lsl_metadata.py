"""Channel metadata in an LSL StreamInfo desc: write, read back, units to volts."""

from __future__ import annotations

import numpy as np
import pylsl
import pytest

from acquisition.lsl_metadata import read_channel_metadata, volt_scale, write_channel_metadata


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
        ("µV", 1e-6),
        ("uV", 1e-6),
        ("microvolts", 1e-6),
        ("MicroVolts", 1e-6),
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
