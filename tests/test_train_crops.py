"""Cropped training (``[epochs] train_crops``): crops, leak-free folds, errors, round trip."""

from __future__ import annotations

import json
from typing import ClassVar

import mne
import numpy as np
import pytest
from bci_synthetic import SFREQ, make_recording, paradigm

from acquisition.file_source import load_recording
from acquisition.limits import MAX_CROP_VALUES, LimitError
from bci.cli import main
from bci.epochs import TrainCrops, cut_crops
from bci.errors import ParadigmError
from bci.evaluation import cross_validate
from bci.features.recentre import CovarianceRecentring
from bci.features.riemann import invsqrtm, riemannian_mean
from bci.model_file import load_model, read_header, save_model
from bci.paradigm import Paradigm
from bci.paradigm_toml import paradigm_from_toml, paradigm_to_toml
from bci.pipeline import Pipeline
from bci.splits import make_folds


def cropped(base: Paradigm, crops: object, **adaptation) -> Paradigm:
    d = base.to_dict()
    d["epochs"]["train_crops"] = crops
    if adaptation:
        d["adaptation"] = adaptation
    return Paradigm.from_dict(d)


# ----------------------------------------------------------------- count and times


def test_crop_starts_follow_the_rule():
    p = cropped(paradigm(), {"start": 0.0, "stop": 3.5, "step": 0.5})
    # Epoch 0.5-2.5 s: 2 s crops at 0, 0.5, 1.0, 1.5 (the last ends at 3.5).
    assert p.epochs.train_crops.starts() == [0.0, 0.5, 1.0, 1.5]
    assert p.epochs.train_crops.n_crops == 4
    assert p.epochs.train_crops.length == 2.0


def test_true_means_the_whole_stimulation_every_half_second():
    p = cropped(paradigm(), True)  # from the marker to session.imagery (4 s by default)
    assert p.epochs.train_crops.starts() == [0.0, 0.5, 1.0, 1.5, 2.0]
    d = paradigm().to_dict()
    d["epochs"] = {"tmin": -1.0, "tmax": 1.0, "train_crops": True}
    d["session"] = {"imagery": 2.0}
    # An epoch before the marker or past the stimulation widens the span to hold it.
    assert Paradigm.from_dict(d).epochs.train_crops.starts() == [-1.0, -0.5, 0.0]
    assert cropped(paradigm(), False).epochs.train_crops is None
    assert paradigm().epochs.train_crops is None


def test_cut_crops_takes_the_samples_after_each_marker():
    n = 4000
    data = np.vstack([np.arange(n, dtype=float), -np.arange(n, dtype=float)])
    onsets = np.array([100, 1000, 3760])
    crops = cut_crops(data, 100.0, onsets, [0.0, 0.5, 1.0], 2.0)
    assert crops.data.shape == (3, 3, 2, 200)
    for i, s in enumerate(onsets.tolist()):
        for k, t0 in enumerate((0.0, 0.5, 1.0)):
            first = s + round(t0 * 100)
            if first + 200 <= n:
                assert crops.valid[i, k]
                np.testing.assert_array_equal(crops.data[i, k, 0], np.arange(first, first + 200))
    # The last trial's later crops run past the end of the data: 3760 + 50 + 200 > 4000.
    assert crops.valid[2].tolist() == [True, False, False]
    X, y, g, trial = crops.examples(np.array(["a", "b", "c"]), np.array([7, 8, 9]))
    assert X.shape == (7, 2, 200)
    assert y.tolist() == ["a"] * 3 + ["b"] * 3 + ["c"]
    assert g.tolist() == [7] * 3 + [8] * 3 + [9]
    assert trial.tolist() == [0, 0, 0, 1, 1, 1, 2]


