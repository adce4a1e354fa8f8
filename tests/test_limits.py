"""Tests of acquisition.limits and of its uses that need no subprocess (issue 15 item 1)."""

from __future__ import annotations

import numpy as np
import pytest
from bci_synthetic import make_recording, paradigm
from xdf_writer import XdfStream, write_xdf

from acquisition import limits
from acquisition.xdf_check import check_xdf
from bci.epochs import EpochEvents, cut_epochs, finite_runs, nonfinite_spans
from bci.errors import ParadigmError
from bci.paradigm import Paradigm
from bci.pipeline import Pipeline


@pytest.mark.parametrize(
    "value", [0.0, 0.05, 1e5 + 1, 1e9, float("inf"), float("nan"), "250", None, True]
)
def test_out_of_range_names_field_value_and_range(value):
    with pytest.raises(limits.LimitError) as info:
        limits.SFREQ.check(value, "nominal_srate", where="f.xdf")
    text = str(info.value)
    assert text.startswith("f.xdf: nominal_srate = ")
    assert repr(value) in text and "0.1 .. 100000 Hz" in text


def test_in_range_values_pass_and_integers_stay_integers():
    assert limits.SFREQ.check(np.float32(250.0), "x") == 250.0
    assert limits.CHANNELS.check(64, "x") == 64 and isinstance(
        limits.CHANNELS.check(64.0, "x"), int
    )
    with pytest.raises(limits.LimitError, match="whole number"):
        limits.CHANNELS.check(2.5, "channel_count")


def test_limit_errors_take_the_callers_error_class():
    with pytest.raises(ParadigmError, match=r"online\.window"):
        limits.WINDOW_SECONDS.check(1e5, "online.window", error=ParadigmError)


def test_nesting_is_measured_without_recursion():
    deep: object = 1
    for _ in range(100_000):
        deep = [deep]
    assert limits.nesting_depth(deep, 32) == 33  # stops counting past the bound
    assert limits.nesting_depth({"a": [1, {"b": 2}]}) == 3
    with pytest.raises(limits.LimitError, match="nested more than 32 levels"):
        limits.check_nesting(deep, "header.json")


def test_buffer_bound_counts_samples_times_channels():
    limits.check_buffer(300 * 1000, 64, "online.window")  # 5 min at 1 kHz, 64 ch: 19.2 M
    with pytest.raises(limits.LimitError, match="above the limit"):
        limits.check_buffer(300 * 100_000, 64, "online.window")


def test_pipeline_refuses_a_window_too_big_at_this_rate_and_channel_count():
    p = Paradigm.from_dict(
        {
            "classes": {"a": "1", "b": "2"},
            "epochs": {"tmin": 0, "tmax": 300},
            "online": {"window": 300, "step": 1},
            "filter": {"l_freq": 1, "h_freq": 30},
        }
    )
    Pipeline(p, ["C3", "C4"], 1000.0)  # 300 s x 1 kHz x 2 ch = 0.6 M values
    with pytest.raises(ParadigmError, match=r"online\.window makes a buffer"):
        Pipeline(p, [f"ch{i}" for i in range(512)], 1000.0)


def test_csp_components_are_bounded_by_the_channels():
    with pytest.raises(ParadigmError, match="csp_components = 4 is more than the 3 channels"):
        Pipeline(paradigm("csp", csp_components=4), ["C3", "Cz", "C4"], 250.0)
    Pipeline(paradigm("bandpower", csp_components=4), ["C3", "Cz", "C4"], 250.0)


def test_nonfinite_spans_and_the_epochs_they_cost():
    data = np.ones((2, 100))
    data[1, 10:15] = np.nan
    data[0, 50] = np.inf
    spans = nonfinite_spans(data)
    assert spans.tolist() == [[10, 15], [50, 51]]
    assert finite_runs(100, spans) == [(0, 10), (15, 50), (51, 100)]
    events = EpochEvents(np.array([5, 20, 45, 60, 95]), np.array(["a", "b", "a", "b", "a"]))
    ep = cut_epochs(data, 10.0, events, 0.0, 1.0, bad_spans=spans)  # 10-sample epochs
    assert ep.onsets.tolist() == [20, 60]  # 5 and 45 touch a span; 95 runs past the end
    assert ep.n_nonfinite == 2 and ep.n_dropped == 1
    assert np.isfinite(ep.data).all()


def test_a_short_nan_span_does_not_poison_the_rest_of_a_recording():
    rec = make_recording()
    clean = Pipeline.for_recording(paradigm(), rec)
    E_clean, _, _ = clean.epochs_from_recording(rec)
    rec.data[1, 2500:2750] = np.nan  # 10.0-11.0 s on Cz
    E, y, info = clean.epochs_from_recording(rec)
    assert info["n_nonfinite"] == 1 and len(y) == len(E_clean) - 1
    assert "Cz at 10.00-11.00 s" in info["nonfinite"]
    assert np.isfinite(E).all()
    # Epochs before the span are unchanged: the filter restarts only after it.
    np.testing.assert_array_equal(E[:2], E_clean[:2])


def test_xdf_check_finds_missing_footers_and_cut_files(tmp_path):
    ts = np.arange(500) / 100.0
    path = write_xdf(
        tmp_path / "ok.xdf", [XdfStream("EEG", "EEG", np.zeros((500, 2), np.float32), ts, 100.0)]
    )
    good = check_xdf(path)
    assert good.ok and good.headers == good.footers == {1} and good.sample_chunks[1] > 1
    cut = tmp_path / "cut.xdf"
    cut.write_bytes(path.read_bytes()[:-40])
    assert not check_xdf(cut).ok and "cut short" in check_xdf(cut).problem
    (tmp_path / "proc.xdf").write_bytes(b"")
    assert not check_xdf(tmp_path / "proc.xdf").ok
