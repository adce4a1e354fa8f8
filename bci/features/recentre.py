"""Re-centring across sessions: each group whitened by its own reference, offline and online.

A session recorded on another day differs from the training sessions mostly by a
congruence ``C -> A C A^T`` of its spatial covariances (the cap sits elsewhere, impedances
differ). Whitening every session's covariances by that session's own Riemannian mean
``M_g`` (``M_g^-1/2 C M_g^-1/2``) removes any such ``A`` and puts all sessions around the
identity (Zanini et al., IEEE TBME 65(5), 2018). The tangent map at ``M_g`` is exactly
``upper(logm(M_g^-1/2 C M_g^-1/2))``, so re-centring a tangent-space step means mapping
each group at its own reference instead of the training set's.

- :class:`CovarianceRecentring` does that for steps that map covariances to a tangent
  space (:class:`~bci.features.tangent_space.TangentSpace`, and
  :class:`~bci.features.filter_bank.FilterBankTangentSpace` per band).
- :class:`FeatureStandardising` is the analogue for other features (band power, CSP): each
  group's feature vectors standardised by that group's own mean and standard deviation.

Offline (``transform(Z, groups)``) a group seen in training keeps the reference learned from
its training epochs, and an unseen group is re-centred on the mean of its own epochs (batch,
unsupervised: no labels are used). Online (:meth:`start_online` then
:meth:`transform_online`) the session starts from the *training reference* (the mean over
all training epochs; what a model file stores) and tracks a running mean of the windows it
has classified: window ``t`` is mapped with the reference of windows ``< t``, then updates it.

The running mean is the geodesic update ``M <- M^1/2 (M^-1/2 C M^-1/2)^a M^1/2``. Its
step (:func:`running_step`) is the exact recursive (Welford) form of a weighted mean in
which the training reference counts as ``w0`` independent windows and each window as
``r = hop / window`` of one (overlapping windows are not independent), floored at
``alpha = online.step / memory`` (exponential forgetting, time constant ``memory``
seconds, whatever the hop): ``max(hop / (w0 * window + elapsed), alpha)``. ``w0`` is an
empirical-Bayes weight learnt at training (:meth:`CovarianceRecentring.prior_windows`):
the within-session dispersion over the spread of the training sessions' means around the
training reference (Morris, JASA 1983). Far-apart sessions (other people) make the
reference a weak prior and the mean moves fast early; with one training session there is
no spread to measure and the step is ``alpha`` from the first window (the training
reference weighs one memory). Why not a plain ``1/(n+1)`` warm-up (``w0 = 1``): trials
come in single-class blocks, so trusting the first few windows whitens away the first
trial's class. Measured on SSVEP-exo 01-06 (causal epoch accuracy; batch re-centring
0.747 leave-one-recording-out, 0.688 leave-one-subject-out): fixed step 0.755 / 0.643,
``w0 = 1`` 0.719 / 0.656, learnt ``w0`` (about 3-4 windows there) 0.755 / 0.674.

Stretching (each group's tangent vectors scaled to unit dispersion, Rodrigues et al.,
IEEE TBME 2019) was measured (SSVEP-exo batch +0.008 leave-one-recording-out, +0.010
leave-one-subject-out) and left out: it lowered PhysioNet S001 fists/feet and the
within-recording figures, and with supervised updates online it collapsed S001 to 0.40.
It has little to act on: the training and test sessions' dispersions agree to within 6 %.

What limits the re-centred SSVEP-exo leave-one-recording-out figure (0.747;
``benchmarks/diagnose_adaptation.py``) is not this module's estimator: the test mean from
all the recording's windows instead of its 32 epochs gives the same 0.747, sample
covariances 0.745 instead of OAS, the classifier's L2 chosen by an inner cross-validation
on the training recording 0.745. It is the 32 training epochs (8 a class): the figure is
still rising at 4 / 6 / 8 epochs a class (0.687 / 0.727 / 0.747), and training on five
2 s windows a trial instead of one reaches 0.786. That is built as cropped training
(``[epochs] train_crops``, :mod:`bci.epochs`), on in the shipped SSVEP-exo paradigm: re-centred
0.789, causal 0.784; each training group is then centred on its crops' mean.
"""

from __future__ import annotations

import numpy as np

from bci.errors import BCIError
from bci.features.riemann import eig_fn, invsqrtm, riemannian_mean, sqrtm


