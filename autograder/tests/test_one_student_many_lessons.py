"""End-to-end: one student's lessons graded at the same time do not collide.

nbgrader's autograde adds its student to the gradebook when missing; two jobs of one new
student starting together both tried, and one failed on the gradebook's unique key (seen
in benchmarks/grading_throughput.py's parallel pass, then saved only by the retry). A race:
without the fix this test failed in one run of three here.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from synthetic import solution_answers, student_notebook

from descentlab.course import get_lesson
from descentlab_grading.pipeline import Course, Settings, grade, prepare_lessons

pytestmark = pytest.mark.slow

AUTOGRADER = Path(__file__).resolve().parent.parent
LESSONS = ["02_sgd_zigzag", "03_momentum"]  # notebooks that run in a few seconds


def test_two_lessons_of_one_student_graded_at_once_both_pass_first_time(
        tmp_path: Path) -> None:
    settings = Settings(workers=2)
    course = Course(root=tmp_path / "course", source=AUTOGRADER.parent / "solutions",
                    config_dir=AUTOGRADER)
    prepare_lessons(course, settings, LESSONS)
    export = tmp_path / "export"
    for lesson in LESSONS:
        release = nbformat.read(course.root / "release" / lesson / f"{lesson}.ipynb",
                                as_version=4)
        solved = solution_answers(nbformat.read(course.notebook(lesson), as_version=4))
        (export / "ann" / lesson).mkdir(parents=True)
        nbformat.write(student_notebook(release, solved),
                       export / "ann" / lesson / f"{lesson}.ipynb")

    run = grade(export, course, LESSONS, settings)

    # Full marks: every point of the lesson, bonus included (extra credit beyond max_score).
    assert [(r.lesson, r.status, r.score == get_lesson(r.lesson).points) for r in run.rows] == \
        [(lesson, "graded", True) for lesson in LESSONS], run.rows
    failed = sorted(p.name for p in (course.root / "logs").glob("*.log")) \
        if (course.root / "logs").is_dir() else []
    assert not failed, f"an autograde failed and was retried: {failed}"
