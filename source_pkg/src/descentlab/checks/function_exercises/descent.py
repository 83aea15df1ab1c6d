"""Check ``gradient_descent(f_grad, x0, lr, steps) -> path``.

The path is an array of shape ``(steps + 1, dim)``: the start, then the point
after each step ``x ← x − lr·f_grad(x)``; ``x0`` itself must not change. The
test gradients are those of seeded quadratic bowls, ``A x + b``.

Only ``path`` compares with the true path. ``any_dimension`` compares the
student's path from a start of 3 coordinates with the student's own path on the
same problem written in 2 coordinates (right or wrong): a path mistake costs
only ``path``, a mistake that shows only with 3 coordinates only ``any_dimension``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..grading import PUBLIC_SEEDS
from ..messages import fmt
from ..report import Report
from ._runner import FunctionProperty, StudentError, assert_function, call, check_function

__all__ = ["GRADIENT_DESCENT_PROPERTIES", "assert_gradient_descent", "check_gradient_descent"]

NAME = "gradient_descent"
_RETURNED_NONE = f"{NAME}() returned None: did you forget `return path`?"


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
        return _RETURNED_NONE
    try:
        path = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{NAME}() returned a {type(result).__name__}, not an array of points."
    expected = _expected(f_grad, x0, lr, steps)
    if _same(path, expected):
        return ""
    want = expected.shape
    if path.shape != want:
        # The path of steps uphill too (a two-bug audit's sign slip went unnamed behind the
        # missing start): the row that is missing, and the direction.
        uphill = (" Your path also climbs the function: a step must go against the gradient, "
                  "x ← x − lr·f_grad(x).")
        for path_of, also in ((expected, ""), (_expected(f_grad, x0, lr, steps, 1.0), uphill)):
            if _same(path, path_of[1:]):
                return (f"the starting point is missing: path[0] must be x0, so {steps} steps "
                        f"give {steps + 1} rows (shape {want}), not {path.shape}.{also}")
            rows = len(path) if path.ndim == 2 else 0
            if 0 < rows < steps + 1 and _same(path, path_of[:rows]):
                # Right so far, then it stops: one step short, or a stopping rule (an audit's
                # path stopped once |g| < 0.05 on one hidden input only, and was told "one
                # step is missing").
                missing = steps + 1 - rows
                return (f"your path stops after {rows - 1} of the {steps} steps: {steps} steps "
                        f"give {steps + 1} rows (the start and one row per step), shape "
                        f"{want}, not {path.shape}. Does the loop run fewer times than steps"
                        f"{' (one step is missing)' if missing == 1 else ''}, or stop early "
                        f"(a rule on the gradient's size)? Take exactly steps steps.{also}")
        return (f"with steps={steps} and a start of {dim} coordinates the path must have shape "
                f"{want} (the start and one row per step), not {path.shape}.")
    if np.allclose(path, path[-1]) and not np.allclose(expected, expected[-1]):
        return ("every row of your path is the same point: you appended the same array each "
                "time and then changed it in place — append a copy (path.append(x.copy())).")
    if steps > 1 and np.allclose(path[1:], path[-1]) and not np.allclose(expected[1:],
                                                                          expected[-1]):
        return (f"path[1] to path[{steps}] are all the same point (the last one): you appended "
                "the same array x after every step and then changed it in place — append a "
                "copy (path.append(x.copy())).")
    if not np.allclose(path[0], x0):
        return "path[0] must be the starting point x0."
    if _same(path, _expected(f_grad, x0, lr, steps, sign=1.0)):
        return ("your path climbs the function: a step must go against the gradient, "
                "x ← x − lr·f_grad(x).")
    rate = _rate_used(f_grad, x0, path)
    if rate is not None and not np.isclose(rate, lr) and \
            _same(path, _expected(f_grad, x0, rate, steps)):
        used = "no learning rate at all (a step of 1·f_grad(x))" if np.isclose(rate, 1.0) \
            else f"a learning rate of {fmt(rate)}"
        return (f"your steps use {used}, but lr = {fmt(lr)} was passed: every step is "
                "x ← x − lr·f_grad(x) with the lr argument, not a number of your own.")
    bad = np.any(~np.isclose(path, expected, rtol=1e-9, atol=1e-12), axis=1)
    row = int(np.argmax(bad))
    return (f"path[{row}] differs from the expected point (by up to "
            f"{fmt(float(np.max(np.abs(path[row] - expected[row]))))}): every step is "
            "x ← x − lr·f_grad(x), with the gradient taken at the current point.")


def _rate_used(f_grad: Callable[[np.ndarray], np.ndarray], x0: np.ndarray,
               path: np.ndarray) -> float | None:
    """The learning rate of the path's first step, x0 − rate·f_grad(x0), or None if that
    step is not along the gradient (a student audit: a hard-coded 0.1 was told only
    "path[1] differs from the expected point")."""
    if len(path) < 2:
        return None
    g = np.asarray(f_grad(x0), dtype=np.float64)
    step = x0 - path[1]
    if not np.any(g):
        return None
    rate = float(step @ g / (g @ g))
    return rate if rate > 0 and np.allclose(step, rate * g, rtol=1e-9, atol=1e-12) else None


#: A path made without asking f_grad anything.
_NEVER_CALLED = ("your function never calls f_grad: every step is x ← x − lr·f_grad(x), "
                 "with the gradient taken at the current point.")


#: A path that is the same whatever f_grad is.
_SAME_FOR_ANY_GRADIENT = (
    "your function returns the same path whatever f_grad is (for two functions with other "
    "gradients, from the same x0): nothing in it is computed from f_grad. Every step is "
    "x ← x − lr·f_grad(x), with the gradient taken at the current point.")

#: How much less than the true path's the student's may change between two f_grads and
#: still be taken for the same (a token of the gradient changes it by nothing visible).
_SAME_RTOL = 1e-3


def _computes_nothing(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    """:data:`_NEVER_CALLED` when the function makes its path without calling f_grad (or
    :data:`_RETURNED_NONE`), :data:`_SAME_FOR_ANY_GRADIENT` when it calls f_grad fewer
    times than it takes steps and returns the same path for another f_grad, else ``""``:
    it then fails every property, as a step that changes nothing passes no check of lesson
    08 (a red-team round's path standing still at x0 scored the 3-coordinate and
    x0-unchanged points; round 16's asked f_grad once, and kept the 3-coordinate one). A
    path that calls f_grad at every step and goes wrong is ``path``'s alone (x − lr·g
    computed and never kept stands still too)."""
    f_grad, x0, lr, steps = _problem(seed, 2)
    calls = []

    def counted(x: np.ndarray) -> np.ndarray:
        calls.append(1)
        return f_grad(x)

    first = call(fn, NAME, counted, x0.copy(), lr, steps, time_limit=limit)
    if first is None:
        return _RETURNED_NONE
    if isinstance(first, Iterator):
        # A generator has not run yet, so it has not called f_grad either (a student audit:
        # the self-check said "never calls f_grad" where the grader said "a generator").
        return (f"{NAME}() returned a {type(first).__name__}, not an array of points: "
                "collect the points in a list and return np.array(path) (a `yield` makes "
                "the function a generator).")
    if not calls:
        return _NEVER_CALLED
    if len(calls) >= steps:
        return ""
    # Another bowl's gradient, of the same start: the true path moves by about itself.
    shift = np.array([1.5, -2.0])

    def other(x: np.ndarray) -> np.ndarray:
        return -2.5 * f_grad(x) + shift

    try:
        mine, again = (np.asarray(path, dtype=np.float64) for path in (
            first, call(fn, NAME, other, x0.copy(), lr, steps, time_limit=limit)))
    except (TypeError, ValueError):
        return ""  # not an array of points: `path` says what it is
    if mine.shape != again.shape:
        return ""
    moved = float(np.linalg.norm(_expected(other, x0, lr, steps) - _expected(f_grad, x0, lr,
                                                                             steps)))
    with np.errstate(all="ignore"):
        change = float(np.linalg.norm(again - mine))
    return _SAME_FOR_ANY_GRADIENT if change <= _SAME_RTOL * moved else ""


def _path(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    return _computes_nothing(fn, seed, limit) or _path_message(fn, seed, 2, limit)


#: Where ``any_dimension`` puts the coordinate it adds: in the middle, so that a
#: function that updates only x[0] and x[1] leaves a real coordinate behind.
_ADDED = 1


def _as_path(result: Any) -> np.ndarray:
    if result is None:
        raise StudentError(_RETURNED_NONE)
    try:
        return np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        raise StudentError(f"{NAME}() returned a {type(result).__name__}, not an array of "
                           "points.") from None


def _any_dimension(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    # Works in any dimension means: with a third coordinate that does not take part (its
    # gradient is 0 and it starts at 0), the path is the one of the 2-coordinate problem
    # with that coordinate added, right or wrong. Every path mistake (a step short,
    # climbing, a missing start, one array appended each time, a wrong step size, even
    # one that divides by the gradient's length) treats both the same, so only `path`
    # charges it. A failure of the 2-D call is not one of those: it is reported as it is.
    if nothing := _computes_nothing(fn, seed, limit):
        return nothing
    f_grad, x0, lr, steps = _problem(seed, 2)
    mine = _as_path(call(fn, NAME, f_grad, x0.copy(), lr, steps, time_limit=limit))

    def f_grad3(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (3,):
            # Said in words: a NumPy shape error from inside f_grad would not be.
            raise ValueError(f"f_grad() got a point of shape {x.shape}, but the start has 3 "
                             "coordinates, shape (3,)")
        return np.insert(f_grad(np.delete(x, _ADDED)), _ADDED, 0.0)

    where = "with a start of 3 coordinates"
    try:
        path = _as_path(call(fn, NAME, f_grad3, np.insert(x0, _ADDED, 0.0), lr, steps,
                             time_limit=limit))
    except StudentError as exc:
        raise StudentError(f"{where}: {exc} Work on whole arrays (x = np.array(x0, "
                           "dtype=float), x - lr * f_grad(x)) rather than on x0[0] and "
                           "x0[1], so that any number of coordinates works.",
                           hung=exc.hung) from None
    if mine.ndim != 2 or mine.shape[-1] != 2:
        # Even the 2-coordinate path is not made of points: `path` says what is wrong. (A
        # browser audit's `return np.array(point)`, a global of shape (2,), was told not to
        # write the two coordinates out.)
        # Only the 3-coordinate path's own shape can be checked, against the rule.
        if path.ndim == 2 and path.shape[-1] == 3:
            return ""
        return (f"{where}, your result has shape {path.shape}: it must have one row per "
                "point and one column per coordinate, (steps + 1, 3).")
    want = np.insert(mine, _ADDED, 0.0, axis=-1)
    if path.shape != want.shape:
        if path.ndim == want.ndim and path.shape[-1] == 2:
            return (f"{where}, your points have 2 coordinates, not 3 (path of shape "
                    f"{path.shape}): do not write the two coordinates out (x0[0], x0[1], "
                    "np.zeros((steps + 1, 2))); x = np.array(x0, dtype=float) has them "
                    "all, len(x0) counts them.")
        return (f"{where}, your path has shape {path.shape}; with 2 coordinates it has "
                f"shape {mine.shape}, so with 3 it should have {want.shape}: only the number "
                "of columns (one per coordinate) may change.")
    # Both runs do the same arithmetic on the same numbers: they agree to rounding.
    if np.allclose(path, want, rtol=1e-9, atol=1e-12, equal_nan=True):
        return ""
    stuck = [k for k in range(3) if want.ndim == 2
             and np.ptp(want[:, k]) > 0 and np.ptp(path[:, k]) == 0]
    if stuck:
        return (f"{where}, coordinate {stuck[0]} never moves: update every coordinate "
                "(x = x - lr * f_grad(x) on the whole array), not just x[0] and x[1].")
    off = fmt(float(np.nanmax(np.abs(path - want))))
    return (f"{where}, your path differs (by up to {off}) from the one your function takes "
            f"on the same problem in 2 coordinates (here with one more, x[{_ADDED}], whose "
            "gradient is 0 so that it stays at 0): treat every coordinate the same way, "
            "working on whole arrays.")


def _x0_unchanged(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    if nothing := _computes_nothing(fn, seed, limit):
        return nothing
    f_grad, x0, lr, steps = _problem(seed, 2)
    x = x0.copy()
    call(fn, NAME, f_grad, x, lr, steps, time_limit=limit)
    if np.array_equal(x, x0):
        return ""
    return ("your function changed x0, the caller's starting point: work on a copy "
            "(x = np.array(x0, dtype=float), a float copy, as the exercise says); x -= ... "
            "on x0 itself changes the caller's array.")


#: The graded properties of ``gradient_descent``, in the order to fix them.
GRADIENT_DESCENT_PROPERTIES = (
    FunctionProperty("path", "the path starts at x0 and follows x ← x − lr·∇f(x)", "path",
                     _path),
    FunctionProperty("any_dimension", "works in any dimension", "3-D start", _any_dimension),
    FunctionProperty("x0_unchanged", "x0 is left unchanged", "x0 unchanged", _x0_unchanged),
)


def _array_note(fn: Callable[..., Any], report: Report) -> str:
    """A remark (no points) when ``fn``'s path is not a NumPy array, else ``""``.

    The checks read a list of points as the array it makes, so a list passes them all,
    while the lesson's figures slice the path (``path[:, 0]``) and stopped with "list
    indices must be integers or slices, not tuple" right after "well done" (a student
    audit). Looked for only when every check passes.
    """
    if not report:
        return ""
    f_grad, x0, lr, steps = _problem(PUBLIC_SEEDS[0], 2)
    try:
        result = call(fn, NAME, f_grad, x0.copy(), lr, steps)
    except StudentError:
        return ""
    if isinstance(result, np.ndarray):
        return ""
    return (f"Note: your {NAME} returns a {type(result).__name__}, not an array: the "
            "lesson's figures slice the path as an array (path[:, 0]) and stop on a "
            f"{type(result).__name__}. Return np.array(path). (The graded tests read it as "
            "the array it makes, so this costs no points.)")


def check_gradient_descent(fn: Any, **kwargs: Any) -> Report:
    """Self-check of ``gradient_descent``: print a verdict, return the Report. A path
    returned as a list gets a note (no points: the lesson asks for an array)."""
    return check_function(NAME, GRADIENT_DESCENT_PROPERTIES, fn, note=_array_note, **kwargs)


def assert_gradient_descent(fn: Any, seed: int, prop: str | None = None, **kwargs: Any) -> None:
    """Hidden test: raise ``AssertionError`` with the student-facing message on failure."""
    __tracebackhide__ = True  # not shown in tracebacks (IPython, pytest)
    assert_function(NAME, GRADIENT_DESCENT_PROPERTIES, fn, seed, prop, **kwargs)
