"""End-to-end: the JupyterHub workflow of autograder/README.md (nbgrader's exchange).

``nbgrader collect`` fills ``submitted/STUDENT/LESSON/`` with the notebook and two files of
nbgrader's own, ``timestamp.txt`` and ``submission_secret.txt``; ``descentlab-grade`` grades
that tree in place, and ``nbgrader release_feedback`` then reads both files beside every
feedback page. A content audit found the grader deleting them as "not notebooks": the
gradebook lost the submission time and release_feedback stopped with FileNotFoundError.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import notebook_hash, parse_utc
from synthetic import prepared_course, solved_notebook

from descentlab_grading.pipeline import Settings, grade
from descentlab_grading.report import summary, write_csv

pytestmark = pytest.mark.slow

LESSON = "02_sgd_zigzag"  # runs in a few seconds
#: What nbgrader collect writes (nbgrader.utils.get_utc_timestamp's format).
STAMPS = {"ann": "2026-12-01 10:00:00.000000 UTC", "bob": "2026-12-02 11:30:00.000000 UTC"}
LISTING = "files beside the notebook:"


def test_collected_submissions_keep_nbgraders_files_and_release_feedback_works(
        tmp_path: Path) -> None:
    settings = Settings(workers=2)
    course = prepared_course(tmp_path / "course", settings, [LESSON])
    solved = solved_notebook(course, LESSON)
    # A cell of the student's own shows what the kernel's folder holds.
    solved.cells.append(nbformat.v4.new_code_cell(
        f"import os\nprint({LISTING!r}, sorted(os.listdir('.')))"))
    submitted = course.root / "submitted"
    for student, stamp in STAMPS.items():
        folder = submitted / student / LESSON
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text(stamp)
        (folder / "submission_secret.txt").write_text(f"secret-of-{student}")
    nbformat.write(solved, submitted / "ann" / LESSON / f"{LESSON}.ipynb")
    (submitted / "bob" / LESSON / f"{LESSON}.ipynb").write_text("not a notebook")  # rejected

    # ann handed in after the due date: nbgrader's lateness (the CSV's late column).
    with Gradebook(course.db_url) as gb:
        gb.update_or_create_assignment(LESSON, duedate=parse_utc("2026-11-30 12:00:00 UTC"))

    run = grade(submitted, course, [LESSON], settings)

    assert [(r.student, r.status) for r in run.rows] == [("ann", "graded"), ("bob", "rejected")]
    text = summary(run)
    assert "4 of nbgrader's timestamp.txt and submission_secret.txt, kept" in text, text
    assert "Not notebooks (ignored)" not in text, text
    for student, stamp in STAMPS.items():
        for folder in (submitted, course.root / "feedback"):
            where = folder / student / LESSON
            assert (where / "timestamp.txt").read_text() == stamp, where
            assert (where / "submission_secret.txt").read_text() == f"secret-of-{student}"
    with Gradebook(course.db_url) as gb:  # nbgrader's lateness reads this time
        assert gb.find_submission(LESSON, "ann").timestamp == parse_utc(STAMPS["ann"])
    with write_csv(run, tmp_path / "grades.csv").open(newline="") as table:
        assert {r["student"]: r["late"] for r in csv.DictReader(table)} == \
            {"ann": "yes", "bob": ""}, "ann's notebook came after the due date"
    assert "CSV column late):\n  02_sgd_zigzag: ann\n" in text, text
    # nbgrader's files are not the student's: the kernel's folder does not hold them.
    autograded = nbformat.read(course.root / "autograded" / "ann" / LESSON / f"{LESSON}.ipynb",
                               as_version=4)
    [listing] = [o.text for c in autograded.cells for o in c.get("outputs", [])
                 if o.get("name") == "stdout" and LISTING in o.get("text", "")]
    assert "timestamp" not in listing, listing
    assert "secret" not in listing, listing

    # nbgrader's own release_feedback, as the README's JupyterHub steps run it.
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "release_feedback", LESSON,
         f"--CourseDirectory.root={course.root}", "--CourseDirectory.course_id=descentlab",
         f"--Exchange.root={exchange}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    for student in STAMPS:
        page = exchange / "descentlab" / "feedback" / \
            f"{notebook_hash(secret=f'secret-of-{student}', notebook_id=LESSON)}.html"
        assert page.read_bytes() == \
            (course.root / "feedback" / student / LESSON / f"{LESSON}.html").read_bytes()
