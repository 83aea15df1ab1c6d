"""One exercise interface: classes, functions and schedules give the same Report, the same way."""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

import pytest

from descentlab.checks import Report, check, check_numerical_gradient, run_checks
from descentlab.checks.exercise import PRINTED_NOTE, Outcome, assert_outcome, self_check
from descentlab.checks.schedule_exercises import check_schedule
from descentlab.optimizers import Momentum


@dataclass(frozen=True)
class _Prop:
    name: str
    title: str = "holds"
    short: str = "fails"
    points: float = 1.0


def test_a_property_passes_only_on_every_seed_and_the_first_failing_seed_is_kept():
    calls = []

    def run(prop, seed):
        calls.append((prop.name, seed))
        if prop.name == "b" and seed >= 2:
            return Outcome(f"wrong at {seed}", mistake="slip", printed=3)
        return Outcome()

    report = run_checks("thing", [_Prop("a", points=2.0), _Prop("b")], run, [1, 2, 3],
                        points={"b": 5.0})
    assert report.passed == ["a"]
    assert report.failed == ["b"]
    failed = report.results[1]
    assert (failed.seed, failed.message, failed.mistake) == (2, "wrong at 2", "slip")
    assert (report.score, report.max_score) == (2.0, 7.0)
    assert calls == [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2)], "stop at the 1st failure"
    assert report.notes == (PRINTED_NOTE,)


def test_after_a_hang_the_remaining_properties_are_skipped_only_when_asked():
    def run(prop, seed):
        return Outcome("hung", hung=True) if prop.name == "a" else Outcome()

    props = [_Prop("a"), _Prop("b")]
    assert run_checks("x", props, run, [1]).passed == ["b"]
    skipped = run_checks("x", props, run, [1], skipped_after_hang="not checked")
    assert skipped.failed == ["a", "b"]
    assert skipped.results[1].message == "not checked"


def test_no_seed_is_a_clear_error():
    with pytest.raises(ValueError, match="at least one seed"):
        run_checks("x", [_Prop("a")], lambda p, s: Outcome(), [])


def test_self_check_never_raises():
    out = io.StringIO()

    def broken(_out):
        raise RuntimeError("disk full")

    report = self_check("x", broken, file=out)
    assert not report
    assert "the checker itself failed (RuntimeError: disk full)" in out.getvalue()

    def wrong_name(_out):
        raise ValueError("unknown optimizer 'adamax'")

    out = io.StringIO()
    report = self_check("x", wrong_name, file=out, setup_errors=(ValueError,))
    assert report.results[0].message == "unknown optimizer 'adamax'"
    assert out.getvalue().startswith("✘ cannot check: unknown optimizer 'adamax'")
    # Nothing ran: the closing line does not count a failed check (a student audit read
    # "... it was not checked", then "1 of 1 checks failed").
    assert out.getvalue().rstrip().endswith(
        "Nothing was checked: do what the line above says, then run this check again.")
    assert "checks failed" not in out.getvalue()


def test_assert_outcome_raises_only_for_a_failure():
    assert_outcome(Outcome())
    with pytest.raises(AssertionError, match=r"^first step: off$"):
        assert_outcome(Outcome("off"), "first step")


def _numerical_gradient(f, x, h=1e-4):
    import numpy as np

    grad = np.zeros_like(x, dtype=float)
    for i in range(x.size):
        old = x.flat[i]
        x.flat[i] = old + h
        up = f(x)
        x.flat[i] = old - h
        down = f(x)
        x.flat[i] = old
        grad.flat[i] = (up - down) / (2 * h)
    return grad


def _cosine(t, lr0, total):
    return lr0 * (1 + math.cos(math.pi * min(t, total) / total)) / 2


@pytest.mark.parametrize("run", [
    lambda out: check(Momentum, file=out),
    lambda out: check_numerical_gradient(_numerical_gradient, file=out),
    lambda out: check_schedule(_cosine, file=out),
], ids=["class", "function", "schedule"])
def test_classes_functions_and_schedules_print_one_verdict_the_same_way(run):
    out = io.StringIO()
    report = run(out)
    assert isinstance(report, Report)
    assert report, out.getvalue()
    heading, *lines = out.getvalue().splitlines()
    assert heading.startswith("Checking ")
    assert lines == report.text().splitlines()
    assert lines[-1] == "All checks passed — well done!"
    assert all(line.startswith("✔ ") for line in lines[:-1])


def test_a_failing_test_cell_shows_the_students_cell_not_the_checks_source(capsys):
    """A browser audit: every failing test cell showed assert_outcome's own source (IPython
    hides a __tracebackhide__ frame, but never the one that raises)."""
    from IPython.core.interactiveshell import InteractiveShell

    existed = InteractiveShell.initialized()
    shell = InteractiveShell.instance()
    try:
        shell.user_ns.update(assert_outcome=assert_outcome, Outcome=Outcome)
        capsys.readouterr()
        result = shell.run_cell("x = 1\nassert_outcome(Outcome('your update climbs'), "
                                "'first step')")
        shown = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)  # no colours
    finally:
        if not existed:
            InteractiveShell.clear_instance()
    assert isinstance(result.error_in_exec, AssertionError)
    assert type(result.error_in_exec) is AssertionError  # nbgrader and the grader read its name
    assert "assert_outcome(Outcome('your update climbs')" in shown, shown
    assert "AssertionError: first step: your update climbs" in shown, shown
    assert "exercise.py" not in shown, shown
    assert "outcome.passed" not in shown, shown


def test_outside_ipython_the_failure_renders_as_its_line():
    with pytest.raises(AssertionError) as raised:
        assert_outcome(Outcome("your update climbs"), "first step")
    lines = raised.value._render_traceback_()
    assert "".join(lines).strip().endswith("AssertionError: first step: your update climbs")
