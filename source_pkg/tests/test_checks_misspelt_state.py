"""One state attribute spelt two ways (``self.v`` tested, ``self.V`` kept) is named.

The class raises nothing; the checks alone see a state forgotten between calls and list
every cause it could be. The methods' bytecode names the two attributes.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from descentlab.checks import assert_property, score_properties
from descentlab.checks.misspelt_state import misspelt_state, misspelt_state_note
from descentlab.code_reads import REMOTE_READS, global_loads
from descentlab.optimizers import Momentum

NOTE = "Your update() reads self.v, which only __init__ sets, and stores self.V"


class MomentumTwoSpellings:
    """Tests ``self.v``, creates and keeps the velocity in ``self.V``: a new one each call."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.V = {k: np.zeros_like(p) for k, p in params.items()}
        for k in params:
            self.V[k] = self.momentum * self.V[k] - self.lr * grads[k]
            params[k] += self.V[k]


class MomentumVelocities:
    """Right, with a velocity dict named like the momentum setting (``self.momentums``)."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.momentums = lr, momentum, {}

    def update(self, params, grads):
        for k in params:
            v = self.momentums.get(k, np.zeros_like(params[k]))
            self.momentums[k] = self.momentum * v - self.lr * grads[k]
            params[k] += self.momentums[k]


class MomentumForgetsLikeAlike:
    """Forgets its velocity (a new dict each call), and keeps the setting ``self.momentum``
    beside a velocity ``self.momentums``: the failure is told, the names are no typo."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum

    def update(self, params, grads):
        self.momentums = {k: np.zeros_like(p) for k, p in params.items()}
        for k in params:
            self.momentums[k] = self.momentum * self.momentums[k] - self.lr * grads[k]
            params[k] += self.momentums[k]


def test_the_self_check_names_both_spellings() -> None:
    report = score_properties(MomentumTwoSpellings, "momentum", seeds=(1,))
    failed = [r.name for r in report.results if not r.passed]
    assert failed == ["carries_state"], report
    # It leads the failure it explains (not a note four lines lower: a student audit).
    state = next(r for r in report.results if r.name == "carries_state")
    assert state.message.startswith(NOTE), state.message
    assert not any(NOTE in note for note in report.notes), report.notes


def test_a_graded_property_names_both_spellings() -> None:
    with pytest.raises(AssertionError, match=r"^state between calls: .*" + re.escape(NOTE)):
        assert_property(MomentumTwoSpellings, "momentum", "carries_state", seed=2)
    # The other properties pass: nothing to explain there.
    assert_property(MomentumTwoSpellings, "momentum", "first_step", seed=2)


@pytest.mark.parametrize("cls", [Momentum, MomentumVelocities])
def test_a_right_class_gets_no_note(cls: type) -> None:
    report = score_properties(cls, "momentum", seeds=(1,))
    assert report, report
    assert not any("spelt" in note or "only __init__ sets" in note for note in report.notes)


def test_a_setting_beside_a_look_alike_state_is_no_misspelling() -> None:
    report = score_properties(MomentumForgetsLikeAlike, "momentum", seeds=(1,))
    assert "carries_state" in [r.name for r in report.results if not r.passed], report
    assert misspelt_state(MomentumForgetsLikeAlike) == [
        ("update", "momentum", "momentums")], "look-alike names without the settings"
    assert not any("only __init__ sets" in note for note in report.notes), report.notes


def test_only_the_attributes_of_self_are_reads_of_self() -> None:
    class Reads:
        def __init__(self):
            self.t = 0

        def update(self, params, grads):
            self.t += 1  # read through the COPY that += makes
            shape = params["w"].shape  # an attribute of another object
            scaled = [self.scale * g for g in grads.values()]  # self inside a comprehension
            return np.pi, shape, scaled

    attributes = global_loads(Reads)["attributes"]
    assert attributes == {"__init__": {"reads": [], "stores": ["t"]},
                          "update": {"reads": ["scale", "t"], "stores": ["t"]}}, attributes


def test_a_proxy_brings_the_attributes_and_bad_data_is_ignored() -> None:
    """The grader's proxy of a class carries the reads made in the student's kernel; what
    does not have their shape (the student's process sent it) names nothing."""
    proxy = type("Momentum", (), {REMOTE_READS: global_loads(MomentumTwoSpellings)})
    assert misspelt_state(proxy) == [("update", "v", "V")]
    assert NOTE in misspelt_state_note(proxy)
    for attributes in (None, [], {"update": "v"}, {"__init__": {"stores": "v"},
                                                    "update": {"reads": [1], "stores": None}}):
        bad = type("Momentum", (), {REMOTE_READS: {"attributes": attributes}})
        assert misspelt_state(bad) == [], attributes
