"""Hidden-test assertions and reports: points per property, public seeds are not enough."""

from __future__ import annotations

import io

import numpy as np
import pytest

from descentlab.checks import (
    PROPERTIES,
    PUBLIC_SEEDS,
    assert_property,
    check,
    get_mistake,
    get_property,
    properties_for,
    required_arguments,
    run_property,
    score_properties,
)
from descentlab.optimizers import Adam, Momentum

HIDDEN_SEEDS = (91823, 5550123)


def test_assert_property_is_silent_for_a_correct_class():
    for prop in properties_for("adam"):
        assert_property(Adam, "adam", prop.name, seed=HIDDEN_SEEDS[0])


def test_assert_property_raises_the_student_facing_diagnosis():
    mutant = get_mistake("momentum", "state_reset_each_call")
    with pytest.raises(AssertionError) as info:
        assert_property(mutant.cls, "momentum", "carries_state", seed=HIDDEN_SEEDS[0])
    message = str(info.value)
    # The explanation, its list of causes cut to the one the class's state shows, as the
    # self-check says it.
    head = mutant.explanation.partition(" Either ")[0]
    assert message.startswith(f"state between calls: {head} update() creates self.v anew"), \
        message
    (said,) = [r.message for r in check(mutant.cls, file=io.StringIO()).results
               if r.name == "carries_state"]
    assert message == f"state between calls: {said}"
    assert "Traceback" not in message
    assert_property(mutant.cls, "momentum", "first_step", seed=HIDDEN_SEEDS[0])


def test_a_property_outside_the_optimizers_list_still_runs():
    """A notebook may grade e.g. Momentum's zero gradient: correct code passes, wrong fails."""
    assert_property(Momentum, "momentum", "zero_grad", seed=3)

    class DividingMomentum(Momentum):
        def update(self, params, grads):
            super().update(params, {k: g / np.abs(g) for k, g in grads.items()})

    with pytest.raises(AssertionError, match="its gradient was all zeros"):
        assert_property(DividingMomentum, "momentum", "zero_grad", seed=3)


def test_sgd_per_key_updates_are_checked_by_the_self_check():
    """Issue 13: an SGD that updates only the first key must not pass ``check(SGD)``."""
    assert "per_key_state" in [p.name for p in properties_for("sgd")]
    mutant = get_mistake("sgd", "first_key_only").cls
    report = score_properties(mutant, "sgd", PUBLIC_SEEDS)
    assert report.failed == ["per_key_state"]
    with pytest.raises(AssertionError, match="only the first parameter is updated"):
        assert_property(mutant, "sgd", "per_key_state", seed=HIDDEN_SEEDS[0])


