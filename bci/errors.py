"""Errors the application raises for a user's input (paradigm, model file, recordings)."""


class BCIError(Exception):
    """Base class of the application's user-facing errors; the CLI prints them as one line."""


class ParadigmError(BCIError):
    """A paradigm file has an unknown key, a wrong type or an impossible value."""


class ModelFileError(BCIError):
    """A ``.bci`` model file is corrupt, tampered with, of another schema, or for another montage."""
