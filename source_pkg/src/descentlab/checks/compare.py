"""Compare two observations of the same case and describe every disagreement.

:func:`differences` is pure: it only reads two :class:`~.observe.Observation`
objects (no student code runs), so a grader can compare an observation made in
a sandboxed process with the reference's.

Tolerance. A value ``s`` of the student agrees with the reference value ``r``
after call ``c`` when

    |s − r| ≤ atol + rtol·|r| + step_rtol · c · S

where ``S`` is the largest step the reference took on that parameter. The
``step_rtol`` term accepts every correct implementation: epsilon inside or
outside the square root (1e-10 … 1e-7), the book's Adam step size
η·√(1−β₂ᵗ)/(1−β₁ᵗ), any algebraically equivalent form or loop order. With the
gradients of :func:`~.cases.make_case` (magnitudes ≥ 0.05) those differ from
the reference by well under 0.1 % of a step, while every mistake of the
catalogue moves at least several % of a step differently. ``rtol`` covers
float32 rounding.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..optimizers import OPTIMIZERS, nan_causes
from . import messages as msg
from .cases import GRAD_MAGNITUDE
from .observe import CLASS, INIT, SIGNATURE, UPDATE, Observation

__all__ = ["BEHAVIOUR", "Finding", "Tolerance", "default_tolerance", "differences",
           "later_call_message", "redrawn_gradients", "steps_alike"]

#: Finding kinds that describe what the code computed (a mistake can explain them).
BEHAVIOUR = frozenset({"error", "timeout", "problem", "nan", "value"})

# Order of findings at the same call: the most fundamental first.
_PRIORITY = {"problem": 0, "nan": 1, "value": 2, "mixed": 2, "moved": 2, "error": 3,
             "timeout": 3, "identity": 4, "added": 4, "unchanged": 5, "dtype": 6}


@dataclass(frozen=True)
class Finding:
    """One disagreement between a student's observation and the expected one.

    Attributes
    ----------
    kind : str
        ``"class"``, ``"signature"``, ``"not_written"``, ``"init"`` (the class
        cannot be used at all); ``"error"``, ``"timeout"`` (``update`` raised or
        hung); ``"problem"`` (a parameter is not an array of its shape any
        more); ``"nan"``, ``"value"`` (wrong numbers); ``"identity"`` (not
        updated in place); ``"added"`` (keys put into ``params``); ``"dtype"`` (the
        dtype changed); ``"unchanged"`` (the parameter did not move); ``"mixed"`` (a
        parameter moves differently together with others than alone); ``"moved"`` (it
        moved on a zero gradient).
    message : str
        What a student reads.
    call : int
        The 1-based ``update`` call where it was first seen (0: before any).
    key : str
        The parameter concerned (``""`` if none).
    max_diff : float
        Largest absolute difference for ``"value"`` findings (NaN otherwise).
    mistake : str
        Id of the catalogued mistake that explains it (set by ``diagnose``).
    """

    kind: str
    message: str
    call: int = 0
    key: str = ""
    max_diff: float = float("nan")
    mistake: str = ""


@dataclass(frozen=True)
class Tolerance:
    """How close a student's value must be (see the module docstring)."""

    rtol: float
    atol: float
    step_rtol: float


def default_tolerance(dtype: str) -> Tolerance:
    """The tolerance for arrays of ``dtype`` (``"float32"`` is looser)."""
    if dtype == "float32":
        return Tolerance(rtol=4e-6, atol=1e-7, step_rtol=2e-3)
    return Tolerance(rtol=1e-9, atol=1e-12, step_rtol=2e-3)


