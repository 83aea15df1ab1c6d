"""The class a run counts: the export's students and the gradebook's, one person once.

An LMS exports only who handed in (an instructor audit: a student with no notebook of week
2's lesson was in no row); the gradebook (graded before, a roster imported) gives the rest.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from descentlab_grading.collect import collect
from descentlab_grading.model import Run
from descentlab_grading.pipeline import Course, _absent, _rows, add_students, class_list
from descentlab_grading.release import lessons as all_lessons
from descentlab_grading.report import summary

AUTOGRADER = Path(__file__).resolve().parent.parent
SOLUTIONS = AUTOGRADER.parent / "solutions"
NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def _export(tmp_path: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (tmp_path / "export" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "export" / name).write_bytes(data)
    return tmp_path / "export"


def test_one_person_under_another_id_is_not_absent(tmp_path: Path) -> None:
    """An instructor audit: Moodle numbers each assignment's participants anew (Ann Lee was
    587301 in lesson 01's export, 601117 in lesson 04's) and was "missing" under the first
    id beside her graded row; a roster's `bob smith` is the grader's `bob_smith`."""
    export = _export(tmp_path, {
        "Ann Lee_601117_assignsubmission_file_04_adagrad.ipynb": NOTEBOOK,
        "bob smith/04_adagrad/04_adagrad.ipynb": NOTEBOOK})
    found = collect(export, ["04_adagrad"], known=all_lessons(SOLUTIONS))
    roster = {"587301": "Ann Lee", "bob smith": "Bob Smith",
              "587303": "Cat Ortiz", "590003": "cat  ortiz",  # one person, two lessons' ids
              "10009": "", "10010": ""}  # Canvas ids, no names: two people
    assert _absent(roster, found) == {"10009": "", "10010": "", "587303": "Cat Ortiz"}


def test_a_student_whose_only_file_was_rejected_joins_the_class(tmp_path: Path) -> None:
    """An instructor audit: jon's only upload was rejected; he was never in the gradebook,
    and the next lesson he handed in nothing for counted him nowhere."""
    export = _export(tmp_path, {
        "jon_10007_1_04_adagrad.ipynb": b"{broken",
        "Participant_4711_assignsubmission_file_04_adagrad.ipynb": NOTEBOOK,
        "amy/03_momentum/03_momentum.ipynb": NOTEBOOK})  # a lesson not asked for
    found = collect(export, ["04_adagrad"], known=all_lessons(SOLUTIONS))
    course = Course(root=tmp_path / "course", source=SOLUTIONS, config_dir=AUTOGRADER)
    course.root.mkdir()
    add_students(course, found)
    # Moodle's blind marking names everyone "Participant": no name for the gradebook.
    assert class_list(course) == {"10007": "", "4711": "", "amy": ""}


# nbgrader's add_submission warns (SQLAlchemy 2), as its autograde does.
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_lateness_no_file_can_tell_is_said_to_be_unknown(tmp_path: Path) -> None:
    """An instructor audit: with a due date set, a Moodle or folder export (no hand-in times)
    left the late column empty and the summary silent, which reads "nobody was late". A
    Canvas file says late or not in its name."""
    export = _export(tmp_path, {"ann/04_adagrad/04_adagrad.ipynb": NOTEBOOK,
                                "bo_10004_1_04_adagrad.ipynb": NOTEBOOK,
                                "cy/04_adagrad/04_adagrad.ipynb": b"{broken"})
    found = collect(export, ["04_adagrad"], known=all_lessons(SOLUTIONS))
    course = Course(root=tmp_path / "course", source=SOLUTIONS, config_dir=AUTOGRADER)
    course.root.mkdir()
    with Gradebook(course.db_url) as gb:
        gb.update_or_create_assignment("04_adagrad", duedate=datetime.now(timezone.utc))
        for student in ("ann", "10004"):
            gb.add_student(student)
            gb.add_submission("04_adagrad", student)  # no timestamp.txt
    graded = {"status": "graded", "score": 1.0, "max_score": 1.0}
    rows = _rows(course, {("ann", "04_adagrad"): graded, ("10004", "04_adagrad"): graded,
                          ("cy", "04_adagrad"): {"status": "rejected"}}, found)
    assert {row.student: (row.late, row.late_unknown) for row in rows} == {
        "ann": (False, True), "10004": (False, False), "cy": (False, True)}
    assert ("Lateness unknown (a due date is set in the gradebook, but the export gives no "
            "hand-in time: only Canvas's _late_ and nbgrader's timestamp.txt do):\n"
            "  04_adagrad: ann, cy\n") in summary(Run(rows, found, 1.0, 1)), \
        summary(Run(rows, found, 1.0, 1))


def test_students_of_one_full_name_are_pointed_out(tmp_path: Path) -> None:
    """Two students who share a full name are one person for the class list (it matches a
    roster id by name): when only one of them hands in later, the other is not missing.
    Nothing said so; the summary names them when an export holds both."""
    export = _export(tmp_path, {
        "Ann Lee_601117_assignsubmission_file_04_adagrad.ipynb": NOTEBOOK,
        "ann  LEE_601130_assignsubmission_file_04_adagrad.ipynb": NOTEBOOK,
        "Bo Li_601131_assignsubmission_file_04_adagrad.ipynb": NOTEBOOK,
        "Participant_4711_assignsubmission_file_04_adagrad.ipynb": NOTEBOOK,
        "Participant_4712_assignsubmission_file_04_adagrad.ipynb": NOTEBOOK})
    found = collect(export, ["04_adagrad"], known=all_lessons(SOLUTIONS))
    assert found.namesakes() == {"Ann Lee": ["601117", "601130"]}
    text = summary(Run([], found, 1.0, 1))
    assert "Students of one full name in this export" in text, text
    assert "\n  Ann Lee: 601117, 601130\n" in text + "\n", text
    alone = collect(_export(tmp_path / "other", {
        "Ann Lee_601117_assignsubmission_file_04_adagrad.ipynb": NOTEBOOK}), ["04_adagrad"],
        known=all_lessons(SOLUTIONS))
    assert "one full name" not in summary(Run([], alone, 1.0, 1))
