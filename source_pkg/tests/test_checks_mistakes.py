"""Every catalogued mistake fails exactly the properties it should, and is named.

The expected failing properties are written out per mutant: a mistake must
cost the points of what it breaks, no more and no less, on the public seeds
and on others.
"""

from __future__ import annotations

import pytest

from descentlab.checks import (
    CATALOGUE,
    PUBLIC_SEEDS,
    agree,
    diagnose,
    get_mistake,
    get_property,
    grade,
    make_case,
    observe,
    properties_for,
)

SEEDS = (*PUBLIC_SEEDS, 3, 1234567)

STATE = {"carries_state", "per_key_state"}
EVERYTHING = None  # every property of the optimizer

EXPECTED_FAILURES: dict[tuple[str, str], set[str] | None] = {
    ("sgd", "wrong_sign"): EVERYTHING,
    ("sgd", "lr_ignored"): EVERYTHING,
    ("sgd", "not_in_place"): {"in_place"},
    ("momentum", "state_reset_each_call"): STATE,
    ("momentum", "shared_state"): {"per_key_state"},
    ("momentum", "ema_momentum"): EVERYTHING,
    ("momentum", "wrong_sign"): EVERYTHING,
    ("momentum", "lr_ignored"): EVERYTHING,
    ("momentum", "not_in_place"): {"in_place"},
    ("nesterov", "state_reset_each_call"): STATE,
    ("nesterov", "shared_state"): {"per_key_state"},
    ("nesterov", "nesterov_as_momentum"): EVERYTHING,
    ("nesterov", "nesterov_v_first"): EVERYTHING,
    ("nesterov", "wrong_sign"): EVERYTHING,
    ("nesterov", "lr_ignored"): EVERYTHING,
    ("nesterov", "not_in_place"): {"in_place"},
    ("adagrad", "state_reset_each_call"): STATE,
    ("adagrad", "shared_state"): {"per_key_state"},
    ("adagrad", "no_epsilon"): {"zero_grad"},
    ("adagrad", "adagrad_no_sqrt"): EVERYTHING,
    ("adagrad", "wrong_sign"): EVERYTHING,
    ("adagrad", "lr_ignored"): EVERYTHING,
    ("adagrad", "not_in_place"): {"in_place"},
    ("rmsprop", "state_reset_each_call"): STATE,
    ("rmsprop", "shared_state"): {"per_key_state"},
    ("rmsprop", "no_epsilon"): {"zero_grad"},
    ("rmsprop", "rmsprop_missing_one_minus_rho"): EVERYTHING,
    ("rmsprop", "rmsprop_as_adagrad"): EVERYTHING,
    ("rmsprop", "wrong_sign"): EVERYTHING,
    ("rmsprop", "lr_ignored"): EVERYTHING,
    ("rmsprop", "not_in_place"): {"in_place"},
    ("adadelta", "state_reset_each_call"): STATE,
    ("adadelta", "shared_state"): {"per_key_state"},
    ("adadelta", "adadelta_no_epsilon"): EVERYTHING,
    ("adadelta", "adadelta_u_from_grad"): EVERYTHING,
    ("adadelta", "wrong_sign"): EVERYTHING,
    ("adadelta", "lr_ignored"): EVERYTHING,
    ("adadelta", "not_in_place"): {"in_place"},
    ("adam", "state_reset_each_call"): STATE,
    ("adam", "shared_state"): {"per_key_state"},
    ("adam", "counter_per_key"): {"per_key_state"},
    ("adam", "no_epsilon"): {"zero_grad"},
    ("adam", "counter_starts_at_zero"): EVERYTHING,
    ("adam", "no_bias_correction"): EVERYTHING,
    ("adam", "wrong_sign"): EVERYTHING,
    ("adam", "lr_ignored"): EVERYTHING,
    # The book's lr_t is a NumPy float64: params[key] - lr_t * ... turns float32 into float64.
    ("adam", "not_in_place"): {"in_place", "float32"},
    ("adamw", "state_reset_each_call"): STATE,
    ("adamw", "counter_per_key"): {"per_key_state"},
    ("adamw", "adamw_decay_in_grad"): EVERYTHING,
    ("adamw", "adamw_decay_without_lr"): EVERYTHING,
    ("adamw", "no_bias_correction"): EVERYTHING,
    ("adamw", "wrong_sign"): EVERYTHING,
    ("adamw", "lr_ignored"): EVERYTHING,
    ("adamw", "not_in_place"): {"in_place"},
}

