"""Tests of bci.pipeline: online features equal offline ones, fit/predict, non-finite input."""

from __future__ import annotations

import numpy as np
import pytest
from bci_synthetic import CH, SFREQ, make_recording, paradigm

from acquisition.array_source import ArraySource
from bci.errors import BCIError
from bci.pipeline import Pipeline, channel_index_map


@pytest.mark.parametrize("method", ["bandpower", "csp", "csp+bandpower"])
def test_online_features_equal_offline_in_random_chunks(method):
    rec = make_recording()
    pipe = Pipeline.for_recording(paradigm(method, csp_components=2), rec).fit(rec)
    windows, ends = pipe.windows_from_recording(rec)
    offline = pipe.features(windows)
    rng = np.random.default_rng(7)
    got, times, pos = [], [], 0
    pipe.reset_online()
    while pos < rec.n_samples:
        k = int(rng.integers(1, 80))
        for t, f in pipe.push_features(rec.data[:, pos : pos + k], rec.times[pos : pos + k]):
            got.append(f)
            times.append(t)
        pos += k
    assert len(got) == len(offline) > 100
    assert np.max(np.abs(np.asarray(got) - offline)) < 1e-10
    assert np.array_equal(np.asarray(times), ends)


def test_push_yields_one_probability_per_step_after_a_full_window():
    rec = make_recording()
    pipe = Pipeline.for_recording(paradigm(), rec).fit(rec)
    pipe.reset_online()
    src = ArraySource(rec, chunk_size=25)
    outputs = []
    while not src.ended:
        data, ts = src.pull()
        outputs.extend(pipe.push(data, ts))
    first_t, first_p = outputs[0]
    assert first_t == pytest.approx(rec.start_time + (pipe.window_samples - 1) / SFREQ)
    assert np.diff([t for t, _ in outputs]) == pytest.approx(0.1)
    assert first_p.shape == (3,) and first_p.sum() == pytest.approx(1.0)
    offline = pipe.predict_proba_epochs(pipe.windows_from_recording(rec)[0])
    assert np.max(np.abs(np.asarray([p for _, p in outputs]) - offline)) < 1e-10


def test_fit_predicts_held_out_recording_and_reports_classes():
    train, test = make_recording(0), make_recording(1)
    pipe = Pipeline.for_recording(paradigm(), train).fit(train)
    assert pipe.classes_ == ("left", "right", "feet")
    E, y, info = pipe.epochs_from_recording(test)
    assert E.shape == (24, 4, 500) and info["counts"] == {"left": 8, "right": 8, "feet": 8}
    assert pipe.score_epochs(E, y) > 0.9
    assert len(pipe.training_hash_) == 64
    fresh = pipe.clone()
    assert not fresh.is_fitted and fresh.ch_names == pipe.ch_names


def test_non_finite_samples_are_dropped_reported_and_do_not_poison_the_state():
    rec = make_recording()
    pipe = Pipeline.for_recording(paradigm(), rec).fit(rec)
    pipe.reset_online()
    n = rec.n_samples
    data = rec.data.copy()
    data[1, 3000] = np.nan
    data[0, 3001] = np.inf
    out = []
    for pos in range(0, n, 40):
        out.extend(pipe.push(data[:, pos : pos + 40], rec.times[pos : pos + 40]))
    conditions = pipe.conditions()
    assert len(conditions) == 1 and "2 sample(s) with NaN/Inf" in conditions[0].message
    assert conditions[0].kind == "nonfinite" and conditions[0].samples == 2
    times = np.asarray([t for t, _ in out])
    probs = np.asarray([p for _, p in out])
    assert np.all(np.isfinite(probs))
    bad_t = rec.times[3000]
    # No window contains the bad samples: nothing between them and a full window after.
    assert not np.any(
        (times >= bad_t) & (times < rec.times[3002] + (pipe.window_samples - 1) / SFREQ - 1e-9)
    )
    # Outputs resume afterwards and match a stream that starts fresh after the bad samples.
    resumed = times[times > bad_t]
    assert resumed.size > 100
    fresh = pipe.clone()
    fresh.steps, fresh.scaler, fresh.model, fresh.classes_ = (
        pipe.steps,
        pipe.scaler,
        pipe.model,
        pipe.classes_,
    )
    ref = fresh.push(rec.data[:, 3002:], rec.times[3002:])
    assert np.max(np.abs(np.asarray([p for _, p in ref]) - probs[times > bad_t])) < 1e-10


def test_online_marker_locked_epochs_match_offline_epochs():
    rec = make_recording()
    pipe = Pipeline.for_recording(paradigm(), rec).fit(rec)
    E, y, _ = pipe.epochs_from_recording(rec)
    offline = pipe.predict_proba_epochs(E)
    pipe.reset_online()
    src = ArraySource(rec, chunk_size=33)
    results = []
    while not src.ended:
        data, ts = src.pull()
        pipe.push(data, ts)
        pipe.push_markers(*src.pull_markers())
        results.extend(pipe.pop_epoch_results())
    assert [r[1] for r in results] == y.tolist()
    assert np.max(np.abs(np.asarray([r[2] for r in results]) - offline)) < 1e-10


def test_channel_selection_reorders_and_reports_missing():
    rec = make_recording()
    index, missing = channel_index_map(["C4", "C3.."], ["c3", "Cz", "C4"])
    assert index.tolist() == [2, 0] and missing == []
    assert channel_index_map(["Pz"], CH)[1] == ["Pz"]
    pipe = Pipeline(paradigm(), ["C4", "C3"], SFREQ)
    assert np.array_equal(pipe.recording_data(rec), rec.data[[2, 0]])
    with pytest.raises(BCIError, match="missing channels Pz"):
        Pipeline(paradigm(), ["Pz"], SFREQ).recording_data(rec)
    with pytest.raises(BCIError, match="not trained"):
        pipe.push(rec.data[:2, :10], rec.times[:10])


def test_training_needs_two_classes_and_epochs():
    rec = make_recording()
    pipe = Pipeline.for_recording(paradigm(), rec)
    E, y, _ = pipe.epochs_from_recording(rec)
    with pytest.raises(BCIError, match="at least two classes"):
        pipe.fit_epochs(E[y == "left"], y[y == "left"])
    with pytest.raises(BCIError, match="not classes of the paradigm"):
        pipe.fit_epochs(E, np.where(y == "left", "up", y))
