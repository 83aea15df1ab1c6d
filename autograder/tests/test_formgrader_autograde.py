"""The formgrader's own buttons: "Autograde" cannot run a student's code unjailed, and
"Generate Feedback" writes the page ``descentlab-grade`` writes.

nbgrader's autograde (the formgrader's button, or ``nbgrader autograde`` in
``autograder/``) runs the notebook in an ordinary kernel, with the hidden tests
in it. ``nbgrader_config.py`` replaces its preprocessors by one that stops with
a message before any cell runs; ``descentlab-grade`` sets up its jailed ones.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from synthetic import prepared_course, solved_notebook, student_notebook

from descentlab_grading import pipeline
from descentlab_grading.feedback import NOT_GRADED, NOT_READ, NOT_SUMMARISED
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


def test_the_formgrader_feedback_button_writes_our_page(tmp_path: Path) -> None:
    """The page the formgrader's "Generate Feedback" writes again is descentlab-grade's: its
    outputs capped (a cell that printed a million characters keeps its first 20 000) and the
    summary at its top, with the scores the instructor typed since. Before, the button's
    page held the whole output, then had no summary (the README said not to use it)."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    settings = Settings(workers=1)
    course = prepared_course(tmp_path / "course", settings, [LESSON])
    notebook = student_notebook(solved_notebook(course, LESSON), {
        "bowl-gradient": "def bowl_gradient(x, y):\n    return x / 20, 2 * y"})
    notebook.cells.append(nbformat.v4.new_code_cell("print('x' * 1_000_000)"))
    export = tmp_path / "export" / "ann" / LESSON
    export.mkdir(parents=True)
    nbformat.write(notebook, export / f"{LESSON}.ipynb")
    [row] = grade(tmp_path / "export", course, [LESSON], settings).rows
    assert (row.status, row.cells["test-bowl-gradient-dx"]) == ("graded", 0), row
    page = course.root / "feedback" / "ann" / LESSON / f"{LESSON}.html"
    pages = [page.read_text(encoding="utf-8")]

    # What the button does: nbgrader's generate_feedback with nbgrader_config.py as it is
    # (the formgrader loads it), pointed at this course's folders; no descentlab-grade.
    config = course_config(AUTOGRADER, root=str(course.root), db_url=course.db_url,
                           source_directory=str(course.source),
                           release_directory=str(course.root / "release"))

    def press_the_button() -> str:
        page.unlink()
        done = NbGraderAPI(config=config).generate_feedback(LESSON, "ann", force=True)
        assert done["success"], done["log"][-2000:]
        # nbgrader's dialog shows this log: no warning about the course's own preprocessors.
        assert "not recognized by" not in done["log"], done["log"][:2000]
        return page.read_text(encoding="utf-8")

    pages.append(press_the_button())
    for text in pages:
        assert "x" * 20_000 in text
        assert "x" * 20_001 not in text
        assert "\n... output cut: " in text
        assert text.count('id="descentlab-summary"') == 1  # one summary, not the hook's too
    ours, buttons = (summary_of(text) for text in pages)
    assert ours == buttons, (ours, buttons)
    assert f"Score: {row.score:g} / {row.max_score:g}" in buttons, buttons
    assert "test-bowl-gradient-dx (0/1): " in buttons, buttons

    # The instructor gives half a point in the formgrader, then presses the button.
    with Gradebook(course.db_url) as gb:
        gb.find_grade("test-bowl-gradient-dx", LESSON, LESSON, "ann").manual_score = 0.5
        gb.db.commit()
    pressed = press_the_button()
    text = summary_of(pressed)
    assert f"Score: {row.score + 0.5:g} / {row.max_score:g}" in text, text
    # ... and the cell says so under the grader's reason, as after a descentlab-grade run.
    assert pressed.count("Scored by your instructor: 0.5 of 1.") == 1
    assert ("test-bowl-gradient-dx (0.5/1): your instructor scored this test 0.5 of 1 (the "
            "grader: ") in text, text

    # Ann hands in a file that cannot be graded: the button leaves its page the rejection,
    # not the page of the notebook graded before it (still in autograded/).
    (export / f"{LESSON}.ipynb").write_text("not a notebook")
    [row] = grade(tmp_path / "export", course, [LESSON], settings).rows
    assert row.status == "rejected", row
    rejected = page.read_text(encoding="utf-8")
    assert press_the_button() == rejected

    # A run stopped before grading ann's notebook, or a grading the hook cannot read (of an
    # older grader, say): the page says it has no summary, and why.
    state_file = course.root / pipeline._STATE_FILE
    state = json.loads(state_file.read_text())
    for result, why in (({}, NOT_GRADED), ({"status": "graded"}, NOT_READ)):
        state["jobs"][f"ann/{LESSON}"]["result"] = result
        state_file.write_text(json.dumps(state))
        assert summary_of(press_the_button()) == " ".join(
            NOT_SUMMARISED.format(why=why).split())


def summary_of(page: str) -> str:
    """The words of descentlab's box at the top of a feedback page."""
    block = page.split('id="descentlab-summary"')[1].split("</div>")[0]
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", block.partition(">")[2])).split())
