# ruff: noqa: SIM118 - the book loops over params.keys(); the mutants keep its style
"""Mistaken book-style AdaGrad, RMSProp and AdaDelta classes, as students write them.

Each class differs from a correct solution by exactly one mistake of this
optimizer, named in ``MUTANTS``; the checks run them to recognise the same
mistake in a student's class. The slips every optimizer can have (wrong sign,
learning rate ignored, not in place) are not written here: :mod:`.generic`
makes them from the reference classes.
"""

from __future__ import annotations

import numpy as np

# -- AdaGrad (the book's: epsilon 1e-7 hard-coded) ----------------------------------


class _AdaGradInit:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def _create(self, params):
        if self.h is None:
            self.h = {}
            for key, val in params.items():
                self.h[key] = np.zeros_like(val)


class AdaGradStateReset(_AdaGradInit):
    def update(self, params, grads):
        self.h = {}
        for key, val in params.items():
            self.h[key] = np.zeros_like(val)
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class AdaGradSharedState(_AdaGradInit):
    def update(self, params, grads):
        for key in params.keys():
            if self.h is None:
                self.h = np.zeros_like(params[key])
            self.h += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h) + 1e-7)


class AdaGradNoEpsilon(_AdaGradInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / np.sqrt(self.h[key])


class AdaGradNoSqrt(_AdaGradInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (self.h[key] + 1e-7)


class AdaGradAbsGrad(_AdaGradInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] += np.abs(grads[key])
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class AdaGradGradNotSquared(_AdaGradInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] += grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class _AdaGradEpsInit(_AdaGradInit):
    def __init__(self, lr=0.01, eps=1e-10):
        super().__init__(lr)
        self.eps = eps


class AdaGradHAfterStep(_AdaGradEpsInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + self.eps)
            self.h[key] += grads[key] * grads[key]


class AdaGradHAfterStepBookEps(_AdaGradInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
            self.h[key] += grads[key] * grads[key]


class AdaGradHStartsNonZero(_AdaGradInit):
    # Keras's and TensorFlow's Adagrad start h at initial_accumulator_value = 0.1 (an audit).
    start = 0.1

    def update(self, params, grads):
        if self.h is None:
            self.h = {}
            for key, val in params.items():
                self.h[key] = np.full_like(val, self.start)
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class AdaGradHStartsAtOne(AdaGradHStartsNonZero):
    start = 1.0  # a student audit: np.ones_like, told "the formula of a single step is off"


class AdaGradDecayed(_AdaGradInit):
    """h as RMSProp's moving average (a student audit: told "a factor is missing or extra
    (the learning rate?)")."""

    rho = 0.9  # Keras's RMSprop rho (the audit's class)

    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class AdaGradDecayedSlowly(AdaGradDecayed):
    rho = 0.99  # the lesson's RMSProp default (the book's decay_rate)


# -- RMSProp ---------------------------------------------------------------------------


class _RMSPropInit:
    def __init__(self, lr=0.01, rho=0.99):
        self.lr = lr
        self.rho = rho
        self.h = None

    def _create(self, params):
        if self.h is None:
            self.h = {}
            for key, val in params.items():
                self.h[key] = np.zeros_like(val)


class RMSPropStateReset(_RMSPropInit):
    def update(self, params, grads):
        self.h = {}
        for key, val in params.items():
            self.h[key] = np.zeros_like(val)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSPropSharedState(_RMSPropInit):
    def update(self, params, grads):
        for key in params.keys():
            if self.h is None:
                self.h = np.zeros_like(params[key])
            self.h *= self.rho
            self.h += (1 - self.rho) * grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h) + 1e-7)


class RMSPropNoEpsilon(_RMSPropInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] ** 2
            params[key] -= self.lr * grads[key] / np.sqrt(self.h[key])


class RMSPropNoSqrt(_RMSPropInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] ** 2
            params[key] -= self.lr * grads[key] / (self.h[key] + 1e-7)


class RMSPropAsAdaGrad(_RMSPropInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] += grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSPropMissingOneMinusRho(_RMSPropInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSPropNotDecayed(_RMSPropInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] += (1 - self.rho) * grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSPropGradNotSquared(_RMSPropInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSPropAbsGrad(_RMSPropInit):
    # A student audit: told only "the formula of a single step is off".
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * np.abs(grads[key])
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSPropRhoSwapped(_RMSPropInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] = (1 - self.rho) * self.h[key] + self.rho * grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class _RMSPropEpsInit(_RMSPropInit):
    def __init__(self, lr=0.01, rho=0.99, eps=1e-8):
        super().__init__(lr, rho)
        self.eps = eps


class RMSPropHAfterStep(_RMSPropEpsInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + self.eps)
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] ** 2


class RMSPropHAfterStepBookEps(_RMSPropInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] ** 2


class RMSPropHStartsAtFirstSquare(_RMSPropInit):
    # An audit: h = g·g on the first call, then the average from there.
    def update(self, params, grads):
        if self.h is None:
            self.h = {}
            for key in params.keys():
                self.h[key] = grads[key] * grads[key]
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSPropHStartsAtOne(_RMSPropInit):
    # TensorFlow 1's RMSPropOptimizer starts its mean square at 1.
    def update(self, params, grads):
        if self.h is None:
            self.h = {}
            for key, val in params.items():
                self.h[key] = np.ones_like(val)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


# -- AdaDelta ---------------------------------------------------------------------------


class _AdaDeltaInit:
    def __init__(self, lr=1.0, rho=0.9, eps=1e-6):
        self.lr = lr
        self.rho = rho
        self.eps = eps
        self.h = None
        self.u = None

    def _create(self, params):
        if self.h is None:
            self.h, self.u = {}, {}
            for key, val in params.items():
                self.h[key] = np.zeros_like(val)
                self.u[key] = np.zeros_like(val)


class AdaDeltaStateReset(_AdaDeltaInit):
    def update(self, params, grads):
        self.h, self.u = {}, {}
        for key, val in params.items():
            self.h[key] = np.zeros_like(val)
            self.u[key] = np.zeros_like(val)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] ** 2
            delta = np.sqrt(self.u[key] + self.eps) / np.sqrt(self.h[key] + self.eps) * grads[key]
            self.u[key] = self.rho * self.u[key] + (1 - self.rho) * delta**2
            params[key] -= self.lr * delta


class AdaDeltaSharedState(_AdaDeltaInit):
    def update(self, params, grads):
        for key in params.keys():
            if self.h is None:
                self.h = np.zeros_like(params[key])
                self.u = np.zeros_like(params[key])
            self.h = self.rho * self.h + (1 - self.rho) * grads[key] ** 2
            delta = np.sqrt(self.u + self.eps) / np.sqrt(self.h + self.eps) * grads[key]
            self.u = self.rho * self.u + (1 - self.rho) * delta**2
            params[key] -= self.lr * delta


class AdaDeltaNoEpsilon(_AdaDeltaInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] ** 2
            delta = np.sqrt(self.u[key]) / np.sqrt(self.h[key]) * grads[key]
            self.u[key] = self.rho * self.u[key] + (1 - self.rho) * delta**2
            params[key] -= self.lr * delta


class AdaDeltaEpsilonOutsideRoots(_AdaDeltaInit):
    # RMSProp's form, √h + ε, copied into AdaDelta: with u = 0 the 1st step is ε/√h·g.
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] ** 2
            root_u, root_h = np.sqrt(self.u[key]), np.sqrt(self.h[key])
            delta = (root_u + self.eps) / (root_h + self.eps) * grads[key]
            self.u[key] = self.rho * self.u[key] + (1 - self.rho) * delta**2
            params[key] -= self.lr * delta


