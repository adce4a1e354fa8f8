"""The application: paradigms, filters, band-power features, the pipeline, evaluation, CLI."""

__version__ = "0.1.0"
