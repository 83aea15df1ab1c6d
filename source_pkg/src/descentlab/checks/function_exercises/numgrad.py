"""Check ``numerical_gradient(f, x)``: central differences, any shape, x left as it was.

The test functions are seeded random ``f(x) = ½ xᵀAx + Σ bᵢ sin(cᵢ xᵢ)`` (on the
flattened ``x``), whose gradient, and the diagonals of the second and third
derivatives, are known exactly. The error of a forward difference is about
``h/2 · f''`` and that of a too-large central step ``h²/6 · f'''``: fitting the
student's error to those two patterns names the mistake.

Only ``accurate`` compares with the true gradient. ``any_shape`` compares the
student's gradient at a 2-D ``x`` with the student's own gradient at the same
``x`` flattened to 1-D (right or wrong): an inaccurate gradient costs only
``accurate``, a mistake that shows only on a 2-D ``x`` costs only ``any_shape``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..grading import PUBLIC_SEEDS
from ..messages import fmt
from ..report import Report
from ._runner import (
    FunctionProperty,
    StudentError,
    ThroughReference,
    assert_function,
    call,
    check_function,
)

__all__ = ["NUMERICAL_GRADIENT_PROPERTIES", "assert_numerical_gradient",
           "check_numerical_gradient", "gradient_problem"]

NAME = "numerical_gradient"
# Central differences with h from 1e-8 to 1e-3 stay well inside this (relative to |∇f|).
_RTOL = 1e-6


@dataclass(frozen=True)
class GradientProblem:
    """A function with known derivatives, and the point to differentiate at."""

    A: np.ndarray
    b: np.ndarray
    c: np.ndarray
    x: np.ndarray

    def f(self, x: Any) -> float:
        """The function, evaluated at whatever ``x`` holds right now."""
        v = np.asarray(x, dtype=np.float64).ravel()
        # Element-wise products and np.sum, not BLAS (v @ A @ v): a BLAS result may depend
        # on where the arrays sit in memory, and any_shape compares the gradients at a 2-D
        # x and at a flat copy of it, where a last-bit difference of f divided by a small h
        # would look like a real one. This way f is bit for bit the same for both.
        quadratic = np.sum(v * np.sum(self.A * v, axis=1))
        return float(0.5 * quadratic + np.sum(self.b * np.sin(self.c * v)))

    def grad(self) -> np.ndarray:
        """The exact gradient at ``self.x``, shaped like ``x``."""
        v = self.x.ravel()
        return (self.A @ v + self.b * self.c * np.cos(self.c * v)).reshape(self.x.shape)

    def second(self) -> np.ndarray:
        """Diagonal of the Hessian at ``self.x`` (flat)."""
        v = self.x.ravel()
        return np.diag(self.A) - self.b * self.c**2 * np.sin(self.c * v)

    def third(self) -> np.ndarray:
        """∂³f/∂xᵢ³ at ``self.x`` (flat)."""
        v = self.x.ravel()
        return -self.b * self.c**3 * np.cos(self.c * v)


def gradient_problem(seed: int, shape: tuple[int, ...]) -> GradientProblem:
    """The seeded test function and point for an ``x`` of ``shape``."""
    rng = np.random.default_rng([seed, len(shape)])
    n = int(np.prod(shape))
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    a = q @ np.diag(rng.uniform(1.0, 4.0, n)) @ q.T
    b = rng.uniform(0.5, 1.5, n) * rng.choice([-1.0, 1.0], n)
    return GradientProblem((a + a.T) / 2, b, rng.uniform(0.5, 2.0, n),
                           rng.uniform(-2.0, 2.0, shape))


def _as_gradient(result: Any, shape: tuple[int, ...]) -> np.ndarray:
    """The student's result as a float array of ``shape``, else a :class:`StudentError`."""
    if result is None:
        raise StudentError(f"{NAME}() returned None: did you forget `return grad`?")
    try:
        grad = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        raise StudentError(f"{NAME}() returned a {type(result).__name__}, not an array of "
                           "numbers.") from None
    if grad.shape != shape:
        raise StudentError(
            f"for x of shape {shape}, {NAME}() returned shape {grad.shape}: the gradient must "
            "have x's shape — grad = np.zeros_like(x), and visit every entry of x (e.g. "
            "for idx in np.ndindex(x.shape))."
        )
    return grad


