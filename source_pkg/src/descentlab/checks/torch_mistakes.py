"""Lesson 08's catalogue of mistakes: ``torch.optim.Optimizer`` subclasses with one mistake each.

:class:`TorchAdam` and :class:`TorchAdamW` are correct solutions in the form the
lesson teaches (``self.state[p]`` with its own ``"step"``, ``torch.no_grad()``,
in-place ops). Each mutant differs from them by exactly one mistake, switched on
by a class attribute, so the difference is visible in one place. When a student's
class fails a property, :mod:`descentlab.checks.torch_optim` runs the mutants on
the same scenario; one that behaves exactly like the student's class names the
mistake (its :data:`EXPLANATIONS` entry is what the student reads).

The module imports torch: only lesson 08 and its checks import it.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["EXPLANATIONS", "MUTANTS", "TorchAdam", "TorchAdamW", "forms_of", "mutants_for"]


class TorchAdam(torch.optim.Optimizer):
    """Adam as a ``torch.optim.Optimizer``: the lesson's solution, with switchable mistakes."""

    # One switch per catalogued mistake; all off is the correct update.
    shared_counter = False  # one counter on the optimizer instead of state[p]["step"]
    replace_data = False  # p.data = ... instead of an in-place update
    rebind = False  # p = p - ...: the loop variable names a new tensor, p never changes
    t_offset = 0  # bias correction with t + t_offset
    lr_from_defaults = False  # self.defaults["lr"] instead of group["lr"]
    none_as_zero = False  # a parameter whose grad is None steps with a zero gradient
    bias_correction = True
    correction_power = True  # False: 1 - beta1 and 1 - beta2, as if t were 1 at every step
    correct_in_place = False  # m.div_(1 - beta1**t): the stored moments are corrected too
    keep_state = True  # False: m and v start from zero at every step()
    # False: m = beta1 * m + ... makes a new tensor; the state's keeps its zeros (v likewise)
    store_m = True
    store_v = True
    eps_in_denominator = True
    eps_inside_root = False  # sqrt(v_hat + eps): a form lesson 06 accepts (no mistake itself)
    square_grad = True  # False: v averages g itself instead of g * g
    v_with_beta1 = False  # v.mul_(beta1).addcmul_(g, g, value=1 - beta1): m's line copied
    decay_first = False  # AdamW's decay before `if p.grad is None: continue`
    v_starts_at_one = False  # state["exp_avg_sq"] = torch.ones_like(p)
    skip_zero = False  # `if p.grad is None or not p.grad.any(): continue`
    beta1_written: float | None = None  # beta1 = 0.9 written in step(), not group["betas"]'s
    beta2_written: float | None = None  # likewise beta2 = 0.999

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay})
        self.t = 0

    def _decay(self, p: torch.Tensor, lr: float, weight_decay: float) -> None:
        """Adam has no weight decay here; AdamW overrides this."""

    def _decay_after(self, p: torch.Tensor, lr: float, weight_decay: float) -> None:
        """Nothing: only the mistake of decaying after the step (AdamW's "after") does this."""

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        """One Adam step of every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self.t += 1
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            beta1 = beta1 if self.beta1_written is None else self.beta1_written
            beta2 = beta2 if self.beta2_written is None else self.beta2_written
            lr = self.defaults["lr"] if self.lr_from_defaults else group["lr"]
            for p in group["params"]:
                if self.decay_first:  # before the None check: every parameter shrinks
                    self._decay(p, lr, group["weight_decay"])
                if p.grad is None:
                    if not self.none_as_zero:
                        continue
                    grad = torch.zeros_like(p)
                elif self.skip_zero and not p.grad.any():
                    continue
                else:
                    grad = p.grad
                state = self.state[p]
                if not state or not self.keep_state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = (torch.ones_like if self.v_starts_at_one
                                           else torch.zeros_like)(p)
                state["step"] += 1
                t = (self.t if self.shared_counter else state["step"]) + self.t_offset
                m, v = state["exp_avg"], state["exp_avg_sq"]
                if not self.decay_first:
                    self._decay(p, lr, group["weight_decay"])
                m = m if self.store_m else m.clone()
                v = v if self.store_v else v.clone()
                m.mul_(beta1).add_(grad, alpha=1 - beta1)
                v_beta = beta1 if self.v_with_beta1 else beta2
                if self.square_grad:
                    v.mul_(v_beta).addcmul_(grad, grad, value=1 - v_beta)
                else:
                    v.mul_(v_beta).add_(grad, alpha=1 - v_beta)
                if not self.correction_power:
                    t = 1
                if self.correct_in_place:
                    m_hat, v_hat = m.div_(1 - beta1**t), v.div_(1 - beta2**t)
                elif self.bias_correction:
                    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
                else:
                    m_hat, v_hat = m, v
                if self.eps_inside_root:
                    denominator = (v_hat + group["eps"]).sqrt()
                elif self.eps_in_denominator:
                    denominator = v_hat.sqrt() + group["eps"]
                else:
                    denominator = v_hat.sqrt()
                if self.replace_data:
                    p.data = p.data - lr * m_hat / denominator
                elif self.rebind:
                    p = p - lr * m_hat / denominator  # the mistake: rebinds the name
                else:
                    p.sub_(lr * m_hat / denominator)
                self._decay_after(p, lr, group["weight_decay"])
        return loss


class TorchAdamW(TorchAdam):
    """AdamW: decoupled weight decay ``p <- p * (1 - lr * weight_decay)`` before the Adam step."""

    # Or "l2" (added to the gradient), "no_lr" (p * (1 - weight_decay)), "after" (the
    # decoupled decay applied after the Adam step) or "twice" (both the L2 and the decoupled).
    decay = "decoupled"

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _decay(self, p: torch.Tensor, lr: float, weight_decay: float) -> None:
        # "twice": the gradient's L2 term first, from p before it shrinks (as a student
        # writes g = p.grad + weight_decay * p at the top of the loop).
        if self.decay in ("l2", "twice") and p.grad is not None:
            p.grad.add_(p, alpha=weight_decay)  # torch.optim.Adam's weight_decay
        if self.decay in ("decoupled", "twice"):
            p.mul_(1 - lr * weight_decay)
        elif self.decay == "no_lr":
            p.mul_(1 - weight_decay)

    def _decay_after(self, p: torch.Tensor, lr: float, weight_decay: float) -> None:
        if self.decay == "after":
            p.mul_(1 - lr * weight_decay)


def _mutant(base: type, mistake: str, **switches: Any) -> type:
    return type(f"{base.__name__}_{mistake}", (base,), dict(switches))


#: What the student reads when their class behaves like a mutant.
EXPLANATIONS: dict[str, str] = {
    "shared_counter": (
        "your step counter is shared by all parameters (self.t or similar). torch.optim "
        "keeps one per parameter, state[p]['step'], advanced only when that parameter is "
        "updated: a parameter added later (add_param_group) or skipped while its grad is "
        "None starts its bias correction at t = 1."),
    "replace_data": (
        "`p.data = ...` swaps the parameter's storage for a new tensor instead of changing "
        "it: p itself sees the new values, but any view or tied copy of the old storage "
        "keeps the old ones, and autograd's checks are bypassed. Update in place (p.sub_, "
        "p.add_, p.addcdiv_, p.mul_) inside torch.no_grad()."),
    # After torch_optim.IDLE ("no parameter changed in any step"), not repeating it; true
    # of AdamW too, whose in-place decay still changes p.
    "rebind": (
        "the update may be assigned to the name p (`p = p - ...`) instead of changing the "
        "tensor: that only makes p point to a new tensor, and the parameter itself never "
        "gets the step. Change it in place: p.sub_(...) or p.addcdiv_(...)."),
    "t_plus_one": (
        "the bias correction uses the wrong t (one too many): advance state['step'] once, "
        "then use t = state['step'] in 1 - beta1**t and 1 - beta2**t (t = 1 on the first "
        "step)."),
    "t_zero": (
        "the bias correction uses t = 0 at the first step, so 1 - beta1**t is 0 and m_hat "
        "= m / 0: advance state['step'] before the update, then use t = state['step'] "
        "(t = 1 on the first step)."),
    "lr_from_defaults": (
        "one learning rate is used for every group (self.defaults['lr'], or the first "
        "group's read before the loop): read the hyperparameters of each group (group['lr'], "
        "group['betas'], group['eps']) inside `for group in self.param_groups`."),
    "none_as_zero": (
        # Its counter first: with no moments yet it does not move (a student audit read
        # "it still moves" under a parameter that stood still).
        "a parameter whose p.grad is None is updated as if its gradient were zero: its step "
        "counter advances, and once it has moments it moves and its m decays. Skip it with "
        "`if p.grad is None: continue`, as torch.optim does, and create no state for it."),
    "no_bias_correction": (
        "m and v are not bias-corrected: divide them by 1 - beta1**t and 1 - beta2**t."),
    # A student audit: `if p.grad is None or not p.grad.any(): continue` scored 9/9.
    "skip_zero": (
        "step() skips a parameter whose gradient is all zeros, but a zero gradient is still a "
        "step: torch.optim.Adam advances its state['step'] and decays its m and v (so it "
        "keeps moving on its momentum). Skip only a parameter whose p.grad is None."),
    # An audit: m / (1 - beta1) was told only the values of the 2nd step.
    "correction_without_power": (
        "the bias corrections act as if t were 1 at every step: divide by 1 - beta1**t and "
        "1 - beta2**t with t = state['step'], the parameter's own step count, advanced by 1 "
        "at each of its steps (1 - beta1 and 1 - beta2, or a step count that stays at 1, are "
        "right at the first step only)."),
    "correction_in_place": (
        "the bias correction changes the stored moments: m.div_(1 - beta1**t) divides the m "
        "kept in self.state[p] itself (v.div_ likewise), so the next step builds on corrected "
        "moments. Make new tensors for the corrected ones: m_hat = m / (1 - beta1**t), "
        "v_hat = v / (1 - beta2**t)."),
    "moments_not_stored": (
        "m and v are computed but never stored: `m = beta1 * m + (1 - beta1) * g` makes a new "
        "tensor, and state[p]['exp_avg'] (your m) keeps its zeros, so every step starts from "
        "zero moments. Update them in place, m.mul_(beta1).add_(g, alpha=1 - beta1) and "
        "v.mul_(beta2).addcmul_(g, g, value=1 - beta2), or store them back "
        "(state['exp_avg'] = m)."),
    # An honest-student sweep: m alone not stored was told only numbers.
    "m_not_stored": (
        "m is computed but never stored: `m = beta1 * m + (1 - beta1) * g` makes a new "
        "tensor, and state[p]['exp_avg'] (your m) keeps its zeros, so every step starts from "
        "m = 0 (v is kept). Update it in place, m.mul_(beta1).add_(g, alpha=1 - beta1), or "
        "store it back (state['exp_avg'] = m)."),
    "v_not_stored": (
        "v is computed but never stored: `v = beta2 * v + (1 - beta2) * g * g` makes a new "
        "tensor, and state[p]['exp_avg_sq'] (your v) keeps its zeros, so every step starts "
        "from v = 0 (m is kept). Update it in place, v.mul_(beta2).addcmul_(g, g, value=1 - "
        "beta2), or store it back (state['exp_avg_sq'] = v)."),
    "state_reset": (
        "m and v start from zero at every step(): create them once, when state[p] is empty, "
        "and keep them in self.state[p]."),
    "no_eps": (
        "you divide by sqrt(v_hat) without adding eps: where a gradient is zero that is 0/0 "
        "= NaN. Divide by (v_hat.sqrt() + eps)."),
    "grad_not_squared": (
        "v must average the squared gradient, v.mul_(beta2).addcmul_(g, g, value=1 - beta2) "
        "(v ← β₂v + (1 − β₂)·g·g), not g itself (add_(g, ...)): a negative gradient makes v "
        "negative, and the square root of a negative number is NaN."),
    "v_beta1": (
        "v is averaged with beta1, the rate of m: v must use beta2, "
        "v.mul_(beta2).addcmul_(g, g, value=1 - beta2) (v ← β₂v + (1 − β₂)·g·g), and the "
        "bias correction divides it by 1 - beta2**t."),
    # Lesson 06's adam_v_starts_nonzero, in torch's words.
    "v_starts_nonzero": (
        "v must start at zeros (torch.zeros_like(p)), as m does: yours starts at ones "
        "(torch.ones_like), and the bias correction then leaves beta2 / (1 - beta2) in v_hat "
        "(v_hat = beta2 / (1 - beta2) + g*g at the first step), so the steps are too small, "
        "most of all where g is small. With v = 0 the first step gives v_hat = g*g."),
    # The number may be written in step() or in __init__'s defaults: both read the same.
    "beta1_written": (
        "your steps use beta1 = 0.9 whatever betas the optimizer is built with (a number "
        "written in step(), or in __init__'s defaults?): the checks build it with other "
        "betas, as anyone tuning it would. Put the betas argument in the defaults and read "
        "beta1, beta2 = group['betas'] inside `for group in self.param_groups`."),
    "beta2_written": (
        "your steps use one beta2 (such as 0.999) whatever betas the optimizer is built with "
        "(a number written in step(), or in __init__'s defaults?): the checks build it with "
        "other betas, as anyone tuning it would. Put the betas argument in the defaults and "
        "read beta1, beta2 = group['betas'] inside `for group in self.param_groups`."),
    "decay_l2": (
        "the weight decay is added to the gradient (an L2 penalty, what torch.optim.Adam's "
        "weight_decay does): AdamW decouples it, p.mul_(1 - lr * weight_decay) before the "
        "Adam step."),
    # An honest-student sweep: both decays were told only numbers.
    "decay_twice": (
        "the weight decay is applied twice: added to the gradient (an L2 penalty, g + "
        "weight_decay * p) and as the decoupled decay, p.mul_(1 - lr * weight_decay). AdamW "
        "has only the decoupled one: the Adam step uses p.grad as it is."),
    "decay_no_lr": (
        "the weight decay is not multiplied by the learning rate: torch.optim.AdamW shrinks "
        "p by the factor (1 - lr * weight_decay)."),
    "decay_after_step": (
        "the weight decay comes after Adam's step: torch.optim.AdamW shrinks p first, "
        "p.mul_(1 - lr * weight_decay), then takes Adam's step from there; shrinking after "
        "the step also shrinks the step."),
    # Its counters are right: the grad None point's alone, not the per-parameter step's too
    # (an audit read both failures of one bug).
    "decay_without_grad": (
        "the weight decay comes before `if p.grad is None: continue`: torch.optim.AdamW "
        "leaves a parameter whose grad is None alone, its decay included. Move "
        "p.mul_(1 - lr * weight_decay) after that check."),
}

_ADAM = (
    ("shared_counter", {"shared_counter": True}),
    ("replace_data", {"replace_data": True}),
    ("rebind", {"rebind": True}),
    ("t_plus_one", {"t_offset": 1}),
    ("t_zero", {"t_offset": -1}),  # state["step"] += 1 after the update
    ("lr_from_defaults", {"lr_from_defaults": True}),
    ("none_as_zero", {"none_as_zero": True}),
    ("skip_zero", {"skip_zero": True}),
    ("no_bias_correction", {"bias_correction": False}),
    ("correction_without_power", {"correction_power": False}),
    ("correction_in_place", {"correct_in_place": True}),
    ("state_reset", {"keep_state": False}),
    ("moments_not_stored", {"store_m": False, "store_v": False}),
    ("m_not_stored", {"store_m": False}),
    ("v_not_stored", {"store_v": False}),
    ("no_eps", {"eps_in_denominator": False}),
    ("grad_not_squared", {"square_grad": False}),
    ("v_beta1", {"v_with_beta1": True}),
    ("v_starts_nonzero", {"v_starts_at_one": True}),
    ("beta1_written", {"beta1_written": 0.9}),
    ("beta2_written", {"beta2_written": 0.999}),
)

#: (optimizer, mistake id, mutant class), in the order the diagnosis tries them.
MUTANTS: tuple[tuple[str, str, type], ...] = (
    *(("adam", mistake, _mutant(TorchAdam, mistake, **switches))
      for mistake, switches in _ADAM),
    *(("adamw", mistake, _mutant(TorchAdamW, mistake, **switches))
      for mistake, switches in _ADAM),
    ("adamw", "decay_l2", _mutant(TorchAdamW, "decay_l2", decay="l2")),
    ("adamw", "decay_twice", _mutant(TorchAdamW, "decay_twice", decay="twice")),
    ("adamw", "decay_no_lr", _mutant(TorchAdamW, "decay_no_lr", decay="no_lr")),
    ("adamw", "decay_after_step", _mutant(TorchAdamW, "decay_after_step", decay="after")),
    ("adamw", "decay_without_grad", _mutant(TorchAdamW, "decay_without_grad",
                                            decay_first=True)),
)


def mutants_for(optimizer: str) -> list[tuple[str, type]]:
    """``(mistake id, mutant class)`` of ``"adam"`` or ``"adamw"``, in diagnosis order."""
    return [(mistake, cls) for name, mistake, cls in MUTANTS if name == optimizer]


def forms_of(mistake: str, mutant: type) -> tuple[type, ...]:
    """The mutant, the same mistake made with epsilon inside the root or with none, and
    its other forms (:data:`_OTHER_FORMS`).

    Epsilon inside the root passes on its own, but is more than rounding away from the
    usual form once a mistake such as a missing bias correction leaves v small; a missing
    eps is the zero-gradient point's to charge. A two-bug audit's steps went unnamed.
    """
    if mistake == "no_eps":
        return (mutant,)
    return (mutant, *(type(mutant.__name__, (mutant,), {**switch, "__doc__": mutant.__doc__})
                      for switch in ({"eps_inside_root": True}, {"eps_in_denominator": False},
                                     *_OTHER_FORMS.get(mistake, ()))))


#: Other ways of writing a mistake: β₂ written as 0.99 (0.999 cut short) or as 0.9 (v's
#: line copied from m's), β₁ as 0.999, both betas written (``__init__``'s defaults given
#: ``"betas": (0.9, 0.999)`` instead of its argument).
_OTHER_FORMS: dict[str, tuple[dict[str, Any], ...]] = {
    "beta1_written": ({"beta1_written": 0.999},),
    "beta2_written": ({"beta2_written": 0.99}, {"beta2_written": 0.9},
                      {"beta1_written": 0.9, "beta2_written": 0.999}),
}

