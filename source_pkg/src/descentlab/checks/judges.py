"""Judge one property from observations: each property looks at its own aspect only.

``first_step`` and ``carries_state`` compare values with the reference
(:func:`~.compare.differences`). The other properties are judged here, from
observations of the student's class alone (the reference only says whether a
zero gradient moves anything), so a wrong formula costs none of their points:

* :func:`judge_in_place` — ``params[key]`` is the same array after every call,
  and its values changed (on at least one call: a step that is zero on some calls
  is a wrong value, not an update that misses the arrays);
* :func:`judge_float32` — the dtype stays float32 (and the values change);
* :func:`judge_per_key` — every key is updated, and exactly as when it is the
  only parameter of a fresh optimizer (the student's class is compared with
  itself, so the recurrence may be wrong);
* :func:`judge_zero_grad` — no NaN or infinity where (and after) the gradient
  was all zeros, and no movement there (NaN on a key whose gradient was not
  zero is the value properties' to charge).

Every function is pure: it reads :class:`~.observe.Observation` objects, so the
student's class may have run in another process.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..optimizers import OPTIMIZERS
from . import messages as msg
from .compare import (
    _PRIORITY,
    Finding,
    _first,
    _first_dtype,
    _first_identity,
    _first_problem,
    _stopped,
    _update_error,
    add_epsilon,
    default_tolerance,
    nan_finding,
)
from .mistakes.texts import state_words
from .observe import UPDATE, Observation

__all__ = ["judge_float32", "judge_in_place", "judge_per_key", "judge_zero_grad",
           "nan_anyway", "nan_from_zero_gradient", "without_zero_gradients"]

def _start(student: Observation) -> tuple[Finding | None, list[Finding]]:
    """(the finding that stops everything, or the error and broken-parameter findings)."""
    stopped = _stopped(student)
    if stopped is not None:
        return stopped, []
    findings = [_update_error(student)] if student.error_stage == UPDATE else []
    return None, findings + _first_problem(student)


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.call, _PRIORITY[f.kind]))


def _moved(student: Observation) -> np.ndarray:
    """``moved[c, j]``: params[keys[j]] changed in call ``c + 1`` (NaN that stays NaN is a
    change that cannot show, so it counts as moved)."""
    done = student.calls_done
    moved = np.ones((done, len(student.keys)), dtype=bool)
    for j, key in enumerate(student.keys):
        values = student.values[key]
        for call in range(done):
            before, after = values[call], values[call + 1]
            if not np.all(np.isfinite(before)):
                continue
            moved[call, j] = not np.array_equal(before, after, equal_nan=True)
    return moved & (student.problems == "")


def judge_in_place(student: Observation) -> list[Finding]:
    """Same array object after every call, its values changed on at least one call, and no
    key added to ``params`` (the caller's dict holds its parameters, not the state).

    The values may be wrong: only whether the update reaches the arrays counts. A
    real not-in-place update either puts a new array into ``params`` (the object
    changes) or works on a copy or a local variable (the caller's array never
    changes); a class whose step is zero on some calls but that does change the
    caller's arrays (e.g. a Momentum that steps with the velocity of the previous
    call, zero on the 1st one) updates in place, and its wrong values are the value
    properties' to charge.
    """
    stopped, findings = _start(student)
    if stopped is not None:
        return [stopped]
    findings += _first_identity(student)
    if student.added_keys:
        findings.append(Finding("added", msg.keys_added(student.added_keys,
                                                        student.added_call),
                                call=student.added_call))
    # A new array is reported by the identity finding: that call counts as a change here.
    where = _never_moved_at(student, also=~student.same_object)
    if where is not None:
        call, key = where
        findings.append(Finding("unchanged", f"after the {msg.ordinal(call + 1)} call, "
                                f"params[{key!r}] has not changed: "
                                f"{msg.no_change(student.returned)}", call=call + 1, key=key))
    return _sorted(findings)


def _never_moved_at(student: Observation, also: np.ndarray | None = None,
                    anywhere: bool = False) -> tuple[int, str] | None:
    """The first key with a nonzero gradient that never changed over the calls done.

    Returns (the 0-based first call that pushed it, the key), or None. Calls with an
    all-zero gradient do not count (nothing has to move there); a key that became
    broken (a problem finding) is left to that finding, and so is a call where
    ``also`` is True (for the in-place judge: a new array, reported on its own). With
    ``anywhere``, only a class that changed none of the keys it was pushed on is
    found: a key that stays put while another moves is then not this check's concern
    (a step taken with state still 0 leaves a key whose first nonzero gradient comes
    at the last call unchanged, and that is a wrong value).
    """
    moved = _moved(student)
    if also is not None:
        moved = moved | also
    still: list[tuple[int, str]] = []
    for j, key in enumerate(student.keys):
        pushed = ~student.zero_grads[: student.calls_done, j]
        if not pushed.any() or (student.problems[:, j] != "").any():
            continue
        if moved[pushed, j].any():
            if anywhere:
                return None
            continue
        still.append((int(np.argmax(pushed)), key))
    return still[0] if still else None


def _never_moved(student: Observation, anywhere: bool = False) -> list[Finding]:
    """A finding for the first key with a nonzero gradient that never changed.

    With ``anywhere``, only when no key with a nonzero gradient changed at all.
    """
    where = _never_moved_at(student, anywhere=anywhere)
    if where is None:
        return []
    (first, key), calls = where, student.calls_done
    # Its gradient may have been zero at first (an instructor audit's "did not change in 2
    # calls" of a key pushed only in the 2nd could puzzle a student): say when it was not.
    since = (f", though its gradient was not zero in the {msg.ordinal(first + 1)} call"
             if first else "")
    return [Finding("unchanged", f"params[{key!r}] did not change in {calls} calls of "
                    f"update(){since}: {msg.no_change(student.returned)}", call=calls, key=key)]


def judge_float32(student: Observation) -> list[Finding]:
    """float32 parameters are still float32 after every call (and they moved)."""
    stopped, findings = _start(student)
    if stopped is not None:
        return [stopped]
    findings += _first_dtype(student)
    if student.completed:
        findings += _never_moved(student)
    return _sorted(findings)


def _alone_mismatch(together: Observation, alone: Observation, key: str, j: int
                    ) -> tuple[int, float] | None:
    """First 0-based call where ``key`` together differs from ``key`` alone, and by how much."""
    tol = default_tolerance(together.input_dtype)
    s, r = together.values[key], alone.values[key]
    steps = np.abs(np.diff(r, axis=0))
    largest = float(np.max(steps[np.isfinite(steps)], initial=0.0))
    for call in range(min(together.calls_done, alone.calls_done)):
        if together.problems[call, j]:
            return None
        sv, rv = s[call + 1], r[call + 1]
        s_ok, r_ok = np.isfinite(sv), np.isfinite(rv)
        if np.any(s_ok != r_ok):
            return call, float("nan")
        gap = np.abs(sv[s_ok] - rv[s_ok])
        allowed = tol.atol + tol.rtol * np.abs(rv[s_ok]) + tol.step_rtol * (call + 1) * largest
        if np.any(gap > allowed):
            return call, float(np.max(gap))
    return None


#: Where the loop over the keys may be, for a class built on another exercise's.
_IN_BASE = {"adamw": " (also in your Adam's update(), which AdamW's calls)"}


def _decay_only(student: Observation, before: np.ndarray, after: np.ndarray) -> bool:
    """Whether a call moved the parameter by the decoupled weight decay alone (a two-bug
    audit: AdamW decays every key, then its Adam's loop returned after the first; the key
    was said to share something with the others)."""
    lr, decay = student.hyper.get("lr"), student.hyper.get("weight_decay")
    if lr is None or not decay:
        return False
    return bool(np.allclose(after, before * (1 - lr * decay), rtol=1e-12, atol=0.0))


def judge_per_key(together: Observation, alone: Mapping[str, Observation],
                  optimizer: str | None = None) -> list[Finding]:
    """Every key is updated, and as it is when it is the only key of a fresh optimizer.

    Parameters
    ----------
    together : Observation
        The class run on every key at once.
    alone : dict of str to Observation
        For each key, the class (a new object) run on that key only, same gradients
        (empty when the run on all keys failed: then only that failure is judged).
    optimizer : str, optional
        Registry name, for the names of its state and step counter in the message.
    """
    stopped, findings = _start(together)
    if stopped is not None:
        return [stopped]
    for j, key in enumerate(together.keys):
        single = alone.get(key)
        if single is None:
            continue
        solo_stop, solo = _start(single)
        if solo_stop is not None or solo:
            first = solo_stop or solo[0]
            findings.append(Finding(first.kind, f"with params[{key!r}] as the only parameter, "
                                    f"{first.message}", call=first.call, key=key))
            continue
        found = _alone_mismatch(together, single, key, j)
        if found is None:
            continue
        call, gap = found
        n = call + 1
        before, after = together.values[key][call], together.values[key][n]
        if np.array_equal(before, after, equal_nan=True) or _decay_only(together, before, after):
            how = "has not changed, but it does" if np.array_equal(before, after,
                                                                  equal_nan=True) \
                else "changed only by the weight decay, θ·(1 − lr·weight_decay), but takes a step"
            text = (f"after the {msg.ordinal(n)} call, params[{key!r}] {how} when it is the "
                    "only parameter: update every key of params on every "
                    "call — is there a `return` (or `break`) inside your loop over the keys"
                    f"{_IN_BASE.get(optimizer or '', '')}?")
            findings.append(Finding("unchanged", text, call=n, key=key))
            continue
        words, attr = _state_words(optimizer)
        cls = OPTIMIZERS.get(optimizer or "")
        counter = cls.step_counter if cls is not None else ""
        size = (f"max difference {msg.fmt(gap)}" if np.isfinite(gap)
                else "NaN or infinity in only one of the two")
        text = (f"params[{key!r}] moves differently when other parameters are updated with it "
                f"than when it is the only one (after the {msg.ordinal(n)} call, {size}): "
                "something is shared between parameters — each key needs its "
                f"own gradient (grads[key]) and its own {words}: one entry per key, "
                f"{attr}[key]")
        text += (f"; the step counter ({counter}) advances once per update() call, not once "
                 "per key." if counter else ".")
        findings.append(Finding("mixed", text, call=n, key=key, max_diff=gap))
    if together.completed:
        findings += _never_moved(together)
    return _sorted(findings)


def _state_words(optimizer: str | None) -> tuple[str, str]:
    """How the message names the optimizer's state: words, attribute."""
    words = state_words(optimizer)
    if words == ("state", "self.state"):  # SGD, or not a reference optimizer
        return "state, if it keeps any", "self.state"
    return words


