"""Latency of the live widgets: from a slider change to the redrawn figure.

Run ``python benchmarks/widget_latency.py``. For 50, 200 and 1,000 steps and
for both backends it builds ``explore("sgd", "bowl")`` and drags the learning
rate slider the way the browser does: it sets ``controls["lr"].value`` to a
sequence of values (a drag from 0.05 to 0.95 and back). Each change runs the
whole update synchronously: tracing the path, updating the lines, rendering
and publishing the image. For ``"static"`` that includes encoding the PNG
that goes to the browser; for ``"ipympl"`` the image is rendered and its diff
PNG-encoded and handed to the widget's comm inside the same call (the front
end is emulated as attached, so ipympl sends diffs as in a live notebook).
Next to it, the same run times ``paths.trace`` alone for the same values.

Targets (printed with the figures, not asserted: timings depend on the machine;
the CPU time of the updates is printed too, as the latency to expect when no
other process competes for the cores):

* median latency below 15 ms at 200 steps and below 30 ms at 1,000 steps
  (issue 12; until then: 30 ms at 200 steps, and a redraw overhead below 2x the
  path computation at 1,000 steps, which stopped meaning much once tracing
  became cheap: the overhead and its ratio are still printed).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from descentlab.optimizers import SGD
from descentlab.paths import trace
from descentlab.widgets import explore

STEP_COUNTS = (50, 200, 1000)
BACKENDS = ("static", "ipympl")
#: One drag of the slider, forth and back.
DRAG = tuple(np.concatenate([np.geomspace(0.05, 0.95, 30), np.geomspace(0.95, 0.05, 30)]))
#: Median latency targets (ms) by number of steps.
MEDIAN_TARGETS_MS = {200: 15.0, 1000: 30.0}


@dataclass(frozen=True)
class Latency:
    """Timings of one backend at one step count (milliseconds).

    Attributes
    ----------
    backend : str
    steps : int
    median, p95 : float
        Slider change to redrawn figure (wall time).
    cpu : float
        Median CPU time of the same updates (less sensitive to other load).
    trace, trace_cpu : float
        Median wall and CPU time of ``paths.trace`` alone for the same values.
    full_draws, panel_draws, blits : int
        How the updates were rendered (see ``FigureView.render``).
    """

    backend: str
    steps: int
    median: float
    p95: float
    cpu: float
    trace: float
    trace_cpu: float
    full_draws: int
    panel_draws: int
    blits: int

    @property
    def overhead(self) -> float:
        """Median latency minus median path computation."""
        return self.median - self.trace

    @property
    def cpu_overhead(self) -> float:
        """The same in CPU time."""
        return self.cpu - self.trace_cpu


def _attach_front_end(widget: object) -> None:
    """Make an ipympl canvas behave as if a browser view were connected."""
    canvas = widget.view.canvas
    canvas._handle_message(canvas, {"type": "initialized"}, [])
    canvas._handle_message(canvas, {"type": "draw"}, [])


def measure(backend: str, steps: int, values: Sequence[float] = DRAG) -> Latency:
    """Drag the lr slider of ``explore("sgd", "bowl", steps=steps)`` and time each change."""
    w = explore("sgd", "bowl", steps=steps, backend=backend, lr=float(values[0]))
    if backend == "ipympl":
        _attach_front_end(w)
    slider = w.controls["lr"]
    view = w.view
    counts0 = (view.full_draws, view.panel_draws, view.blits)
    latencies, cpu, traces, trace_cpu = [], [], [], []
    for value in values[1:]:
        # Interleaved, so that other load on the machine hits both alike.
        t0, c0 = time.perf_counter(), time.process_time()
        trace(SGD(lr=float(value)), "bowl", steps=steps)
        traces.append(time.perf_counter() - t0)
        trace_cpu.append(time.process_time() - c0)
        t0, c0 = time.perf_counter(), time.process_time()
        slider.value = float(value)
        latencies.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    ms = np.array(latencies) * 1e3
    return Latency(
        backend=backend,
        steps=steps,
        median=float(np.median(ms)),
        p95=float(np.percentile(ms, 95)),
        cpu=statistics.median(cpu) * 1e3,
        trace=statistics.median(traces) * 1e3,
        trace_cpu=statistics.median(trace_cpu) * 1e3,
        full_draws=view.full_draws - counts0[0],
        panel_draws=view.panel_draws - counts0[1],
        blits=view.blits - counts0[2],
    )


def main(argv: Sequence[str] = ()) -> int:
    """Print the table and the targets; returns 0 (targets are reported, not enforced)."""
    backends = tuple(argv) or BACKENDS
    results = []
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average before the run: {load:.2f} on {os.cpu_count()} cores")
    print(f"{'backend':8} {'steps':>6} {'median ms':>10} {'p95 ms':>8} {'cpu ms':>7} "
          f"{'trace ms':>9} {'overhead':>9} {'ratio':>6}  full/panels/blits")
    for backend in backends:
        for steps in STEP_COUNTS:
            r = measure(backend, steps)
            results.append(r)
            print(
                f"{r.backend:8} {r.steps:6d} {r.median:10.1f} {r.p95:8.1f} {r.cpu:7.1f} "
                f"{r.trace:9.1f} {r.overhead:9.1f} {r.overhead / r.trace:6.2f}  "
                f"{r.full_draws}/{r.panel_draws}/{r.blits}"
            )
    print()
    for backend in backends:
        at = {r.steps: r for r in results if r.backend == backend}
        for steps, target in MEDIAN_TARGETS_MS.items():
            r = at[steps]
            print(
                f"[{backend}] median latency at {steps} steps: {r.median:.1f} ms "
                f"(target < {target:g} ms): {'met' if r.median < target else 'NOT met'}"
                f" (CPU time {r.cpu:.1f} ms: {'met' if r.cpu < target else 'NOT met'}"
                " without competing load)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
