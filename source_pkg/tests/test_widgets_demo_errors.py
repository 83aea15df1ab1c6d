"""``explain_errors`` and ``explained``: a demo that fails explains itself in one line."""

from __future__ import annotations

import math

import numpy as np
import pytest

from descentlab.errors import NOT_RUN_WHILE_GRADING, REFERENCE_UNAVAILABLE, exception_hint
from descentlab.widgets import explain_errors, explain_failure, explained


class StubSGD:
    def update(self, params, grads):
        raise NotImplementedError("Not written yet: replace this line with your code")


class SharedStateSGD:
    def __init__(self):
        self.v = None

    def update(self, params, grads):
        for key in params:
            if self.v is None:
                self.v = np.zeros_like(params[key])
            self.v = self.v + grads[key]


def _train(optimizer):
    params = {"W": np.ones((2, 2)), "b": np.ones(3)}
    optimizer.update(params, {k: np.ones_like(v) for k, v in params.items()})
    return "figure"


def test_a_working_callback_returns_its_value() -> None:
    ok = type("Ok", (), {"update": lambda *a: None})()
    assert explain_errors(lambda: _train(ok))() == "figure"


def test_unwritten_exercise_prints_one_line_and_where(capsys: pytest.CaptureFixture) -> None:
    def show_training(lr=0.1):
        return _train(StubSGD())

    assert explain_errors(show_training)(lr=0.5) is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1, f"more than one line: {out!r}"
    assert out.startswith("✘ show_training cannot run yet: it needs your update(), which is "
                          "not written yet"), out
    assert "line" not in out, f"the stub's line is quoted: {out!r}"
    assert "Traceback" not in out


def test_other_errors_name_the_exception_and_give_the_hint() -> None:
    try:
        _train(SharedStateSGD())
    except ValueError as exc:
        text = explain_failure("show_training", exc)
    else:  # pragma: no cover - the class is built to fail
        pytest.fail("the shared state did not fail")
    assert text.startswith("show_training stopped: ValueError in update(), line"), text
    assert "a state array of its own, of the parameter's shape" in text, text


def test_keyboard_interrupt_is_not_swallowed() -> None:
    def stopped():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        explain_errors(stopped)()


def test_a_returned_figure_is_displayed_once_for_interactive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ipywidgets' interactive() never displays what its callback returns
    # (auto_display=False): explain_errors() must display the Figure itself.
    import ipywidgets
    from IPython import display as ipy_display
    from matplotlib.figure import Figure

    shown: list[object] = []
    monkeypatch.setattr(ipy_display, "display", lambda *objs, **kw: shown.extend(objs))
    figures: list[Figure] = []

    def show_training(lr=0.1):
        fig = Figure()
        fig.add_subplot().plot([0, 1], [1, lr])
        figures.append(fig)
        return fig

    ui = ipywidgets.interactive(explain_errors(show_training), lr=(0.01, 1.0))
    assert figures, "interactive did not call the callback"
    assert shown == [figures[-1]], f"the figure was not displayed exactly once: {shown}"
    assert ui.result is None  # so that interact(auto_display=True) does not show it twice
    ui.children[0].value = 0.5  # moving the slider shows the new figure
    assert len(figures) == 2
    assert shown == figures


def test_explained_prints_one_line_and_keeps_what_ran(capsys: pytest.CaptureFixture) -> None:
    from descentlab.widgets import explained

    done = []
    with explained("This figure"):
        done.append("before")
        _train(StubSGD())
        done.append("after")  # pragma: no cover - never reached
    out = capsys.readouterr().out
    assert done == ["before"]
    assert out.count("\n") == 1, f"more than one line: {out!r}"
    assert out.startswith("✘ This figure cannot run yet"), out
    assert "run this cell again" in out
    assert "Traceback" not in out


def test_explained_is_silent_when_all_works(capsys: pytest.CaptureFixture) -> None:
    from descentlab.widgets import explained

    with explained():
        value = _train(type("Ok", (), {"update": lambda *a: None})())
    assert value == "figure"
    assert capsys.readouterr().out == ""


