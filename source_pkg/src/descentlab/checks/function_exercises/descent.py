"""Check ``gradient_descent(f_grad, x0, lr, steps) -> path``.

The path is an array of shape ``(steps + 1, dim)``: the start, then the point
after each step ``x ← x − lr·f_grad(x)``; ``x0`` itself must not change. The
test gradients are those of seeded quadratic bowls, ``A x + b``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..messages import fmt
from ..report import Report
from ._runner import FunctionProperty, StudentError, assert_function, call, check_function

__all__ = ["GRADIENT_DESCENT_PROPERTIES", "assert_gradient_descent", "check_gradient_descent"]

NAME = "gradient_descent"


def _problem(seed: int, dim: int) -> tuple[Callable[[np.ndarray], np.ndarray], np.ndarray,
                                           float, int]:
    rng = np.random.default_rng([seed, dim])
    q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    a = q @ np.diag(rng.uniform(0.5, 2.0, dim)) @ q.T
    b = rng.uniform(-1.0, 1.0, dim)

    def f_grad(x: np.ndarray) -> np.ndarray:
        return a @ np.asarray(x, dtype=np.float64) + b

    return f_grad, rng.uniform(-3.0, 3.0, dim), float(rng.uniform(0.1, 0.4)), \
        int(rng.integers(4, 9))


def _expected(f_grad: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, lr: float,
              steps: int, sign: float = -1.0) -> np.ndarray:
    path = [x0.copy()]
    for _ in range(steps):
        path.append(path[-1] + sign * lr * f_grad(path[-1]))
    return np.array(path)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=1e-12))


def _path_message(fn: Callable[..., Any], seed: int, dim: int, limit: float | None) -> str:
    f_grad, x0, lr, steps = _problem(seed, dim)
    x = x0.copy()
    result = call(fn, NAME, f_grad, x, lr, steps, time_limit=limit)
    if result is None:
        return f"{NAME}() returned None: did you forget `return path`?"
    try:
        path = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{NAME}() returned a {type(result).__name__}, not an array of points."
    expected = _expected(f_grad, x0, lr, steps)
    if _same(path, expected):
        return ""
    want = expected.shape
    if path.shape != want:
        if _same(path, expected[1:]):
            return (f"the starting point is missing: path[0] must be x0, so {steps} steps give "
                    f"{steps + 1} rows (shape {want}), not {path.shape}.")
        if _same(path, expected[:-1]):
            return (f"one step is missing: {steps} steps give {steps + 1} rows (the start and "
                    f"one row per step), shape {want}, not {path.shape}.")
        return (f"with steps={steps} and a start of {dim} coordinates the path must have shape "
                f"{want} (the start and one row per step), not {path.shape}.")
    if np.allclose(path, path[-1]) and not np.allclose(expected, expected[-1]):
        return ("every row of your path is the same point: you appended the same array each "
                "time and then changed it in place — append a copy (path.append(x.copy())).")
    if not np.allclose(path[0], x0):
        return "path[0] must be the starting point x0."
    if _same(path, _expected(f_grad, x0, lr, steps, sign=1.0)):
        return ("your path climbs the function: a step must go against the gradient, "
                "x ← x − lr·f_grad(x).")
    bad = np.any(~np.isclose(path, expected, rtol=1e-9, atol=1e-12), axis=1)
    row = int(np.argmax(bad))
    return (f"path[{row}] differs from the expected point (by up to "
            f"{fmt(float(np.max(np.abs(path[row] - expected[row]))))}): every step is "
            "x ← x − lr·f_grad(x), with the gradient taken at the current point.")


def _path(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    return _path_message(fn, seed, 2, limit)


def _any_dimension(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    try:
        message = _path_message(fn, seed, 3, limit)
    except StudentError as exc:
        message = str(exc)
    return f"with a start of 3 coordinates: {message}" if message else ""


def _x0_unchanged(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    f_grad, x0, lr, steps = _problem(seed, 2)
    x = x0.copy()
    call(fn, NAME, f_grad, x, lr, steps, time_limit=limit)
    if np.array_equal(x, x0):
        return ""
    return ("your function changed x0, the caller's starting point: work on a copy "
            "(x = x0.copy()); x -= ... on x0 itself changes the caller's array.")


#: The graded properties of ``gradient_descent``, in the order to fix them.
GRADIENT_DESCENT_PROPERTIES = (
    FunctionProperty("path", "the path starts at x0 and follows x ← x − lr·∇f(x)", "path",
                     _path),
    FunctionProperty("any_dimension", "works in any dimension", "3-D start", _any_dimension),
    FunctionProperty("x0_unchanged", "x0 is left unchanged", "x0 unchanged", _x0_unchanged),
)


def check_gradient_descent(fn: Any, **kwargs: Any) -> Report:
    """Self-check of ``gradient_descent``: print a verdict, return the Report."""
    return check_function(NAME, GRADIENT_DESCENT_PROPERTIES, fn, **kwargs)


def assert_gradient_descent(fn: Any, seed: int, prop: str | None = None, **kwargs: Any) -> None:
    """Hidden test: raise ``AssertionError`` with the student-facing message on failure."""
    assert_function(NAME, GRADIENT_DESCENT_PROPERTIES, fn, seed, prop, **kwargs)
