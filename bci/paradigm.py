"""The paradigm file: one TOML file per experiment, driving train, evaluate, calibrate and live.

A paradigm says which markers mean which class, where the epoch lies after the marker, the
causal filter, the features, the model, the online window and the calibration timings::

    [classes]            # class name = marker as found in the recording (string or integer)
    left = "T1"
    right = "T2"
    [epochs]
    tmin = 0.5
    tmax = 2.5
    train_crops = false  # or true, or { start = 0.5, stop = 4.0, step = 0.5 }: see below
    [filter]
    l_freq = 7.0         # 0 or false: no high-pass
    h_freq = 30.0        # 0 or false: no low-pass
    [features]
    method = "bandpower"
    bands = [[8, 13], [13, 30]]
    [model]
    kind = "mlp"         # every other key is a parameter of models.make_estimator
    [online]
    window = 2.0
    step = 0.1
    smoothing = 0.0      # display only: time constant (s) of the probabilities' moving average
    [adaptation]         # across sessions (see bci.features.recentre)
    method = "recentre"  # or "none" (the default)
    memory = 120.0       # seconds of windows the online running mean remembers
    supervised = false   # update the model with partial_fit on cued trials during use

``[epochs] train_crops`` (cropped training, Schirrmeister et al., Hum. Brain Mapp. 2017):
the model is trained on every epoch-long window of a trial that starts at ``start`` and
then every ``step`` seconds, as long as it ends by ``stop``. ``train_crops = true``: the
whole stimulation, from the marker (``start = 0``, or ``epochs.tmin`` if earlier) to its end
(``stop = session.imagery``, or ``epochs.tmax`` if later), every 0.5 s. Predictions and
evaluation stay on the standard ``tmin .. tmax`` epochs, and cross-validation splits
trials, never crops.

Every table and key is optional except ``[classes]``; the defaults are the dataclass
defaults below. Unknown keys, wrong types and impossible values raise
:class:`~bci.errors.ParadigmError` naming the file, the key (``epochs.tmax``) and the
expected type or range. Checks that need the sampling rate (bands below Nyquist) run in
:meth:`Paradigm.check_sfreq`, which the pipeline calls.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from acquisition import limits
from bci.errors import ParadigmError

MODEL_KINDS = ("perceptron", "softmax", "mlp")
SESSION_KINDS = ("motor_imagery", "ssvep")
LOG_KINDS = ("log10", "ln")
ADAPTATION_METHODS = ("none", "recentre")
#: Bounds of adaptation.memory in seconds: at least a few windows, at most a day.
MEMORY_RANGE = (1.0, 86400.0)
#: ``[epochs] train_crops = true``: the step between crop starts, in seconds.
CROP_STEP_DEFAULT = 0.5


def normalize_marker(marker: object) -> str:
    """Return the canonical string of a marker so that ``2``, ``"2"`` and ``"2.000"`` match.

    Markers are compared as strings; numeric strings that hold an integer value (as the
    float-formatted codes some XDF marker streams carry) are reduced to that integer.
    """
    text = str(marker).strip()
    try:
        value = float(text)
    except ValueError:
        return text
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return text


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class EpochsConfig:
    """Where the epoch lies relative to its marker.

    ``trial_marker``/``occurrence``: when a trial sends its class marker more than once
    (BCI4ALS sends it at the cue and again at the imagery onset), markers are grouped into
    trials starting at ``trial_marker`` and the ``occurrence``-th class marker of each trial
    (1-based) is the epoch onset.
    """

    tmin: float = 0.5
    tmax: float = 2.5
    trial_marker: str | None = None
    occurrence: int = 1
    #: Cropped training (``[epochs] train_crops``), None when off.
    train_crops: CropsConfig | None = None

    @property
    def length(self) -> float:
        """Epoch length in seconds."""
        return self.tmax - self.tmin


@dataclass(frozen=True)
class CropsConfig:
    """Cropped training: epoch-long windows of each trial, starting ``start``, ``start +
    step``, ... seconds after the marker, the last one ending by ``stop``.

    ``length`` is the epoch's (``tmax - tmin``), so a crop is exactly what a standard epoch
    or an online window of that length would hold.
    """

    start: float
    stop: float
    step: float
    length: float

    @property
    def n_crops(self) -> int:
        """Crops per trial."""
        return crop_count(self.start, self.stop, self.step, self.length)

    def starts(self) -> list[float]:
        """Start of every crop in seconds after the marker."""
        return [self.start + k * self.step for k in range(self.n_crops)]


def crop_count(start: float, stop: float, step: float, length: float) -> int:
    """Number of ``length``-second crops starting every ``step`` s from ``start`` and
    ending by ``stop`` (0 when not even one fits); a microsecond of rounding is forgiven."""
    room = stop - start - length
    if room < -1e-6:
        return 0
    return math.floor(room / step + 1e-6) + 1


@dataclass(frozen=True)
class FilterConfig:
    """Causal Butterworth band-pass (``None`` edge: that side open) and an optional notch."""

    l_freq: float | None = 7.0
    h_freq: float | None = 30.0
    order: int = 4
    notch: float | None = None


@dataclass(frozen=True)
class FeaturesConfig:
    """Which feature chain (``method``, see :mod:`bci.features.steps`) and its settings.

    ``welch_segment`` is the Welch segment in seconds; ``None`` picks
    ``min(1 s, epoch length, online window)``. ``params`` holds extra settings for methods
    added by other modules.
    """

    method: str = "bandpower"
    bands: tuple[tuple[float, float], ...] = ((8.0, 13.0), (13.0, 30.0))
    log: str = "log10"
    welch_segment: float | None = None
    csp_components: int = 4
    csp_reg: float = 0.1
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ModelConfig:
    """The estimator kind and the parameters passed to ``models.make_estimator``."""

    kind: str = "softmax"
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OnlineConfig:
    """Sliding window for live classification: its length and hop, in seconds.

    ``smoothing`` is the time constant in seconds of an exponential moving average of the
    probabilities *as displayed* (0: off); the published probabilities stay raw.
    """

    window: float = 2.0
    step: float = 0.1
    smoothing: float = 0.0


@dataclass(frozen=True)
class AdaptationConfig:
    """Adaptation across sessions (issue 11; see :mod:`bci.features.recentre`).

    ``method = "recentre"``: each training recording is re-centred on its own mean, and a
    live session starts from the training reference and tracks a running mean of its
    windows. ``memory`` (seconds) sets the running mean's fixed step:
    ``alpha = online.step / memory``. ``supervised``: during use, windows of cued trials
    (class markers on the marker stream) update the model with ``partial_fit``.
    """

    method: str = "none"
    memory: float = 120.0
    supervised: bool = False

    @property
    def enabled(self) -> bool:
        """True when re-centring is on."""
        return self.method != "none"

    def alpha(self, step_seconds: float) -> float:
        """Running-mean step per online window of ``step_seconds``."""
        return min(1.0, float(step_seconds) / self.memory)


@dataclass(frozen=True)
class SessionConfig:
    """Calibration session timings in seconds (Graz protocol by default).

    ``frequencies`` maps SSVEP class names to their flicker frequency in Hz.
    """

    kind: str = "motor_imagery"
    fixation: float = 2.0
    cue: float = 1.25
    imagery: float = 4.0
    rest_min: float = 1.5
    rest_max: float = 2.5
    trials_per_class: int = 20
    frequencies: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Paradigm:
    """A whole experiment description; build with :func:`load_paradigm` or :meth:`from_dict`.

    ``classes`` maps class name to its marker string (normalised with
    :func:`normalize_marker`), in file order: that order is the order of the
    probability columns. ``channels`` optionally restricts the pipeline to those channels.
    """

    classes: dict
    name: str = ""
    description: str = ""
    channels: tuple[str, ...] | None = None
    epochs: EpochsConfig = field(default_factory=EpochsConfig)
    filter: FilterConfig = field(default_factory=FilterConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    online: OnlineConfig = field(default_factory=OnlineConfig)
    session: SessionConfig = field(default_factory=SessionConfig)
    adaptation: AdaptationConfig = field(default_factory=AdaptationConfig)
    source: str = field(default="<dict>", compare=False)

    # -------------------------------------------------------------- derived values
    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in probability-column order."""
        return tuple(self.classes)

    @property
    def marker_to_class(self) -> dict[str, str]:
        """Normalised marker string -> class name."""
        return {marker: name for name, marker in self.classes.items()}

    def welch_segment_seconds(self) -> float:
        """Welch segment length in seconds used for band power, offline and online alike."""
        if self.features.welch_segment is not None:
            return self.features.welch_segment
        return min(1.0, self.epochs.length, self.online.window)

    def check_sfreq(self, sfreq: float, n_channels: int | None = None) -> None:
        """Raise ParadigmError if the paradigm is impossible at ``sfreq`` Hz (and ``n_channels``).

        Checks, before anything is allocated: the rate is within
        :data:`acquisition.limits.SFREQ`; frequencies are below Nyquist; the online window
        and the epoch, at this rate (and channel count), fit
        :data:`acquisition.limits.MAX_BUFFER_VALUES`; CSP asks for no more components than
        there are channels.
        """
        sfreq = limits.SFREQ.check(sfreq, "sampling rate", where=self.source, error=ParadigmError)
        channels = 1
        if n_channels is not None:
            channels = limits.CHANNELS.check(
                n_channels, "channel count", where=self.source, error=ParadigmError
            )
            if "csp" in self.features.method and self.features.csp_components > channels:
                raise ParadigmError(
                    f"{self.source}: features.csp_components = {self.features.csp_components} "
                    f"is more than the {channels} channels; it must be in 1 .. {channels}"
                )
        for key, seconds in (("online.window", self.online.window), ("epochs", self.epochs.length)):
            limits.check_buffer(
                seconds * sfreq, channels, key, where=self.source, error=ParadigmError
            )
        nyquist = sfreq / 2.0
        checks = [("filter.l_freq", self.filter.l_freq), ("filter.h_freq", self.filter.h_freq)]
        checks.append(("filter.notch", self.filter.notch))
        for key, value in checks:
            if value is not None and value >= nyquist:
                raise ParadigmError(
                    f"{self.source}: {key} = {value} Hz is not below the Nyquist frequency "
                    f"{nyquist:g} Hz of a {sfreq:g} Hz recording; lower it"
                )
        for i, (lo, hi) in enumerate(self.features.bands):
            if hi > nyquist:
                raise ParadigmError(
                    f"{self.source}: features.bands[{i}] = [{lo:g}, {hi:g}] Hz goes above the "
                    f"Nyquist frequency {nyquist:g} Hz of a {sfreq:g} Hz recording; lower it"
                )
        seg = self.welch_segment_seconds()
        if round(seg * sfreq) < 2:
            raise ParadigmError(
                f"{self.source}: features.welch_segment = {seg:g} s is under 2 samples at "
                f"{sfreq:g} Hz; lengthen it"
            )
        if round(self.online.step * sfreq) < 1:
            raise ParadigmError(
                f"{self.source}: online.step = {self.online.step:g} s is under one sample at "
                f"{sfreq:g} Hz; lengthen it"
            )

    # -------------------------------------------------------------- (de)serialisation
    @classmethod
    def from_dict(cls, d: dict, *, source: str = "<dict>") -> Paradigm:
        """Build and validate a paradigm from a dict shaped like the TOML file."""
        return _parse(d, source)

    def to_dict(self) -> dict:
        """Return a JSON-safe dict that :meth:`from_dict` turns back into an equal paradigm."""
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.description:
            out["description"] = self.description
        if self.channels is not None:
            out["channels"] = list(self.channels)
        out["classes"] = dict(self.classes)
        out["epochs"] = {"tmin": self.epochs.tmin, "tmax": self.epochs.tmax}
        if self.epochs.trial_marker is not None:
            out["epochs"]["trial_marker"] = self.epochs.trial_marker
            out["epochs"]["occurrence"] = self.epochs.occurrence
        crops = self.epochs.train_crops
        if crops is not None:
            # Only when on, resolved: a model file says exactly which crops it was trained on.
            out["epochs"]["train_crops"] = {
                "start": crops.start,
                "stop": crops.stop,
                "step": crops.step,
            }
        f = self.filter
        out["filter"] = {"l_freq": f.l_freq, "h_freq": f.h_freq, "order": f.order}
        if f.notch is not None:
            out["filter"]["notch"] = f.notch
        ft = self.features
        out["features"] = {
            "method": ft.method,
            "bands": [list(b) for b in ft.bands],
            "log": ft.log,
            "csp_components": ft.csp_components,
            "csp_reg": ft.csp_reg,
        }
        if ft.welch_segment is not None:
            out["features"]["welch_segment"] = ft.welch_segment
        if ft.params:
            out["features"]["params"] = dict(ft.params)
        out["model"] = {"kind": self.model.kind, **self.model.params}
        out["online"] = {"window": self.online.window, "step": self.online.step}
        if self.online.smoothing:
            out["online"]["smoothing"] = self.online.smoothing
        s = self.session
        out["session"] = {
            "kind": s.kind,
            "fixation": s.fixation,
            "cue": s.cue,
            "imagery": s.imagery,
            "rest_min": s.rest_min,
            "rest_max": s.rest_max,
            "trials_per_class": s.trials_per_class,
        }
        if s.frequencies:
            out["session"]["frequencies"] = dict(s.frequencies)
        a = self.adaptation
        if a != AdaptationConfig():
            # Only when set: a paradigm without adaptation writes what older versions read.
            out["adaptation"] = {
                "method": a.method,
                "memory": a.memory,
                "supervised": a.supervised,
            }
        return out

    def with_adaptation(self, method: str, **params: Any) -> Paradigm:
        """A copy with ``[adaptation] method`` (``--adapt recentre``) and other keys kept."""
        d = self.to_dict()
        d["adaptation"] = {**d.get("adaptation", {}), "method": method, **params}
        return _parse(d, self.source)

    def with_model(self, kind: str, **params: Any) -> Paradigm:
        """Return a copy whose model is ``kind`` (``bci train --model K``) with ``params``."""
        d = self.to_dict()
        d["model"] = {"kind": kind, **params}
        return _parse(d, self.source)


