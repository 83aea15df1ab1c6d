# ruff: noqa: SIM118 - the book loops over params.keys(); the mutants keep its style
"""Mistaken book-style Adam and AdamW classes, as students write them.

They follow the book's Adam (bias correction folded into the step size
``lr_t``, epsilon 1e-7 hard-coded). Each class differs from a correct solution
by exactly one mistake of its own, named in ``MUTANTS`` (the generic slips
are made by :mod:`.generic`).
"""

from __future__ import annotations

import numpy as np

# -- Adam -----------------------------------------------------------------------------


class _AdamInit:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def _create(self, params):
        if self.m is None:
            self.m, self.v = {}, {}
            for key, val in params.items():
                self.m[key] = np.zeros_like(val)
                self.v[key] = np.zeros_like(val)

    def _lr_t(self):
        return self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)

    def _betas(self):
        """The β of m's and of v's moving average (the step size corrects with its own)."""
        return self.beta1, self.beta2


class AdamStateReset(_AdamInit):
    def update(self, params, grads):
        self.m, self.v = {}, {}
        for key, val in params.items():
            self.m[key] = np.zeros_like(val)
            self.v[key] = np.zeros_like(val)
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class AdamSharedState(_AdamInit):
    def update(self, params, grads):
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            if self.m is None:
                self.m = np.zeros_like(params[key])
                self.v = np.zeros_like(params[key])
            self.m = self.m + (1 - self.beta1) * (grads[key] - self.m)
            self.v = self.v + (1 - self.beta2) * (grads[key] ** 2 - self.v)
            params[key] -= lr_t * self.m / (np.sqrt(self.v) + 1e-7)


class AdamCounterPerKey(_AdamInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.iter += 1
            lr_t = self._lr_t()
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class AdamCounterStartsAtZero(_AdamInit):
    def update(self, params, grads):
        self._create(params)
        lr_t = self._lr_t()
        self.iter += 1
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class AdamCounterStartsAtOne(_AdamInit):
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        super().__init__(lr, beta1, beta2)
        self.iter = 1  # "Adam counts from 1", and update() advances it first: t = 2

    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class AdamNoBiasCorrection(_AdamInit):
    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        for key in params.keys():
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grads[key] ** 2
            params[key] -= self.lr * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class AdamNoEpsilon(_AdamInit):
    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / np.sqrt(self.v[key])


class _AdamOwnMoments(_AdamInit):
    """The book's update with what m or v averages of its own (the subclass's mistake)."""

    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            g = grads[key]
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * self._m_of(g)
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * self._v_of(g, self.m[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)

    def _m_of(self, g):
        return g

    def _v_of(self, g, m):
        return g**2


class AdamGradNotSquared(_AdamOwnMoments):
    def _v_of(self, g, m):
        return g


class AdamMSquared(_AdamOwnMoments):
    """m averages g² (v's recurrence) instead of g: every step goes the same way."""

    def _m_of(self, g):
        return g**2


class AdamVAbsGrad(_AdamOwnMoments):
    # A student audit: v averaging |g|, told only "the formula of a single step is off".
    def _v_of(self, g, m):
        return np.abs(g)


class AdamVFromM(_AdamOwnMoments):
    # A student audit: v averaging the new m squared, told "a factor is missing or extra".
    def _v_of(self, g, m):
        return m**2


class _AdamExplicit(_AdamInit):
    """The update with m̂ and v̂ written out, as the lesson does; the subclass's mistake is
    in how it corrects them or in its denominator."""

    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        for key in params.keys():
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grads[key] ** 2
            m_hat, v_hat = self._corrected(key)
            params[key] -= self.lr * m_hat / (np.sqrt(self._denominator(key, v_hat))
                                              + self._eps())

    def _corrected(self, key):
        return self.m[key] / (1 - self.beta1**self.iter), self.v[key] / (1 - self.beta2**self.iter)

    def _denominator(self, key, v_hat):
        return v_hat

    def _eps(self):
        return 1e-7


class AdamMHatPrecedence(_AdamExplicit):
    # A student audit: m_hat = m / 1 - beta1 ** t (Python divides first), told only "the
    # formula of a single step is off".
    def _corrected(self, key):
        return self.m[key] / 1 - self.beta1**self.iter, self.v[key] / (1 - self.beta2**self.iter)


class AdamMHatPrecedenceOwnEps(AdamMHatPrecedence):
    # The lesson's class, ε from self.eps: on a zero gradient the step is lr·β₁ᵗ/ε, whose
    # size names ε (the book's 1e-7 moved ten times less than the audit's 1e-8).
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr, beta1, beta2)
        self.eps = eps

    def _eps(self):
        return self.eps


class AdamAmsgrad(_AdamExplicit):
    """m and v are right; the denominator keeps the largest v̂ so far (AMSGrad's)."""

    def update(self, params, grads):
        if self.m is None:
            self.v_hat_max = {key: np.zeros_like(val) for key, val in params.items()}
        super().update(params, grads)

    def _denominator(self, key, v_hat):
        self.v_hat_max[key] = np.maximum(self.v_hat_max[key], v_hat)
        return self.v_hat_max[key]


class AdamCorrectedMomentsStored(_AdamExplicit):
    """m̂ = m/(1 − β₁ᵗ) and v̂ = v/(1 − β₂ᵗ) written back into m and v (an audit): right at
    t = 1 only, then each call corrects values already corrected."""

    stores = ("m", "v")

    def _corrected(self, key):
        m_hat, v_hat = super()._corrected(key)
        if "m" in self.stores:
            self.m[key] = m_hat
        if "v" in self.stores:
            self.v[key] = v_hat
        return m_hat, v_hat


class AdamCorrectedMStored(AdamCorrectedMomentsStored):
    stores = ("m",)  # self.m[key] /= 1 - β₁ᵗ, v̂ a variable of its own


class AdamCorrectedVStored(AdamCorrectedMomentsStored):
    stores = ("v",)


class AdamVStartsAtOne(_AdamInit):
    """A review: v starts at ones; the bias correction then leaves β₂/(1 − β₂) in v̂."""

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.ones_like(val) for key, val in params.items()}
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class AdamCounterAdvancedOnce(_AdamInit):
    # An audit: `self.iter += 1` inside the `if` that creates m and v, so t stays 1.
    def update(self, params, grads):
        if self.m is None:
            self._create(params)
            self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class _AdamOwnStepSize(_AdamInit):
    """The book's update with a step size or moving averages of its own (the subclass's
    mistake)."""

    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        lr_t = self._lr_t()
        beta_m, beta_v = self._betas()
        for key in params.keys():
            self.m[key] += (1 - beta_m) * (grads[key] - self.m[key])
            self.v[key] += (1 - beta_v) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


