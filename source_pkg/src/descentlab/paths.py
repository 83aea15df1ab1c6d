"""Follow an optimizer across a surface and record its path, safely.

:func:`trace` runs any object with ``update(params, grads)`` — a reference
optimizer or a student's class — on a :class:`~descentlab.surfaces.Surface`
and returns a :class:`Trajectory`. It never lets a student's mistake escape as an
exception or a hang: a diverging path, an exception raised by ``update`` and
an update that takes too long all end the path early with a ``status`` and a
friendly ``message``.

The optimizer object is used as given, never copied: its state (velocity,
step counter, ...) carries over from one call to the next, which is what a
live widget that adds steps wants. Pass ``fresh=True`` to call its ``reset()``
first, or pass a registry name to get a new optimizer each time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._timebox import TimeLimitExceeded
from ._timebox import time_limit as _interrupt_after
from .errors import (
    NOT_RUN_WHILE_GRADING,
    REFERENCE_UNAVAILABLE,
    closest_name,
    describe_exception,
    exception_hint,
)
from .optimizers import OPTIMIZERS, Optimizer, find_reference, get_optimizer, nan_causes
from .surfaces import Curve, Surface, get_curve, get_surface

__all__ = ["DIVERGENCE_LIMIT", "Trajectory", "run_many", "trace", "trace_1d"]

#: A coordinate beyond this magnitude counts as diverged.
DIVERGENCE_LIMIT = 1e12

#: How the message of a path whose first step made the position NaN starts (a formula
#: fault, not a divergence: plots label it "(NaN at step 1)").
NAN_AT_FIRST_STEP = "The path stopped at step 1: the position became NaN."

_STATUSES = ("ok", "diverged", "error", "timeout")


@dataclass
class Trajectory:
    """The points an optimizer visited, and how the run ended.

    Attributes
    ----------
    xy : numpy.ndarray
        Shape ``(n + 1, 2)`` for a surface (``(n + 1, 1)`` for a 1-D curve):
        row 0 is the start, row ``k`` the position after ``k`` steps.
    loss : numpy.ndarray
        Shape ``(n + 1,)``: the loss at each row of ``xy``.
    status : str
        ``"ok"`` (all requested steps done), ``"diverged"`` (stopped before the
        first point that was inf/NaN or beyond :data:`DIVERGENCE_LIMIT`),
        ``"error"`` (``update`` raised) or ``"timeout"``.
    message : str
        Empty when ``status == "ok"``; otherwise one sentence for a student.
    steps_requested : int
        How many steps were asked for.
    label : str
        Who made the path (the optimizer's ``repr`` or registry name).
    """

    xy: np.ndarray
    loss: np.ndarray
    status: str = "ok"
    message: str = ""
    steps_requested: int = 0
    label: str = ""

    def __post_init__(self) -> None:
        if self.status not in _STATUSES:
            raise ValueError(f"status must be one of {_STATUSES}, got {self.status!r}")

    @property
    def final(self) -> np.ndarray:
        """The last position reached, shape ``(2,)`` (``(1,)`` in 1-D)."""
        return self.xy[-1]

    @property
    def steps(self) -> int:
        """Number of steps actually taken (``len(xy) - 1``)."""
        return len(self.xy) - 1

    @property
    def ok(self) -> bool:
        """Whether all requested steps ran without a problem."""
        return self.status == "ok"


def _as_optimizer(optimizer: Any, fresh: bool) -> tuple[Any, str]:
    """Resolve a registry name, check the interface, optionally reset."""
    if isinstance(optimizer, str):
        opt = get_optimizer(optimizer)
        return opt, optimizer.lower()
    update = getattr(optimizer, "update", None)
    if not callable(update):
        raise TypeError(
            "optimizer must be a registry name or an object with an "
            f"update(params, grads) method, got {type(optimizer).__name__}"
        )
    if fresh:
        reset = getattr(optimizer, "reset", None)
        if callable(reset):
            reset()
    return optimizer, repr(optimizer) if isinstance(optimizer, Optimizer) else (
        type(optimizer).__name__
    )


def _check_steps(steps: int) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0, got {steps!r}")
    return int(steps)


_F64 = np.dtype(np.float64)
#: What ends a path as "diverged" (see :func:`_steps_reference`).
_DIVERGED = ("gradient", "nonfinite", "nan", "beyond")
#: The reference loop compares the clock with the time limit every this many steps
#: (a reference step takes microseconds); SIGALRM interrupts it anyway where it can.
_CLOCK_EVERY = 256
#: Attributes an instance could shadow to change what a reference class computes.
_STEP_ATTRIBUTES = frozenset({"update", "state_of", "_check", "_mu"})
#: The key under which a reference optimizer steps all coordinates of a path as one vector.
_PACKED = "<the position, packed>"


def _read(params: Any, key: str) -> float:
    """Read the scalar position ``params[key]`` (student-proof)."""
    value = np.asarray(params[key], dtype=float)
    if value.size != 1:
        raise ValueError(
            f"params[{key!r}] should hold one number but has shape {value.shape}"
        )
    return float(value.reshape(-1)[0])


def _check_time_limit(limit: float | None) -> None:
    if limit is not None and not (limit > 0 and math.isfinite(limit)):
        raise ValueError(
            f"time_limit must be a positive number of seconds or None, got {limit}"
        )


def _packed_state(opt: Any, keys: Sequence[str]) -> dict[str, np.ndarray] | None:
    """The state of ``opt`` for the 0-d parameters ``keys``, packed into vectors.

    Returns ``None`` unless ``opt`` is an unmodified registry class whose state
    for ``keys`` (if any) was made for 0-d float64 parameters: only then may
    :func:`_run` step all coordinates at once as one parameter, with the class'
    own ``update``. That is exact because a reference ``update`` is element-wise
    (each entry depends only on the same entry of the parameter, its gradient
    and its state, and on scalars) and its step counter and other scalars
    advance once per call, whatever the number of keys.
    """
    cls = type(opt)
    if OPTIMIZERS.get(getattr(cls, "name", None)) is not cls:
        return None  # a student's class, or a subclass of a reference one
    if _STEP_ATTRIBUTES & vars(opt).keys():
        return None  # a method replaced on the instance: not the reference any more
    if not callable(getattr(cls.update, "__wrapped__", None)):
        return None  # an update without checks_inputs: nothing to skip
    have = [opt.state.get(k) for k in keys]
    if any(s is None for s in have):
        if any(s is not None for s in have):
            return None
        return {name: np.zeros(len(keys)) for name in cls.state_names}
    packed = {}
    for name in cls.state_names:
        parts = [s.get(name) for s in have]
        if any(
            type(a) is not np.ndarray or a.shape != () or a.dtype is not _F64 for a in parts
        ):
            return None  # made for other parameters: update() will say so
        packed[name] = np.array(parts, dtype=float)
    return packed


def _unpack_state(opt: Optimizer, keys: Sequence[str], packed: dict[str, np.ndarray]) -> None:
    """Store packed state the way ``update`` keeps it: one 0-d array per key and name."""
    if not packed:
        return  # an optimizer without state (SGD) keeps none per key either
    for i, key in enumerate(keys):
        opt.state[key] = {name: np.array(a[i]) for name, a in packed.items()}


def _steps_reference(
    opt: Optimizer,
    state: dict[str, np.ndarray],
    xy: np.ndarray,
    grad_fn: Callable[[np.ndarray], Sequence[float]],
    deadline: float | None,
) -> str:
    """Fill rows ``1, 2, ...`` of ``xy`` with the steps of a reference optimizer.

    The position is one vector (one parameter, with the packed ``state``)
    stepped by the class' own ``update`` without its input checks
    (``update.__wrapped__``, see :func:`~descentlab.optimizers.base.checks_inputs`:
    the inputs are made here, and are right).
    Stops before the first gradient that is not finite (returns
    ``"gradient"``) or position that is NaN (``"nan"``), infinite (``"nonfinite"``) or beyond
    :data:`DIVERGENCE_LIMIT` (``"beyond"``); returns ``""`` when every row was
    filled, and ``"odd gradient"`` before a gradient that is not one number per
    coordinate (``update`` then has to say what it makes of it). Rows not
    reached stay NaN.
    """
    p = xy[0].copy()
    g = np.empty_like(p)
    unchecked_update = type(opt).update.__wrapped__
    params, grads = {_PACKED: p}, {_PACKED: g}
    clock, isfinite, limit = time.monotonic, math.isfinite, DIVERGENCE_LIMIT
    opt.state[_PACKED] = state  # update() changes these arrays in place
    try:
        for step in range(1, len(xy)):
            if deadline is not None and not step % _CLOCK_EVERY and clock() >= deadline:
                raise TimeLimitExceeded
            try:
                grad = grad_fn(p)
                if grad is None:  # NumPy would store it as NaN: not a divergence
                    return "odd gradient"
                g[:] = grad
            except (TypeError, ValueError):
                return "odd gradient"
            for v in g.tolist():
                if not isfinite(v):
                    return "gradient"
            unchecked_update(opt, params, grads)
            row = p.tolist()
            for v in row:
                if not abs(v) <= limit:  # NaN fails this too
                    return _why_stopped(row)
            xy[step] = p
        return ""
    finally:
        del opt.state[_PACKED]


def _steps_general(
    update: Callable[[dict, dict], Any],
    keys: Sequence[str],
    xy: np.ndarray,
    grad_fn: Callable[[np.ndarray], Sequence[float]],
    deadline: float | None,
    who: str,
    first: int = 1,
    shift: int = 0,
) -> tuple[str, str]:
    """Fill rows ``first, first + 1, ...`` of ``xy`` with the steps of any ``update``, guarded.

    Returns ``(problem, message)``: ``problem`` is as for
    :func:`_steps_reference`, or ``"error"`` (then ``message`` says what went wrong, row
    ``k`` being step ``k + shift``). Rows not reached stay NaN.
    """
    params = {k: np.array(v) for k, v in zip(keys, xy[first - 1].tolist(), strict=True)}
    g = np.empty(len(keys))
    clock, isfinite, limit = time.monotonic, math.isfinite, DIVERGENCE_LIMIT
    for step in range(first, len(xy)):
        if deadline is not None and clock() >= deadline:
            raise TimeLimitExceeded
        # Our own arithmetic may overflow on a diverging path; the finiteness
        # checks report that instead of a warning. The student's update runs
        # outside, so that NumPy's warnings about it still reach the student.
        with np.errstate(all="ignore"):
            grad = grad_fn(xy[step - 1])
        if grad is None:
            # A student audit: a bowl_gradient without `return` drew a path labelled
            # "diverged" (NumPy stores None as NaN) at the lesson's converging learning rate.
            return "error", (f"The gradient function returned None at step {step + shift} "
                             "instead of the gradient: does it end with `return`?")
        try:
            g[:] = grad
        except (TypeError, ValueError):
            # Not one number per coordinate (a hand-written gradient): hand over
            # what it holds, as arrays, and let update() make of it what it can.
            odd = np.asarray(grad, dtype=float)
            if not np.all(np.isfinite(odd)):
                return "gradient", ""
            grads = {k: np.array(v) for k, v in zip(keys, odd, strict=True)}
        else:
            values = g.tolist()
            for v in values:
                if not isfinite(v):
                    return "gradient", ""
            grads = {k: np.array(v) for k, v in zip(keys, values, strict=True)}
        try:
            update(params, grads)
        except Exception as exc:
            return "error", _update_error(who, exc, step + shift)
        row = []
        try:
            for k in keys:
                value = params[k]
                if type(value) is np.ndarray and value.ndim == 0 and value.dtype is _F64:
                    row.append(float(value))
                else:
                    row.append(_read(params, k))
                    # Keep every entry an ndarray so in-place updates keep working
                    # after a student's code rebound one to a Python or NumPy scalar.
                    if not isinstance(value, np.ndarray):
                        params[k] = np.array(value, dtype=float)
        except Exception as exc:
            return "error", (
                f"After step {step}, params no longer holds the position: "
                f"{type(exc).__name__}: {exc}."
            )
        for v in row:
            if not abs(v) <= limit:  # NaN fails this too
                return _why_stopped(row), ""
        xy[step] = row
    return "", ""


def _losses(f: Callable[..., Any], xy: np.ndarray) -> np.ndarray:
    """``f`` at every row of ``xy``: one vectorised call, point by point if ``f`` is not."""
    with np.errstate(all="ignore"):
        try:
            loss = np.asarray(f(*xy.T), dtype=float)
        except Exception:  # a hand-made surface that only takes numbers
            loss = None
        if loss is None or loss.shape != (len(xy),):
            loss = np.array([float(f(*point)) for point in xy], dtype=float)
    return loss


def _why_stopped(position: list[float]) -> str:
    """``"nan"``, ``"nonfinite"`` (infinite) or ``"beyond"``: why ``position`` ends a path."""
    if any(map(math.isnan, position)):
        return "nan"
    return "nonfinite" if not all(map(math.isfinite, position)) else "beyond"


def _diverged(step: int, problem: str, optimizer: str | None = None) -> str:
    """The status line of a path that diverged at ``step`` (``problem`` as returned above);
    ``optimizer``, the registry name of the optimizer stepped, if known, tailors the causes
    of a NaN at the first step to what its update can do (:func:`~.optimizers.nan_causes`)."""
    if problem == "gradient":
        return (
            f"The path diverged at step {step}: the gradient became inf/NaN. "
            "Try a smaller learning rate."
        )
    if problem == "nan" and step == 1:
        # From a finite start and gradient, one step of a sound update cannot make NaN
        # (a step too long overflows to a huge value or inf instead): the formula is at fault.
        head = (f"{NAN_AT_FIRST_STEP} At the first step the "
                "learning rate is rarely the cause: NaN there usually comes from ")
        if optimizer is None:  # an optimizer of unknown kind: every usual cause
            return head + (
                "a division by zero or the square root of a negative number in update() (is "
                "the state under the square root built from g·g, so never negative? is "
                "epsilon added to the denominator?)."
            )
        causes, questions = nan_causes(optimizer)
        if OPTIMIZERS[optimizer].divides_by_gradient_statistic:
            # A start on an axis makes a zero gradient component: 0/0 without epsilon.
            questions += " is epsilon added to the denominator?"
        return head + f"{causes} in update()" + (f" ({questions.strip()})." if questions
                                                 else ".")
    if problem == "beyond":
        return (
            f"The path diverged at step {step}: the position went beyond "
            f"{DIVERGENCE_LIMIT:g}. Try a smaller learning rate."
        )
    return (
        f"The path diverged at step {step}: the position became inf/NaN. "
        "Try a smaller learning rate."
    )


def _run(
    update: Callable[[dict, dict], Any],
    keys: Sequence[str],
    start: Sequence[float],
    loss_fn: Callable[..., Any],
    grad_fn: Callable[[np.ndarray], Sequence[float]],
    steps: int,
    time_limit: float | None,
    who: str,
    label: str,
    reference: Any = None,
    first_step: int = 1,
) -> Trajectory:
    """The loop shared by :func:`trace` and :func:`trace_1d`.

    ``loss_fn`` takes one array per coordinate (vectorised, as surfaces are);
    ``grad_fn`` takes the position vector and returns one value per coordinate.
    ``reference`` is the optimizer object when it may be a reference one: an
    unmodified registry class is then stepped directly, with its inputs checked
    once per path instead of once per step (see :func:`_packed_state`).
    ``first_step`` is the number the messages give the path's first step.

    Every safety costs once per path: the time limit is one alarm (plus a clock
    check between steps), positions and gradients are checked as plain floats,
    and the losses are computed and checked in one vectorised call at the end.
    """
    steps = _check_steps(steps)
    if isinstance(first_step, bool) or not isinstance(first_step, (int, np.integer)) or (
        first_step < 1
    ):
        raise ValueError(f"first_step must be a whole number >= 1, got {first_step!r}")
    shift = int(first_step) - 1
    pos = np.array(start, dtype=float).reshape(len(keys))
    if not np.all(np.isfinite(pos)):
        raise ValueError(f"the start point must be finite, got {tuple(pos)}")
    _check_time_limit(time_limit)
    # Rows are written only once checked, so the first NaN row counts the steps
    # done, even after an alarm interrupted the loop anywhere.
    xy = np.full((steps + 1, len(keys)), np.nan)
    xy[0] = pos
    packed = None if reference is None else _packed_state(reference, keys)
    problem, message = "", ""
    began = time.monotonic()
    deadline = None if time_limit is None else began + time_limit
    try:
        # SIGALRM interrupts a hanging update where it can (main thread, POSIX);
        # the clock check between steps is the fallback everywhere else.
        with _interrupt_after(time_limit):
            if packed is not None:
                with np.errstate(all="ignore"):
                    problem = _steps_reference(reference, packed, xy, grad_fn, deadline)
                if problem == "odd gradient":  # update() says what it makes of it
                    _unpack_state(reference, keys, packed)
                    packed = None
            if packed is None:
                problem, message = _steps_general(
                    update, keys, xy, grad_fn, deadline, who, first=_rows_done(xy) + 1,
                    shift=shift,
                )
    except TimeLimitExceeded:
        problem = "timeout"
        message = (
            f"Stopped after {time.monotonic() - began:.1f} s at step "
            f"{min(_rows_done(xy) + 1, steps) + shift}: {who} took too long "
            f"(the time limit is {time_limit:g} s). Is there an endless loop?"
        )
    finally:
        if packed is not None:
            _unpack_state(reference, keys, packed)
    done = _rows_done(xy)
    if problem in _DIVERGED:
        kind = None if reference is None else find_reference(reference)
        message = _diverged(done + 1 + shift, problem, kind)
    # A copy when the path stopped early: the rows never reached are not kept alive.
    xy = xy if done + 1 == len(xy) else xy[: done + 1].copy()
    loss = _losses(loss_fn, xy)
    bad = np.flatnonzero(~np.isfinite(loss[1:]))
    if bad.size:  # a surface that is inf/NaN at a finite point: diverged there
        done = int(bad[0])
        problem, message = "nonfinite", _diverged(done + 1 + shift, "nonfinite")
        xy, loss = xy[: done + 1], loss[: done + 1]
    status = "diverged" if problem in _DIVERGED else problem or "ok"
    return Trajectory(
        xy=xy,
        loss=loss,
        status=status,
        message=message,
        steps_requested=steps,
        label=label,
    )


def _rows_done(xy: np.ndarray) -> int:
    """Steps recorded in ``xy``: rows before the first NaN row, minus the start."""
    unfilled = np.flatnonzero(np.isnan(xy[:, 0]))
    return (int(unfilled[0]) if unfilled.size else len(xy)) - 1


#: How a path's message for an unwritten exercise ends (a widget redraws on a slider
#: move; :func:`~descentlab.plots.plot_paths` says "run this cell again" instead).
THEN_MOVE_A_SLIDER = ", then move a slider."


def _update_error(who: str, exc: Exception, step: int) -> str:
    """The status line when the update raised: the exercise not written yet, or an error."""
    if isinstance(exc, NotImplementedError):
        return (f"{who} is not written yet (it raises NotImplementedError): write it, run its "
                f"cell{THEN_MOVE_A_SLIDER}")
    if type(exc).__name__ == REFERENCE_UNAVAILABLE:
        # While grading, the course's optimizers compute nothing: not an error of anyone's.
        return NOT_RUN_WHILE_GRADING
    text = str(exc).rstrip(". ")
    kind, message, where = describe_exception(exc)
    # The self-check's hint too ("did you mean self.beta1?"): a student audit's widget gave
    # the bare AttributeError under a self-check that named the typo.
    hint = exception_hint(kind, message, closest_name(exc), where)
    return f"{who} raised {kind} at step {step}" + (f": {text}." if text else ".") + \
        (f" {hint[0].upper()}{hint[1:]}" if hint else "")


def _who(opt: Any) -> str:
    return "The optimizer's update()" if isinstance(opt, Optimizer) else "Your update()"


def trace(
    optimizer: Any,
    surface: Surface | str,
    start: Sequence[float] | None = None,
    steps: int = 30,
    *,
    time_limit: float | None = 5.0,
    fresh: bool = False,
    first_step: int = 1,
) -> Trajectory:
    """Run ``steps`` optimizer steps on a surface and record the path.

    Each step passes ``params = {"x": x, "y": y}`` (0-d float64 arrays, the
    same dict every step) and a fresh ``grads = {"x": gx, "y": gy}`` to
    ``optimizer.update``, then reads ``params["x"]`` and ``params["y"]`` again,
    so an update that rebinds the entries instead of changing them in place
    still yields its path. An unmodified reference optimizer (a registry class)
    is stepped by its own kernel on both coordinates at once instead, which
    gives the same path and leaves the same state as those calls, at a fraction
    of their cost (``benchmarks/trace_overhead.py``).

    Parameters
    ----------
    optimizer : object with ``update(params, grads)``, or str
        Used as given (its state carries on from earlier calls); a registry
        name builds a new reference optimizer with default hyperparameters.
    surface : Surface or str
        The surface or its registry name.
    start : (float, float), optional
        Start point; defaults to ``surface.start``.
    steps : int
        Number of steps to take.
    time_limit : float or None
        Seconds allowed for the whole run; ``None`` for no limit. A hanging
        update is interrupted by SIGALRM when running in the main thread on a
        platform that has it (the previous handler and timer are restored);
        otherwise the limit is checked between steps only.
    fresh : bool
        Call ``optimizer.reset()`` first, if it has one.
    first_step : int
        The number of the first step in messages ("diverged at step ..."): a widget
        that adds steps a call at a time passes the number its own count has reached.

    Returns
    -------
    Trajectory
        The run stops early, never raising, when the position, loss or
        gradient becomes non-finite or a coordinate exceeds
        :data:`DIVERGENCE_LIMIT` (``"diverged"``: the gradient is checked
        *before* it reaches the optimizer, so no ``NonFiniteGradientWarning``
        is raised), when ``update`` raises (``"error"``) or when time runs out
        (``"timeout"``).

    Raises
    ------
    TypeError, ValueError
        For bad arguments (unknown names, a non-finite start, negative steps),
        not for anything the optimizer does.
    """
    surf = get_surface(surface)
    opt, label = _as_optimizer(optimizer, fresh)
    start = surf.start if start is None else start
    grad = surf.grad
    return _run(
        opt.update,
        ("x", "y"),
        start,
        surf.f,
        lambda p: grad(p[0], p[1]),
        steps,
        time_limit,
        _who(opt),
        label,
        reference=opt,
        first_step=first_step,
    )


def trace_1d(
    optimizer: Any,
    curve: Curve | str,
    start: float | None = None,
    steps: int = 30,
    *,
    time_limit: float | None = 5.0,
    fresh: bool = False,
    first_step: int = 1,
) -> Trajectory:
    """Like :func:`trace` on a 1-D :class:`~descentlab.surfaces.Curve`.

    Parameters
    ----------
    optimizer : object with ``update(params, grads)``, str, or callable
        An optimizer (``params = {"x": x}``, ``grads = {"x": f'(x)}``), a
        registry name, or a step function ``step(x, dfdx) -> new_x`` working
        on floats, for the first lesson before optimizer classes.
    curve : Curve or str
        The curve or its registry name.
    start : float, optional
        Defaults to ``curve.start``.
    steps, time_limit, fresh, first_step
        As for :func:`trace`.

    Returns
    -------
    Trajectory
        With ``xy`` of shape ``(n + 1, 1)``.
    """
    crv = get_curve(curve)
    start = crv.start if start is None else start
    if not isinstance(optimizer, str) and not hasattr(optimizer, "update") and callable(
        optimizer
    ):
        step_fn = optimizer

        def update(params: dict, grads: dict) -> None:
            params["x"] = step_fn(float(params["x"]), float(grads["x"]))

        who = f"Your {getattr(step_fn, '__name__', 'step function')}()"
        label = getattr(step_fn, "__name__", "step")
        reference = None
    else:
        opt, label = _as_optimizer(optimizer, fresh)
        update, who, reference = opt.update, _who(opt), opt
    df = crv.df
    return _run(
        update,
        ("x",),
        [start],
        crv.f,
        lambda p: (df(p[0]),),
        steps,
        time_limit,
        who,
        label,
        reference=reference,
        first_step=first_step,
    )


def run_many(
    optimizers: Mapping[str, Any],
    surface: Surface | str,
    start: Sequence[float] | None = None,
    steps: int = 30,
    *,
    time_limit: float | None = 5.0,
    fresh: bool = False,
) -> dict[str, Trajectory]:
    """Trace several optimizers from the same start.

    Parameters
    ----------
    optimizers : mapping of label to optimizer or registry name
        For example ``{"SGD": SGD(lr=0.95), "Adam": "adam"}``.
    surface, start, steps, time_limit, fresh
        As for :func:`trace`; ``time_limit`` applies to each optimizer.

    Returns
    -------
    dict of str to Trajectory
        In the order of ``optimizers``; each path's ``label`` is its key.
    """
    result = {}
    for label, opt in optimizers.items():
        path = trace(opt, surface, start, steps, time_limit=time_limit, fresh=fresh)
        path.label = str(label)
        result[label] = path
    return result
