"""The instructor's own scores from the formgrader: read back into the CSV, never lost.

The formgrader writes into the gradebook: a manual score or extra credit given to a test
cell after review (a "needs manual review" flag, say). The CSV comes from the grader's own
results, so a run reads such edits back: a cell whose gradebook score is not what the last
run gave it was scored by the instructor (the grader writes its own scores into the
gradebook: :func:`job.grade_one`). :func:`find_edits` reads them before the run's jobs
(which rewrite the gradebook) and each job reads its notebook's again as it writes its own
scores (:func:`changed_scores`: one typed while the run goes, a job that starts minutes
later), :func:`keep_edits` applies them to the run's results: kept
in the CSV and the feedback page, and written back when the same notebook was graded again
(new grading code or settings); listed as not kept when the notebook was handed in again
or could not be graded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .bonus import bonus_points
from .model import Course, Settings

__all__ = ["Edit", "changed_scores", "find_edits", "keep_edits", "last_cells", "merge_edits",
           "with_edits"]


@dataclass(frozen=True)
class Edit:
    """One test cell scored in the formgrader.

    Attributes
    ----------
    cell : str
        Its grade id.
    given : float
        What the gradebook gives it now (nbgrader's score: the manual score, or the
        automatic one, plus the extra credit).
    manual, extra : float or None
        The gradebook's manual score and extra credit behind ``given``.
    """

    cell: str
    given: float
    manual: float | None
    extra: float | None

    def on_top(self, bonus: Collection[str]) -> float:
        """The extra credit given to a required cell: bonus points (a bonus cell's whole
        score is its extra credit already)."""
        return 0.0 if self.cell in bonus else float(self.extra or 0.0)

    def said(self, bonus: Collection[str], why: str) -> str:
        """The edit in the summary and the CSV: "test-x 1 + 1 extra credit (``why``)"."""
        extra = self.on_top(bonus)
        score = f"{self.given - extra:g} + {extra:g} extra credit" if extra else f"{self.given:g}"
        return f"{self.cell} {score} ({why})"


def changed_scores(grades: Iterable[Any], cells: Mapping[str, float], *,
                   set_by_hand: bool = False) -> list[Edit]:
    """The gradebook ``grades`` (nbgrader's ``Grade`` rows) of a notebook whose score is not
    what its last result gave its cell in ``cells``.

    ``set_by_hand``: only those with a manual score or extra credit behind them, as a
    formgrader edit has. A job reads the gradebook so after nbgrader's autograde, which
    writes new automatic scores: a cell the grader left to its automatic score (no manual
    score) differs from its last result only because the new code scored it anew.
    """
    return [Edit(g.cell.name, float(g.score), g.manual_score, g.extra_credit)
            for g in grades if g.cell.name in cells
            and (not set_by_hand or g.manual_score is not None or g.extra_credit is not None)
            and abs(float(g.score) - float(cells[g.cell.name])) > 1e-9]


def find_edits(course: Course, jobs: Mapping[str, Any],
               keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Edit]]:
    """The formgrader's scores of the notebooks ``keys`` (student, lesson) that differ from
    the last result in ``jobs`` (the run state's ``jobs``)."""
    from nbgrader.api import Gradebook, MissingEntry

    edits: dict[tuple[str, str], list[Edit]] = {}
    with Gradebook(course.db_url) as gb:
        for student, lesson in keys:
            if not (cells := last_cells(jobs.get(f"{student}/{lesson}", {}).get("result"))):
                continue
            try:
                grades = gb.find_submission_notebook(lesson, lesson, student).grades
            except MissingEntry:
                continue
            if found := changed_scores(grades, cells):
                edits[student, lesson] = found
    return edits


def last_cells(result: Mapping[str, Any] | None) -> dict[str, float]:
    """Each test cell's score in a job's last ``result``, if it was graded (else none)."""
    result = result or {}
    return dict(result.get("cells", {})) if result.get("status") == "graded" else {}


def merge_edits(before: Sequence[Edit], during: Sequence[Edit]) -> list[Edit]:
    """The edits read before the run's jobs, updated by those a job read as it wrote the
    gradebook (a score typed in the formgrader while the run went)."""
    cells = {edit.cell: edit for edit in before} | {edit.cell: edit for edit in during}
    return list(cells.values())


def with_edits(result: Mapping[str, Any], found: Sequence[Edit], lesson: str) -> dict[str, Any]:
    """A graded ``result`` with the formgrader's scores: its cells, score and bonus (extra
    credit given to a required cell counts as bonus, so ``score - bonus`` stays the required
    work's), and what its page says of them: a cell scored below its maximum among the lost
    points ("your instructor scored this test 1 of 2"), the others in ``instructor``, and
    in ``scored`` each edited cell's score in words ("1 of 1 + 1 extra credit")."""
    from descentlab.course import get_lesson

    bonus = bonus_points(lesson)
    maxima = {c.grade_id: float(c.points) for e in get_lesson(lesson).exercises for c in e.tests}
    reasons = {grade_id: why for grade_id, _, _, why in result.get("lost", [])}
    cells = {**result["cells"]}
    lost = [cell for cell in result.get("lost", []) if cell[0] not in {e.cell for e in found}]
    instructor, scored = [], {}
    for edit in found:
        cells[edit.cell] = edit.given - edit.on_top(bonus)
        most = maxima.get(edit.cell, cells[edit.cell])
        said = f"{cells[edit.cell]:g} of {most:g}" + (
            f" + {edit.on_top(bonus):g} extra credit" if edit.on_top(bonus) else "")
        scored[edit.cell] = said
        if cells[edit.cell] < most:
            lost.append((edit.cell, cells[edit.cell], most, f"your instructor scored this test "
                         f"{said}" + (f" (the grader: {reasons[edit.cell]})"
                                      if edit.cell in reasons else "")))
        else:
            instructor.append(f"{edit.cell}: {said}")
    extra = sum(edit.on_top(bonus) for edit in found)
    return {**result, "cells": cells, "score": sum(cells.values()) + extra,
            "bonus": sum(v for c, v in cells.items() if c in bonus) + extra,
            "extra_credit": extra, "lost": lost, "instructor": instructor, "scored": scored}


def keep_edits(course: Course, settings: Settings, edits: Mapping[tuple[str, str], list[Edit]],
               results: dict[tuple[str, str], dict[str, Any]],
               same_work: Collection[tuple[str, str]]) -> None:
    """Apply ``edits`` (:func:`find_edits`) to the run's ``results``, in place.

    A notebook graded again (``same_work``: its cells' text unchanged) gets the edits
    back into the gradebook; a reused result has them there still. Each such result
    becomes :func:`with_edits`'s, its ``edited`` lists the cells, and its feedback page is
    written again with those scores. A notebook handed in again, or not graded now, keeps
    the new outcome; its ``edits_lost`` lists the scores not kept, to review again.
    """
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    from .feedback import note_instructor
    from .job import write_page

    api = None
    for (student, lesson), found in edits.items():
        result = results.get((student, lesson))
        if result is None:
            continue
        bonus = bonus_points(lesson)
        if result.get("status") != "graded" or (student, lesson) not in same_work:
            why = ("handed in again" if result.get("status") == "graded"
                   else f"now {result.get('status', 'failed')}")
            result["edits_lost"] = [e.said(bonus, why) for e in found]
            continue
        if not result.get("reused"):
            with Gradebook(course.db_url) as gb:
                for edit in found:
                    grade = gb.find_grade(edit.cell, lesson, lesson, student)
                    grade.manual_score, grade.extra_credit = edit.manual, edit.extra
                    grade.needs_manual_grade = False  # the instructor graded it
                gb.db.commit()
        result.update(with_edits(result, found, lesson),
                      edited=[e.said(bonus, f"the grader's {result['cells'][e.cell]:g}")
                              for e in found])
        # Each cell's output says so too, under the grader's verdict (a pass, say).
        note_instructor(course.root / "autograded" / student / lesson / f"{lesson}.ipynb",
                        result["scored"])
        api = api or NbGraderAPI(config=course.config(settings))
        if message := write_page(api, course, lesson, student, result):
            result["message"] = message