def load_paradigm(path: str | Path) -> Paradigm:
    """Read and validate a paradigm TOML file.

    Raises
    ------
    ParadigmError
        The file is missing, is not valid TOML, or has an unknown key, a wrong type or an
        impossible value; the message names the file and the key.
    """
    p = Path(path)
    return _parse(read_toml_file(p, "paradigm file"), str(p))


def read_toml_file(path: str | Path, what: str) -> dict:
    """Read and parse the TOML file ``path`` (a ``what``, named in errors).

    Raises
    ------
    ParadigmError
        The file is missing or unreadable, not valid TOML, or nested too deeply.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParadigmError(f"{p}: {what} not found; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParadigmError(f"{p}: cannot read the {what} ({exc})") from None
    return _loads_toml(text, str(p))


def _loads_toml(text: str, source: str) -> dict:
    """Parse TOML text; a syntax error or a hostile nesting depth is a ParadigmError."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParadigmError(f"{source}: not valid TOML ({exc})") from None
    except RecursionError:
        # tomllib recurses once per nested array/table: thousands of levels exhaust the stack.
        limit = int(limits.NESTING_DEPTH.high)
        raise ParadigmError(
            f"{source}: values are nested too deeply to parse; the "
            f"{limits.NESTING_DEPTH.what} must be at most {limit}"
        ) from None


