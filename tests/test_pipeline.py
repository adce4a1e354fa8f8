"""Tests of bci.pipeline: online features equal offline ones, fit/predict, non-finite input."""

from __future__ import annotations

import numpy as np
import pytest
from bci_synthetic import CH, SFREQ, make_recording, paradigm
from live_helpers import push_chunks

from acquisition.array_source import ArraySource
from bci.errors import BCIError
from bci.pipeline import Pipeline, channel_index_map


@pytest.mark.parametrize("method", ["bandpower", "csp", "csp+bandpower"])
def test_online_features_equal_offline_in_random_chunks(method):
    rec = make_recording()
    pipe = Pipeline.for_recording(paradigm(method, csp_components=2), rec).fit(rec)
    windows, ends = pipe.windows_from_recording(rec)
    offline = pipe.features(windows)
    sizes = np.random.default_rng(7).integers(1, 80, size=500)
    times, online = push_chunks(pipe, rec.data, rec.times, sizes)
    got = pipe.features(online)
    assert len(got) == len(offline) > 100
    assert np.max(np.abs(got - offline)) < 1e-10
    assert np.array_equal(times, ends)


def test_push_windows_yields_one_window_per_step_after_a_full_window():
    rec = make_recording()
    pipe = Pipeline.for_recording(paradigm(), rec).fit(rec)
    pipe.reset_online()
    src = ArraySource(rec, chunk_size=25)
    outputs = []
    while not src.ended:
        data, ts = src.pull()
        outputs.extend(pipe.push_windows(data, ts))
    first_t, first_w = outputs[0]
    assert first_t == pytest.approx(rec.start_time + (pipe.window_samples - 1) / SFREQ)
    assert np.diff([t for t, _ in outputs]) == pytest.approx(0.1)
    assert first_w.shape == (4, pipe.window_samples)
    proba = pipe.predict_proba_epochs(np.stack([w for _, w in outputs]))
    assert proba.shape[1] == 3 and np.allclose(proba.sum(axis=1), 1.0)
    offline = pipe.predict_proba_epochs(pipe.windows_from_recording(rec)[0])
    assert np.max(np.abs(proba - offline)) < 1e-10


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
        wins = pipe.push_windows(data[:, pos : pos + 40], rec.times[pos : pos + 40])
        out.extend((t, pipe.predict_proba_epochs(w[None])[0]) for t, w in wins)
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
    _, ref = push_chunks(fresh, rec.data[:, 3002:], rec.times[3002:], [rec.n_samples])
    expected = fresh.predict_proba_epochs(ref)
    assert np.max(np.abs(expected - probs[times > bad_t])) < 1e-10


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
        pipe.predict_proba_epochs(np.zeros((1, 2, pipe.window_samples)))


def test_training_needs_two_classes_and_epochs():
    rec = make_recording()
    pipe = Pipeline.for_recording(paradigm(), rec)
    E, y, _ = pipe.epochs_from_recording(rec)
    with pytest.raises(BCIError, match="at least two classes"):
        pipe.fit_epochs(E[y == "left"], y[y == "left"])
    with pytest.raises(BCIError, match="not classes of the paradigm"):
        pipe.fit_epochs(E, np.where(y == "left", "up", y))
