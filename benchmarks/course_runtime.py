"""How long the whole course takes to run headless, lesson by lesson, and the digits race.

Run ``python benchmarks/course_runtime.py`` from the repository root. It executes every
``solutions/*/*.ipynb`` (or the lessons named on the command line, e.g. ``07_showdown``)
with nbclient as the grading and the tests do, one after another, each in a fresh
kernel, in memory (nothing is written back), and prints per lesson:

* **wall** seconds, from starting the kernel to shutting it down;
* **CPU** seconds of the kernel process (user + system of all its threads, and of any
  child it waited for), read with ``resource.getrusage`` by a probe cell appended in
  memory. On the shared 2-core machine the CPU time is the figure to expect without
  competing load; the wall time also counts the wait for a core;
* the **start** seconds before the first cell ran (kernel start and connection).

Then the total of both against the 60 s target (issue 12: the course runs in under a
minute), as ratios, the slowest cells by CPU time (each cell's CPU time is measured in
the kernel by IPython's ``pre_run_cell`` / ``post_run_cell`` events, registered by a
first probe cell), and last the digits comparison of lesson 07 at the book's size
(4 optimizers x 2,000 iterations, :func:`digits_compare.run`) against its 8 s target.
The load average is printed before and after. Nothing is asserted: timings depend on
the machine.

Options: ``--top N`` (slow cells listed, default 15), ``--no-digits`` / ``--only-digits``,
``--dtype`` of the digits comparison (default: what lesson 07 uses, float32; float64
for the book's arithmetic), ``--json FILE`` (also write every figure as JSON),
``--profile DIR`` (run each cell under cProfile, one stats file per cell, to find where
a slow cell's time goes: ``python -m pstats DIR/07_showdown/11-race-run.prof``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
COURSE_TARGET = 60.0  # seconds, all lessons together (issue 12, target 4)
DIGITS_TARGET = 8.0  # seconds, 4 optimizers x 2,000 iterations (issue 12, target 4)

# Registered in the kernel before the lesson's first cell: the CPU time of every cell
# (user + system, this process and the children it waited for).
_HOOK_CELL = """\
import resource as _bench_resource


def _bench_cpu():
    own = _bench_resource.getrusage(_bench_resource.RUSAGE_SELF)
    kids = _bench_resource.getrusage(_bench_resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


_bench_cells = []


def _bench_pre(info):
    _bench_cells.append([_bench_cpu(), None])


def _bench_post(result):
    if _bench_cells:  # this cell's own end comes before any start
        _bench_cells[-1][1] = _bench_cpu()


_bench_profile = {profile!r}  # a folder: one cProfile file per cell
if _bench_profile:
    import cProfile as _bench_cprofile

    _bench_pre_cpu, _bench_post_cpu = _bench_pre, _bench_post

    def _bench_pre(info):
        global _bench_profiler
        _bench_pre_cpu(info)
        _bench_profiler = _bench_cprofile.Profile()
        _bench_profiler.enable()

    def _bench_post(result):
        if _bench_cells:
            _bench_profiler.disable()
            _bench_profiler.dump_stats(f"{_bench_profile}/{len(_bench_cells):02d}.prof")
        _bench_post_cpu(result)


get_ipython().events.register("pre_run_cell", _bench_pre)
get_ipython().events.register("post_run_cell", _bench_post)
"""
_REPORT_CELL = """\
import json as _bench_json

print(_bench_json.dumps({"cpu": _bench_cpu(), "cells": _bench_cells}))
"""


@dataclass
class LessonRun:
    """What one executed notebook cost.

    Attributes
    ----------
    lesson : str
        The lesson folder, e.g. ``"07_showdown"``.
    wall : float
        Seconds from kernel start to shutdown.
    cpu : float
        CPU seconds of the kernel process (NaN if the notebook stopped early).
    start : float
        Seconds from kernel start to the first cell's execution.
    cells : list of (str, float, float)
        Each code cell's id, wall seconds and CPU seconds.
    error : str
        Empty, or the error that stopped the notebook.
    """

    lesson: str
    wall: float
    cpu: float
    start: float
    cells: list[tuple[str, float, float]] = field(default_factory=list)
    error: str = ""


def _seconds(cell: nbformat.NotebookNode) -> float:
    """Wall seconds between a cell's ``iopub.execute_input`` and ``shell.execute_reply``."""
    from datetime import datetime

    timing = cell.get("metadata", {}).get("execution", {})
    began, ended = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (began and ended):
        return 0.0
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(ended) - parse(began)).total_seconds()


