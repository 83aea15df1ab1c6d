"""End-to-end: a score the instructor gives in the formgrader is kept, never silently lost.

The formgrader writes a manual score into the gradebook; the CSV comes from the grader's
results. Before, the next run's CSV ignored it and a re-grading (new grading code) wrote
over it. Now it is read back into the CSV, written back after a re-grading of the same
notebook, and listed as not kept when the student hands in another notebook.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell
from synthetic import prepared_course, solved_notebook

from descentlab_grading import pipeline
from descentlab_grading.pipeline import Settings, grade
from descentlab_grading.report import summary, write_csv

pytestmark = pytest.mark.slow

LESSON = "02_sgd_zigzag"  # runs in a few seconds


def test_a_formgrader_score_is_kept_across_runs_and_regrading(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbgrader.api import Gradebook

    settings = Settings(workers=1)
    course = prepared_course(tmp_path / "course", settings, [LESSON])
    notebook = solved_notebook(course, LESSON)
    export = tmp_path / "export" / "ann" / LESSON
    export.mkdir(parents=True)
    nbformat.write(notebook, export / f"{LESSON}.ipynb")

    [row] = grade(tmp_path / "export", course, [LESSON], settings).rows
    full, cell = row.score, next(iter(row.cells))
    points = row.cells[cell]
    assert (row.status, points > 0, row.edited) == ("graded", True, []), row

    def review(score: float) -> None:
        """What the formgrader does when the instructor types a score for the cell."""
        with Gradebook(course.db_url) as gb:
            gb.find_grade(cell, LESSON, LESSON, "ann").manual_score = score
            gb.db.commit()

    def gradebook_score() -> float:
        with Gradebook(course.db_url) as gb:
            return gb.find_grade(cell, LESSON, LESSON, "ann").score

    review(0.5)
    # The next run (nothing changed: the grade is reused) puts the instructor's score in
    # the CSV and says so.
    run = grade(tmp_path / "export", course, [LESSON], settings)
    [row] = run.rows
    kept = f"{cell} 0.5 (the grader's {points:g})"
    assert (row.reused, row.cells[cell], row.score, row.edited) == (
        True, 0.5, full - points + 0.5, [kept]), row
    assert f"{LESSON}: ann {kept}" in summary(run).split("Scored in the formgrader")[1]
    with write_csv(run, tmp_path / "grades.csv").open(newline="") as handle:
        [line] = list(csv.DictReader(handle))
    assert (float(line["score"]), float(line[cell])) == (full - points + 0.5, 0.5), line
    assert f"formgrader: {kept}" in line["message"], line

    # New grading code grades the same notebook again: the instructor's score stays, in
    # the gradebook (the formgrader) as in the CSV.
    monkeypatch.setattr(pipeline, "code_fingerprint", lambda: "checks upgraded")
    [row] = grade(tmp_path / "export", course, [LESSON], settings).rows
    assert (row.reused, row.regraded_why != "", row.cells[cell], row.edited) == (
        False, True, 0.5, [kept]), row
    assert gradebook_score() == 0.5

    # Another notebook handed in: graded anew, and the summary says the score was not kept.
    notebook.cells.append(new_markdown_cell("I added a note."))
    nbformat.write(notebook, export / f"{LESSON}.ipynb")
    run = grade(tmp_path / "export", course, [LESSON], settings)
    [row] = run.rows
    assert (row.reused, row.cells[cell], row.score) == (False, points, full), row
    assert row.edited == [f"{cell} 0.5 not kept (handed in again)"], row
    assert gradebook_score() == points
    with Gradebook(course.db_url) as gb:  # the formgrader asks for no review of it now
        assert not gb.find_submission_notebook(LESSON, LESSON, "ann").needs_manual_grade
    [row] = grade(tmp_path / "export", course, [LESSON], settings).rows
    assert (row.reused, row.edited, row.score) == (True, [], full), "nothing left to keep"
