"""``differences``: pure, tolerant of correct forms, and precise about what differs where."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from descentlab.checks import default_tolerance, differences, make_case, observe
from descentlab.optimizers import SGD, AdaGrad, Momentum

CASE = make_case(21, shapes={"W1": (3, 4), "W2": (3, 4), "b": (4,)}, calls=4)
HYPER = CASE.hyper_for("momentum")
REFERENCE = observe(Momentum, HYPER, CASE)


def _kinds(findings):
    return [f.kind for f in findings]


def test_an_observation_agrees_with_itself():
    assert differences(REFERENCE, REFERENCE) == []


def test_observations_of_different_cases_are_refused():
    other = observe(Momentum, HYPER, make_case(22, shapes={"W1": (3, 4), "W2": (3, 4),
                                                           "b": (4,)}, calls=4))
    with pytest.raises(ValueError, match="same case"):
        differences(other, REFERENCE)


def _shifted(call: int, key: str, amount: float):
    student = copy.deepcopy(REFERENCE)
    student.values[key][call] += amount
    return student


def test_tolerance_is_relative_to_the_steps_taken():
    """Below step_rtol · call · (largest step) is accepted, above is not: a pure check."""
    tol = default_tolerance("float64")
    largest = float(np.max(np.abs(np.diff(REFERENCE.values["b"], axis=0))))
    allowed = tol.step_rtol * 2 * largest
    assert differences(_shifted(2, "b", 0.5 * allowed), REFERENCE) == []
    findings = differences(_shifted(2, "b", 3 * allowed), REFERENCE)
    assert [(f.kind, f.call, f.key) for f in findings] == [("value", 2, "b")]
    assert findings[0].max_diff == pytest.approx(3 * allowed)


def test_value_calls_limits_which_calls_count():
    student = _shifted(3, "W1", 1.0)
    assert _kinds(differences(student, REFERENCE)) == ["value"]
    assert differences(student, REFERENCE, value_calls=2) == []


class HalfSteps:
    def __init__(self, lr=0.01, momentum=0.9):
        self.inner = Momentum(lr=lr / 2, momentum=momentum)

    def update(self, params, grads):
        self.inner.update(params, grads)


class Frozen:
    def __init__(self, lr=0.01, momentum=0.9):
        pass

    def update(self, params, grads):
        for key in params:
            p = params[key] - grads[key]  # noqa: F841 - the mistake: a local variable


class ForgetsEveryThirdCall(Momentum):
    def update(self, params, grads):
        if self.t == 2:
            self.reset()
            self.t = 2
        super().update(params, grads)


class OnlyFirstKeyRemembers(Momentum):
    def update(self, params, grads):
        super().update(params, grads)
        for key in list(self.state)[1:]:
            self.state[key]["v"][...] = 0.0


def _message(cls, case=CASE):
    findings = differences(observe(cls, case.hyper_for("momentum"), case),
                           observe(Momentum, case.hyper_for("momentum"), case))
    assert findings, f"{cls.__name__} was accepted"
    return findings[0]


def test_a_wrong_first_step_points_at_the_formula_and_the_factor():
    finding = _message(HalfSteps)
    assert (finding.kind, finding.call, finding.key) == ("value", 1, "W1")
    assert finding.message.startswith("after the 1st call, params['W1'] differs")
    assert "every entry moved 0.5 times as far as expected" in finding.message


def test_an_unchanged_parameter_is_called_so():
    finding = _message(Frozen)
    assert "params['W1'] has not changed" in finding.message


def test_a_later_call_points_at_the_state():
    finding = _message(ForgetsEveryThirdCall)
    assert (finding.call, finding.key) == (3, "W1")
    assert finding.message.startswith("the first 2 calls match, but after the 3rd call "
                                      "params['W1'] differs")
    assert "carried between calls" in finding.message


def test_only_some_keys_wrong_points_at_per_key_state():
    finding = _message(OnlyFirstKeyRemembers)
    assert (finding.call, finding.key) == (2, "W2")
    assert finding.message.startswith("params['W1'] is right, but after the 2nd call "
                                      "params['W2'] differs")
    assert "its own state (one entry per key" in finding.message


def test_an_sgd_mixing_up_gradients_is_told_to_use_each_keys_own():
    class CrossedSGD:
        def __init__(self, lr=0.01):
            self.lr = lr

        def update(self, params, grads):
            first = next(iter(grads))
            for key in params:
                params[key] -= self.lr * (grads[key] if key == first else grads[first].mean())

    hyper = CASE.hyper_for("sgd")
    finding = differences(observe(CrossedSGD, hyper, CASE), observe(SGD, hyper, CASE))[0]
    assert "its own gradient (grads[key])" in finding.message, finding.message


def test_nan_after_a_zero_gradient_asks_for_an_epsilon():
    class NoEps:
        def __init__(self, lr=0.01):
            self.lr, self.h = lr, {}

        def update(self, params, grads):
            for key in params:
                self.h[key] = self.h.get(key, 0) + grads[key] ** 2
                params[key] -= self.lr * grads[key] / np.sqrt(self.h[key])

    case = make_case(3, shapes={"W": (2, 2), "b": (2,)}, calls=2, zero_keys=("b",))
    student = observe(NoEps, case.hyper_for("adagrad"), case)
    findings = differences(student, observe(AdaGrad, student.hyper, case))
    assert [(f.kind, f.call, f.key) for f in findings] == [("nan", 1, "b")]
    assert "gradient was all zeros" in findings[0].message
    assert "epsilon" in findings[0].message


def test_identity_dtype_and_problem_findings():
    class Float64Rebinding:
        def __init__(self, lr=0.01):
            self.lr = lr

        def update(self, params, grads):
            for key in params:
                params[key] = params[key].astype(np.float64) - self.lr * grads[key]

    case = make_case(4, shapes={"W": (2, 2)}, dtype=np.float32, calls=2)
    student = observe(Float64Rebinding, case.hyper_for("sgd"), case)
    findings = differences(student, observe(SGD, student.hyper, case))
    assert _kinds(findings) == ["identity", "dtype"]
    assert "replaced by a new array instead of updated in place" in findings[0].message
    assert "params['W'] is float64 but it was float32" in findings[1].message

    class ReturnsNone:
        def __init__(self, lr=0.01):
            pass

        def update(self, params, grads):
            params["W"] = None

    student = observe(ReturnsNone, case.hyper_for("sgd"), case)
    findings = differences(student, observe(SGD, student.hyper, case))
    assert _kinds(findings) == ["problem"]
    assert findings[0].message.startswith("after the 1st call, params['W'] is None")


def test_float32_tolerance_is_looser():
    assert default_tolerance("float32").rtol > 100 * default_tolerance("float64").rtol


class SGDOfLengthLrTogether(SGD):
    """A step divided by the norm of all the gradients together."""

    def update(self, params, grads):
        total = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
        for key in params:
            params[key] -= self.lr * grads[key] / total


def test_a_step_of_length_lr_is_told_it_divides_by_the_gradients_norm():
    """It was told "a factor is missing or extra (the learning rate? ...)"."""
    case = make_case(3, shapes={"W": (3, 2), "b": (2,)}, calls=2)
    hyper = {"lr": 0.05}
    findings = differences(observe(SGDOfLengthLrTogether, hyper, case),
                           observe(SGD, hyper, case))
    assert "the step of all the parameters together is lr = 0.05 long" \
        in findings[0].message, findings[0].message
