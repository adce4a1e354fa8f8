"""Acquisition: every way EEG gets into the program, behind one ``Source`` interface.

Sources deliver float64 volts shaped ``(n_channels, n_samples)`` with one timestamp per
sample, and string markers. File, LSL and simulator sources are interchangeable.
"""

import os
from pathlib import Path

# Before anything imports pylsl: keep liblsl's INFO log off the user's terminal (a user's
# own LSLAPICFG wins).
os.environ.setdefault("LSLAPICFG", str(Path(__file__).with_name("lsl_api.cfg")))

from acquisition.array_source import ArraySource
from acquisition.errors import AcquisitionError
from acquisition.recording import Recording
from acquisition.source import Source, SourceInfo, StreamEvent

__all__ = [
    "AcquisitionError",
    "ArraySource",
    "Recording",
    "Source",
    "SourceInfo",
    "StreamEvent",
]