def nan_from_zero_gradient(broken: np.ndarray, zero: np.ndarray,
                           owner: np.ndarray | None = None,
                           anyway: np.ndarray | None = None) -> np.ndarray:
    """Which NaN the ``zero_grad`` property charges, of a (call, entry) table.

    ``broken[c, e]``: entry ``e`` (of the parameters side by side) holds NaN or infinity
    after call ``c``; ``zero[c, e]``: its gradient at that call was 0. Charged: NaN at a
    zero gradient, and NaN later in an entry that had one, unless an entry never given a
    zero gradient went NaN at that call or before, or ``anyway[c]``: the same run with no
    zero gradient (:func:`without_zero_gradients`) went NaN by call ``c`` (then the step
    makes NaN from nonzero gradients anyway, which the value properties charge; a loop
    that returns after the zero gradient's parameter updates no other). ``owner[e]`` is
    the parameter an entry belongs to: NaN in a parameter's zero entries at a call where
    its nonzero entries went NaN too is the step's own. Shared by the NumPy and the torch
    checks.
    """
    if owner is not None:
        zero = zero.copy()
        for key in np.unique(owner):
            mine = owner == key
            own = (broken[:, mine] & ~zero[:, mine]).any(axis=1, keepdims=True)
            zero[:, mine] &= ~own
    zeroed = np.logical_or.accumulate(zero, axis=0)  # a zero gradient so far
    elsewhere = (broken & ~zeroed).any(axis=1)
    if anyway is not None:
        elsewhere |= anyway
    elsewhere = np.logical_or.accumulate(elsewhere)
    return broken & (zero | (zeroed & ~elsewhere[:, None]))


