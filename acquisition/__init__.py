"""Acquisition: every way EEG gets into the program, behind one ``Source`` interface.

Sources deliver float64 volts shaped ``(n_channels, n_samples)`` with one timestamp per
sample, and string markers. File, LSL and simulator sources are interchangeable.
"""

import os
from importlib import import_module
from pathlib import Path

# Before anything imports pylsl: keep liblsl's INFO log off the user's terminal (a user's
# own LSLAPICFG wins).
os.environ.setdefault("LSLAPICFG", str(Path(__file__).with_name("lsl_api.cfg")))

# The package's public names load on first use (PEP 562): `acquisition.limits` and
# `acquisition.errors` are standard library only, and `bci --help` reads the paradigm
# module, which imports the limits; it must not pay for numpy and liblsl.
_PUBLIC = {
    "AcquisitionError": "acquisition.errors",
    "ArraySource": "acquisition.array_source",
    "Recording": "acquisition.recording",
    "Source": "acquisition.source",
    "SourceInfo": "acquisition.source",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> object:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'acquisition' has no attribute {name!r}")
