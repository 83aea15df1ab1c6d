"""The formgrader's own buttons: "Autograde" cannot run a student's code unjailed, and
"Generate Feedback" caps the outputs of a page as ``descentlab-grade`` does.

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
from synthetic import prepared_course, solved_notebook

from descentlab_grading.model import Course, Settings
from descentlab_grading.pipeline import grade, prepare_lessons
from descentlab_grading.release import course_config
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


def test_the_formgrader_feedback_button_caps_outputs_too(tmp_path: Path) -> None:
    """A cell that printed a million characters: the page of ``descentlab-grade`` and the
    one the formgrader's "Generate Feedback" writes again both keep its first 20 000
    (before, the button's page held all of it: ``TruncateOutputs`` was descentlab-grade's
    only)."""
    from nbgrader.apps import NbGraderAPI

    settings = Settings(workers=1)
    course = prepared_course(tmp_path / "course", settings, [LESSON])
    notebook = solved_notebook(course, LESSON)
    notebook.cells.append(nbformat.v4.new_code_cell("print('x' * 1_000_000)"))
    export = tmp_path / "export" / "ann" / LESSON
    export.mkdir(parents=True)
    nbformat.write(notebook, export / f"{LESSON}.ipynb")
    [row] = grade(tmp_path / "export", course, [LESSON], settings).rows
    assert row.status == "graded", row.message
    page = course.root / "feedback" / "ann" / LESSON / f"{LESSON}.html"
    pages = [page.read_text(encoding="utf-8")]

    # What the button does: nbgrader's generate_feedback with nbgrader_config.py as it is
    # (the formgrader loads it), pointed at this course's folders; no descentlab-grade.
    page.unlink()
    config = course_config(AUTOGRADER, root=str(course.root), db_url=course.db_url,
                           source_directory=str(course.source),
                           release_directory=str(course.root / "release"))
    done = NbGraderAPI(config=config).generate_feedback(LESSON, "ann", force=True)
    assert done["success"], done["log"][-2000:]
    pages.append(page.read_text(encoding="utf-8"))
    for text in pages:
        assert "x" * 20_000 in text
        assert "x" * 20_001 not in text
        assert "\n... output cut: " in text
