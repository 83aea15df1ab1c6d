"""Checks for the learning-rate schedule exercise (lesson 7).

A student writes a schedule as a plain function of the step, e.g.
``cosine_schedule(t, lr0, total)``, with the arguments of the reference
function of the same name in :mod:`descentlab.schedules` (positional, in the
reference's order, without the optional ``lr_min``). Two graded properties:

============= ==============================================================
property      what must hold
============= ==============================================================
values        every step of the schedule proper (``0 <= t <= span``)
after         the steps after it (``span < t <= 3 span``): cosine and
              warm-up + cosine stay at 0, warm-up stays at ``lr0``, step
              decay keeps dropping
============= ==============================================================

where ``span`` is ``total`` (cosine schedules), ``warmup_steps`` (warm-up) or
four drops (step decay). Schedules are checked on the common exercise
interface (:mod:`.exercise`): :func:`check_schedule` is the public self-check
(it prints the same verdict as every other check, returns the
:class:`~.report.Report` and never raises); :func:`assert_schedule` is for
hidden tests (it raises ``AssertionError`` with a message meant for students).
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from .. import schedules
from .exercise import Outcome, assert_outcome, run_checks, self_check
from .function_exercises._runner import SKIPPED_AFTER_HANG, FunctionProperty, StudentError, call
from .grading import PUBLIC_SEEDS
from .messages import fmt, fmt_pair
from .report import Report

__all__ = ["SCHEDULE_PROPERTIES", "ScheduleCase", "assert_schedule", "check_schedule",
           "schedule_case"]

#: The graded properties of a schedule function, in the order to fix them.
SCHEDULE_PROPERTIES = ("values", "after")

#: Seconds one call of a student's schedule may take.
_CALL_LIMIT = 2.0

# Reference name -> the argument names a student's function takes after t.
_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "cosine": ("lr0", "total"),
    "step_decay": ("lr0", "drop", "every"),
    "warmup": ("lr0", "warmup_steps"),
    "warmup_cosine": ("lr0", "total", "warmup_steps"),
}


@dataclass(frozen=True)
class ScheduleCase:
    """One set of schedule arguments and the steps to evaluate.

    Attributes
    ----------
    name : str
        The reference schedule, e.g. ``"cosine"``.
    args : dict of str to float
        The arguments after ``t``, in the order the student's function takes them.
    steps : tuple of int
        The step indices checked.
    """

    name: str
    args: dict[str, float]
    steps: tuple[int, ...]

    def expected(self, t: int) -> float:
        """The reference rate at step ``t``."""
        fn = getattr(schedules, self.name)
        if self.name == "step_decay":
            return fn(t, self.args["lr0"], self.args["drop"], every=self.args["every"])
        return fn(t, **self.args)

    def describe(self, t: int) -> str:
        """``"t=3, lr0=0.0908746, total=41"``: six digits, so that a student who checks by hand
        computes with the numbers given (an audit read ``lr0=0.0909`` beside the right
        0.0908746 as a wrong input)."""
        parts = [f"t={t}"] + [
            f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.args.items()
        ]
        return ", ".join(parts)


def _check_name(name: str) -> str:
    if name not in _ARGUMENTS:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(_ARGUMENTS)}")
    return name


def schedule_case(name: str, prop: str, seed: int) -> ScheduleCase:
    """Draw the arguments and steps that test property ``prop`` of schedule ``name``.

    The learning rate avoids round values and the lengths are odd-sized, so a
    hard-coded constant or an integer division shows.
    """
    _check_name(name)
    if prop not in SCHEDULE_PROPERTIES:
        raise ValueError(f"unknown property {prop!r}; choose one of {SCHEDULE_PROPERTIES}")
    rng = np.random.default_rng(seed)
    lr0 = float(np.exp(rng.uniform(np.log(2e-3), np.log(0.8))))
    total = int(rng.integers(23, 400)) | 1  # odd: total / 2 is not a whole step
    warm = int(rng.integers(3, max(4, total // 4)))
    args: dict[str, float] = {"lr0": lr0}
    if name == "cosine":
        args["total"], span = total, total
    elif name == "warmup":
        args["warmup_steps"], span = warm, warm
    elif name == "warmup_cosine":
        args["total"], args["warmup_steps"], span = total, warm, total
    else:
        every = int(rng.integers(3, 40))
        args["drop"] = float(rng.uniform(0.2, 0.8))
        args["every"], span = every, 4 * every
    if prop == "values":
        inside = rng.integers(1, span, size=6)
        steps = {0, 1, span, span // 2, span - 1, *map(int, inside)}
        if name in ("warmup", "warmup_cosine"):
            steps |= {warm - 1, warm, max(warm - 2, 0)}
    else:
        steps = {span + 1, span + 2, 2 * span, 3 * span, *map(int, rng.integers(span + 1, 3 * span,
                                                                             size=4))}
    return ScheduleCase(name, args, tuple(sorted(steps)))


def _label(fn: Any) -> str:
    return getattr(fn, "__name__", "your schedule")


def _call(fn: Callable[..., Any], case: ScheduleCase, t: int, limit: float | None) -> float:
    """The student's rate at ``t``; raises :class:`StudentError` with a sentence on any problem."""
    where = f"{_label(fn)}({case.describe(t)})"
    value = call(fn, _label(fn), t, *case.args.values(), time_limit=limit, shown=where)
    if value is None:
        raise StudentError(f"{where} returned None: did you forget `return`?")
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise StudentError(
            f"{where} returned {reprlib.repr(value)}; a schedule returns one number (the "
            "learning rate)."
        ) from None
    if not math.isfinite(rate):
        raise StudentError(f"{where} returned {rate}; a learning rate must be finite.")
    return rate


