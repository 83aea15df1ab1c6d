"""What each catalogued mistake means, in words a student reads."""

from __future__ import annotations

from ...optimizers import OPTIMIZERS
from ..messages import NOT_IN_PLACE

__all__ = ["EXPLANATIONS", "HARD_CODED", "explain", "explain_hard_coded", "state_words"]


def state_words(optimizer: str | None) -> tuple[str, str]:
    """How the explanations name the state of ``optimizer``: words, first attribute.

    Read from the optimizer's class (:meth:`~descentlab.optimizers.Optimizer.state_in_words`),
    e.g. ``("moments (self.m and self.v)", "self.m")`` for Adam; for SGD, which keeps
    none, or an unknown optimizer: ``("state", "self.state")``.
    """
    cls = OPTIMIZERS.get(optimizer) if isinstance(optimizer, str) else None
    if cls is None:
        return "state", "self.state"
    return cls.state_in_words()


#: Mistake id -> explanation; ``{state}`` and ``{attr}`` are the optimizer's state words
#: and the attribute holding it, ``{counter}`` its step counter, ``{denominator}`` its
#: denominator with epsilon.
EXPLANATIONS = {
    # The explanation stands for every key of the hidden case, not one named "W".
    "not_in_place": NOT_IN_PLACE.format(subject="each params[key]"),
    # A student audit: `if not grads[key].any(): continue` scored full marks.
    "skips_zero_gradient": (
        "update() skips a parameter whose gradient is all zeros, but a zero gradient is still "
        "a step: your {state} must be updated with g = 0 as with any other gradient (decaying "
        "towards 0); torch.optim steps such a parameter too. Drop the test that skips it."
    ),
    # Creating the state anew in every call, a rule that drops the old value (h = g * g
    # instead of h += g * g) and a new value left in a local variable (v = self.v[key];
    # v = mu * v - lr * g) compute the same steps: the text names all three.
    "state_reset_each_call": (
        "update() forgets your {state} from one call to the next: each step is the one a "
        "fresh optimizer would take. Either the state is created anew in every call (create "
        "it once, the first time update() runs: if {attr} is None: ...), or its rule leaves "
        "out the previous value ({attr}[key] = ... from the gradient alone, where it must "
        "build on the old {attr}[key]), or the new value is computed into a local variable "
        "and never stored back ({attr}[key] = ... keeps it for the next call), or a "
        "misspelt name stores it in another attribute than the {attr} that update() reads."
    ),
    "shared_state": (
        "all parameters share the same {state} instead of one each: keep a dict with an array "
        "of its own for each parameter ({attr}[key] = np.zeros_like(val), a new one per key; "
        "dict.fromkeys(params, zeros) or {{k: zeros for k in params}} puts one array under "
        "every key). With parameters of different shapes this crashes; with equal shapes each "
        "parameter is pushed by the others' gradients."
    ),
    "counter_per_key": (
        "the step counter advanced once per parameter, not once per update call: increment it "
        "({counter} += 1) once at the start of update(), outside the loop over the keys."
    ),
    "counter_starts_at_zero": (
        "the step counter is used before it is advanced: on the first call t must be 1, so "
        "do {counter} += 1 before computing the bias correction. With t = 0, 1 − β₁ᵗ = 0 and "
        "every step is a division by 0 (NaN), whatever the gradient, with or without "
        "epsilon."
    ),
    "counter_starts_at_one": (
        "the step counter starts at 1 and is advanced before it is used, so the first step "
        "already uses t = 2 and the bias correction is off (1 − β₁² instead of 1 − β₁): "
        "start it at 0 in __init__ and advance it ({counter} += 1) at the start of update()."
    ),
    # An audit's `self.t += 1` inside the `if` that creates m and v: told "the wrong rule";
    # an honest-code sweep's `t = self.t + 1`, never stored back, was told of neither cause.
    "counter_advanced_once": (
        "your bias corrections use t = 1 at every call: the first step is right, the later "
        "ones are not. The step counter must go up by 1 on every update() call: is "
        "{counter} += 1 inside the `if` that creates the moments, or is t computed into a "
        "local variable and never stored back (t = {counter} + 1 without {counter} = t)? "
        "Or the corrections divide by 1 − β₁ and 1 − β₂, where they must divide by 1 − β₁ᵗ "
        "and 1 − β₂ᵗ."
    ),
    # An audit's m / (1 − β₁) was told "the wrong rule"; v / (1 − β₁ᵗ), "a factor is missing".
    "bias_correction_without_power": (
        "a bias correction divides by 1 − β instead of 1 − βᵗ: m̂ = m/(1 − β₁ᵗ) and "
        "v̂ = v/(1 − β₂ᵗ) raise β to the power t = {counter}, so the correction fades as t "
        "grows (in the book's step size, lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)). The first step (t = 1) is "
        "right, the later ones are not."
    ),
    "bias_correction_wrong_beta": (
        "a bias correction uses the other β: m, the average with β₁, is corrected by "
        "m̂ = m/(1 − β₁ᵗ), and v, the average with β₂, by v̂ = v/(1 − β₂ᵗ) (in the book's "
        "step size, lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ))."
    ),
    "average_wrong_beta": (
        "a moving average uses the other β: m averages the gradient with β₁, "
        "m = β₁·m + (1 − β₁)·g, and v its square with β₂, v = β₂·v + (1 − β₂)·g²."
    ),
    "no_bias_correction": (
        "the bias correction is missing: Adam divides m by (1 − β₁ᵗ) and v by (1 − β₂ᵗ) (or, "
        "as the book does, uses the step size lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)); without it the first "
        "steps have the wrong size."
    ),
    "wrong_sign": (
        "your update climbs the loss: the parameters must move against the gradient{against} "
        "(check the sign of every term of the step)."
    ),
    "lr_ignored": (
        "the learning rate given to __init__ is not used: store it (self.lr = lr) and use "
        "self.lr in update() to scale each step, where your code has a fixed number or none."
    ),
    "ema_momentum": (
        "you wrote the velocity as a moving average, v ← μv + (1 − μ)·g: that is a different "
        "algorithm (it shrinks the step by (1 − μ)). Momentum keeps v ← μv − lr·g and then "
        "θ ← θ + v."
    ),
    "momentum_old_velocity": (
        "you step with the velocity of the previous call: v starts at 0, so your 1st step is 0 "
        "and every later step lags one call behind. Update v first, v ← μv − lr·g, then "
        "θ ← θ + v."
    ),
    "momentum_not_decayed": (
        "μ is missing from the velocity's update: v ← μv − lr·g multiplies the old velocity "
        "by μ = self.momentum before adding −lr·g. Without it (μ = 1) the velocity only "
        "piles up every gradient ever seen and never forgets."
    ),
    "nesterov_as_momentum": (
        "this is plain Momentum, not Nesterov: Nesterov looks ahead — after "
        "v ← μ·v − lr·g it steps by θ ← θ + μ·v − lr·g with the new v (the look-ahead along "
        "v, then downhill), not by θ ← θ + v."
    ),
    "nesterov_gradient_term_added": (
        "the gradient term of the step has the wrong sign: with the new v, Nesterov steps by "
        "θ ← θ + μ·v − lr·g (the look-ahead along v, then downhill); yours adds lr·g."
    ),
    "nesterov_ema": (
        "you wrote the velocity as a moving average, v ← μv + (1 − μ)·g: that is a different "
        "algorithm (it shrinks the step by (1 − μ)). Nesterov keeps v ← μv − lr·g and steps "
        "by θ ← θ + μ·v − lr·g (with the new v)."
    ),
    "nesterov_look_ahead_sign": (
        "the look-ahead term has the wrong sign: with the new v, Nesterov steps by "
        "θ ← θ + μ·v − lr·g; yours subtracts μ·v (in PyTorch's form, b ← μb + g and "
        "θ ← θ − lr·(g + μb), not g − μb)."
    ),
    "nesterov_v_first": (
        "the velocity is updated before the step: your step θ ← θ + μ²·v − (1 + μ)·lr·g uses "
        "the new v. That is the order of the book's repository code before its 2021 fix, "
        "a bug (it moves by μ³·v_old − (1 + μ + μ²)·lr·g). Take the step with the previous v "
        "and update v ← μv − lr·g afterwards, or update v first and step by μ·v − lr·g."
    ),
    "no_epsilon": (
        "there is no epsilon in the denominator: where a gradient is all zeros the step is "
        "0/0 = NaN. Add the small constant your __init__ stores inside the division: "
        "... / ({denominator}) (not after the division: there it comes too late)."
    ),
    "first_key_only": (
        "only the first parameter is updated: the other keys of params never change. Is there "
        "a `return` (or `break`) inside the loop over the keys? Update every key on every call."
    ),
    "adagrad_abs_grad": (
        "h must add the squared gradient, h ← h + g·g (g * g or g ** 2), not its absolute value "
        "|g|: AdaGrad divides by the root of the sum of squares."
    ),
    "adagrad_grad_not_squared": (
        "h must add up the squared gradient, h ← h + g·g (g * g or g ** 2), not g itself: a "
        "negative gradient makes h negative, and the square root of a negative number is NaN."
    ),
    # Student audits: told only "the formula of a single step is off".
    "rmsprop_abs_grad": (
        "h must average the squared gradient, h ← ρ·h + (1 − ρ)·g·g (g * g or g ** 2), not its "
        "absolute value |g|: RMSProp divides by the root of the mean square."
    ),
    "adam_v_abs_grad": (
        "v must average the squared gradient, v ← β₂·v + (1 − β₂)·g·g (g * g or g ** 2), not "
        "its absolute value |g|: Adam divides by the root of the mean square, √v̂."
    ),
    # A student audit: told "a factor is missing or extra (the learning rate? ...)".
    "adam_v_from_m": (
        "v must average the squared gradient, v ← β₂·v + (1 − β₂)·g·g, not the square of m "
        "(m * m or m ** 2): v is the average of the squares, not the square of the average."
    ),
    "bias_correction_precedence": (
        "m̂ = m/(1 − β₁ᵗ) needs its brackets: m / 1 - beta1 ** t divides m by 1 and then "
        "subtracts β₁ᵗ (Python divides before it subtracts), so even a zero gradient moves the "
        "parameter. Write m / (1 - beta1 ** t)."
    ),
    # A student audit: v = g.copy() was told it moved "the wrong way (uphill)".
    "momentum_v_starts_nonzero": (
        "the velocity must start at 0 (np.zeros_like(params[key])): yours starts at another "
        "value (the first gradient, or ones), so μ times that start is added to the first "
        "step and, decaying, to every later one."
    ),
    "rmsprop_grad_not_squared": (
        "h must average the squared gradient, h ← ρ·h + (1 − ρ)·g·g (g * g or g ** 2), not g "
        "itself: a negative gradient makes h negative, and the square root of a negative number "
        "is NaN."
    ),
    "adam_grad_not_squared": (
        "v must average the squared gradient, v ← β₂·v + (1 − β₂)·g·g (g * g or g ** 2), not g "
        "itself (that is m's recurrence): a negative gradient makes v negative, and the square "
        "root of a negative number is NaN."
    ),
    # A student audit: told only "the formula of a single step is off".
    "adam_m_squared": (
        "m must average the gradient itself, m ← β₁·m + (1 − β₁)·g, not its square (g² is "
        "v's): with g² in m, every step goes the same way, uphill wherever g < 0."
    ),
    # m and v follow the right rules: only the denominator is not this step's v̂, so the
    # text must not send the student to the recurrences of m and v.
    "adam_amsgrad": (
        "the denominator keeps a running maximum of v̂ (np.maximum(v_hat_max, v_hat), as "
        "AMSGrad does): plain Adam divides by √v̂ + ε with the v̂ of this very step, which "
        "shrinks again when the gradients get smaller. Your m and v can stay as they are: "
        "drop the maximum and divide by {denominator}."
    ),
    # A review's Adam: told "one statistic for the whole array" while β₂ was drawn near 0.999.
    "adam_v_starts_nonzero": (
        "v must start at 0 (np.zeros_like(params[key])), as m does: yours starts at 1 "
        "(np.ones_like), and the bias correction then leaves β₂/(1 − β₂) in v̂ (v̂ = β₂/(1 − β₂) "
        "+ g² on the first call), so the steps are too small, most of all where g is small. "
        "With v = 0 the first call gives v̂ = g²."
    ),
    # An audit's Adam: `self.m[key] /= 1 - beta1**t`, told "updated by the wrong rule".
    "corrected_moments_stored": (
        "the bias-corrected m̂ = m/(1 − β₁ᵗ) (or v̂ = v/(1 − β₂ᵗ)) is written back into the "
        "state, so the next call averages from a corrected value and corrects it again: the "
        "first step (t = 1) is right, the later ones are not. Keep m and v the plain moving "
        "averages and compute m̂ and v̂ into new variables, for the step only."
    ),
    "rmsprop_rho_swapped": (
        "ρ and 1 − ρ are swapped: RMSProp keeps most of the old average, h ← ρ·h + (1 − ρ)·g·g "
        "(ρ is close to 1), not (1 − ρ)·h + ρ·g·g, which forgets h almost at once."
    ),
    "adagrad_h_after_step": (
        "h is updated after the step that uses it: h must be updated before it is used. Your "
        "1st step divides by √h + ε with h still 0, so it is lr·g/ε, an enormous jump, and "
        "every later step uses the h of the previous call. First h ← h + g·g, then "
        "θ ← θ − lr·g/(√h + ε) with the new h."
    ),
    "rmsprop_h_after_step": (
        "h is updated after the step that uses it: h must be updated before it is used. Your "
        "1st step divides by √h + ε with h still 0, so it is lr·g/ε, an enormous jump, and "
        "every later step uses the h of the previous call. First h ← ρ·h + (1 − ρ)·g·g, then "
        "θ ← θ − lr·g/(√h + ε) with the new h."
    ),
    # An audit: h starting at 0.1 (Keras's Adagrad) was told "the formula of a single step
    # is off"; h starting at g², "check the (1 − ρ) factor", which was right.
    "adagrad_h_starts_nonzero": (
        "h must start at 0 (np.zeros_like(params[key])): yours starts from another value "
        "(np.ones_like gives 1; Keras's and TensorFlow's Adagrad start at their "
        "initial_accumulator_value, 0.1). The lesson's AdaGrad, like the book's and "
        "torch.optim's, starts from 0, so that the first step divides by √(g·g) + ε."
    ),
    "adagrad_decayed": (
        "h is a decaying average, h ← ρ·h + (1 − ρ)·g·g, which is RMSProp's: AdaGrad's h is "
        "the sum of every squared gradient so far, h ← h + g·g, which only grows (so each "
        "entry's step only shrinks)."
    ),
    "rmsprop_h_starts_nonzero": (
        "h must start at 0 (np.zeros_like(params[key])) before the first average: yours starts "
        "from another value (the first gradient squared, or 1 as TensorFlow 1's "
        "RMSPropOptimizer does). With h = 0 the first call gives h = (1 − ρ)·g²; your (1 − ρ) "
        "factor can stay as it is."
    ),
    "rmsprop_not_decayed": (
        "the old h is not decayed: RMSProp's average is h ← ρ·h + (1 − ρ)·g², so multiply h by "
        "ρ before adding (1 − ρ)·g². Without the decay h only grows and the steps shrink."
    ),
    "adagrad_no_sqrt": (
        "the square root is missing: AdaGrad divides the gradient by √h + ε, not by h."
    ),
    "rmsprop_no_sqrt": (
        "the square root is missing: RMSProp divides the gradient by √h + ε, not by h — √h "
        "is the root mean square of the recent gradients that gives RMSProp its name."
    ),
    "rmsprop_as_adagrad": (
        "h is never decayed: RMSProp keeps a moving average, h ← ρ·h + (1 − ρ)·g²; adding g² "
        "without the decay is AdaGrad."
    ),
    "rmsprop_missing_one_minus_rho": (
        "the factor (1 − ρ) is missing: RMSProp's average is h ← ρ·h + (1 − ρ)·g², "
        "not ρ·h + g² (nor h + g², which is AdaGrad)."
    ),
    "adadelta_no_epsilon": (
        "epsilon is missing inside the square root of u (perhaps of h too): AdaDelta's step "
        "is √(u + ε)/√(h + ε)·g. Without ε in the numerator the first step is 0 (u starts at "
        "0), so nothing ever moves; without it in the denominator, a zero gradient also gives "
        "0/0 = NaN."
    ),
    "adadelta_eps_outside_roots": (
        "ε goes inside both square roots: AdaDelta's step is √(u + ε)/√(h + ε)·g, not "
        "(√u + ε)/(√h + ε)·g. While u is still 0, the first steps get their size from √ε "
        "(0.001 for the default ε = 10⁻⁶); with ε outside the root they are √ε times as long, "
        "a thousand times too short."
    ),
    # Updating h only after Δ used it computes the very same numbers (u and h stay equal,
    # Δ = g on every call: an audit's student was told only of u): the text names both.
    "adadelta_u_from_grad": (
        "your steps are the plain gradient, Δ = g on every call: u and h hold the same numbers. "
        "Either u averages the squared gradients, where it must average the squared steps, "
        "u ← ρ·u + (1 − ρ)·Δ² (compute Δ = √(u + ε)/√(h + ε)·g first, then update u with "
        "Δ²); or h is updated only after Δ used it, where it must take this call's g² first."
    ),
    "adadelta_u_before_step": (
        "the step uses u after it was updated with this very step: compute "
        "Δ = √(u + ε)/√(h + ε)·g with the u of the earlier calls first, take the step, and "
        "only then update u ← ρ·u + (1 − ρ)·Δ²."
    ),
    # An audit's was told "the formula of a single step is off".
    "adadelta_roots_swapped": (
        "the ratio of the roots is upside down: AdaDelta's step is Δ = √(u + ε)/√(h + ε)·g, "
        "the root of the past squared steps u over the root of the squared gradients h (so "
        "that Δ has the units of the parameters), not √(h + ε)/√(u + ε)·g."
    ),
    "adamw_decay_in_grad": (
        "the weight decay was added to the gradient (an L2 penalty g + λθ, which then goes "
        "through m and v): AdamW decouples it — shrink the weights directly, "
        "θ ← θ − lr·λ·θ, and feed the plain gradient to m and v."
    ),
    # On AdamW's first step an L2 penalty computes the same numbers as no decay at all
    # (Adam's first step is lr·sign(g)): the text fits both, should a check see one call.
    "adamw_no_decay": (
        "your step shows no weight decay: AdamW shrinks every weight, θ ← θ·(1 − lr·λ) "
        "with λ = self.weight_decay, before Adam's step, on every call. Either that shrink "
        "is missing, or the decay was put into the gradient (an L2 penalty g + λθ): Adam's "
        "division by √v̂ cancels it on the first step, and later it goes through m and v. "
        "Shrink the weights directly and feed the plain gradient to m and v."
    ),
    "adamw_no_adam_step": (
        "your step shows the weight decay only: after shrinking every weight, θ ← θ·(1 − lr·λ), "
        "AdamW takes Adam's step too, on every call (super().update(params, grads) after the "
        "decay, or Adam's lines)."
    ),
    "adamw_decay_after_step": (
        "the weight decay comes after Adam's step: AdamW (as torch.optim.AdamW) shrinks θ "
        "first, θ ← θ·(1 − lr·λ), then takes Adam's step from there; shrinking after the "
        "step also shrinks the step."
    ),
    "adamw_decay_without_lr": (
        "the weight decay ignores the learning rate: AdamW shrinks θ ← θ·(1 − lr·λ), "
        "not θ·(1 − λ)."
    ),
    # A student audit: both were told "the formula of a single step is off".
    "adamw_decay_grows": (
        "the weight decay grows the weights, θ ← θ·(1 + lr·λ): AdamW shrinks them, "
        "θ ← θ·(1 − lr·λ), i.e. θ −= lr·λ·θ."
    ),
    "adamw_decay_with_step_size": (
        "the weight decay uses Adam's bias-corrected step size lr_t = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ): "
        "AdamW shrinks θ ← θ·(1 − lr·λ) with the plain learning rate lr at every step; lr_t "
        "belongs to Adam's step only."
    ),
}


