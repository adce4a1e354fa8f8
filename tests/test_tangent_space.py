"""Tests of bci.features.tangent_space: the fitted step, its shrinkage, state round trip."""

from __future__ import annotations

import numpy as np
import pytest

from bci.errors import BCIError
from bci.features.riemann import riemannian_mean
from bci.features.tangent_space import TangentSpace, covariances


def test_mean_of_identical_matrices_is_that_matrix_and_features_vanish_there():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    spd = a @ a.T + 4 * np.eye(4)
    assert np.allclose(riemannian_mean(np.stack([spd, spd, spd])), spd)
    E = rng.standard_normal((30, 4, 300))
    ts = TangentSpace(shrinkage=0.1).fit(E)
    X = ts.transform(E)
    assert X.shape == (30, 10)
    # At the Riemannian mean, tangent vectors average to zero.
    assert np.abs(X.mean(axis=0)).max() < 1e-6


def test_scaled_class_moves_along_the_diagonal_and_state_round_trips():
    rng = np.random.default_rng(1)
    E = rng.standard_normal((20, 3, 200))
    E[10:] *= 3.0
    ts = TangentSpace().fit(E)
    X = ts.transform(E)
    assert X[10:, 0].mean() > X[:10, 0].mean() + 1.0
    again = TangentSpace.from_state(*ts.to_state())
    assert np.array_equal(again.transform(E), X)
    assert covariances(E, 0.0).shape == (20, 3, 3)
    with pytest.raises(BCIError, match="fitted on 3 channels"):
        ts.transform(E[:, :2])


def test_default_shrinkage_is_oas_and_matches_the_filter_bank_step_without_bands():
    from bci.features.covariance import oas_covariances
    from bci.features.filter_bank import FilterBankTangentSpace

    rng = np.random.default_rng(2)
    E = rng.standard_normal((25, 5, 60))  # few samples per channel: OAS shrinks visibly
    assert TangentSpace().shrinkage == "oas"
    assert np.allclose(covariances(E, "oas"), oas_covariances(E))
    ts = TangentSpace().fit(E)
    fb = FilterBankTangentSpace(sfreq=100.0, bands=None).fit(E)
    assert np.allclose(ts.transform(E), fb.transform(E), atol=1e-10)
    again = TangentSpace.from_state(*ts.to_state())
    assert again.shrinkage == "oas" and np.array_equal(again.transform(E), ts.transform(E))
    # A model file written with a fixed shrinkage still loads as that fixed shrinkage.
    old = TangentSpace(shrinkage=0.05).fit(E)
    assert TangentSpace.from_state(*old.to_state()).shrinkage == 0.05


@pytest.mark.parametrize("bad", [1.0, -0.1, "scm", True, None, [0.1]])
def test_bad_shrinkage_is_an_error_naming_the_parameter(bad):
    with pytest.raises(BCIError, match=r"features\.params\.shrinkage"):
        TangentSpace(shrinkage=bad)


def test_pipeline_centres_tangent_vectors_without_rescaling_and_online_equals_offline():
    from bci_synthetic import make_recording, paradigm
    from live_helpers import push_chunks

    from bci.pipeline import Pipeline

    rec = make_recording()
    pipe = Pipeline.for_recording(paradigm("tangent_space"), rec).fit(rec)
    assert np.all(pipe.scaler.scale_ == 1.0)
    E = pipe.epochs_from_recording(rec).E
    assert np.allclose(pipe.transform(E).mean(axis=0), 0.0, atol=1e-10)
    windows, _ = pipe.windows_from_recording(rec)
    offline = pipe.features(windows)
    sizes = np.random.default_rng(3).integers(1, 80, size=500)
    _, online = push_chunks(pipe, rec.data, rec.times, sizes)
    got = pipe.features(online)
    assert len(got) == len(offline) > 100
    assert np.max(np.abs(got - offline)) < 1e-10


@pytest.mark.shared_data
def test_online_equals_offline_on_a_real_64_channel_run(shared_data):
    # 64 channels x 320 samples: the covariances take the one-pass centring
    # (bci.features.covariance), offline on strided windows and online on the ring's copies.
    from live_helpers import push_chunks

    from acquisition.file_source import load_recording
    from bci.features.covariance import _ONE_PASS_SIZE
    from bci.paradigm import load_paradigm
    from bci.pipeline import Pipeline

    run = "eegbci/MNE-eegbci-data/files/eegmmidb/1.0.0/S001/S001R06.edf"
    rec = load_recording(shared_data / run)
    par = load_paradigm("bci/paradigms/feet_fists_eegbci.toml")
    pipe = Pipeline.for_recording(par, rec).fit(rec)
    assert pipe.n_channels * pipe.window_samples >= _ONE_PASS_SIZE
    windows, ends = pipe.windows_from_recording(rec)
    offline = pipe.predict_proba_epochs(windows)
    sizes = np.random.default_rng(8).integers(1, 60, size=400)
    times, online = push_chunks(pipe, rec.data, rec.times, sizes)
    assert len(online) == len(windows) > 1000 and np.array_equal(times, ends)
    assert np.max(np.abs(pipe.predict_proba_epochs(online) - offline)) < 1e-10
    assert np.max(np.abs(pipe.features(online) - pipe.features(windows))) < 1e-10
