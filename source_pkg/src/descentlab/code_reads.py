"""Which notebook globals a class's methods read, from their bytecode (:mod:`dis`).

A demo cell that defines ``mu, lr = 0.9, 0.1`` hides a missing ``self.`` in an optimizer's
``update``: the method raises nothing, and a check only sees a wrong factor.
:func:`global_loads` finds such reads without running the student's code;
:mod:`descentlab.checks.global_reads` turns them into a sentence.

Outside ``descentlab.checks`` on purpose: while a notebook is graded the checks are
switched off in the jailed kernel, where the student's class lives; the grader's side
there (``descentlab_grader``) calls :func:`global_loads` and hands the result to the
judge with the class, as :data:`REMOTE_READS`.
"""

from __future__ import annotations

import dis
from collections.abc import Iterable, Iterator
from types import CodeType, FunctionType
from typing import Any

from .errors import is_observed

__all__ = ["REMOTE_READS", "global_loads", "names_read"]

#: The attribute of a class that stands in for one in another process (the grader's
#: proxy): the :func:`global_loads` of the real class, computed there.
REMOTE_READS = "descentlab_global_loads"

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


def global_loads(cls: Any) -> dict[str, Any]:
    """The globals the student's methods of ``cls`` read, and the attributes they store.

    Parameters
    ----------
    cls : type
        The student's class; anything else gives nothing.

    Returns
    -------
    dict
        ``{"reads": {method: [name, ...]}, "stores": [attribute, ...], "attributes":
        {method: {"reads": [...], "stores": [...]}}}``: per method the global names it reads
        (``LOAD_GLOBAL``/``LOAD_NAME``) that exist in its module, in order of first reading
        (a missing one raises NameError, explained where it happens); the attributes any
        method assigns (``self.mu = momentum`` gives ``mu``); and per method the attributes
        of ``self`` it reads and those it assigns (:func:`_self_attributes`). Plain data, so
        that it can cross to another process.
    """
    if not isinstance(cls, type):
        return {"reads": {}, "stores": []}
    functions = list(_student_functions(cls))
    reads: dict[str, list[str]] = {}
    for function in functions:
        names = [ins.argval for code in _codes(function.__code__)
                 for ins in dis.get_instructions(code)
                 if ins.opname in _GLOBAL_LOADS and ins.argval in function.__globals__]
        if names:
            known = reads.setdefault(function.__name__, [])
            known += [n for n in dict.fromkeys(names) if n not in known]
    stores = {ins.argval for function in functions for code in _codes(function.__code__)
              for ins in dis.get_instructions(code) if ins.opname == "STORE_ATTR"}
    attributes = {function.__name__: _self_attributes(function) for function in functions}
    return {"reads": reads, "stores": sorted(stores), "attributes": attributes}


#: Instructions that push a method's ``self`` (a comprehension's is a cell variable).
_SELF_LOADS = frozenset({"LOAD_FAST", "LOAD_DEREF"})


def _self_attributes(function: FunctionType) -> dict[str, list[str]]:
    """The attributes ``function`` reads from its first argument (``self.v``) and those it
    assigns (``STORE_ATTR`` on anything, as :func:`global_loads`'s ``stores``), sorted.

    A read is a ``LOAD_ATTR`` right after ``self`` is pushed (or after the ``COPY`` of it
    that ``self.t += 1`` makes); ``np.pi`` or ``p.shape`` is no read of ``self``.
    """
    code = function.__code__
    if not code.co_argcount:
        return {"reads": [], "stores": []}
    me = code.co_varnames[0]
    reads: set[str] = set()
    stores: set[str] = set()
    for inner in _codes(code):
        last = second_last = None
        for ins in dis.get_instructions(inner):
            if ins.opname == "STORE_ATTR":
                stores.add(ins.argval)
            elif ins.opname == "LOAD_ATTR":
                pushed = second_last if last is not None and last.opname == "COPY" else last
                if pushed is not None and pushed.opname in _SELF_LOADS and pushed.argval == me:
                    reads.add(ins.argval)
            second_last, last = last, ins
    return {"reads": sorted(reads), "stores": sorted(stores)}


def names_read(cls: Any) -> set[str]:
    """The attribute and global names the student's methods of ``cls`` read, and those of
    the student's functions they call by a global name (a notebook's helper).

    Parameters
    ----------
    cls : type
        The student's class; anything else gives nothing.

    Returns
    -------
    set of str
        The names of their bytecode (``co_names``), nested functions included.
    """
    if not isinstance(cls, type):
        return set()
    found: set[str] = set()
    seen: set[CodeType] = set()
    todo = list(_student_functions(cls))
    while todo:
        function = todo.pop()
        if function.__code__ in seen:
            continue
        seen.add(function.__code__)
        for code in _codes(function.__code__):
            found.update(code.co_names)
            todo += [helper for name in code.co_names
                     if isinstance(helper := function.__globals__.get(name), FunctionType)
                     and is_observed(helper.__code__.co_filename, helper.__globals__)]
    return found
