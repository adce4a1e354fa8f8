"""One object from raw EEG to class probabilities, offline and online alike.

``causal filter -> epochs (offline) / sliding windows (online) -> feature steps -> scaler ->
model -> probabilities``. Offline code filters a whole recording with a fresh
:class:`~bci.filters.CausalFilter`; online code pushes chunks through another instance of
the same class with carried state, and the windows come from a
:class:`~bci.windows.SlidingWindow` using the indexing of :func:`~bci.windows.sliding_windows`.
The feature code is the same objects in both paths, so live features equal offline ones.

Non-finite samples online
-------------------------
A pushed chunk containing NaN or Inf must not poison the filter state (an IIR filter would
carry the NaN forever). :meth:`Pipeline.push_windows` drops the non-finite samples, records a
condition (see :meth:`Pipeline.conditions`), resets the filter and the window buffer, and
starts again from the next finite sample: no output is produced for any window that would
contain a non-finite sample, and outputs resume once a full window of good samples has
arrived.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from acquisition.recording import Recording
from acquisition.source import StreamEvent
from bci.adaptation import SessionAdapter
from bci.epochs import (
    TrainCrops,
    cut_crops,
    cut_epochs,
    describe_nonfinite,
    epoch_samples,
    find_events,
    finite_runs,
    nonfinite_spans,
)
from bci.errors import BCIError
from bci.features.scaler import StandardScaler
from bci.features.steps import build_steps
from bci.filters import CausalFilter, design_sos
from bci.paradigm import Paradigm
from bci.windows import SlidingWindow, sliding_windows, window_ends


class EpochSet(NamedTuple):
    """Epochs of one or more recordings: ``E, y, info = pipeline.epochs_from_recording(rec)``.

    ``info`` holds ``onsets`` (marker samples), ``n_dropped``, ``dropped_onsets``,
    ``counts`` (epochs per class) and ``path``; with ``[epochs] train_crops`` also
    ``crops``, the :class:`~bci.epochs.TrainCrops` of the same trials (row ``i`` is the
    trial of epoch ``i``), which ``fit_epochs(..., crops=)`` trains on.
    """

    E: np.ndarray
    y: np.ndarray
    info: dict


def normalize_channel(name: str) -> str:
    """Channel name used for matching: trailing dots (PhysioNet's ``C3..``) and case ignored."""
    return name.strip().rstrip(".").casefold()


def channel_index_map(
    expected: Sequence[str], available: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """Rows of ``available`` that give ``expected`` in order, and the expected names missing.

    Returns
    -------
    index : ndarray of int
        ``data[index]`` reorders a stream with channels ``available`` to ``expected``
        (only valid when ``missing`` is empty).
    missing : list of str
    """
    pos = {}
    for i, name in enumerate(available):
        pos.setdefault(normalize_channel(name), i)
    index, missing = [], []
    for name in expected:
        i = pos.get(normalize_channel(name))
        if i is None:
            missing.append(name)
        else:
            index.append(i)
    return np.asarray(index, dtype=np.int64), missing


def training_hash(E: np.ndarray, y: Sequence[str]) -> str:
    """sha256 over the training epochs (float64, C order, with their shape) and labels."""
    h = hashlib.sha256()
    arr = np.ascontiguousarray(E, dtype="<f8")
    h.update(repr(arr.shape).encode())
    h.update(arr.tobytes())
    h.update("\x1f".join(str(v) for v in y).encode("utf-8"))
    return h.hexdigest()


class Pipeline:
    """Filter, features, scaler and model for one paradigm, montage and sampling rate.

    Parameters
    ----------
    paradigm : Paradigm
    ch_names : sequence of str
        The channels the pipeline works on, in row order of the data it receives.
    sfreq : float
        Sampling rate in Hz.

    Attributes
    ----------
    classes_ : tuple of str
        Class names in the column order of the probabilities (after fit).
    training_hash_ : str
        sha256 of the training epochs and labels (after fit).
    """

    def __init__(self, paradigm: Paradigm, ch_names: Sequence[str], sfreq: float) -> None:
        if not isinstance(paradigm, Paradigm):
            raise BCIError(f"Pipeline needs a Paradigm, got {type(paradigm).__name__}")
        sfreq = float(sfreq)
        if not (np.isfinite(sfreq) and sfreq > 0):
            raise BCIError(f"sampling rate must be a positive number of Hz, got {sfreq!r}")
        ch_names = tuple(str(c) for c in ch_names)
        if not ch_names:
            raise BCIError("Pipeline needs at least one channel")
        paradigm.check_sfreq(sfreq, len(ch_names))
        self.paradigm = paradigm
        self.ch_names = ch_names
        self.sfreq = sfreq
        f = paradigm.filter
        self.sos = design_sos(sfreq, f.l_freq, f.h_freq, order=f.order, notch=f.notch)
        self.steps = build_steps(paradigm, sfreq, len(ch_names))
        #: ``[adaptation]``: re-centring / supervised updates (None when off).
        self.adapter = SessionAdapter.for_paradigm(paradigm, sfreq)
        self.scaler = StandardScaler()
        self.model: Any = None
        self.classes_: tuple[str, ...] | None = None
        self.training_hash_: str | None = None
        self.metrics_: dict = {}
        self.header_: dict | None = None
        self.source_path: str | None = None
        self.window_samples = round(paradigm.online.window * sfreq)
        self.step_samples = max(1, round(paradigm.online.step * sfreq))
        self._offset, self.epoch_samples = epoch_samples(
            sfreq, paradigm.epochs.tmin, paradigm.epochs.tmax
        )
        self._input_map: np.ndarray | None = None
        self.reset_online()

    # ------------------------------------------------------------------ construction
    @classmethod
    def for_recording(cls, paradigm: Paradigm, recording: Recording) -> Pipeline:
        """A pipeline for the paradigm's channels, else the recording's EEG channels."""
        info = recording.info
        if paradigm.channels is not None:
            names = paradigm.channels
        else:
            names = tuple(
                n for n, t in zip(info.ch_names, info.ch_types, strict=True) if t == "eeg"
            )
            names = names or tuple(info.ch_names)
        return cls(paradigm, names, info.sfreq)

    def clone(self) -> Pipeline:
        """An unfitted pipeline with the same paradigm, channels and rate."""
        return Pipeline(self.paradigm, self.ch_names, self.sfreq)

    @property
    def n_channels(self) -> int:
        """Number of channels the pipeline works on."""
        return len(self.ch_names)

    @property
    def is_fitted(self) -> bool:
        """True once ``fit``/``fit_epochs`` has run (or the pipeline was loaded)."""
        return self.model is not None

    # ------------------------------------------------------------------ offline
    def new_filter(self) -> CausalFilter:
        """A fresh causal filter of this pipeline's design."""
        return CausalFilter(self.sos, self.n_channels)

    def filter_continuous(self, data: np.ndarray) -> np.ndarray:
        """Causally filter continuous ``data`` (n_channels, n_samples) from a fresh state."""
        return self.new_filter().filter_whole(data)

    def recording_data(self, recording: Recording) -> np.ndarray:
        """The recording's rows for this pipeline's channels, in its order."""
        info = recording.info
        if abs(info.sfreq - self.sfreq) > 1e-6 * self.sfreq:
            raise BCIError(
                f"{recording.path or info.name}: sampling rate {info.sfreq:g} Hz differs from the "
                f"pipeline's {self.sfreq:g} Hz; use recordings made at one rate"
            )
        index, missing = channel_index_map(self.ch_names, info.ch_names)
        if missing:
            raise BCIError(
                f"{recording.path or info.name}: missing channels {', '.join(missing)} "
                f"(it has {', '.join(info.ch_names)})"
            )
        return recording.data[index]

    def epochs_from_recording(self, recording: Recording) -> EpochSet:
        """Filter the recording causally and cut the paradigm's marker-locked epochs.

        Returns
        -------
        EpochSet
            ``E`` float64 (n_epochs, n_channels, n_times), ``y`` class names, ``info``.
        """
        raw = self.recording_data(recording)
        spans = nonfinite_spans(raw)
        if len(spans):
            # As online (see the module notes): the filter restarts after non-finite input,
            # so a short gap costs the epochs that touch it, not the rest of the recording.
            data = np.zeros_like(raw)
            for a, b in finite_runs(raw.shape[1], spans):
                data[:, a:b] = self.filter_continuous(raw[:, a:b])
        else:
            data = self.filter_continuous(raw)
        ep = self.paradigm.epochs
        events = find_events(
            recording.marker_samples,
            recording.marker_labels,
            self.paradigm.classes,
            trial_marker=ep.trial_marker,
            occurrence=ep.occurrence,
        )
        epochs = cut_epochs(data, self.sfreq, events, ep.tmin, ep.tmax, bad_spans=spans)
        info = {
            "path": recording.path,
            "onsets": epochs.onsets,
            "n_dropped": epochs.n_dropped,
            "dropped_onsets": epochs.dropped_onsets,
            "n_nonfinite": epochs.n_nonfinite,
            "counts": epochs.counts(),
        }
        if len(spans):
            where = recording.path or recording.info.name
            info["nonfinite"] = describe_nonfinite(raw, self.sfreq, self.ch_names, where, spans)
        if ep.train_crops is not None:
            info["crops"] = cut_crops(
                data,
                self.sfreq,
                epochs.onsets,
                ep.train_crops.starts(),
                ep.length,
                bad_spans=spans,
            )
        return EpochSet(epochs.data, epochs.labels, info)

    def epochs_from_recordings(self, recordings: Iterable[Recording]) -> EpochSet:
        """Epochs of several recordings concatenated; ``info["groups"]`` is the recording index."""
        Es, ys, groups, infos = [], [], [], []
        for i, rec in enumerate(recordings):
            E, y, info = self.epochs_from_recording(rec)
            Es.append(E)
            ys.append(y)
            groups.append(np.full(len(y), i, dtype=np.int64))
            infos.append(info)
        if not Es:
            raise BCIError("no recordings given")
        E = np.concatenate(Es, axis=0)
        y = np.concatenate(ys)
        counts: dict[str, int] = {}
        for label in y.tolist():
            counts[label] = counts.get(label, 0) + 1
        info = {
            "groups": np.concatenate(groups),
            "recordings": infos,
            "n_dropped": sum(i["n_dropped"] for i in infos),
            "n_nonfinite": sum(i["n_nonfinite"] for i in infos),
            "counts": counts,
        }
        if self.paradigm.epochs.train_crops is not None:
            info["crops"] = TrainCrops.concatenate([i["crops"] for i in infos])
        return EpochSet(E, y, info)

    def windows_from_recording(self, recording: Recording) -> tuple[np.ndarray, np.ndarray]:
        """Pseudo-online windows of a whole recording and the time of each window's last sample.

        The same windows :meth:`push_windows` produces when the recording is streamed.
        """
        data = self.filter_continuous(self.recording_data(recording))
        windows = sliding_windows(data, self.window_samples, self.step_samples)
        ends = window_ends(data.shape[1], self.window_samples, self.step_samples)
        return windows, recording.start_time + ends / self.sfreq

    def fit(self, recordings: Recording | Iterable[Recording]) -> Pipeline:
        """Fit on the epochs of one recording or several (each its own re-centring group)."""
        if isinstance(recordings, Recording):
            recordings = [recordings]
        E, y, info = self.epochs_from_recordings(recordings)
        return self.fit_epochs(E, y, info["groups"], crops=info.get("crops"))

    def fit_epochs(
        self,
        E: np.ndarray,
        y: Sequence[str] | np.ndarray,
        groups: Sequence | None = None,
        *,
        crops: TrainCrops | None = None,
    ) -> Pipeline:
        """Fit feature steps, scaler and model on epochs ``E`` with class names ``y``.

        ``groups`` (one id per epoch: recording, session) is used by ``[adaptation]
        method = "recentre"``: each group is re-centred on its own reference. Without it
        all epochs form one group.

        ``crops`` (cropped training, ``info["crops"]`` of :meth:`epochs_from_recording`,
        row ``i`` the trial of epoch ``i``): the steps, scaler and model learn from the
        crops instead of the epochs. With re-centring each training group is centred on
        the mean of the examples it contributes (its crops), as a held-out group is on the
        mean of the examples it is scored on (its epochs). Measured on SSVEP-exo 01-06,
        re-centred batch: group means from the crops 0.789 leave-one-recording-out, 0.680
        leave-one-subject-out; from the epochs 0.776 / 0.656 (no crops: 0.747 / 0.688).
        """
        from models import make_estimator

        E = self._check_epochs(E)
        y = np.asarray([str(v) for v in np.asarray(y).tolist()], dtype=str)
        if y.shape[0] != E.shape[0]:
            raise BCIError(f"{E.shape[0]} epochs but {y.shape[0]} labels")
        names = self.paradigm.class_names
        unknown = sorted(set(y.tolist()) - set(names))
        if unknown:
            raise BCIError(f"labels {unknown} are not classes of the paradigm ({', '.join(names)})")
        present = [n for n in names if n in set(y.tolist())]
        if len(present) < 2:
            raise BCIError(
                f"training needs epochs of at least two classes, got only {present or 'none'}; "
                "check the [classes] markers against the recording's markers"
            )
        if crops is not None:
            if len(crops) != E.shape[0]:
                raise BCIError(f"{len(crops)} trials of crops for {E.shape[0]} epochs")
            g = None if groups is None else np.asarray(groups)
            if g is not None and g.shape != (E.shape[0],):
                raise BCIError(f"{g.shape} groups for {E.shape[0]} epochs; give one per epoch")
            E, y, groups, _ = crops.examples(y, g)
            E = self._check_epochs(E)
        self.steps = build_steps(self.paradigm, self.sfreq, self.n_channels)
        if self.adapter is not None:
            self.adapter = SessionAdapter.for_paradigm(self.paradigm, self.sfreq)
            Z = self.adapter.fit_features(self.steps, E, y, groups)
        else:
            Z = E
            for step in self.steps:
                Z = step.fit(Z, y).transform(Z)
        self.scaler.fit(Z)
        if self.steps and not getattr(self.steps[-1], "standardize", True):
            # Tangent vectors share one metric: centre them, never rescale feature by feature.
            self.scaler.scale_ = np.ones_like(self.scaler.scale_)
        X = self.scaler.transform(Z)
        codes = np.asarray([names.index(v) for v in y.tolist()], dtype=np.int64)
        model = make_estimator(self.paradigm.model.kind, **self.paradigm.model.params)
        model.fit(X, codes)
        self.model = model
        self.classes_ = tuple(names[int(c)] for c in np.asarray(model.classes_).tolist())
        self.training_hash_ = training_hash(E, y.tolist())
        if self.adapter is not None:
            self.adapter.start_session()
        return self

    def features(self, E: np.ndarray, groups: Sequence | None = None) -> np.ndarray:
        """Feature vectors f(x) of epochs/windows before scaling, (n_epochs, n_features).

        With re-centring, ``groups`` says which epochs share a reference (a group seen in
        training keeps its own; a new one is re-centred on its own epochs; None: all of
        ``E`` is one new group).
        """
        Z = self._check_epochs(E)
        if self.adapter is not None:
            return self.adapter.features(self.steps, Z, groups)
        for step in self.steps:
            Z = step.transform(Z)
        return Z

    def transform(self, E: np.ndarray, groups: Sequence | None = None) -> np.ndarray:
        """Scaled feature vectors: what the model sees."""
        self._require_fitted()
        return self.scaler.transform(self.features(E, groups))

    def predict_proba_epochs(self, E: np.ndarray, groups: Sequence | None = None) -> np.ndarray:
        """Class probabilities (n_epochs, n_classes), columns in ``classes_`` order.

        A perceptron has no probabilities; its decision scores go through a softmax
        (monotone: the winner is the perceptron's prediction, the values are not calibrated).
        ``groups``: see :meth:`features`.
        """
        return self._proba(self.transform(E, groups))

    def predict_proba_windows(
        self, W: np.ndarray, *, times: Sequence[float] | None = None, update: bool = True
    ) -> np.ndarray:
        """Probabilities of consecutive online windows, in time order (the live path).

        With re-centring, each window is mapped at the running reference of the windows
        before it and then updates it (``update=False``: it does not). With ``supervised =
        true`` and the windows' end ``times``, the windows of a cued trial (see
        :meth:`observe_markers`) update the model with ``partial_fit`` once the trial is
        over: classified first, learnt from after. Without adaptation this equals
        :meth:`predict_proba_epochs`.
        """
        self._require_fitted()
        W = self._check_epochs(W)
        if self.adapter is None:
            return self.predict_proba_epochs(W)
        X = self.scaler.transform(self.adapter.online_features(self.steps, W, update=update))
        proba = self._proba(X)
        if self.adapter.supervised and times is not None and update:
            self.adapter.cues.hold(X, times)
            ready = self.adapter.cues.release(float(np.max(times)))
            if ready is not None:
                Xr, labels = ready
                keep = [k for k, name in enumerate(labels) if name in self.classes_]
                if keep:
                    self._learn(Xr[keep], [labels[k] for k in keep])
        return proba

    def learn_epochs(self, E: np.ndarray, y: Sequence[str]) -> None:
        """Supervised adaptation: one ``partial_fit`` pass on cued epochs ``E`` of classes
        ``y``, mapped at the current running reference (which they do not move)."""
        self._require_fitted()
        if self.adapter is None:
            raise BCIError("learn_epochs needs [adaptation] supervised = true in the paradigm")
        unknown = sorted(set(str(v) for v in y) - set(self.classes_))
        if unknown:
            raise BCIError(
                f"learn_epochs: {unknown} are not classes of the model ({list(self.classes_)})"
            )
        X = self.scaler.transform(
            self.adapter.online_features(self.steps, self._check_epochs(E), update=False)
        )
        self._learn(X, [str(v) for v in y])

    def _learn(self, X: np.ndarray, labels: Sequence[str]) -> None:
        # The model's labels are the paradigm's class codes (as in fit_epochs).
        names = self.paradigm.class_names
        codes = np.asarray([names.index(v) for v in labels], dtype=np.int64)
        self.adapter.learn(self.model, X, codes, np.asarray(self.model.classes_))

    def observe_markers(self, timestamps: Sequence[float], labels: Sequence[str]) -> None:
        """Markers of the live stream: with ``supervised = true`` the class markers say
        which later windows belong to a cued trial (see :meth:`predict_proba_windows`);
        otherwise ignored."""
        if self.adapter is not None and self.adapter.supervised and len(labels):
            self.adapter.cues.observe(timestamps, labels)

    def predict_epochs(self, E: np.ndarray, groups: Sequence | None = None) -> np.ndarray:
        """Predicted class name of each epoch (``groups``: see :meth:`features`)."""
        proba = self.predict_proba_epochs(E, groups)
        return np.asarray(self.classes_, dtype=str)[np.argmax(proba, axis=1)]

    def score_epochs(
        self, E: np.ndarray, y: Sequence[str], groups: Sequence | None = None
    ) -> float:
        """Accuracy of :meth:`predict_epochs` against class names ``y``."""
        return float(np.mean(self.predict_epochs(E, groups) == np.asarray(y, dtype=str)))

    def _proba(self, X: np.ndarray) -> np.ndarray:
        from models.errors import ModelError

        try:
            return np.asarray(self.model.predict_proba(X), dtype=np.float64)
        except (ModelError, AttributeError, NotImplementedError):
            scores = np.asarray(self.model.decision_function(X), dtype=np.float64)
            if scores.ndim == 1:
                scores = np.stack([-scores, scores], axis=1)
            scores = scores - scores.max(axis=1, keepdims=True)
            e = np.exp(scores)
            return e / e.sum(axis=1, keepdims=True)

    # ------------------------------------------------------------------ online
    def reset_online(self) -> None:
        """Start a new stream: fresh filter state, empty window."""
        self._filter = self.new_filter()
        self._window = SlidingWindow(self.n_channels, self.window_samples, self.step_samples)
        self._conditions: list[StreamEvent] = []

    def start_session(self) -> None:
        """A new live session: :meth:`reset_online`, and ``[adaptation]`` back to the
        training reference with no cued trials. A gap within a session only resets the
        filter and the window (:meth:`reset_online`); what was learnt about the session
        stays."""
        self.reset_online()
        if self.adapter is not None and self.is_fitted:
            self.adapter.start_session()

    def bind_input(self, index_map: np.ndarray | None) -> None:
        """Reorder pushed rows with ``data[index_map]`` (from ``check_stream_compatible``)."""
        self._input_map = None if index_map is None else np.asarray(index_map, dtype=np.int64)

    def conditions(self) -> list[StreamEvent]:
        """The ``nonfinite`` events of the samples dropped while pushing, since the last call.

        A live session drains them without passing them on: its source reports the same
        samples (:meth:`acquisition.source.Source.conditions`).
        """
        out, self._conditions = self._conditions, []
        return out

    def push_windows(
        self, data: np.ndarray, timestamps: np.ndarray
    ) -> list[tuple[float, np.ndarray]]:
        """Push a chunk of raw samples; return ``(t_end, window)`` for every window it completes.

        The one online path (:class:`~bci.live_session.LiveSession` uses it): the chunk goes
        through the carried causal filter into a fixed-size ring buffer of the last window
        (:class:`~bci.windows.SlidingWindow`); one window per ``online.step`` once
        ``online.window`` seconds are in. ``window`` is filtered data (n_channels,
        window_samples), a copy; ``t_end`` the timestamp of its last sample. Features and
        probabilities of the windows are :meth:`features` and :meth:`predict_proba_epochs`.
        Non-finite samples are handled as described in the module notes.
        """
        data = np.asarray(data, dtype=np.float64)
        timestamps = np.asarray(timestamps, dtype=np.float64).reshape(-1)
        if self._input_map is not None and data.ndim == 2:
            data = data[self._input_map]
        if data.ndim != 2 or data.shape[0] != self.n_channels or data.shape[1] != timestamps.size:
            raise BCIError(
                f"push expects data ({self.n_channels}, n) and n timestamps, got "
                f"{data.shape} and {timestamps.shape}"
            )
        finite = np.isfinite(data).all(axis=0)
        if finite.all():
            return self._push_clean(data, timestamps)
        out: list[tuple[float, np.ndarray]] = []
        bad = np.flatnonzero(~finite)
        self._conditions.append(
            StreamEvent(
                "nonfinite",
                f"{bad.size} sample(s) with NaN/Inf between t={timestamps[bad[0]]:.3f} and "
                f"t={timestamps[bad[-1]]:.3f} s dropped; filter and window restarted",
                samples=int(bad.size),
                timestamp=float(timestamps[bad[0]]),
            )
        )
        # Split into runs of finite samples; everything after a bad sample starts afresh.
        edges = np.flatnonzero(np.diff(np.concatenate(([0], finite.astype(np.int8), [0]))))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            if start > 0:
                self._restart_after_gap()
            out.extend(self._push_clean(data[:, start:stop], timestamps[start:stop]))
        if not finite[-1]:
            self._restart_after_gap()
        return out

    # ------------------------------------------------------------------ internals
    def _restart_after_gap(self) -> None:
        self._filter.reset()
        self._window.reset()

    def _push_clean(
        self, data: np.ndarray, timestamps: np.ndarray
    ) -> list[tuple[float, np.ndarray]]:
        if data.shape[1] == 0:
            return []
        wins = self._window.push(self._filter.process(data))
        return [(float(timestamps[i]), w) for i, w in wins]

    def _check_epochs(self, E: np.ndarray) -> np.ndarray:
        E = np.asarray(E, dtype=np.float64)
        if E.ndim != 3 or E.shape[1] != self.n_channels:
            raise BCIError(
                f"expected epochs of shape (n_epochs, {self.n_channels}, n_times), got {E.shape}"
            )
        if E.shape[0] == 0:
            raise BCIError("no epochs: check the [classes] markers against the recording")
        return E

    def _require_fitted(self) -> None:
        if self.model is None or self.classes_ is None:
            raise BCIError("the pipeline is not trained; fit it or load a .bci model first")
