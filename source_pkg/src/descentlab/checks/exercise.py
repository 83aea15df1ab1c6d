"""One way to check an exercise, whatever it is: an optimizer class, a function, a schedule.

Every exercise is a list of graded properties; checking one property on one seed
draws a case from the seed, runs the student's code on it under the time limit
(quietly, every exception and hang turned into data), compares with the
reference and names the mistake — and answers with an :class:`Outcome`.
:func:`run_checks` turns the outcomes of every property on every seed into one
:class:`~.report.Report`; :func:`self_check` prints it for the notebooks and
never raises; :func:`assert_outcome` is the hidden tests' ``AssertionError``.

What differs between exercises is only the per-property step: :mod:`.grading`
(optimizer classes, via :mod:`.observe`, :mod:`.compare`, :mod:`.diagnose`),
:mod:`.function_exercises` and :mod:`.schedule_exercises`.
"""

from __future__ import annotations

import functools
import sys
import traceback
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from ..output_lines import in_notebook, print_wrapped, wrapped
from .messages import is_not_written
from .report import CANNOT_CHECK, PropertyResult, Report
from .stale import stale_code

__all__ = ["PRINTED_NOTE", "GradedProperty", "Outcome", "assert_outcome", "cannot_check",
           "run_checks", "self_check"]

#: The note under a report when the student's code printed during the checks.
PRINTED_NOTE = "(your code printed output during the checks; it is not shown here)"


@dataclass(frozen=True)
class Outcome:
    """What checking one property on one seed found.

    Attributes
    ----------
    message : str
        ``""`` if the property held, else what the student reads.
    mistake : str
        Id of the recognised mistake, if any.
    printed : int
        Characters the student's code printed (hidden during the checks).
    hung : bool
        Whether the student's code ran out of time: the remaining properties are
        then not run (it would hang again), when :func:`run_checks` is told so.
    """

    message: str = ""
    mistake: str = ""
    printed: int = 0
    hung: bool = False

    @property
    def passed(self) -> bool:
        """Whether the property held."""
        return not self.message


class GradedProperty(Protocol):
    """What :func:`run_checks` needs of a property (``points`` is optional, default 1)."""

    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def short(self) -> str: ...


