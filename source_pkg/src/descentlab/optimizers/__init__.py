"""Reference optimizers: one small class per algorithm, one ``update`` method.

Each class docstring states the exact update rule, its defaults and sources.
Every class of the registry (:data:`OPTIMIZERS`) is exported here under its own
name (``descentlab.optimizers.Adam``): the registry is the one list of them, so a
new optimizer needs its file and its registry line, and nothing here.
"""

from .base import Hyperparameter, NonFiniteGradientWarning, Optimizer, Sampling, checks_inputs
from .registry import (
    OPTIMIZERS,
    available,
    find_reference,
    get_optimizer,
    nan_causes,
    optimizer_class,
    reference_name,
)

globals().update({cls.__name__: cls for cls in OPTIMIZERS.values()})

__all__ = [
    "OPTIMIZERS",
    "Hyperparameter",
    "NonFiniteGradientWarning",
    "Optimizer",
    "Sampling",
    "available",
    "checks_inputs",
    "find_reference",
    "get_optimizer",
    "nan_causes",
    "optimizer_class",
    "reference_name",
    *(cls.__name__ for cls in OPTIMIZERS.values()),
]