def test_explained_lets_keyboard_interrupt_through() -> None:
    from descentlab.widgets import explained

    with pytest.raises(KeyboardInterrupt), explained():
        raise KeyboardInterrupt


def test_a_demo_that_misspells_a_name_asks_about_the_near_one() -> None:
    def show_training(learning_rate=0.1):
        return learning_rat * 2  # noqa: F821 (the misspelling is the point)

    with pytest.raises(NameError) as info:
        show_training()
    line = explain_failure("show_training", info.value)
    assert line.endswith("Hint: did you mean `learning_rate`?")


def test_an_undefined_exercise_is_not_taken_for_a_typo(capsys: pytest.CaptureFixture) -> None:
    with explained("This figure"):
        numerical_gradient(lambda x: x, np.zeros(1))  # type: ignore[name-defined]  # noqa: F821
    out = capsys.readouterr().out
    assert out.startswith("✘ This figure needs your `numerical_gradient`, which is not "
                          "defined: run its exercise cell above"), out
    assert "did you mean" not in out.lower(), out
    with explained("This figure"):
        numerical_gradiant(lambda x: x, np.zeros(1))  # type: ignore[name-defined]  # noqa: F821
    assert "NameError" in capsys.readouterr().out, "a misspelt name keeps the plain message"


def test_a_demo_of_the_switched_off_reference_prints_the_grading_note(
        capsys: pytest.CaptureFixture) -> None:
    # The grader's copy of descentlab raises an error of this name from the reference.
    unavailable = type(REFERENCE_UNAVAILABLE, (RuntimeError,), {})
    with explained("This figure"):
        raise unavailable("Momentum is the course's reference implementation, ...")
    assert capsys.readouterr().out == NOT_RUN_WHILE_GRADING + "\n"


def test_a_state_left_none_is_named_for_a_missing_attribute_too() -> None:
    hint = exception_hint("AttributeError", "'NoneType' object has no attribute 'get'")
    assert hint.startswith("something is still None: create your state"), hint


def test_explained_sums_up_numpys_warnings_in_one_line(capsys: pytest.CaptureFixture) -> None:
    """A helper audit: lesson 00's hills figure with a gradient descent that climbs showed
    five RuntimeWarnings, each with a path into the grader's install."""
    import warnings

    from descentlab.surfaces import get_curve

    hills = get_curve("hills")
    with warnings.catch_warnings(record=True) as outside:
        warnings.simplefilter("always")
        with explained("This figure"):
            path = 2.0 * 10.0 ** np.arange(0, 400, 40)  # a path that climbs away
            hills(path)
            hills(path)
            warnings.warn("a note for the reader", UserWarning, stacklevel=1)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    assert out.startswith("⚠ This figure: some numbers grew too large"), out
    assert "overflow encountered" in out, out
    assert out.rstrip().endswith("does it step uphill, or take steps so long that it runs "
                                 "away?"), out
    assert "/descentlab/" not in out, out
    assert [str(w.message) for w in outside] == ["a note for the reader"]
    with explained():
        hills(np.linspace(-2.0, 2.0, 5))
    assert capsys.readouterr().out == ""


def test_numpys_warnings_are_not_a_third_note_under_a_failing_class(capsys) -> None:
    """A student audit: under one NaN figure, the path's status, the self-check note and
    the NumPy note said one thing three ways. The self-check note sends the student to the
    cause; the NumPy line is left out after it (and kept where no note was printed)."""
    import warnings

    from descentlab.widgets import self_check_note

    uphill = _sgd("params[key] += self.lr * grads[key]")
    with explained("This figure"):
        warnings.warn("overflow encountered in square", RuntimeWarning, stacklevel=1)
        self_check_note(uphill)
    out = capsys.readouterr().out
    assert out.startswith("⚠ Your SGD does not pass its self-check yet"), out
    assert "NumPy" not in out, out
    with explained("This figure"):
        warnings.warn("overflow encountered in square", RuntimeWarning, stacklevel=1)
        self_check_note(_sgd("params[key] -= self.lr * grads[key]"))
    assert "some numbers grew too large" in capsys.readouterr().out