def redrawn_gradients(grads: list[np.ndarray | None], seed: int) -> list[np.ndarray | None]:
    """Other gradients of the same shapes, dtypes and zeros, for the second run that tells a
    step that reads no gradient (:func:`steps_alike`): each nonzero entry drawn again, as
    the checks draw them (magnitude in :data:`~.cases.GRAD_MAGNITUDE`, either sign).

    Drawn as the checks' own are, so that a step cannot tell them from a check's: red-team
    round 17's step() read −2.5 times the check's gradients, out of their range, and raised
    there, or read them only there. Both the sign and the size change (a step made of g² is
    blind to the sign, Adam's first step to the size).

    Examples
    --------
    >>> g = np.array([0.5, 0.0, -1.0], dtype=np.float32)
    >>> [h] = redrawn_gradients([g], seed=1)
    >>> h.dtype, h[1] == 0, bool(np.all(np.abs(h[[0, 2]]) >= 0.05))
    (dtype('float32'), True, True)
    """
    rng = np.random.default_rng([seed, 17])
    out: list[np.ndarray | None] = []
    for grad in grads:
        if grad is None:
            out.append(None)
            continue
        grad = np.asarray(grad)
        fresh = rng.uniform(*GRAD_MAGNITUDE, size=grad.shape) * rng.choice([-1.0, 1.0],
                                                                            size=grad.shape)
        out.append(np.where(grad == 0, 0.0, fresh).astype(grad.dtype))
    return out


#: How little the steps of the two runs may differ, relative to the larger, to be taken for
#: one step: the gradient then has no visible effect on it. A step that reads the gradient
#: differs by about its own size on other gradients; the catalogue's mistakes and the
#: reference optimizers by at least a fifth of their step (AdamW's decay without the rate,
#: whose decay outweighs the gradient), float32 ones included
#: (tests/test_checks_grading.py). A token read, ``p *= 0.5; p -= 1e-9 * g`` (red-team
#: round 16), or ``1e-3 * g`` (round 17), differs by a thousandth of it or less.
STEPS_ALIKE_RTOL = 0.01


def steps_alike(first: list[np.ndarray], second: list[np.ndarray], grads: list[np.ndarray],
                rtol: float = STEPS_ALIKE_RTOL) -> bool:
    """Whether two runs took the same steps, within ``rtol`` of the larger.

    ``first`` and ``second`` hold the steps (value after a call minus value before) of
    every parameter at every call, in the same order, of two runs from the same
    parameters, one with a check's gradients, one with :func:`redrawn_gradients`; ``grads``
    the check's gradients, of the same shapes (0 where a parameter had none). Judged on
    every parameter together, on the entries whose gradient is not 0 (where it is, both runs
    were given the same 0, and take the same step however it is made). NaN is no evidence
    either (a step of 0/0 is NaN from any gradient): entries non-finite in both runs are
    left out, and runs with nothing left tell nothing; an entry finite in one run only
    differs. Steps that are all 0 are alike (nothing moved, whatever the gradients).

    Examples
    --------
    >>> g = np.array([0.5, -1.0])
    >>> steps_alike([-0.1 * g], [-0.1 * np.array([-1.2, 0.3])], [g])  # SGD reads it
    False
    >>> halves = np.array([-0.4, 0.3])
    >>> steps_alike([halves - 1e-9 * g], [halves + 2.5e-9 * g], [g])   # a token read
    True
    >>> steps_alike([np.array([np.nan])], [np.array([np.nan])], [g[:1]])   # no evidence
    False
    """
    shapes = [np.shape(x) for x in first]
    if not shapes or shapes != [np.shape(x) for x in second] or \
            shapes != [np.shape(x) for x in grads]:
        return False

    def flat(arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([np.ravel(np.asarray(x, dtype=np.float64)) for x in arrays])

    a, b, g = flat(first), flat(second), flat(grads)
    given = g != 0
    a, b = a[given], b[given]
    finite = np.isfinite(a)
    if not np.array_equal(finite, np.isfinite(b)):
        return False
    if not finite.any():
        return False
    a, b = a[finite], b[finite]
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)))
    return float(np.linalg.norm(a - b)) <= rtol * scale


