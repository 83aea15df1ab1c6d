"""Plain and momentum gradient descent: SGD, Momentum (heavy ball), Nesterov."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._specs import MOMENTUM, learning_rate
from .base import Optimizer, checks_inputs

__all__ = ["SGD", "Momentum", "Nesterov"]


class SGD(Optimizer):
    r"""Stochastic gradient descent.

    .. math::

        \theta \leftarrow \theta - \eta\, g

    Defaults: :math:`\eta = 0.01` (*Deep Learning from Scratch*, ch. 6;
    ``torch.optim.SGD`` defaults to ``lr=1e-3``).

    Equivalent to ``torch.optim.SGD(params, lr=η)``.

    References
    ----------
    Robbins & Monro, "A Stochastic Approximation Method", 1951.
    """

    name = "sgd"
    torch_files = ("optim/sgd.py",)
    recurrence = ("SGD keeps no state, so every call must take the same step, θ ← θ − lr·g, from "
                  "where the last call left the parameters (does update() change self.lr, or "
                  "depend on how often it was called?)")
    hyperparameters = (learning_rate(0.01),)

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__(lr=lr)

    @checks_inputs
    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """One step on every array in ``params``, in place (see the class docstring)."""
        self.t += 1
        for key in params:
            theta, g = params[key], grads[key]
            theta -= self.lr * g  # θ ← θ − η g


class Momentum(Optimizer):
    r"""Gradient descent with (heavy-ball) momentum.

    .. math::

        v &\leftarrow \mu\, v - \eta\, g \\
        \theta &\leftarrow \theta + v

    with :math:`v = 0` before the first step.
    Defaults: :math:`\eta = 0.01`, :math:`\mu = 0.9` (*Deep Learning from
    Scratch*, ch. 6, ``common/optimizer.py``; ``torch.optim.SGD`` defaults to
    ``lr=1e-3`` and ``momentum=0``). The method is Polyak's heavy ball.

    Mapping to ``torch.optim.SGD(lr=η, momentum=μ)``: PyTorch keeps
    :math:`b \leftarrow \mu b + g`, :math:`\theta \leftarrow \theta - \eta b`.
    With :math:`v = -\eta b` both give the same trajectory exactly as long as
    :math:`\eta` is constant (they differ once a schedule changes :math:`\eta`).
    The moving-average form :math:`v \leftarrow \beta v + (1-\beta) g` is a
    different algorithm (a rescaled learning rate), not an equivalent one.

    References
    ----------
    Polyak, "Some methods of speeding up the convergence of iteration
    methods", 1964.
    """

    name = "momentum"
    torch_files = ("optim/sgd.py",)
    hyperparameters = (learning_rate(0.01), MOMENTUM)
    state_names = ("v",)
    state_words = "velocity"
    recurrence = ("the velocity must follow v ← μ·v − lr·g with the v of the previous call, "
                  "then θ ← θ + v")
    step_factors = "the learning rate? a (1 − μ) factor?"

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr=lr, momentum=momentum)

    @checks_inputs
    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """One step on every array in ``params``, in place (see the class docstring)."""
        self.t += 1
        for key in params:
            theta, g = params[key], grads[key]
            v = self.state_of(key, theta)["v"]
            v[...] = self.momentum * v - self.lr * g  # v ← μ v − η g
            theta += v  # θ ← θ + v


class Nesterov(Optimizer):
    r"""Nesterov's accelerated gradient (momentum with a look-ahead).

    .. math::

        v &\leftarrow \mu\, v - \eta\, g \\
        \theta &\leftarrow \theta + \mu\, v - \eta\, g

    which, written with the velocity from *before* the step, is
    :math:`\theta \leftarrow \theta + \mu^2 v - (1+\mu)\eta g`, then
    :math:`v \leftarrow \mu v - \eta g`. The order matters: until its commit
    89eadd0 (2021-01-18) the book's repository (``common/optimizer.py``) updated
    :math:`v` first and then stepped by :math:`\mu^2 v - (1+\mu)\eta g` with
    the *new* :math:`v`, i.e. by :math:`\mu^3 v_{\text{old}} - (1+\mu+\mu^2)\eta g`:
    a bug, not an equivalent form of the method.

    The stored :math:`\theta` is the look-ahead point :math:`\theta + \mu v` of
    Sutskever et al. (2013), who write
    :math:`v \leftarrow \mu v - \eta \nabla f(\theta + \mu v)`,
    :math:`\theta \leftarrow \theta + v`: the gradient "at the current point"
    is their look-ahead gradient.

    Defaults: :math:`\eta = 0.01`, :math:`\mu = 0.9` (*Deep Learning from
    Scratch*, ch. 6, ``common/optimizer.py``; the papers below give the
    method, not these values).

    Equivalent to ``torch.optim.SGD(lr=η, momentum=μ, nesterov=True)``
    (PyTorch: :math:`b \leftarrow \mu b + g`,
    :math:`\theta \leftarrow \theta - \eta (g + \mu b)`; :math:`v = -\eta b`).

    References
    ----------
    Nesterov, "A method for unconstrained convex minimization problem with the
    rate of convergence O(1/k²)", 1983; Sutskever et al., "On the importance of
    initialization and momentum in deep learning", ICML 2013.
    """

    name = "nesterov"
    torch_files = ("optim/sgd.py",)
    hyperparameters = (learning_rate(0.01), MOMENTUM)
    state_names = ("v",)
    state_words = "velocity"
    recurrence = ("Nesterov must follow v ← μ·v − lr·g, then θ ← θ + μ·v − lr·g with that "
                  "new v")
    step_factors = "the learning rate? the (1 + μ) factor?"

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr=lr, momentum=momentum)

    @checks_inputs
    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """One step on every array in ``params``, in place (see the class docstring)."""
        self.t += 1
        for key in params:
            theta, g = params[key], grads[key]
            v = self.state_of(key, theta)["v"]
            v[...] = self.momentum * v - self.lr * g  # v ← μ v − η g
            theta += self.momentum * v - self.lr * g  # θ ← θ + μ v − η g
