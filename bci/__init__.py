"""The application: paradigms, filters, band-power features, the pipeline, evaluation, CLI."""

import os

# Our linear algebra is on small matrices (channels x channels covariances, epochs x
# features): a multithreaded BLAS only adds synchronisation there, and on a machine whose
# cores are busy (a GUI, an LSL sender, a recorder) it made one 64-channel tangent-space
# prediction 45 ms instead of 1.2 ms, so live classification fell behind. One thread unless
# the user says otherwise; this takes effect when ``bci`` is imported before numpy (the
# ``bci`` command, the tests).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
