"""Stop a piece of (student) code that runs too long.

``with time_limit(2.0): opt.update(params, grads)`` raises
:class:`TimeLimitExceeded` inside the block once 2 s have passed. It uses
``SIGALRM`` (``signal.setitimer``), so it only works in the main thread of a
POSIX process; elsewhere (another thread, Windows) it silently does nothing and
the caller relies on an outer guard such as nbgrader's cell timeout.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["TimeLimitExceeded", "can_time_limit", "time_limit"]

# After the first alarm, keep firing at this interval until the block exits:
# student code that swallows the first interruption (``except: pass`` inside a
# loop) is interrupted again instead of hanging for good.
_REPEAT = 0.1


class TimeLimitExceeded(BaseException):
    """The block ran longer than its time limit.

    A ``BaseException`` (like ``KeyboardInterrupt``) rather than an
    ``Exception``, so that student code catching ``Exception`` does not swallow it.
    """


def can_time_limit() -> bool:
    """Return whether :func:`time_limit` can interrupt code here (main thread, POSIX)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` in the block once ``seconds`` have passed.

    Parameters
    ----------
    seconds : float or None
        The limit. ``None``, ``inf`` or a value ``<= 0`` means no limit.

    Notes
    -----
    The previous ``SIGALRM`` handler and any running ``ITIMER_REAL`` timer are
    restored on exit; the outer timer resumes with the time it had left (it
    fires at once if that time ran out while the block was running).
    Off the main thread or without ``signal.setitimer`` this is a no-op.
    """
    if seconds is None or not math.isfinite(seconds) or seconds <= 0 or not can_time_limit():
        yield
        return

    def _alarm(signum: int, frame: object) -> None:
        raise TimeLimitExceeded(f"did not finish within {seconds:g} s")

    previous_handler = signal.signal(signal.SIGALRM, _alarm)
    started = time.monotonic()
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay > 0.0:
            left = previous_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), previous_interval)
