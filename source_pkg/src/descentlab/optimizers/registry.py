"""Look optimizers up by name: ``get_optimizer("adam", lr=0.1)``."""

from __future__ import annotations

from .adagrad import AdaGrad
from .adam import Adam, AdamW, Nadam
from .base import Optimizer
from .rmsprop import AdaDelta, RMSProp
from .sgd import SGD, Momentum, Nesterov

__all__ = ["OPTIMIZERS", "available", "get_optimizer", "optimizer_class"]

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
