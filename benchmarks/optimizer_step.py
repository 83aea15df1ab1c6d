"""Time and memory of one optimizer step, next to one streaming pass over the same memory.

Run ``python benchmarks/optimizer_step.py``. For every reference optimizer it
times ``update`` on a 4,000,000-element float32 parameter (median of several
repeats, after a warm-up that creates the state), alternately with

* the same step of the fused, cache-blocked variant of
  ``blocked_optimizers.py`` (the package's implementation before issue 10: the
  "before" column);
* ``np.multiply(a, 1.0, out=a)`` on the same array: the cost of reading and
  writing the parameter once, the floor for any step;
* for Adam, ``torch.optim.Adam`` on the same numbers as a float32 tensor (one
  thread, like NumPy; ``foreach`` left at its default), when torch is installed.

It also records, with ``tracemalloc`` (NumPy reports its buffers to it), the
peak memory one step allocates beyond the arrays that already exist.

Targets (printed with the figures, not asserted: timings depend on the machine):

* no reference step allocates more than 3 temporaries of the parameter's size
  (the price of writing the formulas as they read; also asserted, in float64,
  by ``source_pkg/tests/test_optimizers_semantics.py``), no blocked one more
  than 2;
* for the record, not a target: Adam against the blocked Adam and torch.optim.Adam.
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from blocked_optimizers import BLOCKED  # the fast variant (same folder)

from descentlab.optimizers import Optimizer, available, get_optimizer

SIZE = 4_000_000
REPEATS = 11
MAX_TEMPORARIES = 3.0
MAX_TEMPORARIES_BLOCKED = 2.0
MB = 1024 * 1024
#: Python objects (views, dicts) a step allocates besides array data, as in the memory test.
BOOKKEEPING = 64 * 1024


@dataclass(frozen=True)
class StepResult:
    """Cost of one ``update`` of one optimizer, reference and blocked.

    Attributes
    ----------
    name : str
        Registry name of the optimizer.
    seconds : float
        Median wall time of one reference step.
    ratio : float
        ``seconds`` divided by the time of one streaming pass.
    peak_bytes : int
        Peak memory traced during one reference step (temporaries only: the state exists).
    param_bytes : int
        Size of the parameter, the unit of ``peak_bytes`` in the table.
    blocked_seconds, blocked_ratio, blocked_peak_bytes : float, float, int
        The same for the blocked variant (the implementation before issue 10).
    torch_seconds : float or None
        Median time of ``torch.optim``'s step on the same tensor (Adam only, if installed).
    """

    name: str
    seconds: float
    ratio: float
    peak_bytes: int
    param_bytes: int
    blocked_seconds: float
    blocked_ratio: float
    blocked_peak_bytes: int
    torch_seconds: float | None = None

    @property
    def temporaries(self) -> float:
        """Peak step memory in units of the parameter's size."""
        return self.peak_bytes / self.param_bytes

    @property
    def blocked_temporaries(self) -> float:
        """Peak blocked step memory in units of the parameter's size."""
        return self.blocked_peak_bytes / self.param_bytes


def _seconds(action: Callable[[], object],
             clock: Callable[[], float] = time.perf_counter) -> float:
    start = clock()
    action()
    return clock() - start


