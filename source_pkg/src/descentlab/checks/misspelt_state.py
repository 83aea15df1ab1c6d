"""One state attribute spelt two ways: ``update()`` tests ``self.v``, which only
``__init__`` sets, and keeps the velocity in ``self.V``.

The class raises nothing (both attributes exist) and the checks see a state forgotten
between calls, whose explanation lists every cause it could be ("... or a misspelt name
stores it in another attribute"). The methods' bytecode says which two names
(:func:`~.global_reads.self_attributes`), so the note names them; for the grader's proxy
of a class, from the reads made where the class lives.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Any

from .global_reads import self_attributes

__all__ = ["misspelt_state", "misspelt_state_note"]


def _alike(a: str, b: str) -> bool:
    """Whether two attribute names look like one name mistyped: they differ in case only
    (``v``, ``V``), or are long and nearly the same (``velocity``, ``velocty``)."""
    a, b = a.lower(), b.lower()
    return a == b or (min(len(a), len(b)) >= 4
                      and difflib.SequenceMatcher(None, a, b).ratio() >= 0.8)


def misspelt_state(cls: Any, settings: Collection[str] = ()) -> list[tuple[str, str, str]]:
    """``(method, read, stored)`` for each attribute a method reads that only ``__init__``
    sets, beside a look-alike one that the methods set and that method reads.

    ``settings``: attribute names that are settings, not state (the hyperparameters:
    ``self.momentum`` beside a velocity kept in ``self.momentums`` is no misspelling).

    Examples
    --------
    >>> class Momentum:
    ...     def __init__(self, lr=0.01):
    ...         self.lr, self.v = lr, None
    ...     def update(self, params, grads):
    ...         if self.v is None:
    ...             self.V = {k: 0 * p for k, p in params.items()}
    ...         for k in params:
    ...             self.V[k] = 0.9 * self.V[k] - self.lr * grads[k]
    ...             params[k] += self.V[k]
    >>> misspelt_state(Momentum)
    [('update', 'v', 'V')]
    """
    attributes = self_attributes(cls)
    set_in_init = set(attributes.pop("__init__", ([], []))[1])
    set_later = sorted({name for _, stores in attributes.values() for name in stores})
    found = []
    for method, (reads, _) in attributes.items():
        # Read as state that only __init__ gives a value (None, {}): what the method tests.
        tested = [name for name in reads if name in set_in_init
                  and name not in set_later and name not in settings]
        found += [(method, read, stored) for read in tested for stored in set_later
                  if stored in reads and stored != read and _alike(read, stored)]
    return found


def misspelt_state_note(cls: Any, settings: Collection[str] = ()) -> str:
    """The sentence naming :func:`misspelt_state`'s attributes (``""`` if none).

    >>> class Momentum:
    ...     def __init__(self):
    ...         self.v = None
    ...     def update(self, params, grads):
    ...         if self.v is None:
    ...             self.V = {}
    ...         self.V.update(grads)
    >>> print(misspelt_state_note(Momentum))  # doctest: +NORMALIZE_WHITESPACE
    Your update() reads self.v, which only __init__ sets, and stores self.V: if they are
    meant to be one attribute, self.v keeps the value __init__ gave it and never holds what
    update() stored. Spell both the same.
    """
    return " ".join(
        f"Your {method}() reads self.{read}, which only __init__ sets, and stores "
        f"self.{stored}: if they are meant to be one attribute, self.{read} keeps the value "
        f"__init__ gave it and never holds what {method}() stored. Spell both the same."
        for method, read, stored in misspelt_state(cls, settings))
