"""Is the class or function a self-check got the one on the student's screen?

When a notebook cell that defines ``class Momentum`` fails to run (an
IndentationError, or an exception before the class statement finishes), the name
``Momentum`` keeps the class of the last run that worked, and ``check(Momentum)``
would check that old class. :func:`stale_code` notices it from IPython's public
records: the cell text each cell's code was compiled from (IPython puts it in
:mod:`linecache` under the name the code's ``co_filename`` carries) and the input
history (``history_manager.input_hist_parsed``, the list the notebook calls ``In``).
If the latest input that defines the name is not a cell the object's code came
from, that input did not finish.

Outside IPython (plain Python, the tests, the grader's judge process) it answers
``""`` without importing IPython; in the grading jail ``descentlab.checks`` is
replaced by stubs, so it does not run there at all.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from .messages import stale_code_message

__all__ = ["stale_code"]


def _normal(text: str) -> str:
    """Cell text compared line by line, blind to trailing blanks (history and linecache
    end a cell's lines differently)."""
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()


def _code_files(obj: Any) -> set[str]:
    """The ``co_filename`` of a function, or of a class's own methods (and properties)."""
    functions: Iterable[Any]
    if isinstance(obj, type):
        members = []
        for member in vars(obj).values():
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            elif isinstance(member, property):
                members.extend((member.fget, member.fset, member.fdel))
                continue
            members.append(member)
        functions = members
    else:
        functions = (obj,)
    files = set()
    for function in functions:
        if callable(function):
            code = getattr(inspect.unwrap(function), "__code__", None)
            if code is not None:
                files.add(code.co_filename)
    return files


def _binds(text: str, name: str) -> str | None:
    """How the cell ``text`` binds ``name`` at top level: ``"def"`` (a class or def
    statement), ``"other"`` (an assignment, import, …) or None.

    A cell that does not parse (the case this module is for) is read line by line.
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        pattern = rf"^[ \t]*(?:async[ \t]+)?(?:class|def)[ \t]+{re.escape(name)}\b"
        return "def" if re.search(pattern, text, re.MULTILINE) else None
    found = None
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name == name:
                found = "def"
        elif any(isinstance(sub, ast.Name) and sub.id == name
                 and isinstance(sub.ctx, (ast.Store, ast.Del)) for sub in ast.walk(node)) \
                or any(isinstance(sub, ast.alias) and (sub.asname or sub.name) == name
                       for sub in ast.walk(node)):
            found = "other"
    return found


def _why(text: str) -> str:
    """Why the cell ``text`` did not finish, as far as compiling it tells."""
    try:
        compile(text, "<cell>", "exec", dont_inherit=True)
    except SyntaxError as exc:  # IndentationError and TabError too
        return f"{type(exc).__name__} at line {exc.lineno}" if exc.lineno else type(exc).__name__
    except ValueError:  # a null byte in the source
        return ""
    return ""


def _shell() -> Any:
    """The running IPython shell, or None; IPython is not imported if nothing has."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def _inputs(shell: Any) -> Sequence[str]:
    """The texts of the cells run so far, oldest first (transformed, as compiled)."""
    history = getattr(shell, "history_manager", None)
    inputs = getattr(history, "input_hist_parsed", None)
    if inputs is None:  # history switched off: the notebook's ``In``
        inputs = getattr(shell, "user_ns", {}).get("In")
    return inputs if isinstance(inputs, list) else []


def stale_code(obj: Any, *, drawn: bool = False) -> str:
    """Explain that ``obj`` comes from an earlier run of a cell whose latest run failed.

    Parameters
    ----------
    obj : object
        What a self-check was given: the student's class or function.
    drawn : bool
        Said under a figure or widget that drew ``obj``, not by a self-check.

    Returns
    -------
    str
        The sentence for the student, or ``""`` when ``obj`` is the code of the
        latest run of its cell, when that cannot be told (not in IPython, not a
        class or function defined in a cell, the name last bound by an assignment
        or import), and whenever anything here goes wrong: a self-check must run.
    """
    try:
        shell = _shell()
        name = getattr(obj, "__name__", None)
        if shell is None or not isinstance(name, str) or not name.isidentifier() \
                or not (isinstance(obj, type) or inspect.isfunction(obj)) \
                or getattr(obj, "__qualname__", name) != name:
            return ""
        inputs = [text for text in _inputs(shell) if isinstance(text, str)]
        known = {_normal(text) for text in inputs}
        # The cells the object's code was compiled from; a file that is no cell (the
        # reference imported from descentlab) says nothing about the history.
        cells = {_normal("".join(linecache.getlines(file))) for file in _code_files(obj)}
        cells &= known
        if not cells:
            return ""
        for text in reversed(inputs):
            binding = _binds(text, name)
            if binding == "def":
                if _normal(text) in cells:
                    return ""
                kind = "class" if isinstance(obj, type) else "function"
                return stale_code_message(name, kind, _why(text), drawn=drawn)
            if binding == "other":
                return ""
        return ""
    except Exception:  # never let this note break the check itself
        return ""
