"""One answer to "which reference optimizer is this student class?", for check() and explore().

:func:`descentlab.optimizers.find_reference` is asked by the self-check, the
grader and the widgets alike, so a class the self-check recognises also gets
the reference's sliders.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from descentlab.checks import check
from descentlab.optimizers import Adam, Momentum, find_reference, reference_name
from descentlab.widgets import explore


class _BookAdam:
    """A correct Adam, written as students write it (not derived from the reference)."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(v) for k, v in params.items()}
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t += 1
        for key in params:
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grads[key] ** 2
            m_hat = self.m[key] / (1 - self.beta1**self.t)
            v_hat = self.v[key] / (1 - self.beta2**self.t)
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def _named(name: str, base: type = object) -> type:
    return type(name, (base,), {})


# Class names students give their optimizers, and what they implement.
STUDENT_NAMES = [
    ("Adam", "adam"), ("MyAdam", "adam"), ("AdamOptimizer", "adam"), ("my_adam", "adam"),
    ("ADAM", "adam"), ("MyAdamW", "adamw"), ("AdamW", "adamw"), ("NAdam", "nadam"),
    ("Nadam", "nadam"), ("SGD", "sgd"), ("MySGD", "sgd"), ("SGDMomentum", "momentum"),
    ("MomentumSGD", "momentum"), ("Momentum", "momentum"), ("MomentumOptimizer", "momentum"),
    ("Nesterov", "nesterov"), ("NesterovMomentum", "nesterov"), ("SGDNesterov", "nesterov"),
    ("AdaGrad", "adagrad"), ("Adagrad", "adagrad"), ("RMSprop", "rmsprop"),
    ("RMSProp", "rmsprop"), ("MyRMSProp", "rmsprop"), ("AdaDelta", "adadelta"),
    ("Adadelta", "adadelta"),
]


@pytest.mark.parametrize(("name", "expected"), STUDENT_NAMES)
def test_a_students_class_is_recognised_by_its_name(name: str, expected: str) -> None:
    assert find_reference(_named(name)) == expected
    assert find_reference(_named(name)()) == expected, "an instance is recognised as its class"
    assert reference_name(_named(name)) == expected


@pytest.mark.parametrize("name", ["Optimizer", "Heavyball", "MyOptimizer", "RMS", "Ada"])
def test_a_name_that_names_no_optimizer_resolves_to_nothing_with_a_clear_message(
        name: str) -> None:
    assert find_reference(_named(name)) is None
    with pytest.raises(ValueError, match=f"could not tell which optimizer {name} implements: "
                                         "its name contains none of sgd, momentum"):
        reference_name(_named(name))


def test_a_class_named_after_nothing_is_recognised_by_its_reference_base() -> None:
    assert find_reference(_named("Mine", Momentum)) == "momentum"
    # Its own name comes first: a student's AdamW built on the reference Adam is AdamW.
    assert find_reference(_named("AdamW", Adam)) == "adamw"


@pytest.mark.parametrize(("text", "expected"), [
    ("adam", "adam"), ("Adam", "adam"), ("RMSProp", "rmsprop"), ("rms_prop", "rmsprop"),
    ("RMS-prop", "rmsprop"), ("MOMENTUM", "momentum"), ("AdamW", "adamw"),
])
def test_a_written_name_ignores_case_and_punctuation(text: str, expected: str) -> None:
    assert reference_name(text) == expected


@pytest.mark.parametrize("text", ["adamax", "myadam", "sgdmomentum", ""])
def test_a_written_name_must_be_exact(text: str) -> None:
    # A teacher's name is meant as written: "adamax" is another optimizer, not Adam.
    assert find_reference(text) is None
    with pytest.raises(ValueError, match=f"unknown optimizer {text!r}; choose one of sgd"):
        reference_name(text)


def test_my_adam_passes_check_and_gets_adams_sliders_in_explore() -> None:
    MyAdam = _named("MyAdam", _BookAdam)
    out = io.StringIO()
    report = check(MyAdam, file=out)
    assert report, out.getvalue()
    assert out.getvalue().startswith("Checking MyAdam against the course's adam optimizer:")

    w = explore(MyAdam, backend="static")
    assert w.choice.student
    assert [h.name for h in w.choice.hyperparameters] == [h.name for h in Adam.hyperparameters
                                                          if h.name in ("lr", "beta1", "beta2",
                                                                        "eps")]
    # The reference's metadata (meaning, range), not a guess from the signature.
    by_name = {h.name: h for h in Adam.hyperparameters}
    for h in w.choice.hyperparameters:
        assert (h.meaning, h.low, h.high, h.log) == (by_name[h.name].meaning, by_name[h.name].low,
                                                     by_name[h.name].high, by_name[h.name].log)
    assert w.path.ok, w.status.value


def test_an_unrecognised_class_gets_sliders_from_its_signature() -> None:
    w = explore(_named("Heavyball", _BookAdam), backend="static")
    assert set(w.controls) == {"lr", "beta1", "beta2", "eps"}
    assert w.choice.hyperparameters[1].meaning == "beta1", "guessed, not Adam's metadata"
