"""The instructor's own scores from the formgrader: read back into the CSV, never lost.

The formgrader writes into the gradebook: a manual score or extra credit given to a test
cell after review (a "needs manual review" flag, say). The CSV comes from the grader's own
results, so a run reads such edits back: a cell whose gradebook score is not what the last
run gave it was scored by the instructor (the grader writes its own scores into the
gradebook: :func:`job.grade_one`). :func:`find_edits` reads them before the run's jobs
(which rewrite the gradebook), :func:`keep_edits` applies them to the run's results: kept
in the CSV, and written back when the same notebook was graded again (new grading code or
settings); listed, not kept, when the notebook was handed in again or could not be graded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .model import Course, bonus_cells

__all__ = ["Edit", "find_edits", "keep_edits"]


@dataclass(frozen=True)
class Edit:
    """One test cell scored in the formgrader.

    Attributes
    ----------
    cell : str
        Its grade id.
    graded : float
        What the grader gave it in the last run.
    given : float
        What the gradebook gives it now (nbgrader's score: the manual score, or the
        automatic one, plus the extra credit).
    manual, extra : float or None
        The gradebook's manual score and extra credit behind ``given``.
    """

    cell: str
    graded: float
    given: float
    manual: float | None
    extra: float | None


def find_edits(course: Course, jobs: Mapping[str, Any],
               keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Edit]]:
    """The formgrader's scores of the notebooks ``keys`` (student, lesson) that differ from
    the last result in ``jobs`` (the run state's ``jobs``)."""
    from nbgrader.api import Gradebook, MissingEntry

    edits: dict[tuple[str, str], list[Edit]] = {}
    with Gradebook(course.db_url) as gb:
        for student, lesson in keys:
            result = jobs.get(f"{student}/{lesson}", {}).get("result", {})
            cells = result.get("cells", {}) if result.get("status") == "graded" else {}
            if not cells:
                continue
            try:
                grades = gb.find_submission_notebook(lesson, lesson, student).grades
            except MissingEntry:
                continue
            found = [Edit(g.cell.name, float(cells[g.cell.name]), float(g.score),
                          g.manual_score, g.extra_credit)
                     for g in grades if g.cell.name in cells
                     and abs(float(g.score) - float(cells[g.cell.name])) > 1e-9]
            if found:
                edits[student, lesson] = found
    return edits


def keep_edits(course: Course, edits: Mapping[tuple[str, str], list[Edit]],
               results: dict[tuple[str, str], dict[str, Any]],
               same_notebook: Collection[tuple[str, str]]) -> None:
    """Apply ``edits`` (:func:`find_edits`) to the run's ``results``, in place.

    A notebook graded again (``same_notebook``: its submission unchanged) gets the edits
    back into the gradebook; a reused result has them there still. Each such result's
    cells, score and bonus become the gradebook's, and its ``edited`` lists the cells. A
    notebook handed in again, or not graded now, keeps the new outcome: ``edited`` says
    which scores were not kept, for the instructor to review again.
    """
    from nbgrader.api import Gradebook

    for (student, lesson), found in edits.items():
        result = results.get((student, lesson))
        if result is None:
            continue
        if result.get("status") != "graded" or (student, lesson) not in same_notebook:
            why = ("handed in again" if result.get("status") == "graded"
                   else f"now {result.get('status', 'failed')}")
            result["edited"] = [f"{e.cell} {e.given:g} not kept ({why})" for e in found]
            continue
        cells = {**result["cells"]}
        if not result.get("reused"):
            with Gradebook(course.db_url) as gb:
                for edit in found:
                    grade = gb.find_grade(edit.cell, lesson, lesson, student)
                    grade.manual_score, grade.extra_credit = edit.manual, edit.extra
                    grade.needs_manual_grade = False  # the instructor graded it
                gb.db.commit()
        result["edited"] = [f"{e.cell} {e.given:g} (the grader's {cells[e.cell]:g})"
                            for e in found]
        cells.update((e.cell, e.given) for e in found)
        bonus = bonus_cells(lesson)
        result.update(cells=cells, score=sum(cells.values()),
                      bonus=sum(v for c, v in cells.items() if c in bonus))
