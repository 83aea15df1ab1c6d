"""The grades CSV and the end-of-run summary table."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from .pipeline import Run

__all__ = ["summary", "write_csv"]

FIXED_COLUMNS = ["student", "lesson", "status", "score", "max_score", "flags", "message"]


def write_csv(run: Run, path: Path) -> Path:
    """Write one row per (student, lesson); one column per graded test cell.

    Columns: ``student, lesson, status, score, max_score, flags, message`` and
    then the grade ids of the test cells in the order first seen (a cell of
    another lesson is left empty).
    """
    cells: dict[str, None] = {}
    for row in run.rows:
        cells.update(dict.fromkeys(row.cells))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIXED_COLUMNS + list(cells))
        for row in run.rows:
            writer.writerow([row.student, row.lesson, row.status, f"{row.score:g}",
                             f"{row.max_score:g}", "; ".join(row.flags), row.message]
                            + [f"{row.cells[c]:g}" if c in row.cells else "" for c in cells])
    return path


def _histogram(fractions: list[float], bins: int = 5, width: int = 30) -> list[str]:
    counts = Counter(min(int(f * bins), bins - 1) for f in fractions)
    top = max(counts.values(), default=1)
    lines = []
    for b in range(bins):
        low, high = 100 * b // bins, 100 * (b + 1) // bins
        bar = "#" * round(width * counts[b] / top) if counts[b] else ""
        lines.append(f"  {low:3d}-{high:3d} %  {counts[b]:4d}  {bar}")
    return lines


def summary(run: Run) -> str:
    """The table printed at the end of a run: counts, problems, score distribution."""
    status = Counter(row.status for row in run.rows)
    graded = [row for row in run.rows if row.status == "graded"]
    reused = sum(row.reused for row in graded)
    lines = [
        f"Graded {status['graded']} notebook(s) ({reused} unchanged since the last run, "
        f"not re-run) in {run.seconds:.1f} s with {run.workers} worker(s); "
        f"failed {status['failed']}, rejected {status['rejected']}, "
        f"missing {status['missing']}.",
    ]
    problems = [row for row in run.rows if row.status != "graded" or row.flags]
    if problems:
        lines += ["", "Needs attention:",
                  f"  {'student':<16} {'lesson':<20} {'status':<9} reason"]
        for row in problems:
            reasons = ([row.message] if row.message else []) + row.flags
            lines.append(f"  {row.student:<16} {row.lesson:<20} {row.status:<9} "
                         + "; ".join(reasons))
    if run.collection.ignored:
        lines += ["", f"Ignored {len(run.collection.ignored)} file(s) that are not notebooks: "
                  + ", ".join(run.collection.ignored[:5])
                  + (" …" if len(run.collection.ignored) > 5 else "")]
    fractions = [row.score / row.max_score for row in graded if row.max_score > 0]
    if fractions:
        mean = 100 * sum(fractions) / len(fractions)
        lines += ["", f"Score distribution (graded notebooks, mean {mean:.0f} %):",
                  *_histogram(fractions)]
    return "\n".join(lines)
