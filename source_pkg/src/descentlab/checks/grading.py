"""Grading an optimizer class: one assertion per property (nbgrader) and full reports.

Optimizer classes on the common exercise interface (:mod:`.exercise`): a
property on one seed is :func:`run_property` (case, observation under the time
limit, comparison, named mistake), the rest is the loop every exercise shares.

In a hidden nbgrader test cell::

    from descentlab.checks import assert_property
    assert_property(Momentum, "momentum", "carries_state", seed=91823)

The ``AssertionError`` carries only the student-facing diagnosis. Hidden cells
use seeds of their own; the public self-check uses :data:`PUBLIC_SEEDS`, so a
class that hard-codes the public answers fails the hidden tests.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..code_reads import names_read
from ..optimizers import OPTIMIZERS, find_reference, optimizer_class, reference_name
from . import messages
from .cases import Case, make_case
from .compare import Finding, agree, redrawn_gradients, steps_alike
from .diagnose import Diagnosis, diagnose_property, observe_property
from .exercise import Outcome, assert_outcome, run_checks
from .global_reads import global_reads_note
from .misspelt_state import misspelt_state_note
from .mistakes.texts import explain
from .observe import CLASS, INIT, SIGNATURE, Observation, observe, observe_in_turn
from .report import Report
from .reset_state import reset_cause
from .spec import Property, get_property, properties_for, required_arguments

__all__ = ["PUBLIC_SEEDS", "assert_property", "run_property", "score_properties"]

_NOT_RUN_AFTER_HANG = messages.skipped_after_hang("update()")

#: Parameter names no case uses, one per probe of state shared between objects.
_PROBE_KEYS = itertools.count()

#: Seeds of the public self-check (hidden tests must use others).
PUBLIC_SEEDS: tuple[int, ...] = (20240501, 7)


def run_property(
    student_cls: Any,
    optimizer: str,
    prop: str | Property,
    seed: int,
    *,
    time_limit: float | None = 2.0,
) -> Diagnosis:
    """Check one property of ``student_cls`` on the case drawn from ``seed``.

    Parameters
    ----------
    student_cls : type
        The student's optimizer class (anything else is diagnosed, not raised).
    optimizer : str
        Name of the reference optimizer ("momentum", "RMSProp", …).
    prop : str or Property
        The property (see :data:`~.spec.PROPERTIES`).
    seed : int
        Seed of the case.
    time_limit : float or None
        Seconds any single call of the student's code may take.

    Returns
    -------
    Diagnosis
    """
    name = reference_name(optimizer)
    prop = get_property(prop)
    if not isinstance(student_cls, type):
        example = optimizer_class(name).__name__
        return Diagnosis((Finding("class", messages.not_a_class(student_cls, example)),))
    case = prop.case(seed)
    required = required_arguments(name)
    runs = observe_property(student_cls, case.hyper_for(name), prop, case,
                            time_limit=time_limit, required=required)
    diagnosis = diagnose_property(runs, name, prop, case, time_limit=time_limit)
    state = prop.name == "carries_state"
    if diagnosis.passed and prop.judge != "values" and \
            _ignores_gradients(student_cls, runs[0].hyper, case, time_limit, required):
        # A property of what the step leaves alone, passed by a step that reads no gradient
        # (a red-team round: params[k] *= 0.5 kept lesson 01's every-key and in-place
        # points): code that computes nothing earns nothing (checks/README.md). Probed on
        # this property's own case, which the class cannot tell from the check's.
        return Diagnosis((Finding("ignores_gradients", messages.IGNORES_GRADIENTS),),
                         diagnosis.printed)
    if (diagnosis.passed and not state) or runs[0].error_stage in (CLASS, SIGNATURE, INIT) \
            or (diagnosis.findings and diagnosis.findings[0].kind == "timeout"):
        return diagnosis
    # State written in the class body (`v = {}` right under `class`) is shared by every
    # object: each check's new object meets an earlier one's state under the same key, of
    # another shape (a broadcast error) or other values (red-team round 8, two audits). New
    # objects on a key no object used tell (:func:`_shared_by_objects`). It costs the state
    # property, where it shows even when no earlier check ran; every other property is
    # judged again on keys no object used (an audit: it cost all four of Momentum's
    # properties).
    shared = _shared_by_objects(student_cls, runs[0].hyper, seed, time_limit, required)
    if shared is None:
        return diagnosis
    printed = diagnosis.printed + shared
    if state:
        # What this check saw is left out: an error's hint ("one state shared by several
        # parameters", of a broadcast error) blamed another mistake (an audit).
        return Diagnosis((Finding("shared_objects", messages.shared_between_objects(
            optimizer_class(name).state_names)),), printed)
    runs = observe_property(student_cls, runs[0].hyper, prop, case, time_limit=time_limit,
                            required=required, fresh_keys=True)
    judged = diagnose_property(runs, name, prop, case, time_limit=time_limit)
    if judged.findings:
        # Still wrong on new keys: what lives on is not kept per key (a step counter on the
        # class or on a function, red-team round 23), and a catalogued mistake's hint
        # ("bias correction?") would blame code that is right.
        first = judged.findings[0]
        judged = dataclasses.replace(judged, findings=(
            dataclasses.replace(first, message=messages.shared_changes_steps(first.message)),
            *judged.findings[1:]))
    return dataclasses.replace(judged, printed=judged.printed + printed)


def _shared_by_objects(student_cls: type, hyper: dict[str, float], seed: int,
                       time_limit: float | None, required: Sequence[str]) -> int | None:
    """Whether new objects of ``student_cls`` meet one another's state: the characters they
    printed if they do, None if not (or if a run stopped: no evidence).

    Two probes, each on a parameter name no case uses. Two objects one after the other, on the
    same arrays (as two optimizers of one network): state in the class body, or keyed by
    ``id(params[key])`` there (a student audit), meets the second. Three objects built, then
    updated in turn (as three networks' optimizers), each with hyperparameters, arrays and
    gradients of its own, each against one alone: state that a later ``__init__`` or another
    object's ``update`` resets or overwrites (red-team rounds 23 and 24: ``type(self).h =
    {}`` in ``__init__``, a global cleared when another object calls, a class dict keyed by
    (key, step), two state slots handed out in turn), and hyperparameters kept on the class
    (``Momentum.lr = lr``), meet another object's.
    """
    key = f"probe_{next(_PROBE_KEYS)}"
    case = make_case(seed, shapes={key: (3,)}, calls=2)
    arrays = {name: np.array(value) for name, value in case.params.items()}
    one_network = [observe(student_cls, hyper, case, time_limit=time_limit,
                           required=required, arrays=arrays) for _ in range(2)]
    if _told_apart(one_network[1:], one_network[0]):
        return sum(run.printed for run in one_network)
    # Hyperparameters scaled stay valid (β < 1, ε > 0) and tell one object's from another's.
    key = f"probe_{next(_PROBE_KEYS)}"
    runs = [({name: value * 0.8**i for name, value in hyper.items()},
             make_case(seed + i, shapes={key: (3,)}, calls=2)) for i in range(3)]
    networks = observe_in_turn(student_cls, runs, time_limit=time_limit, required=required)
    alone = [observe(student_cls, h, c, time_limit=time_limit, required=required)
             for h, c in runs]
    if any(_told_apart([run], by_itself) for run, by_itself in zip(networks, alone,
                                                                      strict=True)):
        return sum(run.printed for run in (*one_network, *networks, *alone))
    return None


def _told_apart(runs: Sequence[Observation], alone: Observation) -> bool:
    """Whether every run completed its calls and one of ``runs`` computed other than
    ``alone`` (a run that stopped is no evidence)."""
    return not any(run.error_stage for run in (*runs, alone)) and not all(
        agree(run, alone) for run in runs)


def _ignores_gradients(student_cls: type, hyper: dict[str, float], case: Case,
                       time_limit: float | None, required: Sequence[str]) -> bool:
    """Whether the class takes the same finite steps from the same parameters whatever
    their gradients: two new objects on the property's own ``case`` (its keys, shapes and
    parameters), one given its gradients, one others drawn as the checks draw them
    (:func:`~.compare.redrawn_gradients`), steps alike within a relative tolerance
    (:func:`~.compare.steps_alike`). One key for both: a step made from the key's name (a
    red-team look) differed between two keys, and was taken for one that reads the
    gradients. The property's own inputs, not a probe's (red-team round 16: a step that
    read the gradient only for keys named ``probe_*`` passed the probe), and steps alike,
    not values equal (the same round: ``p *= 0.5; p -= 1e-9 * g`` differed by a token of
    the gradient); gradients in the checks' own range (round 17: a step that raised, or
    read the gradient, only beyond it passed). A run that stopped is no evidence, nor is
    NaN (:func:`~.compare.steps_alike`)."""
    redrawn = iter(redrawn_gradients([grads[key] for grads in case.grads for key in case.keys],
                                     case.seed))
    other = tuple(_read_only({key: next(redrawn) for key in case.keys}) for _ in case.grads)
    steps = []
    for grads in (case.grads, other):
        run = observe(student_cls, hyper, dataclasses.replace(case, grads=grads),
                      time_limit=time_limit, required=required)
        if run.error_stage:  # a run that stopped is no evidence
            return False
        steps.append([np.diff(run.values[key], axis=0) for key in case.keys])
    grads = [np.stack([g[key] for g in case.grads]) for key in case.keys]
    return steps_alike(*steps, grads)


def _read_only(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``arrays``, made read-only as a case's own are."""
    for value in arrays.values():
        value.flags.writeable = False
    return arrays


