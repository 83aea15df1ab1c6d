"""Every catalogued mistake fails exactly the properties it breaks, and is named.

The expected failing properties are written out per hand-written mutant, one
line each, and once for each generic slip (the same for every optimizer), as a
careful human grader would mark them: a property is lost only if the
mistake breaks *that* property (issue 9, point 4). What each property checks:

* first_step, carries_state — the values (any formula mistake loses both,
  unless it only shows from the 2nd call on);
* per_key_state — every key is updated, exactly as when it is the only one
  (state shared between keys, a counter advanced per key, a loop that stops early);
* in_place — same arrays, and they change on some call (a wrong formula keeps the point,
  even one whose step is zero on the 1st call);
* float32 — the dtype is kept (and the values change);
* zero_grad — no NaN or infinity on a key from the call its gradient is all zeros, no
  movement on that gradient (NaN only where the gradient is not zero is the values').

The table is checked on the public seeds and on others.
"""

from __future__ import annotations

import numpy as np
import pytest

from descentlab.checks import (
    CATALOGUE,
    PUBLIC_SEEDS,
    diagnose,
    get_mistake,
    get_property,
    make_case,
    observe,
    properties_for,
    score_properties,
)
from descentlab.checks.messages import NOT_IN_PLACE, only_non_finite
from descentlab.checks.mistakes.generic import (
    GENERIC,
    is_generic,
)
from descentlab.optimizers import available, nan_causes, optimizer_class

SEEDS = (*PUBLIC_SEEDS, 3, 1234567)

VALUES = {"first_step", "carries_state"}