def differences(
    student: Observation,
    reference: Observation,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    step_rtol: float | None = None,
    value_calls: int | None = None,
    optimizer: str | None = None,
    moves_later: bool | None = None,
) -> list[Finding]:
    """List how ``student`` disagrees with ``reference`` on the same case.

    Parameters
    ----------
    student, reference : Observation
        Observations of the same case (same fingerprint).
    rtol, atol, step_rtol : float, optional
        Tolerances (see the module docstring); defaults from
        :func:`default_tolerance` for the case's dtype.
    value_calls : int, optional
        Compare values only after the first ``value_calls`` calls (in-place,
        identity and dtype are always checked on every call).
    optimizer : str, optional
        Registry name of the optimizer, for hints in its own terms (which
        factors it has, how its state evolves).
    moves_later : bool, optional
        For an observation of one call: whether the class moved the parameters
        on a later call (seen on another run), which tells a 1st step of zero
        from a class that changes nothing; ``None`` when not known.

    Returns
    -------
    list of Finding
        Empty if they agree; otherwise ordered by call, the most fundamental
        first. At most one finding per kind (the first occurrence).

    Raises
    ------
    ValueError
        If the observations are of different cases or the reference failed.
    """
    if student.case_id != reference.case_id or student.keys != reference.keys:
        raise ValueError("the two observations are not of the same case")
    if reference.error_stage or reference.calls_done != reference.calls:
        raise ValueError(
            f"the expected observation is incomplete ({reference.error_type}: "
            f"{reference.error_message})"
        )
    tol = default_tolerance(reference.input_dtype)
    tol = Tolerance(
        rtol=tol.rtol if rtol is None else rtol,
        atol=tol.atol if atol is None else atol,
        step_rtol=tol.step_rtol if step_rtol is None else step_rtol,
    )
    stopped = _stopped(student)
    if stopped is not None:
        return [stopped]

    findings: list[Finding] = []
    done = student.calls_done
    if student.error_stage == UPDATE:
        findings.append(_update_error(student))
    findings += _first_problem(student)
    findings += _first_identity(student)
    findings += _first_dtype(student)
    limit = done if value_calls is None else min(done, value_calls)
    findings += _values(student, reference, tol, limit, optimizer, moves_later)
    findings.sort(key=lambda f: (f.call, _PRIORITY[f.kind]))
    return findings


# -- the class could not be used at all ----------------------------------------------
def _stopped(student: Observation) -> Finding | None:
    if student.error_stage in (CLASS, SIGNATURE):
        return Finding(student.error_stage, student.error_message)
    if student.error_stage == INIT:
        kind = "not_written" if student.error_type == "NotImplementedError" else "init"
        return Finding(kind, msg.error_message(
            INIT, student.error_type, student.error_message, student.error_where, 0,
            msg.call_signature(student.subject, student.hyper),
            suggestion=student.error_suggestion, subject=student.subject))
    if student.error_stage == UPDATE and student.error_type == "NotImplementedError":
        return Finding("not_written", msg.error_message(UPDATE, "NotImplementedError", "", "", 1,
                                                        "", subject=student.subject),
                       call=student.error_call)
    return None


#: Errors that code written for one shape of array raises on another (len() of a 0-d
#: array, an index out of range, shapes that do not broadcast).
_SHAPE_ERRORS = ("TypeError", "IndexError", "ValueError")


def _update_error(student: Observation) -> Finding:
    kind = "timeout" if student.error_type == "TimeLimitExceeded" else "error"
    text = msg.error_message(
        UPDATE, student.error_type, student.error_message, student.error_where,
        student.error_call, "", suggestion=student.error_suggestion, keys=student.keys)
    # Not for None or a dict in arithmetic: their hint says it, and the shapes are noise.
    if student.error_type in _SHAPE_ERRORS and len(student.keys) > 1 \
            and not re.search(r"NoneType|'dict'", student.error_message):
        # The student cannot see the hidden case: say which arrays update() was given.
        shapes = ", ".join(f"{key} {shape}" + (" (0-d: a single number)" if shape == () else "")
                           for key in student.keys
                           for shape in [student.values[key][0].shape])
        text += f" The arrays in params had these shapes: {shapes}."
    return Finding(kind, text, call=student.error_call)


# -- what params holds after each call -------------------------------------------------
def _first(mask: np.ndarray) -> tuple[int, int] | None:
    hits = np.argwhere(mask)
    return None if hits.size == 0 else (int(hits[0, 0]), int(hits[0, 1]))