def test_crops_above_the_memory_bound_are_refused_before_allocation():
    # 64 channels x 10 s at 2048 Hz a crop, 64 crops a trial, 100 trials: 8.4e9 values
    # (67 GB) if allocated; refused from the sizes alone (the data here is tiny).
    data = np.zeros((64, 10))
    onsets = np.zeros(100, dtype=np.int64)
    with pytest.raises(LimitError, match=r"epochs\.train_crops: 64 crops a trial x 100 trials"):
        cut_crops(data, 2048.0, onsets, [0.0] * 64, 10.0)
    small = cut_crops(np.zeros((2, 400)), 100.0, np.array([0, 100]), [0.0, 1.0], 2.0)
    with pytest.raises(LimitError, match="larger step"):
        TrainCrops.concatenate([small] * (MAX_CROP_VALUES // small.data[0].size + 1))


def test_crops_touching_nonfinite_samples_are_left_out():
    data = np.ones((1, 1000))
    crops = cut_crops(
        data, 100.0, np.array([100]), [0.0, 2.0], 1.0, bad_spans=np.array([[150, 160]])
    )
    assert crops.valid.tolist() == [[False, True]]


def test_pipeline_cuts_one_row_of_crops_per_epoch():
    rec = make_recording(n_trials=12)
    p = cropped(paradigm(), {"start": 0.0, "stop": 3.0, "step": 0.25})
    E, _, info = Pipeline.for_recording(p, rec).epochs_from_recording(rec)
    crops = info["crops"]
    assert len(crops) == E.shape[0] == 12
    assert crops.data.shape[1:] == (5, E.shape[1], E.shape[2])
    assert crops.valid.all()
    # The crop that starts at tmin is the epoch itself (same filtered data, same samples).
    k = crops.starts.tolist().index(0.5)
    np.testing.assert_array_equal(crops.data[:, k], E)
    # Two recordings: the crops are concatenated in the epochs' order.
    E2, _, info2 = Pipeline.for_recording(p, rec).epochs_from_recordings([rec, rec])
    assert len(info2["crops"]) == E2.shape[0] == 24


# ----------------------------------------------------------------- no leak across folds


class SpyPipeline(Pipeline):
    """A real pipeline that also remembers what each fit trained on and each predict saw."""

    fits: ClassVar[list] = []
    tests: ClassVar[list] = []

    def clone(self) -> SpyPipeline:
        return SpyPipeline(self.paradigm, self.ch_names, self.sfreq)

    def fit_epochs(self, E, y, groups=None, *, crops=None):
        X = None if crops is None else crops.examples(np.asarray(y))[0]
        SpyPipeline.fits.append((E, X))
        return super().fit_epochs(E, y, groups, crops=crops)

    def predict_proba_epochs(self, E, groups=None):
        SpyPipeline.tests.append(np.asarray(E))
        return super().predict_proba_epochs(E, groups)


@pytest.mark.parametrize("grouped", [False, True])
def test_no_trial_has_crops_on_both_sides_of_a_split(grouped):
    recs = [make_recording(seed=s, n_trials=12) for s in (1, 2)]
    p = cropped(paradigm(), {"start": 0.0, "stop": 3.5, "step": 0.5})
    pipe = SpyPipeline.for_recording(p, recs[0])
    E, y, info = pipe.epochs_from_recordings(recs)
    crops = info["crops"]
    SpyPipeline.fits, SpyPipeline.tests = [], []
    groups = info["groups"] if grouped else None
    result = cross_validate(
        E, y, groups, pipe.clone, cv=4, group_by="recording" if grouped else None, crops=crops
    )
    folds = make_folds(np.asarray(y), groups, n_folds=4, seed=42) if grouped else None
    assert len(SpyPipeline.fits) == result["n_folds"] == len(SpyPipeline.tests)
    # Every crop of every trial, keyed by its bytes, says which trial it came from.
    owner = {}
    for i in range(len(crops)):
        for k in np.flatnonzero(crops.valid[i]).tolist():
            owner[crops.data[i, k].tobytes()] = i
    epoch_of = {E[i].tobytes(): i for i in range(E.shape[0])}
    for f, ((E_train, X_train), E_test) in enumerate(
        zip(SpyPipeline.fits, SpyPipeline.tests, strict=True)
    ):
        test_trials = {epoch_of[e.tobytes()] for e in E_test}
        train_trials = {owner[x.tobytes()] for x in X_train}
        assert train_trials and test_trials
        assert not train_trials & test_trials, f"fold {f}: a trial's crops are on both sides"
        # Each training trial brought all its crops (the split is on trials, crops after).
        assert X_train.shape[0] == int(crops.valid[sorted(train_trials)].sum())
        assert {epoch_of[e.tobytes()] for e in E_train} == train_trials
        if folds is not None:
            assert test_trials == set(folds[f][1].tolist())


def test_a_split_made_on_crops_would_be_caught():
    """The ownership check above fails when crops of one trial land on both sides."""
    rec = make_recording(n_trials=6)
    p = cropped(paradigm(), {"start": 0.0, "stop": 3.5, "step": 0.5})
    _, y, info = Pipeline.for_recording(p, rec).epochs_from_recording(rec)
    X, _, _, trial = info["crops"].examples(np.asarray(y))
    # Folds drawn on crops (the leak this feature must not have): alternate crops.
    train, test = np.arange(0, X.shape[0], 2), np.arange(1, X.shape[0], 2)
    assert set(trial[train].tolist()) & set(trial[test].tolist())


# ----------------------------------------------------------------- training uses the crops


def test_fit_on_crops_equals_fitting_the_crops_as_epochs():
    rec = make_recording(n_trials=18)
    p = cropped(paradigm(), {"start": 0.0, "stop": 3.0, "step": 0.5})
    pipe = Pipeline.for_recording(p, rec)
    E, y, info = pipe.epochs_from_recording(rec)
    a = pipe.clone().fit_epochs(E, y, crops=info["crops"])
    X, yx, _, _ = info["crops"].examples(np.asarray(y))
    b = pipe.clone().fit_epochs(X, yx)
    assert a.training_hash_ == b.training_hash_
    np.testing.assert_allclose(a.predict_proba_epochs(E), b.predict_proba_epochs(E), atol=1e-12)
    plain = pipe.clone().fit_epochs(E, y)
    assert plain.training_hash_ != a.training_hash_


def test_recentred_groups_are_centred_on_their_crops():
    recs = [make_recording(seed=s, n_trials=12) for s in (3, 4)]
    p = cropped(
        paradigm("tangent_space"), {"start": 0.0, "stop": 3.5, "step": 0.5}, method="recentre"
    )
    pipe = Pipeline.for_recording(p, recs[0])
    E, y, info = pipe.epochs_from_recordings(recs)
    pipe.fit_epochs(E, y, info["groups"], crops=info["crops"])
    rc = pipe.adapter.recentring
    assert isinstance(rc, CovarianceRecentring)
    step = pipe.steps[-1]
    X, _, gx, _ = info["crops"].examples(np.asarray(y), info["groups"])
    for gid in (0, 1):
        # The mean of the examples the group trains on (its crops), not of its epochs.
        covs = step.block_covariances(X[gx == gid])
        want = np.stack([invsqrtm(riemannian_mean(c)) for c in covs])
        np.testing.assert_allclose(rc.group_isqrt_[gid], want, rtol=1e-8, atol=1e-8)
        epochs = step.block_covariances(E[info["groups"] == gid])
        other = np.stack([invsqrtm(riemannian_mean(c)) for c in epochs])
        assert not np.allclose(rc.group_isqrt_[gid], other, rtol=1e-3)
    # A held-out group is still re-centred on its own epochs (the test side as without crops).
    new = make_recording(seed=5, n_trials=12)
    E_new, _, _ = pipe.epochs_from_recording(new)
    covs = step.block_covariances(E_new)
    own = np.stack([invsqrtm(riemannian_mean(c)) for c in covs])
    np.testing.assert_allclose(
        pipe.features(E_new, np.full(len(E_new), "new")),
        step.tangent_features(covs, own),
        atol=1e-10,
    )


# ----------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ({"step": 0}, "epochs.train_crops.step: expected a number > 0"),
        ({"stop": 1.5}, "epochs.train_crops: stop = 1.5 s leaves no room for one crop"),
        ({"start": -200.0, "step": 0.01}, "must be at most 64"),
        ({"start": 1e9}, "epochs.train_crops.start = 1000000000.0 is out of range"),
        ({"begin": 1.0}, "unknown key epochs.train_crops.begin"),
        ("yes", "epochs.train_crops: expected true, false or a table"),
        ({"step": "0.5"}, "epochs.train_crops.step: expected a number"),
    ],
)
def test_bad_settings_give_one_line_naming_the_key(value, needle):
    with pytest.raises(ParadigmError) as err:
        cropped(paradigm(), value)
    text = str(err.value)
    assert needle in text
    assert "\n" not in text


