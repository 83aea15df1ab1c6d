"""AdaGrad: per-parameter learning rates from the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._specs import epsilon, learning_rate
from .base import Optimizer, checks_inputs

__all__ = ["AdaGrad"]


class AdaGrad(Optimizer):
    r"""Adaptive gradient descent.

    .. math::

        h &\leftarrow h + g \odot g \\
        \theta &\leftarrow \theta - \eta\, \frac{g}{\sqrt{h} + \epsilon}

    with :math:`h = 0` before the first step; all operations element-wise.
    Defaults: :math:`\eta = 0.01`, :math:`\epsilon = 10^{-10}` (PyTorch
    ``torch.optim.Adagrad``; equivalent to it with ``lr_decay=0``,
    ``initial_accumulator_value=0``). The paper below gives the method, not
    these values.

    The book (*Deep Learning from Scratch*, ch. 6) writes the same update with
    :math:`\epsilon = 10^{-7}`; some texts put :math:`\epsilon` inside the root,
    :math:`\sqrt{h + \epsilon}`. All are accepted by the course's checks, but
    they are not interchangeable when :math:`h` is small. Outside the root
    :math:`\epsilon` changes the step by a relative :math:`\approx \epsilon/\sqrt{h}`,
    which matters only once :math:`\sqrt{h}` nears :math:`\epsilon`. Inside,
    it shortens the step by the factor :math:`1/\sqrt{1 + \epsilon/h}`, i.e. by
    :math:`\approx \epsilon/(2h)` while that is small: with :math:`\epsilon = 10^{-7}`
    the step is 5 % shorter at :math:`h = 10^{-6}` and 70 % shorter at
    :math:`h = 10^{-8}`, i.e. it matters for gradients of order
    :math:`\sqrt{\epsilon} \approx 3 \cdot 10^{-4}` and below.

    References
    ----------
    Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning
    and Stochastic Optimization", JMLR 2011.
    """

    name = "adagrad"
    torch_files = ("optim/adagrad.py",)
    hyperparameters = (learning_rate(0.01), epsilon(1e-10))
    state_names = ("h",)
    state_words = "sum of squared gradients"
    divides_by_gradient_statistic = True
    recurrence = "h must be the sum of all squared gradients so far, h ← h + g·g"
    denominator = "np.sqrt(self.h[key]) + self.eps"

    def __init__(self, lr: float = 0.01, eps: float = 1e-10) -> None:
        super().__init__(lr=lr, eps=eps)

    @checks_inputs
    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """One step on every array in ``params``, in place (see the class docstring)."""
        self.t += 1
        for key in params:
            theta, g = params[key], grads[key]
            h = self.state_of(key, theta)["h"]
            h += g * g  # h ← h + g ⊙ g
            theta -= self.lr * g / (np.sqrt(h) + self.eps)  # θ ← θ − η g / (√h + ε)
