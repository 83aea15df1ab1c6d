"""Check ``minibatches(x, t, batch_size, seed)``: one shuffled epoch of ``(xb, tb)`` pairs.

What must hold (the behaviour of :func:`descentlab.data.minibatches`, checked
property by property rather than against its exact permutation): every sample
exactly once per epoch, rows of ``x`` and ``t`` still paired, batches of
``batch_size`` with a smaller last one, an order that is shuffled, reproducible
for a seed and different for another seed, and the caller's arrays untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice, pairwise
from typing import Any

import numpy as np

from ..report import Report
from ._runner import FunctionProperty, StudentError, assert_function, call, check_function

__all__ = ["MINIBATCHES_PROPERTIES", "assert_minibatches", "check_minibatches"]

NAME = "minibatches"
_CLASSES = 10


def _data(seed: int, left: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """x (n, 3) whose column 0 is the sample id, one-hot t paired by id, and a batch size
    that does not divide n: ``left`` samples are left for the last batch (random when
    None; 0: no smaller last batch)."""
    rng = np.random.default_rng([seed, 98 if left == 0 else 99])
    batch_size = int(rng.integers(4, 8))
    extra = int(rng.integers(1, batch_size)) if left is None else left
    n = int(rng.integers(3, 6)) * batch_size + extra
    x = np.column_stack([np.arange(n, dtype=np.float64), rng.normal(size=(n, 2))])
    return x, _labels(np.arange(n)), batch_size


def _samples(count: int) -> str:
    return f"{count} sample{'' if count == 1 else 's'}"


def _labels(ids: np.ndarray) -> np.ndarray:
    return np.eye(_CLASSES)[(7 * ids.astype(int) + 3) % _CLASSES]


def _epoch(fn: Callable[..., Any], x: np.ndarray, t: np.ndarray, batch_size: int,
           seed: int | None, limit: float | None, first_epoch: bool = False,
           in_order: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """The batches of one call, as float arrays; StudentError if they are not (xb, tb) pairs.

    ``seed=None`` is the signature's default: a fresh shuffle on every call.

    An iterator that does not stop after one epoch, or a function that returns the first
    batch's pair, fails the properties of an epoch (each sample once, the batch sizes);
    with ``first_epoch``, the other properties are judged on its first ``len(x)`` rows, or
    on that one batch (a two-bug audit: an endless generator lost the pairs and shuffling
    points too, which it kept). Batches yielded as ``(t_batch, x_batch)`` fail with
    ``in_order`` (the pairs' property) and are read the right way round for the others (a
    student audit: the swap lost all three points, told only the two shapes).
    """
    cap = len(x) + 2  # an iterator that does not stop after one epoch is cut here
    items = call(fn, NAME, x, t, batch_size, seed=seed, time_limit=limit,
                 consume=lambda it: list(islice(it, cap)),
                 shown=f"{NAME}(x, t, batch_size, seed=None)" if seed is None else None)
    if len(items) == 2 and all(isinstance(a, np.ndarray) for a in items) \
            and items[0].ndim == 2 and items[1].ndim == t.ndim \
            and items[0].shape[1:] == x.shape[1:] and items[1].shape[1:] == t.shape[1:]:
        # A student audit: `return x[idx], t[idx]` inside the loop was told "batch 0 is
        # not a pair": the function returned the first batch's pair itself.
        if not first_epoch:
            raise StudentError(f"{NAME}() returned one pair (x_batch, t_batch) instead of "
                               "yielding one per batch: a return inside the loop ends the "
                               "function at the first batch. Use yield x[idx], t[idx].")
        # That one batch keeps the points of pairs, shuffling and inputs, as an endless
        # generator keeps them (a grading audit: it lost all three cells).
        return [(np.asarray(items[0], dtype=np.float64), np.asarray(items[1], dtype=np.float64))]
    if not items or all(_rows_of(item) == 0 for item in items):
        # Nothing to judge: every property fails with it (red-team rounds: an empty
        # generator, and one empty batch, scored the pairs' point; the first was told its
        # batches came in order).
        raise StudentError(f"{NAME}() yielded no sample of the {len(x)}: yield x[idx], "
                           "t[idx] for each batch's indices idx.")
    endless = len(items) >= cap
    if endless and not first_epoch:
        raise StudentError(f"{NAME}() produced more than {len(x)} batches for {len(x)} "
                           "samples: it must stop after one epoch.")
    batches: list[tuple[np.ndarray, np.ndarray]] = []
    for i, item in enumerate(items):
        try:
            xb, tb = item
            xb, tb = np.asarray(xb, dtype=np.float64), np.asarray(tb, dtype=np.float64)
        except (TypeError, ValueError):
            raise StudentError(f"batch {i} is not a pair (x_batch, t_batch): yield "
                               "x[idx], t[idx].") from None
        if x.shape[1:] != t.shape[1:] and tb.ndim == 2 and tb.shape[1:] == x.shape[1:] \
                and xb.shape[1:] == t.shape[1:]:
            if in_order:
                raise StudentError(f"batch {i} is (t_batch, x_batch), of shapes {xb.shape} and "
                                   f"{tb.shape}: the pair comes in the order (x_batch, "
                                   "t_batch), as the caller unpacks it: yield x[idx], t[idx].")
            xb, tb = tb, xb
        if xb.ndim != 2 or xb.shape[1:] != x.shape[1:] or tb.shape[1:] != t.shape[1:]:
            raise StudentError(f"batch {i} holds arrays of shapes {xb.shape} and {tb.shape}: a "
                               f"batch must be rows of x and of t (x_batch of shape (k, "
                               f"{x.shape[1]})).")
        batches.append((xb, tb))
        if endless and sum(len(b) for b, _ in batches) >= len(x):
            break  # the first epoch's worth of rows
    return batches


def _rows_of(item: Any) -> int | None:
    """The rows of a yielded ``(x_batch, t_batch)``'s first array (None if not one)."""
    try:
        return len(item[0])
    except (TypeError, IndexError, KeyError):
        return None


