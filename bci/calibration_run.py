"""A whole calibration run: cue markers on LSL, XDF recording, training, a saved model.

:class:`CalibrationRun` joins the pieces around a :class:`~bci.calibration.CalibrationProtocol`:

1. ``start()`` opens a string marker outlet and a :class:`~acquisition.recorder.Recorder`
   writing the EEG stream and the markers to ``<out_dir>/<timestamp>.xdf``;
2. ``update()`` (called by a window's timer or a loop) advances the protocol and sends
   every phase marker on LSL, timestamped with its scheduled time;
3. ``finish()`` stops the recorder once the last trial is over;
4. ``train()`` loads the XDF back through :func:`acquisition.file_source.load_recording`,
   cross-validates the paradigm's pipeline (:func:`bci.evaluation.cross_validate`), fits
   it on every epoch and saves ``<out_dir>/<timestamp>.bci``.

``speed`` runs a session faster than real time against a source replayed at that speed
(``Player(..., speed=speed)``): protocol durations are in signal seconds, markers are
stamped on the replay's compressed clock. Tests use it; people use ``speed=1``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pylsl

from acquisition.file_source import load_recording
from acquisition.lsl_source import resolve_stream
from acquisition.recorder import Recorder
from bci.calibration import (
    CalibrationEvent,
    CalibrationProtocol,
    SessionTimings,
    protocol_from_paradigm,
)
from bci.errors import BCIError
from bci.model_file import save_model
from bci.pipeline import Pipeline

#: Callback for progress of long work: ``progress(fraction 0..1, what is being done)``.
Progress = Callable[[float, str], None]


@dataclass
class CalibrationResult:
    """What a calibration produced.

    Attributes
    ----------
    recording_path, model_path : Path
        The XDF recording and the saved ``.bci`` model.
    metrics : dict
        The cross-validation report (accuracy, chance_level, significance_threshold,
        confusion_matrix, classes, ...), as saved in the model file.
    counts : dict
        Epochs per class found in the recording.
    pipeline : object
        The fitted pipeline (what the model file holds).
    """

    recording_path: Path
    model_path: Path
    metrics: dict
    counts: dict = field(default_factory=dict)
    pipeline: object = None

    def summary(self) -> str:
        """Two lines for a terminal: accuracy against chance, and where the files are."""
        m = self.metrics
        acc, chance = m.get("accuracy", float("nan")), m.get("chance_level", float("nan"))
        thr = m.get("significance_threshold", float("nan"))
        verdict = "above chance" if acc > thr else "NOT above chance (p < 0.05)"
        return (
            f"cross-validated accuracy {acc:.0%} (chance {chance:.0%}, needed {thr:.0%}: "
            f"{verdict}) on {m.get('n_epochs', '?')} trials\n"
            f"recording {self.recording_path}, model {self.model_path}"
        )


class CalibrationRun:
    """Cue, record, train and save, for one paradigm and one EEG stream.

    Parameters
    ----------
    paradigm : Paradigm
        Classes, markers, ``[session]`` timings and the pipeline to train.
    stream : str
        Name of the LSL EEG stream to record.
    out_dir : str or Path
        Folder for ``<timestamp>.xdf`` and ``<timestamp>.bci``.
    seed : int or None
        Trial order, rests and cross-validation folds.
    trials_per_class : int or None
        Overrides ``session.trials_per_class``.
    timings : SessionTimings or None
        Overrides the paradigm's ``[session]`` timings.
    on_event : callable or None
        Called with each :class:`~bci.calibration.CalibrationEvent` after its marker is sent
        (the demo makes the simulated person follow the cues with it).
    marker_name : str or None
        Name of the marker stream (default ``<stream>-calibration``).
    speed : float
        Signal seconds per wall second (see the module notes); 1 for people.
    lead_in : float
        Wall seconds between starting the recorder and the first trial, so the recorder
        is subscribed before the first marker.
    tail : float
        Wall seconds recorded after the last trial.
    timeout : float
        Seconds to wait for the EEG stream at ``start``.
    """

    def __init__(
        self,
        paradigm: object,
        *,
        stream: str,
        out_dir: str | Path = "recordings",
        seed: int | None = None,
        trials_per_class: int | None = None,
        timings: SessionTimings | None = None,
        on_event: Callable[[CalibrationEvent], None] | None = None,
        marker_name: str | None = None,
        speed: float = 1.0,
        lead_in: float = 1.0,
        tail: float = 1.0,
        timeout: float = 5.0,
    ) -> None:
        if not speed > 0:
            raise BCIError(f"calibration speed must be > 0, got {speed!r}")
        self.paradigm = paradigm
        self.stream = stream
        self.out_dir = Path(out_dir)
        self.seed = seed
        self.speed = float(speed)
        self.on_event = on_event
        self.marker_name = marker_name or f"{stream}-calibration"
        self.lead_in = float(lead_in)
        self.tail = float(tail)
        self.timeout = float(timeout)
        self.protocol: CalibrationProtocol = protocol_from_paradigm(
            paradigm,
            trials_per_class=trials_per_class,
            timings=timings,
            seed=seed,
            clock=self._signal_clock,
        )
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{uuid.uuid4().hex[:4]}"
        self.recording_path = self.out_dir / f"{stamp}.xdf"
        self.model_path = self.out_dir / f"{stamp}.bci"
        self.markers_sent: list[tuple[float, str]] = []
        self._outlet: pylsl.StreamOutlet | None = None
        self._recorder: Recorder | None = None
        self._begin_at = float("inf")
        self._end_wall = float("inf")
        self._started = False
        self._finished = False

    # ------------------------------------------------------------------ clock
    def _signal_clock(self) -> float:
        return pylsl.local_clock() * self.speed

    # ------------------------------------------------------------------ running
    def start(self) -> None:
        """Open the marker outlet and start recording; trials begin after ``lead_in``."""
        if self._started:
            raise BCIError("this calibration run has already started")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # Look for the EEG stream before opening our marker outlet, so "not found" does not
        # list our own outlet among the visible streams.
        resolve_stream(name=self.stream, timeout=self.timeout)
        info = pylsl.StreamInfo(
            self.marker_name,
            "Markers",
            1,
            pylsl.IRREGULAR_RATE,
            pylsl.cf_string,
            f"{self.marker_name}-{uuid.uuid4().hex[:8]}",
        )
        classes = info.desc().append_child("classes")
        for name, marker in self.protocol.class_markers.items():
            classes.append_child_value(name, marker)
        self._outlet = pylsl.StreamOutlet(info)
        self._recorder = Recorder(
            self.recording_path, streams=[self.stream, self.marker_name], timeout=self.timeout
        )
        self._recorder.start()
        self._started = True
        self._begin_at = pylsl.local_clock() + self.lead_in

    def update(self) -> list[CalibrationEvent]:
        """Advance the session; send and return the markers that became due."""
        if not self._started or self._finished:
            return []
        if self.protocol.state().phase == "idle":
            if pylsl.local_clock() < self._begin_at:
                return []
            events = self.protocol.start()
        else:
            events = self.protocol.update()
        self._send(events)
        if self.protocol.finished and self._end_wall == float("inf"):
            self._end_wall = pylsl.local_clock() + self.tail
        return events

    def pause(self) -> list[CalibrationEvent]:
        """Pause (before the next cue, or after the current trial); see the protocol."""
        events = self.protocol.pause()
        self._send(events)
        return events

    def resume(self) -> list[CalibrationEvent]:
        """Resume a paused session."""
        events = self.protocol.resume()
        self._send(events)
        return events

    @property
    def session_over(self) -> bool:
        """True once every trial and the recording tail are done."""
        return self.protocol.finished and pylsl.local_clock() >= self._end_wall

    def run_headless(
        self, *, poll: float = 0.005, on_update: Callable[[list], None] | None = None
    ) -> None:
        """Drive the whole session from this thread (no window): start, update, finish."""
        if not self._started:
            self.start()
        while not self.session_over:
            events = self.update()
            if on_update is not None and events:
                on_update(events)
            time.sleep(poll)  # pacing a clock-driven loop, not waiting for data
        self.finish()

    def finish(self) -> Path:
        """Stop the recorder and close the marker outlet; return the XDF path."""
        if self._recorder is not None:
            self._recorder.stop()
            self._recorder = None
        self._outlet = None
        self._finished = True
        return self.recording_path

    def close(self) -> None:
        """Stop everything (also mid-session: the recording so far is kept)."""
        self.finish()

    # ------------------------------------------------------------------ training
    def train(self, progress: Progress | None = None) -> CalibrationResult:
        """Train on the recording just made, cross-validate, save the model."""
        return train_from_recording(
            self.paradigm,
            self.recording_path,
            self.model_path,
            seed=self.seed,
            progress=progress,
        )

    # ------------------------------------------------------------------ internals
    def _send(self, events: list[CalibrationEvent]) -> None:
        for ev in events:
            stamp = ev.time / self.speed
            if self._outlet is not None:
                self._outlet.push_sample([ev.marker], stamp)
            self.markers_sent.append((stamp, ev.marker))
            if self.on_event is not None:
                self.on_event(ev)


def train_from_recording(
    paradigm: object,
    recording_path: str | Path,
    model_path: str | Path,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
) -> CalibrationResult:
    """Load a calibration recording, cross-validate and fit the paradigm's pipeline, save it.

    Raises
    ------
    BCIError
        The recording holds too few trials of a class to train on.
    """
    # Imported here so the command line works even where evaluation is not importable.
    from bci.evaluation import cross_validate

    report = progress or (lambda fraction, text: None)
    report(0.0, f"loading {recording_path}")
    recording = load_recording(recording_path)
    pipeline = Pipeline(paradigm, recording.info.ch_names, recording.sfreq)
    E, y, info = pipeline.epochs_from_recording(recording)
    classes, counts = np.unique(np.asarray(y), return_counts=True)
    per_class = dict(zip(classes.tolist(), counts.tolist(), strict=True))
    missing = [c for c in paradigm.classes if per_class.get(c, 0) < 2]
    if missing:
        raise BCIError(
            f"{recording_path}: too few trials of {', '.join(missing)} to train "
            f"(found {per_class}); run a longer calibration"
        )
    report(0.2, f"cross-validating on {len(y)} trials")
    folds = int(min(5, counts.min()))
    crops = info.get("crops")
    metrics = cross_validate(
        E, y, None, pipeline.clone, cv=folds, seed=42 if seed is None else seed, crops=crops
    )
    report(0.8, "training the final model on every trial")
    pipeline.fit_epochs(E, y, crops=crops)
    save_model(model_path, pipeline, metrics=metrics)
    report(1.0, f"saved {model_path}")
    return CalibrationResult(
        recording_path=Path(recording_path),
        model_path=Path(model_path),
        metrics=metrics,
        counts=per_class,
        pipeline=pipeline,
    )
