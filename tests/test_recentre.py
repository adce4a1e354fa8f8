"""Re-centring steps (bci.features.recentre): running mean, congruence invariance, state."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bci.errors import BCIError
from bci.features.recentre import (
    CovarianceRecentring,
    FeatureStandardising,
    RunningMean,
    geodesic_step,
    running_step,
)
from bci.features.riemann import invsqrtm, logm, riemannian_mean
from bci.features.tangent_space import TangentSpace


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Affine-invariant Riemannian distance between SPD matrices."""
    isq = invsqrtm(a)
    return float(np.linalg.norm(logm(isq @ b @ isq)))


def random_spd(rng: np.random.Generator, n: int, spread: float = 1.0) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.exp(spread * rng.uniform(-1, 1, n))) @ q.T


def wishart_stream(rng, mean: np.ndarray, n: int, dof: int = 40) -> np.ndarray:
    """SPD matrices scattered around ``mean`` (sample covariances of ``dof`` samples)."""
    root = np.linalg.cholesky(mean)
    x = root @ rng.standard_normal((n, mean.shape[0], dof))
    return x @ x.transpose(0, 2, 1) / dof


def test_geodesic_step_end_points_and_midpoint() -> None:
    rng = np.random.default_rng(0)
    a, b = random_spd(rng, 4), random_spd(rng, 4)
    assert np.allclose(geodesic_step(a, b, 0.0), a, atol=1e-10)
    assert np.allclose(geodesic_step(a, b, 1.0), b, atol=1e-10)
    mid = geodesic_step(a, b, 0.5)
    assert distance(a, mid) == pytest.approx(distance(mid, b), rel=1e-8)
    assert distance(a, mid) == pytest.approx(0.5 * distance(a, b), rel=1e-8)


def test_running_mean_converges_to_batch_mean_on_a_stationary_stream() -> None:
    rng = np.random.default_rng(1)
    true = random_spd(rng, 4, spread=1.5)
    covs = wishart_stream(rng, true, 6000)
    batch = riemannian_mean(covs)
    start = 5.0 * np.eye(4)
    errors = {}
    for alpha in (0.02, 0.002):
        run = RunningMean(start[None], alpha=alpha)
        for c in covs:
            run.update(c[None])
        errors[alpha] = distance(run.mean[0], batch)
    assert distance(start, batch) > 2.0
    # A smaller step averages more windows: the estimate gets closer to the batch mean.
    assert errors[0.002] < errors[0.02] < 0.3
    assert errors[0.002] < 0.1


def test_running_mean_rejects_an_impossible_step() -> None:
    with pytest.raises(BCIError, match="alpha"):
        RunningMean(np.eye(2)[None], alpha=0.0)


def _epochs(rng, n_per_class: int, n_ch: int = 4, n_times: int = 256):
    """Two classes whose covariances are R D R^T with log-means cancelling (mean ~ I)."""
    q, _ = np.linalg.qr(np.random.default_rng(99).standard_normal((n_ch, n_ch)))
    d = np.ones(n_ch)
    d[0], d[1] = 1.6, 0.625
    mixes = {"a": q * np.sqrt(d), "b": q * np.sqrt(d[[1, 0, 2, 3]])}
    E, y = [], []
    for label, mix in mixes.items():
        E.append(mix @ rng.standard_normal((n_per_class, n_ch, n_times)))
        y += [label] * n_per_class
    return np.concatenate(E), np.asarray(y)


def _fit_linear(X: np.ndarray, y: np.ndarray):
    """Nearest class mean: a fixed, label-using classifier for the invariance test."""
    means = {c: X[y == c].mean(axis=0) for c in np.unique(y)}
    return lambda Z: np.asarray([min(means, key=lambda c: np.linalg.norm(z - means[c])) for z in Z])