#: A slip of one stage of the cosine rate lr0 · (1 + cos θ) / 2, θ = π·u / total, u =
#: min(t, total): its hint, and what it makes of the stage's input. The right stage first.
_Slip = tuple[str, Callable[..., float]]
_FLOOR = ("`//` is floor division, which drops the fraction of the angle: write π·t / total "
          "with `/`")

#: u, the step the angle is taken at, from t and total.
_STEP_SLIPS: tuple[_Slip, ...] = (
    ("", lambda t, total: min(t, total)),
    ("the first update is t = 0 and must use the full lr0 (no t + 1 here)",
     lambda t, total: min(t + 1, total)),
    # A student audit: the steps one behind, told numbers only.
    ("the first update is t = 0 and must use the full lr0: no t − 1 here (your rates are one "
     "step behind)", lambda t, total: min(max(t - 1, 0), total)),
    # Said as what the values do: a student may hold min(t, total) in the wrong place.
    ("past total steps your rate climbs back up along the cosine; it must stay at 0 from t = "
     "total on: stop the angle at π with π·min(t, total) / total", lambda t, total: t),
    # A student audit's two, told numbers only: t held at total − 1, and t % total.
    ("the rate is 0 from t = total on: hold t at total, min(t, total), not at total − 1 "
     "(whose rate is small but not 0)", lambda t, total: min(t, total - 1)),
    ("past total steps your rate starts over (t % total): it must stay at 0 from t = total "
     "on: stop the angle at π with π·min(t, total) / total", lambda t, total: t % total),
)