def _run(fn: Callable[..., Any], seed: int, shape: tuple[int, ...], limit: float | None,
         points: list[np.ndarray] | None = None
         ) -> tuple[GradientProblem, np.ndarray, np.ndarray]:
    """(problem, x after the call, the student's gradient as a float array of x's shape).

    ``points``, if given, receives every point the student's function evaluated f at.
    """
    problem = gradient_problem(seed, shape)
    x = problem.x.copy()
    f = problem.f
    if points is not None:

        def f(at: Any) -> float:
            with contextlib.suppress(TypeError, ValueError):
                points.append(np.array(at, dtype=np.float64).ravel())
            return problem.f(at)

    return problem, x, _as_gradient(call(fn, NAME, f, x, time_limit=limit), shape)


def _shifts(problem: GradientProblem, points: list[np.ndarray]) -> set[int]:
    """How many entries of x each point f was evaluated at had shifted (points of x's size)."""
    start = problem.x.ravel()
    return {int(np.sum(~np.isclose(p, start, rtol=1e-12, atol=1e-14)))
            for p in points if p.shape == start.shape}


def _shifted_points(problem: GradientProblem, points: list[np.ndarray]) -> bool:
    """Whether f was evaluated where two or more entries of x were shifted at once: entries
    probed earlier and not put back (in a copy of x, which the caller does not see)."""
    return any(count > 1 for count in _shifts(problem, points))


def _all_shifted(problem: GradientProblem, points: list[np.ndarray]) -> bool:
    """Whether f was evaluated with every entry of x shifted at once (f(x + h)) and never
    with some entries shifted (as entries probed and not put back are, one by one)."""
    shifted = _shifts(problem, points)
    return problem.x.size in shifted and shifted <= {0, problem.x.size}


def _fit(err: np.ndarray, pattern: np.ndarray) -> float | None:
    """k if ``err ≈ k·pattern`` (within 10 %), else None."""
    denom = float(pattern @ pattern)
    if denom == 0.0:
        return None
    k = float(err @ pattern) / denom
    if np.linalg.norm(err - k * pattern) <= 0.1 * np.linalg.norm(err):
        return k
    return None


def _x_changed(x_before: np.ndarray, x_after: np.ndarray) -> bool:
    # Adding and subtracting h may leave a rounding error of an ulp or two.
    return not np.allclose(x_after, x_before, rtol=1e-12, atol=1e-14)