EXPECTED_FAILURES: dict[tuple[str, str], set[str]] = {
    # -- SGD: first_step, carries_state, per_key_state, in_place, float32
    ("sgd", "first_key_only"): {"per_key_state"},  # one key alone is updated correctly
    # -- Momentum, Nesterov: the same five properties
    ("momentum", "state_reset_each_call"): {"carries_state"},  # the 1st step is right
    ("momentum", "shared_state"): {"per_key_state"},
    ("momentum", "ema_momentum"): VALUES,
    # Steps with the old velocity: the 1st step is 0, later ones lag a call behind, but it
    # changes the caller's arrays in place, keeps the dtype and each key on its own.
    ("momentum", "momentum_old_velocity"): VALUES,
    ("momentum", "momentum_not_decayed"): {"carries_state"},  # the 1st step is right
    ("momentum", "momentum_v_starts_nonzero"): VALUES,
    ("nesterov", "state_reset_each_call"): {"carries_state"},
    ("nesterov", "shared_state"): {"per_key_state"},
    ("nesterov", "nesterov_as_momentum"): VALUES,
    ("nesterov", "nesterov_v_first"): VALUES,
    ("nesterov", "nesterov_gradient_term_added"): VALUES,
    ("nesterov", "momentum_not_decayed"): {"carries_state"},  # the 1st step is right
    ("nesterov", "nesterov_ema"): VALUES,
    ("nesterov", "nesterov_look_ahead_sign"): VALUES,
    # -- AdaGrad, RMSProp, AdaDelta: the five, plus zero_grad
    ("adagrad", "state_reset_each_call"): {"carries_state"},
    ("adagrad", "shared_state"): {"per_key_state"},
    ("adagrad", "no_epsilon"): {"zero_grad"},  # 0/0 only where the gradient is zero
    ("adagrad", "adagrad_no_sqrt"): VALUES,  # with g = 0 the step is 0/(0 + ε) = 0: no NaN
    ("adagrad", "adagrad_abs_grad"): VALUES,
    # h += g: NaN from the root of a negative h on nonzero gradients only (the values); on
    # the zero gradient h stays 0 and the step is 0/(0 + ε) = 0.
    ("adagrad", "adagrad_grad_not_squared"): VALUES,
    # h updated after the step: the 1st step is lr·g/ε (huge but finite); on a zero gradient
    # it is 0/ε = 0, and the next call's h is still 0 there: no NaN, no move on g = 0.
    ("adagrad", "adagrad_h_after_step"): VALUES,
    ("adagrad", "adagrad_h_starts_nonzero"): VALUES,  # on g = 0 the step is 0/(√0.1 + ε)
    ("adagrad", "adagrad_decayed"): VALUES,
    ("rmsprop", "rmsprop_abs_grad"): VALUES,
    ("adam", "adam_v_abs_grad"): VALUES,
    ("adam", "adam_v_from_m"): VALUES,
    # m̂ = m − β₁ᵗ: a zero gradient moves the parameter too.
    ("adam", "bias_correction_precedence"): VALUES | {"zero_grad"},
    ("rmsprop", "state_reset_each_call"): {"carries_state"},
    ("rmsprop", "shared_state"): {"per_key_state"},
    ("rmsprop", "no_epsilon"): {"zero_grad"},
    ("rmsprop", "rmsprop_no_sqrt"): VALUES,  # with g = 0 the step is 0/(0 + ε) = 0: no NaN
    ("rmsprop", "rmsprop_missing_one_minus_rho"): VALUES,
    ("rmsprop", "rmsprop_as_adagrad"): VALUES,
    ("rmsprop", "rmsprop_not_decayed"): {"carries_state"},  # h = (1 − ρ)g² on the 1st call
    ("rmsprop", "rmsprop_grad_not_squared"): VALUES,
    ("rmsprop", "rmsprop_rho_swapped"): VALUES,  # h = ρ·g² on the 1st call
    ("rmsprop", "rmsprop_h_after_step"): VALUES,  # as AdaGrad's
    ("rmsprop", "rmsprop_h_starts_nonzero"): VALUES,  # h = g² or 1: on g = 0, 0 or 0/1
    ("adadelta", "state_reset_each_call"): {"carries_state"},
    ("adadelta", "shared_state"): {"per_key_state"},
    # u stays 0, so every step is 0: nothing ever moves, and a class that does nothing
    # shows no in-place update, no kept dtype and no per-key update to give points for;
    # on a zero gradient √0/√0 is NaN.
    ("adadelta", "adadelta_no_epsilon"): {"first_step", "carries_state", "per_key_state",
                                          "in_place", "float32", "zero_grad"},
    ("adadelta", "adadelta_eps_outside_roots"): VALUES,
    ("adadelta", "adadelta_u_from_grad"): VALUES,
    ("adadelta", "adadelta_u_before_step"): VALUES,
    ("adadelta", "adadelta_roots_swapped"): VALUES,
    # -- Adam, AdamW: the five, plus zero_grad
    ("adam", "state_reset_each_call"): {"carries_state"},
    ("adam", "shared_state"): {"per_key_state"},
    ("adam", "counter_per_key"): {"per_key_state"},  # with one key it is right
    ("adam", "no_epsilon"): {"zero_grad"},
    # t = 0 makes every first step 0/0 = NaN, also on the zero gradient (the zero_grad
    # property sees NaN there); per key, in place and float32 are right.
    ("adam", "counter_starts_at_zero"): {"first_step", "carries_state", "zero_grad"},
    ("adam", "counter_starts_at_one"): VALUES,  # t = 2 on the 1st call: no NaN, g = 0 stays
    ("adam", "no_bias_correction"): VALUES,  # zero gradient: 0/(0 + ε) = 0, no NaN
    # t = 1 at every call, or no power t in a correction: right on the 1st call only.
    ("adam", "counter_advanced_once"): {"carries_state"},
    ("adam", "bias_correction_without_power"): {"carries_state"},
    ("adam", "bias_correction_wrong_beta"): VALUES,
    ("adam", "average_wrong_beta"): VALUES,  # g = 0 leaves m at 0: no step there
    ("adam", "adam_grad_not_squared"): VALUES,  # as AdaGrad's: NaN only where g ≠ 0
    ("adam", "adam_m_squared"): VALUES,  # g = 0 leaves m at 0: no step there
    ("adam", "adam_v_starts_nonzero"): VALUES,  # on g = 0, m = 0: a step of 0/√v̂
    # A running maximum of v̂ (AMSGrad): v̂_max = v̂ on the 1st call, so only later calls.
    ("adam", "adam_amsgrad"): {"carries_state"},
    ("adamw", "state_reset_each_call"): {"carries_state"},
    ("adamw", "counter_per_key"): {"per_key_state"},
    ("adamw", "adamw_decay_in_grad"): VALUES,
    ("adamw", "adamw_no_decay"): VALUES,
    ("adamw", "adamw_decay_after_step"): VALUES,
    ("adamw", "adamw_decay_without_lr"): VALUES,  # the decay moves on g = 0 in the reference too
    ("adamw", "adamw_decay_grows"): VALUES,
    ("adam", "corrected_moments_stored"): {"carries_state"},
    ("adamw", "corrected_moments_stored"): {"carries_state"},
    ("adamw", "adamw_decay_with_step_size"): VALUES,
    ("adamw", "no_bias_correction"): VALUES,
    ("adamw", "counter_advanced_once"): {"carries_state"},
    ("adamw", "bias_correction_without_power"): {"carries_state"},
    ("adamw", "bias_correction_wrong_beta"): VALUES,
    ("adamw", "average_wrong_beta"): VALUES,
    # The decay alone reads no gradient: it earns nothing (checks/README.md).
    ("adamw", "adamw_no_adam_step"): VALUES | {"per_key_state", "in_place", "float32",
                                               "zero_grad"},
    ("adamw", "adam_grad_not_squared"): VALUES,
    ("adamw", "adam_m_squared"): VALUES,
    ("adamw", "adam_v_starts_nonzero"): VALUES,
    ("adamw", "adam_amsgrad"): {"carries_state"},
}

