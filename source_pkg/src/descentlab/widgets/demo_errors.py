"""A one-line explanation instead of a traceback when a demo fails on the student's code.

ipywidgets' ``interactive(f, ...)`` prints the full traceback when ``f`` raises;
before the exercise is written, that is a wall of red for a student who did
nothing wrong. :func:`explain_errors` wraps the callback so that it prints what went
wrong, where in the student's code, and what to do. :func:`explained` does the
same for a whole notebook cell (a demo figure drawn with the student's code).
:func:`self_check_note` adds one line under a figure that the student's code drew
but whose class does not pass its self-check (nothing raised, yet the figure is wrong);
:func:`schedule_check_note` does the same for a learning-rate schedule, and
:func:`function_check_note` for a function exercise.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from matplotlib.figure import Figure

from ..course import exercises
from ..errors import (
    NOT_RUN_WHILE_GRADING,
    REFERENCE_UNAVAILABLE,
    closest_name,
    describe_exception,
    exception_hint,
)
from ..output_lines import print_wrapped
from .controls import failing_check_line, self_check_warning

__all__ = ["explain_errors", "explain_failure", "explained", "function_check_note",
           "schedule_check_note", "self_check_note"]

F = TypeVar("F", bound=Callable[..., Any])

#: The notes :func:`_print_note` printed inside the current :func:`explained` block.
_NOTES: ContextVar[list[str] | None] = ContextVar("descentlab_demo_notes", default=None)


def explain_failure(name: str, exc: BaseException, then: str = "move a slider") -> str:
    """What a student reads when ``name`` (a demo function or figure) raised ``exc``.

    Parameters
    ----------
    name : str
        What failed, as the student knows it (``"show_training"``, ``"this figure"``).
    exc : BaseException
        What it raised.
    then : str
        What to do once the exercise is written (``"move a slider"``,
        ``"run this cell again"``).

    Returns
    -------
    str
        One line, without a traceback.
    """
    kind, message, where = describe_exception(exc)
    # Python's name for a cell's own code is jargon (a student audit): the cell is meant.
    place = f" {where.replace('in <module>(), ', 'in this cell, ', 1)}" if where else ""
    unbound = re.fullmatch(r"name '(\w+)' is not defined", message) \
        if kind == "NameError" else None
    if unbound and unbound.group(1) in {exercise.name for _, exercise in exercises()}:
        # Not a typo to correct ("did you mean ...?"): the exercise's cell did not run,
        # or stopped before defining it.
        return (f"{name} needs your `{unbound.group(1)}`, which is not defined: run its "
                f"exercise cell above (an error there, e.g. a SyntaxError, leaves it "
                f"undefined), then {then}.")
    if kind == "NotImplementedError":
        # The function, not its raise line: the quoted `raise NotImplementedError("Not
        # written yet: ...")` made a five-line note under lesson 01's widget (a visual audit).
        function = re.match(r"in (\w+)\(\)", where)
        what = f"your {function.group(1)}(), which" if function and \
            function.group(1) != "<module>" else "an exercise it uses, which"
        return (f"{name} cannot run yet: it needs {what} is not written yet (it still raises "
                f"NotImplementedError). Write it above, run its cell, then {then}.")
    text = f"{name} stopped: {kind}{place}" + (f": {message}" if message else "")
    text += "" if text.endswith((".", "…")) else "."  # NumPy's messages end with one
    hint = exception_hint(kind, message, closest_name(exc), where)
    return f"{text} Hint: {hint}" if hint else text


def _failure_line(name: str, exc: BaseException, then: str = "move a slider") -> str:
    """The line a demo prints when it raised ``exc``: a failure, or the grading note.

    While a notebook is graded the course's reference code raises (the grader's copy of
    descentlab has no answers): a demo that draws with it is not the student's failure.
    """
    if type(exc).__name__ == REFERENCE_UNAVAILABLE:
        return NOT_RUN_WHILE_GRADING
    return "✘ " + explain_failure(name, exc, then)


def _show(result: Any) -> Any:
    """Display a returned Figure now; return what ``interactive`` should get back.

    ``interactive`` (``auto_display=False``) never displays what its callback
    returns, and a Figure made without pyplot is not shown by
    ``%matplotlib inline`` either: the callback's figure would never appear.
    Displaying it here (inside the widget's output area) and returning None
    shows it exactly once, with ``interactive`` as with ``interact``.
    """
    if isinstance(result, Figure):
        from IPython.display import display

        display(result)
        return None
    return result


def explain_errors(function: F) -> F:
    """``function``, printing :func:`explain_failure` instead of raising (for ``interactive``).

    Only ``Exception`` is caught: ``KeyboardInterrupt`` (the stop button) still
    stops it. A :class:`~matplotlib.figure.Figure` that ``function`` returns is
    displayed (and None returned), so that ``interactive`` shows it.

    Examples
    --------
    >>> widgets.interactive(explain_errors(show_training), lr=(0.01, 1.0))  # doctest: +SKIP
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = function(*args, **kwargs)
        except Exception as exc:  # the student's code: explain, don't re-raise
            print_wrapped(_failure_line(getattr(function, "__name__", "this demo"), exc))
            return None
        return _show(result)

    return wrapper  # type: ignore[return-value]


@contextmanager
def explained(what: str = "This figure") -> Iterator[None]:
    """Run a notebook cell's demo; if the student's code fails, print one line instead.

    Use it around a cell that draws a figure with the student's exercise: in
    the unanswered release the cell prints one explained line (which exercise,
    which line) instead of a 30-line traceback. Display the figure with
    ``display(fig)`` inside the block (a bare last expression inside a
    ``with`` block is not shown). Only ``Exception`` is caught.

    Parameters
    ----------
    what : str
        What failed, as the first words of the line (``"This figure"``).

    Examples
    --------
    >>> with explained("The saddle figure"):  # doctest: +SKIP
    ...     path = trace(RMSProp(lr=0.02), saddle, steps=200)
    ...     display(draw_paths(saddle, {"RMSProp": path}).figure)
    """
    # NumPy's RuntimeWarnings (overflow, invalid value) from a path that runs away would
    # print several lines each, with the file paths of the grader's or the student's
    # install: one line says what they mean. Other warnings are passed on unchanged.
    notes: list[str] = []
    token = _NOTES.set(notes)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            except Exception as exc:  # the student's code: explain, don't re-raise
                print_wrapped(_failure_line(what, exc, then="run this cell again"))
    finally:
        _NOTES.reset(token)
    numeric = list(dict.fromkeys(
        str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)))
    for w in caught:
        if not issubclass(w.category, RuntimeWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    # Not under a note that the student's code fails its self-check: that note sends them
    # to the cause (a student audit read three notes under one NaN figure).
    if numeric and not notes:
        print_wrapped(numbers_ran_away(what, numeric))


def numbers_ran_away(what: str, messages: list[str]) -> str:
    """The line :func:`explained` prints for NumPy's warnings ``messages`` in its block.

    The question at its end fits what NumPy saw: numbers that overflowed ran away (a step
    uphill, or too long); a division by zero is a denominator at 0 (a step counter still
    0, no ε); the root of a negative number a statistic not built from squares; a student
    audit read "does it step uphill?" under a division by zero.
    """
    said = " ".join(messages).lower()
    questions = []
    if "divide by zero" in said:
        questions.append("divide by zero (a step counter still 0, or no epsilon in a "
                         "denominator)")
    if "invalid value encountered in sqrt" in said:
        # A student audit: h += g (not g·g) was asked whether it steps uphill.
        questions.append("take the square root of a negative number (is what is under the "
                         "root built from squared gradients, g·g)")
    if "overflow" in said or not questions:
        questions.append("step uphill, or take steps so long that it runs away")
    return (f"⚠ {what}: some numbers grew too large or became undefined (NumPy: "
            f"{'; '.join(messages)}). If they come from your code, does it "
            f"{', or '.join(questions)}?")


def self_check_note(cls: Any, drawn: str = "the figure above shows what your code does") -> str:
    """Print one line under a demo figure when the student's class fails its self-check.

    A figure drawn with the student's optimizer shows what it does, right or wrong: the
    flat loss curves of an ``update`` that changes nothing, or the climbing ones of a step
    uphill, read as the method's without a word. This prints the line an explorer shows
    above a failing class's path (:func:`~.controls.self_check_warning`), after
    "⚠ ". Nothing is printed for a class that passes (an honest student sees nothing),
    whose ``update`` is not written yet, that is named after no optimizer, or while the
    notebook is graded. Call it after ``display(fig)``, inside :func:`explained`'s block.

    Parameters
    ----------
    cls : type or object
        The student's class (or an instance of it), e.g. ``SGD``.
    drawn : str
        What the figure shows, as the middle of the line.

    Returns
    -------
    str
        The line printed, or ``""``.

    Examples
    --------
    >>> with explained("This figure"):  # doctest: +SKIP
    ...     display(fig)
    ...     self_check_note(SGD)
    ⚠ Your SGD does not pass its self-check yet (first step, state between calls): the figure
    above shows what your code does. Run check(SGD) above to see why.
    """
    cls = cls if isinstance(cls, type) else type(cls)
    return _print_note(lambda: self_check_warning(cls, drawn))


def schedule_check_note(fn: Callable[..., Any], name: str = "cosine",
                        drawn: str = "the figure above shows what your code returns") -> str:
    """Print one line under a figure drawn with the student's schedule when it fails its check.

    :func:`self_check_note` for a learning-rate schedule (lesson 07): nothing is printed
    for a schedule that passes, whose body is not written yet, or while the notebook is
    graded (the grader's checks print and return nothing).

    Parameters
    ----------
    fn : callable
        The student's schedule function, e.g. ``cosine_schedule``.
    name : str
        The reference schedule it implements, as
        :func:`~descentlab.checks.schedule_exercises.check_schedule` names it.
    drawn : str
        What the figure shows, as the middle of the line.

    Returns
    -------
    str
        The line printed, or ``""``.
    """
    label = getattr(fn, "__name__", "schedule")

    def run() -> Any:
        from ..checks.schedule_exercises import check_schedule

        return check_schedule(fn, name)

    return _print_note(lambda: failing_check_line(label, run, drawn,
                                                  f"check_schedule({label}, {name!r})",
                                                  code=fn))


def function_check_note(fn: Callable[..., Any], check: Callable[[Any], Any],
                        drawn: str = "the figure above shows what your code does", *,
                        notes: bool = False) -> str:
    """Print one line under a figure drawn with the student's function when it fails its
    self-check (lesson 01's ``minibatches``: a student audit's batches without shuffling
    or without their last part were drawn without a word).

    :func:`self_check_note` for a function exercise: nothing is printed for a function
    that passes, whose body is not written yet, or while the notebook is graded.

    Parameters
    ----------
    fn : callable
        The student's function, e.g. ``minibatches``.
    check : callable
        Its self-check, e.g. ``check_minibatches`` (called as ``check(fn)``).
    drawn : str
        What the figure shows, as the middle of the line.
    notes : bool
        When every check passes, print the self-check's notes instead (lesson 00's
        error-against-h figure: a ``numerical_gradient`` that ignores its ``h`` passes
        every check and draws a flat line, which the self-check's note explains).

    Returns
    -------
    str
        The line(s) printed, or ``""``.
    """
    label = getattr(fn, "__name__", "function")
    rerun = f"{getattr(check, '__name__', 'the self-check')}({label})"
    reports: list[Any] = []

    def run() -> Any:
        reports.append(check(fn))
        return reports[-1]

    line = _print_note(lambda: failing_check_line(label, run, drawn, rerun, code=fn))
    if line or not notes or not reports:
        return line
    remarks = "\n".join(getattr(reports[0], "notes", ()) or ())
    if remarks:
        print_wrapped(remarks)
    return remarks


def _print_note(warning: Callable[[], str]) -> str:
    """Print the line ``warning()`` makes after "⚠ " (nothing for ``""``); return it.

    What the student's code prints or warns while it is checked is not the figure's:
    explained() would otherwise report its NumPy warnings as the figure's.
    """
    with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        line = warning()
    note = f"⚠ {line}" if line else ""
    if note:
        print_wrapped(note)
        if (printed := _NOTES.get()) is not None:
            printed.append(note)
    return note
