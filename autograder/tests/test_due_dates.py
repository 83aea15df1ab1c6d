"""Due dates and extensions set in the gradebook before a lesson's first grading run.

An instructor audit: an extension granted before the first run (nbgrader's
``grant_extension`` needs a submission, so the instructor adds one) made nbgrader's release
step refuse the lesson on every run ("Cannot modify existing assignment ... because there
are submissions associated with it").
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning
from synthetic import AUTOGRADER, solved_notebook

from descentlab_grading.pipeline import Course, Settings, grade, prepare_lessons

pytestmark = pytest.mark.slow

LESSON = "03_momentum"  # the lesson that runs fastest


def test_an_extension_granted_before_the_first_run_is_kept_and_counted(
        tmp_path: Path) -> None:
    course = Course(root=tmp_path / "course", source=AUTOGRADER.parent / "solutions",
                    config_dir=AUTOGRADER)
    course.root.mkdir()
    handed_in = datetime.now(timezone.utc)
    with Gradebook(course.db_url) as gb:
        gb.update_or_create_assignment(LESSON, duedate=handed_in - timedelta(days=1))
        for student in ("ann", "bob"):
            gb.add_student(student)
        # nbgrader's add_submission warns (SQLAlchemy 2) here; the grader's own call, in
        # prepare_lessons below, must not (the suite turns warnings into errors): an
        # instructor read three SAWarnings of it.
        with pytest.warns(SAWarning):
            gb.add_submission(LESSON, "ann")
        gb.grant_extension(LESSON, "ann", days=2)

    settings = Settings(workers=1)
    prepare_lessons(course, settings, [LESSON])  # nbgrader refused here
    with Gradebook(course.db_url) as gb:
        assert gb.find_submission(LESSON, "ann").extension == timedelta(days=2)
        assert [n.name for n in gb.find_assignment(LESSON).notebooks] == [LESSON]

    # Both hand in a day after the due date: ann within her extension, bob late.
    export = tmp_path / "export"
    for student in ("ann", "bob"):
        folder = export / student / LESSON
        folder.mkdir(parents=True)
        nbformat.write(solved_notebook(course, LESSON), folder / f"{LESSON}.ipynb")
        (folder / "timestamp.txt").write_text(f"{handed_in:%Y-%m-%d %H:%M:%S.%f} UTC")
    run = grade(export, course, [LESSON], settings)
    # Full marks, bonus included, for both: the extension's submission graded as any other.
    assert [(r.student, r.status, r.score, r.late) for r in run.rows] == [
        ("ann", "graded", 10.0, False), ("bob", "graded", 10.0, True)]
    with Gradebook(course.db_url) as gb:
        assert gb.find_submission(LESSON, "ann").extension == timedelta(days=2)


def test_an_extension_outlives_a_release_step_that_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbgrader.apps import NbGraderAPI

    course = Course(root=tmp_path / "course", source=AUTOGRADER.parent / "solutions",
                    config_dir=AUTOGRADER)
    course.root.mkdir()
    with Gradebook(course.db_url) as gb:
        gb.update_or_create_assignment(LESSON, duedate=datetime.now(timezone.utc))
        gb.add_student("ann")
        with pytest.warns(SAWarning):
            gb.add_submission(LESSON, "ann")
        gb.grant_extension(LESSON, "ann", hours=5)

    def fails(*args: object, **kwargs: object) -> None:
        raise OSError("the disk is full")

    monkeypatch.setattr(NbGraderAPI, "generate_assignment", fails)
    with pytest.raises(OSError, match="the disk is full"):
        prepare_lessons(course, Settings(workers=1), [LESSON])
    with Gradebook(course.db_url) as gb:
        assert gb.find_submission(LESSON, "ann").extension == timedelta(hours=5)
