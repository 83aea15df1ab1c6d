"""Check ``bowl_gradient(x, y) -> (df/dx, df/dy)`` for the book's f = x²/20 + y².

The expected values come from :func:`descentlab.surfaces.get_surface` ("bowl").

Whatever the student's function returns is judged, never trusted: each property reads
its own component and says in one line what is wrong with it (an array where a number
belongs, ``None``, a string, a complex number, NaN), so that one odd component never
fails another property or the checker (audit: ``return x / 10, 2 * Y``, with the
notebook's global 8×12 grid ``Y``, made the checker itself fail).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ...surfaces import get_surface
from ..messages import fmt, fmt_pair
from ..report import Report
from ._runner import FunctionProperty, StudentError, assert_function, call, check_function

__all__ = ["BOWL_GRADIENT_PROPERTIES", "assert_bowl_gradient", "check_bowl_gradient"]

NAME = "bowl_gradient"

#: Per component (0: df/dx, 1: df/dy): its name, its variable, f's term in that variable,
#: the power rule for it, and the derivative written out.
_NAMES = ("df/dx", "df/dy")
_ARGS = ("x", "y")
_TERMS = ("x²/20", "y²")
_RULES = ("d/dx x² = 2x", "d/dy y² = 2y")
_WORKED = ("d/dx (x²/20) = 2x/20 = x/10", "d/dy y² = 2y")

#: Right within float32 arithmetic (a student audit: `x * np.float32(0.1)` lost df/dx and
#: the arrays' point, told "1 times the right value"); far below any slip the checks name.
_CLOSE = {"rtol": 1e-6, "atol": 1e-12}


def _points(seed: int) -> np.ndarray:
    """Five points (x, y); each coordinate takes both signs, and is never 0.

    Both signs: with x > 0 at every point (as it happened for both public seeds),
    ``abs(x) / 10`` passed every check.
    """
    rng = np.random.default_rng([seed, 20])
    size = rng.uniform(0.1, 5.0, size=(5, 2))
    signs = np.stack([rng.permutation([1, 1, 1, -1, -1]) for _ in range(2)], axis=1)
    return (signs * size).round(2)


# -- what came back ----------------------------------------------------------------------
def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def _values(n: int) -> str:
    return f"{n} value" if n == 1 else f"{n} values"


def _is_complex(value: Any) -> bool:
    # By name too: in the grader a Python complex crosses as a proxy named "complex".
    return isinstance(value, (complex, np.complexfloating)) or type(value).__name__ == "complex"


def _describe(value: Any) -> str:
    """What ``value`` is, for "it returned ...": no more of it than fits in a line."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (str, bytes)):
        return f"the string {str(value)!r:.40}"
    if isinstance(value, (tuple, list, set, frozenset)):
        return f"{_article(type(value).__name__)} of {_values(len(value))}"
    if isinstance(value, (float, np.floating)):
        # Six digits: a student audit read "float 6.2090000000000005".
        return f"{type(value).__name__} {float(value):.6g}"
    if isinstance(value, (numbers.Number, np.generic)) and not _is_complex(value):
        return f"{type(value).__name__} {value!r:.40}"
    return _article(type(value).__name__)


def _pair(fn: Callable[..., Any], x: Any, y: Any, limit: float | None) -> tuple[Any, Any]:
    """The two values ``fn(x, y)`` returns, as they are (each is judged on its own)."""
    result = call(fn, NAME, x, y, time_limit=limit)
    if isinstance(result, Iterator):  # yield dfdx; yield dfdy: its values, as the grader sees
        result = list(itertools.islice(result, 3))
    if result is None:
        raise StudentError(f"{NAME}() returned None: return both partial derivatives "
                           "(return dfdx, dfdy).")
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return result[0], result[1]
    if isinstance(result, np.ndarray) and result.ndim >= 1 and len(result) == 2:
        return result[0], result[1]
    raise StudentError(f"{NAME}() must return two values, (df/dx, df/dy); it returned "
                       f"{_describe(result)}.")


