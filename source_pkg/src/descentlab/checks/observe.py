"""Run an optimizer class on a :class:`~.cases.Case` and record what it did.

:func:`observe` is the only place where student code runs. It records, after
every ``update`` call, a copy of every parameter, whether ``params[key]`` is
still the very array it was handed (updated in place) and its dtype; it turns
any exception, a hang (time-boxed) or a ``raise NotImplementedError`` stub into
data. The :class:`Observation` is plain data (NumPy arrays, strings, numbers):
comparing and diagnosing it runs no student code (the grader's student class is
a proxy to the jailed kernel: only its constructor and ``update`` are called).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import itertools
import warnings
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._timebox import TimeLimitExceeded
from .._timebox import time_limit as _time_limit
from ..errors import closest_name, describe_exception
from . import messages
from .cases import Case

__all__ = ["STUDENT_ERRORS", "Observation", "accepted_arguments", "describe_exception", "observe",
           "observe_in_turn", "run_quietly"]

# Stages at which an observation can stop.
CLASS, SIGNATURE, INIT, UPDATE = "class", "signature", "init", "update"

STUDENT_ERRORS = (Exception, SystemExit, TimeLimitExceeded)


@dataclass(eq=False)
class Observation:
    """What one optimizer class did on one case.

    Attributes
    ----------
    subject : str
        Name of the observed class (for messages).
    case_id : str
        The case's fingerprint; observations are only comparable on the same case.
    keys : tuple of str
        Parameter names, in the case's order.
    hyper : dict of str to float
        The keyword arguments the class was built with.
    values : dict of str to numpy.ndarray
        ``values[key][i]`` is ``params[key]`` after call ``i`` (row 0: before
        the first call), as float64; NaN where it could not be read.
    same_object : numpy.ndarray of bool, shape (calls_done, n_keys)
        Whether ``params[key]`` was still the array handed in, after each call.
    dtypes : numpy.ndarray of str, shape (calls_done, n_keys)
        dtype name of ``params[key]`` after each call.
    problems : numpy.ndarray of str, shape (calls_done, n_keys)
        ``""``, or what is wrong with ``params[key]`` besides its values
        ("has shape (3, 4) instead of (4,)", "is None", …).
    zero_grads : numpy.ndarray of bool, shape (calls, n_keys)
        Whether the gradient of ``key`` at a call was all zeros.
    zero_entries : dict of str to numpy.ndarray of bool
        ``zero_entries[key][i]``: which entries of ``key``'s gradient were 0 at call
        ``i`` (shape ``(calls, *shape)``).
    input_dtype : str
        dtype of the case's arrays.
    calls : int
        Number of ``update`` calls the case asks for.
    error_stage : str
        ``""`` if every call completed, else where it stopped: ``"class"`` (not
        a usable class), ``"signature"`` (a required argument is not accepted),
        ``"init"`` or ``"update"``.
    error_type, error_message : str
        Exception class name and text (``"TimeLimitExceeded"`` for a hang).
    error_call : int
        1-based ``update`` call that failed (0 if the failure came earlier).
    error_where : str
        The line of the observed code that raised, when it could be found.
    error_suggestion : str
        The existing name a NameError or AttributeError most likely meant
        (:func:`~descentlab.errors.closest_name`), or ``""``.
    printed : int
        Number of characters the observed code printed (they are not shown).
    returned : str
        The type of the first value ``update`` returned other than None (``"dict"``), or
        ``""``: an update that returns new parameters instead of changing them.
    added_keys : tuple of str
        Keys ``params`` held after a call that it was not given (state kept in the
        caller's dict), as first seen; ``()`` if none.
    added_call : int
        The 1-based call after which :attr:`added_keys` were first seen (0: never).
    changed : tuple of str
        The hyperparameters given to the constructor whose attribute of that name update()
        changed, by the last call (``("lr",)``: update() decays the rate).
    """

    subject: str
    case_id: str
    keys: tuple[str, ...]
    hyper: dict[str, float]
    values: dict[str, np.ndarray]
    same_object: np.ndarray
    dtypes: np.ndarray
    problems: np.ndarray
    zero_grads: np.ndarray
    zero_entries: dict[str, np.ndarray]
    input_dtype: str
    calls: int
    error_stage: str = ""
    error_type: str = ""
    error_message: str = ""
    error_call: int = 0
    error_where: str = ""
    error_suggestion: str = ""
    printed: int = 0
    returned: str = ""
    added_keys: tuple[str, ...] = ()
    added_call: int = 0
    changed: tuple[str, ...] = ()

    @property
    def calls_done(self) -> int:
        """Number of ``update`` calls that completed."""
        return int(self.same_object.shape[0])

    @property
    def completed(self) -> bool:
        """Whether every call of the case ran without an error."""
        return not self.error_stage and self.calls_done == self.calls


def accepted_arguments(factory: Callable[..., Any], names: Sequence[str]) -> list[str]:
    """Return which of ``names`` ``factory(**{name: ...})`` accepts as keywords.

    A ``**kwargs`` parameter accepts every name; positional-only parameters
    accept none. If no signature can be read, nothing is accepted.
    """
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return list(names)
    keyword = {p.name for p in parameters
               if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                             inspect.Parameter.KEYWORD_ONLY)}
    return [name for name in names if name in keyword]


class _CountingSink(io.TextIOBase):
    """A stdout replacement that only counts what is written."""

    def __init__(self) -> None:
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.count += len(text)
        return len(text)


@contextlib.contextmanager
def run_quietly() -> Iterator[_CountingSink]:
    """Run observed code without printing, warnings or floating-point error messages.

    Student code that prints in every call would drown the verdict, and a
    division by zero must become a NaN to report, not a warning (or, under
    ``-W error``, an exception).
    """
    sink = _CountingSink()
    with contextlib.redirect_stdout(sink), warnings.catch_warnings(), \
            np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield sink


def _read(obj: Any, shape: tuple[int, ...]) -> tuple[np.ndarray, str, str]:
    """Return (float64 values, dtype name, problem) for what ``params[key]`` holds."""
    nan = np.full(shape, np.nan)
    if obj is _MISSING:
        return nan, "", "was removed from params"
    if obj is None:
        return nan, "", "is None"
    if isinstance(obj, (np.ndarray, np.generic, int, float)) and not isinstance(obj, bool):
        array = np.asarray(obj)
        dtype = array.dtype.name if isinstance(obj, (np.ndarray, np.generic)) \
            else f"Python {type(obj).__name__}"
        if array.dtype.kind not in "fiu":
            return nan, dtype, f"holds {array.dtype} values"
        if array.shape != shape:
            return nan, dtype, f"has shape {array.shape} instead of {shape}"
        return array.astype(np.float64), dtype, ""
    kind = type(obj).__name__
    try:
        array = np.asarray(obj, dtype=np.float64)
    except (TypeError, ValueError):
        return nan, kind, f"is a {kind}, not a NumPy array"
    if array.shape != shape:
        return nan, kind, f"is a {kind} of shape {array.shape}, not a NumPy array of shape {shape}"
    return array, kind, f"is a {kind}, not a NumPy array"


_MISSING = object()


def observe(
    factory: Callable[..., Any],
    hyper: Mapping[str, float],
    case: Case,
    *,
    time_limit: float | None = 2.0,
    required: Sequence[str] = (),
    fresh_keys: bool = False,
    arrays: Mapping[str, np.ndarray] | None = None,
) -> Observation:
    """Build an optimizer, run it on ``case`` and record what it did.

    Parameters
    ----------
    factory : callable
        The optimizer class (or any callable returning an object with
        ``update(params, grads)``).
    hyper : dict of str to float
        Hyperparameter values; only those ``factory`` accepts as keywords are
        passed (a book-style ``AdaGrad(lr)`` with a hard-coded epsilon gets ``lr``).
    case : Case
        The inputs; copied, never modified.
    time_limit : float or None
        Seconds each call (constructor, every ``update``) may take.
    required : sequence of str
        Names ``factory`` must accept; if one is missing nothing runs and the
        observation stops at stage ``"signature"``.
    fresh_keys : bool
        Hand the object the keys under names no observation used before (``W`` as
        ``W_7``), recorded under the case's: a class whose state every object shares
        (written in the class body) finds no earlier object's state there.
    arrays : dict of str to numpy.ndarray, optional
        The very arrays to hand over as ``params`` (their values set to the case's first),
        such as those an earlier observation used: state an object leaves keyed by
        ``id(params[key])`` in the class body meets the next object there.

    Returns
    -------
    Observation
        Never raises for anything the observed code does.
    """
    return _observe(factory, [(hyper, case, _fresh(case) if fresh_keys else case)],
                    time_limit=time_limit, required=required, arrays=arrays)[0]


def observe_in_turn(
    factory: Callable[..., Any],
    runs: Sequence[tuple[Mapping[str, float], Case]],
    *,
    time_limit: float | None = 2.0,
    required: Sequence[str] = (),
) -> list[Observation]:
    """Build one optimizer per ``(hyper, case)`` of ``runs``, one after the other, then update
    them in turn, call by call, each on its own copy of its case, as the optimizers of
    several networks are used.

    Each takes the steps it would take alone unless something lives on from one object to
    the next: state every object shares that a later ``__init__``, or another object's
    ``update``, resets or overwrites, or hyperparameters kept on the class (red-team rounds
    23 and 24: such code passed objects run one after the other). ``time_limit`` and
    ``required`` as :func:`observe`'s; one :class:`Observation` per run, in order (what they
    printed is counted in the first).
    """
    return _observe(factory, [(hyper, case, case) for hyper, case in runs],
                    time_limit=time_limit, required=required)


def _observe(factory: Callable[..., Any],
             objects: Sequence[tuple[Mapping[str, float], Case, Case]], *,
             time_limit: float | None, required: Sequence[str],
             arrays: Mapping[str, np.ndarray] | None = None) -> list[Observation]:
    """Observe one object per ``(hyper, case, given)`` of ``objects``, built in turn and then
    updated in turn on ``given`` (``case``, or ``case`` under other key names), recorded
    under ``case``'s keys."""
    subject = getattr(factory, "__name__", type(factory).__name__)
    arguments: list[dict[str, float]] = [{} for _ in objects]
    error: dict[str, Any] = {}
    if not callable(factory):
        error = {"error_stage": CLASS, "error_type": type(factory).__name__,
                 "error_message": messages.not_a_class(factory)}
    else:
        accepted = accepted_arguments(factory, list(objects[0][0]))
        arguments = [{name: hyper[name] for name in accepted} for hyper, _, _ in objects]
        missing = [name for name in required if name not in arguments[0]]
        if missing:
            error = {"error_stage": SIGNATURE, "error_type": "TypeError",
                     "error_message": messages.missing_arguments(subject, missing,
                                                                 objects[0][0])}
    tables: list[list[tuple[list[np.ndarray], list[bool], list[str], list[str]]]] = [
        [] for _ in objects]
    errors = [error] * len(objects)
    printed = 0
    if not error:
        with run_quietly() as sink:
            errors = _in_turn([_steps(factory, kwargs, given, time_limit, rows, arrays)
                               for kwargs, (_, _, given), rows
                               in zip(arguments, objects, tables, strict=True)])
        printed = sink.count

    def observation(kwargs: dict[str, float], case: Case, rows: list[Any],
                    error: dict[str, Any], printed: int) -> Observation:
        keys = case.keys

        def table(i: int, dtype: type) -> np.ndarray:
            return np.array([row[i] for row in rows], dtype=dtype).reshape(len(rows), len(keys))

        values = {
            key: np.stack([np.asarray(case.params[key], dtype=np.float64)]
                          + [row[0][j] for row in rows])
            for j, key in enumerate(keys)
        }
        return Observation(
            subject=subject, case_id=case.fingerprint, keys=keys, hyper=kwargs, values=values,
            same_object=table(1, bool), dtypes=table(2, str), problems=table(3, str),
            zero_grads=np.array([[not np.any(g[k]) for k in keys] for g in case.grads],
                                dtype=bool),
            zero_entries={k: np.stack([np.asarray(g[k]) == 0 for g in case.grads])
                          for k in keys},
            input_dtype=case.dtype.name, calls=case.calls, printed=printed, **error,
        )

    return [observation(kwargs, case, rows, error, printed if i == 0 else 0)
            for i, (kwargs, (_, case, _), rows, error)
            in enumerate(zip(arguments, objects, tables, errors, strict=True))]


#: Numbers no key name of :func:`_fresh` had before.
_FRESH = itertools.count()


def _fresh(case: Case) -> Case:
    """``case`` with its keys renamed (``W`` is ``W_7``), in the same order: :func:`_steps`
    records by position."""
    number = next(_FRESH)
    new = {key: f"{key}_{number}" for key in case.keys}

    def renamed(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {new[key]: value for key, value in arrays.items()}

    return Case(case.seed, renamed(case.params), tuple(renamed(g) for g in case.grads),
                case.hyper, tuple(new[key] for key in case.zero_keys))


#: Every params array an observation handed out, kept for the life of the process: a class
#: that keeps state under ``id(params[key])`` in its class body (a student audit) met the
#: state of an earlier check's array whose id a new array reused, of another shape (a
#: broadcast error) or values, and the same notebook scored 6, 4 or 5 of 6 from one run to
#: the next. Kept, no id is reused: the grade is the same on every run. (A check hands out
#: a few kilobytes.)
_HANDED_OUT: list[dict[str, np.ndarray]] = []


#: Every object an observation built, kept likewise: state a class keeps under ``id(self)``
#: in a module dict (red-team round 24) met a freed object's under a reused id, and lost 1
#: to 3 properties, by seed, in a notebook's own checks (the graded run gave all).
_BUILT: list[Any] = []


def _arrays_for(case: Case, arrays: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """The params to hand over: ``arrays`` holding the case's values again, else copies."""
    params = None
    if arrays is not None:
        try:
            for key, value in case.params.items():
                np.copyto(arrays[key], value)
            params = dict(arrays)
        except (KeyError, TypeError, ValueError):  # changed in shape or dtype by the code
            params = None
    if params is None:
        params = {key: np.array(value) for key, value in case.params.items()}
    _HANDED_OUT.append(params)
    return params


def _in_turn(runs: list[Generator[None, None, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Advance each of ``runs`` (:func:`_steps`) by one stage in turn until all have ended;
    their error fields, in order."""
    ended: dict[int, dict[str, Any]] = {}
    while len(ended) < len(runs):
        for i, run in enumerate(runs):
            if i not in ended:
                try:
                    next(run)
                except StopIteration as stop:
                    ended[i] = stop.value
    return [ended[i] for i in range(len(runs))]


def _steps(factory: Callable[..., Any], kwargs: dict[str, float], case: Case,
           limit: float | None, rows: list[Any],
           arrays: Mapping[str, np.ndarray] | None = None
           ) -> Generator[None, None, dict[str, Any]]:
    """Construct, then update once per gradient of ``case``, pausing after each stage;
    append one row per completed call; return the error fields."""
    try:
        with _time_limit(limit):
            optimizer = factory(**kwargs)
    except STUDENT_ERRORS as exc:
        kind, message, where = describe_exception(exc)
        return {"error_stage": INIT, "error_type": kind, "error_message": message,
                "error_where": where, "error_suggestion": closest_name(exc)}
    _BUILT.append(optimizer)
    yield
    params = _arrays_for(case, arrays)
    originals = dict(params)
    # As the constructor left them: what update() changes of them is named (a student
    # audit's `self.lr *= 0.99` in update() was told that its velocity follows the wrong
    # rule).
    settings = _numbers(optimizer, list(kwargs), limit)
    returned = ""
    added: dict[str, Any] = {}  # the keys update() put into params, when first seen
    for call, grads in enumerate(case.grads, start=1):
        try:
            with _time_limit(limit):
                result = optimizer.update(params, {key: np.array(g) for key, g in grads.items()})
        except STUDENT_ERRORS as exc:
            kind, message, where = describe_exception(exc)
            return {"error_stage": UPDATE, "error_type": kind, "error_message": message,
                    "error_call": call, "error_where": where,
                    "error_suggestion": closest_name(exc), "returned": returned, **added}
        if result is not None and not returned:
            returned = type(result).__name__
        values, same, dtypes, problems = [], [], [], []
        for key in case.keys:
            obj = params.get(key, _MISSING)
            value, dtype, problem = _read(obj, case.params[key].shape)
            values.append(value)
            same.append(obj is originals[key])
            dtypes.append(dtype)
            problems.append(problem)
        rows.append((values, same, dtypes, problems))
        if not added and (new := [str(key) for key in params if key not in originals]):
            # A red-team look kept the velocity in params["velocity:W"]: full marks.
            added = {"added_keys": tuple(sorted(new)), "added_call": call}
        yield
    after = _numbers(optimizer, list(settings), limit)
    return {"returned": returned, **added,
            "changed": tuple(name for name, value in settings.items()
                             if name in after and after[name] != value)}


def _numbers(optimizer: Any, names: Sequence[str], limit: float | None) -> dict[str, float]:
    """The object's attributes of these names that read as numbers (a hyperparameter kept
    under another name, or not a number, is left out)."""
    numbers = {}
    for name in names:
        try:
            with _time_limit(limit):
                numbers[name] = float(getattr(optimizer, name))
        except STUDENT_ERRORS:
            continue
    return numbers