def _first_problem(student: Observation) -> list[Finding]:
    where = _first(student.problems != "")
    if where is None:
        return []
    call, j = where
    key, problem = student.keys[j], str(student.problems[call, j])
    text = (f"after the {msg.ordinal(call + 1)} call, params[{key!r}] {problem}: update() "
            "must leave every params[key] a NumPy array of the same shape, changed in place "
            "(params[key] -= ...).")
    shape = re.match(r"has shape (\(.*?\)) instead of", problem)
    other = next((k for k in student.keys if k != key and shape is not None
                  and str(np.shape(student.values[k][0])) == shape.group(1)), None)
    if other is not None:
        # A two-bug audit: a state shared by all keys took the first key's shape, and a
        # params[key] = ... gave it to the next key; the hint named only the in-place part.
        text += (f" Its new shape is that of params[{other!r}]: is something shared between "
                 "the parameters? Each key needs its own state (one entry per key, e.g. "
                 "self.v[key]).")
    return [Finding("problem", text, call=call + 1, key=key)]


def _first_identity(student: Observation) -> list[Finding]:
    where = _first(~student.same_object & (student.problems == ""))
    if where is None:
        return []
    call, j = where
    key = student.keys[j]
    return [Finding("identity", msg.NOT_IN_PLACE.format(subject=f"params[{key!r}]"),
                    call=call + 1, key=key)]


def _first_dtype(student: Observation) -> list[Finding]:
    where = _first((student.dtypes != student.input_dtype) & (student.problems == ""))
    if where is None:
        return []
    call, j = where
    key = student.keys[j]
    head = (f"after the {msg.ordinal(call + 1)} call, params[{key!r}] is "
            f"{student.dtypes[call, j]} but it was {student.input_dtype}")
    if not student.same_object[call, j]:
        # The usual cause: a new array computed with a float64 number (the book's lr_t).
        text = (f"{head}: it was replaced by a new array instead of updated in place, and the "
                "new array has another dtype. Use params[key] -= ... (in place, the dtype stays).")
    else:
        text = (f"{head}: keep the parameters' dtype — create state with "
                "np.zeros_like(params[key]) and update in place (params[key] -= ...).")
    return [Finding("dtype", text, call=call + 1, key=key)]


