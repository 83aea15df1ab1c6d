"""Run an optimizer class on a scenario given as data; return what it did, as data.

This is the only place where lesson 08's checks run a student's
``torch.optim.Optimizer`` subclass. It imports only the standard library, NumPy
and torch, and its input and output are plain data (dicts, lists, NumPy arrays,
strings, numbers, booleans, ``None``), so the grader can run it inside the
jailed kernel and send the observation back to the judge, which compares it
with ``torch.optim.Adam`` / ``AdamW`` outside the jail
(:mod:`descentlab.checks.torch_optim`).

A scenario is a dict::

    {
        "dtype": "float64",                      # or "float32"
        "params": [array, array, ...],           # initial values, one per parameter
        "hyper": {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8},   # constructor kwargs
        "groups": [                              # optional; default: one group, all params
            {"params": [0, 1], "lr": 0.02},      # indices into "params" + group options
            {"params": [2], "join": 2},          # "join": added with add_param_group
        ],                                       #   just before step 2 (0-based)
        "steps": [[grad or None, ...], ...],     # one list per step(), a grad per param
        "time_limit": 2.0,                       # optional, seconds per call (main thread)
        "shared": True,                          # optional: the parameters' tensors use the
    }                                            #   arrays' own memory (the grader's judge
                                                 #   reads it afterwards)

and :func:`run_scenario` returns::

    {
        "values": [[array per param] per completed step],
        "same_object": [[bool per param] per step],   # still the tensor in param_groups
        "same_storage": [[bool per param] per step],  # p.data_ptr() unchanged
        "same_layout": [[bool per param] per step],   # shape, strides, offset unchanged
        "dtypes": [[str per param] per step],         # e.g. "float32"
        "state": [[None or {"keys": [...], "step": float or None} per param] per step],
        "grads_kept": [[bool per param] per step],    # p.grad still the gradient handed over
        "other_keys": [str, ...],    # up to 4 keys of optimizer.state that are no tensor
        "error": None or {"kind": "TypeError", "message": "...",
                          "where": "line 12 of the cell that defines Adam: `...`",
                          "stage": "constructor" or "step", "step": int},
    }

Steps after an exception are not run; ``values`` then holds the completed ones.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import math
import os
import reprlib
import signal
import threading
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

__all__ = ["CLASS_CHANGED", "StepTimeout", "run_scenario"]


class StepTimeout(BaseException):
    """A call of the class ran longer than the scenario's time limit.

    A ``BaseException``, so student code catching ``Exception`` does not swallow it.
    """


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (only in the main thread of a POSIX process)."""
    usable = (seconds is not None and math.isfinite(seconds) and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def alarm(signum: int, frame: object) -> None:
        raise StepTimeout(f"did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    # Keep firing every 0.1 s: code that swallows the first interruption is interrupted again.
    signal.setitimer(signal.ITIMER_REAL, float(seconds), 0.1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


#: Characters of the raising line quoted in an error's ``where``.
_LINE = 100


def _where(exc: BaseException, cls: Any) -> str:
    """Where the innermost frame outside torch and this module raised: its line, counted
    from the top of its notebook cell or file, which one that is, and the line's text.

    IPython compiles each cell on its own, so a line number counts from the top of the
    cell: e.g. "line 16 of the cell that defines Adam: `g = p.grad.item()`" (an audit
    read "(line 25)" with no cell named; Jupyter shows no line numbers by default, so the
    text of the line is given too).
    """
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        name = frame.filename.replace("\\", "/")
        if "/torch/" in name or name.endswith("torch_runner.py"):
            continue
        where = f"line {frame.lineno}{_counted_from(frame, cls)}"
        line = (frame.line or "").strip()
        line = line if len(line) <= _LINE else line[: _LINE - 1] + "…"
        return f"{where}: `{line}`" if line else where
    return ""


def _counted_from(frame: traceback.FrameSummary, cls: Any) -> str:
    """What ``frame``'s line number counts from, as the student names it.

    ``" of the cell that defines Adam"`` where a class of ``cls``'s MRO has a method in
    the frame's cell, ``" of the cell that defines helper()"`` in another cell,
    ``" of file.py"`` in a file, ``""`` for code compiled from a string.
    """
    filename = frame.filename
    if "ipykernel_" not in filename and not filename.startswith("<ipython-input"):
        return "" if filename.startswith("<") else f" of {os.path.basename(filename)}"
    owner = next((klass.__name__ for klass in getattr(cls, "__mro__", ())
                  if filename in _files_of(klass)), f"{frame.name}()")
    return f" of the cell that defines {owner}"


def _files_of(klass: type) -> set[str]:
    """The files (notebook cells) of the functions in ``klass``'s own body."""
    files = set()
    with contextlib.suppress(Exception):  # a student's class attribute that breaks getattr
        for attr in vars(klass).values():
            # Through staticmethod and classmethod, and decorators: @torch.no_grad() wraps step.
            code = getattr(inspect.unwrap(getattr(attr, "__func__", attr)), "__code__", None)
            if code is not None:
                files.add(code.co_filename)
    return files


def _error(exc: BaseException, stage: str, step: int, cls: Any) -> dict[str, Any]:
    return {"kind": type(exc).__name__, "message": str(exc).strip().splitlines()[0][:300]
            if str(exc).strip() else "", "where": _where(exc, cls), "stage": stage,
            "step": step}


def _state_of(optimizer: Any, p: torch.Tensor) -> dict[str, Any] | None:
    """What ``optimizer.state`` holds for ``p``: its keys and its ``"step"``, or None.

    Read as a dict by ``dict``'s own methods (torch's ``state`` is a ``defaultdict``): a
    red-team look kept the state under ``id(p)`` behind a ``get`` that mapped ``p`` to it,
    and another hid the states it made up front, and they scored the state points.
    """
    try:
        state = optimizer.state
        state = dict.get(state, p) if isinstance(state, dict) else None
    except Exception:  # a key whose hash or equality breaks
        return None
    if not isinstance(state, dict) or not dict.__len__(state):
        return None
    step = dict.get(state, "step")
    try:
        step_value = None if step is None else float(step)
    except (TypeError, ValueError):
        step_value = None
    return {"keys": sorted(str(key) for key in dict.keys(state)), "step": step_value}


def _other_keys(optimizer: Any) -> list[str]:
    """Up to 4 keys of ``optimizer.state`` that are not tensors, as text (an honest-student
    sweep: a state keyed by position was told self.state "holds nothing" for a parameter)."""
    try:
        keys = [key for key in dict.keys(optimizer.state) if not isinstance(key, torch.Tensor)]
    except Exception:  # not a dict
        return []
    return [_key_text(key) for key in keys[:4]]


def _key_text(key: Any) -> str:
    """A short text of a state key, by its type's own repr: a class of the notebook's could
    run any code in its own."""
    try:
        if type(key) is int or type(key) is bool:
            return int.__repr__(key)[:40]
        if type(key) is str:
            return reprlib.repr(key)
        return f"a {type.__getattribute__(type(key), '__name__')}"[:40]
    except Exception:
        return "a key"


def _tracked(optimizer: Any) -> set[int]:
    """The ids of the tensors in the optimizer's param_groups."""
    found: set[int] = set()
    with contextlib.suppress(Exception):
        for group in optimizer.param_groups:
            found.update(id(p) for p in group["params"])
    return found


#: How a parameter is read after a step, taken when this module is imported: the grader's
#: kernel imports it as it starts, before any notebook code. A step that gives a parameter
#: another class (``p.__class__ = Shown``, a ``torch.Tensor`` subclass overriding
#: ``detach``, ``data_ptr`` or ``dtype``) or replaces ``torch.Tensor``'s methods later cannot
#: change what is read (a red-team look reported Adam's values for parameters it never
#: changed, and scored 9 of 9).
_TENSOR, _type = torch.Tensor, type
_detach, _numpy, _data_ptr = torch.Tensor.detach, torch.Tensor.numpy, torch.Tensor.data_ptr
_dtype_of, _shape_of = torch.Tensor.dtype.__get__, torch.Tensor.shape.__get__
_stride, _offset = torch.Tensor.stride, torch.Tensor.storage_offset


def _layout(p: torch.Tensor) -> tuple[Any, ...]:
    """How ``p`` reads its storage: shape, strides, offset."""
    return tuple(_shape_of(p)), _stride(p), _offset(p)

#: The error kind of a parameter whose class the step changed (the judge flags it).
CLASS_CHANGED = "ParameterClassChanged"


class _Warm(torch.optim.Optimizer):
    def step(self, closure: Any = None) -> None:
        return None


_warm: list[bool] = []


def _warm_up() -> None:
    """Construct and step a trivial optimizer once, outside any time limit.

    The first ``torch.optim.Optimizer`` imports parts of torch lazily (torch._dynamo,
    seconds on a busy machine): interrupted by a time limit, that import would leave a
    half-initialised module behind and every later optimizer would fail.
    """
    if not _warm:
        _Warm([torch.zeros(1, requires_grad=True)], {}).step()
        _warm.append(True)


def _leaf(value: Any, dtype: torch.dtype, shared: bool) -> torch.Tensor:
    """A parameter: a leaf tensor of ``value``'s values, in ``value``'s own memory if
    ``shared`` and it can be (a writable array of that dtype), else in a copy."""
    array = np.asarray(value)
    if shared and array.flags.writeable and array.flags.c_contiguous \
            and array.dtype == {torch.float32: np.float32, torch.float64: np.float64}[dtype]:
        return torch.from_numpy(array).requires_grad_(True)
    return torch.tensor(array, dtype=dtype).requires_grad_(True)


def run_scenario(cls: Any, scenario: dict[str, Any]) -> dict[str, Any]:
    """Run ``cls`` (a ``torch.optim.Optimizer`` subclass) on ``scenario``; see the module doc.

    Parameters
    ----------
    cls : type
        The optimizer class, e.g. ``torch.optim.Adam`` or a student's ``Adam``.
    scenario : dict
        The scenario, pure data (see the module docstring).

    Returns
    -------
    dict
        The observation, pure data. Exceptions of ``cls`` are recorded, not raised.
    """
    dtype = {"float32": torch.float32, "float64": torch.float64}[scenario.get("dtype", "float64")]
    params = [_leaf(a, dtype, bool(scenario.get("shared"))) for a in scenario["params"]]
    pointers = [_data_ptr(p) for p in params]
    layouts = [_layout(p) for p in params]
    groups = scenario.get("groups") or [{"params": list(range(len(params)))}]
    hyper = {k: (tuple(v) if isinstance(v, list) else v)
             for k, v in scenario.get("hyper", {}).items()}
    observed: dict[str, Any] = {"values": [], "same_object": [], "same_storage": [],
                                "same_layout": [], "dtypes": [], "state": [], "grads_kept": [],
                                "other_keys": [], "error": None, "printed": 0}
    limit = scenario.get("time_limit")
    _warm_up()
    quiet = io.StringIO()
    try:
        # A warning is not the student's output (an audit: torch's deprecation warning
        # for the old addcdiv_(value, t1, t2) signature read "your code printed output");
        # ignored, as the NumPy lessons' run_quietly does.
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _steps(cls, scenario, dtype, params, (pointers, layouts), groups, hyper, limit,
                   observed)
    finally:
        # Hidden from the student's output, but counted: the self-check says so.
        observed["printed"] = len(quiet.getvalue())
    return observed


def _steps(cls: Any, scenario: dict[str, Any], dtype: Any, params: list[Any],
           first: tuple[list[int], list[Any]], groups: list[dict[str, Any]],
           hyper: dict[str, Any], limit: float | None, observed: dict[str, Any]) -> None:
    """Construct ``cls`` and take the scenario's steps, recording into ``observed``
    (``first``: each parameter's first data pointer and (shape, strides, offset))."""
    pointers, layouts = first

    def group_dict(spec: dict[str, Any]) -> dict[str, Any]:
        options = {k: (tuple(v) if isinstance(v, list) else v)
                   for k, v in spec.items() if k not in ("params", "join")}
        return {"params": [params[i] for i in spec["params"]], **options}

    try:
        with _time_limit(limit):
            optimizer = cls([group_dict(g) for g in groups if not g.get("join")], **hyper)
    except (Exception, StepTimeout) as exc:
        observed["error"] = _error(exc, "constructor", -1, cls)
        return
    for number, grads in enumerate(scenario["steps"]):
        try:
            # Each gradient in its parameter's dtype now, as backward() makes it: a step
            # that turned a float32 parameter into float64 made this assignment raise, and
            # the student read torch's message instead of the float32 property's (an audit).
            for p, g in zip(params, grads, strict=True):
                p.grad = None if g is None else torch.tensor(np.asarray(g), dtype=_dtype_of(p))
            given = [None if p.grad is None else p.grad.clone() for p in params]
            with _time_limit(limit):
                for spec in groups:
                    if spec.get("join") == number:
                        optimizer.add_param_group(group_dict(spec))
                optimizer.step()
        except (Exception, StepTimeout) as exc:
            observed["error"] = _error(exc, "step", number, cls)
            return
        changed = [(i, _type(p)) for i, p in enumerate(params) if _type(p) is not _TENSOR]
        if changed:
            index, kind = changed[0]
            observed["error"] = {
                "kind": CLASS_CHANGED, "where": "", "stage": "step", "step": number,
                "message": f"step() changed the class of parameter {index} to "
                           f"{getattr(kind, '__name__', '?')}: the grader reads a parameter "
                           "as the torch.Tensor it handed over"}
            return
        tracked = _tracked(optimizer)
        observed["values"].append([_numpy(_detach(p)).copy() for p in params])
        observed["same_object"].append([id(p) in tracked for p in params])
        observed["same_storage"].append([_data_ptr(p) == ptr
                                         for p, ptr in zip(params, pointers, strict=True)])
        observed["same_layout"].append([_layout(p) == first
                                        for p, first in zip(params, layouts, strict=True)])
        observed["dtypes"].append([str(_dtype_of(p)).removeprefix("torch.") for p in params])
        observed["state"].append([_state_of(optimizer, p) for p in params])
        observed["other_keys"] = _other_keys(optimizer)
        # Only for the feedback of a step that moves no parameter (an honest-student sweep:
        # `p.grad.sub_(...)` was told it may assign to the name p).
        observed["grads_kept"].append([g is None or (isinstance(p.grad, torch.Tensor)
                                                     and torch.equal(p.grad, g))
                                       for p, g in zip(params, given, strict=True)])