# ----------------------------------------------------------------- round trip


def test_paradigm_and_model_file_round_trip(tmp_path):
    rec = make_recording(n_trials=12)
    p = cropped(paradigm(), {"start": 0.25, "stop": 3.25, "step": 0.5})
    assert Paradigm.from_dict(p.to_dict()) == p
    assert p.to_dict()["epochs"]["train_crops"] == {"start": 0.25, "stop": 3.25, "step": 0.5}
    assert "train_crops" not in paradigm().to_dict()["epochs"]
    # Benchmark tasks carry the paradigm as TOML text.
    assert paradigm_from_toml(paradigm_to_toml(p)) == p
    pipe = Pipeline.for_recording(p, rec).fit(rec)
    path = save_model(tmp_path / "m.bci", pipe)
    loaded = load_model(path)
    assert loaded.paradigm.epochs.train_crops == p.epochs.train_crops
    E, _, _ = pipe.epochs_from_recording(rec)
    np.testing.assert_allclose(
        loaded.predict_proba_epochs(E), pipe.predict_proba_epochs(E), atol=1e-12
    )
    assert SFREQ == pipe.sfreq


# ----------------------------------------------------------------- the commands


CROPS_PARADIGM = """
[classes]
left = "left"
right = "right"
feet = "feet"
[epochs]
tmin = 0.5
tmax = 2.5
train_crops = { start = 0.0, stop = 3.5, step = 0.5 }
[model]
kind = "softmax"
"""


