"""What is graded: the properties of an optimizer class and the case each one runs.

Each property checks one aspect and nothing else, so a mistake costs the
points of what it breaks and no more (a wrong formula does not cost the
in-place point, not even one whose step is zero on some calls; a state reset
does not cost the per-key point):

=============== ============================================ ==================================
property        case                                         what must hold
=============== ============================================ ==================================
first_step      1 key (3×4), 1 call                          the values after one step
carries_state   1 key (2×3), 20 calls; the gradient is all   the values after each call
                zeros on the 8th
per_key_state   4 keys (3×4, 3×4, 4, 0-d), 4 calls, then     every key is updated, and exactly
                each key alone in a fresh optimizer          as when it is the only parameter
in_place        1 key (3×4), 3 calls                         same array object after every
                                                             call, and its values changed
                                                             (on at least one call); no key
                                                             added to params
float32         1 key (2×3), float32, 3 calls                dtype stays float32 every call
                                                             (and the values change on at
                                                             least one call)
zero_grad       3 keys (3×4 each), 2 calls; the first        no NaN or infinity where the
                gradient is all zeros in the 1st key and     gradient was 0 (in the 1st key, in
                zero at every third entry of the 3rd         those entries of the 3rd), from
                                                             that call on; no movement of the
                                                             1st key on its zero gradient (if
                                                             the reference does not move)
=============== ============================================ ==================================

``per_key_state`` compares the student's class with itself (together versus
alone), so it does not depend on the recurrence being right; ``zero_grad``
applies to the optimizers that divide by a gradient statistic (where a missing
epsilon gives 0/0). The zeros of the 3rd key catch a class that skips all-zero
gradients but still divides 0 by 0 where single entries are 0 (as a dead ReLU
unit's are). A NaN only where the gradient was not zero is a mistake of the step
itself (the root of a negative statistic): the value properties charge it,
``zero_grad`` does not. A NaN where the gradient was zero counts, whatever its
cause: a step counter at 0 (``1 − β₁⁰ = 0``: 0/0 in every key, that one
included) loses ``zero_grad`` too, as its explanation says; a NaN the zero
gradient left in the state and that shows at the 2nd call counts, unless an
entry whose gradient was never zero went NaN first. A class that cannot be used at all (not
written, wrong signature, crashes) fails every property it crashes in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..optimizers import OPTIMIZERS, optimizer_class, reference_name
from .cases import Case, make_case
from .compare import BEHAVIOUR

__all__ = [
    "PROPERTIES",
    "Property",
    "get_property",
    "properties_for",
    "required_arguments",
]



def _dividing() -> frozenset[str]:
    """Optimizers that divide by a gradient statistic (a missing epsilon gives 0/0 there).

    Each class says so itself (``Optimizer.divides_by_gradient_statistic``).
    """
    return frozenset(name for name, cls in OPTIMIZERS.items()
                     if cls.divides_by_gradient_statistic)


# Hyperparameters a student class may leave out (the book hard-codes epsilon).
_OPTIONAL_ARGUMENTS = frozenset({"eps", "momentum_decay"})


@dataclass(frozen=True)
class Property:
    """One graded property and the case recipe that tests it.

    Attributes
    ----------
    name : str
        Identifier, e.g. ``"carries_state"`` (used in nbgrader cells).
    title : str
        What a pass means ("state is carried between calls").
    short : str
        Label of a failure ("state between calls").
    shapes : dict of str to tuple
        Parameter names and shapes of the case.
    calls : int
        Number of ``update`` calls.
    dtype : str
        dtype of the case.
    zero_keys : tuple of str
        Keys whose first gradient is all zeros.
    zero_entries : tuple of str
        Keys whose first gradient is zero at every third entry only.
    zero_calls : tuple of int
        Calls (from 0) on which every gradient is all zeros.
    value_calls : int or None
        Compare values only after this many calls (None: all); ``judge="values"`` only.
    kinds : frozenset of str
        Finding kinds that fail this property (besides the class being unusable);
        ``judge="values"`` only.
    applies_to : frozenset of str
        Optimizer names this property is graded for.
    points : float
        Default weight.
    judge : str
        How the observations are judged: ``"values"`` (against the reference, every
        call), ``"in_place"``, ``"float32"``, ``"per_key"`` or ``"zero_grad"`` (see
        :mod:`.judges`).
    stateless : tuple of (str, str) or None
        ``title`` and ``short`` for an optimizer that keeps no state (SGD), where "state
        between calls" would tell the student to look for state there is none of.
    decaying : str or None
        ``title`` for an optimizer with weight decay (AdamW), which still moves on a zero
        gradient: "a zero step" would tell the student a wrong fact.
    """

    name: str
    title: str
    short: str
    shapes: dict[str, tuple[int, ...]]
    calls: int
    dtype: str = "float64"
    zero_keys: tuple[str, ...] = ()
    zero_entries: tuple[str, ...] = ()
    zero_calls: tuple[int, ...] = ()
    value_calls: int | None = None
    kinds: frozenset[str] = BEHAVIOUR
    applies_to: frozenset[str] = field(default_factory=lambda: frozenset(OPTIMIZERS))
    points: float = 1.0
    judge: str = "values"
    stateless: tuple[str, str] | None = None
    decaying: str | None = None

    def for_optimizer(self, optimizer: str) -> Property:
        """This property with the labels it has for ``optimizer`` (see ``stateless``)."""
        cls = optimizer_class(reference_name(optimizer))
        if self.decaying is not None and cls.decays_weights():
            return replace(self, title=self.decaying)
        if self.stateless is None or cls.state_names:
            return self
        title, short = self.stateless
        return replace(self, title=title, short=short)

    def case(self, seed: int) -> Case:
        """The case of this property drawn from ``seed``."""
        return make_case(seed, shapes=self.shapes, dtype=np.dtype(self.dtype), calls=self.calls,
                         zero_keys=self.zero_keys, zero_entries=self.zero_entries,
                         zero_calls=self.zero_calls)


#: Every property, in the order a student should fix them.
PROPERTIES: tuple[Property, ...] = (
    Property("first_step", "first step matches the formula", "first step",
             {"W": (3, 4)}, calls=1),
    # Twenty calls: an update that goes wrong only after five (bias correction dropped
    # from the 6th call, h reset every 6th) passed when this was five (red-team round 8).
    # A zero gradient on the 8th: torch.optim steps such a parameter too (its momentum,
    # its averages decay, Adam's counter advances), and a class that skips it scored full
    # marks (a student audit).
    Property("carries_state", "state is carried between calls", "state between calls",
             {"W": (2, 3)}, calls=20, zero_calls=(7,),
             stateless=("repeated calls take the formula's step", "repeated calls")),
    # Every optimizer, SGD included: a loop that stops after the first key loses this point.
    Property("per_key_state", "each parameter is updated on its own", "each parameter on its own",
             {"W1": (3, 4), "W2": (3, 4), "b": (4,), "s": ()}, calls=4, judge="per_key"),
    Property("in_place", "parameters are updated in place", "update in place",
             {"W": (3, 4)}, calls=3, judge="in_place"),
    Property("float32", "float32 parameters stay float32", "float32 parameters",
             {"W": (2, 3)}, calls=3, dtype="float32", judge="float32"),
    # Keys of one shape: NaN in W2, whose gradient is nowhere zero, tells a missing epsilon
    # from NaN the step makes anyway (a step counter starting at 0, the root of a negative
    # statistic), which costs the values, not this property. W3's single zero entries
    # catch a class that skips all-zero gradients and divides by a root with no epsilon.
    Property("zero_grad", "a zero gradient gives a zero step, not NaN", "zero gradient",
             {"W1": (3, 4), "W2": (3, 4), "W3": (3, 4)}, calls=2, zero_keys=("W1",),
             zero_entries=("W3",), applies_to=_dividing(), judge="zero_grad",
             decaying="a zero gradient gives no NaN"),
)

_BY_NAME = {p.name: p for p in PROPERTIES}


def properties_for(optimizer: str) -> tuple[Property, ...]:
    """The properties graded for ``optimizer``, in :data:`PROPERTIES` order."""
    name = reference_name(optimizer)
    return tuple(p.for_optimizer(name) for p in PROPERTIES if name in p.applies_to)


def get_property(name: str | Property) -> Property:
    """Look a property up by name (a :class:`Property` is returned unchanged)."""
    if isinstance(name, Property):
        return name
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"unknown property {name!r}; choose one of {', '.join(_BY_NAME)}"
        ) from None


def required_arguments(optimizer: str) -> tuple[str, ...]:
    """Constructor arguments a student's class must accept (all but epsilon-like ones)."""
    cls = optimizer_class(reference_name(optimizer))
    return tuple(h.name for h in cls.hyperparameters if h.name not in _OPTIONAL_ARGUMENTS)
