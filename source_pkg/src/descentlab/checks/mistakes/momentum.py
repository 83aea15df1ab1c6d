# ruff: noqa: SIM118 - the book loops over params.keys(); the mutants keep its style
"""Mistaken book-style SGD, Momentum and Nesterov classes, as students write them.

Each class differs from a correct solution by exactly one mistake of this
optimizer, named in ``MUTANTS``; the checks run them to recognise the same
mistake in a student's class. The slips every optimizer can have (wrong sign,
learning rate ignored, not in place) are not written here: :mod:`.generic`
makes them from the reference classes.
"""

from __future__ import annotations

import numpy as np

# -- SGD -----------------------------------------------------------------------------


class SGDFirstKeyOnly:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]
            return


# -- Momentum ------------------------------------------------------------------------


class _MomentumInit:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None


class MomentumStateReset(_MomentumInit):
    def update(self, params, grads):
        self.v = {}
        for key, val in params.items():
            self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class MomentumSharedState(_MomentumInit):
    def update(self, params, grads):
        for key in params.keys():
            if self.v is None:
                self.v = np.zeros_like(params[key])
            self.v = self.momentum * self.v - self.lr * grads[key]
            params[key] += self.v


class MomentumEMA(_MomentumInit):
    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] + (1 - self.momentum) * grads[key]
            params[key] -= self.lr * self.v[key]


class MomentumOldVelocity(_MomentumInit):
    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            params[key] += self.v[key]
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]


class MomentumNotDecayed(_MomentumInit):
    # v ← v − lr·g: μ left out of the recurrence (an audit's student; μ = 1).
    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] = self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class MomentumVStartsAtGrad(_MomentumInit):
    # A student audit: v = g.copy() on the first call, told it moved "the wrong way (uphill)".
    def update(self, params, grads):
        if self.v is None:
            self.v = self._start(params, grads)
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]

    def _start(self, params, grads):
        return {key: grads[key].copy() for key in params.keys()}


class MomentumVStartsAtOne(MomentumVStartsAtGrad):
    # The same audit: np.ones_like, told "the formula of a single step is off".
    def _start(self, params, grads):
        return {key: np.ones_like(val) for key, val in params.items()}


# -- Nesterov (the book's form: step with the old v, then update v) ---------------------


class NesterovStateReset(_MomentumInit):
    def update(self, params, grads):
        self.v = {}
        for key, val in params.items():
            self.v[key] = np.zeros_like(val)
        for key in params.keys():
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]


class NesterovSharedState(_MomentumInit):
    def update(self, params, grads):
        for key in params.keys():
            if self.v is None:
                self.v = np.zeros_like(params[key])
            params[key] += self.momentum * self.momentum * self.v
            params[key] -= (1 + self.momentum) * self.lr * grads[key]
            self.v *= self.momentum
            self.v -= self.lr * grads[key]


class NesterovAsMomentum(_MomentumInit):
    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class NesterovVFirst(_MomentumInit):
    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]


class NesterovGradientTermAdded(_MomentumInit):
    # A grading audit: θ ← θ + μ·v + lr·g with the new v, told "a factor is missing".
    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.momentum * self.v[key] + self.lr * grads[key]


class NesterovEMA(_MomentumInit):
    # A student audit: v ← μv + (1 − μ)·g, θ ← θ − lr·(μv + (1 − μ)·g), told "a factor is
    # missing or extra (the learning rate? the (1 + μ) factor?)".
    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] + (1 - self.momentum) * grads[key]
            params[key] -= self.lr * (self.momentum * self.v[key]
                                      + (1 - self.momentum) * grads[key])


class NesterovLookAheadSign(_MomentumInit):
    # A student audit: PyTorch's form with the look-ahead's sign flipped, b ← μb + g,
    # θ ← θ − lr·(g − μb), i.e. θ ← θ − μ·v − lr·g with v = −lr·b; told "a factor".
    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += -self.momentum * self.v[key] - self.lr * grads[key]


class NesterovNotDecayed(_MomentumInit):
    # v ← v − lr·g: μ left out of the velocity's update, as in MomentumNotDecayed.
    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]
            self.v[key] -= self.lr * grads[key]


#: (optimizer, mistake id, class), the most specific mistakes first.
MUTANTS = (
    ("sgd", "first_key_only", SGDFirstKeyOnly),
    ("momentum", "state_reset_each_call", MomentumStateReset),
    ("momentum", "shared_state", MomentumSharedState),
    ("momentum", "ema_momentum", MomentumEMA),
    ("momentum", "momentum_old_velocity", MomentumOldVelocity),
    ("momentum", "momentum_not_decayed", MomentumNotDecayed),
    ("momentum", "momentum_v_starts_nonzero", MomentumVStartsAtGrad, MomentumVStartsAtOne),
    ("nesterov", "state_reset_each_call", NesterovStateReset),
    ("nesterov", "shared_state", NesterovSharedState),
    ("nesterov", "nesterov_as_momentum", NesterovAsMomentum),
    ("nesterov", "nesterov_v_first", NesterovVFirst),
    ("nesterov", "nesterov_gradient_term_added", NesterovGradientTermAdded),
    ("nesterov", "momentum_not_decayed", NesterovNotDecayed),
    ("nesterov", "nesterov_ema", NesterovEMA),
    ("nesterov", "nesterov_look_ahead_sign", NesterovLookAheadSign),
)
