"""The notebooks' ``check(...)``: friendly verdicts, never a traceback, whatever the class does."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from descentlab.checks import check, selfcheck
from descentlab.optimizers import Momentum as ReferenceMomentum
from descentlab.optimizers import optimizer_class


def _run(*args, **kwargs) -> tuple[object, str]:
    out = io.StringIO()
    report = check(*args, file=out, **kwargs)
    text = out.getvalue()
    assert "Traceback" not in text
    return report, text


class Momentum:
    """The notebook's stub, as nbgrader releases it."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        # YOUR CODE HERE
        raise NotImplementedError()


def test_the_stub_gets_the_not_written_yet_message():
    report, text = _run(Momentum)
    assert not report
    lines = text.splitlines()
    assert lines[0] == "Checking Momentum against the course's momentum optimizer:"
    # One line, not five failed checks (a student audit read "6 of 6 checks failed").
    assert lines[1:] == [
        "✘ Momentum.update() is not written yet: replace `raise NotImplementedError` with "
        "your code.",
        "Nothing was checked yet: write it, run its cell, then run this check again."]
    assert report.failed == [p.name for p in report.results], "still no point"


def test_a_correct_class_passes_with_a_tick_per_property():
    report, text = _run(ReferenceMomentum)
    assert report
    assert text.splitlines()[1:] == [
        "✔ first step matches the formula",
        "✔ state is carried between calls",
        "✔ each parameter is updated on its own",
        "✔ parameters are updated in place",
        "✔ float32 parameters stay float32",
        "All checks passed — well done!",
    ]


def test_one_failure_names_the_mistake():
    class Momentum(ReferenceMomentum):
        def update(self, params, grads):
            super().update(params, grads)
            for key in params:
                params[key] = params[key].copy()

    report, text = _run(Momentum)
    assert report.failed == ["in_place"]
    assert ("✘ update in place: params['W'] was replaced by a new array instead of updated "
            "in place") in text
    assert text.splitlines()[-1] == "1 of 5 checks failed: fix it and run the check again."


def test_an_exception_is_reported_with_its_line():
    class AdaGrad:
        def __init__(self, lr=0.01):
            self.lr = lr
            self.h = None

        def update(self, params, grads):
            for key in params:
                self.h[key] += grads[key] ** 2

    report, text = _run(AdaGrad)
    assert not report
    assert ("✘ first step: update() raised TypeError on the 1st call: 'NoneType' object is "
            "not subscriptable (in update(), line") in text
    assert "`self.h[key] += grads[key] ** 2`). Something is still None" in text


def test_nan_is_reported():
    class RMSprop:
        def __init__(self, lr=0.01, rho=0.99):
            self.lr, self.rho = lr, rho

        def update(self, params, grads):
            for key in params:
                params[key] -= np.nan

    report, text = _run(RMSprop)
    assert not report
    assert "✘ first step: after the 1st call, params['W'] contains NaN or infinity" in text


def test_a_gradient_not_squared_is_named_and_costs_only_the_values():
    """The statistic under the root built from g, not g·g: NaN from the root of a negative h.

    The student was told about a step counter and 1 − βᵗ (RMSProp has neither) and lost
    the zero-gradient check for NaN on a key whose gradient was not zero.
    """

    class RMSProp:
        def __init__(self, lr=0.01, rho=0.99, eps=1e-8):
            self.lr, self.rho, self.eps, self.h = lr, rho, eps, None

        def update(self, params, grads):
            if self.h is None:
                self.h = {key: np.zeros_like(val) for key, val in params.items()}
            for key in params:
                self.h[key] = self.rho * self.h[key] + (1 - self.rho) * grads[key]
                params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + self.eps)

    report, text = _run(RMSProp)
    assert report.failed == ["first_step", "carries_state"]
    assert ("✘ first step: h must average the squared gradient, h ← ρ·h + (1 − ρ)·g·g") in text
    assert "square root of a negative number is NaN" in text
    assert "✔ a zero gradient gives a zero step, not NaN" in text
    assert "step counter" not in text
    assert "βᵗ" not in text


def test_a_hang_is_cut_short():
    class Adam:
        def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
            pass

        def update(self, params, grads):
            while True:
                pass

    report, text = _run(Adam, time_limit=0.3)
    assert not report
    assert ("✘ first step: update() did not finish within 0.3 s on the 1st call: is there a "
            "loop that never ends (a `while` whose condition never changes), or is each call "
            "very slow?") in text


def test_after_a_hang_the_other_checks_are_skipped_not_waited_for():
    entered = []

    class Momentum:
        def __init__(self, lr=0.01, momentum=0.9):
            pass

        def update(self, params, grads):
            entered.append(1)
            while True:
                pass

    report, text = _run(Momentum, time_limit=0.3)
    assert not report
    assert len(entered) == 1, f"update() was entered {len(entered)} times after it hung"
    assert text.count("did not finish within 0.3 s") == 1, text
    assert "not checked: update() did not finish in an earlier check" in text, text


