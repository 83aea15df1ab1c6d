"""The instructor's own scores from the formgrader: read back into the CSV, never lost.

The formgrader writes into the gradebook: a manual score or extra credit given to a test
cell after review (a "needs manual review" flag, say). The CSV comes from the grader's own
results, so a run reads such edits back. The grader writes its own scores into the gradebook
too (:func:`job.grade_one`), and records them beside it (:data:`GRADER_TABLE`, in the same
transaction): a cell whose manual score or extra credit is not what the grader wrote was
scored in the formgrader (:func:`typed_scores`), whenever that was, and whatever happened
since (a run stopped midway, a notebook that failed, new grading code). A job leaves them in
the gradebook when it grades the same work again; :func:`keep_edits`, once the jobs are
done, reads them and puts them into the CSV and the feedback page; the scores given to a
notebook since handed in again are listed as not kept.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .bonus import bonus_points
from .model import Course, Settings

__all__ = ["GRADER_TABLE", "Edit", "Written", "cell_points", "find_edits", "graders_scores",
           "instructor_notes", "keep_edits", "last_cells", "remember_scores", "typed_scores",
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

    def points(self, bonus: Collection[str], maxima: Mapping[str, float]) -> float:
        """The cell's points in ``maxima`` (:func:`cell_points`), or, for a cell the
        manifest does not know, its score here."""
        return maxima.get(self.cell, self.given - self.on_top(bonus))

    def split(self, bonus: Collection[str], most: float) -> tuple[float, float]:
        """The score up to the cell's ``most`` points, and the extra credit on top: the
        instructor's on a required cell, and what was typed above a cell's points (a bonus
        cell's whole score is its extra credit)."""
        score = self.given - self.on_top(bonus)
        return min(score, most), max(score - most, 0.0) + self.on_top(bonus)

    def in_words(self, bonus: Collection[str], most: float) -> str:
        """The cell's score as its page gives it, of its ``most`` points: "1 of 2", or
        "2 of 2 + 1 extra credit", not "3 of 2" (:meth:`split`)."""
        score, extra = self.split(bonus, most)
        return f"{score:g} of {most:g}" + (f" + {extra:g} extra credit" if extra else "")

    def said(self, lesson: str, why: str) -> str:
        """The edit in the summary and the CSV: "test-x 1 + 1 extra credit (``why``)", split
        as on the page (:meth:`split`): "test-nesterov 2 + 1 extra credit", not 3."""
        bonus = bonus_points(lesson)
        score, extra = self.split(bonus, self.points(bonus, cell_points(lesson)))
        said = f"{score:g} + {extra:g} extra credit" if extra else f"{score:g}"
        return f"{self.cell} {said} ({why})"


#: The grader's own manual score and extra credit of each test cell, in the gradebook's
#: database, written in the transaction that writes them into nbgrader's grades: a score
#: there that is not the grader's was given in the formgrader, whatever happened between
#: (a run stopped or failed, new grading code).
GRADER_TABLE = "descentlab_grader_scores"

Written = tuple[float | None, float | None]


def _table(gb: Any) -> None:
    from sqlalchemy import text

    gb.db.execute(text(f"CREATE TABLE IF NOT EXISTS {GRADER_TABLE} (student TEXT NOT NULL, "
                       "lesson TEXT NOT NULL, cell TEXT NOT NULL, manual REAL, extra REAL, "
                       "PRIMARY KEY (student, lesson, cell))"))


def graders_scores(gb: Any, student: str, lesson: str) -> dict[str, Written]:
    """What the grader last wrote into the gradebook ``gb`` for each test cell of a notebook:
    ``(manual_score, extra_credit)`` (none for a notebook no job of this version graded)."""
    from sqlalchemy import text

    _table(gb)
    rows = gb.db.execute(text(f"SELECT cell, manual, extra FROM {GRADER_TABLE} "
                              "WHERE student = :student AND lesson = :lesson"),
                         {"student": student, "lesson": lesson})
    return {cell: (manual, extra) for cell, manual, extra in rows}


def remember_scores(gb: Any, student: str, lesson: str, scores: Mapping[str, Written]) -> None:
    """Record ``scores`` as the grader's (:func:`graders_scores`); committed with the grades."""
    from sqlalchemy import text

    _table(gb)
    for cell, (manual, extra) in scores.items():
        gb.db.execute(text(f"INSERT OR REPLACE INTO {GRADER_TABLE} VALUES "
                           "(:student, :lesson, :cell, :manual, :extra)"),
                      {"student": student, "lesson": lesson, "cell": cell, "manual": manual,
                       "extra": extra})


def _same(a: float | None, b: float | None) -> bool:
    return a is b is None or (a is not None and b is not None and abs(a - b) <= 1e-9)


def typed_scores(grades: Iterable[Any], written: Mapping[str, Written],
                 last: Mapping[str, float], *, after_autograde: bool = False) -> list[Edit]:
    """The test cells of a notebook scored in the formgrader: nbgrader's ``Grade`` rows
    whose manual score or extra credit is not what the grader wrote (``written``). One
    with neither was cleared: the grader's score, not nbgrader's in-kernel one (which the
    course's reference passes), is the cell's again (:func:`find_edits` writes it back).

    A gradebook of an earlier version of the grader has no ``written``: there a cell whose
    score is not its ``last`` result's counts (after nbgrader's autograde, which writes new
    automatic scores, only if a manual score or extra credit is behind it).
    """
    if written:
        return [Edit(g.cell.name, float(g.score), g.manual_score, g.extra_credit)
                for g in grades if g.cell.name in written
                and (g.manual_score is not None or g.extra_credit is not None)
                and not (_same(g.manual_score, written[g.cell.name][0])
                         and _same(g.extra_credit, written[g.cell.name][1]))]
    return [Edit(g.cell.name, float(g.score), g.manual_score, g.extra_credit)
            for g in grades if g.cell.name in last
            and (not after_autograde or g.manual_score is not None or g.extra_credit is not None)
            and abs(float(g.score) - float(last[g.cell.name])) > 1e-9]


def find_edits(course: Course, keys: Mapping[tuple[str, str], Mapping[str, float]]
               ) -> dict[tuple[str, str], list[Edit]]:
    """The formgrader's scores in the gradebook of the notebooks ``keys`` (student, lesson),
    each with its last graded result's cells (:func:`last_cells`, for :func:`typed_scores`);
    where one was cleared, the grader's score is written back."""
    from nbgrader.api import Gradebook, MissingEntry

    edits: dict[tuple[str, str], list[Edit]] = {}
    with Gradebook(course.db_url) as gb:
        for (student, lesson), last in keys.items():
            try:
                grades = gb.find_submission_notebook(lesson, lesson, student).grades
            except MissingEntry:
                continue
            written = graders_scores(gb, student, lesson)
            if found := typed_scores(grades, written, last):
                edits[student, lesson] = found
            for g in grades:
                if g.manual_score is g.extra_credit is None and g.cell.name in written:
                    g.manual_score, g.extra_credit = written[g.cell.name]
        gb.db.commit()  # the table, if it was made, and the scores written back
    return edits


def last_cells(result: Mapping[str, Any] | None) -> dict[str, float]:
    """Each test cell's score in a job's last ``result``, if it was graded (else none)."""
    result = result or {}
    return dict(result.get("cells", {})) if result.get("status") == "graded" else {}


def cell_points(lesson: str) -> dict[str, float]:
    """Each test cell of ``lesson`` -> its points (the manifest's; a bonus cell's too)."""
    from descentlab.course import get_lesson

    return {c.grade_id: float(c.points) for e in get_lesson(lesson).exercises for c in e.tests}


def instructor_notes(db_url: str, student: str, lesson: str) -> dict[str, str]:
    """The test cells of ``student``'s notebook of ``lesson`` that the instructor scored in
    the formgrader (:func:`typed_scores` against what the grader wrote) -> that score in
    words ("1 of 2", :meth:`Edit.in_words`); ``{}`` for a notebook not in the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            grades = gb.find_submission_notebook(lesson, lesson, student).grades
        except MissingEntry:
            return {}
        edits = typed_scores(grades, graders_scores(gb, student, lesson), {})
    bonus, maxima = bonus_points(lesson), cell_points(lesson)
    return {e.cell: e.in_words(bonus, e.points(bonus, maxima)) for e in edits}


#: Where a lost point the instructor scored gives the grader's reason (the page reads it).
GRADER_SAID = " (the grader: "


def with_edits(result: Mapping[str, Any], found: Sequence[Edit], lesson: str) -> dict[str, Any]:
    """A graded ``result`` with the formgrader's scores: its cells, score and bonus (extra
    credit given to a required cell counts as bonus, so ``score - bonus`` stays the required
    work's), and what its page says of them: a cell scored below its maximum among the lost
    points ("your instructor scored this test 1 of 2"), the others in ``instructor``, and
    in ``scored`` each edited cell's score in words ("1 of 1 + 1 extra credit")."""
    bonus = bonus_points(lesson)
    maxima = cell_points(lesson)
    reasons = {grade_id: why for grade_id, _, _, why in result.get("lost", [])}
    cells = {**result["cells"]}
    # The lost points in the notebook's order, a scored cell in its place (an instructor
    # audit: it moved to the end, and the reason it shared with a later cell was given twice).
    order = {grade_id: i for i, grade_id in enumerate(cells)}
    lost = [cell for cell in result.get("lost", []) if cell[0] not in {e.cell for e in found}]
    instructor, scored = [], {}
    over_bonus = 0.0  # bonus cells' points above their maximum: the instructor's extra credit
    for edit in found:
        cells[edit.cell] = edit.given - edit.on_top(bonus)
        most = edit.points(bonus, maxima)
        # Above a bonus cell's points (its whole split extra, a bonus cell having no other):
        # the instructor's extra credit on the page too ("bonus 2 of 2; extra credit from
        # your instructor: 1").
        over_bonus += edit.split(bonus, most)[1] if edit.cell in bonus else 0.0
        scored[edit.cell] = said = edit.in_words(bonus, most)
        if cells[edit.cell] < most:
            lost.append((edit.cell, cells[edit.cell], most, f"your instructor scored this test "
                         f"{said}" + (f"{GRADER_SAID}{reasons[edit.cell]})"
                                      if edit.cell in reasons else "")))
        else:
            instructor.append(f"{edit.cell}: {said}")
    lost.sort(key=lambda cell: order.get(cell[0], len(order)))
    extra = sum(edit.on_top(bonus) for edit in found)
    return {**result, "cells": cells, "score": sum(cells.values()) + extra,
            "bonus": sum(v for c, v in cells.items() if c in bonus) + extra,
            "extra_credit": extra + over_bonus, "lost": lost, "instructor": instructor,
            "scored": scored}


def keep_edits(course: Course, settings: Settings,
               results: dict[tuple[str, str], dict[str, Any]],
               same_work: Collection[tuple[str, str]]) -> None:
    """Put the formgrader's scores into the run's ``results``, in place.

    Read once every job has written the gradebook, so a score typed while the run went is
    there too. A job kept them in the gradebook for the same work (``same_work``: its cells'
    text unchanged) and did not for a notebook handed in again (its ``typed``: they are in
    ``edits_lost``, to review again). Each graded result with such scores becomes
    :func:`with_edits`'s, its ``edited`` lists the cells, and its feedback page is written
    again with those scores; one whose scores were taken back since, without them. A
    notebook not graded now keeps them in the gradebook, for when it is graded again
    (``edited`` says so).
    """
    from nbgrader.apps import NbGraderAPI

    from .feedback import note_instructor
    from .job import write_page

    for (student, lesson), result in results.items():
        typed = [Edit(**edit) for edit in result.pop("typed", [])]
        if typed and (student, lesson) not in same_work:
            result["edits_lost"] = [e.said(lesson, "handed in again")
                                    for e in typed]
    # A graded result's cells are what the grader wrote: for a gradebook of an earlier
    # version, with no record of it (typed_scores).
    found = find_edits(course, {key: result["cells"] if result["status"] == "graded" else {}
                                for key, result in results.items()
                                if result.get("status") in ("graded", "failed")})
    api = None
    for (student, lesson), result in results.items():
        edits = found.get((student, lesson), [])
        if result.get("status") != "graded":
            # Still in the gradebook: the next grading of this work keeps them, that of
            # another notebook does not.
            if edits and (student, lesson) in same_work:
                result["edited"] = [e.said(lesson, "kept for when this notebook is graded")
                                    for e in edits]
            elif edits:
                result["edits_lost"] = [e.said(lesson, "handed in again") for e in edits]
            continue
        if edits:
            result.update(with_edits(result, edits, lesson),
                          edited=[e.said(lesson, f"the grader's {result['cells'][e.cell]:g}")
                                  for e in edits])
        # Each cell's output says so too, under the grader's verdict (a pass, say). A score
        # taken back since leaves no line, and its page is written again: it still gave
        # the score (an audit: the CSV said 7, the reused page 7.5).
        notebook = course.root / "autograded" / student / lesson / f"{lesson}.ipynb"
        if not (note_instructor(notebook, result.get("scored", {})) or edits):
            continue
        api = api or NbGraderAPI(config=course.config(settings))
        if message := write_page(api, course, lesson, student, result):
            result["message"] = message
