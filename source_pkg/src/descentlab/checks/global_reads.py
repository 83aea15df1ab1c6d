"""A method that reads the notebook's global ``lr`` where it meant ``self.lr``.

A demo cell that defines ``mu, lr = 0.9, 0.1`` hides a missing ``self.``: the
method raises nothing and the checks only see a wrong factor. Reading the
methods' bytecode (:func:`descentlab.code_reads.global_loads`) finds such reads
without running the student's code. For a class that is a proxy to another
process (the grader's), the reads come with it, made where the class lives
(:data:`~descentlab.code_reads.REMOTE_READS`).
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable
from typing import Any

from ..code_reads import REMOTE_READS, global_loads
from ..optimizers import optimizer_class
from .messages import reads_globals
from .observe import accepted_arguments
from .spec import required_arguments

__all__ = ["global_reads", "global_reads_note", "self_attributes"]


def _names(value: Any) -> list[str]:
    """``value`` if it is a list of identifiers, else [] (a proxy's data is the student's)."""
    if not isinstance(value, list) or len(value) > 1000:
        return []
    return [v for v in value if isinstance(v, str) and v.isidentifier()]


def _remote_or_own(cls: Any) -> dict[str, Any]:
    """:func:`~descentlab.code_reads.global_loads` of ``cls``: its own, or those a proxy
    brought with it (the student's data there: each part is checked by its reader)."""
    remote = getattr(cls, REMOTE_READS, None) if isinstance(cls, type) else None
    return remote if isinstance(remote, dict) else global_loads(cls)


def _per_method(value: Any) -> dict[str, list[str]]:
    """``{method: [identifier, ...]}`` of ``value``, anything else left out."""
    return {str(m): _names(n) for m, n in value.items()} if isinstance(value, dict) else {}


def _loads(cls: Any) -> tuple[dict[str, list[str]], list[str]]:
    """The reads and stores of ``cls``: its own, or those a proxy brought with it."""
    remote = _remote_or_own(cls)
    return _per_method(remote.get("reads")), _names(remote.get("stores"))


def self_attributes(cls: Any) -> dict[str, tuple[list[str], list[str]]]:
    """Each of the student's methods of ``cls`` -> the attributes of ``self`` it reads and
    those it assigns (:func:`descentlab.code_reads.global_loads`'s ``attributes``), for a
    class or the grader's proxy of one; ``{}`` for anything else."""
    attributes = _remote_or_own(cls).get("attributes")
    if not isinstance(attributes, dict):
        return {}
    return {str(method): (_names(seen.get("reads")), _names(seen.get("stores")))
            for method, seen in attributes.items() if isinstance(seen, dict)}


def global_reads(cls: Any, names: Iterable[str]) -> dict[str, list[str]]:
    """Which of ``names`` each method of ``cls`` reads as an existing global variable.

    Parameters
    ----------
    cls : type
        The student's class, or the grader's proxy of one, which brings the reads made
        where the class lives (:data:`~descentlab.code_reads.REMOTE_READS`; a proxy
        without them gives ``{}``). Anything that is not a class gives ``{}``.
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
    reads, stores = _loads(cls)
    wanted = set(names) | set(stores)
    found = {method: [n for n in read if n in wanted] for method, read in reads.items()}
    return {method: read for method, read in found.items() if read}


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
    stores = set(_loads(cls)[1])
    # A class may leave epsilon out and hard-code it, as the book does: a notebook constant
    # it reads is then its own epsilon, not a missing `self.` (an audit's class with no eps
    # at all was told "use self.eps (the value passed to __init__)").
    every = optimizer_class(optimizer).hyperparameters
    kept = {*required_arguments(optimizer), *accepted_arguments(cls, [h.name for h in every]),
            *stores}
    hyperparameters = [h for h in every if h.name in kept]
    hyper = [h.name for h in hyperparameters]
    # The formula's names too: the lesson's class docstring says `mu` for self.momentum,
    # and a demo cell may define it (a two-bug audit: a global `mu` went unnamed). Where
    # the class keeps an attribute of that name, it is the one meant.
    meant = {alias: h.name for h in hyperparameters for alias in _spellings(h.symbol)
             if alias not in hyper and alias not in stores}
    return " ".join(reads_globals(method, names, hyper, meant)
                    for method, names in global_reads(cls, [*hyper, *meant]).items())


def _spellings(symbol: str) -> set[str]:
    """How code spells a formula's symbol: ``mu`` for ``\\mu``, ``beta1`` and ``beta_1``
    for ``\\beta_1`` (keywords such as ``lambda`` cannot be variables)."""
    plain = symbol.lstrip("\\").replace("{", "").replace("}", "")
    return {name for name in (plain, plain.replace("_", ""))
            if name.isidentifier() and not keyword.iskeyword(name)}