def builtin_paradigms() -> list[str]:
    """Names of the paradigm files shipped in ``bci/paradigms`` (without ``.toml``)."""
    folder = resources.files("bci") / "paradigms"
    return sorted(e.name[:-5] for e in folder.iterdir() if e.name.endswith(".toml"))


def builtin_paradigm(name: str) -> Paradigm:
    """Load a paradigm shipped with the package, e.g. ``builtin_paradigm("demo")``."""
    stem = name[:-5] if name.endswith(".toml") else name
    entry = resources.files("bci") / "paradigms" / f"{stem}.toml"
    if not entry.is_file():
        raise ParadigmError(
            f"no built-in paradigm {name!r}; choose one of {', '.join(builtin_paradigms())}"
        )
    d = _loads_toml(entry.read_text(encoding="utf-8"), f"built-in paradigm {stem}.toml")
    return _parse(d, f"bci/paradigms/{stem}.toml")


# --------------------------------------------------------------------------- parsing


class _Reader:
    """Typed access to one table, recording which keys were used, for error messages."""

    def __init__(self, table: object, prefix: str, source: str) -> None:
        self.source = source
        self.prefix = prefix
        if not isinstance(table, dict):
            raise ParadigmError(
                f"{source}: {prefix or 'the file'} must be a table, got {_tname(table)}"
            )
        self.table = table
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, expected: str, value: object) -> ParadigmError:
        return ParadigmError(
            f"{self.source}: {self.key(name)}: expected {expected}, got {value!r} ({_tname(value)})"
        )

    def get(self, name: str, default: object) -> object:
        self.used.add(name)
        return self.table.get(name, default)

    def number(self, name: str, default: float, *, positive: bool = False) -> float:
        value = self.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, "a number", value)
        value = float(value)
        if not math.isfinite(value):
            raise self.fail(name, "a finite number", value)
        if positive and value <= 0:
            raise self.fail(name, "a number > 0", value)
        return value

    def optional_number(self, name: str, default: float | None) -> float | None:
        """A frequency that may be switched off with 0, false or an explicit None."""
        value = self.get(name, default)
        if value is None or value is False:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, "a number of Hz, or 0/false for none", value)
        if not math.isfinite(value) or value < 0:
            raise self.fail(name, "a finite number >= 0", value)
        return float(value) if value > 0 else None

    def integer(self, name: str, default: int, *, minimum: int = 1) -> int:
        value = self.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, "an integer", value)
        if value < minimum:
            raise self.fail(name, f"an integer >= {minimum}", value)
        return int(value)

    def string(self, name: str, default: str, *, choices: tuple[str, ...] = ()) -> str:
        value = self.get(name, default)
        if not isinstance(value, str):
            raise self.fail(name, "a string", value)
        if choices and value not in choices:
            raise self.fail(name, "one of " + ", ".join(repr(c) for c in choices), value)
        return value

    def table_of(self, name: str) -> dict:
        value = self.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, "a table", value)
        return value

    def finish(self) -> None:
        unknown = [k for k in self.table if k not in self.used]
        if unknown:
            names = ", ".join(self.key(k) for k in unknown)
            valid = ", ".join(sorted(self.used))
            raise ParadigmError(f"{self.source}: unknown key {names}; valid keys here: {valid}")


