"""The slips any optimizer can have, made from a correct class by a small transformation.

Wrong sign, a hyperparameter written as a number, not in place: they are the same
slip in every optimizer, so they are not written out per optimizer. Each is a
mixin put in front of a correct class — ``class AdamWrongSign(WrongSign, Adam)`` —
that changes one thing and leaves the algorithm alone:

* :class:`WrongSign` hands the class the negated gradients: every step goes
  uphill, the state that depends on g² is unchanged (exactly the class whose
  ``-=`` became ``+=``, whose ``-lr*g`` became ``+lr*g``);
* :class:`FixedHyperparameter` runs each step with one hyperparameter at a fixed
  number whatever ``__init__`` was given: the learning rate at the class's
  default (``lr_ignored``: ``self.lr = 0.01``, ``0.01 * g``) and every other
  hyperparameter the checks draw at each value a student might type for it
  (``hard_coded_rho``: ``0.99 * self.h[key] + (1 - 0.99) * g * g``);
* :class:`NotInPlace` steps copies of the parameters and puts the new arrays
  into ``params`` (``params[key] = params[key] - ...``);
* :class:`SkipsZeroGradient` leaves a parameter whose gradient is all zeros out of
  the step (``if not grads[key].any(): continue``), where that matters.

The checks apply them to the reference classes (:func:`generic_mutant`); the
end-to-end grading tests plant them into a lesson's correct solution as source
text (:func:`planted_source`), so the mixins are self-contained: they use NumPy
and nothing else, and the attribute names of the book's classes (``self.lr``,
``self.rho``, …), which are the reference's hyperparameter names.
"""

from __future__ import annotations

import inspect

import numpy as np

from ...optimizers import OPTIMIZERS

__all__ = ["GENERIC", "HARD_CODED", "FixedHyperparameter", "NotInPlace",
           "SkipsZeroGradient", "WrongSign", "fixed_hyperparameter", "generic_mutant",
           "hard_coded", "is_generic", "planted_source", "skipping_matters"]


class WrongSign:
    """Steps uphill: the step is added, not subtracted."""

    def update(self, params, grads):
        # np.array(...): minus a 0-d array is a NumPy scalar, and grads hold arrays.
        super().update(params, {key: np.array(-np.asarray(g)) for key, g in grads.items()})


class FixedHyperparameter:
    """Steps with one hyperparameter at a fixed number, whatever ``__init__`` was given."""

    fixed_name = "lr"
    fixed_value = 0.01

    def update(self, params, grads):
        given = getattr(self, self.fixed_name)
        setattr(self, self.fixed_name, self.fixed_value)
        try:
            super().update(params, grads)
        finally:
            setattr(self, self.fixed_name, given)


class NotInPlace:
    """Puts new arrays into ``params`` instead of changing the arrays it holds."""

    def update(self, params, grads):
        new = {key: np.array(value, copy=True) for key, value in params.items()}
        super().update(new, grads)
        for key in list(params):
            params[key] = new[key]


class SkipsZeroGradient:
    """Leaves a parameter whose gradient is all zeros out of the step: its state does not
    decay and, where the counter is kept per parameter, does not count it."""

    def update(self, params, grads):
        moving = [key for key in params if np.any(grads[key])]
        super().update({key: params[key] for key in moving},
                       {key: grads[key] for key in moving})


#: Mistake id -> its mixin, in the order the diagnosis tries them (after the specific ones);
#: the ``hard_coded_<name>`` mistakes (:func:`hard_coded`) come right after ``lr_ignored``.
GENERIC: dict[str, type] = {
    "wrong_sign": WrongSign,
    "lr_ignored": FixedHyperparameter,
    "not_in_place": NotInPlace,
    # Only for an optimizer a zero gradient changes (:func:`skipping_matters`): SGD's and
    # AdaGrad's step and state stay as they are on one.
    "skips_zero_gradient": SkipsZeroGradient,
}

#: Prefix of the id of a hyperparameter other than the learning rate written as a number.
HARD_CODED = "hard_coded_"

#: A hyperparameter whose sibling's default a student writes in its place: Adam's v line
#: copied from its m line keeps 0.9 (``0.9 * v + 0.1 * g**2``).
_SIBLING = {"beta1": "beta2", "beta2": "beta1"}