def running_step(n: int, alpha: float, warmup: float | None, prior: float = 1.0) -> float:
    """Step of update ``n + 1`` of a running mean started from a prior.

    Without ``warmup``: the fixed step ``alpha``. With ``warmup = r`` (the independent
    windows one update is worth: ``hop / window`` for overlapping windows, 1 when they do
    not overlap) the running mean is the weighted mean of the prior, of weight ``prior``
    windows, and of the ``n + 1`` windows so far, each of weight ``r``; the exact recursive
    (Welford) form of that mean moves by ``r / (prior + (n + 1) r)``: in seconds,
    ``hop / (prior * window + elapsed)``. Once that falls to ``alpha = hop / memory`` it
    stays there (exponential forgetting, time constant ``memory``).
    """
    if warmup is None:
        return float(alpha)
    return max(float(warmup) / (float(prior) + (n + 1) * float(warmup)), float(alpha))


def _check_warmup(warmup: float | None) -> float | None:
    if warmup is None:
        return None
    if not 0.0 < float(warmup) <= 1.0:
        raise BCIError(f"running mean warmup (hop / window) must be in (0, 1], got {warmup!r}")
    return float(warmup)


def geodesic_step(mean: np.ndarray, covs: np.ndarray, alpha: float) -> np.ndarray:
    """Point at fraction ``alpha`` of the geodesic from ``mean`` to ``covs`` (batched).

    ``M^1/2 (M^-1/2 C M^-1/2)^alpha M^1/2``: ``alpha = 0`` gives ``M``, ``1`` gives ``C``.
    """
    sq, isq = sqrtm(mean), invsqrtm(mean)
    inner = eig_fn(isq @ covs @ isq, lambda w: w**alpha)
    out = sq @ inner @ sq
    return 0.5 * (out + np.swapaxes(out, -1, -2))


class RunningMean:
    """Running Riemannian mean of SPD matrices, started from a reference.

    Parameters
    ----------
    reference : ndarray, shape (..., n, n)
        Starting point (one matrix per block, e.g. per frequency band).
    alpha : float
        Geodesic step once warmed up, in (0, 1] (see the module notes).
    warmup : float, optional
        Independent windows one update is worth (``hop / window``); None: step ``alpha``.
    prior : float
        Weight of ``reference``, in independent windows (see :func:`running_step`).
    """

    def __init__(
        self,
        reference: np.ndarray,
        *,
        alpha: float,
        warmup: float | None = None,
        prior: float = 1.0,
    ) -> None:
        if not 0.0 < float(alpha) <= 1.0:
            raise BCIError(f"running mean step alpha must be in (0, 1], got {alpha!r}")
        if not (np.isfinite(prior) and float(prior) > 0):
            raise BCIError(f"running mean prior weight must be a positive number, got {prior!r}")
        self.alpha = float(alpha)
        self.warmup = _check_warmup(warmup)
        self.prior = float(prior)
        self.mean = np.array(reference, dtype=np.float64)
        self.n = 0
        self._isqrt: np.ndarray | None = None

    @property
    def isqrt(self) -> np.ndarray:
        """``mean^-1/2``: the whitening matrix of the current estimate."""
        if self._isqrt is None:
            self._isqrt = invsqrtm(self.mean)
        return self._isqrt

    @property
    def step(self) -> float:
        """Geodesic step of the next update."""
        return running_step(self.n, self.alpha, self.warmup, self.prior)

    def update(self, covs: np.ndarray) -> None:
        """Move toward ``covs`` (same shape as the mean) by :attr:`step` along the geodesic."""
        self.mean = geodesic_step(self.mean, covs, self.step)
        self.n += 1
        self._isqrt = None


class RunningMoments:
    """Exponentially weighted mean and variance of feature vectors (step ``alpha``)."""

    def __init__(self, mean: np.ndarray, var: np.ndarray, *, alpha: float) -> None:
        if not 0.0 < float(alpha) <= 1.0:
            raise BCIError(f"running moments step alpha must be in (0, 1], got {alpha!r}")
        self.alpha = float(alpha)
        self.mean = np.array(mean, dtype=np.float64)
        self.var = np.array(var, dtype=np.float64)
        self.n = 0

    def update(self, x: np.ndarray) -> None:
        """Exponentially weighted update with step ``alpha``."""
        a = self.alpha
        d = x - self.mean
        self.mean = self.mean + a * d
        self.var = (1.0 - a) * (self.var + a * d * d)
        self.n += 1

    @property
    def scale(self) -> np.ndarray:
        """Standard deviation, floored so a constant feature is only centred."""
        return _safe_scale(np.sqrt(np.maximum(self.var, 0.0)), self.mean)