def run_checks(
    subject: str,
    properties: Sequence[GradedProperty],
    run: Callable[[Any, int], Outcome],
    seeds: Iterable[int],
    *,
    points: Mapping[str, float] | None = None,
    skipped_after_hang: str | None = None,
) -> Report:
    """Check every property on every seed: one :class:`~.report.Report`.

    Parameters
    ----------
    subject : str
        What is checked ("Momentum", "numerical_gradient").
    properties : sequence
        The graded properties, in the order a student should fix them.
    run : callable
        ``run(prop, seed)`` checks one property on the case of one seed.
    seeds : iterable of int
        A property passes only if it passes for every seed; the first failing
        seed is reported.
    points : dict of str to float, optional
        Points per property name (default: the property's ``points``, else 1).
    skipped_after_hang : str, optional
        If given, once the student's code hangs the remaining properties are not
        run and fail with this message (code that hung once hangs again: the
        student should not wait for every check).

    Raises
    ------
    ValueError
        If no seed is given.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("a check needs at least one seed")
    results: list[PropertyResult] = []
    printed = 0
    hung: PropertyResult | None = None
    for prop in properties:
        weight = float((points or {}).get(prop.name, getattr(prop, "points", 1.0)))
        if hung is not None and skipped_after_hang is not None:
            results.append(PropertyResult(prop.name, prop.title, prop.short, False,
                                          skipped_after_hang, hung.mistake, 0.0, weight,
                                          hung.seed))
            continue
        failure: tuple[int, Outcome] | None = None
        for seed in seeds:
            outcome = run(prop, seed)
            printed += outcome.printed
            if not outcome.passed:
                failure = (seed, outcome)
                break
        if failure is None:
            results.append(PropertyResult(prop.name, prop.title, prop.short, True,
                                          points=weight, max_points=weight))
            continue
        seed, outcome = failure
        results.append(PropertyResult(prop.name, prop.title, prop.short, False, outcome.message,
                                      outcome.mistake, 0.0, weight, seed))
        if outcome.hung:
            hung = results[-1]
    return Report(subject, tuple(results), (PRINTED_NOTE,) if printed else ())


def cannot_check(subject: str, message: str) -> Report:
    """The report of a check that could not start (an unknown name, the checker failing)."""
    result = PropertyResult(CANNOT_CHECK, "the check could start", "cannot check", False,
                            message)
    return Report(subject, (result,))


def self_check(
    subject: str,
    check: Callable[[TextIO], Report],
    *,
    file: TextIO | None = None,
    setup_errors: tuple[type[Exception], ...] = (),
    code: Any = None,
) -> Report:
    """Run ``check(out)`` (it may print a heading), print the report, return it; never raise.

    Parameters
    ----------
    subject : str
        What is checked, for the report of a check that could not start.
    check : callable
        Builds the report; receives the stream to print a heading on.
    file : text stream, optional
        Where to print (default: standard output).
    setup_errors : tuple of exception types
        Exceptions that mean the check was called wrongly (an unknown optimizer
        name): their text is the report. Anything else the checker raises is
        reported as its own failure, never as a traceback.
    code : object, optional
        The student's class or function. In a notebook, if it comes from an earlier
        run of a cell whose latest run failed (:func:`~.stale.stale_code`), the
        report says so instead of checking it.
    """
    out = sys.stdout if file is None else file
    # Stop rather than check the old code under a warning: a beginner reads the
    # verdict at the bottom ("All checks passed", or an old failure to hunt in code
    # that has changed since), and either would be about code no longer on screen.
    # The one thing to do is to make the cell run; the check then runs as usual.
    stale = stale_code(code) if code is not None else ""
    try:
        report = cannot_check(subject, stale) if stale else check(out)
    except setup_errors as exc:
        report = cannot_check(subject, str(exc))
    except Exception as exc:  # the self-check must never show a traceback
        report = cannot_check(subject, (
            f"the checker itself failed ({type(exc).__name__}: {exc}). Please tell your "
            "instructor, and include this message."))
    print_wrapped(report.text(), out)
    return report


def assert_outcome(outcome: Outcome, label: str = "") -> None:
    """Raise ``AssertionError`` with the student-facing message if ``outcome`` failed.

    ``label`` (the property's short name) is put in front: ``"first step: ..."``; not in
    front of "... is not written yet", which is about no property in particular.
    """
    __tracebackhide__ = True  # not shown in pytest's tracebacks (IPython: see below)
    if not outcome.passed:
        failed = AssertionError(f"{label}: {outcome.message}"
                                if label and not is_not_written(outcome.message)
                                else outcome.message)
        # IPython hides such frames, but never the one that raises (a browser audit read
        # this function's source under every failing test cell): its documented hook for
        # an exception's own traceback shows the student's cells alone.
        hook = functools.partial(_cells_traceback, failed)
        failed._render_traceback_ = hook  # type: ignore[attr-defined]
        raise failed


def _cells_traceback(exc: BaseException) -> list[str]:
    """IPython's traceback of ``exc`` without the frames of this package's checks."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        kept = [tb for tb in _walk(exc.__traceback__)
                if not tb.tb_frame.f_code.co_filename.startswith(_CHECKS_FOLDER)]
        chain = None
        for tb in reversed(kept):
            chain = types.TracebackType(chain, tb.tb_frame, tb.tb_lasti, tb.tb_lineno)
        shown = shell.InteractiveTB.structured_traceback(type(exc), exc, chain)
        # Its message broken between words, as the course's printed lines are (the grader
        # reads the exception's own text, whole).
        said, name = str(exc), type(exc).__name__
        if said and shown and said in shown[-1] and in_notebook():
            shown[-1] = shown[-1].replace(said, wrapped(f"{name}: {said}")[len(name) + 2:])
        return shown
    except Exception:  # never worse than the exception line itself
        return traceback.format_exception_only(type(exc), exc)


def _walk(tb: types.TracebackType | None) -> Iterator[types.TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


#: Where the checks' own files are: their frames are no help to a student.
_CHECKS_FOLDER = str(Path(__file__).resolve().parent)