#: θ, the angle, from u and total.
_ANGLE_SLIPS: tuple[_Slip, ...] = (
    ("", lambda u, total: math.pi * u / total),
    ("the angle is π·t/total (did you forget π?)", lambda u, total: u / total),
    # A student audit's whole period, which ends back at lr0.
    ("the angle runs over half a period of the cosine, from 0 to π: π·t / total, not 2π·t / "
     "total (a whole period comes back up to lr0 at the end)",
     lambda u, total: 2 * math.pi * u / total),
    # A student audit: the angle divided by total + 1 ("returned 1.1e-06, expected 0" read as
    # rounding).
    ("the angle is π·t / total: divide by total, not total + 1, so that the rate is 0 from t "
     "= total on", lambda u, total: math.pi * u / (total + 1)),
    # An honest-student sweep's: divided by total − 1, the angle passes π after update
    # total − 1 and the rate climbs back up a little ("returned 0.045, expected 0.046").
    ("the angle is π·t / total: divide by total, not total − 1 (with total − 1 the angle "
     "passes π, and the rate climbs back up a little where it must stay at 0)",
     lambda u, total: math.pi * u / (total - 1)),
    # An audit's student ended the cosine at total - 1 ("the last epoch at 0").
    ("the rate reaches 0 at t = total, not at total − 1: the angle is π·t / total, so update "
     "total − 1 still gets a small rate",
     lambda u, total: math.pi * min(u, total - 1) / (total - 1)),
    (_FLOOR, lambda u, total: math.pi * u // total),  # math.pi * t // total
    (_FLOOR, lambda u, total: math.pi * (u // total)),
    # An audit's: the angle in degrees, and converted to radians twice.
    ("math.cos takes the angle in radians: π·t / total, with math.pi, not 180 degrees",
     lambda u, total: 180 * u / total),
    ("π·t / total is in radians already: math.cos takes it as it is (math.radians converts "
     "degrees, a second time here)", lambda u, total: math.radians(math.pi * u / total)),
)

#: The rate, from θ and lr0.
_RATE_SLIPS: tuple[_Slip, ...] = (
    ("", lambda a, lr0: lr0 * (1 + math.cos(a)) / 2),
    # A student audit: the factor lr0 left out, told numbers only.
    ("your rate does not depend on lr0: multiply by it, lr0 · (1 + cos(π t / total)) / 2",
     lambda a, lr0: (1 + math.cos(a)) / 2),
    ("the rate is lr0 · (1 + cos(π t / total)) / 2: shift the cosine up by 1, then halve it",
     lambda a, lr0: lr0 * math.cos(a)),
    # A student audit: a quarter cosine, lr0 · cos(π/2 · t / total), also ends at 0.
    ("the rate is lr0 · (1 + cos(π t / total)) / 2, half a period of the cosine shifted up and "
     "halved; lr0 · cos(π/2 · t / total) also falls from lr0 to 0, but along another curve (it "
     "starts flatter and ends steeper)", lambda a, lr0: lr0 * math.cos(a / 2)),
    # An audit's: the half taken with //.
    ("`//` is floor division: (1 + cos(...)) // 2 is 0 at every angle but 0; halve with `/ 2`",
     lambda a, lr0: lr0 * ((1 + math.cos(a)) // 2)),
    # A student audit's three slips of the formula itself, told numbers only.
    ("the rate is lr0 · (1 + cos(π t / total)) / 2: halve it (it starts at lr0, not 2·lr0)",
     lambda a, lr0: lr0 * (1 + math.cos(a))),
    ("the rate is lr0 · (1 + cos(π t / total)) / 2, with a plus: 1 − cos starts at 0 and "
     "climbs to lr0", lambda a, lr0: lr0 * (1 - math.cos(a)) / 2),
    ("brackets: lr0 / 2 * 1 + cos(...) adds the cosine to lr0 / 2; write lr0 * (1 + cos(...)) "
     "/ 2", lambda a, lr0: lr0 / 2 + math.cos(a)),
    # The student walk: the sine for the cosine, told numbers only.
    ("the cosine, not the sine: cos 0 = 1 starts the rate at lr0 and cos π = −1 ends it at 0, "
     "where (1 + sin θ) / 2 starts at lr0 / 2, climbs and comes back to lr0 / 2",
     lambda a, lr0: lr0 * (1 + math.sin(a)) / 2),
)


def _cosine_slips(case: ScheduleCase) -> list[tuple[str, Callable[[int], float]]]:
    """The usual slips of a cosine schedule, one at a time and then two at once (a student
    audit's two combined got numbers only): (the hint, the rate the slips give at t)."""
    lr0, total = case.args["lr0"], case.args["total"]
    combos = [(u, a, r) for u in range(len(_STEP_SLIPS)) for a in range(len(_ANGLE_SLIPS))
              for r in range(len(_RATE_SLIPS)) if 0 < (u > 0) + (a > 0) + (r > 0) <= 2]
    combos.sort(key=lambda c: ((c[0] > 0) + (c[1] > 0) + (c[2] > 0), c[2] == 0, c[1] == 0))
    slips = []
    for u, a, r in combos:
        hints = [hint for hint, _ in (_STEP_SLIPS[u], _ANGLE_SLIPS[a], _RATE_SLIPS[r]) if hint]
        hint = hints[0] if len(hints) == 1 else f"two slips at once: {hints[0]}; and {hints[1]}"

        def rate(t: int, u: int = u, a: int = a, r: int = r) -> float:
            return _RATE_SLIPS[r][1](_ANGLE_SLIPS[a][1](_STEP_SLIPS[u][1](t, total), total), lr0)
        slips.append((hint, rate))
    return slips


def _cosine_hint(fn: Callable[..., Any], case: ScheduleCase, rates: dict[int, float],
                 limit: float | None) -> str:
    """Name the usual slip behind wrong cosine rates, if one gives ``fn``'s rate at every
    step: those checked (``rates``) and four of the span, start, quarter, half and three
    quarters. Fewer are not enough: a cosine of 2πt/total gives the ``1 − cos`` slip's
    rates after the end, and at one step in the span, and its student, who wrote a plus,
    was told "with a plus" (a student audit)."""
    total = case.args["total"]
    rates = dict(rates)
    try:
        for t in (0, total // 4, total // 2, 3 * total // 4):
            rates.setdefault(t, _call(fn, case, t, limit))
    except StudentError:
        return ""  # the check says what went wrong; no guess at a slip
    for hint, rate in _cosine_slips(case):
        if all(math.isclose(rates[t], rate(t), rel_tol=1e-9,
                            abs_tol=1e-12 * case.args["lr0"]) for t in rates):
            return " Hint: " + hint
    return ""


def _not_a_function(fn: Any) -> str:
    return (f"pass your schedule function itself, e.g. check_schedule(cosine_schedule); "
            f"got {type(fn).__name__}")


def _schedule_message(fn: Callable[..., Any], name: str, prop: str, seed: int,
                      limit: float | None) -> str:
    """``""`` if ``fn`` matches the reference ``name`` on the case of ``prop`` and ``seed``,
    else the sentence for the student (:class:`StudentError` if ``fn`` raised or hung)."""
    case = schedule_case(name, prop, seed)
    if not callable(fn):
        return _not_a_function(fn)
    if prop == "after" and (constant := _constant(fn, name, seed, limit)):
        return constant
    wrong = []  # (error, t, got, want) of every step that differs
    rates = {}
    for t in case.steps:
        got, want = _call(fn, case, t, limit), case.expected(t)
        rates[t] = got
        # As close as float32 arithmetic comes (a few units of its last place, of the value
        # and of lr0 where the value nears 0): a schedule computed in float32, as lesson 07's
        # network is, lost its point on 0.00754268 for 0.00754269 (an honest-code audit).
        if not math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-6 * case.args["lr0"]):
            wrong.append((abs(got - want), t, got, want))
    if not wrong:
        return ""
    # The step where it is most wrong: the first wrong one can be off by a hair
    # ("returned 1.1e-06, expected 0" just after total), which reads as rounding.
    _, t, got, want = max(wrong, key=lambda w: w[0])
    hint = _cosine_hint(fn, case, rates, limit) if name == "cosine" else ""
    # As many digits as it takes to see the difference ("0.0911, expected 0.0913").
    shown, wanted = fmt_pair(got, want)
    return (f"{_label(fn)}({case.describe(t)}) returned {shown}, expected {wanted} "
            f"(the reference {name}).{hint}")


def _constant(fn: Callable[..., Any], name: str, seed: int, limit: float | None) -> str:
    """The sentence for a schedule whose rate is the same at every checked step of its span,
    where the reference's is not; else ``""``. Such a rate is no schedule and fails
    ``after`` too (a red-team round's ``return 0.0`` kept that point: 0 is the cosine's rate
    after its end). A rate that changes at all is a mistake of the values alone: the same
    at the start and the end (a cosine of 2πt/T, a student audit), or from step 1 on (the
    floor-division slip ``(1 + cos) // 2``, lr0 at step 0, then 0: the same audit; red-team
    round 16's ``lr0 if t == 0 else 0.0`` computes those very rates, and keeps the after
    point with them)."""
    case = schedule_case(name, "values", seed)  # its steps run from 0 to the span's end
    steps = sorted({0, *case.steps})
    try:
        got = {t: _call(fn, case, t, limit) for t in steps}
    except StudentError as exc:  # said by the steps after the end, as they meet it
        if exc.hung:
            raise  # not waited for twice
        return ""
    want = {t: case.expected(t) for t in steps}

    def same(values: list[float]) -> bool:
        # The values check's tolerance (a red-team round's 1e-300 then 0 was "a change").
        return all(math.isclose(v, values[0], rel_tol=1e-5, abs_tol=1e-6 * case.args["lr0"])
                   for v in values)

    if same(list(got.values())) and not same(list(want.values())):
        first, last = steps[0], steps[-1]
        return (f"{_label(fn)} returns {fmt(got[first])} at every step from {first} to {last}: "
                f"a rate that does not change is no schedule (the reference {name} goes from "
                f"{fmt(want[first])} to {fmt(want[last])}), so there is nothing to check after "
                "its end.")
    return ""


def _outcome(fn: Any, name: str, prop: str, seed: int, limit: float | None) -> Outcome:
    try:
        return Outcome(_schedule_message(fn, name, prop, seed, limit))
    except StudentError as exc:
        return Outcome(str(exc), hung=exc.hung)


def _properties(name: str) -> tuple[FunctionProperty, ...]:
    """The graded properties of schedule ``name`` on the common exercise interface."""
    return (
        FunctionProperty("values", f"matches the reference {name} schedule at every step of it",
                         "during the schedule",
                         lambda fn, seed, limit: _schedule_message(fn, name, "values", seed,
                                                                   limit)),
        FunctionProperty("after", "stays right after the schedule ends", "after the schedule",
                         lambda fn, seed, limit: _schedule_message(fn, name, "after", seed,
                                                                   limit)),
    )


def assert_schedule(fn: Callable[..., Any], name: str = "cosine", prop: str = "values", *,
                    seed: int, time_limit: float | None = _CALL_LIMIT) -> None:
    """Raise ``AssertionError`` unless ``fn`` matches the reference schedule ``name``.

    Parameters
    ----------
    fn : callable
        The student's schedule, ``fn(t, *args)`` with the arguments of the
        reference function (see the module docstring).
    name : str
        ``"cosine"``, ``"step_decay"``, ``"warmup"`` or ``"warmup_cosine"``.
    prop : str
        ``"values"`` or ``"after"``.
    seed : int
        Seed of the arguments and steps.
    time_limit : float or None
        Seconds one call of ``fn`` may take.

    Raises
    ------
    AssertionError
        With one sentence for the student: where the first difference is, what
        was expected, and a hint when a common slip explains it.
    """
    __tracebackhide__ = True  # not shown in tracebacks (IPython, pytest)
    _check_name(name)
    assert_outcome(_outcome(fn, name, prop, seed, time_limit))


def check_schedule(fn: Callable[..., Any], name: str = "cosine", *,
                   seeds: Iterable[int] = PUBLIC_SEEDS, time_limit: float | None = _CALL_LIMIT,
                   file: TextIO | None = None) -> Report:
    """Check a student's schedule and print the verdict, as every self-check does.

    Parameters
    ----------
    fn : callable
        The student's schedule function.
    name : str
        The reference schedule it implements.
    seeds : iterable of int
        Seeds of the cases (default: the public ones).
    time_limit : float or None
        Seconds one call of ``fn`` may take.
    file : text stream, optional
        Where to print (default: standard output).

    Returns
    -------
    Report
        Truthy when every property held. Never raises, except for an unknown
        ``name`` (a mistake in the notebook itself, not in the student's code).
    """
    _check_name(name)
    subject = _label(fn) if callable(fn) else "your schedule"
    props = _properties(name)

    def outcome(prop: FunctionProperty, seed: int) -> Outcome:
        return _outcome(fn, name, prop.name, seed, time_limit)

    def run(out: TextIO) -> Report:
        print(f"Checking {subject} against the reference {name} schedule:", file=out)
        return run_checks(subject, props, outcome, seeds, skipped_after_hang=SKIPPED_AFTER_HANG)

    return self_check(subject, run, file=file, code=fn)
