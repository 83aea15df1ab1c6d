"""``observe`` turns whatever a class does into plain data, and that data travels as .npz."""

from __future__ import annotations

import sys

import numpy as np

from descentlab.checks import make_case, observe
from descentlab.checks.observe import accepted_arguments, observe_in_turn
from descentlab.optimizers import Momentum

CASE = make_case(11, shapes={"W": (2, 3), "b": (3,)}, calls=3)
HYPER = CASE.hyper_for("momentum")


class Rebinding:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] = params[key] - self.lr * grads[key]


class FailsOnSecondCall:
    def __init__(self, lr=0.01, momentum=0.9):
        self.calls = 0

    def update(self, params, grads):
        self.calls += 1
        if self.calls == 2:
            raise KeyError("v")
        for key in params:
            params[key] -= grads[key]


def test_accepted_arguments_follow_the_signature():
    class Book:
        def __init__(self, lr=0.01):
            pass

    class Flexible:
        def __init__(self, lr=0.01, **rest):
            pass

    class PositionalOnly:
        def __init__(self, lr, /, momentum=0.9):
            pass

    class Bare:
        pass

    names = ["lr", "momentum", "eps"]
    assert accepted_arguments(Book, names) == ["lr"]
    assert accepted_arguments(Flexible, names) == names
    assert accepted_arguments(PositionalOnly, names) == ["momentum"]
    assert accepted_arguments(Bare, names) == []


def test_only_accepted_hyperparameters_are_passed():
    class OnlyLr:
        def __init__(self, lr=0.01):
            self.lr = lr

        def update(self, params, grads):
            pass

    observed = observe(OnlyLr, {"lr": 0.2, "momentum": 0.7}, CASE)
    assert observed.hyper == {"lr": 0.2}
    assert observed.completed


def test_a_correct_class_is_recorded_call_by_call():
    observed = observe(Momentum, HYPER, CASE)
    assert observed.completed
    assert observed.calls_done == 3
    assert observed.same_object.all()
    assert (observed.dtypes == "float64").all()
    assert (observed.problems == "").all()
    assert observed.values["W"].shape == (4, 2, 3)
    np.testing.assert_array_equal(observed.values["W"][0], CASE.params["W"])
    assert not np.array_equal(observed.values["W"][1], observed.values["W"][0])


def test_rebinding_is_recorded_as_not_the_same_object():
    observed = observe(Rebinding, HYPER, CASE)
    assert observed.completed
    assert not observed.same_object.any()


def test_an_exception_stops_the_observation_at_its_call():
    observed = observe(FailsOnSecondCall, HYPER, CASE)
    assert (observed.error_stage, observed.error_type, observed.error_call) == ("update",
                                                                               "KeyError", 2)
    assert observed.error_message == "'v'"
    assert observed.calls_done == 1
    assert observed.values["W"].shape[0] == 2
    assert "raise KeyError" in observed.error_where
    assert observed.error_where.startswith("in update(), line ")


def test_init_errors_stubs_exits_and_hangs_become_data():
    class BadInit:
        def __init__(self, lr=0.01, momentum=0.9):
            raise ValueError("nope")

    class Stub:
        def __init__(self, lr=0.01, momentum=0.9):
            pass

        def update(self, params, grads):
            raise NotImplementedError()

    class Exits(Stub):
        def update(self, params, grads):
            sys.exit(3)

    class Hangs(Stub):
        def update(self, params, grads):
            while True:
                pass

    assert observe(BadInit, HYPER, CASE).error_stage == "init"
    assert observe(Stub, HYPER, CASE).error_type == "NotImplementedError"
    assert observe(Exits, HYPER, CASE).error_type == "SystemExit"
    hang = observe(Hangs, HYPER, CASE, time_limit=0.05)
    assert (hang.error_type, hang.error_call) == ("TimeLimitExceeded", 1)


def test_missing_required_argument_and_non_callables_stop_before_running():
    class NoMomentum:
        def __init__(self, lr=0.01):
            raise AssertionError("must not be built")

    observed = observe(NoMomentum, HYPER, CASE, required=("lr", "momentum"))
    assert observed.error_stage == "signature"
    assert "`momentum`" in observed.error_message
    assert observe(42, HYPER, CASE).error_stage == "class"


def test_broken_parameters_are_described():
    class Breaks:
        def __init__(self, lr=0.01, momentum=0.9):
            pass

        def update(self, params, grads):
            params["W"] = params["W"].tolist()
            params["b"] = np.zeros((2, 3))

    observed = observe(Breaks, HYPER, CASE)
    assert list(observed.problems[0]) == ["is a list, not a NumPy array",
                                          "has shape (2, 3) instead of (3,)"]
    assert np.isnan(observed.values["b"][1]).all()


def test_printing_is_hidden_and_counted(capsys):
    class Chatty(Momentum):
        def update(self, params, grads):
            print("debugging", params.keys())
            super().update(params, grads)

    observed = observe(Chatty, HYPER, CASE)
    assert capsys.readouterr().out == ""
    assert observed.printed > 0
    assert observed.completed


def test_nan_and_warnings_do_not_escape():
    class DividesByZero(Momentum):
        def update(self, params, grads):
            for key in params:
                params[key] /= 0.0 * grads[key]

    observed = observe(DividesByZero, HYPER, CASE)  # -W error would turn a warning into a crash
    assert observed.completed
    assert not np.isfinite(observed.values["W"][1]).any()


def test_objects_observed_in_turn_are_built_first_then_updated_call_by_call():
    """Two networks' optimizers: both built, then updated in turn, each on arrays of its own,
    each recorded as if alone (the reference's steps), the second's error its own."""
    events, arrays = [], {0: set(), 1: set()}

    class Recorded(Momentum):
        def __init__(self, lr=0.01, momentum=0.9):
            super().__init__(lr=lr, momentum=momentum)
            self.number = sum(event == "init" for event, _ in events)
            events.append(("init", self.number))

        def update(self, params, grads):
            events.append(("update", self.number))
            if self.number == 1 and len(events) == 6:
                raise KeyError("v")
            arrays[self.number].update(map(id, params.values()))
            super().update(params, grads)

    first, second = observe_in_turn(Recorded, [(HYPER, CASE), (HYPER, CASE)])
    assert events == [("init", 0), ("init", 1), ("update", 0), ("update", 1), ("update", 0),
                      ("update", 1), ("update", 0)]
    alone = observe(Momentum, HYPER, CASE)
    for key in CASE.keys:
        np.testing.assert_array_equal(first.values[key], alone.values[key])
    assert first.completed
    assert not first.error_stage
    assert (second.error_stage, second.error_call, second.error_type) == ("update", 2, "KeyError")
    assert second.calls_done == 1
    assert len(arrays[0]) == len(CASE.keys)
    assert not arrays[0] & arrays[1]
