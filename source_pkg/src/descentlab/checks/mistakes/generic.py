"""The slips any optimizer can have, made from a correct class by a small transformation.

Wrong sign, learning rate ignored, not in place: they are the same slip in every
optimizer, so they are not written out per optimizer. Each is a mixin put in
front of a correct class — ``class AdamWrongSign(WrongSign, Adam)`` — that
changes one thing and leaves the algorithm alone:

* :class:`WrongSign` hands the class the negated gradients: every step goes
  uphill, the state that depends on g² is unchanged (exactly the class whose
  ``-=`` became ``+=``, whose ``-lr*g`` became ``+lr*g``);
* :class:`LrIgnored` runs each step with the class's default learning rate
  (``fixed_lr``) whatever ``__init__`` was given (``self.lr = 0.01``);
* :class:`NotInPlace` steps copies of the parameters and puts the new arrays
  into ``params`` (``params[key] = params[key] - ...``).

The checks apply them to the reference classes (:func:`generic_mutant`); the
end-to-end grading tests plant them into a lesson's correct solution as source
text (:func:`planted_source`), so the mixins are self-contained: they use NumPy
and nothing else, and ``self.lr`` as the book's classes name the learning rate.
"""

from __future__ import annotations

import inspect

import numpy as np

__all__ = ["GENERIC", "LrIgnored", "NotInPlace", "WrongSign", "generic_mutant",
           "planted_source"]


class WrongSign:
    """Steps uphill: the step is added, not subtracted."""

    def update(self, params, grads):
        # np.array(...): minus a 0-d array is a NumPy scalar, and grads hold arrays.
        super().update(params, {key: np.array(-np.asarray(g)) for key, g in grads.items()})


class LrIgnored:
    """Steps with a fixed learning rate, whatever ``__init__`` was given."""

    fixed_lr = 0.01

    def update(self, params, grads):
        given, self.lr = self.lr, self.fixed_lr
        try:
            super().update(params, grads)
        finally:
            self.lr = given


class NotInPlace:
    """Puts new arrays into ``params`` instead of changing the arrays it holds."""

    def update(self, params, grads):
        new = {key: np.array(value, copy=True) for key, value in params.items()}
        super().update(new, grads)
        for key in list(params):
            params[key] = new[key]


#: Mistake id -> its mixin, in the order the diagnosis tries them (after the specific ones).
GENERIC: dict[str, type] = {
    "wrong_sign": WrongSign,
    "lr_ignored": LrIgnored,
    "not_in_place": NotInPlace,
}


def _fixed_lr(reference: type) -> dict[str, float]:
    """``{"fixed_lr": default}`` for :class:`LrIgnored`: the reference's default rate."""
    for h in getattr(reference, "hyperparameters", ()):
        if h.name == "lr":
            return {"fixed_lr": float(h.default)}
    raise ValueError(f"{reference.__name__} has no learning rate to ignore")


def generic_mutant(mistake_id: str, reference: type) -> type:
    """The class ``reference`` with the generic slip ``mistake_id`` (e.g. ``AdamWrongSign``)."""
    mixin = GENERIC[mistake_id]
    body = _fixed_lr(reference) if mixin is LrIgnored else {}
    body["__module__"] = __name__
    body["__doc__"] = f"{reference.__name__} with one slip: {mixin.__doc__}"
    return type(f"{reference.__name__}{mixin.__name__}", (mixin, reference), body)


def planted_source(mistake_id: str, reference: type, name: str, solution: str) -> str:
    """Source of an answer cell: ``solution`` (defining class ``name``) with the slip planted.

    The cell keeps the correct class, then redefines ``name`` with the mixin in
    front of it, as a student's class with that one slip.
    """
    mixin = GENERIC[mistake_id]
    body = "".join(f"    {k} = {v!r}\n" for k, v in _fixed_lr(reference).items()) \
        if mixin is LrIgnored else "    pass\n"
    return (f"{solution.rstrip()}\n\n\nimport numpy as np\n\n\n{inspect.getsource(mixin)}\n\n"
            f"class {name}({mixin.__name__}, {name}):\n{body}")
