"""The calibration window: cue the person, record, train, show accuracy, offer "Go live".

The window renders only. A :class:`~bci.calibration_run.CalibrationRun` sends the markers,
records and trains; a Qt timer calls its ``update`` every frame. Closing the XDF file and
training run in a background thread so the window keeps painting (with a progress bar).
"""

from __future__ import annotations

import html
import queue
import threading
from collections.abc import Callable

from bci.calibration_run import CalibrationResult, CalibrationRun
from gui.banner import Banner
from gui.confusion_matrix import ConfusionMatrixTable
from gui.countdown import CountdownButton
from gui.cue_display import CueDisplay
from gui.interrupt import CloseWindowsOnSignal
from gui.live_window import describe_error
from gui.qt import QtCore, QtWidgets, app

_PHASE_TEXT = {
    "idle": "Starting the recording...",
    "fixation": "Look at the cross",
    "cue": "Cue",
    "task": "Imagine the movement",
    "rest": "Rest",
    "paused": "Paused",
    "done": "Session complete",
}


class CalibrationWindow(QtWidgets.QMainWindow):
    """Run a calibration session in a window.

    Parameters
    ----------
    run : CalibrationRun
        The session (not started yet; :meth:`start` starts it).
    auto_close : bool
        Go on by itself: the result stays ``result_seconds`` with a countdown on the
        "Go live" button, then the window closes (the demo does). Otherwise the result
        stays until "Go live" is pressed.
    on_go_live : callable or None
        Called with the :class:`~bci.calibration_run.CalibrationResult` when "Go live" is
        pressed (or its countdown ends).
    result_seconds : float
        How long the result stays on screen when ``auto_close``.
    """

    def __init__(
        self,
        run: CalibrationRun,
        *,
        auto_close: bool = False,
        on_go_live: Callable[[CalibrationResult], None] | None = None,
        result_seconds: float = 8.0,
    ) -> None:
        app()  # a QApplication must exist before any widget
        super().__init__()
        self.run = run
        self.auto_close = auto_close
        self.on_go_live = on_go_live
        self.result_seconds = float(result_seconds)
        self.result: CalibrationResult | None = None
        self.error: str | None = None
        self.setWindowTitle(f"bci calibrate - {run.paradigm.name or 'session'} on {run.stream}")
        self.resize(1100, 800)
        session = run.paradigm.session
        ssvep = getattr(session, "kind", "") == "ssvep"
        self.cue = CueDisplay(list(run.paradigm.classes), session.frequencies if ssvep else None)
        self.banner = Banner()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, run.protocol.n_trials)
        self.progress.setFormat(f"trial %v of {run.protocol.n_trials}")
        self.pause_button = QtWidgets.QPushButton("Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.phase_label = QtWidgets.QLabel("")
        self.phase_label.setMinimumWidth(260)
        controls = QtWidgets.QHBoxLayout()
        controls.addWidget(self.phase_label)
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.pause_button)

        self.results = QtWidgets.QWidget()
        results = QtWidgets.QVBoxLayout(self.results)
        self.accuracy_label = QtWidgets.QLabel("")
        self.accuracy_label.setWordWrap(True)
        self.accuracy_label.setStyleSheet("font-size: 18px; padding: 6px;")
        self.matrix = ConfusionMatrixTable()
        self.go_live_button = CountdownButton("Go live")
        self.go_live_button.fired.connect(self._go_live)
        self.go_live_button.setStyleSheet("font-size: 18px; padding: 8px;")
        self.go_live_button.setVisible(on_go_live is not None or auto_close)
        results.addWidget(self.accuracy_label)
        results.addWidget(self.matrix, 1)
        results.addWidget(self.go_live_button)
        self.results.hide()

        self.work_progress = QtWidgets.QProgressBar()
        self.work_progress.setRange(0, 100)
        self.work_progress.hide()

        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addWidget(self.cue, 3)
        layout.addWidget(self.results, 2)
        layout.addWidget(self.work_progress)
        layout.addLayout(controls)
        self.setCentralWidget(central)

        self._messages: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None
        #: Set once the XDF file is finished (by the worker, or by closing mid-session).
        self.recording_closed = threading.Event()
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(16)
        self.timer.timeout.connect(self.tick)

    # ------------------------------------------------------------------ running
    def start(self) -> None:
        """Show the window, start recording and the session."""
        self.show()
        try:
            self.run.start()
        except Exception as exc:
            self._fail(f"Cannot start the session: {describe_error(exc)}")
            return
        self.timer.start()

    def toggle_pause(self) -> None:
        """Pause (at the end of the trial, or now before a cue) or resume."""
        protocol = self.run.protocol
        if protocol.paused or protocol.state().pause_requested:
            self.run.resume()
        else:
            self.run.pause()
        self._refresh_controls()

    def tick(self) -> None:
        """One frame: advance the session, draw, and collect background results."""
        if self._worker is None:
            try:
                self.run.update()
            except Exception as exc:
                self._fail(f"The session stopped: {describe_error(exc)}")
                return
            state = self.run.protocol.state()
            label = state.label if state.phase in ("cue", "task") else None
            message = {"idle": "Get ready", "paused": "Paused: press Resume to continue"}.get(
                state.phase, ""
            )
            if state.phase == "done":
                message = "Session complete: saving the recording..."
            self.cue.set_phase(state.phase, label, message)
            # "trial k of N" counts the trial being shown, from 1.
            shown = state.n_trials if state.phase == "done" else state.trial + 1
            self.progress.setValue(0 if state.phase == "idle" else min(state.n_trials, shown))
            self._refresh_controls()
            if self.run.session_over:
                self._start_training()
        self._collect()

    def _refresh_controls(self) -> None:
        state = self.run.protocol.state()
        if state.phase == "paused":
            self.pause_button.setText("Resume")
        elif state.pause_requested:
            self.pause_button.setText("Resume (pausing after this trial)")
        else:
            self.pause_button.setText("Pause")
        self.pause_button.setEnabled(state.phase not in ("done",) and self._worker is None)
        self.phase_label.setText(_PHASE_TEXT.get(state.phase, state.phase))

    # ------------------------------------------------------------------ training
    def _start_training(self) -> None:
        self.work_progress.show()
        # A progress bar below its minimum (its initial -1) paints no text at all.
        self.work_progress.setValue(0)
        self.work_progress.setFormat("closing the recording (LabRecorder needs a few seconds)...")
        self.pause_button.setEnabled(False)

        def work() -> None:
            try:
                try:
                    self.run.finish()
                finally:
                    self.recording_closed.set()
                result = self.run.train(
                    progress=lambda f, text: self._messages.put(("progress", f, text))
                )
                self._messages.put(("result", result, ""))
            except Exception as exc:
                self._messages.put(("error", exc, ""))

        self._worker = threading.Thread(target=work, name="calibration-training", daemon=True)
        self._worker.start()

    def _collect(self) -> None:
        while True:
            try:
                kind, value, text = self._messages.get_nowait()
            except queue.Empty:
                return
            if kind == "progress":
                self.work_progress.setValue(int(100 * value))
                self.work_progress.setFormat(f"{text} (%p%)")
            elif kind == "result":
                self.show_result(value)
            else:
                self._fail(f"Training failed: {describe_error(value)}")

    def show_result(self, result: CalibrationResult) -> None:
        """Show accuracy against chance, the confusion matrix and the "Go live" button."""
        self.result = result
        self.timer.stop()
        self.work_progress.hide()
        m = result.metrics
        acc, chance = m["accuracy"], m["chance_level"]
        threshold = m.get("significance_threshold", float("nan"))
        verdict = (
            "above chance (p &lt; 0.05)"
            if acc > threshold
            else "not above chance: the model will not be reliable"
        )
        self.accuracy_label.setText(
            f"Cross-validated accuracy <b>{acc:.0%}</b> (chance {chance:.0%}; "
            f"{threshold:.0%} needed): {verdict}.<br>"
            f"{m.get('n_epochs', '?')} trials. Model saved to "
            f"{html.escape(str(result.model_path))}"
        )
        self.matrix.set_matrix([str(c) for c in m["classes"]], m["confusion_matrix"])
        self.cue.set_phase("done", None, "Session complete")
        self.results.show()
        if self.auto_close:
            self.go_live_button.start_countdown(self.result_seconds)

    def _go_live(self) -> None:
        if self.result is not None and self.on_go_live is not None:
            self.on_go_live(self.result)
        self.close()  # the live window (or the demo's live phase) takes over

    def _fail(self, message: str) -> None:
        self.error = message
        self.timer.stop()
        self.work_progress.hide()
        self.banner.show_message(message, "error")
        self.cue.set_phase("done", None, "Stopped")
        if self.auto_close:
            QtCore.QTimer.singleShot(2500, self.close)

    def closeEvent(self, event: object) -> None:
        self.timer.stop()
        if self._worker is None and not self.recording_closed.is_set():
            # Closed mid-session (a person, Ctrl-C, SIGTERM): keep what was recorded.
            # LabRecorder needs a few seconds to finish the file; the window goes at once
            # so nobody looks at a frozen screen meanwhile.
            self.hide()
            QtWidgets.QApplication.processEvents()
            self.run.close()
            self.recording_closed.set()
        super().closeEvent(event)


def run_calibration_window(
    run: CalibrationRun,
    *,
    auto_close: bool = False,
    on_go_live: Callable[[CalibrationResult], None] | None = None,
    result_seconds: float = 8.0,
) -> CalibrationResult | None:
    """Open the calibration window, run Qt until it closes; return the training result.

    Ctrl-C or SIGTERM closes the window (and any window opened by "Go live"); the XDF file
    is finished, then the signal goes on to the caller's handler (a ``KeyboardInterrupt``
    at the command line) without waiting for a training still running.
    """
    qt_app = app()
    window = CalibrationWindow(
        run, auto_close=auto_close, on_go_live=on_go_live, result_seconds=result_seconds
    )
    with CloseWindowsOnSignal() as stop:
        window.start()
        qt_app.exec()
        if window._worker is not None:
            if stop.signum is not None:
                window.recording_closed.wait()
            else:
                window._worker.join()
                window._collect()
    return window.result