def _as_float(value: Any) -> float | None:
    """``value`` as a float if it is one real number (NaN and inf included), else None."""
    if isinstance(value, np.ndarray):
        if value.shape != () or value.dtype.kind not in "biuf":
            return None
        value = value[()]
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if _is_complex(value) or not isinstance(value, numbers.Number):  # Decimal, Fraction: fine
        return None
    try:
        return float(value)
    except OverflowError:  # an int beyond float's range
        return math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        return None


def _not_a_number(value: Any, which: int) -> str:
    """What is wrong with the component ``value`` for numbers x, y (not a real number)."""
    name, arg = _NAMES[which], _ARGS[which]
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, np.ndarray):
        hint = "return the number itself, not an array holding it" if value.size == 1 \
            else f"use the argument {arg}"
        return f"for numbers x, y you return a {name} of shape {value.shape}, not a number: {hint}."
    if _is_complex(value):
        shown = f"the complex number {value}" if isinstance(value, (complex, np.generic)) \
            else "a complex number"
        return (f"for numbers x, y you return {shown} as {name}: the gradient of f is real "
                "(a power such as ** 0.5 of a negative number gives a complex one).")
    if value is None:
        return (f"for numbers x, y you return None as {name}, not a number: return its value "
                "(print() shows a value but gives None).")
    if isinstance(value, (str, bytes)):
        return (f"for numbers x, y you return the string {str(value)!r:.40} as {name}, not a "
                f"number: compute it from {arg}, without quotes.")
    if isinstance(value, (tuple, list, set, frozenset)):
        return (f"for numbers x, y you return a {name} that is {_article(type(value).__name__)} "
                f"of {_values(len(value))}, not a number: return one number for it.")
    return (f"for numbers x, y you return {_article(type(value).__name__)} as {name}, "
            f"not a number.")


# -- df/dx and df/dy ---------------------------------------------------------------------
def _scalar_results(fn: Callable[..., Any], seed: int, limit: float | None
                    ) -> tuple[np.ndarray, list[tuple[Any, Any]], np.ndarray]:
    """(points (5, 2), the student's pairs as returned, the expected values (5, 2))."""
    points = _points(seed)
    grad = get_surface("bowl").grad
    got = [_pair(fn, float(x), float(y), limit) for x, y in points]
    want = np.array([[float(v) for v in grad(x, y)] for x, y in points])
    return points, got, want


def _proportional(a: np.ndarray, b: np.ndarray) -> float | None:
    """The constant c with a = c·b at every point (b has no 0), else None."""
    ratio = a / b
    return float(ratio[0]) if np.allclose(ratio, ratio[0], rtol=1e-6, atol=1e-12) else None


