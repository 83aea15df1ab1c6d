"""Hyperparameter descriptions shared by several optimizers.

The learning rate's default differs between algorithms, so it is built per class.
"""

from __future__ import annotations

from .base import Hyperparameter


def learning_rate(default: float, high: float = 2.0) -> Hyperparameter:
    """The learning rate (step size) with the given default."""
    return Hyperparameter(
        "lr", default, 1e-4, high, True, "learning rate: how far one step moves", r"\eta"
    )


def epsilon(default: float) -> Hyperparameter:
    """The stability constant added to a denominator."""
    return Hyperparameter(
        "eps", default, 1e-12, 1e-4, True,
        "small constant that keeps the division finite", r"\epsilon",
    )


MOMENTUM = Hyperparameter(
    "momentum", 0.9, 0.0, 0.99, False,
    "momentum: the fraction of the previous velocity kept", r"\mu", "unit",
)
BETA1 = Hyperparameter(
    "beta1", 0.9, 0.0, 0.99, False,
    "decay of the running mean of gradients (first moment)", r"\beta_1", "unit",
)
BETA2 = Hyperparameter(
    "beta2", 0.999, 0.9, 0.9999, False,
    "decay of the running mean of squared gradients (second moment)", r"\beta_2", "unit",
)
