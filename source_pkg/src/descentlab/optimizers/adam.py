"""Adam and its relatives: AdamW (decoupled weight decay) and Nadam."""

from __future__ import annotations

import math

import numpy as np

from ._specs import BETA1, BETA2, epsilon, learning_rate
from .base import Hyperparameter, Optimizer

__all__ = ["Adam", "AdamW", "Nadam"]

_WEIGHT_DECAY = Hyperparameter(
    "weight_decay", 1e-2, 0.0, 0.5, False,
    "decoupled weight decay: shrink the weights by lr * weight_decay each step",
    r"\lambda", "nonnegative",
)
_MOMENTUM_DECAY = Hyperparameter(
    "momentum_decay", 4e-3, 0.0, 0.05, False,
    "how quickly Nadam's momentum schedule approaches beta1", r"\psi", "nonnegative",
)


class Adam(Optimizer):
    r"""Adaptive moment estimation: Momentum + RMSProp + bias correction.

    .. math::

        t &\leftarrow t + 1 \\
        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1 - \beta_2)\, g \odot g \\
        \hat m &= \frac{m}{1 - \beta_1^t}, \qquad
        \hat v = \frac{v}{1 - \beta_2^t} \\
        \theta &\leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    with :math:`m = v = 0` and :math:`t = 0` before the first step; :math:`t`
    advances once per ``update`` call, not once per parameter.
    Defaults: :math:`\eta = 10^{-3}`, :math:`\beta_1 = 0.9`,
    :math:`\beta_2 = 0.999`, :math:`\epsilon = 10^{-8}` (Kingma & Ba, and
    PyTorch ``torch.optim.Adam``, to which this is equivalent with
    ``betas=(β1, β2)``).

    The book (*Deep Learning from Scratch*, ch. 6) folds the bias correction
    into the step size, :math:`\eta_t = \eta \sqrt{1-\beta_2^t}/(1-\beta_1^t)`,
    :math:`\theta \leftarrow \theta - \eta_t\, m / (\sqrt{v} + \epsilon)`. That
    is the same update with an effective :math:`\epsilon/\sqrt{1-\beta_2^t}`;
    for gradients well above :math:`\epsilon` the two agree to about
    :math:`10^{-5}` relative, and the course accepts both.

    References
    ----------
    Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    """

    name = "adam"
    hyperparameters = (learning_rate(1e-3), BETA1, BETA2, epsilon(1e-8))
    state_names = ("m", "v")

    def __init__(
        self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps)

    def _begin_step(self) -> None:
        sqrt_bc2 = math.sqrt(1.0 - self.beta2**self.t)
        self._eps_scaled = self.eps * sqrt_bc2
        self._step_scaled = self.lr * sqrt_bc2 / (1.0 - self.beta1**self.t)

    def _moments(self, g, s, tmp):
        """Advance both moment estimates; leaves ``tmp`` free."""
        m, v = s["m"], s["v"]
        m *= self.beta1
        np.multiply(g, 1.0 - self.beta1, out=tmp)
        m += tmp
        v *= self.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.beta2
        v += tmp
        return m, v

    def _kernel(self, p, g, s, tmp):
        m, v = self._moments(g, s, tmp)
        # m̂ / (sqrt(v̂) + eps) = m sqrt(bc2) / (bc1 (sqrt(v) + eps sqrt(bc2))): folding
        # the bias corrections into two scalars saves a pass over the block.
        np.sqrt(v, out=tmp)
        tmp += self._eps_scaled
        np.divide(m, tmp, out=tmp)
        tmp *= self._step_scaled
        p -= tmp