def nan_anyway(broken: np.ndarray, calls: int) -> np.ndarray:
    """``anyway[c]`` of :func:`nan_from_zero_gradient`: a run without zero gradients holds
    NaN after call ``c`` (``broken``: one row of entries per call it completed)."""
    anyway = np.zeros(calls, dtype=bool)
    done = min(calls, len(broken))
    anyway[:done] = np.asarray(broken[:done], dtype=bool).reshape(done, -1).any(axis=1)
    return anyway


def without_zero_gradients(grads: list[np.ndarray | None], following: list[np.ndarray | None]
                           ) -> list[np.ndarray | None]:
    """Each gradient with its zeros replaced by half the entry of the ``following`` call:
    the run ``zero_grad`` compares a later NaN with (not zero: the cases' entries are
    bounded away from 0)."""
    return [g if g is None or n is None else np.where(g == 0, 0.5 * n, g).astype(g.dtype)
            for g, n in zip(grads, following, strict=True)]


#: Why a later NaN is the zero gradient's: with the run without zeros, or without it.
_WITHOUT_ZEROS = {True: "and the same calls with that gradient not zero make no NaN",
                  False: "and no parameter without a zero gradient went NaN"}


def judge_zero_grad(student: Observation, reference: Observation,
                    optimizer: str | None = None,
                    without_zeros: Observation | None = None) -> list[Finding]:
    """No NaN or infinity caused by a zero gradient; no movement on an all-zero one.

    Only the entries whose gradient was 0 (a whole key's, or single entries of
    another key) are checked for NaN, from that call on: NaN where the gradient was
    not zero is a mistake of the step itself, which the value properties charge. A
    NaN born in the state on the zero gradient may show only at a later call, when
    the gradient is no longer zero; such a later NaN counts unless the class also
    made NaN in an entry that never had a zero gradient, at that call or before,
    or made NaN by that call on the same case without zero gradients (then it makes
    NaN from nonzero gradients anyway, e.g. from the root of a negative statistic).

    Where the reference itself moves on a zero gradient (AdamW's weight decay),
    only finiteness counts. Some key with a nonzero gradient must move (a class that
    does nothing earns no point for doing nothing on a zero gradient).

    Parameters
    ----------
    student, reference : Observation
        The student's class and the reference on the ``zero_grad`` case.
    optimizer : str, optional
        Registry name, for the causes of NaN the message names.
    without_zeros : Observation, optional
        The student's class on the case with its zero gradients made nonzero
        (:func:`without_zero_gradients`).
    """
    stopped, findings = _start(student)
    if stopped is not None:
        return [stopped]
    done = student.calls_done
    # Entry by entry, the keys side by side (a key's zeros may be single entries).
    sizes = [student.values[k][0].size for k in student.keys]
    owner = np.repeat(np.arange(len(sizes)), sizes)
    broken = np.concatenate(
        [~np.isfinite(student.values[k][1:done + 1].reshape(done, size))
         & (student.problems[:done, j] == "")[:, None]
         for j, (k, size) in enumerate(zip(student.keys, sizes, strict=True))], axis=1)
    zero = np.concatenate([student.zero_entries[k][:done].reshape(done, size)
                           for k, size in zip(student.keys, sizes, strict=True)], axis=1)
    anyway = None
    if without_zeros is not None:
        anyway = nan_anyway(np.concatenate(
            [~np.isfinite(without_zeros.values[k][1:without_zeros.calls_done + 1]
                          .reshape(without_zeros.calls_done, -1)) for k in without_zeros.keys],
            axis=1), done)
    where = _first(nan_from_zero_gradient(broken, zero, owner, anyway))
    if where is not None:
        call, entry = where
        j = int(owner[entry])
        if zero[call, entry]:
            findings.append(nan_finding(student, call, j, optimizer))
        else:
            key = student.keys[j]
            first = int(np.argmax(zero[:, entry]))
            which = ("was all zeros" if student.zero_grads[first, j]
                     else "had zero entries")
            findings.append(Finding("nan", (
                f"after the {msg.ordinal(call + 1)} call, params[{key!r}] contains NaN or "
                f"infinity: its gradient {which} on the {msg.ordinal(first + 1)} call, "
                f"{_WITHOUT_ZEROS[without_zeros is not None]}, so the zero gradient left NaN "
                "in the state (0/0 where epsilon is missing?)" + add_epsilon(optimizer)),
                call=call + 1, key=key))
    tol = default_tolerance(student.input_dtype)
    for j, key in enumerate(student.keys):
        for call in range(done):
            if not student.zero_grads[call, j] or student.problems[call, j]:
                continue
            ref_before, ref_after = reference.values[key][call], reference.values[key][call + 1]
            if not np.array_equal(ref_before, ref_after):
                continue  # the reference moves too (weight decay): nothing to require
            before, after = student.values[key][call], student.values[key][call + 1]
            if not (np.all(np.isfinite(before)) and np.all(np.isfinite(after))):
                continue
            gap = np.abs(after - before)
            if np.any(gap > tol.atol + tol.rtol * np.abs(before)):
                findings.append(Finding("moved", (
                    f"after the {msg.ordinal(call + 1)} call, params[{key!r}] moved (by up to "
                    f"{msg.fmt(float(np.max(gap)))}) although its gradient was all zeros: with "
                    "g = 0 every term of the step is 0, so the parameter must stay where it is "
                    "(is something added to the gradient or the state, or is the state shared "
                    "with another key?)."), call=call + 1, key=key,
                    max_diff=float(np.max(gap))))
                break
    if student.completed:
        # A class that does nothing earns no point for not moving on a zero gradient; one
        # that moves some key does something (a key left unmoved is the values' to charge).
        findings += _never_moved(student, anywhere=True)
    return _sorted(findings)
