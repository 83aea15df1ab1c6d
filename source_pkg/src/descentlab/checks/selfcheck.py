"""The public self-check of the notebooks: ``check(Momentum)``.

It prints one friendly line per property and a closing verdict, and returns the
:class:`~.report.Report` (truthy when everything passed). Whatever the class
does — raise, return NaN, hang, not be a class at all — ``check`` does not raise.
"""

from __future__ import annotations

from typing import Any, TextIO

from ..optimizers import available, find_reference, reference_name
from . import messages
from .exercise import self_check as selfcheck_run
from .grading import PUBLIC_SEEDS, score_properties
from .report import Report

__all__ = ["check"]


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
        return score_properties(student_cls, name, seeds, time_limit=time_limit)

    # A ValueError is an unknown or unclear optimizer name: its text is the verdict.
    return selfcheck_run(subject, run, file=file, setup_errors=(ValueError,),
                         code=student_cls)
