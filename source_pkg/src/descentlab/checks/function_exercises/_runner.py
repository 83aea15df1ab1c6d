"""Function exercises on the common exercise interface (:mod:`..exercise`).

:func:`call` runs the student's function quietly, under the time limit, every
exception (``SystemExit`` included) and hang turned into a :class:`StudentError`
with a friendly message; a :class:`FunctionProperty` checks one property on the
case of one seed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, TextIO

from ..._timebox import time_limit as _time_limit
from ...errors import closest_name
from ..exercise import Outcome, assert_outcome, run_checks, self_check
from ..grading import PUBLIC_SEEDS
from ..messages import HANG_QUESTION, NOT_WRITTEN, exception_hint, skipped_after_hang
from ..observe import STUDENT_ERRORS, describe_exception, run_quietly
from ..report import Report

__all__ = ["SKIPPED_AFTER_HANG", "FunctionProperty", "StudentError", "ThroughReference",
           "assert_function", "call", "check_function", "function_report"]


#: The message of the properties not run after the student's function hung.
SKIPPED_AFTER_HANG = skipped_after_hang("your function")


@dataclass(frozen=True)
class ThroughReference:
    """A test's function that reads ``array`` itself, whatever it is given.

    So a network's loss reads its weights (the book's ``lambda _: net.loss(x, t)``):
    ``fn(array)`` on every call, the argument ignored. A numerical gradient sees the
    probes only where it changes the entries of ``array`` itself. In the grader, where
    ``array`` is handed to the student's code as an argument, the kernel sends that
    argument's current values with each call (``descentlab_grading.judge``'s
    ``READS_HOOK``), and the judge runs ``fn`` on them.
    """

    fn: Callable[[Any], Any]
    array: Any
    __name__ = "<lambda>"  # as a network's loss, lambda _: net.loss(x, t)

    def __call__(self, *_ignored: Any, **_also_ignored: Any) -> Any:
        return self.fn(self.array)

    @property
    def __descentlab_reads__(self) -> Any:
        """The array it reads (the grader's judge hands that argument's values to ``fn``)."""
        return self.array


class StudentError(Exception):
    """The student's function failed; ``str(exc)`` is the student-facing message.

    ``hung`` says that it ran out of time (the remaining checks are then skipped).
    """

    def __init__(self, message: str, *, hung: bool = False) -> None:
        super().__init__(message)
        self.hung = hung


def call(fn: Callable[..., Any], name: str, *args: Any, time_limit: float | None = 2.0,
         consume: Callable[[Any], Any] | None = None, shown: str | None = None,
         **kwargs: Any) -> Any:
    """Return ``fn(*args, **kwargs)`` (passed through ``consume``), quietly and time-boxed.

    ``consume`` runs inside the same guard: a generator's body only runs when
    it is consumed. Raises :class:`StudentError` with a friendly message if the
    student's code raises or hangs; ``shown`` is how the messages write the call
    (default ``name()``).
    """
    shown = f"{name}()" if shown is None else shown
    with run_quietly() as sink:
        try:
            with _time_limit(time_limit):
                result = fn(*args, **kwargs)
                return result if consume is None else consume(result)
        except STUDENT_ERRORS as exc:
            kind, message, where = describe_exception(exc)
            suggestion = closest_name(exc)
        finally:
            # Counted for the report's note that prints were hidden (a student audit: a
            # function's 46 prints vanished without a word, as a class's do not).
            if (printed := _PRINTED.get()) is not None:
                printed.append(sink.count)
    if kind == "NotImplementedError":
        raise StudentError(NOT_WRITTEN.format(what=f"{name}()"))
    if kind == "TimeLimitExceeded":
        raise StudentError(f"{shown} {message}: {HANG_QUESTION}", hung=True)
    text = f"{shown} raised {kind}: {message}" if message else f"{shown} raised {kind}"
    if where:
        text += f" ({where})"
    # The generic AttributeError hint is about a class's __init__: here only a near name helps.
    named = kind == "AttributeError" and bool(suggestion)
    # Where it raised tells an IndexError of the student's function from one of update().
    hint = exception_hint(kind, message, suggestion, where if kind == "IndexError" else "") \
        if kind in ("NameError", "IndexError") or named else ""
    number = re.fullmatch(r"'(float|int)' object has no attribute '(\w+)'", message)
    if kind == "AttributeError" and number and not hint:
        # A student audit: bowl_gradient's `gx = x.copy()`, right on arrays, told only
        # "'float' object has no attribute 'copy'".
        hint = (f"single numbers (Python {number[1]}s) are given to {name}() too, and they "
                f"have no .{number[2]}: write it with operators and np.* functions, which "
                "work on numbers and arrays alike.")
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


def _outcome(prop: FunctionProperty, fn: Any, subject: str, seed: int,
             time_limit: float | None) -> Outcome:
    if not callable(fn) or isinstance(fn, type):
        got = "a class" if isinstance(fn, type) else f"a {type(fn).__name__}"
        return Outcome(f"this check needs your function itself, e.g. check_{subject}({subject}) "
                       f"(without parentheses after {subject}); it got {got}.")
    printed: list[int] = []
    token = _PRINTED.set(printed)
    try:
        return Outcome(prop.test(fn, seed, time_limit), printed=sum(printed))
    except StudentError as exc:
        return Outcome(str(exc), hung=exc.hung, printed=sum(printed))
    finally:
        _PRINTED.reset(token)


#: What the student's function printed in each call of the property being checked.
_PRINTED: ContextVar[list[int] | None] = ContextVar("printed", default=None)


def function_report(subject: str, props: Sequence[FunctionProperty], fn: Any,
                    seeds: Iterable[int], *, time_limit: float | None = 2.0) -> Report:
    """Check every property on every seed (a property passes if all seeds pass)."""
    return run_checks(subject, props,
                      lambda prop, seed: _outcome(prop, fn, subject, seed, time_limit), seeds,
                      skipped_after_hang=SKIPPED_AFTER_HANG)


def check_function(subject: str, props: Sequence[FunctionProperty], fn: Any, *,
                   seeds: Iterable[int] = PUBLIC_SEEDS, time_limit: float | None = 2.0,
                   file: TextIO | None = None,
                   note: Callable[[Any, Report], str] | None = None) -> Report:
    """Print the verdict of :func:`function_report` and return it; never raises.

    ``note(fn, report)``, if given, may add a remark (no points) printed before the
    closing line; ``""`` adds none.
    """
    def run(out: TextIO) -> Report:
        print(f"Checking {subject}:", file=out)
        report = function_report(subject, props, fn, seeds, time_limit=time_limit)
        remark = note(fn, report) if note is not None else ""
        return replace(report, notes=(*report.notes, remark)) if remark else report

    return self_check(subject, run, file=file, code=fn)


def assert_function(subject: str, props: Sequence[FunctionProperty], fn: Any, seed: int,
                    prop: str | None = None, *, time_limit: float | None = 2.0) -> None:
    """Raise ``AssertionError`` (student-facing message) if a property fails.

    ``prop`` names one property; by default all are checked, the first failure raises.
    """
    __tracebackhide__ = True  # not shown in tracebacks (IPython, pytest)
    chosen = [p for p in props if prop is None or p.name == prop]
    if not chosen:
        raise ValueError(f"unknown property {prop!r}; choose one of "
                         f"{', '.join(p.name for p in props)}")
    for p in chosen:
        assert_outcome(_outcome(p, fn, subject, seed, time_limit), p.short)
