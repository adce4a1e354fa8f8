"""Upper and lower bounds of every size that comes from outside the program.

A sampling rate in a file header, a channel count in LSL metadata, a window length in a
paradigm, a hidden-layer size or an array shape in a model file, a ``--sfreq`` option:
each is checked here *before* anything is allocated from it, so a hostile or mistaken
value gives one line naming the field, the value and the allowed range instead of a
``MemoryError`` (or a 24 GB process) later.

The module lives in ``acquisition/`` because both the acquisition layer (file headers,
stream metadata) and the application (``bci/``: paradigm, model file, command line) need
it, and ``acquisition`` may not import ``bci``. It imports nothing but the standard library
and the acquisition errors.

The ranges are generous for EEG (rates up to 100 kHz, 1024 channels, windows and epochs up
to five minutes) while keeping every buffer the program derives from them to a few hundred
MB: see :data:`MAX_BUFFER_VALUES`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from acquisition.errors import AcquisitionError


class LimitError(AcquisitionError, ValueError):
    """A size from outside is out of its allowed range; the message names field, value, range."""


@dataclass(frozen=True)
class Limit:
    """An allowed closed range ``[low, high]`` of one kind of size.

    Parameters
    ----------
    what : str
        What the size is, for messages (``"sampling rate"``).
    low, high : float
        Inclusive bounds.
    unit : str
        Unit shown after the numbers (``"Hz"``, ``"s"``), or ``""``.
    integer : bool
        Only whole numbers are allowed.
    """

    what: str
    low: float
    high: float
    unit: str = ""
    integer: bool = False

    def describe(self) -> str:
        """The allowed range as text, e.g. ``0.1 .. 100000 Hz``."""
        unit = f" {self.unit}" if self.unit else ""
        if self.integer:
            return f"{int(self.low)} .. {int(self.high)}{unit}"
        return f"{self.low:g} .. {self.high:g}{unit}"

    def check(
        self,
        value: object,
        field: str,
        *,
        where: str = "",
        error: type[Exception] = LimitError,
    ) -> float:
        """Return ``value`` as a float (or int when ``integer``) if it is in range.

        Parameters
        ----------
        value : object
            The value read from outside (any type: a string, None, a bool are refused).
        field : str
            Its name where the user wrote it (``"nominal_srate"``, ``"online.window"``,
            ``"--sfreq"``).
        where : str
            The file or stream it came from, put first in the message.
        error : exception class
            Raised instead of :class:`LimitError` (``ParadigmError``, ``ModelFileError``...).

        Raises
        ------
        LimitError (or ``error``)
            Not a finite number, not whole when it must be, or out of range.
        """
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif hasattr(value, "__float__") and not isinstance(value, str | bytes | bool):
            try:
                number = float(value)  # numpy scalars
            except (TypeError, ValueError, OverflowError):
                number = None
        ok = (
            number is not None
            and math.isfinite(number)
            and self.low <= number <= self.high
            and (not self.integer or number == int(number))
        )
        if not ok:
            prefix = f"{where}: " if where else ""
            kind = "a whole number" if self.integer else "a finite number"
            raise error(
                f"{prefix}{field} = {value!r} is out of range: the {self.what} must be {kind} "
                f"in {self.describe()}"
            )
        number = float(number or 0.0)  # ok implies a number; this is for the type checker
        return int(number) if self.integer else number


#: Nominal sampling rate of any recording, stream, model or option.
SFREQ = Limit("sampling rate", 0.1, 100_000.0, "Hz")
#: Number of data channels of a recording, stream or model.
CHANNELS = Limit("channel count", 1, 1024, integer=True)
#: Epoch bounds (``epochs.tmin``/``tmax``) relative to the marker: a few minutes either way.
EPOCH_TIME = Limit("epoch bound", -300.0, 300.0, "s")
#: Online window, epoch and Welch-segment lengths.
WINDOW_SECONDS = Limit("window length", 1e-3, 300.0, "s")
#: Seconds of one EDF/BDF data record.
EDF_RECORD_SECONDS = Limit("EDF record duration", 1e-3, 3600.0, "s")
#: Units in one hidden layer of a network.
HIDDEN_UNITS = Limit("hidden-layer size", 1, 4096, integer=True)
#: Number of hidden layers of a network.
HIDDEN_LAYERS = Limit("number of hidden layers", 0, 8, integer=True)
#: Frequency bands of the band-power / filter-bank features.
N_BANDS = Limit("number of bands", 1, 64, integer=True)
#: Training crops cut from one trial (``[epochs] train_crops``): the training set grows by
#: this factor, so it is bounded before the crops are allocated.
TRAIN_CROPS = Limit("number of training crops per trial", 1, 64, integer=True)
#: Values of all training crops of a training set together (1 GB as float64): crops copy
#: overlapping stretches of the recording, so a long, dense recording with many crops a
#: trial could otherwise cost many gigabytes.
MAX_CROP_VALUES = 128 * 1024**2
#: How many times faster than real time a replayed stream's timestamps advance.
REPLAY_SPEED = Limit("replay speed", 1e-3, 1000.0, "x")
#: Nesting depth of a TOML paradigm or of a model file's JSON header.
NESTING_DEPTH = Limit("nesting depth", 0, 32, integer=True)
#: Dimensions of one array in a model file.
ARRAY_NDIM = Limit("number of array dimensions", 0, 4, integer=True)
#: Bytes of all the arrays of a model file together (the largest real model is ~1 MB).
MODEL_ARRAY_BYTES = Limit("total size of the model's arrays", 0, 256 * 1024**2, "bytes", True)
#: Values (samples x channels) of one window, epoch or stream buffer: 256 MB as float64.
MAX_BUFFER_VALUES = 32 * 1024**2


def check_buffer(
    n_samples: float,
    n_channels: float,
    field: str,
    *,
    where: str = "",
    error: type[Exception] = LimitError,
) -> None:
    """Refuse a buffer of ``n_samples x n_channels`` values larger than :data:`MAX_BUFFER_VALUES`.

    ``field`` names what sets its length (``"online.window"``); the message gives the
    number of values and the bound, so the user can shorten the window or pick channels.
    """
    values = float(n_samples) * float(n_channels)
    if not math.isfinite(values) or values > MAX_BUFFER_VALUES:
        prefix = f"{where}: " if where else ""
        raise error(
            f"{prefix}{field} makes a buffer of {n_samples:.0f} samples x {n_channels:.0f} "
            f"channels = {values:.3g} values, above the limit of {MAX_BUFFER_VALUES} "
            f"({MAX_BUFFER_VALUES * 8 // 1024**2} MB as float64); shorten it or use fewer channels"
        )


def nesting_depth(value: object, limit: int | None = None) -> int:
    """Depth of nested lists/tuples/dicts in ``value`` (a scalar is 0), without recursion.

    Stops counting once ``limit`` is exceeded (returns ``limit + 1``) so a hostile structure
    costs no more than the bound.
    """
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[object]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if limit is not None and deepest > limit:
            return deepest
        stack.extend((c, depth) for c in children)
    return deepest


def check_nesting(
    value: object, field: str, *, where: str = "", error: type[Exception] = LimitError
) -> None:
    """Refuse ``value`` nested deeper than :data:`NESTING_DEPTH` allows."""
    limit = int(NESTING_DEPTH.high)
    depth = nesting_depth(value, limit)
    if depth > limit:
        prefix = f"{where}: " if where else ""
        raise error(
            f"{prefix}{field} is nested more than {limit} levels deep; the {NESTING_DEPTH.what} "
            f"must be in {NESTING_DEPTH.describe()}"
        )
