"""Lesson 08's checks: a student's ``torch.optim.Optimizer`` subclass against ``torch.optim``.

In a graded test cell::

    from descentlab.checks.torch_optim import assert_torch_property
    assert_torch_property(Adam, "adam", "first_step", seed=PUBLIC_SEEDS[0])

and as the self-check, ``check_torch(Adam)``. For one property and one seed:

1. :func:`scenario` draws a scenario from the seed -- pure data: initial values,
   param groups and their hyperparameters, a gradient (or ``None``) per parameter
   per step, a dtype;
2. :func:`~.torch_runner.run_scenario` runs the student's class on it and
   returns what happened, as data (values after each step, whether each tensor
   and its storage stayed the same, dtypes, what ``state`` holds, an exception).
   It is the only place the student's code runs; the grader runs it in the
   jailed kernel (see "The runner hook" below);
3. the property is judged on its own aspect only: the values against
   ``torch.optim.Adam`` / ``AdamW`` run by the same runner on the same scenario
   (``first_step``, ``carries_state``), the student's own runs for the rest
   (``per_param_step`` compares a parameter that joins later with the same
   parameter alone; ``param_groups`` compares each group with the same group alone,
   its settings as the optimizer's defaults, and with a smaller lr; ``in_place``,
   ``float32``, ``zero_grad``, ``grad_none`` look at one run) -- so a mistake costs
   the points of what it breaks and no more (a wrong update formula costs the
   values, not the param groups);
4. on a failure the catalogue of mistaken classes (:mod:`.torch_mistakes`) runs
   on the same scenario; one that behaves exactly like the student's class names
   the mistake.

That is :func:`run_torch_property`, the per-property step of the one exercise
interface (:mod:`.exercise`): it answers with an :class:`~.exercise.Outcome`, and
the loop over properties and seeds (:func:`grade_torch`), the printed self-check
(:func:`check_torch`) and the graded cells' ``AssertionError``
(:func:`assert_torch_property`) are the ones every exercise shares.

=============== ============================================= ===============================
property        scenario                                      what must hold
=============== ============================================= ===============================
first_step      2 params (3×4, 5), 1 step                     values = torch.optim's
carries_state   2 params (2×3, 4), 20 steps; the 1st one's    values after each step, and
                grad all 0 at the 8th                         self.state[p] holds something
                                                              for each parameter stepped
per_param_step  params A and C in one group, C's grad None   each as when alone from its
                at step 1 (given, for a step() that raises    first gradient: B's and C's
                on it); B added with add_param_group          bias correction starts at
                before step 3; 4 steps                        t = 1; some parameter moves
param_groups    two groups, the second with 5× the lr and     each group as when alone, its
                other betas and eps; 3 steps                  settings the defaults; the
                                                              5× group not as with 1× lr;
                                                              some parameter moves
in_place        1 param (3×4), 3 steps                        same tensor, same storage,
                                                              values change (in some step)
float32         1 param (2×3), float32, 3 steps               stays float32, values change
                                                              (in some step)
zero_grad       3 params, 2 steps; the 1st one's first grad   no NaN/inf where the grad was 0
                all 0, the 3rd one's 0 at every third entry   from that step on (NaN where
                                                              it was not 0 is the values' to
                                                              charge); no movement of the 1st
                                                              on its zero grad (if torch's
                                                              does not move); some parameter
                                                              moves
grad_none       3 params: B's grad always None, C's None      B untouched, no state for B;
                at step 2; 3 steps                            C does not move at step 2;
                                                              some parameter moves
=============== ============================================= ===============================

The runner hook
---------------
Everything here but the student's class is trusted data and code. Where the
student's class must run somewhere else (the grader's jailed kernel), the object
passed as ``cls`` may define a callable attribute ``__descentlab_run_scenario__``
taking the scenario and returning the observation: the checks then call it
instead of running ``cls`` here. The reference (``torch.optim``) and the
catalogued mistakes always run in this process.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TextIO

import numpy as np
import torch

from ..errors import WHOLE_TENSOR_AS_NUMBER, is_whole_tensor_as_number
from ..optimizers import nan_causes
from .cases import GRAD_MAGNITUDE, draw_hyperparameters
from .compare import redrawn_gradients, step_ratio, steps_alike
from .exercise import Outcome, assert_outcome, run_checks, self_check
from .grading import PUBLIC_SEEDS
from .judges import nan_anyway, nan_from_zero_gradient, without_zero_gradients
from .messages import (
    HANG_QUESTION,
    NOT_WRITTEN,
    describe_object,
    factor_hint,
    fmt,
    fmt_pair,
    skipped_after_hang,
)
from .report import Report
from .torch_mistakes import EXPLANATIONS, forms_of, mutants_for
from .torch_runner import run_scenario

__all__ = [
    "RUNNER_HOOK",
    "TORCH_PROPERTIES",
    "TorchProperty",
    "assert_torch_property",
    "check_torch",
    "diagnose_mistake",
    "grade_torch",
    "reference_class",
    "run_torch_property",
    "scenario",
]

#: Attribute of a class proxy that runs a scenario elsewhere (see the module docstring).
RUNNER_HOOK = "__descentlab_run_scenario__"

#: Of the largest step, per step taken: what two correct forms of Adam may differ by (a
#: step 0.1 % too long is a mistake; eps inside the root differs by about 1e-6).
STEP_RTOL = 1e-4

#: Seconds one call of the student's code (constructor, step) may take.
TIME_LIMIT = 2.0

# Code that hung once hangs again: the student should not wait for every property.
_NOT_RUN_AFTER_HANG = skipped_after_hang("a call of your class")

_REFERENCES = {"adam": "Adam", "adamw": "AdamW"}


def reference_class(optimizer: str) -> type:
    """``torch.optim.Adam`` for ``"adam"``, ``torch.optim.AdamW`` for ``"adamw"``."""
    name = optimizer.lower()
    if name not in _REFERENCES:
        raise ValueError(f"lesson 08 checks 'adam' or 'adamw', not {optimizer!r}")
    return getattr(torch.optim, _REFERENCES[name])


# -- scenarios ------------------------------------------------------------------------------------
_PROPERTY_INDEX = {"first_step": 1, "carries_state": 2, "per_param_step": 3, "param_groups": 4,
                   "in_place": 5, "float32": 6, "zero_grad": 7, "grad_none": 8}


def _hyper(rng: np.random.Generator, optimizer: str) -> dict[str, Any]:
    """Constructor hyperparameters: varied, so that hard-coded defaults show.

    The betas come from the NumPy checks' ranges (:func:`.cases.draw_hyperparameters`:
    β₂ well below 0.999 and 0.05 above β₁, β₁ away from 0.9), rounded to the two
    decimals a message prints, so that the numbers a student reads are the ones used.
    """
    lr = float(rng.choice([0.01, 0.02, 0.05]))
    drawn = draw_hyperparameters(rng)
    hyper: dict[str, Any] = {
        "lr": lr,
        "betas": [round(drawn["beta1"], 2), round(drawn["beta2"], 2)],
        "eps": 1e-8,
    }
    if optimizer == "adamw":
        hyper["weight_decay"] = float(rng.choice([0.05, 0.1, 0.2]))
    return hyper


def scenario(prop: str, seed: int, optimizer: str = "adam") -> dict[str, Any]:
    """The scenario of ``prop`` drawn from ``seed`` (pure data, see :mod:`.torch_runner`).

    Parameters
    ----------
    prop : str
        A property name of :data:`TORCH_PROPERTIES`.
    seed : int
        The seed; the public self-check uses :data:`~.grading.PUBLIC_SEEDS`.
    optimizer : str
        ``"adam"`` or ``"adamw"`` (AdamW's scenarios carry a weight decay).

    Returns
    -------
    dict
    """
    if prop not in _PROPERTY_INDEX:
        raise ValueError(f"unknown property {prop!r}; lesson 08's are {list(_PROPERTY_INDEX)}")
    rng = np.random.default_rng([seed, 80, _PROPERTY_INDEX[prop]])
    hyper = _hyper(rng, optimizer)
    # carries_state: twenty steps, as the NumPy checks' (a step() right for five only passed).
    shapes, n_steps = {
        "first_step": ([(3, 4), (5,)], 1), "carries_state": ([(2, 3), (4,)], 20),
        "per_param_step": ([(3,), (2, 3), (4,)], 4), "param_groups": ([(3,), (2, 2), (4,)], 3),
        "in_place": ([(3, 4)], 3), "float32": ([(2, 3)], 3),
        "zero_grad": ([(3, 4), (3, 4), (3, 4)], 2),
        "grad_none": ([(3,), (2, 2), (4,)], 3),
    }[prop]
    params = [rng.normal(0.0, 1.0, size=shape) for shape in shapes]
    # Gradient entries of magnitude 0.05 to 2, as in the NumPy checks (cases.GRAD_MAGNITUDE):
    # far above eps, so that where eps sits (inside the root, the book's step size) is
    # rounding, not a difference. A normal draw has entries near 0, where it is not.
    steps: list[list[np.ndarray | None]] = [
        [_signed(rng, shape) for shape in shapes] for _ in range(n_steps)]
    case: dict[str, Any] = {"dtype": "float32" if prop == "float32" else "float64",
                            "params": params, "hyper": hyper, "steps": steps}
    if prop == "per_param_step":
        # C (2) shares A's group and has no gradient at the first step: a counter per group
        # or per step() call gives it t = 2 at its first step (red-team round 8: a counter
        # in the group, group["step"], scored full marks when every group had one parameter).
        case["groups"] = [{"params": [0, 2]}, {"params": [1], "join": 2}]
        for step in steps[:2]:
            step[1] = None  # not in the optimizer yet
        steps[0][2] = None
    elif prop == "param_groups":
        # The second group sets every hyperparameter: betas or eps read from self.defaults
        # differ from it as lr does (red-team round 8: only lr differed, and a step() that
        # read betas and eps from self.defaults scored full marks).
        case["groups"] = [{"params": [0, 1]}, {"params": [2], "lr": hyper["lr"] * 5,
                                                "betas": [0.7, 0.95], "eps": 1e-6}]
    elif prop == "carries_state":
        # The first parameter's gradient is all zeros at the 8th step: torch.optim steps it
        # all the same (a student audit's step() skipped it and scored full marks).
        steps[7][0] = np.zeros(shapes[0])
    elif prop == "zero_grad":
        # The 3rd parameter's single zero entries catch a step() that skips all-zero
        # gradients and divides 0 by 0 where one entry is 0 (as a dead ReLU unit's is).
        steps[0][0] = np.zeros(shapes[0])
        steps[0][2].reshape(-1)[::3] = 0.0
    elif prop == "grad_none":
        for step in steps:
            step[1] = None
        steps[1][2] = None
    if prop == "float32":
        case["params"] = [p.astype(np.float32) for p in params]
        case["steps"] = [[g.astype(np.float32) for g in step] for step in steps]
    return case


def _signed(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Entries of magnitude in :data:`~.cases.GRAD_MAGNITUDE`, each sign equally likely."""
    return rng.uniform(*GRAD_MAGNITUDE, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _joins(case: dict[str, Any], index: int) -> int:
    """The step at which parameter ``index`` joins the optimizer (0: from the start)."""
    return next((g.get("join") or 0 for g in case.get("groups") or [] if index in g["params"]),
                0)


def _first_gradient(case: dict[str, Any], index: int) -> int:
    """The first step, from the one it joins, at which parameter ``index`` has a gradient."""
    return next((k for k in range(_joins(case, index), len(case["steps"]))
                 if case["steps"][k][index] is not None), len(case["steps"]))


def _alone(case: dict[str, Any], index: int) -> dict[str, Any]:
    """The scenario of parameter ``index`` alone, in a fresh optimizer, from its first
    gradient: a step before it, with its grad None, must change nothing of it, its step
    counter included."""
    start = _first_gradient(case, index)
    return {**case, "params": [case["params"][index]], "groups": None,
            "steps": [[step[index]] for step in case["steps"][start:]]}


def _with_every_gradient(case: dict[str, Any]) -> dict[str, Any]:
    """``per_param_step``'s scenario with C's first gradient given (its step 1, None in the
    scenario, is its step 2's): nothing to skip.

    For a step() that raises on a None grad. A counter per group is then right wherever
    per parameter is: it is caught only in a step() that handles None grads (red-team round
    8's counter in the group).
    """
    steps = [list(step) for step in case["steps"]]
    steps[0][2] = steps[1][2].copy()
    return {**case, "steps": steps}


# -- running ------------------------------------------------------------------------------------
def _run(cls: Any, case: dict[str, Any]) -> dict[str, Any]:
    """Run the student's class (through the runner hook if it has one)."""
    hook = getattr(cls, RUNNER_HOOK, None)
    student_case = {**case, "time_limit": TIME_LIMIT}
    if callable(hook):
        return hook(student_case)
    return run_scenario(cls, student_case)


def _reference(optimizer: str, case: dict[str, Any]) -> dict[str, Any]:
    observed = run_scenario(reference_class(optimizer), case)
    if observed["error"] is not None:  # our scenario is wrong, not the student's code
        raise RuntimeError(f"torch.optim failed on a check's scenario: {observed['error']}")
    return observed


#: The message of a KeyError for a name in a parameter's state ('step', 'exp_avg', ...), not
#: for a group's settings, which torch fills in for every group.
_STATE_KEY = re.compile(r"'(?!(?:lr|betas|eps|weight_decay|params)')\w+'")


def _error_outcome(error: dict[str, Any], subject: str) -> Outcome:
    """The failure of a run the student's class did not finish (hung if it ran out of time)."""
    return Outcome(_error_text(error, subject), hung=error["kind"] == "StepTimeout")


def _error_text(error: dict[str, Any], subject: str) -> str:
    """One friendly line about an exception the student's class raised."""
    kind, message, where = error["kind"], error["message"], error["where"]
    call = (f"{subject}(...)" if error["stage"] == "constructor"
            else f"step() (call {error['step'] + 1})")
    if kind == "NotImplementedError":
        return NOT_WRITTEN.format(what=f"{subject}.step()")
    if kind == "StepTimeout":
        return f"{call} {message}: {HANG_QUESTION}"
    message = message.rstrip().rstrip(".")  # torch's ends in "."; ours follows
    if is_whole_tensor_as_number(message):
        # Torch's count of elements differs with each scenario's shapes: without it one
        # mistake reads the same under every check, and the report says it once, then
        # "(same problem as above)" (an audit read the same explanation 8 times).
        message = re.sub(r"\b\d+ elements\b", "more than one element", message)
    text = f"{call} raised {kind}: {message}" if message else f"{call} raised {kind}"
    if where:
        text += f" ({where})"
    if "leaf Variable that requires grad" in message:
        text += (". Change the parameters inside `with torch.no_grad():` (or decorate step with "
                 "@torch.no_grad()): autograd must not record the update")
    elif "NoneType" in message:
        text += (". p.grad is None for a parameter that took no part in the loss: skip it "
                 "with `if p.grad is None: continue`")
    elif "broadcast shape" in message or "must match the size of tensor" in message:
        # An audit's state keyed by the position in the group: the 1st parameter of the
        # 2nd group got the 1st group's m, of another shape.
        text += (". Two tensors of different shapes met: does a parameter get another "
                 "parameter's m or v? Key the state by the tensor itself, self.state[p] (a "
                 "position in the group, a name or one shared state repeats across "
                 "parameters)")
    elif is_whole_tensor_as_number(message):
        text += ". " + WHOLE_TENSOR_AS_NUMBER.rstrip(".")
    elif kind == "KeyError" and error["stage"] == "step" and _STATE_KEY.fullmatch(message):
        # A grading audit: a state made in __init__ raised KeyError: 'step', unexplained,
        # for the parameter of a group added later.
        text += (". self.state[p] is empty for a parameter step() has not seen before (one "
                 "added later with add_param_group, say): create its entries in step(), the "
                 "first time, `if not state:` (or `if len(state) == 0:`), as torch.optim does")
    elif error["stage"] == "constructor":
        text += (". Keep the given __init__: it passes params and a defaults dict to "
                 "super().__init__")
    return text + "."


def _tolerance(case: dict[str, Any]) -> tuple[float, float]:
    """(rtol, atol): float64 runs agree with torch to rounding; float32 to its precision."""
    lrs = [case["hyper"]["lr"], *(g.get("lr", 0.0) for g in case.get("groups") or [])]
    if case["dtype"] == "float32":
        return 1e-5, 1e-4 * max(lrs)
    return 1e-7, 1e-6 * max(lrs)


def _largest_steps(want: list[list[np.ndarray]], start: Sequence[Any]) -> list[float]:
    """The largest finite step ``want`` took on each parameter, from ``start`` on."""
    largest = [0.0] * len(start)
    previous = [np.asarray(p, dtype=np.float64) for p in start]
    for values in want:
        for i, value in enumerate(values):
            now = np.asarray(value, dtype=np.float64)
            if now.shape == previous[i].shape:
                step = np.abs(now - previous[i])
                largest[i] = max(largest[i], float(np.max(step[np.isfinite(step)], initial=0.0)))
            previous[i] = now
    return largest


def _first_difference(got: list[list[np.ndarray]], want: list[list[np.ndarray]],
                      case: dict[str, Any], start: Sequence[Any],
                      steps: Sequence[int] | None = None,
                      params: Sequence[int] | None = None, equal_nan: bool = False
                      ) -> tuple[int, int, int] | None:
    """(step, param, flat index) of the first value out of tolerance; None if all agree.

    ``start`` holds the parameters' values before ``want``'s first step. After step
    ``s`` (from 1) a value may also differ by ``STEP_RTOL * s`` times the largest step
    ``want`` took on that parameter, as in the NumPy checks (:mod:`.compare`): every
    correct form of the update agrees to that (eps inside the root, the book's step
    size), every catalogued mistake is off by several % of a step.

    With ``equal_nan``, NaN where the other run has NaN too agrees (two runs of the
    student's class compared with each other: NaN in both is the values' to charge).
    """
    rtol, atol = _tolerance(case)
    largest = _largest_steps(want, start)
    for s in steps if steps is not None else range(len(want)):
        for i in params if params is not None else range(len(want[s])):
            a, b = np.asarray(got[s][i], dtype=np.float64), np.asarray(want[s][i], np.float64)
            if a.shape != b.shape:
                return s, i, -1
            bad = ~np.isclose(a, b, rtol=rtol, atol=atol + STEP_RTOL * (s + 1) * largest[i],
                              equal_nan=equal_nan)
            if bad.any():
                return s, i, int(np.flatnonzero(bad.ravel())[0])
    return None


def _ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _param_name(case: dict[str, Any], i: int) -> str:
    """Parameter ``i`` of ``case`` in terms a student can map to tensors: its number, its
    shape and, with several param groups, its place in them, e.g. "parameter 3 (shape 4,
    the 1st of param group 2)"."""
    shape = np.shape(case["params"][i])
    dims = "×".join(str(n) for n in shape) if shape else "scalar"
    groups = case.get("groups") or [{"params": list(range(len(case["params"])))}]
    g, spec = next((g, spec) for g, spec in enumerate(groups) if i in spec["params"])
    if len(case["params"]) == 1:
        return f"the parameter (shape {dims})"
    if len(groups) == 1:
        return f"parameter {i + 1} (shape {dims})"
    return (f"parameter {i + 1} (shape {dims}, the {_ordinal(spec['params'].index(i) + 1)} "
            f"of param group {g + 1})")


def _entry(shape: tuple[int, ...], k: int) -> str:
    """The flat index ``k`` of an array of ``shape`` as the index a student types: [1, 2]."""
    return "[" + ", ".join(str(int(j)) for j in np.unravel_index(k, shape)) + "]" \
        if shape else "[()]"


def _describe_difference(where: tuple[int, int, int], got: Any, want: Any,
                         case: dict[str, Any]) -> str:
    s, i, k = where
    name = _param_name(case, i)
    a, b = np.asarray(got[s][i]), np.asarray(want[s][i])
    if k < 0:
        return f"after step {s + 1}, {name} has shape {a.shape}, expected {b.shape}"
    # Enough digits to tell the two apart: "is 1.5, torch.optim gives 1.5" explains nothing.
    yours, torchs = fmt_pair(float(a.ravel()[k]), float(b.ravel()[k]))
    text = (f"after step {s + 1}, entry {_entry(a.shape, k)} of {name} is {yours}, "
            f"torch.optim gives {torchs}")
    def moved(j: int) -> bool:
        return any(not np.array_equal(np.asarray(got[t][j], dtype=np.float64),
                                      np.asarray(case["params"][j], dtype=np.float64))
                   for t in range(s + 1))

    if not moved(i) and any(moved(j) for j in range(len(got[s])) if j != i):
        # A student audit: `return` indented into the loop over parameters updated the
        # first one only, and the numbers alone did not say so. (None moving at all is
        # p = p - ..., named on its own.)
        text += (f": {name} has not moved from its start at all. Does step() stop before "
                 "it (a `return` or `break` inside the loop over the parameters)?")
        return text
    matrices = [j for j in range(len(got[s])) if np.ndim(case["params"][j]) >= 2]
    if np.ndim(case["params"][i]) < 2 and matrices and _first_difference(
            got, want, case, case["params"], steps=range(s + 1), params=matrices) is None:
        # An AdamW that decays matrices only was told the numbers alone.
        decay = " (a weight decay of matrices only?)" if case["hyper"].get("weight_decay") \
            else ""
        text += (": the matrices match torch.optim and this one, a vector or a scalar, does "
                 f"not: every parameter, whatever its shape, takes the same update{decay}")
    return text


# -- judging: each returns "" (holds) or the student-facing message ------------------------------
def _judge_values(optimizer: str, case: dict[str, Any], got: dict[str, Any]) -> str:
    want = _reference(optimizer, case)
    where = _first_difference(got["values"], want["values"], case, case["params"])
    if where is None:
        return ""
    return _describe_difference(where, got["values"], want["values"], case) + "."


def _first_step_factor(optimizer: str, case: dict[str, Any], got: dict[str, Any]) -> str:
    """For a first step off by one factor in every entry: which factor that can be, as the
    NumPy checks say (a two-bug audit got numbers only where lesson 06 named the bias
    correction). ``""`` when the first step is right or not one multiple of torch.optim's
    (or no step at all: p = p - ..., named by its catalogued mistake)."""
    want = _reference(optimizer, case)["values"]
    got = got["values"]
    if not got or _first_difference(got, want, case, case["params"], steps=[0]) is None:
        return ""
    ratios = []
    for i, grad in enumerate(case["steps"][0]):
        if grad is None:
            continue
        start, a, b = (np.asarray(x, dtype=np.float64)
                       for x in (case["params"][i], got[0][i], want[0][i]))
        k = step_ratio(start, a, start, b) if a.shape == start.shape else None
        if k is None:
            return ""
        ratios.append(k)
    if not ratios or max(ratios) - min(ratios) > 0.01 * max(abs(r) for r in ratios):
        return ""
    k = float(np.median(ratios))
    if abs(k - 1.0) < 0.01 or abs(k) < 1e-3:
        return ""  # no factor: right, or no step at all (p = p - ..., named on its own)
    beta1, beta2 = case["hyper"]["betas"]
    hint = factor_hint("adam", abs(k), {"lr": case["hyper"]["lr"], "beta1": beta1,
                                        "beta2": beta2}).replace("self.lr", 'group["lr"]')
    if abs(k + 1.0) < 1e-3:
        # The sign alone (an audit: "1 times as far ..., and a factor is missing or extra").
        return ": the step went the wrong way (uphill): subtract it from p."
    if k < 0:
        return (f": the step went the wrong way (uphill), {-k:.3g} times as far as "
                f"torch.optim's — subtract it from p, and {hint}")
    return f": every entry moved {k:.3g} times as far as torch.optim's — {hint}"


def _judge_state_kept(case: dict[str, Any], got: dict[str, Any]) -> str:
    """What ``carries_state`` promises besides the values: the state is in ``self.state[p]``.

    The right values from m, v and a counter kept anywhere else (a dict of the class's
    own) would pass the values alone, but ``state_dict()`` would save none of them.
    """
    for s, (grads, states) in enumerate(zip(case["steps"], got["state"], strict=False)):
        for i, (grad, state) in enumerate(zip(grads, states, strict=True)):
            if grad is not None and state is None:
                # "The tensor itself": an audit's student kept state in self.state[id(p)].
                # Its keys named (an honest-student sweep read "holds nothing" of a state
                # keyed by position).
                others = got.get("other_keys") or []
                keyed = f" (it is keyed by {', '.join(map(str, others))})" if others else ""
                return (f"the values are right, but after step {s + 1} self.state holds "
                        f"nothing for parameter {i + 1}{keyed}: keep m, v and the step counter in "
                        "self.state[p], under the tensor p itself (not id(p), a name or a "
                        "position), which state_dict() saves and load_state_dict() restores "
                        "(state kept elsewhere is lost with a checkpoint).")
    return ""


def _never_moves(together: list[list[np.ndarray]], alone: list[list[np.ndarray]],
                 start: Sequence[Any], j: int) -> bool:
    """Whether parameter ``j`` kept its start value in every step of the run together
    though it moves when alone: a step() that never reaches its param group."""
    def still(run: list[list[np.ndarray]]) -> bool:
        return all(np.array_equal(np.asarray(values[j]), np.asarray(start[j]))
                   for values in run)
    return still(together) and not still(alone)


# "Every parameter" too: a third look's classes looped over every group but skipped the
# parameters not known in __init__, and read only "update every param group".
_EVERY_GROUP = ("step() must update every param group, `for group in self.param_groups:` "
                "(add_param_group puts its parameters in a group of their own), and every "
                "parameter in it, `for p in group['params']:`, those added after __init__ "
                "included.")


def _judge_per_param_step(optimizer: str, case: dict[str, Any], got: dict[str, Any],
                          cls: Any) -> str | Outcome:
    for index in range(len(case["params"])):
        moved = _moved_without_grad(case, got, index)
        if moved is not None:
            # An audit's AdamW decayed it and was told "each parameter needs its own step
            # counter", which it had.
            return (f"parameter {index + 1} changed at step {moved + 1}, where its grad was "
                    "None: step() must leave such a parameter alone, `if p.grad is None: "
                    "continue` before anything else (the weight decay too), as torch.optim "
                    "does.")
        alone_case = _alone(case, index)
        alone = _run(cls, alone_case)
        if alone["error"] is not None:  # a run of the student's class that did not finish
            return _error_outcome(alone["error"], describe_object(cls))
        start = len(case["steps"]) - len(alone["values"])
        together = [[step[index]] for step in got["values"][start:]]
        where = _first_difference(together, alone["values"], case, alone_case["params"],
                                  equal_nan=True)
        if where is not None:
            s = where[0] + start
            join = _joins(case, index)
            joined = f"added with add_param_group before step {join + 1}" if join \
                else "there from the start"
            if start > join:
                joined += f", whose grad was None until step {start + 1}"
            if _never_moves(together, alone["values"], alone_case["params"], 0):
                if join and not _steps_a_second_group(cls, case, index):
                    # No group but the first is ever stepped (param_groups[0] only): the
                    # param_groups point's to charge (an audit saw both points lost); the
                    # parameters of the first group still show the counters. A group made
                    # in the constructor stepped, one added later not: charged here (a
                    # review: a list of the groups taken in __init__ scored full marks).
                    continue
                return (f"parameter {index + 1}, {joined}, never moves, though its gradient "
                        f"is not zero: {_EVERY_GROUP}")
            return (f"parameter {index + 1}, {joined}, "
                    f"does not move as when it is the only parameter (first difference after "
                    f"step {s + 1}): {_OWN_COUNTER}")
    return ""


#: The advice of a parameter that does not move as when alone; a named mistake's
#: explanation says it again in its own words, and replaces it (an audit read it twice).
_OWN_COUNTER = "each parameter needs its own step counter, state[p]['step']."


def _steps_a_second_group(cls: Any, case: dict[str, Any], index: int) -> bool:
    """Whether the class steps parameter ``index`` when its group is made with the
    optimizer, has a gradient at every step and settings of its own (``case`` without its
    ``join``): then only a group added later is left alone. (A review: a class that keeps
    the groups with a gradient at its first step, or with settings not seen before, passed
    when the group's gradient was None at first or its settings the defaults.)"""
    first = case["steps"][_first_gradient(case, index)][index]
    groups = [{k: v for k, v in g.items() if k != "join"} for g in case["groups"]]
    for group in groups:
        if index in group["params"]:
            group["lr"] = case["hyper"]["lr"] * 3
    steps = [[first if i == index and g is None else g for i, g in enumerate(step)]
             for step in case["steps"]]
    made = _run(cls, {**case, "groups": groups, "steps": steps})
    if made["error"] is not None:
        return False
    start = case["params"][index]
    return any(not np.array_equal(np.asarray(values[index]), np.asarray(start))
               for values in made["values"])


def _moved_without_grad(case: dict[str, Any], got: dict[str, Any], index: int) -> int | None:
    """The first step, once parameter ``index`` is in the optimizer, at which its grad was
    None and it changed anyway (``None``: no such step)."""
    before = case["params"][index]
    for k, values in enumerate(got["values"]):
        after = values[index]
        if k >= _joins(case, index) and case["steps"][k][index] is None and \
                not np.array_equal(np.asarray(after), np.asarray(before), equal_nan=True):
            return k
        before = after
    return None


def _group_alone(case: dict[str, Any], g: int, **hyper: Any) -> dict[str, Any]:
    """The scenario of param group ``g`` alone, in a fresh optimizer whose defaults are the
    group's settings (``hyper`` overrides them), from the step the group joins.

    The settings the group sets itself are in its group dict as well, as together: an
    ``__init__`` that writes its own betas into the defaults then loses the values' points
    only, not this one too (a grading audit: one bug, two cells).
    """
    spec = case["groups"][g]
    options = {k: v for k, v in spec.items() if k not in ("params", "join")}
    settings = {**case["hyper"], **options, **hyper}
    start = spec.get("join") or 0
    own = {"params": list(range(len(spec["params"]))),
           **{k: settings[k] for k in options}}
    return {**case, "params": [case["params"][i] for i in spec["params"]], "groups": [own],
            "hyper": settings,
            "steps": [[step[i] for i in spec["params"]] for step in case["steps"][start:]]}


def _judge_param_groups(case: dict[str, Any], got: dict[str, Any], cls: Any) -> str | Outcome:
    """Each group moves as the student's own class moves it when the group's settings are
    the optimizer's only ones, and a group's lr changes its step.

    The student's class is compared with itself, not with torch.optim: a wrong update
    (no bias correction, v with beta1, ...) is the value properties' to charge, and
    costs this point only where it treats the groups differently (self.defaults['lr'],
    param_groups[0]['lr'], state shared between groups).
    """
    lrs = [case["groups"][g].get("lr", case["hyper"]["lr"]) for g in range(len(case["groups"]))]
    runs = []
    for g, spec in enumerate(case["groups"]):
        alone_case = _group_alone(case, g)
        alone = _run(cls, alone_case)
        if alone["error"] is not None:  # a run of the student's class that did not finish
            return _error_outcome(alone["error"], describe_object(cls))
        runs.append((alone_case, alone))
        start = len(case["steps"]) - len(alone["values"])
        together = [[step[i] for i in spec["params"]] for step in got["values"][start:]]
        where = _first_difference(together, alone["values"], case, alone_case["params"],
                                  equal_nan=True)
        if where is not None:
            s, j, _ = where
            if _never_moves(together, alone["values"], alone_case["params"], j):
                return (f"{_param_name(case, spec['params'][j])} never moves, though its "
                        f"gradient is not zero: {_EVERY_GROUP}")
            # All of the group's settings: an audit's step() read betas from self.defaults
            # and group['lr'] already, and was shown the lr only.
            # The other groups' settings only: an audit read this group's twice.
            others = " and ".join(f"({_settings(_group_alone(case, k)['hyper'])})"
                                  for k in range(len(case["groups"])) if k != g)
            whose = "group's" if len(case["groups"]) == 2 else "groups'"
            return (f"{_param_name(case, spec['params'][j])} does not move as when its group's "
                    f"settings ({_settings(alone_case['hyper'])}) are the optimizer's only "
                    f"ones (first difference after step {s + start + 1}; the other {whose} "
                    f"settings: {others}): " + _READ_EACH_GROUP)
    # A class that moves the same whatever the lr ignores the groups' lr too.
    g = max(range(len(lrs)), key=lambda k: lrs[k])
    other = min(lrs)
    if other != lrs[g]:
        alone_case, alone = runs[g]
        slower = _run(cls, _group_alone(case, g, lr=other))
        if slower["error"] is not None:
            return _error_outcome(slower["error"], describe_object(cls))
        if _same_values(alone["values"], slower["values"]) and \
                _moves_finitely(alone_case, alone["values"]):
            i = case["groups"][g]["params"][0]
            return (f"{_param_name(case, i)} moves the same with lr = {fmt(other)} as with "
                    f"lr = {fmt(lrs[g])}: step() must use the learning rate of the parameter's "
                    "group, group['lr'], not a number of its own.")
    return ""


#: The advice of a parameter that does not move as its group's settings want; a named
#: mistake's explanation says it again in its own words, and replaces it (a grading audit).
_READ_EACH_GROUP = ("read each group's hyperparameters, group['lr'], group['betas'], "
                    "group['eps'], inside `for group in self.param_groups`, and keep each "
                    "parameter's state in self.state[p].")


def _settings(hyper: dict[str, Any]) -> str:
    """A group's hyperparameters as a message gives them: ``lr = 0.05, betas = (0.7, 0.95),
    eps = 1e-06``."""
    beta1, beta2 = hyper["betas"]
    return (f"lr = {fmt(hyper['lr'])}, betas = ({fmt(beta1)}, {fmt(beta2)}), "
            f"eps = {fmt(hyper['eps'])}")


def _same_values(a: list[list[np.ndarray]], b: list[list[np.ndarray]]) -> bool:
    """Whether two runs give the very same values after every step (NaN equal to NaN)."""
    return len(a) == len(b) and all(
        np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True)
        for xs, ys in zip(a, b, strict=True) for x, y in zip(xs, ys, strict=True))


def _moves_finitely(case: dict[str, Any], values: list[list[np.ndarray]]) -> bool:
    """Whether some entry ends some step finite and away from where it started that step: a
    step that only makes NaN is the value properties' to charge, not the lr's."""
    previous = [np.asarray(p, dtype=np.float64) for p in case["params"]]
    for step in values:
        for i, value in enumerate(step):
            now = np.asarray(value, dtype=np.float64)
            if now.shape == previous[i].shape and \
                    np.any(np.isfinite(now) & np.isfinite(previous[i]) & (now != previous[i])):
                return True
            previous[i] = now
    return False


def _judge_replaced(got: dict[str, Any]) -> str:
    """A tensor in param_groups that is not the one the optimizer was given."""
    for s, objects in enumerate(got["same_object"]):
        if not all(objects):
            return (f"after step {s + 1} the tensor in param_groups is not the one the "
                    "optimizer was given: change the parameters, do not replace them.")
    return ""


def _judge_in_place(case: dict[str, Any], got: dict[str, Any]) -> str:
    """New storage (``p.data = ...``); a replaced tensor and one that never changes (a copy or
    a local variable stepped) are told by :func:`_judge`.

    Graded, the parameters' first storage is memory the judge reads itself (``memory``):
    after the last step it must hold the last values, whatever the kernel reported of
    ``data_ptr()`` (which code that patches the runner or torch could change).
    """
    for s, storages in enumerate(got["same_storage"]):
        if not all(storages):
            return (f"after step {s + 1} the parameter has new storage (p.data was replaced): "
                    f"{_UPDATE_IN_PLACE}")
    memory, values = got.get("memory"), got["values"]
    if memory is not None and got["error"] is None and values and not all(
            np.shape(m) == np.shape(v) and np.array_equal(m, v, equal_nan=True)
            for m, v in zip(memory, values[-1], strict=True)):
        return ("after the last step the parameter's own storage does not hold its values "
                f"(p.data was replaced?): {_UPDATE_IN_PLACE}")
    return ""


#: Its advice, which the named mistake's explanation gives in its own words (an audit).
_UPDATE_IN_PLACE = "update it in place, e.g. p.addcdiv_(...) or p.sub_(...)."
#: The advice of a parameter moved while its grad was None (the same, for a named mistake).
_SKIP_NONE = "skip it with `if p.grad is None: continue`."
#: The advice of a NaN from a zero gradient (dropped where the missing eps is named).
_ADD_EPS = "add eps to sqrt(v_hat) before dividing."


def _judge_float32(case: dict[str, Any], got: dict[str, Any]) -> str:
    for s, dtypes in enumerate(got["dtypes"]):
        if any(d != "float32" for d in dtypes):
            return (f"a float32 parameter became {dtypes[0]} in step {s + 1}: create the state "
                    "with torch.zeros_like(p) and update p in place, so it keeps its dtype.")
    return ""


def _nan_questions() -> str:
    """The causes of NaN from a nonzero gradient in Adam's step, asked in lesson 08's terms."""
    causes, _ = nan_causes("adam")  # the NumPy questions name np.sqrt and self.t
    return (f"{causes} elsewhere in the step (is v built from the squared gradient, "
            "v.mul_(beta2).addcmul_(g, g, value=1 - beta2), so that it is never negative? "
            "is state['step'] still 0 when you divide by 1 - beta**t?)")


def _judge_zero_grad(optimizer: str, case: dict[str, Any], got: dict[str, Any],
                     cls: Any) -> str:
    """No NaN or infinity caused by a zero gradient; no movement on an all-zero one.

    The same rule as the NumPy exercises' :func:`~.judges.judge_zero_grad`: only the
    entries whose gradient was 0 (a whole parameter's, or single entries of another)
    are checked for NaN, from that step on -- NaN where the gradient was not zero
    (the root of a negative v, a counter at 0) is a mistake of the step itself, which
    the value properties charge. A NaN the zero gradient left in the state may show
    only at a later step; it counts unless an entry that never had a zero gradient
    went NaN at that step or before, or the student's class, run again with the zeros
    made nonzero, went NaN by that step (then the step makes NaN anyway). Where
    torch.optim's parameter does not move on its all-zero gradient, the student's
    must not either. (A class that moves no parameter at all fails this too, not
    moving on a zero gradient being no merit of it: :func:`_judge` tells it.)
    """
    values = got["values"]
    n_steps, n_params = len(values), len(case["params"])
    sizes = [int(np.size(p)) for p in case["params"]]
    owner = np.repeat(np.arange(n_params), sizes)
    steps = case["steps"][:n_steps]
    zero = np.array([[g is not None and not np.any(g) for g in step]
                     for step in steps], dtype=bool).reshape(n_steps, n_params)
    # Entry by entry, the parameters side by side.
    zero_at = np.array([np.concatenate([np.zeros(n, bool) if g is None else np.ravel(g) == 0
                                        for g, n in zip(step, sizes, strict=True)])
                        for step in steps], dtype=bool).reshape(n_steps, sum(sizes))
    def table(run: dict[str, Any]) -> np.ndarray:
        return np.array([np.concatenate([_non_finite(v, n) for v, n in zip(step, sizes,
                                                                           strict=True)])
                         for step in run["values"]], dtype=bool).reshape(-1, sum(sizes))

    broken = table(got)
    charged = nan_from_zero_gradient(broken, zero_at, owner)
    if charged.any() and not (charged & zero_at).any():
        # Only NaN after the zero gradient's step: its doing only if the class makes none
        # without it (a two-bug audit: a loop stopped after the zero gradient's parameter).
        following = [*steps[1:], steps[-1]]
        again = _run(cls, {**case, "steps": [
            without_zero_gradients(step, after)
            for step, after in zip(steps, following, strict=True)] + case["steps"][n_steps:]})
        charged = nan_from_zero_gradient(broken, zero_at, owner,
                                         nan_anyway(table(again), n_steps))
    if charged.any():
        s, e = (int(x) for x in np.argwhere(charged)[0])
        i = int(owner[e])
        head = f"after step {s + 1} parameter {i + 1} holds NaN or infinity"
        if not zero_at[s, e]:
            first = int(np.argmax(zero_at[:, e]))
            which = "was all zeros" if zero[first, i] else "had zero entries"
            return (f"{head}: its gradient {which} in step {first + 1}, and the same steps "
                    "with that gradient not zero make no NaN, so the zero gradient left NaN "
                    f"in the state (0/0 where eps is missing?): {_ADD_EPS}")
        other = broken[s] & ~zero_at[s]
        if other.any():  # a 0/0 here, but the step makes NaN from nonzero gradients too
            k = int(owner[int(np.argmax(other))])
            return (f"{head} where its gradient was zero, and so does parameter {k + 1} where "
                    "its gradient was not zero: this is not only a missing eps but "
                    f"{_nan_questions()}.")
        if zero[s, i]:
            return f"{head}: its gradient was all zeros, so sqrt(v_hat) was 0 — {_ADD_EPS}"
        return (f"{head} where single entries of its gradient were 0 (the others were not), "
                "so sqrt(v_hat) was 0 there; skipping a gradient that is all zeros is not "
                f"enough — {_ADD_EPS}")
    want = _reference(optimizer, case)
    for s in range(n_steps):
        for i in np.flatnonzero(zero[s]):
            before = case["params"][i] if s == 0 else values[s - 1][i]
            if np.array_equal(want["values"][s][i],
                              case["params"][i] if s == 0 else want["values"][s - 1][i]) \
                    and not np.array_equal(values[s][i], before, equal_nan=True):
                return (f"parameter {i + 1} moved in step {s + 1} although its gradient was all "
                        "zeros (torch.optim's does not move).")
    return ""


def _non_finite(value: Any, size: int) -> np.ndarray:
    """Which of a parameter's ``size`` entries are NaN or infinite (all of them where the
    step left something of another size: its values cannot be placed)."""
    entries = np.ravel(np.asarray(value, dtype=float))
    if entries.size != size:
        return np.full(size, not np.all(np.isfinite(entries)))
    return ~np.isfinite(entries)


#: Under every property of a class that moves no parameter: the same words, which the
#: report gives once.
IDLE = ("no parameter changed in any step, although their gradients are not zero: step() "
        "must change the parameters themselves. Until it does, every check fails, also those "
        "of what a step must leave alone.")


#: :data:`IDLE` for a class whose steps changed the gradients (``p.grad.sub_(...)``): the
#: catalogue's `p = p - ...`, which also moves nothing, is not its cause.
GRADS_STEPPED = ("no parameter changed in any step, but their gradients did: step() changes "
                 "p.grad where it must change the parameter p itself (p.sub_(...), "
                 "p.addcdiv_(...)); p.grad is only read. Until it does, every check fails, "
                 "also those of what a step must leave alone.")


def _judge_moves_something(case: dict[str, Any], got: dict[str, Any]) -> str:
    """:data:`IDLE` (or :data:`GRADS_STEPPED`) if no parameter with a nonzero gradient
    moved in any step, else ``""``.

    One step that moves one is enough: a step that is zero on some steps (taken with
    moments still at 0) does reach the tensors, and its values are the value properties'
    to charge.
    """
    steps = [case["params"], *got["values"]]
    for s in range(len(got["values"])):
        for i, grad in enumerate(case["steps"][s]):
            if grad is not None and np.any(grad) and \
                    not np.array_equal(steps[s][i], steps[s + 1][i], equal_nan=True):
                return ""
    kept = got.get("grads_kept") or []
    return GRADS_STEPPED if not all(all(step) for step in kept) else IDLE


#: A step() that moves the parameters but reads no gradient (see :func:`_ignores_gradients`).
IGNORES_GRADIENTS = (
    "step() takes the same steps whatever the gradients are (the same parameters with other "
    "gradients moved the same way, to a thousandth of a step): each step must use p.grad, "
    "the gradient of that parameter.")


def _ignores_gradients(cls: Any, case: dict[str, Any], seed: int) -> bool:
    """Whether two new optimizers take the same finite steps from the same parameters given
    the property's own scenario ``case``'s gradients and others drawn as the checks draw
    them (a red-team look: `p.sub_(lr)` for each p with a grad kept 4 of 9 points;
    grading.py probes the NumPy classes so). The property's own scenario, not a probe's,
    which a step() could tell from it (red-team round 16: the NumPy classes' probe had keys
    of its own); steps alike within a tolerance, not values equal (the same round: a token
    of the gradient made them differ); gradients in the checks' own range (round 17: a
    step() that raised, or read the gradient, only beyond it passed), judged on every
    parameter together where its gradient is not 0 (:func:`~.compare.steps_alike`). A run
    that stopped is no evidence, nor is NaN."""
    redrawn = iter(redrawn_gradients([g for step in case["steps"] for g in step], seed))
    other = {**case, "steps": [[next(redrawn) for _ in step] for step in case["steps"]]}
    runs = []
    for given in (case, other):
        got = _run(cls, given)
        if got["error"] is not None:  # a run that stopped is no evidence
            return False
        runs.append(got["values"])
    steps: list[list[np.ndarray]] = [[], []]
    grads: list[np.ndarray] = []
    for s, given in enumerate(case["steps"]):
        for i, grad in enumerate(given):
            shape = np.shape(case["params"][i])
            for run, into in zip(runs, steps, strict=True):
                after, before = (np.asarray(v, dtype=np.float64) for v in (
                    run[s][i], case["params"][i] if s == 0 else run[s - 1][i]))
                if after.shape != shape or before.shape != shape:
                    return False  # what a step of another shape is, the checks say
                into.append(after - before)
            grads.append(np.zeros(shape) if grad is None else np.asarray(grad, dtype=np.float64))
    return steps_alike(*steps, grads)


def _judge_grad_none(case: dict[str, Any], got: dict[str, Any]) -> str:
    for s, values in enumerate(got["values"]):
        if not np.array_equal(values[1], case["params"][1], equal_nan=True):
            return (f"parameter 2, whose grad is None, changed in step {s + 1}: "
                    f"{_SKIP_NONE}")
        if got["state"][s][1] is not None:
            # Made in __init__, or in step() before the None check (a browser audit: the
            # first, told only what torch does not do).
            return (f"after step {s + 1} self.state holds {got['state'][s][1]['keys']} for "
                    "parameter 2, whose grad is None: torch.optim creates no state for a "
                    "parameter it skips. Create a parameter's state in step(), after `if "
                    "p.grad is None: continue` (not in __init__, not before that check).")
    # NaN from an earlier step that stays NaN has not moved (equal_nan): the values' to charge.
    if len(got["values"]) > 1 and not np.array_equal(got["values"][1][2], got["values"][0][2],
                                                     equal_nan=True):
        return ("parameter 3 changed in step 2 although its grad was None then: skip "
                "parameters with `if p.grad is None: continue`.")
    # Parameter 3 comes after parameter 2, whose grad is None: a `break` there leaves it
    # unstepped (an audit: `if p.grad is None: break` scored full marks).
    before = case["params"]
    for s, values in enumerate(got["values"]):
        if case["steps"][s][2] is not None and \
                not np.array_equal(values[0], before[0], equal_nan=True) and \
                np.array_equal(values[2], before[2], equal_nan=True):
            return (f"parameter 3 did not move in step {s + 1}, though its grad was not None "
                    "(parameter 2's was, and comes before it in the group): skip only the "
                    "parameter whose grad is None, with `continue`, not the rest of the group "
                    "(`break` or `return`).")
        before = values
    return ""


@dataclass(frozen=True)
class TorchProperty:
    """One graded property of lesson 08's optimizer exercise.

    Attributes
    ----------
    name : str
        Identifier used in the graded cells, e.g. ``"per_param_step"``.
    title : str
        What a pass means.
    short : str
        Label of a failure.
    points : float
        Default weight in :func:`grade_torch`.
    """

    name: str
    title: str
    short: str
    points: float = 1.0


#: The graded properties, in the order a student should fix them.
TORCH_PROPERTIES: tuple[TorchProperty, ...] = (
    TorchProperty("first_step", "first step matches torch.optim", "first step"),
    TorchProperty("carries_state", "state is carried between steps", "state between steps"),
    TorchProperty("per_param_step", "each parameter has its own step counter",
                  "per-parameter step"),
    TorchProperty("param_groups", "each param group's lr is used", "param groups"),
    TorchProperty("in_place", "parameters are updated in place", "in place"),
    TorchProperty("float32", "float32 stays float32", "float32"),
    TorchProperty("zero_grad", "a zero gradient gives no NaN", "zero gradient"),
    TorchProperty("grad_none", "parameters whose grad is None are skipped", "grad None"),
)
_BY_NAME = {p.name: p for p in TORCH_PROPERTIES}


def _get(prop: str | TorchProperty) -> TorchProperty:
    if isinstance(prop, TorchProperty):
        return prop
    if prop not in _BY_NAME:
        raise ValueError(f"unknown property {prop!r}; lesson 08's are {list(_BY_NAME)}")
    return _BY_NAME[prop]


#: The properties judged on the values against torch.optim's.
_VALUES = ("first_step", "carries_state")


def _judge(prop: str, optimizer: str, case: dict[str, Any], got: dict[str, Any],
           cls: Any) -> Outcome:
    """Judge ``prop`` on the student's run ``got`` (the mistake is named by the caller)."""
    # A class that moves nothing fails every property, in the same words: the report gives
    # them once, then "(same problem as above)" (an audit's `p = p - ...` read its long
    # explanation under each of the 8 checks). A tensor replaced in param_groups says more.
    idle = (_judge_replaced(got) if prop == "in_place" else "") \
        or _judge_moves_something(case, got)
    if idle:
        return Outcome(idle)
    if prop in _VALUES:
        judged: str | Outcome = _judge_values(optimizer, case, got)
        if prop == "carries_state" and not judged:
            judged = _judge_state_kept(case, got)
    elif prop == "param_groups":
        judged = _judge_param_groups(case, got, cls)
    elif prop == "per_param_step":
        judged = _judge_per_param_step(optimizer, case, got, cls)
    elif prop == "in_place":
        judged = _judge_in_place(case, got)
    elif prop == "float32":
        judged = _judge_float32(case, got)
    elif prop == "zero_grad":
        judged = _judge_zero_grad(optimizer, case, got, cls)
    else:
        judged = _judge_grad_none(case, got)
    return judged if isinstance(judged, Outcome) else Outcome(judged)


def _same_behaviour(a: dict[str, Any], b: dict[str, Any], case: dict[str, Any]) -> bool:
    """Whether two observations of one scenario agree (values to rounding, storage, errors,
    which parameters have state in ``self.state``)."""
    if (a["error"] is None) != (b["error"] is None) or len(a["values"]) != len(b["values"]):
        return False
    if a["same_storage"] != b["same_storage"]:
        return False
    if [[st is None for st in step] for step in a["state"]] != \
            [[st is None for st in step] for step in b["state"]]:
        return False  # state kept in self.state by one and elsewhere by the other
    rtol, atol = _tolerance(case)
    atol /= 100  # a mistake explains the student's values only if it gives the very same ones
    return all(np.allclose(x, y, rtol=rtol / 100, atol=atol, equal_nan=True)
               for xs, ys in zip(a["values"], b["values"], strict=True)
               for x, y in zip(xs, ys, strict=True))


def diagnose_mistake(optimizer: str, case: dict[str, Any], got: dict[str, Any],
                     longer: tuple[dict[str, Any], dict[str, Any]] | None = None) -> str:
    """The id of the catalogued mistake that behaves exactly like ``got``, or ``""``.

    ``longer`` is a second scenario and the student's run of it, which the mistake must
    match too (a first step alone cannot tell every mistake apart).
    """
    # Every mistake in its usual form first, then in the other forms of epsilon (where
    # another mistake without eps looks like the missing eps on a zero gradient).
    forms = [(mistake, forms_of(mistake, mutant)) for mistake, mutant in mutants_for(optimizer)]
    for level in range(max(len(f) for _, f in forms)):
        for mistake, form in ((m, f[level]) for m, f in forms if level < len(f)):
            if _same_behaviour(run_scenario(form, case), got, case) and (
                    longer is None
                    or _same_behaviour(run_scenario(form, longer[0]), longer[1], longer[0])):
                return mistake
    return ""


def _one_step_more(case: dict[str, Any]) -> dict[str, Any]:
    """``case`` with one more step, on half its first gradients (see ``diagnose._one_call_more``:
    under one gradient repeated, a step divided by √m̂ is one whose v is made from g)."""
    half = [None if g is None else g * 0.5 for g in case["steps"][0]]
    return {**case, "steps": [*case["steps"], half]}


def run_torch_property(cls: Any, optimizer: str, prop: str | TorchProperty, seed: int
                       ) -> Outcome:
    """Check one property on one seed: the per-property step of :func:`~.exercise.run_checks`.

    Parameters
    ----------
    cls : type
        The student's class (or a grader's proxy with the runner hook).
    optimizer : str
        ``"adam"`` or ``"adamw"``.
    prop : str or TorchProperty
        The property.
    seed : int
        The scenario's seed.

    Returns
    -------
    Outcome
        The student-facing message and the recognised mistake's id (``""`` if the
        property holds); ``hung`` if a call of the class ran out of time.

    Raises
    ------
    ValueError
        For an unknown optimizer or property (the caller's mistake, not the student's).
    """
    optimizer = optimizer.lower()
    reference_class(optimizer)  # a clear ValueError for an unknown optimizer
    prop = _get(prop)
    subject = describe_object(cls)
    if not isinstance(cls, type):
        return Outcome(f"{subject} is not a class: pass the class itself, e.g. "
                       f"assert_torch_property({_REFERENCES[optimizer]}, ...), not an instance.")
    if not callable(getattr(cls, RUNNER_HOOK, None)) and \
            not issubclass(cls, torch.optim.Optimizer):
        return Outcome(f"{subject} must be a subclass of torch.optim.Optimizer: "
                       f"class {subject}(torch.optim.Optimizer).")
    case = scenario(prop.name, seed, optimizer)
    got = _run(cls, case)
    if prop.name == "per_param_step" and got["error"] is not None:
        # A step() that raises on a None grad (no `if p.grad is None: continue`) loses
        # grad_none's point, not this one as well (an audit: its counters were right): they
        # are judged where every parameter has a gradient, B still joining later. Only one
        # that raises: a counter advanced before the None check is wrong here (a red-team
        # look), and so is a step with a zero gradient in place of None. (A counter per
        # group then goes unseen: see _with_every_gradient.)
        given = _with_every_gradient(case)
        again = _run(cls, given)
        if again["error"] is None:
            case, got = given, again
    printed = int(got.get("printed", 0))
    if got["error"] is not None:
        return replace(_error_outcome(got["error"], subject), printed=printed)
    judged = replace(_judge(prop.name, optimizer, case, got, cls), printed=printed)
    if judged.passed and prop.name not in _VALUES and _ignores_gradients(cls, case, seed):
        # What a step leaves alone is no property of one that computes nothing from the
        # gradients (checks/README.md), as for the NumPy classes; a catalogued mistake
        # (AdamW's decay alone moves p after `p = p - ...`) is named below.
        judged = replace(Outcome(IGNORES_GRADIENTS), printed=printed)
    if judged.passed or judged.message == GRADS_STEPPED:
        return judged
    longer = None
    if prop.name == "first_step":
        # One step cannot tell every mistake apart: the named one must match a 2nd step too
        # (an audit's step() dividing by m_hat.sqrt() was told its right v averaged g).
        more = _one_step_more(case)
        longer = (more, _run(cls, more))
    mistake = diagnose_mistake(optimizer, case, got, longer)
    if mistake in _NOT_CHARGED_HERE.get(prop.name, ()):
        return replace(Outcome(""), printed=printed)
    if mistake in _NOT_NAMED_HERE.get(prop.name, ()):
        mistake = ""
    if mistake:
        found = judged.message
        for advice in (_READ_EACH_GROUP, _OWN_COUNTER, _UPDATE_IN_PLACE, _SKIP_NONE):
            found = found.removesuffix(": " + advice)
        if mistake == "no_eps":  # a feedback review read the same fix twice
            found = found.removesuffix(": " + _ADD_EPS).removesuffix(" — " + _ADD_EPS)
        found += "." if found != judged.message else ""
        return replace(judged, mistake=mistake,
                       message=f"{found} Likely cause: {EXPLANATIONS[mistake]}")
    factor = _first_step_factor(optimizer, case, got) if prop.name in _VALUES else ""
    return replace(judged, message=judged.message.removesuffix(".") + factor) if factor \
        else judged


#: Mistakes that fail a property's scenario without breaking the property: a class that
#: behaves exactly like the mutant has the mutant's right counters (AdamW's decay of a
#: parameter whose grad is None moves it in per_param_step's scenario too).
_NOT_CHARGED_HERE = {"per_param_step": ("decay_without_grad",)}
#: Mistakes that cannot fail a property's scenario on their own, so a class that behaves
#: like one of them in another form fails it for another reason: skipping an all-zero
#: gradient without eps leaves NaN at single zero entries, the missing eps's (zero_grad's
#: zeros come first, where skipping changes nothing).
_NOT_NAMED_HERE = {"zero_grad": ("skip_zero",)}


def assert_torch_property(cls: Any, optimizer: str, prop: str | TorchProperty, seed: int
                          ) -> None:
    """Raise ``AssertionError`` with the student-facing diagnosis if ``prop`` fails.

    Examples
    --------
    >>> from descentlab.checks.torch_mistakes import TorchAdam
    >>> assert_torch_property(TorchAdam, "adam", "first_step", seed=1)
    """
    __tracebackhide__ = True  # not shown in tracebacks (IPython, pytest)
    prop = _get(prop)
    assert_outcome(run_torch_property(cls, optimizer, prop, seed), prop.short)


def grade_torch(cls: Any, optimizer: str, seeds: Iterable[int], *,
                properties: Sequence[str] | None = None) -> Report:
    """Check every property on every seed; a property passes only if every seed passes.

    Parameters
    ----------
    cls : type
        The student's class.
    optimizer : str
        ``"adam"`` or ``"adamw"``.
    seeds : iterable of int
        The seeds.
    properties : sequence of str, optional
        A subset (default: all of :data:`TORCH_PROPERTIES`).

    Returns
    -------
    Report
    """
    chosen = [_get(p) for p in (properties or [p.name for p in TORCH_PROPERTIES])]

    def run(prop: TorchProperty, seed: int) -> Outcome:
        return run_torch_property(cls, optimizer, prop, seed)

    report = run_checks(describe_object(cls), chosen, run, seeds,
                        skipped_after_hang=_NOT_RUN_AFTER_HANG)
    note = _tiny_gradient_note(cls, optimizer) if report else ""
    return replace(report, notes=(*report.notes, note)) if note else report


#: The probe of :func:`_tiny_gradient_note`: with g = 1e-6, sqrt(v_hat) = 1e-6 is near
#: eps = 1e-8, so torch's step (sqrt(v_hat) + eps) and the book's other form
#: (sqrt(v_hat + eps) = 1e-4) differ a hundredfold, where the checks' gradients (0.05
#: to 2, cases.GRAD_MAGNITUDE) cannot tell them apart.
_TINY_GRADIENT = 1e-6


def _tiny_gradient_note(cls: Any, optimizer: str) -> str:
    """A remark when a class that passes every check steps unlike torch on tiny gradients.

    Both places of eps are accepted, as in lesson 6; but lesson 8 asks for torch's formula
    and its section 1 says where the two part, so a student whose step() matches torch
    everywhere the checks look hears of it here.
    """
    hyper: dict[str, Any] = {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8}
    if optimizer == "adamw":
        hyper["weight_decay"] = 0.0
    case = {"dtype": "float64", "params": [np.ones(3)], "hyper": hyper,
            "steps": [[np.full(3, _TINY_GRADIENT)]]}
    got = _run(cls, case)
    if got["error"] is not None or not got["values"]:
        return ""
    want = _reference(optimizer, case)["values"][0][0]
    ratio = float(np.max((1.0 - got["values"][0][0]) / (1.0 - want)))
    if not np.isfinite(ratio) or abs(ratio - 1.0) < 0.01:
        return ""
    # What the other two forms lesson 6 accepts give on the probe's first step, as a
    # multiple of torch's lr * g / (|g| + eps).
    g, eps, beta2 = _TINY_GRADIENT, hyper["eps"], hyper["betas"][1]
    forms = {
        " ε seems to be inside the square root, √(v̂ + ε); torch.optim adds it after the "
        "root, √v̂ + ε.": (g + eps) / np.sqrt(g * g + eps),
        " ε seems to be added to the uncorrected √v (the book's step size "
        "lr·√(1 − β2^t)/(1 − β1^t)); torch.optim adds it to the corrected √v̂.":
            (g + eps) / (g + eps / np.sqrt(1 - beta2)),
    }
    cause = next((text for text, form in forms.items() if abs(ratio / form - 1.0) < 0.01),
                 " Check where ε goes: torch.optim divides by √v̂ + ε.")
    return (f"Note: on a tiny gradient ({g:g}) your first step is {ratio:.3g} times "
            f"torch.optim.{_REFERENCES[optimizer]}'s.{cause} The checks accept it, as lesson "
            f"6's do (with gradients well above ε the two agree), but it is not torch's "
            f"formula: where gradients are tiny it takes other steps.")


def check_torch(cls: Any, optimizer: str | None = None, *, seeds: Sequence[int] = PUBLIC_SEEDS,
                file: TextIO | None = None) -> Report:
    """Self-check: compare your ``torch.optim.Optimizer`` subclass with torch's and print why.

    Parameters
    ----------
    cls : type
        Your class, e.g. ``Adam`` (the class, not an instance).
    optimizer : str, optional
        ``"adam"`` or ``"adamw"``; inferred from the class name if omitted.
    seeds : sequence of int
        The seeds (default: the public ones).
    file : text stream, optional
        Where to print (default: standard output).

    Returns
    -------
    Report
        Truthy when every check passed. Never raises for anything the class does.
    """
    subject = describe_object(cls)

    def run(out: TextIO) -> Report:
        if optimizer is None:
            name = getattr(cls, "__name__", "").lower()
            if name not in _REFERENCES:
                raise ValueError(f"could not tell whether {subject} is Adam or AdamW: name it, "
                                 f"e.g. check_torch({subject}, 'adam').")
        else:
            name = optimizer.lower()
            reference_class(name)  # a clear ValueError for an unknown optimizer
        print(f"Checking {subject} against torch.optim.{_REFERENCES[name]}:", file=out)
        return grade_torch(cls, name, seeds)

    # A ValueError is an unknown or unclear optimizer name: its text is the verdict.
    return self_check(subject, run, file=file, setup_errors=(ValueError,), code=cls)
