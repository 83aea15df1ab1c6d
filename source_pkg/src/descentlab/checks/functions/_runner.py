"""Running a student's function safely and turning properties into reports."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from ..._timebox import time_limit as _time_limit
from ..grading import PUBLIC_SEEDS
from ..messages import NOT_WRITTEN, exception_hint
from ..observe import STUDENT_ERRORS, describe_exception, run_quietly
from ..report import PropertyResult, Report

__all__ = ["FunctionProperty", "StudentError", "assert_function", "call", "check_function",
           "function_report"]


class StudentError(Exception):
    """The student's function failed; ``str(exc)`` is the student-facing message."""


def call(fn: Callable[..., Any], name: str, *args: Any, time_limit: float | None = 2.0,
         consume: Callable[[Any], Any] | None = None, **kwargs: Any) -> Any:
    """Return ``fn(*args, **kwargs)`` (passed through ``consume``), quietly and time-boxed.

    ``consume`` runs inside the same guard: a generator's body only runs when
    it is consumed. Raises :class:`StudentError` with a friendly message if the
    student's code raises or hangs.
    """
    with run_quietly():
        try:
            with _time_limit(time_limit):
                result = fn(*args, **kwargs)
                return result if consume is None else consume(result)
        except STUDENT_ERRORS as exc:
            kind, message, where = describe_exception(exc)
    if kind == "NotImplementedError":
        raise StudentError(NOT_WRITTEN.format(what=f"{name}()"))
    if kind == "TimeLimitExceeded":
        raise StudentError(f"{name}() {message}: is there a loop that never ends?")
    text = f"{name}() raised {kind}: {message}" if message else f"{name}() raised {kind}"
    if where:
        text += f" ({where})"
    hint = exception_hint(kind, message) if kind in ("NameError", "IndexError") else ""
    raise StudentError(f"{text}. {hint[0].upper()}{hint[1:]}" if hint else f"{text}.")


@dataclass(frozen=True)
class FunctionProperty:
    """One graded property of a function exercise.

    ``test(fn, seed, time_limit)`` returns ``""`` if the property holds, else the
    message for the student (it may raise :class:`StudentError` instead).
    """

    name: str
    title: str
    short: str
    test: Callable[[Callable[..., Any], int, float | None], str]


def _run(prop: FunctionProperty, fn: Any, subject: str, seed: int,
         time_limit: float | None) -> str:
    if not callable(fn) or isinstance(fn, type):
        got = "a class" if isinstance(fn, type) else f"a {type(fn).__name__}"
        return (f"this check needs your function itself, e.g. check_{subject}({subject}) "
                f"(without parentheses after {subject}); it got {got}.")
    try:
        return prop.test(fn, seed, time_limit)
    except StudentError as exc:
        return str(exc)


def function_report(subject: str, props: Sequence[FunctionProperty], fn: Any,
                    seeds: Iterable[int], *, time_limit: float | None = 2.0) -> Report:
    """Check every property on every seed (a property passes if all seeds pass)."""
    seeds = list(seeds)
    results = []
    for prop in props:
        message, failed_seed = "", None
        for seed in seeds:
            message = _run(prop, fn, subject, seed, time_limit)
            if message:
                failed_seed = seed
                break
        results.append(PropertyResult(prop.name, prop.title, prop.short, not message, message,
                                      points=0.0 if message else 1.0, seed=failed_seed))
    return Report(subject, tuple(results))


def check_function(subject: str, props: Sequence[FunctionProperty], fn: Any, *,
                   seeds: Iterable[int] = PUBLIC_SEEDS, time_limit: float | None = 2.0,
                   file: TextIO | None = None) -> Report:
    """Print the verdict of :func:`function_report` and return it; never raises."""
    out = sys.stdout if file is None else file
    print(f"Checking {subject}:", file=out)
    try:
        report = function_report(subject, props, fn, seeds, time_limit=time_limit)
    except Exception as exc:  # the self-check must never show a traceback
        result = PropertyResult("setup", "the check could start", "cannot check", False, (
            f"the checker itself failed ({type(exc).__name__}: {exc}). Please tell your "
            "instructor, and include this message."))
        report = Report(subject, (result,))
    print(report.text(), file=out)
    return report


def assert_function(subject: str, props: Sequence[FunctionProperty], fn: Any, seed: int,
                    prop: str | None = None, *, time_limit: float | None = 2.0) -> None:
    """Raise ``AssertionError`` (student-facing message) if a property fails.

    ``prop`` names one property; by default all are checked, the first failure raises.
    """
    chosen = [p for p in props if prop is None or p.name == prop]
    if not chosen:
        raise ValueError(f"unknown property {prop!r}; choose one of "
                         f"{', '.join(p.name for p in props)}")
    for p in chosen:
        message = _run(p, fn, subject, seed, time_limit)
        if message:
            raise AssertionError(f"{p.short}: {message}")
