"""Limited-memory BFGS with a strong-Wolfe line search, for smooth objectives in numpy.

The algorithm is Nocedal & Wright, *Numerical Optimization* (2nd ed., Springer 2006):
the two-loop recursion (algorithm 7.4) applies the inverse-Hessian estimate built from the
last ``memory`` pairs ``(s, y)``, scaled by ``gamma = s.y / y.y`` (eq. 7.20); the step
length satisfies the strong Wolfe conditions (eq. 3.7), found by bracketing and zooming
(algorithms 3.5 and 3.6) with safeguarded cubic interpolation (eq. 3.59).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: ``fun(x) -> (f, g)``: the objective and its gradient at ``x`` (``g`` may be a buffer
#: that the next call overwrites: the optimiser copies what it keeps).
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


class LineSearchError(ArithmeticError):
    """No step along a descent direction decreased the objective: the gradient is wrong.

    Raised only when the failure cannot be rounding: the first-order model promised a
    decrease far above the objective's floating-point resolution.
    """


@dataclass
class LBFGSResult:
    """Where :func:`minimize_lbfgs` stopped."""

    x: np.ndarray
    fun: float
    grad: np.ndarray
    n_iter: int
    n_evals: int
    converged: bool
    message: str
    initial_fun: float = float("nan")


def _cubic_min(a: float, fa: float, da: float, b: float, fb: float, db: float) -> float:
    """Minimiser of the cubic through (a, fa, da) and (b, fb, db) (N&W eq. 3.59).

    Falls back to bisection when the cubic has no real minimiser.
    """
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if disc < 0.0:
        return 0.5 * (a + b)
    d2 = np.copysign(np.sqrt(disc), b - a)
    denom = db - da + 2.0 * d2
    if denom == 0.0:
        return 0.5 * (a + b)
    t = b - (b - a) * (db + d2 - d1) / denom
    return float(t) if np.isfinite(t) else 0.5 * (a + b)


def wolfe_line_search(
    fun: Objective,
    x: np.ndarray,
    f0: float,
    g0: np.ndarray,
    d: np.ndarray,
    alpha0: float,
    *,
    c1: float = 1e-4,
    c2: float = 0.9,
    max_evals: int = 25,
) -> tuple[float, float, np.ndarray, int] | None:
    """Step length along descent direction ``d`` satisfying the strong Wolfe conditions.

    ``f(x + a d) <= f0 + c1 a g0.d`` and ``|g(x + a d).d| <= c2 |g0.d|``.

    Returns
    -------
    (alpha, f, g, n_evals) or None
        ``None`` when ``max_evals`` evaluations found no such step (the caller decides
        whether that is rounding near the optimum or a wrong gradient).
    """
    dphi0 = float(g0 @ d)
    evals = 0

    def phi(a: float) -> tuple[float, np.ndarray, float]:
        nonlocal evals
        evals += 1
        f, g = fun(x + a * d)
        return f, g.copy(), float(g @ d)

    def zoom(lo, hi):
        # lo and hi are (alpha, f, dphi); lo satisfies sufficient decrease, hi brackets.
        nonlocal evals
        while evals < max_evals:
            a_lo, f_lo, d_lo = lo
            a_hi, f_hi, d_hi = hi
            a = _cubic_min(a_lo, f_lo, d_lo, a_hi, f_hi, d_hi)
            # Safeguard: stay well inside the bracket so it shrinks every time.
            left, right = min(a_lo, a_hi), max(a_lo, a_hi)
            margin = 0.1 * (right - left)
            if not left + margin <= a <= right - margin:
                a = 0.5 * (a_lo + a_hi)
            f, g, da = phi(a)
            if f > f0 + c1 * a * dphi0 or f >= f_lo:
                hi = (a, f, da)
                continue
            if abs(da) <= -c2 * dphi0:
                return a, f, g
            if da * (a_hi - a_lo) >= 0:
                hi = lo
            lo = (a, f, da)
        return None

    prev = (0.0, f0, dphi0)
    a = alpha0
    first = True
    while evals < max_evals:
        f, g, da = phi(a)
        if not np.isfinite(f):
            # Overflowed far out: come back towards the last good step.
            a = 0.5 * (prev[0] + a)
            continue
        if f > f0 + c1 * a * dphi0 or (not first and f >= prev[1]):
            found = zoom(prev, (a, f, da))
            break
        if abs(da) <= -c2 * dphi0:
            found = (a, f, g)
            break
        if da >= 0:
            found = zoom((a, f, da), prev)
            break
        prev = (a, f, da)
        a *= 4.0
        first = False
    else:
        found = None
    if found is None:
        return None
    return found[0], found[1], found[2], evals


def minimize_lbfgs(
    fun: Objective,
    x0: np.ndarray,
    *,
    max_iter: int = 100,
    gtol: float = 1e-5,
    ftol: float = 64 * np.finfo(np.float64).eps,
    memory: int = 10,
) -> LBFGSResult:
    """Minimise ``fun`` from ``x0`` by L-BFGS.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (f, g)``, the objective and its gradient.
    x0 : numpy.ndarray of float, 1-D
    max_iter : int
        Maximum number of iterations (each usually one evaluation).
    gtol : float
        Stop when ``max |g| <= gtol``.
    ftol : float
        Stop when an iteration decreases ``f`` by less than ``ftol * max(|f|, |f_new|, 1)``
        (SciPy's L-BFGS-B ``factr`` criterion; 64 eps is what scikit-learn passes).
    memory : int
        Number of ``(s, y)`` pairs kept.

    Returns
    -------
    LBFGSResult

    Raises
    ------
    LineSearchError
        If even a steepest-descent step fails to decrease ``f`` although ``|g|`` promised
        a decrease above rounding: ``fun`` returns a gradient that is not its gradient.
    """
    x = np.array(x0, dtype=np.float64, copy=True)
    f, g = fun(x)
    g = g.copy()
    f0 = f
    n_evals = 1
    pairs: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=memory)
    gamma = 1.0
    for it in range(max_iter):
        if float(np.max(np.abs(g))) <= gtol:
            return LBFGSResult(x, f, g, it, n_evals, True, "gradient below gtol", f0)
        # Two-loop recursion (N&W algorithm 7.4): d = -H g.
        q = g.copy()
        alphas = []
        for s, y, rho in reversed(pairs):
            a = rho * float(s @ q)
            q -= a * y
            alphas.append(a)
        q *= gamma
        for (s, y, rho), a in zip(pairs, reversed(alphas), strict=True):
            q += (a - rho * float(y @ q)) * s
        d = -q
        if not pairs or float(g @ d) >= 0.0:
            # First iteration, or rounding made -Hg uphill: steepest descent, unit-length.
            pairs.clear()
            d = -g
            step0 = min(1.0, 1.0 / float(np.linalg.norm(g)))
        else:
            step0 = 1.0
        found = wolfe_line_search(fun, x, f, g, d, step0)
        if found is None and pairs:
            pairs.clear()
            d = -g
            found = wolfe_line_search(fun, x, f, g, d, min(1.0, 1.0 / float(np.linalg.norm(g))))
        if found is None:
            # Is this rounding? The smallest step tried promised a decrease of about
            # alpha |g|^2; if that is far above f's resolution, f and g disagree.
            gg = float(g @ g)
            tiny = 0.5**24 * min(1.0, 1.0 / np.sqrt(gg))
            promised = tiny * gg
            f_tiny, _ = fun(x - tiny * g)
            n_evals += 1
            resolution = 1e3 * np.finfo(np.float64).eps * max(abs(f), 1.0)
            if promised > resolution and not f_tiny < f:
                raise LineSearchError(
                    f"L-BFGS line search failed at iteration {it}: a step of {tiny:.3g} "
                    f"along -g should lower f={f:.6g} by about {promised:.3g} but gave "
                    f"{f_tiny:.6g}; the gradient does not match the objective"
                )
            return LBFGSResult(x, f, g, it, n_evals, True, "line search at rounding level", f0)
        alpha, f_new, g_new, evals = found
        n_evals += evals
        s = alpha * d
        x += s
        y = g_new - g
        sy = float(s @ y)
        if sy > 1e-10 * float(y @ y):
            # Curvature condition holds (strong Wolfe guarantees it up to rounding).
            pairs.append((s, y, 1.0 / sy))
            gamma = sy / float(y @ y)
        decrease = f - f_new
        f, g = f_new, g_new
        if decrease <= ftol * max(abs(f), abs(f + decrease), 1.0):
            return LBFGSResult(x, f, g, it + 1, n_evals, True, "relative decrease below ftol", f0)
    return LBFGSResult(x, f, g, max_iter, n_evals, False, "max_iter reached", f0)