class AdaDeltaUFromGrad(_AdaDeltaInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] ** 2
            self.u[key] = self.rho * self.u[key] + (1 - self.rho) * grads[key] ** 2
            delta = np.sqrt(self.u[key] + self.eps) / np.sqrt(self.h[key] + self.eps) * grads[key]
            params[key] -= self.lr * delta


class AdaDeltaUBeforeStep(_AdaDeltaInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] ** 2
            self.u[key] = self.rho * self.u[key] + (1 - self.rho) * (
                np.sqrt(self.u[key] + self.eps) / np.sqrt(self.h[key] + self.eps) * grads[key]) ** 2
            delta = np.sqrt(self.u[key] + self.eps) / np.sqrt(self.h[key] + self.eps) * grads[key]
            params[key] -= self.lr * delta


class AdaDeltaRootsSwapped(_AdaDeltaInit):
    # An audit: √(h + ε)/√(u + ε)·g, the ratio upside down.
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] ** 2
            delta = np.sqrt(self.h[key] + self.eps) / np.sqrt(self.u[key] + self.eps) * grads[key]
            self.u[key] = self.rho * self.u[key] + (1 - self.rho) * delta**2
            params[key] -= self.lr * delta


#: (optimizer, mistake id, class, *variants), the most specific mistakes first; a variant is
#: the same mistake written another way (:attr:`~.Mistake.variants`).
MUTANTS = (
    ("adagrad", "state_reset_each_call", AdaGradStateReset),
    ("adagrad", "shared_state", AdaGradSharedState),
    ("adagrad", "no_epsilon", AdaGradNoEpsilon),
    ("adagrad", "adagrad_no_sqrt", AdaGradNoSqrt),
    ("adagrad", "adagrad_abs_grad", AdaGradAbsGrad),
    ("adagrad", "adagrad_grad_not_squared", AdaGradGradNotSquared),
    # ε from self.eps (the lesson's class) or the book's 1e-7: the 1st step is lr·g/ε.
    ("adagrad", "adagrad_h_after_step", AdaGradHAfterStep, AdaGradHAfterStepBookEps),
    ("adagrad", "adagrad_h_starts_nonzero", AdaGradHStartsNonZero, AdaGradHStartsAtOne),
    ("adagrad", "adagrad_decayed", AdaGradDecayed, AdaGradDecayedSlowly),
    ("rmsprop", "state_reset_each_call", RMSPropStateReset),
    ("rmsprop", "shared_state", RMSPropSharedState),
    ("rmsprop", "no_epsilon", RMSPropNoEpsilon),
    ("rmsprop", "rmsprop_no_sqrt", RMSPropNoSqrt),
    ("rmsprop", "rmsprop_missing_one_minus_rho", RMSPropMissingOneMinusRho),
    ("rmsprop", "rmsprop_as_adagrad", RMSPropAsAdaGrad),
    ("rmsprop", "rmsprop_not_decayed", RMSPropNotDecayed),
    ("rmsprop", "rmsprop_grad_not_squared", RMSPropGradNotSquared),
    ("rmsprop", "rmsprop_abs_grad", RMSPropAbsGrad),
    ("rmsprop", "rmsprop_rho_swapped", RMSPropRhoSwapped),
    ("rmsprop", "rmsprop_h_after_step", RMSPropHAfterStep, RMSPropHAfterStepBookEps),
    ("rmsprop", "rmsprop_h_starts_nonzero", RMSPropHStartsAtFirstSquare, RMSPropHStartsAtOne),
    ("adadelta", "state_reset_each_call", AdaDeltaStateReset),
    ("adadelta", "shared_state", AdaDeltaSharedState),
    ("adadelta", "adadelta_no_epsilon", AdaDeltaNoEpsilon),
    ("adadelta", "adadelta_eps_outside_roots", AdaDeltaEpsilonOutsideRoots),
    ("adadelta", "adadelta_u_from_grad", AdaDeltaUFromGrad),
    ("adadelta", "adadelta_u_before_step", AdaDeltaUBeforeStep),
    ("adadelta", "adadelta_roots_swapped", AdaDeltaRootsSwapped),
)
