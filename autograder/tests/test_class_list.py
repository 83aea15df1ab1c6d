"""The class a run counts: the export's students and the gradebook's, one person once.

An LMS exports only who handed in (an instructor audit: a student with no notebook of week
2's lesson was in no row); the gradebook (graded before, a roster imported) gives the rest.
"""

from __future__ import annotations

from pathlib import Path

from descentlab_grading.collect import collect
from descentlab_grading.pipeline import Course, _absent, add_students, class_list
from descentlab_grading.release import lessons as all_lessons

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
