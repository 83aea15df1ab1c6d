"""Check ``clip_grad_norm(grads, max_norm) -> total_norm`` (lesson 08's bonus, NumPy).

The exact answer is :func:`clip_grad_norm`, ``torch.nn.utils.clip_grad_norm_``
for a dict of NumPy arrays (norm_type 2): the total norm is the 2-norm of all
gradients together, every gradient is multiplied in place by
``min(max_norm / (total_norm + 1e-6), 1)``, and the total norm *before* clipping
is returned. ``source_pkg/tests/test_torch_optim.py`` checks it against torch.
This module needs no torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..messages import fmt
from ..report import Report
from ._runner import FunctionProperty, assert_function, call, check_function

__all__ = ["CLIP_GRAD_NORM_PROPERTIES", "EPS", "assert_clip_grad_norm", "check_clip_grad_norm",
           "clip_grad_norm"]

NAME = "clip_grad_norm"

#: What torch adds to the total norm in the clip coefficient (torch/nn/utils/clip_grad.py).
EPS = 1e-6


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients together so that their total 2-norm is at most ``max_norm``.

    Parameters
    ----------
    grads : dict of str to ndarray
        The gradients, changed in place.
    max_norm : float
        The largest total norm allowed.

    Returns
    -------
    float
        The total norm of the gradients before clipping, as torch returns it.
    """
    total = float(np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads.values())))
    coef = min(max_norm / (total + EPS), 1.0)
    for g in grads.values():
        g *= coef
    return total


def _grads(seed: int, big: bool) -> tuple[dict[str, np.ndarray], float]:
    """Three gradients and a max_norm below (``big``) or above their total norm."""
    rng = np.random.default_rng([seed, 81, int(big)])
    grads = {"W1": rng.normal(0, 3, (4, 3)), "b1": rng.normal(0, 3, 3),
             "W2": rng.normal(0, 3, (3, 2))}
    total = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    max_norm = round(total * (rng.uniform(0.2, 0.6) if big else rng.uniform(1.5, 3.0)), 2)
    return grads, max_norm


def _run(fn: Callable[..., Any], seed: int, big: bool, limit: float | None
         ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray], float,
                    Any, dict[str, np.ndarray], float]:
    """(originals, the dict after the call, the arrays given, max_norm, returned, expected
    dict, expected norm)."""
    grads, max_norm = _grads(seed, big)
    original = {k: v.copy() for k, v in grads.items()}
    given = dict(grads)
    returned = call(fn, NAME, grads, max_norm, time_limit=limit)
    expected = {k: v.copy() for k, v in original.items()}
    norm = clip_grad_norm(expected, max_norm)
    return original, grads, given, max_norm, returned, expected, norm