# Where two mistakes compute exactly the same numbers on a property's case, the
# one tried first is named: (optimizer, mutant, property) -> the name given.
SAME_BEHAVIOUR = {
    # On the first call h = g² both with and without the decay.
    **{("rmsprop", "rmsprop_as_adagrad", p): "rmsprop_missing_one_minus_rho"
       for p in ("first_step", "in_place", "float32", "zero_grad")},
    # A zero first gradient gives NaN either way.
    ("adam", "counter_starts_at_zero", "zero_grad"): "no_epsilon",
}
# Failures reported on their own rather than as a named mistake.
NOT_NAMED = {
    # params[key] became float64: the dtype message says so.
    ("adam", "not_in_place", "float32"),
}

MUTANTS = [(m.optimizer, m.id) for entries in CATALOGUE.values() for m in entries]


def test_expectations_cover_the_whole_catalogue():
    assert set(EXPECTED_FAILURES) == set(MUTANTS)


def test_catalogue_has_the_required_mistakes():
    ids = {mistake_id for _, mistake_id in MUTANTS}
    required = {"not_in_place", "state_reset_each_call", "shared_state", "counter_per_key",
                "no_bias_correction", "wrong_sign", "ema_momentum", "no_epsilon",
                "adagrad_no_sqrt", "rmsprop_as_adagrad", "lr_ignored", "adamw_decay_in_grad",
                "nesterov_as_momentum"}
    assert required <= ids, f"missing: {required - ids}"


@pytest.mark.parametrize(("optimizer", "mistake_id"), MUTANTS, ids=[f"{o}-{m}" for o, m in MUTANTS])
def test_mutant_fails_exactly_the_expected_properties_and_is_named(optimizer, mistake_id):
    mistake = get_mistake(optimizer, mistake_id)
    all_props = {p.name for p in properties_for(optimizer)}
    expected = EXPECTED_FAILURES[optimizer, mistake_id]
    expected = all_props if expected is None else expected
    report = grade(mistake.cls, optimizer, SEEDS)
    assert set(report.failed) == expected, (
        f"{optimizer}/{mistake_id} should fail {sorted(expected)}, failed {report.failed}:\n"
        + report.text()
    )
    for result in report.results:
        if result.passed:
            continue
        named = SAME_BEHAVIOUR.get((optimizer, mistake_id, result.name), mistake_id)
        if (optimizer, mistake_id, result.name) in NOT_NAMED:
            named = ""
        assert result.mistake == named, (
            f"{optimizer}/{mistake_id}, {result.name}: named {result.mistake!r}, expected "
            f"{named!r}; message: {result.message}"
        )
        if named:
            assert result.message == get_mistake(optimizer, named).explanation


@pytest.mark.parametrize(("optimizer", "mutant", "prop"), list(SAME_BEHAVIOUR),
                         ids=["-".join(k) for k in SAME_BEHAVIOUR])
def test_same_behaviour_pairs_really_are_indistinguishable(optimizer, mutant, prop):
    named = SAME_BEHAVIOUR[optimizer, mutant, prop]
    prop = get_property(prop)
    case = prop.case(PUBLIC_SEEDS[0])
    hyper = case.hyper_for(optimizer)
    a = observe(get_mistake(optimizer, mutant).cls, hyper, case)
    b = observe(get_mistake(optimizer, named).cls, hyper, case)
    assert agree(a, b, value_calls=prop.value_calls)


def test_diagnose_names_the_mistake_and_keeps_the_rest():
    """A class that is both per-key-wrong and not in place gets both findings."""
    mistake = get_mistake("momentum", "shared_state")

    class SharedAndRebound(mistake.cls):
        def update(self, params, grads):
            copies = {key: value.copy() for key, value in params.items()}
            super().update(copies, grads)
            params.update(copies)

    # Two keys of one shape: the shared velocity gives wrong numbers, not a crash.
    case = make_case(1, shapes={"W1": (3, 4), "W2": (3, 4)}, calls=3)
    observed = observe(SharedAndRebound, case.hyper_for("momentum"), case)
    diagnosis = diagnose(observed, "momentum", case)
    assert diagnosis.mistake == "shared_state"
    assert [f.mistake for f in diagnosis.findings] == ["shared_state", "not_in_place"]
    assert not diagnosis


def test_an_uncatalogued_mistake_gets_a_generic_message():
    class HalfStep:
        def __init__(self, lr=0.01):
            self.lr = lr

        def update(self, params, grads):
            for key in params:
                params[key] -= 0.5 * self.lr * grads[key]

    case = get_property("first_step").case(2)
    diagnosis = diagnose(observe(HalfStep, case.hyper_for("sgd"), case), "sgd", case)
    assert diagnosis.mistake == ""
    assert "0.5 times as far as expected" in diagnosis.message