# Both corrections without the power t is Adam with t = 1 at every call: the counter's
# mistake above (its text names both).
class AdamMCorrectionWithoutPower(_AdamOwnStepSize):
    # An audit: m̂ = m / (1 − β₁), no power t (right at t = 1 only).
    def _lr_t(self):
        return self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1)


class AdamVCorrectionWithoutPower(_AdamOwnStepSize):
    def _lr_t(self):
        return self.lr * np.sqrt(1.0 - self.beta2) / (1.0 - self.beta1**self.iter)


class AdamVCorrectedWithBeta1(_AdamOwnStepSize):
    # An audit: v̂ = v / (1 − β₁ᵗ).
    def _lr_t(self):
        return self.lr * np.sqrt(1.0 - self.beta1**self.iter) / (1.0 - self.beta1**self.iter)


class AdamMCorrectedWithBeta2(_AdamOwnStepSize):
    def _lr_t(self):
        return self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta2**self.iter)


class AdamCorrectionBetasSwapped(_AdamOwnStepSize):
    def _lr_t(self):
        return self.lr * np.sqrt(1.0 - self.beta1**self.iter) / (1.0 - self.beta2**self.iter)


class AdamVAveragedWithBeta1(_AdamOwnStepSize):
    # A student audit: v = β₁·v + (1 − β₁)·g², told "a factor is missing or extra".
    def _betas(self):
        return self.beta1, self.beta1


class AdamMAveragedWithBeta2(_AdamOwnStepSize):
    def _betas(self):
        return self.beta2, self.beta2


class AdamAveragesBetasSwapped(_AdamOwnStepSize):
    def _betas(self):
        return self.beta2, self.beta1


# -- AdamW: the decay shrinks the weights first, then Adam's step ---------------------


class _AdamWInit(_AdamInit):
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, weight_decay=0.01):
        super().__init__(lr, beta1, beta2)
        self.weight_decay = weight_decay

    def _adam_step(self, params, grads, key, lr_t):
        beta_m, beta_v = self._betas()
        self.m[key] += (1 - beta_m) * (grads[key] - self.m[key])
        self.v[key] += (1 - beta_v) * (grads[key] ** 2 - self.v[key])
        params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class AdamWStateReset(_AdamWInit):
    def update(self, params, grads):
        self.m = None
        self._create(params)
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            params[key] -= self.lr * self.weight_decay * params[key]
            self._adam_step(params, grads, key, lr_t)