def _wrong_value(points: np.ndarray, got: np.ndarray, want: np.ndarray, which: int,
                 theirs: np.ndarray) -> str:
    """Why the real numbers ``got`` (one per point) are not the component ``want``
    (``theirs``: the other component's right values)."""
    name, arg, other = _NAMES[which], _ARGS[which], _ARGS[1 - which]
    with np.errstate(all="ignore"):
        gap = np.abs(got - want)
        i = int(np.argmax(np.where(np.isnan(gap), np.inf, gap)))  # a NaN first
        x, y = points[i]
        # As many digits as tell them apart: a rounded result read "you return 0.34, the
        # right value is 0.34" (a student audit).
        shown, wanted = fmt_pair(got[i], want[i]) if math.isfinite(got[i]) else \
            (fmt(got[i]), fmt(want[i]))
        said = f"at (x, y) = ({x:g}, {y:g}) you return {name} = {shown}"
        if not math.isfinite(got[i]):
            cause = ("nan comes from an undefined operation such as 0/0 or inf - inf"
                     if math.isnan(got[i]) else "inf comes from an overflow or a division by 0")
            shown = " (not a number)" if math.isnan(got[i]) else ""
            return f"{said}{shown}, the right value is {fmt(want[i])}: {cause}."
        right = f"{said}, the right value is {wanted}"
        if np.allclose(got, 0, atol=1e-12):
            return (f"{right}: {_TERMS[which]} changes with {arg}, so its derivative is not 0 "
                    f"({_WORKED[which]}).")
        rounded = next((k for k in range(7) if np.array_equal(got, np.round(want, k))), None)
        if rounded is not None:
            return (f"{right}: your values are the right ones rounded to {rounded} decimal "
                    f"place{'' if rounded == 1 else 's'}: return them as computed, unrounded.")
        if np.all(got == np.round(got)) and np.all(np.abs(got - want) < 1):
            # x // 10 for x / 10: a student audit got the power-rule hint for the right
            # derivative behind the wrong division.
            return (f"{right}: every value you return is a whole number within 1 of the "
                    "right one. Is there a floor division // (or an int()) where / belongs?")
        if np.allclose(got, np.abs(want), **_CLOSE):
            return (f"{right}: the sign is wrong where {arg} < 0 ({name} has the sign of "
                    f"{arg}: no abs()).")
        factor = _proportional(got, want)
        sign = "the sign is wrong (the gradient points uphill; SGD subtracts it itself)"
        if factor is not None and math.isclose(factor, -1, rel_tol=1e-6):
            return f"{said}, the right value is {want[i]:+.2g}: {sign}."
        if factor is not None and math.isclose(abs(factor), 0.5, rel_tol=1e-6):
            also = f", and {sign}" if factor < 0 else ""
            return (f"{right}: differentiate {_TERMS[which]} with the power rule "
                    f"({_RULES[which]}): the factor 2 is missing{also}.")
        if factor is not None and which == 0 and math.isclose(factor, 20, rel_tol=1e-6):
            return f"{right}: the constant factor 1/20 stays in front ({_WORKED[0]})."
        if factor is not None and not math.isclose(factor, 0, abs_tol=1e-9):
            also = f"; and {sign}" if factor < 0 else ""
            return (f"{said}, {fmt(abs(factor))} times the right value {fmt(want[i])}: check "
                    f"the constant factor, {_WORKED[which]}{also}.")
        if np.array_equal(got, np.floor(theirs)) or np.array_equal(got, np.trunc(theirs)):
            # The other component cut to a whole number: (2 * y, x // 10), a two-bug audit's,
            # was sent to the power rule for y² (_component names a plain swap).
            return (f"{right}: that is {_NAMES[1 - which]} ({_WORKED[1 - which]}) cut to a whole "
                    f"number: return ({_NAMES[0]}, {_NAMES[1]}) in that order, and use / where "
                    "there is a floor division // (or an int()).")
        if _proportional(got, points[:, 1 - which]) is not None:
            return (f"{right}: your {name} changes with {other}, not with {arg}: treat {other} "
                    f"as a constant ({_WORKED[which]}).")
        term = points[:, 0] ** 2 / 20 if which == 0 else points[:, 1] ** 2
        if np.allclose(got, term, **_CLOSE):
            return f"{right}: that is {_TERMS[which]} itself: differentiate it ({_WORKED[which]})."
        if np.allclose(got, points[:, 0] ** 2 / 20 + points[:, 1] ** 2, **_CLOSE):
            return (f"{right}: that is f itself: return its partial derivatives "
                    f"({_WORKED[which]}).")
    return (f"{right}: differentiate {_TERMS[which]} with the power rule ({_RULES[which]}), "
            f"treating {other} as a constant.")


def _component(fn: Callable[..., Any], seed: int, limit: float | None, which: int) -> str:
    points, pairs, want = _scalar_results(fn, seed, limit)
    got = [_as_float(pair[which]) for pair in pairs]
    for pair, value in zip(pairs, got, strict=True):
        if value is None:
            return _not_a_number(pair[which], which)
    mine = np.array(got, dtype=np.float64)
    if np.allclose(mine, want[:, which], **_CLOSE):
        return ""
    theirs = [_as_float(pair[1 - which]) for pair in pairs]
    if None not in theirs and np.allclose(mine, want[:, 1 - which], **_CLOSE) and \
            np.allclose(np.array(theirs, dtype=np.float64), want[:, which], **_CLOSE):
        return "you return (df/dy, df/dx): the order must be (df/dx, df/dy)."
    return _wrong_value(points, mine, want[:, which], which, want[:, 1 - which])


