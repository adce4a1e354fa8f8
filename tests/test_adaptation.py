"""Adaptation across sessions through the pipeline (bci.adaptation): grouped re-centring,
causal online tracking, supervised updates, and the pseudo-online replay."""

from __future__ import annotations

import numpy as np
import pytest
from bci_synthetic import make_recording, paradigm

from acquisition.recording import Recording
from bci.errors import BCIError
from bci.evaluation import _replay_session, cross_validate, pseudo_online
from bci.paradigm import Paradigm
from bci.pipeline import Pipeline

#: A congruence that mixes the four channels (SPD, condition number about 6): another day,
#: another cap position.
MIX = np.array(
    [
        [1.6, 0.5, 0.2, 0.0],
        [0.5, 1.0, 0.4, 0.1],
        [0.2, 0.4, 0.7, 0.1],
        [0.0, 0.1, 0.1, 1.2],
    ]
)


def adapting(method: str = "tangent_space", **adaptation) -> Paradigm:
    d = paradigm(method).to_dict()
    d["adaptation"] = {"method": "recentre", "memory": 20.0, **adaptation}
    return Paradigm.from_dict(d)


def shifted(rec: Recording, mix: np.ndarray = MIX, gain: float = 1.0) -> Recording:
    return Recording(
        gain * mix @ rec.data,
        rec.info,
        rec.marker_samples,
        rec.marker_labels,
        start_time=rec.start_time,
        path=f"{rec.path}-shifted",
    )


def test_each_group_is_recentred_on_its_own_mean() -> None:
    rec, other = make_recording(0), shifted(make_recording(1))
    pipe = Pipeline(adapting(), rec.info.ch_names, rec.sfreq)
    E, y, info = pipe.epochs_from_recordings([rec, other])
    pipe.fit_epochs(E, y, info["groups"])
    F = pipe.features(E, info["groups"])
    # Each recording's tangent vectors are centred at its own reference (mean ~ 0).
    for g in (0, 1):
        assert np.abs(F[info["groups"] == g].mean(axis=0)).max() < 0.1
    # Without groups the same epochs form one new group: another reference, other features.
    assert not np.allclose(pipe.features(E), F)


def test_recentring_recovers_a_shifted_session_in_cross_validation() -> None:
    recs = [make_recording(0, n_trials=36), shifted(make_recording(1, n_trials=36), gain=3.0)]
    pipe = Pipeline(paradigm("tangent_space"), recs[0].info.ch_names, recs[0].sfreq)
    E, y, info = pipe.epochs_from_recordings(recs)
    g = info["groups"]
    plain = cross_validate(E, y, g, pipe.clone, group_by="recording")
    ad = Pipeline(adapting(), pipe.ch_names, pipe.sfreq)
    re = cross_validate(E, y, g, ad.clone, group_by="recording", adapt_groups=g)
    assert re["accuracy"] > 0.9
    assert re["accuracy"] > plain["accuracy"] + 0.1


def _fitted(par: Paradigm, rec: Recording) -> Pipeline:
    pipe = Pipeline(par, rec.info.ch_names, rec.sfreq)
    E, y, info = pipe.epochs_from_recordings([rec])
    return pipe.fit_epochs(E, y, info["groups"])


def test_online_windows_are_classified_causally() -> None:
    pipe = _fitted(adapting(), make_recording(0))
    W, _ = pipe.windows_from_recording(shifted(make_recording(1)))
    W = np.ascontiguousarray(W[:300])
    pipe.start_session()
    first = pipe.predict_proba_windows(W)
    changed = W.copy()
    changed[150:] = 4.0 * changed[150:, ::-1]
    pipe.start_session()
    second = pipe.predict_proba_windows(changed)
    # Windows up to t see only windows before t: changing later data changes nothing before.
    np.testing.assert_array_equal(first[:150], second[:150])
    assert not np.allclose(first[150:], second[150:])
    # And the reference does move: the first window, classified again at the end, differs.
    again = pipe.predict_proba_windows(W[:1], update=False)
    assert not np.allclose(again[0], first[0])
    # A new session starts at the training reference again.
    pipe.start_session()
    np.testing.assert_allclose(pipe.predict_proba_windows(W[:1]), first[:1], rtol=1e-12)


def test_the_replay_is_causal() -> None:
    """Changing the recording after time T changes no prediction made before T."""
    held = shifted(make_recording(1))
    later = Recording(
        held.data.copy(),
        held.info,
        held.marker_samples,
        held.marker_labels,
        start_time=held.start_time,
        path="later",
    )
    cut = held.data.shape[1] // 2
    later.data[:, cut:] = later.data[:, cut:][::-1] * 3.0

    def replay(rec):
        # A fresh model each time: supervised updates change it during a replay.
        pipe = _fitted(adapting(supervised=True), make_recording(0))
        E, y, info = pipe.epochs_from_recording(rec)
        W, times = pipe.windows_from_recording(rec)
        ends = np.round((times - rec.start_time) * pipe.sfreq).astype(np.int64)
        offset = round(pipe.paradigm.epochs.tmin * pipe.sfreq)
        n_times = E.shape[-1]
        labelled = np.arange(ends.size)
        preds, hits = _replay_session(
            pipe,
            W,
            ends,
            E,
            y,
            info["onsets"] + offset + n_times - 1,
            labelled,
            marker_samples=rec.marker_samples,
            marker_labels=rec.marker_labels,
        )
        assert pipe.adapter.n_updates > 0  # the cued trials before the cut taught it
        return np.asarray(preds), np.asarray(hits), ends, info["onsets"] + offset + n_times - 1

    p1, h1, ends, epoch_ends = replay(held)
    p2, h2, _, _ = replay(later)
    before = ends < cut
    np.testing.assert_array_equal(p1[before], p2[before])
    np.testing.assert_array_equal(h1[epoch_ends < cut], h2[epoch_ends < cut])
    assert (p1[~before] != p2[~before]).any()