def _accuracy(problem: GradientProblem, x_after: np.ndarray, grad: np.ndarray,
              points: list[np.ndarray] | None = None) -> str:
    exact = problem.grad()
    err = (grad - exact).ravel()
    scale = max(1.0, float(np.max(np.abs(exact))))
    worst = float(np.max(np.abs(err)))
    if worst <= _RTOL * scale:
        return ""
    size = fmt(worst)
    if _x_changed(problem.x, x_after):
        return (f"your gradient is off by up to {size}, and x was changed while it was "
                "computed: restore each entry after evaluating f (tmp = x[i]; ...; x[i] = "
                "tmp), otherwise the later entries are taken at a shifted point.")
    if points and problem.x.size > 1 and _all_shifted(problem, points):
        # A student audit: np.full(x.shape, (f(x + h) − f(x − h)) / (2h)) was told to
        # restore entries it never shifted one by one.
        return (f"your gradient is off by up to {size}: f was evaluated with every entry of "
                "x shifted at once (x + h), which gives one number for the whole array. "
                "Shift one entry at a time: x[idx] + h, the others left as they are, one "
                "difference per entry.")
    if points and _shifted_points(problem, points):
        # A two-bug audit: a copy of x probed without restoring its entries was told its
        # gradient was "noisy" and to use the h = 1e-4 it already used.
        return (f"your gradient is off by up to {size}: f was evaluated where entries "
                "probed earlier were still shifted, so the later entries are taken at a "
                "shifted point. Restore each entry after evaluating f (tmp = x[i]; ...; "
                "x[i] = tmp), in the array you probe.")
    if not np.any(grad):
        start = problem.x.ravel()
        if points and all(np.array_equal(p, start) for p in points):
            # An audit's function shifted the entries of x.flatten(), a copy, and called f(x):
            # it was asked whether h was tiny or the result never stored, neither the case.
            return ("your gradient is all zeros, and f was only ever evaluated at x itself, "
                    "unchanged: either h is so small that x + h == x (1e-50 is; the book uses "
                    "h = 1e-4), or the entries you shift are not those of the x you hand to f "
                    "(x.flatten() and x.copy() make copies). Shift x[idx] itself, evaluate "
                    "f(x), then put it back.")
        return ("your gradient is all zeros, though f was evaluated at shifted points: is "
                "each difference stored in grad (grad[idx] = ...)?")
    k = _fit(err, problem.second())
    if k is not None and k > 0:
        return (f"your gradient is off by up to {size}, the way a forward difference "
                "(f(x+h) − f(x))/h is: its error grows like h. Use the central difference "
                "(f(x+h) − f(x−h)) / (2h).")
    if k is not None:
        return (f"your gradient is off by up to {size}, the way a backward difference "
                "(f(x) − f(x−h))/h is: its error grows like h. Use the central difference "
                "(f(x+h) − f(x−h)) / (2h).")
    k = _fit(err, problem.third())
    if k is not None and k > 0:
        return (f"your gradient is off by up to {size}: h ≈ {np.sqrt(6 * k):.1g} is too large "
                "(the central difference's error grows like h²). Use h = 1e-4.")
    ratio = _fit(grad.ravel(), exact.ravel())
    if ratio is not None and abs(ratio + 1) <= 0.05:
        # A student audit: (f(x−h) − f(x+h)) / (2h) was sent to the denominator.
        return ("every entry of your gradient has the wrong sign: the central difference is "
                "(f(x+h) − f(x−h)) / (2h), f at x + h first.")
    if ratio is not None and abs(ratio - 1) > 0.05:
        return (f"every entry of your gradient is about {ratio:.2g} times the true one: check "
                "the denominator, (f(x+h) − f(x−h)) / (2h).")
    if worst < 1e-2 * scale:
        return (f"your gradient is noisy (off by up to {size}): with a very small h, rounding "
                "errors of f dominate. Use h = 1e-4.")
    flat_grad, flat_exact = grad.ravel(), exact.ravel()
    skipped = [i for i in range(flat_grad.size) if flat_grad[i] == 0 and flat_exact[i] != 0
               and np.allclose(np.delete(flat_grad, i), np.delete(flat_exact, i),
                               rtol=_RTOL, atol=_RTOL * scale)]
    if skipped:
        # A student audit: range(x.size - 1) left the last entry at 0, told only where.
        index = tuple(int(i) for i in np.unravel_index(skipped[0], grad.shape))
        return (f"your gradient is right except at index {index}, which is 0: that entry was "
                "never computed. Loop over every entry of x (all x.size of them).")
    index = np.unravel_index(int(np.argmax(np.abs(err))), grad.shape)
    return (f"your gradient differs from the true one (by up to {size}, at index "
            f"{tuple(int(i) for i in index)}): for every entry use "
            "(f(x+h) − f(x−h)) / (2h), changing only that entry of x.")


#: A gradient from a function that never called f.
_NEVER_CALLED = ("your function never calls f: for every entry of x, shift that entry by +h "
                 "and by −h, evaluate f(x) each time, and store (f(x+h) − f(x−h)) / (2h) in "
                 "grad[idx].")


#: A gradient that is the same whatever f is.
_SAME_FOR_ANY_F = ("your function returns the same gradient whatever f is (for f and for "
                   "2.5·f plus a linear function, at the same x): nothing in it is computed "
                   "from f. For every entry of x, shift that entry by +h and by −h, evaluate "
                   "f(x) each time, and store (f(x+h) − f(x−h)) / (2h) in grad[idx].")

#: How much less than the true gradient's the student's may change between f and
#: 2.5·f + L and still be taken for the same: a token of f (1e-9·f(x)) changes it by nothing
#: visible, a gradient computed from f by about the true change (1.5·∇f + ∇L).
_SAME_RTOL = 1e-3


