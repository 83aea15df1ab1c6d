"""End-to-end: the per-notebook time limit stops a slow notebook, with a reason.

Every cell stays under the per-cell limit, but together they take longer than
the whole-notebook limit: the real nbgrader job is killed with its kernel, the
row says why and the submission is kept. (That the other jobs of a batch go on
is tested in ``test_workers.py``.)
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import nbformat
import pytest
from synthetic import solution_answers, student_notebook

from descentlab_grading.pipeline import Course, Settings, grade, prepare_lessons

pytestmark = pytest.mark.slow

AUTOGRADER = Path(__file__).resolve().parent.parent
LESSON = "02_sgd_zigzag"  # its notebook runs in a few seconds


def _course(tmp_path: Path, settings: Settings) -> tuple[Course, nbformat.NotebookNode,
                                                         dict[str, str]]:
    """The lesson's course under ``tmp_path``, its release and its solution's answers."""
    course = Course(root=tmp_path / "course", source=AUTOGRADER.parent / "solutions",
                    config_dir=AUTOGRADER)
    prepare_lessons(course, settings, [LESSON])
    source = nbformat.read(course.notebook(LESSON), as_version=4)
    release = nbformat.read(course.root / "release" / LESSON / f"{LESSON}.ipynb", as_version=4)
    return course, release, solution_answers(source)


def test_a_notebook_over_the_notebook_limit_is_stopped_with_a_reason(tmp_path: Path) -> None:
    # 3 s per answer cell stays under the 10 s cell limit; with the rest of the
    # notebook the job needs far more than the notebook limit.
    settings = Settings(workers=2, cell_timeout=10.0, notebook_timeout=6.0)
    course, release, solved = _course(tmp_path, settings)
    slow = {grade_id: "import time\ntime.sleep(3)\n" + text for grade_id, text in solved.items()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"slow/{LESSON}/{LESSON}.ipynb",
                         nbformat.writes(student_notebook(release, slow)))
    export = tmp_path / "export.zip"
    export.write_bytes(buffer.getvalue())
    digest = hashlib.sha256(export.read_bytes()).hexdigest()

    run = grade(export, course, [LESSON], settings)

    (row,) = run.rows
    assert row.status == "failed", f"the slow notebook was not stopped: {row}"
    assert "per-notebook time limit (6 s" in row.message, row.message
    assert row.max_score > 0, "a stopped notebook counts 0 of the lesson's maximum"
    assert row.score == 0, f"a stopped notebook scored {row.score}"
    assert hashlib.sha256(export.read_bytes()).hexdigest() == digest, "the export was changed"
    kept = course.root / "submitted" / "slow" / LESSON / f"{LESSON}.ipynb"
    assert kept.is_file(), "the slow student's submission was not kept for a re-run"


def test_a_cell_no_interrupt_stops_is_left_out_and_the_rest_graded(tmp_path: Path) -> None:
    """Red-team round 21: a C call that never looks for signals (a huge power of an int)
    held the kernel past the interrupt; the row said "a cell ran longer than the per-cell
    time limit" without saying which. Then the notebook failed, 0 of 12: now it is run
    again without that cell, which costs the points of what needs it, named everywhere."""
    settings = Settings(workers=2, cell_timeout=5.0, notebook_timeout=120.0)
    course, release, answers = _course(tmp_path, settings)
    solved = dict(answers)
    answers["lr-max"] = "huge = 3 ** (10 ** 10)\n" + answers["lr-max"]
    # The same in the student's function: the cells that call it (its self-check, a locked
    # cell) stop the run; the answer cell is left out, and every cell needing it fails at once.
    in_function = dict(solved, **{"bowl-gradient": solved["bowl-gradient"].replace(
        "    return ", "    3 ** (10 ** 10)\n    return ", 1)})
    assert in_function != solved
    export = tmp_path / "export"
    for student, work in (("stuck", answers), ("stuck-in-function", in_function)):
        notebook = export / student / LESSON / f"{LESSON}.ipynb"
        notebook.parent.mkdir(parents=True)
        notebook.write_text(nbformat.writes(student_notebook(release, work)))

    row, in_function_row = grade(export, course, [LESSON], settings).rows

    where = next(i for i, cell in enumerate(release.cells)
                 if cell.metadata.get("nbgrader", {}).get("grade_id") == "lr-max")
    assert row.status == "graded", row
    lost = {cell for cell, points in row.cells.items() if points == 0}
    assert lost == {"test-lr-max"}, row.cells
    assert row.score == row.max_score - 2, row
    assert (f"cell {where + 1} (lr-max) was not run while grading: this cell ran longer than "
            "the per-cell time limit and no interrupt stopped it; the rest of the notebook was "
            "graded") in row.flags, row.flags
    # The student's page says why, at its top and in the cell.
    page = " ".join((course.root / "feedback" / "stuck" / LESSON / f"{LESSON}.html")
                    .read_text().split())
    assert (f"Cell {where + 1} (lr-max) was not run: this cell ran longer than the per-cell "
            "time limit and no interrupt stopped it, so the rest of the notebook was graded "
            "without it.") in page, page[:3000]
    assert "NotRunWhileGrading" in page, page
    assert "nbgrader&#x27;s log" not in page, page
    assert (course.root / "logs" / f"stuck-{LESSON}-attempt1.log").is_file()

    answer = next(i for i, cell in enumerate(release.cells)
                  if cell.metadata.get("nbgrader", {}).get("grade_id") == "bowl-gradient")
    row = in_function_row
    assert row.status == "graded", row
    lost = {cell for cell, points in row.cells.items() if points == 0}
    assert lost == {c for c in row.cells if c.startswith("test-bowl-gradient")}, row.cells
    [flag] = [f for f in row.flags if "was not run while grading" in f]
    assert flag.startswith(f"cell {answer + 1} (bowl-gradient) was not run while grading: "
                           "cell "), flag
    assert flag.endswith("ran this cell's code longer than the per-cell time limit and no "
                         "interrupt stopped it; the rest of the notebook was graded"), flag
    assert (course.root / "logs" / f"stuck-in-function-{LESSON}-attempt1.log").is_file()
    assert not (course.root / "logs" / f"stuck-in-function-{LESSON}-attempt2.log").exists(), \
        "the answer cell left out, its other cells failed at once: one more run only"