def test_train_and_evaluate_commands_learn_from_the_crops(tmp_path, capsys):
    rec = make_recording(dc=0.0)
    info = mne.create_info(list(rec.info.ch_names), rec.sfreq, "eeg")
    raw = mne.io.RawArray(rec.data, info, verbose="error")
    raw.set_annotations(mne.Annotations(rec.marker_samples / rec.sfreq, 0.0, rec.marker_labels))
    fif = tmp_path / "synthetic_raw.fif"
    raw.save(fif, verbose="error")
    ptoml = tmp_path / "p.toml"
    ptoml.write_text(CROPS_PARADIGM)

    out = tmp_path / "m.bci"
    assert main(["train", str(fif), "--paradigm", str(ptoml), "--out", str(out), "--cv", "0"]) == 0
    printed = capsys.readouterr().out
    assert (
        "cropped training: 96 crops of 24 trials (2 s starting 0 .. 1.5 s every 0.5 s)" in printed
    )
    loaded = load_recording(fif)
    par = Paradigm.from_dict(read_header(out)["paradigm"])
    assert par.epochs.train_crops.starts() == [0.0, 0.5, 1.0, 1.5]
    pipe = Pipeline.for_recording(par, loaded)
    E, y, einfo = pipe.epochs_from_recording(loaded)
    want = pipe.clone().fit_epochs(E, y, crops=einfo["crops"]).training_hash_
    assert read_header(out)["training_hash"] == want

    report = tmp_path / "r.json"
    args = ["evaluate", str(fif), "--paradigm", str(ptoml), "--json", str(report)]
    assert main(args) == 0
    # evaluate prints the same crops line as train.
    assert "cropped training: 96 crops of 24 trials" in capsys.readouterr().out
    got = json.loads(report.read_text())
    expected = cross_validate(E, y, None, pipe.clone, cv=5, seed=42, crops=einfo["crops"])
    assert got["fold_accuracies"] == expected["fold_accuracies"]
    assert got["n_epochs"] == E.shape[0]  # scored on the epochs, not on the crops