#: A hyperparameter written as a number (``hard_coded_<name>``): ``{literal}`` the number,
#: ``{name}`` the hyperparameter, ``{cls}`` the optimizer's class.
HARD_CODED = (
    "update() uses {literal} where it should use self.{name}: the checks create "
    "{cls}({name}=...) with other values than {literal}, as anyone tuning it would, and "
    "the steps must follow the value __init__ stored. Write self.{name} instead of the "
    "number (and keep the argument in __init__: self.{name} = {name})."
)


def explain_hard_coded(optimizer: str, name: str, literal: float) -> str:
    """The explanation of hyperparameter ``name`` of ``optimizer`` written as ``literal``."""
    cls = OPTIMIZERS[optimizer]
    return HARD_CODED.format(literal=f"{literal:g}", name=name, cls=cls.__name__)


#: How a step goes against the gradient, where "the step is subtracted" is not the form: the
#: lesson's Momentum adds its velocity (a student audit's `v = μv + lr·g` read "the step
#: has to be subtracted" under `params[key] += v`).
_AGAINST = {
    "momentum": ": in the lesson's form the gradient term enters the velocity with a minus, "
                "v ← μ·v − lr·g, and θ ← θ + v adds it",
    "nesterov": ": in the lesson's form both gradient terms have a minus, v ← μ·v − lr·g, "
                "then θ ← θ + μ·v − lr·g",
}


def explain(mistake_id: str, optimizer: str) -> str:
    """The explanation of ``mistake_id`` worded for ``optimizer``."""
    words, attr = state_words(optimizer)
    cls = OPTIMIZERS.get(optimizer)
    return EXPLANATIONS[mistake_id].format(
        state=words, attr=attr, counter=(cls and cls.step_counter) or "self.t",
        denominator=(cls and cls.denominator) or "np.sqrt(...) + self.eps",
        against=_AGAINST.get(optimizer, ", so the step has to be subtracted"))