# The generic slips (made from every reference class, :mod:`descentlab.checks.mistakes.generic`)
# break the same properties whatever the optimizer: a wrong sign or an ignored learning
# rate every value, a new array only the in-place property.
GENERIC_FAILURES: dict[str, set[str]] = {
    "wrong_sign": VALUES,
    "lr_ignored": VALUES,
    "not_in_place": {"in_place"},
    # The case of carries_state has a zero gradient on its 8th call (a student audit).
    "skips_zero_gradient": {"carries_state"},
}
# Skipping a zero gradient is a mistake only where it changes something (not SGD's nor
# AdaGrad's step or state).
SKIPPING_HARMLESS = {"sgd", "adagrad"}
EXPECTED_FAILURES.update({(name, mistake_id): lost for name in available()
                          for mistake_id, lost in GENERIC_FAILURES.items()
                          if not (mistake_id == "skips_zero_gradient"
                                  and name in SKIPPING_HARMLESS)})
# A hyperparameter other than the rate written as a number (made from every reference
# class too): the values, from the call where it first matters. μ does not enter
# Momentum's 1st step (v = −lr·g) nor β₁ and β₂ Adam's (m̂ = g, v̂ = g²), but it does Nesterov's
# (−(1 + μ)·lr·g) and Nadam's (its μₜ schedule is built from β₁); ρ and the weight
# decay enter every 1st step.
EXPECTED_FAILURES.update({
    ("momentum", "hard_coded_momentum"): {"carries_state"},
    ("nesterov", "hard_coded_momentum"): VALUES,
    ("rmsprop", "hard_coded_rho"): VALUES,
    ("adadelta", "hard_coded_rho"): VALUES,
    ("adam", "hard_coded_beta1"): {"carries_state"},
    ("adam", "hard_coded_beta2"): {"carries_state"},
    ("adamw", "hard_coded_beta1"): {"carries_state"},
    ("adamw", "hard_coded_beta2"): {"carries_state"},
    ("adamw", "hard_coded_weight_decay"): VALUES,
    ("nadam", "hard_coded_beta1"): VALUES,
    ("nadam", "hard_coded_beta2"): {"carries_state"},
})

# Failures reported on their own rather than as a named mistake: the phrase they carry.
NOT_NAMED: dict[tuple[str, str, str], str] = {
    # The properties of what a step leaves alone, lost for reading no gradient: one sentence
    # says so (messages.IGNORES_GRADIENTS), not the mistake's.
    ("adamw", "adamw_no_adam_step", prop): "takes the same steps whatever the gradients are"
    for prop in ("per_key_state", "in_place", "float32", "zero_grad")}

