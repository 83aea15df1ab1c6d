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


def test_a_cell_no_interrupt_stops_fails_the_notebook_naming_the_cell(tmp_path: Path) -> None:
    """Red-team round 21: a C call that never looks for signals (a huge power of an int)
    held the kernel past the interrupt; the row said "a cell ran longer than the per-cell
    time limit" without saying which."""
    settings = Settings(workers=1, cell_timeout=5.0, notebook_timeout=120.0)
    course, release, answers = _course(tmp_path, settings)
    answers["lr-max"] = "huge = 3 ** (10 ** 10)\n" + answers["lr-max"]
    export = tmp_path / "export"
    notebook = export / "stuck" / LESSON / f"{LESSON}.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text(nbformat.writes(student_notebook(release, answers)))

    (row,) = grade(export, course, [LESSON], settings).rows

    assert row.status == "failed", row
    where = next(i for i, cell in enumerate(release.cells)
                 if cell.metadata.get("nbgrader", {}).get("grade_id") == "lr-max")
    assert (f"a cell ran longer than the per-cell time limit: cell {where + 1} (lr-max) "
            "(nbgrader's log: ") in row.message, row.message
    # The student's page says why, and what to do; not where the instructor's log is.
    page = (course.root / "feedback" / "stuck" / LESSON / f"{LESSON}.html").read_text()
    assert f"time limit: cell {where + 1} (lr-max)" in page, page
    assert "Restart Kernel and Run All Cells" in page, page
    assert "nbgrader's log" not in page, page
