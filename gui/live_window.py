"""The live classification window: bars, probability traces, scope, status and banners.

The window renders only: a :class:`~bci.live_session.LiveSession` does the pulling,
classifying and publishing, driven here by a Qt timer at the display's frame rate.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np
import pylsl

from bci.display_buffers import ExponentialSmoother
from bci.live_session import TROUBLE_KINDS, LatencyTracker, LiveSession, LiveUpdate
from bci.paradigm import Paradigm
from gui.banner import Banner
from gui.countdown import CountdownButton
from gui.interrupt import CloseWindowsOnSignal
from gui.latency_histogram import LatencyHistogram
from gui.probability_bars import ProbabilityBars
from gui.probability_traces import ProbabilityTraces
from gui.qt import QtCore, QtWidgets, app
from gui.scope import ScopeView
from gui.status_bar import LiveStatusBar

#: Banner texts for the stream conditions, by kind.
_TROUBLE_TITLES = {"stalled": "Stream stalled", "lost": "Stream lost", "error": "Stream error"}


def describe_error(exc: BaseException) -> str:
    """One sentence for the user from an exception (no traceback)."""
    text = str(exc).strip() or exc.__class__.__name__
    return text if len(text) < 400 else text[:397] + "..."


class LiveWindow(QtWidgets.QMainWindow):
    """Show a live session; or, when the session could not start, the reason in words.

    Parameters
    ----------
    session : LiveSession or None
        What to display; None together with ``error`` shows only the error.
    error : str or None
        A message shown in a red banner (e.g. why the stream was refused).
    fps : float
        Target frame rate of the timer that drives the session.
    on_tick : callable or None
        Called as ``on_tick(window, update)`` after each frame (the demo uses it to follow
        the simulated person).
    scope_seconds : float
        Width of the scope.
    smoothing : float or None
        Time constant (s) of the moving average applied to the probabilities *shown*
        (bars and history; 0: raw). None: the paradigm's ``online.smoothing``. What the
        session publishes on LSL is never smoothed.
    """

    def __init__(
        self,
        session: LiveSession | None,
        *,
        error: str | None = None,
        fps: float = 60.0,
        on_tick: Callable[[LiveWindow, LiveUpdate], None] | None = None,
        scope_seconds: float = 10.0,
        smoothing: float | None = None,
    ) -> None:
        app()  # a QApplication must exist before any widget
        super().__init__()
        self.session = session
        self.on_tick = on_tick
        self.setWindowTitle("bci live" + (f" - {session.info.name}" if session else ""))
        self.resize(1280, 860)
        self.banner = Banner()
        self.error_banner = Banner()
        self.caption = QtWidgets.QLabel("")
        self.caption.setStyleSheet("font-size: 15px; padding: 4px;")
        self.caption.hide()
        # The last screen of a session (the demo's live accuracy), over the frozen views.
        self.final_panel = QtWidgets.QWidget()
        final = QtWidgets.QHBoxLayout(self.final_panel)
        self.final_label = QtWidgets.QLabel("")
        self.final_label.setWordWrap(True)
        self.final_label.setStyleSheet(
            "font-size: 22px; padding: 10px; background: #1d2a3a; color: #ffffff;"
        )
        self.close_button = CountdownButton("Close")
        self.close_button.fired.connect(self.close)
        self.close_button.setStyleSheet("font-size: 18px; padding: 8px;")
        final.addWidget(self.final_label, 1)
        final.addWidget(self.close_button)
        self.final_panel.hide()
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.error_banner)
        layout.addWidget(self.banner)
        layout.addWidget(self.caption)
        layout.addWidget(self.final_panel)
        self.setCentralWidget(central)
        self.status = LiveStatusBar()
        self.setStatusBar(self.status)
        self.bars = self.traces = self.scope = None
        self._histogram: LatencyHistogram | None = None
        self._frame_times: deque[float] = deque(maxlen=240)
        self._pending_screen: list[np.ndarray] = []
        self._status_time = 0.0
        self._temporary_until = 0.0
        self.frames = 0
        if error:
            self.show_error(error)
        if session is None:
            placeholder = QtWidgets.QLabel("Nothing to show: see the message above.")
            placeholder.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(placeholder, 1)
            self.status.histogram_button.setEnabled(False)
            self.timer = None
            return
        classes = session.classes
        paradigm = _paradigm_of(session)
        if smoothing is None:
            smoothing = paradigm.online.smoothing if paradigm is not None else 0.0
        self.smoother = ExponentialSmoother(len(classes), smoothing)
        marker_names = paradigm.marker_to_class if paradigm is not None else None
        self.bars = ProbabilityBars(classes)
        self.traces = ProbabilityTraces(classes, marker_names=marker_names, smoothing=smoothing)
        self.scope = ScopeView(session.info.ch_names, session.info.sfreq, seconds=scope_seconds)
        top = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        top.addWidget(self.bars)
        top.addWidget(self.traces)
        top.setSizes([380, 900])
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.scope)
        split.setSizes([330, 470])
        layout.addWidget(split, 1)
        self.traces.painted.connect(self._count_frame)
        #: Newest sample's timestamp to the paint that first showed it in the scope.
        self.scope_latency = LatencyTracker()
        self._scope_pending: float | None = None
        self.scope.scope_plot.painted.connect(self._scope_painted)
        self.bars.painted.connect(self._bars_painted)
        self.status.histogram_button.clicked.connect(self.show_latency_histogram)
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(max(1, int(1000.0 / fps)))
        self.timer.timeout.connect(self.tick)

    # ------------------------------------------------------------------ running
    def start(self) -> None:
        """Show the window and start the frame timer."""
        self.show()
        if self.timer is not None:
            self.timer.start()

    def stop(self) -> None:
        """Stop the frame timer (the session stays open)."""
        if self.timer is not None:
            self.timer.stop()

    def closeEvent(self, event: object) -> None:
        self.stop()
        super().closeEvent(event)

    def tick(self) -> LiveUpdate | None:
        """One frame: step the session and update every view. Returns the update."""
        try:
            update = self.session.step()
        except Exception as exc:
            self.banner.show_message(f"Classification error: {describe_error(exc)}", "error")
            return None
        self.scope.append(update.data, update.timestamps)
        if update.timestamps.size and self._scope_pending is None:
            self._scope_pending = float(update.timestamps[-1])
        if update.prob_times.size:
            shown = self.smoother.update(update.prob_times, update.probabilities)
            self.bars.set_probabilities(shown[-1])
            self.traces.add_probabilities(update.prob_times, shown)
            self._pending_screen.append(update.prob_times)
        if update.markers:
            self.traces.add_markers(update.marker_times, update.markers)
        self._handle_events(update)
        self.traces.refresh(update.now)
        self.scope.refresh()
        wall = time.monotonic()
        if wall - self._status_time > 0.25:
            self._status_time = wall
            self.status.update_from(self.session, self.fps)
        if self.on_tick is not None:
            self.on_tick(self, update)
        return update

    # ------------------------------------------------------------------ display helpers
    def show_error(self, message: str) -> None:
        """Show ``message`` in the red error banner."""
        self.error_banner.show_message(message, "error")

    def show_final(self, text: str, seconds: float | None = 8.0) -> None:
        """Freeze the views and show ``text`` (rich text) as the session's last screen.

        The window closes by itself after ``seconds`` (a countdown on its Close button),
        or stays until closed when ``seconds`` is None.
        """
        self.stop()
        self.caption.hide()
        self.final_label.setText(text)
        self.final_panel.show()
        if seconds is not None:
            self.close_button.start_countdown(seconds)

    def set_caption(self, text: str) -> None:
        """Show a line of text under the banners (hidden when empty)."""
        self.caption.setText(text)
        self.caption.setVisible(bool(text))

    def show_latency_histogram(self) -> LatencyHistogram:
        """Open (or refresh) the latency histogram dialog."""
        if self._histogram is None:
            self._histogram = LatencyHistogram(self.session, self)
        self._histogram.refresh()
        self._histogram.show()
        return self._histogram

    @property
    def fps(self) -> float:
        """Frames painted per second over the last few seconds."""
        now = time.monotonic()
        recent = [t for t in self._frame_times if now - t < 2.0]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)

    def _count_frame(self) -> None:
        self.frames += 1
        self._frame_times.append(time.monotonic())

    def _scope_painted(self) -> None:
        if self._scope_pending is not None and self.session is not None:
            self.scope_latency.add(self.session.now() - self._scope_pending)
            self._scope_pending = None

    def _bars_painted(self) -> None:
        if self._pending_screen and self.session is not None:
            shown = pylsl.local_clock()
            self.session.record_screen_time(np.concatenate(self._pending_screen), shown)
            self._pending_screen.clear()

    def _handle_events(self, update: LiveUpdate) -> None:
        name = self.session.info.name
        for ev in update.events:
            if ev.kind in TROUBLE_KINDS:
                self.banner.show_message(f"{_TROUBLE_TITLES[ev.kind]}: {ev.message}", "warning")
                self._temporary_until = float("inf")
                # The last probabilities are not current any more: say so instead.
                self.bars.set_no_data(f"no data ({ev.kind})")
            elif ev.kind in ("resumed", "restored"):
                self.banner.show_message(f"Stream {name!r} is back: classifying again", "info")
                self._temporary_until = time.monotonic() + 2.0
            elif ev.kind == "ended":
                self.banner.show_message(
                    f"{ev.message}: the display is frozen at its end", "warning"
                )
                self._temporary_until = float("inf")
            elif not (self.banner.showing and self.banner.severity == "warning"):
                self.banner.show_message(ev.message, "info")
                self._temporary_until = time.monotonic() + 3.0
        if self.banner.showing and time.monotonic() > self._temporary_until:
            self.banner.clear_message()


def _paradigm_of(session: LiveSession) -> Paradigm | None:
    """The paradigm behind the session's pipeline (None for a pipeline without one)."""
    paradigm = getattr(session.pipeline, "paradigm", None)
    return paradigm if isinstance(paradigm, Paradigm) else None


