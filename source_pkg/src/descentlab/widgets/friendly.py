"""A one-line explanation instead of a traceback when an ``interactive`` callback fails.

ipywidgets' ``interactive(f, ...)`` prints the full traceback when ``f`` raises;
before the exercise is written, that is a wall of red for a student who did
nothing wrong. :func:`friendly` wraps the callback so that it prints what went
wrong, where in the student's code, and what to do.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ..checks.messages import exception_hint
from ..checks.observe import describe_exception

__all__ = ["explain_failure", "friendly"]

F = TypeVar("F", bound=Callable[..., Any])


def explain_failure(name: str, exc: BaseException) -> str:
    """What a student reads when ``name`` (a demo function) raised ``exc``."""
    kind, message, where = describe_exception(exc)
    place = f" {where}" if where else ""
    if kind == "NotImplementedError":
        return (f"{name} cannot run yet: an exercise it uses is not written "
                f"(NotImplementedError{place}). Write it above, run its cell, then move a slider.")
    text = f"{name} stopped: {kind}{place}" + (f": {message}" if message else "") + "."
    hint = exception_hint(kind, message)
    return f"{text} Hint: {hint}" if hint else text


def friendly(function: F) -> F:
    """``function``, printing :func:`explain_failure` instead of raising (for ``interactive``).

    Only ``Exception`` is caught: ``KeyboardInterrupt`` (the stop button) still stops it.

    Examples
    --------
    >>> widgets.interactive(friendly(show_training), lr=(0.01, 1.0))  # doctest: +SKIP
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception as exc:  # the student's code: explain, don't re-raise
            print("✘ " + explain_failure(getattr(function, "__name__", "this demo"), exc))
            return None

    return wrapper  # type: ignore[return-value]
