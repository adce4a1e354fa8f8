"""L-BFGS (models/lbfgs.py): convergence, the Wolfe conditions, and a wrong gradient."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der

from models.lbfgs import LineSearchError, minimize_lbfgs, wolfe_line_search


def test_minimises_the_rosenbrock_function() -> None:
    result = minimize_lbfgs(
        lambda x: (rosen(x), rosen_der(x)), np.full(8, -1.2), max_iter=2000, gtol=1e-9, ftol=0
    )
    assert result.converged and result.message == "gradient below gtol"
    np.testing.assert_allclose(result.x, 1.0, atol=1e-7)
    assert result.initial_fun == pytest.approx(rosen(np.full(8, -1.2)))


def test_solves_an_ill_conditioned_quadratic() -> None:
    # Condition number 1e4: the minimiser of x'Ax/2 - b'x is A^-1 b.
    A = np.diag(np.logspace(0, 4, 30))
    b = np.ones(30)
    result = minimize_lbfgs(
        lambda x: (0.5 * x @ A @ x - b @ x, A @ x - b),
        np.zeros(30),
        max_iter=5000,
        gtol=1e-10,
        ftol=0,
    )
    # f is flat to rounding within 1e-7 of the minimiser along the smallest eigenvalue.
    np.testing.assert_allclose(result.x, np.linalg.solve(A, b), rtol=1e-6)


def test_line_search_satisfies_the_strong_wolfe_conditions() -> None:
    def fun(x):
        return rosen(x), rosen_der(x)

    x = np.array([-1.2, 1.0, 0.5])
    f0, g0 = fun(x)
    d = -g0
    alpha, f, g, _ = wolfe_line_search(fun, x, f0, g0, d, 1.0 / np.linalg.norm(g0))
    c1, c2 = 1e-4, 0.9
    assert f <= f0 + c1 * alpha * (g0 @ d)
    assert abs(g @ d) <= c2 * abs(g0 @ d)


def test_a_wrong_gradient_fails_loudly() -> None:
    A = np.diag(np.linspace(1.0, 5.0, 10))

    def wrong(x):
        return 0.5 * x @ A @ x, -(A @ x) + 1.0  # the sign of the gradient is flipped

    with pytest.raises(LineSearchError, match="gradient does not match"):
        minimize_lbfgs(wrong, np.ones(10))