def _safe_scale(scale: np.ndarray, mean: np.ndarray) -> np.ndarray:
    return np.where(scale > 1e-12 * (np.abs(mean) + 1.0), scale, 1.0)


def _group_ids(groups: np.ndarray | None, n: int) -> np.ndarray:
    if groups is None:
        return np.zeros(n, dtype=object)
    g = np.asarray(groups)
    if g.shape != (n,):
        raise BCIError(f"re-centring: {g.shape} group ids for {n} epochs; give one per epoch")
    return g


class CovarianceRecentring:
    """Tangent map of each group at its own Riemannian mean (per block/band).

    Works on a fitted step that has ``block_covariances(Z) -> (n_blocks, n, c, c)`` and
    ``reference_isqrt_`` (the training mean's whitening matrices).

    Parameters
    ----------
    alpha : float
        Geodesic step of the online running mean once warmed up (see the module notes).
    warmup : float, optional
        ``hop / window`` of the online windows: with a learnt prior weight, the running
        mean's early steps are :func:`running_step`'s. None: the fixed step ``alpha``.
    """

    kind = "recentre_covariance"

    def __init__(self, *, alpha: float, warmup: float | None = None) -> None:
        self.alpha = float(alpha)
        self.warmup = _check_warmup(warmup)
        self.reference_: np.ndarray | None = None  # (n_blocks, c, c): start of a session
        #: Weight of the training reference in independent windows (None: fixed step).
        self.prior_windows_: float | None = None
        self.group_isqrt_: dict = {}
        self._running: RunningMean | None = None

    def fit_transform(self, step, Z: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        """Learn each training group's reference and return the re-centred features."""
        covs = step.block_covariances(Z)
        ref_isqrt = np.asarray(step.reference_isqrt_, dtype=np.float64)
        # One block (TangentSpace) is stored 2-D by the step; blocks are always 3-D here.
        self.reference_ = _inverse_square(ref_isqrt.reshape(-1, *ref_isqrt.shape[-2:]))
        g = _group_ids(groups, covs.shape[1])
        self.group_isqrt_ = {}
        for gid in dict.fromkeys(g.tolist()):
            idx = np.flatnonzero(g == gid)
            self.group_isqrt_[gid] = invsqrtm(_block_means(covs[:, idx]))
        out = self._map(step, covs, g, {})
        self.prior_windows_ = self.prior_windows(out, g)
        return out

    def prior_windows(self, features: np.ndarray, g: np.ndarray) -> float | None:
        """Empirical-Bayes weight of the training reference as a new session's mean.

        A session's mean lies at squared distance ``tau^2`` from the training reference
        (the training groups' means, averaged); an independent window lies at ``sigma^2``
        from its session's mean (the groups' dispersion: the squared norm of a re-centred
        tangent vector is that distance). In the normal model the posterior mean after
        ``n`` windows weighs the prior as ``sigma^2 / tau^2`` windows (Morris, JASA 1983).
        Distances are on the product of the blocks' manifolds. With one training group
        there is no ``tau^2``: None (the fixed step).
        """
        groups = list(dict.fromkeys(g.tolist()))
        if len(groups) < 2 or self.reference_ is None:
            return None
        ref_isqrt = invsqrtm(self.reference_)
        tau2 = float(
            np.mean(
                [
                    sum(
                        _distance_sq(r, m)
                        for r, m in zip(
                            ref_isqrt, _inverse_square(self.group_isqrt_[gid]), strict=True
                        )
                    )
                    for gid in groups
                ]
            )
        )
        sq = np.sum(features * features, axis=1)
        sigma2 = float(np.mean([np.mean(sq[g == gid]) for gid in groups]))
        if not (np.isfinite(tau2) and tau2 > 1e-12 * max(sigma2, 1.0)):
            return None
        return sigma2 / tau2

    def transform(self, step, Z: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        """Batch re-centring: seen groups at their training mean, new ones at their own."""
        covs = step.block_covariances(Z)
        g = _group_ids(groups, covs.shape[1])
        new = {}
        for gid in dict.fromkeys(g.tolist()):
            if gid not in self.group_isqrt_:
                idx = np.flatnonzero(g == gid)
                new[gid] = invsqrtm(_block_means(covs[:, idx]))
        return self._map(step, covs, g, new)

    def _map(self, step, covs: np.ndarray, g: np.ndarray, new: dict) -> np.ndarray:
        n_blocks, n = covs.shape[:2]
        out = np.empty((n, step.n_features_per_block * n_blocks))
        for gid in dict.fromkeys(g.tolist()):
            idx = np.flatnonzero(g == gid)
            isqrt = new.get(gid, self.group_isqrt_.get(gid))
            out[idx] = step.tangent_features(covs[:, idx], isqrt)
        return out

    # -------------------------------------------------------------- online
    def start_online(self) -> None:
        """Start a session at the training reference."""
        self._require_fitted()
        prior = self.prior_windows_
        self._running = RunningMean(
            self.reference_,
            alpha=self.alpha,
            warmup=None if prior is None else self.warmup,
            prior=1.0 if prior is None else prior,
        )

    def transform_online(self, step, Z: np.ndarray, *, update: bool = True) -> np.ndarray:
        """Map windows in time order, each at the running mean of the windows before it."""
        if self._running is None:
            self.start_online()
        covs = step.block_covariances(Z)
        out = []
        for k in range(covs.shape[1]):
            out.append(step.tangent_features(covs[:, k : k + 1], self._running.isqrt))
            if update:
                self._running.update(covs[:, k])
        return np.concatenate(out, axis=0)

    @property
    def online_reference(self) -> np.ndarray | None:
        """The running mean now (per block), or None before the first online window."""
        return None if self._running is None else self._running.mean.copy()

    @property
    def start_reference(self) -> np.ndarray | None:
        """Where a session starts: the training reference (or an adopted running mean)."""
        return None if self.reference_ is None else self.reference_.copy()

    def adopt_online_reference(self) -> None:
        """Make the running mean the start of the next session (``bci live --save-adapted``)."""
        if self._running is not None:
            self.reference_ = self._running.mean.copy()

    # -------------------------------------------------------------- state
    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """``(meta, arrays)``: the training reference a session starts from."""
        self._require_fitted()
        meta = {"type": self.kind, "alpha": self.alpha, "prior_windows": self.prior_windows_}
        return meta, {"reference": self.reference_.copy()}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> CovarianceRecentring:
        """Rebuild what :meth:`to_state` saved."""
        out = cls(alpha=float(meta["alpha"]))
        ref = np.asarray(arrays["reference"], dtype=np.float64)
        if ref.ndim != 3 or ref.shape[1] != ref.shape[2] or not np.all(np.isfinite(ref)):
            raise BCIError(
                f"re-centring state: reference must be finite square matrices, got {ref.shape}"
            )
        if np.any(np.linalg.eigvalsh(0.5 * (ref + np.swapaxes(ref, 1, 2))) <= 0):
            raise BCIError("re-centring state: reference matrices are not positive definite")
        out.reference_ = ref
        prior = meta.get("prior_windows")
        if prior is not None:
            if isinstance(prior, bool) or not isinstance(prior, int | float):
                raise BCIError(f"re-centring state: prior_windows must be a number, got {prior!r}")
            if not (np.isfinite(prior) and prior > 0):
                raise BCIError(f"re-centring state: prior_windows must be > 0, got {prior!r}")
            out.prior_windows_ = float(prior)
        return out

    def _require_fitted(self) -> None:
        if self.reference_ is None:
            raise BCIError("re-centring used before fit; train the pipeline first")


class FeatureStandardising:
    """Per-group standardisation of feature vectors: the re-centring analogue for band
    power and CSP.

    Parameters
    ----------
    alpha : float
        Step of the online running mean/variance.
    """

    kind = "recentre_features"

    def __init__(self, *, alpha: float) -> None:
        self.alpha = float(alpha)
        self.mean_: np.ndarray | None = None
        self.var_: np.ndarray | None = None
        self.groups_: dict = {}
        self._running: RunningMoments | None = None

    @staticmethod
    def _moments(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return F.mean(axis=0), F.var(axis=0)

    def _apply(self, F: np.ndarray, g: np.ndarray, table: dict) -> np.ndarray:
        out = np.empty_like(F)
        for gid in dict.fromkeys(g.tolist()):
            idx = np.flatnonzero(g == gid)
            mean, var = table[gid]
            out[idx] = (F[idx] - mean) / _safe_scale(np.sqrt(var), mean)
        return out

    def fit_transform(self, step, Z: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        """Learn each group's mean/variance (and the overall ones) and standardise."""
        F = step.transform(Z)
        g = _group_ids(groups, F.shape[0])
        self.mean_, self.var_ = self._moments(F)
        self.groups_ = {gid: self._moments(F[g == gid]) for gid in dict.fromkeys(g.tolist())}
        return self._apply(F, g, self.groups_)

    def transform(self, step, Z: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        """Seen groups with their training moments, new groups with their own."""
        F = step.transform(Z)
        g = _group_ids(groups, F.shape[0])
        table = dict(self.groups_)
        for gid in dict.fromkeys(g.tolist()):
            if gid not in table:
                table[gid] = self._moments(F[g == gid])
        return self._apply(F, g, table)

    def start_online(self) -> None:
        """Start a session at the training moments."""
        self._require_fitted()
        self._running = RunningMoments(self.mean_, self.var_, alpha=self.alpha)

    def transform_online(self, step, Z: np.ndarray, *, update: bool = True) -> np.ndarray:
        """Standardise windows in time order with the moments of the windows before each."""
        if self._running is None:
            self.start_online()
        F = step.transform(Z)
        out = np.empty_like(F)
        for k in range(F.shape[0]):
            out[k] = (F[k] - self._running.mean) / self._running.scale
            if update:
                self._running.update(F[k])
        return out

    @property
    def online_reference(self) -> np.ndarray | None:
        """The running mean now, or None before the first online window."""
        return None if self._running is None else self._running.mean.copy()

    @property
    def start_reference(self) -> np.ndarray | None:
        """Where a session starts: the training mean (or an adopted running mean)."""
        return None if self.mean_ is None else self.mean_.copy()

    def adopt_online_reference(self) -> None:
        """Make the running moments the start of the next session."""
        if self._running is not None:
            self.mean_, self.var_ = self._running.mean.copy(), self._running.var.copy()

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """``(meta, arrays)``: the training mean and variance a session starts from."""
        self._require_fitted()
        return {"type": self.kind, "alpha": self.alpha}, {
            "mean": self.mean_.copy(),
            "var": self.var_.copy(),
        }

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> FeatureStandardising:
        """Rebuild what :meth:`to_state` saved."""
        out = cls(alpha=float(meta["alpha"]))
        mean = np.asarray(arrays["mean"], dtype=np.float64)
        var = np.asarray(arrays["var"], dtype=np.float64)
        if mean.ndim != 1 or mean.shape != var.shape:
            raise BCIError(f"re-centring state: mean {mean.shape} and var {var.shape} differ")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var)) and np.all(var >= 0)):
            raise BCIError("re-centring state holds non-finite or negative values")
        out.mean_, out.var_ = mean, var
        return out

    def _require_fitted(self) -> None:
        if self.mean_ is None:
            raise BCIError("re-centring used before fit; train the pipeline first")


def _block_means(covs: np.ndarray) -> np.ndarray:
    """Riemannian mean of each block: ``covs`` (n_blocks, n, c, c) -> (n_blocks, c, c)."""
    return np.stack([riemannian_mean(c) for c in covs])


def _distance_sq(ref_isqrt: np.ndarray, c: np.ndarray) -> float:
    """Squared affine-invariant distance from the point whitened by ``ref_isqrt`` to ``c``."""
    w = np.linalg.eigvalsh(ref_isqrt @ c @ ref_isqrt)
    return float(np.sum(np.log(w) ** 2))


def _inverse_square(isqrt: np.ndarray) -> np.ndarray:
    """``M`` from its whitening matrix ``M^-1/2``."""
    inv = np.linalg.inv(isqrt)
    m = inv @ inv
    return 0.5 * (m + np.swapaxes(m, -1, -2))


def make_recentring(step, *, alpha: float, warmup: float | None = None):
    """The re-centring that fits ``step``: covariance steps are re-centred on the manifold."""
    if hasattr(step, "block_covariances"):
        return CovarianceRecentring(alpha=alpha, warmup=warmup)
    return FeatureStandardising(alpha=alpha)


RECENTRING_TYPES = {cls.kind: cls for cls in (CovarianceRecentring, FeatureStandardising)}
