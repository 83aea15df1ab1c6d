"""A friendly line under a NameError of an exercise's name (or of a quiz answer typed
without its quotes), in the student's kernel.

A self-check cell reads ``check(Momentum)``: when the exercise's cell above did not run
(a new kernel) or stopped before defining the class (a SyntaxError), Python raises
``NameError: name 'Momentum' is not defined`` before ``check`` runs, so ``check`` cannot
say what to do. IPython's public ``set_custom_exc`` shows the usual traceback and then
one line: run the exercise's cell. Installed when :mod:`descentlab.checks` is imported
in an IPython kernel (the setup cell of every lesson). While a notebook is graded the
checks are switched off (the grader's copy of descentlab replaces this package), so the
graded cells' outputs are the plain ones.
"""

from __future__ import annotations

import re
from typing import Any

from ..output_lines import print_wrapped

__all__ = ["explain_unbound_exercises"]

#: The shells (by id) given the handler: IPython wraps it, so it cannot be recognised there.
_GIVEN: set[int] = set()


def _explain(shell: Any, etype: type[BaseException], value: BaseException, tb: Any,
             tb_offset: int | None = None) -> None:
    """IPython's handler: the usual traceback, then the line of :func:`explain_failure`."""
    from ..course import exercises
    from ..errors import describe_exception, unquoted_answer
    from ..widgets.demo_errors import explain_failure

    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    # First a quiz answer without its quotes, `q2 = c` or `q4 = RMSProp` (audits: a bare
    # NameError; lesson 07's RMSProp sent to an exercise cell of another lesson).
    hint = unquoted_answer(*describe_exception(value)[1:])[1]
    if hint:
        print_wrapped(f"✘ {hint[0].upper()}{hint[1:]}, then run this cell again.")
    elif getattr(value, "name", None) in {exercise.name for _, exercise in exercises()}:
        print_wrapped("✘ " + explain_failure("This cell", value, then="run this cell again"))
    elif re.fullmatch(r"q\d+", getattr(value, "name", None) or ""):
        # A quiz check under an answer cell that stopped before its line (a student audit:
        # the answer typed below the error read "name 'q3' is not defined", bare).
        print_wrapped(f"✘ This cell needs your answer `{value.name}`, which is not defined: "
                      "run the answer cell above (an error there stops it before the lines "
                      "after it), then run this cell again.")


def explain_unbound_exercises() -> bool:
    """Have the running IPython kernel explain a NameError of an exercise's name.

    Nothing outside IPython, nor where a handler is set already (a student's own is left
    alone).

    Returns
    -------
    bool
        Whether the handler is (now) set.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    if id(shell) in _GIVEN:
        return True
    if shell.custom_exceptions:
        return False
    shell.set_custom_exc((NameError,), _explain)
    _GIVEN.add(id(shell))
    return True