def _outcome(diagnosis: Diagnosis) -> Outcome:
    """A diagnosis on the common exercise interface."""
    hung = bool(diagnosis.findings) and diagnosis.findings[0].kind == "timeout"
    return Outcome(diagnosis.message, diagnosis.mistake, diagnosis.printed, hung)


def assert_property(
    student_cls: Any,
    optimizer: str,
    prop: str | Property,
    seed: int,
    *,
    time_limit: float | None = 2.0,
) -> None:
    """Raise ``AssertionError`` with the student-facing diagnosis if ``prop`` fails.

    Examples
    --------
    >>> from descentlab.optimizers import Momentum
    >>> assert_property(Momentum, "momentum", "first_step", seed=1)
    """
    __tracebackhide__ = True  # not shown in tracebacks (IPython, pytest)
    prop = get_property(prop).for_optimizer(optimizer)
    diagnosis = run_property(student_cls, optimizer, prop, seed, time_limit=time_limit)
    outcome = _outcome(diagnosis)
    # The one way its state is forgotten, as the self-check says it (a browser audit read
    # the self-check's one cause, then all four under the test cell); the grader's proxy
    # of a class tells which object an attribute holds (reset_state.IDENTITY_HOOK).
    if outcome.mistake == _RESET:
        outcome = dataclasses.replace(outcome, message=_one_reset_cause(
            outcome.message, student_cls, optimizer, time_limit))
    # What the class's code says explains the failure better than any factor (for the
    # grader's proxy of a class, from the reads made in the student's kernel).
    note = "" if outcome.passed else _code_notes(student_cls, optimizer, [prop.name])
    if note:
        outcome = dataclasses.replace(outcome, message=_led_by(note, _one_cause(
            outcome.message, outcome.mistake, _misspelt(student_cls, optimizer, [prop.name]),
            optimizer), outcome.mistake))
    assert_outcome(outcome, prop.short)