# A phrase of each mistake's message that names the real mistake, and phrases that
# must not appear in it (what issue 13 found students being told instead).
PHRASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "wrong_sign": ("climbs the loss", ()),
    "lr_ignored": ("learning rate given to __init__ is not used", ()),
    "first_key_only": ("only the first parameter is updated", ()),
    "not_in_place": ("replaced by a new array", ()),
    "skips_zero_gradient": ("a zero gradient is still a step", ()),
    "state_reset_each_call": ("forgets your", ()),
    "shared_state": ("share the same", ()),
    "ema_momentum": ("moving average", ()),
    "momentum_old_velocity": ("velocity of the previous call", ()),
    "momentum_not_decayed": ("μ is missing from the velocity's update", ()),
    "nesterov_as_momentum": ("plain Momentum", ()),
    "nesterov_v_first": ("velocity is updated before the step", ()),
    "nesterov_ema": ("velocity as a moving average", ("a factor is missing",)),
    "nesterov_look_ahead_sign": ("look-ahead term has the wrong sign", ("a factor is missing",)),
    # A grading audit: told "moved the wrong way ..., and a factor is missing or extra".
    "nesterov_gradient_term_added": ("the gradient term of the step has the wrong sign",
                                     ("a factor is missing",)),
    "no_epsilon": ("no epsilon", ("1e-7", "self.iter")),
    "adagrad_no_sqrt": ("square root is missing", ()),
    "adagrad_abs_grad": ("not its absolute value", ("carried between calls",)),
    "rmsprop_abs_grad": ("not its absolute value", ("formula of a single step",)),
    "adam_v_abs_grad": ("not its absolute value", ("formula of a single step",)),
    "adam_v_from_m": ("not the square of m", ("a factor is missing",)),
    "bias_correction_precedence": ("needs its brackets", ("formula of a single step",)),
    "momentum_v_starts_nonzero": ("velocity must start at 0", ("uphill",)),
    "rmsprop_no_sqrt": ("square root is missing", ()),
    "rmsprop_missing_one_minus_rho": ("(1 − ρ) is missing", ()),
    "rmsprop_as_adagrad": ("never decayed", ()),
    "rmsprop_not_decayed": ("not decayed", ("carried between calls",)),
    # Not squaring g: the root of a negative h is NaN, which is not a step counter's doing.
    "adagrad_grad_not_squared": ("add up the squared gradient", ("step counter", "βᵗ")),
    "rmsprop_grad_not_squared": ("average the squared gradient", ("step counter", "βᵗ")),
    "adam_grad_not_squared": ("v must average the squared gradient", ("step counter",)),
    "adam_m_squared": ("m must average the gradient itself", ("formula of a single step",)),
    "adam_v_starts_nonzero": ("v must start at 0", ("one multiple of its gradient",)),
    "adadelta_no_epsilon": ("epsilon is missing inside the square root of u", ()),
    "adadelta_eps_outside_roots": ("inside both square roots", ("has not changed",)),
    "adadelta_u_from_grad": ("squared steps", ()),
    "adadelta_u_before_step": ("only then update u", ()),
    "adadelta_roots_swapped": ("ratio of the roots is upside down", ("formula of a single step",)),
    "counter_per_key": ("once per parameter", ("self.iter",)),
    "counter_starts_at_zero": ("used before it is advanced", ("no epsilon", "self.iter")),
    "counter_starts_at_one": ("already uses t = 2", ("self.iter", "a factor is missing")),
    "no_bias_correction": ("bias correction is missing", ()),
    "counter_advanced_once": ("use t = 1 at every call", ("wrong rule",)),
    "bias_correction_without_power": ("divides by 1 − β instead of 1 − βᵗ",
                                      ("wrong rule", "a factor is missing")),
    "bias_correction_wrong_beta": ("uses the other β", ("a factor is missing",)),
    # A student audit: v averaged with β₁ was told "a factor is missing or extra".
    "average_wrong_beta": ("a moving average uses the other β", ("a factor is missing",)),
    "adamw_no_adam_step": ("the weight decay only", ("formula of a single step",)),
    "adagrad_h_starts_nonzero": ("h must start at 0", ("formula of a single step",)),
    "adagrad_decayed": ("which is RMSProp's", ("the learning rate?", "a factor is missing")),
    "rmsprop_h_starts_nonzero": ("h must start at 0", ("check the (1 − ρ) factor",)),
    "adamw_decay_in_grad": ("added to the gradient", ()),
    "adamw_decay_without_lr": ("ignores the learning rate", ()),
    "adamw_decay_grows": ("grows the weights", ("formula of a single step",)),
    "corrected_moments_stored": ("is written back into the state", ("wrong rule",)),
    "adamw_decay_with_step_size": ("bias-corrected step size", ("formula of a single step",)),
    "adamw_no_decay": ("your step shows no weight decay", ("the weight decay is missing",
                                                          "the weight decay was added")),
    # m and v are right: not sent to their recurrences.
    "adam_amsgrad": ("running maximum of v̂", ("wrong rule", "m ← β₁·m")),
    "adamw_decay_after_step": ("comes after Adam's step", ("a factor is missing",)),
    "rmsprop_rho_swapped": ("ρ and 1 − ρ are swapped", ()),
    "adagrad_h_after_step": ("h must be updated before it is used", ()),
    "rmsprop_h_after_step": ("h must be updated before it is used", ()),
    "hard_coded_momentum": ("where it should use self.momentum", ()),
    "hard_coded_rho": ("where it should use self.rho", ()),
    "hard_coded_beta1": ("where it should use self.beta1", ()),
    "hard_coded_beta2": ("where it should use self.beta2", ()),
    "hard_coded_weight_decay": ("where it should use self.weight_decay", ()),
}

