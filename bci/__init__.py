"""The application: paradigms, filters, band-power features, the pipeline, evaluation, CLI.

Importing ``bci`` does no work and loads nothing heavy: the ``bci`` command's start-up
(``bci --help``) depends on it. The BLAS thread limit is set where work starts
(:func:`bci.threads.limit_blas_threads`, called by the command line and the live session).
"""

__version__ = "0.1.0"
