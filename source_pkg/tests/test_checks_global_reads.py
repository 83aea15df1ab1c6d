"""A method that reads the notebook's global ``lr`` instead of ``self.lr`` is told so.

Lesson 03's notebook defines ``mu, lr = 0.9, 0.1`` in a demo cell: an ``update``
that forgets ``self.`` raises nothing, and the checks alone only see a wrong factor.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from descentlab.checks import assert_property, check, score_properties
from descentlab.checks.global_reads import global_reads, global_reads_note
from descentlab.optimizers import Momentum

mu, lr = 0.9, 0.1  # as in lesson 03's demo cell


class MomentumGlobalLr:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def update(self, params, grads):
        for key in params:
            v = self.v.get(key, np.zeros_like(params[key]))
            self.v[key] = self.momentum * v - lr * grads[key]
            params[key] += self.v[key]


class MomentumGlobalMu:
    """Stores ``self.mu``, then reads the global ``mu`` (inside a comprehension)."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.mu, self.v = lr, momentum, {}

    def update(self, params, grads):
        for key in params:
            v = self.v.get(key, np.zeros_like(params[key]))
            self.v[key] = sum([mu * v for _ in range(1)]) - self.lr * grads[key]
            params[key] += self.v[key]


class MomentumSelfLr(MomentumGlobalLr):
    def update(self, params, grads):
        for key in params:
            v = self.v.get(key, np.zeros_like(params[key]))
            self.v[key] = self.momentum * v - self.lr * grads[key]
            params[key] += self.v[key]


def test_a_global_lr_is_found_and_named():
    assert global_reads(MomentumGlobalLr, ["lr", "momentum"]) == {"update": ["lr"]}
    assert global_reads_note(MomentumGlobalLr, "momentum") == (
        "Your update() reads the notebook's global `lr`, not `self.lr`: use self.lr "
        "(the value passed to __init__).")


def test_an_attribute_the_class_stores_counts_too():
    assert global_reads(MomentumGlobalMu, ["lr", "momentum"]) == {"update": ["mu"]}
    # Not an argument of __init__ by that name: not said to be one (a student audit).
    assert global_reads_note(MomentumGlobalMu, "momentum") == (
        "Your update() reads the notebook's global `mu`, not `self.mu`: use self.mu "
        "(the value your class keeps there).")


def test_reading_self_lr_gives_no_note():
    assert global_reads(MomentumSelfLr, ["lr", "momentum"]) == {}
    assert global_reads_note(MomentumSelfLr, "momentum") == ""
    assert not score_properties(MomentumSelfLr, "momentum", (7,)).notes


def test_the_reference_gives_no_note():
    assert global_reads_note(Momentum, "momentum") == ""


def test_the_self_check_prints_the_note():
    out = io.StringIO()
    report = check(MomentumGlobalLr, file=out)
    assert not report
    assert "reads the notebook's global `lr`, not `self.lr`" in out.getvalue()


def test_a_failing_assertion_carries_the_note():
    with pytest.raises(AssertionError, match=r"global `lr`, not `self\.lr`"):
        assert_property(MomentumGlobalLr, "momentum", "first_step", seed=5)


def test_things_without_code_give_nothing():
    class Proxy:  # like the grader's: every attribute comes from another process
        def __init__(self, *args, **kwargs):
            object.__setattr__(self, "_remote", None)

        def __getattr__(self, name):
            return getattr(object.__getattribute__(self, "_remote"), name)

    Proxy.update = staticmethod(len)  # a builtin: no code object
    for thing in (Proxy, MomentumGlobalLr(), None, "Momentum", len):
        assert global_reads(thing, ["lr"]) == {}
        assert global_reads_note(thing, "momentum") == ""


