"""RMSProp and AdaDelta: decaying averages of squared gradients."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._specs import RHO_TESTS, epsilon, learning_rate
from .base import Hyperparameter, Optimizer, checks_inputs

__all__ = ["AdaDelta", "RMSProp"]

_RHO_RMS = Hyperparameter(
    "rho", 0.99, 0.5, 0.999, False,
    "decay of the running mean of squared gradients", r"\rho", "unit", tests=RHO_TESTS,
)
_RHO_DELTA = Hyperparameter(
    "rho", 0.9, 0.5, 0.999, False,
    "decay of the running means of squared gradients and squared steps", r"\rho", "unit",
    tests=RHO_TESTS,
)


class RMSProp(Optimizer):
    r"""Root-mean-square propagation.

    .. math::

        h &\leftarrow \rho\, h + (1 - \rho)\, g \odot g \\
        \theta &\leftarrow \theta - \eta\, \frac{g}{\sqrt{h} + \epsilon}

    with :math:`h = 0` before the first step.
    Defaults: :math:`\eta = 0.01`, :math:`\rho = 0.99`,
    :math:`\epsilon = 10^{-8}` (PyTorch ``torch.optim.RMSprop``, where
    :math:`\rho` is called ``alpha``; the book, *Deep Learning from Scratch*
    ch. 6, uses the same :math:`\eta` and :math:`\rho` with
    :math:`\epsilon = 10^{-7}`). Equivalent to
    ``torch.optim.RMSprop(lr=η, alpha=ρ, eps=ε)``.

    References
    ----------
    Tieleman & Hinton, COURSERA "Neural Networks for Machine Learning",
    lecture 6.5, 2012.
    """

    name = "rmsprop"
    torch_files = ("optim/rmsprop.py",)
    hyperparameters = (learning_rate(0.01), _RHO_RMS, epsilon(1e-8))
    state_names = ("h",)
    state_words = "running average of squared gradients"
    divides_by_gradient_statistic = True
    recurrence = ("the running average must follow h ← ρ·h + (1 − ρ)·g·g: decay the old h "
                  "by ρ, then add (1 − ρ)·g²")
    step_factors = "the learning rate? the (1 − ρ) factor in h?"
    denominator = "np.sqrt(self.h[key]) + self.eps"

    def __init__(self, lr: float = 0.01, rho: float = 0.99, eps: float = 1e-8) -> None:
        super().__init__(lr=lr, rho=rho, eps=eps)

    @checks_inputs
    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """One step on every array in ``params``, in place (see the class docstring)."""
        self.t += 1
        for key in params:
            theta, g = params[key], grads[key]
            h = self.state_of(key, theta)["h"]
            h[...] = self.rho * h + (1 - self.rho) * g * g  # h ← ρ h + (1 − ρ) g ⊙ g
            theta -= self.lr * g / (np.sqrt(h) + self.eps)  # θ ← θ − η g / (√h + ε)


class AdaDelta(Optimizer):
    r"""AdaDelta: RMSProp whose step size is itself a running RMS of past steps.

    .. math::

        h &\leftarrow \rho\, h + (1 - \rho)\, g \odot g \\
        \Delta &\leftarrow \frac{\sqrt{u + \epsilon}}{\sqrt{h + \epsilon}}\, g \\
        u &\leftarrow \rho\, u + (1 - \rho)\, \Delta \odot \Delta \\
        \theta &\leftarrow \theta - \eta\, \Delta

    with :math:`h = u = 0` before the first step (:math:`\epsilon` sits inside
    both roots here, as in the paper).
    Defaults: :math:`\eta = 1`, :math:`\rho = 0.9`, :math:`\epsilon = 10^{-6}`
    (PyTorch ``torch.optim.Adadelta``, to which this is equivalent; the paper
    has no :math:`\eta`, i.e. :math:`\eta = 1`, and uses :math:`\rho = 0.95`).

    References
    ----------
    Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701, 2012.
    """

    name = "adadelta"
    torch_files = ("optim/adadelta.py",)
    hyperparameters = (learning_rate(1.0, high=10.0), _RHO_DELTA, epsilon(1e-6))
    state_names = ("h", "u")
    state_words = "running averages"
    divides_by_gradient_statistic = True
    recurrence = ("h ← ρ·h + (1 − ρ)·g², Δ = √(u + ε)/√(h + ε)·g with the old u, then "
                  "u ← ρ·u + (1 − ρ)·Δ²")
    step_factors = "the learning rate? the (1 − ρ) factor in h? the ε under the root of u?"
    denominator = "np.sqrt(self.h[key] + self.eps)"

    def __init__(self, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6) -> None:
        super().__init__(lr=lr, rho=rho, eps=eps)

    @checks_inputs
    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """One step on every array in ``params``, in place (see the class docstring)."""
        self.t += 1
        rho, eps = self.rho, self.eps
        for key in params:
            theta, g = params[key], grads[key]
            state = self.state_of(key, theta)
            h, u = state["h"], state["u"]
            h[...] = rho * h + (1 - rho) * g * g  # h ← ρ h + (1 − ρ) g ⊙ g
            delta = np.sqrt(u + eps) / np.sqrt(h + eps) * g  # Δ ← √(u + ε) / √(h + ε) g
            u[...] = rho * u + (1 - rho) * delta * delta  # u ← ρ u + (1 − ρ) Δ ⊙ Δ
            theta -= self.lr * delta  # θ ← θ − η Δ
