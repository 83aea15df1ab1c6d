"""Follow an optimizer across a surface and record its path, safely.

:func:`trace` runs any object with ``update(params, grads)`` — a reference
optimizer or a student's class — on a :class:`~descentlab.surfaces.Surface`
and returns a :class:`Path`. It never lets a student's mistake escape as an
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
from .optimizers import Optimizer, get_optimizer
from .surfaces import Curve, Surface, get_curve, get_surface

__all__ = ["DIVERGENCE_LIMIT", "Path", "run_many", "trace", "trace_1d"]

#: A coordinate beyond this magnitude counts as diverged.
DIVERGENCE_LIMIT = 1e12

_STATUSES = ("ok", "diverged", "error", "timeout")


@dataclass
class Path:
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


def _run(
    update: Callable[[dict, dict], Any],
    keys: Sequence[str],
    start: Sequence[float],
    loss_fn: Callable[[np.ndarray], float],
    grad_fn: Callable[[np.ndarray], Sequence[float]],
    steps: int,
    time_limit: float | None,
    who: str,
    label: str,
) -> Path:
    """The loop shared by :func:`trace` and :func:`trace_1d`."""
    steps = _check_steps(steps)
    pos = np.array(start, dtype=float).reshape(len(keys))
    if not np.all(np.isfinite(pos)):
        raise ValueError(f"the start point must be finite, got {tuple(pos)}")
    with np.errstate(all="ignore"):
        loss0 = float(loss_fn(pos))
    # (position, loss) pairs: one append per step, so an alarm cannot land
    # between recording a position and its loss.
    visited = [(pos, loss0)]
    params = {k: np.array(v) for k, v in zip(keys, pos, strict=True)}
    status, message = "ok", ""
    _check_time_limit(time_limit)
    began = time.monotonic()
    step = 0
    try:
        # SIGALRM interrupts a hanging update where it can (main thread, POSIX);
        # the check between steps is the fallback everywhere else.
        with _interrupt_after(time_limit):
            for step in range(1, steps + 1):
                if time_limit is not None and time.monotonic() - began >= time_limit:
                    raise TimeLimitExceeded
                # Our own arithmetic may overflow on a diverging path; the
                # finiteness checks below report that instead of a warning.
                with np.errstate(all="ignore"):
                    grad = np.asarray(grad_fn(pos), dtype=float)
                if not np.all(np.isfinite(grad)):
                    status = "diverged"
                    message = (
                        f"The path diverged at step {step}: the gradient became inf/NaN. "
                        "Try a smaller learning rate."
                    )
                    break
                grads = {k: np.array(g) for k, g in zip(keys, grad, strict=True)}
                try:
                    update(params, grads)
                except Exception as exc:
                    status = "error"
                    message = _update_error(who, exc, step)
                    break
                try:
                    new = np.array([_read(params, k) for k in keys])
                except Exception as exc:
                    status = "error"
                    message = (
                        f"After step {step}, params no longer holds the position: "
                        f"{type(exc).__name__}: {exc}."
                    )
                    break
                # Keep every entry an ndarray so in-place updates keep working
                # after a student's code rebound one to a Python or NumPy scalar.
                for k in keys:
                    if not isinstance(params[k], np.ndarray):
                        params[k] = np.array(params[k], dtype=float)
                with np.errstate(all="ignore"):
                    loss = float(loss_fn(new))
                if not (np.all(np.isfinite(new)) and math.isfinite(loss)):
                    status = "diverged"
                    message = (
                        f"The path diverged at step {step}: the position became inf/NaN. "
                        "Try a smaller learning rate."
                    )
                    break
                if np.max(np.abs(new)) > DIVERGENCE_LIMIT:
                    status = "diverged"
                    message = (
                        f"The path diverged at step {step}: the position went beyond "
                        f"{DIVERGENCE_LIMIT:g}. Try a smaller learning rate."
                    )
                    break
                pos = new
                visited.append((pos, loss))
    except TimeLimitExceeded:
        status = "timeout"
        message = (
            f"Stopped after {time.monotonic() - began:.1f} s at step {step}: {who} took too long "
            f"(the time limit is {time_limit:g} s). Is there an endless loop?"
        )
    return Path(
        xy=np.array([p for p, _ in visited], dtype=float).reshape(-1, len(keys)),
        loss=np.array([v for _, v in visited], dtype=float),
        status=status,
        message=message,
        steps_requested=steps,
        label=label,
    )


def _update_error(who: str, exc: Exception, step: int) -> str:
    """The status line when the update raised: the exercise not written yet, or an error."""
    if isinstance(exc, NotImplementedError):
        return (f"{who} is not written yet (it raises NotImplementedError): write it, run its "
                "cell, then move a slider.")
    text = str(exc).rstrip(". ")
    return f"{who} raised {type(exc).__name__} at step {step}" + (f": {text}." if text else ".")


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
) -> Path:
    """Run ``steps`` optimizer steps on a surface and record the path.

    Each step passes ``params = {"x": x, "y": y}`` (0-d float64 arrays, the
    same dict every step) and a fresh ``grads = {"x": gx, "y": gy}`` to
    ``optimizer.update``, then reads ``params["x"]`` and ``params["y"]`` again,
    so an update that rebinds the entries instead of changing them in place
    still yields its path.

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

    Returns
    -------
    Path
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
    return _run(
        opt.update,
        ("x", "y"),
        start,
        lambda p: surf.f(p[0], p[1]),
        lambda p: surf.grad(p[0], p[1]),
        steps,
        time_limit,
        _who(opt),
        label,
    )


def trace_1d(
    optimizer: Any,
    curve: Curve | str,
    start: float | None = None,
    steps: int = 30,
    *,
    time_limit: float | None = 5.0,
    fresh: bool = False,
) -> Path:
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
    steps, time_limit, fresh
        As for :func:`trace`.

    Returns
    -------
    Path
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
    else:
        opt, label = _as_optimizer(optimizer, fresh)
        update, who = opt.update, _who(opt)
    return _run(
        update,
        ("x",),
        [start],
        lambda p: crv.f(p[0]),
        lambda p: [crv.df(p[0])],
        steps,
        time_limit,
        who,
        label,
    )


def run_many(
    optimizers: Mapping[str, Any],
    surface: Surface | str,
    start: Sequence[float] | None = None,
    steps: int = 30,
    *,
    time_limit: float | None = 5.0,
    fresh: bool = False,
) -> dict[str, Path]:
    """Trace several optimizers from the same start.

    Parameters
    ----------
    optimizers : mapping of label to optimizer or registry name
        For example ``{"SGD": SGD(lr=0.95), "Adam": "adam"}``.
    surface, start, steps, time_limit, fresh
        As for :func:`trace`; ``time_limit`` applies to each optimizer.

    Returns
    -------
    dict of str to Path
        In the order of ``optimizers``; each path's ``label`` is its key.
    """
    result = {}
    for label, opt in optimizers.items():
        path = trace(opt, surface, start, steps, time_limit=time_limit, fresh=fresh)
        path.label = str(label)
        result[label] = path
    return result
