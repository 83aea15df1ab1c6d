"""Time and memory of one optimizer step, next to one streaming pass over the same memory.

Run ``python benchmarks/optimizer_step.py``. For every reference optimizer it
times ``update`` on a 4,000,000-element float32 parameter (median of several
repeats, after a warm-up that creates the state) and compares it with the time
of ``np.multiply(a, 1.0, out=a)`` on the same array, measured in the same run:
the cost of reading and writing the parameter once, the floor for any step.
It also records, with ``tracemalloc`` (NumPy reports its buffers to it), the
peak memory one step allocates beyond the arrays that already exist.

Targets (printed with the figures, not asserted: timings depend on the machine):

* no step allocates more than 2 temporaries of the parameter's size;
* Adam takes at most 8 streaming passes.

The memory target is asserted deterministically by
``source_pkg/tests/test_optimizers_semantics.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from descentlab.optimizers import Optimizer, available, get_optimizer

SIZE = 4_000_000
REPEATS = 11
MAX_TEMPORARIES = 2.0
ADAM_MAX_RATIO = 8.0
MB = 1024 * 1024


@dataclass(frozen=True)
class StepResult:
    """Cost of one ``update`` of one optimizer.

    Attributes
    ----------
    name : str
        Registry name of the optimizer.
    seconds : float
        Median wall time of one step.
    ratio : float
        ``seconds`` divided by the time of one streaming pass.
    peak_bytes : int
        Peak memory traced during one step (temporaries only: the state exists).
    param_bytes : int
        Size of the parameter, the unit of ``peak_bytes`` in the table.
    """

    name: str
    seconds: float
    ratio: float
    peak_bytes: int
    param_bytes: int

    @property
    def temporaries(self) -> float:
        """Peak step memory in units of the parameter's size."""
        return self.peak_bytes / self.param_bytes


def _seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def interleaved_medians(
    first: Callable[[], object], second: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Median times of ``first()`` and ``second()``, timed alternately.

    Alternating makes both medians see the same machine load, so their ratio is
    steadier than that of two separate series on a shared machine.
    """
    a, b = [], []
    for _ in range(repeats):
        a.append(_seconds(first))
        b.append(_seconds(second))
    return statistics.median(a), statistics.median(b)


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
    param = theta0.copy()

    streaming_pass(param)  # warm-up: pages touched, caches in their steady state
    stream_medians: list[float] = []
    results: list[StepResult] = []
    for name in names if names is not None else available():
        param[...] = theta0
        params, grads = {"w": param}, {"w": grad}
        opt = get_optimizer(name)
        opt.update(params, grads)  # warm-up: creates the state arrays
        opt.update(params, grads)
        stream, seconds = interleaved_medians(
            lambda: streaming_pass(param),
            lambda opt=opt, params=params, grads=grads: opt.update(params, grads),
            repeats,
        )
        stream_medians.append(stream)
        peak = step_peak_bytes(opt, params, grads)
        results.append(StepResult(name, seconds, seconds / stream, peak, param.nbytes))
        del opt  # free the state before the next optimizer allocates its own
    return statistics.median(stream_medians), results


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
        "",
        f"{'optimizer':<10} {'ms/step':>8} {'x stream':>9} {'peak MB':>8} {'x param':>8}",
    ]
    for r in results:
        lines.append(
            f"{r.name:<10} {r.seconds * 1e3:>8.2f} {r.ratio:>9.2f} "
            f"{r.peak_bytes / MB:>8.2f} {r.temporaries:>8.3f}"
        )
    worst = max(results, key=lambda r: r.temporaries)
    memory_ok = worst.temporaries <= MAX_TEMPORARIES
    lines += [
        "",
        "targets:",
        f"  no step allocates more than {MAX_TEMPORARIES:g} temporaries of the parameter's "
        f"size: worst {worst.name} {worst.temporaries:.3f}x -> "
        f"{'met' if memory_ok else 'NOT MET'}",
    ]
    adam = [r for r in results if r.name == "adam"]
    if adam:
        ok = adam[0].ratio <= ADAM_MAX_RATIO
        lines.append(
            f"  Adam within {ADAM_MAX_RATIO:g}x one streaming pass: {adam[0].ratio:.2f}x -> "
            f"{'met' if ok else 'NOT MET'}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table; optional arguments name optimizers."""
    names = list(argv if argv is not None else sys.argv[1:]) or None
    stream, results = measure(names)
    print(format_report(stream, results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
