"""The formgrader's own "Autograde" button cannot run a student's code unjailed.

nbgrader's autograde (the formgrader's button, or ``nbgrader autograde`` in
``autograder/``) runs the notebook in an ordinary kernel, with the hidden tests
in it. ``nbgrader_config.py`` replaces its preprocessors by one that stops with
a message before any cell runs; ``descentlab-grade`` sets up its jailed ones.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from descentlab_grading.model import Course, Settings
from descentlab_grading.pipeline import prepare_lessons
from descentlab_grading.testcells import UNJAILED_AUTOGRADE

AUTOGRADER = Path(__file__).resolve().parent.parent
LESSON = "02_sgd_zigzag"

pytestmark = pytest.mark.slow


# nbgrader's clean-up of the failed autograde's gradebook entry warns (SQLAlchemy).
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_the_course_config_refuses_an_unjailed_autograde(tmp_path: Path) -> None:
    from nbgrader.apps import NbGraderAPI

    course = Course(root=tmp_path / "course", source=AUTOGRADER.parent / "solutions",
                    config_dir=AUTOGRADER)
    settings = Settings()
    prepare_lessons(course, settings, [LESSON])
    marker = tmp_path / "student-code-ran"
    nb = nbformat.read(course.root / "release" / LESSON / f"{LESSON}.ipynb", as_version=4)
    nb.cells[0] = nbformat.v4.new_code_cell(f"open({str(marker)!r}, 'w').close()")
    submitted = course.root / "submitted" / "someone" / LESSON / f"{LESSON}.ipynb"
    submitted.parent.mkdir(parents=True)
    nbformat.write(nb, submitted)

    result = NbGraderAPI(config=course.config(settings)).autograde(LESSON, "someone", force=True,
                                                                   create=True)

    assert not result["success"]
    assert UNJAILED_AUTOGRADE in result["log"], result["log"][-2000:]
    assert not marker.exists(), "the student's code ran in an unjailed kernel"
    shutil.rmtree(course.root)
