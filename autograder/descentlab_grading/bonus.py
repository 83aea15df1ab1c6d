"""Bonus test cells as nbgrader's extra credit, so that nbgrader's totals agree with ours.

A bonus exercise's points come on top of the lesson's maximum (:func:`model.split_bonus`).
nbgrader has no bonus cell, but it has extra credit: a grade's ``extra_credit`` adds to its
score and not to any maximum. So, in the gradebook, a bonus test cell is worth 0 points
(:func:`bonus_as_extra_credit`) and the job records its points as extra credit; the
formgrader, the gradebook and ``nbgrader export`` then read 10 / 8 as the CSV does, where
they read 10 / 10 (and 8 / 10 for all the required work without the bonus: an instructor
audit). :class:`CountBonusPoints` gives a bonus cell its real points back where nbgrader
reads them from the notebook: its own pass signal (the autograde's score, which the
tampering checks compare with the judge's verdict) and the feedback page's "Score: 2 / 2";
:class:`UncountBonusPoints` takes them away again once nbgrader has scored the notebook.
"""

from __future__ import annotations

from typing import Any

from nbformat import from_dict
from nbgrader.utils import compute_checksum

from .testcells import FeedbackPreprocessor, nbgrader_meta

__all__ = ["CountBonusPoints", "UncountBonusPoints", "bonus_as_extra_credit", "bonus_points"]


def bonus_points(lesson: str) -> dict[str, float]:
    """``grade_id -> points`` of ``lesson``'s bonus test cells, from the course manifest."""
    from descentlab.course import get_lesson

    return {cell.grade_id: float(cell.points) for exercise in get_lesson(lesson).exercises
            if exercise.bonus for cell in exercise.tests}


def bonus_as_extra_credit(gb: Any, lesson: str) -> bool:
    """Make ``lesson``'s bonus test cells worth 0 points in the gradebook ``gb``.

    Their source cells' checksums follow (nbgrader's checksum of a test cell counts its
    points, and the autograde checks a locked cell against it). Each generation of the
    lesson writes the notebook's points back: call this after it. Returns whether
    anything changed (the caller commits).
    """
    changed = False
    for grade_id in bonus_points(lesson):
        cell = gb.find_grade_cell(grade_id, lesson, lesson)
        if cell.max_score == 0:
            continue
        source = gb.find_source_cell(grade_id, lesson, lesson)
        as_seen = from_dict({"cell_type": source.cell_type, "source": source.source,
                             "metadata": {"nbgrader": {"grade": True, "solution": False,
                                                       "locked": source.locked,
                                                       "grade_id": grade_id, "points": 0}}})
        cell.max_score = 0.0
        source.checksum = compute_checksum(as_seen)
        changed = True
    return changed


class CountBonusPoints(FeedbackPreprocessor):
    """Give each bonus test cell its manifest points in the notebook nbgrader reads.

    In the autograde (before ``SaveAutoGrades``), nbgrader's score of the cell is then its
    pass signal as for any test cell (0 points would score 0 either way); in the feedback
    (after ``GetGrades``), the cell reads "Score: 2 / 2" and not "2 / 0".
    """

    #: False: the gradebook's 0 instead (:class:`UncountBonusPoints`).
    counted = True

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        try:
            points = bonus_points(resources["nbgrader"]["assignment"])
        except KeyError:  # an assignment that is not a lesson of the manifest
            return nb, resources
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if meta.get("grade") and meta.get("grade_id") in points:
                meta["points"] = points[meta["grade_id"]] if self.counted else 0
        return nb, resources


class UncountBonusPoints(CountBonusPoints):
    """After ``SaveAutoGrades``: each bonus test cell is worth the gradebook's 0 again in
    the autograded notebook, whose points the formgrader's grading page shows as the cell's
    maximum beside the extra credit ("0 / 0 + 2"; with the manifest's points it read
    "0 / 2 + 2", a cell failed and given 2 by hand: an instructor audit)."""

    counted = False