MUTANTS = [(m.optimizer, m.id) for entries in CATALOGUE.values() for m in entries]
# Every way each mistake is written (its class, then its variants): each loses the same.
FORMS = [(m.optimizer, m.id, i) for entries in CATALOGUE.values() for m in entries
         for i in range(len(m.forms()))]


def test_expectations_cover_the_whole_catalogue():
    assert set(GENERIC_FAILURES) == set(GENERIC)
    assert set(EXPECTED_FAILURES) == set(MUTANTS)
    assert {m for _, m in MUTANTS} == set(PHRASES)
    for (optimizer, mistake_id), lost in EXPECTED_FAILURES.items():
        graded = {p.name for p in properties_for(optimizer)}
        assert lost <= graded, f"{optimizer}/{mistake_id} loses a property it is not graded on"
        assert lost, f"{optimizer}/{mistake_id} would cost nothing"


def test_catalogue_has_the_required_mistakes():
    ids = {mistake_id for _, mistake_id in MUTANTS}
    required = {"not_in_place", "state_reset_each_call", "shared_state", "counter_per_key",
                "no_bias_correction", "wrong_sign", "ema_momentum", "no_epsilon",
                "adagrad_no_sqrt", "rmsprop_as_adagrad", "lr_ignored", "adamw_decay_in_grad",
                "nesterov_as_momentum", "adam_amsgrad"}
    assert required <= ids, f"missing: {required - ids}"


@pytest.mark.parametrize(("optimizer", "mistake_id", "form"), FORMS,
                         ids=[f"{o}-{m}" + (f"-{i}" if i else "") for o, m, i in FORMS])
def test_mutant_fails_exactly_the_expected_properties_and_is_named(optimizer, mistake_id, form):
    mistake = get_mistake(optimizer, mistake_id)
    cls, explanation = mistake.forms()[form]
    expected = EXPECTED_FAILURES[optimizer, mistake_id]
    report = score_properties(cls, optimizer, SEEDS)
    assert set(report.failed) == expected, (
        f"{optimizer}/{mistake_id} should fail {sorted(expected)}, failed {report.failed}:\n"
        + report.text()
    )
    for result in report.results:
        if result.passed:
            continue
        named = mistake_id
        if (optimizer, mistake_id, result.name) in NOT_NAMED:
            named = ""
        assert result.mistake == named, (
            f"{optimizer}/{mistake_id}, {result.name}: named {result.mistake!r}, expected "
            f"{named!r}; message: {result.message}"
        )
        if named == mistake_id:
            assert _explains(result.message, named, explanation), result.message
        elif named:
            assert result.message == get_mistake(optimizer, named).explanation
        phrase, never = PHRASES[named or mistake_id]
        phrase = NOT_NAMED.get((optimizer, mistake_id, result.name), phrase)
        assert phrase in result.message, (
            f"{optimizer}/{mistake_id}, {result.name}: {phrase!r} not in {result.message!r}")
        for wrong in never:
            assert wrong not in result.message, (
                f"{optimizer}/{mistake_id}, {result.name}: {wrong!r} in {result.message!r}")


@pytest.mark.parametrize("optimizer", available())
def test_the_reference_classes_lose_nothing(optimizer):
    report = score_properties(optimizer_class(optimizer), optimizer, SEEDS)
    assert report.failed == [], report.text()
    assert report.passed == [p.name for p in properties_for(optimizer)]


def test_diagnose_names_the_mistake_and_keeps_the_rest():
    """A class that is both per-key-wrong and not in place gets both findings."""
    mistake = get_mistake("momentum", "shared_state")

    class SharedAndRebound(mistake.cls):
        def update(self, params, grads):
            copies = {key: value.copy() for key, value in params.items()}
            super().update(copies, grads)
            params.update(copies)

    # Two keys of one shape: the shared velocity gives wrong numbers, not a crash.
    case = make_case(1, shapes={"W1": (3, 4), "W2": (3, 4)}, calls=3)
    observed = observe(SharedAndRebound, case.hyper_for("momentum"), case)
    diagnosis = diagnose(observed, "momentum", case)
    assert diagnosis.mistake == "shared_state"
    assert [f.mistake for f in diagnosis.findings] == ["shared_state", "not_in_place"]
    assert not diagnosis


