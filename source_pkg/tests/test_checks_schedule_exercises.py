"""The schedule checks: enough digits to see a difference (issue 13); the common verdict."""

from __future__ import annotations

import io
import math
import re

import pytest

from descentlab.checks import PUBLIC_SEEDS, Report
from descentlab.checks.messages import fmt_pair
from descentlab.checks.schedule_exercises import (
    SCHEDULE_PROPERTIES,
    assert_schedule,
    check_schedule,
    schedule_case,
)


def cosine_off_by_one(t, lr0, total):
    """A near miss no hint explains: the period is total + 1, not total."""
    return lr0 * (1 + math.cos(math.pi * min(t, total) / (total + 1))) / 2


def test_a_near_miss_shows_two_different_numbers():
    with pytest.raises(AssertionError) as info:
        assert_schedule(cosine_off_by_one, "cosine", "values", seed=70101)
    message = str(info.value)
    got, want = re.search(r"returned (\S+), expected (\S+) ", message).groups()
    assert got != want, message
    # Each shown number is the value itself, to the digits shown.
    digits = max(len(re.sub(r"[^0-9]", "", x).lstrip("0")) for x in (got, want))
    assert digits >= 2


def test_fmt_pair_shows_a_third_digit_where_two_read_as_rounding():
    """A student audit: the off-by-one cosine schedule was told "returned 0.005, expected
    0.0051", which reads as one number rounded (0.004970 and 0.005061)."""
    assert fmt_pair(0.004970, 0.005061) == ("0.00497", "0.00506")
    assert fmt_pair(0.5, 0.25) == ("0.5", "0.25")  # far apart: two digits are enough


@pytest.mark.parametrize(
    ("got", "want"),
    [(0.09101, 0.09104), (0.0911, 0.0911 * (1 + 1e-12)), (0.5, 0.25), (3e-5, 3.0001e-5)],
)
def test_fmt_pair_uses_just_enough_digits(got, want):
    shown, wanted = fmt_pair(got, want)
    assert shown != wanted
    # One digit fewer (but never below two) would not tell them apart.
    digits = max(len(re.sub(r"e.*", "", x).replace(".", "").lstrip("0")) for x in (shown, wanted))
    if digits > 2:
        assert f"{got:.{digits - 1}g}" == f"{want:.{digits - 1}g}"
    # The numbers shown are the numbers, rounded.
    assert float(shown) == pytest.approx(got, rel=10.0 ** (1 - digits))
    assert float(wanted) == pytest.approx(want, rel=10.0 ** (1 - digits))


def test_fmt_pair_of_equal_numbers_shows_them_in_full():
    assert fmt_pair(0.1, 0.1) == ("0.1", "0.1")


# -- check_schedule: the same Report and verdict as every other self-check -----------------
def _right(t, lr0, total):
    return lr0 * (1 + math.cos(math.pi * min(t, total) / total)) / 2


def _check(fn, **kwargs):
    out = io.StringIO()
    report = check_schedule(fn, "cosine", file=out, **kwargs)
    text = out.getvalue()
    assert "Traceback" not in text
    return report, text


def test_check_schedule_returns_a_report_printed_like_every_check():
    report, text = _check(_right)
    assert isinstance(report, Report)
    assert report
    assert report.passed == list(SCHEDULE_PROPERTIES)
    assert text == ("Checking _right against the reference cosine schedule:\n"
                    + report.text() + "\n")
    assert text.rstrip().endswith("All checks passed — well done!")


def test_check_schedule_uses_the_public_seeds():
    seen = set()

    def recording(t, lr0, total):
        seen.add(total)
        return _right(t, lr0, total)

    assert _check(recording)[0]
    expected = {schedule_case("cosine", prop, seed).args["total"]
                for prop in SCHEDULE_PROPERTIES for seed in PUBLIC_SEEDS}
    assert seen == expected
    # A function that is right only on the public cases passes the self-check, not the
    # hidden tests: the public seeds are what the notebooks print.
    public = {schedule_case("cosine", "values", seed).args["total"] for seed in PUBLIC_SEEDS}

    def memorised(t, lr0, total):
        return _right(t, lr0, total) if total in public else 0.0

    assert "values" in _check(memorised)[0].passed
    with pytest.raises(AssertionError):
        assert_schedule(memorised, "cosine", "values", seed=70101)


@pytest.mark.parametrize("exit_code", [0, 3])
def test_sys_exit_in_the_schedule_is_reported_not_raised(exit_code):
    def leaves(t, lr0, total):
        raise SystemExit(exit_code)

    report, text = _check(leaves)
    assert not report
    assert report.failed == list(SCHEDULE_PROPERTIES)
    assert "raised SystemExit" in text
    with pytest.raises(AssertionError, match="raised SystemExit"):
        assert_schedule(leaves, "cosine", "values", seed=3)


def test_a_hanging_schedule_is_not_waited_for_twice():
    def hangs(t, lr0, total):
        while True:
            pass

    report, _ = _check(hangs, time_limit=0.2)
    assert not report
    assert "did not finish within 0.2 s" in report.results[0].message
    assert report.results[1].message.startswith("not checked: your function did not finish")