def run_live_window(
    session: LiveSession | None,
    *,
    error: str | None = None,
    seconds: float | None = None,
    on_tick: Callable[[LiveWindow, LiveUpdate], None] | None = None,
    final_text: Callable[[], str] | None = None,
    final_seconds: float | None = 8.0,
    window: LiveWindow | None = None,
) -> LiveWindow:
    """Open the live window and run Qt until it is closed (or ``seconds`` elapse).

    With ``final_text``, when ``seconds`` elapse the views freeze and ``final_text()`` is
    shown as the last screen for ``final_seconds`` (a countdown on the Close button).
    Ctrl-C or SIGTERM closes the window and then goes on to the caller's handler (a
    ``KeyboardInterrupt`` at the command line): never an exception inside a Qt slot.
    ``window`` runs an already built window instead of a new one. Returns the window
    (its timer stopped).
    """
    qt_app = app()
    if window is None:
        window = LiveWindow(session, error=error, on_tick=on_tick)
    with CloseWindowsOnSignal():
        window.start()
        if seconds is not None:
            if final_text is None:
                QtCore.QTimer.singleShot(round(seconds * 1000), window.close)
            else:
                QtCore.QTimer.singleShot(
                    round(seconds * 1000), lambda: window.show_final(final_text(), final_seconds)
                )
        qt_app.exec()
        window.stop()
    return window


def open_live_window(
    source: object,
    pipeline: object,
    *,
    publish_name: str | None = None,
    on_tick: Callable[[LiveWindow, LiveUpdate], None] | None = None,
) -> LiveWindow:
    """A live window on ``source``; when the model refuses the stream, one that says why."""
    from bci.errors import BCIError

    try:
        session = LiveSession(source, pipeline, publish_name=publish_name)
    except BCIError as exc:
        return LiveWindow(None, error=f"Cannot classify this stream: {describe_error(exc)}")
    return LiveWindow(session, on_tick=on_tick)
