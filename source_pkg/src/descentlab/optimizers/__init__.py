"""Reference optimizers: one small class per algorithm, one ``update`` method.

Each class docstring states the exact update rule, its defaults and sources.
"""

from .adagrad import AdaGrad
from .adam import Adam, AdamW, Nadam
from .base import Hyperparameter, NonFiniteGradientWarning, Optimizer, Sampling, checks_inputs
from .registry import (
    OPTIMIZERS,
    available,
    find_reference,
    get_optimizer,
    optimizer_class,
    reference_name,
)
from .rmsprop import AdaDelta, RMSProp
from .sgd import SGD, Momentum, Nesterov

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "AdamW",
    "Hyperparameter",
    "Momentum",
    "Nadam",
    "Nesterov",
    "NonFiniteGradientWarning",
    "Optimizer",
    "RMSProp",
    "Sampling",
    "available",
    "checks_inputs",
    "find_reference",
    "get_optimizer",
    "optimizer_class",
    "reference_name",
]
