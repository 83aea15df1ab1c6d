"""The public self-check of the notebooks: ``check(Momentum)``.

It prints one friendly line per property and a closing verdict, and returns the
:class:`~.report.Report` (truthy when everything passed). Whatever the class
does — raise, return NaN, hang, not be a class at all — ``check`` does not raise.
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

from ..optimizers import available
from . import messages
from .grading import PUBLIC_SEEDS, grade
from .report import PropertyResult, Report
from .spec import resolve_optimizer

__all__ = ["check", "infer_optimizer"]


def infer_optimizer(obj: Any) -> str | None:
    """Guess the optimizer from a class name ("RMSprop", "MyAdam"); None if unclear.

    The longest registry name contained in the (lower-cased, letters-only) class
    name wins; a tie ("NesterovMomentum") is unclear.
    """
    cls = obj if isinstance(obj, type) else type(obj)
    if obj is None or not hasattr(cls, "__name__"):
        return None
    name = re.sub(r"[^a-z0-9]", "", cls.__name__.lower())
    found = [n for n in available() if n in name]
    if not found:
        return None
    longest = max(len(n) for n in found)
    best = [n for n in found if len(n) == longest]
    return best[0] if len(best) == 1 else None


def _setup_problem(subject: str, message: str) -> Report:
    result = PropertyResult("setup", "the check could start", "cannot check", False, message)
    return Report(subject, (result,))


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
        inferred from the class name if omitted.
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
    Checking Momentum as the reference momentum optimizer:
    ✔ first step matches the formula
    ...
    All checks passed — well done!
    >>> bool(report)
    True
    """
    out = sys.stdout if file is None else file
    subject = messages.describe_object(student_cls)
    try:
        if optimizer is None:
            name = infer_optimizer(student_cls)
            if name is None:
                raise ValueError(
                    f"could not tell which optimizer {subject} implements: name it, e.g. "
                    f"check({subject}, 'momentum') (one of {', '.join(available())})."
                )
        else:
            name = resolve_optimizer(optimizer)
        print(f"Checking {subject} as the reference {name} optimizer:", file=out)
        report = grade(student_cls, name, seeds, time_limit=time_limit)
    except ValueError as exc:  # an unknown or unclear optimizer name
        report = _setup_problem(subject, str(exc))
    except Exception as exc:  # the self-check must never show a traceback
        report = _setup_problem(subject, (
            f"the checker itself failed ({type(exc).__name__}: {exc}). Please tell your "
            "instructor, and include this message."))
    print(report.text(), file=out)
    return report
