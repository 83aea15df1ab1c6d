"""A forgotten state's explanation names the cause the class's state shows (self-check)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from descentlab.checks import check

#: A Momentum's update() body, whose velocity is forgotten between calls in some way.
_BODIES = {
    "anew": ("self.v = {k: np.zeros_like(p) for k, p in params.items()}\n"
             "for k in params:\n"
             "    self.v[k] = self.momentum * self.v[k] - self.lr * grads[k]\n"
             "    params[k] += self.v[k]\n"),
    "local": ("if self.v is None:\n"
              "    self.v = {k: np.zeros_like(p) for k, p in params.items()}\n"
              "for k in params:\n"
              "    v = self.momentum * self.v[k] - self.lr * grads[k]\n"
              "    params[k] += v\n"),
    "rule": ("if self.v is None:\n"
             "    self.v = {k: np.zeros_like(p) for k, p in params.items()}\n"
             "for k in params:\n"
             "    self.v[k] = -self.lr * grads[k]\n"
             "    params[k] += self.v[k]\n"),
    # Another attribute: its state is not looked at, and the text keeps every cause.
    "elsewhere": ("self.velocity = {k: np.zeros_like(p) for k, p in params.items()}\n"
                  "for k in params:\n"
                  "    self.velocity[k] = self.momentum * self.velocity[k] - self.lr * grads[k]\n"
                  "    params[k] += self.velocity[k]\n"),
}


def _momentum(body: str, init: str = "self.lr, self.momentum, self.v = lr, momentum, None"
              ) -> type:
    source = ("class Momentum:\n"
              "    def __init__(self, lr=0.01, momentum=0.9):\n"
              f"        {init}\n"
              "    def update(self, params, grads):\n"
              + "".join(f"        {line}\n" for line in body.splitlines()))
    namespace: dict = {"np": np}
    exec(source, namespace)
    return namespace["Momentum"]


@pytest.mark.parametrize(("body", "says"), [
    ("anew", "update() creates self.v anew on every call"),
    ("local", "self.v still holds zeros after two calls"),
    ("rule", "its rule leaves out the previous value"),
    ("elsewhere", "Either the state is created anew in every call"),
])
def test_a_forgotten_state_is_told_the_cause_its_state_shows(body: str, says: str) -> None:
    """A student audit read four possible causes, about 90 words, for `self.v = {}` at the
    top of update()."""
    report = check(_momentum(_BODIES[body]), file=io.StringIO())
    (failed,) = [r for r in report.results if not r.passed]
    assert failed.mistake == "state_reset_each_call", failed
    assert says in failed.message, failed.message
    assert ("Either" in failed.message) is (body == "elsewhere"), failed.message


@pytest.mark.parametrize(("init", "says"), [
    ("self.lr, self.momentum, self.v = lr, momentum, None", "(if self.v is None: ...)"),
    ("self.lr, self.momentum = lr, momentum", "set self.v = None in __init__"),
    ("self.lr, self.momentum, self.v = lr, momentum, {}", "(if key not in self.v: ...)"),
])
def test_a_state_created_anew_is_told_how_to_create_it_once_from_its_init(init: str,
                                                                        says: str) -> None:
    """An honest-student sweep read "(if self.v is None: ...)" told to a class whose
    __init__ made no self.v, where the test raises AttributeError."""
    report = check(_momentum(_BODIES["anew"], init), file=io.StringIO())
    (failed,) = [r for r in report.results if not r.passed]
    assert "update() creates self.v anew on every call" in failed.message, failed.message
    assert says in failed.message, failed.message
    assert sum(hint in failed.message for hint in ("is None", "not in")) == 1, failed.message


@pytest.mark.parametrize("body", ["anew", "local", "elsewhere"])
def test_the_graded_test_cell_names_the_same_cause(body: str) -> None:
    """A browser audit read the self-check's one cause, then all four under the test cell
    of the same class; the grader's proxy (whose attributes are copies) keeps them all."""
    from descentlab.checks import PUBLIC_SEEDS, assert_property
    from descentlab.code_reads import REMOTE_READS

    cls = _momentum(_BODIES[body])
    (failed,) = [r for r in check(cls, file=io.StringIO()).results if not r.passed]
    with pytest.raises(AssertionError) as raised:
        assert_property(cls, "momentum", "carries_state", seed=PUBLIC_SEEDS[0])
    assert failed.message in str(raised.value), (failed.message, str(raised.value))
    proxy = type("Momentum", (cls,), {REMOTE_READS: None})
    with pytest.raises(AssertionError) as raised:
        assert_property(proxy, "momentum", "carries_state", seed=PUBLIC_SEEDS[0])
    assert "Either the state is created anew in every call" in str(raised.value)