def _literals(reference: type, name: str) -> tuple[float, ...]:
    """The numbers a student might write for hyperparameter ``name`` of ``reference``.

    The reference's default first, then the other optimizers' defaults for that name
    (AdaDelta's and Keras's ρ = 0.9 in an RMSProp), the values its sampling avoids
    (exactly the values the checks draw away from so that a hard-coded one shows) and
    the default of its sibling (:data:`_SIBLING`), which the checks' ranges keep apart.
    """
    spec = next(h for h in reference.hyperparameters if h.name == name)
    sampling = spec.sampling()
    found = [spec.default]
    found += [h.default for cls in OPTIMIZERS.values() for h in cls.hyperparameters
              if h.name == name]
    found += list(sampling.avoid if sampling is not None else ())
    found += [h.default for h in reference.hyperparameters if h.name == _SIBLING.get(name)]
    return tuple(dict.fromkeys(float(v) for v in found))


def hard_coded(reference: type) -> list[tuple[str, str, tuple[float, ...]]]:
    """``(mistake id, hyperparameter, literals)`` for each hyperparameter but the rate.

    Only those the checks draw: not epsilon, which they keep at its default (a class
    that writes 1e-8 computes the same, and the book hard-codes it). The literals
    are those of :func:`_literals`, the reference's default first.
    """
    return [(HARD_CODED + h.name, h.name, _literals(reference, h.name))
            for h in reference.hyperparameters
            if h.name != "lr" and h.sampling() is not None]


def skipping_matters(reference: type) -> bool:
    """Whether skipping an all-zero gradient changes what ``reference`` does: one parameter
    stepped with the gradients 1, 0, 1, by the class and by its skipping form."""
    ends = []
    for cls in (reference, generic_mutant("skips_zero_gradient", reference)):
        optimizer, p = cls(), {"p": np.ones(1)}
        for g in (1.0, 0.0, 1.0):
            optimizer.update(p, {"p": np.full(1, g)})
        ends.append(p["p"][0])
    return bool(ends[0] != ends[1])


def is_generic(mistake_id: str) -> bool:
    """Whether ``mistake_id`` is made from the reference classes by this module."""
    return mistake_id in GENERIC or mistake_id.startswith(HARD_CODED)


def fixed_hyperparameter(mistake_id: str, reference: type) -> tuple[str, float] | None:
    """The hyperparameter ``mistake_id`` fixes and its default, or ``None`` for another slip."""
    if mistake_id == "lr_ignored":
        name = "lr"
    elif mistake_id.startswith(HARD_CODED):
        name = mistake_id.removeprefix(HARD_CODED)
    else:
        return None
    for h in getattr(reference, "hyperparameters", ()):
        if h.name == name:
            return name, float(h.default)
    raise ValueError(f"{reference.__name__} has no hyperparameter {name!r} to fix")


def _mixin(mistake_id: str) -> type:
    return FixedHyperparameter if mistake_id.startswith(HARD_CODED) else GENERIC[mistake_id]


def generic_mutant(mistake_id: str, reference: type, literal: float | None = None) -> type:
    """The class ``reference`` with the generic slip ``mistake_id`` (e.g. ``AdamWrongSign``).

    For a fixed hyperparameter, ``literal`` is the number written in its place
    (default: the reference's default).
    """
    mixin = _mixin(mistake_id)
    body: dict = {}
    fixed = fixed_hyperparameter(mistake_id, reference)
    if fixed is not None:
        name, default = fixed
        body = {"fixed_name": name, "fixed_value": default if literal is None else literal}
    body["__module__"] = __name__
    body["__doc__"] = f"{reference.__name__} with one slip: {mixin.__doc__}"
    suffix = "".join(part.title() for part in mistake_id.split("_"))
    return type(f"{reference.__name__}{suffix}", (mixin, reference), body)


def planted_source(mistake_id: str, reference: type, name: str, solution: str) -> str:
    """Source of an answer cell: ``solution`` (defining class ``name``) with the slip planted.

    The cell keeps the correct class, then redefines ``name`` with the mixin in
    front of it, as a student's class with that one slip (a fixed hyperparameter
    at the reference's default).
    """
    mixin = _mixin(mistake_id)
    fixed = fixed_hyperparameter(mistake_id, reference)
    body = (f"    fixed_name = {fixed[0]!r}\n    fixed_value = {fixed[1]!r}\n"
            if fixed is not None else "    pass\n")
    return (f"{solution.rstrip()}\n\n\nimport numpy as np\n\n\n{inspect.getsource(mixin)}\n\n"
            f"class {name}({mixin.__name__}, {name}):\n{body}")
