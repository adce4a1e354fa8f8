"""Adaptation across sessions: the object the pipeline calls for ``[adaptation]``.

A :class:`SessionAdapter` sits between the feature steps and the scaler. Offline it
re-centres every group (recording) on its own reference (see
:mod:`bci.features.recentre`); online it starts each session at the training reference and
tracks a running mean of the windows, window by window and in time order, so window ``t``
never sees a window after it. With ``supervised = true`` it also updates the model with
``partial_fit`` on the online windows that overlap a cued trial's epoch by at least half
(the rule the pseudo-online evaluation labels windows by; class markers on the marker
stream, mapped by the paradigm). A trial is learnt from only once it is over (every window
overlapping it classified): later trials benefit, the trial itself never does, so the
causal figures carry no label of the trial they score. The windows are what the live
model classifies, so it learns on the inputs it sees.

The pipeline owns the filter, the windows and the model; this object owns only the
adaptation state, so the online path stays one path with an optional hook.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bci.errors import BCIError
from bci.features.recentre import RECENTRING_TYPES, make_recentring
from bci.paradigm import normalize_marker

#: Cued trials remembered for labelling windows (older ones are dropped).
MAX_CUES = 256
#: A window is learnt from when it overlaps a cued epoch by this fraction (as evaluated).
MIN_OVERLAP = 0.5
#: Labelled windows held until their trial is over (a bound on memory).
MAX_HELD = 20000


class CuedTrials:
    """Class markers of a live session, and which online windows lie inside their epochs.

    Parameters
    ----------
    paradigm : Paradigm
        Its ``[classes]`` markers, ``epochs.tmin``/``tmax`` and trial/occurrence rule.
    window_seconds : float
        Length of an online window.
    sfreq : float
        Sampling rate (half a sample of tolerance on the epoch edges).
    """

    def __init__(self, paradigm: Any, window_seconds: float, sfreq: float) -> None:
        ep = paradigm.epochs
        self.tmin, self.tmax = float(ep.tmin), float(ep.tmax)
        self.window = float(window_seconds)
        self.tol = 0.5 / float(sfreq)
        self.dt = 1.0 / float(sfreq)
        self.to_class = paradigm.marker_to_class
        self.trial = None if ep.trial_marker is None else normalize_marker(ep.trial_marker)
        self.occurrence = ep.occurrence
        self._count = 0
        self.cues: list[tuple[float, str]] = []
        self._held: list[tuple[float, str, np.ndarray]] = []

    def observe(self, timestamps, labels) -> None:
        """Record the class markers among ``labels`` (the paradigm's trial rule applied)."""
        for t, raw in zip(np.asarray(timestamps, dtype=np.float64).tolist(), labels, strict=True):
            marker = normalize_marker(raw)
            if self.trial is not None and marker == self.trial:
                self._count = 0
                continue
            name = self.to_class.get(marker)
            if name is None:
                continue
            if self.trial is not None:
                self._count += 1
                if self._count != self.occurrence:
                    continue
            self.cues.append((t, name))
        del self.cues[:-MAX_CUES]

    def label(self, window_ends) -> list[str]:
        """Class of each window that overlaps a cued epoch by at least half, else ``""``.

        The rule of :func:`bci.evaluation.window_labels` (``min_overlap = 0.5`` of the
        shorter of window and epoch), so the windows learnt from live are the windows the
        pseudo-online evaluation scores.
        """
        return [name for name, _ in self._match(window_ends)]

    def _match(self, window_ends) -> list[tuple[str, float]]:
        need = MIN_OVERLAP * min(self.window, self.tmax - self.tmin)
        out = []
        for t in np.asarray(window_ends, dtype=np.float64).tolist():
            # The window's samples span [t - window + dt, t]: as an interval, (t - window, t].
            start = t - self.window
            best, name, onset = 0.0, "", 0.0
            for m, c in self.cues:
                overlap = min(t, m + self.tmax - self.dt) - max(start, m + self.tmin - self.dt)
                if overlap > best:
                    best, name, onset = overlap, c, m
            out.append((name, onset) if best >= need - self.tol else ("", 0.0))
        return out

    def hold(self, X: np.ndarray, window_ends) -> None:
        """Keep the labelled windows among ``X`` until their trial is over.

        A trial is released for learning once every window that overlaps its epoch has
        been classified (``onset + tmax + window``), so no window or epoch of a trial is
        ever classified by a model that has learnt that trial.
        """
        for k, (name, onset) in enumerate(self._match(window_ends)):
            if name:
                self._held.append((onset + self.tmax + self.window, name, X[k]))
        del self._held[:-MAX_HELD]

    def release(self, now: float) -> tuple[np.ndarray, list[str]] | None:
        """The held windows whose trial is over at time ``now`` (and forget them)."""
        ready = [h for h in self._held if h[0] <= now]
        if not ready:
            return None
        self._held = [h for h in self._held if h[0] > now]
        return np.stack([x for _, _, x in ready]), [name for _, name, _ in ready]

    def reset(self) -> None:
        """A new session: no cues, nothing held."""
        self.cues = []
        self._held = []
        self._count = 0


class SessionAdapter:
    """Re-centring (and optional supervised updates) for one pipeline.

    Parameters
    ----------
    method : {"recentre", "none"}
        ``"none"`` keeps the features as they are (supervised updates may still be on).
    alpha : float
        Geodesic step of the online running mean (``online.step / memory``).
    supervised : bool
        Update the model with ``partial_fit`` on cued trials during use.
    """

    def __init__(
        self,
        *,
        method: str,
        alpha: float,
        supervised: bool,
        cues: CuedTrials | None = None,
        warmup: float | None = None,
    ) -> None:
        self.method = method
        self.alpha = float(alpha)
        #: ``hop / window`` of the online windows (the running mean's warm-up).
        self.warmup = warmup
        self.supervised = bool(supervised)
        #: Class markers of the session (supervised adaptation labels windows with them).
        self.cues = cues
        self.recentring: Any = None
        #: Trials learnt from with ``partial_fit`` in this session.
        self.n_updates = 0

    @classmethod
    def for_paradigm(cls, paradigm: Any, sfreq: float) -> SessionAdapter | None:
        """The adapter a paradigm asks for, or None when ``[adaptation]`` is off."""
        a = paradigm.adaptation
        if not a.enabled and not a.supervised:
            return None
        cues = CuedTrials(paradigm, paradigm.online.window, sfreq) if a.supervised else None
        on = paradigm.online
        return cls(
            method=a.method,
            alpha=a.alpha(on.step),
            supervised=a.supervised,
            cues=cues,
            warmup=min(1.0, on.step / on.window),
        )

    @property
    def recentres(self) -> bool:
        """True when features are re-centred."""
        return self.method == "recentre"

    # -------------------------------------------------------------- offline
    def fit_features(self, steps: list, E: np.ndarray, y: np.ndarray, groups) -> np.ndarray:
        """Fit the steps and return the training features, each group re-centred."""
        Z = E
        for step in steps[:-1]:
            Z = step.fit(Z, y).transform(Z)
        last = steps[-1]
        last.fit(Z, y)
        if not self.recentres:
            return last.transform(Z)
        self.recentring = make_recentring(last, alpha=self.alpha, warmup=self.warmup)
        return self.recentring.fit_transform(last, Z, groups)

    def features(self, steps: list, E: np.ndarray, groups) -> np.ndarray:
        """Batch features: groups seen in training at their reference, new ones at their own."""
        Z = E
        for step in steps[:-1]:
            Z = step.transform(Z)
        if not self.recentres:
            return steps[-1].transform(Z)
        self._require_fitted()
        return self.recentring.transform(steps[-1], Z, groups)

    # -------------------------------------------------------------- online
    def start_session(self) -> None:
        """A new stream: the running reference goes back to the training reference."""
        if self.recentring is not None:
            self.recentring.start_online()
        if self.cues is not None:
            self.cues.reset()

    def online_features(self, steps: list, W: np.ndarray, *, update: bool = True) -> np.ndarray:
        """Features of windows in time order; each one updates the running reference after
        it is mapped (``update=False``: map only, e.g. a marker-locked epoch)."""
        Z = W
        for step in steps[:-1]:
            Z = step.transform(Z)
        if not self.recentres:
            return steps[-1].transform(Z)
        self._require_fitted()
        return self.recentring.transform_online(steps[-1], Z, update=update)

    def learn(self, model: Any, X: np.ndarray, codes: np.ndarray, classes: np.ndarray) -> None:
        """One ``partial_fit`` pass on scaled features ``X`` of cued trials."""
        model.partial_fit(X, codes, classes=classes)
        self.n_updates += int(np.asarray(codes).size)

    def adopt_session(self) -> None:
        """Make the session's running reference the start of the next one (saving adapted)."""
        if self.recentring is not None:
            self.recentring.adopt_online_reference()

    # -------------------------------------------------------------- state
    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """``(meta, arrays)`` for the model file: the re-centring's start reference."""
        meta: dict = {"method": self.method, "alpha": self.alpha, "supervised": self.supervised}
        if self.recentring is None:
            return meta, {}
        rmeta, arrays = self.recentring.to_state()
        meta["recentring"] = rmeta
        return meta, arrays

    def load_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Restore the re-centring saved by :meth:`to_state` (the paradigm sets the rest)."""
        rmeta = meta.get("recentring") if isinstance(meta, dict) else None
        if rmeta is None:
            if self.recentres:
                raise BCIError("the model file has [adaptation] recentre but no reference")
            return
        cls = RECENTRING_TYPES.get(rmeta.get("type") if isinstance(rmeta, dict) else None)
        if cls is None:
            raise BCIError(
                f"unknown re-centring type {rmeta!r}; known: {', '.join(sorted(RECENTRING_TYPES))}"
            )
        self.recentring = cls.from_state(rmeta, arrays)
        self.recentring.alpha = self.alpha
        if hasattr(self.recentring, "warmup"):
            self.recentring.warmup = self.warmup

    def _require_fitted(self) -> None:
        if self.recentring is None:
            raise BCIError("re-centring used before fit; train the pipeline first")