def _with_reset_cause(report: Report, student_cls: Any, optimizer: str,
                      time_limit: float | None) -> Report:
    """``report`` with a forgotten state's list of possible causes cut to the one the
    class's state shows (:func:`~.reset_state.reset_cause`), where it shows one."""
    return dataclasses.replace(report, results=tuple(
        dataclasses.replace(r, message=_one_reset_cause(r.message, student_cls, optimizer,
                                                         time_limit))
        if r.mistake == _RESET else r for r in report.results))


#: The forgotten state's mistake, whose explanation lists every way to forget it.
_RESET = "state_reset_each_call"


def _one_reset_cause(message: str, student_cls: Any, optimizer: str,
                     time_limit: float | None) -> str:
    """``message`` of a forgotten state with the one cause the class's state shows."""
    cause = reset_cause(student_cls, reference_name(optimizer), time_limit)
    return _without_causes(message, optimizer, cause) if cause else message


def _without_causes(message: str, optimizer: str, cause: str = "") -> str:
    """A forgotten state's ``message`` with its list of every possible cause ("Either ...
    or ...") replaced by the one ``cause`` the class shows ("" when another note says it)."""
    every = explain(_RESET, reference_name(optimizer))
    head = every.partition(" Either ")[0]
    return message.replace(every, f"{head} {cause}" if cause else head)


def _led_by(note: str, message: str, mistake: str = "") -> str:
    """``message`` after the ``note`` that explains it: a student audit's global ``lr`` read
    "a factor is missing or extra (the learning rate? ...)" first, the cause last.

    The note alone where ``message`` is the learning rate left unused (``mistake``
    ``lr_ignored``) and the note names ``self.lr``: the same cause, said there as "use
    self.lr ... where your code has a fixed number", which a global is not (a student audit).
    """
    if mistake == "lr_ignored" and "`self.lr`" in note:
        return note
    return f"{note}{messages.CHECK_SAW}{message}"


