"""What ``paths.trace`` costs next to a plain NumPy loop doing the same steps.

Run ``python benchmarks/trace_overhead.py``. On the bowl f(x, y) = x²/20 + y²
from the default start (-7, 2) it times, alternately in the same run:

* ``trace(SGD(lr=0.95), "bowl", steps=n)`` and ``trace(Adam(lr=0.3), "bowl",
  steps=n)`` (the book's learning rates for this surface; a fresh optimizer
  each time), with their safety nets on (time limit, divergence checks);
* the plain loop a student would write for the same steps: the gradient
  ``np.array([x / 10, 2 y])``, the textbook update on a 2-vector, every
  position stored, and the losses computed at the end.

It checks that both give the same path, then prints the medians and their
ratio. "before" is the code before issue 10, timed alternately with the
reference and the plain loop: the same ``trace`` calls with the fused,
cache-blocked classes of ``blocked_optimizers.py`` in the registry and
``paths._steps_reference`` replaced by its copy below, which steps them through
their ``_kernel`` directly (after issue 10 ``trace`` calls a reference class'
``update`` without its input checks instead). A student-style class (no
base class, updates ``params[key]`` in place, as in the lessons) is timed too,
for information: the notebooks' widgets trace the students' own classes.

Target (printed, not asserted: timings depend on the machine): at 1,000 steps
``trace`` costs at most 3x the plain loop, for SGD and for Adam. Options:
``--steps N`` (default 1000), ``--repeats N`` (default 21), ``--cpu`` (time CPU
time instead of wall time: on a busy machine the wall time mostly measures the
wait for a core).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from blocked_optimizers import BLOCKED, registered  # the fast variant (same folder)
from optimizer_step import interleaved  # the same alternate timing (same folder)

from descentlab import paths
from descentlab.optimizers import SGD, Adam
from descentlab.paths import trace

START = (-7.0, 2.0)
SGD_LR = 0.95
ADAM_LR = 0.3
TARGET_RATIO = 3.0


def _bowl_loss(xy: np.ndarray) -> np.ndarray:
    return xy[:, 0] ** 2 / 20.0 + xy[:, 1] ** 2


def plain_sgd(steps: int, lr: float = SGD_LR) -> tuple[np.ndarray, np.ndarray]:
    """SGD on the bowl, written the plain way: positions and losses."""
    p = np.array(START)
    xy = np.empty((steps + 1, 2))
    xy[0] = p
    for k in range(1, steps + 1):
        g = np.array([p[0] / 10.0, 2.0 * p[1]])
        p = p - lr * g
        xy[k] = p
    return xy, _bowl_loss(xy)


def plain_adam(
    steps: int, lr: float = ADAM_LR, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
) -> tuple[np.ndarray, np.ndarray]:
    """Adam on the bowl, written the plain way (Kingma & Ba's formulas)."""
    p = np.array(START)
    m, v = np.zeros(2), np.zeros(2)
    xy = np.empty((steps + 1, 2))
    xy[0] = p
    for t in range(1, steps + 1):
        g = np.array([p[0] / 10.0, 2.0 * p[1]])
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        m_hat = m / (1.0 - beta1**t)
        v_hat = v / (1.0 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        xy[t] = p
    return xy, _bowl_loss(xy)


class StudentSGD:
    """SGD as the lessons' students write it: no base class, in-place updates."""

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """``params[key] -= lr * grads[key]`` for every key."""
        for key in params:
            params[key] -= self.lr * grads[key]


def _steps_reference_before(opt, state, xy, grad_fn, deadline):  # type: ignore[no-untyped-def]
    """``paths._steps_reference`` before issue 10 (a copy): the class' kernel, directly."""
    p = xy[0].copy()
    g = np.empty_like(p)
    tmp = np.empty_like(p)
    kernel, begin = opt._kernel, opt._begin_step
    clock, isfinite, limit = time.monotonic, math.isfinite, paths.DIVERGENCE_LIMIT
    for step in range(1, len(xy)):
        if deadline is not None and not step % paths._CLOCK_EVERY and clock() >= deadline:
            raise paths.TimeLimitExceeded
        try:
            g[:] = grad_fn(p)
        except (TypeError, ValueError):
            return "odd gradient"
        for v in g.tolist():
            if not isfinite(v):
                return "gradient"
        opt.t += 1
        begin()
        kernel(p, g, state, tmp)
        row = p.tolist()
        for v in row:
            if not abs(v) <= limit:  # NaN fails this too
                return paths._why_stopped(row)
        xy[step] = p
    return ""


@contextlib.contextmanager
def _before(name: str) -> Iterator[None]:
    """The code before issue 10: the blocked class registered, traced through its kernel."""
    current = paths._steps_reference
    with registered([name]):
        paths._steps_reference = _steps_reference_before
        try:
            yield
        finally:
            paths._steps_reference = current


def cases(steps: int) -> dict[str, tuple[Callable[[], object], ...]]:
    """For each case: (the traced run, the plain loop[, the traced run before issue 10])."""

    def before(name: str, lr: float) -> Callable[[], object]:
        def run() -> object:
            with _before(name):
                return trace(BLOCKED[name](lr=lr), "bowl", START, steps)
        return run

    return {
        "SGD": (lambda: trace(SGD(lr=SGD_LR), "bowl", START, steps),
                lambda: plain_sgd(steps), before("sgd", SGD_LR)),
        "Adam": (lambda: trace(Adam(lr=ADAM_LR), "bowl", START, steps),
                 lambda: plain_adam(steps), before("adam", ADAM_LR)),
        "student SGD": (lambda: trace(StudentSGD(lr=SGD_LR), "bowl", START, steps),
                        lambda: plain_sgd(steps)),
    }


def check_same_paths(steps: int) -> None:
    """Raise if a traced path and its plain loop disagree: the timings compare like with like."""
    for name, (traced, plain, *earlier) in cases(steps).items():
        xy, loss = plain()
        for run in (traced, *earlier):
            path = run()
            if not path.ok:
                raise RuntimeError(f"{name}: trace stopped early: {path.message}")
            # The blocked Adam folds the bias corrections into two scalars: the same
            # update up to rounding, which a long run amplifies a little.
            np.testing.assert_allclose(path.xy, xy, rtol=1e-9, atol=1e-12, err_msg=name)
            np.testing.assert_allclose(path.loss, loss, rtol=1e-9, atol=1e-12, err_msg=name)


def main(argv: Sequence[str] | None = None) -> int:
    """Time every case and print the table and the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--cpu", action="store_true", help="time CPU time, not wall time")
    args = parser.parse_args(argv)
    clock = time.process_time if args.cpu else time.perf_counter
    check_same_paths(args.steps)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average before the run: {load:.2f} on {os.cpu_count()} cores")
    print(f"{args.steps} steps on the bowl from {START}, median of {args.repeats} "
          f"alternating repeats, {'CPU' if args.cpu else 'wall'} time")
    print(f"{'case':<12} {'trace ms':>9} {'plain ms':>9} {'ratio':>6} "
          f"{'before ms':>10} {'ratio':>6}")
    ratios, before_ratios = {}, {}
    for name, actions in cases(args.steps).items():
        for action in actions:
            action()  # warm-up
        medians = interleaved(*actions, repeats=args.repeats, clock=clock)
        t_trace, t_plain = medians[:2]
        ratios[name] = t_trace / t_plain
        line = f"{name:<12} {t_trace * 1e3:9.2f} {t_plain * 1e3:9.2f} {ratios[name]:6.2f}"
        if len(medians) > 2:
            before_ratios[name] = medians[2] / t_plain
            line += f" {medians[2] * 1e3:10.2f} {before_ratios[name]:6.2f}"
        print(line)
    print()
    for name in ("SGD", "Adam"):
        ok = ratios[name] <= TARGET_RATIO
        print(f"[{name}] trace / plain loop at {args.steps} steps: {ratios[name]:.2f}x "
              f"(target <= {TARGET_RATIO:g}x): {'met' if ok else 'NOT met'}; "
              f"before issue 10: {before_ratios[name]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
