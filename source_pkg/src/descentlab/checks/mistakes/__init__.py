"""The catalogue of common mistakes: one runnable "mutant" class per mistake.

A mutant is a realistic, book-style student class with exactly one mistake.
When a student's class disagrees with the reference, :func:`~..diagnose.diagnose`
runs the optimizer's mutants on the same case; if one behaves exactly like the
student's class, its explanation is what the student reads.

Examples
--------
>>> [m.id for m in mistakes_for("sgd")]
['wrong_sign', 'lr_ignored', 'first_key_only', 'not_in_place']
"""

from __future__ import annotations

from dataclasses import dataclass

from . import adam, adaptive, momentum
from .texts import explain

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
    """

    id: str
    optimizer: str
    cls: type
    explanation: str


def _build() -> dict[str, tuple[Mistake, ...]]:
    catalogue: dict[str, list[Mistake]] = {}
    for optimizer, mistake_id, cls in (*momentum.MUTANTS, *adaptive.MUTANTS, *adam.MUTANTS):
        text = explain(mistake_id, optimizer)
        catalogue.setdefault(optimizer, []).append(Mistake(mistake_id, optimizer, cls, text))
    return {name: tuple(entries) for name, entries in catalogue.items()}


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