def score_properties(
    student_cls: Any,
    optimizer: str,
    seeds: Iterable[int],
    *,
    properties: Sequence[str | Property] | None = None,
    points: dict[str, float] | None = None,
    time_limit: float | None = 2.0,
) -> Report:
    """Check every property of ``optimizer`` on every seed and score each.

    Parameters
    ----------
    student_cls : type
        The student's optimizer class.
    optimizer : str
        Name of the reference optimizer.
    seeds : iterable of int
        A property passes only if it passes for every seed.
    properties : sequence, optional
        Subset to check (default: :func:`~.spec.properties_for` the optimizer).
    points : dict of str to float, optional
        Points per property name (default: each property's ``points``).
    time_limit : float or None
        Seconds any single call of the student's code may take.

    Returns
    -------
    Report
        Truthy when every property passed. Its notes say when a method reads a notebook
        global (``lr``) where it meant ``self.lr`` (:func:`~.global_reads.global_reads_note`).
    """
    chosen = [get_property(p) for p in (properties or properties_for(optimizer))]

    def run(prop: Property, seed: int) -> Outcome:
        return _outcome(run_property(student_cls, optimizer, prop, seed, time_limit=time_limit))

    seeds = tuple(seeds)
    report = run_checks(messages.describe_object(student_cls), chosen, run, seeds, points=points,
                        skipped_after_hang=_NOT_RUN_AFTER_HANG)
    report = _with_reset_cause(report, student_cls, optimizer, time_limit)
    failed = [r.name for r in report.results if not r.passed]
    # A global read explains the first failure: it leads it, not a note after the verdicts.
    reads = global_reads_note(student_cls, reference_name(optimizer))
    if reads and failed:
        # Led: the first failure, each later one that saw what it saw, and each that shows
        # the read as an unused lr (the note alone then): they fold, "(same problem as ...)".
        first = next(r for r in report.results if r.name == failed[0])
        report = dataclasses.replace(report, results=tuple(
            dataclasses.replace(r, message=_led_by(reads, r.message, r.mistake))
            if not r.passed and (r is first or r.mistake == "lr_ignored"
                                 or r.message == first.message) else r
            for r in report.results))
    # A state attribute spelt two ways is the cause of its forgotten state: it leads that
    # failure, whose list of every possible cause goes (a student audit read the list in
    # the failure, and the misspelling four lines lower).
    misspelt = _misspelt(student_cls, optimizer, failed)
    if misspelt:
        report = dataclasses.replace(report, results=tuple(
            dataclasses.replace(r, message=_led_by(misspelt, _one_cause(
                r.message, r.mistake, misspelt, optimizer))) if r.name == "carries_state" else r
            for r in report.results))
    notes = [_code_notes(student_cls, optimizer, failed, reads="" if failed else reads,
                         misspelt="")]
    uncounted = _reference_base_note(student_cls, optimizer)
    if not report:
        # Not for a class whose steps show none of its base's (an audit's AdamW that never
        # called super().update() was sent to fix its Adam first).
        without_base = any(r.mistake in _TAKES_NO_BASE_STEP for r in report.results)
        notes.insert(0, uncounted or ("" if without_base else _inherited_note(
            student_cls, optimizer, seeds, time_limit)))
    notes = [note for note in notes if note]
    return dataclasses.replace(report, notes=(*notes, *report.notes),
                               uncounted=uncounted if report else "")


def _code_notes(student_cls: Any, optimizer: str, failed: Sequence[str],
                reads: str | None = None, misspelt: str | None = None) -> str:
    """What the code of ``student_cls`` says of its checks: a global ``lr`` read for
    ``self.lr`` (:func:`~.global_reads.global_reads_note`, whatever failed), and, when the
    state was not carried between calls (``failed``: the failed properties' names), one
    state attribute spelt two ways (:func:`_misspelt`). ``reads``, ``misspelt``: those
    notes when the caller has them already (``""``: none to give)."""
    notes = [global_reads_note(student_cls, reference_name(optimizer)) if reads is None
             else reads,
             _misspelt(student_cls, optimizer, failed) if misspelt is None else misspelt]
    return " ".join(note for note in notes if note)


def _misspelt(student_cls: Any, optimizer: str, failed: Sequence[str]) -> str:
    """:func:`~.misspelt_state.misspelt_state_note` where the state was not carried between
    calls (``failed``: the failed properties' names), else ``""``."""
    if "carries_state" not in failed:
        return ""
    return misspelt_state_note(student_cls, [h.name for h in optimizer_class(
        reference_name(optimizer)).hyperparameters])


def _one_cause(message: str, mistake: str, cause: str, optimizer: str) -> str:
    """A forgotten state's ``message`` without its list of every possible cause when the
    code shows the one (``cause``, a misspelt attribute, which leads the message)."""
    if not cause or mistake != "state_reset_each_call":
        return message
    return _without_causes(message, optimizer)


