"""Hyperparameter descriptions shared by several optimizers.

The learning rate's default differs between algorithms, so it is built per class.
A hyperparameter's ``tests`` is where the hidden tests draw it from (see
:class:`~descentlab.optimizers.base.Sampling`); every optimizer with a
hyperparameter of the same name must draw it the same way (one value per name
and case), which ``test_registry.py`` checks.
"""

from __future__ import annotations

from .base import Hyperparameter, Sampling

#: Round learning rates (0.01 … 0.09, 0.1 … 0.9), which a student might hard-code.
_ROUND_RATES = tuple(k * 10.0**e for e in (-2, -1) for k in range(1, 10))

#: A learning rate large enough that a few steps move visibly, 4 % away from round values.
_LR_TESTS = Sampling(0.02, 0.3, log=True, avoid=_ROUND_RATES, margin=0.04)


def learning_rate(default: float, high: float = 2.0) -> Hyperparameter:
    """The learning rate (step size) with the given default."""
    return Hyperparameter(
        "lr", default, 1e-4, high, True, "learning rate: how far one step moves", r"\eta",
        tests=_LR_TESTS,
    )


def epsilon(default: float) -> Hyperparameter:
    """The stability constant added to a denominator.

    The hidden tests keep its default: the book hard-codes epsilon, so a student's
    class may leave it out (``checks.spec`` does not require it).
    """
    return Hyperparameter(
        "eps", default, 1e-12, 1e-4, True,
        "small constant that keeps the division finite", r"\epsilon", tests="default",
    )


#: ρ ≤ 0.95 keeps (1 − ρ) g² well above ε, even for ε inside the root.
RHO_TESTS = Sampling(0.8, 0.95, margin=0.02)


MOMENTUM = Hyperparameter(
    "momentum", 0.9, 0.0, 0.99, False,
    "momentum: the fraction of the previous velocity kept", r"\mu", "unit",
    tests=Sampling(0.5, 0.95, avoid=(0.5,), margin=0.03),
)
BETA1 = Hyperparameter(
    "beta1", 0.9, 0.0, 0.99, False,
    "decay of the running mean of gradients (first moment)", r"\beta_1", "unit",
    tests=Sampling(0.8, 0.95, margin=0.02),
)
#: β₂ well below 0.999 and 0.99: over the checks' calls the bias-corrected v̂ then weighs
#: the recent g² visibly more, so a class that writes 0.999 or 0.99 for β₂ shows on every
#: seed (0.99 is in ``avoid`` so that the catalogue names it: ``hard_coded_beta2``).
BETA2 = Hyperparameter(
    "beta2", 0.999, 0.9, 0.9999, False,
    "decay of the running mean of squared gradients (second moment)", r"\beta_2", "unit",
    tests=Sampling(0.93, 0.97, avoid=(0.99,), margin=0.005),
)
