"""How long the solution notebooks take to run, and which cells take the time.

Run ``python benchmarks/notebook_times.py`` from the repository root. It executes
every ``solutions/*/*.ipynb`` (or the lessons named on the command line, e.g.
``03_momentum``) with nbclient, one after another, in a fresh kernel each, in
memory: nothing is written back. For each notebook it prints the wall time
(kernel start-up included), the sum of the cells' own times and the CPU time
the kernel used (read by one extra cell appended in memory: on a busy machine
it is the figure that says what to expect without competing load), and at the
end the slowest cells of all notebooks with their ids, from nbclient's
per-cell timestamps.

Target (printed, not asserted: timings depend on the machine): the solution
notebooks (every lesson) together in under 60 s. Options: ``--top N`` (how many
slow cells to list, default 12).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60.0


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def cell_seconds(cell: nbformat.NotebookNode) -> float:
    """Seconds between a code cell's execute_input and its execute_reply (0 if unknown)."""
    timing = cell.get("metadata", {}).get("execution", {})
    began, ended = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (began and ended):
        return 0.0
    return (_stamp(ended) - _stamp(began)).total_seconds()


_CPU_CELL = "import time as _bench_time\nprint(_bench_time.process_time())"


def run_notebook(
    path: Path, timeout: int = 600
) -> tuple[float, list[tuple[str, float]], str, float]:
    """Execute ``path`` in memory.

    Returns
    -------
    wall : float
        Seconds from kernel start to shutdown.
    cells : list of (str, float)
        Each code cell's id and seconds.
    error : str
        Empty, or the error that stopped the notebook.
    cpu : float
        CPU seconds the kernel process used (NaN if the notebook stopped early).
    """
    # The grading's client: nbclient's widget stand-in could stall a cell for its whole
    # time limit (descentlab_grading/execute.py).
    from descentlab_grading.execute import WidgetlessClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_CPU_CELL, id="benchmark-cpu-time"))
    client = WidgetlessClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    error = ""
    started = time.perf_counter()
    try:
        client.execute()
    except Exception as exc:  # report and go on with the other notebooks
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200]}"
    wall = time.perf_counter() - started
    probe = nb.cells.pop()
    try:
        cpu = float(probe.outputs[0]["text"])
    except (IndexError, KeyError, ValueError):
        cpu = float("nan")
    cells = [(c.get("id", "?"), cell_seconds(c)) for c in nb.cells if c.cell_type == "code"]
    return wall, cells, error, cpu


def main(argv: Sequence[str] | None = None) -> int:
    """Run the notebooks and print the table, the slowest cells and the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson folders, default all")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    lessons = args.lessons or sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average before the run: {load:.2f} on {os.cpu_count()} cores")
    print(f"{'notebook':<20} {'wall s':>7} {'cells s':>8} {'CPU s':>6}  error")
    total, total_cpu, slow = 0.0, 0.0, []
    for lesson in lessons:
        wall, cells, error, cpu = run_notebook(REPO / "solutions" / lesson / f"{lesson}.ipynb")
        total += wall
        total_cpu += cpu
        slow += [(seconds, lesson, cell_id) for cell_id, seconds in cells]
        print(f"{lesson:<20} {wall:7.1f} {sum(s for _, s in cells):8.1f} {cpu:6.1f}  {error}")
    print(f"{'total':<20} {total:7.1f} {'':8} {total_cpu:6.1f}")
    print("\nslowest cells:")
    for seconds, lesson, cell_id in sorted(slow, reverse=True)[: args.top]:
        print(f"  {seconds:6.2f} s  {lesson} / {cell_id}")
    ok = total < TARGET_SECONDS
    print(f"\n{len(lessons)} notebooks in {total:.1f} s (target < {TARGET_SECONDS:g} s): "
          f"{'met' if ok else 'NOT met'}; the kernels' CPU time {total_cpu:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