def _ids(batches: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    if not batches:
        return np.zeros(0)
    return np.concatenate([xb[:, 0] for xb, _ in batches])


def _overlapping(batches: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """Whether every repeated sample is one a batch ends with and the next starts with:
    slices that overlap (idx[i:i + batch_size + 1]), not indices drawn at random (a two-bug
    audit's overlapping slices were told to stop drawing random indices)."""
    ids = [xb[:, 0].tolist() for xb, _ in batches]
    seen = 0
    for a, b in pairwise(ids):
        shared = len(set(a) & set(b))
        if shared and (shared > min(len(a), len(b)) or set(a[-shared:]) != set(b[:shared])):
            return False
        seen += shared
    counts = np.unique(_ids(batches), return_counts=True)[1]
    return seen > 0 and seen == int(np.sum(counts - 1))


def _once(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    x, t, size = _data(seed)
    n = len(x)
    batches = _epoch(fn, x, t, size, seed, limit)
    ids = _ids(batches)
    counts = np.bincount(ids.astype(int), minlength=n) if ids.size else np.zeros(n, int)
    if counts.max(initial=0) > 1 and _overlapping(batches):
        return (f"{int(np.sum(counts > 1))} samples appear more than once in one epoch: each "
                "batch starts with samples the batch before ended with, so the slices "
                "overlap. Cut the permutation into idx[i:i + batch_size] for i in range(0, n, "
                "batch_size).")
    repeated = np.flatnonzero(counts > 1)
    if repeated.size and batches and len(batches[-1][0]) == size and n % size and \
            set(repeated.tolist()) <= set(batches[-1][0][:, 0].astype(int).tolist()):
        # A student audit: a last batch filled up with samples from the start of the
        # permutation was told to stop drawing random indices.
        return (f"the last batch is filled up to batch_size with {_samples(repeated.size)} "
                f"already used: with {n} samples and batch_size {size} it holds the "
                f"{_samples(n % size)} left, no more — yield it smaller.")
    if counts.max(initial=0) > 1:
        return (f"{int(np.sum(counts > 1))} samples appear more than once in one epoch: draw "
                "one permutation of all indices (rng.permutation(n)) and cut it into batches, "
                "instead of drawing random indices.")
    missing = int(np.sum(counts == 0))
    if missing == n % size and missing:
        return (f"the last, smaller batch is missing ({_samples(missing)} never appear"
                f"{'s' if missing == 1 else ''}): with {n} samples and batch_size {size} the "
                f"last batch has {_samples(n % size)} — yield it too.")
    if missing:
        return f"{missing} of the {n} samples never appear in the epoch."
    return ""


def _paired(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    x, t, size = _data(seed)
    # With a seed and with the default one (seed=None): two generators made from the same
    # seed shuffle x and t alike, two made from None do not (a student audit: pairs lost in
    # every call without a seed, full marks).
    for given in (seed, None):
        for i, (xb, tb) in enumerate(_epoch(fn, x, t, size, given, limit, first_epoch=True,
                                            in_order=True)):
            if len(tb) != len(xb):
                return (f"batch {i} has {len(xb)} rows of x but {len(tb)} rows of t: cut both "
                        "with the same indices.")
            if not np.array_equal(tb, _labels(xb[:, 0])):
                when = "" if given is not None else (
                    "called without a seed (seed=None, the default), ")
                return (f"{when}the rows of x and t no longer match: shuffle both with the "
                        "same index array (x[idx], t[idx]), not each one separately.")
    # And t of one label per sample, 1-D, as lesson 01's y is (a student audit: t[idx, :],
    # which stops the lesson's figures, scored full marks on the one-hot t alone).
    labels = np.argmax(t, axis=1).astype(np.float64)
    try:
        batches = _epoch(fn, x, labels, size, seed, limit, first_epoch=True, in_order=True)
    except StudentError as exc:
        raise StudentError(f"with a 1-D t (one label per sample, as the lesson's y): {exc}",
                           hung=exc.hung) from None
    for i, (xb, tb) in enumerate(batches):
        if not np.array_equal(tb, np.argmax(_labels(xb[:, 0]), axis=1)):
            return (f"with a 1-D t (one label per sample, as the lesson's y), batch {i}'s "
                    "labels are not those of its rows of x: cut both with the same indices, "
                    "x[idx] and t[idx].")
    return ""


def _sizes(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    # A smaller last batch, none (n a multiple of it), and one of a single sample (a student
    # audit: range(0, n - 1, batch_size) passed the self-check and lost hidden points).
    for left in (None, 0, 1):
        divides = left == 0
        x, t, size = _data(seed, left)
        n = len(x)
        got = [len(xb) for xb, _ in _epoch(fn, x, t, size, seed, limit)]
        want = [size] * (n // size) + ([n % size] if n % size else [])
        if got == want:
            continue
        if got == want[:-1] and not divides:
            return (f"the last, smaller batch is missing: {n} samples with batch_size {size} "
                    f"give {len(want)} batches, the last of {_samples(n % size)}.")
        if got == [*want, 0]:
            # E.g. len(x) // batch_size + 1 batches: one too many when batch_size divides n.
            return (f"an empty batch comes last: {n} samples with batch_size {size} make "
                    f"exactly {len(want)} full batches, and nothing is left for another. "
                    "Yield a last, smaller batch only when N % batch_size is not zero.")
        return (f"with {n} samples and batch_size {size} the batch sizes must be {want}, not "
                f"{got}.")
    return ""


def _order(fn: Callable[..., Any], data_seed: int, seed: int | None, limit: float | None
           ) -> np.ndarray:
    """The sample ids of one epoch, on fresh data (an in-place shuffle must not leak)."""
    x, t, size = _data(data_seed)
    return _ids(_epoch(fn, x, t, size, seed, limit, first_epoch=True))


def _order_shape(order: np.ndarray) -> str:
    """What is wrong with the shape of a whole epoch's order (sample ids 0 .. n-1), or ""."""
    # Neighbours kept: a rotation or a reversal of the order (red-team round 19's np.roll
    # by a seeded offset scored the point). A permutation drawn at random keeps about one
    # pair of neighbours in n; these keep nearly all.
    steps = np.diff(order) % len(order)
    if np.mean((steps == 1) | (steps == len(order) - 1)) > 0.5:
        return ("the order keeps almost every sample beside its neighbour (a rotation or a "
                "reversal of 0, 1, 2, ..., or runs of consecutive samples kept together): "
                "shuffle the samples themselves, with a random permutation "
                "rng.permutation(n).")
    # One stride through the samples, (a·i + b) mod n (red-team round 27: a stride drawn from
    # the seed kept the point). A random permutation repeats no step that often: at most 10
    # of 12 alike in 100,000 draws of the smallest n here (13).
    if np.bincount(steps).max() >= 0.9 * len(steps):
        return ("the order steps through the samples with one fixed stride (a·i + b mod n), "
                "which is no shuffle: draw a random permutation, rng.permutation(n).")
    return ""


#: Seeds (or calls without one) that must all give one order before it counts as fixed.
_TRIES = 5


def _shuffled(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    first = _order(fn, seed, seed, limit)
    if np.array_equal(first, np.arange(len(first))):
        return ("the batches come in the original order: shuffle the indices first "
                "(rng = np.random.default_rng(seed); idx = rng.permutation(n)).")
    # The shape of the order is read from a whole epoch only. Of part of one (a sample
    # missing or twice: "each sample once" says so) only whether it follows the seed is
    # read, below: audit 37's shuffled epoch cut to 2 samples lost this point, cut to 4 it
    # kept it, by chance (steps between sample ids of part of an epoch mean nothing).
    if np.array_equal(np.sort(first), np.arange(len(_data(seed)[0]))):
        shape = _order_shape(first.astype(int))
        if shape:
            return shape
    if not np.array_equal(first, _order(fn, seed, seed, limit)):
        return ("two calls with the same seed gave different orders: draw the permutation "
                "from a generator made from the seed, np.random.default_rng(seed).")
    # Part of an epoch (one sample, two) can come out alike by chance under two seeds, or
    # two calls without one (a suite run: 1 in 26 for one sample of 27): the order counts
    # as the same only if it is under all of _TRIES seeds, or calls.
    if all(np.array_equal(first, _order(fn, seed, seed + k, limit)) for k in range(1, _TRIES)):
        return "two different seeds gave the same order: is the seed used?"
    # A student audit: `default_rng(0 if seed is None else seed)` gave every call without a
    # seed one order (lesson 01's train passes seeds; the signature's default is None).
    unseeded = _order(fn, seed, None, limit)
    if all(np.array_equal(unseeded, _order(fn, seed, None, limit)) for _ in range(1, _TRIES)):
        return ("two calls without a seed (seed=None, the default) gave the same order: "
                "each must shuffle anew. Make the generator from the seed as given, "
                "np.random.default_rng(seed): from None it draws a fresh seed.")
    return ""


def _inputs_unchanged(fn: Callable[..., Any], seed: int, limit: float | None) -> str:
    x, t, size = _data(seed)
    x_in, t_in = x.copy(), t.copy()
    _epoch(fn, x_in, t_in, size, seed, limit, first_epoch=True)
    if np.array_equal(x_in, x) and np.array_equal(t_in, t):
        return ""
    # Only the change is seen, not how it was made: the ways to write into x name examples.
    return ("your function changed the caller's x or t (e.g. with np.random.shuffle(x) or "
            "x[:] = x[idx], which write into the array): leave x and t as they are and yield "
            "x[idx], t[idx] for each batch's indices idx (indexing makes new arrays).")


#: The graded properties of ``minibatches``, in the order to fix them.
MINIBATCHES_PROPERTIES = (
    FunctionProperty("each_sample_once", "every sample appears exactly once per epoch",
                     "each sample once", _once),
    FunctionProperty("pairs_kept", "rows of x and t stay paired", "x and t paired", _paired),
    FunctionProperty("batch_sizes", "batches have batch_size rows, the last one fewer",
                     "batch sizes", _sizes),
    FunctionProperty("shuffled", "the order is shuffled, reproducibly per seed", "shuffling",
                     _shuffled),
    FunctionProperty("inputs_unchanged", "x and t are left unchanged", "inputs unchanged",
                     _inputs_unchanged),
)


def check_minibatches(fn: Any, **kwargs: Any) -> Report:
    """Self-check of ``minibatches``: print a verdict, return the Report."""
    return check_function(NAME, MINIBATCHES_PROPERTIES, fn, **kwargs)


def assert_minibatches(fn: Any, seed: int, prop: str | None = None, **kwargs: Any) -> None:
    """Hidden test: raise ``AssertionError`` with the student-facing message on failure."""
    __tracebackhide__ = True  # not shown in tracebacks (IPython, pytest)
    assert_function(NAME, MINIBATCHES_PROPERTIES, fn, seed, prop, **kwargs)