def interleaved(*actions: Callable[[], object], repeats: int,
                clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """Median times of each of ``actions``, timed in turn, ``repeats`` rounds.

    Alternating makes all medians see the same machine load, so their ratios are
    steadier than those of separate series on a shared machine. ``clock`` is wall
    time by default; ``time.process_time`` (CPU time) leaves out the time spent
    waiting for a core, which dominates on a busy machine.
    """
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(repeats):
        for action, series in zip(actions, times, strict=True):
            series.append(_seconds(action, clock))
    return [statistics.median(series) for series in times]


def _torch_adam_step(theta: np.ndarray, grad: np.ndarray) -> Callable[[], object] | None:
    """A ``torch.optim.Adam`` step on a float32 copy of ``theta``, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)  # NumPy's element-wise ufuncs use one thread
    tensor = torch.tensor(theta.copy(), requires_grad=True)
    tensor.grad = torch.tensor(grad)
    opt = torch.optim.Adam([tensor])
    opt.step()  # warm-up: creates the state
    return opt.step


def streaming_pass(a: np.ndarray) -> None:
    """Read and write ``a`` once, in place: the floor of any optimizer step."""
    np.multiply(a, 1.0, out=a)


def step_peak_bytes(
    opt: Optimizer, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]
) -> int:
    """Peak memory allocated during one ``opt.update(params, grads)``."""
    tracemalloc.start()
    try:
        opt.update(params, grads)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(
    names: Sequence[str] | None = None, size: int = SIZE, repeats: int = REPEATS, seed: int = 0
) -> tuple[float, list[StepResult]]:
    """Measure every optimizer in ``names`` (default: all) on a float32 parameter.

    Parameters
    ----------
    names : sequence of str, optional
        Registry names; all reference optimizers by default.
    size : int
        Number of parameter elements.
    repeats : int
        Timed repetitions per measurement (the median is kept).
    seed : int
        Seed of the random parameter and gradient.

    Returns
    -------
    stream_seconds : float
        Median time of one streaming pass over the parameter (median over the
        optimizers of the medians timed alongside each of them).
    results : list of StepResult
        One entry per optimizer, in the order of ``names``; each ``ratio`` uses
        the streaming passes timed alternately with that optimizer's steps.
    """
    rng = np.random.default_rng(seed)
    theta0 = rng.standard_normal(size, dtype=np.float32)
    # Small gradients keep the parameters finite over all repeats of every optimizer.
    grad = 1e-3 * rng.standard_normal(size, dtype=np.float32)
    param, blocked_param = theta0.copy(), theta0.copy()

    streaming_pass(param)  # warm-up: pages touched, caches in their steady state
    stream_medians: list[float] = []
    results: list[StepResult] = []
    for name in names if names is not None else available():
        param[...] = theta0
        blocked_param[...] = theta0
        params, grads = {"w": param}, {"w": grad}
        blocked_params = {"w": blocked_param}
        opt, blocked = get_optimizer(name), BLOCKED[name]()
        for _ in range(2):  # warm-up: creates the state arrays
            opt.update(params, grads)
            blocked.update(blocked_params, grads)
        actions = [
            lambda: streaming_pass(param),
            lambda opt=opt, params=params, grads=grads: opt.update(params, grads),
            lambda blocked=blocked, params=blocked_params, grads=grads: blocked.update(
                params, grads),
        ]
        torch_step = _torch_adam_step(theta0, grad) if name == "adam" else None
        if torch_step is not None:
            actions.append(torch_step)
        medians = interleaved(*actions, repeats=repeats)
        stream, seconds, blocked_seconds = medians[:3]
        stream_medians.append(stream)
        peak = step_peak_bytes(opt, params, grads)
        blocked_peak = step_peak_bytes(blocked, blocked_params, grads)
        results.append(StepResult(
            name, seconds, seconds / stream, peak, param.nbytes,
            blocked_seconds, blocked_seconds / stream, blocked_peak,
            medians[3] if torch_step is not None else None,
        ))
        del opt, blocked, torch_step  # free the state before the next optimizer's
    return statistics.median(stream_medians), results


def _within(peak_bytes: int, temporaries: float, param_bytes: int) -> bool:
    """Whether a peak stays within ``temporaries`` parameter sizes (plus bookkeeping)."""
    return peak_bytes <= temporaries * param_bytes + BOOKKEEPING


def format_report(
    stream_seconds: float, results: Sequence[StepResult], repeats: int = REPEATS
) -> str:
    """The table and the targets, with whether each is met."""
    nbytes = results[0].param_bytes
    lines = [
        f"One step on a {nbytes // 4:,}-element float32 parameter ({nbytes / MB:.1f} MB), "
        f"median of {repeats} repeats",
        f"streaming pass np.multiply(a, 1.0, out=a): {stream_seconds * 1e3:.2f} ms "
        "(timed alternately with each optimizer's steps)",
        "reference = descentlab.optimizers (the formulas); blocked = blocked_optimizers.py "
        "(before issue 10)",
        "",
        f"{'optimizer':<10} {'ms/step':>8} {'x stream':>9} {'x param':>8} "
        f"{'blocked ms':>11} {'x stream':>9} {'x param':>8} {'ref/blocked':>12}",
    ]
    for r in results:
        lines.append(
            f"{r.name:<10} {r.seconds * 1e3:>8.2f} {r.ratio:>9.2f} {r.temporaries:>8.3f} "
            f"{r.blocked_seconds * 1e3:>11.2f} {r.blocked_ratio:>9.2f} "
            f"{r.blocked_temporaries:>8.3f} {r.seconds / r.blocked_seconds:>12.2f}"
        )
    for r in results:
        if r.torch_seconds is not None:
            lines += ["", "torch.optim.Adam, same float32 tensor, 1 thread: "
                          f"{r.torch_seconds * 1e3:.2f} ms "
                          f"({r.torch_seconds / stream_seconds:.2f}x stream); "
                          f"reference Adam / torch: {r.seconds / r.torch_seconds:.2f}"]
    worst = max(results, key=lambda r: r.temporaries)
    worst_blocked = max(results, key=lambda r: r.blocked_temporaries)
    ok = _within(worst.peak_bytes, MAX_TEMPORARIES, nbytes)
    ok_blocked = _within(worst_blocked.blocked_peak_bytes, MAX_TEMPORARIES_BLOCKED, nbytes)
    lines += [
        "",
        "targets:",
        f"  no reference step allocates more than {MAX_TEMPORARIES:g} temporaries of the "
        f"parameter's size: worst {worst.name} {worst.temporaries:.3f}x -> "
        f"{'met' if ok else 'NOT MET'}",
        f"  no blocked step more than {MAX_TEMPORARIES_BLOCKED:g}: worst {worst_blocked.name} "
        f"{worst_blocked.blocked_temporaries:.3f}x -> {'met' if ok_blocked else 'NOT MET'}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table; optional arguments name optimizers."""
    names = list(argv if argv is not None else sys.argv[1:]) or None
    stream, results = measure(names)
    print(format_report(stream, results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
