"""Channel metadata in an LSL ``StreamInfo`` description, per the LSL/XDF conventions.

Layout written and read (https://github.com/sccn/xdf/wiki/EEG-Meta-Data)::

    <desc>
      <channels>
        <channel><label>C3</label><type>EEG</type><unit>microvolts</unit></channel>
        ...
      </channels>
      <acquisition><manufacturer>bci</manufacturer></acquisition>
    </desc>

Units are read case-insensitively; volt-like units (V, mV, uV/µV/microvolts, nV) give the
factor that converts the stream's values to volts. Other units (``count``...) are left as
they are with a factor of 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pylsl

#: Factor to volts of each spelling of a voltage unit (lower-cased).
VOLT_SCALES = {
    "v": 1.0,
    "volt": 1.0,
    "volts": 1.0,
    "mv": 1e-3,
    "millivolt": 1e-3,
    "millivolts": 1e-3,
    "uv": 1e-6,
    "µv": 1e-6,
    "μv": 1e-6,
    "microvolt": 1e-6,
    "microvolts": 1e-6,
    "nv": 1e-9,
    "nanovolt": 1e-9,
    "nanovolts": 1e-9,
}


@dataclass(frozen=True)
class ChannelMetadata:
    """Channels of a stream as described in its ``desc``.

    Parameters
    ----------
    ch_names, ch_types : tuple of str
        Labels and MNE-style (lower-case) types, one per channel.
    units : tuple of str
        Units of the values *after* multiplying by ``scales``: ``"V"`` for voltage
        channels, the declared unit otherwise.
    scales : ndarray, shape (n_channels,)
        Factor from the stream's values to ``units``.
    manufacturer : str
        ``desc/acquisition/manufacturer``, or ``""``.
    replay_speed : float
        ``desc/acquisition/replay_speed`` written by :class:`acquisition.player.Player`:
        how many times faster than real time the timestamps advance (1.0 when absent).
    """

    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]
    units: tuple[str, ...]
    scales: np.ndarray
    manufacturer: str = ""
    replay_speed: float = 1.0


def volt_scale(unit: str) -> float | None:
    """Return the factor from ``unit`` to volts, or None when ``unit`` is not a voltage."""
    return VOLT_SCALES.get(unit.strip().lower())


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
    """Read labels, types and units from ``info``'s ``desc`` (a full info from an inlet).

    Missing labels become ``ch1``, ``ch2``...; missing types follow the stream type
    (``eeg`` for an EEG stream, else ``misc``). A channel of an EEG stream without a unit is
    taken to be in microvolts, the LSL convention for EEG.

    Parameters
    ----------
    info : pylsl.StreamInfo
        As returned by ``StreamInlet.info()`` (resolved infos have an empty ``desc``).

    Returns
    -------
    ChannelMetadata
    """
    n = info.channel_count()
    stream_type = (info.type() or "").strip().lower()
    default_type = "eeg" if stream_type == "eeg" else "misc"
    labels, types, units = [""] * n, [""] * n, [""] * n
    ch = info.desc().child("channels").child("channel")
    i = 0
    while not ch.empty() and i < n:
        labels[i] = ch.child_value("label").strip()
        types[i] = ch.child_value("type").strip().lower()
        units[i] = ch.child_value("unit").strip()
        ch = ch.next_sibling("channel")
        i += 1
    names, kinds, out_units, scales = [], [], [], np.ones(n)
    for k in range(n):
        names.append(labels[k] or f"ch{k + 1}")
        kind = types[k] or default_type
        kinds.append(kind)
        unit = units[k] or ("microvolts" if kind == "eeg" else "")
        scale = volt_scale(unit) if unit else None
        if scale is not None:
            scales[k] = scale
            out_units.append("V")
        else:
            out_units.append(unit or "n/a")
    acq = info.desc().child("acquisition")
    manufacturer = acq.child_value("manufacturer").strip() if not acq.empty() else ""
    speed_text = acq.child_value("replay_speed").strip() if not acq.empty() else ""
    try:
        speed = float(speed_text) if speed_text else 1.0
    except ValueError:
        speed = 1.0
    if not (np.isfinite(speed) and speed > 0):
        speed = 1.0
    return ChannelMetadata(
        tuple(names), tuple(kinds), tuple(out_units), scales, manufacturer, speed
    )