# -- the numbers -------------------------------------------------------------------------
def _mismatches(student: Observation, reference: Observation, tol: Tolerance, limit: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (call, key) for the first ``limit`` calls: values off, NaN where not expected,
    largest difference."""
    keys = student.keys
    bad = np.zeros((limit, len(keys)), dtype=bool)
    nan = np.zeros_like(bad)
    diff = np.zeros(bad.shape)
    for j, key in enumerate(keys):
        s, r = student.values[key], reference.values[key]
        steps = np.abs(np.diff(r, axis=0))
        largest_step = float(np.max(steps[np.isfinite(steps)], initial=0.0))
        for call in range(1, limit + 1):
            if student.problems[call - 1, j]:
                continue
            sv, rv = s[call], r[call]
            s_ok, r_ok = np.isfinite(sv), np.isfinite(rv)
            # Non-finite agrees with non-finite: a mutant can match a student's NaN.
            nan[call - 1, j] = bool(np.any(~s_ok & r_ok))
            both = s_ok & r_ok
            allowed = tol.atol + tol.rtol * np.abs(rv[both]) + tol.step_rtol * call * largest_step
            gap = np.abs(sv[both] - rv[both])
            diff[call - 1, j] = float(np.max(gap, initial=0.0))
            bad[call - 1, j] = bool(np.any(gap > allowed) or np.any(s_ok & ~r_ok))
    return bad, nan, diff


def _values(student: Observation, reference: Observation, tol: Tolerance, limit: int,
            optimizer: str | None = None, moves_later: bool | None = None) -> list[Finding]:
    bad, nan, diff = _mismatches(student, reference, tol, limit)
    findings = []
    where = _first(nan)
    if where is not None:
        findings.append(nan_finding(student, *where, optimizer))
    where = _first(bad)
    if where is not None:
        findings.append(_value_finding(student, reference, bad, diff, *where, optimizer,
                                       moves_later))
    return findings


def add_epsilon(optimizer: str | None) -> str:
    """The advice after a 0/0 on a zero gradient, naming ``optimizer``'s denominator.

    Also where the class has an epsilon in the wrong place: a two-bug audit's AdaGrad,
    whose epsilon came after the division, read "add the small constant epsilon".
    """
    cls = OPTIMIZERS.get(optimizer or "")
    if cls is None or not cls.denominator:
        return " — add the small constant epsilon (self.eps) to the denominator."
    return (" — add the small constant epsilon (self.eps) to the denominator itself, "
            f"{cls.denominator} (added anywhere else, such as after the division, it does "
            "not keep the division finite).")


def nan_finding(student: Observation, call: int, j: int, optimizer: str | None = None
                ) -> Finding:
    """The finding for NaN or infinity in ``params[keys[j]]`` after 0-based ``call``.

    A zero gradient asks for epsilon only when every entry that went non-finite at
    that call had a zero gradient: NaN where the gradient was not zero is something
    no epsilon prevents, and the message names what it can be in ``optimizer``'s
    step (:func:`nan_causes`).
    """
    key = student.keys[j]
    head = f"after the {msg.ordinal(call + 1)} call, params[{key!r}] contains NaN or infinity"
    # Entry by entry: which went non-finite at this call, and where the gradient was 0.
    new = [~np.isfinite(student.values[k][call + 1]) & np.isfinite(student.values[k][call])
           for k in student.keys]
    zero = [student.zero_entries[k][call] for k in student.keys]
    elsewhere = [bool(np.any(n & ~z)) for n, z in zip(new, zero, strict=True)]
    causes, questions = nan_causes(optimizer)
    ask = f" ({questions})" if questions else "."
    if np.any(new[j] & zero[j]) and not any(elsewhere):
        if student.zero_grads[call, j]:
            text = f"{head}: its gradient was all zeros, so a denominator was 0"
        else:
            text = (f"{head} where single entries of its gradient were 0 (the others were "
                    "not), so a denominator was 0 there; skipping a gradient that is all zeros "
                    "is not enough")
        text += add_epsilon(optimizer)
    elif any(np.any(z) for z in zero) and any(elsewhere):
        other = student.keys[elsewhere.index(True)]
        text = (f"after the {msg.ordinal(call + 1)} call, params[{other!r}] contains NaN or "
                "infinity where its gradient was not zero: ")
        if any(np.any(n & z) for n, z in zip(new, zero, strict=True)):
            # 0/0 where the gradient was 0 as well: perhaps no epsilon, but not that alone
            # (an audit's class had both: "not a missing epsilon" ruled its real cause out).
            text += ("NaN where the gradient was 0 could be a missing epsilon, but that is "
                     f"not all: {causes} elsewhere in the step{ask}")
        else:
            text += f"this is not a missing epsilon but {causes} elsewhere in the step{ask}"
        key = other
    else:
        text = f"{head}: {causes} somewhere in the step{ask}"
    return Finding("nan", text, call=call + 1, key=key)


def step_ratio(s_before: np.ndarray, s_after: np.ndarray, r_before: np.ndarray,
                r_after: np.ndarray) -> float | None:
    """The factor k if the student's step is k times the expected step everywhere."""
    ds, dr = (s_after - s_before).ravel(), (r_after - r_before).ravel()
    if not (np.all(np.isfinite(ds)) and np.all(np.isfinite(dr))):
        return None
    scale = float(np.max(np.abs(dr), initial=0.0))
    if scale == 0.0:
        return None
    used = np.abs(dr) > 1e-3 * scale
    k = float(np.median(ds[used] / dr[used]))
    if np.max(np.abs(ds - k * dr)) <= 0.02 * max(scale, abs(k) * scale):
        return k
    return None


def later_call_message(n: int, key: str, size: str, optimizer: str | None,
                       reset: bool | None = None, zero_gradient: bool = False,
                       changed: Sequence[str] = (), skipped: str = "") -> str:
    """The message for values right up to call ``n - 1`` and wrong after call ``n``.

    ``reset`` says whether the ``n``-th step is the one a fresh optimizer would take
    (the state was thrown away), ``False`` that it is not (the state is kept but
    follows the wrong rule), ``None`` when this is not known. ``zero_gradient``: the
    ``n``-th call's gradient of ``key`` is all zeros. ``changed``: hyperparameters whose
    attribute update() changed (:attr:`~.observe.Observation.changed`). ``skipped``: what
    the ``n``-th call (a zero gradient's, where a fresh optimizer moves) left out:
    ``"step"``, it left ``params[key]`` exactly as it was; ``"decay"``, it took the step
    without the weight decay.
    """
    matched = "the 1st call matches" if n == 2 else f"the first {n - 1} calls match"
    head = (f"{matched}, but after the {msg.ordinal(n)} call params[{key!r}] differs from the "
            f"expected value (max difference {size})")
    cls = OPTIMIZERS.get(optimizer or "")
    rule = cls.recurrence if cls is not None else ""
    if changed:
        # A student audit: `self.lr *= 0.99` in a Momentum's update() was told that its
        # velocity follows the wrong rule (only SGD's text asked about self.lr).
        names = " and ".join(f"self.{name}" for name in changed)
        return (f"{head}: update() changes {names}, which should stay as given to the "
                "constructor: each call's step uses the same hyperparameters (a learning "
                "rate that decays is a schedule's work, lesson 7, outside the optimizer).")
    if optimizer == "sgd":
        return f"{head}: {rule}."
    if reset and zero_gradient:
        # A fresh optimizer barely moves on a zero gradient, and neither does an update()
        # that skips it: after calls that matched, the skip is the likely cause.
        return (f"{head}: that call's gradient is all zeros, and your step is the one a fresh "
                "optimizer would take — update() seems to skip a parameter whose gradient is "
                "all zeros (or to start its state over). A zero gradient is still a step: "
                "update the state with g = 0 as with any other gradient, and drop the test "
                "that skips it.")
    if skipped == "step" and zero_gradient:
        # An audit's AdamW skipped all-zero gradients: a fresh AdamW still decays there, so
        # the step was not a fresh one's and the text said "the wrong rule".
        decay = cls is not None and cls.decays_weights()
        return (f"{head}: that call's gradient is all zeros, and params[{key!r}] did not move "
                "at all — update() seems to skip a parameter whose gradient is all zeros. A "
                "zero gradient is still a step: "
                + ("the weight decay still shrinks the parameter, θ ← θ·(1 − lr·weight_decay), "
                   "and " if decay else "")
                + "the state moves on with g = 0 as with any other gradient. Drop the test "
                "that skips it.")
    if skipped == "decay" and zero_gradient:
        return (f"{head}: that call's gradient is all zeros, and your step is the one without "
                "the weight decay — update() seems to skip the decay of a parameter whose "
                "gradient is all zeros. The decay does not depend on the gradient: "
                "θ ← θ·(1 − lr·weight_decay) for every parameter on every call.")
    if reset:
        return (f"{head}: the state is not carried between calls — that step is what a fresh "
                "optimizer would take. Create the state once, the first time update() runs, "
                "and compute each call's state from the previous one (not from the gradient "
                "alone).")
    if reset is False:
        return (f"{head}: the state is carried between calls, but it is updated by the wrong "
                f"rule" + (f" — {rule}." if rule else "."))
    return (f"{head}: the state carried between calls is off — either it is not kept (create "
            "it once, the first time update() runs) or it is updated by the wrong rule"
            + (f" ({rule})." if rule else "."))


def _of_length_lr(student: Observation, key: str) -> str | None:
    """Whose 1st step is ``lr`` long: ``"of params[key]"``, ``"of all the parameters
    together"``, or None (a step divided by its gradient's norm)."""
    lr = student.hyper.get("lr")
    if not lr:
        return None
    steps = {k: v[1] - v[0] for k, v in student.values.items()}
    if np.isclose(np.linalg.norm(steps[key]), lr, rtol=1e-3):
        return f"of params[{key!r}]"
    together = np.sqrt(sum(float(np.sum(d * d)) for d in steps.values()))
    return "of all the parameters together" if np.isclose(together, lr, rtol=1e-3) else None


def _value_finding(student: Observation, reference: Observation, bad: np.ndarray,
                   diff: np.ndarray, call: int, j: int, optimizer: str | None = None,
                   moves_later: bool | None = None) -> Finding:
    keys = student.keys
    key = keys[j]
    n = call + 1
    size = msg.fmt(diff[call, j])
    right_now = [k for i, k in enumerate(keys) if not bad[call, i]]
    always_right = [k for i, k in enumerate(keys) if not bad[:, i].any()]
    if len(keys) > 1 and (right_now if n == 1 else always_right):
        good = (right_now if n == 1 else always_right)[0]
        text = (f"params[{good!r}] is right, but after the {msg.ordinal(n)} call "
                f"params[{key!r}] differs from the expected value (max difference {size}): "
                "something is mixed up between parameters — each key needs its own "
                "gradient (grads[key]) and, if the optimizer keeps any, its own state (one "
                "entry per key, e.g. self.v[key]); a step counter (if you keep one) advances "
                "once per update() call, not once per key.")
    elif n == 1:
        s, r = student.values[key], reference.values[key]
        k = step_ratio(s[0], s[1], r[0], r[1])
        head = f"after the 1st call, params[{key!r}]"
        later = bool(moves_later) or any(not np.array_equal(s[c], s[c + 1], equal_nan=True)
                                         for c in range(1, student.calls_done))
        cls = OPTIMIZERS.get(optimizer or "")
        # Only an exactly unchanged array "has not changed": a step a thousand times too
        # short (AdaDelta with ε outside its roots) is a factor, named below.
        unmoved = np.array_equal(s[0], s[1], equal_nan=True)
        if unmoved and later:
            # The update reaches the arrays (later calls move them): the 1st step itself is 0.
            still = (f"{cls.state_in_words()[0]} still at 0" if cls is not None
                     and cls.state_names else "state that is still 0")
            text = (f"{head} has not changed, but later calls move it: the 1st step is zero — "
                    f"is the step taken with {still}? Update the state first, then step "
                    "with it.")
        elif unmoved:
            text = f"{head} has not changed: {msg.no_change(student.returned)}"
            if (cls is not None and cls.state_names and student.calls_done == 1
                    and moves_later is None):
                # One call cannot tell a copy from a step taken with state still at 0 (a
                # later run that never moves either can: then this would be noise).
                text += (f" If later calls do move it, the 1st step is taken with "
                         f"{cls.state_in_words()[0]} still at 0: update the state first, "
                         "then step with it.")
        elif k is not None and abs(k + 1.0) < 1e-3:
            text = (f"{head} moved the wrong way (uphill): the step must be subtracted "
                    "from the parameter.")
        elif k is not None and k < 0:
            # Two slips at once (a two-bug audit: a wrong sign and a hard-coded lr was told
            # only "moved -0.186 times as far"): the direction, then the length.
            text = (f"{head} moved the wrong way (uphill), and {-k:.3g} times as far as "
                    "expected: the step must be subtracted from the parameter, and "
                    f"{msg.factor_hint(optimizer, -k, student.hyper)}")
        elif k is not None and (whose := _of_length_lr(student, key)) is not None:
            # A step divided by the gradient's norm was told "a factor is missing or extra
            # (the learning rate?)", a factor that changes from call to call.
            text = (f"{head} differs from the expected value (max difference {size}): every "
                    f"entry moved {k:.3g} times as far as expected, and the step {whose} is "
                    f"lr = {student.hyper['lr']:g} long, whatever the gradient's size — is the "
                    "gradient divided by its norm? The step is lr times the gradient itself.")
        elif k is not None:
            text = (f"{head} differs from the expected value (max difference {size}): every "
                    f"entry moved {k:.3g} times as far as expected — "
                    f"{msg.factor_hint(optimizer, k, student.hyper)}")
        elif (way := _one_way(s[1] - s[0], r[1] - r[0])) is not None:
            # A student audit: AdaGrad's lr / (sqrt(h) + eps), g left out, was told "compare
            # term by term"; its steps all go one way while the gradients' signs differ.
            text = (f"{head} differs from the expected value (max difference {size}): every "
                    f"entry moved {way}, whatever the sign of its gradient — is g missing "
                    "from the step, or only its size (|g|, g²) in it? The step carries g "
                    "itself.")
        else:
            text = (f"{head} differs from the expected value (max difference {size}): the "
                    "formula of a single step is off — compare your update with the formula, "
                    "term by term.")
    else:
        text = later_call_message(n, key, size, optimizer, changed=student.changed)
    return Finding("value", text, call=n, key=key, max_diff=float(diff[call, j]))


def _one_way(step: np.ndarray, expected: np.ndarray) -> str | None:
    """"down" or "up" when every entry of ``step`` goes that way while the ``expected`` step
    goes both ways (its gradients have both signs), else None."""
    with np.errstate(all="ignore"):
        if not (np.any(expected > 0) and np.any(expected < 0)):
            return None
        if np.all(step < 0):
            return "down"
        if np.all(step > 0):
            return "up"
    return None


def broadcast_shapes(message: str) -> frozenset[str] | None:
    """The array shapes a NumPy broadcasting error names, or None if it is not one.

    >>> sorted(broadcast_shapes("operands could not be broadcast together with shapes (3,) (3,4)"))
    ['(3,)', '(3,4)']
    """
    if "broadcast" not in message:
        return None
    return frozenset(re.sub(r"\s+", "", shape) for shape in re.findall(r"\([\d,\s]*\)", message))


def agree(student: Observation, other: Observation, *, value_calls: int | None = None) -> bool:
    """Whether two observations of one case computed the same thing.

    Used to recognise a catalogued mistake: the same values (within the
    tolerance of :func:`differences`, NaN matching NaN), the same exception at the
    same call, the same broken parameters. In-place identity and dtype are
    ignored: they are reported on their own.
    """
    if student.case_id != other.case_id or student.keys != other.keys:
        raise ValueError("the two observations are not of the same case")
    if student.error_stage in (CLASS, SIGNATURE, INIT):
        return False
    same_error = (student.error_stage, student.error_call, student.error_type) == (
        other.error_stage, other.error_call, other.error_type)
    if not same_error:
        return False
    if student.error_stage == UPDATE and student.error_message != other.error_message:
        # NumPy words a shape clash differently for `h += g * g` and `h = h + g * g`;
        # the shapes it names tell a state shared by two parameters from one of the
        # wrong shape (np.zeros(len(p)) for a matrix), which the catalogue does not hold.
        shapes = [broadcast_shapes(o.error_message) for o in (student, other)]
        if None in shapes or shapes[0] != shapes[1]:
            return False
    if student.calls_done != other.calls_done or np.any(student.problems != other.problems):
        return False
    limit = student.calls_done if value_calls is None else min(student.calls_done, value_calls)
    bad, nan, _ = _mismatches(student, other, default_tolerance(other.input_dtype), limit)
    return not (bad.any() or nan.any())


def keys_off(student: Observation, reference: Observation) -> list[str]:
    """The keys whose values differ from ``reference``'s at some call, by the value
    properties' tolerance (NaN where the reference has a number counts as off)."""
    bad, nan, _ = _mismatches(student, reference, default_tolerance(reference.input_dtype),
                              student.calls_done)
    return [key for j, key in enumerate(student.keys) if bad[:, j].any() or nan[:, j].any()]


def value_gap(student: Observation, other: Observation, *, value_calls: int | None = None
              ) -> float:
    """The largest difference between two observations' finite values.

    Of several forms of a mistake that :func:`agree` with a student's class (β₂
    written as 0.999 or as 0.99 move five steps within the tolerance of each
    other), the closest is the one the student wrote.
    """
    limit = student.calls_done if value_calls is None else min(student.calls_done, value_calls)
    _, _, diff = _mismatches(student, other, default_tolerance(other.input_dtype), limit)
    return float(np.max(diff, initial=0.0))