def test_congruence_shift_is_removed_by_recentring() -> None:
    """A session seen through ``A`` (covariances ``A C A^T``) classifies as the original."""
    rng = np.random.default_rng(2)
    E_train, y_train = _epochs(rng, 60)
    E_test, y_test = _epochs(np.random.default_rng(3), 60)
    # SPD, in the classes' eigenbasis: it makes class "a" look like class "b" did, and
    # triples the amplitude (another day, another cap position and gain).
    q, _ = np.linalg.qr(np.random.default_rng(99).standard_normal((4, 4)))
    A = 3.0 * (q * np.sqrt([0.625 / 1.6, 1.6 / 0.625, 1.0, 1.0])) @ q.T
    E_shift = A @ E_test
    step = TangentSpace(shrinkage=0.0).fit(E_train)
    rec = CovarianceRecentring(alpha=0.01)
    F_train = rec.fit_transform(step, E_train, np.zeros(len(y_train)))
    predict = _fit_linear(F_train, y_train)
    acc = {
        "test": np.mean(predict(rec.transform(step, E_test, np.ones(len(y_test)))) == y_test),
        "shifted": np.mean(predict(rec.transform(step, E_shift, np.ones(len(y_test)))) == y_test),
        "shifted, not re-centred": np.mean(predict(step.transform(E_shift)) == y_test),
    }
    assert acc["test"] > 0.9
    assert acc["shifted"] >= acc["test"] - 0.02
    # The shift is real: without re-centring the same classifier loses it.
    assert acc["shifted, not re-centred"] < acc["test"] - 0.2


def test_feature_standardising_removes_a_per_session_offset() -> None:
    class Identity:
        def transform(self, Z):
            return np.asarray(Z, dtype=float)

    rng = np.random.default_rng(5)
    F = rng.standard_normal((200, 3))
    groups = np.repeat([0, 1], 100)
    shifted = F + np.where(groups[:, None] == 1, 5.0, 0.0)
    fs = FeatureStandardising(alpha=0.05)
    out = fs.fit_transform(Identity(), shifted, groups)
    assert np.allclose(out[groups == 0].mean(axis=0), 0, atol=1e-12)
    assert np.allclose(out[groups == 1].mean(axis=0), 0, atol=1e-12)
    new = fs.transform(Identity(), F[:50] - 7.0, np.full(50, 9))
    assert np.allclose(new.mean(axis=0), 0, atol=1e-12)
    # Online: starts at the training moments, moves toward the new session's.
    fs.start_online()
    online = fs.transform_online(Identity(), np.full((400, 3), -7.0))
    assert abs(online[-1]).max() < abs(online[0]).max()


def test_state_round_trip_and_bad_state() -> None:
    rng = np.random.default_rng(6)
    E, _ = _epochs(rng, 20)
    step = TangentSpace().fit(E)
    rec = CovarianceRecentring(alpha=0.01)
    rec.fit_transform(step, E, None)
    meta, arrays = rec.to_state()
    back = CovarianceRecentring.from_state(meta, arrays)
    assert np.allclose(back.reference_, rec.reference_)
    with pytest.raises(BCIError, match="positive definite"):
        CovarianceRecentring.from_state(meta, {"reference": -np.eye(4)[None]})
    with pytest.raises(BCIError, match="finite square"):
        CovarianceRecentring.from_state(meta, {"reference": np.ones((2, 3))})


def test_running_step_is_a_cumulative_mean_then_the_fixed_step() -> None:
    # hop / window = 1/8: the prior counts as one window, each update as 1/8 of one.
    steps = [running_step(n, 0.002, 0.125) for n in range(2000)]
    assert steps[0] == pytest.approx(0.125 / 1.125)
    assert all(a >= b for a, b in itertools.pairwise(steps))
    assert steps[-1] == 0.002
    # In seconds: hop / (window + elapsed) until it reaches hop / memory.
    assert running_step(79, 0.0, 0.125) == pytest.approx(0.25 / (2.0 + 80 * 0.25))
    assert running_step(5, 0.01, None) == 0.01
    with pytest.raises(BCIError, match="warmup"):
        RunningMean(np.eye(2)[None], alpha=0.1, warmup=2.0)


def test_warmed_up_running_mean_is_the_weighted_mean_of_prior_and_windows() -> None:
    """Commuting (diagonal) matrices: the geodesic mean is the mean of the logarithms."""
    rng = np.random.default_rng(7)
    logs = rng.normal(size=(50, 3))
    run = RunningMean(np.eye(3)[None], alpha=1e-6, warmup=0.5)
    for d in logs:
        run.update(np.diag(np.exp(d))[None])
    # Prior (log = 0) of weight 1, every window of weight 0.5.
    expected = 0.5 * logs.sum(axis=0) / (1.0 + 0.5 * len(logs))
    assert np.allclose(np.log(np.diag(run.mean[0])), expected, atol=1e-10)