def run_lesson(lesson: str, timeout: int = 600, profile: Path | None = None) -> LessonRun:
    """Execute ``solutions/<lesson>/<lesson>.ipynb`` in memory and measure it.

    With ``profile``, each code cell is also run under cProfile and its statistics
    written to ``profile/<lesson>/<NN>-<cell id>.prof`` (NN counts the executed cells
    from 01); the CPU times are then inflated by the profiler.
    """
    # The grading's client: nbclient's widget stand-in could stall a cell for its whole
    # time limit (descentlab_grading/execute.py).
    from descentlab_grading.execute import WidgetlessClient

    path = REPO / "solutions" / lesson / f"{lesson}.ipynb"
    nb = nbformat.read(path, as_version=4)
    n_cells = len(nb.cells)
    folder = ""
    if profile is not None:
        folder = str((profile / lesson).resolve())
        Path(folder).mkdir(parents=True, exist_ok=True)
    hook = _HOOK_CELL.replace("{profile!r}", repr(folder))
    nb.cells.insert(0, nbformat.v4.new_code_cell(hook, id="benchmark-hook"))
    nb.cells.append(nbformat.v4.new_code_cell(_REPORT_CELL, id="benchmark-report"))
    client = WidgetlessClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    error = ""
    started = time.perf_counter()
    first_cell = started
    try:
        with client.setup_kernel():
            first_cell = time.perf_counter()
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
    except Exception as exc:  # report and go on with the other lessons
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200]}"
    wall = time.perf_counter() - started
    report = nb.cells.pop()
    nb.cells.pop(0)
    try:
        measured = json.loads(report.outputs[0]["text"])
    except (IndexError, KeyError, ValueError):
        measured = {"cpu": float("nan"), "cells": []}
        error = error or f"no CPU report: {report.outputs}"[:300]
    # The last event is the report cell's start; nbclient skips empty cells.
    cpu_by_cell = [(b - a) if b is not None else float("nan")
                   for a, b in measured["cells"][:-1]]
    code = [c for c in nb.cells[:n_cells] if c.cell_type == "code" and c.source.strip()]
    cells = [(c.get("id", "?"), _seconds(c), cpu_by_cell[i] if i < len(cpu_by_cell)
              else float("nan")) for i, c in enumerate(code)]
    if profile is not None:  # name the files after the cells
        for i, (cell_id, _, _) in enumerate(cells, start=1):
            numbered = Path(folder) / f"{i:02d}.prof"
            if numbered.exists():
                numbered.rename(Path(folder) / f"{i:02d}-{cell_id}.prof")
        for extra in Path(folder).glob("[0-9][0-9].prof"):  # the report cell's own
            extra.unlink()
    return LessonRun(lesson, wall, float(measured["cpu"]), first_cell - started, cells, error)


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def course_report(runs: Sequence[LessonRun], top: int) -> str:
    """The per-lesson table, the totals against the target and the slowest cells."""
    lines = [f"{'lesson':<20} {'wall s':>7} {'CPU s':>6} {'start s':>8}  error"]
    for r in runs:
        lines.append(f"{r.lesson:<20} {r.wall:7.1f} {r.cpu:6.1f} {r.start:8.1f}  {r.error}")
    wall = sum(r.wall for r in runs)
    cpu = sum(r.cpu for r in runs)
    lines.append(f"{'total':<20} {wall:7.1f} {cpu:6.1f}")
    lines.append("")
    verdict = {True: "met", False: "NOT met"}
    n_all = sum(1 for p in (REPO / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file())
    if len(runs) < n_all:
        lines.append(f"(only {len(runs)} of the {n_all} lessons: the target is for all of them)")
    lines.append(f"course: {len(runs)} lessons, wall {wall:.1f} s = {wall / COURSE_TARGET:.2f} x "
                 f"the {COURSE_TARGET:g} s target ({verdict[wall < COURSE_TARGET]}); "
                 f"CPU {cpu:.1f} s = {cpu / COURSE_TARGET:.2f} x "
                 f"({verdict[cpu < COURSE_TARGET]} without competing load)")
    slow = sorted(((c, w, r.lesson, cid) for r in runs for cid, w, c in r.cells), reverse=True)
    lines += ["", f"slowest cells by CPU time (of {sum(len(r.cells) for r in runs)}):",
              f"  {'CPU s':>6} {'wall s':>7}  lesson / cell"]
    lines += [f"  {c:6.2f} {w:7.2f}  {lesson} / {cid}" for c, w, lesson, cid in slow[:top]]
    return "\n".join(lines)


def digits_report(dtype: str) -> tuple[str, dict[str, float]]:
    """Run the book-sized digits comparison; its report and figures."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import digits_compare

    wall, histories, cpu = digits_compare.run(iters=2000, dtype=dtype)
    text = digits_compare.format_report(wall, histories, dtype, cpu)
    text += (f"\ndigits comparison: wall {wall:.2f} s = {wall / DIGITS_TARGET:.2f} x the "
             f"{DIGITS_TARGET:g} s target, CPU {cpu:.2f} s = {cpu / DIGITS_TARGET:.2f} x")
    return text, {"wall": wall, "cpu": cpu}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the lessons and the digits comparison; print the figures and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson folders, default all")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--no-digits", action="store_true")
    parser.add_argument("--only-digits", action="store_true")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="write a cProfile file per cell under DIR/<lesson>/")
    args = parser.parse_args(argv)
    lessons = args.lessons or sorted(
        p.name for p in (REPO / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file())
    figures: dict[str, object] = {"load_before": _load(), "cores": os.cpu_count()}
    print(f"load average (1 min) before: {figures['load_before']:.2f} on {os.cpu_count()} cores",
          flush=True)
    if not args.only_digits:
        runs = [run_lesson(lesson, profile=args.profile) for lesson in lessons]
        print(course_report(runs, args.top), flush=True)
        figures["lessons"] = [asdict(r) for r in runs]
        print(f"load average (1 min) after the lessons: {_load():.2f}", flush=True)
    if not args.no_digits:
        print(f"\nthe digits comparison (lesson 07's, at 2,000 iterations, {args.dtype}):")
        text, figures["digits"] = digits_report(args.dtype)
        print(text)
        print(f"load average (1 min) after the digits comparison: {_load():.2f}")
    figures["load_after"] = _load()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
