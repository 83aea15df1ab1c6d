"""The public self-check of the notebooks: ``check(Momentum)``.

It prints one friendly line per property and a closing verdict, and returns the
:class:`~.report.Report` (truthy when everything passed). Whatever the class
does — raise, return NaN, hang, not be a class at all — ``check`` does not raise.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, TextIO

from ..optimizers import available, find_reference, optimizer_class, reference_name
from ..output_lines import print_wrapped
from . import messages
from .exercise import self_check as selfcheck_run
from .grading import PUBLIC_SEEDS, score_properties
from .report import Report

__all__ = ["changed_defaults", "check"]


def check(
    student_cls: Any,
    optimizer: str | None = None,
    *,
    seeds: tuple[int, ...] = PUBLIC_SEEDS,
    time_limit: float | None = 2.0,
    file: TextIO | None = None,
) -> Report:
    """Check a student's optimizer class against the reference and print the verdict.

    Parameters
    ----------
    student_cls : type
        Your optimizer class, e.g. ``Momentum`` (the class, not ``Momentum()``).
    optimizer : str, optional
        Which optimizer it implements ("momentum", "RMSprop", …, any case);
        if omitted, :func:`~descentlab.optimizers.find_reference` tells it from
        the class name ("MyAdam" is Adam).
    seeds : tuple of int
        Seeds of the cases (default: the public ones).
    time_limit : float or None
        Seconds one call of your code may take before it counts as hanging.
    file : text stream, optional
        Where to print (default: standard output).

    Returns
    -------
    Report
        Truthy when every check passed. Never raises for anything the class does.

    Examples
    --------
    >>> from descentlab.optimizers import Momentum
    >>> report = check(Momentum)                            # doctest: +ELLIPSIS
    Checking Momentum against the course's momentum optimizer:
    ✔ first step matches the formula
    ...
    All checks passed — well done!
    >>> bool(report)
    True
    """
    subject = messages.describe_object(student_cls)
    checked: list[str] = []  # the optimizer, once the check has started

    def run(out: TextIO) -> Report:
        if optimizer is None:
            name = find_reference(student_cls)
            if name is None:
                raise ValueError(
                    f"could not tell which optimizer {subject} implements: name it, e.g. "
                    f"check({subject}, 'momentum') (one of {', '.join(available())})."
                )
        else:
            name = reference_name(optimizer)
        print(f"Checking {subject} against the course's {name} optimizer:", file=out)
        checked.append(name)
        return score_properties(student_cls, name, seeds, time_limit=time_limit)

    # A ValueError is an unknown or unclear optimizer name: its text is the verdict.
    report = selfcheck_run(subject, run, file=file, setup_errors=(ValueError,),
                           code=student_cls)
    # Not after a check that could not start (an unknown name, code of a failed cell).
    changed = changed_defaults(student_cls, checked[0]) if checked else []
    if changed:
        print_wrapped(f"Note: {subject} has the default {', '.join(changed)}. The figures "
                      f"below build {subject} with your defaults, so they will not match the "
                      "text; the graded tests pass every value, so this costs no points.", file)
    return report


def changed_defaults(student_cls: Any, optimizer: str) -> list[str]:
    """``"rho=0.9 (the lesson's: 0.99)"`` for each hyperparameter whose default in the
    student's ``__init__`` is not the course's (epsilon aside: its forms are all accepted).

    Two student audits: ρ = 0.9 for 0.99, and AdamW's weight_decay = 0, cost nothing and
    were never mentioned, while the demos drew other curves than the text describes.
    """
    try:
        mine = inspect.signature(student_cls).parameters
        course = inspect.signature(optimizer_class(optimizer)).parameters
    except (TypeError, ValueError, KeyError):
        return []
    changed = []
    for key, theirs in course.items():
        ours = mine.get(key)
        if key == "eps" or ours is None or ours.default is inspect.Parameter.empty:
            continue
        try:
            same = math.isclose(float(ours.default), float(theirs.default), rel_tol=1e-12)
        except (TypeError, ValueError, OverflowError):
            same = ours.default == theirs.default
        if not same:
            changed.append(f"{key}={ours.default!r} (the lesson's: {theirs.default!r})")
    return changed
