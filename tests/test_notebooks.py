"""The course notebooks: committed clean, and ``course/`` is the release of ``solutions/``.

Executing them is tested where it happens for real, once per notebook:
``autograder/tests/test_grade_class.py`` grades every lesson's solution (full
marks, no cell error or stderr write anywhere in the lesson) and its blank
release (every graded cell fails, locked cells intact) with nbgrader, and
``tests/test_browser.py`` runs every released lesson in JupyterLab.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from descentlab import course
from descentlab_grading import notebooks, release

REPO = Path(__file__).resolve().parent.parent
LESSONS = release.lessons()


def test_every_lesson_of_the_course_exists():
    expected = course.lesson_ids()
    assert LESSONS == expected, (
        "solutions/ must hold exactly the lessons of descentlab/course.py, in order"
    )
    for lesson in LESSONS:
        assert (REPO / "solutions" / lesson / f"{lesson}.ipynb").is_file()
        assert (REPO / "course" / lesson / f"{lesson}.ipynb").is_file()


@pytest.mark.parametrize("path", notebooks.course_notebooks(), ids=lambda p: p.name)
def test_notebook_is_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert notebooks.problems(nb) == [], (
        f"{path.relative_to(REPO)} is not clean: run `descentlab-notebooks clean`"
    )


#: Characters of a test cell's line that a traceback shows whole: IPython indents a
#: source line by 8 columns, and at 1280 px with the file browser open JupyterLab's
#: output holds about 100 (it breaks longer lines mid-word: "poin ts").
LINE_WIDTH = 88


@pytest.mark.parametrize("lesson", LESSONS)
def test_test_cells_fit_a_traceback(lesson):
    """The students' test cells (the release's: hidden tests never show their lines)."""
    path = REPO / "course" / lesson / f"{lesson}.ipynb"
    long = [(cell.id, line) for cell in nbformat.read(path, as_version=4).cells
            if cell.metadata.get("nbgrader", {}).get("grade")
            and not cell.metadata["nbgrader"].get("solution")
            for line in cell.source.splitlines() if len(line) > LINE_WIDTH]
    assert long == [], f"wrap these lines at {LINE_WIDTH} characters: {long}"


def test_clean_strips_outputs_and_noise():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 + 1")
    cell.id = "sum"
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    cell.execution_count = 3
    cell.metadata["collapsed"] = True
    nb.cells = [cell]
    nb.metadata["widgets"] = {"state": {}}
    assert len(notebooks.problems(nb)) == 3
    assert notebooks.problems(notebooks.clean(nb)) == []


@pytest.mark.slow
def test_release_in_course_is_what_nbgrader_generates():
    differences = release.stale()
    assert differences == [], (
        "course/ differs from what `make release` generates from solutions/:\n"
        + "\n".join(differences)
    )


def test_an_explorer_of_the_students_class_explains_an_undefined_name():
    # A stopped answer cell (a SyntaxError) leaves the class undefined: the explorer cell
    # then said "NameError: name 'Momentum' is not defined" and nothing more.
    import re

    found = 0
    for lesson in LESSONS:
        nb = nbformat.read(REPO / "course" / lesson / f"{lesson}.ipynb", as_version=4)
        for cell in nb.cells:
            # explore(Momentum, ...): a class by name (explore("sgd") names the registry's).
            if cell.cell_type == "code" and re.search(r"\bexplore\([A-Z]", cell.source):
                found += 1
                assert "with explained(" in cell.source, (lesson, cell.get("id"))
    assert found >= 5


def test_a_demo_that_calls_the_students_function_says_when_it_fails_its_check():
    """A student audit: lesson 00's comparison printed "largest difference: 0.0303" under
    "both agree to about 8 digits", with a forward difference, and no word that the student's
    numerical_gradient fails its self-check (lessons 01-03 printed one)."""
    import re

    found = 0
    for lesson, exercise in course.exercises("function") + course.exercises("schedule"):
        nb = nbformat.read(REPO / "course" / lesson.id / f"{lesson.id}.ipynb", as_version=4)
        name = exercise.name
        for cell in nb.cells:
            if (cell.cell_type != "code" or "nbgrader" in cell.metadata
                    or not re.search(rf"\b{name}\(", cell.source)):
                continue
            found += 1
            assert re.search(rf"(function|schedule)_check_note\({name}\b|✘ Your {name} ",
                             cell.source), (lesson.id, cell.get("id"))
    assert found >= 7