def _tname(value: object) -> str:
    return {
        bool: "boolean",
        int: "integer",
        float: "float",
        str: "string",
        list: "array",
        dict: "table",
    }.get(type(value), type(value).__name__)


def _marker(reader: _Reader, name: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise reader.fail(name, "a marker string or integer code", value)
    text = normalize_marker(value)
    if not text:
        raise reader.fail(name, "a non-empty marker", value)
    return text


def _parse(d: object, source: str) -> Paradigm:
    limits.check_nesting(d, "the paradigm", where=source, error=ParadigmError)
    top = _Reader(d, "", source)
    name = top.string("name", "")
    description = top.string("description", "")
    channels_raw = top.get("channels", None)
    channels: tuple[str, ...] | None = None
    if channels_raw is not None:
        if (
            not isinstance(channels_raw, list | tuple)
            or not channels_raw
            or not all(isinstance(c, str) and c for c in channels_raw)
        ):
            raise top.fail("channels", "a non-empty array of channel-name strings", channels_raw)
        if len(set(channels_raw)) != len(channels_raw):
            raise top.fail("channels", "channel names without duplicates", channels_raw)
        channels = tuple(channels_raw)

    if "classes" not in top.table:
        raise ParadigmError(
            f'{source}: missing [classes] table; add one line per class, e.g. left = "T1"'
        )
    cl = _Reader(top.table_of("classes"), "classes", source)
    classes: dict[str, str] = {}
    for cname, marker in cl.table.items():
        if not cname.strip():
            raise ParadigmError(
                f"{source}: classes: a class name is empty ({cname!r} = {marker!r}); name it"
            )
        cl.used.add(cname)
        classes[cname] = _marker(cl, cname, marker)
    if len(classes) < 2:
        raise ParadigmError(
            f"{source}: classes: need at least 2 classes, got {len(classes)}; add more"
        )
    if len(set(classes.values())) != len(classes):
        raise ParadigmError(
            f"{source}: classes: two classes share one marker ({classes}); give each its own"
        )

    ep = _Reader(top.table_of("epochs"), "epochs", source)
    tmin = ep.number("tmin", EpochsConfig.tmin)
    tmax = ep.number("tmax", EpochsConfig.tmax)
    for key, value in (("epochs.tmin", tmin), ("epochs.tmax", tmax)):
        limits.EPOCH_TIME.check(value, key, where=source, error=ParadigmError)
    if tmax <= tmin:
        raise ParadigmError(
            f"{source}: epochs.tmax = {tmax:g} must be greater than epochs.tmin = {tmin:g}"
        )
    limits.WINDOW_SECONDS.check(
        tmax - tmin, "epochs.tmax - epochs.tmin", where=source, error=ParadigmError
    )
    trial_marker_raw = ep.get("trial_marker", None)
    trial_marker = (
        None if trial_marker_raw is None else _marker(ep, "trial_marker", trial_marker_raw)
    )
    occurrence = ep.integer("occurrence", 1)
    if occurrence != 1 and trial_marker is None:
        raise ParadigmError(
            f"{source}: epochs.occurrence = {occurrence} needs epochs.trial_marker (the marker "
            "that starts a trial) to count class markers within a trial"
        )
    crops_raw = ep.get("train_crops", False)
    ep.finish()

    fl = _Reader(top.table_of("filter"), "filter", source)
    l_freq = fl.optional_number("l_freq", FilterConfig.l_freq)
    h_freq = fl.optional_number("h_freq", FilterConfig.h_freq)
    order = fl.integer("order", FilterConfig.order)
    if order > 10:
        raise fl.fail("order", "an integer from 1 to 10 (higher orders are unstable)", order)
    notch = fl.optional_number("notch", None)
    fl.finish()
    if l_freq is not None and h_freq is not None and h_freq <= l_freq:
        raise ParadigmError(
            f"{source}: filter.h_freq = {h_freq:g} must be greater than filter.l_freq = {l_freq:g}"
        )
    filt = FilterConfig(l_freq, h_freq, order, notch)

    fe = _Reader(top.table_of("features"), "features", source)
    method = fe.string("method", FeaturesConfig.method)
    bands_raw = fe.get("bands", [list(b) for b in FeaturesConfig.bands])
    bands = _bands(fe, bands_raw)
    log = fe.string("log", FeaturesConfig.log, choices=LOG_KINDS)
    welch_raw = fe.get("welch_segment", None)
    welch_segment = None
    if welch_raw is not None:
        welch_segment = fe.number("welch_segment", 1.0, positive=True)
        limits.WINDOW_SECONDS.check(
            welch_segment, "features.welch_segment", where=source, error=ParadigmError
        )
    csp_components = fe.integer("csp_components", FeaturesConfig.csp_components)
    limits.CHANNELS.check(
        csp_components, "features.csp_components", where=source, error=ParadigmError
    )
    csp_reg = fe.number("csp_reg", FeaturesConfig.csp_reg)
    if not 0.0 <= csp_reg <= 1.0:
        raise fe.fail("csp_reg", "a shrinkage between 0 and 1", csp_reg)
    params = dict(fe.table_of("params"))
    limits.check_nesting(params, "features.params", where=source, error=ParadigmError)
    fe.finish()
    features = FeaturesConfig(method, bands, log, welch_segment, csp_components, csp_reg, params)
    _check_method(source, method)

    mo = _Reader(top.table_of("model"), "model", source)
    kind = mo.string("kind", ModelConfig.kind, choices=MODEL_KINDS)
    model_params = {k: v for k, v in mo.table.items() if k != "kind"}
    for k, v in model_params.items():
        if isinstance(v, dict):
            raise mo.fail(k, "a number, string, boolean or array (a model parameter)", v)
    if "hidden_sizes" in model_params:
        _hidden_sizes(source, model_params["hidden_sizes"])
    model = ModelConfig(kind, model_params)

    on = _Reader(top.table_of("online"), "online", source)
    window = on.number("window", OnlineConfig.window, positive=True)
    step = on.number("step", OnlineConfig.step, positive=True)
    smoothing = on.number("smoothing", OnlineConfig.smoothing)
    if not 0 <= smoothing <= 60:
        raise on.fail("smoothing", "a time constant from 0 (off) to 60 seconds", smoothing)
    on.finish()
    limits.WINDOW_SECONDS.check(window, "online.window", where=source, error=ParadigmError)
    if step > window:
        raise ParadigmError(
            f"{source}: online.step = {step:g} s is longer than online.window = {window:g} s; "
            f"it must be in 0 .. {window:g} s (samples between windows would be skipped)"
        )
    if window > tmax - tmin + 1e-9:
        raise ParadigmError(
            f"{source}: online.window = {window:g} s is longer than the epoch "
            f"(epochs.tmax - epochs.tmin = {tmax - tmin:g} s) the model is trained on; it must "
            f"be in 0 .. {tmax - tmin:g} s: shorten the window or lengthen the epoch"
        )
    online = OnlineConfig(window, step, smoothing)
    if welch_segment is not None and welch_segment > min(window, tmax - tmin):
        raise ParadigmError(
            f"{source}: features.welch_segment = {welch_segment:g} s is longer than the "
            f"online.window ({window:g} s) or the epoch ({tmax - tmin:g} s); shorten it"
        )

    se = _Reader(top.table_of("session"), "session", source)
    skind = se.string("kind", SessionConfig.kind, choices=SESSION_KINDS)
    fixation = se.number("fixation", SessionConfig.fixation)
    cue = se.number("cue", SessionConfig.cue)
    imagery = se.number("imagery", SessionConfig.imagery, positive=True)
    rest_min = se.number("rest_min", SessionConfig.rest_min)
    rest_max = se.number("rest_max", SessionConfig.rest_max)
    for key, value in (("fixation", fixation), ("cue", cue), ("rest_min", rest_min)):
        if value < 0:
            raise se.fail(key, "a duration >= 0 seconds", value)
    if rest_max < rest_min:
        raise ParadigmError(
            f"{source}: session.rest_max = {rest_max:g} must be >= session.rest_min = {rest_min:g}"
        )
    trials = se.integer("trials_per_class", SessionConfig.trials_per_class)
    freqs_reader = _Reader(se.table_of("frequencies"), "session.frequencies", source)
    frequencies: dict[str, float] = {}
    for cname in list(freqs_reader.table):
        if cname not in classes:
            raise ParadigmError(
                f"{source}: session.frequencies.{cname}: not a class; classes are "
                f"{', '.join(classes)}"
            )
        frequencies[cname] = freqs_reader.number(cname, 0.0, positive=True)
    se.finish()
    session = SessionConfig(skind, fixation, cue, imagery, rest_min, rest_max, trials, frequencies)
    crops = _train_crops(source, crops_raw, tmin, tmax, imagery)
    epochs = EpochsConfig(tmin, tmax, trial_marker, occurrence, crops)

    ad = _Reader(top.table_of("adaptation"), "adaptation", source)
    a_method = ad.string("method", AdaptationConfig.method, choices=ADAPTATION_METHODS)
    memory = ad.number("memory", AdaptationConfig.memory, positive=True)
    if not MEMORY_RANGE[0] <= memory <= MEMORY_RANGE[1]:
        raise ad.fail("memory", f"seconds from {MEMORY_RANGE[0]:g} to {MEMORY_RANGE[1]:g}", memory)
    supervised = ad.get("supervised", AdaptationConfig.supervised)
    if not isinstance(supervised, bool):
        raise ad.fail("supervised", "true or false", supervised)
    ad.finish()
    adaptation = AdaptationConfig(a_method, memory, supervised)

    top.used.update(
        {"classes", "epochs", "filter", "features", "model", "online", "session", "adaptation"}
    )
    top.finish()
    return Paradigm(
        classes=classes,
        name=name,
        description=description,
        channels=channels,
        epochs=epochs,
        filter=filt,
        features=features,
        model=model,
        online=online,
        session=session,
        adaptation=adaptation,
        source=source,
    )


def _train_crops(
    source: str, raw: object, tmin: float, tmax: float, imagery: float
) -> CropsConfig | None:
    """Parse ``[epochs] train_crops``: false (off), true (defaults) or {start, stop, step}."""
    if raw is False:
        return None
    if raw is True:
        raw = {}
    key = "epochs.train_crops"
    if not isinstance(raw, dict):
        raise ParadigmError(
            f"{source}: {key}: expected true, false or a table {{ start = s, stop = s, step = s "
            f"}}, got {raw!r} ({_tname(raw)})"
        )
    cr = _Reader(raw, key, source)
    start = cr.number("start", min(0.0, tmin))
    stop = cr.number("stop", max(imagery, tmax))
    step = cr.number("step", CROP_STEP_DEFAULT, positive=True)
    cr.finish()
    for name, value in (("start", start), ("stop", stop)):
        limits.EPOCH_TIME.check(value, f"{key}.{name}", where=source, error=ParadigmError)
    limits.WINDOW_SECONDS.check(step, f"{key}.step", where=source, error=ParadigmError)
    length = tmax - tmin
    n = crop_count(start, stop, step, length)
    if n < 1:
        raise ParadigmError(
            f"{source}: {key}: stop = {stop:g} s leaves no room for one crop of the epoch's "
            f"{length:g} s after start = {start:g} s; make stop at least {start + length:g} s"
        )
    # Bounded before anything is allocated: the crops multiply the training set.
    high = int(limits.TRAIN_CROPS.high)
    if n > high:
        raise ParadigmError(
            f"{source}: {key}: start = {start:g}, stop = {stop:g}, step = {step:g} s make {n} "
            f"crops per trial; the {limits.TRAIN_CROPS.what} must be at most {high}: "
            "lengthen step or narrow start .. stop"
        )
    return CropsConfig(start, stop, step, length)


def _bands(reader: _Reader, raw: object) -> tuple[tuple[float, float], ...]:
    expected = "an array of [low, high] pairs of Hz, e.g. [[8, 13], [13, 30]]"
    if not isinstance(raw, list | tuple) or not raw:
        raise reader.fail("bands", expected, raw)
    limits.N_BANDS.check(
        len(raw), "features.bands (count)", where=reader.source, error=ParadigmError
    )
    bands = []
    for i, pair in enumerate(raw):
        ok = (
            isinstance(pair, list | tuple)
            and len(pair) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
        )
        if not ok:
            raise reader.fail(f"bands[{i}]", "a [low, high] pair of numbers", pair)
        lo, hi = float(pair[0]), float(pair[1])
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo < hi):
            raise reader.fail(f"bands[{i}]", "0 <= low < high (Hz)", pair)
        bands.append((lo, hi))
    return tuple(bands)


def _hidden_sizes(source: str, raw: object) -> None:
    """Bound ``model.hidden_sizes`` before a network of that size is allocated."""
    if isinstance(raw, bool) or not isinstance(raw, list | tuple | int):
        raise ParadigmError(
            f"{source}: model.hidden_sizes: expected an array of layer sizes, got {raw!r}"
        )
    sizes = [raw] if isinstance(raw, int) else list(raw)
    limits.HIDDEN_LAYERS.check(
        len(sizes), "model.hidden_sizes (layers)", where=source, error=ParadigmError
    )
    for i, size in enumerate(sizes):
        limits.HIDDEN_UNITS.check(
            size, f"model.hidden_sizes[{i}]", where=source, error=ParadigmError
        )


def _check_method(source: str, method: str) -> None:
    # Imported here: the registry imports the feature steps, which never import paradigm.
    from bci.features.steps import available_methods

    if method not in available_methods():
        raise ParadigmError(
            f"{source}: features.method: unknown method {method!r}; choose one of "
            f"{', '.join(available_methods())}"
        )