def _sgd(step: str) -> type:
    """A student's SGD whose update does ``step`` for every key (named as in lesson 01)."""
    namespace: dict = {"np": np}
    exec(f"def update(self, params, grads):\n    for key in params:\n        {step}\n", namespace)
    return type("SGD", (), {"__init__": lambda self, lr=0.01: setattr(self, "lr", lr),
                            "update": namespace["update"]})


@pytest.mark.parametrize(("step", "failed"), [
    # Checks failing for one reason are counted, not listed: an audit's Adam with one typo
    # read its six failing checks as six bugs.
    ("params[key] += self.lr * grads[key]", "(first step and 1 more for the same reason)"),
    ("params[key] = params[key] - self.lr * grads[key]", "(update in place)"),
    ("pass", "(first step and 2 more for the same reason, each parameter on its own, "
             "float32 parameters)"),
])
def test_a_figure_drawn_by_an_sgd_that_fails_its_self_check_says_so_below(
        capsys: pytest.CaptureFixture, step: str, failed: str) -> None:
    """A student audit: lesson 01's figures drew the flat curves of an update that changes
    nothing, or the climbing ones of a step uphill, without a word."""
    from descentlab.widgets import self_check_note

    note = self_check_note(_sgd(step))
    assert note == (f"⚠ Your SGD does not pass its self-check yet {failed}: the figure above "
                    "shows what your code does. Run check(SGD) above to see why.")
    assert capsys.readouterr().out == note + "\n", "one line, printed"
    assert self_check_note(_sgd(step)(), "the curves above are what it does").endswith(
        f"{failed}: the curves above are what it does. Run check(SGD) above to see why.")


