"""Tests of bci.pipeline: online features equal offline ones, fit/predict, non-finite input."""

from __future__ import annotations

import glob
import time

import numpy as np
import pytest
from bci_synthetic import CH, SFREQ, make_recording, paradigm
from live_helpers import push_chunks

from acquisition.array_source import ArraySource
from acquisition.file_source import load_recording
from acquisition.lsl_source import LSLSource
from acquisition.player import Player
from acquisition.recording import Recording
from acquisition.simulator import simulate_recording
from bci.errors import BCIError
from bci.paradigm import builtin_paradigm
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


# ------------------------------------------- online == offline through a replayed LSL stream
OCCIPITAL = ("Oz", "O1", "O2", "PO3", "POz", "PO7", "PO8", "PO4")


def _ssvep_recording(kind: str, shared_data_dir) -> Recording:
    """Simulated SSVEP (always there) or SSVEP-exo subject 01 (the shipped paradigm's data)."""
    if kind == "simulated":
        freqs = {"2": 13.0, "3": 21.0, "4": 17.0}  # ssvep_exo's marker codes; "1" is rest
        cues = [(1.0 + 7.0 * k, ("1", "2", "3", "4")[k % 4]) for k in range(12)]
        rec = simulate_recording(
            cues, duration=86.0, seed=5, sfreq=256.0, ch_names=OCCIPITAL, ssvep_freqs=freqs
        )
        return rec
    files = sorted(
        glob.glob(glob.escape(str(shared_data_dir / "ssvep-exo")) + "/subject01/*_raw.fif")
    )
    return load_recording(files[0])


def _quantised_as_sent(rec: Recording, n: int) -> Recording:
    """The first ``n`` samples as the player sends them: float32 microvolts, back in volts."""
    data = (rec.data[:, :n] * 1e6).astype(np.float32).astype(np.float64) * 1e-6
    keep = rec.marker_samples < n
    return Recording(
        data,
        rec.info,
        rec.marker_samples[keep],
        [m for m, k in zip(rec.marker_labels, keep, strict=True) if k],
    )


#: 60 s of signal in under 4 s of wall time (LSL carries 16x 8 ch x 256 Hz easily).
REPLAY_SPEED = 16.0


@pytest.mark.lsl
@pytest.mark.parametrize("kind", ["simulated", "ssvep-exo"])
def test_filter_bank_riemann_online_over_lsl_equals_offline(kind, unique_name, request):
    """The shipped SSVEP method: windows pushed chunk by chunk as they arrive over real LSL
    from the project's player give the offline features of the same samples to 1e-10."""
    shared = request.getfixturevalue("shared_data") if kind == "ssvep-exo" else None
    rec = _ssvep_recording(kind, shared)
    par = builtin_paradigm("ssvep_exo")
    if kind == "simulated":  # the simulator's markers are the class names' codes already
        assert set(rec.marker_labels) <= set(par.classes.values())
    pipe = Pipeline.for_recording(par, rec).fit(rec)
    assert pipe.steps and type(pipe.steps[0]).__name__ == "FilterBankTangentSpace"
    sent = _quantised_as_sent(rec, min(rec.n_samples, int(60 * rec.sfreq)))
    player = Player(ArraySource(sent, chunk_size=64), name=unique_name, speed=REPLAY_SPEED)
    received, ends, windows = [], [], []
    try:
        with LSLSource(name=unique_name, timeout=5.0) as src:
            player.start()  # LSL gives a new inlet no backlog: send once it listens
            pipe.reset_online()
            deadline = time.monotonic() + 60.0
            got = 0
            while got < sent.n_samples and time.monotonic() < deadline:
                data, ts = src.pull()
                if not ts.size:
                    time.sleep(0.002)  # pacing the poll loop, not a wait for data
                    continue
                received.append(data)
                got += ts.size
                for t, w in pipe.push_windows(data, ts):  # the live session's online step
                    ends.append(t)
                    windows.append(w)
            events = [e.kind for e in src.conditions()]
    finally:
        player.close()
    assert got == sent.n_samples, f"{got} of {sent.n_samples} samples arrived"
    assert not {"gap", "timestamp_jump", "lost"} & set(events)
    assert np.array_equal(np.hstack(received), sent.data)  # LSL carried the samples exactly
    online = pipe.features(np.stack(windows))
    offline_windows, _ = pipe.windows_from_recording(sent)
    offline = pipe.features(offline_windows)
    assert online.shape == offline.shape and len(online) > 150
    assert np.max(np.abs(online - offline)) < 1e-10
    # One window per online step of stream time (the player's timestamps run faster).
    assert np.diff(ends) == pytest.approx(par.online.step / REPLAY_SPEED, abs=2e-3)
