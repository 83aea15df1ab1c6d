"""One line about an exception raised by a student's code: what, where, and a hint.

Shared by the self-checks (:mod:`descentlab.checks`) and the widgets' friendly
messages (:mod:`descentlab.widgets.demo_errors`). It holds no reference
implementation, so it stays importable where the checks are not (the grader's jail).
"""

from __future__ import annotations

import linecache
import os
import traceback

import numpy as np

from ._timebox import TimeLimitExceeded

__all__ = ["describe_exception", "exception_hint"]

_MAX_MESSAGE = 300
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))  # descentlab/
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _where(exc: BaseException) -> str:
    """Describe the innermost line of observed code (not NumPy's, not ours) that raised.

    A module that sets ``__tracebackhide__`` (pytest's convention) is machinery too: the
    grader's judge, which re-raises in its own code what the student's code raised.
    """
    for frame, lineno in reversed(list(traceback.walk_tb(exc.__traceback__))):
        filename = frame.f_code.co_filename
        ours = not filename.startswith("<") and \
            os.path.abspath(filename).startswith((_OWN_DIR, _NUMPY_DIR))
        if ours or frame.f_globals.get("__tracebackhide__"):
            continue
        source = linecache.getline(filename, lineno).strip()
        where = f"in {frame.f_code.co_name}(), line {lineno}"
        return f"{where}: `{source}`" if source else where
    return ""


def describe_exception(exc: BaseException) -> tuple[str, str, str]:
    """(type name, short message, where in the observed code) of an exception."""
    if isinstance(exc, TimeLimitExceeded):
        return "TimeLimitExceeded", _short(str(exc)), ""
    try:
        message = repr(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    except Exception:  # a student's exception class whose __str__ itself fails
        message = ""
    return type(exc).__name__, _short(message), _where(exc)


def exception_hint(kind: str, message: str) -> str:
    """A short hint for a common exception raised inside ``update``, or ``""``."""
    low = message.lower()
    if kind == "KeyError":
        return ("a dict (your state?) has no entry for this key yet: create each key's state "
                "the first time update() sees that key.")
    if "nonetype" in low and ("subscript" in low or "item assignment" in low
                              or "unsupported operand" in low):
        return ("something is still None: create your state (e.g. self.v = {}) the first time "
                "update() runs.")
    if kind == "ValueError" and "broadcast" in low:
        return ("arrays of different shapes were combined: does one state array serve several "
                "parameters? Keep one per parameter: self.v[key].")
    if kind == "ZeroDivisionError":
        return ("a division by zero: is the step counter still 0 when you use it? It must "
                "be 1 on the first call (advance it first).")
    if kind == "AttributeError" and "'update'" in message:
        return "your class needs a method `def update(self, params, grads):`."
    if kind == "AttributeError":
        return "an attribute was never set: store every argument in __init__ (self.lr = lr)."
    if kind == "NameError":
        return "a name is not defined: inside a method, attributes are self.lr, self.v, ..."
    if kind == "IndexError" and "too many indices" in low:
        return ("some parameters are vectors or 0-d arrays: update whole arrays "
                "(params[key] -= ...) instead of indexing rows.")
    if "cast" in low:
        return ("the result could not be stored in the parameter's dtype: keep the arrays' "
                "dtype (create state with np.zeros_like(params[key])).")
    return ""