def test_a_proxy_brings_the_reads_made_where_its_class_lives() -> None:
    # While a notebook is graded the class lives in the jailed kernel and the checks see a
    # proxy: the kernel's global_loads come with it (a student audit: the graded feedback
    # said only "a factor is missing or extra" for a global lr).
    from descentlab.code_reads import REMOTE_READS, global_loads

    class Proxy:
        pass

    setattr(Proxy, REMOTE_READS, global_loads(MomentumGlobalLr))
    assert global_reads(Proxy, ["lr", "momentum"]) == {"update": ["lr"]}
    assert global_reads_note(Proxy, "momentum") == global_reads_note(MomentumGlobalLr,
                                                                    "momentum") != ""
    # What the student's process sends is checked: names only, else nothing.
    for bad in (None, "lr", {"reads": {"update": ["lr; import os", 3]}, "stores": "x"},
                {"reads": ["update"]}):
        setattr(Proxy, REMOTE_READS, bad)
        assert global_reads(Proxy, ["lr", "momentum"]) == {}, bad


def test_a_global_read_leads_the_first_failure_it_explains() -> None:
    """A student audit: "a factor is missing or extra (the learning rate? ...)" came first,
    the global `lr` only in a note after every check line."""
    import io

    from descentlab.checks import assert_property, check

    out = io.StringIO()
    report = check(MomentumGlobalLr, "momentum", file=out)
    first = next(r for r in report.results if not r.passed)
    assert first.message.startswith("Your update() reads the notebook's global `lr`"), first
    assert "What the check saw: after the 1st call" in first.message
    assert out.getvalue().count("global `lr`") == 1, out.getvalue()
    with pytest.raises(AssertionError,
                       match=r"^first step: Your update\(\) reads the notebook's global `lr`"):
        assert_property(MomentumGlobalLr, "momentum", "first_step", seed=1)



_RMSPROP_GLOBAL_LR = """
class RMSPropGlobalLr:
    def __init__(self, lr=0.01, rho=0.99, eps=1e-8):
        self.lr, self.rho, self.eps, self.h = lr, rho, eps, {}

    def update(self, params, grads):
        for key in params:
            h = self.h.setdefault(key, np.zeros_like(params[key]))
            h *= self.rho
            h += (1 - self.rho) * grads[key] * grads[key]
            params[key] -= lr * grads[key] / (np.sqrt(h) + self.eps)
"""


def _rmsprop_reading(global_lr: float) -> type:
    """A student audit's RMSProp: `lr` for `self.lr`, in a notebook whose `lr` is given."""
    namespace = {"np": np, "lr": global_lr}
    exec(_RMSPROP_GLOBAL_LR, namespace)
    return namespace["RMSPropGlobalLr"]


def test_an_unused_lr_explained_by_a_global_read_is_said_once_as_the_read() -> None:
    """The audit read "use self.lr in update() instead of a fixed number" under the lead
    naming the global (lr = 0.01, the default: the checks see an unused lr), and again in
    full under the next check: a global is no fixed number."""
    cls = _rmsprop_reading(0.01)
    out = io.StringIO()
    report = check(cls, "rmsprop", file=out)
    failed = [r for r in report.results if not r.passed]
    assert len(failed) >= 2, out.getvalue()
    assert all(r.mistake == "lr_ignored" for r in failed), [r.mistake for r in failed]
    note = global_reads_note(cls, "rmsprop")
    assert {r.message for r in failed} == {note}, out.getvalue()
    text = out.getvalue()
    assert "fixed number" not in text, text
    assert text.count("global `lr`") == 1, text
    assert "(same problem as above)" in text, text
    with pytest.raises(AssertionError) as caught:
        assert_property(cls, "rmsprop", "carries_state", seed=1)
    assert str(caught.value) == f"state between calls: {note}"


def test_a_failure_a_global_read_explains_twice_is_given_once() -> None:
    """lr = 0.1: two checks saw the same wrong factor; the second repeated it in full."""
    out = io.StringIO()
    report = check(_rmsprop_reading(0.1), "rmsprop", file=out)
    failed = [r for r in report.results if not r.passed]
    assert len(failed) >= 2, out.getvalue()
    assert len({r.message for r in failed}) == 1, out.getvalue()
    assert out.getvalue().count("a factor is missing or extra") == 1, out.getvalue()
