"""One BLAS thread where work starts, unless the user chose a thread count.

Our linear algebra is on small matrices (channels x channels covariances, epochs x
features): a multithreaded BLAS only adds synchronisation there, and on a machine whose
cores are busy (a GUI, an LSL sender, a recorder) it made one 64-channel tangent-space
prediction 45 ms instead of 1.2 ms, so live classification fell behind.

Setting ``OPENBLAS_NUM_THREADS`` when ``bci`` is imported is too late when numpy was imported
first (a notebook): OpenBLAS reads it once, when the library loads. So the limit is applied
where work starts (the ``bci`` command, a live session) and in two ways: threadpoolctl for
the BLAS libraries already loaded, the environment variables for those loaded later (numpy
and scipy each bundle their own OpenBLAS).
"""

from __future__ import annotations

import os

#: The variables through which a user chooses the thread count of BLAS (and OpenMP).
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: The variables this module set itself (so a later call does not take them for the user's).
_set_here: set[str] = set()


def user_thread_setting() -> dict[str, str]:
    """The thread variables the user set (not this module), by name."""
    return {
        var: os.environ[var]
        for var in THREAD_VARIABLES
        if os.environ.get(var) and var not in _set_here
    }


def limit_blas_threads(threads: int = 1) -> bool:
    """Limit BLAS to ``threads`` threads, loaded libraries and those loaded later.

    A user's own setting wins: when any of :data:`THREAD_VARIABLES` is set in the
    environment (by the user, not by an earlier call), nothing is changed.

    Parameters
    ----------
    threads : int
        Threads per BLAS library (default 1).

    Returns
    -------
    bool
        True when the limit was applied, False when the user's setting was kept.
    """
    if threads < 1:
        raise ValueError(f"threads = {threads!r}: give 1 or more")
    if user_thread_setting():
        return False
    for var in THREAD_VARIABLES:
        if not os.environ.get(var):
            os.environ[var] = str(threads)
            _set_here.add(var)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")
    return True


__all__ = ["THREAD_VARIABLES", "limit_blas_threads", "user_thread_setting"]