def test_sys_exit_in_update_does_not_end_the_check():
    class SGD:
        def __init__(self, lr=0.01):
            pass

        def update(self, params, grads):
            sys.exit(1)

    report, text = _run(SGD)
    assert "update() raised SystemExit on the 1st call" in text
    assert not report


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (ReferenceMomentum(), "pass the class itself, not an object made from it: "
                              "check(Momentum), not check(Momentum())."),
        (None, "it got None."),
        (len, "it got the function len."),
        ("Momentum", "it got the string 'Momentum'."),
    ],
    ids=["instance", "None", "function", "string"],
)
def test_non_classes_get_a_friendly_message(given, expected):
    report, text = _run(given, "momentum")
    assert not report
    assert expected in text
    assert "(same problem as above)" in text


def test_unknown_or_unclear_optimizer_names():
    class Optimizer:
        pass

    report, text = _run(Optimizer)
    assert not report
    assert "could not tell which optimizer Optimizer implements: name it" in text
    report, text = _run(ReferenceMomentum, "adamax")
    assert "unknown optimizer 'adamax'" in text
    assert not report


def test_a_class_named_after_an_optimizer_is_checked_as_that_optimizer():
    # Which names are recognised is tested in test_checks_resolver.py.
    report, text = _run(type("SGDMomentum", (ReferenceMomentum,), {}))
    assert report
    assert text.startswith("Checking SGDMomentum against the course's momentum optimizer:")


def test_an_explicit_name_ignores_case_and_punctuation():
    class Mine(ReferenceMomentum):
        pass

    report, _ = _run(Mine, "MOMENTUM")
    assert report
    report, _ = _run(type("Whatever", (), {}), "RMS-prop")
    assert report.subject == "Whatever"


def test_printing_students_are_told_their_output_is_hidden():
    class Momentum(ReferenceMomentum):
        def update(self, params, grads):
            print("v =", self.state)
            super().update(params, grads)

    report, text = _run(Momentum)
    assert report
    assert "(your code printed output during the checks; it is not shown here)" in text
    assert "v =" not in text


