"""End-to-end: the JupyterHub workflow of autograder/README.md, with nbgrader's own exchange.

Students fetch and submit with nbgrader; ``nbgrader collect`` fills a folder of
``STUDENT/LESSON/`` with the notebook, the student's other files and two files of nbgrader's
own, ``timestamp.txt`` and ``submission_secret.txt``; ``descentlab-grade`` grades that
folder, and ``nbgrader release_feedback`` then reads both files beside every feedback page.
Found by audits: the grader deleted nbgrader's two files as "not notebooks" (the gradebook
lost the submission time, release_feedback stopped with FileNotFoundError), and, grading
``submitted/`` in place, deleted a student's other files and overwrote the notebook.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import notebook_hash, parse_utc
from synthetic import prepared_course, solved_notebook

from descentlab_grading.pipeline import Settings, grade
from descentlab_grading.report import summary, write_csv

pytestmark = pytest.mark.slow

LESSON = "03_momentum"  # the lesson that runs fastest (about 2 s of its own cells)
STUDENTS = ("ann", "bob")
LISTING = "files beside the notebook:"
DATA = "my_notes.txt"  # a file of ann's own, handed in beside her notebook


def _nbgrader(*args: str, cwd: Path, course: Path, exchange: Path) -> None:
    """Run ``nbgrader ARGS`` in ``cwd``, also its home (nbgrader keeps a student's
    submissions in the home's cache: each student a home of their own, as on a hub), for
    the course at ``course`` with the exchange at ``exchange``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("JUPYTER")}
    env |= {"HOME": str(cwd),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}",
         "--CourseDirectory.course_id=descentlab", f"--Exchange.root={exchange}"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"nbgrader {' '.join(args)}:\n{done.stderr[-3000:]}"


def test_collected_submissions_keep_nbgraders_files_and_release_feedback_works(
        tmp_path: Path) -> None:
    settings = Settings(workers=2)
    course = prepared_course(tmp_path / "course", settings, [LESSON])
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    hub = {"course": course.root, "exchange": exchange}
    # Due yesterday: every submission made now is late (nbgrader's lateness).
    with Gradebook(course.db_url) as gb:
        gb.update_or_create_assignment(
            LESSON, duedate=datetime.now(timezone.utc) - timedelta(days=1))
    _nbgrader("release_assignment", LESSON, cwd=tmp_path, **hub)

    solved = solved_notebook(course, LESSON)
    # A cell of the student's own shows what the kernel's folder holds.
    solved.cells.append(nbformat.v4.new_code_cell(
        f"import os\nprint({LISTING!r}, sorted(os.listdir('.')))"))
    for student in STUDENTS:
        home = tmp_path / "home" / student
        home.mkdir(parents=True)
        _nbgrader("fetch_assignment", LESSON, cwd=home, **hub)
        notebook = home / LESSON / f"{LESSON}.ipynb"
        if student == "ann":
            nbformat.write(solved, notebook)
            (home / LESSON / DATA).write_text("ann's notes")
        else:
            notebook.write_text("not a notebook")  # rejected
        _nbgrader("submit", LESSON, f"--student={student}", cwd=home, **hub)
    _nbgrader("collect", LESSON, "--CourseDirectory.submitted_directory=collected",
              cwd=tmp_path, **hub)
    collected = course.root / "collected"
    handed_in = {path: path.read_bytes() for path in collected.rglob("*") if path.is_file()}
    assert collected / "ann" / LESSON / DATA in handed_in, sorted(handed_in)

    # The folder nbgrader collect fills is the grader's own: refused, nothing changed.
    with pytest.raises(ValueError, match="collect into another folder"):
        grade(course.root / "submitted", course, [LESSON], settings)
    run = grade(collected, course, [LESSON], settings)

    assert [(r.student, r.status) for r in run.rows] == [("ann", "graded"), ("bob", "rejected")]
    assert {path: path.read_bytes() for path in collected.rglob("*") if path.is_file()} == \
        handed_in, "the collected folder is read only"
    text = summary(run)
    assert "4 of nbgrader's own files (timestamp.txt or submission_secret.txt), kept" in text, \
        text
    assert f"Not notebooks (ignored): ann/{LESSON}/{DATA}" in text, text
    for student in STUDENTS:
        stamp = (collected / student / LESSON / "timestamp.txt").read_text()
        secret = (collected / student / LESSON / "submission_secret.txt").read_text()
        # A rejected notebook (bob's) has a feedback page, and nothing in submitted/.
        for folder in (course.root / "submitted", course.root / "feedback")[
                student == "bob":]:
            where = folder / student / LESSON
            assert (where / "timestamp.txt").read_text() == stamp, where
            assert (where / "submission_secret.txt").read_text() == secret, where
    with Gradebook(course.db_url) as gb:  # nbgrader's lateness reads this time
        assert gb.find_submission(LESSON, "ann").timestamp == \
            parse_utc((collected / "ann" / LESSON / "timestamp.txt").read_text())
    # Both came after the due date: bob's rejected notebook too (its timestamp.txt).
    with write_csv(run, tmp_path / "grades.csv").open(newline="") as table:
        assert {r["student"]: r["late"] for r in csv.DictReader(table)} == \
            {"ann": "yes", "bob": "yes"}
    assert f"CSV column late):\n  {LESSON}: ann, bob\n" in text, text
    # Due tomorrow instead: neither is late (the same export graded again, reused).
    with Gradebook(course.db_url) as gb:
        gb.update_or_create_assignment(LESSON, duedate=datetime.now(timezone.utc)
                                       + timedelta(days=1))
    again = grade(collected, course, [LESSON], settings)
    assert [(r.student, r.status, r.late) for r in again.rows] == \
        [("ann", "graded", False), ("bob", "rejected", False)]
    # nbgrader's files are not the student's: the kernel's folder does not hold them.
    autograded = nbformat.read(course.root / "autograded" / "ann" / LESSON / f"{LESSON}.ipynb",
                               as_version=4)
    [listing] = [o.text for c in autograded.cells for o in c.get("outputs", [])
                 if o.get("name") == "stdout" and LISTING in o.get("text", "")]
    assert "timestamp" not in listing, listing
    assert "secret" not in listing, listing

    # nbgrader's own release_feedback, then each student's fetch_feedback, as on the hub.
    _nbgrader("release_feedback", LESSON, cwd=tmp_path, **hub)
    for student in STUDENTS:
        secret = (collected / student / LESSON / "submission_secret.txt").read_text()
        page = exchange / "descentlab" / "feedback" / \
            f"{notebook_hash(secret=secret, notebook_id=LESSON)}.html"
        assert page.read_bytes() == \
            (course.root / "feedback" / student / LESSON / f"{LESSON}.html").read_bytes()
        home = tmp_path / "home" / student
        _nbgrader("fetch_feedback", LESSON, f"--student={student}", cwd=home, **hub)
        [fetched] = (home / LESSON / "feedback").glob(f"*/{LESSON}.html")
        assert fetched.read_bytes() == page.read_bytes()
