"""Checks of the function exercises: correct code passes, each usual slip is named."""

from __future__ import annotations

import io
from itertools import count

import numpy as np
import pytest

from descentlab.checks import (
    assert_bowl_gradient,
    assert_gradient_descent,
    assert_minibatches,
    assert_numerical_gradient,
    check_bowl_gradient,
    check_gradient_descent,
    check_minibatches,
    check_numerical_gradient,
)
from descentlab.data import minibatches as reference_minibatches
from descentlab.surfaces import get_surface

HIDDEN = (101, 20102)


def _report(check, fn, **kwargs):
    out = io.StringIO()
    report = check(fn, file=out, **kwargs)
    assert "Traceback" not in out.getvalue()
    return report, out.getvalue()


def _messages(report) -> dict[str, str]:
    return {r.name: r.message for r in report.results if not r.passed}


# -- numerical_gradient ------------------------------------------------------------------
def central(f, x, h=1e-4):
    """The book's numerical_gradient (ch. 4), for any shape."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        idx = it.multi_index
        tmp = x[idx]
        x[idx] = tmp + h
        fxh1 = f(x)
        x[idx] = tmp - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp
        it.iternext()
    return grad


def central_flat(f, x):
    h = 1e-5
    grad = np.zeros_like(x)
    for i in range(x.size):
        x.flat[i] += h
        up = f(x)
        x.flat[i] -= 2 * h
        down = f(x)
        x.flat[i] += h  # may leave an ulp of rounding: accepted
        grad.flat[i] = (up - down) / (2 * h)
    return grad


def forward(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    for i in range(x.size):
        tmp = x.flat[i]
        fx = f(x)
        x.flat[i] = tmp + h
        grad.flat[i] = (f(x) - fx) / h
        x.flat[i] = tmp
    return grad


def not_restored(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    for i in range(x.size):
        tmp = x.flat[i]
        x.flat[i] = tmp + h
        fxh1 = f(x)
        x.flat[i] = tmp - h
        grad.flat[i] = (fxh1 - f(x)) / (2 * h)
    return grad


def vectors_only(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    for i in range(len(x)):
        tmp = x[i]
        x[i] = tmp + h
        fxh1 = f(x)
        x[i] = tmp - h
        grad[i] = (fxh1 - f(x)) / (2 * h)
        x[i] = tmp
    return grad


NUMGRAD_CASES = [
    (central, set(), ""),
    (central_flat, set(), ""),
    (lambda f, x: central(f, x, h=1e-50), {"accurate", "any_shape"}, "all zeros"),
    (lambda f, x: central(f, x, h=0.05), {"accurate", "any_shape"}, "h ≈ 0.05 is too large"),
    (lambda f, x: central(f, x, h=1e-11), {"accurate", "any_shape"}, "noisy"),
    (lambda f, x: central(f, x) * 2, {"accurate", "any_shape"}, "2 times the true one"),
    (forward, {"accurate", "any_shape"}, "forward difference"),
    (not_restored, {"accurate", "any_shape", "x_unchanged"}, "x was changed"),
    (vectors_only, {"any_shape"}, "x[i] is a whole row"),
    (lambda f, x: None, {"accurate", "any_shape", "x_unchanged"}, "forget `return grad`"),
    (lambda f, x: central(f, x).ravel(), {"any_shape"}, "must have x's shape"),
]


@pytest.mark.parametrize(("fn", "fails", "phrase"), NUMGRAD_CASES,
                         ids=["book", "flat", "tiny_h", "big_h", "small_h", "twice", "forward",
                              "not_restored", "vectors_only", "none", "flattened"])
def test_numerical_gradient_check(fn, fails, phrase):
    report, _ = _report(check_numerical_gradient, fn, seeds=(7, *HIDDEN))
    messages = _messages(report)
    assert set(messages) == fails, report.text()
    assert phrase in next(iter(messages.values()), ""), report.text()


# -- gradient_descent -------------------------------------------------------------------
def descend(f_grad, x0, lr, steps):
    x = x0.copy()
    path = [x.copy()]
    for _ in range(steps):
        x -= lr * f_grad(x)
        path.append(x.copy())
    return np.array(path)


def aliased(f_grad, x0, lr, steps):
    x = x0.copy()
    path = [x]
    for _ in range(steps):
        x -= lr * f_grad(x)
        path.append(x)
    return np.array(path)


def changes_x0(f_grad, x0, lr, steps):
    x = x0
    path = [x.copy()]
    for _ in range(steps):
        x -= lr * f_grad(x)
        path.append(x.copy())
    return np.array(path)


DESCENT_CASES = [
    (descend, set(), ""),
    (lambda g, x0, lr, n: [x.tolist() for x in descend(g, x0, lr, n)], set(), ""),
    (aliased, {"path", "any_dimension"}, "append a copy"),
    (changes_x0, {"x0_unchanged"}, "changed x0"),
    (lambda g, x0, lr, n: descend(g, x0, lr, n)[1:], {"path", "any_dimension"},
     "starting point is missing"),
    (lambda g, x0, lr, n: descend(g, x0, lr, n - 1), {"path", "any_dimension"},
     "one step is missing"),
    (lambda g, x0, lr, n: descend(g, x0, -lr, n), {"path", "any_dimension"}, "climbs"),
    (lambda g, x0, lr, n: descend(g, x0, lr / 2, n), {"path", "any_dimension"},
     "path[1] differs"),
]


@pytest.mark.parametrize(("fn", "fails", "phrase"), DESCENT_CASES,
                         ids=["correct", "list", "aliased", "changes_x0", "no_start",
                              "short", "ascent", "half_lr"])
def test_gradient_descent_check(fn, fails, phrase):
    report, _ = _report(check_gradient_descent, fn, seeds=(7, *HIDDEN))
    messages = _messages(report)
    assert set(messages) == fails, report.text()
    assert phrase in next(iter(messages.values()), ""), report.text()


# -- minibatches ------------------------------------------------------------------------
def reference(x, t, batch_size, seed):
    return reference_minibatches(x, t, batch_size, seed=seed)


def drops_last(x, t, batch_size, seed):
    idx = np.random.default_rng(seed).permutation(len(x))
    for start in range(0, len(x) - batch_size + 1, batch_size):
        yield x[idx[start:start + batch_size]], t[idx[start:start + batch_size]]


def shuffles_in_place(x, t, batch_size, seed):
    rng = np.random.default_rng(seed)
    rng.shuffle(x)
    rng.shuffle(t)
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size], t[start:start + batch_size]


def with_replacement(x, t, batch_size, seed):
    rng = np.random.default_rng(seed)
    for start in range(0, len(x), batch_size):
        idx = rng.integers(0, len(x), min(batch_size, len(x) - start))
        yield x[idx], t[idx]


def global_rng(x, t, batch_size, seed):
    idx = np.random.permutation(len(x))  # noqa: NPY002 - the mistake under test
    for start in range(0, len(x), batch_size):
        yield x[idx[start:start + batch_size]], t[idx[start:start + batch_size]]


def never_stops(x, t, batch_size, seed):
    for i in count():
        j = i % len(x)
        yield x[j:j + 1], t[j:j + 1]


MINIBATCH_CASES = [
    (reference, set(), ""),
    (lambda x, t, b, seed: list(reference(x, t, b, seed)), set(), ""),
    (drops_last, {"each_sample_once", "batch_sizes"}, "last, smaller batch is missing"),
    (shuffles_in_place, {"pairs_kept", "inputs_unchanged"}, "no longer match"),
    (with_replacement, {"each_sample_once"}, "more than once"),
    (global_rng, {"shuffled"}, "same seed gave different orders"),
    (lambda x, t, b, seed: reference_minibatches(x, t, b, shuffle=False),
     {"shuffled"}, "original order"),
    (lambda x, t, b, seed: reference(x, t, b, 0), {"shuffled"}, "different seeds"),
    (never_stops, {"each_sample_once", "pairs_kept", "batch_sizes", "shuffled",
                   "inputs_unchanged"}, "must stop after one epoch"),
]


@pytest.mark.parametrize(("fn", "fails", "phrase"), MINIBATCH_CASES,
                         ids=["reference", "list", "drops_last", "in_place", "replacement",
                              "global_rng", "unshuffled", "seed_ignored", "endless"])
def test_minibatches_check(fn, fails, phrase):
    report, _ = _report(check_minibatches, fn, seeds=(7, *HIDDEN))
    messages = _messages(report)
    assert set(messages) == fails, report.text()
    assert phrase in next(iter(messages.values()), ""), report.text()


# -- bowl_gradient ----------------------------------------------------------------------
BOWL_CASES = [
    (lambda x, y: (x / 10, 2 * y), set(), ""),
    (get_surface("bowl").grad, set(), ""),
    (lambda x, y: np.array([x / 10, 2 * y]), set(), ""),
    (lambda x, y: (x / 20, 2 * y), {"df_dx"}, "power rule"),
    (lambda x, y: (x / 10, y), {"df_dy"}, "you return df/dy"),
    (lambda x, y: (2 * y, x / 10), {"df_dx", "df_dy"}, "the order must be (df/dx, df/dy)"),
    (lambda x, y: (float(x) / 10, 2 * float(y)), {"arrays"}, "Use NumPy operations only"),
    (lambda x, y: x / 10, {"df_dx", "df_dy", "arrays"}, "must return two values"),
]


@pytest.mark.parametrize(("fn", "fails", "phrase"), BOWL_CASES,
                         ids=["correct", "surfaces", "array", "x_over_20", "y", "swapped",
                              "floats", "one_value"])
def test_bowl_gradient_check(fn, fails, phrase):
    report, _ = _report(check_bowl_gradient, fn, seeds=(7, *HIDDEN))
    messages = _messages(report)
    assert set(messages) == fails, report.text()
    assert phrase in next(iter(messages.values()), ""), report.text()


# -- shared behaviour --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("check", "asserter", "good", "bad", "prop", "phrase"),
    [
        (check_numerical_gradient, assert_numerical_gradient, central, forward, "accurate",
         "forward difference"),
        (check_gradient_descent, assert_gradient_descent, descend, changes_x0,
         "x0_unchanged", "changed x0"),
        (check_minibatches, assert_minibatches, reference, drops_last, "batch_sizes",
         "last, smaller batch"),
        (check_bowl_gradient, assert_bowl_gradient, lambda x, y: (x / 10, 2 * y),
         lambda x, y: (x / 20, 2 * y), "df_dx", "power rule"),
    ],
    ids=["numgrad", "descent", "minibatches", "bowl"],
)
def test_assert_variants_raise_the_students_message(check, asserter, good, bad, prop, phrase):
    for seed in HIDDEN:
        asserter(good, seed)
        asserter(good, seed, prop)
        with pytest.raises(AssertionError, match=phrase):
            asserter(bad, seed, prop)
        with pytest.raises(AssertionError, match=phrase):
            asserter(bad, seed)
    with pytest.raises(ValueError, match="unknown property"):
        asserter(good, 1, "nope")


def _stub(*args, **kwargs):
    raise NotImplementedError()


def _hangs(*args, **kwargs):
    while True:
        pass


@pytest.mark.parametrize("check", [check_numerical_gradient, check_gradient_descent,
                                   check_minibatches, check_bowl_gradient])
def test_checks_never_raise(check):
    report, text = _report(check, _stub)
    assert not report
    name = check.__name__.removeprefix("check_")
    assert f"{name}() is not written yet: replace `raise NotImplementedError`" in text
    report, text = _report(check, _hangs, time_limit=0.02)
    assert "did not finish within 0.02 s" in text
    assert not report
    for wrong in (None, int, "numerical_gradient"):
        report, text = _report(check, wrong)
        assert "needs your function itself" in text
        assert not report
