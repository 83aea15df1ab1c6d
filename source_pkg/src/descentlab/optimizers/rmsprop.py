"""RMSProp and AdaDelta: decaying averages of squared gradients."""

from __future__ import annotations

import numpy as np

from ._specs import epsilon, learning_rate
from .base import Hyperparameter, Optimizer

__all__ = ["AdaDelta", "RMSProp"]

_RHO_RMS = Hyperparameter(
    "rho", 0.99, 0.5, 0.999, False,
    "decay of the running mean of squared gradients", r"\rho", "unit",
)
_RHO_DELTA = Hyperparameter(
    "rho", 0.9, 0.5, 0.999, False,
    "decay of the running means of squared gradients and squared steps", r"\rho", "unit",
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
    hyperparameters = (learning_rate(0.01), _RHO_RMS, epsilon(1e-8))
    state_names = ("h",)

    def __init__(self, lr: float = 0.01, rho: float = 0.99, eps: float = 1e-8) -> None:
        super().__init__(lr=lr, rho=rho, eps=eps)

    def _kernel(self, p, g, s, tmp):
        h = s["h"]
        h *= self.rho
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.rho
        h += tmp
        np.sqrt(h, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= self.lr
        p -= tmp


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
    hyperparameters = (learning_rate(1.0, high=10.0), _RHO_DELTA, epsilon(1e-6))
    state_names = ("h", "u")

    def __init__(self, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6) -> None:
        super().__init__(lr=lr, rho=rho, eps=eps)

    def _kernel(self, p, g, s, tmp):
        h, u = s["h"], s["u"]
        rho = self.rho
        h *= rho
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - rho
        h += tmp
        # tmp <- Delta = sqrt(u + eps) / sqrt(h + eps) * g
        # The one extra temporary (block-sized); empty_like + out= keeps it an
        # array for 0-d parameters too (a ufunc on 0-d operands returns a scalar).
        denom = np.empty_like(tmp)
        np.add(h, self.eps, out=denom)
        np.sqrt(denom, out=denom)
        np.add(u, self.eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp /= denom
        tmp *= g
        u *= rho
        np.multiply(tmp, tmp, out=denom)
        denom *= 1.0 - rho
        u += denom
        tmp *= self.lr
        p -= tmp
