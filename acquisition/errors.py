"""Errors raised by the acquisition layer.

Every message names what was wrong (the argument, file or stream and the value found)
and what to do about it, so the command line can print it as one line.
"""


class AcquisitionError(RuntimeError):
    """Base class of every error the acquisition layer raises for a user's input."""


class StreamNotFoundError(AcquisitionError):
    """No LSL stream matched the query within the timeout."""


class StreamLostError(AcquisitionError):
    """A stream that was being read disappeared and did not come back in time."""


class StreamChangedError(AcquisitionError):
    """A stream came back with another channel count or sampling rate."""


class RecordingFileError(AcquisitionError):
    """A recording file is missing, unreadable, truncated or of an unknown format."""


class BadChunkError(AcquisitionError):
    """A chunk of samples is malformed (wrong shape, non-finite values where refused)."""


class BoardError(AcquisitionError):
    """A BrainFlow board could not be named, opened or read (not found, busy, not permitted)."""
