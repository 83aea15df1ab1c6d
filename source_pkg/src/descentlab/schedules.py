r"""Learning-rate schedules, and a wrapper that makes any optimizer follow one.

A schedule is a function of the step index :math:`t` that returns the
learning rate :math:`\eta_t` to use for the update number :math:`t + 1`:
:math:`t = 0` is the first update, so every schedule starts at (or, with
warm-up, ramps up to) ``lr0``. This is the counting of PyTorch's
``torch.optim.lr_scheduler`` classes, whose ``last_epoch`` is 0 before the
first ``scheduler.step()``.

Every schedule accepts an integer ``t`` or an array of them: a scalar gives a
``float``, an array gives an array of the same shape, so that
``cosine(np.arange(100), 0.1, 100)`` is ready to plot.

- :func:`step_decay`: multiply by ``drop`` every ``every`` steps (``StepLR``);
- :func:`cosine`: half a cosine wave from ``lr0`` down to ``lr_min``
  (``CosineAnnealingLR``; Loshchilov & Hutter's SGDR without restarts);
- :func:`warmup`: a linear ramp up to ``lr0`` (Goyal et al.), then constant;
- :func:`warmup_cosine`: the ramp, then the cosine;
- :class:`Scheduled`: sets ``optimizer.lr`` from a schedule before each update.

References
----------
Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts",
ICLR 2017.
Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour",
arXiv:1706.02677, 2017.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["Scheduled", "cosine", "rates_of", "step_decay", "warmup", "warmup_cosine"]

#: What the schedules return: a float for a scalar ``t``, an array for an array.
Rate = Any


# -- argument checks: a schedule is often written by hand in a notebook, so a
# -- wrong argument gets a sentence rather than a silent NaN.
def _steps(t: Any, name: str = "t") -> np.ndarray:
    arr = np.asarray(t)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(f"{name} must be a step index (an integer) or an array of them, got {t!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 (0 is the first update), got {t!r}")
    return arr.astype(np.float64)


def _positive(value: float, name: str, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")
    return value


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def _out(arr: np.ndarray) -> Rate:
    return float(arr) if arr.ndim == 0 else arr


# -- schedules ------------------------------------------------------------------
def step_decay(t: Any, lr0: float, drop: float = 0.5, *, every: int) -> Rate:
    r"""Step decay: multiply the learning rate by ``drop`` every ``every`` steps.

    .. math::

        \eta_t = \eta_0 \cdot \text{drop}^{\lfloor t / \text{every} \rfloor}

    Equal to ``torch.optim.lr_scheduler.StepLR(optimizer, step_size=every,
    gamma=drop)`` with ``lr=lr0`` (PyTorch's default ``gamma`` is 0.1; the
    halving default here follows the step schedules of *Dive into Deep
    Learning*, sec. 12.11).

    Parameters
    ----------
    t : int or array of int
        Number of updates already done (0 for the first update).
    lr0 : float
        Initial learning rate :math:`\eta_0 > 0`.
    drop : float, default 0.5
        Factor applied at each drop, in (0, 1].
    every : int
        Steps between two drops (keyword-only, no default: it depends on the
        length of the run).

    Returns
    -------
    float or numpy.ndarray
        The learning rate(s), with the shape of ``t``.
    """
    steps = _steps(t)
    lr0 = _positive(lr0, "lr0")
    drop = _positive(drop, "drop")
    if drop > 1.0:
        raise ValueError(f"drop must lie in (0, 1] (a decay), got {drop}")
    every = _count(every, "every")
    return _out(lr0 * drop ** np.floor(steps / every))


def cosine(t: Any, lr0: float, total: int, lr_min: float = 0.0) -> Rate:
    r"""Cosine annealing from ``lr0`` down to ``lr_min`` over ``total`` steps.

    .. math::

        \eta_t = \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
                 \left(1 + \cos\frac{\pi\, t}{T}\right) \quad (0 \le t \le T),
        \qquad \eta_t = \eta_{\min} \quad (t > T)

    with :math:`T` = ``total``. For :math:`0 \le t \le T` this is
    ``torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total,
    eta_min=lr_min)`` and one cycle of SGDR (Loshchilov & Hutter, 2017, eq. 5,
    without restarts). After :math:`T` the rate stays at :math:`\eta_{\min}`
    (PyTorch's formula would climb back up along the cosine instead).

    Parameters
    ----------
    t : int or array of int
        Number of updates already done (0 for the first update).
    lr0 : float
        Initial (largest) learning rate, > 0.
    total : int
        Length :math:`T` of the annealing, >= 1: :math:`\eta_T = \eta_{\min}`.
    lr_min : float, default 0.0
        Final learning rate, in [0, lr0].

    Returns
    -------
    float or numpy.ndarray
        The learning rate(s), with the shape of ``t``.
    """
    steps = _steps(t)
    lr0 = _positive(lr0, "lr0")
    total = _count(total, "total")
    lr_min = _positive(lr_min, "lr_min", allow_zero=True)
    if lr_min > lr0:
        raise ValueError(f"lr_min ({lr_min}) must not exceed lr0 ({lr0})")
    progress = np.minimum(steps, total) / total
    return _out(lr_min + 0.5 * (lr0 - lr_min) * (1.0 + np.cos(np.pi * progress)))


def warmup(t: Any, lr0: float, warmup_steps: int) -> Rate:
    r"""Linear warm-up to ``lr0`` over ``warmup_steps`` updates, then constant.

    .. math::

        \eta_t = \eta_0 \cdot \min\!\left(1, \frac{t + 1}{W}\right)

    with :math:`W` = ``warmup_steps``: the first update uses :math:`\eta_0/W`
    (never 0, which would waste a step), update number :math:`W` and all later
    ones use :math:`\eta_0`. This is the "gradual warm-up" of Goyal et al.
    (2017, sec. 2.2), and equals ``torch.optim.lr_scheduler.LinearLR(optimizer,
    start_factor=1/W, end_factor=1.0, total_iters=W-1)``.

    Parameters
    ----------
    t : int or array of int
        Number of updates already done (0 for the first update).
    lr0 : float
        Target learning rate, > 0.
    warmup_steps : int
        Length :math:`W` of the ramp, >= 1 (1 means no warm-up).

    Returns
    -------
    float or numpy.ndarray
        The learning rate(s), with the shape of ``t``.
    """
    steps = _steps(t)
    lr0 = _positive(lr0, "lr0")
    warmup_steps = _count(warmup_steps, "warmup_steps")
    return _out(lr0 * np.minimum(1.0, (steps + 1.0) / warmup_steps))


def warmup_cosine(
    t: Any, lr0: float, total: int, warmup_steps: int, lr_min: float = 0.0
) -> Rate:
    r"""Linear warm-up for ``warmup_steps`` updates, then cosine annealing.

    .. math::

        \eta_t = \begin{cases}
            \eta_0\, \dfrac{t + 1}{W} & t < W \\[1ex]
            \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
            \left(1 + \cos\dfrac{\pi\,(t - W)}{T - W}\right) & W \le t \le T \\[1ex]
            \eta_{\min} & t > T
        \end{cases}

    i.e. :func:`warmup` followed by :func:`cosine` restarted at :math:`t = W`
    over the remaining :math:`T - W` steps (:math:`T` = ``total``, :math:`W` =
    ``warmup_steps``). The ramp reaches :math:`\eta_0` at :math:`t = W - 1`
    and the cosine starts from it at :math:`t = W`. The common recipe for
    Adam(W) on large models (Goyal et al., 2017; Loshchilov & Hutter, 2017).

    Parameters
    ----------
    t : int or array of int
        Number of updates already done (0 for the first update).
    lr0 : float
        Peak learning rate, > 0.
    total : int
        Step at which the rate reaches ``lr_min``; must exceed ``warmup_steps``.
    warmup_steps : int
        Length of the ramp, >= 1.
    lr_min : float, default 0.0
        Final learning rate, in [0, lr0].

    Returns
    -------
    float or numpy.ndarray
        The learning rate(s), with the shape of ``t``.
    """
    steps = _steps(t)
    total = _count(total, "total")
    warmup_steps = _count(warmup_steps, "warmup_steps")
    if total <= warmup_steps:
        raise ValueError(
            f"total ({total}) must be larger than warmup_steps ({warmup_steps}): "
            "the cosine needs at least one step"
        )
    ramp = np.asarray(warmup(steps, lr0, warmup_steps))
    decay = np.asarray(cosine(np.maximum(steps - warmup_steps, 0.0), lr0, total - warmup_steps,
                              lr_min))
    return _out(np.where(steps < warmup_steps, ramp, decay))


# -- following a schedule ---------------------------------------------------------
def _one_rate(value: Any, t: int) -> float:
    """``value``, a schedule's answer for step ``t``, as a float; a sentence if it is none."""
    try:
        rate = float(value)
    except (TypeError, ValueError):
        # A whole list of rates (an audit) must not fill the screen: reprlib cuts it.
        raise TypeError(f"the schedule returned {reprlib.repr(value)} for t={t}; it must "
                        "return one number") from None
    if not math.isfinite(rate) or rate < 0:
        raise ValueError(f"the schedule returned the learning rate {rate} for t={t}")
    return rate


def rates_of(schedule: Callable[..., Any], steps: Any, *args: Any) -> np.ndarray:
    """``schedule(t, *args)`` at every step, each checked to be one learning rate.

    For plotting a hand-written schedule (lesson 07's ``cosine_schedule``): a schedule
    that returns a list, None or a negative number is named in a sentence, not in a
    plotting library's error about array shapes.

    Parameters
    ----------
    schedule : callable
        ``schedule(t, *args)`` returns the learning rate of update ``t`` (0 = the first).
    steps : iterable of int
        The steps ``t`` to evaluate.
    *args
        Passed on after ``t`` (e.g. ``lr0, total``).

    Returns
    -------
    numpy.ndarray
        One float per step.

    Raises
    ------
    TypeError
        When a value is not one number.
    ValueError
        When a value is negative or not finite.

    Examples
    --------
    >>> rates_of(cosine, range(3), 0.1, 2)
    array([0.1 , 0.05, 0.  ])
    """
    return np.array([_one_rate(schedule(int(t), *args), int(t)) for t in steps], dtype=float)


class Scheduled:
    r"""Wrap an optimizer so that it follows a learning-rate schedule.

    Before each ``update`` the wrapper sets ``optimizer.lr = schedule(t)``,
    where ``t`` is the number of updates it has already passed on (0 for the
    first), then calls ``optimizer.update(params, grads)``. Any object with an
    ``lr`` attribute and the book's ``update(params, grads)`` method works: a
    reference optimizer or a student's class.

    Learning rate inside the state: Momentum's velocity here is
    :math:`v \leftarrow \mu v - \eta g` (the book's form), so a change of
    :math:`\eta` only affects new gradients; PyTorch's ``SGD`` keeps
    :math:`b \leftarrow \mu b + g` and scales the whole velocity by the
    current :math:`\eta`. The two are equal for a constant rate only.

    Parameters
    ----------
    optimizer : object with ``lr`` and ``update(params, grads)``
        The optimizer to drive; it is used as given, not copied.
    schedule : callable
        ``schedule(t) -> learning rate``, e.g.
        ``functools.partial(cosine, lr0=0.1, total=100)`` or
        ``lambda t: warmup(t, 1e-3, 10)``.

    Attributes
    ----------
    t : int
        Updates passed on so far.
    lrs : list of float
        The learning rate used by each of those updates, in order.

    Examples
    --------
    >>> from functools import partial
    >>> from descentlab.optimizers import SGD
    >>> opt = Scheduled(SGD(lr=0.1), partial(step_decay, lr0=0.1, every=2))
    >>> params, grads = {"w": np.ones(1)}, {"w": np.ones(1)}
    >>> for _ in range(3):
    ...     opt.update(params, grads)
    >>> opt.lrs
    [0.1, 0.1, 0.05]
    """

    def __init__(self, optimizer: Any, schedule: Callable[[int], float]) -> None:
        if not callable(getattr(optimizer, "update", None)):
            raise TypeError(
                "Scheduled needs an optimizer with an update(params, grads) method, "
                f"got {type(optimizer).__name__}"
            )
        if not hasattr(optimizer, "lr"):
            raise TypeError(
                f"Scheduled sets optimizer.lr before each step, but {type(optimizer).__name__} "
                "has no attribute lr (store the learning rate as self.lr in __init__)"
            )
        if not callable(schedule):
            raise TypeError(f"schedule must be a function of the step t, got {schedule!r}")
        self.optimizer = optimizer
        self.schedule = schedule
        self.t = 0
        self.lrs: list[float] = []

    @property
    def lr(self) -> float:
        """The learning rate the next update will use."""
        return self._rate(self.t)

    def _rate(self, t: int) -> float:
        return _one_rate(self.schedule(t), t)

    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Set ``optimizer.lr`` from the schedule, then apply one update in place.

        Parameters
        ----------
        params, grads : dict of str to numpy.ndarray
            Passed on to ``optimizer.update`` unchanged.
        """
        rate = self._rate(self.t)
        self.optimizer.lr = rate
        self.optimizer.update(params, grads)
        self.lrs.append(rate)
        self.t += 1

    def reset(self) -> None:
        """Restart the schedule, and the optimizer too if it has ``reset()``."""
        self.t = 0
        self.lrs = []
        reset = getattr(self.optimizer, "reset", None)
        if callable(reset):
            reset()

    def __repr__(self) -> str:
        name = getattr(self.schedule, "__name__", None)
        if name is None and hasattr(self.schedule, "func"):  # functools.partial
            name = self.schedule.func.__name__
        return f"Scheduled({self.optimizer!r}, {name or type(self.schedule).__name__})"
