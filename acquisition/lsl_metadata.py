"""The one reader of LSL stream metadata, for live inlets and XDF files alike.

Layout written and read (https://github.com/sccn/xdf/wiki/EEG-Meta-Data)::

    <desc>
      <channels>
        <channel><label>C3</label><type>EEG</type><unit>microvolts</unit></channel>
        ...
      </channels>
      <acquisition><manufacturer>bci</manufacturer></acquisition>
    </desc>

A live inlet's ``StreamInfo`` (:func:`read_channel_metadata`) and an XDF stream header as
pyxdf returns it (:func:`xdf_channel_metadata`) are reduced to the same plain description
(the stream type, the channel count, each channel's label/type/unit text, the
``acquisition`` fields) and go through one parser, :func:`parse_channel_metadata`, so a
stream recorded to XDF gives the same names, types, units and volts as the stream read live.

The rules, in order:

- the ``channel`` list is used only when it has one entry per channel; otherwise it is
  ignored as a whole (a list of another length cannot be matched to the rows);
- a missing label becomes ``ch1``, ``ch2``...;
- a missing type follows the stream type: ``eeg`` for an ``EEG`` or ``ExG`` stream, else
  ``misc``; types are lower-cased; ``exg`` (a biopotential channel of an ExG amplifier) is
  ``eeg``; a type MNE does not know becomes ``misc``;
- a biopotential channel (eeg, eog, ecg, emg, seeg, ecog) without a unit is taken to be in
  microvolts, the LSL convention (``assumed_units`` says so);
- units are matched case-insensitively, ignoring spaces, with the micro sign and the Greek
  mu alike (``microvolts``, ``micro volts``, ``uV``, ``µV``, ``μV``, ``mV``, ``nV``,
  ``V``, ``volts``...): a voltage unit gives the factor to volts and the unit ``"V"``;
- any other unit (``count``...) is kept with a factor of 1, ``"NA"`` when there is none;
  an ``eeg`` channel whose values cannot be put in volts becomes ``misc``, so that no row
  passes for EEG in unknown units.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pylsl

from acquisition import limits

#: Factor to volts of each spelling of a voltage unit (lower-cased, without spaces, NFKC).
VOLT_SCALES = {
    "v": 1.0,
    "volt": 1.0,
    "volts": 1.0,
    "mv": 1e-3,
    "millivolt": 1e-3,
    "millivolts": 1e-3,
    "uv": 1e-6,
    "\u03bcv": 1e-6,  # Greek mu; NFKC maps the micro sign (U+00B5) to it
    "microvolt": 1e-6,
    "microvolts": 1e-6,
    "nv": 1e-9,
    "nanovolt": 1e-9,
    "nanovolts": 1e-9,
}

#: MNE channel types a ``desc/channels/channel/type`` may name (lower-cased).
KNOWN_CH_TYPES = frozenset(
    {"eeg", "eog", "ecg", "emg", "misc", "stim", "resp", "bio", "seeg", "ecog"}
)

#: Channel types whose values are potentials, in microvolts when no unit is given.
BIOPOTENTIAL_TYPES = frozenset({"eeg", "eog", "ecg", "emg", "seeg", "ecog"})

#: Stream types whose channels are EEG unless they say otherwise (lower-cased).
EEG_STREAM_TYPES = frozenset({"eeg", "exg"})

#: Unit recorded for a non-voltage channel that declares none.
NO_UNIT = "NA"


@dataclass(frozen=True)
class ChannelMetadata:
    """Channels of a stream as described in its ``desc``.

    Parameters
    ----------
    ch_names, ch_types : tuple of str
        Labels and MNE-style (lower-case) types, one per channel.
    units : tuple of str
        Units of the values *after* multiplying by ``scales``: ``"V"`` for voltage
        channels, the declared unit (or ``"NA"``) otherwise.
    scales : ndarray, shape (n_channels,)
        Factor from the stream's values to ``units``.
    manufacturer : str
        ``desc/acquisition/manufacturer``, or ``""``.
    replay_speed : float
        ``desc/acquisition/replay_speed`` written by :class:`acquisition.player.Player`:
        how many times faster than real time the timestamps advance (1.0 when absent).
    assumed_units : bool
        True when at least one biopotential channel declared no unit and was taken to be
        in microvolts.
    """

    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]
    units: tuple[str, ...]
    scales: np.ndarray
    manufacturer: str = ""
    replay_speed: float = 1.0
    assumed_units: bool = False


def normalize_unit(unit: str) -> str:
    """The spelling of ``unit`` used for matching: NFKC, lower case, no spaces."""
    return "".join(unicodedata.normalize("NFKC", unit).lower().split())


def volt_scale(unit: str) -> float | None:
    """Return the factor from ``unit`` to volts, or None when ``unit`` is not a voltage."""
    return VOLT_SCALES.get(normalize_unit(unit))


def parse_channel_metadata(
    stream_type: str,
    n_channels: int,
    channels: Sequence[Mapping[str, str]],
    acquisition: Mapping[str, str] | None = None,
) -> ChannelMetadata:
    """Apply the metadata rules (see the module notes) to a stream's plain description.

    Parameters
    ----------
    stream_type : str
        The stream's content type (``EEG``, ``ExG``, ``Accelerometer``...).
    n_channels : int
        Its channel count.
    channels : sequence of mapping
        One mapping per ``desc/channels/channel`` element with its ``label``, ``type`` and
        ``unit`` texts (missing keys are empty).
    acquisition : mapping, optional
        The text children of ``desc/acquisition`` (``manufacturer``, ``replay_speed``).

    Returns
    -------
    ChannelMetadata
    """
    n = int(n_channels)
    stream_is_eeg = stream_type.strip().lower() in EEG_STREAM_TYPES
    if len(channels) != n:
        channels = [{} for _ in range(n)]
    names, types, units = [], [], []
    scales = np.ones(n)
    assumed = False
    for i, ch in enumerate(channels):
        names.append(_field(ch, "label") or f"ch{i + 1}")
        kind = _field(ch, "type").lower()
        if not kind:
            kind = "eeg" if stream_is_eeg else "misc"
        elif kind == "exg":
            kind = "eeg"
        elif kind not in KNOWN_CH_TYPES:
            kind = "misc"
        unit = _field(ch, "unit")
        if not unit and kind in BIOPOTENTIAL_TYPES:
            unit, assumed = "microvolts", True
        scale = volt_scale(unit)
        if scale is not None:
            scales[i] = scale
            units.append("V")
        else:
            units.append(unit or NO_UNIT)
            if kind == "eeg":
                kind = "misc"  # a row we cannot put in volts must not pass as EEG
        types.append(kind)
    acquisition = acquisition or {}
    return ChannelMetadata(
        ch_names=tuple(names),
        ch_types=tuple(types),
        units=tuple(units),
        scales=scales,
        manufacturer=_field(acquisition, "manufacturer"),
        replay_speed=_speed(_field(acquisition, "replay_speed")),
        assumed_units=assumed,
    )


def _field(d: Mapping[str, str], key: str) -> str:
    value = d.get(key)
    return "" if value is None else str(value).strip()


def _speed(text: str) -> float:
    try:
        speed = float(text) if text else 1.0
    except ValueError:
        return 1.0
    return speed if np.isfinite(speed) and speed > 0 else 1.0


def write_channel_metadata(
    info: pylsl.StreamInfo,
    ch_names: list[str] | tuple[str, ...],
    ch_types: list[str] | tuple[str, ...],
    units: list[str] | tuple[str, ...],
    *,
    manufacturer: str = "bci",
    extra_acquisition: dict[str, str] | None = None,
) -> None:
    """Describe every channel of ``info`` in its ``desc/channels`` element.

    Parameters
    ----------
    info : pylsl.StreamInfo
        The stream to describe (before its outlet is created).
    ch_names, ch_types, units : sequence of str
        One label, MNE channel type (written upper-case, e.g. ``EEG``) and unit per channel.
    manufacturer : str
        Written to ``desc/acquisition/manufacturer``.
    extra_acquisition : dict, optional
        More ``desc/acquisition`` children (e.g. ``{"replay_speed": "10"}``).
    """
    n = info.channel_count()
    if not (len(ch_names) == len(ch_types) == len(units) == n):
        raise ValueError(
            f"stream {info.name()!r} has {n} channels but got {len(ch_names)} names, "
            f"{len(ch_types)} types and {len(units)} units; give one of each per channel"
        )
    channels = info.desc().append_child("channels")
    for name, kind, unit in zip(ch_names, ch_types, units, strict=True):
        ch = channels.append_child("channel")
        ch.append_child_value("label", str(name))
        ch.append_child_value("type", str(kind).upper())
        ch.append_child_value("unit", str(unit))
    acq = info.desc().append_child("acquisition")
    acq.append_child_value("manufacturer", manufacturer)
    for key, value in (extra_acquisition or {}).items():
        acq.append_child_value(key, str(value))


def read_channel_metadata(info: pylsl.StreamInfo) -> ChannelMetadata:
    """Read labels, types and units from a live stream's ``desc`` (see the module notes).

    Parameters
    ----------
    info : pylsl.StreamInfo
        As returned by ``StreamInlet.info()`` (resolved infos have an empty ``desc``).

    Returns
    -------
    ChannelMetadata
    """
    where = f"stream {info.name()!r}"
    n = limits.CHANNELS.check(info.channel_count(), "channel_count", where=where)
    channels = []
    ch = info.desc().child("channels").child("channel")
    # One more than declared is enough to see that the list does not fit.
    while not ch.empty() and len(channels) <= n:
        channels.append({key: ch.child_value(key) for key in ("label", "type", "unit")})
        ch = ch.next_sibling("channel")
    acquisition = {}
    acq = info.desc().child("acquisition")
    if not acq.empty():
        acquisition = {key: acq.child_value(key) for key in ("manufacturer", "replay_speed")}
    meta = parse_channel_metadata(info.type() or "", n, channels, acquisition)
    # Buffers are sized by rate x speed: a sender's speed must not size our memory.
    limits.REPLAY_SPEED.check(meta.replay_speed, "desc/acquisition/replay_speed", where=where)
    return meta


def xdf_channel_metadata(info: Mapping) -> ChannelMetadata:
    """Read labels, types and units from an XDF stream header as ``pyxdf`` returns it.

    Parameters
    ----------
    info : mapping
        ``stream["info"]`` of ``pyxdf.load_xdf``: every XML element is a list of its
        occurrences, leaves hold their text (``{"type": ["EEG"], "desc": [{...}]}``).

    Returns
    -------
    ChannelMetadata
    """
    n = int(_xdf_text(info, "channel_count") or 0)
    desc = _xdf_child(info, "desc")
    channels = []
    block = _xdf_child(desc, "channels")
    for ch in (block.get("channel") or []) if block else []:
        ch = ch if isinstance(ch, Mapping) else {}
        channels.append({key: _xdf_text(ch, key) for key in ("label", "type", "unit")})
    acq = _xdf_child(desc, "acquisition")
    acquisition = {key: _xdf_text(acq, key) for key in ("manufacturer", "replay_speed")}
    return parse_channel_metadata(_xdf_text(info, "type"), n, channels, acquisition)


def _xdf_child(d: Mapping | None, key: str) -> Mapping:
    value = (d or {}).get(key)
    while isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, Mapping) else {}


def _xdf_text(d: Mapping, key: str) -> str:
    value = d.get(key)
    while isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None or isinstance(value, Mapping) else str(value)
