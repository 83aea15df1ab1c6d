"""The catalogue of common mistakes: one runnable "mutant" class per mistake.

A mutant is a realistic student class with exactly one mistake. When a
student's class disagrees with the reference, :func:`~..diagnose.diagnose`
runs the optimizer's mutants on the same case; if one behaves exactly like the
student's class, its explanation is what the student reads.

The mistakes of one optimizer (EMA momentum, a missing bias correction, a step
counter per key, …) are hand-written, book-style classes (:mod:`.momentum`,
:mod:`.adaptive`, :mod:`.adam`); the slips of every optimizer (wrong sign,
learning rate ignored, another hyperparameter written as a number, not in
place) are made from each reference class by :mod:`.generic`, so a new
optimizer has them without a line written.

One mistake may be written in several ways that compute different numbers (ρ
written as 0.99 or as 0.9; ε from ``self.eps`` or the book's 1e-7): its
``variants`` are the other ways, each with the explanation it gets.

Examples
--------
>>> [m.id for m in mistakes_for("sgd")]
['first_key_only', 'wrong_sign', 'lr_ignored', 'not_in_place']
>>> [m.id for m in mistakes_for("rmsprop")][-4:]
['wrong_sign', 'lr_ignored', 'hard_coded_rho', 'not_in_place']
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from ...optimizers import OPTIMIZERS
from . import adam, adaptive, momentum
from .generic import GENERIC, generic_mutant, hard_coded, planted_source, skipping_matters
from .texts import explain, explain_hard_coded

__all__ = ["CATALOGUE", "Mistake", "get_mistake", "mistakes_for"]


@dataclass(frozen=True)
class Mistake:
    """One catalogued mistake of one optimizer.

    Attributes
    ----------
    id : str
        Stable identifier, e.g. ``"state_reset_each_call"``.
    optimizer : str
        Registry name of the optimizer it belongs to.
    cls : type
        A book-style class with exactly this mistake.
    explanation : str
        What the student reads when their class behaves like ``cls``.
    generic : bool
        Whether ``cls`` was made from the reference class by :mod:`.generic`.
    variants : tuple of (type, str)
        Other classes with the same mistake written another way, each with its
        explanation; the diagnosis tries them after ``cls``.
    """

    id: str
    optimizer: str
    cls: type
    explanation: str
    generic: bool = False
    variants: tuple[tuple[type, str], ...] = ()

    def forms(self) -> tuple[tuple[type, str], ...]:
        """``(class, explanation)`` of ``cls`` and of every variant, in the order tried."""
        return ((self.cls, self.explanation), *self.variants)

    def plant(self, name: str, solution: str) -> str:
        """Source of an answer cell defining class ``name`` with this mistake.

        A generic slip is planted into ``solution``, the cell's correct source; a
        hand-written mutant replaces it (its own base classes included, so the
        text runs on its own after ``import numpy as np``).
        """
        if self.generic:
            return planted_source(self.id, OPTIMIZERS[self.optimizer], name, solution)
        parts = ["import numpy as np"]
        parts += [inspect.getsource(base) for base in reversed(self.cls.__mro__[1:-1])]
        parts += [inspect.getsource(self.cls), f"{name} = {self.cls.__name__}"]
        return "\n\n".join(parts) + "\n"


def _build() -> dict[str, tuple[Mistake, ...]]:
    """Every optimizer's own mistakes first (they are more specific), then the generic slips."""
    catalogue: dict[str, list[Mistake]] = {name: [] for name in OPTIMIZERS}
    for optimizer, mistake_id, cls, *others in (*momentum.MUTANTS, *adaptive.MUTANTS,
                                                *adam.MUTANTS):
        text = explain(mistake_id, optimizer)
        catalogue[optimizer].append(Mistake(mistake_id, optimizer, cls, text,
                                            variants=tuple((other, text) for other in others)))
    for optimizer, reference in OPTIMIZERS.items():
        for mistake_id in GENERIC:
            if mistake_id == "skips_zero_gradient" and not skipping_matters(reference):
                continue
            catalogue[optimizer].append(Mistake(mistake_id, optimizer,
                                                generic_mutant(mistake_id, reference),
                                                explain(mistake_id, optimizer), generic=True))
            if mistake_id == "lr_ignored":
                catalogue[optimizer] += _hard_coded(optimizer, reference)
    return {name: tuple(entries) for name, entries in catalogue.items()}


def _hard_coded(optimizer: str, reference: type) -> list[Mistake]:
    """One mistake per drawn hyperparameter but the rate, one form per number written."""
    found = []
    for mistake_id, name, literals in hard_coded(reference):
        forms = [(generic_mutant(mistake_id, reference, literal),
                  explain_hard_coded(optimizer, name, literal)) for literal in literals]
        (cls, text), *variants = forms
        found.append(Mistake(mistake_id, optimizer, cls, text, generic=True,
                             variants=tuple(variants)))
    return found


#: Optimizer registry name -> its mistakes, in the order ``diagnose`` tries them.
CATALOGUE: dict[str, tuple[Mistake, ...]] = _build()


def mistakes_for(optimizer: str) -> tuple[Mistake, ...]:
    """The catalogued mistakes of ``optimizer`` (empty for an uncatalogued one)."""
    return CATALOGUE.get(optimizer.lower(), ())


def get_mistake(optimizer: str, mistake_id: str) -> Mistake:
    """Look one mistake up; ``KeyError`` if ``optimizer`` has no such mistake."""
    for mistake in mistakes_for(optimizer):
        if mistake.id == mistake_id:
            return mistake
    raise KeyError(f"{optimizer} has no catalogued mistake {mistake_id!r}")
