"""Name the student's mistake: compare with the reference, then with the catalogue.

:func:`diagnose` runs only trusted code (the reference optimizer and the
catalogue's mutants) on the case the student's class was observed on; the
student's observation may come from another, sandboxed process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..optimizers import OPTIMIZERS, nan_causes, optimizer_class, reference_name
from .cases import Case
from .compare import (
    BEHAVIOUR,
    Finding,
    agree,
    default_tolerance,
    differences,
    keys_off,
    later_call_message,
    value_gap,
)
from .judges import (
    judge_float32,
    judge_in_place,
    judge_per_key,
    judge_zero_grad,
    without_zero_gradients,
)
from .messages import fmt, only_non_finite
from .mistakes import mistakes_for
from .observe import Observation, observe
from .spec import Property

__all__ = ["NAMEABLE", "STOPPING", "Diagnosis", "diagnose", "diagnose_property", "observe_property"]

#: Finding kinds that mean the class could not be used at all (they fail every property).
STOPPING = frozenset({"class", "signature", "not_written", "init"})

#: Finding kinds a catalogued mistake can explain (what the code computed).
NAMEABLE = BEHAVIOUR | {"unchanged", "mixed", "moved"}


@dataclass(frozen=True)
class Diagnosis:
    """The outcome of checking one observation.

    Attributes
    ----------
    findings : tuple of Finding
        Every disagreement, the most important first; empty if all is well.
    printed : int
        Characters the student's code printed (hidden during the checks).
    """

    findings: tuple[Finding, ...]
    printed: int = 0

    @property
    def passed(self) -> bool:
        """True when nothing is wrong."""
        return not self.findings

    @property
    def message(self) -> str:
        """What the student reads first (``""`` when passed)."""
        return self.findings[0].message if self.findings else ""

    @property
    def mistake(self) -> str:
        """Id of the first named mistake (``""`` if none was recognised)."""
        return next((f.mistake for f in self.findings if f.mistake), "")

    def __bool__(self) -> bool:
        return self.passed


def _name_identity(finding: Finding) -> Finding:
    if finding.kind != "identity":
        return finding
    return Finding("identity", finding.message, finding.call, finding.key, mistake="not_in_place")


def diagnose(
    student: Observation,
    optimizer: str,
    case: Case,
    *,
    value_calls: int | None = None,
    kinds: Iterable[str] | None = None,
    time_limit: float | None = 2.0,
    later: Observation | None = None,
) -> Diagnosis:
    """Compare ``student`` with the reference on ``case`` and explain any difference.

    Parameters
    ----------
    student : Observation
        The student's class observed on ``case`` (:func:`~.observe.observe`).
    optimizer : str
        Registry name of the optimizer the class implements.
    case : Case
        The case of the observation (regenerate it from the seed).
    value_calls : int, optional
        Compare values only after the first ``value_calls`` calls.
    kinds : iterable of str, optional
        Keep only findings of these kinds (plus those that make the class
        unusable); default: all.
    time_limit : float or None
        Seconds a catalogue mutant may take per call.
    later : Observation, optional
        The student's class run for one more call than ``case`` has (on another
        case): whether it moved then tells a 1st step of zero from a class that
        changes nothing (:func:`observe_property` makes it).

    Returns
    -------
    Diagnosis
        If the student's values or errors match a catalogued mistake of the
        optimizer, those findings are replaced by one finding carrying the
        mistake's id and explanation; a new array in ``params`` is named
        ``not_in_place``; anything else keeps a precise generic message.
    """
    name = reference_name(optimizer)
    reference = observe(optimizer_class(name), student.hyper, case, time_limit=None)
    findings = differences(student, reference, value_calls=value_calls, optimizer=name,
                           moves_later=_moves_later(later, student.calls))
    if kinds is not None:
        keep = set(kinds) | STOPPING
        findings = [f for f in findings if f.kind in keep]
    # A mutant names the mistake only if it also does what the student's class did on the
    # longer run (an empty update() is no Momentum stepping with the old velocity).
    runs, cases = ((student, later), (case, _one_call_more(case))) if later is not None \
        else ((student,), (case,))
    findings = _named(findings, runs, name,
                      lambda cls: tuple(observe(cls, student.hyper, c, time_limit=time_limit)
                                        for c in cases),
                      value_calls)
    if findings and not findings[0].mistake:
        findings[0] = _whole_array_statistic(
            _later_call(findings[0], student, reference, name, case), student, name, case)
    return Diagnosis(tuple(findings), student.printed)


def _moved(observation: Observation, after: int = 0) -> bool:
    """Whether any parameter changed on a call after the first ``after`` ones."""
    return any(not np.array_equal(v[c], v[c + 1], equal_nan=True)
               for v in observation.values.values() for c in range(after, observation.calls_done))


def _moves_later(later: Observation | None, calls: int) -> bool | None:
    """Whether ``later`` moved a parameter after call ``calls`` (``None``: not known)."""
    if later is None or later.calls_done <= calls:
        return None
    return _moved(later, after=calls)


def _named(findings: list[Finding], runs: Sequence[Observation], name: str,
           run_mutant: Callable[[type], tuple[Observation, ...]],
           value_calls: int | None = None) -> list[Finding]:
    """Replace the first nameable finding by a catalogued mistake's, if one behaves the same.

    A mutant explains the student's class when it computed the same on every run
    (values, errors, broken parameters); the other nameable findings then go, as
    they are consequences of the same mistake.
    """
    findings = [_name_identity(f) for f in findings]
    behaviour = [f for f in findings if f.kind in NAMEABLE]
    if not behaviour:
        return findings
    for mistake in mistakes_for(name):
        agreeing = []  # (largest gap, explanation) of each form that computed the same
        for cls, explanation in mistake.forms():
            mutant_runs = run_mutant(cls)
            if len(mutant_runs) == len(runs) and all(
                    agree(s, m, value_calls=value_calls) for s, m in zip(runs, mutant_runs,
                                                                         strict=True)):
                gap = max((value_gap(s, m, value_calls=value_calls)
                           for s, m in zip(runs, mutant_runs, strict=True)), default=0.0)
                agreeing.append((gap, explanation))
        if agreeing:
            explanation = min(agreeing, key=lambda found: found[0])[1]  # ties: the first
            first = behaviour[0]
            if not any(_finite_evidence(run) for run in runs):
                # NaN agreed with NaN, nothing else: one cause among others.
                explanation = only_non_finite(explanation, nan_causes(name)[0])
            named = Finding(first.kind, explanation, first.call, first.key,
                            first.max_diff, mistake.id)
            return [named if f is first else f for f in findings
                    if f is first or f.kind not in NAMEABLE]
    return findings


def _finite_evidence(run: Observation) -> bool:
    """Whether ``run`` stopped with an error or left a finite parameter value after a call:
    something to agree on besides NaN."""
    return bool(run.error_stage) or any(
        np.any(np.isfinite(values[1:run.calls_done + 1])) for values in run.values.values())


def _later_call(finding: Finding, student: Observation, reference: Observation, name: str,
                case: Case) -> Finding:
    """Tell a state that is thrown away from one that follows the wrong rule.

    For values right up to call n − 1 and wrong after call n (one key): if the
    n-th step is the step a *fresh* reference optimizer takes from the student's
    parameters with that gradient, the state was not carried; otherwise it was,
    with the wrong recurrence.
    """
    n, key = finding.call, finding.key
    if finding.kind != "value" or n < 2 or len(student.keys) != 1:
        return finding
    params = {key: np.asarray(student.values[key][n - 1], dtype=case.dtype)}
    if not np.all(np.isfinite(params[key])):
        return finding
    step = Case(case.seed, params, (case.grads[n - 1],), case.hyper)
    fresh = observe(optimizer_class(name), student.hyper, step, time_limit=None)
    if not fresh.completed:
        return finding
    tol = default_tolerance(reference.input_dtype)
    steps = np.abs(np.diff(reference.values[key], axis=0))
    largest = float(np.max(steps[np.isfinite(steps)], initial=0.0))
    got = student.values[key][n]

    def near(value: np.ndarray) -> bool:
        """Whether the student's n-th values are ``value``, within the values' tolerance."""
        return bool(np.all(np.abs(got - value) <= tol.atol + tol.rtol * np.abs(value)
                           + tol.step_rtol * n * largest))

    reset = near(fresh.values[key][1])
    zero = not np.any(case.grads[n - 1][key])
    # What a class that skips on a zero gradient does where a fresh one would move (AdamW's
    # decay): holds the parameter, or takes the step without the decay (an audit's AdamW:
    # `if np.any(grads[key]):` around the decay, told "the wrong rule").
    skipped = ""
    if zero and not reset:
        decay = student.hyper.get("weight_decay", 0.0) * student.hyper.get("lr", 0.0)
        before, after = reference.values[key][n - 1], reference.values[key][n]
        skipped = ("step" if np.array_equal(got, params[key])
                   else "decay" if decay and near(after + before * decay) else "")
    text = later_call_message(n, key, fmt(finding.max_diff), name, reset=reset,
                              zero_gradient=zero, changed=student.changed, skipped=skipped)
    return Finding(finding.kind, text, finding.call, finding.key, finding.max_diff)


def _whole_array_statistic(finding: Finding, student: Observation, name: str,
                           case: Case) -> Finding:
    """Name a 1st step that is one multiple of the gradient where each entry should have its own.

    AdaGrad, RMSProp and Adam divide each entry by a statistic of its own gradients; a
    step proportional to g means one number for the whole array (a student audit's
    ``h += np.sum(g ** 2)`` was told only "the formula of a single step is off"), or a
    statistic that is nearly one number (a review's Adam with v starting at ones).
    """
    cls = OPTIMIZERS.get(name)
    if finding.kind != "value" or finding.call != 1 or finding.key is None or cls is None \
            or not cls.divides_by_gradient_statistic:
        return finding
    g = np.asarray(case.grads[0][finding.key], dtype=np.float64)
    values = student.values[finding.key]
    if np.ptp(np.abs(g)) <= 0.1 * float(np.max(np.abs(g), initial=0.0)):
        return finding  # entries of (nearly) one size, a 0-d array: any step looks like it
    step = values[1] - values[0]
    if not np.all(np.isfinite(step)):
        return finding
    k = float(np.median(step.ravel() / g.ravel()))  # the cases' gradients have no zero entry
    if k >= 0 or np.max(np.abs(step - k * g)) > 0.02 * float(np.max(np.abs(step))):
        return finding
    return Finding(finding.kind, (
        f"after the 1st call, params[{finding.key!r}] moved by one multiple of its gradient in "
        f"every entry, where {cls.__name__} divides each entry by a statistic of that entry's "
        "own gradients (so that entries with small gradients step as far as those with large "
        "ones): yours is (nearly) the same for every entry: one number for the whole array "
        "(np.sum(g * g), a mean, a norm), a state that does not start at 0 and swamps g·g "
        "(np.ones_like), or none at all (still 0, or no division). Keep it entry by entry, "
        "an array of the parameter's shape that starts at 0 and is built from g * g."),
        finding.call, finding.key, finding.max_diff)


def _one_call_more(case: Case) -> Case:
    """``case`` with one more call, on half its first gradient (``later`` runs).

    Not the same gradient again: under a constant gradient Adam's m̂ and a v̂ made from g
    (not g²) are equal on every call, so a step divided by √m̂ would be named that
    catalogued mistake (an audit's student was told to fix a v that was right).
    """
    return Case(case.seed, case.params,
                (*case.grads, {key: g * 0.5 for key, g in case.grads[0].items()}),
                case.hyper, case.zero_keys)


def _without_zeros(case: Case) -> Case:
    """``case`` with no zero gradient (:func:`~.judges.without_zero_gradients`): what the
    class does on the ``zero_grad`` case but for the zeros (its second run)."""
    grads = [dict(zip(step, without_zero_gradients(list(step.values()),
                                                   list(following.values())), strict=True))
             for step, following in zip(case.grads, (*case.grads[1:], case.grads[-1]),
                                         strict=True)]
    return Case(case.seed, case.params, tuple(grads), case.hyper)


def _alone(case: Case, key: str) -> Case:
    """The case restricted to one key (same values, same gradients)."""
    return Case(case.seed, {key: case.params[key]},
                tuple({key: grads[key]} for grads in case.grads), case.hyper,
                tuple(k for k in case.zero_keys if k == key))


def observe_property(factory: Any, hyper: dict[str, float], prop: Property, case: Case, *,
                     time_limit: float | None = 2.0, required: Sequence[str] = (),
                     fresh_keys: bool = False) -> tuple[Observation, ...]:
    """Every observation ``prop`` is judged on: the case, for ``per_key`` each key alone,
    for ``zero_grad`` the case without its zero gradients.

    ``fresh_keys``: each run's object gets the keys under names no run used before
    (:func:`.observe.observe`), for a class whose state every object shares.

    A ``values`` property of one call gets a second run, one call longer
    (:func:`diagnose`'s ``later``): a catalogued mistake must match both to be named.

    Each run builds a new object from ``factory`` (the student's class may be a proxy to
    another process: only constructor and ``update`` calls are made).
    """
    together = observe(factory, hyper, case, time_limit=time_limit, required=required,
                       fresh_keys=fresh_keys)
    if prop.judge == "values" and case.calls == 1 and together.completed:
        # One call cannot tell mistakes apart that differ only later: a catalogued mistake
        # names the student's only if it also does what the student's class does on a 2nd
        # call (an audit: a step divided by √m̂ was told v must average g·g; h started at
        # g², that the (1 − ρ) factor is missing). And if the call changed nothing, a class
        # that never changes params from a 1st step of zero (state still at 0).
        return (together, observe(factory, hyper, _one_call_more(case), time_limit=time_limit,
                                  required=required, fresh_keys=fresh_keys))
    if prop.judge == "zero_grad" and not together.error_stage and case.calls > 1:
        # A NaN after the zero gradient's call is its doing only if the class makes none
        # without it (a two-bug audit: a `return` in the loop left the zero gradient's key
        # the only one stepped, and g not squared made NaN there; epsilon was blamed).
        return (together, observe(factory, hyper, _without_zeros(case), time_limit=time_limit,
                                  required=required, fresh_keys=fresh_keys))
    if prop.judge != "per_key" or together.error_stage:
        # A class that fails on all keys at once fails this property anyway: no need to run
        # it (and wait for it again, if it hung) on each key alone.
        return (together,)
    return (together, *(observe(factory, hyper, _alone(case, key), time_limit=time_limit,
                                required=required, fresh_keys=fresh_keys)
                        for key in case.keys))


def _shape_specific(student: Observation, reference: Observation, case: Case,
                    optimizer: str) -> list[Finding]:
    """A finding when the student's matrices take the reference's steps and a vector or a
    0-d parameter does not: the update treats parameters of some shapes differently.

    The value properties use matrices only, so an AdamW that decays matrices alone (no
    decay of biases) scored full marks (a long-standing audit note). A formula off for every
    shape moves the matrices wrong too, and costs the value properties alone.
    """
    if student.error_stage or reference.error_stage:
        return []
    # The value properties' tolerance: an epsilon placed otherwise (inside the root) moves
    # small entries a hair more, and is right (a test of honest forms).
    off = keys_off(student, reference)
    if not off or any(np.ndim(case.params[key]) >= 2 for key in off) or \
            not any(np.ndim(case.params[key]) >= 2 for key in case.keys):
        return []
    key = off[0]
    what = "a vector (a bias)" if np.ndim(case.params[key]) == 1 else "a 0-d array"
    return [Finding("value", f"params[{key!r}], {what}, moves differently from the formula, "
                    "while the matrices match it: every parameter, whatever its shape, takes "
                    "the same update" + (" (AdamW decays biases too)." if optimizer == "adamw"
                                         else "."), key=key)]


def diagnose_property(runs: Sequence[Observation], optimizer: str, prop: Property, case: Case,
                      *, time_limit: float | None = 2.0) -> Diagnosis:
    """Judge ``prop`` on the student's observations (:func:`observe_property`), name the mistake.

    ``"values"`` properties are compared with the reference (:func:`diagnose`); the
    others are judged on the student's runs alone (:mod:`.judges`), then named by
    the catalogued mistake that computed the same on every run, if any.
    """
    name = reference_name(optimizer)
    student = runs[0]
    if prop.judge == "values":
        return diagnose(student, name, case, value_calls=prop.value_calls, kinds=prop.kinds,
                        time_limit=time_limit, later=runs[1] if len(runs) > 1 else None)
    if prop.judge == "in_place":
        findings = judge_in_place(student)
    elif prop.judge == "float32":
        findings = judge_float32(student)
    elif prop.judge == "per_key":
        # Without the runs of each key alone (the class failed on all keys at once) only
        # that failure is judged.
        alone = dict(zip(case.keys, runs[1:], strict=True)) if len(runs) > 1 else {}
        findings = judge_per_key(student, alone, name) or _shape_specific(
            student, observe(optimizer_class(name), student.hyper, case, time_limit=None),
            case, name)
    elif prop.judge == "zero_grad":
        reference = observe(optimizer_class(name), student.hyper, case, time_limit=None)
        findings = judge_zero_grad(student, reference, name,
                                   without_zeros=runs[1] if len(runs) > 1 else None)
    else:
        raise ValueError(f"unknown judge {prop.judge!r}")
    if findings and findings[0].kind not in STOPPING:
        findings = _named(findings, runs, name,
                          lambda cls: observe_property(cls, student.hyper, prop, case,
                                                       time_limit=time_limit))
    printed = sum(r.printed for r in runs)
    return Diagnosis(tuple(findings), printed)