def test_an_uncatalogued_mistake_gets_a_generic_message():
    class HalfStep:
        def __init__(self, lr=0.01):
            self.lr = lr

        def update(self, params, grads):
            for key in params:
                params[key] -= 0.5 * self.lr * grads[key]

    case = get_property("first_step").case(2)
    diagnosis = diagnose(observe(HalfStep, case.hyper_for("sgd"), case), "sgd", case)
    assert diagnosis.mistake == ""
    assert "0.5 times as far as expected" in diagnosis.message


# -- the generic slips, made from the reference classes, name the slips students write ----
class _BookMomentumWrongSign:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.v[key] = self.momentum * self.v[key] + self.lr * grads[key]
            params[key] += self.v[key]


class _BookNesterovWrongSign(_BookMomentumWrongSign):
    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] += (1 + self.momentum) * self.lr * grads[key]
            self.v[key] *= self.momentum
            self.v[key] += self.lr * grads[key]


class _BookAdaDeltaLrIgnored:
    def __init__(self, lr=1.0, rho=0.9, eps=1e-6):
        self.lr, self.rho, self.eps, self.h, self.u = lr, rho, eps, None, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
            self.u = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key] ** 2
            delta = np.sqrt(self.u[key] + self.eps) / np.sqrt(self.h[key] + self.eps) * grads[key]
            self.u[key] = self.rho * self.u[key] + (1 - self.rho) * delta**2
            params[key] -= delta