#: A gradient that is the same at every point.
_SAME_EVERYWHERE = ("your function returns the same (df/dx, df/dy) at every point (x, y): "
                    "nothing in it is computed from x and y, and the gradient of f = x²/20 + "
                    f"y² changes with both. Compute df/dx from x ({_WORKED[0]}) and df/dy "
                    f"from y ({_WORKED[1]}).")


def _computes_nothing(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    """:data:`_SAME_EVERYWHERE` when the function returns the same pair of numbers at each
    of the five points (where the true gradient differs), else ``""``: it then fails every
    property, as code that computes nothing earns nothing (checks/README.md; red-team round
    16: ``return np.zeros_like(x), np.zeros_like(y)`` kept the arrays point, its zeros
    element-wise). One that fails on numbers, or returns something else, is judged as it
    is by each property."""
    try:
        _, pairs, _ = _scalar_results(fn, seed, limit)
    except StudentError:
        return ""
    values = [[_as_float(v) for v in pair] for pair in pairs]
    if any(v is None for row in values for v in row):
        return ""
    return _SAME_EVERYWHERE if _constant(np.array(values, dtype=np.float64)) else ""


def _constant(values: np.ndarray) -> bool:
    """Whether every row of ``values`` (finite numbers) is the first, to rounding."""
    return bool(np.all(np.isfinite(values))) and \
        bool(np.allclose(values, values[0], rtol=1e-9, atol=1e-12))


def _df_dx(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    return _computes_nothing(fn, seed, limit) or _component(fn, seed, limit, 0)


def _df_dy(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    return _computes_nothing(fn, seed, limit) or _component(fn, seed, limit, 1)


# -- arrays ------------------------------------------------------------------------------
#: What NumPy says when float(), math.* or ``if`` meets an array instead of a number.
_SCALAR_ONLY = ("converted to Python scalars", "truth value of an array", "only length-1",
                "only 0-dimensional")


def _grid_array(value: Any) -> np.ndarray | None:
    """``value`` as an array if it is one (a list of numbers too, as before), else None."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple)):
        try:
            return np.asarray(value)
        except (TypeError, ValueError, OverflowError):  # ragged, or not numbers
            return None
    return None


def _grid_problem(value: Any, which: int, shape: tuple[int, ...]) -> str:
    """What is wrong with the component ``value`` for x, y of ``shape`` ("" if nothing)."""
    name = _NAMES[which]
    array = _grid_array(value)
    if _is_complex(value) or (array is not None and array.dtype.kind == "c"):
        return f"you return complex numbers as {name}: the gradient of f is real."
    if isinstance(value, (bool, numbers.Number, np.generic)) or \
            (array is not None and array.shape == () and array.dtype.kind in "biuf"):
        return (f"you return a {name} that is a number, not an array of shape {shape}: "
                f"compute it from {_ARGS[which]} with NumPy operations.")
    if array is None:
        if value is None:
            return f"you return None as {name}, not an array."
        if isinstance(value, (str, bytes)):
            return f"you return the string {str(value)!r:.40} as {name}, not an array."
        return f"you return {_article(type(value).__name__)} as {name}, not an array."
    if array.shape != shape:
        return (f"you return a {name} of shape {array.shape}: both results must have the "
                "shape of x and y.")
    if array.dtype.kind not in "biuf":
        return f"you return an array of {array.dtype} as {name}, not of numbers."
    return ""


def _arrays(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    if nothing := _computes_nothing(fn, seed, limit):
        return nothing
    rng = np.random.default_rng([seed, 21])
    grid_x, grid_y = np.meshgrid(rng.uniform(-5, 5, 4).round(2), rng.uniform(-2, 2, 3).round(2))
    given = (grid_x.copy(), grid_y.copy())
    try:
        pair = _pair(fn, *given, limit)
    except StudentError as exc:
        # The same failure with plain numbers is df/dx's and df/dy's already: said in their
        # words, the report gives it once (a student audit read the stub's message twice).
        try:
            _pair(fn, float(grid_x[0, 0]), float(grid_y[0, 0]), limit)
        except StudentError as alone:
            if str(alone) == str(exc):
                return str(exc)
        # The NumPy hint only where a scalar-only operation met an array; a wrong return
        # value or another error is already named by the message itself.
        scalar_only = any(s in str(exc) for s in _SCALAR_ONLY)
        hint = (" Use NumPy operations only (no float(), math.* or if on x and y), so it "
                "works element-wise.") if scalar_only else ""
        return f"with arrays (a grid from np.meshgrid): {exc}{hint}"
    for which, value in enumerate(pair):
        problem = _grid_problem(value, which, grid_x.shape)
        if problem:
            return f"with arrays x, y of shape {grid_x.shape} (a grid from np.meshgrid) {problem}"
    dx, dy = (np.asarray(_grid_array(v), dtype=np.float64) for v in pair)
    if _constant(np.stack([dx.ravel(), dy.ravel()], axis=1)):
        # The same at every entry of grids whose x and y take other values (one that fails
        # on numbers is not seen above).
        return _SAME_EVERYWHERE
    # Element-wise means: the same as for each point on its own (right or wrong), each
    # handed in as NumPy's 0-d float, which NumPy's methods work on too (a student audit's
    # `gx = x.copy(); gx /= 10` was right on arrays and lost this point to the Python
    # floats' missing .copy(), which df/dx and df/dy already charge). A value that is not a
    # number there (df/dx or df/dy says what it is) is not the same.
    points = list(zip(grid_x.ravel(), grid_y.ravel(), strict=True))
    compared = "those for the same points one at a time"
    try:
        single = [[_as_float(v) for v in _pair(fn, np.float64(x), np.float64(y), limit)]
                  for x, y in points]
    except StudentError:  # it fails on single points: the right values are element-wise
        grad = get_surface("bowl").grad
        single = [[float(v) for v in grad(float(x), float(y))] for x, y in points]
        compared = "the right ones, (x/10, 2y) at each point"
    if all(v is not None for row in single for v in row):
        each = np.array(single, dtype=np.float64)
        if np.allclose(dx.ravel(), each[:, 0], equal_nan=True, **_CLOSE) and \
                np.allclose(dy.ravel(), each[:, 1], equal_nan=True, **_CLOSE):
            return _grids_unchanged(given, (grid_x, grid_y))
    return (f"with arrays (a grid from np.meshgrid) your results differ from {compared}: "
            "compute element-wise with NumPy operations.")


def _grids_unchanged(given: tuple[np.ndarray, ...], grids: tuple[np.ndarray, ...]) -> str:
    """Whether the arrays handed in are still the grids they were: the plots reuse theirs
    (a student audit's ``gx = x; gx *= 1/10`` returned x/10 and scaled the caller's x)."""
    changed = [arg for arg, now, grid in zip(_ARGS, given, grids, strict=True)
               if not np.array_equal(now, grid)]
    if not changed:
        return ""
    names = " and ".join(changed)
    # Not "the results are right": they agree with those for single points, which may be
    # wrong too (an instructor audit's gx = x; gx /= 20 was told both "missing factor 2"
    # and "the results are right").
    return (f"with arrays (a grid from np.meshgrid) your function changed the {names} it "
            f"was given: the caller's grid changes with it. Compute new arrays (x / 10, "
            f"2 * y), not x *= ... or x /= ... on the arguments.")


#: The graded properties of ``bowl_gradient``, in the order to fix them.
BOWL_GRADIENT_PROPERTIES = (
    FunctionProperty("df_dx", "df/dx is right", "df/dx", _df_dx),
    FunctionProperty("df_dy", "df/dy is right", "df/dy", _df_dy),
    FunctionProperty("arrays", "works element-wise on arrays and leaves them unchanged",
                     "arrays", _arrays),
)


def check_bowl_gradient(fn: Any, **kwargs: Any) -> Report:
    """Self-check of ``bowl_gradient``: print a verdict, return the Report."""
    return check_function(NAME, BOWL_GRADIENT_PROPERTIES, fn, **kwargs)


def assert_bowl_gradient(fn: Any, seed: int, prop: str | None = None, **kwargs: Any) -> None:
    """Hidden test: raise ``AssertionError`` with the student-facing message on failure."""
    __tracebackhide__ = True  # not shown in tracebacks (IPython, pytest)
    assert_function(NAME, BOWL_GRADIENT_PROPERTIES, fn, seed, prop, **kwargs)