def test_an_honest_sgd_gets_no_note(capsys: pytest.CaptureFixture,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from descentlab.optimizers import SGD
    from descentlab.widgets import self_check_note

    for cls in (_sgd("params[key] -= self.lr * grads[key]"), SGD,
                _sgd("raise NotImplementedError('Not written yet: replace this line')"),
                type("Whatever", (), {"update": lambda self, params, grads: None})):
        assert self_check_note(cls) == "", cls
    # While the notebook is graded the checks are switched off: no note either.
    monkeypatch.setitem(sys.modules, "descentlab.checks.grading", None)
    assert self_check_note(_sgd("pass")) == ""
    assert capsys.readouterr().out == ""


def test_the_self_checks_own_warnings_are_not_the_figures(
        capsys: pytest.CaptureFixture) -> None:
    """explained() reports NumPy's warnings in its block as the figure's: checking a class
    that overflows must add none of its own to the figure's line."""
    from descentlab.widgets import self_check_note

    with explained("This figure"):
        note = self_check_note(_sgd("params[key] -= np.float64(1e308) * 10 * grads[key]"))
    assert note.startswith("⚠ Your SGD does not pass its self-check yet")
    assert capsys.readouterr().out == note + "\n", "no line about NumPy's warnings"


def _cosine(body: str):
    namespace = {"math": math}
    exec(f"def cosine_schedule(t, lr0, total):\n    {body}\n", namespace)
    return namespace["cosine_schedule"]


def test_a_figure_drawn_by_a_schedule_that_fails_its_check_says_so_below(
        capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """A student audit: lesson 07's demo labelled a wrong schedule "your cosine from 0.05"
    without a word; a right one, a stub or a graded run get no line."""
    import sys
    import types

    from descentlab.widgets import schedule_check_note

    unclamped = _cosine("return lr0 * (1 + math.cos(math.pi * t / total)) / 2")
    note = schedule_check_note(unclamped)
    assert note == ("⚠ Your cosine_schedule does not pass its self-check yet (after the "
                    "schedule): the figure above shows what your code returns. Run "
                    "check_schedule(cosine_schedule, 'cosine') above to see why.")
    assert capsys.readouterr().out == note + "\n", "one line, and nothing of the check's page"
    for fn in (_cosine("return lr0 * (1 + math.cos(math.pi * min(t, total) / total)) / 2"),
               _cosine("raise NotImplementedError()")):
        assert schedule_check_note(fn) == "", fn
    # While grading, the checks are the grader's stubs: they print a line, return None.
    graded = types.ModuleType("descentlab.checks.schedule_exercises")
    graded.check_schedule = lambda *args, **kwargs: print("(self-checks are off)")
    monkeypatch.setitem(sys.modules, "descentlab.checks.schedule_exercises", graded)
    assert schedule_check_note(unclamped) == ""
    assert capsys.readouterr().out == ""


def test_a_division_by_zero_is_asked_about_as_one(capsys: pytest.CaptureFixture) -> None:
    """A student audit: Adam with its counter still 0 divides by 1 - beta**0 = 0; the line
    under the figure asked "does it step uphill?"."""
    from descentlab.widgets.demo_errors import numbers_ran_away

    with explained("This figure"):
        np.array([1.0, 0.0]) / np.zeros(2)
    out = capsys.readouterr().out
    assert out.startswith("⚠ This figure: some numbers grew too large or became undefined "
                          "(NumPy: divide by zero encountered in divide"), out
    assert out.rstrip().endswith("does it divide by zero (a step counter still 0, or no "
                                 "epsilon in a denominator)?"), out
    rooted = numbers_ran_away("It", ["invalid value encountered in sqrt"])
    assert rooted.endswith("does it take the square root of a negative number (is what is "
                           "under the root built from squared gradients, g·g)?"), rooted
    both = numbers_ran_away("It", ["overflow encountered in square", "divide by zero"])
    assert both.endswith("does it divide by zero (a step counter still 0, or no epsilon in a "
                         "denominator), or step uphill, or take steps so long that it runs "
                         "away?")


def test_a_figure_drawn_by_a_function_that_fails_its_check_says_so_below(
        capsys: pytest.CaptureFixture) -> None:
    """A student audit: lesson 01's figures drew batches without shuffling with no word;
    only the SGD class was checked under them. A right function or a stub gets no line."""
    import numpy as np

    from descentlab.checks import check_minibatches
    from descentlab.widgets import function_check_note

    def minibatches(x, t, batch_size, seed=None):  # in order: never shuffled
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], t[start:start + batch_size]

    note = function_check_note(minibatches, check_minibatches)
    assert note.startswith("⚠ Your minibatches does not pass its self-check yet ("), note
    assert note.endswith("): the figure above shows what your code does. Run "
                         "check_minibatches(minibatches) above to see why."), note
    assert capsys.readouterr().out == note + "\n", "one line, and nothing of the check's page"

    def shuffled(x, t, batch_size, seed=None):  # the lesson's solution
        order = np.random.default_rng(seed).permutation(len(x))
        for start in range(0, len(x), batch_size):
            chunk = order[start:start + batch_size]
            yield x[chunk], t[chunk]

    def stub(x, t, batch_size, seed=None):
        raise NotImplementedError

    assert check_minibatches(shuffled), "the right function must pass (else no test here)"
    capsys.readouterr()
    for fn in (shuffled, stub):
        assert function_check_note(fn, check_minibatches) == "", fn
    assert capsys.readouterr().out == ""


def test_the_error_against_h_figure_of_a_function_that_ignores_h_explains_its_flat_line(
        capsys: pytest.CaptureFixture) -> None:
    """A student audit: lesson 00's figure drew a flat line for a numerical_gradient that
    ignores its h, with no word under it (its checks pass; only the self-check had a note).
    With ``notes=True`` the note is printed under the figure; without, nothing."""
    from test_checks_function_exercises import central  # the book's central difference

    from descentlab.checks import check_numerical_gradient
    from descentlab.widgets import function_check_note

    def numerical_gradient(f, x, h=1e-4):
        return central(f, x, 1e-4)  # the default step, whatever h is

    note = function_check_note(numerical_gradient, check_numerical_gradient, notes=True)
    assert note.startswith("Note: your numerical_gradient returns the same gradient"), note
    assert "its line for your function is flat" in note, note
    assert "below" not in note, "printed under the figure, and by the self-check above it"
    assert capsys.readouterr().out == note + "\n"
    assert function_check_note(numerical_gradient, check_numerical_gradient) == ""

    def honest(f, x, h=1e-4):
        return central(f, x, h)

    assert function_check_note(honest, check_numerical_gradient, notes=True) == ""
    assert capsys.readouterr().out == ""


def test_a_figure_of_a_schedule_returning_a_list_names_the_list_in_one_short_line() -> None:
    """A student audit: lesson 07's figure said "ValueError in _check_1d() ... inhomogeneous
    part.." (Matplotlib's words, two periods) for a cosine_schedule returning every rate so
    far; rates_of, which the figure plots, names the list, cut short."""
    from descentlab.schedules import rates_of

    every_rate = _cosine("return [lr0 * (1 + math.cos(math.pi * min(s, total) / total)) / 2"
                         " for s in range(t + 1)]")
    with pytest.raises(TypeError) as caught:
        rates_of(every_rate, range(300), 0.1, 300)
    text = explain_failure("This figure", caught.value)
    assert text.startswith("This figure stopped: TypeError"), text
    assert "the schedule returned [0.1] for t=0; it must return one number." in text, text
    assert ".." not in text, text
    with pytest.raises(TypeError) as caught:
        rates_of(every_rate, range(10, 300), 0.1, 300)
    assert "..." in str(caught.value), str(caught.value)
    assert len(str(caught.value)) < 200, str(caught.value)


def test_a_message_ending_in_a_period_gets_no_second_one() -> None:
    text = explain_failure("This figure", ValueError("setting an array element."))
    assert text.endswith("setting an array element."), text
    assert explain_failure("This figure", ValueError("no period")).endswith("no period."), text


def test_a_global_lr_read_is_named_under_the_figure(capsys: pytest.CaptureFixture) -> None:
    """A student audit: an explorer drew a Momentum reading the notebook's `lr` with the
    generic "does not pass its self-check", and its lr slider moved nothing."""
    from descentlab.widgets import self_check_note

    namespace: dict = {"np": np, "lr": 0.5}
    exec("class Momentum:\n"
         "    def __init__(self, lr=0.01, momentum=0.9):\n"
         "        self.lr, self.momentum, self.v = lr, momentum, None\n"
         "    def update(self, params, grads):\n"
         "        if self.v is None:\n"
         "            self.v = {k: np.zeros_like(v) for k, v in params.items()}\n"
         "        for k in params:\n"
         "            self.v[k] = self.momentum * self.v[k] - lr * grads[k]\n"
         "            params[k] += self.v[k]\n", namespace)
    note = self_check_note(namespace["Momentum"])
    assert ("(first step, state between calls): Your update() reads the notebook's global "
            "`lr`, not `self.lr`") in note, note
    assert note.endswith("The figure above shows what your code does. Run check(Momentum) "
                         "above to see why."), note


def test_a_figure_stopped_in_its_own_cell_says_this_cell() -> None:
    """A student audit read "TypeError in <module>(), line 6": Python's name for a cell's
    own code."""
    from descentlab.widgets.demo_errors import explain_failure

    try:
        exec(compile("rates = None\nfirst = rates[0]\n", "/tmp/ipykernel_1/42.py", "exec"), {})
    except TypeError as exc:
        line = explain_failure("This figure", exc)
    assert line.startswith("This figure stopped: TypeError in this cell, line 2"), line
    assert "<module>" not in line
