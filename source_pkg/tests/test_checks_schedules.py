"""The schedule check's message shows enough digits to see the difference (issue 13)."""

from __future__ import annotations

import math
import re

import pytest

from descentlab.checks.messages import fmt_pair
from descentlab.checks.schedules import assert_schedule


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