def _computes_nothing(fn: Callable[..., Any], seed: int, limit: float | None, size: int
                      ) -> str:
    """:data:`_NEVER_CALLED` when the function returns without calling f,
    :data:`_SAME_FOR_ANY_F` when it looks at f less than once per entry of x and returns the
    same gradient for another f at the same x, else ``""``.

    Whatever it returns was not computed from f: it fails every property with it, as a
    step that changes nothing passes no check of lesson 08 (red-team rounds: ``return
    np.zeros_like(x)``, and ``np.full(x.shape, 1e-300)``, scored the shape, x-unchanged and
    probes-x points: they are the same for any shape, leave x alone, and read the same
    whatever f reads; round 16: ``f(x); return np.zeros_like(x)``, f called once, kept the
    shape and x-unchanged points). A function that evaluates f for each entry and stores
    nothing (or whose h is too small to move x, or that shifts a copy f never reads) makes a
    mistake of accuracy: ``accurate``'s alone, though its result is the same for any f.
    """
    points: list[np.ndarray] = []
    # On an x of its own (``size``, one per property): no other check's, which a function
    # remembering answers by x's values (a review's cheat, probes_x's to catch) would
    # answer without calling f.
    problem, _, grad = _run(fn, seed, (size,), limit, points)
    if not points:
        return _NEVER_CALLED
    if len(points) >= size:
        return ""
    # The same x, another f: 2.5·f plus a linear part that is 0 at x (f's own value there
    # changes too, so an h computed from f(x) changes with it).
    start = problem.x.copy()
    tilt = np.linspace(1.0, 2.0, size)

    def other(v: Any) -> float:
        return 2.5 * problem.f(v) + float(np.sum(
            tilt * (np.asarray(v, dtype=np.float64).ravel() - start)))

    again = _as_gradient(call(fn, NAME, other, start.copy(), time_limit=limit), (size,))
    moved = float(np.linalg.norm(1.5 * problem.grad() + tilt))
    with np.errstate(all="ignore"):
        change = float(np.linalg.norm(again - grad))
    return _SAME_FOR_ANY_F if change <= _SAME_RTOL * moved else ""


def _accurate(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    if nothing := _computes_nothing(fn, seed, limit, 5):
        return nothing
    points: list[np.ndarray] = []
    problem, x_after, grad = _run(fn, seed, (6,), limit, points)
    return _accuracy(problem, x_after, grad, points) if points else _NEVER_CALLED


#: The 2-D x of ``any_shape``.
_SHAPE = (2, 3)


def _any_shape(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    if nothing := _computes_nothing(fn, seed, limit, 7):
        return nothing
    # Works for any shape means: the same gradient as for the same x flattened to 1-D,
    # right or wrong (f flattens x, so it is the same function of the same numbers).
    # Inaccuracy, or changing x, is charged by `accurate` and `x_unchanged` alone; here
    # only what differs between the two shapes counts. A failure of the 1-D call is not
    # one of those: it is reported as it is.
    problem = gradient_problem(seed, _SHAPE)
    flat = problem.x.ravel().copy()
    want = _as_gradient(call(fn, NAME, problem.f, flat, time_limit=limit), flat.shape)
    want = want.reshape(_SHAPE)
    where = f"with a 2-D x (shape {_SHAPE})"
    x = problem.x.copy()
    try:
        result = call(fn, NAME, problem.f, x, time_limit=limit)
    except StudentError as exc:
        raise StudentError(f"{where}: {exc} Visit every entry of x, e.g. for idx in "
                           "np.ndindex(x.shape), so it works for any shape.",
                           hung=exc.hung) from None
    try:
        grad = _as_gradient(result, _SHAPE)
    except StudentError as exc:
        return str(exc)  # it names the shape
    # Both calls do the same arithmetic on the same numbers in the same order (f is bit
    # for bit the same), so they agree to the last bit. The tolerance is the one of
    # `accurate`: anything below it no check can see, while a shape mistake (a whole row
    # moved at once, entries never visited) is off by about the gradient itself.
    finite = np.abs(want[np.isfinite(want)])
    scale = max(1.0, float(np.max(finite, initial=0.0)))
    bad = ~np.isclose(grad, want, rtol=0.0, atol=_RTOL * scale, equal_nan=True)
    if bad.any():
        return f"{where}, {_shape_mistake(grad, want, bad)}"
    if not np.allclose(x.ravel(), flat, rtol=1e-12, atol=1e-14, equal_nan=True):
        return (f"{where}, your function leaves x different from what it leaves with the "
                "same x flattened to 1-D: restore every entry you change (on a 2-D x, x[i] "
                "is a whole row — use for idx in np.ndindex(x.shape) and x[idx]).")
    return ""


def _shape_mistake(grad: np.ndarray, want: np.ndarray, bad: np.ndarray) -> str:
    """What a 2-D gradient that differs from the 1-D one (at ``bad``) suggests."""
    diff = np.where(bad, np.nan_to_num(np.abs(grad - want), nan=np.inf), -1.0)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), grad.shape))
    flat_words = "your function gives for the same x flattened to 1-D"
    if not np.any(grad[bad]):
        others = int(bad.sum()) - 1
        more = f" (and at {others} more entries)" if others else ""
        return (f"your gradient is 0 at index {index}{more}, while for the same x flattened "
                f"to 1-D your function gives {want[index]:.6g} there: those entries are never "
                "visited. Visit all x.size entries (len(x) counts only the rows), e.g. for "
                "idx in np.ndindex(x.shape).")
    if np.all(np.ptp(grad, axis=-1) == 0) and not np.all(np.ptp(want, axis=-1) == 0):
        return ("every row of your gradient holds one repeated value, unlike what "
                f"{flat_words}: on a 2-D x, x[i] is a whole row, so x[i] + h moves the whole "
                "row at once. Visit every entry, e.g. for idx in np.ndindex(x.shape), and "
                "change only x[idx].")
    size = fmt(float(np.max(np.abs(grad[index] - want[index]))))
    return (f"your gradient differs from the one {flat_words} (by {size} at index {index}): "
            "treat every entry of x the same way whatever its shape, e.g. for idx in "
            "np.ndindex(x.shape).")