def test_an_unknown_schedule_name_is_the_notebooks_mistake_and_raises():
    with pytest.raises(ValueError, match="unknown schedule 'cosin'"):
        check_schedule(_right, "cosin")


def cosine_no_clamp(t, lr0, total):
    """The usual slip: no min(t, total), so after total steps the rate climbs back up."""
    return lr0 * (1 + math.cos(math.pi * t / total)) / 2


def cosine_floor_division(t, lr0, total):
    """pi * t // total: the angle is rounded down to a whole number of radians."""
    return lr0 / 2 * (1 + math.cos(math.pi * min(t, total) // total))


@pytest.mark.parametrize(("fn", "prop"), [(cosine_no_clamp, "after"),
                                          (cosine_floor_division, "values")])
def test_the_step_shown_is_the_one_that_is_most_wrong(fn, prop):
    # The first wrong step can be off by 1e-6 of a rate that looks right ("returned 1.1e-06,
    # expected 0"), which reads as rounding; the worst one shows what the code does.
    seed = 70103
    case = schedule_case("cosine", prop, seed)
    errors = {t: abs(fn(t, *case.args.values()) - case.expected(t)) for t in case.steps}
    worst = max(errors, key=errors.get)
    assert errors[worst] > 0.05 * case.args["lr0"], "the case must show the slip clearly"
    with pytest.raises(AssertionError) as info:
        assert_schedule(fn, "cosine", prop, seed=seed)
    shown = int(re.search(r"\(t=(\d+),", str(info.value)).group(1))
    assert errors[shown] == errors[worst], str(info.value)


def test_a_schedule_returning_every_rate_so_far_is_named_in_a_short_line() -> None:
    # A student audit: the "after" message printed all 175 rates (4,274 characters) before
    # "a schedule returns one number"; reprlib cuts the list.
    def cosine_schedule(t, lr0, total):
        return [lr0 * (1 + math.cos(math.pi * min(s, total) / total)) / 2
                for s in range(t + 1)]

    with pytest.raises(AssertionError) as caught:
        assert_schedule(cosine_schedule, "cosine", "after", seed=0)
    message = str(caught.value)
    assert "a schedule returns one number" in message, message
    assert ", ...]" in message, message
    assert len(message) < 400, message


@pytest.mark.parametrize(("fn", "hint"), [
    (lambda t, lr0, total: lr0 * (1 + math.cos(math.pi * min(t, total) / total)),
     "halve it (it starts at lr0, not 2·lr0)"),
    (lambda t, lr0, total: lr0 * (1 - math.cos(math.pi * min(t, total) / total)) / 2,
     "with a plus: 1 − cos starts at 0 and climbs to lr0"),
    (lambda t, lr0, total: lr0 / 2 * 1 + math.cos(math.pi * min(t, total) / total),
     "adds the cosine to lr0 / 2"),
    (lambda t, lr0, total: lr0 * (1 + math.cos(math.pi * min(t, total) / (total + 1))) / 2,
     "divide by total, not total + 1"),
    (lambda t, lr0, total: lr0 * (1 + math.cos(math.pi * min(t, total) / (total - 1))) / 2,
     "divide by total, not total − 1"),
    (lambda t, lr0, total: lr0 * (1 + math.cos(math.pi * min(max(t - 1, 0), total) / total))
     / 2, "no t − 1 here"),
    (lambda t, lr0, total: (1 + math.cos(math.pi * min(t, total) / total)) / 2,
     "your rate does not depend on lr0: multiply by it"),
    (lambda t, lr0, total: lr0 * (1 + math.cos(math.pi * min(t, total - 1) / total)) / 2,
     "hold t at total, min(t, total), not at total − 1"),
    (lambda t, lr0, total: lr0 * (1 + math.cos(math.pi * (t % total) / total)) / 2,
     "your rate starts over (t % total)"),
    # The student walk: the sine for the cosine got numbers only.
    (lambda t, lr0, total: lr0 * (1 + math.sin(math.pi * min(t, total) / total)) / 2,
     "the cosine, not the sine"),
    (lambda t, lr0, total: lr0 * (1 + math.sin(math.pi * t / total)) / 2,
     "the cosine, not the sine"),  # and, after total steps, the angle not held at π
], ids=["no-half", "one-minus-cos", "brackets", "total-plus-one", "total-minus-one",
        "t-minus-one", "no-lr0",
        "held-at-total-minus-one", "modulo", "sine", "sine-unheld"])
def test_a_slip_of_the_formula_itself_gets_a_hint(fn, hint):
    """Student audits: these got numbers only ("returned 0.02, expected 0.01", "returned
    1.1e-06, expected 0")."""
    report, text = _check(fn)
    assert not report
    failed = [r.message for r in report.results if not r.passed]
    assert all(hint in message for message in failed), text


def cosine_in_float32(t, lr0, total):
    """Right, computed in float32 as lesson 07's network is (an honest-code audit: its
    point was lost on 0.00754268 for 0.00754269)."""
    import numpy as np

    f = np.float32
    return f(lr0) * (f(1) + np.cos(f(np.pi) * f(min(t, total)) / f(total))) / f(2)


@pytest.mark.parametrize("prop", SCHEDULE_PROPERTIES)
def test_a_schedule_computed_in_float32_passes_on_every_seed(prop):
    for seed in (*PUBLIC_SEEDS, *range(70100, 70140)):
        assert_schedule(cosine_in_float32, "cosine", prop, seed=seed)


@pytest.mark.parametrize("rate", [0.0, "lr0", "tiny"])
def test_a_rate_that_never_changes_keeps_no_point(rate: object) -> None:
    """A red-team round: `return 0.0` kept the after-the-end point (0 is the cosine's rate
    there); a constant lr0 is no schedule either, nor 1e-300 until the end and 0 after."""
    def cosine_schedule(t, lr0, total):
        if rate == "tiny":
            return 0.0 if t >= total else 1e-300
        return lr0 if rate == "lr0" else rate

    for prop in SCHEDULE_PROPERTIES:
        with pytest.raises(AssertionError) as caught:
            assert_schedule(cosine_schedule, "cosine", prop, seed=0)
    assert "a rate that does not change is no schedule" in str(caught.value), caught.value


def test_a_rate_that_changes_at_all_is_judged_on_its_values_only() -> None:
    """A student audit: the honest floor-division slip ``(1 + cos) // 2`` (lr0 at step 0,
    then 0, the right rate after the end) and a cosine of 2πt/T (the same rate at the start
    and at the end) lost the after-the-end point as "no schedule". Red-team round 16's
    ``lr0 if t == 0 else 0.0`` computes the slip's very rates: it keeps that point too."""
    def floored(t, lr0, total):
        return lr0 * ((1 + math.cos(math.pi * min(t, total) / total)) // 2)

    def full_period(t, lr0, total):
        return 0.0 if t > total else lr0 * (1 + math.cos(2 * math.pi * t / total)) / 2

    def first_step_only(t, lr0, total):
        return lr0 if t == 0 else 0.0

    for seed in (*PUBLIC_SEEDS, 0, 70101):
        for schedule in (floored, full_period, first_step_only):
            with pytest.raises(AssertionError) as caught:
                assert_schedule(schedule, "cosine", "values", seed=seed)
            assert "no schedule" not in str(caught.value), caught.value
            assert_schedule(schedule, "cosine", "after", seed=seed)


def cosine_whole_periods(t, lr0, total):
    """An honest slip: t // total, lr0 until the end of the span, then 0 (the right rate
    after it)."""
    return lr0 / 2 * (1 + math.cos(math.pi * (min(t, total) // total)))


def test_integer_division_keeps_the_after_the_end_point() -> None:
    for seed in (*PUBLIC_SEEDS, 0, 70101):
        with pytest.raises(AssertionError):
            assert_schedule(cosine_whole_periods, "cosine", "values", seed=seed)
        assert_schedule(cosine_whole_periods, "cosine", "after", seed=seed)


def test_a_hint_must_explain_every_step() -> None:
    """A student audit: a cosine of 2πt/total meets the ``1 − cos`` slip's rates after the
    end, and at one step of the span, and its student, who wrote a plus, was told "with a
    plus". It has a hint of its own."""
    def full_period(t, lr0, total):
        return lr0 * (1 + math.cos(2 * math.pi * min(t, total) / total)) / 2

    for seed in (*PUBLIC_SEEDS, 0, 70101):
        for prop in SCHEDULE_PROPERTIES:
            with pytest.raises(AssertionError) as caught:
                assert_schedule(full_period, "cosine", prop, seed=seed)
            assert "with a plus" not in str(caught.value), caught.value
            assert "not 2π·t / total" in str(caught.value), caught.value


@pytest.mark.parametrize(("fn", "hints"), [
    # π forgotten, and the angle not held at total.
    (lambda t, lr0, total: lr0 * (1 + math.cos(t / total)) / 2,
     ("climbs back up along the cosine", "did you forget π?")),
    # t + 1, and 1 − cos.
    (lambda t, lr0, total: lr0 * (1 - math.cos(math.pi * min(t + 1, total) / total)) / 2,
     ("no t + 1 here", "with a plus")),
    # lr0 left out, and the angle divided by total + 1.
    (lambda t, lr0, total: (1 + math.cos(math.pi * min(t, total) / (total + 1))) / 2,
     ("divide by total, not total + 1", "does not depend on lr0")),
], ids=["no-pi-unclamped", "t-plus-one-minus", "no-lr0-total-plus-one"])
def test_two_slips_at_once_get_both_hints(fn, hints):
    """A student audit's cosine with two slips got numbers only."""
    report, text = _check(fn)
    assert not report
    failed = [r.message for r in report.results if not r.passed]
    # Each property's hint explains its own steps: within the span, where the angle is held
    # or not alike, the one slip that shows there.
    assert any("two slips at once" in m and all(h in m for h in hints) for m in failed), text
    assert all(" Hint: " in m for m in failed), text
