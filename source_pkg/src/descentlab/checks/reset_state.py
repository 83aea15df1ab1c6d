"""Which way a class forgets its state between calls, read from the state itself.

A state created anew in every call, a rule that leaves out the old value and a new value
never stored back compute the same steps, so the catalogued mistake's explanation lists
every cause (``state_reset_each_call``). In the student's own process the state object
can be looked at: a new dict after each call is the first cause, one that stays all zeros
the third (a student audit read the four causes for ``self.v = {}`` at the top of
``update``). The grader's judge sees the class through a proxy whose attributes are copies:
it tells which object an attribute holds through :data:`IDENTITY_HOOK` (an honest-student
sweep read the four causes on the graded page, the one in the self-check).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._timebox import time_limit
from ..code_reads import REMOTE_READS
from ..optimizers import OPTIMIZERS
from .observe import STUDENT_ERRORS, run_quietly

__all__ = ["IDENTITY_HOOK", "reset_cause"]

#: What an object standing in for one of another process (the grader's proxy) answers with
#: a function: the name of an attribute -> an id of the object it holds there, the same for
#: the same object while the check runs.
IDENTITY_HOOK = "__descentlab_identity__"


#: What ``getattr`` gives for an attribute the object does not have.
_MISSING = object()


def _state_after_calls(student_cls: Any, name: str, limit: float | None
                       ) -> tuple[Any, Any, dict[str, np.ndarray], Any, bool] | None:
    """The attribute ``name`` as ``__init__`` left it (:data:`_MISSING` if it made none),
    after a first call (and a copy of its values then) and after a second ``update`` call
    with the same gradients, and whether the second call left another object in it; or
    None."""
    params = {"W": np.array([1.0, -2.0]), "b": np.array([0.5])}
    grads = {"W": np.array([0.5, 0.25]), "b": np.array([-1.0])}
    try:
        with run_quietly(), time_limit(limit):
            optimizer = student_cls()
            # The object an attribute holds: here its id (``first`` keeps the first alive, so
            # its id is not reused), for the grader's proxy the kernel's (IDENTITY_HOOK).
            identity = getattr(optimizer, IDENTITY_HOOK, None)
            if identity is None:
                if hasattr(student_cls, REMOTE_READS):  # a proxy that cannot tell: copies
                    return None
                identity = lambda attribute: id(getattr(optimizer, attribute, None))  # noqa: E731
            made = getattr(optimizer, name, _MISSING)
            optimizer.update(params, {k: g.copy() for k, g in grads.items()})
            first = getattr(optimizer, name, None)
            first_id = identity(name)
            values = {k: np.array(v, dtype=float) for k, v in first.items()} \
                if isinstance(first, dict) else {}
            optimizer.update(params, {k: g.copy() for k, g in grads.items()})
            second = getattr(optimizer, name, None)
            return made, first, values, second, identity(name) != first_id
    except STUDENT_ERRORS:
        return None


def reset_cause(student_cls: Any, optimizer: str, limit: float | None = 2.0) -> str:
    """The sentence naming how ``student_cls`` forgets its state, or ``""`` if its state
    does not say (another attribute name, a rule that drops the old value, an error).

    Examples
    --------
    >>> import numpy as np
    >>> class Momentum:
    ...     def __init__(self, lr=0.01, momentum=0.9):
    ...         self.lr, self.momentum, self.v = lr, momentum, None
    ...     def update(self, params, grads):
    ...         self.v = {k: np.zeros_like(p) for k, p in params.items()}
    ...         for k in params:
    ...             self.v[k] = self.momentum * self.v[k] - self.lr * grads[k]
    ...             params[k] += self.v[k]
    >>> reset_cause(Momentum, "momentum")[:46]
    'update() creates self.v anew on every call: cr'
    """
    cls = OPTIMIZERS.get(optimizer)
    if cls is None or not cls.state_names:
        return ""
    name = cls.state_names[0]
    seen = _state_after_calls(student_cls, name, limit)
    if seen is None:
        return ""
    made, first, values, second, replaced = seen
    if not (isinstance(first, dict) and isinstance(second, dict) and first and values):
        return ""
    attr = f"self.{name}"
    if replaced:
        return f"update() creates {attr} anew on every call: {_create_once(attr, made)}"
    try:
        now = {key: np.array(value, dtype=float) for key, value in second.items()}
    except (TypeError, ValueError):
        return ""
    if now.keys() != values.keys():
        return ""
    if not any(np.any(value) for value in now.values()):
        return (f"{attr} still holds zeros after two calls: the new value is computed into a "
                f"local variable and never stored back ({attr}[key] = ... keeps it for the "
                "next call).")
    if all(np.array_equal(now[key], values[key]) for key in now):
        # The same gradient twice: a rule that builds on the old value changes the state.
        return (f"{attr} is the same after a second call with the same gradient: its rule "
                f"leaves out the previous value ({attr}[key] = ... from the gradient alone, "
                f"where it must build on the old {attr}[key]).")
    return ""


def _create_once(attr: str, made: Any) -> str:
    """How to create ``attr`` once, from what ``__init__`` left in it (``made``).

    The lazy form ``if self.v is None:`` needs ``self.v = None`` in ``__init__``: an
    honest-student sweep read it told to a class whose ``__init__`` made no ``self.v``,
    where it raises AttributeError (and it never holds for one that made a dict).
    """
    if made is None:
        return (f"create it once, the first time update() runs (if {attr} is None: ...), and "
                "from then on only change its entries.")
    if made is _MISSING:
        return (f"create it once: set {attr} = None in __init__, fill it the first time "
                f"update() runs (if {attr} is None: ...), and from then on only change its "
                "entries.")
    return ("keep the one __init__ makes, and only add an entry the first time its key is "
            f"seen (if key not in {attr}: ...) and change it from then on.")