def test_properties_per_optimizer():
    names = {name: [p.name for p in properties_for(name)] for name in
             ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw")}
    assert names["sgd"] == ["first_step", "carries_state", "per_key_state", "in_place", "float32"]
    assert names["momentum"] == names["nesterov"] == [
        "first_step", "carries_state", "per_key_state", "in_place", "float32"]
    for name in ("adagrad", "rmsprop", "adadelta", "adam", "adamw"):
        assert names[name] == [p.name for p in PROPERTIES]
    assert properties_for("RMSProp") == properties_for("rmsprop")


def test_required_arguments_leave_out_epsilon():
    assert required_arguments("adagrad") == ("lr",)
    assert required_arguments("adamw") == ("lr", "beta1", "beta2", "weight_decay")


def test_score_properties_reports_points_per_property():
    mutant = get_mistake("adam", "counter_per_key").cls
    report = score_properties(mutant, "adam", PUBLIC_SEEDS, points={"per_key_state": 3.0})
    assert report.failed == ["per_key_state"]
    assert report.score == 5.0
    assert report.max_score == 8.0
    failed = next(r for r in report.results if not r.passed)
    assert failed.mistake == "counter_per_key"
    assert failed.seed == PUBLIC_SEEDS[0]
    assert repr(report) == "<Report AdamCounterPerKey: 5 of 6 checks passed>"


def test_score_properties_needs_seeds_and_known_names():
    with pytest.raises(ValueError, match="at least one seed"):
        score_properties(Momentum, "momentum", [])
    with pytest.raises(ValueError, match="unknown optimizer"):
        score_properties(Momentum, "heavy_ball", PUBLIC_SEEDS)
    with pytest.raises(ValueError, match="unknown property"):
        get_property("speed")


def test_run_property_diagnoses_a_non_class():
    diagnosis = run_property(Momentum(), "momentum", "first_step", 1)
    assert not diagnosis.passed
    assert diagnosis.findings[0].kind == "class"


def _fingerprint(params: dict[str, np.ndarray]) -> bytes:
    return repr(list(params)).encode() + b"".join(v.tobytes() for v in params.values())


def _public_answers(name: str) -> dict[bytes, list[dict[str, np.ndarray]]]:
    """What a student could record from the public self-check: outputs by input.

    The per-key check also runs each key alone: those runs are recorded too.
    """
    from descentlab.optimizers import optimizer_class

    table = {}
    for prop in properties_for(name):
        for seed in PUBLIC_SEEDS:
            case = prop.case(seed)
            runs = [case.keys] + ([(k,) for k in case.keys] if prop.judge == "per_key" else [])
            for keys in runs:
                opt = optimizer_class(name)(**case.hyper_for(name))
                params = {k: np.array(case.params[k]) for k in keys}
                outputs = []
                for grads in case.grads:
                    opt.update(params, {k: np.array(grads[k]) for k in keys})
                    outputs.append({k: v.copy() for k, v in params.items()})
                table[_fingerprint({k: case.params[k] for k in keys})] = outputs
    return table


def test_hard_coding_the_public_answers_fails_the_hidden_seeds():
    answers = _public_answers("momentum")

    class Momentum:
        def __init__(self, lr=0.01, momentum=0.9):
            self.lr, self.calls, self.key = lr, 0, None

        def update(self, params, grads):
            if self.key is None:
                self.key = _fingerprint(params)
            self.calls += 1
            recorded = answers.get(self.key)
            for key in params:
                if recorded is not None:
                    params[key][...] = recorded[self.calls - 1][key]
                else:
                    params[key] -= self.lr * grads[key]

    public = score_properties(Momentum, "momentum", PUBLIC_SEEDS)
    # Its values fool the public self-check; what its steps leave alone does not: it replays
    # the same steps whatever the gradients, which the probe on each property's own case
    # (red-team round 16) sees.
    assert public.failed == ["per_key_state", "in_place", "float32"], public.text()
    assert "takes the same steps whatever the gradients are" in public.text()
    hidden = score_properties(Momentum, "momentum", HIDDEN_SEEDS)
    # Its first step is SGD's (Momentum's first step); each key is handled on its own.
    assert hidden.failed == ["carries_state"]
    for seed in HIDDEN_SEEDS:
        with pytest.raises(AssertionError):
            assert_property(Momentum, "momentum", "carries_state", seed=seed)


class _Halves:
    """A red-team round's SGD: every parameter halved, the gradients never read."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] *= 0.5


def test_a_step_that_reads_no_gradient_earns_nothing() -> None:
    """It kept lesson 01's every-key and in-place points (2 of 5): what the step leaves
    alone is no property of a step that computes nothing from the gradients."""
    report = score_properties(_Halves, "sgd", PUBLIC_SEEDS)
    assert report.failed == [p.name for p in properties_for("sgd")], report.text()
    assert "takes the same steps whatever the gradients are" in report.text(), report.text()
    # A step that does read them keeps those points, wrong as its values are.
    class Doubles(_Halves):
        def update(self, params, grads):
            for key in params:
                params[key] -= 2 * self.lr * grads[key]

    assert score_properties(Doubles, "sgd", PUBLIC_SEEDS).failed == [
        "first_step", "carries_state"]

    # Nor a step by the gradient's sign alone (a review: another seed's gradients, of the
    # same signs, made signSGD look like a step that reads none), whatever the seed.
    class Signs(_Halves):
        def update(self, params, grads):
            for key in params:
                params[key] -= self.lr * np.sign(grads[key])

    assert score_properties(Signs, "sgd", range(40)).failed == ["first_step", "carries_state"]


class _ByName(_Halves):
    """A red-team look: a step made of each key's name (and where the gradient is not 0)."""

    def __init__(self, lr=0.01, **hyperparameters):  # whatever the optimizer's are
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * (1 + sum(map(ord, key)) % 7) * (grads[key] != 0)


@pytest.mark.parametrize("optimizer", ["adagrad", "rmsprop", "adam"])
def test_a_step_made_of_the_keys_names_earns_nothing(optimizer: str) -> None:
    """It kept the every-key, in-place and zero-gradient points (3 of 7 in lesson 04): the
    probe's two runs had keys of two names, and so two steps."""
    report = score_properties(_ByName, optimizer, PUBLIC_SEEDS)
    assert report.failed == [p.name for p in properties_for(optimizer)], report.text()
    assert "takes the same steps whatever the gradients are" in report.text(), report.text()


class _Token(_Halves):
    """Red-team round 16 (a01_token, a03_token): every parameter halved, and a token of the
    gradient taken off, which made the probe's two runs differ by 1e-9 of a step."""

    def __init__(self, lr=0.01, **hyperparameters):  # SGD's or Momentum's
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] *= 0.5
            params[key] -= 1e-9 * grads[key]


