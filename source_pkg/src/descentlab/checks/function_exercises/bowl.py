"""Check ``bowl_gradient(x, y) -> (df/dx, df/dy)`` for the book's f = x²/20 + y².

The expected values come from :func:`descentlab.surfaces.get_surface` ("bowl").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...surfaces import get_surface
from ..messages import fmt
from ..report import Report
from ._runner import FunctionProperty, StudentError, assert_function, call, check_function

__all__ = ["BOWL_GRADIENT_PROPERTIES", "assert_bowl_gradient", "check_bowl_gradient"]

NAME = "bowl_gradient"


def _points(seed: int) -> np.ndarray:
    """Five points (x, y); each coordinate takes both signs, and is never 0.

    Both signs: with x > 0 at every point (as it happened for both public seeds),
    ``abs(x) / 10`` passed every check.
    """
    rng = np.random.default_rng([seed, 20])
    size = rng.uniform(0.1, 5.0, size=(5, 2))
    signs = np.stack([rng.permutation([1, 1, 1, -1, -1]) for _ in range(2)], axis=1)
    return (signs * size).round(2)


def _pair(fn: Callable[..., Any], x: Any, y: Any, limit: float | None
          ) -> tuple[np.ndarray, np.ndarray]:
    result = call(fn, NAME, x, y, time_limit=limit)
    if result is None:
        raise StudentError(f"{NAME}() returned None: return both partial derivatives, "
                           "return dfdx, dfdy.")
    try:
        dx, dy = result
        return np.asarray(dx, dtype=np.float64), np.asarray(dy, dtype=np.float64)
    except (TypeError, ValueError):
        shown = f"an array of shape {result.shape}" if isinstance(result, np.ndarray) \
            else f"{type(result).__name__} {result!r:.60}"
        raise StudentError(f"{NAME}() must return two values, (df/dx, df/dy); it returned "
                           f"{shown}.") from None


def _scalar_results(fn: Callable[..., Any], seed: int, limit: float | None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(points, the student's values, the expected values), each (5, 2)."""
    points = _points(seed)
    grad = get_surface("bowl").grad
    got = np.array([[float(v) for v in _pair(fn, float(x), float(y), limit)]
                    for x, y in points])
    want = np.array([[float(v) for v in grad(x, y)] for x, y in points])
    return points, got, want


def _component(fn: Callable[..., Any], seed: int, limit: float | None, which: int) -> str:
    points, got, want = _scalar_results(fn, seed, limit)
    if np.allclose(got[:, which], want[:, which], rtol=1e-9, atol=1e-12):
        return ""
    if np.allclose(got[:, ::-1], want, rtol=1e-9, atol=1e-12):
        return "you return (df/dy, df/dx): the order must be (df/dx, df/dy)."
    name, term, rule = ("df/dx", "x²/20", "d/dx x² = 2x") if which == 0 else \
        ("df/dy", "y²", "d/dy y² = 2y")
    i = int(np.argmax(np.abs(got[:, which] - want[:, which])))
    x, y = points[i]
    return (f"at (x, y) = ({x:g}, {y:g}) you return {name} = {fmt(got[i, which])}: "
            f"differentiate {term} with the power rule ({rule}).")


def _df_dx(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    return _component(fn, seed, limit, 0)


def _df_dy(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    return _component(fn, seed, limit, 1)


#: What NumPy says when float(), math.* or ``if`` meets an array instead of a number.
_SCALAR_ONLY = ("converted to Python scalars", "truth value of an array", "only length-1",
                "only 0-dimensional")


def _arrays(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    rng = np.random.default_rng([seed, 21])
    grid_x, grid_y = np.meshgrid(rng.uniform(-5, 5, 4).round(2), rng.uniform(-2, 2, 3).round(2))
    try:
        dx, dy = _pair(fn, grid_x.copy(), grid_y.copy(), limit)
    except StudentError as exc:
        # The NumPy hint only where a scalar-only operation met an array; a wrong return
        # value or another error is already named by the message itself.
        scalar_only = any(s in str(exc) for s in _SCALAR_ONLY)
        hint = (" Use NumPy operations only (no float(), math.* or if on x and y), so it "
                "works element-wise.") if scalar_only else ""
        return f"with arrays (a grid from np.meshgrid): {exc}{hint}"
    if dx.shape != grid_x.shape or dy.shape != grid_y.shape:
        return (f"with arrays of shape {grid_x.shape} you return shapes {dx.shape} and "
                f"{dy.shape}: both results must have the shape of x and y.")
    # Element-wise means: the same as for each point on its own (right or wrong).
    single = np.array([[float(v) for v in _pair(fn, float(x), float(y), limit)]
                       for x, y in zip(grid_x.ravel(), grid_y.ravel(), strict=True)])
    if np.allclose(dx.ravel(), single[:, 0], rtol=1e-9) and \
            np.allclose(dy.ravel(), single[:, 1], rtol=1e-9):
        return ""
    return ("with arrays (a grid from np.meshgrid) your results differ from those for the "
            "same points one at a time: compute element-wise with NumPy operations.")


#: The graded properties of ``bowl_gradient``, in the order to fix them.
BOWL_GRADIENT_PROPERTIES = (
    FunctionProperty("df_dx", "df/dx is right", "df/dx", _df_dx),
    FunctionProperty("df_dy", "df/dy is right", "df/dy", _df_dy),
    FunctionProperty("arrays", "works element-wise on arrays", "arrays", _arrays),
)


def check_bowl_gradient(fn: Any, **kwargs: Any) -> Report:
    """Self-check of ``bowl_gradient``: print a verdict, return the Report."""
    return check_function(NAME, BOWL_GRADIENT_PROPERTIES, fn, **kwargs)


def assert_bowl_gradient(fn: Any, seed: int, prop: str | None = None, **kwargs: Any) -> None:
    """Hidden test: raise ``AssertionError`` with the student-facing message on failure."""
    __tracebackhide__ = True  # not shown in tracebacks (IPython, pytest)
    assert_function(NAME, BOWL_GRADIENT_PROPERTIES, fn, seed, prop, **kwargs)