class AdamWCounterPerKey(_AdamWInit):
    def update(self, params, grads):
        self._create(params)
        for key in params.keys():
            self.iter += 1
            lr_t = self._lr_t()
            params[key] -= self.lr * self.weight_decay * params[key]
            self._adam_step(params, grads, key, lr_t)


class AdamWNoBiasCorrection(_AdamWInit):
    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        for key in params.keys():
            params[key] -= self.lr * self.weight_decay * params[key]
            self._adam_step(params, grads, key, self.lr)


class AdamWDecayInGrad(_AdamWInit):
    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            grad = grads[key] + self.weight_decay * params[key]
            self.m[key] += (1 - self.beta1) * (grad - self.m[key])
            self.v[key] += (1 - self.beta2) * (grad**2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class AdamWDecayWithoutLr(_AdamWInit):
    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            params[key] -= self.weight_decay * params[key]
            self._adam_step(params, grads, key, lr_t)


class AdamWDecayGrows(_AdamWInit):
    """θ ← θ·(1 + lr·λ): the decay's sign flipped (a student audit)."""

    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            params[key] += self.lr * self.weight_decay * params[key]
            self._adam_step(params, grads, key, lr_t)


class AdamWDecayWithStepSize(_AdamWInit):
    """θ ← θ·(1 − lr_t·λ): the book's folded step size in the decay too (a student audit)."""

    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            params[key] -= lr_t * self.weight_decay * params[key]
            self._adam_step(params, grads, key, lr_t)


class AdamWNoDecay(_AdamWInit):
    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            self._adam_step(params, grads, key, lr_t)


class _AdamWDecayFirst(_AdamWInit):
    """The decoupled decay, right, then the update of the Adam mistake mixed in after it."""

    def update(self, params, grads):
        for key in params.keys():  # m and v read only the gradients: decaying first is the same
            params[key] -= self.lr * self.weight_decay * params[key]
        super().update(params, grads)  # the mixed-in Adam mistake's


class AdamWGradNotSquared(_AdamWDecayFirst, AdamGradNotSquared):
    pass


class AdamWMSquared(_AdamWDecayFirst, AdamMSquared):
    pass


class AdamWAmsgrad(_AdamWDecayFirst, AdamAmsgrad):
    """The decoupled decay is right; the denominator keeps the largest v̂ so far."""


class AdamWVStartsAtOne(_AdamWDecayFirst, AdamVStartsAtOne):
    """The decoupled decay is right; v starts at ones."""


class AdamWCorrectedMomentsStored(_AdamWDecayFirst, AdamCorrectedMomentsStored):
    """The decoupled decay is right; m̂ and v̂ are written back into m and v."""


class AdamWCorrectedMStored(AdamWCorrectedMomentsStored):
    stores = ("m",)


class AdamWCorrectedVStored(AdamWCorrectedMomentsStored):
    stores = ("v",)


class AdamWDecayAfterStep(_AdamWInit):
    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            self._adam_step(params, grads, key, lr_t)
            params[key] -= self.lr * self.weight_decay * params[key]


class _AdamWOwnStepSize(_AdamWInit):
    """AdamW's update with a step size of its own (the mixed-in Adam mistake's ``_lr_t``)."""

    def update(self, params, grads):
        self._create(params)
        self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            params[key] -= self.lr * self.weight_decay * params[key]
            self._adam_step(params, grads, key, lr_t)


class AdamWCounterAdvancedOnce(_AdamWInit):
    def update(self, params, grads):
        if self.m is None:
            self._create(params)
            self.iter += 1
        lr_t = self._lr_t()
        for key in params.keys():
            params[key] -= self.lr * self.weight_decay * params[key]
            self._adam_step(params, grads, key, lr_t)


# An AdamW built on its own Adam (super().update()) has that Adam's mistakes (an audit:
# told "the wrong rule" for a counter advanced once).
class AdamWMCorrectionWithoutPower(_AdamWOwnStepSize, AdamMCorrectionWithoutPower):
    pass


class AdamWVCorrectionWithoutPower(_AdamWOwnStepSize, AdamVCorrectionWithoutPower):
    pass


class AdamWVCorrectedWithBeta1(_AdamWOwnStepSize, AdamVCorrectedWithBeta1):
    pass


class AdamWMCorrectedWithBeta2(_AdamWOwnStepSize, AdamMCorrectedWithBeta2):
    pass


class AdamWCorrectionBetasSwapped(_AdamWOwnStepSize, AdamCorrectionBetasSwapped):
    pass


class AdamWVAveragedWithBeta1(_AdamWOwnStepSize, AdamVAveragedWithBeta1):
    pass


class AdamWMAveragedWithBeta2(_AdamWOwnStepSize, AdamMAveragedWithBeta2):
    pass


class AdamWAveragesBetasSwapped(_AdamWOwnStepSize, AdamAveragesBetasSwapped):
    pass


class AdamWDecayOnly(_AdamWInit):
    # A student audit: the decay loop, and super().update() never called.
    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * self.weight_decay * params[key]


#: (optimizer, mistake id, class, *variants), the most specific mistakes first.
MUTANTS = (
    ("adam", "state_reset_each_call", AdamStateReset),
    ("adam", "shared_state", AdamSharedState),
    ("adam", "counter_per_key", AdamCounterPerKey),
    ("adam", "no_epsilon", AdamNoEpsilon),
    ("adam", "counter_starts_at_zero", AdamCounterStartsAtZero),
    ("adam", "counter_starts_at_one", AdamCounterStartsAtOne),
    ("adam", "counter_advanced_once", AdamCounterAdvancedOnce),
    ("adam", "no_bias_correction", AdamNoBiasCorrection),
    ("adam", "bias_correction_without_power", AdamMCorrectionWithoutPower,
     AdamVCorrectionWithoutPower),
    ("adam", "bias_correction_wrong_beta", AdamVCorrectedWithBeta1, AdamMCorrectedWithBeta2,
     AdamCorrectionBetasSwapped),
    ("adam", "average_wrong_beta", AdamVAveragedWithBeta1, AdamMAveragedWithBeta2,
     AdamAveragesBetasSwapped),
    ("adam", "adam_grad_not_squared", AdamGradNotSquared),
    ("adam", "adam_m_squared", AdamMSquared),
    ("adam", "adam_v_abs_grad", AdamVAbsGrad),
    ("adam", "adam_v_from_m", AdamVFromM),
    ("adam", "bias_correction_precedence", AdamMHatPrecedence, AdamMHatPrecedenceOwnEps),
    ("adam", "adam_amsgrad", AdamAmsgrad),
    ("adam", "adam_v_starts_nonzero", AdamVStartsAtOne),
    ("adam", "corrected_moments_stored", AdamCorrectedMomentsStored, AdamCorrectedMStored,
     AdamCorrectedVStored),
    ("adamw", "state_reset_each_call", AdamWStateReset),
    ("adamw", "counter_per_key", AdamWCounterPerKey),
    ("adamw", "adamw_no_decay", AdamWNoDecay),
    ("adamw", "adamw_decay_in_grad", AdamWDecayInGrad),
    ("adamw", "adamw_decay_after_step", AdamWDecayAfterStep),
    ("adamw", "adamw_decay_without_lr", AdamWDecayWithoutLr),
    ("adamw", "adamw_decay_grows", AdamWDecayGrows),
    ("adamw", "adamw_decay_with_step_size", AdamWDecayWithStepSize),
    ("adamw", "no_bias_correction", AdamWNoBiasCorrection),
    ("adamw", "counter_advanced_once", AdamWCounterAdvancedOnce),
    ("adamw", "bias_correction_without_power", AdamWMCorrectionWithoutPower,
     AdamWVCorrectionWithoutPower),
    ("adamw", "bias_correction_wrong_beta", AdamWVCorrectedWithBeta1, AdamWMCorrectedWithBeta2,
     AdamWCorrectionBetasSwapped),
    ("adamw", "average_wrong_beta", AdamWVAveragedWithBeta1, AdamWMAveragedWithBeta2,
     AdamWAveragesBetasSwapped),
    ("adamw", "adamw_no_adam_step", AdamWDecayOnly),
    ("adamw", "adam_grad_not_squared", AdamWGradNotSquared),
    ("adamw", "adam_m_squared", AdamWMSquared),
    ("adamw", "adam_amsgrad", AdamWAmsgrad),
    ("adamw", "adam_v_starts_nonzero", AdamWVStartsAtOne),
    ("adamw", "corrected_moments_stored", AdamWCorrectedMomentsStored, AdamWCorrectedMStored,
     AdamWCorrectedVStored),
)
