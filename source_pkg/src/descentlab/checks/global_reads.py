"""A method that reads the notebook's global ``lr`` where it meant ``self.lr``.

A demo cell that defines ``mu, lr = 0.9, 0.1`` hides a missing ``self.``: the
method raises nothing and the checks only see a wrong factor. Reading the
methods' bytecode (:mod:`dis`) finds such reads without running the student's
code. It needs real code objects: for a class that is a proxy to another process
(the grader's) it finds nothing.
"""

from __future__ import annotations

import dis
from collections.abc import Iterable, Iterator
from types import CodeType, FunctionType
from typing import Any

from ..errors import is_observed
from ..optimizers import optimizer_class
from .messages import reads_globals

__all__ = ["global_reads", "global_reads_note"]

_GLOBAL_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})


def _student_functions(cls: type) -> Iterator[FunctionType]:
    """The plain functions behind the methods ``cls`` uses that the student wrote.

    Each name's version that the MRO resolves; a base's overridden method is left out.

    Functions of ours (descentlab's) and of a module that sets ``__tracebackhide__`` (the
    grader's proxy) are left out: they are machinery, not the student's code
    (:func:`~descentlab.errors.is_observed`).
    """
    seen: set[str] = set()
    for klass in getattr(cls, "__mro__", ()):
        if klass is object:
            continue
        for name, value in vars(klass).items():
            if name in seen:  # overridden: the base's version never runs
                continue
            seen.add(name)
            if isinstance(value, property):
                candidates: Iterable[Any] = (value.fget, value.fset)
            else:
                candidates = (getattr(value, "__func__", value),)  # static/class methods
            for function in candidates:
                if not isinstance(function, FunctionType):
                    continue
                if is_observed(function.__code__.co_filename, function.__globals__):
                    yield function


def _codes(code: CodeType) -> Iterator[CodeType]:
    """``code`` and the code of the functions, lambdas and comprehensions inside it."""
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _codes(const)


def _stored_attributes(functions: Iterable[FunctionType]) -> set[str]:
    """Names the functions assign as attributes (``self.mu = momentum`` gives ``mu``)."""
    return {ins.argval for function in functions for code in _codes(function.__code__)
            for ins in dis.get_instructions(code) if ins.opname == "STORE_ATTR"}


def global_reads(cls: Any, names: Iterable[str]) -> dict[str, list[str]]:
    """Which of ``names`` each method of ``cls`` reads as an existing global variable.

    Parameters
    ----------
    cls : type
        The student's class. Anything without real code objects (a proxy to another
        process, not a class at all) gives ``{}``.
    names : iterable of str
        Names that should be read from ``self`` (the hyperparameters). The attributes
        the class's methods assign (``self.mu = ...``) count too.

    Returns
    -------
    dict of str to list of str
        Method name -> the global names it reads (``LOAD_GLOBAL``/``LOAD_NAME``, not an
        attribute), in order of first reading; only globals that exist in the method's
        module (a missing one raises NameError, which is explained where it happens).
        Methods that read none are left out.
    """
    if not isinstance(cls, type):
        return {}
    functions = list(_student_functions(cls))
    wanted = set(names) | _stored_attributes(functions)
    found: dict[str, list[str]] = {}
    for function in functions:
        read = [ins.argval for code in _codes(function.__code__)
                for ins in dis.get_instructions(code)
                if ins.opname in _GLOBAL_LOADS and ins.argval in wanted
                and ins.argval in function.__globals__]
        if read:
            found.setdefault(function.__name__, [])
            found[function.__name__] += [n for n in dict.fromkeys(read)
                                         if n not in found[function.__name__]]
    return found


def global_reads_note(cls: Any, optimizer: str) -> str:
    """The sentence that tells a student a method reads a global instead of ``self.``.

    Parameters
    ----------
    cls : type
        The student's optimizer class.
    optimizer : str
        The reference optimizer it implements (its hyperparameters are the names
        looked for).

    Returns
    -------
    str
        E.g. "Your update() reads the notebook's global `lr`, not `self.lr`: use self.lr
        (the value passed to __init__).", one sentence per method; ``""`` if none does.

    Examples
    --------
    >>> from descentlab.optimizers import Momentum
    >>> global_reads_note(Momentum, "momentum")
    ''
    """
    hyper = [h.name for h in optimizer_class(optimizer).hyperparameters]
    return " ".join(reads_globals(method, names)
                    for method, names in global_reads(cls, hyper).items())