def test_warm_up_reaches_a_new_session_sooner_than_the_fixed_step() -> None:
    rng = np.random.default_rng(8)
    true = random_spd(rng, 4, spread=1.5)
    covs = wishart_stream(rng, true, 400)
    batch = riemannian_mean(covs)
    err = {}
    for warmup in (None, 0.125):
        run = RunningMean(5.0 * np.eye(4)[None], alpha=0.002, warmup=warmup)
        for c in covs:
            run.update(c[None])
        err[warmup] = distance(run.mean[0], batch)
    assert distance(5.0 * np.eye(4), batch) > 2.0
    assert err[0.125] < 0.5 * err[None]
    assert err[0.125] < 0.3


def test_prior_weight_is_dispersion_over_spread_of_session_means() -> None:
    """Sessions far apart (relative to their dispersion) give the reference little weight."""
    rng = np.random.default_rng(9)
    weights = {}
    for gain in (1.2, 3.0):
        E, groups = [], []
        for g in range(4):
            shift = np.diag(gain ** rng.uniform(-1, 1, 4))
            E.append(shift @ _epochs(rng, 20)[0])
            groups += [g] * 40
        E = np.concatenate(E)
        step = TangentSpace(shrinkage=0.0).fit(E)
        rec = CovarianceRecentring(alpha=0.002, warmup=0.125)
        F = rec.fit_transform(step, E, np.asarray(groups))
        sigma2 = np.mean(np.sum(F**2, axis=1))
        tau2 = np.mean(
            [
                distance(rec.reference_[0], np.linalg.inv(i[0] @ i[0])) ** 2
                for i in rec.group_isqrt_.values()
            ]
        )
        assert rec.prior_windows_ == pytest.approx(sigma2 / tau2, rel=1e-6)
        weights[gain] = rec.prior_windows_
        # Online: the learnt weight sets the early steps.
        rec.start_online()
        assert rec._running.step == pytest.approx(0.125 / (weights[gain] + 0.125))
    assert weights[3.0] < weights[1.2]
    # One training group: no spread to measure, the fixed step from the first window.
    one = CovarianceRecentring(alpha=0.002, warmup=0.125)
    one.fit_transform(step, E, None)
    assert one.prior_windows_ is None
    one.start_online()
    assert one._running.step == 0.002
    # The weight travels with the model file; a bad one is refused.
    meta, arrays = rec.to_state()
    assert CovarianceRecentring.from_state(meta, arrays).prior_windows_ == rec.prior_windows_
    with pytest.raises(BCIError, match="prior_windows"):
        CovarianceRecentring.from_state({**meta, "prior_windows": -1.0}, arrays)


def test_a_new_group_is_recentred_exactly_as_a_training_group_per_band() -> None:
    """Training and test sides use one estimator: the same per-band (OAS) covariances and
    Riemannian means, so a held-out group made of a training group's epochs gets exactly
    that group's training features, and each band's block averages to zero in the tangent
    space at its own mean (the Karcher mean's defining property)."""
    from bci.features.filter_bank import FilterBankTangentSpace

    rng = np.random.default_rng(5)
    n_ch, n = 4, 24
    mixes = [np.eye(n_ch) + 0.5 * rng.standard_normal((n_ch, n_ch)) for _ in range(2)]
    E = np.concatenate([m @ rng.standard_normal((n, n_ch, 256)) for m in mixes])
    groups = np.repeat([0, 1], n)
    step = FilterBankTangentSpace(sfreq=128.0, bands=[(8.0, 12.0), (18.0, 22.0)]).fit(E)
    rec = CovarianceRecentring(alpha=0.01)
    F = rec.fit_transform(step, E, groups)
    held = rec.transform(step, E[groups == 1], np.full(n, "new"))
    np.testing.assert_allclose(held, F[groups == 1], rtol=1e-10, atol=1e-12)
    n_feat = n_ch * (n_ch + 1) // 2
    for g in (0, 1):
        for band in range(2):
            block = F[groups == g][:, band * n_feat : (band + 1) * n_feat]
            assert np.abs(block.mean(axis=0)).max() < 1e-6 * np.abs(block).max()
    # Not a tautology: the groups' means differ, so mapping at the other one changes it.
    other = step.tangent_features(step.block_covariances(E[groups == 1]), rec.group_isqrt_[0])
    assert np.abs(other - F[groups == 1]).max() > 0.1