def test_the_checker_itself_failing_is_reported_not_raised(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(selfcheck, "score_properties", broken)
    report, text = _run(ReferenceMomentum)
    assert not report
    assert "the checker itself failed (RuntimeError: disk full)" in text


def test_default_output_goes_to_stdout(capsys):
    check(ReferenceMomentum)
    assert capsys.readouterr().out.endswith("All checks passed — well done!\n")


class _StudentAdam:
    """Lesson 06's Adam as a student writes it; ``bias_correction`` switches that off."""

    bias_correction = True

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.t += 1
        for key in params:
            g = grads[key]
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * g
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * g * g
            m_hat, v_hat = self.m[key], self.v[key]
            if self.bias_correction:
                m_hat, v_hat = m_hat / (1 - self.beta1**self.t), v_hat / (1 - self.beta2**self.t)
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def _adamw_over(base: type) -> type:
    """The lesson's correct AdamW, over ``base`` as the student's Adam."""
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        base.__init__(self, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
        self.weight_decay = weight_decay

    def update(self, params, grads):
        for key in params:
            params[key] *= 1 - self.lr * self.weight_decay
        base.update(self, params, grads)

    return type("AdamW", (base,), {"__init__": __init__, "update": update})


def test_a_class_over_a_failing_base_of_the_student_names_the_base() -> None:
    """A student audit: a correct AdamW over an Adam without bias correction was told only
    "the formula of a single step is off — compare your update with the formula"."""
    wrong = type("Adam", (_StudentAdam,), {"bias_correction": False})
    out = io.StringIO()
    report = check(_adamw_over(wrong), file=out)
    assert not report
    note = ("Your AdamW builds on your Adam, which fails its own check (first step, state "
            "between calls): fix Adam first (check(Adam)); the failures here may be its.")
    assert note in " ".join(out.getvalue().split()), out.getvalue()
    # Over a correct Adam: all checks pass, no note. Over the course's own: they pass, and
    # the closing line says the grade will not count it (an audit: "well done", then 0).
    for base, counted in ((type("Adam", (_StudentAdam,), {}), True),
                          (optimizer_class("adam"), False)):
        out = io.StringIO()
        assert check(_adamw_over(base), file=out), out.getvalue()
        assert ("builds on" not in out.getvalue()) is counted
        assert ("well done" in out.getvalue()) is counted


class _SettingsOnly:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None


class _SetsUpState(_SettingsOnly):
    def update(self, params, grads):  # the subclasses take the step
        if self.v is None:
            self.v = {key: np.zeros_like(value) for key, value in params.items()}


@pytest.mark.parametrize("base", [_SettingsOnly, _SetsUpState],
                         ids=["without-update", "update-sets-up-state"])
def test_a_base_that_takes_no_step_is_not_sent_to_be_fixed(base: type) -> None:
    """A feedback review: a Nesterov over a student's base that only sets its
    hyperparameters was told "builds on your MomentumBase, which fails its own check
    (first step, ...): fix MomentumBase first", a class with no update() to fix; audit 37:
    the same of a base whose update() only creates the velocity its subclasses step with."""
    class Nesterov(type("MomentumBase", (base,), {})):
        def update(self, params, grads):  # v is created anew on every call
            if hasattr(super(), "update"):
                super().update(params, grads)
            for key in params:
                v = np.zeros_like(params[key])
                v_new = self.momentum * v - self.lr * grads[key]
                params[key] += self.momentum * v_new - self.lr * grads[key]

    out = io.StringIO()
    assert not check(Nesterov, file=out)
    assert "state between calls" in out.getvalue()
    assert "builds on" not in out.getvalue(), out.getvalue()


def test_a_class_over_a_base_run_again_since_is_told_to_run_its_cell_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A student audit: Adam fixed and its cell run again, AdamW's not: check(AdamW) said
    "fix Adam first" while check(Adam) passed. The notebook's `Adam` is another class now."""
    import types

    notebook = types.ModuleType("notebook_run_again")
    monkeypatch.setitem(sys.modules, notebook.__name__, notebook)
    old = type("Adam", (_StudentAdam,), {"bias_correction": False,
                                         "__module__": notebook.__name__})
    adamw = _adamw_over(old)
    adamw.__module__ = notebook.__name__
    notebook.Adam, notebook.AdamW = old, adamw
    out = io.StringIO()
    check(adamw, file=out)
    assert "fix Adam first" in out.getvalue(), "the cell not run again: the usual note"
    notebook.Adam = type("Adam", (_StudentAdam,), {"__module__": notebook.__name__})
    out = io.StringIO()
    check(adamw, file=out)
    text = " ".join(out.getvalue().split())
    assert ("Your AdamW builds on an older Adam (the one defined when you ran AdamW's "
            "cell), which fails its own check (first step, state between calls): run AdamW's "
            "cell again, so that it builds on your Adam as it is now.") in text, text
    assert "fix Adam first" not in text, text


def test_a_class_that_takes_none_of_its_bases_step_is_not_sent_to_the_base() -> None:
    """A student audit: an AdamW whose update() only decays, over a failing Adam, was told
    "fix Adam first; the failures here may be its" under "the formula ... is off"."""
    wrong = type("Adam", (_StudentAdam,), {"bias_correction": False})

    def update(self, params, grads):
        for key in params:
            params[key] *= 1 - self.lr * self.weight_decay  # and no Adam step

    decay_only = type("AdamW", (_adamw_over(wrong),), {"update": update})
    out = io.StringIO()
    report = check(decay_only, file=out)
    assert next(r.mistake for r in report.results if not r.passed) == "adamw_no_adam_step"
    assert "weight decay only" in out.getvalue(), out.getvalue()
    assert "builds on" not in out.getvalue(), out.getvalue()


def test_sgds_repeated_calls_are_not_called_state() -> None:
    """SGD keeps no state: its property reads "repeated calls", a stateful one's "state"."""
    from descentlab.checks import PUBLIC_SEEDS, assert_property, properties_for

    class SGD:
        def __init__(self, lr=0.01):
            self.lr = lr

        def update(self, params, grads):
            for key in params:
                params[key] += self.lr * grads[key]  # uphill

    assert [p.short for p in properties_for("sgd")][:2] == ["first step", "repeated calls"]
    assert [p.short for p in properties_for("momentum")][:2] == ["first step",
                                                                  "state between calls"]
    with pytest.raises(AssertionError, match=r"^repeated calls: "):
        assert_property(SGD, "sgd", "carries_state", seed=PUBLIC_SEEDS[0])


class _RMSPropOwnDefaults:
    """A student audit's RMSProp: rho's default 0.9 where the lesson gives 0.99."""

    def __init__(self, lr=0.01, rho=0.9, eps=1e-7):
        self.lr, self.rho, self.eps, self.h = lr, rho, eps, {}

    def update(self, params, grads):
        for key in params:
            self.h.setdefault(key, np.zeros_like(params[key]))
            self.h[key] *= self.rho
            self.h[key] += (1 - self.rho) * grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + self.eps)


def test_a_default_other_than_the_lessons_is_noted_and_costs_nothing():
    """Two student audits: the demos then differ from the text, and nothing said why."""
    from descentlab.checks.selfcheck import changed_defaults
    from descentlab.optimizers import RMSProp

    out = io.StringIO()
    report = check(_RMSPropOwnDefaults, "rmsprop", file=out)
    assert report, out.getvalue()
    assert out.getvalue().endswith(
        "Note: _RMSPropOwnDefaults has the default rho=0.9 (the lesson's: 0.99). The figures "
        "below build _RMSPropOwnDefaults with your defaults, so they will not match the text; "
        "the graded tests pass every value, so this costs no points.\n"), out.getvalue()
    assert changed_defaults(_RMSPropOwnDefaults, "rmsprop") == ["rho=0.9 (the lesson's: 0.99)"]
    # The course's own defaults, another eps (all its forms are accepted), other names.
    assert changed_defaults(RMSProp, "rmsprop") == []
    assert changed_defaults(type("RMSProp", (_RMSPropOwnDefaults,), {
        "__init__": lambda self, lr=0.01, decay=0.9: None}), "rmsprop") == []
    out = io.StringIO()
    check(RMSProp, file=out)
    assert "Note:" not in out.getvalue()