def _reference_base_note(student_cls: Any, optimizer: str) -> str:
    """The note for a student's class built on the course's reference class of an exercise
    of the same lesson (the setup cell's ReferenceAdam under AdamW): its checks pass, and
    the grader gives it nothing (an audit: "All checks passed" in the self-check, 0 points
    and a flag in the grade). A reference of another lesson's exercise (lesson 03's
    Momentum over SGD) is allowed there, and here."""
    if getattr(student_cls, "__module__", "descentlab").split(".")[0] == "descentlab":
        return ""  # the reference itself, checked as an example
    from ..course import LESSONS

    mine = reference_name(optimizer)
    for lesson in LESSONS:
        graded = {ex.reference for ex in lesson.exercises if ex.kind == "optimizer"}
        if mine in graded:
            break
    else:
        return ""
    base = next((b for b in getattr(student_cls, "__mro__", ())[1:]
                 if any(b is OPTIMIZERS[name] for name in graded)), None)
    if base is None:
        return _state_of_note(student_cls)
    return (f"Your {student_cls.__name__} builds on the course's reference {base.__name__} "
            f"(descentlab.optimizers.{base.__name__}, the setup cell's Reference"
            f"{base.__name__}), which the grader does not count: such a class scores 0 there. "
            f"Build it on your own {base.__name__}, or write its update() yourself.")


def _state_of_note(student_cls: Any) -> str:
    """The note for a class that keeps its state with the course's ``Optimizer.state_of``
    (inherited from a reference class of another lesson, as ``RMSProp(ReferenceAdaGrad)``):
    the grader switches it off with the answer key (a student audit: "All checks passed",
    then 3/10)."""
    from ..optimizers.base import Optimizer

    if getattr(student_cls, "state_of", None) is not Optimizer.state_of \
            or "state_of" not in names_read(student_cls):
        return ""
    return (f"Your {student_cls.__name__} keeps its state with state_of() of the course's "
            "reference classes (descentlab.optimizers.Optimizer.state_of), which the grader "
            "does not count: such a class scores 0 there. Keep the state yourself (a dict "
            "of your own, with np.zeros_like(param) on first use).")


#: Mistakes of a class whose steps take nothing of its base class's step.
_TAKES_NO_BASE_STEP = frozenset({"adamw_no_adam_step"})


def _inherited_note(student_cls: Any, optimizer: str, seeds: tuple[int, ...],
                    time_limit: float | None) -> str:
    """The note for a class that builds on the student's class of another optimizer which
    fails its own check (an AdamW over an Adam without bias correction): the failures may
    be the base's, not the formula of the subclass (a student audit read "compare your
    update with the formula" under a correct AdamW)."""
    mine = reference_name(optimizer)
    for base in getattr(student_cls, "__mro__", ())[1:]:
        if base is object or base.__module__.split(".")[0] == "descentlab":
            continue
        if not callable(getattr(base, "update", None)):
            continue  # a base that only sets up (an __init__ of hyperparameters): no step
        name = find_reference(base)
        if name is None or name == mine:
            continue
        failed = [r for r in score_properties(base, name, seeds, time_limit=time_limit).results
                  if not r.passed]
        if not failed or any(messages.is_not_written(r.message) for r in failed):
            return ""
        if all(messages.NO_CHANGE in r.message for r in failed):
            # Audit 37: an update() that only creates the state its subclasses step with
            # (a template method) takes no step of its own; the fault is not the base's.
            continue
        shorts = ", ".join(r.short for r in failed)
        if _replaced_since(base):
            # A student audit: Adam fixed and run again, then check(AdamW) said "fix Adam
            # first" of the Adam AdamW's cell was run with.
            return (f"Your {student_cls.__name__} builds on an older {base.__name__} (the one "
                    f"defined when you ran {student_cls.__name__}'s cell), which fails its own "
                    f"check ({shorts}): run {student_cls.__name__}'s cell again, so that it "
                    f"builds on your {base.__name__} as it is now.")
        return (f"Your {student_cls.__name__} builds on your {base.__name__}, which fails its "
                f"own check ({shorts}): fix {base.__name__} first "
                f"(check({base.__name__})); the failures here may be its.")
    return ""


def _replaced_since(base: type) -> bool:
    """Whether the notebook's name of ``base`` now holds another class of that name: its
    cell was run again after a subclass's was (that subclass still builds on the old one)."""
    module = sys.modules.get(getattr(base, "__module__", "") or "")
    now = getattr(module, getattr(base, "__name__", ""), None) if module is not None else None
    return isinstance(now, type) and now is not base and now.__name__ == base.__name__
