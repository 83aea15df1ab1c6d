"""Look optimizers up by name: ``get_optimizer("adam", lr=0.1)``.

:func:`reference_name` is the one answer to "which reference optimizer is
this?", for a name a teacher writes ("RMSProp", "rms_prop") and for a
student's class or instance ("MyAdam", "AdamOptimizer", "SGDMomentum"): the
self-check, the grader and the widgets all ask it.
"""

from __future__ import annotations

import re
from typing import Any

from .adagrad import AdaGrad
from .adam import Adam, AdamW, Nadam
from .base import Optimizer
from .rmsprop import AdaDelta, RMSProp
from .sgd import SGD, Momentum, Nesterov

__all__ = ["OPTIMIZERS", "available", "find_reference", "get_optimizer", "nan_causes",
           "optimizer_class", "reference_name"]

#: Every reference optimizer by registry name, in teaching order.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls
    for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam, AdamW, Nadam)
}


def available() -> list[str]:
    """Return the registry names of all reference optimizers, in teaching order."""
    return list(OPTIMIZERS)


def optimizer_class(name: str) -> type[Optimizer]:
    """Return the optimizer class registered as ``name`` (case-insensitive).

    Raises
    ------
    ValueError
        If no optimizer has that name; the message lists the known names.
    """
    if not isinstance(name, str):
        raise TypeError(f"optimizer name must be a string, got {type(name).__name__}")
    try:
        return OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; choose one of {', '.join(available())}"
        ) from None


def get_optimizer(name: str, **hyper: float) -> Optimizer:
    """Build the optimizer registered as ``name`` with the given hyperparameters.

    Examples
    --------
    >>> get_optimizer("momentum", lr=0.1)
    Momentum(lr=0.1, momentum=0.9)
    """
    return optimizer_class(name)(**hyper)


def _letters(text: str) -> str:
    """``"RMS_Prop"`` -> ``"rmsprop"``: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _name_in(class_name: str) -> str | None:
    """The registry name a class name is built on ("MyAdamW" -> "adamw"), or None.

    Every registry name contained in the class name is a candidate; one contained
    in another candidate goes ("adam" in "adamw"). Of several left, the latest in
    teaching order wins, as a variant is taught after what it builds on
    ("SGDMomentum" is Momentum, "NesterovMomentum" is Nesterov).
    """
    text = _letters(class_name)
    found = [n for n in OPTIMIZERS if n in text]
    found = [n for n in found if not any(n != m and n in m for m in found)]
    return found[-1] if found else None


def find_reference(obj: Any) -> str | None:
    """The registry name of the reference optimizer ``obj`` implements, or None if unclear.

    Parameters
    ----------
    obj : str, type or object
        A registry name in any case or punctuation ("RMSProp", "rms_prop"); or a
        class or instance, recognised by its class name ("Adam", "MyAdam",
        "AdamOptimizer", "SGDMomentum") or, failing that, by the reference class
        it derives from.

    Examples
    --------
    >>> [find_reference(type(n, (), {})) for n in ("MyAdam", "SGDMomentum", "Heavyball")]
    ['adam', 'momentum', None]
    """
    if isinstance(obj, str):
        # A name is meant exactly: "adamax" is not Adam.
        key = _letters(obj)
        return key if key in OPTIMIZERS else None
    cls = obj if isinstance(obj, type) else type(obj)
    name = _name_in(getattr(cls, "__name__", ""))
    if name is not None:
        return name
    for base in getattr(cls, "__mro__", ())[1:]:
        if isinstance(base, type) and issubclass(base, Optimizer) and base.name in OPTIMIZERS:
            return base.name
    return None


def reference_name(obj: Any) -> str:
    """Like :func:`find_reference`, but raise if there is no answer.

    Raises
    ------
    ValueError
        For an unknown name ("unknown optimizer 'adamax'; choose one of ...") or a
        class whose name and bases name no reference optimizer ("could not tell
        which optimizer Heavyball implements ...").
    """
    name = find_reference(obj)
    if name is not None:
        return name
    known = ", ".join(available())
    if isinstance(obj, str):
        raise ValueError(f"unknown optimizer {obj!r}; choose one of {known}")
    cls = obj if isinstance(obj, type) else type(obj)
    label = getattr(cls, "__name__", type(obj).__name__)
    raise ValueError(
        f"could not tell which optimizer {label} implements: its name contains none of "
        f"{known}"
    )


def nan_causes(optimizer: str | None) -> tuple[str, str]:
    """What can make NaN or infinity in ``optimizer``'s step with a nonzero gradient.

    Returns the causes, ``"a division by zero, … or an overflow"``, and questions that
    point at them (``""`` when there are none to ask), read from the optimizer's class:
    the root of a negative number only for one that divides by the root of a gradient
    statistic (:attr:`~descentlab.optimizers.Optimizer.divides_by_gradient_statistic`),
    a step counter still at 0 only for one that keeps a counter for its bias
    corrections (:attr:`~descentlab.optimizers.Optimizer.step_counter`).
    """
    cls = OPTIMIZERS.get(optimizer or "")
    causes = ["a division by zero"]
    questions = []
    if cls is not None and cls.divides_by_gradient_statistic:
        causes.append("the square root of a negative number")
        questions.append(f"is the statistic under the square root in {cls.denominator} built "
                         "from the squared gradient g·g, so that it is never negative?")
    if cls is not None and cls.step_counter:
        questions.append(f"is the step counter ({cls.step_counter}) still 0 when you divide by "
                         "1 − βᵗ?")
    return ", ".join(causes) + " or an overflow", " ".join(questions)