class _ProbesOnly(_Token):
    """Red-team round 16 (a01_probe, a03_probe): the real step only for keys named like the
    probe's (``probe_*``), every other parameter halved."""

    def update(self, params, grads):
        for key in params:
            if key.startswith("probe_"):
                params[key] -= self.lr * grads[key]
            else:
                params[key] *= 0.5


class _TokenThousandth(_Token):
    """Red-team round 17 (a05): a token of a thousandth of the gradient, which cleared a
    tolerance of a thousandth."""

    def update(self, params, grads):
        for key in params:
            params[key] *= 0.5
            params[key] -= 1e-3 * grads[key]


class _RaisesBeyondTheRange(_Halves):
    """Red-team round 17 (a01): raises on a gradient beyond the checks' range (|g| > 2),
    which only the probe's −2.5·g reached: a run that stopped was no evidence."""

    def __init__(self, lr=0.01, **hyperparameters):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            if np.abs(grads[key]).max(initial=0.0) > 2.0:
                raise ValueError("gradient too large")
            params[key] *= 0.5


class _ReadsBeyondTheRange(_RaisesBeyondTheRange):
    """Red-team round 17 (a03): the real step only beyond the checks' range."""

    def update(self, params, grads):
        for key in params:
            if np.abs(grads[key]).max(initial=0.0) > 2.0:
                params[key] -= self.lr * grads[key]
            else:
                params[key] *= 0.5


@pytest.mark.parametrize("cls", [_Token, _ProbesOnly, _TokenThousandth, _RaisesBeyondTheRange,
                                 _ReadsBeyondTheRange])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_a_token_read_of_the_gradient_or_a_step_for_the_probe_alone_earns_nothing(
        cls: type, optimizer: str) -> None:
    """They kept lesson 01's every-key and in-place points (2 of 5), and lesson 03's (2 of
    6): the probe had keys of its own, and its two runs' values were compared exactly."""
    for seeds in (PUBLIC_SEEDS, HIDDEN_SEEDS):
        report = score_properties(cls, optimizer, seeds)
        assert report.failed == [p.name for p in properties_for(optimizer)], report.text()
        assert "takes the same steps whatever the gradients are" in report.text()


#: Catalogued mistakes that take the same steps whatever the gradients: AdamW's decay alone,
#: and AdaDelta with no epsilon, whose step √0/√h·g is 0 from the first call on.
_BLIND_MISTAKES = {("adamw", "adamw_no_adam_step"), ("adadelta", "adadelta_no_epsilon")}


def test_no_reference_class_nor_catalogued_mistake_is_taken_for_a_step_that_reads_none(
        ) -> None:
    """The probe runs on each property's own case, steps compared to a hundredth: every
    reference class and every form of every catalogued mistake (float32 cases, zero
    gradients and NaN included) reads the gradients there, on any seed."""
    from descentlab.checks.grading import _ignores_gradients
    from descentlab.checks.mistakes import mistakes_for
    from descentlab.optimizers import OPTIMIZERS

    for name, reference in OPTIMIZERS.items():
        classes = [("reference", reference)] + [
            (mistake.id, cls) for mistake in mistakes_for(name)
            for cls, _ in mistake.forms()]
        for label, cls in classes:
            for prop in properties_for(name):
                if prop.judge == "values":
                    continue
                for seed in (*PUBLIC_SEEDS, *HIDDEN_SEEDS):
                    case = prop.case(seed)
                    blind = _ignores_gradients(cls, case.hyper_for(name), case, None,
                                               required_arguments(name))
                    assert blind == ((name, label) in _BLIND_MISTAKES), (name, label,
                                                                          prop.name, seed)


class _VelocityInParams:
    """Right steps, with the velocity kept in the caller's dict (red-team round 26)."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum

    def update(self, params, grads):
        for key in [k for k in params if not k.startswith("velocity:")]:
            v = params.setdefault("velocity:" + key, np.zeros_like(params[key]))
            v *= self.momentum
            v -= self.lr * grads[key]
            params[key] += v


def test_state_kept_in_params_loses_the_in_place_property_only_and_says_so() -> None:
    """It scored full marks: the checks never looked at the keys params held after a call.
    A network handed such an optimizer would take "velocity:W" for a parameter."""
    report = score_properties(_VelocityInParams, "momentum", PUBLIC_SEEDS)
    failed = {r.name: r.message for r in report.results if not r.passed}
    assert set(failed) == {"in_place"}, failed
    assert "params holds a key it was not given, 'velocity:W'" in failed["in_place"]
    assert "self.v[key] = ..." in failed["in_place"]
    honest = score_properties(Momentum, "momentum", PUBLIC_SEEDS)
    assert all(r.passed for r in honest.results), honest.results