def _returns_norm(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    original, _, _, max_norm, returned, _, norm = _run(fn, seed, True, limit)
    if returned is None:
        return (f"{NAME}() returned None: return the total norm of the gradients (before "
                "clipping), as torch.nn.utils.clip_grad_norm_ does.")
    try:
        value = float(np.asarray(returned))
    except (TypeError, ValueError):
        return f"{NAME}() returned {type(returned).__name__}; return one number, the total norm."
    if np.isclose(value, norm, rtol=1e-9):
        return ""
    per_key = [float(np.linalg.norm(g)) for g in original.values()]
    if any(np.isclose(value, n, rtol=1e-9) for n in per_key):
        return (f"you return the norm of one gradient ({fmt(value)}); return the norm of all of "
                f"them together, sqrt of the sum of every squared entry ({fmt(norm)}).")
    if np.isclose(value, max_norm, rtol=1e-4):
        return (f"you return the norm after clipping ({fmt(value)}); torch returns the total "
                f"norm before clipping ({fmt(norm)}).")
    return f"you return {fmt(value)}, the total norm of the gradients is {fmt(norm)}."


def _scales_in_place(fn: Callable[..., Any], original: dict[str, np.ndarray], max_norm: float,
                     limit: float | None) -> bool:
    """Whether ``fn`` changes the arrays it is given, in place, under ``max_norm``."""
    grads = {key: value.copy() for key, value in original.items()}
    given = dict(grads)
    call(fn, NAME, grads, max_norm, time_limit=limit)
    return any(grads.get(key) is array and not np.array_equal(array, original[key])
               for key, array in given.items())


def _clips(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    original, grads, _, max_norm, _, expected, norm = _run(fn, seed, True, limit)
    if all(np.array_equal(np.asarray(grads.get(key)), before)
           for key, before in original.items()):
        if _scales_in_place(fn, original, 10 * norm, limit):
            # An audit's max(max_norm / (total + 1e-6), 1) was asked whether it scaled a
            # copy: it scales in place, by 1 above max_norm and by more below it.
            return _MAX_FOR_MIN
        # Nothing changed (a second look: `g = g.astype(float); g *= c` was told "not
        # scaled like the others", and such a case would match clipping by value).
        return _nothing_changed(norm, max_norm)
    for key, want in expected.items():
        got = np.asarray(grads.get(key))
        if got.shape != want.shape:
            return f"grads[{key!r}] has shape {got.shape} after the call, expected {want.shape}."
        if not np.allclose(got, want, rtol=1e-9, atol=0):
            ratio = float(np.linalg.norm(got) / np.linalg.norm(original[key]))
            if np.isclose(ratio, max_norm / norm, rtol=1e-9):
                return (f"with max_norm = {fmt(max_norm)} and a total norm of {fmt(norm)} you "
                        f"scale by max_norm / total_norm; torch scales by max_norm / "
                        f"(total_norm + {EPS:g}).")
            if np.allclose(got, np.clip(original[key], -max_norm, max_norm), rtol=1e-9):
                # A novice audit's np.clip(g, -max_norm, max_norm) was told it multiplied by
                # the wrong factor: it multiplies by none.
                return (f"grads[{key!r}] was clipped entry by entry to [-max_norm, max_norm] "
                        "(clipping by value, torch's clip_grad_value_): clip_grad_norm scales "
                        "every gradient by one factor, max_norm / (total_norm + "
                        f"{EPS:g}), which keeps their direction.")
            norms = [float(np.linalg.norm(v)) for v in original.values()]
            ratios = [float(np.linalg.norm(np.asarray(grads.get(k)))) / n
                      for k, n in zip(original, norms, strict=True)]
            if np.allclose(ratios, ratio, rtol=1e-9, atol=0):
                # One factor, the wrong one (a student audit's factor of the largest
                # gradient's norm was told "not scaled like the others").
                largest = max(norms)
                if any(np.isclose(ratio, max_norm / d, rtol=1e-6) for d in (largest,
                                                                           largest + EPS)):
                    return (f"every gradient is multiplied by max_norm / {fmt(largest)}, the "
                            "norm of the largest one alone: the factor uses the norm of all of "
                            f"them together, sqrt of the sum of every squared entry "
                            f"({fmt(norm)}), max_norm / (total_norm + {EPS:g}) = "
                            f"{fmt(max_norm / (norm + EPS))}.")
                return (f"with max_norm = {fmt(max_norm)} and a total norm of {fmt(norm)}, "
                        f"every gradient should be multiplied by "
                        f"{fmt(max_norm / (norm + EPS))}; yours were multiplied by "
                        f"{fmt(ratio)}.")
            alone = np.isclose(np.linalg.norm(got), max_norm, rtol=1e-4)
            if alone or np.allclose(got, original[key]):
                return (f"grads[{key!r}] is not scaled like the others: multiply every "
                        "gradient by the same factor, computed from the norm of all of them "
                        "together.")
            return (f"with max_norm = {fmt(max_norm)} and a total norm of {fmt(norm)}, "
                    f"grads[{key!r}] should be multiplied by "
                    f"{fmt(max_norm / (norm + EPS))}; yours was multiplied by {fmt(ratio)}.")
    return ""


#: Both properties a factor max(max_norm / (total + 1e-6), 1) breaks, in the same words:
#: the report gives them once (a grading audit read one sentence mixing both cases, then
#: the advice again under "below max_norm").
_MAX_FOR_MIN = ("the factor is max(max_norm / (total + 1e-6), 1), not min(...): it leaves "
                "gradients whose total norm is above max_norm unchanged and scales up those "
                "below it. Use min(max_norm / (total + 1e-6), 1).")


def _leaves_large_alone(fn: Callable[..., Any], seed: int, limit: float | None) -> bool:
    """Whether ``fn`` changes no gradient whose total norm is above max_norm (with the
    factor scaling up those below it: max for min, not a factor without min at all)."""
    original, grads, *_ = _run(fn, seed, True, limit)
    return all(np.array_equal(np.asarray(grads.get(key)), before)
               for key, before in original.items())


def _below_unchanged(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    original, grads, _, max_norm, _, _, norm = _run(fn, seed, False, limit)
    # Read now: a function that keeps the arrays may change them again in a later call (a
    # red-team look put back, at each call, the gradients it had scaled at the one before).
    afters = {key: np.array(grads.get(key)) for key in original}
    for key, before in original.items():
        after = afters[key]
        if after.shape == before.shape and np.allclose(
                after, before * max_norm / (norm + EPS), rtol=1e-9, atol=0) and \
                _leaves_large_alone(fn, seed, limit):
            return _MAX_FOR_MIN
        if not np.array_equal(after, before):
            return (f"the total norm {fmt(norm)} is below max_norm = {fmt(max_norm)}, yet "
                    f"grads[{key!r}] changed: the factor is min(max_norm / (total + 1e-6), 1), "
                    "so small gradients are left alone.")
    return ""


def _nothing_changed(norm: float, max_norm: float) -> str:
    """The words of a clipping that changed no gradient, the same for the clipping and the
    in-place property, which the report then gives once (a browser audit read both)."""
    return (f"no gradient changed, although the total norm {fmt(norm)} is above max_norm = "
            f"{fmt(max_norm)}: is the factor applied to a copy (g = g * c, g.astype(...))? "
            "Multiply the arrays in grads themselves (g *= factor).")


def _in_place(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    original, grads, given, max_norm, _, _, norm = _run(fn, seed, True, limit)
    for key, array in given.items():
        if grads.get(key) is not array:
            return (f"grads[{key!r}] was replaced by a new array: scale it in place "
                    "(g *= factor), so whoever holds the gradient sees the change.")
    # The total norm is above max_norm: in place means the arrays given were changed.
    if all(np.array_equal(array, original[key]) for key, array in given.items()):
        # Unless the clipping itself changed nothing here (by value, no entry above
        # max_norm: a novice audit lost this point too): with a max_norm below every
        # entry, any clipping changes them all.
        tiny = {key: value.copy() for key, value in original.items()}
        arrays = dict(tiny)
        call(fn, NAME, tiny, 1e-3 * min(float(np.min(np.abs(g))) for g in original.values()),
             time_limit=limit)
        replaced = next((key for key, array in arrays.items() if tiny.get(key) is not array),
                        None)
        if replaced is not None:
            return (f"grads[{replaced!r}] was replaced by a new array: scale it in place "
                    "(g *= factor), so whoever holds the gradient sees the change.")
        if any(not np.array_equal(array, original[key]) for key, array in arrays.items()) \
                or _scales_in_place(fn, original, 10 * norm, limit):  # max(..., 1): below
            return ""
        return _nothing_changed(norm, max_norm)
    return ""


#: The graded properties of ``clip_grad_norm``, in the order to fix them.
CLIP_GRAD_NORM_PROPERTIES = (
    FunctionProperty("returns_norm", "returns the total norm before clipping", "returned norm",
                     _returns_norm),
    FunctionProperty("clips", "clips like torch.nn.utils.clip_grad_norm_", "clipping", _clips),
    FunctionProperty("below_unchanged", "leaves gradients below max_norm alone",
                     "below max_norm", _below_unchanged),
    FunctionProperty("in_place", "changes the gradients in place", "in place", _in_place),
)


def check_clip_grad_norm(fn: Any, **kwargs: Any) -> Report:
    """Self-check of ``clip_grad_norm``: print a verdict, return the Report."""
    return check_function(NAME, CLIP_GRAD_NORM_PROPERTIES, fn, **kwargs)


def assert_clip_grad_norm(fn: Any, seed: int, prop: str | None = None, **kwargs: Any) -> None:
    """Hidden test: raise ``AssertionError`` with the student-facing message on failure."""
    __tracebackhide__ = True  # not shown in tracebacks (IPython, pytest)
    assert_function(NAME, CLIP_GRAD_NORM_PROPERTIES, fn, seed, prop, **kwargs)