class AdamW(Adam):
    r"""Adam with decoupled weight decay.

    .. math::

        \theta &\leftarrow \theta\,(1 - \eta\lambda) \\
        \theta &\leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    where the second line is exactly :class:`Adam`'s step (the decay does not
    enter :math:`m` or :math:`v`, unlike an L2 penalty added to :math:`g`).
    Defaults: :math:`\eta = 10^{-3}`, :math:`\beta_1 = 0.9`,
    :math:`\beta_2 = 0.999`, :math:`\epsilon = 10^{-8}`, :math:`\lambda = 10^{-2}`
    (PyTorch ``torch.optim.AdamW``, to which this is equivalent).

    Like PyTorch, this multiplies the decay by the learning rate :math:`\eta`;
    the paper multiplies it only by the schedule multiplier :math:`\eta_t`
    (:math:`\theta \leftarrow \theta - \eta_t(\alpha\,\hat m/(\sqrt{\hat v} + \epsilon)
    + \lambda\theta)`, :math:`\alpha` the learning rate), so a :math:`\lambda`
    tuned for one does not transfer to the other.

    References
    ----------
    Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
    """

    name = "adamw"
    hyperparameters = (*Adam.hyperparameters, _WEIGHT_DECAY)

    def __init__(
        self,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        Optimizer.__init__(
            self, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay
        )

    def _kernel(self, p, g, s, tmp):
        p *= 1.0 - self.lr * self.weight_decay
        super()._kernel(p, g, s, tmp)


class Nadam(Adam):
    r"""Adam with Nesterov momentum (NAdam), as in ``torch.optim.NAdam``.

    .. math::

        \mu_t &= \beta_1 \left(1 - \tfrac12\, 0.96^{t\psi}\right) \\
        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2)\, g \odot g \\
        \hat m &= \frac{\mu_{t+1}\, m}{1 - \prod_{i=1}^{t+1}\mu_i}
                 + \frac{(1 - \mu_t)\, g}{1 - \prod_{i=1}^{t}\mu_i}, \qquad
        \hat v = \frac{v}{1 - \beta_2^t} \\
        \theta &\leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    Defaults: :math:`\eta = 2\cdot 10^{-3}`, :math:`\beta_1 = 0.9`,
    :math:`\beta_2 = 0.999`, :math:`\epsilon = 10^{-8}`, :math:`\psi = 4\cdot
    10^{-3}` (PyTorch ``torch.optim.NAdam``, to which this is equivalent with
    ``weight_decay=0``; the momentum schedule is Dozat's).

    References
    ----------
    Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop.
    """

    name = "nadam"
    hyperparameters = (learning_rate(2e-3), BETA1, BETA2, epsilon(1e-8), _MOMENTUM_DECAY)

    def __init__(
        self,
        lr: float = 2e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        momentum_decay: float = 4e-3,
    ) -> None:
        Optimizer.__init__(
            self, lr=lr, beta1=beta1, beta2=beta2, eps=eps, momentum_decay=momentum_decay
        )

    def _reset_scalars(self) -> None:
        self._mu_product = 1.0

    def _mu(self, t: int) -> float:
        return self.beta1 * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def _begin_step(self) -> None:
        mu, mu_next = self._mu(self.t), self._mu(self.t + 1)
        self._mu_product *= mu
        self._sqrt_bc2 = math.sqrt(1.0 - self.beta2**self.t)
        self._grad_coef = self.lr * (1.0 - mu) / (1.0 - self._mu_product)
        self._mom_coef = self.lr * mu_next / (1.0 - self._mu_product * mu_next)

    def _kernel(self, p, g, s, tmp):
        m, v = self._moments(g, s, tmp)
        # denominator sqrt(v / (1 - beta2^t)) + eps, kept in tmp
        np.sqrt(v, out=tmp)
        tmp /= self._sqrt_bc2
        tmp += self.eps
        denom = tmp
        # p -= grad_coef * g / denom + mom_coef * m / denom, one term at a time
        # The one extra temporary (block-sized). Allocated with empty_like and
        # filled through out=, because a ufunc on 0-d operands returns a NumPy
        # scalar, which cannot serve as out= below.
        step = np.empty_like(tmp)
        np.divide(g, denom, out=step)
        step *= self._grad_coef
        p -= step
        np.divide(m, denom, out=step)
        step *= self._mom_coef
        p -= step