def _x_unchanged(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    if nothing := _computes_nothing(fn, seed, limit, 8):
        return nothing
    problem, x_after, _ = _run(fn, seed, (6,), limit)
    if not _x_changed(problem.x, x_after):
        return ""
    i = int(np.argmax(np.abs(x_after - problem.x)))
    return (f"your function changed x: afterwards x[{i}] is {x_after[i]:.6g} instead of "
            f"{problem.x[i]:.6g}. Restore each entry after evaluating f "
            "(tmp = x[i]; ...; x[i] = tmp).")


def _probes_x(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    """The same gradient when ``f`` reads x itself, as a network's loss reads its weights.

    Compared with the student's own gradient for an ``f`` that reads its argument (right
    or wrong): an inaccurate gradient costs only ``accurate``. An audit's student probed
    ``x.astype(float)``, a copy, and scored full marks; the lesson asks for x itself.
    """
    if nothing := _computes_nothing(fn, seed, limit, 9):
        return nothing
    # On a matrix of 12 entries, more than any other check's x has (a second look's function
    # probed a flattened copy of matrices, another a copy of arrays of more than 8 entries:
    # a network's weights are large); on a vector only where a matrix fails (any_shape's).
    try:
        seen = _reads_the_same(fn, gradient_problem(seed, (3, 4)), limit)
    except StudentError:
        seen = _reads_the_same(fn, gradient_problem(seed, (6,)), limit)
    if not seen:
        return ""
    return (f"with an f that reads the parameters themselves rather than its argument, as the "
            f"book's networks do (f = lambda _: net.loss(x, t)), {seen}: your function "
            "probes a copy of x, which such an f never sees. Change the entries of x itself "
            "(x[idx] = saved + h), then put them back.")


def _named_f(function: Callable[[Any], float]) -> Callable[[Any], float]:
    """``function`` named as the f that reads x is, and as a network's loss is (a lambda):
    a name tells the student's code nothing (a third look's copy-prober probed x itself
    only for an f named ``f``, the name the f that reads x had)."""
    function.__name__ = function.__qualname__ = "<lambda>"
    return function


def _reads_the_same(fn: Callable[..., Any], problem: GradientProblem, limit: float | None
                    ) -> str:
    """``""`` if the student's gradient for an f that reads x itself agrees with the same
    function's gradients for f's that read their argument (at a point p of their own), else
    what was seen instead.

    A numerical gradient G with a fixed h is linear in f: G(2f) = 2·G(f) exactly in floating
    point, and G(f + L) = G(f) + G(f(p) + L) − G(f(p)) = G(f) + G(f(p) + L) for
    L(v) = a·(v − p): f + L and f(p) + L have f's value at p, so an h computed from f(x)
    is the same in those runs (a third look: h = 2e-3·|f(x)| takes another h for 2·f).
    Either agreement will do. The f's that read their argument run first: a
    function that remembers answers by x's values (a review's) hands theirs back and shows.
    """
    shape = problem.x.shape
    point = problem.x * 0.5 + 0.25
    tilt = np.linspace(1.0, 2.0, point.size).reshape(shape)

    def gradient(f: Any, x: np.ndarray | None = None) -> np.ndarray:
        x = point.copy() if x is None else x
        return _as_gradient(call(fn, NAME, f, x, time_limit=limit), shape)

    def ordinary(f: Callable[[Any], float]) -> np.ndarray:
        return gradient(_named_f(f))

    def linear_part(v: Any) -> float:
        return float(np.sum(tilt * (np.asarray(v, dtype=np.float64) - point)))

    # The linear part alone plus f(p): an h computed from f(x) is the same in every run (an
    # honest-code look: h = 1e-5·|f(x)| with L(p) = 0 divided by zero).
    level = problem.f(point)
    doubled = ordinary(lambda v: 2.0 * problem.f(v))
    tilted = ordinary(lambda v: problem.f(v) + linear_part(v))
    linear = ordinary(lambda v: level + linear_part(v))
    x = point.copy()
    grad = gradient(ThroughReference(problem.f, x), x)
    scale = max([1.0, *(float(np.max(np.abs(g), initial=0.0)) for g in (doubled, tilted, linear)
                        if np.all(np.isfinite(g)))])
    if np.allclose(2.0 * grad, doubled, rtol=1e-6, atol=1e-9 * scale, equal_nan=True) or \
            np.allclose(grad + linear, tilted, rtol=1e-3, atol=1e-3 * scale, equal_nan=True):
        return ""
    where = "" if len(shape) == 1 else f" (for x of shape {shape})"
    if np.allclose(grad, 0.0, atol=1e-12):
        return f"your gradient is all zeros{where}"
    return f"your gradient differs from the one for an f that reads its argument{where}"


#: The graded properties of ``numerical_gradient``, in the order to fix them.
NUMERICAL_GRADIENT_PROPERTIES = (
    FunctionProperty("accurate", "the gradient is accurate (central differences)",
                     "accuracy", _accurate),
    FunctionProperty("any_shape", "works for x of any shape", "2-D x", _any_shape),
    FunctionProperty("x_unchanged", "x is left unchanged", "x unchanged", _x_unchanged),
    FunctionProperty("probes_x", "probes the entries of x itself", "probing x itself",
                     _probes_x),
)


#: The step the default is compared with.
_LARGE_H = 1e-2


def _h_note(fn: Callable[..., Any], report: Report) -> str:
    """A remark (no points) when ``fn`` ignores the ``h`` it is given, else ``""``.

    The graded tests use the default h, so such a function passes them all, while the
    lesson's error-against-h figure, which passes every h from 1e-13 to 1, draws a flat
    line with no word (a student audit). Looked for only when every check passes:
    otherwise the failures say what to fix first.
    """
    if not report:
        return ""
    problem = gradient_problem(PUBLIC_SEEDS[0], (6,))
    try:
        default = _as_gradient(call(fn, NAME, problem.f, problem.x.copy()), problem.x.shape)
        large = _as_gradient(call(fn, NAME, problem.f, problem.x.copy(), h=_LARGE_H),
                             problem.x.shape)
    except StudentError as exc:
        if "unexpected keyword argument 'h'" not in str(exc):
            return ""
        return (f"Note: your {NAME} takes no h: write def {NAME}(f, x, h=1e-4). The lesson's "
                f"figure of the error against h calls {NAME}(f, x, h=h).")
    # Exactly the same numbers: a five-point stencil's at h = 1e-2 are as close to its
    # default's as the check's tolerance, and it was told it ignored h (a student audit).
    if not np.array_equal(large, default):
        return ""
    return (f"Note: your {NAME} returns the same gradient for h={_LARGE_H:g} as for its "
            "default h: does it use the h it is given? The lesson's figure of the error "
            "against h passes every h from 1e-13 to 1, and its line for your function is "
            "flat. (The graded tests use the default h, so this costs no points.)")


def check_numerical_gradient(fn: Any, **kwargs: Any) -> Report:
    """Self-check of ``numerical_gradient(f, x)``: print a verdict, return the Report.

    Keyword arguments (``seeds``, ``time_limit``, ``file``) go to the runner. A function
    that ignores the ``h`` it is given gets a note (no points: the graded tests pass none).
    """
    return check_function(NAME, NUMERICAL_GRADIENT_PROPERTIES, fn, note=_h_note, **kwargs)


def assert_numerical_gradient(fn: Any, seed: int, prop: str | None = None, **kwargs: Any
                              ) -> None:
    """Hidden test: raise ``AssertionError`` with the student-facing message on failure."""
    __tracebackhide__ = True  # not shown in tracebacks (IPython, pytest)
    assert_function(NAME, NUMERICAL_GRADIENT_PROPERTIES, fn, seed, prop, **kwargs)
