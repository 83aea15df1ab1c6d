"""``time_limit``: interrupts a hang, restores what it replaced, does nothing where it cannot."""

from __future__ import annotations

import contextlib
import signal
import threading
import time

import pytest

from descentlab._timebox import TimeLimitExceeded, can_time_limit, time_limit


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_hang_is_interrupted_near_the_limit():
    start = time.monotonic()
    with pytest.raises(TimeLimitExceeded), time_limit(0.05):
        _spin(5.0)
    assert time.monotonic() - start < 1.0, "the block ran far past its limit"


def test_a_swallowed_interruption_fires_again():
    """Code that swallows the first interruption and hangs again is stopped again."""

    def stubborn() -> None:
        with contextlib.suppress(BaseException):
            _spin(5.0)
        _spin(5.0)

    start = time.monotonic()
    with pytest.raises(TimeLimitExceeded), time_limit(0.05):
        stubborn()
    assert time.monotonic() - start < 1.0


def test_timeout_is_not_an_exception_subclass():
    assert not issubclass(TimeLimitExceeded, Exception)


def test_fast_code_is_untouched_and_handler_and_timer_are_restored():
    def outer(signum, frame):
        raise AssertionError("the outer alarm fired during the test")

    previous = signal.signal(signal.SIGALRM, outer)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        with time_limit(1.0):
            value = sum(range(100))
        assert value == 4950
        assert signal.getsignal(signal.SIGALRM) is outer
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 28.0 < remaining <= 30.0, f"outer timer not restored (remaining {remaining})"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)


def test_no_timer_is_left_running():
    with time_limit(0.5):
        pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.parametrize("seconds", [None, 0.0, -1.0, float("inf")])
def test_no_limit_values_do_nothing(seconds):
    with time_limit(seconds):
        _spin(0.02)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_off_the_main_thread_it_is_a_no_op():
    outcome: dict[str, object] = {}

    def work() -> None:
        outcome["can"] = can_time_limit()
        with time_limit(0.01):
            _spin(0.05)
        outcome["finished"] = True

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(5.0)
    assert outcome == {"can": False, "finished": True}