def test_pseudo_online_reports_the_causal_epoch_accuracy() -> None:
    recs = [make_recording(0), shifted(make_recording(1), gain=3.0)]
    r = pseudo_online(recs, lambda rec: Pipeline.for_recording(adapting(), rec))
    assert 0.0 <= r["epoch_accuracy"] <= 1.0
    assert r["n_epochs"] == sum(p["n_epochs"] for p in r["per_recording"]) > 0
    assert r["epoch_accuracy"] > 0.8
    with pytest.raises(BCIError, match="one group"):
        pseudo_online(recs, lambda rec: Pipeline.for_recording(adapting(), rec), groups=[1, 1])


def test_supervised_updates_improve_a_shifted_stream() -> None:
    """Cued trials of a shifted session teach the model: later trials gain accuracy."""
    d = paradigm("bandpower").to_dict()
    d["adaptation"] = {"supervised": True}
    par = Paradigm.from_dict(d)
    pipe = _fitted(par, make_recording(0, n_trials=60))
    # Another gain per channel: every log band power is offset, the model's bias is wrong.
    stream = shifted(make_recording(2, n_trials=60), np.diag([0.4, 1.0, 2.5, 1.0]))
    E, y, _ = pipe.epochs_from_recording(stream)
    half = len(y) // 2

    def accuracy_on_second_half(learn: bool) -> float:
        model = _fitted(par, make_recording(0, n_trials=60))
        if learn:
            for k in range(half):
                model.learn_epochs(E[k : k + 1], [y[k]])
            assert model.adapter.n_updates == half
        return model.score_epochs(E[half:], y[half:])

    frozen, learnt = accuracy_on_second_half(False), accuracy_on_second_half(True)
    assert frozen < 0.8
    assert learnt > frozen + 0.1
    with pytest.raises(BCIError, match="not classes"):
        pipe.learn_epochs(E[:1], ["nope"])


def test_learning_needs_adaptation_in_the_paradigm() -> None:
    pipe = _fitted(paradigm("bandpower"), make_recording(0))
    E, y, _ = pipe.epochs_from_recording(make_recording(1))
    with pytest.raises(BCIError, match="supervised"):
        pipe.learn_epochs(E[:1], y[:1])


def test_band_power_is_standardised_per_group() -> None:
    recs = [make_recording(0), shifted(make_recording(1), np.diag([0.3, 1.0, 3.0, 1.0]))]
    pipe = Pipeline(adapting("bandpower"), recs[0].info.ch_names, recs[0].sfreq)
    E, y, info = pipe.epochs_from_recordings(recs)
    pipe.fit_epochs(E, y, info["groups"])
    F = pipe.features(E, info["groups"])
    for g in (0, 1):
        assert np.allclose(F[info["groups"] == g].mean(axis=0), 0.0, atol=1e-10)
        assert np.allclose(F[info["groups"] == g].std(axis=0), 1.0, atol=1e-10)


def test_cued_trials_label_windows_as_the_evaluation_does() -> None:
    from bci.adaptation import CuedTrials
    from bci.evaluation import window_labels

    d = paradigm("bandpower").to_dict()
    d["epochs"] = {"tmin": 0.5, "tmax": 2.5, "trial_marker": "start", "occurrence": 2}
    par = Paradigm.from_dict(d)
    sfreq = 100.0
    cues = CuedTrials(par, 2.0, sfreq)
    # The trial rule: the second class marker after "start" is the onset.
    cues.observe([9.0, 10.0, 10.5, 20.0], ["start", "left", "left", "feet"])
    assert cues.cues == [(10.5, "left")]
    ends = np.arange(900, 1600, 7)
    got = cues.label(ends / sfreq)
    want = window_labels(ends, 200, np.array([1050]), ["left"], 50, 200)
    assert got == want.tolist() and "left" in got and "" in got
    # A trial is learnt from only once every window overlapping it has been classified.
    X = np.arange(len(ends))[:, None].astype(float)
    cues.hold(X, ends / sfreq)
    assert cues.release(10.5 + 2.5 + 2.0 - 0.01) is None
    rows, names = cues.release(10.5 + 2.5 + 2.0)
    assert names == [g for g in got if g] and rows.shape == (len(names), 1)
    assert cues.release(100.0) is None