class _BookAdam:
    """The book's Adam: bias correction folded into lr_t, epsilon 1e-7."""

    fixed_lr = None

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr if self.fixed_lr is None else self.fixed_lr
        self.beta1, self.beta2, self.iter, self.m, self.v = beta1, beta2, 0, None, None

    def step(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params:
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            yield key, lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class _BookAdamLrIgnored(_BookAdam):
    fixed_lr = 0.001

    def update(self, params, grads):
        for key, step in self.step(params, grads):
            params[key] -= step


class _BookAdamNotInPlace(_BookAdam):
    def update(self, params, grads):
        for key, step in self.step(params, grads):
            # lr_t is a NumPy float64: a float32 parameter becomes a new float64 array.
            params[key] = params[key] - step


BOOK_SLIPS = [
    (_BookMomentumWrongSign, "momentum", "wrong_sign", VALUES),
    (_BookNesterovWrongSign, "nesterov", "wrong_sign", VALUES),
    (_BookAdaDeltaLrIgnored, "adadelta", "lr_ignored", VALUES),
    (_BookAdamLrIgnored, "adam", "lr_ignored", VALUES),
    (_BookAdamNotInPlace, "adam", "not_in_place", {"in_place", "float32"}),
]


@pytest.mark.parametrize(("cls", "optimizer", "mistake_id", "lost"), BOOK_SLIPS,
                         ids=[f"{o}-{m}" for _, o, m, _ in BOOK_SLIPS])
def test_slips_written_the_books_way_are_named_by_the_generated_mistakes(cls, optimizer,
                                                                          mistake_id, lost):
    assert get_mistake(optimizer, mistake_id).generic
    report = score_properties(cls, optimizer, SEEDS)
    assert set(report.failed) == lost, report.text()
    for result in report.results:
        if result.passed:
            continue
        if result.name == "float32":
            # A new array of another dtype: the dtype message says so, and why.
            assert "replaced by a new array instead of updated in place" in result.message
            continue
        assert result.mistake == mistake_id, result.message
        assert _explains(result.message, mistake_id,
                         get_mistake(optimizer, mistake_id).explanation), result.message


@pytest.mark.parametrize(("cls", "optimizer", "minus"), [
    (_BookMomentumWrongSign, "momentum", "v ← μ·v − lr·g, and θ ← θ + v adds it"),
    (_BookNesterovWrongSign, "nesterov", "v ← μ·v − lr·g, then θ ← θ + μ·v − lr·g"),
])
def test_a_momentum_that_climbs_is_told_where_the_minus_goes(cls, optimizer, minus) -> None:
    """A student audit: `v = μ·v + lr·g` under the lesson's `params[key] += v` read "the step
    has to be subtracted", which is not the lesson's form of Momentum."""
    report = score_properties(cls, optimizer, SEEDS)
    first = next(r for r in report.results if r.name == "first_step")
    assert minus in first.message, first.message
    assert ") (" not in first.message, first.message  # a feedback review: two asides in a row
    assert "has to be subtracted" not in first.message, first.message
    assert "has to be subtracted" in get_mistake("adagrad", "wrong_sign").explanation


class _AdamBiasCorrectionWithoutBrackets:
    """``m / 1 - β₁ᵗ``: the root of a negative number, NaN everywhere, like a counter at 0."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.t = None, None, 0

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(v) for k, v in params.items()}
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t += 1
        for k in params:
            self.m[k] = self.beta1 * self.m[k] + (1 - self.beta1) * grads[k]
            self.v[k] = self.beta2 * self.v[k] + (1 - self.beta2) * grads[k] ** 2
            m_hat = self.m[k] / 1 - self.beta1 ** self.t
            v_hat = self.v[k] / 1 - self.beta2 ** self.t
            params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def test_a_mistake_matched_by_nan_alone_is_one_cause_among_others():
    """A student audit: this Adam, its counter advanced first, was told "the step counter is
    used before it is advanced"; NaN agrees with NaN, so that is one possible cause."""
    with np.errstate(all="ignore"):
        report = score_properties(_AdamBiasCorrectionWithoutBrackets, "adam", SEEDS)
    first = next(r for r in report.results if r.name == "first_step")
    explanation = get_mistake("adam", "counter_starts_at_zero").explanation
    assert first.message == only_non_finite(explanation, nan_causes("adam")[0]), first.message
    assert "the square root of a negative number" in first.message


def _explains(message: str, mistake_id: str, explanation: str) -> bool:
    """Whether ``message`` is the mistake's explanation; a new array seen directly (its
    identity) is named with its key, ``params['W'] was replaced ...``, the explanation
    stands for every key, ``each params[key] was replaced ...``."""
    seen_directly = (mistake_id == "not_in_place" and message.startswith("params[")
                     and message.endswith(NOT_IN_PLACE.format(subject="")))
    # A forgotten state's causes, cut to the one the class's state shows (reset_state).
    one_cause = (mistake_id == "state_reset_each_call" and " Either " in explanation
                 and message.startswith(explanation.partition(" Either ")[0] + " ")
                 and "Either" not in message)
    return message == explanation or seen_directly or one_cause or message in (
        only_non_finite(explanation, nan_causes(name)[0]) for name in available())


def test_generic_slips_are_made_for_every_optimizer_and_hand_written_ones_are_not_retyped():
    for optimizer in available():
        ids = [m.id for m in CATALOGUE[optimizer]]
        generic = [i for i in ids if is_generic(i)]
        assert ids[-len(generic):] == generic, ids
        hard = [f"hard_coded_{h.name}" for h in optimizer_class(optimizer).hyperparameters
                if h.name != "lr" and h.sampling() is not None]
        skips = [] if optimizer in SKIPPING_HARMLESS else ["skips_zero_gradient"]
        assert generic == ["wrong_sign", "lr_ignored", *hard, "not_in_place", *skips], ids
        assert all(m.generic == is_generic(m.id) for m in CATALOGUE[optimizer])
        for mistake in CATALOGUE[optimizer]:
            if mistake.generic:
                assert issubclass(mistake.cls, optimizer_class(optimizer))


# -- a hyperparameter written as a number, the ways students write it ----------------------
class _RMSPropLiteral:
    """RMSProp with ρ written as a number; ε inside the root (an accepted form)."""

    rho_written = 0.99

    def __init__(self, lr=0.01, rho=0.99, eps=1e-8):
        self.lr, self.rho, self.eps, self.h = lr, rho, eps, None

    def update(self, params, grads):
        if self.h is None:
            self.h = {k: np.zeros_like(v) for k, v in params.items()}
        for k in params:
            g = grads[k]
            self.h[k] = self.rho_written * self.h[k] + (1 - self.rho_written) * g * g
            params[k] -= self.lr * g / np.sqrt(self.h[k] + self.eps)


class _RMSPropLiteralKeras(_RMSPropLiteral):
    rho_written = 0.9


class _MomentumLiteral:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        for k in params:
            self.v[k] = 0.9 * self.v[k] - self.lr * grads[k]
            params[k] += self.v[k]


class _BookAdamBeta1Literal(_BookAdam):
    """The book's Adam (ε 1e-7, bias correction in lr_t) with β₁ written as 0.9."""

    def update(self, params, grads):
        self.beta1, given = 0.9, self.beta1
        try:
            for key, step in self.step(params, grads):
                params[key] -= step
        finally:
            self.beta1 = given


LITERALS = [
    (_RMSPropLiteral, "rmsprop", "hard_coded_rho", "update() uses 0.99 where it should use "
                                                   "self.rho"),
    (_RMSPropLiteralKeras, "rmsprop", "hard_coded_rho", "update() uses 0.9 where it should use "
                                                        "self.rho"),
    (_MomentumLiteral, "momentum", "hard_coded_momentum", "update() uses 0.9 where it should "
                                                          "use self.momentum"),
    (_BookAdamBeta1Literal, "adam", "hard_coded_beta1", "update() uses 0.9 where it should use "
                                                        "self.beta1"),
]


@pytest.mark.parametrize(("cls", "optimizer", "mistake_id", "start"), LITERALS,
                         ids=[c.__name__ for c, *_ in LITERALS])
def test_a_hyperparameter_written_as_a_number_is_named_with_the_number(cls, optimizer,
                                                                       mistake_id, start):
    """Written in an accepted form (ε inside the root, the book's Adam): still named."""
    report = score_properties(cls, optimizer, SEEDS)
    assert set(report.failed) == EXPECTED_FAILURES[optimizer, mistake_id], report.text()
    for result in report.results:
        if not result.passed:
            assert result.mistake == mistake_id, result.message
            assert result.message.startswith(start), result.message
            assert get_mistake(optimizer, mistake_id).cls.__name__ not in result.message


_BOOK_MOMENTUM = '''class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]
'''


@pytest.mark.parametrize("mistake_id", [*GENERIC, "hard_coded_momentum",
                                        "state_reset_each_call"])
def test_a_planted_mistake_runs_on_its_own_and_loses_what_the_mutant_loses(mistake_id):
    """What the end-to-end grading tests put into a student's answer cell."""
    mistake = get_mistake("momentum", mistake_id)
    source = mistake.plant("Momentum", _BOOK_MOMENTUM)
    assert "descentlab" not in source, "a planted answer must not use the course's package"
    namespace: dict = {}
    exec(compile(source, "<answer>", "exec"), namespace)
    planted = namespace["Momentum"]
    report = score_properties(planted, "momentum", PUBLIC_SEEDS)
    assert set(report.failed) == EXPECTED_FAILURES["momentum", mistake_id], report.text()
    assert {r.mistake for r in report.results if not r.passed} == {mistake_id}


@pytest.mark.parametrize(("lesson", "optimizer"), [
    ("03_momentum", "momentum"), ("04_adagrad", "adagrad"), ("05_rmsprop", "rmsprop"),
    ("06_adam", "adam")])
def test_the_graded_intro_says_what_a_bug_costs_as_the_table_does(lesson: str,
                                                                  optimizer: str) -> None:
    """A student audit: "a bug costs only the points of the property it breaks" read as if
    one sign error could not cost two cells. The text now says which, as measured above."""
    import json
    from pathlib import Path

    notebook = Path(__file__).resolve().parents[2] / "solutions" / lesson / f"{lesson}.ipynb"
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    text = " ".join("".join(next(c for c in cells if c.get("id") == "graded-intro")["source"])
                    .split())
    assert ("A slip in the formula shows at every step, so it costs the first step's points "
            "and those of the state between calls;") in text, text
    assert "reset at each call, or shared between parameters, costs only its own points" \
        in text, text
    assert EXPECTED_FAILURES[optimizer, "wrong_sign"] == VALUES
    assert EXPECTED_FAILURES[optimizer, "lr_ignored"] == VALUES
    assert EXPECTED_FAILURES[optimizer, "state_reset_each_call"] == {"carries_state"}
    shared = EXPECTED_FAILURES.get((optimizer, "shared_state"), {"per_key_state"})
    assert shared == {"per_key_state"}


HARD_CODED_MISTAKES = [(optimizer, m.id) for optimizer in available()
                       for m in CATALOGUE[optimizer] if m.id.startswith("hard_coded_")]


@pytest.mark.parametrize(("optimizer", "mistake_id"), HARD_CODED_MISTAKES,
                         ids=[f"{o}-{m}" for o, m in HARD_CODED_MISTAKES])
def test_a_hyperparameter_written_as_a_number_shows_on_every_seed(optimizer, mistake_id):
    """Not on some seeds only: a graded cell's hidden seed passed β₂ = 0.99 while β₂ was
    drawn from [0.96, 0.98] (an audit), and 0.999 while it was drawn from [0.99, 0.998]."""
    for cls, explanation in get_mistake(optimizer, mistake_id).forms():
        missed = [seed for seed in range(3000, 3012)
                  if not score_properties(cls, optimizer, (seed,)).failed]
        assert missed == [], f"{explanation[:40]}... passes on seeds {missed}"
