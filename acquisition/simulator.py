"""A simulated EEG headset: synthetic but realistic EEG that responds to a cued task.

The signal is a sum of

- a 1/f (pink) background per channel, spatially mixed so neighbouring electrodes
  correlate (weights fall off with the distance between 10-20 positions);
- rhythms generated as narrow-band noise at a few cortical sources and projected to the
  electrodes by distance: posterior alpha (~10 Hz, O1/O2), sensorimotor mu (~11 Hz) and
  beta (~21 Hz) at C3, Cz and C4;
- optional SSVEP responses (fundamental + second harmonic) at the occipital electrodes;
- optional line noise and a little white sensor noise.

Motor imagery desynchronises mu and beta over the opposite hemisphere (``"left"`` lowers
them at C4, ``"right"`` at C3, ``"feet"`` at Cz), ramping in and out over ~0.5 s. Attending
an SSVEP target turns its response on. ``difficulty`` scales every task effect from strong
(0) to absent (1).

Generation is stateful and continuous: filter states and oscillator phases carry across
pulls and random numbers are drawn sample-major, so the same seed gives the same signal
whatever the chunk sizes.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import signal

from acquisition.errors import AcquisitionError
from acquisition.montage import standard_1020_positions, standard_name_map
from acquisition.recording import Recording
from acquisition.source import Source, SourceInfo, empty_markers

#: Default montage: sensorimotor strip with its FC/CP neighbours, plus parietal/occipital.
DEFAULT_CH_NAMES: tuple[str, ...] = (
    "Fz",
    "FC3",
    "FC1",
    "FCz",
    "FC2",
    "FC4",
    "C5",
    "C3",
    "C1",
    "Cz",
    "C2",
    "C4",
    "C6",
    "CP3",
    "CP1",
    "CPz",
    "CP2",
    "CP4",
    "P3",
    "Pz",
    "P4",
    "O1",
    "Oz",
    "O2",
)

#: Motor imagery labels and the source ("C3", "Cz", "C4") each one desynchronises.
MOTOR_TARGETS: dict[str, str] = {"left": "C4", "right": "C3", "feet": "Cz"}

# Amplitudes (RMS, volts) at the electrode nearest the source. Tens of µV overall.
BACKGROUND_RMS = 12e-6
SENSOR_NOISE_RMS = 1.0e-6
ALPHA_RMS = 9e-6
MU_RMS = 9e-6
BETA_RMS = 3.5e-6
SSVEP_AMPLITUDE = 3e-6
#: Deepest desynchronisation (fraction of mu/beta amplitude removed) at difficulty 0.
MAX_ERD = 0.8
#: Seconds the task effects take to ramp in or out.
RAMP_SECONDS = 0.5

# Pink-noise IIR (Kellet's 3-pole/3-zero fit to a -10 dB/decade slope).
_PINK_B = np.array([0.049922035, -0.095993537, 0.050612699, -0.004408786])
_PINK_A = np.array([1.0, -2.494956002, 2.017265875, -0.522189400])

#: (name, band Hz, rms, 10-20 position of the source, spatial spread in metres)
_RHYTHMS: tuple[tuple[str, tuple[float, float], float, str, float], ...] = (
    ("alpha-O1", (8.5, 11.5), ALPHA_RMS, "O1", 0.045),
    ("alpha-O2", (8.5, 11.5), ALPHA_RMS, "O2", 0.045),
    ("mu-C3", (9.5, 12.5), MU_RMS, "C3", 0.03),
    ("mu-Cz", (9.5, 12.5), MU_RMS * 0.8, "Cz", 0.03),
    ("mu-C4", (9.5, 12.5), MU_RMS, "C4", 0.03),
    ("beta-C3", (18.0, 24.0), BETA_RMS, "C3", 0.03),
    ("beta-Cz", (18.0, 24.0), BETA_RMS * 0.8, "Cz", 0.03),
    ("beta-C4", (18.0, 24.0), BETA_RMS, "C4", 0.03),
)

#: Where SSVEP responses appear, and the spread around it.
_SSVEP_CENTRE, _SSVEP_SPREAD = "Oz", 0.04


class SimulatedHeadset(Source):
    """A ``Source`` of synthetic EEG from a simulated person doing a cued task.

    Parameters
    ----------
    ch_names : sequence of str, optional
        10-20 electrode names (any capitalisation); default :data:`DEFAULT_CH_NAMES`
        (24 channels over sensorimotor and occipital cortex).
    sfreq : float
        Sampling rate in Hz.
    seed : int, optional
        Seed for ``numpy.random.default_rng``; the same seed gives the same signal.
    difficulty : float
        In [0, 1]: 0 gives strong task effects, 1 none at all (chance).
    realtime : bool
        True: samples appear at wall-clock pace and ``pull`` returns those that have
        elapsed (never more). False: ``pull`` generates on demand.
    ssvep_freqs : mapping of str to float, optional
        SSVEP targets, label -> flicker frequency in Hz (e.g. ``{"up": 13.0}``).
    chunk_size : int, optional
        Offline: samples per ``pull`` without ``max_samples`` (default 32). Realtime: if
        given, samples are released in whole chunks of this size, like a device's packets.
    line_noise : float
        Amplitude in volts of mains interference (0 for none).
    line_freq : float
        Mains frequency in Hz.
    name : str
        Stream name in ``info``.
    """

    def __init__(
        self,
        *,
        ch_names: Sequence[str] | None = None,
        sfreq: float = 250.0,
        seed: int | None = None,
        difficulty: float = 0.3,
        realtime: bool = False,
        ssvep_freqs: Mapping[str, float] | None = None,
        chunk_size: int | None = None,
        line_noise: float = 0.0,
        line_freq: float = 50.0,
        name: str = "simulated-eeg",
    ) -> None:
        self.sfreq = _positive(sfreq, "sfreq")
        if not 0.0 <= float(difficulty) <= 1.0:
            raise AcquisitionError(
                f"simulator: difficulty must be in [0, 1] (0 easy, 1 chance), got {difficulty!r}"
            )
        self.difficulty = float(difficulty)
        if chunk_size is not None and int(chunk_size) < 1:
            raise AcquisitionError(
                f"simulator: chunk_size must be a positive number of samples, got {chunk_size!r}"
            )
        self.chunk_size = None if chunk_size is None else int(chunk_size)
        self.realtime = bool(realtime)
        self.seed = seed
        names = _resolve_names(DEFAULT_CH_NAMES if ch_names is None else ch_names)
        self.ssvep_freqs = _check_ssvep(ssvep_freqs, self.sfreq)
        self.line_noise = float(line_noise)
        self.line_freq = float(line_freq)
        self._info = SourceInfo(
            name=name,
            ch_names=tuple(names),
            ch_types=tuple("eeg" for _ in names),
            sfreq=self.sfreq,
            units=tuple("V" for _ in names),
            source_id=f"simulator-{name}-seed{seed}",
        )
        self._rng = np.random.default_rng(seed)
        self._build_model(names)
        self._pos = 0  # index of the next sample to generate
        self._label: str | None = None
        self._changes: list[tuple[int, str | None]] = []  # pending (sample, label)
        self._markers: list[tuple[int, str]] = []  # emitted, not yet pulled
        #: Per timed change (``set_state(..., at=...)``), the samples between its own time
        #: and where it happened: > 0 when its sample had already been generated (the most
        #: recent 10000).
        self.lateness: deque[int] = deque(maxlen=10_000)
        self._t0: float | None = None
        self.start_time = 0.0
        self._closed = False
        # A player thread pulls while a GUI thread calls set_state.
        self._lock = threading.RLock()

    # -- Source protocol -------------------------------------------------------------
    @property
    def info(self) -> SourceInfo:
        """Channel names (10-20), types (all ``eeg``), units (volts) and rate."""
        return self._info

    @property
    def ended(self) -> bool:
        """Always False: the simulated person never stops."""
        return False

    @property
    def state(self) -> str | None:
        """The task currently being done (after pending changes), or None."""
        return self._changes[-1][1] if self._changes else self._label

    @property
    def position(self) -> int:
        """Index of the next sample ``pull`` will return."""
        return self._pos

    def pull(self, max_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return the next chunk ``(data volts (n_ch, n), timestamps (n,))``."""
        with self._lock:
            return self._pull(max_samples)

    def _pull(self, max_samples: int | None) -> tuple[np.ndarray, np.ndarray]:
        self._check_open()
        if self.realtime:
            n = self._elapsed_samples() - self._pos
            if self.chunk_size is not None:
                n -= n % self.chunk_size
        else:
            n = self.chunk_size or 32
        if max_samples is not None:
            n = min(n, max(0, int(max_samples))) if self.realtime else max(0, int(max_samples))
        start = self._pos
        data = self._generate(max(0, n))
        times = self.start_time + np.arange(start, self._pos) / self.sfreq
        return data, times

    def pull_markers(self) -> tuple[np.ndarray, list[str]]:
        """Return the markers whose sample has been pulled since the last call."""
        with self._lock:
            self._check_open()
            ready = [m for m in self._markers if m[0] < self._pos]
            self._markers = [m for m in self._markers if m[0] >= self._pos]
        if not ready:
            return empty_markers()
        stamps = self.start_time + np.array([s for s, _ in ready], dtype=np.float64) / self.sfreq
        return stamps, [lab for _, lab in ready]

    def close(self) -> None:
        """Stop the simulation; further pulls raise."""
        self._closed = True

    def __enter__(self) -> SimulatedHeadset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- driving the simulated person -------------------------------------------------
    def set_state(self, label: str | None, at: float | None = None) -> None:
        """From now (or time ``at``) on the simulated person does ``label``; emit a marker.

        ``"left"``, ``"right"``, ``"feet"``: motor imagery. A key of ``ssvep_freqs``: attend
        that flicker. ``None`` or ``"rest"``: nothing. Any other string is emitted as a
        marker without changing the signal. ``None`` emits no marker.

        Parameters
        ----------
        label : str or None
            The task.
        at : float, optional
            When, on this headset's own timestamps (seconds, as ``pull`` returns them): the
            change happens at the first sample stamped at or after ``at``, so a cue read
            late still starts the task at the cue. A sample already generated cannot
            change: then the change happens at the next sample generated (the difference
            is recorded in :attr:`lateness`). None: "now",
            which in realtime mode is the wall-clock sample, otherwise the next sample
            pulled.
        """
        with self._lock:
            self._check_open()
            now = max(self._pos, self._elapsed_samples()) if self.realtime else self._pos
            if at is None:
                sample = now
            else:
                wanted = self.sample_at(at)
                sample = max(self._pos, wanted)
                self.lateness.append(sample - wanted)
            if self._changes:
                sample = max(sample, self._changes[-1][0])
            self._schedule(sample, label)

    def sample_at(self, when: float) -> int:
        """Index of the first sample stamped at or after ``when`` (headset seconds)."""
        when = float(when)
        if not np.isfinite(when):
            raise AcquisitionError(f"simulator: state change time must be finite, got {when!r}")
        if self.realtime and self._t0 is None:
            self._elapsed_samples()  # fixes start_time
        # The tolerance absorbs the rounding of a stamp mapped from another clock.
        return max(0, int(np.ceil((when - self.start_time) * self.sfreq - 1e-6)))

    def _schedule(self, sample: int, label: str | None) -> None:
        if label is not None:
            label = str(label)
        self._changes.append((int(sample), label))
        if label is not None:
            self._markers.append((int(sample), label))

    # -- generation --------------------------------------------------------------------
    def _elapsed_samples(self) -> int:
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
            self.start_time = now
        return int(np.floor((now - self._t0) * self.sfreq))

    def _build_model(self, names: list[str]) -> None:
        pos = standard_1020_positions()
        xyz = np.array([pos[n] for n in names])
        n_ch = len(names)
        # Background: each channel is a distance-weighted mix of independent pink sources.
        d = np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=-1)
        mix = np.exp(-((d / 0.035) ** 2))
        self._mix = BACKGROUND_RMS * mix / np.linalg.norm(mix, axis=1, keepdims=True)
        self._pink_gain = 1.0 / _impulse_rms(_PINK_B, _PINK_A)
        self._pink_zi = np.zeros((n_ch, len(_PINK_A) - 1))

        nyq = self.sfreq / 2.0
        self._rhythm_sos = []
        self._rhythm_zi = []
        proj = []
        self._rhythm_names = []
        for rname, (lo, hi), rms, centre, spread in _RHYTHMS:
            if hi >= nyq * 0.95:
                continue
            sos = signal.butter(2, [lo, hi], btype="bandpass", fs=self.sfreq, output="sos")
            gain = rms / _impulse_rms_sos(sos)
            self._rhythm_sos.append(sos)
            self._rhythm_zi.append(np.zeros((sos.shape[0], 2)))
            dist = np.linalg.norm(xyz - pos[centre], axis=1)
            proj.append(gain * np.exp(-((dist / spread) ** 2) / 2.0))
            self._rhythm_names.append(rname)
        self._proj = np.array(proj).T if proj else np.zeros((n_ch, 0))  # (n_ch, n_src)
        n_src = len(self._rhythm_names)
        # Task effects ramp linearly from the gains at the last state change (the anchor)
        # towards the targets of the current state; computed from absolute sample indices
        # so chunking cannot change them.
        self._anchor_sample = 0
        self._anchor_rhythm = np.ones(n_src)
        self._target_rhythm = np.ones(n_src)

        dist = np.linalg.norm(xyz - pos[_SSVEP_CENTRE], axis=1)
        self._ssvep_proj = SSVEP_AMPLITUDE * np.exp(-((dist / _SSVEP_SPREAD) ** 2) / 2.0)
        self._ssvep_labels = list(self.ssvep_freqs)
        self._anchor_ssvep = np.zeros(len(self._ssvep_labels))
        self._target_ssvep = np.zeros(len(self._ssvep_labels))
        phase_rng = np.random.default_rng(None if self.seed is None else [self.seed, 1])
        self._ssvep_phase = phase_rng.uniform(0, 2 * np.pi, size=len(self._ssvep_labels))
        self._line_phase = float(phase_rng.uniform(0, 2 * np.pi))
        self._n_draw = 2 * n_ch + n_src

    def _targets(self, label: str | None) -> tuple[np.ndarray, np.ndarray]:
        """Rhythm and SSVEP gains the simulated person settles to while doing ``label``."""
        effect = 1.0 - self.difficulty
        rhythm = np.ones(len(self._rhythm_names))
        site = MOTOR_TARGETS.get(label or "")
        if site is not None:
            for i, rname in enumerate(self._rhythm_names):
                if rname.endswith("-" + site) and not rname.startswith("alpha"):
                    rhythm[i] = 1.0 - MAX_ERD * effect
        ssvep = np.array([effect if lab == label else 0.0 for lab in self._ssvep_labels])
        return rhythm, ssvep

    def _generate(self, n: int) -> np.ndarray:
        """Generate the next ``n`` samples, applying scheduled state changes on time."""
        n_ch = self._info.n_channels
        if n == 0:
            return np.empty((n_ch, 0))
        end = self._pos + n
        # Gains per sample: piecewise ramps between the state changes inside this chunk.
        rhythm_env = np.empty((len(self._rhythm_names), n))
        ssvep_env = np.empty((len(self._ssvep_labels), n))
        cursor = self._pos
        while cursor < end:
            while self._changes and self._changes[0][0] <= cursor:
                sample, self._label = self._changes.pop(0)
                self._set_anchor(sample)
            stop = min(end, self._changes[0][0]) if self._changes else end
            seg = slice(cursor - self._pos, stop - self._pos)
            rhythm_env[:, seg], ssvep_env[:, seg] = self._envelopes(cursor, stop)
            cursor = stop

        # Sample-major draws: the stream of numbers does not depend on chunk sizes.
        noise = self._rng.standard_normal((n, self._n_draw)).T
        pink_in, src_in, sensor = noise[:n_ch], noise[n_ch : self._n_draw - n_ch], noise[-n_ch:]
        pink, self._pink_zi = signal.lfilter(_PINK_B, _PINK_A, pink_in, axis=1, zi=self._pink_zi)
        out = _project(self._mix, pink * self._pink_gain)
        out += SENSOR_NOISE_RMS * sensor
        if self._proj.shape[1]:
            rhythms = np.empty_like(src_in)
            for i, sos in enumerate(self._rhythm_sos):
                rhythms[i], self._rhythm_zi[i] = signal.sosfilt(
                    sos, src_in[i], zi=self._rhythm_zi[i]
                )
            out += _project(self._proj, rhythms * rhythm_env)
        t = np.arange(self._pos, end) / self.sfreq
        for i, lab in enumerate(self._ssvep_labels):
            if not np.any(ssvep_env[i]):
                continue
            f = self.ssvep_freqs[lab]
            wave = np.sin(2 * np.pi * f * t + self._ssvep_phase[i])
            if 2 * f < self.sfreq / 2:
                wave += 0.5 * np.sin(2 * np.pi * 2 * f * t + 2 * self._ssvep_phase[i])
            out += self._ssvep_proj[:, None] * (wave * ssvep_env[i])[None, :]
        if self.line_noise and self.line_freq < self.sfreq / 2:
            out += self.line_noise * np.sin(2 * np.pi * self.line_freq * t + self._line_phase)
        self._pos = end
        return out

    def _set_anchor(self, sample: int) -> None:
        """Start ramping, at ``sample``, from the gains reached just before it."""
        if sample > 0:
            before_r, before_s = self._envelopes(sample - 1, sample)
            self._anchor_rhythm, self._anchor_ssvep = before_r[:, 0], before_s[:, 0]
        self._anchor_sample = sample
        self._target_rhythm, self._target_ssvep = self._targets(self._label)

    def _envelopes(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Rhythm and SSVEP gains for samples ``start..stop-1`` under the current anchor."""
        k = (np.arange(start, stop) - self._anchor_sample + 1)[None, :] / (
            RAMP_SECONDS * self.sfreq
        )
        out = []
        for a, b in (
            (self._anchor_rhythm, self._target_rhythm),
            (self._anchor_ssvep, self._target_ssvep),
        ):
            delta = (b - a)[:, None]
            out.append(a[:, None] + np.sign(delta) * np.minimum(k, np.abs(delta)))
        return out[0], out[1]

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("simulated headset is closed; create a new one to read again")


def simulate_recording(
    cues: Sequence[tuple[float, str | None]],
    *,
    duration: float,
    sfreq: float = 250.0,
    seed: int | None = None,
    difficulty: float = 0.3,
    ch_names: Sequence[str] | None = None,
    ssvep_freqs: Mapping[str, float] | None = None,
    line_noise: float = 0.0,
) -> Recording:
    """Generate a whole recording offline from a cue sequence.

    Parameters
    ----------
    cues : sequence of (onset_seconds, label)
        At each onset the simulated person starts doing ``label`` (see
        :meth:`SimulatedHeadset.set_state`); labels become markers, ``None`` returns to rest
        without a marker.
    duration : float
        Length in seconds.
    sfreq, seed, difficulty, ch_names, ssvep_freqs, line_noise
        As for :class:`SimulatedHeadset`.

    Returns
    -------
    Recording
        Data in volts, markers at the cue samples, ``start_time`` 0, ``extras`` with the
        generation parameters.
    """
    head = SimulatedHeadset(
        ch_names=ch_names,
        sfreq=sfreq,
        seed=seed,
        difficulty=difficulty,
        ssvep_freqs=ssvep_freqs,
        line_noise=line_noise,
    )
    n = round(_positive(duration, "duration") * head.sfreq)
    onsets = []
    for k, cue in enumerate(cues):
        try:
            onset, label = float(cue[0]), cue[1]
        except (TypeError, ValueError, IndexError):
            raise AcquisitionError(
                f"simulate_recording: cue {k} is {cue!r}; give (onset_seconds, label) pairs"
            ) from None
        if not (np.isfinite(onset) and 0.0 <= onset <= duration):
            raise AcquisitionError(
                f"simulate_recording: cue {k} onset {onset!r} s is outside 0..{duration} s"
            )
        onsets.append((round(onset * head.sfreq), k, label))
    for sample, _, label in sorted(onsets, key=lambda x: (x[0], x[1])):
        head._schedule(sample, label)
    data = head._generate(n)
    kept = [(s, lab) for s, lab in head._markers if s < n]
    return Recording(
        data=data,
        info=head.info,
        marker_samples=np.array([s for s, _ in kept], dtype=np.int64),
        marker_labels=[lab for _, lab in kept],
        start_time=0.0,
        path=f"simulated (seed {seed}, difficulty {difficulty})",
        extras={
            "simulated": True,
            "seed": seed,
            "difficulty": float(difficulty),
            "ssvep_freqs": dict(head.ssvep_freqs),
        },
    )


#: Markers that continue the cued task (the calibration's "imagery" / "stimulation" phase).
CONTINUE_MARKERS = ("imagery", "stimulation")


class CueFollower:
    """Turn the markers of a cue stream into what the simulated person does.

    A marker that names a class (through ``classes``, marker -> class name, e.g. a
    paradigm's ``[classes]`` table inverted; or, without one, the marker text itself when
    it is a task the headset simulates) starts that task; :data:`CONTINUE_MARKERS` keep it;
    any other marker (``fixation``, ``rest``, ``pause``, ``session_end``...) means rest.

    Parameters
    ----------
    headset : SimulatedHeadset
        Whose person follows the cues.
    classes : mapping of str to str, optional
        Cue marker -> class name. Default: a marker is its own class name.
    """

    def __init__(self, headset: SimulatedHeadset, classes: Mapping[str, str] | None = None) -> None:
        self.headset = headset
        self.classes = {str(k): str(v) for k, v in (classes or {}).items()}
        self.doing: str | None = None

    def task_for(self, marker: str) -> str | None:
        """The class a cue marker names, or None when it names none."""
        marker = str(marker).strip()
        if self.classes:
            return self.classes.get(marker)
        known = set(MOTOR_TARGETS) | set(self.headset.ssvep_freqs)
        return marker if marker in known else None

    def follow(self, markers: Sequence[str], times: Sequence[float] | None = None) -> None:
        """Apply markers in their order: start the named task, keep it, or rest.

        Parameters
        ----------
        markers : sequence of str
            Cue markers, oldest first.
        times : sequence of float, optional
            Each marker's time on the headset's own timestamps (see
            :meth:`SimulatedHeadset.set_state`'s ``at``): the person reacts at the cue,
            however late it was read. None: react now.
        """
        if times is not None and len(times) != len(markers):
            raise AcquisitionError(
                f"CueFollower.follow: {len(markers)} markers but {len(times)} times; "
                "give one time per marker (or none)"
            )
        for k, marker in enumerate(markers):
            at = None if times is None else float(times[k])
            task = self.task_for(marker)
            if task is not None:
                if task != self.doing:
                    self.doing = task
                    self.headset.set_state(task, at)
            elif str(marker).strip() in CONTINUE_MARKERS:
                continue
            elif self.doing is not None:
                self.doing = None
                # "rest" (not None) so the change is marked on the headset's marker stream.
                self.headset.set_state("rest", at)


def graz_cues(
    classes: Sequence[str],
    trials_per_class: int,
    seed: int | None = None,
    fixation: float = 2.0,
    cue: float = 1.25,
    imagery: float = 4.0,
    rest: tuple[float, float] = (1.5, 2.5),
) -> tuple[list[tuple[float, str | None]], float]:
    """Return a balanced, shuffled Graz-style cue list and its total duration.

    Each trial: ``fixation`` seconds, then the cue (``cue`` seconds on screen), then
    ``imagery`` seconds of imagery, then a random rest in ``rest``. The class label is set
    at cue onset (the person reacts to the cue) and ``None`` at the end of imagery.

    Returns
    -------
    cues : list of (onset_seconds, label or None)
    duration : float
        End of the last trial's rest, in seconds.
    """
    if not classes:
        raise AcquisitionError("graz_cues: classes is empty; give at least one class label")
    if int(trials_per_class) < 1:
        raise AcquisitionError(
            f"graz_cues: trials_per_class must be at least 1, got {trials_per_class!r}"
        )
    lo, hi = float(rest[0]), float(rest[1])
    if not 0 <= lo <= hi:
        raise AcquisitionError(
            f"graz_cues: rest must be (min, max) with 0 <= min <= max, got {rest!r}"
        )
    rng = np.random.default_rng(seed)
    labels = [str(c) for c in classes for _ in range(int(trials_per_class))]
    order = rng.permutation(len(labels))
    cues: list[tuple[float, str | None]] = []
    t = 0.0
    for i in order:
        onset = t + fixation
        cues.append((round(onset, 6), labels[i]))
        end = onset + cue + imagery
        cues.append((round(end, 6), None))
        t = end + float(rng.uniform(lo, hi))
    return cues, round(t, 6)


def _project(matrix: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``matrix @ x``, summed in a fixed order per sample so chunking changes no bit.

    BLAS (and numpy's pairwise reductions) pick their summation order by problem size,
    which makes the last bits of ``matrix @ x`` depend on how many samples a chunk has;
    accumulating one input row at a time does not.
    """
    out = np.zeros((matrix.shape[0], x.shape[1]))
    for j in range(matrix.shape[1]):
        out += matrix[:, j, None] * x[j]
    return out


def _impulse_rms(b: np.ndarray, a: np.ndarray, n: int = 1 << 15) -> float:
    impulse = np.zeros(n)
    impulse[0] = 1.0
    return float(np.sqrt(np.sum(signal.lfilter(b, a, impulse) ** 2)))


def _impulse_rms_sos(sos: np.ndarray, n: int = 1 << 15) -> float:
    impulse = np.zeros(n)
    impulse[0] = 1.0
    return float(np.sqrt(np.sum(signal.sosfilt(sos, impulse) ** 2)))


def _resolve_names(names: Sequence[str]) -> list[str]:
    standard = standard_name_map()
    out, unknown = [], []
    for n in names:
        key = str(n).strip().lower()
        if key in standard:
            out.append(standard[key])
        else:
            unknown.append(str(n))
    if unknown:
        raise AcquisitionError(
            f"simulator: unknown 10-20 channel name(s) {', '.join(map(repr, unknown))}; "
            "use standard names such as C3, Cz, C4, O1, Oz, O2"
        )
    if not out:
        raise AcquisitionError("simulator: ch_names is empty; give at least one channel")
    if len(set(out)) != len(out):
        raise AcquisitionError(f"simulator: ch_names has duplicates: {list(names)!r}")
    return out


def _check_ssvep(freqs: Mapping[str, float] | None, sfreq: float) -> dict[str, float]:
    out: dict[str, float] = {}
    for label, f in (freqs or {}).items():
        f = float(f)
        if not (np.isfinite(f) and 0 < f < sfreq / 2):
            raise AcquisitionError(
                f"simulator: SSVEP frequency for {label!r} is {f!r} Hz; it must be between 0 "
                f"and the Nyquist frequency {sfreq / 2:g} Hz"
            )
        out[str(label)] = f
    return out


def _positive(value: float, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not (np.isfinite(v) and v > 0):
        raise AcquisitionError(f"simulator: {name} must be a positive number, got {value!r}")
    return v
