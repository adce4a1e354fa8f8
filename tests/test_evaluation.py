"""Leak-free cross-validation and pseudo-online scoring on real pipelines."""

from __future__ import annotations

import json
from typing import ClassVar

import numpy as np
import pytest
from bci_synthetic import make_recording, paradigm

from bci.errors import BCIError
from bci.evaluation import cross_validate, learning_curve, pseudo_online, window_labels
from bci.paradigm import load_paradigm
from bci.pipeline import Pipeline

KEYS = {
    "accuracy",
    "accuracy_std",
    "fold_accuracies",
    "chance_level",
    "significance_threshold",
    "kappa",
    "n_epochs",
    "classes",
    "confusion_matrix",
    "fit_seconds",
    "predict_ms_per_epoch",
    "above_chance",
    "verdict",
}


class SpyPipeline:
    """A real pipeline that records which epochs each fold was fitted and scored on."""

    seen: ClassVar[list] = []

    def __init__(self, inner: Pipeline) -> None:
        self.inner = inner
        self.paradigm = inner.paradigm

    def fit_epochs(self, E, y):
        SpyPipeline.seen.append(("fit", E[:, 0, 0].copy()))
        self.inner.fit_epochs(E, y)
        self.classes_ = self.inner.classes_
        return self

    def predict_proba_epochs(self, E):
        SpyPipeline.seen.append(("test", E[:, 0, 0].copy()))
        return self.inner.predict_proba_epochs(E)


@pytest.fixture(scope="module")
def synthetic():
    rec = make_recording(seed=3, n_trials=30)
    pipe = Pipeline.for_recording(paradigm(), rec)
    E, y, _ = pipe.epochs_from_recording(rec)
    return pipe, E, y


def test_cross_validate_report_is_complete_and_json_safe(synthetic):
    pipe, E, y = synthetic
    r = cross_validate(E, y, None, pipe.clone, cv=5, seed=1)
    assert KEYS <= set(r)
    json.dumps(r)  # JSON-safe
    assert r["n_epochs"] == len(y) == int(np.sum(r["confusion_matrix"]))
    assert r["classes"] == ["left", "right", "feet"]
    assert len(r["fold_accuracies"]) == 5
    assert r["accuracy"] == pytest.approx(np.mean(r["fold_accuracies"]))
    assert r["chance_level"] == pytest.approx(1 / 3)
    assert r["accuracy"] > r["significance_threshold"] and r["above_chance"]


def test_every_fold_fits_a_fresh_pipeline_on_training_epochs_only(synthetic):
    pipe, E, y = synthetic
    SpyPipeline.seen = []
    cross_validate(E, y, None, lambda: SpyPipeline(pipe.clone()), cv=3, seed=0)
    fits = [v for k, v in SpyPipeline.seen if k == "fit"]
    tests = [v for k, v in SpyPipeline.seen if k == "test"]
    assert len(fits) == len(tests) == 3
    for train, test in zip(fits, tests, strict=True):
        assert not set(train.tolist()) & set(test.tolist())
    assert sorted(np.concatenate(tests).tolist()) == sorted(E[:, 0, 0].tolist())


def test_grouped_cross_validation_keeps_recordings_whole():
    recs = [make_recording(seed=s, n_trials=12) for s in range(3)]
    pipe = Pipeline.for_recording(paradigm(), recs[0])
    E, y, info = pipe.epochs_from_recordings(recs)
    SpyPipeline.seen = []
    r = cross_validate(
        E, y, info["groups"], lambda: SpyPipeline(pipe.clone()), cv=5, group_by="recording"
    )
    assert r["n_folds"] == 3 and r["group_by"] == "recording"
    groups = info["groups"]
    value_group = {v: g for v, g in zip(E[:, 0, 0].tolist(), groups.tolist(), strict=True)}
    tests = [v for k, v in SpyPipeline.seen if k == "test"]
    for t in tests:
        assert len({value_group[v] for v in t.tolist()}) == 1


def test_random_labels_are_reported_as_not_above_chance(synthetic):
    pipe, E, y = synthetic
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(E.shape) * 1e-5  # no class information at all
    r = cross_validate(noise, y, None, pipe.clone, cv=5, seed=0)
    assert r["accuracy"] <= r["significance_threshold"]
    assert r["above_chance"] is False and "not above chance" in r["verdict"]


def test_cross_validate_errors(synthetic):
    pipe, E, y = synthetic
    with pytest.raises(BCIError, match="group_by"):
        cross_validate(E, y, None, pipe.clone, group_by="subject")
    with pytest.raises(BCIError, match="needs the group"):
        cross_validate(E, y, None, pipe.clone, group_by="run")
    with pytest.raises(BCIError, match="do not match"):
        cross_validate(E[:3], y, None, pipe.clone)


def test_learning_curve_points(synthetic):
    pipe, E, y = synthetic
    lc = learning_curve(E, y, pipe.clone, fractions=(0.3, 1.0), cv=3, seed=0)
    assert lc["n_train"][0] < lc["n_train"][1] == pytest.approx(len(y) * 2 / 3, abs=1)
    assert all(0 <= a <= 1 for a in lc["accuracy"])


def test_window_labels_by_largest_overlap():
    # windows of 10 samples ending at 9, 14, 21, 24; epochs [5, 15) "a" and [15, 25) "b".
    wl = window_labels(np.array([9, 14, 21, 24]), 10, np.array([5, 15]), ["a", "b"], 0, 10)
    assert wl.tolist() == ["a", "a", "b", "b"]
    # 30 % overlap is under the default half-window minimum: unlabelled.
    assert window_labels(np.array([7]), 10, np.array([5]), ["a"], 0, 10).tolist() == [""]


def test_pseudo_online_trains_on_other_recordings():
    recs = [make_recording(seed=s, n_trials=12) for s in range(2)]
    par = paradigm()
    r = pseudo_online(recs, lambda rec: Pipeline.for_recording(par, rec))
    assert len(r["per_recording"]) == 2 and r["n_windows"] > 0
    assert r["accuracy"] > r["chance_level"]
    with pytest.raises(BCIError, match="at least 2 recordings"):
        pseudo_online(recs[:1], lambda rec: Pipeline.for_recording(par, rec))


@pytest.mark.shared_data
def test_default_motor_imagery_beats_chance_on_physionet_fists_vs_feet(shared_data):
    from acquisition.file_source import load_recording

    folder = shared_data / "eegbci/MNE-eegbci-data/files/eegmmidb/1.0.0/S001"
    par = load_paradigm("bci/paradigms/feet_fists_eegbci.toml").with_model("softmax")
    recs = [load_recording(folder / f"S001R{r:02d}.edf") for r in (6, 10, 14)]
    pipe = Pipeline.for_recording(par, recs[0])
    E, y, _ = pipe.epochs_from_recordings(recs)
    r = cross_validate(E, y, None, pipe.clone, cv=5, seed=42)
    assert r["n_epochs"] == 45
    assert r["above_chance"], r["verdict"]
    assert r["accuracy"] > 0.8
