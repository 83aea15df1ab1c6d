"""The book's optimizer comparison (fig. 6-9) on the 8x8 digits, timed.

Run ``python benchmarks/digits_compare.py``. It trains four identically
initialised 64-100-100-100-100-10 ReLU networks (He initialisation) with SGD,
Momentum, AdaGrad and Adam at their default hyperparameters, 2,000 iterations
of 128 samples drawn with replacement, through
:func:`descentlab.nets.compare_optimizers`, and prints per optimizer: seconds,
the smoothed training loss at the end, the first iteration at which the
smoothed loss falls below 0.5, and the test accuracy.

Targets (printed with the figures, not asserted: timings depend on the machine):

* all four runs together in under 8 s (issue 12; it was 30 s before);
* the book's qualitative result: SGD is the slowest to reduce the loss (it
  reaches the loss threshold last and ends with the highest smoothed loss).

Options: ``--dtype float32``, ``--iters N``, ``--threads N`` (BLAS threads while
training; 0 keeps the library's default), ``--progress`` (show progress bars),
``--before`` (also train with the fused, cache-blocked classes of
``blocked_optimizers.py``, the implementation before issue 10, alternately with
the references, ``--rounds`` times each, and print both versions' times).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Mapping, Sequence

import numpy as np
from blocked_optimizers import BLOCKED  # the fast variant (same folder)

from descentlab.data import load_digits
from descentlab.nets import TrainingHistory, compare_optimizers, smooth_curve
from descentlab.optimizers import SGD, AdaGrad, Adam, Momentum

TARGET_SECONDS = 8.0
LOSS_THRESHOLD = 0.5
HIDDEN = (100, 100, 100, 100)


def iterations_to(losses: np.ndarray, threshold: float) -> int | None:
    """First iteration (1-based) at which the smoothed loss is below ``threshold``."""
    below = np.flatnonzero(smooth_curve(losses) < threshold)
    return int(below[0]) + 1 if below.size else None


def run(
    iters: int = 2000, dtype: str = "float64", threads: int | None = 1, progress: bool = False,
    before: bool = False,
) -> tuple[float, dict[str, TrainingHistory], float]:
    """Train the four networks; return the total wall time, the histories and the CPU time.

    With one BLAS thread the CPU time is the wall time to expect on an idle
    machine; on a shared one the wall time also counts waiting for a core.
    ``before``: train with the blocked classes (the implementation before issue 10).
    """
    data = load_digits(dtype=dtype)  # outside the timing: loading is not training
    classes = [SGD, Momentum, AdaGrad, Adam]
    if before:
        classes = [BLOCKED[cls.name] for cls in classes]
    optimizers = {name: cls() for name, cls in zip(("SGD", "Momentum", "AdaGrad", "Adam"),
                                                     classes, strict=True)}
    start, cpu = time.perf_counter(), time.process_time()
    histories = compare_optimizers(
        optimizers, data, iters=iters, batch_size=128, hidden=HIDDEN, seed=0,
        progress=progress, dtype=dtype, threads=threads,
    )
    return time.perf_counter() - start, histories, time.process_time() - cpu


def format_report(
    total: float, histories: Mapping[str, TrainingHistory], dtype: str, cpu: float | None = None
) -> str:
    """The table and the targets, with whether each is met."""
    iters = max(h.iterations for h in histories.values())
    lines = [
        f"64-{'-'.join(map(str, HIDDEN))}-10 ReLU network, He init, {dtype}, "
        f"{iters} iterations of batch 128 (with replacement), default hyperparameters",
        "",
        f"{'optimizer':<10} {'seconds':>8} {'smoothed loss':>14} "
        f"{f'iters to <{LOSS_THRESHOLD:g}':>13} {'test acc':>9}",
    ]
    reach: dict[str, float] = {}
    final: dict[str, float] = {}
    for name, h in histories.items():
        final[name] = float(smooth_curve(h.losses)[-1]) if h.iterations else float("nan")
        hit = iterations_to(h.losses, LOSS_THRESHOLD) if h.iterations else None
        reach[name] = float("inf") if hit is None else hit
        lines.append(
            f"{name:<10} {h.seconds:>8.2f} {final[name]:>14.5f} "
            f"{hit if hit is not None else 'never':>13} {h.final_test_accuracy:>9.3f}"
            + (f"  ({h.stopped_early})" if h.stopped_early else "")
        )
    time_ok = total < TARGET_SECONDS
    lines += [
        f"{'total':<10} {total:>8.2f}" + (f"  (CPU time {cpu:.2f} s)" if cpu is not None else ""),
        "",
        "targets:",
        f"  all four runs in under {TARGET_SECONDS:g} s: {total:.2f} s -> "
        f"{'met' if time_ok else 'NOT MET'}"
        + (f" (CPU time {cpu:.2f} s -> {'met' if cpu < TARGET_SECONDS else 'NOT MET'}"
           " without competing load)" if cpu is not None else ""),
    ]
    if "SGD" in histories and len(histories) > 1:
        others = [n for n in histories if n != "SGD"]
        slowest = all(reach["SGD"] > reach[n] for n in others) and all(
            final["SGD"] > final[n] for n in others
        )
        lines.append(
            "  book's result, SGD slowest to reduce the loss (last below "
            f"{LOSS_THRESHOLD:g}, highest final loss): {'met' if slowest else 'NOT MET'}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, run the comparison and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=2000)
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads; 0 = default")
    parser.add_argument("--progress", action="store_true", help="show progress bars")
    parser.add_argument("--before", action="store_true",
                        help="also time the implementation before issue 10 (blocked classes)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of --before")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average before the run: {load:.2f} on {os.cpu_count()} cores")
    if args.before:
        print(compare_before_after(args.iters, args.dtype, args.threads or None, args.rounds))
        print()
    total, histories, cpu = run(args.iters, args.dtype, args.threads or None, args.progress)
    print(format_report(total, histories, args.dtype, cpu))
    return 0


def compare_before_after(iters: int, dtype: str, threads: int | None, rounds: int) -> str:
    """Train with the blocked classes and the references alternately; the medians of both.

    The order alternates too (before/after, then after/before, ...), so that both
    versions see the same share of the machine's load.
    """
    runs: dict[bool, list[tuple[float, dict[str, TrainingHistory], float]]] = {
        True: [], False: []}
    for r in range(rounds):
        for before in (True, False) if r % 2 == 0 else (False, True):
            runs[before].append(run(iters, dtype, threads, before=before))
    lines = [f"before (blocked classes) and after (references), {rounds} alternating rounds, "
             f"{dtype}, {iters} iterations: median seconds (CPU seconds)",
             f"{'optimizer':<10} {'before':>16} {'after':>16} {'after/before':>13} "
             f"{'final loss before':>18} {'after':>9}"]
    names = list(runs[False][0][1])
    for name in names:
        b = statistics.median(h[name].seconds for _, h, _ in runs[True])
        a = statistics.median(h[name].seconds for _, h, _ in runs[False])
        loss_b = float(smooth_curve(runs[True][-1][1][name].losses)[-1])
        loss_a = float(smooth_curve(runs[False][-1][1][name].losses)[-1])
        lines.append(f"{name:<10} {b:>16.2f} {a:>16.2f} {a / b:>13.2f} {loss_b:>18.5f} "
                     f"{loss_a:>9.5f}")
    wall = {k: statistics.median(t for t, _, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, _, c in v) for k, v in runs.items()}
    lines.append(f"{'total':<10} {wall[True]:>7.2f} ({cpu[True]:>6.2f}) "
                 f"{wall[False]:>7.2f} ({cpu[False]:>6.2f}) {wall[False] / wall[True]:>13.2f}"
                 f"   CPU after/before {cpu[False] / cpu[True]:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
